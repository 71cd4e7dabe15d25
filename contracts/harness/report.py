"""The drift report: three verdicts per run, in Markdown, HTML and JSON.

1. Behaviour: did the target do what each contract asserts?
2. API drift: does the target still answer like the recorded snapshots?
3. Provenance: which contracts pin documented exchanges and which inferred operations.
Every difference reads `path: expected → actual`.

One tally heads every report and the terminal section: the contracts counted the way
pytest counts them (a contract whose assertions held but whose answer drifted is a
pytest failure, "on API drift alone"), and, when pytest's own count covers more, what it
adds (tests outside contracts/, collection errors). So the harness's line and pytest's
line agree, or say why not.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import time
from collections import Counter
from pathlib import Path

from ocss_testkit.routes import ROUTES

SPEC_ORDER = sorted({r.spec_id for r in ROUTES if r.spec_id}, key=lambda s: (s[0] != "D", int(s[1:])))
# pytest's outcome categories in the order its summary line prints them
CATEGORIES = ("failed", "passed", "skipped", "xfailed", "xpassed", "error")


def categories_of(row: dict) -> list[str]:
    """pytest's categories for one contract (`counted`, gathered from its reports), or,
    for results without them, the ones its verdicts imply: drift fails a contract whose
    assertions held."""
    if row.get("counted"):
        return list(row["counted"])
    if row["behaviour"] == "passed" and row.get("drift") == "drift":
        return ["failed"]
    return [row["behaviour"]]


def summarize(results, pytest_counts: dict | None = None) -> dict:
    """Rows sorted by spec id, with every count the reports show.

    `pytest_counts` is pytest's own tally of the whole session ({category: n}, as its
    summary line counts: test reports and collection errors); what it holds beyond the
    contracts' categories becomes `pytest_outside`.
    """
    rows = sorted(results, key=lambda r: (SPEC_ORDER.index(r["spec"]) if r["spec"] in SPEC_ORDER else 99,
                                          r["nodeid"]))
    behaviour = Counter(r["behaviour"] for r in rows)
    drift = Counter()
    for r in rows:
        verdicts = [m["verdict"] for m in r.get("matches", [])]
        r["drift"] = ("drift" if "drift" in verdicts else "match" if "match" in verdicts
                      else "unrecorded" if verdicts else "not compared")
        drift[r["drift"]] += 1
        r["counted"] = categories_of(r)
    counted = Counter(c for r in rows for c in r["counted"])
    failed_on_drift = sum(r["counted"].count("failed") for r in rows if r["behaviour"] == "passed")
    tally = {"contracts": len(rows), **{c: counted.get(c, 0) for c in CATEGORIES},
             "failed_on_assertions": counted.get("failed", 0) - failed_on_drift, "failed_on_drift": failed_on_drift,
             "counted_twice": sum(len(r["counted"]) > 1 for r in rows)}
    outside = None
    if pytest_counts is not None:
        outside = {c: n - counted.get(c, 0) for c, n in pytest_counts.items() if n - counted.get(c, 0) > 0}
    coverage = {}
    for spec in SPEC_ORDER:
        mine = [r for r in rows if r["spec"] == spec]
        coverage[spec] = {"contracts": len(mine), "passed": sum(r["behaviour"] == "passed" for r in mine),
                          "failed": sum(r["behaviour"] == "failed" for r in mine),
                          "skipped": sum(r["behaviour"] == "skipped" for r in mine),
                          "drifted": sum(r["drift"] == "drift" for r in mine),
                          "provenance": mine[0]["provenance"] if mine else
                          next(r.provenance.kind for r in ROUTES if r.spec_id == spec)}
    return {"rows": rows,
            "behaviour": {k: behaviour.get(k, 0) for k in ("passed", "failed", "skipped")},
            "drift": {k: drift.get(k, 0) for k in ("match", "drift", "unrecorded", "not compared")},
            "provenance": dict(Counter(r["provenance"] for r in rows)),
            "tally": tally, "pytest_outside": outside,
            "coverage": coverage}


def _counts(counts: dict) -> list[str]:
    """pytest's wording: `2 failed`, `1 error`, `3 errors`, in its order, zeros left out."""
    return [f"{counts[c]} {c + 's' if c == 'error' and counts[c] != 1 else c}"
            for c in (*CATEGORIES, *sorted(set(counts) - set(CATEGORIES))) if counts.get(c)]


