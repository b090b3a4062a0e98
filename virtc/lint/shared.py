"""What several rules share about values and fixes (rules never import each other)."""

from __future__ import annotations

import re

from virtc.model import BLANKS

ACCESS_ACTIONS = frozenset({"reject", "discard", "relay", "ok"})
"""access-map results that mean nothing special in a virtusertable (a local user of that name)."""


ACCESS_ACTION = re.compile(f"\n(?i:reject|discard|relay|ok)[{BLANKS}]*(?=\n)")


ERROR_WORD_AT = r"[\"']*[^\S\n]*(?i:error)(?=[\s:;=\"'])"
"""Values :func:`misspelt_error` may object to (after a value's newline in a column)."""


DOMAIN_ALIAS = re.compile(f"[{BLANKS}]*%1(?:%3)?@([A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*)[{BLANKS}]*")
"""A domain alias's catch-all value, ``%1@other`` (``%1%3@other``): group 1 is ``other``."""


LOCAL_USER = re.compile(f"[{BLANKS}]*[^@%!:{BLANKS}\"<>(),;\\\\]+[{BLANKS}]*")
"""A value sendmail delivers to the one local user it names: no address, %N, hack or list
(and no ``error:``, which holds a ':')."""


NAMES_NOTHING = re.compile("[^@%!\n]*")
"""A value that names no address and has no %N (an error, a local user): the same outcome for
every address that reaches it without a '+detail'."""


REPLY = re.compile(r"([0-9]{3}) ")


NON_ERROR = re.compile(r"(?i)[\"']*\s*error(?=[\s:;=\"']|$)")


def misspelt_error(text: str) -> str | None:
    """Why a value that sendmail does not read as ``error:`` looks like a reject, or None."""
    word = text.rstrip(BLANKS)
    if word.lower() in ACCESS_ACTIONS:
        return (f"'{word}' is an access-map action, not a virtusertable one: sendmail delivers to a "
                f"local user named '{word}'")
    if NON_ERROR.match(word):
        if word[0] in "\"'":
            return ("the quotes make it one quoted local user name: sendmail accepts the address "
                    "instead of rejecting it")
        if word[5:].lstrip().startswith(":"):
            return ("after 'error:' sendmail expects a status ('5.1.1:' or a name such as 'nouser'), "
                    "not a quote: it rejects with a garbled '553 5.3.0' reply; write "
                    "'error:5.x.x:550 text'")
        return ("without a ':' right after 'error' it is not a reject: sendmail joins the words into "
                "a local user name and accepts the address")
    return None


INLINE_COMMENT = re.compile(r"[ \t\x0b\x0c]+#")


def comment_start(text: str) -> int | None:
    """Offset of the whitespace before an inline ``#`` comment in a value, or None."""
    if "#" not in text:
        return None
    m = INLINE_COMMENT.search(text)
    return m.start() if m else None


def under_entire_domain(name: str, parents: frozenset[str]) -> bool:
    """Whether ``name`` is a subdomain of one of ``parents`` (``a.b.example`` of
    ``b.example``): virtuser_entire_domain looks its keys up. A set lookup per dot of
    ``name``, not a comparison per parent (#18: 25k domains against 2.5k VirtHost domains
    took 6 s)."""
    dot = name.find(".")
    while dot >= 0:
        if name[dot + 1:] in parents:
            return True
        dot = name.find(".", dot + 1)
    return False
