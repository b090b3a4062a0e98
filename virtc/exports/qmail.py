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
diagnostics (:data:`CODES`): ``+`` wildcards (qmail's extension separator is ``-``),
keys ending in ``-default`` (a wildcard to qmail), and 4xx rejects (qmail's 553 is
permanent).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from virtc.diagnostics import Diagnostic, Severity
from virtc.lint.facts import key_span
from virtc.lookup.resolve import local_domain_set, resolve
from virtc.lookup.table import LookupTable
from virtc.model import Entry, KeyKind, fold
from virtc.table import Table
from virtc.writers.atomic import replace_text

CODES = {
    "QM101": "qmail-plus-wildcard",
    "QM102": "qmail-temporary-reject",
    "QM103": "qmail-default-key",
}
"""The export's findings (documented in README "Other MTAs")."""

REJECT = "-"
_UNNAMED = "virtc-unnamed-7f3q"
"""A local part no table names: what sendmail does with an unknown address in the domain."""
_WILDCARDS = (KeyKind.USER_ANY, KeyKind.USER_PLUS, KeyKind.DOMAIN_ANY, KeyKind.DOMAIN_PLUS)


def records(table: Table) -> tuple[list[tuple[str, str]], list[Diagnostic]]:
    """The (lower-cased key, value) records in table order, and what does not translate."""
    lookup = LookupTable.from_table(table)
    domains = local_domain_set(lookup.domains)
    out: list[tuple[str, str]] = []
    diagnostics: list[Diagnostic] = []
    by_domain: dict[str, list[Entry]] = {}
    for entry in _stored(table):
        k = entry.key
        if k.kind is KeyKind.UNMATCHABLE:
            continue
        by_domain.setdefault(k.folded_domain, []).append(entry)
    named = {d: {e.stored_key.rpartition("@")[0] for e in es if e.key.kind is KeyKind.ADDRESS}
             for d, es in by_domain.items()}
    for domain, entries in by_domain.items():
        unnamed = _accepts(f"{_UNNAMED}@{domain}", lookup, domains)
        if unnamed is None:
            catch_all = next((e for e in entries if e.key.kind is KeyKind.CATCH_ALL), entries[0])
            diagnostics.append(_finding(table, catch_all, "QM102", (
                f"sendmail defers unknown addresses in '{domain}' with a 4xx; qmail's validrcptto "
                f"rejects them permanently (553)")))
        open_domain = unnamed is True
        if open_domain:
            out.append((f"@{domain}", ""))
        for entry in entries:
            k = entry.key
            if k.kind in _WILDCARDS:
                verdict = "accepts" if open_domain else "rejects"
                diagnostics.append(_finding(table, entry, "QM101", (
                    f"'{k.text}': qmail has no '+' wildcard (its extension separator is '-'): "
                    f"those addresses get the answer of '@{domain}', which {verdict} them")))
                continue
            if k.kind is not KeyKind.ADDRESS:
                continue
            address = entry.stored_key
            if address.split("@", 1)[0].endswith("-default"):
                diagnostics.append(_finding(table, entry, "QM103", (
                    f"'{k.text}': to qmail a key ending in '-default' accepts every "
                    f"'{k.user[:-len('default')]}...@{domain}' address; not exported, so qmail "
                    f"{'accepts' if open_domain else 'rejects'} it as it does unknown addresses")))
                continue
            accepted = _accepts(address, lookup, domains)
            if accepted is None:
                diagnostics.append(_finding(table, entry, "QM102", (
                    f"'{k.text}': sendmail defers it with a 4xx; qmail's validrcptto rejects it "
                    f"permanently (553)")))
            if bool(accepted) != open_domain:
                out.append((address, "" if accepted else REJECT))
        # A catch-all like '@d  %1@other' gives each local part other's answer for it.
        for local in sorted(_reached(domain, by_domain, named) - named.get(domain, set())):
            accepted = bool(_accepts(f"{local}@{domain}", lookup, domains))
            if accepted != open_domain:
                out.append((f"{local}@{domain}", "" if accepted else REJECT))
    return out, sorted(diagnostics, key=Diagnostic.sort_key)


def _reached(domain: str, by_domain: dict[str, list[Entry]], named: dict[str, set[str]]) -> set[str]:
    """Local parts whose answer in ``domain`` may differ from an unnamed one's: those its
    catch-all's ``%1`` forwards onto a name (through further such catch-alls)."""
    found: set[str] = set()
    seen = {domain}
    # Local part L in ``domain`` arrives in ``dom`` as prefix + L + suffix.
    todo = [(domain, "", "")]
    while todo:
        dom, prefix, suffix = todo.pop()
        catch_all = next((e for e in by_domain.get(dom, ()) if e.key.kind is KeyKind.CATCH_ALL), None)
        if catch_all is None:
            continue
        local, at, target = catch_all.value_text.strip().rpartition("@")
        local = local.replace("%3", "")  # empty for addresses without '+'
        if not at or local.count("%1") != 1 or "%" in local.replace("%1", ""):
            continue
        before, after = local.split("%1")
        prefix, suffix, target = before + prefix, suffix + after, fold(target)
        for name in named.get(target, ()):
            if len(name) > len(prefix) + len(suffix) and name.startswith(prefix) and name.endswith(suffix):
                found.add(name[len(prefix):len(name) - len(suffix)])
        if target not in seen:
            seen.add(target)
            todo.append((target, prefix, suffix))
    return found


def _stored(table: Table) -> Iterator[Entry]:
    """The entry makemap keeps for each stored key (the first), in table order."""
    seen: set[str] = set()
    for entry in table.entries:
        key = entry.stored_key
        if key not in seen:
            seen.add(key)
            yield entry


def _accepts(address: str, lookup: LookupTable, domains: frozenset[str]) -> bool | None:
    """sendmail's RCPT verdict: True (2xx), False (5xx or a loop), None (4xx)."""
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
    return "".join(f"{REJECT if v else ''}{k}\n" for k, v in recs).encode("latin-1")


def cdb_form(recs: list[tuple[str, str]]) -> bytes:
    """The cdb, as ``cdbmake`` writes the same records in the same order (pure-cdb)."""
    import cdblib

    buffer = io.BytesIO()
    writer = cdblib.Writer(buffer)
    for key, value in recs:
        writer.put(key.encode("latin-1"), value.encode("latin-1"))
    writer.finalize()
    return buffer.getvalue()


def export_qmail(table: Table, output: Path, *, text: bool = False) -> list[Diagnostic]:
    """Write validrcptto (cdb, or text with ``text``); return what does not translate exactly."""
    recs, diagnostics = records(table)
    if not text:
        try:
            import cdblib  # noqa: F401
        except ImportError:
            from virtc.errors import VirtcError

            raise VirtcError("writing a cdb needs pure-cdb: pip install 'virtc[qmail]' "
                             "(or use --text)") from None
    replace_text(output, text_form(recs) if text else cdb_form(recs))
    return diagnostics