def tally_line(summary: dict) -> str:
    """`contracts: 228 — 12 failed (8 on their assertions, 4 on API drift alone), 212 passed,
    4 skipped; pytest's count also includes 3 passed outside the contracts`."""
    t = summary["tally"]
    parts = _counts({c: t[c] for c in CATEGORIES})
    if t["failed"]:
        why = []
        if t["failed_on_assertions"]:
            why.append(f"{t['failed_on_assertions']} on {'its' if t['failed_on_assertions'] == 1 else 'their'} "
                       "assertions")
        if t["failed_on_drift"]:
            why.append(f"{t['failed_on_drift']} on API drift alone")
        parts[0] += f" ({', '.join(why) if len(why) > 1 else why[0].split(' ', 1)[1]})"
    if t["counted_twice"]:
        # pytest counts a contract whose teardown failed after its call twice: so do we
        n = t["counted_twice"]
        parts[-1] += (f" ({'' if n == t['error'] else f'{n} '}in the teardown"
                      f"{'s of contracts' if n > 1 else ' of a contract'} counted above too)")
    line = f"contracts: {t['contracts']} — {', '.join(parts) or 'none ran'}"
    outside = summary.get("pytest_outside")
    if outside:
        line += f"; pytest's count also includes {', '.join(_counts(outside))} outside the contracts"
    elif outside is not None:
        line += "; pytest's count is the same"
    return line


def verdict_line(summary: dict) -> str:
    d = summary["drift"]
    return (f"{tally_line(summary)} · "
            f"API drift: {d['drift']} drifted, {d['match']} match their snapshot, {d['unrecorded']} unrecorded · "
            f"provenance: {summary['provenance'].get('documented', 0)} documented, "
            f"{summary['provenance'].get('inferred', 0)} inferred")


def differences(summary: dict) -> list[tuple[str, str, str]]:
    """(contract, snapshot key, `path: expected → actual`) for every drift found."""
    return [(r["nodeid"], m["key"], d) for r in summary["rows"] for m in r.get("matches", [])
            if m["verdict"] == "drift" for d in m["diffs"]]


def terminal_lines(summary: dict, run_id: str) -> list[str]:
    lines = [f"run {run_id}: {verdict_line(summary)}"]
    for nodeid, key, diff in differences(summary):
        lines.append(f"DRIFT {key} ({nodeid.split('::')[-1]}): {diff}")
    uncovered = [s for s, c in summary["coverage"].items() if not c["contracts"]]
    if uncovered:
        lines.append("no contract ran for: " + ", ".join(uncovered))
    return lines


def markdown(summary: dict, target: str, run_id: str, generated: str) -> str:
    out = ["# Contract suite: drift report", "",
           f"- target: `{target}`", f"- run: `{run_id}`", f"- generated: {generated}",
           f"- {verdict_line(summary)}", ""]
    if "snapshots_updated" in summary:
        out += ["Snapshots " + ("re-recorded from the target." if summary["snapshots_updated"]
                                else "NOT re-recorded: the run did not pass."), ""]
    out += ["## 1. Behaviour (assertions against the target)", "",
            "| contract | spec | safety | verdict |", "|---|---|---|---|"]
    for r in summary["rows"]:
        note = f" ({r['skip']})" if r["behaviour"] == "skipped" and r.get("skip") else ""
        out.append(f"| `{r['nodeid']}` | {r['spec']} | {r['safety']} | {r['behaviour']}{_md(note)} |")
    out += ["", "## 2. API drift (target vs snapshots)", ""]
    diffs = differences(summary)
    if diffs:
        out += [f"- **{key}** (`{nodeid}`): {_code(diff)}" for nodeid, key, diff in diffs]
    else:
        out.append("No drift: every compared answer matches its snapshot.")
    out += ["", "| contract | snapshot | verdict |", "|---|---|---|"]
    for r in summary["rows"]:
        keys = ", ".join(m["key"] for m in r.get("matches", [])) or "—"
        out.append(f"| `{r['nodeid']}` | {keys} | {r['drift']} |")
    out += ["", "## 3. Provenance (documented vs inferred)", "",
            "| spec | provenance | contracts | passed | source |", "|---|---|---|---|---|"]
    for spec, c in summary["coverage"].items():
        sources = sorted({r["source"] for r in summary["rows"] if r["spec"] == spec})
        out.append(f"| {spec} | {c['provenance']} | {c['contracts']} | {c['passed']} | {_md('; '.join(sources))} |")
    return "\n".join(out) + "\n"


