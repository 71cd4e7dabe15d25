"""Parsing untrusted XML: no DTDs, no entities, no network, bounded depth.

lxml never fetches or expands anything with these settings; a document that even
declares a DOCTYPE is refused outright, so XXE, billion laughs and external DTDs all
end in the same fast 400.

Which encoding a body is read in (RFC 7303 §3.2, "XML MIME consumers", and §3.3 on the
byte order mark), in this order of precedence:

1. a byte order mark (UTF-8, UTF-16 or UTF-32, either byte order) decides;
2. otherwise the `charset` parameter of the Content-Type decides, over any encoding the
   document's own XML declaration names;
3. otherwise the document decides as XML 1.0 §4.3.3 and Appendix F say: its XML
   declaration, else UTF-8 (or UTF-16 recognised from the first bytes).

With a charset, the body is decoded here (Python's codecs; by its mark if it has one) and
handed to the parser as UTF-8 with the parser told so, so that a contrary declaration
cannot switch the encoding back. Without one, libxml2 reads the mark, the declaration or
UTF-8 by itself, as it always did. A `charset` no codec knows (or one that is no character
encoding, such as `base64` or `idna`) is `UnsupportedCharset`, which the application
answers with 415; bytes that are not text in the encoding that applies are a 400.

Namespaces in XML 1.0 are enforced in full (§3 "Reserved Prefixes and Namespace Names":
`xml` bound only to its own namespace name, `xmlns` never declared, neither namespace name
bound to another prefix or made the default, no `xmlns:p=""`; undeclared prefixes;
attributes repeated under two prefixes of one namespace): libxml2 refuses all of these when
it parses without a schema, which is why validation is a second pass (schemas.py). It
accepts one more case silently, a start tag declaring `xmlns:xml` twice; expat, from the
standard library, checks any document that declares `xmlns:xml` at all.

Memory: libxml2 keeps every name it parses in a dictionary per thread that lxml never
frees while the thread lives; a thread gets a fresh one after each `DICTIONARY_BUDGET`
bytes of bodies it parsed (see `_names_parsed`), so no input grows memory without bound.
"""
from __future__ import annotations

import codecs
import ctypes
import re
import threading
import xml.parsers.expat

from lxml import etree

from ocss_testkit.atom.namespaces import readable

DEFAULT_MAX_DEPTH = 32
DICTIONARY_BUDGET = 64 * 1024  # bytes of bodies a thread parses before its name dictionary is replaced


class XMLRejected(Exception):
    """The body is not acceptable XML; the message says why, for a human."""


class EmptyBody(XMLRejected):
    pass


class UnsupportedCharset(XMLRejected):
    """The Content-Type names a charset that cannot be decoded (RFC 7303 §3.2): a 415."""


_local = threading.local()

