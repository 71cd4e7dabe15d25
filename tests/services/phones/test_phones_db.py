"""The phones database (fixtures/phones.json): real 2003-2009 handsets, no placeholders.

Sources: the SyncServer API Python interface (the vendor listing prints `HTC 26`,
`Nokia 188`, `LG 5`, `Sony Ericsson 84`, etc.) and the SyncML API (models `112`, `56`,
`242` = `02978288-537f-102b-beff-000ea60275d1`, and the phone-side datastore names
`C:Contacts.cdb`, `C:Calendar`, `c:Notepad.dat`, `cal.vcs`).
"""

from __future__ import annotations

import json
import re
import uuid
from functools import cache
from pathlib import Path

import pytest

from ocss_testkit.services.phones.database import PhonesDB

ROOT = Path(__file__).resolve().parents[3]
PHONES = ROOT / "fixtures" / "phones.json"

# The library doc's example output, in the order it prints it.
DOC_COUNTS = [("HTC", 26), ("Nokia", 188), ("LG", 5), ("Sony Ericsson", 84)]

VENDORS = {  # id -> (name, uuid): fixed since the first release
    1: ("Nokia", "5e550e8f-6119-5c7c-a3a6-ea8666b93d29"),
    2: ("Sony Ericsson", "641053b4-7b9d-560c-a10b-cb61694a732c"),
    3: ("Samsung", "dea7ac9c-a46b-5bd1-a88a-5263c729e2e6"),
    4: ("HTC", "31598f7e-9f27-5657-b494-a6dd8891a1f5"),
    5: ("LG", "8a53f3fe-232f-5c0e-9beb-735faeafa220"),
    6: ("Motorola", "f6a00177-e06b-5323-9493-c2f8e87961bc"),
}

# Models of the first release that other tests (and the demo world) rely on:
# id -> (uuid, name, server_alert, datastores).
ORIGINAL = {  # the doc models' datastores in the order 003's listing and GET show them
    112: ("8f8b541e-7f92-5196-918a-c86f4ba03af8", "Nokia 5310 XpressMusic", True,
          [("Calendar", "Calendar"), ("Contacts", "Contacts")]),
    56: ("2d7fa47b-5522-50d1-b5f9-8257ec6ae832", "Nokia 5800 XpressMusic", True,
         [("Contacts", "C:Contacts.cdb"), ("Notes", "c:Notepad.dat"), ("Calendar", "C:Calendar")]),
    242: ("02978288-537f-102b-beff-000ea60275d1", "Nokia 6233", True,
          [("Calendar", "Calendar"), ("Contacts", "Contacts"), ("Calendar", "cal.vcs")]),
    243: ("9c1428d3-1a6e-58fd-b40e-ddaa658eec57", "Nokia N95", True,
          [("Contacts", "C:Contacts.cdb"), ("Calendar", "C:Calendar"), ("Notes", "c:Notepad.dat")]),
    244: ("ba97bf0e-35c7-5edd-9be4-53cb4763b3c5", "Nokia E71", True,
          [("Contacts", "C:Contacts.cdb"), ("Calendar", "C:Calendar"), ("Notes", "c:Notepad.dat")]),
    245: ("6e6ad564-388f-50a4-9004-30c3d65a6059", "Nokia 6300", True,
          [("Contacts", "Contacts"), ("Calendar", "Calendar")]),
    301: ("8040e7e8-97c1-5b2a-84b5-55be804d2edd", "Sony Ericsson K800i", True,
          [("Contacts", "./contacts"), ("Calendar", "./calendar"), ("Notes", "./notes")]),
    302: ("3025a674-b832-5fb6-961d-38ba89f1c5ac", "Sony Ericsson W910i", True,
          [("Contacts", "./contacts"), ("Calendar", "./calendar"), ("Notes", "./notes")]),
    401: ("42e21575-efc7-558a-ba3a-cc41def47404", "Samsung SGH-E250", False,
          [("Contacts", "Contacts")]),
    402: ("eef16e5b-3cf1-5840-b899-c949bf969f52", "Samsung SGH-U600", True,
          [("Contacts", "Contacts"), ("Calendar", "Calendar")]),
    501: ("226e8cec-b5f0-5dbd-ae45-8f36e46986e7", "HTC Touch Diamond", False,
          [("Contacts", "Contacts"), ("Calendar", "Calendar"), ("Tasks", "Tasks")]),
    601: ("30d2ef5b-006f-5c6c-8308-0b77523782d0", "LG KU990 Viewty", True,
          [("Contacts", "Contacts"), ("Calendar", "Calendar")]),
    701: ("fad2e81f-6cb9-54c0-8fb5-326c278786b9", "Motorola RAZR V3", False,
          [("Contacts", "Contacts")]),
}

