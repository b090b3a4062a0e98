"""Lint one source file: parse, lint, and with ``--fix`` rewrite it or show the diff."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virtc.deploy.deployment import Deployment
from virtc.diagnostics import Diagnostic
from virtc.lint.config import LintConfig
from virtc.lint.schedule import lint_table
from virtc.table import Table


@dataclass
class FileResult:
    """One linted file: its (possibly fixed) table and what remains in it."""

    table: Table
    diagnostics: list[Diagnostic]
    config: LintConfig
    fixed: int = 0
    diff: str = ""
    text: str | None = None
    """With ``--fix`` on standard input: the fixed source, for standard output."""

    @property
    def failed(self) -> bool:
        return any(d.severity >= self.config.fail_on for d in self.diagnostics)


def lint_file(path: str, config: LintConfig, local_domains: frozenset[str] | Deployment | None = None,
              *, fix: bool = False, diff: bool = False, unsafe: bool = False,
              jobs: int | None = None) -> FileResult:
    """Lint one source; with ``fix`` rewrite it (atomically) with the safe fixes applied
    (and the unsafe ones with ``unsafe``), with ``diff`` only compute the unified diff of
    those fixes."""
    from virtc.source import sniff
    from virtc.source.parse import parse_bytes, parse_file
    from virtc.source.read import is_regular_file, read_data, refuse_binary

    if is_regular_file(path):  # (its head can be read twice)
        refuse_binary(sniff.read_head(Path(path)), path)
        table = parse_file(path, jobs=jobs)
    else:  # '-', a FIFO, a device: read once
        data, name = read_data(path)
        refuse_binary(data[: sniff.HEAD], name)
        table = parse_bytes(data, name, jobs=jobs)
    if not (fix or diff):
        return FileResult(table, lint_table(table, config, local_domains, jobs=jobs), config)
    from virtc.lint.fix import fix_source, unified_diff  # only to fix (start-up time)
    from virtc.source.reader import encode
    from virtc.writers.atomic import replace_text

    result = fix_source(table, lambda t: lint_table(t, config, local_domains, jobs=jobs), unsafe)
    if diff:
        return FileResult(table, result.initial, config, diff=unified_diff(path, table.text, result.text))
    if str(path) == "-":  # a filter: the caller writes the text out
        return FileResult(result.table, result.diagnostics, config, fixed=len(result.applied),
                          text=result.text)
    if result.applied:
        replace_text(path, encode(result.text))
    return FileResult(result.table, result.diagnostics, config, fixed=len(result.applied))
