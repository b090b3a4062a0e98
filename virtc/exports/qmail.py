"""qmail: the validrcptto accept list (jms1's patch), as a cdb or as text.

validrcptto only gates RCPT TO: qmail-smtpd lower-cases the address and looks up the
exact ``user@domain``, then ``prefix-default@domain`` for each ``-`` in the local part
(from the right), then ``@domain``; a key found accepts unless its value starts with
``-``, and anything not found gets a fixed ``553`` reply. So the export writes
sendmail's RCPT verdict, not its routing: virtc's resolver (chains, loops and all)
decides each address, and per domain

* a domain whose unnamed addresses sendmail accepts gets ``@domain``, plus ``-`` entries
  for its named addresses that sendmail rejects;
* any other domain gets an entry for each named address sendmail accepts.

That is exact for every address without ``+``. What qmail cannot say is returned as QM
diagnostics (:data:`CODES`), on the line they come from (QM104: once per domain), saying what qmail does
instead: ``+`` wildcards and sendmail's ``user+detail`` -> ``user`` fallback (qmail's
extension separator is ``-``: QM101, QM104), 4xx rejects (qmail's 553 is permanent:
QM102), and keys qmail would misread or cannot hold (``-default``, non-ASCII: QM103,
QM105). Reply texts are not reported: every reject keeps its verdict, and all of them
get qmail's one fixed text (README says so).
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import NamedTuple

from virtc.diagnostics import Diagnostic, Severity
from virtc.lint.facts import key_span
from virtc.lookup.resolve import local_domain_set, quick_end, resolve
from virtc.lookup.table import LookupTable
from virtc.model import Entry, KeyKind, fold, says_not_found
from virtc.table import Table
from virtc.writers.atomic import replace_text

CODES = {
    "QM101": "qmail-plus-wildcard",
    "QM102": "qmail-temporary-reject",
    "QM103": "qmail-default-key",
    "QM104": "qmail-plus-detail",
    "QM105": "qmail-unusable-key",
}
"""The export's findings (documented in README "Other MTAs")."""

REJECT = "-"
_UNNAMED = "virtc-unnamed-7f3q"
"""A local part no table names: what sendmail does with an unknown address in the domain."""
_DETAILS = ("virtc7f3q", "")
"""``+detail``s no table names, non-empty and empty: what sendmail does with ``user+detail``."""
_USER_WILDCARDS = (KeyKind.USER_ANY, KeyKind.USER_PLUS)
_WILDCARDS = (*_USER_WILDCARDS, KeyKind.DOMAIN_ANY, KeyKind.DOMAIN_PLUS)
_KEY_BYTES = re.compile(r"[!-~]+")
"""What a key may hold: printable ASCII (qmail lower-cases ASCII only; a text line ends at a blank)."""


class _Record(NamedTuple):
    key: str
    value: str
    at: int
    """The entry it comes from, by index (for a name an alias catch-all reaches: that
    catch-all; an Entry each would be most of the memory at a million records)."""