# Models added after the first release: uuid5 of the name in this namespace.
MODEL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "http://www.obexcode.com/phones/")

PLACEHOLDER = re.compile(
    r"\b(model|phone|handset|device|test|unknown|generic|dummy|sample|example|placeholder|tbd|todo)\b"
    r"|\bfoo\b|\bbar\b|\bxxx\b|#\d|\?",
    re.IGNORECASE)

# A real User-Agent names its vendor, or the platform that sent it.
UA_VENDOR_TOKENS = {
    "Nokia": ("Nokia",),
    "Sony Ericsson": ("SonyEricsson",),
    "Samsung": ("SAMSUNG", "Samsung"),
    "LG": ("LG-", "LG/"),
    "HTC": ("HTC",),
    "Motorola": ("MOT-", "Motorola", "MOTOROLA"),
}
UA_PLATFORMS = ("Android", "Windows CE", "SymbianOS", "Series60", "Series80", "Series90",
                "Symbian OS", "Profile/MIDP", "UP.Browser")
UA_SHAPE = re.compile(r"^[A-Za-z][\w.-]*/[\w.]+|^Mozilla/\d\.\d \(|^[A-Z][\w-]+ [\w/.]+")

DATACLASSES = {"Contacts", "Calendar", "Notes", "Tasks", "Memo"}


@cache
def raw() -> dict:
    return json.loads(PHONES.read_text("utf-8"))


@cache
def db() -> PhonesDB:
    return PhonesDB.from_json(raw())


def models() -> list[tuple[dict, dict]]:
    """(vendor, model) pairs from the raw file, in file order."""
    return [(v, m) for v in raw()["vendors"] for m in v["models"]]


def ids_of(pairs) -> list[str]:
    return [f"{m['id']}:{m['name']}" for _, m in pairs]


# ---- shape and counts ----

def test_file_is_pretty_printed_with_indent_1_and_a_final_newline():
    text = PHONES.read_text("utf-8")
    assert text == json.dumps(raw(), indent=1, ensure_ascii=False) + "\n"
    assert set(raw()) == {"description", "vendors"}
    for v in raw()["vendors"]:
        assert set(v) == {"id", "uuid", "name", "image_url", "models"}
        for m in v["models"]:
            assert set(m) == {"id", "uuid", "name", "image_url", "user_agents", "ua_pattern",
                              "server_alert", "datastores"}, m["name"]


def test_the_documented_vendor_counts_exactly():
    counts = {v.name: len(db().models_of(v.id)) for v in db().vendors.values()}
    assert [(name, counts.get(name)) for name, _ in DOC_COUNTS] == DOC_COUNTS


def test_vendors_are_listed_in_the_documented_order():
    """Listing the vendors prints the doc's lines first: HTC 26, Nokia 188, LG 5, Sony Ericsson 84, etc."""
    lines = [f"{v.name} {len(db().models_of(v.id))}" for v in db().vendors.values()]
    assert lines[:4] == [f"{n} {c}" for n, c in DOC_COUNTS]


def test_samsung_and_motorola_are_well_covered():
    counts = {v.name: len(db().models_of(v.id)) for v in db().vendors.values()}
    assert counts["Samsung"] >= 30
    assert counts["Motorola"] >= 20


