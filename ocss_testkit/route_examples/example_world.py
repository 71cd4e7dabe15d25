"""The world every route example starts from: the `demo` fixture set with EXAMPLE_WORLD
applied (a JSON Patch, RFC 6902, adding one object of every kind with fixed ids and
freezing the virtual clock at CLOCK), and the ids the examples name."""
from __future__ import annotations

CLOCK = "2009-11-01T12:30:00Z"
GDATA = "4f1d2dd0-49e4-11de-b387-002215064801"  # admin's Google Data client in the demo world
SYNCML = "2fb295cc-0e50-11de-81c8-002215064801"  # admin's Nokia 5310 XpressMusic, +4790981948
SYNCML_PHONE = "+4790981948"
DATASTORE = "6c2b8a1e-c6f1-11de-9d6a-002215064801"
ITEM = "8f3a4c2e-0b7d-4e1a-9c55-3d2f1e0a7b64"
ACTIVESYNC = "7d4e2b90-c6f1-11de-9d6a-002215064801"
CODE = "Xq3vR9pLm2Tc"  # a pending manual detection of +4790066951
DETECT_PHONE = "+4790066951"
REQUEST_TOKEN = "example-request-token"  # approved by admin; its verifier is VERIFIER
VERIFIER = "example-verifier"
NEW_REQUEST_TOKEN = "example-unapproved-token"  # not approved yet
CALLBACK = "http://localhost:8000/callback"
NOKIA_6233_UA = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
VCARD = "BEGIN:VCARD\nVERSION:2.1\nN:Nordmann;Ola\nTEL;CELL:+4790066951\nEND:VCARD"

EXAMPLE_WORLD = [
    {"op": "replace", "path": "/clock", "value": {"frozen": True, "now": CLOCK}},
    {"op": "add", "path": "/clients/-", "value": {
        "kind": "datastore", "uuid": DATASTORE, "owner": "admin", "name": "Address book",
        "published": "2009-10-30T09:00:00Z", "updated": "2009-10-30T09:05:00Z",
        "contents": [{"id": ITEM, "title": "Ola Nordmann", "data": VCARD, "type": "text/x-vcard",
                      "dataclass": "contacts", "created": "2009-10-30T09:05:00Z",
                      "updated": "2009-10-30T09:05:00Z"}]}},
    {"op": "add", "path": "/clients/-", "value": {
        "kind": "activesync", "uuid": ACTIVESYNC, "owner": "admin", "username": "admin@example.com",
        "password": "old-secret", "published": "2009-10-30T09:10:00Z"}},
    {"op": "add", "path": "/bindings/-", "value": {
        "id": 1, "owner": "admin", "source": SYNCML, "target": DATASTORE, "dominant": "source",
        "published": "2009-10-30T09:20:00Z", "updated": "2009-10-30T09:20:00Z"}},
    {"op": "add", "path": "/handsets/+4790066951", "value": 242},  # identified before: detect/auto knows it
    {"op": "add", "path": "/detections/-", "value": {
        "code": CODE, "owner": "admin", "phone_number": DETECT_PHONE, "created": "2009-11-01T12:20:00Z",
        "expires": "2009-11-01T13:20:00Z", "status": "pending"}},
    {"op": "add", "path": "/outbox/-", "value": {
        "id": 1, "to": DETECT_PHONE, "kind": "detection-link", "time": "2009-11-01T12:20:00Z",
        "body": f"Open http://localhost/d/{CODE} on your phone to identify it.", "code": CODE}},
    {"op": "add", "path": "/sessions/-", "value": {
        "id": 1, "client": SYNCML, "owner": "admin", "outcome": "ok", "started": "2009-10-31T08:00:00Z",
        "ended": "2009-10-31T08:00:40Z", "datastores": [
            {"dataclass": "Contacts", "name": "Contacts", "sync_type": "two-way", "items_from_phone": 2,
             "items_to_phone": 1}]}},
    {"op": "add", "path": "/chatlog/-", "value": {
        "session": 1, "number": 1, "direction": "from-phone", "time": "2009-10-31T08:00:01Z",
        "xml": "<SyncML><SyncHdr><VerDTD>1.2</VerDTD><SessionID>1</SessionID></SyncHdr></SyncML>"}},
    {"op": "add", "path": "/request_tokens/-", "value": {
        "token": REQUEST_TOKEN, "secret": "example-request-secret", "consumer_key": "demo-consumer-key",
        "callback": CALLBACK, "created": "2009-11-01T12:29:00Z", "user": "admin", "verifier": VERIFIER}},
    {"op": "add", "path": "/request_tokens/-", "value": {
        "token": NEW_REQUEST_TOKEN, "secret": "example-unapproved-secret", "consumer_key": "demo-consumer-key",
        "callback": CALLBACK, "created": "2009-11-01T12:29:30Z"}},
]

