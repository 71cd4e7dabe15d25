"""The request bodies of the route examples.

The bodies of the documented routes are the API documentation's own request examples,
byte for byte (Google Data Client API, 'Add a new client' and 'Update a client'; SyncML
API, 'Create a new client' and 'Setup and Phone Configuration'); the others are built in
the same style, naming the example world's objects (example_world.py).
"""
from __future__ import annotations

import json

from ocss_testkit.route_examples.example_world import DATASTORE, GDATA, SYNCML

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"


def _entry(inner: str) -> bytes:
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">\n{inner}\n</entry>\n'.encode()


# The API documentation's request examples, byte for byte (a test compares them with the
# verbatim copies in contracts/doc_examples/).
GDATA_CREATE = b"""<entry xmlns="http://www.w3.org/2005/Atom">
  <client xmlns="http://schemas.obexcode.com/syncserver/2009">
    <user_id>some_user@gmail.com</user_id>
    <datastore dataclass="Calendar" href="http://google_something.com/some_user@gmail.com/calendar#Test" name="Calendar">
      <token>
        <token_type>2</token_type>
        <key>secret_key</key>
        <secret>secret_secret</secret>
        <scope>http://google_something.com/some_user@gmail.com/calendar#Test</scope>
      </token>
    </datastore>
  </client>
</entry>
"""  # noqa: E501 - the documentation's example, byte for byte
GDATA_UPDATE = b"""<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">
  <oc:client>
    <oc:user_id>some_user@gmail.com</oc:user_id>
    <oc:datastore dataclass="Contacts" href="http://google_something.com/some_user@gmail.com#Friends" name="Contacts">
      <oc:token>
        <oc:token_type>2</oc:token_type>
        <oc:key>secret_key</oc:key>
        <oc:secret>secret_secret</oc:secret>
        <oc:scope>http://google_something.com/some_user@gmail.com#Friends</oc:scope>
      </oc:token>
    </oc:datastore>
  </oc:client>
</entry>
"""
SYNCML_CREATE = b"""<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">
  <oc:client>
    <oc:phone_number>+4798765432</oc:phone_number>
    <oc:model_uuid>02978288-537f-102b-beff-000ea60275d1</oc:model_uuid>
    <oc:timezone>Europe/Paris</oc:timezone>
  </oc:client>
</entry>
"""
SYNCML_SETUP = b"""<entry xmlns="http://www.w3.org/2005/Atom"
       xmlns:oc="http://schemas.obexcode.com/syncserver/2009">
  <oc:pincode>1234</oc:pincode>
</entry>
"""
# The same update on the collection URL: the client named by oc:uuid (Google Data Client
# API, 'Update a client').
GDATA_UPDATE_BY_UUID = GDATA_UPDATE.replace(b"  <oc:client>\n",
                                            f"  <oc:client>\n    <oc:uuid>{GDATA}</oc:uuid>\n".encode())
DETECT = _entry("  <oc:phone_number>+4790066951</oc:phone_number>")
BINDING = _entry(f"  <oc:binding>\n    <oc:source>{SYNCML}</oc:source>\n    <oc:target>{DATASTORE}</oc:target>\n"
                 "  </oc:binding>")
BINDING_UPDATE = _entry(f"  <oc:binding>\n    <oc:source>{SYNCML}</oc:source>\n    <oc:target>{DATASTORE}</oc:target>\n"
                        "    <oc:dominant>target</oc:dominant>\n  </oc:binding>")
ACTIVESYNC_CREATE = _entry("  <oc:client>\n    <oc:username>alice@example.com</oc:username>\n"
                           "    <oc:password>first-secret</oc:password>\n  </oc:client>")
ACTIVESYNC_UPDATE = _entry("  <oc:client>\n    <oc:old_pass>old-secret</oc:old_pass>\n"
                           "    <oc:password>new-secret</oc:password>\n  </oc:client>")
DATASTORE_CREATE = _entry("  <oc:client>\n    <oc:name>Notes</oc:name>\n  </oc:client>")
DATASTORE_UPDATE = _entry("  <oc:client>\n    <oc:name>Address book (work)</oc:name>\n  </oc:client>")
CONTENT_CREATE = _entry("  <title>Kari Nordmann</title>\n"
                        "  <content type=\"text/x-vcard\">BEGIN:VCARD\nVERSION:2.1\nN:Nordmann;Kari\n"
                        "TEL;CELL:+4790012345\nEND:VCARD</content>")
CONTENT_UPDATE = _entry("  <title>Ola Nordmann</title>\n"
                        "  <content type=\"text/x-vcard\">BEGIN:VCARD\nVERSION:2.1\nN:Nordmann;Ola\n"
                        "TEL;CELL:+4790066952\nEND:VCARD</content>\n  <oc:dataclass>contacts</oc:dataclass>")


def json_body(value) -> bytes:
    """`value` as an indented JSON body (UTF-8)."""
    return json.dumps(value, indent=2).encode()


SMALL_STATE = {"consumers": [{"key": "demo-consumer-key", "secret": "demo-consumer-secret"}],
               "users": [{"name": "carol", "account_id": 7, "email": "carol@example.com",
                          "consumer_key": "demo-consumer-key", "token": "carol-access-token",
                          "token_secret": "carol-access-secret"}]}
FAULT = {"action": "status", "status": 503, "method": "GET", "path": "/v2/services/syncml/*", "times": 1}

