"""Bytes -> Table: reading, makemap's records, the grammar and the parse."""
