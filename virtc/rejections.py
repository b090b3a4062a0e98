"""What makemap itself rejects: these always block a build, lint or not.

makemap reports each bad line, skips it, and still writes the map (exit 65);
virtc reports the same lines as VT001 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from virtc.diagnostics import Diagnostic, Severity
from virtc.model import Entry, Rejected, Table, fold

CODE = "VT001"
NAME = "syntax-error"


def rejected_diagnostic(path: str, rej: Rejected) -> Diagnostic:
    return Diagnostic(
        path, rej.line, rej.column, rej.line, rej.end_column, CODE, NAME, Severity.ERROR, rej.message
    )


def find_duplicates(
    entries: Iterable[Entry], *, foldcase: bool = True
) -> Iterator[tuple[Entry, Entry]]:
    """Yield ``(first, later)`` for every key seen before (after ASCII folding).

    makemap keeps the first value (its put uses DB_NOOVERWRITE) unless ``-r``.
    """
    entries = entries if isinstance(entries, list) else list(entries)
    if not entries:
        return
    # Keys never hold a newline: fold them all at once, and decide the usual case (no
    # duplicate at all) with a set, both in C.
    joined = "\n".join([e.key_text for e in entries])
    keys = (fold(joined) if foldcase else joined).split("\n")
    if len(set(keys)) == len(keys):
        return
    yield from _repeated(keys, entries)


def _repeated(keys: list[str], entries: list[Entry]) -> Iterator[tuple[Entry, Entry]]:
    """``(first, later)`` for every entry whose key (``keys``, parallel) came before."""
    first: dict[str, Entry] = {}
    for key, entry in zip(keys, entries, strict=True):
        seen = first.setdefault(key, entry)
        if seen is not entry:
            yield seen, entry


def duplicate_message(first: Entry, later: Entry, *, replace: bool = False) -> str:
    kept = later if replace else first
    return (
        f"duplicate key '{fold(later.key_text)}': already defined on line {first.line}; "
        f"makemap keeps the value from line {kept.line} ('{kept.value_text.rstrip()}')"
    )


def makemap_rejections(
    table: Table, *, foldcase: bool = True, replace: bool = False
) -> Iterator[Diagnostic]:
    """VT001 for every line makemap rejects, in file order (duplicates unless ``replace``)."""
    diags = [rejected_diagnostic(table.path, r) for r in table.rejected]
    if not replace:
        # With folding, the table's stored keys (which the lint index shares) say it all.
        repeats = (_repeated(table.stored_keys, table.entries) if table.repeats_a_key else iter(())) \
            if foldcase else find_duplicates(table.entries, foldcase=False)
        for first, later in repeats:
            diags.append(
                Diagnostic(
                    table.path, later.line, later.column, later.line,
                    later.column + len(later.key_text), CODE, NAME, Severity.ERROR,
                    duplicate_message(first, later),
                )
            )
    yield from sorted(diags, key=Diagnostic.sort_key)
