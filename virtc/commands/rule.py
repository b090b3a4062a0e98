"""`virtc rule`: the documentation of the lint rules."""

from __future__ import annotations

import os
import sys

import click


@click.command("rule")
@click.argument("rule_id", metavar="[CODE|NAME]", required=False)
@click.option("--markdown", is_flag=True,
              help="Print the documentation as Markdown (all rules: docs/rules.md).")
def command(rule_id: str | None, markdown: bool) -> None:
    """Explain a lint rule (what it catches, why, an example, what to write instead).

    Without an argument, list all rules: code, name, default severity, summary.
    """
    from virtc.errors import VirtcError
    from virtc.lint.docs import markdown as all_markdown
    from virtc.lint.docs import rule_list, rule_markdown, rule_text
    from virtc.lint.registry import all_rules, rule_by_id, select_codes

    if rule_id is None:
        click.echo(all_markdown(all_rules()) if markdown else rule_list(all_rules()), nl=False)
        return
    rule = rule_by_id(rule_id)
    if rule is None:  # a family (VT1) or ALL lists its rules, as --select selects them
        try:
            codes = select_codes([rule_id])
        except ValueError as exc:
            raise VirtcError(str(exc)) from None
        family = [r for r in all_rules() if r.code in codes]
        click.echo(all_markdown(family) if markdown else rule_list(family), nl=False)
        return
    if markdown:
        click.echo(rule_markdown(rule), nl=False)
    elif sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(rule_markdown(rule)))
    else:
        click.echo(rule_text(rule), nl=False)
