"""What makemap itself rejects: these always block a build, lint or not.

makemap reports each bad line, skips it, and still writes the map (exit 65);
virtc reports the same lines as VT001 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from virtc.diagnostics import Diagnostic, Severity
from virtc.model import Entry, Rejected, fold
from virtc.speed.keyindex import KeyIndex
from virtc.table import Table

CODE = "VT001"
NAME = "syntax-error"


def rejected_diagnostic(path: str, rej: Rejected) -> Diagnostic:
    return Diagnostic(
        path, rej.line, rej.column, rej.line, rej.end_column, CODE, NAME, Severity.ERROR, rej.message
    )


def find_duplicates(table: Table, *, foldcase: bool = True) -> Iterator[tuple[Entry, Entry]]:
    """Yield ``(first, later)`` for every entry whose key came before (after ASCII folding).

    makemap keeps the first value (its put uses DB_NOOVERWRITE) unless ``-r``. With
    folding, the table's key index (shared with lint) finds them; without, one over the keys as written.
    """
    index = table.key_index if foldcase else KeyIndex(table.keys)
    entries = table.entries
    for first, later in index.duplicates:
        yield entries[first], entries[later]


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
        for first, later in find_duplicates(table, foldcase=foldcase):
            diags.append(
                Diagnostic(
                    table.path, later.line, later.column, later.line,
                    later.column + len(later.key_text), CODE, NAME, Severity.ERROR,
                    duplicate_message(first, later),
                )
            )
    yield from sorted(diags, key=Diagnostic.sort_key)
