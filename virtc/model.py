"""The typed model of a virtusertable: entries, their keys and their values.

Keys are classified by the shapes sendmail's virtuser rules look up
(cf/README, proto.m4 ``Parse1``); values by what sendmail does with them
(local user, address, ``error:`` mailer, or something it cannot deliver to).
All text is Latin-1 decoded bytes (see :mod:`virtc.source.reader`).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple, Union

ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # not string.ascii_uppercase: importing string costs start-up time
_ASCII_LOWER = str.maketrans(ASCII_UPPER, ASCII_UPPER.lower())

BLANKS = " \t\r\x0b\x0c"
"""What separates a key from its value: the grammar's ``SEP`` (C's isspace() but the newline)."""

MAXNAME = 256
"""sendmail truncates lookup keys to this many bytes (``conf.h`` MAXNAME)."""


def says_not_found(value: str) -> bool:
    """Whether ``value``, as written, is sendmail's "not found" answer: a lone '@' (go on to
    the next key) or '!' (stop there), blanks around it."""
    return value.strip(BLANKS) in ("@", "!")


def fold(text: str) -> str:
    """Lower-case ASCII letters only, as makemap and sendmail do (``\\xc9`` stays)."""
    if text.isascii():
        return text.lower()
    try:  # (bytes.lower folds ASCII only: in C, where a translate table is a lookup a character)
        return text.encode("latin-1").lower().decode("latin-1")
    except UnicodeEncodeError:  # (beyond Latin-1: not from a source's bytes)
        return text.translate(_ASCII_LOWER)


class KeyKind(Enum):
    """The key shapes sendmail's virtuser lookups can hit, in lookup-precedence order."""

    ADDRESS = "user@domain"  # also user+detail@domain: matches that exact address only
    USER_PLUS = "user++@domain"  # user+DETAIL@domain, DETAIL non-empty
    USER_ANY = "user+*@domain"  # user+DETAIL@domain, DETAIL may be empty
    DOMAIN_PLUS = "++@domain"  # anyone+DETAIL@domain, DETAIL non-empty
    DOMAIN_ANY = "+*@domain"  # anyone+DETAIL@domain
    CATCH_ALL = "@domain"  # anything else in the domain
    UNMATCHABLE = "never looked up"


class Key(NamedTuple):
    """A key split the way sendmail builds its lookup keys."""

    text: str
    """As written in the source."""
    kind: KeyKind
    user: str
    """Local part without the wildcard suffix ('' for domain-wide keys)."""
    domain: str
    """The part after the last '@' (as written; compare with :func:`fold`)."""
    reason: str = ""
    """For UNMATCHABLE keys: why sendmail never looks this key up."""

    @classmethod
    def parse(cls, text: str) -> Key:
        local, at, domain = text.rpartition("@")
        if not at:
            return cls(text, KeyKind.UNMATCHABLE, text, "", "it has no '@'")
        if not domain:
            return cls(text, KeyKind.UNMATCHABLE, local, "", "its domain is empty")
        if local == "":
            return cls(text, KeyKind.CATCH_ALL, "", domain)
        if local == "++":
            return cls(text, KeyKind.DOMAIN_PLUS, "", domain)
        if local == "+*":
            return cls(text, KeyKind.DOMAIN_ANY, "", domain)
        if local.endswith("++") and not local.startswith("+") and "+" not in local[:-2]:
            return cls(text, KeyKind.USER_PLUS, local[:-2], domain)
        if local.endswith("+*") and not local.startswith("+") and "+" not in local[:-2]:
            return cls(text, KeyKind.USER_ANY, local[:-2], domain)
        return cls(text, KeyKind.ADDRESS, local, domain)

    @property
    def folded_domain(self) -> str:
        return fold(self.domain)


class ValueKind(Enum):
    """What sendmail does with a value (right-hand side)."""

    LOCAL = "local user"
    ADDRESS = "address"
    ERROR = "error"
    OTHER = "other"  # programs, files, lists, several words, empty: see lint rule VT202


# error:D.S.N:TEXT  or  error:STATUS TEXT  (proto.m4; tokens are case-insensitive
# and sendmail's tokenizer ignores blanks between them).
_ERROR_DSN = re.compile(r"(?i)error[ \t]*:[ \t]*(\d+)[ \t]*\.[ \t]*(\d+)[ \t]*\.[ \t]*(\d+)[ \t]*:(.*)", re.S)
_ERROR_WORD = re.compile(r"(?i)error[ \t]*:[ \t]*([^\s:\"]+)[ \t]*(.*)", re.S)


class ErrorValue(NamedTuple):
    """An ``error:`` value decoded into its parts."""

    status: str
    """The status token as written: a DSN ``5.1.1`` or a name like ``nouser``."""
    text: str
    """The message part, which should start with a 3-digit SMTP reply code."""
    dsn_form: bool
    """True for ``error:D.S.N:TEXT``, False for ``error:STATUS TEXT``."""


def one_recipient(stripped: str) -> bool:
    """Whether a value (trailing blanks stripped) that is no ``error:`` is one local name or
    address (:class:`Value`'s LOCAL or ADDRESS): not empty, no program, file, quoted name,
    ``:include:`` or list, not starting with '@'."""
    return bool(stripped) and stripped[0] not in "|/\"@" and _LIST.search(stripped) is None and \
        stripped[:9].lower() != ":include:"


_LIST = re.compile("[, \t]")


class Value(NamedTuple):
    """A value, as written, with its classification."""

    text: str
    kind: ValueKind
    error: ErrorValue | None = None

    @classmethod
    def parse(cls, text: str) -> Value:
        stripped = text.rstrip(BLANKS)
        if stripped[:5].lower() == "error":
            if m := _ERROR_DSN.fullmatch(stripped):
                status = ".".join(m.group(1, 2, 3))
                return cls(text, ValueKind.ERROR, ErrorValue(status, m.group(4).strip(), True))
            if m := _ERROR_WORD.fullmatch(stripped):
                return cls(text, ValueKind.ERROR, ErrorValue(m.group(1), m.group(2).strip(), False))
        if not one_recipient(stripped):
            return cls(text, ValueKind.OTHER)
        if "@" in stripped:
            return cls(text, ValueKind.ADDRESS)
        return cls(text, ValueKind.LOCAL)


class Entry(NamedTuple):
    """One ``KEY VALUE`` line makemap stores."""

    key_text: str
    value_text: str
    line: int
    column: int
    """Column of the key (1 except for the rest of an over-long line)."""
    value_column: int
    seq: int
    """makemap's line counter for this record (used in its messages)."""

    @property
    def stored_key(self) -> str:
        """The key as makemap stores it by default (ASCII letters folded)."""
        return fold(self.key_text)

    @property
    def key(self) -> Key:
        return Key.parse(self.key_text)

    @property
    def value(self) -> Value:
        return Value.parse(self.value_text)

    @property
    def end_column(self) -> int:
        """Column just past the value (exclusive, 1-based)."""
        return self.value_column + len(self.value_text)


class Comment(NamedTuple):
    """A line starting with '#' (the only kind of comment makemap knows)."""

    text: str
    line: int


class Rejected(NamedTuple):
    """A record makemap rejects (reported as VT001 syntax-error)."""

    reason: str
    """Short stable reason: too-long, nul, leading-space, missing-value."""
    message: str
    line: int
    column: int
    end_column: int
    seq: int
    key_text: str | None = None
    """For missing-value: the key makemap names in its message."""


Item = Union[Entry, Comment, Rejected]
