"""What a lint rule is: one module per rule, in the spirit of yamllint and ruff.

Each module in :mod:`virtc.lint.rules` (named ``vtNNN_name.py``) defines ``CODE``,
``NAME`` (kebab case) and ``SEVERITY`` (the default), a docstring (a one-line summary,
then the sections ``What it does``, ``Why is this bad``, ``Example`` and ``Use instead``,
rendered by ``virtc rule`` and ``docs/rules.md``) and ``check(table, ctx)``, a generator
of :class:`Finding` objects. A rule that needs only the plain API is this short::

    '''Values that end in a comma (a one-line summary, then the four sections).'''

    from collections.abc import Iterator

    from virtc.diagnostics import Severity
    from virtc.lint.facts import shown, value_span
    from virtc.lint.rule import Finding, LintContext
    from virtc.table import Table

    CODE = "VT299"
    NAME = "trailing-comma"
    SEVERITY = Severity.WARNING

    def check(table: Table, ctx: LintContext) -> Iterator[Finding]:
        for entry in table.entries:
            if entry.value_text.rstrip().endswith(","):
                yield Finding(*value_span(entry), f"'{shown(entry.value_text)}' ends in a comma")

The plain API: ``table.entries`` (each :class:`~virtc.model.Entry` has ``key_text``,
``value_text``, ``line``, ``key``/``value`` parsed as sendmail reads them),
``ctx.config.catch_all`` and ``ctx.local_domains``; from :mod:`virtc.lint.facts`, the
spans (``key_span``, ``value_span``), ``shown`` for messages, and ``index(table, ctx)``
for what rules share, computed once (domains and their catch-alls, forwards, the key
index). Its fixture is ``tests/data/rules/VTNNN/{bad,good}.vt`` (each case in ``bad.vt``
named by a ``#`` line above it) with ``bad.expected``.

A rule that offers fixes says of which kind with ``FIX = "safe"`` (the fix changes no
address's fate: whitespace, exact repeats) or ``FIX = "unsafe"`` (it changes which mail is
accepted or where it goes; applied only with ``--unsafe-fixes``), and builds its
:class:`~virtc.diagnostics.Fix` objects with that applicability.

Only for large tables, three optional flags: ``HEAVY = True`` for a rule that follows
forwards through the whole table (on a large table the heavy rules run together, in
whichever of two processes claims them first, as they share the forwards' lookups),
``LOOKUPS = True`` for a rule that looks keys up (the key index or the lookup engine;
heavy rules do): these are claimed first, and beside the build's map writer their lookups
are then freed (:mod:`virtc.lint.schedule`); ``SPLIT = True`` for a rule whose work is
one independent piece per item of a sequence it walks through
:func:`virtc.lint.facts.my_share` (VT101's domains): each process may take a share.
A rule that takes seconds on a large table calls ``ctx.checkpoint()`` between batches of
its work (VT105, VT107, VT205): the build starts its second process there. A heavy rule
whose long first pass is a number of independent parts (VT205's lookups of the forwards)
says ``PARTS = True`` and defines ``parts(table, ctx)``, how many, and ``part(table, ctx,
k)``, part ``k`` done on its own (a picklable result): ``ctx.parts(CODE)`` gives the part
numbers to do here, claimed one at a time, while the other process, once it has no rule
left to run (and its lookups not freed), does those still unclaimed with ``part``; then
its ``others()``, their results (:mod:`virtc.lint.schedule`). None: do every part here.

Rules never print and never decide severity overrides or suppressions: the runner in
:mod:`virtc.lint.runner` turns findings into diagnostics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, NamedTuple, Protocol

from virtc.diagnostics import Applicability, Fix, Severity
from virtc.table import Table


class Finding(NamedTuple):
    """A rule's finding; the runner adds path, code, name and severity."""

    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fix: Fix | None = None
    help: str | None = None
    severity: Severity | None = None
    """Only for rules whose findings differ in severity (e.g. VT203); None = the rule's default."""


