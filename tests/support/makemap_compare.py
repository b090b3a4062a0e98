"""virtc against the real makemap on the same source bytes (shared by the oracle tests).

``compare(source, workdir, ...)`` runs both and asserts that:

* virtc rejects exactly the records makemap complains about (makemap's ``line N``
  is virtc's ``Record.seq``, the kinds match, and so do the keys makemap names);
* ``virtc build`` writes nothing when makemap complained, and otherwise a map
  whose ``virtc dump`` equals ``makemap -u`` byte for byte and which ``db_verify``
  accepts;
* the records virtc stores (or, after a complaint, would store: makemap still
  writes the good records) equal makemap's, and so does ``db_dump -p`` of the two
  maps, header and record order included (equal ``db_dump -p`` implies equal
  ``makemap -u`` order).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from support.makemap import MakemapResult, Message, db_dump_p, db_verify, run_makemap
from virtc.maps.build import build
from virtc.maps.records import BuildOptions, map_records
from virtc.model import fold
from virtc.source.parse import parse_bytes
from virtc.source.reader import encode
from virtc.source.rejections import find_duplicates
from virtc.table import Table
from virtc.writers import bdb

# virtc's Rejected.reason -> the complaint makemap prints for it.
MAKEMAP_KIND = {"too-long": "too-long", "nul": "too-long", "leading-space": "leading-space",
                "missing-value": "missing-value"}


@dataclass(frozen=True)
class Flags:
    dbtype: str = "hash"
    foldcase: bool = True
    null: bool = False
    replace: bool = False

    def makemap_flags(self) -> list[str]:
        return [f for f, on in (("-f", not self.foldcase), ("-N", self.null), ("-r", self.replace)) if on]

    def options(self) -> BuildOptions:
        return BuildOptions(self.dbtype, self.foldcase, self.null, self.replace, lint=False)


def expected_messages(table: Table, flags: Flags) -> list[Message]:
    """What makemap should say about ``table``, derived from virtc's parse."""
    nul = b"\0" if flags.null else b""
    msgs = []
    for r in table.rejected:
        key = None
        if r.reason == "missing-value" and r.key_text is not None:
            # makemap folds the key before it looks for the value, and names it folded.
            key = encode(fold(r.key_text) if flags.foldcase else r.key_text)
        msgs.append(Message(r.seq, MAKEMAP_KIND[r.reason], key))
    if not flags.replace:
        for _, later in find_duplicates(table, foldcase=flags.foldcase):
            key = next(k for k, _ in map_records(Table("", [later], ""), flags.options()))
            msgs.append(Message(later.seq, "duplicate", key.removesuffix(nul)))
    return sorted(msgs, key=lambda m: m.line)


def makemap_puts(table: Table, flags: Flags) -> list[tuple[bytes, bytes]]:
    """The puts makemap does for ``table``, in order: a duplicate is skipped unless -r
    (then it overwrites, so the put sequence, which shapes the map's layout, keeps it)."""
    seen: set[bytes] = set()
    out = []
    for key, value in map_records(table, flags.options()):
        if key in seen and not flags.replace:
            continue
        seen.add(key)
        out.append((key, value))
    return out


def stored_records(table: Table, flags: Flags) -> dict[bytes, bytes]:
    """What the map holds after those puts."""
    return dict(makemap_puts(table, flags))


def compare(source: bytes, workdir: Path, flags: Flags = Flags(), *, layout: bool = True) -> MakemapResult:
    """Assert virtc and makemap agree on ``source`` (see the module docstring)."""
    mm = run_makemap(source, workdir, dbtype=flags.dbtype, flags=flags.makemap_flags())
    assert mm.other_stderr == [], mm.stderr
    table = parse_bytes(source, str(workdir / "virtc.src"))

    # 1. the same rejected records, by makemap's line counter, kind and key
    said, expected = sorted(mm.messages, key=lambda m: m.line), expected_messages(table, flags)
    assert said == expected, f"makemap said {said}, virtc expected {expected}"
    assert (mm.returncode == 65) == bool(mm.messages), (mm.returncode, mm.stderr)
    if not mm.messages:
        assert mm.returncode == 0, mm.stderr

    # 2. virtc build: nothing written on a complaint, else a verified map equal to makemap's
    src = workdir / "virtc.src"
    src.write_bytes(source)
    out = workdir / "virtc-build.db"
    out.unlink(missing_ok=True)
    result = build(src, out, flags.options())
    if mm.messages:
        assert not result.written and not out.exists(), "virtc wrote a map makemap complained about"
        assert len(result.diagnostics) == len(mm.messages), result.diagnostics
        assert all(d.code == "VT001" for d in result.diagnostics), result.diagnostics
        # makemap still wrote the good records: virtc's records minus the rejected ones.
        ours = workdir / "virtc-records.db"
        ours.unlink(missing_ok=True)
        bdb.write_new_map(ours, makemap_puts(table, flags), flags.dbtype, 0o640)
    else:
        assert result.written and result.records == len(mm.records), (result, mm.records)
        ours = out
        dumped = _virtc_dump(out)
        assert dumped == mm.dump, f"virtc dump {dumped!r} != makemap -u {mm.dump!r}"
        if layout:
            ok, text = db_verify(out)
            assert ok, text

    # 3. the same stored records, map order and layout (db_dump -p, header included)
    # (as makemap -u prints them: a C string ends at its NUL)
    stored = sorted((k.split(b"\0")[0], v.split(b"\0")[0]) for k, v in stored_records(table, flags).items())
    assert sorted(mm.records) == stored, f"makemap stored {mm.records}, virtc {stored}"
    if layout:
        theirs_p, ours_p = db_dump_p(mm.map_file), db_dump_p(ours)
        assert ours_p == theirs_p, f"db_dump -p: makemap {theirs_p!r}, virtc {ours_p!r}"
    return mm


def _virtc_dump(map_file: Path) -> bytes:
    """``virtc dump MAP`` output, through the click command in-process."""
    from support.cli import runner
    from virtc.commands.dump import command

    result = runner().invoke(command, [str(map_file)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes

