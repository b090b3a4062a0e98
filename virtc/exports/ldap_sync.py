"""``virtc ldap sync``: make a directory's virtuser entries (one cluster's or one host's)
equal to the table, with the fewest changes, in an order that never opens a domain.

Every LDAP add, modify and delete is atomic on its own, but a sync is many of them: an
outage (or a crash) can stop it anywhere. The steps run in phases chosen so that no
prefix of them lets an address no key names through a domain that rejects such
addresses both before and after the sync (``tests/unit/test_ldap_sync_plan.py`` checks
every prefix; the real sendmail checks it over a real slapd in the oracle tests):

1. the container; domain-wide keys (``@dom``, ``+*@dom``, ``++@dom``) that reject, new
   or changed; a domain-wide key that is going to accept is first set to a temporary
   4xx (what it forwards to may not be in place yet); domain-wide keys that accepted and
   go away;
2. address entries that reject, new or changed;
3. the other new or changed address entries, then deletions of address entries;
4. the final values of the domain-wide keys that accept;
5. deletions of domain-wide keys that rejected, last.

Only entries of this scope (``sendmailMTACluster`` or ``sendmailMTAHost``) are changed;
an entry of another scope at a DN the table needs is a conflict, reported before
anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Optional

from virtc.errors import VirtcError
from virtc.exports.ldap_entries import (
    MAP_NAME,
    Attributes,
    Scope,
    container_attributes,
    container_dn,
    entry_attributes,
    entry_dn,
    require_python_ldap,
    stored_records,
)
from virtc.model import Key, KeyKind, Value, ValueKind
from virtc.source.reader import decode, encode
from virtc.table import Table

VALUE = "sendmailMTAMapValue"
Found = tuple[Optional[str], dict[str, list[bytes]]]
"""A search result: (DN, or None for a referral; attributes)."""
PAGE_SIZE = 500
"""Entries per search page: within slapd's default size limit (500)."""
_DOMAIN_WIDE = (KeyKind.CATCH_ALL, KeyKind.DOMAIN_ANY, KeyKind.DOMAIN_PLUS)


@dataclass(frozen=True)
class Step:
    """One LDAP operation: ``add`` (attributes), ``modify`` (the new value) or ``delete``."""

    action: str
    dn: str
    key: str
    counts_as: str
    """``added``, ``changed`` or ``deleted`` in the summary; empty for the container and
    temporary values."""
    value: bytes | None = None
    """``modify``: the new value; ``add`` of an entry: its value."""
    scope: Scope | None = None
    """``add`` of an entry: whose it is (None: the container)."""

    @property
    def attributes(self) -> Attributes | None:
        """What ``add`` creates, made when asked (held for a million steps it was most of a
        plan's memory)."""
        if self.action != "add":
            return None
        if self.scope is None:
            return container_attributes()
        attributes = entry_attributes(self.key, "", self.scope)
        attributes[VALUE] = [self.value or b""]
        return attributes


@dataclass
class SyncPlan:
    steps: list[Step] = field(default_factory=list)
    unchanged: int = 0
    temporary: int = 0
    """Domain-wide keys that answer :data:`IN_PROGRESS` for a while (one extra step each)."""
    conflicts: list[str] = field(default_factory=list)
    """Why the plan cannot run (entries of another scope where the table needs ours)."""
    shadowed: list[str] = field(default_factory=list)
    """Keys that another scope's entry (at another DN) also holds: a host that sees both finds
    two matches, which sendmail's ldap map (``-1``) treats as none."""

    def count(self, what: str) -> int:
        return sum(1 for s in self.steps if s.counts_as == what)

    def summary(self) -> str:
        return (f"{self.count('added')} added, {self.count('changed')} changed, "
                f"{self.count('deleted')} deleted, {self.unchanged} unchanged")


@dataclass(frozen=True)
class Current:
    """An entry the directory holds under the base that sendmail's filter could return."""

    dn: str
    keys: tuple[bytes, ...]
    value: bytes | None
    scope_values: dict[str, tuple[bytes, ...]]


def _normal(dn: str) -> str:
    import ldap.dn

    return str(ldap.dn.dn2str(ldap.dn.str2dn(dn))).lower()


class _EntryNormal:
    """:func:`_normal` of the DNs :func:`entry_dn` makes under ``base``, without parsing each:
    its key's RDN is escaped as ``dn2str`` escapes it, so only the container's part needs
    python-ldap (#18: parsing a million DNs was half of a plan's time; tested equal)."""

    def __init__(self, base: str) -> None:
        self.container = container_dn(base)
        self.suffix = "," + _normal(self.container)

    def __call__(self, dn: str) -> str:
        assert dn.endswith("," + self.container), dn
        return dn[:len(dn) - len(self.container) - 1].lower() + self.suffix


