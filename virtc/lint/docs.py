"""Rule documentation from the rule modules' docstrings: ``virtc rule`` and ``docs/rules.md``.

A rule docstring is a one-line summary, then sections whose titles start in
column 0 (``What it does``, ``Why is this bad``, ``Example``, ``Use instead``)
and whose bodies are indented (see :mod:`virtc.lint.rule`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from virtc.lint.rule import Rule


def sections(rule: Rule) -> list[tuple[str, str]]:
    """``(title, body)`` pairs of a rule's docstring, bodies dedented."""
    out: list[tuple[str, list[str]]] = []
    for line in rule.doc.splitlines()[1:]:
        if line and not line[0].isspace():
            out.append((line.strip().rstrip(":?") , []))
        elif out:
            out[-1][1].append(line)
    return [(title, textwrap.dedent("\n".join(body)).strip("\n")) for title, body in out]


def section(rule: Rule, title: str) -> str:
    return next((body for t, body in sections(rule) if t.lower() == title.lower()), "")


def plain_text(text: str) -> str:
    """Markdown-ish body as one paragraph of plain text (for SARIF descriptions)."""
    return " ".join(text.replace("``", "").replace("`", "").split())


FIX_CLASSES = {
    "safe": "safe (changes no address's fate; applied by `virtc lint --fix`)",
    "unsafe": "unsafe (changes which mail is accepted; applied only with `--fix --unsafe-fixes`)",
    None: "none",
}


def rule_text(rule: Rule) -> str:
    """What ``virtc rule CODE`` prints."""
    head = f"{rule.code} {rule.name} (default severity: {rule.severity}; fix: {rule.fix or 'none'})"
    return f"{head}\n\n{rule.doc.strip()}\n\nFix: {FIX_CLASSES[rule.fix]}.\n"


def rule_list(rules: Sequence[Rule]) -> str:
    """What ``virtc rule`` prints: one line per rule (code, name, severity, fix class, summary)."""
    width = max((len(r.name) for r in rules), default=0)
    return "".join(f"{r.code}  {r.name:<{width}}  {r.severity!s:<7}  {r.fix or '':<6}  {r.summary}\n"
                   for r in rules)


def _anchor(rule: Rule) -> str:
    return f"{rule.code.lower()}-{rule.name}"


def rule_markdown(rule: Rule) -> str:
    parts = [f"## {rule.code} {rule.name}\n", f"{rule.summary}\n",
             f"Default severity: **{rule.severity}**. Fix: {FIX_CLASSES[rule.fix]}.\n"]
    for title, body in sections(rule):
        parts.append(f"### {title}\n")
        if body:
            parts.append(body + "\n")
    return "\n".join(parts)


def markdown(rules: Sequence[Rule]) -> str:
    """The whole of ``docs/rules.md``."""
    lines = [
        "# virtc lint rules",
        "",
        "<!-- Generated from the rule modules by `virtc rule --markdown > docs/rules.md`; do not edit. -->",
        "",
        "Select or ignore rules by code or name (`--select`, `--ignore`, `[tool.virtc]`); silence one",
        "line with an own-line comment `# virtc: disable-next-line CODE` above it, or a whole file with",
        "`# virtc: disable-file CODE`. `virtc rule CODE` prints a rule's documentation.",
        "",
        "Fixes are **safe** (they change no address's fate: `virtc lint --fix` applies them, as the",
        "`virtc-fix` pre-commit hook does) or **unsafe** (they change which mail is accepted or where",
        "it goes: applied only with `virtc lint --fix --unsafe-fixes`; review them with",
        "`--diff --unsafe-fixes`).",
        "",
        "| Code | Name | Severity | Fix | Summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rules:
        summary = r.summary.replace("|", "\\|")
        lines.append(f"| [{r.code}](#{_anchor(r)}) | {r.name} | {r.severity} | {r.fix or ''} | {summary} |")
    body = "\n".join(rule_markdown(r) for r in rules)
    return "\n".join(lines) + "\n\n" + body
