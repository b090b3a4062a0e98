"""``virtc export postfix`` against the real servers: the same RCPT answer class.

For a table, every address derived from it (each key's address, a ``+detail`` variant
of each, an unlisted name and postmaster in every domain) is sent as RCPT TO to a
private Postfix running the export and to ``sendmail -bs`` (deferred mode) with the
table. Both must accept, both reject 5xx with the same code, or both defer 4xx.
Addresses that pass through a line the export reported (a PF diagnostic) are left out:
those are the lines it says Postfix answers differently.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.oracles import FIXTURES, TEST_DATA
from support.postfix import PostfixServer, require_postfix
from support.sendmail import SendmailOracle
from support.tables import make_table

from virtc.exports.postfix import export_postfix
from virtc.lookup.resolve import resolve
from virtc.lookup.table import LookupTable
from virtc.model import MAXNAME, KeyKind, fold
from virtc.source.parse import parse_file

pytestmark = pytest.mark.oracle

TABLES = 30
"""Generated tables per run (each: one export, one Postfix reload, one sendmail session)."""


@pytest.fixture(scope="module")
def postfix(request: pytest.FixtureRequest) -> Iterator[PostfixServer]:
    require_postfix()
    server = PostfixServer()
    request.addfinalizer(server.close)
    yield server


def derived_addresses(lookup: LookupTable) -> list[str]:
    """The addresses a table speaks about, with and without a ``+detail``."""
    out: dict[str, None] = {}
    for key in lookup.values:
        parsed = lookup.entries[key].key if lookup.entries else None
        if parsed is None or parsed.kind is KeyKind.UNMATCHABLE or not key.isascii() or " " in key:
            continue
        user, domain = parsed.user, parsed.domain
        if parsed.kind is KeyKind.ADDRESS:
            out[key] = None
            if "+" not in user:
                out[f"{user}+ox@{domain}"] = None
        elif parsed.kind in (KeyKind.USER_PLUS, KeyKind.USER_ANY):
            out[f"{user}+ox@{domain}"] = out[f"{user}+@{domain}"] = None
        elif parsed.kind in (KeyKind.DOMAIN_PLUS, KeyKind.DOMAIN_ANY):
            out[f"someone+ox@{domain}"] = None
    for domain in lookup.domains:
        if domain.isascii() and " " not in domain:
            for local in ("virtc-nobody", "virtc-nobody+ox", "postmaster"):
                out[f"{local}@{domain}"] = None
    return list(out)


def lines_read(address: str, lookup: LookupTable) -> set[int]:
    """The lines whose values sendmail reads for ``address`` (a '!' value too)."""
    res = resolve(address, lookup)
    return {lookup.entries[fold(x.key)[:MAXNAME]].line for step in res.steps for x in step.lookups
            if x.value is not None}


def answer_class(reply: str) -> str:
    """``accept``, ``reject 550`` (the code matters) or ``defer``."""
    code = reply[:3]
    return "accept" if code[0] == "2" else "defer" if code[0] == "4" else f"reject {code}"


def compare(source: Path, out: Path, postfix: PostfixServer) -> int:
    """Export ``source`` and compare both servers' answers; return how many addresses."""
    table = parse_file(source)
    reported = {d.line for d in export_postfix(table, out)}
    lookup = LookupTable.from_table(table)
    addresses = [a for a in derived_addresses(lookup) if not lines_read(a, lookup) & reported]
    postfix.load(out)
    theirs = postfix.rcpt_replies(addresses)
    with SendmailOracle(source) as sendmail:
        ours = sendmail.smtp_replies(addresses)
    wrong = [(a, s, p) for a, s, p in zip(addresses, ours, theirs) if answer_class(s) != answer_class(p)]
    assert not wrong, "\n".join(f"{a}: sendmail {s!r}, postfix {p!r}" for a, s, p in wrong[:20]) + \
        f"\n{source.read_text(errors='replace')}\n" + \
        "".join(f"--- {f.name}\n{f.read_text()}" for f in sorted(out.iterdir()))
    return len(addresses)


@pytest.mark.parametrize("source", [*sorted(FIXTURES.glob("**/virtusertable")), TEST_DATA / "query/basic.vt"],
                         ids=lambda p: str(p.relative_to(p.parents[1])))
def test_fixtures(postfix: PostfixServer, tmp_path: Path, source: Path) -> None:
    assert compare(source, tmp_path / "out", postfix) > 0


@settings(max_examples=TABLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_generated_tables(postfix: PostfixServer, tmp_path_factory: pytest.TempPathFactory, seed: int,
                          plain: bool) -> None:
    """Random tables; ``plain`` keeps only user@domain and @domain keys without %N, the
    tables the hash maps carry alone (the others are mostly regexp domains)."""
    work = tmp_path_factory.mktemp("pf")
    source = work / "virtusertable"
    text = make_table(random.Random(seed), size=30)
    if plain:
        text = "".join(line for line in text.splitlines(keepends=True)
                       if "%" not in line and "+" not in line.split("\t")[0].split(" ")[0])
    source.write_text(text)
    start = time.monotonic()
    assert compare(source, work / "out", postfix) > 0
    assert time.monotonic() - start < 30
