"""`virtc rule`: the documentation of the lint rules."""

from __future__ import annotations

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
    from virtc.lint.registry import all_rules, rule_by_id

    if rule_id is None:
        click.echo(all_markdown(all_rules()) if markdown else rule_list(all_rules()), nl=False)
        return
    rule = rule_by_id(rule_id)
    if rule is None:
        raise VirtcError(f"unknown rule '{rule_id}' (`virtc rule` lists them)")
    click.echo(rule_markdown(rule) if markdown else rule_text(rule), nl=False)
