"""Helpers the tests share: the oracles around the real sendmail tools, generated
tables, fakes. Imported as ``support.NAME`` (pytest puts tests/ on sys.path: pyproject)."""
