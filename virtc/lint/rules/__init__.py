"""One module per lint rule (see virtc.lint.rule for the anatomy)."""