def test_vendor_ids_and_uuids_are_kept():
    assert {vid: (v.name, v.uuid) for vid, v in db().vendors.items()} == VENDORS
    for v in raw()["vendors"]:
        slug = re.sub(r"[^a-z0-9]+", "-", v["name"].lower())
        assert v["image_url"] == f"http://www.obexcode.com/media/phones/{slug}/logo.jpg"


# ---- identity ----

def test_model_ids_uuids_names_and_images_are_unique():
    pairs = models()
    for key in ("id", "uuid", "name", "image_url"):
        values = [str(m[key]).lower() for _, m in pairs]
        dupes = sorted({x for x in values if values.count(x) > 1})
        assert not dupes, f"duplicate {key}: {dupes}"
    assert all(isinstance(m["id"], int) and m["id"] > 0 for _, m in pairs)
    assert len(db().models) == len(pairs)
    vendor_uuids = {v.uuid for v in db().vendors.values()}
    assert not vendor_uuids & {m["uuid"] for _, m in pairs}


def test_uuids_are_deterministic():
    bad = []
    for _, m in models():
        u = uuid.UUID(m["uuid"])
        assert str(u) == m["uuid"], m["name"]
        if m["id"] in ORIGINAL:
            continue
        if u != uuid.uuid5(MODEL_NAMESPACE, m["name"]):
            bad.append(f"{m['id']}:{m['name']}")
    assert not bad, f"not uuid5(MODEL_NAMESPACE, name): {bad}"


def test_first_release_models_are_kept_exactly():
    for mid, (muuid, name, alert, stores) in ORIGINAL.items():
        m = db().models[mid]
        assert (m.uuid, m.name, m.server_alert, list(m.datastores)) == (muuid, name, alert, stores)
        assert m.user_agents, name


def test_doc_models_resolve_by_id_and_uuid():
    assert db().model("112").name == "Nokia 5310 XpressMusic"
    assert db().model("56").name == "Nokia 5800 XpressMusic"
    assert db().model("242").name == "Nokia 6233"
    assert db().model("02978288-537f-102b-beff-000ea60275d1").name == "Nokia 6233"
    assert db().model("02978288-537F-102B-BEFF-000EA60275D1") is db().model("242")
    assert db().model("56").datastores == (  # 003's listing: C:Contacts.cdb, c:Notepad.dat, C:Calendar
        ("Contacts", "C:Contacts.cdb"), ("Notes", "c:Notepad.dat"), ("Calendar", "C:Calendar"))
    assert ("Calendar", "cal.vcs") in db().model("242").datastores


# ---- names ----

@pytest.mark.parametrize("vendor,model", models(), ids=ids_of(models()))
def test_name_is_vendor_and_a_real_model_designation(vendor, model):
    name = model["name"]
    assert name.startswith(vendor["name"] + " "), name
    rest = name[len(vendor["name"]) + 1:]
    assert rest.strip() == rest and "  " not in rest, name
    assert not PLACEHOLDER.search(rest), f"placeholder-looking name: {name!r}"
    assert not re.fullmatch(r"(Model|Phone|Handset)\s*\d+", rest, re.IGNORECASE), name


def test_no_name_is_a_placeholder():
    bad = [m["name"] for _, m in models()
           if re.search(r"\b(Model|Phone|Handset|Device) ?\d+\b|\bTest\b|\bUnknown\b|\bGeneric\b",
                        m["name"], re.IGNORECASE)]
    assert not bad, bad


def test_image_urls_follow_the_vendor_and_model_slugs():
    for v, m in models():
        vslug = re.sub(r"[^a-z0-9]+", "-", v["name"].lower())
        assert re.fullmatch(rf"http://www\.obexcode\.com/media/phones/{vslug}/[a-z0-9]+(-[a-z0-9]+)*\.jpg",
                            m["image_url"]), m["image_url"]


# ---- user agents ----

