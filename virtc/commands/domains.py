"""`virtc domains`: one row per domain of a table (virtc.lookup.overview)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import click


@click.command("domains")
@click.argument("table_path", metavar="[PATH]", required=False, default=Path("virtusertable"),
                type=click.Path(readable=False, path_type=Path))
@click.option("--local-domains", type=click.Path(readable=False, path_type=Path),
              help="local-host-names style file of the local domains (default: the table's domains).")
@click.option("--virthost", is_flag=True, help="The domains are VIRTUSER_DOMAINs (see virtc query).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per domain.")
@click.option("--no-color", is_flag=True, help="No colours (also NO_COLOR=1).")
def command(table_path: Path, local_domains: Path | None, virthost: bool, as_json: bool,
            no_color: bool) -> None:
    """Per domain of PATH (a source or a built .db; default ./virtusertable): its entries,
    what sendmail does with an address the table does not name there (the catch-all:
    reject, forward, none or broken), forwards out and in, whether it is local, and whether
    it is open (accepts unknown users). Exit 0."""
    from virtc.lookup import load_lookup_table, local_domain_set, read_local_domains
    from virtc.lookup.overview import DomainRow, domains

    table = load_lookup_table(table_path)
    listed = read_local_domains(local_domains) if local_domains is not None else None
    rows = domains(table, local_domain_set(table.domains if listed is None else listed),
                   virthost=virthost)
    if as_json:  # (a domain a line: 300k of them indented by json's Python encoder took 4 s)
        from virtc.formatters import ITEMS, readable_json, write_json

        write_json(ITEMS, (readable_json(r.to_json()) for r in rows), sys.stdout, ensure_ascii=False)
        return
    from virtc.formatters import safe, write_lines
    from virtc.formatters.text import painter

    paint = painter(sys.stdout, False if no_color else None)
    # Laid out here, not by rich's Table (0.35 ms a row: 35 s for 63k domains), and never
    # cut to the terminal's width: a domain name shows whole.
    header = ("domain", "entries", "catch-all", "out", "in", "local", "open")

    def cells(r: DomainRow) -> list[str]:
        policy = safe(f"{r.catch_all}: {r.outcome}" if r.outcome else r.catch_all)
        return [safe(r.domain), str(r.entries), policy, str(r.forwards_out), str(r.forwards_in),
                "yes" if r.local else "no", "OPEN" if r.open else "no"]

    # The cells twice (widths, then lines): all of them at once cost 500 bytes a domain.
    widths = list(map(_width, header))
    for r in rows:
        widths = list(map(max, widths, map(_width, cells(r))))

    def lines() -> Iterator[str]:
        yield paint(_row(header, list(map(_width, header)), widths), "bold")
        for r in rows:
            row = cells(r)
            text = _row(row, list(map(_width, row)), widths)
            yield text[:-4] + paint("OPEN", "bold red") if row[-1] == "OPEN" else text
        n_open = sum(r.open for r in rows)
        summary = f"{len(rows)} domain{'s' if len(rows) != 1 else ''}, {n_open} open"
        yield paint(summary, "bold red") if n_open else summary

    write_lines(sys.stdout, lines())


_RIGHT = (False, True, False, True, True, False, False)
"""Which columns are numbers (right-aligned)."""


def _width(text: str) -> int:
    """Terminal cells ``text`` takes (one a character unless it is beyond ASCII)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _row(cells: Sequence[str], sizes: list[int], widths: list[int]) -> str:
    """``cells`` (``sizes`` cells wide) padded to the columns' ``widths``, two spaces apart."""
    return "  ".join(" " * (w - n) + c if right else c + " " * (w - n)
                     for c, n, w, right in zip(cells, sizes, widths, _RIGHT)).rstrip()
