"""Postfix: the table as virtual(5) and access(5) maps, and what Postfix reads differently.

sendmail tries up to seven keys for ``user+detail@domain``; Postfix's fixed-string maps
try three (``user+detail@domain``, ``user@domain``, ``@domain``), and Postfix only
checks the address the client gave, not where its alias leads. So lines are not
copied: for each key, virtc's model of sendmail (:func:`virtc.lookup.resolve.resolve`)
says what happens to the addresses that key catches, and that outcome is written where
Postfix looks for it:

* accepted: ``virtual`` (virtual_alias_maps), the target followed to the end of its
  chain, as sendmail follows it before it answers;
* rejected: ``recipient_access`` (check_recipient_access) with sendmail's reply (code,
  DSN and text); in a domain with any reject, every key gets a line (``DUNNO`` when it
  accepts) so that Postfix's shorter search cannot fall through to the wrong one;
* a domain whose keys the hash search order cannot express (``+*``, ``++``, a ``%N``
  value, a local part starting with ``+``) is written whole as ``regexp:`` rules in
  sendmail's own lookup order (``virtual_regexp``, ``recipient_access_regexp``);
* a domain with an ``@domain`` catch-all is a virtual alias domain (``virtual_domains``);
  one without is in ``mydestination``, as class w delivers its unknown names locally.

Bare local names stay bare: Postfix appends ``@$myorigin``, local by default.
What Postfix cannot do exactly is returned as PF diagnostics (see :data:`CODES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from virtc.diagnostics import Diagnostic, Severity
from virtc.errors import VirtcError
from virtc.lookup.keys import split_plus
from virtc.lookup.resolve import final_target, local_domain_set, quick_path, resolve
from virtc.lookup.table import LookupTable
from virtc.model import Entry, KeyKind, fold
from virtc.table import Table
from virtc.writers.atomic import replace_text

FILES = ("virtual", "virtual_regexp", "virtual_domains", "recipient_access",
         "recipient_access_regexp", "main.cf")

CODES = {
    "PF101": "postfix-late-check",
    "PF102": "postfix-not-an-address",
    "PF103": "postfix-reply-code",
    "PF104": "postfix-dsn-class",
    "PF105": "postfix-key",
    "PF106": "postfix-target",
    "PF107": "postfix-not-found-marker",
    "PF108": "postfix-lookup-key-value",
}
"""The export's findings (documented in README "Other MTAs")."""

# The probe: a key pinned into the table, so resolving one address says what sendmail
# does with a value; its user and detail are markers that become regexp captures.
_PROBE_DOMAIN = "virtc-probe.invalid"
_USER, _DETAIL = "vtcuser7q", "vtcdetail7q"
_SPLIT = (f"{_USER}+{_DETAIL}@{_PROBE_DOMAIN}", f"{_USER}+*@{_PROBE_DOMAIN}")
_WHOLE = (f"{_USER}@{_PROBE_DOMAIN}", f"{_USER}@{_PROBE_DOMAIN}")

_SAFE_KEY = re.compile(r"[!-~]+")
_SAFE_TARGET = re.compile(r"[A-Za-z0-9!#%&'*+=?^_`{}~.-]+(?:@[A-Za-z0-9_.-]+)?")
_REPLY = re.compile(r"([45])\d\d (?:([245])\.\d{1,3}\.\d{1,3}\b)?")
_SUBSTITUTION = re.compile(r"%[0-9]")

# The steps of virtc.lookup.keys that a regexp rule stands for, with its pattern. Group 1
# is sendmail's %1 (the user, or the whole local part), group 2 the detail.
_SPLIT_STEPS = (2, 3, 4, 5, 6, 7)
_USER_PART = "([^@][^+@]*)"


@dataclass
class _Pinned(LookupTable):
    """The table plus one probe key: what does sendmail do with ``pinned_value``?"""

    pinned_key: str = ""
    pinned_value: str = ""

    def get(self, key: str) -> str | None:
        return self.pinned_value if fold(key) == self.pinned_key else super().get(key)


class _Outcome(NamedTuple):
    """What the export needs of a resolution (kept per distinct value: not its lookups)."""

    kind: str
    result: str | None
    text: str | None
    relooked: str | None
    """The address the value was looked up again as (a second step), if any."""


