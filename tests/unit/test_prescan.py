"""virtc.lookup.prescan without sendmail: the documented behaviour, as examples.

The same behaviour is checked against the real sendmail in test_prescan_oracle.py and
test_prescan_address_oracle.py; these examples run everywhere and fast.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtc.lookup.prescan import (
    MAX_BYTES,
    MAXNAME,
    NO_TOKENS_REPLY,
    canonical,
    cataddr,
    dequote,
    error_text,
    lookup_address,
    prescan,
    rcpt_reply,
    refusal,
    scan_bytes,
    shorten,
    smtp_text,
)


@pytest.mark.parametrize(("text", "tokens"), [
    ("bob", [b"bob"]),
    ("Bob <bob@x.example>", [b"Bob", b"<", b"bob", b"@", b"x", b".", b"example", b">"]),
    ('"a b"@x', [b'"a b"', b"@", b"x"]),
    ("a (comment (nested)) b", [b"a", b"b"]),
    ("a\\ b", [b"a\\ b"]),
    ("a\\!b", [b"a", b"!", b"b"]),  # sendmail's kludge: \! is a plain '!'
    ('"a\\!b"', [b'"a\\!b"']),
    ("a\\", [b"a"]),  # a trailing backslash is dropped
    ("a , b ; c", [b"a", b",", b"b", b";", b"c"]),
    ("a:b%c^d/e[f]g+h", [b"a", b":", b"b", b"%", b"c", b"^", b"d", b"/", b"e", b"[", b"f", b"]",
                         b"g", b"+", b"h"]),
    ("\xffx", [b"\x7fx"]),
    ("caf\xe9", [b"caf\xe9"]),
])
def test_tokens(text: str, tokens: list[bytes]) -> None:
    scan = prescan(text)
    assert list(scan.tokens) == tokens
    assert scan.ok


@pytest.mark.parametrize(("text", "tokens", "reply"), [
    ("<bob", [b"<", b"bob", b">"], "553 5.0.0 <bob... Unbalanced '<'"),
    ("bob>", [b"bob"], "553 5.0.0 bob>... Unbalanced '>'"),
    ('"bob', [b'"bob"'], "553 5.0.0 \"bob... Unbalanced '\"'"),
    ("bob)", [b"bob"], "553 5.0.0 bob)... Unbalanced ')'"),
    ("(bob", [], "553 5.0.0 (bob... Unbalanced '('"),
    ('<"x', [b"<", b'"x"', b">"], "553 5.0.0 <\"x... Unbalanced '\"'"),
])
def test_unbalanced_is_patched_and_reported(text: str, tokens: list[bytes], reply: str) -> None:
    scan = prescan(text)
    assert list(scan.tokens) == tokens
    assert scan.reply() == reply


def test_token_limit() -> None:
    assert prescan("a" * MAXNAME).tokens == (b"a" * MAXNAME,)
    long = prescan("a" * (MAXNAME + 1))
    assert long.fatal and long.tokens == ()
    assert long.reply() == f"553 5.1.0 {'a' * 100}...{'a' * 100}... prescan: token too long"


def test_buffer_limit() -> None:
    assert prescan("." * (MAX_BYTES // 2)).ok
    assert prescan("." * (MAX_BYTES // 2 + 1)).reply() == (
        "553 5.1.1 " + "." * 100 + "..." + "." * 100 + "... Address too long")


def test_no_tokens() -> None:
    assert prescan("()").fatal
    assert rcpt_reply("()") == NO_TOKENS_REPLY


@pytest.mark.parametrize(("value", "address"), [
    ("Bob <bob@example.net>", b"bob@example.net"),
    ("<x@y>", b"x@y"),
    ("a <b> c <d@e>", b"d@e"),
    ("@b.example:bob@c.example", b"bob@c.example"),
    ("@a,@b:bob@c", b"bob@c"),
    ("local:bob", b"bob"),
    ("group: a@b;", b"a@b"),
    ("bob,", b"bob,"),
    ("bob, carol", b"bob,carol"),
    ('"scott"@dom', b'"scott"@dom'),
    ("user@[127.0.0.1]", b"user@[127.0.0.1]"),
    ("root root", b"root.root"),
])
def test_canonical(value: str, address: bytes) -> None:
    assert canonical(value) == address


@pytest.mark.parametrize(("value", "text", "reply"), [
    ("error:5.1.1:550 \xe9t\xe9 here", b"550 \xe9t\xe9 here", "550 5.1.1 iti here"),
    ("error:5.1.1:550 a : b , c ; d", b"550 a:b,c;d", "550 5.1.1 a:b,c;d"),
    ("error:5.1.1:550 a   b (x) c", b"550 a b c", "550 5.1.1 a b c"),
    ('error:5.1.1:550 "q  s" x', b"550q  sx", "553 5.3.0 550q  sx"),
    ("error:5.1.1:550 a\\b", b"550 ab", "550 5.1.1 ab"),
    ("error:5.1.1:550 a <b> c", b"550 a<b", "550 5.1.1 a<b"),
    ("error:nouser 550 No such user", b"550 No such user", "550 5.0.0 No such user"),
])
def test_error_text(value: str, text: bytes, reply: str) -> None:
    assert error_text(value) == text
    assert rcpt_reply(value) == reply


def test_error_text_with_a_prescan_complaint() -> None:
    assert rcpt_reply("error:5.1.1:550 x <y") == "553 5.0.0 error:5.1.1:550 x <y... Unbalanced '<'"


def test_not_an_error_value() -> None:
    assert error_text("bob") is None
    assert rcpt_reply("bob@example.net") is None


@pytest.mark.parametrize(("address", "key"), [
    ("Scott <scott@dom>", b"scott@dom"),
    ('"scott"@dom', b"scott@dom"),
    ('"s t"@dom', b"s t@dom"),
    ("scott (c) @ dom", b"scott@dom"),
    ("@relay:scott@dom", b"scott@dom"),
    ("scott@localhost", b"scott@$j"),
    ("scott@LOCALHOST", b"scott@$j"),
    ("scott@localhost.", b"scott@localhost"),
    ("scott@[127.0.0.1]", b"scott@$j"),
    ('"scott@dom"', b"scott@dom"),
    ("scott", None),
    ("<scott@dom", b"scott@dom"),  # looked up (patched), though refused at RCPT
    ("a" * 300 + "@dom", None),
    ('"s\\<@dom"', b"s<@dom"),  # the dequote map keeps the backslash: '<' stays escaped
    ('"s<@dom"', None),  # dequote refuses an unbalanced '<': the word stays quoted
])
def test_lookup_address(address: str, key: bytes | None) -> None:
    assert lookup_address(address) == key


@pytest.mark.parametrize(("word", "plain"), [
    (b'"a@b"', b"a@b"),
    (b'"a\\<@b"', b"a\\<@b"),
    (b'"a(x\\")@b"', b'a(x\\")@b'),
    (b'"a<b>"', b"a<b>"),
    (b'"a b"', None),
    (b'"a<"', None),
    (b'"a>"', None),
    (b'"a)"', None),
    (b'"a\\"', None),
    (b'"a', None),
    (b"a", None),
])
def test_dequote(word: bytes, plain: bytes | None) -> None:
    assert dequote(word) == plain


def test_cataddr_blanks_only_between_atoms() -> None:
    assert cataddr([b"a", b"b", b".", b"c", b'"q"', b"d"], b".") == b"a.b.c\"q\"d"
    assert cataddr([b"a", b"b"], b" ", limit=3) == b"a "


def test_shorten_and_smtp_text() -> None:
    assert shorten(b"x" * 203) == b"x" * 203
    assert shorten(b"x" * 204) == b"x" * 100 + b"..." + b"x" * 100
    assert smtp_text("\xe9t\xe9\xff".encode("latin-1")) == "iti\x7f"


@given(st.binary(max_size=300).filter(lambda b: b"\0" not in b))
def test_prescan_total(data: bytes) -> None:
    """Any bytes: a scan ends, tokens are non-empty and within the limit."""
    scan = prescan(data)
    assert all(0 < len(t) <= MAXNAME for t in scan.tokens)
    assert scan.fatal or scan.tokens


_PIECES = st.sampled_from([b"a", b"bob", b"x" * 250, b"y" * 7, b".", b"@", b"%", b",", b";", b" ", b"\t",
                           b"<", b">", b"(", b")", b'"', b"\\", b"\xe9", b"\xff", b"+", b":", b"!", b"\r\n"])


@given(st.lists(_PIECES, max_size=400).map(b"".join))
def test_prescan_word_path_equals_the_state_machine(data: bytes) -> None:
    """The one-regex path for plain bytes gives what the byte-by-byte scan gives, limits
    (token too long, too many tokens, address too long) and unbalanced '<>' included."""
    assert prescan(data) == scan_bytes(data)


_SHORT_PIECES = st.sampled_from([b"a", b"error:5.1.1:550", b" ", b"<", b">", b"(", b")", b'"', b"\\", b"\xe9",
                                 b"\xff", b"\x00", b"%", b"#1", b"\t", b"y" * 60])


@settings(max_examples=3000)
@given(st.lists(_SHORT_PIECES, max_size=40).map(b"".join))
def test_refusal_is_the_state_machines_reply(data: bytes) -> None:
    """The reply from quotes and brackets alone is the byte-by-byte scan's, whatever they
    hold (escaped, nested, in quotes or comments), at and past 256 bytes."""
    assert refusal(data) == scan_bytes(data).reply()


@pytest.mark.parametrize("data", [b'a\\', b'a "b\\"', b"a (b \\) c", b'a (")") b', b'a "(" b', b"a <(>)",
                                  b"a > b", b"a ) b (", b'a "b', b"a (b", b"a <b", b"(a) b", b"  (a"])
def test_refusal_examples(data: bytes) -> None:
    assert refusal(data) == scan_bytes(data).reply()


@pytest.mark.parametrize("data", [
    b"a " * 999 + b"b",  # 1000 tokens: the last one allowed
    b"a " * 1000 + b"b",  # one too many
    b"a." * 600,  # 1200 tokens
    b"x" * 256 + b" y",
    b"x" * 257,
    b"<" + b"x" * 200 + b"> " + b"y" * 200,
    b"a>b" + b"c" * 300,
    b"<a" + b"c" * 300,
    b"c" * 300 + b">",
    b" " * 300,
    (b"x" * 250 + b" ") * 5,
])
def test_prescan_word_path_at_the_limits(data: bytes) -> None:
    assert prescan(data) == scan_bytes(data)


def test_prescan_remembers_only_short_values() -> None:
    """A long value (a 10 MB line may be one) is scanned again, not kept: 1,024 of them
    would hold gigabytes."""
    from virtc.lookup import prescan as module

    module._remembered.cache_clear()
    long_value = "a" * 5000
    assert prescan(long_value) == prescan(long_value)
    assert module._remembered.cache_info().currsize == 0
    assert prescan("bob@example.com") is prescan("bob@example.com")
    assert module._remembered.cache_info().currsize == 1
