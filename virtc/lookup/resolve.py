"""Resolve one address through a virtusertable the way sendmail's ruleset 0 does.

``resolve(address, table)`` follows sendmail's ``Parse1`` virtuser rules:

1. The address is looked up only if its domain is local (class w, or ``$={VirtHost}``
   with ``virthost=True``; with ``entire_domain=True`` also its subdomains, each with
   its own full keys). Otherwise the kind is ``not-local``.
2. The keys of :func:`virtc.lookup.keys.lookup_keys` are tried in order. A value that
   is exactly ``@`` counts as not found (the search goes on), ``!`` as not found and
   the search stops. No key found: ``unmatched`` (sendmail then delivers to the local
   user of that name, or with ``virthost`` relays to the domain).
3. The value found gets its ``%N`` substituted. ``error:D.S.N:TEXT`` and
   ``error:STATUS TEXT`` give kind ``error`` with the reply sendmail sends at RCPT time.
4. Anything else is parsed again as an address, as sendmail does: a local name gives
   ``local``; an address in a local domain is looked up again (a second step);
   another address gives ``remote``; values sendmail cannot use give ``error`` with
   sendmail's own reply: lists (``553 5.1.3 Invalid route address``), ``@domain``
   (``553 5.1.3 User address required``), ``user@`` (``553 5.1.3 Hostname required``),
   ``|prog`` / ``/file`` / ``:include:`` (``550 5.7.1 Cannot mail directly to ...``).
   ``user@.dom`` / ``user@a..b`` (``553 5.1.2 Invalid host name``).
   Several words become one local name joined with ``.`` (``root root`` -> ``root.root``),
   a ``word:`` prefix is dropped, quotes and ``<>`` are removed, the rightmost ``%`` of
   an address without ``@`` is its ``@`` (``a%b`` -> ``a@b``), ``a.b!u`` is ``u@a.b`` and
   ``h!u`` stays ``h!u@$j`` (``$j``: the host's own name). In a class w domain, a local
   part with ``%``, ``!`` or ``@`` is re-parsed without the domain (``a%b@here`` -> ``a@b``).
   Values and queried addresses with angle brackets, quotes, comments, backslashes,
   8-bit bytes or long tokens go through :mod:`virtc.lookup.prescan` first: sendmail's
   own tokenizer and canonify (``Bob <bob@x>`` -> ``bob@x``, ``@a:bob@c`` -> ``bob@c``,
   ``"scott"@dom`` -> ``scott@dom``); what prescan refuses (``Unbalanced '<'``, a token
   over 256 bytes) is an ``error`` with the RCPT reply; ``bob,`` is the local user
   ``bob,``; local names are cut at 255 bytes; error texts are sent with the top bit of
   each byte cleared.
5. sendmail gives up after 16 re-resolutions (``554 5.0.0 rewrite: excessive recursion``):
   kind ``loop``. A cycle (an address that comes back) is reported as soon as it closes;
   ``Resolution.cycle`` gives its path.

Local user names are folded to lower case, as sendmail's local mailer does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, KeysView
from collections.abc import Set as AbstractSet
from functools import lru_cache
from itertools import repeat
from operator import and_, is_not, le, not_
from typing import Literal, NamedTuple, Union

from virtc.compat import pairwise
from virtc.lookup import prescan
from virtc.lookup.keys import LookupKey, lookup_keys, split_plus, substitute
from virtc.lookup.replies import error_reply
from virtc.lookup.table import LookupTable
from virtc.lookup.tokens import OPERATORS, join, strip_quotes, tokenize
from virtc.model import MAXNAME, fold

Kind = Literal["local", "remote", "error", "unmatched", "not-local", "loop"]
KINDS: tuple[Kind, ...] = ("local", "remote", "error", "unmatched", "not-local", "loop")

MAX_RECURSION = 16
"""Re-resolutions sendmail allows (``MAX_RULESET_RECURSION`` 50, three rulesets each)."""
LOOP_TEXT = "554 5.0.0 rewrite: excessive recursion (max 50), ruleset canonify"
_FORWARDING = frozenset("@%!")
"""Class O: in a local part of a class w address these make sendmail re-parse it."""
MAX_ADDRESS = 255
"""sendmail refuses longer addresses (``Address ... too long (255 bytes max)``)."""

INVALID_ROUTE = ("5.1.3", "553 5.1.3 Invalid route address")
USER_REQUIRED = ("5.1.3", "553 5.1.3 User address required")
HOST_REQUIRED = ("5.1.3", "553 5.1.3 Hostname required")
INVALID_HOST = ("5.1.2", "553 5.1.2 Invalid host name")
COLON_IN_HOST = ("5.1.3", "553 5.1.3 Colon illegal in host name part")
NO_PROGRAMS = ("5.7.1", "550 5.7.1 Cannot mail directly to programs")
NO_FILES = ("5.7.1", "550 5.7.1 Cannot mail directly to files")
NO_INCLUDES = ("5.7.1", "550 5.7.1 Cannot mail directly to :include:s")


class Lookup(NamedTuple):
    """One map lookup: the key as sendmail built it and what the map returned."""

    key: str
    value: str | None
    step: int
    """Row in :mod:`virtc.lookup.keys` (1-8)."""


class Step(NamedTuple):
    """Looking up one address: every key tried, and the hit if any."""

    address: str
    lookups: tuple[Lookup, ...]
    key: str | None = None
    """The stored (folded) key that matched, or None."""
    value: str | None = None
    """Its value as stored."""
    substituted: str | None = None
    """The value after ``%N`` substitution."""


class Resolution(NamedTuple):
    """Where sendmail sends ``address``.

    ``kind``: ``local`` (``result`` = local user), ``remote`` (``result`` = address in a
    non-local domain), ``error`` (``status`` as written, ``text`` = SMTP reply),
    ``unmatched`` (local domain, no key matched: ``result`` = local part, or the address
    with ``virthost``), ``not-local`` (the address's domain is not local: the table is
    never consulted), ``loop`` (sendmail's excessive recursion; ``result`` None).
    ``chain``: the stored keys matched, in order; ``steps``: every lookup step.
    ``to_json()`` gives the ``virtc query --json`` object.
    """

    address: str
    kind: Kind
    result: str | None
    status: str | None
    text: str | None
    chain: tuple[str, ...]
    steps: tuple[Step, ...]
    cycle: tuple[str, ...] = ()
    """For a loop closed by an address that comes back: the keys around the cycle,
    e.g. ``('a@d', 'b@d', 'a@d')`` or ``('a@d', 'a@d')``; empty for a merely too-long chain."""

    def to_json(self) -> dict[str, object]:
        """The object ``virtc query --json`` prints for this address."""
        return {"address": self.address, "kind": self.kind, "result": self.result,
                "status": self.status, "text": self.text, "chain": list(self.chain)}


# -- what sendmail makes of an address or a value ------------------------------------


class _Local(NamedTuple):
    name: str


class _Address(NamedTuple):
    local: str
    domain: str

    @property
    def text(self) -> str:
        return f"{self.local}@{self.domain}"


class _Error(NamedTuple):
    status: str
    text: str


_Target = Union[_Local, _Address, _Error]


def needs_prescan(text: str) -> bool:
    """Whether ``text`` holds what only :mod:`virtc.lookup.prescan` models exactly: angle
    brackets, quotes, comments, backslashes, 8-bit bytes or a token over 256 bytes."""
    return _PRESCAN.search(text) is not None or len(text) > MAXNAME


_PRESCAN = re.compile(r"[<>\"()\\\x80-\xff]|\A\s*@|,\s*\Z")


def prescan_error(value: str) -> _Error | None:
    """sendmail's reply at RCPT when prescan refuses ``value`` (unbalanced brackets or
    quotes, a token over 256 bytes, too many tokens), or None."""
    if not needs_prescan(value):
        return None
    reply = prescan.refusal(value)
    if reply is None:
        return None
    return _Error(reply.split(" ", 2)[1], reply)


def _queried(address: str, own_name: str | None) -> _Local | _Address | _Error:
    """The address as sendmail looks it up: ``Scott <scott@dom>``, ``<scott@dom>`` and
    ``"scott"@dom`` are ``scott@dom``; ``user@localhost`` and ``user@[127.0.0.1]`` are
    ``user@$j`` when the host's name ``own_name`` is known (see
    :func:`virtc.lookup.prescan.lookup_address`)."""
    if needs_prescan(address) or _SELF.search(address):
        refused = prescan_error(address)
        if refused is not None:
            return refused
        found = prescan.lookup_address(address)
        if found is not None:
            local, _, domain = found.decode("latin-1").rpartition("@")
            if domain != prescan.OWN_NAME.decode():
                return _Address(local, domain)
            if own_name:
                return _Address(local, own_name)
    return classify(address)


_SELF = re.compile(r"(?i)@\s*(?:localhost|\[127\.0\.0\.1\])\s*\Z")


_WORDS = r"[A-Za-z0-9_=-]+(?:[.+][A-Za-z0-9_=-]+)*"
PLAIN_ADDRESS = re.compile(rf"({_WORDS})@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)")
PLAIN_NAME = re.compile(_WORDS)
"""The usual values: what the tokenizer would split and glue back unchanged (a fast path,
tested equal to the tokenizer's result in tests/unit/test_lookup.py)."""


def classify(text: str) -> _Local | _Address | _Error:
    """What sendmail's canonify + parse make of ``text`` (an address or a value)."""
    plain = PLAIN_ADDRESS.fullmatch(text)
    if plain is not None:
        return _Address(plain[1], plain[2])
    if PLAIN_NAME.fullmatch(text) is not None:
        return _Local(fold(text)[:prescan.MAX_USER])
    return _classify(text)


class Final(NamedTuple):
    """How a resolution ends (the fields of :class:`Resolution` that say so)."""

    kind: Kind
    result: str | None
    status: str | None
    text: str | None


_WORD = r"[A-Za-z0-9_=-]+(?:\.[A-Za-z0-9_=-]+)*"
_PLAIN_ERROR = re.compile(rf"error:([0-9]+\.[0-9]+\.[0-9]+):({_WORD}(?: {_WORD})*)")
"""``error:D.D.D:text`` whose text the tokenizer glues back as written (words, single spaces)."""


def final_target(value: str, domains: AbstractSet[str]) -> Final | None:
    """How an address ends whose key's value is ``value``, when that needs no more lookups
    and no substitution: a plain name (``local``), a plain address outside ``domains``
    (folded; ``remote``), a plain ``error:D.D.D:text``; None for any other value (resolve
    it). Without virtuser_entire_domain. The exports' fast path, tested equal to
    :func:`resolve` (#18: most values of a large table take it)."""
    found = _final(value, domains)
    if found is None:
        return None
    kind, error = found
    if error is not None:
        return Final("error", None, error[1], error_reply(error[1], error[2]))
    return Final("remote", value, None, None) if kind == "remote" else \
        Final("local", fold(value)[:prescan.MAX_USER], None, None)


def relayed_end(value: str, domains: AbstractSet[str], literal: bool = False) -> Final | None:
    """How an address ends whose key's value is ``value`` (no substitution) when that value
    reads as an address outside ``domains`` that :func:`final_target` declines (its local
    part not plain words: ``u+*@d.VIRTMAIL``, ``u+@host``): relayed there, as the engine
    says after one lookup; None for anything else (an error, a local user or domain, a
    value sendmail refuses). ``literal``: ``value`` is after its %N, a '%' in it is one
    (``u%d@gw.example``, the %-hack, relayed as written to a host not local). Tested
    equal to :func:`resolve`."""
    if "%" in value and not literal:
        return None
    plain = _AS_WRITTEN.fullmatch(value)  # (#18: 100k 'u%d@gw.example' or 'u+@gw', each tokenized)
    if plain is not None:
        return None if _is_local(plain[1], domains, False) else Final("remote", value, None, None)
    if ("error" in value.lower() and ":" in value) or prescan_error(value) is not None:
        return None
    target = classify(value)
    if not isinstance(target, _Address) or _is_local(target.domain, domains, False):
        return None
    return Final("remote", target.text, None, None)


_AS_WRITTEN = re.compile(rf"{_WORDS}(?:%{_WORDS})*\+?@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)")
"""A plain address, maybe with the %-hack in its local part (``u%d@gw.example``) or an
empty ``+detail`` (``u+@gw.example``): the tokenizer glues it back as written, an address
whose domain decides."""


def end_at_once(value: str, domains: AbstractSet[str], literal: bool = False) -> Final | None:
    """:func:`final_target`, else :func:`relayed_end`: how an address ends whose key's value
    is ``value`` when nothing is looked up after it (rules comparing two such ends);
    ``literal``: ``value`` is after its %N (see :func:`relayed_end`)."""
    return final_target(value, domains) or relayed_end(value, domains, literal)


def ends_there(value: str) -> bool:
    """Whether a key's ``value`` without ``%N`` ends every resolution that reaches it, whatever
    the local domains: sendmail refuses it (a list, an unbalanced '<', an ``error:``) or
    delivers it to a local user, with no more lookups (#18: VT205 sent 100k list values to
    the engine). False for an address and anything else (resolve it)."""
    if "%" in value or _marker(value) is not None:
        return False
    if _PLAIN_LIST.fullmatch(value) is not None:
        return True  # (classify's answer for a list of plain addresses, without its tokens)
    if prescan_error(value) is not None or _error_rule(value, _Address("", "")) is not None:
        return True
    return not isinstance(classify(value), _Address)


_ONE = rf"{_WORDS}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_PLAIN_LIST = re.compile(rf"{_ONE}(?:[ \t]*,[ \t]*{_ONE})+")
"""Plain addresses joined by commas: a list, which sendmail refuses (553 Invalid route address)."""


def final_kind(value: str, domains: AbstractSet[str]) -> Kind | None:
    """:func:`final_target`'s kind alone, without making its reply (for rules that ask
    whether an address is rejected, of 30k domains)."""
    found = _final(value, domains)
    return None if found is None else found[0]


def final_kinds(values: list[str], domains: AbstractSet[str]) -> list[Kind | None]:
    """:func:`final_kind` of each of ``values``, the usual plain addresses matched in C
    (rules ask it of 300k texts)."""
    out: list[Kind | None] = []
    name = PLAIN_NAME.fullmatch
    others: dict[str, Kind | None] = {}  # (#18: 300k catch-alls' one reject text, parsed once)
    for value, plain in zip(values, map(PLAIN_ADDRESS.fullmatch, values)):
        if plain is None or len(value) > MAXNAME:
            if len(value) <= MAXNAME and name(value) is not None:
                out.append("local")  # (_final's local name: no '%' in it, #18: 100k 'user.d' names)
                continue
            if value not in others:
                found = _final(value, domains)
                others[value] = None if found is None else found[0]
            out.append(others[value])
        else:  # (no '%' in a plain address; its domain is ASCII: fold is lower)
            out.append(None if plain[2].lower() in domains else "remote")
    return out


def catch_all_end(address: str, value: str, domains: AbstractSet[str]) -> Final | None:
    """How :func:`resolve` ends for ``address`` when the first key it finds is its domain's
    catch-all, whose ``value`` names no address and has no %N (an error, a local user):
    that one hop without looking it up. None when ``address`` is no plain address that
    :func:`quick_hop` takes, or the value goes on (resolve it). Tested equal to
    :func:`resolve` (#18: VT213 resolved each of 100k domains with its own reject text)."""
    if "@" in value or "%" in value or "!" in value:
        return None
    at = _quick_address(address, domains)
    if at is None:
        return None
    refused = _refused(value, at)
    if refused is not None:
        return Final("error", None, refused.status, refused.text)
    target = classify(value)
    if isinstance(target, _Error):
        return Final("error", None, target.status, target.text)
    return Final("local", target.name, None, None) if isinstance(target, _Local) else None


def hit_error(address: str, value: str, domains: AbstractSet[str]) -> Final | None:
    """How :func:`resolve` ends for ``address`` when the first key it finds gives ``value``
    (after its %N) and sendmail refuses that value or its ``error:`` rule answers: the
    error, whatever else the value holds (a '%' in ``100% of quota``). None for any other
    value, or an ``address`` :func:`quick_hop` does not take. Tested equal to
    :func:`resolve` (#18: VT105 sent every reject text with a '%' to the engine)."""
    at = _quick_address(address, domains)
    if at is None or _marker(value) is not None:
        return None
    refused = _refused(value, at)
    return None if refused is None else Final("error", None, refused.status, refused.text)


def hit_errors_differ(address: str, mine: str, theirs: str, domains: AbstractSet[str]) -> bool:
    """Whether :func:`hit_error` gives ``address`` an error with each of ``mine`` and
    ``theirs``, two different ones. Texts whose ``error:`` rule reads two different statuses
    (``error:5.2.2:...`` beside ``error:5.1.1:...``) differ without tokenizing either, when
    prescan refuses neither (#18: VT105 compared 70k ``error:5.2.2:552 ... (105% of 2 GB)``
    with their domain's reject, 25 us each). Tested equal to comparing the two."""
    a, b = _ERROR_STATUS.match(mine), _ERROR_STATUS.match(theirs)
    if a is not None and b is not None and a.groups() != b.groups() and \
            prescan_error(mine) is None and _prescan_error_kept(theirs) is None:
        return _quick_address(address, domains) is not None  # (else hit_error's None)
    x, y = hit_error(address, mine, domains), hit_error(address, theirs, domains)
    return x is not None and y is not None and x != y


_prescan_error_kept = lru_cache(maxsize=1024)(prescan_error)
"""(:func:`prescan_error` of the texts that come again: a domain's reject, for each of its users)"""
_ERROR_STATUS = re.compile(r"(?i:error):([0-9]+)\.([0-9]+)\.([0-9]+):")
"""The start of a value whose ``error:`` rule reads its status from it (the tokens
``error : D . D . D :``): hit_error's status, the value's own."""


def _quick_address(address: str, domains: AbstractSet[str]) -> _Address | None:
    """``address`` as :func:`resolve` reads it, when it is plain and :func:`quick_hop`
    takes it (then its first hit's refusal is all that ends it at once)."""
    plain = PLAIN_ADDRESS.fullmatch(address)
    return None if plain is None or not quick_hop(address, domains) else _Address(plain[1], plain[2])


def catch_all_kind(user: str, domain: str, value: str, domains: AbstractSet[str]) -> Kind | None:
    """How ``user@domain`` (no '+detail', no key of its own) ends when ``domain``'s catch-all,
    whose value is ``value``, answers it: :func:`final_kind` of the value after its ``%N``;
    None when more lookups decide, or when ``user@domain`` is no address :func:`quick_hop`
    takes (rules ask it of every domain's catch-all: #18)."""
    if not quick_hop(f"{user}@{domain}", domains):
        return None
    return final_kind(substitute(value, (f"@{domain}", user)), domains)


def _final(value: str, domains: AbstractSet[str]) -> tuple[Kind, re.Match[str] | None] | None:
    """(kind, the error's match for ``error``) of :func:`final_target`: each regex once."""
    if "%" in value or len(value) > MAXNAME:
        return None
    plain = PLAIN_ADDRESS.fullmatch(value)
    if plain is not None:
        return None if fold(plain[2]) in domains else ("remote", None)
    if PLAIN_NAME.fullmatch(value) is not None:
        return "local", None
    error = _PLAIN_ERROR.fullmatch(value)
    return None if error is None else ("error", error)


def quick_end(address: str, table: LookupTable, domains: AbstractSet[str]) -> Final | None:
    """How :func:`resolve` ends for ``address`` (``domains`` folded, no virtuser_entire_domain
    or VirtHost) when every hop is a plain address in a local domain whose first key found
    answers with a plain value, or a template that makes one (``%1@other``), and the last
    one :func:`final_target` or :func:`relayed_end` decides; None otherwise (resolve it). Tested equal to
    :func:`resolve` (the qmail export asks it for every key and probe; the Postfix export
    and ``virtc domains`` use :func:`quick_path`)."""
    path = quick_path(address, table, domains)
    return None if path is None else path[0]


def quick_path(address: str, table: LookupTable, domains: AbstractSet[str]) -> tuple[Final, list[str]] | None:
    """:func:`quick_end`, and the addresses looked up on the way (``address`` first: those
    of the resolution's ``steps``), then the last step's value after substitution."""
    looked: list[str] = []
    for _ in range(_QUICK_HOPS):
        if not quick_hop(address, domains) or fold(address) in map(fold, looked):
            end = relayed_end(address, domains) if looked else None  # (a value: 'u+@host')
            return None if end is None else (end, [*looked, address])
        looked.append(address)
        for k in lookup_keys(address):  # sendmail's order: the first key found answers
            value = table.get(k.key)
            if value is not None:
                break
        else:
            return None
        address = substitute(value, k.args) if "%" in value else value
        end = final_target(address, domains)
        if end is not None:
            return end, [*looked, address]
    return None


def first_key(address: str, table: LookupTable, domains: AbstractSet[str]) -> str | bool | None:
    """The first key :func:`resolve` finds for ``address`` (its chain's first, folded;
    None for none), looking up only that step, not where its value goes; False for an
    address :func:`quick_hop` does not take (not plain, not local): resolve it then.
    Tested equal to :func:`resolve` (#18: VT107 resolved 60k whole paths for it)."""
    if not quick_hop(address, domains):
        return False
    local, _, domain = address.rpartition("@")
    return _lookup(_Address(local, domain), table).key  # (None after a '@' or '!' marker)


def hit(value: str | None, args: tuple[str, ...]) -> bool:
    """Whether a lookup that found ``value`` (None: nothing) stops there with a hit: the
    value after substitution (``args`` its %N) is no not-found marker ('@' goes on, '!'
    stops with nothing). For a rule that knows the keys tried before are not in the table."""
    return value is not None and _marker(substitute(value, args)) is None


def quick_hop(address: str, domains: AbstractSet[str]) -> bool:
    """Whether :func:`quick_path` looks ``address`` up itself: a plain address (or one with
    an empty ``+detail``) in one of ``domains`` (folded), not too long, not the host's own."""
    plain = _QUICK_ADDRESS.fullmatch(address)
    return plain is not None and fold(plain[2]) in domains and len(address) <= MAX_ADDRESS \
        and _SELF.search(address) is None


def quick_hops(addresses: list[str], domains: AbstractSet[str], *, local: bool = False) -> list[bool]:
    """:func:`quick_hop` of each of ``addresses``, the regexes mapped in C. ``local``: each
    address's domain is one of ``domains`` as written (folded), not asked again (#18: a
    million parked domains, each a lookup in a set of a million)."""
    fits = map(le, map(len, addresses), repeat(MAX_ADDRESS))
    own = map(is_not, map(_SELF.search, addresses), repeat(None))  # (the host's own: localhost)
    found = map(_QUICK_ADDRESS.fullmatch, addresses)
    if local:
        return list(map(and_, map(and_, map(is_not, found, repeat(None)), fits), map(not_, own)))
    return [plain is not None and fit and not is_own and plain[2].lower() in domains  # (an ASCII domain)
            for plain, fit, is_own in zip(found, fits, own)]


_QUICK_HOPS = 4
"""Hops :func:`quick_end` follows (a domain alias and its target's catch-all take two)."""
_QUICK_ADDRESS = re.compile(rf"({_WORDS}\+?)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)")
"""A plain address, or one with an empty ``+detail`` (``user+@domain``: the tokenizer
glues both back as written)."""


def _classify(text: str) -> _Local | _Address | _Error:
    if needs_prescan(text):
        # canonify's focus on the angle address, its source-route and colon stripping,
        # on prescan's tokens: 'Bob <bob@x>' -> bob@x, '@a:bob@c' -> bob@c.
        scan = prescan.prescan(text)
        toks = [t.decode("latin-1") for t in prescan.canonify(scan.tokens)] if scan.tokens else []
        if not toks:
            return _Error("5.3.5", prescan.NO_TOKENS_REPLY)
        if toks[:3] == [":", "include", ":"]:
            return _Error(*NO_INCLUDES)
    else:
        toks = tokenize(text)
        if toks[:3] == [":", "include", ":"]:
            return _Error(*NO_INCLUDES)
        if ":" in toks and toks[0] != "@" and "[" not in toks:
            # canonify's "strip colon if marked": everything up to the first ':' goes
            # (local:user -> user, prog:|x -> |x, a@x:y -> y).
            first = toks.index(":")
            if toks[first + 1:first + 2] != [":"]:
                toks = toks[first + 1:]
    if toks[-1:] == [","] and "," not in toks[:-1] and "@" not in toks:
        # 'bob,': accepted at RCPT; the local user is 'bob,' (its delivery fails later).
        return _Local(fold(join(toks[:-1], ".")) + ",")
    if len(toks) == 1 and toks[0].startswith('"'):
        inner = strip_quotes(toks[0])
        if inner.startswith(("|", "/", ":include:")):
            return classify(inner)
        toks = [inner]
    if toks and toks[0].startswith("|"):
        return _Error(*NO_PROGRAMS)
    if toks and toks[0] == "/":
        return _Error(*NO_FILES)
    if "," in toks:
        return _Error(*INVALID_ROUTE)
    ats = [i for i, t in enumerate(toks) if t == "@"]
    if not ats and "!" in toks[1:]:
        bang = toks.index("!", 1)
        host, user = toks[:bang], toks[bang + 1:]
        if "." in host:  # a.b!user -> user@a.b
            toks = [*user, "@", *host]
        else:  # h!user: sendmail keeps it and appends its own name ($j)
            return _Address(join(toks, "."), "$j")
        ats = [i for i, t in enumerate(toks) if t == "@"]
    elif not ats and "%" in toks:
        # The '%' hack: the rightmost '%' becomes the '@'.
        i = len(toks) - 1 - toks[::-1].index("%")
        toks = [*toks[:i], "@", *toks[i + 1:]]
        ats = [i]
    if not ats:
        return _Local(fold(join(toks, "."))[:prescan.MAX_USER])  # (buildaddr cuts names at 255)
    if len(ats) > 1:
        return _Error(*INVALID_ROUTE)
    i = ats[0]
    local, domain = toks[:i], toks[i + 1:]
    if domain and domain[-1] == ".":
        domain = domain[:-1]
    if not local:
        return _Error(*USER_REQUIRED)
    if not domain:
        return _Error(*HOST_REQUIRED)
    if ":" in domain:
        return _Error(*COLON_IN_HOST)
    if domain[0] == "." or any(a == b == "." for a, b in pairwise(domain)):
        return _Error(*INVALID_HOST)
    return _Address(join(local, "."), join(domain, "."))


def _refused(value: str, address: _Address) -> _Error | None:
    """What sendmail answers at RCPT for ``address`` when the key it finds gives ``value``
    (after %N) and that ends it there: prescan's refusal (an unbalanced '<' etc., whatever
    the value says), else the ``error:`` rule's reply, each byte with its top bit cleared
    as SMTP sends it ('été' -> 'iti'); None for any other value."""
    refused = prescan_error(value)
    if refused is not None:
        return refused
    error = _error_rule(value, address)
    if error is None or error.text.isascii():
        return error
    return _Error(error.status, prescan.seven_bits(error.text))


def _error_rule(value: str, address: _Address) -> _Error | None:
    """sendmail's two ``error:`` rules, matched on the tokens of the rule's workspace."""
    if ":" not in value or "error" not in value.lower():
        return None  # (nearly every value: no tokenizing needed)
    known = _OWN_ERRORS.get(value)
    if known is not None:
        return known
    vt = tokenize(value)
    if len(vt) < 2 or vt[0].lower() != "error" or vt[1] != ":":
        return None
    # Workspace: < VALUE > LOCAL < @ DOMAIN . >  ('$+' may run into the address part).
    ws = ["<", *vt, ">", *tokenize(address.local), "<", "@", *tokenize(address.domain), ".", ">"]
    if len(ws) > 10 and ws[4] == "." and ws[6] == "." and ws[8] == ":":
        status, first = f"{ws[3]}.{ws[5]}.{ws[7]}", 9
    else:
        status, first = strip_quotes(ws[3]), 4
    end = ws.index(">", first + 1)
    error = _Error(status, error_reply(status, strip_quotes(join(ws[first:end], " "))))
    if end <= len(vt) + 1:  # (all of it the value's own: the same for every address)
        if len(_OWN_ERRORS) >= 10_000:
            _OWN_ERRORS.clear()
        _OWN_ERRORS[value] = error
    return error


_OWN_ERRORS: dict[str, _Error] = {}
"""(:func:`_error_rule`'s answers that the address has no part in, by value: a catch-all's
reject is asked for every address of its domain)"""


# -- the lookup itself ----------------------------------------------------------------


def not_found_marker(value: str) -> bool:
    """Whether the lookup reads ``value`` as sendmail's "not found" (``@`` or ``!``, maybe
    with comments or blanks around it)."""
    return _marker(value) is not None


def _marker(value: str) -> str | None:
    """'@' or '!' when a value reads as sendmail's not-found markers."""
    if value.count("@") + value.count("!") != 1:
        return None  # (nearly every value: no tokenizing needed)
    toks = tokenize(value)
    return toks[0] if toks in (["@"], ["!"]) else None


def _lookup(address: _Address, table: LookupTable) -> Step:
    keys = lookup_keys(address.text)
    lookups: list[Lookup] = []

    def attempt(k: LookupKey) -> tuple[str, str | None] | str:
        """The hit as (value, substituted), or the marker ('@' go on, '!' stop)."""
        value = table.get(k.key)
        lookups.append(Lookup(k.key, value, k.step))
        if value is None:
            return "!" if k.step == 7 else "@"
        sub = substitute(value, k.args)
        return _marker(sub) or (value, sub)

    outcome: tuple[str, str | None] | str = "@"
    for k in keys:
        outcome = attempt(k)
        if outcome != "@":
            break
    if outcome == "@" and split_plus(address.local) is not None:
        # A '@' value from the last plus lookup falls into the plain '@domain' rule.
        key = f"@{address.domain}"
        outcome = attempt(LookupKey(key, (key, address.local), 8))
    if isinstance(outcome, str):
        return Step(address.text, tuple(lookups))
    last = lookups[-1]
    return Step(address.text, tuple(lookups), fold(last.key)[:MAXNAME], outcome[0], outcome[1])


def _is_local(domain: str, domains: AbstractSet[str], entire_domain: bool) -> bool:
    d = fold(domain)
    if not d:
        return False  # (no class has an empty member; a set given one must not make '@' a lookup)
    if d in domains:
        return True
    if entire_domain:  # (a set lookup after each operator of d, not a comparison per domain)
        return any(d[i + 1:] in domains for i, c in enumerate(d) if c in OPERATORS)
    return False


def local_domain_set(domains: Iterable[str]) -> frozenset[str]:
    """Fold, as sendmail compares class members (a trailing dot is kept: it never matches)."""
    return frozenset(fold(d) for d in domains)


def resolve(address: str, table: LookupTable, local_domains: Iterable[str] | None = None, *,
            entire_domain: bool = False, virthost: bool = False, own_name: str | None = None) -> Resolution:
    """Resolve ``address`` through ``table`` (see the module docstring).

    ``local_domains``: class w (or VirtHost) members; default ``table.domains``. For many
    calls pass ``local_domain_set(domains)`` (a frozenset, used as is: no re-folding), or
    a dict's keys view of folded domains (used as is: no copy of 300k names).
    The engine reads the map only through ``table.get(key)``: a subclass may override it
    (e.g. to hide one key and see what changes).
    ``virthost``: the domains are VIRTUSER_DOMAINs: unmatched addresses are relayed
    (kind ``unmatched``, result the address) instead of delivered to a local user.
    ``entire_domain``: FEATURE(virtuser_entire_domain): subdomains are looked up too,
    with their own full keys (sendmail applies it to VirtHost domains only).
    ``own_name``: the host's name (``$j``): ``user@localhost`` is looked up under it.
    """
    if isinstance(local_domains, (frozenset, KeysView)):
        domains = local_domains  # from local_domain_set(): folded once by the caller
    else:
        domains = local_domain_set(table.domains if local_domains is None else local_domains)
    return _resolve(address, table, domains, entire_domain, virthost, own_name)


def _resolve(address: str, table: LookupTable, domains: AbstractSet[str], entire_domain: bool,
             virthost: bool, own_name: str | None = None) -> Resolution:
    steps: list[Step] = []
    chain: list[str] = []

    def done(kind: Kind, result: str | None = None, status: str | None = None,
             text: str | None = None, cycle: tuple[str, ...] = ()) -> Resolution:
        return Resolution(address, kind, result, status, text, tuple(chain), tuple(steps), cycle)

    if len(address.encode("latin-1", "replace")) > MAX_ADDRESS:
        return done("error", None, "5.1.0", f'553 5.1.0 Address "{address}" too long (255 bytes max)')
    target: _Target = _queried(address, own_name)
    seen: list[str] = []  # addresses looked up, folded: one coming back is a cycle
    while True:
        top = not steps
        if isinstance(target, _Error):
            return done("error", None, target.status, target.text)
        if isinstance(target, _Local):
            return done("local", target.name)
        if not _is_local(target.domain, domains, entire_domain):
            return done("not-local" if top else "remote", target.text)
        if not virthost and not PLAIN_NAME.fullmatch(target.local) and \
                any(t in _FORWARDING for t in tokenize(target.local)):
            # Parse0, for class w only: 'a%b@here' or 'h!u@here' is 'a%b' or 'h!u'
            # (the local domain is dropped before any lookup).
            target = classify(target.local)
            continue
        folded = fold(target.text)
        if folded in seen:
            start = seen.index(folded)
            return done("loop", None, None, LOOP_TEXT, (*chain[start:], chain[start]))
        seen.append(folded)
        step = _lookup(target, table)
        steps.append(step)
        if step.key is None or step.substituted is None:
            if virthost:
                return done("unmatched" if top else "remote", target.text)
            return done("unmatched" if top else "local", fold(target.local))
        chain.append(step.key)
        refused = _refused(step.substituted, target)
        if refused is not None:
            return done("error", None, refused.status, refused.text)
        if len(chain) > MAX_RECURSION:
            return done("loop", None, None, LOOP_TEXT)
        target = classify(step.substituted)