IN_PROGRESS = b"error:4.3.0:451 4.3.0 Table update in progress, try again later"
"""What a domain-wide key that will accept answers between phases 1 and 4 (senders retry a 4xx)."""


def _rejects(value: bytes | None) -> bool:
    return value is not None and \
        Value.parse(decode(value)).kind is ValueKind.ERROR


def _wide(keys: Iterable[bytes]) -> bool:
    return any(Key.parse(decode(k)).kind in _DOMAIN_WIDE for k in keys)


def _whose(entry: Current) -> str:
    return ", ".join(f"{a} {b'/'.join(v).decode(errors='replace')}"
                     for a, v in entry.scope_values.items() if v) or "no cluster or host"


def plan_sync(table: Table, base: str, scope: Scope, current: list[Current],
              container_exists: bool) -> SyncPlan:
    """The steps that make the directory's entries of ``scope`` equal to the table."""
    plan = SyncPlan()
    ours = {_normal(c.dn): c for c in current
            if scope.name.encode().lower() in (v.lower() for v in c.scope_values.get(scope.attribute, ()))}
    everyone = {_normal(c.dn): c for c in current}
    phases: list[list[Step]] = [[] for _ in range(6)]
    if not container_exists:
        phases[0].append(Step("add", container_dn(base), "", ""))
    wanted: set[str] = set()
    others: dict[bytes, list[Current]] = {}
    for c in current:
        if _normal(c.dn) not in ours:
            for k in c.keys:
                others.setdefault(k.lower(), []).append(c)
    normal = _EntryNormal(base)
    for key, value in stored_records(table):
        dn = entry_dn(key, base)
        norm = normal(dn)
        for other in others.get(encode(key).lower(), ()):
            if _normal(other.dn) != norm:
                plan.shadowed.append(f"{other.dn} also holds '{key}' ({_whose(other)}): a host that sees "
                                     "both entries finds two matches, which sendmail treats as none")
        wanted.add(norm)
        attributes = entry_attributes(key, value, scope)
        new_value = attributes[VALUE][0]
        have = ours.get(norm)
        if have is None and norm in everyone:
            other = everyone[norm]
            plan.conflicts.append(f"{other.dn}: the directory holds this key for {_whose(other)}, not for "
                                  f"{scope}: one DN per key (sync it from one table)")
            continue
        if have is not None and have.value == new_value and have.keys == tuple(attributes["sendmailMTAKey"]):
            plan.unchanged += 1
            continue
        wide = _wide(attributes["sendmailMTAKey"])
        final = Step("add", dn, key, "added", new_value, scope) if have is None else \
            Step("modify", dn, key, "changed", value=new_value)
        if _rejects(new_value):
            phases[1 if wide else 2].append(final)
        elif not wide:
            phases[3].append(final)
        else:
            if have is None:
                temporary = Step("add", dn, key, "", IN_PROGRESS, scope)
            else:
                temporary = Step("modify", dn, key, "", value=IN_PROGRESS)
            phases[1].append(temporary)
            phases[4].append(Step("modify", dn, key, final.counts_as, value=new_value))
            plan.temporary += 1
    for norm, c in ours.items():
        if norm not in wanted:
            step = Step("delete", c.dn, decode(b",".join(c.keys)), "deleted")
            if not _wide(c.keys):
                phases[3].append(step)
            else:
                phases[5 if _rejects(c.value) else 1].append(step)
    plan.steps = [step for phase in phases for step in phase]
    return plan


