"""virtc: lint, compile and query sendmail virtusertables safely."""

__version__ = "0.1.0"