class _Rule(NamedTuple):
    """What sendmail does with the addresses one key catches at one lookup step."""

    step: int
    user: str
    """The key's user part, for the ``user+*`` / ``user++`` rules (steps 2-4; else '')."""
    key: str
    """The stored (folded) key."""
    target: str | None
    """Accepted: where Postfix sends them (in a regexp domain, ``${1}``/``${2}`` templates)."""
    reply: str | None
    """Rejected: the RCPT reply, e.g. ``550 5.1.1 User unknown``."""


class _Domain:
    def __init__(self, name: str) -> None:
        self.name = name
        self.rules: list[_Rule] = []
        self.regexp = False
        """Written as regexp rules: the hash search order cannot express its keys."""

    @property
    def catch_all(self) -> bool:
        return any(r.key.startswith("@") for r in self.rules)

    @property
    def rejects(self) -> bool:
        return any(r.reply is not None for r in self.rules)


def export_postfix(table: Table, out_dir: Path) -> list[Diagnostic]:
    """Write the Postfix files into ``out_dir``; return what does not translate exactly."""
    exporter = _Exporter(LookupTable.from_table(table))
    files = exporter.render()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VirtcError(f"{out_dir}: cannot create the folder: {exc.strerror}") from None
    for name in FILES:  # one file at a time, written a few thousand lines at a time
        replace_text(out_dir / name, _pieces(files.pop(name)))
    return sorted(exporter.diagnostics, key=Diagnostic.sort_key)


def _pieces(lines: list[str]) -> Iterator[bytes]:
    """``lines`` as the file's bytes, 4,096 lines a piece (not the whole text twice)."""
    for start in range(0, len(lines), 4096):
        yield "".join(line + "\n" for line in lines[start:start + 4096]).encode("ascii")


