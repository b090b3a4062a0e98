"""``virtc lint``: rules that catch what makes sendmail do something the admin did not mean."""

from virtc.lint.runner import lint_table

__all__ = ["lint_table"]
