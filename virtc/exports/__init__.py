"""Exports: the table as other servers read it (LDAP for sendmail's own ldap map, Postfix, qmail).

Each export starts from :func:`virtc.exports.checked.checked_table` (the table build
would accept) and from the map sendmail reads (``LookupTable.from_table``: keys folded,
the first of equal keys wins). What a target cannot express exactly is reported as
diagnostics in lint's format, never dropped silently.
"""