class _Exporter:
    def __init__(self, lookup: LookupTable) -> None:
        self.lookup = lookup
        self.diagnostics: list[Diagnostic] = []
        self._reported: set[tuple[int, str]] = set()
        self.domains: dict[str, _Domain] = {}
        self.probe = _Pinned(lookup.values, lookup.entries, lookup.path)
        self.local = local_domain_set([*lookup.domains, _PROBE_DOMAIN])
        self._outcomes: dict[tuple[str, bool], _Outcome] = {}
        self._late: list[tuple[Entry, str, bool]] = []
        for key in lookup.values:
            self._add(key, lookup.entries[key])
        self._report_late()

    # -- what each key does ----------------------------------------------------------

    def _report(self, entry: Entry, code: str, message: str) -> None:
        if (entry.line, code) in self._reported:
            return
        self._reported.add((entry.line, code))
        self.diagnostics.append(Diagnostic(self.lookup.path, entry.line, entry.column, entry.line,
                                           entry.end_column, code, CODES[code], Severity.WARNING,
                                           message))

    def _outcome(self, value: str, split: bool) -> _Outcome:
        """sendmail's resolution of an address caught by a key with ``value``: the probe's
        user and detail stand for the address's (``split``: a ``+detail`` address)."""
        plain = final_target(value, self.local)  # (most values: no lookup, nothing kept)
        if plain is not None:
            return _Outcome(plain.kind, plain.result, plain.text, None)
        cached = self._outcomes.get((value, split))
        if cached is None:
            address, key = _SPLIT if split else _WHOLE
            self.probe.pinned_key, self.probe.pinned_value = key, value
            quick = quick_path(address, self.probe, self.local)  # (templates, local forwards)
            if quick is not None:
                end, path = quick
                return _Outcome(end.kind, end.result, end.text, path[1] if len(path) > 2 else None)
            r = resolve(address, self.probe, self.local)
            relooked = r.steps[1].address if len(r.steps) > 1 else None
            cached = self._outcomes[(value, split)] = _Outcome(r.kind, r.result, r.text, relooked)
        return cached

    def _add(self, key: str, entry: Entry) -> None:
        parsed = entry.key
        if parsed.kind is KeyKind.UNMATCHABLE:
            return  # sendmail never looks it up (lint says so)
        domain = fold(parsed.domain)
        if not (_SAFE_KEY.fullmatch(key) and '"' not in key and not domain.endswith(".")):
            self._report(entry, "PF105", "Postfix cannot hold this key (space, quote, 8-bit byte or "
                         "a trailing dot): not exported; Postfix answers for these addresses as "
                         "for the rest of the domain")
            return
        value = entry.value_text
        if re.search(r"%0", value):
            self._report(entry, "PF108", "'%0' (the lookup key) has no Postfix equivalent: not "
                         "exported; Postfix answers for these addresses as for the rest of the domain")
            return
        steps = {KeyKind.ADDRESS: (1, 4), KeyKind.USER_PLUS: (2,), KeyKind.USER_ANY: (3,),
                 KeyKind.DOMAIN_PLUS: (5,), KeyKind.DOMAIN_ANY: (6,), KeyKind.CATCH_ALL: (7, 8)}
        rules = []
        for step in steps[parsed.kind]:
            if step == 4 and split_plus(parsed.user) is not None:
                continue  # sendmail's user part never holds a '+' after its first character
            rule = self._rule(step, entry, key, value)
            if rule is None:
                return
            rules.append(rule)
        d = self.domains.setdefault(domain, _Domain(domain))
        d.rules += rules
        if parsed.kind not in (KeyKind.ADDRESS, KeyKind.CATCH_ALL) or _SUBSTITUTION.search(value) \
                or parsed.user.startswith("+"):
            d.regexp = True

    def _rule(self, step: int, entry: Entry, key: str, value: str) -> _Rule | None:
        res = self._outcome(value, step in _SPLIT_STEPS)
        if _SUBSTITUTION.search(value) and res.relooked is not None:
            # The target depends on the address and is looked up again: Postfix follows it
            # itself, but only after it has accepted the address.
            target = res.relooked
            self._late.append((entry, fold(target.rpartition("@")[2]), res.kind in ("error", "loop")))
        elif res.kind in ("error", "loop"):
            return self._reject(step, entry, key, res)
        elif res.kind == "unmatched":
            self._report(entry, "PF107", "sendmail reads this value as 'not found' and goes on "
                         "searching; Postfix would read it as an address: not exported")
            return None
        else:
            target = res.result or ""
        if not _SAFE_TARGET.fullmatch(target):
            self._report(entry, "PF106", f"the target '{target}' is not an address Postfix's virtual "
                         "map can hold (programs, files and lists need aliases(5)): not exported; "
                         "Postfix answers for these addresses as for the rest of the domain")
            return None
        return _Rule(step, _user(step, entry), key, target, None)

    def _reject(self, step: int, entry: Entry, key: str, res: _Outcome) -> _Rule | None:
        reply = (res.text or "").strip()
        m = _REPLY.match(reply + " ")
        if m is None or not reply.isprintable():
            self._report(entry, "PF103", f"sendmail answers '{reply}', a reply Postfix's access map "
                         "cannot send (only 4xx and 5xx): not exported")
            return None
        if reply.startswith("550 5.7.1 Cannot mail directly to"):
            self._report(entry, "PF102", "the target is a program, file or :include: list: Postfix's "
                         "virtual map holds addresses only (use aliases(5)); exported as the reject "
                         "sendmail gives when it checks the target at RCPT (it does not in deferred "
                         "delivery mode, and accepts)")
        if m.group(2) and m.group(2) != m.group(1):
            self._report(entry, "PF104", f"sendmail sends '{reply[:9]}' as written; Postfix makes the "
                         "DSN's class match the reply code")
        return _Rule(step, _user(step, entry), key, None, reply)

    def _report_late(self) -> None:
        rejecting = {name for name, d in self.domains.items() if d.rejects}
        for entry, domain, refused in self._late:
            if refused or domain in rejecting:
                self._report(entry, "PF101", f"the target depends on the address and is looked up "
                             f"again in '{domain}', where the table rejects addresses: sendmail "
                             "checks the result before it answers RCPT, Postfix accepts the address "
                             "and bounces it later")

    # -- the files -------------------------------------------------------------------

    def render(self) -> dict[str, list[str]]:
        """Each file's lines."""
        out: dict[str, list[str]] = {name: [] for name in FILES}
        delimiter = False
        for d in self.domains.values():
            catch_all, rejects = d.catch_all, d.rejects  # once per domain: a scan of its rules each
            if catch_all:
                out["virtual_domains"].append(d.name)
            if d.regexp:
                self._render_regexp(d, out)
                out["recipient_access"].append(f"{d.name}\tDUNNO")
                continue
            for r in d.rules:
                if r.step in (4, 8):  # Postfix's hash search does these itself
                    delimiter = delimiter or r.step == 4
                    continue
                key = d.name if r.key.startswith("@") else r.key
                if r.reply is None:
                    out["virtual"].append(f"{r.key}\t{r.target}")
                if rejects or r.key.startswith("@"):
                    out["recipient_access"].append(f"{key}\t{r.reply or 'DUNNO'}")
            if not catch_all:
                out["recipient_access"].append(f"{d.name}\tDUNNO")
        out["main.cf"] = self._main_cf(out, delimiter)
        return out

    def _render_regexp(self, d: _Domain, out: dict[str, list[str]]) -> None:
        rejects = d.rejects
        for r in sorted(d.rules, key=lambda r: r.step):  # stable: table order within a step
            pattern = _pattern(r, d.name)
            if r.target is not None and r.step == 1 and "${" not in _template(r.target, 1):
                out["virtual"].append(f"{r.key}\t{r.target}")  # the hash map's first lookup
            elif r.target is not None:
                out["virtual_regexp"].append(f"{pattern}\t{_template(r.target, r.step)}")
            if rejects:
                action = "DUNNO" if r.reply is None else _template(r.reply, r.step)
                out["recipient_access_regexp"].append(f"{pattern}\t{action}")

    def _main_cf(self, out: dict[str, list[str]], delimiter: bool) -> list[str]:
        maps = ["hash:$config_directory/virtual"]
        if out["virtual_regexp"]:
            maps.append("regexp:$config_directory/virtual_regexp")
        checks = ["check_recipient_access hash:$config_directory/recipient_access"]
        if out["recipient_access_regexp"]:
            checks.append("check_recipient_access regexp:$config_directory/recipient_access_regexp")
        # The line replaces the server's own: end it with Postfix's relay protection, so that
        # pasting it never opens a relay, whatever smtpd_relay_restrictions says.
        checks += ["permit_mynetworks", "permit_sasl_authenticated", "reject_unauth_destination"]
        lines = [
            "# Written by virtc export postfix: add to main.cf (run postmap on virtual and",
            "# recipient_access). Later lines of main.cf win over earlier ones.",
            f"virtual_alias_maps = {', '.join(maps)}",
            "virtual_alias_domains = $config_directory/virtual_domains",
            f"smtpd_recipient_restrictions = {', '.join(checks)}",
        ]
        if delimiter:
            lines += ["recipient_delimiter = +", "propagate_unmatched_extensions = canonical"]
        local = [d.name for d in self.domains.values() if not d.catch_all]
        if local:
            lines.append("mydestination = $myhostname, localhost.$mydomain, localhost, " + ", ".join(local))
        return lines


