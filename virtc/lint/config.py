"""Lint configuration: ``[tool.virtc]`` in ``pyproject.toml`` or a ``.virtc.toml``.

Discovery: for each linted file, the directory holding it and then its parents
are searched; the first directory with a ``.virtc.toml``, or a ``pyproject.toml``
that has a ``[tool.virtc]`` table, wins (``.virtc.toml`` first when a directory
has both). Files are not merged. Standard input is searched for from the current
directory. ``--config FILE`` replaces discovery, ``--isolated`` disables it, and
command-line options override what the file says.

Keys (all optional)::

    select = ["VT1", "missing-catch-all"]   # codes, names, code prefixes or "ALL"
    ignore = ["VT205"]
    local-domains = "local-host-names"      # relative to the config file
    sendmail-cf = "/etc/mail/sendmail.cf"   # default: a sendmail.cf beside the table
    users = "passwd"                        # passwd format (getent passwd output)
    aliases = "/etc/aliases"                # aliases(5)
    mailboxes = "mailboxes.txt"             # one name per line (doveadm user '*')
    catch-all = "error:5.1.1:550 User unknown"   # must be an error: that sendmail rejects with 5xx
    keep-deliverable = ["postmaster", "abuse"]  # local parts the catch-all fix keeps working
    fail-on = "warning"                     # error | warning | info
    target = "ldap"                         # hash | ldap (default: as the cf's virtuser K line says)

    [tool.virtc.severity]                   # or [severity] in .virtc.toml
    VT105 = "error"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from virtc.diagnostics import Severity
from virtc.errors import VirtcError
from virtc.source import localdomains

DEFAULT_CATCH_ALL = "error:5.1.1:550 User unknown"
CONFIG_NAMES = (".virtc.toml", "pyproject.toml")
TARGETS = ("hash", "ldap")


class ConfigError(VirtcError):
    """A bad configuration file or option (exit 2)."""


@dataclass
class LintConfig:
    select: frozenset[str] | None = None
    """Codes to run (None = all)."""
    ignore: frozenset[str] = frozenset()
    severities: dict[str, Severity] = field(default_factory=dict)
    local_domains: str | None = None
    """Path of a local-host-names style file (absolute once loaded from a config file)."""
    sendmail_cf: str | None = None
    users: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    mailboxes: tuple[str, ...] = ()
    catch_all: str = DEFAULT_CATCH_ALL
    """The value suggested (and inserted by --fix) for a missing catch-all."""
    keep_deliverable: tuple[str, ...] = ("postmaster",)
    """Local parts the catch-all fix keeps deliverable (entries to the local user)."""
    fail_on: Severity = Severity.WARNING
    """The lowest severity that makes ``virtc lint`` exit 1."""
    target: str | None = None
    """``ldap``: lint for sendmail's LDAP map (what a directory cannot hold, outages); None or
    ``hash``: as the sendmail.cf's virtuser K line says (hash without one)."""
    source: Path | None = None
    """The file this configuration came from (None: defaults)."""

    def enabled(self, code: str) -> bool:
        return (self.select is None or code in self.select) and code not in self.ignore

    def override(self, *, select: frozenset[str] | None = None, ignore: frozenset[str] = frozenset(),
                 local_domains: str | None = None, fail_on: Severity | None = None,
                 sendmail_cf: str | None = None, users: tuple[str, ...] = (),
                 aliases: tuple[str, ...] = (), mailboxes: tuple[str, ...] = (),
                 target: str | None = None) -> LintConfig:
        """This configuration with command-line options on top.

        ``--select`` replaces the file's ``select`` and re-enables codes the file
        ignores; ``--ignore`` adds to the file's ``ignore``.
        """
        new_ignore = (self.ignore - select if select is not None else self.ignore) | ignore
        return dataclasses.replace(
            self,
            select=select if select is not None else self.select,
            ignore=new_ignore,
            local_domains=local_domains if local_domains is not None else self.local_domains,
            fail_on=fail_on if fail_on is not None else self.fail_on,
            sendmail_cf=sendmail_cf if sendmail_cf is not None else self.sendmail_cf,
            users=users or self.users,
            aliases=aliases or self.aliases,
            mailboxes=mailboxes or self.mailboxes,
            target=target if target is not None else self.target,
        )


def resolve_codes(selectors: Iterable[str], where: str) -> frozenset[str]:
    """Codes for selectors (codes, names, code prefixes such as ``VT1``, ``ALL``)."""
    from virtc.lint.registry import select_codes

    try:
        return select_codes(selectors)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def split_codes(text: str) -> list[str]:
    """``"VT101, VT102 foo"`` -> ``["VT101", "VT102", "foo"]``."""
    return [part for part in text.replace(",", " ").split() if part]


def find_config(start: Path) -> Path | None:
    """The nearest configuration file for files in directory ``start``."""
    start = start.resolve()
    for directory in (start, *start.parents):
        dot = directory / ".virtc.toml"
        if dot.is_file():
            return dot
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_virtc_table(pyproject):
            return pyproject
    return None


