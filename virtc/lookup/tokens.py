"""sendmail's address tokenizer (``prescan``), reduced to what virtuser values need.

sendmail never looks at a value as a string: it splits it into tokens, matches
rules on tokens and glues tokens back together. That explains results such as
``root root`` -> local user ``root.root`` or ``550 a , b`` -> text ``550 a,b``.

Token classes (m4-built cf, ``confOPERATORS``): the operators ``.:%@!^/[]+`` and
the specials ``()<>,;`` are one-character tokens; a ``"quoted string"`` is one
token; ``(comments)`` are dropped; a backslash escapes the next character; any
other run of non-blank characters is a word.
"""

from __future__ import annotations

import re

OPERATORS = frozenset(".:%@!^/[]+")
"""``$o`` of an m4-built sendmail.cf."""
SPECIALS = frozenset("<>,;")
BLANKS = frozenset(" \t\r\n\x0b\x0c")
_SINGLE = OPERATORS | SPECIALS


# Without quotes, comments or backslashes a token is an operator, a special or a run of
# other non-blank characters: one regex (in C) gives what the loop below gives.
_PLAIN_TOKEN = re.compile(r"[.:%@!^/\[\]+<>,;]|[^ \t\r\n\x0b\x0c.:%@!^/\[\]+<>,;]+")
_NOT_PLAIN = re.compile(r'["()\\]')


def tokenize(text: str) -> list[str]:
    """Split ``text`` as sendmail's prescan does (see the module docstring)."""
    if _NOT_PLAIN.search(text) is None:
        return _PLAIN_TOKEN.findall(text)
    if '"' not in text and "\\" not in text:
        # Balanced comments without quotes or backslashes: each dropped (a blank ends the
        # word before it), innermost first (#18: reject texts with '(ticket #1)').
        bare = text
        while "(" in bare:
            shorter = _COMMENT.sub(" ", bare)
            if shorter == bare:
                break
            bare = shorter
        if "(" not in bare and ")" not in bare:
            return _PLAIN_TOKEN.findall(bare)
    return tokenize_slowly(text)


_COMMENT = re.compile(r"\([^()]*\)")


def tokenize_slowly(text: str) -> list[str]:
    """:func:`tokenize` for any text (quotes, comments, backslashes)."""
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in BLANKS:
            i += 1
        elif c == "(":
            depth = 0
            while i < n:
                if text[i] == "\\":
                    i += 1
                elif text[i] == "(":
                    depth += 1
                elif text[i] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            tokens.append(text[i:j + 1])
            i = j + 1
        elif c in _SINGLE or c == ")":
            tokens.append(c)
            i += 1
        else:
            j = i
            while j < n and text[j] not in BLANKS and text[j] not in _SINGLE and text[j] not in '()"':
                j += 2 if text[j] == "\\" else 1
            tokens.append(text[i:j])
            i = j
    return tokens


def is_word(token: str) -> bool:
    return token not in _SINGLE and token != ")"


def join(tokens: list[str], blank: str) -> str:
    """Glue tokens back: ``blank`` between two words, nothing around operators.

    sendmail uses ``' '`` for error texts and ``'.'`` (BlankSub) for addresses.
    """
    out: list[str] = []
    prev_word = False
    for tok in tokens:
        word = is_word(tok)
        if word and prev_word:
            out.append(blank)
        out.append(tok)
        prev_word = word
    return "".join(out)


def strip_quotes(text: str) -> str:
    """Remove unescaped double quotes (sendmail's ``stripquotes``)."""
    if '"' not in text and "\\" not in text:
        return text
    out: list[str] = []
    escaped = False
    for c in text:
        if escaped:
            out.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c != '"':
            out.append(c)
    return "".join(out)
