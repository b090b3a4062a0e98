"""Queried addresses: the key the real sendmail consults equals prescan.lookup_address.

Each address is given to ``sendmail -bt`` (``/parse``) against a table with ``k0@d.test``;
the first virtuser lookup sendmail makes (``-d60.1``) must be the model's address, with
``$j`` standing for the host's own name.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.sendmail import SendmailOracle, SendmailResult

from virtc.lookup.prescan import lookup_address

DOMAIN = "d.test"


def xputs(data: bytes) -> str:
    """How ``sendmail -d60.1`` prints a key (8-bit bytes as ``M-x``)."""
    return "".join(f"M-{chr(c & 0x7F)}" if c >= 0x80 else chr(c) for c in data)

NAMED = {
    "Scott <k0@d.test>": "k0@d.test",
    "<k0@d.test>": "k0@d.test",
    "Name Two <k0@d.test>": "k0@d.test",
    '"k0"@d.test': "k0@d.test",
    '"k 0"@d.test': "k 0@d.test",
    "a b@d.test": "a b@d.test",
    "k0 (comment) @ d.test": "k0@d.test",
    "K0@D.TEST": "K0@D.TEST",
    "k0@[127.0.0.1]": "k0@$j",
    "k0@localhost": "k0@$j",
    "k0@LocalHost": "k0@$j",
    "k0@localhost.": "k0@localhost",
    "@x.example:k0@d.test": "k0@d.test",
    "@x.example,@y.example:k0@d.test": "k0@d.test",
    "k0@d.test;": "k0@d.test",
    "group: k0@d.test;": "k0@d.test",
    "j\xf6rg@d.test": "j\xf6rg@d.test",
    "k0@d.test.": "k0@d.test",
    '"k0@d.test"': "k0@d.test",  # a lone quoted word is unquoted and read again
    # ... by the dequote map, which keeps backslashes (found by the generated test below)
    '<".[\\<@d.test': ".[<@d.test",
    '"k0\\>@d.test"': "k0>@d.test",
    '"k0\\\\@d.test"': "k0\\@d.test",
    '"k0\\ 1@d.test"': "k0 1@d.test",
    '"k0(c)@d.test"': "k0@d.test",
}


def first_keys(tmp_path: Path, addresses: list[str]) -> tuple[str, list[SendmailResult]]:
    src = tmp_path / "virtusertable"
    src.write_text(f"k0@{DOMAIN}\tbob\n")
    with SendmailOracle(src, local_domains=[DOMAIN]) as oracle:
        return oracle.hostname, oracle.resolve(addresses)


def predicted(address: str, hostname: str) -> str | None:
    """The model's key as sendmail -d60.1 prints it (8-bit bytes as ``M-x``)."""
    key = lookup_address(address, hostname.encode())
    return None if key is None else xputs(key)


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, SendmailResult]]:
    hostname, results = first_keys(tmp_path_factory.mktemp("addr"), list(NAMED))
    return hostname, dict(zip(NAMED, results, strict=True))


@pytest.mark.parametrize("address", list(NAMED))
def test_named_address(named: tuple[str, dict[str, SendmailResult]], address: str) -> None:
    hostname, results = named
    want = xputs(NAMED[address].replace("$j", hostname).encode("latin-1"))
    assert results[address].lookups[0][0] == want
    assert predicted(address, hostname) == want


LOCAL = st.lists(st.sampled_from([*'<>"()\\,;:[]. ', "a", "k0", "B", "\xe9", "-", "="]),
                 min_size=1, max_size=8).map("".join)
ADDRESS = st.one_of(
    LOCAL.map(lambda t: f"{t}@{DOMAIN}"),
    LOCAL.map(lambda t: f"{t} <k0@{DOMAIN}>"),
    st.tuples(LOCAL, LOCAL).map(lambda t: f"{t[0]}<{t[1]}@{DOMAIN}>"),
).filter(lambda a: not a.startswith("> "))  # -bt would print "> ..." lines: the harness' prompt


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(ADDRESS, min_size=40, max_size=40))
def test_generated_addresses(tmp_path_factory: pytest.TempPathFactory, addresses: list[str]) -> None:
    hostname, results = first_keys(tmp_path_factory.mktemp("gen"), addresses)
    problems = []
    for address, res in zip(addresses, results, strict=True):
        if res.lookups and res.lookups[0][0] != predicted(address, hostname):
            problems.append(f"{address!r}: sendmail looks up {res.lookups[0][0]!r}, "
                            f"predicted {predicted(address, hostname)!r}")
    assert not problems, "\n".join(problems)
