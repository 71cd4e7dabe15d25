"""The SyncML messages of a simulated session as XML, as the admin chatlog shows them
(SyncML API, 'Chatlog'): the XML layer of `sessions.ChatMessage`.

SyncML 1.2 (OMA DS) message shapes, kept small: the phone's alert per datastore, the
server's status and alert answers, and the closing sync. Pure functions of the data.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from ocss_testkit.services.syncml.sessions import ChatMessage, SessionStore


def _header(session_id: int, msg_id: int, source: str, target: str) -> str:
    return ("<SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto>"
            f"<SessionID>{session_id}</SessionID><MsgID>{msg_id}</MsgID>"
            f"<Target><LocURI>{escape(target)}</LocURI></Target>"
            f"<Source><LocURI>{escape(source)}</LocURI></Source></SyncHdr>")


def message_xml(message: ChatMessage) -> str:
    """The text of one chatlog message: as recorded, or written from its data."""
    if message.recorded is not None:
        return message.recorded
    return _exchange(message.session_id, message.phone, message.outcome, message.datastores)[message.number - 1]


def _exchange(session_id: int, phone: str, outcome: str, datastores: tuple[SessionStore, ...]) -> list[str]:
    """Every message of one session, in order."""
    server = "http://sync.obexcode.com/syncml"
    alert_code = {"slow": 201, "two-way": 200}
    phone_alerts = "".join(
        f"<Alert><CmdID>{i}</CmdID><Data>{alert_code[s.sync_type]}</Data><Item>"
        f"<Target><LocURI>{escape(s.dataclass.lower())}</LocURI></Target>"
        f"<Source><LocURI>{escape(s.name)}</LocURI></Source></Item></Alert>"
        for i, s in enumerate(datastores, start=1))
    first = f"<SyncML>{_header(session_id, 1, phone, server)}<SyncBody>{phone_alerts}<Final/></SyncBody></SyncML>"
    if outcome != "ok":
        answer = (f"<SyncML>{_header(session_id, 1, server, phone)}<SyncBody><Status><CmdID>1</CmdID>"
                  f"<MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>401</Data></Status>"
                  f"<Final/></SyncBody></SyncML>")
        return [first, answer]
    statuses = "".join(
        f"<Status><CmdID>{i}</CmdID><MsgRef>1</MsgRef><CmdRef>{i}</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>"
        for i, _ in enumerate(datastores, start=1))
    second = f"<SyncML>{_header(session_id, 1, server, phone)}<SyncBody>{statuses}<Final/></SyncBody></SyncML>"
    syncs = "".join(
        f"<Sync><CmdID>{i}</CmdID><Target><LocURI>{escape(s.dataclass.lower())}</LocURI></Target>"
        f"<Source><LocURI>{escape(s.name)}</LocURI></Source></Sync>"
        for i, s in enumerate(datastores, start=1))
    third = f"<SyncML>{_header(session_id, 2, phone, server)}<SyncBody>{syncs}<Final/></SyncBody></SyncML>"
    fourth = (f"<SyncML>{_header(session_id, 2, server, phone)}<SyncBody>"
              f"<Status><CmdID>1</CmdID><MsgRef>2</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>"
              f"<Final/></SyncBody></SyncML>")
    return [first, second, third, fourth]
