"""Atom XML on the wire, the parts every service shares: the one hardened parser
(safe.py), the XSDs of xsd/ compiled (schemas.py), the namespaces (namespaces.py), the
helpers request decoders read with (reader.py) and renderers write with (writer.py,
client_entries.py).

Each service's own XML, its request decoders and answer renderers, is its
`services/*/atom.py`. Nothing in here knows about storage or HTTP.
"""
