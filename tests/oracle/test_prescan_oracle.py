"""virtc.lookup.prescan against the real sendmail: tokens, complaints, replies, limits.

Each value is stored in a virtusertable under ``kN@d.test`` (``d.test`` local) and the
address is resolved with ``sendmail -bt`` and sent as ``RCPT TO`` with ``sendmail -bs``.
The model must predict: the RCPT reply whenever prescan complains or the value is an
``error:`` value; the value's tokens (``Recurse input:`` line of ``-bt``); and for the
named forms of issue 17, where sendmail routes the mail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.sendmail import SendmailOracle, SendmailResult

from virtc.lookup.prescan import canonical, prescan, rcpt_reply

DOMAIN = "d.test"
_PREFIX = re.compile(r"^((?:\d\.\d{1,3}\.\d{1,3} )?)<.*?>\.\.\. ", re.S)


def as_harness(reply: str) -> str:
    """Our predicted reply as the harness reports it (it cuts a leading ``<...>... ``)."""
    code, _, rest = reply.partition(" ")
    return code + " " + _PREFIX.sub(r"\1", rest)


def xputs(token: bytes) -> str:
    """How ``sendmail -bt`` prints a token (8-bit bytes as ``M-x``)."""
    return "".join(f"M-{chr(c & 0x7F)}" if c >= 0x80 else chr(c) for c in token)


def recurse_input(result: SendmailResult) -> str | None:
    m = re.search(r"(?m)^Recurse +input: (.*)$", result.raw)
    return m.group(1) if m else None


def run(tmp_path: Path, values: list[str]) -> tuple[list[SendmailResult], list[str]]:
    src = tmp_path / "virtusertable"
    src.write_bytes("".join(f"k{i}@{DOMAIN}\t{v}\n" for i, v in enumerate(values)).encode("latin-1"))
    addresses = [f"k{i}@{DOMAIN}" for i in range(len(values))]
    # sendmail -bt prints the complaint about a value starting with "> " at the start of a
    # line, which the harness would take for its prompt: such values get the RCPT test only.
    parse = [a for a, v in zip(addresses, values, strict=True) if not v.startswith("> ")]
    with SendmailOracle(src, local_domains=[DOMAIN]) as oracle:
        parsed = dict(zip(parse, oracle.resolve(parse), strict=True))
        replies = oracle.smtp_replies(addresses)
    return [parsed.get(a, SendmailResult(a, None, None, None)) for a in addresses], replies


def check(values: list[str], results: list[SendmailResult], replies: list[str]) -> None:
    """Every prediction the model makes for these values holds for sendmail."""
    problems = []
    for value, res, reply in zip(values, results, replies, strict=True):
        scan = prescan(value)
        predicted = rcpt_reply(value)
        if predicted is not None and as_harness(predicted) != reply:
            problems.append(f"{value!r}: reply {reply!r}, predicted {as_harness(predicted)!r}")
        if predicted is None and re.search(r"Unbalanced|prescan:|Address too long", reply):
            problems.append(f"{value!r}: sendmail complains {reply!r}, model does not")
        seen = recurse_input(res)
        toks = scan.tokens
        if (seen is not None and not scan.fatal and b"<" not in toks and b">" not in toks
                and not (len(toks) > 1 and toks[0].lower() == b"error" and toks[1] == b":")):
            want = " ".join(xputs(t) for t in toks)
            if seen != want:
                problems.append(f"{value!r}: tokens {seen!r}, predicted {want!r}")
    assert not problems, "\n".join(problems)


# -- named cases: each bullet of issue 17 (values) -----------------------------------

NAMED_ROUTES = {
    # value -> (mailer, user) sendmail -bt gives
    "Bob <bob@example.net>": ("esmtp", "bob@example.net"),
    "<x@y.example>": ("esmtp", "x@y.example"),
    "Name Two <x@y.example>": ("esmtp", "x@y.example"),
    "@b.example:bob@c.example": ("esmtp", "bob@c.example"),
    "@a.example,@b.example:bob@c.example": ("esmtp", "bob@c.example"),
    '"scott"@example.net': ("esmtp", '"scott"@example.net'),
    "bob,": ("local", "bob,"),
    "bob (Bob Smith)": ("local", "bob"),
    "bob;": ("local", "bob"),
    "local:bob": ("local", "bob"),
}

NAMED_REPLIES = {
    "<bob": "553 5.0.0 <bob... Unbalanced '<'",
    "bob>": "553 5.0.0 bob>... Unbalanced '>'",
    '"bob': "553 5.0.0 \"bob... Unbalanced '\"'",
    "(bob": "553 5.0.0 (bob... Unbalanced '('",
    "bob)": "553 5.0.0 bob)... Unbalanced ')'",
    '<"x': "553 5.0.0 <\"x... Unbalanced '\"'",  # the first complaint is sent
    "a)b>c": "553 5.0.0 a)b>c... Unbalanced ')'",
    "a" * 257: f"553 5.1.0 {'a' * 100}...{'a' * 100}... prescan: token too long",
    "x@" + "b" * 257: f"553 5.1.0 x@{'b' * 98}...{'b' * 100}... prescan: token too long",
    "." * 626: "553 5.1.1 " + "." * 100 + "..." + "." * 100 + "... Address too long",
    "bob, carol": "553 5.1.3 Invalid route address",
    "error:5.1.1:550 \xe9t\xe9 here": "550 5.1.1 iti here",
    "error:5.1.1:550 a : b , c ; d": "550 5.1.1 a:b,c;d",
    "error:5.1.1:550 a   b (comment) c": "550 5.1.1 a b c",
    'error:5.1.1:550 "q  s" x': "553 5.3.0 550q  sx",
    "error:5.1.1:550 a\\b": "550 5.1.1 ab",
    "error:nouser 550 caf\xe9": "550 5.0.0 caf\x69",
    "error:5.1.1:550 x <y": "553 5.0.0 error:5.1.1:550 x <y... Unbalanced '<'",
    "error:5.1.1:550 a <b> c": "550 5.1.1 a<b",  # the rule's text ends at the first '>'
    "> ": "553 5.0.0 > ... Unbalanced '>'",
    "()": "554 5.3.5 buildaddr: no mailer in parsed address",
}

ACCEPTED = ["\xffbob", "a" * 256, "x@" + "b" * 256, "." * 625, "bob,", "@b.example:bob@c.example",
            "user@[127.0.0.1]"]


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[SendmailResult, str]]:
    values = [*NAMED_ROUTES, *NAMED_REPLIES, *ACCEPTED]
    results, replies = run(tmp_path_factory.mktemp("named"), values)
    return {v: (r, rep) for v, r, rep in zip(values, results, replies, strict=True)}


@pytest.mark.parametrize("value", list(NAMED_ROUTES))
def test_named_route(named: dict[str, tuple[SendmailResult, str]], value: str) -> None:
    res, reply = named[value]
    mailer, user = NAMED_ROUTES[value]
    assert (res.mailer, res.user) == (mailer, user)
    assert reply.startswith("250 ")
    assert canonical(value) == user.encode() or mailer == "local"
    check([value], [res], [reply])


@pytest.mark.parametrize("value", list(NAMED_REPLIES))
def test_named_reply(named: dict[str, tuple[SendmailResult, str]], value: str) -> None:
    _, reply = named[value]
    assert reply == NAMED_REPLIES[value]
    if value != "bob, carol":  # that one is resolve.py's (Invalid route address)
        assert rcpt_reply(value) is not None
        assert as_harness(rcpt_reply(value) or "") == reply


@pytest.mark.parametrize("value", ACCEPTED)
def test_named_accepted(named: dict[str, tuple[SendmailResult, str]], value: str) -> None:
    """prescan accepts these (0xff is refused later, by the address check)."""
    res, reply = named[value]
    assert reply.startswith("250 ") or value == "\xffbob", reply
    assert rcpt_reply(value) is None
    if value != "\xffbob":  # sendmail -bt does not print the DEL byte
        check([value], [res], [reply])


def test_byte_ff_becomes_del(named: dict[str, tuple[SendmailResult, str]]) -> None:
    """0xff is stored as 0x7f; the address built from it is then refused as non-printable."""
    assert prescan("\xffbob").tokens == (b"\x7fbob",)
    res, reply = named["\xffbob"]
    assert res.user == "?bob"
    assert reply == '501 5.1.3 Syntax error in mailbox address "?bob" (non-printable character)'


def test_long_local_name_is_cut_to_255(named: dict[str, tuple[SendmailResult, str]]) -> None:
    """A 256-byte name is accepted by prescan but sendmail keeps 255 bytes of it."""
    res, _ = named["a" * 256]
    assert res.user == "a" * 255


# -- generated values -----------------------------------------------------------------

def _usable(v: str) -> bool:
    """makemap needs a value; ``@`` and ``!`` are markers, not values."""
    return v.strip() not in ("", "@", "!")


SPECIALS = list('<>"()\\,;:@[]. ')
WORDS = ["a", "bob", "x", "Caf\xe9", "\xe9t\xe9", "\xdf", "1", "!", "+", "/", "=", "-"]
pieces = st.sampled_from(SPECIALS + WORDS)
raw = st.lists(pieces, min_size=1, max_size=12).map("".join)
value = st.one_of(
    raw, raw, raw,
    raw.map(lambda t: f"error:5.1.1:550 {t}"),
    raw.map(lambda t: f"error:nouser 550 {t}"),
    st.integers(250, 262).map(lambda n: "w" * n),
    st.tuples(raw, st.integers(250, 262)).map(lambda t: f"{t[0]}{'w' * t[1]}"),
).map(lambda v: v.lstrip(" ")).filter(_usable)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(value, min_size=40, max_size=40))
def test_generated_values(tmp_path_factory: pytest.TempPathFactory, values: list[str]) -> None:
    results, replies = run(tmp_path_factory.mktemp("gen"), values)
    check(values, results, replies)
