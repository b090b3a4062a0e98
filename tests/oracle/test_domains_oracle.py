"""`virtc domains` and `virtc query --reverse` against the real sendmail -bt, on fixtures
and generated tables (forwards between local domains, +detail keys, %1, error catch-alls)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from support.oracles import ROOT
from support.sendmail import SendmailOracle, SendmailResult
from support.tables import REFUSED, USERS, make_table

from virtc.lookup import load_lookup_table, local_domain_set
from virtc.lookup.overview import domains, reverse

FIXTURES = [*sorted((ROOT / "fixtures").glob("*/virtusertable")), ROOT / "fixtures" / "virtusertable"]


def _sendmail_open(r: SendmailResult) -> bool:
    """sendmail accepts the address at RCPT: not the error mailer, not a loop, and not a
    program, file or include, which sendmail -bs refuses at RCPT (support.tables.REFUSED)."""
    return r.mailer not in (None, "error", *REFUSED) and not r.recursion


def _first_hit(r: SendmailResult) -> str | None:
    """The first key sendmail found and used ('@' and '!' values read as not found)."""
    return next((k.lower() for k, v in r.lookups if v not in (None, "@", "!")), None)


def _tables(tmp_path: Path) -> list[Path]:
    out = list(FIXTURES)
    for seed in range(6):
        path = tmp_path / f"gen{seed}.vt"
        path.write_text(make_table(random.Random(seed), size=60), encoding="latin-1")
        out.append(path)
    return out


def test_open_and_catch_all_are_what_sendmail_does(sendmail: str, tmp_path: Path) -> None:
    checked = 0
    for path in _tables(tmp_path):
        table = load_lookup_table(path)
        rows = domains(table, local_domain_set(table.domains))
        with SendmailOracle(path) as oracle:
            answers = oracle.resolve([r.probe for r in rows])
        for row, answer in zip(rows, answers):
            assert row.open == _sendmail_open(answer), (path, row, answer)
            if row.catch_all == "reject":
                assert answer.mailer == "error" and answer.reply == row.outcome, (path, row, answer)
            if row.catch_all == "none":
                assert answer.mailer == "local", (path, row, answer)  # the unknown name, delivered locally
            checked += 1
    assert checked >= 15


@pytest.mark.parametrize("seed", range(3))
def test_reverse_lists_exactly_the_keys_sendmail_sends_to_the_user(sendmail: str, tmp_path: Path,
                                                                  seed: int) -> None:
    path = tmp_path / "gen.vt"
    path.write_text(make_table(random.Random(100 + seed), size=80), encoding="latin-1")
    table = load_lookup_table(path)
    local = local_domain_set(table.domains)
    plain = [k for k in table.values if "@" in k[1:] and not k.startswith("@")
             and not k.split("@")[0].endswith(("+*", "++"))]
    with SendmailOracle(path) as oracle:
        truth = dict(zip(plain, oracle.resolve(plain)))
        for user in (*USERS, "bob-detail", "someone@out.test"):
            origins = reverse(table, user, local)
            listed = {o.key for o in origins}
            answers = oracle.resolve([o.address for o in origins])
            for origin, answer in zip(origins, answers):
                got = answer.user if answer.mailer == "local" else (answer.user or "")
                assert answer.mailer in ("local", "esmtp"), (origin, answer)
                assert (got.lower() if "@" in user else got) == (user.lower() if "@" in user else user), \
                    (origin, answer)
            for key, answer in truth.items():
                if answer.mailer == "local" and answer.user == user and _first_hit(answer) == key:
                    assert key in listed, (user, key, answer)