def _code(text: str) -> str:
    """Inline code holding `text` exactly, whatever backticks it contains."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


# --- HTML ------------------------------------------------------------------------------------
# One self-contained page: no external asset, so it reads the same offline, from a CI
# artefact. Its one style and one script are allowed by hash in a CSP meta tag; nothing
# else may load or run. Fixed table layouts and wrapping anywhere keep every column on a
# 1280 px screen, whatever the length of a node id, a skip reason or a difference.
STYLE = """
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.2em 1.5em; color: #1d232b; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
h2 { font-size: 1.15em; margin: 1.4em 0 .4em; }
h3 { font-size: 1em; margin: 1.2em 0 .3em; }
h3 small, .muted { color: #5b6672; font-weight: normal; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td, th { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; word-break: break-word; }
th { background: #f3f5f7; font-weight: 600; }
code { font: 12.5px ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap;
       overflow-wrap: anywhere; word-break: break-word; }
code.flag { white-space: nowrap; }
ul.diffs { padding-left: 1.4em; margin: .3em 0; }
ul.diffs li { margin: .15em 0; overflow-wrap: anywhere; }
td code.flag { white-space: nowrap; }
ul.diffs { padding-left: 1.1em; }
.verdict { font-weight: 600; overflow-wrap: anywhere; }
.tag { display: inline-block; padding: 0 .35em; border-radius: 3px; font-size: 12.5px; }
.failed, .error, .drift, .xpassed { background: #fbe3e1; }
.passed, .match { background: #e6f4ea; }
.skipped, .unrecorded, .not-compared, .xfailed { background: #f1f3f5; }
tr.problem > td:first-child { box-shadow: inset 4px 0 #b3261e; }
#filter { margin: .6em 0; padding: .4em .6em; background: #f3f5f7; border-radius: 4px; }
body.problems-only .fine { display: none; }
#no-problems { display: none; }
body.problems-only.no-problems #no-problems { display: block; }
col.c-contract { width: 33%; } col.c-safety { width: 9%; } col.c-behaviour { width: 24%; } col.c-drift { width: 34%; }
col.s-spec { width: 5%; } col.s-prov { width: 10%; } col.s-n { width: 8%; } col.s-source { width: 45%; }
"""
SCRIPT = """
(function () {
  var box = document.getElementById("problems-only");
  var shown = document.getElementById("shown");
  var rows = document.querySelectorAll("tr.contract");
  var problems = document.querySelectorAll("tr.contract.problem").length;
  document.getElementById("filter").hidden = false;
  function apply() {
    document.body.classList.toggle("problems-only", box.checked);
    document.body.classList.toggle("no-problems", problems === 0);
    shown.textContent = box.checked ? problems + " of " + rows.length + " contracts shown"
                                    : rows.length + " contracts shown, " + problems + " with problems";
  }
  box.checked = location.hash === "#problems";
  box.addEventListener("change", apply);
  apply();
})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


POLICY = (f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; "
          "base-uri 'none'; form-action 'none'")


def _is_problem(r: dict) -> bool:
    return r["drift"] == "drift" or any(c in ("failed", "error", "xpassed") for c in r["counted"]) \
        or r["behaviour"] == "failed"


def _tag(text: str) -> str:
    return f"<span class='tag {html.escape(text.replace(' ', '-'))}'>{html.escape(text)}</span>"


def _contract_row(r: dict) -> str:
    e = html.escape
    behaviour = _tag(r["behaviour"])
    if r["counted"] != [r["behaviour"]]:
        behaviour += f" <span class='muted'>— pytest counts it as {e(' and '.join(r['counted']))}</span>"
    if r.get("teardown_error"):
        behaviour += " <span class='muted'>(its teardown failed)</span>"
    if r.get("failure"):
        behaviour += f"<br><code>{e(r['failure'])}</code>"
    if r["behaviour"] == "skipped" and r.get("skip"):
        # an option is one word to copy: never broken at its hyphens
        behaviour += "<br>" + re.sub(r"(--[a-z][a-z-]*)", r"<code class='flag'>\1</code>", e(r["skip"]))
    drift = _tag(r["drift"])
    keys = [m for m in r.get("matches", [])]
    if keys:
        drift += " <span class='muted'>" + e(", ".join(m["key"] for m in keys)) + "</span>"
    diffs = [f"<li><code>{e(d)}</code></li>" for m in keys if m["verdict"] == "drift" for d in m["diffs"]]
    if diffs:
        drift += f"<ul class='diffs'>{''.join(diffs)}</ul>"
    cls = "contract problem" if _is_problem(r) else "contract fine"
    path, colons, name = r["nodeid"].rpartition("::")
    where = f"<br><small class='muted'>{e(path)}</small>" if colons else ""
    return (f"<tr class='{cls}' data-nodeid='{e(r['nodeid'])}'><td><code>{e(name)}</code>{where}</td>"
            f"<td>{e(r['safety'])}{' · fake only' if r.get('fake_only') else ''}</td>"
            f"<td>{behaviour}</td><td>{drift}</td></tr>")


def page(summary: dict, target: str, run_id: str, generated: str) -> str:
    e = html.escape
    by_spec: dict[str, list[dict]] = {}
    for r in summary["rows"]:
        by_spec.setdefault(r["spec"], []).append(r)
    diffs = differences(summary)
    drift = "".join(f"<li><b>{e(key)}</b> <code>{e(diff)}</code> <small class='muted'>{e(nodeid)}</small></li>"
                    for nodeid, key, diff in diffs)
    drift = (f"<ul class='diffs'>{drift}</ul>" if drift
             else "<p class='fine'>No drift: every compared answer matches its snapshot.</p>")
    overview = []
    for spec, c in summary["coverage"].items():
        sources = sorted({r["source"] for r in by_spec.get(spec, [])})
        name = f"<a href='#spec-{e(spec)}'>{e(spec)}</a>" if c["contracts"] else e(spec)
        problem = c["failed"] or c["drifted"]
        overview.append(
            f"<tr class='{'problem' if problem else 'fine'}'><td>{name}</td><td>{e(c['provenance'])}</td>"
            f"<td>{c['contracts']}</td><td>{c['passed']}</td>"
            f"<td class='{'failed' if c['failed'] else ''}'>{c['failed']}</td><td>{c['skipped']}</td>"
            f"<td class='{'drift' if c['drifted'] else ''}'>{c['drifted']}</td><td>{e('; '.join(sources))}</td></tr>")
    groups = []
    for spec, mine in sorted(by_spec.items(), key=lambda kv: SPEC_ORDER.index(kv[0]) if kv[0] in SPEC_ORDER else 99):
        c = summary["coverage"].get(spec) or {"passed": 0, "failed": 0, "skipped": 0, "drifted": 0,
                                              "provenance": mine[0]["provenance"]}
        problem = any(_is_problem(r) for r in mine)
        counts = (f"{len(mine)} contract{'s' if len(mine) != 1 else ''}: {c['passed']} passed, {c['failed']} failed, "
                  f"{c['skipped']} skipped · {c['drifted']} drifted")
        groups.append(
            f"<section class='spec {'problem' if problem else 'fine'}' id='spec-{e(spec)}'>"
            f"<h3>{e(spec)} <small>{e(c['provenance'])} · {e(counts)}</small></h3>"
            "<table><colgroup><col class='c-contract'><col class='c-safety'><col class='c-behaviour'>"
            "<col class='c-drift'></colgroup>"
            "<thead><tr><th>contract</th><th>safety</th><th>behaviour</th><th>drift</th></tr></thead><tbody>"
            + "".join(_contract_row(r) for r in mine) + "</tbody></table></section>")
    updated = ""
    if "snapshots_updated" in summary:
        updated = "<p>Snapshots " + ("re-recorded from the target." if summary["snapshots_updated"]
                                     else "NOT re-recorded: the run did not pass.") + "</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Contract suite: drift report</title>
<style>{STYLE}</style>
</head><body>
<h1>Contract suite: drift report</h1>
<p>target <code>{e(target)}</code> · run <code>{e(run_id)}</code> · generated {e(generated)}</p>
<p class="verdict">{e(verdict_line(summary))}</p>
{updated}
<div id="filter" hidden><label><input type="checkbox" id="problems-only"> problems only
(failed, errors and drifted contracts)</label> · <span id="shown" class="muted"></span></div>
<p id="no-problems">No problems: every contract that ran passed and matched its snapshot.</p>
<h2>API drift (target vs snapshots)</h2>
{drift}
<h2>Provenance (documented vs inferred), by spec id</h2>
<table class="specs"><colgroup><col class="s-spec"><col class="s-prov"><col class="s-n"><col class="s-n">
<col class="s-n"><col class="s-n"><col class="s-n"><col class="s-source"></colgroup>
<thead><tr><th>spec</th><th>provenance</th><th>contracts</th><th>passed</th><th>failed</th><th>skipped</th>
<th>drifted</th><th>source</th></tr></thead><tbody>{''.join(overview)}</tbody></table>
<h2>Behaviour and drift per contract, by spec id</h2>
{''.join(groups) or '<p>No contract ran.</p>'}
<script>{SCRIPT}</script>
</body></html>
"""


def write(directory: Path, summary: dict, target: str, run_id: str) -> None:
    generated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    directory = Path(directory)
    (directory / "drift-report.md").write_text(markdown(summary, target, run_id, generated), encoding="utf-8")
    (directory / "drift-report.html").write_text(page(summary, target, run_id, generated), encoding="utf-8")
    data = {"target": target, "run": run_id, "generated": generated,
            **{k: v for k, v in summary.items() if k != "rows"},
            "contracts": [{k: v for k, v in r.items() if k != "recordings"} for r in summary["rows"]],
            "differences": [{"contract": n, "snapshot": k, "difference": d} for n, k, d in differences(summary)]}
    (directory / "drift-report.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
