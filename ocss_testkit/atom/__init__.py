"""Atom XML on the wire: hardened parsing, XSD validation, request decoding, rendering.

Nothing in here knows about storage or HTTP; it turns bytes into domain values and
domain values into bytes.
"""