def records(table: Table, *, text: bool = False) -> tuple[list[tuple[str, str]], list[Diagnostic]]:
    """The (lower-cased key, value) records in table order, and what does not translate.

    ``text``: for ``control/validrcptto``, where a line starting with ``-`` is a reject
    and one starting with ``#`` a comment, so such keys cannot be written.
    """
    lookup = LookupTable.from_table(table)
    domains = local_domain_set(lookup.domains)
    diagnostics: list[Diagnostic] = []

    def verdict(address: str) -> bool | None:
        return _accepts(address, lookup, domains)

    def report(entry: Entry, code: str, message: str) -> None:
        diagnostics.append(_finding(table, entry, code, message))

    # Each domain's stored entries by index (Entry objects for a million keys would be
    # most of the export's memory), and its catch-all.
    by_domain: dict[str, list[int]] = {}
    catch_alls: dict[str, int] = {}
    wild: set[str] = set()
    for i, entry in _stored(table):
        k = entry.key
        if k.kind is not KeyKind.UNMATCHABLE:
            by_domain.setdefault(k.folded_domain, []).append(i)
            if k.kind is KeyKind.CATCH_ALL:
                catch_alls.setdefault(k.folded_domain, i)
            elif k.kind in _WILDCARDS:
                wild.add(k.folded_domain)

    def catch_all_of(domain: str) -> Entry | None:
        i = catch_alls.get(domain)
        return None if i is None else table.entries[i]

    def entries_of(domain: str) -> list[Entry]:
        return list(map(table.entries.__getitem__, by_domain.get(domain, ())))

    @functools.cache
    def named(domain: str) -> frozenset[str]:
        return frozenset(e.stored_key.rpartition("@")[0] for e in entries_of(domain)
                         if e.key.kind is KeyKind.ADDRESS)

    @functools.cache
    def reachable(domain: str) -> frozenset[str]:
        """Names a catch-all's %1 may land on: addresses, and the users of 'user+*' /
        'user++' keys (sendmail answers 'user+detail' through them)."""
        return named(domain) | {fold(e.key.user) for e in entries_of(domain) if e.key.kind in _USER_WILDCARDS}

    def plussed_differ(local: str, domain: str, open_domain: bool, accepted: bool | None) -> bool:
        """:func:`_plussed_differ`, from ``local@domain``'s verdict ``accepted`` where that is the same."""
        if _plus_like_plain(local, domain, wild, lookup, domains):
            return bool(accepted) != open_domain
        return _plussed_differ(local, domain, open_domain, verdict)

    out: list[_Record] = []
    for domain in by_domain:
        entries = entries_of(domain)
        ca = catch_alls.get(domain)
        if ca is None:
            catch_all, anchor, anchor_at = None, entries[0], by_domain[domain][0]
        else:
            catch_all = anchor = table.entries[ca]
            anchor_at = ca
        unnamed = verdict(f"{_UNNAMED}@{domain}")
        if unnamed is None:
            report(anchor, "QM102", f"sendmail defers unknown addresses in '{domain}' with a 4xx; "
                   f"qmail's validrcptto rejects them permanently (553)")
        open_domain = unnamed is True
        qmail_does, sendmail_does = ("accepts", "rejects") if open_domain else ("rejects", "accepts")
        if open_domain:
            out.append(_Record(f"@{domain}", "", anchor_at))
        # Plussed addresses sendmail answers otherwise than qmail: one finding per domain.
        plussed: list[tuple[Entry, str]] = []
        if catch_all is not None and plussed_differ(_UNNAMED, domain, open_domain, unnamed):
            plussed.append((catch_all, _UNNAMED))
        for at, entry in zip(by_domain[domain], entries):
            k = entry.key
            if k.kind in _WILDCARDS:
                report(entry, "QM101", f"'{k.text}': qmail has no '+' wildcard (its extension separator "
                       f"is '-'): those addresses get the answer of '@{domain}', which {qmail_does} them")
                continue
            if k.kind is not KeyKind.ADDRESS:
                continue
            address = entry.stored_key
            accepted = verdict(address)
            if accepted is None:
                report(entry, "QM102", f"'{k.text}': sendmail defers it with a 4xx; qmail's "
                       f"validrcptto rejects it permanently (553)")
            if bool(accepted) != open_domain:
                out.append(_Record(address, "" if accepted else REJECT, at))
            local = address.rpartition("@")[0]
            if plussed_differ(local, domain, open_domain, accepted):
                plussed.append((entry, local))
        # A catch-all like '@d  %1@other' gives each local part other's answer for it.
        reached = _reached(domain, catch_all_of, reachable)
        for local in sorted(reached - named(domain) if reached else ()):
            accepted = bool(verdict(f"{local}@{domain}"))
            if accepted != open_domain and ca is not None:
                out.append(_Record(f"{local}@{domain}", "" if accepted else REJECT, ca))
            if catch_all is not None and plussed_differ(local, domain, open_domain, accepted):
                plussed.append((catch_all, local))
        if plussed:
            first, local = min(plussed, key=lambda p: p[0].line)
            example = "an unknown name" if local == _UNNAMED else f"'{local}'"
            others = f" and {len(plussed) - 1} more" if len(plussed) > 1 else ""
            report(first, "QM104", f"'{domain}': sendmail {sendmail_does} 'user+detail' for {example}"
                   f"{others} (through 'user' or a wildcard); qmail has no '+' extensions (its "
                   f"separator is '-') and {qmail_does} every 'user+detail@{domain}', as an unknown address")
    return _writable(out, text, lambda at, code, message: report(table.entries[at], code, message)), \
        sorted(diagnostics, key=Diagnostic.sort_key)


