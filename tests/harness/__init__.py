"""The project's own harness around the real sendmail tools (the test oracles).

Imported by tests as ``from harness.makemap import ...`` (tests/ is on sys.path).
"""
