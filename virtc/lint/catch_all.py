"""The catch-all fix (VT101, VT102): reject the rest of a domain, keep what is named.

Adding ``@domain error:...`` must change the fate of unnamed addresses only. Before
the catch-all, an address of a class w domain that no key answers goes to the local
user of that name; after it, it is rejected. So the fix also inserts, for every such
address the table or the deployment names, an entry that keeps it where it went:

* ``postmaster@domain`` (RFC 5321 4.5.1) and the configured ``keep-deliverable`` names;
* every address a stored entry's value forwards to in the domain (after ``%N``
  substitution, through chains), e.g. ``trash@post.example`` of
  ``trash@example.com  trash@post.example``;
* the domain's own keys whose value sendmail reads as "not found" (``@``).

Each such address ``a@domain`` gets ``a@domain  a`` (the local user it reached). The
fix is unsafe (it changes which mail is accepted) and withheld when an address cannot
be kept this way (a VirtHost domain relays unnamed addresses, which no entry can say;
a local part no key can hold).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet

from virtc.compat import zip_strict
from virtc.diagnostics import Fix
from virtc.lint.facts import batches, index, stripped_and_folded
from virtc.lint.rule import LintContext
from virtc.model import BLANKS, MAXNAME, fold
from virtc.table import Table

_KEYABLE = re.compile(f"[^{BLANKS}#\"\\\\<>()\n][^{BLANKS}\"\\\\<>()\n]*")
"""A local part a key can hold as written (no blanks, quotes or sendmail specials)."""


class CatchAllFix:
    """The entries the catch-all of each open domain needs (computed once per run)."""

    def __init__(self, table: Table, ctx: LintContext) -> None:
        self.table, self.ctx = table, ctx
        self._unmatched: dict[str, dict[str, str]] | None = None

    def open_domains(self) -> frozenset[str]:
        """Domains a catch-all fix may be offered for: the table's without a catch-all, and
        the local domains without entries (never the host's own names)."""
        ix = index(self.table, self.ctx)
        doms = ix.domains
        found = set(doms.names.take(doms.without_catch_all()))
        found |= (self.ctx.local_domains or frozenset()) - ix.domains.keys()
        return frozenset(found - self.ctx.host_names)

    def fix(self, domain: str, after_line: int) -> tuple[Fix | None, str]:
        """The fix for ``domain`` (None when it cannot keep every named address) and a help text."""
        return next(self.fixes((domain,), (after_line,)))

    def fixes(self, domains: Sequence[str], after_lines: Iterable[int]) -> Iterator[tuple[Fix | None, str]]:
        """:meth:`fix` of each of ``domains``, after the line at its place in ``after_lines``:
        the run's facts are gathered once (#18: a table of 285k open domains)."""
        from virtc.lint.engine import shared_engine  # (the lookup engine: only to fix)

        if not domains:
            return  # (nothing to gather: the forwards' resolutions cost seconds on some tables)
        eng = shared_engine(self.table, self.ctx)
        catch_all = self.ctx.config.catch_all
        names = dict.fromkeys(["postmaster", *self.ctx.config.keep_deliverable])
        forwarded, virthosts = self._forwarded(), self.ctx.virthost_only
        for domain, after_line in zip_strict(domains, after_lines):
            found: dict[str, str] = {}
            for name in names:
                address = f"{name}@{domain}"
                if eng.unnamed(address):
                    found.setdefault(fold(address), address)
            more = forwarded.get(domain)
            if more is not None:
                for folded, address in more.items():
                    found.setdefault(folded, address)
            add = f"'@{domain}\t{catch_all}'"
            keeps = ""
            text = f"@{domain}\t{catch_all}\n"
            if found:  # (the usual open domain has nothing to keep: the catch-all alone)
                kept, lost = self._keep(found, names, domain in virthosts)
                if lost:
                    yield None, (f"add entries for {', '.join(sorted(lost)[:3])}"
                                 f"{' and others' if len(lost) > 3 else ''} first (the catch-all would "
                                 f"reject them), then {add}")
                    continue
                text = "".join(f"{a}\t{v}\n" for a, v in kept) + text
                more_kept = " and others" if len(kept) > 3 else ""
                keeps = f", keeping {', '.join(a for a, _ in kept[:3])}{more_kept}"
            yield (Fix(after_line + 1, after_line, text, f"add '@{domain} {catch_all}'{keeps}", "unsafe"),
                   f"add {add} after line {after_line}{keeps}")

    # -- which named addresses of a domain reach no key --------------------------

    @staticmethod
    def _keep(found: dict[str, str], names: dict[str, None],
              virthost: bool) -> tuple[list[tuple[str, str]], list[str]]:
        """Of the addresses ``found`` unnamed (folded -> as written), those an entry
        ``address  local-part`` keeps, and those it cannot (in a VirtHost domain, only the
        configured ``names``)."""
        kept: list[tuple[str, str]] = []
        lost: list[str] = []
        for address in found.values():
            local = address[:address.rindex("@")]
            if _KEYABLE.fullmatch(local) and len(fold(address)) <= MAXNAME and (
                    not virthost or fold(local) in names):
                kept.append((address, local))
            else:
                lost.append(address)
        return kept, lost

    def _forwarded(self) -> dict[str, dict[str, str]]:
        """Open domain -> (folded address -> address) of every address a stored exact key's
        resolution reaches there without a key answering it."""
        if self._unmatched is not None:
            return self._unmatched
        from virtc.lint.engine import shared_engine

        ix = index(self.table, self.ctx)
        candidates = sorted({*ix.forwards, *ix.with_percent,
                             *ix.values.matching(re.compile(f"\n[{BLANKS}]*[@!][{BLANKS}]*(?=\n)"))})
        out: dict[str, dict[str, str]] = {}
        if not candidates:  # (no value names an address: the open domains are not needed)
            self._unmatched = out
            return out
        opened = self.open_domains()
        # A chain reaches an open domain from an exact key whose value points there, or
        # into a domain whose wildcard keys forward (the wildcard's hop is unnamed).
        wanted = opened | self._forwarding_domains()
        eng = shared_engine(self.table, self.ctx)
        skip = ix.shadowed_by_duplicate
        for _, chunk in batches(candidates):
            stripped, folded = stripped_and_folded(ix.values.take(chunk))
            for i, value, target in zip(chunk, stripped, folded):
                if i in skip or ("%" not in value and value not in ("@", "!")
                                 and target.rpartition("@")[2].rstrip(".") not in wanted):
                    continue
                key = ix.keys[i]
                if "@" not in key or key.startswith("@") or "+*@" in key or "++@" in key:
                    continue  # a wildcard key: the addresses it forwards are unnamed
                if "%" in value and first_hop_elsewhere(key, value, wanted, eng.domains):
                    continue
                for step in eng.resolve(key).steps:
                    if step.key is None:
                        dom = fold(step.address.rpartition("@")[2]).rstrip(".")
                        if dom in opened:
                            out.setdefault(dom, {}).setdefault(fold(step.address), step.address)
        self._unmatched = out
        return out


    def _forwarding_domains(self) -> frozenset[str]:
        """Domains whose catch-all or ``+`` wildcard keys forward rather than reject."""
        ix = index(self.table, self.ctx)
        values = ix.values
        doms = ix.domains
        out = {doms.names[p] for p in doms.with_catch_all() if _forwards(values[doms.catch_alls[p]])}
        stored = ix.stored_keys
        out.update(stored[i].rpartition("@")[2] for i in ix.wildcards if _forwards(values[i]))
        return frozenset(out)


def first_hop_elsewhere(key: str, value: str, wanted: AbstractSet[str], local: AbstractSet[str]) -> bool:
    """Whether the exact ``key`` (a plain address in a local domain, its own first lookup)
    hands its address on, through ``value`` after ``%N``, to a plain address outside
    ``wanted``: as for a value without ``%N``, a chain from there meets only keys that are
    candidates themselves (#18: 50k ``user@d  user%3@host`` each went to the engine)."""
    from virtc.lookup import lookup_keys, substitute
    from virtc.lookup.resolve import PLAIN_ADDRESS, quick_hop

    if not quick_hop(key, local):
        return False
    target = PLAIN_ADDRESS.fullmatch(substitute(value, lookup_keys(key)[0].args))
    return target is not None and fold(target[2]) not in wanted


def _forwards(value: str) -> bool:
    return not value.lstrip(BLANKS).lower().startswith("error")


def catch_all_fixer(table: Table, ctx: LintContext) -> CatchAllFix:
    """The run's :class:`CatchAllFix` (VT101 and VT102 share it)."""
    fixer = ctx.cache.get("catch_all_fix")
    if not isinstance(fixer, CatchAllFix) or fixer.table is not table:
        fixer = CatchAllFix(table, ctx)
        ctx.cache["catch_all_fix"] = fixer
    return fixer