def _plus_like_plain(local: str, domain: str, wild: AbstractSet[str], lookup: LookupTable,
                     domains: AbstractSet[str], hops: int = 4) -> bool:
    """Whether sendmail answers ``local+detail@domain``, whatever the detail, as it answers
    ``local@domain`` (``wild``: the domains with '+' wildcard keys): no key for the
    ``+detail`` form comes first (``local+@domain`` is tried for an empty detail), and the
    key that answers (``local@domain`` or ``@domain``) has a value without ``%2``/``%3``,
    the only arguments a detail changes, unless it is a domain alias ``%1%3@other`` where
    the same holds (``domains``: the local ones; at most ``hops`` aliases). Then the
    ``+detail`` probes need no resolution (#18: they were most of a large table's export;
    tested against them)."""
    if not hops or domain in wild or len(local) + len(domain) >= _SHORT \
            or _PLAIN_LOCAL.fullmatch(local) is None or lookup.get(f"{local}+@{domain}") is not None:
        return False
    value = lookup.get(f"{local}@{domain}")
    if value is None:
        value = lookup.get(f"@{domain}")
    if value is None:
        return False
    alias = _ALIAS.fullmatch(value)
    if alias is not None:  # local+detail@domain -> local+detail@other
        other = fold(alias[1])
        return other not in domains or _plus_like_plain(local, other, wild, lookup, domains, hops - 1)
    return _DETAIL_ARGUMENT.search(value) is None and "(" not in value \
        and not says_not_found(value)


_SHORT = 200
"""Addresses this long and their probes are cut alike at MAXNAME (256) bytes."""
_PLAIN_LOCAL = re.compile(r"[a-z0-9_=-]+(?:\.[a-z0-9_=-]+)*")
"""A folded local part without '+' that sendmail's tokenizer gives back as written."""
_DETAIL_ARGUMENT = re.compile(r"%[2-9]")
_ALIAS = re.compile(r"%1%3@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)")


def _plussed_differ(local: str, domain: str, open_domain: bool,
                    verdict: Callable[[str], bool | None]) -> bool:
    """Whether sendmail answers ``local+detail@domain`` otherwise than qmail, which finds
    no key for it (``-default`` keys are never written) and so gives it ``@domain``'s answer."""
    if local.startswith("+") or "+" in local:
        return False  # sendmail does not split a leading '+'; 'a+b' is a key of its own
    return any(bool(verdict(f"{local}+{d}@{domain}")) != open_domain for d in _DETAILS)


def _writable(out: list[_Record], text: bool,
              report: Callable[[int, str, str], None]) -> list[tuple[str, str]]:
    """The records qmail can hold; the others are reported (QM103, QM105) and left out."""
    kept = []
    for key, value, at in out:
        local, _, domain = key.rpartition("@")
        answer = "rejects" if value else "accepts"
        if not _KEY_BYTES.fullmatch(key) or (text and key[0] in "-#"):
            why = ("only printable ASCII without blanks" if not _KEY_BYTES.fullmatch(key)
                   else "in control/validrcptto a line starting with '-' is a reject, with '#' a comment")
            instead = (f"qmail answers it like an unknown address in '{domain}'; sendmail {answer} it"
                       if local else f"qmail rejects the addresses in '{domain}' it has no key for; "
                       f"sendmail accepts them")
            report(at, "QM105", f"'{key}' cannot be a validrcptto key ({why}); left out, so {instead}")
        elif local.endswith("-default"):
            report(at, "QM103", f"'{key}': to qmail a key ending in '-default' accepts every "
                   f"'{local[:-len('default')]}...@{domain}' address; left out, so qmail answers it like "
                   f"an unknown address in '{domain}'; sendmail {answer} it")
        else:
            kept.append((key, value))
    return kept