# RFC 7303 §3.3 and XML 1.0 Appendix F. UTF-32 first: its little-endian mark starts
# with UTF-16's.
BYTE_ORDER_MARKS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
                    (b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
# Without a mark, RFC 2781 §4.3 reads UTF-16 as big-endian (UTF-32 alike); Python's plain
# codecs would take the machine's byte order.
_WITHOUT_MARK = {"utf-16": "utf-16-be", "utf-32": "utf-32-be"}
# Codecs Python knows that are no charset of a MIME body: they would turn escapes or
# punycode into markup.
_NOT_CHARSETS = {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}
# RFC 2978 §2.3: a charset name is at most 40 characters of these.
_CHARSET_NAME = re.compile(r"[A-Za-z0-9!#$%&'+\-^_`{}~]{1,40}")
# A media type parameter (RFC 9110 §5.6.6): name=token or name="quoted string".
_PARAMETER = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def charset_of(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type header value, lower-cased; None without one.

    Raises UnsupportedCharset (→ 415) for a name no codec decodes, and XMLRejected (→ 400)
    for a charset given twice ("It is an error for a specific parameter to be specified more
    than once", RFC 6838 §4.3).
    """
    if not content_type or ";" not in content_type:
        return None
    found = [value.strip().strip('"').strip() for name, value in _PARAMETER.findall(content_type)
             if name.lower().rstrip("*") == "charset"]
    if not found:
        return None
    if len(found) > 1:
        raise XMLRejected(f"the Content-Type gives charset {len(found)} times ({_shown(', '.join(found))}): "
                          "give it once")
    name = found[0]
    if not name:
        return None
    if not _CHARSET_NAME.fullmatch(name):
        raise UnsupportedCharset(f"charset {_shown(name)} is not a charset name (RFC 2978); send UTF-8")
    try:
        codec = codecs.lookup(name)
    except LookupError:
        codec = None
    if codec is None or not getattr(codec, "_is_text_encoding", True) or codec.name in _NOT_CHARSETS:
        raise UnsupportedCharset(f'charset "{name}" is not supported (RFC 7303 §3.2); send UTF-8, '
                                 "or a registered charset such as ISO-8859-1")
    return name.lower()


def _shown(text: str, limit: int = 60) -> str:
    text = repr(text)
    return text if len(text) <= limit else text[:limit] + "…"


def decoded(body: bytes, charset: str | None) -> tuple[bytes, bool]:
    """The body as the parser must read it: (bytes, True) when they are UTF-8 whatever the
    document declares, (body, False) when the document itself decides (no mark, no charset).

    Raises XMLRejected when the bytes are not text in the encoding that applies.
    """
    for mark, codec in BYTE_ORDER_MARKS:
        if body.startswith(mark):
            if charset is None:
                return body, False  # the mark decides, and the parser reads it too
            return _transcoded(body[len(mark):], codec, "the byte order mark"), True
    if charset is None:
        return body, False
    try:
        codec = codecs.lookup(charset).name
    except LookupError:  # a caller that skipped charset_of
        raise UnsupportedCharset(f"charset {_shown(charset)} is not supported (RFC 7303 §3.2); send UTF-8") from None
    if codec == "utf-8":
        return body, True  # the parser checks UTF-8 itself
    return _transcoded(body, _WITHOUT_MARK.get(codec, codec), f"charset {charset}"), True


def _transcoded(data: bytes, codec: str, source: str) -> bytes:
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise XMLRejected(f"the body is not {codec} text as {source} says: {exc.reason} at byte {exc.start}") \
            from None


def hardened_parser(schema: etree.XMLSchema | None = None, encoding: str | None = None) -> etree.XMLParser:
    """A parser that resolves, loads and fetches nothing; `encoding` overrides whatever the
    document declares. With a schema, it also validates, but then libxml2 lets namespace
    errors pass: `parse` uses none."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False,
                           schema=schema, encoding=encoding)


def _parser(utf8: bool) -> etree.XMLParser:
    # lxml parsers must not be shared between threads.
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(utf8)
    if parser is None:
        parser = parsers[utf8] = hardened_parser(encoding="utf-8" if utf8 else None)
    return parser


def precheck(body: bytes, what: str = "the request body") -> None:
    if not body or not body.strip():
        raise EmptyBody(f"{what} is empty")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise XMLRejected("DOCTYPE and entity declarations are not accepted")


def postcheck(root: etree._Element, max_depth: int) -> None:
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # other encodings than the byte scan saw
        raise XMLRejected("DOCTYPE and entity declarations are not accepted")
    _check_depth(root, max_depth)


def parse(body: bytes, max_depth: int = DEFAULT_MAX_DEPTH, charset: str | None = None,
          what: str = "the request body") -> etree._Element:
    """The root element of a request body, read as RFC 7303 says (see the module).

    `charset` is the Content-Type's, as `charset_of` returns it. `what` names the body in
    messages: "the response body" when a client reads what a server answered (the contract
    suite does, every answer being untrusted), under the same rules. No bound on the body's
    size here (the caller's: the application refuses request bodies over its max_body);
    libxml2 refuses a single text node over 10 MB (XML_MAX_TEXT_LENGTH). Raises EmptyBody or
    XMLRejected, with a message naming the fault and, from the parser, its line and column.
    """
    data, utf8 = decoded(body, charset)
    precheck(data, what)
    try:
        try:
            root = etree.fromstring(data, _parser(utf8))
        except etree.XMLSyntaxError as exc:
            raise XMLRejected(_syntax_message(exc)) from None
        except ValueError as exc:  # e.g. unsupported encodings
            raise XMLRejected(f"malformed XML: {exc}") from None
        postcheck(root, max_depth)
    finally:
        _names_parsed(len(data))  # a refused body's names were interned too
    _check_xml_prefix(data, utf8, root.getroottree().docinfo.encoding)
    return root


# --- libxml2's name dictionary ---------------------------------------------------------------
# libxml2 interns every element and attribute name, prefix, namespace name and PI target
# it parses in a dictionary; lxml gives each thread one (parser.pxi, `_ParserDictionaryContext`,
# kept in the thread's state dictionary) and frees it only when the thread ends and no tree
# parsed into it is left. It forces `dictNames` on and exposes no XML_PARSE_NODICT (which
# would not help: libxml2's parser interns names in its dictionary either way), and no
# dictionary limit stops it (with huge_tree off, 20,000 distinct 2 KiB names grew one by
# 40 MB). Anyone who may POST could grow it forever: ten signed bodies of 50,000 distinct
# names, all refused, added 44 MB over HTTP. Vetting names before parsing cannot bound it:
# every request schema admits names it does not list (xs:any in atom:entry, and anything
# at all inside content-item's skipped Atom elements), so distinct valid names still pile
# up request after request. (Text and attribute values are not interned: measured flat.)
#
# So a thread's dictionary is replaced after it has parsed DICTIONARY_BUDGET bytes: the
# entry is dropped from the thread's state, with the parsers and XPath objects cached here
# (each holds a reference), and the next parse starts a new one. The old dictionary is
# freed with the last tree that points into it: at the end of the request. A dictionary
# holds at most ~8 bytes per byte of the bodies behind it (`<abcd/>` names: 54 B each), so
# a thread's stays under ~0.5 MB, plus ~8 bytes per byte of the body a request is parsing.
# In the main thread the entry is lxml's global context: dropped all the same, it keeps
# only what was parsed before (the schemas, at most one budget).
# Measured (lxml 6.1.3, libxml2 2.14.6), 60 bodies of 10,000 distinct names each: RSS +24 MB
# in the main thread and +39 MB in another as shipped before, +1.7 and +0.7 MB with this;
# the ten signed bodies above, in-process: +20.6 MB before, +1.5 MB with this
# (tests/test_hardening_growth.py). A new parser costs ~10 µs once per 64 KiB parsed. The
# alternative measured, parsing in a worker thread retired at the budget (its dictionary
# is freed at thread exit too), costs ~70 µs per parse for the hand-off, 3x the parse of a
# 2 KB entry.
_LXML_CONTEXT = "_ParserDictionaryContext"
_thread_state_dict = ctypes.pythonapi.PyThreadState_GetDict
# A borrowed reference: restype py_object would make ctypes drop a reference it never had.
_thread_state_dict.restype, _thread_state_dict.argtypes = ctypes.c_void_p, ()


def _thread_state() -> dict:
    """The running thread's state dictionary (PyThreadState_GetDict), where lxml keeps its context."""
    return ctypes.cast(_thread_state_dict(), ctypes.py_object).value


def _names_parsed(size: int) -> None:
    parsed = getattr(_local, "parsed", 0) + size
    if parsed >= DICTIONARY_BUDGET:
        fresh_name_dictionary()
        parsed = 0
    _local.parsed = parsed


def fresh_name_dictionary() -> bool:
    """Give the running thread a new libxml2 name dictionary from its next parse on; the
    old one is freed with the last tree parsed into it (and a parser set with
    `etree.set_default_parser` in this thread goes with it). False if lxml keeps no context
    where this looks (another lxml design): then nothing is freed."""
    _local.parsers = None
    _local.depth_finders = None
    return _thread_state().pop(_LXML_CONTEXT, None) is not None


# libxml2 names the fault ("xml namespace prefix mapped to wrong URI"); the rule it breaks:
_NAMESPACE_RULES: dict[int, str] = {  # keyed by libxml2 error code (XMLSyntaxError.code)
    etree.ErrorTypes.NS_ERR_XML_NAMESPACE: "Namespaces in XML 1.0 §3: the prefixes xml and xmlns and their "
                                           "namespace names are reserved, and a prefix is never bound to an "
                                           "empty name",
    etree.ErrorTypes.NS_ERR_UNDEFINED_NAMESPACE: "Namespaces in XML 1.0 §5: every prefix used is declared",
    etree.ErrorTypes.NS_ERR_QNAME: "Namespaces in XML 1.0 §4: a qualified name has at most one colon, "
                                   "with a name on each side",
    etree.ErrorTypes.NS_ERR_ATTRIBUTE_REDEFINED: "Namespaces in XML 1.0 §6.3: no two attributes of an element "
                                                 "have the same namespace and local name",
}


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    rule = _NAMESPACE_RULES.get(exc.code)
    if rule is not None:
        return f"namespace error: {exc.msg or exc} ({rule})"
    return f"malformed XML: {exc.msg or exc}"


def _check_xml_prefix(data: bytes, utf8: bool, declared: str | None) -> None:
    """libxml2 keeps no trace of `xmlns:xml` declarations (the prefix is predeclared), so it
    misses one declared twice in a tag; expat sees it. Only documents that declare
    `xmlns:xml` pay for the second parse."""
    text = data if utf8 else _as_utf8(data, declared)
    if b"xmlns:xml" not in text:
        return
    checker = xml.parsers.expat.ParserCreate(encoding="UTF-8", namespace_separator=" ")
    try:
        checker.Parse(text, True)
    except xml.parsers.expat.ExpatError as exc:
        raise XMLRejected(f"namespace error: {xml.parsers.expat.ErrorString(exc.code)}, line {exc.lineno}, "
                          f"column {exc.offset + 1} (Namespaces in XML 1.0 §3; XML 1.0 §3.1, "
                          "'Unique Att Spec')") from None


# XML 1.0 Appendix F: the first bytes of a document without a mark.
_SNIFFED = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
            (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"))


def _as_utf8(data: bytes, declared: str | None) -> bytes:
    """The document the parser read by itself (mark, first bytes, declaration), as UTF-8.
    An encoding Python does not know leaves the bytes as they are: the search for
    `xmlns:xml` then still works for every ASCII-compatible one."""
    codec, start = declared or "utf-8", 0
    for mark, name in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            codec, start = name, len(mark)
            break
    else:
        for head, name in _SNIFFED:
            if data.startswith(head):
                codec = name
                break
    if codecs.lookup("utf-8").name == _codec_name(codec) and start == 0:
        return data
    try:
        return data[start:].decode(codec).encode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return data


def _codec_name(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _check_depth(root: etree._Element, max_depth: int) -> None:
    # One compiled XPath per depth and thread (lxml evaluators are not shared across
    # threads): finding an element one level too deep runs in C, ~5 µs for a 2 KB entry.
    # Entity references cannot occur: a DOCTYPE is refused, so any `&name;` fails to parse.
    finders = getattr(_local, "depth_finders", None)
    if finders is None:
        finders = _local.depth_finders = {}
    finder = finders.get(max_depth)
    if finder is None:
        finder = finders[max_depth] = etree.XPath("/*" + "/*" * max_depth)
    too_deep = finder(root)
    if too_deep:
        raise XMLRejected(f"XML nested deeper than {max_depth} levels at {readable(too_deep[0].tag)}")