def _has_virtc_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if "virtc" not in text:  # cheap: do not parse (and reject) other projects' files
        return False
    return "virtc" in _read_toml(pyproject).get("tool", {})


def _read_toml(path: Path) -> dict[str, Any]:
    from virtc.compat import tomllib  # only when a configuration file exists (start-up time)

    try:
        with path.open("rb") as f:
            data: dict[str, Any] = tomllib.load(f)
            return data
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_config(path: Path) -> LintConfig:
    """Read one configuration file (``.virtc.toml`` or ``pyproject.toml``)."""
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("virtc", {})
        where = f"{path}: [tool.virtc]"
    else:
        table, where = data, str(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    return config_from_table(table, where, path.parent, source=path)


def config_from_table(table: dict[str, Any], where: str, base: Path,
                      source: Path | None = None) -> LintConfig:
    known = {"select", "ignore", "severity", "local-domains", "sendmail-cf", "users", "aliases", "mailboxes",
             "catch-all", "keep-deliverable", "fail-on", "target"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(sorted(known))})")
    config = LintConfig(source=source)
    if "select" in table:
        config.select = resolve_codes(_str_list(table["select"], f"{where}: select"), f"{where}: select")
    if "ignore" in table:
        config.ignore = resolve_codes(_str_list(table["ignore"], f"{where}: ignore"), f"{where}: ignore")
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{where}: severity must be a table of CODE = \"error|warning|info\"")
    for selector, level in severity.items():
        if not isinstance(level, str):
            raise ConfigError(f"{where}: severity.{selector} must be \"error\", \"warning\" or \"info\"")
        sev = _severity(level, f"{where}: severity.{selector}")
        for code in resolve_codes([selector], f"{where}: severity"):
            config.severities[code] = sev
    if "local-domains" in table:
        value = _string(table["local-domains"], f"{where}: local-domains")
        config.local_domains = str(base / value)
    if "sendmail-cf" in table:
        config.sendmail_cf = str(base / _string(table["sendmail-cf"], f"{where}: sendmail-cf"))
    for key in ("users", "aliases", "mailboxes"):
        if key in table:
            files = _str_list(table[key], f"{where}: {key}", what="file names")
            setattr(config, key, tuple(str(base / f) for f in files))
    if "catch-all" in table:
        value = _string(table["catch-all"], f"{where}: catch-all").strip()
        if not value or "\n" in value:
            raise ConfigError(f"{where}: catch-all must be one non-empty line")
        problem = catch_all_problem(value)
        if problem:
            raise ConfigError(f"{where}: catch-all {value!r}: {problem}")
        config.catch_all = value
    if "keep-deliverable" in table:
        names = _str_list(table["keep-deliverable"], f"{where}: keep-deliverable", what="local parts")
        bad = [n for n in names if not n or "@" in n or any(c.isspace() for c in n) or n.startswith("#")]
        if bad:
            raise ConfigError(f"{where}: keep-deliverable: {bad[0]!r} is not a local part (no '@' or blanks)")
        config.keep_deliverable = tuple(dict.fromkeys(["postmaster", *names]))
    if "fail-on" in table:
        config.fail_on = _severity(_string(table["fail-on"], f"{where}: fail-on"), f"{where}: fail-on")
    if "target" in table:
        target = _string(table["target"], f"{where}: target")
        if target not in TARGETS:
            raise ConfigError(f"{where}: target must be one of {', '.join(TARGETS)}, not {target!r}")
        config.target = target
    return config


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string")
    return value


def _str_list(value: object, where: str, what: str = "rule codes or names") -> list[str]:
    if isinstance(value, str):
        return split_codes(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of {what}")
    return list(value)


def catch_all_problem(value: str) -> str | None:
    """Why sendmail would not reject with ``value`` as a catch-all (5xx at RCPT), or None."""
    from virtc.lookup import LookupTable, resolve

    r = resolve("virtc-probe@virtc.invalid", LookupTable.from_pairs({"@virtc.invalid": value}))
    if r.kind != "error" or r.text is None:
        return "sendmail does not reject with it (use error:5.1.1:550 User unknown)"
    if r.text.startswith("553 5.3.0"):
        return (f"sendmail reads it as a malformed error ('{r.text}'); "
                "write error:D.S.N:NNN text, e.g. error:5.1.1:550 User unknown")
    if not r.text.startswith("5"):
        return f"not a permanent reject ('{r.text}'): the catch-all must answer 5xx"
    return None


def _severity(value: str, where: str) -> Severity:
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def config_for(path: str | Path, explicit: Path | None = None, isolated: bool = False) -> LintConfig:
    """The configuration that applies to the source ``path`` (``-`` / ``<stdin>``: the cwd)."""
    if isolated:
        return LintConfig()
    if explicit is not None:
        return load_config(explicit)
    p = Path(path)
    directory = Path.cwd() if str(path) in ("-", "<stdin>") else p.parent
    found = find_config(directory) if directory.is_dir() else None
    return load_config(found) if found is not None else LintConfig()


def read_local_domains(path: str | Path) -> frozenset[str]:
    """The local domains of a local-host-names style file (see virtc.source.localdomains)."""
    return frozenset(localdomains.read_local_domains(path))
