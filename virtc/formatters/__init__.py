"""Formatters render diagnostics; rules and commands never print."""
