"""Read what lint and query need from a real, m4-generated ``sendmail.cf``.

The cf is read as sendmail reads it (``readcf.c``): a line starting with a blank
continues the previous one, ``#`` lines are comments, the first character names the
command. From it: class w (``Cw``/``C{w}`` words, ``Fw``/``F{w}`` files) and
``{VirtHost}`` (VIRTUSER_DOMAIN, VIRTUSER_DOMAIN_FILE), ``Dj``, the ``K`` line of the
``virtuser`` map, whether FEATURE(virtuser_entire_domain) is in effect (its rules test
``$* $={VirtHost}``) and the local mailer's flags (``F=w``: sendmail itself rejects an
unknown local user at RCPT). Class files are read as sendmail reads an ``F`` class
file (first word of each line, ``#`` lines skipped; see virtc.source.localdomains);
a missing file is an error unless the line has ``-o``. Relative paths are taken as
written (sendmail resolves them against its working directory, the queue directory).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from virtc.errors import VirtcError
from virtc.model import fold
from virtc.source.localdomains import parse_local_domains
from virtc.source.read import read_source
from virtc.source.reader import decode

_CLASS = re.compile(r"C(?:\{(\w+)\}|(\w))(.*)")
_FILE_CLASS = re.compile(r"F(?:\{(\w+)\}|(\w))(.*)")
_MACRO = re.compile(r"D(?:\{(\w+)\}|(\w))(.*)")
_MAP = re.compile(r"K(\S+)\s+(\S+)\s*(.*)")
_MAILER = re.compile(r"M([^,\s]+)\s*,(.*)")
_MC_SIGNS = ("divert(", "FEATURE(", "MAILER(", "OSTYPE(", "include(")


@dataclass(frozen=True)
class MapSpec:
    """A ``K`` line: ``Kname type [-flags...] [path or spec]``."""

    name: str
    type: str
    path: str | None
    flags: tuple[str, ...]
    fold_case: bool
    """False with ``-f``: sendmail looks keys up as written (upper-case keys never match)."""
    optional: bool
    """``-o``: a missing map is not an error."""
    ldap_spec: str | None
    """For ``ldap`` maps: the whole argument text after the type."""
    line: int


@dataclass(frozen=True)
class SendmailCf:
    """The facts of one sendmail.cf (names folded)."""

    path: str
    class_w: frozenset[str]
    virthost: frozenset[str]
    dj: str | None
    virtuser: MapSpec | None
    entire_domain: bool
    local_mailer_flags: str
    warnings: tuple[str, ...] = ()

    @property
    def local_checks_users(self) -> bool:
        """sendmail rejects unknown local users at RCPT only when the local mailer has ``F=w``."""
        return "w" in self.local_mailer_flags


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each command, continuations joined."""
    out: list[tuple[int, str]] = []
    for n, line in enumerate(text.split("\n"), 1):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + line)
        elif line and not line.startswith("#"):
            out.append((n, line))
    return out


def _map_spec(name: str, kind: str, rest: str, line: int) -> MapSpec:
    words = rest.split()
    flags: list[str] = []
    i = 0
    while i < len(words) and words[i].startswith("-"):
        flags.append(words[i])
        i += 1
    path = " ".join(words[i:]) or None
    letters = "".join(f[1:2] for f in flags)
    return MapSpec(name, kind, path, tuple(flags), "f" not in letters, "o" in letters,
                   rest.strip() if kind == "ldap" else None, line)


def _read_class_file(spec: str, cf: Path, where: str, warnings: list[str]) -> list[str]:
    """Members of an ``F`` class file. A missing file is looked for beside the cf too (a
    copy of /etc/mail linted elsewhere, e.g. in CI), else warned about."""
    words = spec.split()
    optional = False
    while words and words[0].startswith("-"):
        optional |= "o" in words[0][1:]
        words.pop(0)
    if not words:
        return []
    name = words[0]
    if name.startswith("|"):
        warnings.append(f"{where}: class from a program ({name}): its members are not known")
        return []
    for candidate in (Path(name), cf.parent / Path(name).name):
        if candidate.is_file():
            try:
                return parse_local_domains(decode(read_source(candidate)))
            except VirtcError as exc:
                raise VirtcError(f"{where}: class file {exc}") from None
    if not optional:
        warnings.append(f"{where}: class file {name} not found (nor beside the cf): its domains are not "
                        "known, and sendmail refuses to start without it")
    return []


def read_sendmail_cf(path: str | Path) -> SendmailCf:
    """The facts of the cf at ``path``; unreadable or not-a-cf files are one-line errors."""
    data = read_source(path)  # (its own one-line errors: missing, permission denied, a directory)
    if b"\0" in data[:4096]:
        raise VirtcError(f"{path}: not a sendmail.cf (a binary file)")
    text = decode(data)
    lines = _logical_lines(text)
    if any(line.startswith(_MC_SIGNS) for _, line in lines[:200]):
        raise VirtcError(f"{path}: this is a .mc file; give the sendmail.cf m4 generates from it")
    if not any(line.startswith(("V", "O ", "M", "S", "R")) for _, line in lines):
        raise VirtcError(f"{path}: not a sendmail.cf (no option, mailer or rule lines)")
    classes: dict[str, list[str]] = {"w": [], "VirtHost": []}
    warnings: list[str] = []
    dj = None
    virtuser = None
    entire = False
    local_flags = ""
    for n, line in lines:
        where = f"{path}:{n}"
        if m := _CLASS.match(line):
            name = m.group(1) or m.group(2)
            if name in classes:
                classes[name] += [fold(w) for w in m.group(3).split()]
        elif m := _FILE_CLASS.match(line):
            name = m.group(1) or m.group(2)
            if name in classes:
                classes[name] += _read_class_file(m.group(3), Path(path), where, warnings)
        elif m := _MACRO.match(line):
            if (m.group(1) or m.group(2)) == "j" and "$" not in m.group(3):
                dj = fold(m.group(3).strip()) or None
        elif m := _MAP.match(line):
            if m.group(1) == "virtuser":
                virtuser = _map_spec(m.group(1), m.group(2), m.group(3), n)
        elif m := _MAILER.match(line):
            if m.group(1) == "local":
                flags = re.search(r"\bF=([^,\s]*)", m.group(2))
                local_flags = flags.group(1) if flags else ""
        elif line.startswith("R") and "$(virtuser" in line and "$* $={VirtHost}" in line:
            entire = True
    return SendmailCf(str(path), frozenset(classes["w"]), frozenset(classes["VirtHost"]), dj,
                      virtuser, entire, local_flags, tuple(warnings))
