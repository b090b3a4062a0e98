"""The one map encoding: makemap's switches and the (key, value) records they store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from virtc.compat import zip_strict
from virtc.source.reader import encode
from virtc.source.recognise import plain_entries
from virtc.table import Table


@dataclass(frozen=True)
class BuildOptions:
    """makemap's switches that change what is stored, plus lint."""

    dbtype: str = "hash"
    foldcase: bool = True
    """makemap's default; ``-f`` turns it off."""
    null: bool = False
    """``-N``: store a trailing NUL with every key and value."""
    replace: bool = False
    """``-r``: a later duplicate key replaces the earlier one instead of being an error."""
    lint: bool = True
    jobs: int | None = None
    """``-j``: processes for a large table (see :func:`virtc.speed.parallel.use_helper`)."""
    sendmail_cf: str | None = None
    """``--sendmail-cf``: the deployment lint reasons about (default: a sendmail.cf beside the source)."""
    target: str | None = None
    """Lint for this map type (``ldap`` for the LDAP exports; None: as the configuration says)."""


def map_records(table: Table, opts: BuildOptions) -> Iterator[tuple[bytes, bytes]]:
    """The (key, value) byte pairs makemap would put, in source order."""
    nul = b"\0" if opts.null else b""
    if opts.foldcase and not nul:  # the default, in C, from the keys the checks folded already
        yield from zip_strict(table.stored_keys.encoded(), table.values.encoded())
        return
    keys = table.stored_keys if opts.foldcase else table.keys
    for key, value in zip_strict(keys, table.values):
        yield encode(key) + nul, encode(value) + nul


def streamed_records(data: bytes, opts: BuildOptions) -> Iterator[tuple[bytes, bytes]]:
    """:func:`map_records` of a plain source, straight from its bytes (raises NotPlain)."""
    nul = b"\0" if opts.null else b""
    # bytes.lower() folds ASCII letters only, exactly as makemap (and fold()) do.
    if opts.foldcase and not nul:
        for key, value in plain_entries(data):
            yield key.lower(), value
    else:
        for key, value in plain_entries(data):
            yield (key.lower() if opts.foldcase else key) + nul, value + nul