def _reached(domain: str, catch_all_of: Callable[[str], Entry | None],
             named: Callable[[str], frozenset[str]]) -> set[str]:
    """Local parts whose answer in ``domain`` may differ from an unnamed one's: those its
    catch-all's ``%1`` forwards onto a name (through further such catch-alls)."""
    found: set[str] = set()
    seen = {domain}
    # Local part L in ``domain`` arrives in ``dom`` as prefix + L + suffix.
    todo = [(domain, "", "")]
    while todo:
        dom, prefix, suffix = todo.pop()
        catch_all = catch_all_of(dom)
        if catch_all is None:
            continue
        local, at, target = catch_all.value_text.strip().rpartition("@")
        local = local.replace("%3", "")  # empty for addresses without '+'
        if not at or local.count("%1") != 1 or "%" in local.replace("%1", ""):
            continue
        before, after = local.split("%1")
        prefix, suffix, target = before + prefix, suffix + after, fold(target)
        for name in named(target):
            if len(name) > len(prefix) + len(suffix) and name.startswith(prefix) and name.endswith(suffix):
                found.add(name[len(prefix):len(name) - len(suffix)])
        if target not in seen:
            seen.add(target)
            todo.append((target, prefix, suffix))
    return found


def _stored(table: Table) -> Iterator[tuple[int, Entry]]:
    """The entry makemap keeps for each stored key (the first), and its index, in table order."""
    later = table.key_index.later
    for i, entry in enumerate(table.entries):
        if i not in later:
            yield i, entry


def _accepts(address: str, lookup: LookupTable, domains: frozenset[str]) -> bool | None:
    """sendmail's RCPT verdict: True (2xx), False (5xx or a loop), None (4xx)."""
    end = quick_end(address, lookup, domains)  # (most addresses: no resolution)
    if end is not None:
        return None if end.kind == "error" and (end.text or "").startswith("4") else end.kind != "error"
    r = resolve(address, lookup, domains)
    if r.kind == "loop":
        return False
    if r.kind == "error":
        return None if (r.text or "").startswith("4") else False
    return True


def _finding(table: Table, entry: Entry, code: str, message: str) -> Diagnostic:
    line, col, end_line, end_col = key_span(entry)
    return Diagnostic(table.path, line, col, end_line, end_col, code, CODES[code], Severity.WARNING, message)


def text_form(recs: list[tuple[str, str]]) -> bytes:
    """``control/validrcptto``: one address a line, ``-`` in front of a reject."""
    return "".join(f"{REJECT if v else ''}{k}\n" for k, v in recs).encode("ascii")


def cdb_form(recs: list[tuple[str, str]]) -> bytes:
    """The cdb, as ``cdbmake`` writes the same records in the same order (pure-cdb)."""
    import cdblib

    buffer = io.BytesIO()
    writer = cdblib.Writer(buffer)
    for key, value in recs:
        writer.put(key.encode("ascii"), value.encode("ascii"))
    writer.finalize()
    return buffer.getvalue()


def require_cdb() -> None:
    try:
        import cdblib  # noqa: F401
    except ImportError:
        from virtc.errors import VirtcError

        raise VirtcError("writing a cdb needs pure-cdb: pip install 'virtc[qmail]' (or use --text)") from None


def export_qmail(table: Table, output: Path, *, text: bool = False) -> list[Diagnostic]:
    """Write validrcptto (cdb, or text with ``text``); return what does not translate exactly."""
    recs, diagnostics = records(table, text=text)
    if not text:
        require_cdb()
    replace_text(output, text_form(recs) if text else cdb_form(recs))
    return diagnostics
