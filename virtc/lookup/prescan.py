"""sendmail's address tokenizer (``prescan``) on bytes, with its errors and limits.

sendmail reads every address and every virtusertable value with ``prescan``
(``parseaddr.c``): a small state machine over the bytes that splits them into tokens,
drops blanks and ``(comments)``, keeps ``"quoted strings"`` and backslash escapes,
and reports unbalanced brackets. This module models it byte for byte (not line by
line of the C) for the default m4-built cf (``$o`` = ``.:%@!^/[]+``), and adds what
the error mailer makes of an ``error:`` text. Checked against the real sendmail 8.17
(``sendmail -bt`` and ``-bs``) in tests/oracle/test_prescan_oracle.py.

Limits measured with the real sendmail (value of a virtusertable entry, RCPT reply):

* a token of 256 bytes is kept whole; 257 bytes: ``553 5.1.0 ... prescan: token too long``.
* a local name longer than 255 bytes is cut to 255 when the address is built (ubuf).
* the value may hold at most ``MAX_TOKENS`` tokens and ``MAX_BYTES`` token bytes
  (each token counting its terminating NUL); beyond: ``prescan: too many tokens`` or
  ``553 5.1.1 ... Address too long``.
* the byte 0xff is stored as 0x7f (then rejected at RCPT as a non-printable character);
  bytes 0x80-0x9f are sendmail's internal meta characters (unsupported here).

Replies at RCPT for a value sendmail cannot scan: ``553 5.0.0 VALUE... Unbalanced '<'``
(also ``'>'``, ``'"'``, ``'('``, ``')'``); only the first complaint is sent; ``VALUE``
is shortened to 100 bytes + ``...`` + the last 100 bytes when longer than 203 bytes.
The value is still used with the bracket patched (``<bob`` delivers to ``bob`` in
``-bt``), but at RCPT the recipient is refused.

An ``error:`` text goes through the same tokenizer: blanks next to specials are
dropped (``a : b`` -> ``a:b``), runs of blanks become one, comments vanish, quotes and
backslashes are removed from the reply, and SMTP sends each byte with its top bit
cleared (``\\xe9t\\xe9`` -> ``iti``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from virtc.lookup.replies import error_reply

OPERATORS = b".:%@!^/[]+"
"""``$o`` of an m4-built sendmail.cf."""
DELIMITERS = b"()<>,;\r\n"
"""sendmail's fixed ``DELIMCHARS``: always operators (or blanks, for parentheses)."""

MAXNAME = 256
"""Longest token prescan accepts (``conf.h`` MAXNAME)."""
MAX_USER = MAXNAME - 1
"""Longest local name or error text buildaddr keeps (``ubuf``)."""
MAX_TOKENS = 1000
"""Most tokens in one value (``MAXATOM``)."""
MAX_BYTES = MAXNAME + MAX_TOKENS - 5
"""Bytes of tokens, one NUL each, before ``Address too long`` (``PSBUFSIZE - 5``)."""
MAX_SHORT = 203
"""sendmail shortens the address in front of a reply to this (``MAXSHORTSTR``)."""

# Character classes and states (the names of parseaddr.c).
_OPR, _ATM, _QST, _SPC, _ONE = 0, 1, 2, 3, 4
_M, _B = 0o20, 0o40
_TYPE = 0o17
# next state for [state][class of the character]; M: drop the character, B: end the token.
_STATES = (
    (_OPR | _B, _ATM | _B, _QST | _B, _SPC | _M | _B, _ONE | _B),  # after an operator
    (_OPR | _B, _ATM, _QST | _B, _SPC | _M | _B, _ONE | _B),  # in a word
    (_QST, _QST, _OPR, _QST, _QST),  # in a quoted string
    (_OPR, _ATM, _QST, _SPC | _M, _ONE),  # in blanks
    (_OPR, _OPR, _OPR, _OPR, _OPR),  # after a one-character token
)
_NONE = -1


