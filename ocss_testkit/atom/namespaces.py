ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"

A = "{%s}" % ATOM
O = "{%s}" % OC  # noqa: E741 - mirrors A

# Used to turn Clark notation into the prefixes people read in the docs.
PREFIXES = {ATOM: "atom", OC: "oc"}


def readable(text: str) -> str:
    for uri, prefix in PREFIXES.items():
        text = text.replace("{%s}" % uri, prefix + ":")
    return text