class RuleSettings(Protocol):
    """What rules read of the configuration (:class:`virtc.lint.config.LintConfig` is one)."""

    catch_all: str
    """The catch-all value the VT101/VT102 fix inserts."""
    keep_deliverable: tuple[str, ...]
    """Local parts the catch-all fix keeps deliverable in every domain (besides postmaster)."""

    def enabled(self, code: str) -> bool: ...


MAX_PARTS = 255
"""Parts a ``PARTS`` rule's pass has at most (:class:`virtc.speed.parallel.Claims`)."""


class SharedParts(Protocol):
    """A ``PARTS`` rule's parts shared with the lint's helper process."""

    def __iter__(self) -> Iterator[int]:
        """The numbers of the parts to do here, each claimed as it is asked for."""

    def others(self) -> list[Any]:
        """What ``part`` returned for the parts the helper did (waits for them)."""


@dataclass
class LintContext:
    """What rules may consult besides the table."""

    config: RuleSettings
    local_domains: frozenset[str] | None = None
    """Folded domains from --local-domains, or None when not given."""
    host_names: frozenset[str] = frozenset({"localhost"})
    """The host's own names (folded): never given a catch-all, never reported by VT101/VT102."""
    virthost_only: frozenset[str] = frozenset()
    """Local domains in ``{VirtHost}`` but not in class w: sendmail relays their unmatched
    addresses to the domain instead of delivering them to a local user."""
    mailboxes: frozenset[str] | None = None
    """Local users, aliases and mailboxes (folded) from --users/--aliases/--mailboxes, or None."""
    local_checks_users: bool | None = None
    """From the sendmail.cf: the local mailer has ``F=w`` (unknown users rejected at RCPT)."""
    entire_domain: frozenset[str] = frozenset()
    """With FEATURE(virtuser_entire_domain): the VirtHost domains whose subdomains are looked up too."""
    ldap: bool = False
    """The map is served from LDAP: the sendmail.cf's virtuser K line is ``ldap``, or the
    configuration says ``target = "ldap"`` (``virtc export ldif`` and ``ldap sync`` do)."""
    cache: dict[str, object] = field(default_factory=dict)
    """Shared per-run results (e.g. the lookup index) so rules do not recompute them."""
    share: tuple[int, int] = (0, 1)
    """The share ``(k, n)`` of a ``SPLIT`` rule's items the rule checks now: every n-th
    item from the k-th (see :func:`virtc.lint.facts.my_share`)."""
    checkpoint: Callable[[], None] = lambda: None
    """Called by a long rule between batches of its work: there the build starts its second
    process as soon as the map is written, not when the rule ends (:mod:`virtc.lint.schedule`)."""
    parts: Callable[[str], SharedParts | None] = lambda code: None
    """For the rule ``code`` (``PARTS``): its parts to do here and the helper's, or None
    (every part is done here)."""


CheckFn = Callable[[Table, LintContext], Iterator[Finding]]


class Rule(NamedTuple):
    code: str
    name: str
    severity: Severity
    summary: str
    doc: str
    check: CheckFn
    heavy: bool = False
    lookups: bool = False
    fix: Applicability | None = None
    """The module's ``FIX``: whether its fixes are ``safe`` or ``unsafe`` (None: it has none)."""
    split: bool = False
    parts: tuple[Callable[[Table, LintContext], int], Callable[[Table, LintContext, int], Any]] | None = None
    """The module's ``parts`` and ``part`` (``PARTS``)."""

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        doc = (module.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else ""
        heavy = getattr(module, "HEAVY", False)
        return cls(module.CODE, module.NAME, module.SEVERITY, summary, doc, module.check,
                   heavy, heavy or getattr(module, "LOOKUPS", False), getattr(module, "FIX", None),
                   getattr(module, "SPLIT", False),
                   (module.parts, module.part) if getattr(module, "PARTS", False) else None)
