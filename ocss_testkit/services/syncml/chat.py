"""The SyncML messages of a simulated session, as the admin chatlog (003) shows them.

SyncML 1.2 (OMA DS) message shapes, kept small: the phone's alert per datastore, the
server's status and alert answers, and the closing sync. Pure functions of the session.
"""
from __future__ import annotations

from xml.sax.saxutils import escape


def _header(session_id: int, msg_id: int, source: str, target: str) -> str:
    return ("<SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto>"
            f"<SessionID>{session_id}</SessionID><MsgID>{msg_id}</MsgID>"
            f"<Target><LocURI>{escape(target)}</LocURI></Target>"
            f"<Source><LocURI>{escape(source)}</LocURI></Source></SyncHdr>")


def session_messages(session, client) -> list[tuple[str, str]]:
    """[(direction, xml)] for one session: `from-phone` / `to-phone`."""
    phone = f"IMEI:{client.imei}" if client.imei else f"tel:{client.phone_number}"
    server = "http://sync.obexcode.com/syncml"
    alert_code = {"slow": 201, "two-way": 200}
    phone_alerts = "".join(
        f"<Alert><CmdID>{i}</CmdID><Data>{alert_code[s.sync_type]}</Data><Item>"
        f"<Target><LocURI>{escape(s.dataclass.lower())}</LocURI></Target>"
        f"<Source><LocURI>{escape(s.name)}</LocURI></Source></Item></Alert>"
        for i, s in enumerate(session.datastores, start=1))
    first = f"<SyncML>{_header(session.id, 1, phone, server)}<SyncBody>{phone_alerts}<Final/></SyncBody></SyncML>"
    if session.outcome != "ok":
        answer = (f"<SyncML>{_header(session.id, 1, server, phone)}<SyncBody><Status><CmdID>1</CmdID>"
                  f"<MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>401</Data></Status>"
                  f"<Final/></SyncBody></SyncML>")
        return [("from-phone", first), ("to-phone", answer)]
    statuses = "".join(
        f"<Status><CmdID>{i}</CmdID><MsgRef>1</MsgRef><CmdRef>{i}</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>"
        for i, _ in enumerate(session.datastores, start=1))
    second = f"<SyncML>{_header(session.id, 1, server, phone)}<SyncBody>{statuses}<Final/></SyncBody></SyncML>"
    syncs = "".join(
        f"<Sync><CmdID>{i}</CmdID><Target><LocURI>{escape(s.dataclass.lower())}</LocURI></Target>"
        f"<Source><LocURI>{escape(s.name)}</LocURI></Source></Sync>"
        for i, s in enumerate(session.datastores, start=1))
    third = f"<SyncML>{_header(session.id, 2, phone, server)}<SyncBody>{syncs}<Final/></SyncBody></SyncML>"
    fourth = (f"<SyncML>{_header(session.id, 2, server, phone)}<SyncBody>"
              f"<Status><CmdID>1</CmdID><MsgRef>2</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>"
              f"<Final/></SyncBody></SyncML>")
    return [("from-phone", first), ("to-phone", second), ("from-phone", third), ("to-phone", fourth)]
