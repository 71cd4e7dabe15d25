"""The drift report: three verdicts per run, in Markdown, HTML and JSON.

1. Behaviour: did the target do what each contract asserts?
2. API drift: does the target still answer like the recorded snapshots?
3. Provenance: which contracts pin documented exchanges and which inferred operations.
Every difference reads `path: expected → actual`.
"""
from __future__ import annotations

import html
import json
import time
from collections import Counter
from pathlib import Path

from ocss_testkit.routes import ROUTES

SPEC_ORDER = sorted({r.spec_id for r in ROUTES if r.spec_id}, key=lambda s: (s[0] != "D", int(s[1:])))


def summarize(results) -> dict:
    rows = sorted(results, key=lambda r: (SPEC_ORDER.index(r["spec"]) if r["spec"] in SPEC_ORDER else 99,
                                          r["nodeid"]))
    behaviour = Counter(r["behaviour"] for r in rows)
    drift = Counter()
    for r in rows:
        verdicts = [m["verdict"] for m in r.get("matches", [])]
        r["drift"] = ("drift" if "drift" in verdicts else "match" if "match" in verdicts
                      else "unrecorded" if verdicts else "not compared")
        drift[r["drift"]] += 1
    coverage = {}
    for spec in SPEC_ORDER:
        mine = [r for r in rows if r["spec"] == spec]
        coverage[spec] = {"contracts": len(mine), "passed": sum(r["behaviour"] == "passed" for r in mine),
                          "provenance": mine[0]["provenance"] if mine else
                          next(r.provenance.kind for r in ROUTES if r.spec_id == spec)}
    return {"rows": rows,
            "behaviour": {k: behaviour.get(k, 0) for k in ("passed", "failed", "skipped")},
            "drift": {k: drift.get(k, 0) for k in ("match", "drift", "unrecorded", "not compared")},
            "provenance": dict(Counter(r["provenance"] for r in rows)),
            "coverage": coverage}


def verdict_line(summary: dict) -> str:
    b, d = summary["behaviour"], summary["drift"]
    return (f"behaviour: {b['passed']} passed, {b['failed']} failed, {b['skipped']} skipped · "
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


def page(summary: dict, target: str, run_id: str, generated: str) -> str:
    e = html.escape
    diffs = differences(summary)
    rows = "".join(
        f"<tr class='{e(r['behaviour'])}'><td><code>{e(r['nodeid'])}</code></td><td>{e(r['spec'])}</td>"
        f"<td>{e(r['provenance'])}</td><td>{e(r['safety'])}</td><td>{e(r['behaviour'])}"
        f"{(' — ' + e(r['skip'])) if r['behaviour'] == 'skipped' and r.get('skip') else ''}</td>"
        f"<td class='{e(r['drift'].replace(' ', '-'))}'>{e(r['drift'])}</td></tr>" for r in summary["rows"])
    drift = "".join(f"<li><b>{e(key)}</b> <code>{e(diff)}</code> <small>{e(nodeid)}</small></li>"
                    for nodeid, key, diff in diffs) or "<li>No drift: every compared answer matches its snapshot.</li>"
    coverage = "".join(f"<tr><td>{e(spec)}</td><td>{e(c['provenance'])}</td><td>{c['contracts']}</td>"
                       f"<td>{c['passed']}</td></tr>" for spec, c in summary["coverage"].items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Contract suite: drift report</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}.failed,.drift{{background:#fdd}}
.passed,.match{{background:#efe}}.skipped,.unrecorded{{background:#f6f6f6}}code{{font-size:13px}}</style>
</head><body>
<h1>Contract suite: drift report</h1>
<p>target <code>{e(target)}</code> · run <code>{e(run_id)}</code> · {e(generated)}</p>
<p><b>{e(verdict_line(summary))}</b></p>
<h2>API drift (target vs snapshots)</h2><ul>{drift}</ul>
<h2>Behaviour and drift per contract</h2>
<table><tr><th>contract</th><th>spec</th><th>provenance</th><th>safety</th><th>behaviour</th><th>drift</th></tr>
{rows}</table>
<h2>Provenance (documented vs inferred)</h2>
<table><tr><th>spec</th><th>provenance</th><th>contracts</th><th>passed</th></tr>{coverage}</table>
</body></html>
"""


def write(directory: Path, summary: dict, target: str, run_id: str) -> None:
    generated = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    directory = Path(directory)
    (directory / "drift-report.md").write_text(markdown(summary, target, run_id, generated), encoding="utf-8")
    (directory / "drift-report.html").write_text(page(summary, target, run_id, generated), encoding="utf-8")
    data = {"target": target, "run": run_id, "generated": generated,
            **{k: v for k, v in summary.items() if k != "rows"},
            "contracts": [{k: v for k, v in r.items() if k != "recordings"} for r in summary["rows"]],
            "differences": [{"contract": n, "snapshot": k, "difference": d} for n, k, d in differences(summary)]}
    (directory / "drift-report.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
