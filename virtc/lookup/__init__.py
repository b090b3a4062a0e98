"""How sendmail resolves an address through a virtusertable (the lookup engine).

Checked against the real ``sendmail -bt`` in tests/oracle/test_lookup_oracle.py. Use::

    from virtc.lookup import LookupTable, resolve, lookup_keys

    table = LookupTable.from_table(parse_file("virtusertable"))   # or .from_db(path)
    r = resolve("bob+news@example.com", table)                    # local domains: the table's
    r.kind      # 'local' | 'remote' | 'error' | 'unmatched' | 'not-local' | 'loop'
    r.result    # final local user or address (None for error and loop)
    r.status    # for errors: the status as written ('nouser', '5.1.1')
    r.text      # for errors: the SMTP reply ('550 5.0.0 No such user'); for loops the 554
    r.chain     # stored keys matched, in order ('bob+*@example.com', ...)
    r.steps     # every lookup step: Step(address, lookups=(Lookup(key, value, step), ...), key, ...)
    r.cycle     # for a loop closed by a repeated address: the keys around it

    lookup_keys("bob+news@example.com")   # [LookupKey(key, args=(%0, %1, %2, %3), step), ...]
    table.get("Bob@Example.com")          # one lookup as sendmail does it (fold, cut to 256)
    table.entries[key]                    # the source Entry owning a stored key (from_table)

Modules: :mod:`~virtc.lookup.keys` (lookup order, ``%N``), :mod:`~virtc.lookup.table`
(the map, local-host-names files), :mod:`~virtc.lookup.tokens` (sendmail's tokenizer),
:mod:`~virtc.lookup.resolve` (the rules; read its docstring for the exact semantics),
:mod:`~virtc.lookup.prescan` (sendmail's tokenizer on bytes: brackets, quotes, limits),
:mod:`~virtc.lookup.replies` (the error mailer's reply).

For lint rules: a key K shadows or makes another redundant when, for the addresses that
would reach it, ``resolve`` gives the same outcome with and without it
(``LookupTable.from_pairs`` builds variants cheaply); a loop is ``kind == 'loop'``.
"""

from virtc.lookup.keys import LookupKey, lookup_keys, split_plus, substitute
from virtc.lookup.replies import error_reply
from virtc.lookup.resolve import (
    KINDS,
    MAX_RECURSION,
    Kind,
    Lookup,
    Resolution,
    Step,
    classify,
    local_domain_set,
    resolve,
)
from virtc.lookup.table import LookupTable, load_lookup_table
from virtc.source.localdomains import read_local_domains

__all__ = [
    "KINDS",
    "MAX_RECURSION",
    "Kind",
    "Lookup",
    "LookupKey",
    "LookupTable",
    "Resolution",
    "Step",
    "classify",
    "error_reply",
    "load_lookup_table",
    "local_domain_set",
    "lookup_keys",
    "read_local_domains",
    "resolve",
    "split_plus",
    "substitute",
]