class Directory:
    """A bound connection (python-ldap); every failure is one line and exit 2."""

    def __init__(self, uri: str, bind_dn: str, password: str, *, starttls: bool = False,
                 timeout: float = 10) -> None:
        require_python_ldap()
        import ldap

        self._ldap = ldap
        self.uri = uri
        with self._errors("connect"):
            self.conn = ldap.initialize(uri, bytes_mode=False)
            self.conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
            self.conn.set_option(ldap.OPT_NETWORK_TIMEOUT, timeout)
            self.conn.set_option(ldap.OPT_TIMEOUT, timeout)
            self.conn.set_option(ldap.OPT_REFERRALS, 0)
            if starttls:
                self.conn.start_tls_s()
        with self._errors(f"bind as {bind_dn}"):
            self.conn.simple_bind_s(bind_dn, password)

    def _errors(self, what: str) -> _Errors:
        return _Errors(self._ldap, self.uri, what)

    def current(self, base: str) -> tuple[list[Current], bool]:
        """Every virtuser map object below ``base`` (any scope), and whether the container exists."""
        ldap = self._ldap
        flt = f"(&(objectClass=sendmailMTAMapObject)(sendmailMTAMapName={MAP_NAME}))"
        attrs = ["sendmailMTAKey", VALUE, "sendmailMTACluster", "sendmailMTAHost"]
        with self._errors(f"search {base}"):
            try:
                found = self._search_all(base, flt, attrs)
            except ldap.NO_SUCH_OBJECT:
                raise VirtcError(f"{self.uri}: base {base} does not exist") from None
            except ldap.SIZELIMIT_EXCEEDED:
                # Never sync from part of the directory: entries it did not see would be added twice.
                raise VirtcError(f"{self.uri}: the server's size limit cut the search below {base}: "
                                 "let the bind DN page through all entries (slapd: limits "
                                 "dn.exact=\"BIND-DN\" size.prtotal=unlimited); "
                                 "nothing was changed") from None
            try:
                self.conn.search_s(container_dn(base), ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
                container = True
            except ldap.NO_SUCH_OBJECT:
                container = False
        entries = []
        for dn, a in found:
            if dn is None:  # a referral
                continue
            scopes = {s: tuple(a.get(s, ())) for s in ("sendmailMTACluster", "sendmailMTAHost")}
            values = a.get(VALUE)
            value = values[0] if values else None
            entries.append(Current(dn, tuple(a.get("sendmailMTAKey", ())), value, scopes))
        return entries, container

    def _search_all(self, base: str, flt: str, attrs: list[str]) -> list[Found]:
        """A subtree search in pages (RFC 2696), so that a per-request size limit is no limit."""
        from ldap.controls import SimplePagedResultsControl

        ldap = self._ldap
        page = SimplePagedResultsControl(True, size=PAGE_SIZE, cookie="")
        found: list[Found] = []
        while True:
            msgid = self.conn.search_ext(base, ldap.SCOPE_SUBTREE, flt, attrs, serverctrls=[page])
            _, data, _, controls = self.conn.result3(msgid)
            found += data
            cookie = next((c.cookie for c in controls
                           if c.controlType == SimplePagedResultsControl.controlType), b"")
            if not cookie:
                return found
            page.cookie = cookie

    def apply(self, step: Step) -> None:
        ldap = self._ldap
        with self._errors(f"{step.action} {step.dn}"):
            if step.action == "add":
                assert step.attributes is not None
                self.conn.add_s(step.dn, list(step.attributes.items()))
            elif step.action == "modify":
                assert step.value is not None
                key = encode(step.key)
                self.conn.modify_s(step.dn, [(ldap.MOD_REPLACE, VALUE, [step.value]),
                                             (ldap.MOD_REPLACE, "sendmailMTAKey", [key])])
            else:
                self.conn.delete_s(step.dn)

    def close(self) -> None:
        self.conn.unbind_s()


class _Errors:
    """Turns python-ldap's exceptions into one-line VirtcErrors (exit 2)."""

    def __init__(self, ldap: object, uri: str, what: str) -> None:
        self.ldap, self.uri, self.what = ldap, uri, what

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: object) -> None:
        if ev is None or not isinstance(ev, self.ldap.LDAPError):  # type: ignore[attr-defined]
            return
        info = ev.args[0] if ev.args and isinstance(ev.args[0], dict) else {}
        why = "; ".join(str(info[k]) for k in ("desc", "info") if info.get(k)) or str(ev)
        raise VirtcError(f"{self.uri}: {self.what}: {why}") from None


def sync(table: Table, directory: Directory, base: str, scope: Scope, *, dry_run: bool = False,
         after_step: Callable[[Step], None] | None = None) -> SyncPlan:
    """Plan, and unless ``dry_run`` apply, the sync; conflicts stop it before any change."""
    current, container = directory.current(base)
    plan = plan_sync(table, base, scope, current, container)
    if plan.conflicts or dry_run:
        return plan
    for step in plan.steps:
        directory.apply(step)
        if after_step is not None:
            after_step(step)
    return plan


def describe(plan: SyncPlan) -> Iterator[str]:
    """One line per step, for --dry-run."""
    for step in plan.steps:
        yield f"{step.action} {step.dn}"
