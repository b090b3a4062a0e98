"""The lookup engine against the real sendmail -bt, on generated tables and addresses.

For every address the engine must try the same keys in the same order as sendmail
(``-d60.1`` trace), find the same ones, and end where sendmail ends: local user,
relay address, error status and reply text, or excessive recursion.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from support.sendmail import SendmailOracle, SendmailResult
from support.tables import REFUSED, VALUES, make_addresses, make_table

from virtc.compat import zip_strict
from virtc.lookup import LookupTable, Resolution, resolve
from virtc.model import fold
from virtc.source.parse import parse_file


# -- seeded generators: tables and addresses -------------------------------------
def mismatch(res: Resolution, sm: SendmailResult) -> str | None:
    """Why the engine's answer differs from sendmail's, or None."""
    ours = [(lk.key, lk.value is not None) for step in res.steps for lk in step.lookups]
    theirs = [(k, v is not None) for k, v in sm.lookups]
    if res.kind == "loop":
        if not sm.recursion:
            return "engine says loop, sendmail does not"
        return None if theirs[:len(ours)] == ours else f"lookups {ours} != {theirs[:len(ours)]}"
    if sm.recursion:
        return "sendmail hit excessive recursion"
    if ours != theirs:
        return f"lookups {ours} != {theirs}"
    got: tuple[str | None, ...]
    if sm.mailer in REFUSED:
        want: tuple[str | None, ...] = ("error", REFUSED[sm.mailer])
        got = (res.kind, res.text)
    elif sm.mailer == "error":
        want, got = ("error", sm.host, sm.reply), (res.kind, res.status, res.text)
    elif sm.mailer == "local":
        want, got = ("local", sm.user), ("local" if res.kind == "unmatched" else res.kind, res.result)
    else:
        relay = {"remote", "not-local", "unmatched"}
        want, got = ("relay", sm.user), ("relay" if res.kind in relay else res.kind, res.result)
    return None if want == got else f"{got} != sendmail {want}"


def compare(table_path: Path, addresses: list[str], *, virthost: bool = False,
            entire_domain: bool = False) -> list[str]:
    table = LookupTable.from_table(parse_file(table_path))
    features = ("virtuser_entire_domain",) if entire_domain else ()
    with SendmailOracle(table_path, virthost=virthost, features=features) as oracle:
        assert sorted(oracle.domains) == sorted(table.domains)
        results = oracle.resolve(addresses)
    problems = []
    for addr, sm in zip_strict(addresses, results):
        if sm.user and oracle.hostname:  # the engine writes sendmail's own name as $j
            sm = replace(sm, user=sm.user.replace(oracle.hostname, "$j"))
        res = resolve(addr, table, entire_domain=entire_domain, virthost=virthost)
        why = mismatch(res, sm)
        if why:
            problems.append(f"{addr}: {why}")
    return problems


@pytest.mark.parametrize(("seed", "virthost", "entire_domain"), [
    (1, False, False), (2, True, False), (3, True, True),
])
def test_engine_matches_sendmail(sendmail: str, tmp_path: Path, seed: int, virthost: bool,
                                 entire_domain: bool) -> None:
    rng = random.Random(seed)
    table = tmp_path / "virtusertable"
    table.write_text(make_table(rng))
    addresses = make_addresses(rng, 3000, subdomains=entire_domain)
    problems = compare(table, addresses, virthost=virthost, entire_domain=entire_domain)
    assert not problems, f"{len(problems)} differences, e.g.:\n" + "\n".join(problems[:25])


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10, 16))
def test_engine_matches_sendmail_many_seeds(sendmail: str, tmp_path: Path, seed: int) -> None:
    """The long version of test_engine_matches_sendmail (make test-all)."""
    rng = random.Random(seed)
    table = tmp_path / "virtusertable"
    table.write_text(make_table(rng, size=400))
    virthost, entire = [(False, False), (True, False), (True, True)][seed % 3]
    addresses = make_addresses(rng, 5000, subdomains=entire)
    problems = compare(table, addresses, virthost=virthost, entire_domain=entire)
    assert not problems, f"{len(problems)} differences, e.g.:\n" + "\n".join(problems[:25])


EXTRA_VALUES = ("%%1", "a%xb", "%9z", "x%4y", "Mixed+Case%3", "first last third", "<%1@out.test>",
                '"%1"', "%1@%2.test", "%2@d.test", "%3x", "x%%%1", "%1@D.TEST.", "ab@D.Test", "@d.test",
                "h!%1", "a.b!%1", "%1@x..y", "%1@x:y",
                "a%b%c", "%1@[1.2.3.4]")


def test_every_value_through_every_key_shape(sendmail: str, tmp_path: Path) -> None:
    """Each value behind each key shape, reached by plain, plussed and empty-detail addresses."""
    lines, addrs = [], []
    for i, value in enumerate(VALUES + EXTRA_VALUES):
        lines += [f"v{i}@d.test {value}\n", f"w{i}+*@d.test {value}\n", f"y{i}++@d.test {value}\n",
                  f"@c{i}.test {value}\n", f"++@p{i}.test {value}\n", f"+*@s{i}.test {value}\n"]
        addrs += [f"V{i}@d.test", f"w{i}+Tag@d.test", f"w{i}+@D.test", f"y{i}+Det@d.test",
                  f"y{i}+@d.test", f"Who@c{i}.test", f"who+Det@C{i}.test", f"u+X@p{i}.test",
                  f"u+@p{i}.test", f"u+Y@s{i}.test", f"u+@s{i}.test"]
    addrs += ["+lead@d.test", "++x@d.test", "a+b+c@d.test", "bob@d.test.", "<v0@d.test>", "bob",
              "@d.test", "bob@", "a@b@d.test", "Bob+@c1.test", "v1%c1.test@d.test", "h!w2@d.test"]
    table = tmp_path / "vt"
    table.write_text("".join(lines))
    problems = compare(table, addrs)
    assert not problems, f"{len(problems)} differences, e.g.:\n" + "\n".join(problems[:25])


def test_generated_cases_cover_every_kind(tmp_path: Path) -> None:
    """The generated data really exercises each outcome (else the oracle test proves little)."""
    rng = random.Random(1)
    table_path = tmp_path / "virtusertable"
    table_path.write_text(make_table(rng))
    table = LookupTable.from_table(parse_file(table_path))
    kinds = {resolve(a, table).kind for a in make_addresses(rng, 3000)}
    assert kinds == {"local", "remote", "error", "unmatched", "not-local", "loop"}


def test_chain_lengths_at_sendmails_limit(sendmail: str, tmp_path: Path) -> None:
    table = tmp_path / "vt"
    table.write_text(make_table(random.Random(5), size=0))
    t = LookupTable.from_table(parse_file(table))
    kinds = {n: resolve(f"c{n}x0@d3.test", t).kind for n in range(14, 19)}
    assert kinds == {14: "local", 15: "local", 16: "loop", 17: "loop", 18: "loop"}  # 17 hits: too many
    assert not compare(table, [f"c{n}x0@d3.test" for n in range(14, 19)])


def test_error_texts_are_sendmails_rcpt_replies(sendmail: str, tmp_path: Path) -> None:
    """Engine ``text`` for error values equals the real RCPT TO reply (sendmail -bs)."""
    table = tmp_path / "vt"
    table.write_text("".join(f"v{i}+*@d.test {v}\n" for i, v in enumerate(VALUES)))
    t = LookupTable.from_table(parse_file(table))
    addrs = [f"v{i}+Tag@d.test" for i in range(len(VALUES))]
    with SendmailOracle(table) as oracle:
        replies = oracle.smtp_replies(addrs, delivery_mode="background")
    checked = 0
    for addr, real in zip_strict(addrs, replies):
        res = resolve(addr, t)
        if res.kind == "error":
            assert res.text == real, addr
            checked += 1
        elif res.kind in ("local", "remote"):
            assert real.startswith(("250", "550 5.1.1 User unknown")), (addr, real)
    assert checked >= 20


ODD_REPLY_CODES = (
    "error:5.1.1:650 six", "error:nouser 650 six", "error:5.1.1:354 three", "error:nouser 354 three",
    "error:5.1.1:760 seven", "error:nouser 999 nine", "error:5.1.1:199 one", "error:nouser 250 ok",
    "error:4.2.2:650 x",
)


def test_odd_reply_codes_match_real_rcpt_replies(sendmail: str, tmp_path: Path) -> None:
    """Reply classes other than 2/4/5: what sendmail really sends at RCPT time."""
    table = tmp_path / "vt"
    table.write_text("".join(f"v{i}@d.test {v}\n" for i, v in enumerate(ODD_REPLY_CODES)))
    t = LookupTable.from_table(parse_file(table))
    addrs = [f"v{i}@d.test" for i in range(len(ODD_REPLY_CODES))]
    with SendmailOracle(table) as oracle:
        replies = oracle.smtp_replies(addrs)
    assert [resolve(a, t).text for a in addrs] == replies


def test_lookup_is_folded_and_first_value_wins() -> None:
    t = LookupTable.from_pairs([("a@d.test", "first"), ("a@d.test", "second")])
    assert t.get("A@D.Test") == "first" and fold("É@D") == "É@d"
