"""The keys sendmail's virtuser rules look up for one address, and ``%N`` substitution.

From the ``Parse1`` rules of an m4-built sendmail.cf (FEATURE(virtusertable)),
checked against ``sendmail -bt -d60.1`` in tests/oracle/test_lookup_oracle.py. For
``user+detail@domain`` (split at the first ``+`` that has something before it, so
``+x`` is never split but ``++x`` is user ``+``, detail ``x``)::

    #  key                  %1      %2      %3        tried when
    1  user+detail@domain   whole   -       -         always
    2  user++@domain        user    detail  +detail   detail not empty
    3  user+*@domain        user    detail  +detail   local part has a '+'
    4  user@domain          user    detail  +detail   local part has a '+'
    5  ++@domain            user    detail  +detail   detail not empty
    6  +*@domain            user    detail  +detail   local part has a '+'
    7  @domain              user    detail  +detail   local part has a '+'
    8  @domain              whole   -       -         local part has no '+'

``%0`` is the key itself, as built from the address (original case). Lookups fold
ASCII case and cut the key to 256 bytes (MAXNAME); substitutions keep the address's
case.
"""

from __future__ import annotations

import re
from itertools import compress, count, repeat
from operator import or_
from typing import NamedTuple


class LookupKey(NamedTuple):
    """One lookup: the key (address case) and the arguments ``%0``, ``%1``, ..."""

    key: str
    args: tuple[str, ...]
    """``args[0]`` is the key itself (``%0``); ``%N`` beyond the end is empty."""
    step: int
    """Row of the table in this module's docstring (1-8)."""


def split_plus(local: str) -> tuple[str, str] | None:
    """(user, detail) split at the first '+' with a non-empty user, or None."""
    i = local.find("+", 1)
    return None if i < 0 else (local[:i], local[i + 1:])


def lookup_keys(address: str) -> list[LookupKey]:
    """Every key sendmail may try for ``address`` (``local@domain``), in order.

    sendmail stops at the first key found (see :func:`virtc.lookup.resolve`). The
    domain is taken as written, without a trailing dot. Raises ValueError if there
    is no '@' with text on both sides.
    """
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"not an address: {address!r}")
    domain = domain[:-1] if domain.endswith(".") else domain
    whole = f"{local}@{domain}"
    keys = [LookupKey(whole, (whole, local), 1)]
    split = split_plus(local)
    if split is None:
        key = f"@{domain}"
        keys.append(LookupKey(key, (key, local), 8))
        return keys
    user, detail = split
    rest = (user, detail, "+" + detail)
    shapes = [(2, f"{user}++@{domain}"), (3, f"{user}+*@{domain}"), (4, f"{user}@{domain}"),
              (5, f"++@{domain}"), (6, f"+*@{domain}"), (7, f"@{domain}")]
    for step, key in shapes:
        if step in (2, 5) and not detail:
            continue
        keys.append(LookupKey(key, (key, *rest), step))
    return keys


def substitute(value: str, args: tuple[str, ...]) -> str:
    """sendmail's ``map_rewrite``: ``%N`` -> ``args[N]`` (empty if absent), ``%%`` -> ``%``.

    A ``%`` before anything else is kept as is. (A lone ``%`` at the very end is
    kept too; the real sendmail reads past the value there and appends garbage.)
    """
    if "%" not in value:
        return value
    if value.count("%") == 1:  # the usual 'user+%2', '%1@other': no generator
        first, _, rest = value.partition("%")
        k = ord(rest[0]) - 48 if rest else -1
        if 0 <= k <= 9:
            return first + (args[k] if k < len(args) else "") + rest[1:]
        return value
    if "%%" not in value:  # each '%' then starts one part: %N is its first character
        first, *parts = value.split("%")
        n = len(args)
        return first + "".join(
            (args[int(p[0])] if int(p[0]) < n else "") + p[1:] if p[:1] in _DIGITS else "%" + p
            for p in parts)
    return _substitute(value, args)


_DIGITS = frozenset("0123456789")


def substitute_users(values: list[str], wholes: list[str], users: list[str],
                     detail: str | None = None) -> list[str]:
    """``substitute(value, (whole, user))`` of each (an exact key's value for its own
    address: ``%0`` the key, ``%1`` the user, ``%2``.. empty), or with a ``detail``,
    ``substitute(value, (whole, user, detail, "+" + detail))``, by ``str.replace`` mapped in
    C where that is the same (#18: rules ask it of 400k values): a value without ``%%``
    (each '%' starts one part) and arguments without '%' (nothing read twice)."""
    out = map(str.replace, map(str.replace, values, repeat("%0"), wholes), repeat("%1"), users)
    if detail is not None:
        assert "%" not in detail
        out = map(str.replace, map(str.replace, out, repeat("%2"), repeat(detail)), repeat("%3"),
                  repeat("+" + detail))
    done = list(map(_PAST_USER.sub, repeat(""), out))
    odd = map(or_, map(str.__contains__, values, repeat("%%")), map(str.__contains__, wholes, repeat("%")))
    more = () if detail is None else (detail, "+" + detail)
    for j in compress(count(), map(or_, odd, map(str.__contains__, users, repeat("%")))):
        done[j] = substitute(values[j], (wholes[j], users[j], *more))
    return done


_PAST_USER = re.compile("%[2-9]")


def _substitute(value: str, args: tuple[str, ...]) -> str:
    """:func:`substitute`, a character at a time (the reference; any ``%%``)."""
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c == "%" and i + 1 < n:
            nxt = value[i + 1]
            if "0" <= nxt <= "9":
                idx = ord(nxt) - 48
                out.append(args[idx] if idx < len(args) else "")
                i += 2
                continue
            if nxt == "%":
                out.append("%")
                i += 2
                continue
        out.append(c)
        i += 1
    return "".join(out)
