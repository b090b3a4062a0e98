"""The RCPT reply of sendmail's error mailer (``buildaddr`` and ``usrerrenh``), shared by
the lookup rules (:mod:`virtc.lookup.resolve`) and the tokenizer (:mod:`virtc.lookup.prescan`)."""

from __future__ import annotations


def _enhanced(text: str) -> bool:
    """sendmail's ``isenhsc``: ``[245].N.N`` (1-3 digits each) ending the word."""
    parts = text.split(" ", 1)[0].split(".")
    return (len(parts) == 3 and parts[0] in ("2", "4", "5")
            and all(p.isdigit() and p.isascii() and 1 <= len(p) <= 3 for p in parts[1:]))


def error_reply(status: str, text: str) -> str:
    """The RCPT reply for the error mailer: host ``status``, user ``text``.

    ``NNN TEXT``: an enhanced code right after NNN is kept, else the status if it is a
    well-formed enhanced code, else ``N.0.0`` for reply classes 2, 4 and 5 (none for
    others). A 6xx code is sent as 5xx; other odd classes (1xx, 3xx, 7xx-9xx) are sent
    as written (all checked against real RCPT replies). Text not starting with ``NNN ``
    gives ``553 5.3.0 TEXT``.
    """
    code, sep, rest = text.partition(" ")
    if not (sep and len(code) == 3 and code.isdigit() and code.isascii() and code[0] != "0"):
        return f"553 5.3.0 {text}"
    if code[0] == "6":
        code = "5" + code[1:]
    if _enhanced(rest):
        return f"{code} {rest}"
    if _enhanced(status):
        return f"{code} {status} {rest}"
    if code[0] in "245":
        return f"{code} {code[0]}.0.0 {rest}"
    return f"{code} {rest}"