def test_every_model_has_one_to_three_distinct_user_agents():
    bad = [m["name"] for _, m in models()
           if not 1 <= len(m["user_agents"]) <= 3 or len(set(m["user_agents"])) != len(m["user_agents"])]
    assert not bad, bad
    every = [ua for _, m in models() for ua in m["user_agents"]]
    shared = sorted({ua for ua in every if every.count(ua) > 1})
    assert not shared, f"User-Agents listed under two models: {shared}"


def test_every_ua_pattern_compiles():
    bad = []
    for _, m in models():
        try:
            re.compile(m["ua_pattern"])
        except (re.error, TypeError) as e:
            bad.append(f"{m['name']}: {m['ua_pattern']!r}: {e}")
        else:
            if re.search(m["ua_pattern"], ""):
                bad.append(f"{m['name']}: {m['ua_pattern']!r} matches the empty string")
    assert not bad, "\n".join(bad)


def test_each_user_agent_is_matched_by_its_own_pattern_and_no_other():
    pairs = models()
    compiled = [(m, re.compile(m["ua_pattern"])) for _, m in pairs]
    misses, clashes = [], []
    for owner, _ in compiled:
        for ua in owner["user_agents"]:
            matched = [m["name"] for m, rx in compiled if rx.search(ua)]
            if owner["name"] not in matched:
                misses.append(f"{owner['name']}: own pattern {owner['ua_pattern']!r} misses {ua!r}")
            others = [n for n in matched if n != owner["name"]]
            if others:
                clashes.append(f"{owner['name']}: {ua!r} also matched by {others}")
    assert not misses and not clashes, "\n".join(misses + clashes)


def test_tricky_neighbours_are_told_apart():
    """The pairs the brief names, plus same-stem models from the list."""
    def who(ua):
        hits = [m["name"] for _, m in models() if re.search(m["ua_pattern"], ua)]
        assert len(hits) <= 1, (ua, hits)
        return hits[0] if hits else None

    s60 = ("Mozilla/5.0 (SymbianOS/9.2; U; Series60/3.1 {}/21.0.016; Profile/MIDP-2.0 Configuration/CLDC-1.1 ) "
           "AppleWebKit/413 (KHTML, like Gecko) Safari/413")
    assert who(s60.format("NokiaN95")) == "Nokia N95"
    assert who(s60.format("NokiaN95-3")) == "Nokia N95"
    assert who(s60.format("NokiaN95_8GB")) == "Nokia N95 8GB"
    assert who("Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1") == "Nokia 6233"
    assert who("Nokia6230/2.0 (04.43) Profile/MIDP-2.0 Configuration/CLDC-1.1") == "Nokia 6230"
    assert who("Nokia6230i/2.0 (03.80) Profile/MIDP-2.0 Configuration/CLDC-1.1") == "Nokia 6230i"
    assert who("MOT-V3/0E.40.3CR MIB/2.2.1 Profile/MIDP-2.0 Configuration/CLDC-1.1") == "Motorola RAZR V3"
    assert who("MOT-V3i/08.B4.34R MIB/2.2.1 Profile/MIDP-2.0 Configuration/CLDC-1.1") == "Motorola RAZR V3i"
    assert who("SonyEricssonK800i/R1KG Browser/NetFront/3.3 Profile/MIDP-2.0 Configuration/CLDC-1.1") \
        == "Sony Ericsson K800i"
    assert who("LG-KU990 Obigo/WAP2.0 Profile/MIDP-2.0 Configuration/CLDC-1.1") == "LG KU990 Viewty"
    assert who("SAMSUNG-SGH-D900/1.0 Profile/MIDP-2.0 Configuration/CLDC-1.1 "
               "UP.Browser/6.2.3.3.c.1.101 (GUI) MMP/2.0") == "Samsung SGH-D900"
    assert who("SAMSUNG-SGH-D900i/D900iXXGA1 SHP/VPP/R5 NetFront/3.4 SMM-MMS/1.2.0 "
               "profile/MIDP-2.0 configuration/CLDC-1.1") == "Samsung SGH-D900i"
    wm = "Mozilla/4.0 (compatible; MSIE 6.0; Windows CE; IEMobile 7.11)"
    assert who(f"HTC_Touch_Diamond/1.0 {wm}") == "HTC Touch Diamond"
    assert who(f"HTC_Touch_Diamond2_T5353 {wm}") == "HTC Touch Diamond2"
    assert who(f"HTC_Touch_Pro_T7272 {wm}") == "HTC Touch Pro"
    assert who(f"HTC_Touch_Pro2_T7373 {wm}") == "HTC Touch Pro2"
    # A bare platform string identifies no model.
    assert who(wm) is None
    assert who("Mozilla/5.0 (SymbianOS/9.1; U; en-us) AppleWebKit/413 (KHTML, like Gecko) Safari/413") is None