def _classes() -> tuple[int, ...]:
    table = [_ATM] * 256
    for c in b"\t\n\x0b\x0c\r ()":
        table[c] = _SPC
    table[ord('"')] = _QST
    for c in OPERATORS + DELIMITERS:
        if table[c] == _ATM:
            table[c] = _OPR
    return tuple(table)


_CLASS = _classes()


class PrescanError(NamedTuple):
    """One complaint of prescan: ``code``, enhanced ``status`` and ``text`` as sent."""

    code: str
    status: str
    text: str
    fatal: bool = False
    """The value cannot be used at all (sendmail gives up the rewrite)."""

    def reply(self, subject: bytes) -> str:
        """The RCPT reply: ``553 5.0.0 SUBJECT... Unbalanced '<'`` (subject shortened)."""
        return f"{self.code} {self.status} {smtp_text(shorten(subject))}... {self.text}"


UNBALANCED = {c: PrescanError("553", "5.0.0", f"Unbalanced '{c}'") for c in "<>\"()"}
TOKEN_TOO_LONG = PrescanError("553", "5.1.0", "prescan: token too long", fatal=True)
TOO_MANY_TOKENS = PrescanError("553", "5.1.0", "prescan: too many tokens", fatal=True)
ADDRESS_TOO_LONG = PrescanError("553", "5.1.1", "Address too long", fatal=True)
NO_TOKENS_REPLY = "554 5.3.5 buildaddr: no mailer in parsed address"
"""The reply (after the ``<rcpt>... `` prefix) for a value with no tokens at all, e.g. ``()``."""


