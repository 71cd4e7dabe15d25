"""Snapshots: recorded responses, normalized, and the structural comparison against them.

A body is kept as JsonML (`["atom:entry", {attributes}, child, …]`, text as a string
child) so that tokens such as `<base-url>` stay readable in the files. Values that differ
between any two honest runs are normalized the same way on both sides, after LocalStack's
snapshot transformers: uuids become references (`<uuid:1>` is the same uuid wherever it
appears), timestamps become their format (`<iso8601>`, `<datetime>`), the host becomes
`<base-url>`, secret-bearing elements become `<secret>`, and a contract may map its own
run-specific values back to the recorded ones.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ocss_testkit.atom import safe

NAMESPACES = {"atom": "http://www.w3.org/2005/Atom", "oc": "http://schemas.obexcode.com/syncserver/2009"}
PREFIX = {uri: prefix for prefix, uri in NAMESPACES.items()}
DOC_HOST = "http://api.obexcode.com"
UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
ISO = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
PLAIN = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b")
REFERENCE = re.compile(r"<(\w[\w-]*):([^<>]+)>")
# Ofcom's numbers reserved for drama (mobile 07700 900xxx, London 020 7946 0xxx): the run's
# made-up phone numbers, different in every run.
FICTIONAL_PHONE = re.compile(r"\+447700900\d{3}\b|\+4420794600\d{2}\b|\+442079460\d{3}\b")
SECRET_ELEMENTS = {"key", "secret", "password", "old_pass"}  # their text is never kept
# Headers whose value is part of the API; Content-Length is wrong in the docs
# (docs/decisions.md, "Where the docs disagree").
RECORDED_HEADERS = ("Content-Type", "Allow", "WWW-Authenticate")
SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "snapshots"


def name_of(tag: str) -> str:
    qname = etree.QName(tag)
    if qname.namespace in PREFIX:
        return f"{PREFIX[qname.namespace]}:{qname.localname}"
    return tag  # Clark notation {uri}local, or a bare name


def local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


@dataclass
class Normalizer:
    """Turns one XML document into normalized JsonML. `secrets` maps a name to a value
    never to be kept; `replace` maps a run's own values to the recorded ones."""
    base_urls: tuple[str, ...] = (DOC_HOST,)
    secrets: dict[str, str] = field(default_factory=dict)
    replace: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None  # a run's names read `<name:KIND>` whatever run, worker, counter
    test_phone: str | None = None  # a real person's phone: never kept

    def __post_init__(self) -> None:
        self._refs: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def _ref(self, kind: str, value: str) -> str:
        if (kind, value) not in self._refs:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._refs[(kind, value)] = f"<{kind}:{self._counts[kind]}>"
        return self._refs[(kind, value)]

    def value(self, text: str) -> str:
        for name, secret in self.secrets.items():
            if secret:
                text = text.replace(secret, f"<secret:{name}>")
        for run_value, recorded in sorted(self.replace.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(run_value, recorded)
        if self.run_id:
            text = re.sub(re.escape(self.run_id) + r"-[A-Za-z0-9]+-([a-z][a-z-]*?)\d+", r"<name:\1>", text)
        if self.test_phone:
            text = text.replace(self.test_phone, "<test-phone>")
        text = FICTIONAL_PHONE.sub("<fictional-phone>", text)
        for base in sorted(self.base_urls, key=len, reverse=True):
            text = text.replace(base.rstrip("/"), "<base-url>")
        text = UUID.sub(lambda m: self._ref("uuid", m.group(0).lower()), text)
        text = ISO.sub("<iso8601>", text)
        return PLAIN.sub("<datetime>", text)

    def element(self, el: etree._Element) -> list:
        name = name_of(el.tag)
        node: list = [name]
        if el.attrib:
            node.append({name_of(k): self.value(v) for k, v in sorted(el.attrib.items())})
        text = (el.text or "").strip()
        if text:
            node.append("<secret>" if local(name) in SECRET_ELEMENTS else self.value(text))
        for child in el:
            if isinstance(child.tag, str):
                node.append(self.element(child))
        return node


def refine(node: list | None, fields: tuple[str, ...] = (), regex: dict[str, str] | None = None, path: str = ""):
    """A contract's own transformers, applied alike to the snapshot and the answer: `fields`
    (element paths such as `entry/author/name` or `user_id`) hold account-specific values
    kept only as references; `regex` maps a pattern to the token replacing it."""
    if node is None or (not fields and not regex):
        return node
    here = f"{path}/{local(node[0])}"
    out: list = [node[0]]
    for part in node[1:]:
        if isinstance(part, dict):
            out.append({k: _sub(v, regex) for k, v in part.items()})
        elif isinstance(part, str):
            hit = next((f for f in fields if here.endswith("/" + f)), None)
            if hit and not REFERENCE.fullmatch(part):  # a recorded snapshot holds the reference already
                part = f"<{local(hit.rsplit('/', 1)[-1])}:{part}>"
            out.append(part if hit else _sub(part, regex))
        else:
            out.append(refine(part, fields, regex, here))
    return out


def _sub(text: str, regex: dict[str, str] | None) -> str:
    for pattern, token in (regex or {}).items():
        text = re.sub(pattern, token, text)
    return text


def parse(body: bytes, content_type: str | None = None) -> etree._Element:
    """The root of an answer's body: the contracts' one XML parse. Any target is untrusted,
    so it is the fake's own request parser (`ocss_testkit.atom.safe.parse`): no DOCTYPE,
    entities or network, bounded depth, the Content-Type's charset honoured (RFC 7303
    §3.2). Raises safe.XMLRejected with a message naming the fault and, from the parser,
    its line and column."""
    return safe.parse(body, charset=safe.charset_of(content_type), what="the response body")


def children(node: list) -> list:
    return [c for c in node[1:] if isinstance(c, list)]


def attributes(node: list) -> dict:
    return node[1] if len(node) > 1 and isinstance(node[1], dict) else {}


def text_of(node: list) -> str | None:
    return next((c for c in node[1:] if isinstance(c, str)), None)


def select_entries(body: list | None, indices: list[int] | None = None):
    """A recorded feed reduced to the entries at these positions."""
    if body is None or local(body[0]) != "feed" or indices is None:
        return body
    entries = [c for c in children(body) if local(c[0]) == "entry"]
    head = [c for c in body[1:] if not (isinstance(c, list) and local(c[0]) == "entry")]
    return [body[0], *head, *(entries[i] for i in indices if i < len(entries))]


def _last_segment(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def keep_entries(root: etree._Element, keep: tuple[str, ...]) -> etree._Element:
    """An answered feed reduced to the entries whose atom:id ends in one of `keep` (a run's
    own uuids or ids, or whole ids), in that order: other users' and other runs' entries
    never count."""
    if etree.QName(root).localname != "feed":
        return root
    entries = root.findall(f"{{{NAMESPACES['atom']}}}entry")
    for entry in entries:
        root.remove(entry)
    for wanted in keep:
        for entry in entries:
            if _last_segment(entry.findtext(f"{{{NAMESPACES['atom']}}}id") or "") == _last_segment(str(wanted)):
                root.append(entry)
    return root


def renumber(value):
    """References numbered anew by first appearance, after a selection dropped some."""
    seen: dict[tuple[str, str], str] = {}
    counts: dict[str, int] = {}

    def one(m: re.Match) -> str:
        if m.group(1) == "secret":
            return m.group(0)
        key = (m.group(1), m.group(2))
        if key not in seen:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
            seen[key] = f"<{m.group(1)}:{counts[m.group(1)]}>"
        return seen[key]

    def walk(v):
        if isinstance(v, str):
            return REFERENCE.sub(one, v)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v
    return walk(value)


def _label(name: str, index: int | None) -> str:
    return local(name) + (f"[{index}]" if index is not None else "")


def diff_nodes(expected: list, actual: list, path: str = "") -> list[str]:
    """Each difference as `path: expected → actual`."""
    here = path or "/" + local(expected[0])
    if expected[0] != actual[0]:
        return [f"{here}: element {expected[0]} → {actual[0]}"]
    out = []
    ea, aa = attributes(expected), attributes(actual)
    for key in sorted(set(ea) | set(aa)):
        if ea.get(key) != aa.get(key):
            out.append(f"{here}@{local(key)}: {_show(ea.get(key))} → {_show(aa.get(key))}")
    et, at = text_of(expected), text_of(actual)
    if et != at:
        out.append(f"{here}: text {_show(et)} → {_show(at)}")
    ek, ak = children(expected), children(actual)
    names_e, names_a = [c[0] for c in ek], [c[0] for c in ak]

    def child_path(kids, names, i):
        many = names.count(names[i]) > 1
        return f"{here}/{_label(names[i], names[:i].count(names[i]) if many else None)}"

    # Whole identical children align first (so a third <link> added after two reads as one
    # added link); what differs is then paired up by element name.
    whole = difflib.SequenceMatcher(None, [_key(c) for c in ek], [_key(c) for c in ak], autojunk=False)
    for op, e1, e2, a1, a2 in whole.get_opcodes():
        if op == "equal":
            continue
        by_name = difflib.SequenceMatcher(None, names_e[e1:e2], names_a[a1:a2], autojunk=False)
        for sub, f1, f2, b1, b2 in by_name.get_opcodes():
            pairs = zip(range(e1 + f1, e1 + f2), range(a1 + b1, a1 + b2))
            if sub == "equal":
                for i, j in pairs:
                    out += diff_nodes(ek[i], ak[j], child_path(ek, names_e, i))
            elif sub == "replace" and f2 - f1 == b2 - b1:
                for i, j in pairs:
                    out.append(f"{child_path(ek, names_e, i)}: element {names_e[i]} → {names_a[j]}")
            else:
                for i in range(e1 + f1, e1 + f2):
                    out.append(f"{child_path(ek, names_e, i)}: present → missing")
                for j in range(a1 + b1, a1 + b2):
                    out.append(f"{child_path(ak, names_a, j)}: missing → present")
    return out


def _key(node: list) -> str:
    return json.dumps(node, sort_keys=True)


def _show(value) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


@dataclass
class Recording:
    """One normalized exchange, as kept in `snapshots/<key>.json`."""
    status: int
    reason: str
    headers: dict
    body: list | None
    request: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"request": self.request, "response": {"status": self.status, "reason": self.reason,
                                                      "headers": self.headers, "body": self.body}}

    @classmethod
    def from_dict(cls, data: dict) -> Recording:
        r = data["response"]
        return cls(r["status"], r["reason"], dict(r.get("headers") or {}), r.get("body"),
                   dict(data.get("request") or {}))


@dataclass(frozen=True)
class View:
    """How one contract looks at a snapshot: its transformers (see `refine`) and, for a feed,
    which entries count (`keep`: the answer's entries whose id holds these values;
    `indices`: the recorded entries standing for them)."""
    fields: tuple[str, ...] = ()
    regex: tuple[tuple[str, str], ...] = ()
    keep: tuple[str, ...] | None = None
    indices: tuple[int, ...] | None = None

    def expected(self, recording: Recording) -> Recording:
        body = refine(recording.body, self.fields, dict(self.regex))
        body = renumber(select_entries(body, list(self.indices) if self.indices is not None else None))
        return Recording(recording.status, recording.reason, recording.headers, body, recording.request)


def record(status: int, reason: str, headers, body: bytes, normalizer: Normalizer,
           request: dict | None = None, view: View = View()) -> Recording:
    kept = {name: normalizer.value(headers[name]) for name in RECORDED_HEADERS if headers.get(name)}
    tree = None
    if body.strip():
        try:
            root = parse(body, headers.get("Content-Type"))
        except safe.XMLRejected as e:
            tree = ["(not XML)", str(e)]
        else:
            tree = normalizer.element(keep_entries(root, view.keep) if view.keep is not None else root)
    tree = renumber(refine(tree, view.fields, dict(view.regex)))
    request = {k: normalizer.value(v) for k, v in (request or {}).items()}
    return Recording(status, reason, kept, tree, renumber(request))


def compare(expected: Recording, actual: Recording) -> list[str]:
    out = []
    if expected.status != actual.status:
        out.append(f"status: {expected.status} → {actual.status}")
    if expected.reason != actual.reason:
        out.append(f"reason: {_show(expected.reason)} → {_show(actual.reason)}")
    for name, value in expected.headers.items():
        if actual.headers.get(name) != value:
            out.append(f"header {name}: {_show(value)} → {_show(actual.headers.get(name))}")
    if expected.body is None or actual.body is None:
        if expected.body != actual.body:
            out.append(f"body: {'(empty)' if expected.body is None else expected.body[0]} → "
                       f"{'(empty)' if actual.body is None else actual.body[0]}")
        return out
    return out + diff_nodes(expected.body, actual.body)


def dumps(value, indent: str = "") -> str:
    """JSON with one line per leaf element, so that a snapshot reads like the XML it holds."""
    inner = indent + "  "
    if isinstance(value, dict) and value and any(isinstance(v, (dict, list)) for v in value.values()):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, list) for v in value):
        head = [json.dumps(v, ensure_ascii=False) for v in value if not isinstance(v, list)]
        items = [dumps(v, inner) for v in value if isinstance(v, list)]
        return "[" + ", ".join(head) + ",\n" + ",\n".join(inner + i for i in items) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


class SnapshotStore:
    """`snapshots/<key>.json`: where each came from, and the normalized exchange."""

    def __init__(self, directory: Path = SNAPSHOT_DIR) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", key):
            raise ValueError(f"snapshot keys are lower-case words joined by '-': {key!r}")
        return self.directory / f"{key}.json"

    def load(self, key: str) -> tuple[Recording, dict] | None:
        path = self.path(key)
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return Recording.from_dict(data), data

    def save(self, key: str, recording: Recording, meta: dict) -> Path:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"key": key, **meta, **recording.to_dict()}
        text = dumps(data) + "\n"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        return path

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.json"))