def test_user_agents_look_real():
    bad = []
    for v, m in models():
        tokens = UA_VENDOR_TOKENS[v["name"]]
        for ua in m["user_agents"]:
            if ua != ua.strip() or "  " in ua or not ua.isprintable() or len(ua) < 20:
                bad.append(f"{m['name']}: malformed {ua!r}")
            elif not (any(t in ua for t in tokens) or any(p in ua for p in UA_PLATFORMS)):
                bad.append(f"{m['name']}: neither vendor nor platform token in {ua!r}")
            elif not UA_SHAPE.match(ua):
                bad.append(f"{m['name']}: not a product/version User-Agent: {ua!r}")
    assert not bad, "\n".join(bad)


# ---- SyncML capabilities ----

def test_datastores_use_known_dataclasses_and_named_stores():
    bad = []
    for _, m in models():
        for d in m["datastores"]:
            if set(d) != {"dataclass", "name"} or d["dataclass"] not in DATACLASSES or not d["name"].strip():
                bad.append(f"{m['name']}: {d}")
        names = [d["name"] for d in m["datastores"]]
        if len(names) != len(set(names)):
            bad.append(f"{m['name']}: a store listed twice {names}")
    assert not bad, "\n".join(bad)


def test_server_alert_is_boolean_and_needs_a_datastore():
    bad = []
    for _, m in models():
        if not isinstance(m["server_alert"], bool):
            bad.append(f"{m['name']}: server_alert {m['server_alert']!r}")
        elif m["server_alert"] and not m["datastores"]:
            bad.append(f"{m['name']}: server_alert without any datastore")
    assert not bad, "\n".join(bad)


def test_server_alert_follows_the_platforms():
    """Spot checks of the rules the data follows: Windows Mobile and Android phones sync by other
    means (ActiveSync, Google) and take no SyncML server alert; S60 and Sony Ericsson SyncML DS
    phones do."""
    by_name = {m.name: m for m in db().models.values()}
    # Windows Mobile (ActiveSync) and Android phones: no SyncML server alert.
    for name in ("HTC Touch Diamond", "HTC TyTN II", "HTC Dream", "HTC Magic", "Motorola MOTO Q9h",
                 "Motorola DROID", "Samsung SGH-i900 Omnia", "Sony Ericsson Xperia X1"):
        assert by_name[name].server_alert is False, name
    # S60 3rd/5th edition: the OMA DS client with the S60 store names and server alert.
    for name in ("Nokia N95", "Nokia E71", "Nokia N97", "Nokia 5800 XpressMusic", "Nokia E90 Communicator"):
        m = by_name[name]
        assert m.server_alert and ("Contacts", "C:Contacts.cdb") in m.datastores, name
    # Sony Ericsson SyncML DS phones use ./contacts.
    for name in ("Sony Ericsson K750i", "Sony Ericsson W995", "Sony Ericsson C905", "Sony Ericsson P1i"):
        m = by_name[name]
        assert m.server_alert and ("Contacts", "./contacts") in m.datastores, name
    # Only the listed vendors' own store naming families appear.
    for m in db().models.values():
        vendor = db().vendors[m.vendor_id].name
        for _, store in m.datastores:
            if store.startswith("./"):
                assert vendor == "Sony Ericsson", (m.name, store)
            if store == "Memo":
                assert vendor == "Samsung", (m.name, store)