class Scan(NamedTuple):
    """What prescan makes of some bytes: the tokens, and its complaints in order."""

    source: bytes
    tokens: tuple[bytes, ...]
    errors: tuple[PrescanError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def fatal(self) -> bool:
        """sendmail cannot use it at all: a fatal complaint, or no token (``()``, ``)``)."""
        return not self.tokens or any(e.fatal for e in self.errors)

    def reply(self) -> str | None:
        """The reply sendmail sends at RCPT for this value, None if it scans cleanly.

        The first complaint is sent; a value without tokens and without complaint gives
        :data:`NO_TOKENS_REPLY`.
        """
        if self.errors:
            return self.errors[0].reply(self.source)
        return NO_TOKENS_REPLY if not self.tokens else None


def prescan(data: bytes | str) -> Scan:
    """Tokenise ``data`` as sendmail's prescan does for an external string (remembering
    the last ones up to 4 kB: the rules ask about the same value several times in a row)."""
    return _remembered(data) if len(data) <= 4096 else _prescan(data)


def _prescan(data: bytes | str) -> Scan:
    if isinstance(data, str):
        data = data.encode("latin-1", "replace")
    quick = _scan_words(data)
    return quick if quick is not None else scan_bytes(data)


_remembered = lru_cache(maxsize=1024)(_prescan)


_AWKWARD = re.compile(rb'["\\()\x00\xff]')
"""What only the state machine handles: quotes, escapes, comments, the end byte, 0xff."""
_BLANKS = b"\t\n\x0b\x0c\r "
_OPERATOR_CLASS = re.escape(OPERATORS + b"<>,;")
_TOKEN = re.compile(rb"[^%s%s]+|[%s]" % (re.escape(_BLANKS), _OPERATOR_CLASS, _OPERATOR_CLASS))
"""A word (a run of word bytes) or one operator: prescan's tokens when nothing is awkward."""


def _scan_words(data: bytes) -> Scan | None:
    """prescan for bytes without anything :data:`_AWKWARD` and with balanced ``<>``: one
    regex pass (tested equal to :func:`scan_bytes`); None when the state machine must run."""
    if _AWKWARD.search(data) is not None:
        return None
    tokens = _TOKEN.findall(data)
    if b"<" not in data and b">" not in data and (len(data) <= MAXNAME or (
            max(map(len, tokens), default=0) <= MAXNAME and len(data) + len(tokens) <= MAX_BYTES)):
        return Scan(data, tuple(tokens))  # within the limits: token bytes + NULs <= the bytes
    angles = used = 0
    error = None
    for tok in tokens:
        if tok == b"<":
            angles += 1
        elif tok == b">":
            if angles == 0:
                return None  # dropped, and the words around it glued: the state machine's job
            angles -= 1
        used += len(tok)
        # (MAX_TOKENS is never reached first: a thousand tokens fill MAX_BYTES.)
        if used >= MAX_BYTES:
            error = ADDRESS_TOO_LONG
        elif len(tok) > MAXNAME:
            error = TOKEN_TOO_LONG
        if error is not None:
            # A stray '>' next to the token or an unclosed '<' is complained about
            # first: leave the order of complaints to the state machine.
            return None if b"<" in data or b">" in data else Scan(data, (), (error,))
        used += 1
    return None if angles else Scan(data, tuple(tokens))


def refusal(data: bytes | str) -> str | None:
    """``prescan(data).reply()`` (sendmail's reply at RCPT when prescan refuses ``data``),
    without the tokens where only brackets, quotes and comments can be wrong: a value of
    at most MAXNAME bytes, without NUL, that does not start with a comment (so it has a
    token and no limit is reached). Tested equal to :func:`scan_bytes` (#18: reject texts
    with brackets or a '(ticket #1)' ran the state machine, 50 us each, for every entry)."""
    if isinstance(data, str):
        data = data.encode("latin-1", "replace")
    if len(data) > MAXNAME or b"\x00" in data or data.lstrip(_BLANKS)[:1] in (b"", b"(", b"\\"):
        return prescan(data).reply()
    error = _first_complaint(data)
    return None if error is None else error.reply(data)


def _first_complaint(data: bytes) -> PrescanError | None:
    """The first complaint of the state machine about ``data``'s quotes, comments and angle
    brackets (an escaped byte counts for none: '\\"'), each bracket in order, then what is
    left open at the end: a quote, a comment, an angle."""
    quoted = False
    comments = angles = 0
    for m in _STRUCTURE.finditer(data):
        c = m[0]
        if c[0] == 0x5C:
            continue  # (an escaped byte, or a backslash at the end)
        if c == b'"':
            if not comments:
                quoted = not quoted
        elif quoted:
            continue
        elif c == b"(":
            comments += 1
        elif c == b")":
            if not comments:
                return UNBALANCED[")"]
            comments -= 1
        elif comments:
            continue
        elif c == b"<":
            angles += 1
        elif not angles:  # ('>')
            return UNBALANCED[">"]
        else:
            angles -= 1
    if quoted:
        return UNBALANCED['"']
    if comments:
        return UNBALANCED["("]
    return UNBALANCED["<"] if angles else None


_STRUCTURE = re.compile(rb'\\.|\\\Z|["()<>]', re.DOTALL)
"""A byte escaped by a backslash (or a backslash at the end), or a quote or bracket."""


def scan_bytes(data: bytes) -> Scan:
    """prescan's state machine, byte by byte: the reference :func:`prescan` is tested against."""
    tokens: list[bytes] = []
    errors: list[PrescanError] = []
    used = 0  # bytes of the prescan buffer used, NULs included
    n = len(data)
    p = 0
    c = _NONE
    state = _ATM
    escaped = False
    comments = angles = 0

    def fail(error: PrescanError) -> Scan:
        return Scan(data, (), (*errors, error))

    while True:
        tok = bytearray()
        while True:
            if c != _NONE and not escaped:
                if used >= MAX_BYTES:
                    return fail(ADDRESS_TOO_LONG)
                tok.append(0x7F if c == 0xFF else c)
                used += 1
            c = data[p] if p < n else 0
            p += 1
            if c == 0:
                if state == _QST:
                    errors.append(UNBALANCED['"'])
                    c = ord('"')
                elif comments > 0:
                    errors.append(UNBALANCED["("])
                    c = ord(")")
                elif angles > 0:
                    errors.append(UNBALANCED["<"])
                    c = ord(">")
                else:
                    break
                p -= 1
            if escaped:
                escaped = False
                if comments > 0:
                    c = _NONE
                    continue
                if c != ord("!") or state == _QST:
                    if used >= MAX_BYTES:
                        return fail(ADDRESS_TOO_LONG)
                    tok.append(ord("\\"))
                    used += 1
                    continue
            if c == ord("\\"):
                escaped = True
            elif state == _QST:
                pass
            elif c == ord("("):
                comments += 1
                c = _NONE
            elif c == ord(")"):
                if comments <= 0:
                    errors.append(UNBALANCED[")"])
                    c = _NONE
                else:
                    comments -= 1
            elif comments > 0:
                c = _NONE
            elif c == ord("<"):
                angles += 1
            elif c == ord(">"):
                if angles <= 0:
                    errors.append(UNBALANCED[">"])
                    c = _NONE
                else:
                    angles -= 1
            if c == _NONE:
                continue
            step = _STATES[state][_CLASS[c]]
            state = step & _TYPE
            if step & _M:
                c = _NONE
            if step & _B:
                break
        if tok:
            if used >= MAX_BYTES:
                return fail(ADDRESS_TOO_LONG)
            used += 1
            if len(tokens) >= MAX_TOKENS:
                return fail(TOO_MANY_TOKENS)
            if len(tok) > MAXNAME:
                return fail(TOKEN_TOO_LONG)
            tokens.append(bytes(tok))
        if c == 0:
            return Scan(data, tuple(tokens), tuple(errors))


# -- putting tokens back together -------------------------------------------------------


def is_atom(token: bytes) -> bool:
    """cataddr's test: does the token start with a word character (not ``"``, ``(``, operator)?"""
    c = token[0]
    if c >= 0x80:
        return c >= 0xA0  # 0x80-0x9f are meta characters for sendmail
    return _CLASS[c] == _ATM


def cataddr(tokens: tuple[bytes, ...] | list[bytes], blank: bytes = b" ", limit: int | None = None) -> bytes:
    """Join tokens as sendmail's cataddr: ``blank`` only between two atoms.

    A quoted string is not an atom: ``550 "q" x`` comes back as ``550"q"x``.
    ``limit``: the buffer size, keeping at most ``limit - 1`` bytes (sendmail cuts silently).
    """
    out = bytearray()
    prev = False
    for tok in tokens:
        atom = is_atom(tok)
        if prev and atom:
            out += blank
        out += tok
        prev = atom
    return bytes(out if limit is None else out[:limit - 1])


def strip_quotes(data: bytes) -> bytes:
    """sendmail's stripquotes: drop unescaped ``"`` and the backslash of each escape."""
    out = bytearray()
    escaped = False
    for c in data:
        if escaped:
            out.append(c)
            escaped = False
        elif c == 0x5C:
            escaped = True
        elif c != 0x22:
            out.append(c)
    return bytes(out)


def smtp_text(data: bytes) -> str:
    """The bytes as the SMTP reply carries them: top bit cleared (``é`` -> ``i``)."""
    return data.translate(_SEVEN_BITS).decode("ascii")


_SEVEN_BITS = bytes(c & 0x7F for c in range(256))


def seven_bits(text: str) -> str:
    """Text (Latin-1 decoded bytes) as the SMTP reply carries it: :func:`smtp_text` of a
    ``str``, each character's top bit cleared (characters beyond Latin-1 as they are)."""
    return text.translate(_TOP_BITS)


_TOP_BITS = {c: c & 0x7F for c in range(0x80, 0x100)}


def shorten(data: bytes, limit: int = MAX_SHORT) -> bytes:
    """sendmail's shortenstring: first and last ``(limit - 3) // 2`` bytes around ``...``."""
    if len(data) <= limit:
        return data
    half = (limit - 3) // 2
    return data[:half] + b"..." + data[-half:]


# -- canonify: what an address or value means -----------------------------------------


def _find(tokens: list[bytes], tok: bytes, start: int = 0) -> int:
    try:
        return tokens.index(tok, start)
    except ValueError:
        return -1


def canonify(tokens: tuple[bytes, ...] | list[bytes]) -> list[bytes]:
    """The tokens sendmail's canonify ruleset keeps as the address to route.

    ``Bob <bob@x>`` -> ``bob@x`` (after the last ``<``, up to the next ``>``);
    ``@a,@b:u@c`` -> ``u@c`` (a source route is dropped); trailing ``;`` are dropped;
    ``local:bob`` -> ``bob`` (everything up to the first colon goes unless the address
    has an angle address, starts with ``@``, holds ``::`` or ``[IPv6:``, or is
    ``:include:``). Anything else is kept as is.
    """
    toks = list(tokens)
    lt = _find(toks, b"<")
    marked = not (
        (lt >= 0 and _find(toks, b">", lt) >= 0)
        or toks[:1] == [b"@"]
        or (b"IPv6" in toks and any(toks[i:i + 3] == [b"[", b"IPv6", b":"] for i in range(len(toks))))
        or (b":" in toks and any(toks[i:i + 2] == [b":", b":"] for i in range(len(toks))))
        or toks[:3] == [b":", b"include", b":"]
    )
    colon = _find(toks, b":")
    if not marked and colon >= 0 and toks[-1:] == [b"]"] and _find(toks, b"[", colon) >= 0:
        marked = True  # "remark if leading colon": @host:user@[addr]
    if marked and colon >= 0:
        toks = toks[colon + 1:]
    while toks and toks[-1] == b";":
        toks = toks[:-1]
    if b"<" in toks:
        left = len(toks) - 1 - toks[::-1].index(b"<")
        right = _find(toks, b">", left)
        if right >= 0:
            toks = toks[left + 1:right]
    while toks[:1] == [b"@"]:
        comma, colon = _find(toks, b",", 2), _find(toks, b":", 2)
        if comma >= 0 and comma + 1 < len(toks):
            toks = toks[comma + 1:]
        elif colon >= 0 and colon + 1 < len(toks):
            toks = toks[colon + 1:]
        else:
            break
    return toks


def canonical(data: bytes | str) -> bytes | None:
    """The address sendmail routes for ``data`` (a value or a queried address).

    None when prescan rejects it (then see :func:`prescan` ``.reply()``).
    """
    scan = prescan(data)
    if scan.fatal:
        return None
    return cataddr(canonify(scan.tokens), b".")


# -- the error mailer ---------------------------------------------------------------


def error_text(value: bytes | str) -> bytes | None:
    """For an ``error:`` value, the user text of the error mailer as sendmail builds it.

    ``error:5.1.1:550 a : b`` -> ``550 a:b`` (tokens joined, blanks only between words,
    quotes and backslashes removed). None if the value is not an error value or prescan
    rejects it. The status part (``5.1.1:`` or ``nouser``) is dropped.
    """
    scan = prescan(value)
    toks = list(scan.tokens)
    if scan.fatal or len(toks) < 2 or toks[0].lower() != b"error" or toks[1] != b":":
        return None
    rest = toks[2:]
    first = 6 if len(rest) > 6 and rest[1] == rest[3] == b"." and rest[5] == b":" else 1
    # The rule matches "< error : STATUS TEXT > ...": TEXT ends at its first '>'.
    end = _find(rest, b">", first + 1)
    text = rest[first:] if end < 0 else rest[first:end]
    return strip_quotes(cataddr(text, b" ", MAX_USER + 2))


def rcpt_reply(value: bytes | str) -> str | None:
    """The RCPT reply prescan and the error mailer decide for a virtusertable value.

    A prescan complaint wins, whatever the value (``553 5.0.0 VALUE... Unbalanced '<'``,
    ``553 5.1.0 VALUE... prescan: token too long``); else for an ``error:`` value the
    error mailer's reply with the top bit of each byte cleared; else None (the value is
    an address: what happens to it is :mod:`virtc.lookup.resolve`'s business).
    """
    scan = prescan(value)
    if scan.errors or not scan.tokens:
        return scan.reply()
    text = error_text(value)
    if text is None:
        return None
    toks = list(scan.tokens[2:])
    if len(toks) > 6 and toks[1] == toks[3] == b"." and toks[5] == b":":
        status = smtp_text(b".".join(toks[0:5:2]))
    else:
        status = smtp_text(strip_quotes(toks[0])) if toks else ""
    return error_reply(status, smtp_text(text))


def dequote(word: bytes) -> bytes | None:
    """sendmail's ``dequote`` map (canonify's ``$(dequote $1 $)``): ``word`` without its
    unescaped ``"``, backslashes kept; None (the word stays quoted) when that would not
    scan: a blank, unbalanced ``<>`` or ``()``, a trailing backslash, an odd ``"``, none."""
    out = bytearray()
    angles = comments = quotes = 0
    blank = in_quote = escaped = False
    for c in word:
        if escaped:
            escaped = False
            out.append(c)
            continue
        if c == 0x5C:
            escaped = True
        elif c == 0x28:  # (
            comments += 1
        elif c == 0x29:  # )
            if comments <= 0:
                return None
            comments -= 1
        elif c in b" \t":
            blank = True
        if comments > 0:
            out.append(c)
            continue
        if c == 0x22:
            in_quote = not in_quote
            quotes += 1
            continue
        if c == 0x3C:  # <
            angles += 1
        elif c == 0x3E:  # >
            if angles <= 0:
                return None
            angles -= 1
        out.append(c)
    if angles or comments or escaped or in_quote or not quotes or blank:
        return None
    return bytes(out)


# -- a queried address -----------------------------------------------------------------

OWN_NAME = b"$j"
"""Stands for the host's own name (``$j``) in :func:`lookup_address`."""
_SELF = (b"localhost", b"[127.0.0.1]")


def lookup_address(address: bytes | str, own_name: bytes = OWN_NAME, *, _top: bool = False) -> bytes | None:
    """The address sendmail consults the virtusertable with when ``address`` is queried.

    ``Scott <scott@dom>``, ``<scott@dom>``, ``"scott"@dom``, ``scott (c) @ dom`` and
    ``@relay:scott@dom`` are all looked up as ``scott@dom``: canonify's focus, tokens
    joined with a blank only between two words (``"a b"@dom`` -> ``a b@dom``), quotes
    removed as the map lookup does. ``user@localhost`` (any case) and ``user@[127.0.0.1]``
    are looked up under the host's own name (``own_name``), but not ``user@localhost.``
    (looked up as ``user@localhost``). A lone quoted word is unquoted and read again
    (``"a@dom"`` -> ``a@dom``) when :func:`dequote` can. None when prescan rejects the
    address or it has no ``@``.
    """
    scan = prescan(address)
    if scan.fatal:
        return None
    toks = canonify(scan.tokens)
    if len(toks) == 1 and toks[0].startswith(b'"') and not _top:
        # Parse0 dequotes a lone quoted word and parses it again ("a@b" -> a@b).
        plain = dequote(toks[0])
        return None if plain is None else lookup_address(plain, own_name, _top=True)
    if b"@" not in toks:
        return None
    at = len(toks) - 1 - toks[::-1].index(b"@")
    local, domain = toks[:at], toks[at + 1:]
    own = cataddr(domain, b" ").lower() in _SELF  # not with a trailing dot
    while domain[-1:] == [b"."]:
        domain = domain[:-1]
    if not local or not domain:
        return None
    host = own_name if own else cataddr(domain, b" ")
    return strip_quotes(cataddr(local, b" ")) + b"@" + strip_quotes(host)