def _user(step: int, entry: Entry) -> str:
    """What :attr:`_Rule.user` keeps (not the entry: a large table has a million rules)."""
    return entry.key.user if step in (2, 3, 4) else ""


def _template(text: str, step: int) -> str:
    """``text`` with the probe's markers as regexp captures (``$`` doubled), at a regexp step."""
    text = text.replace("$", "$$")
    if step in _SPLIT_STEPS:
        return text.replace(_USER, "${1}").replace(_DETAIL, "${2}")
    return text.replace(_USER, "${1}").replace("+" + _DETAIL, "").replace(_DETAIL, "")


def _ere(text: str) -> str:
    """``text`` matched literally by a POSIX extended regular expression in ``/.../``."""
    return re.sub(r"([.\[\]{}()\\*+?^$|/])", r"\\\1", text)


def _pattern(rule: _Rule, domain: str) -> str:
    """The regexp rule for one lookup step, anchored to the whole address."""
    user = rule.user
    at = "@" + _ere(domain)
    step = rule.step
    if step == 1:
        local = f"({_ere(rule.key.rpartition('@')[0])})"
    elif step in (2, 3, 4):
        local = f"({_ere(fold(user))})\\+([^@]{'+' if step == 2 else '*'})"
    elif step in (5, 6, 7):
        local = f"{_USER_PART}\\+([^@]{'+' if step == 5 else '*'})"
    else:
        local = "([^@]+)"
    return f"/^{local}{at}$/"

