"""Read a real, m4-generated ``sendmail.cf``: the facts lint and query need from the server.

Which domains are local (class ``w``) or virtual (``{VirtHost}``), how the ``virtuser`` map
is declared, whether ``FEATURE(virtuser_entire_domain)`` is on, and whether the local mailer
checks users at RCPT time (``F=w``). The syntax follows sendmail's ``readcf.c``:

* lines starting with a space or tab continue the previous one; CRLF counts as LF;
* ``#`` at the start of a line makes a comment; after a ``V`` line of level 3 or more a
  ``#`` elsewhere starts a comment to the end of that physical line (``$#`` and ``\\#`` are
  not comments);
* ``Cw a b``, ``C{w}a b``: words of a class; ``Fw/path``, ``F{w}-o /path %[^#]``: the class
  read from a file, one ``scanf`` match per line (default ``%s``: the first word), lines
  starting with ``#`` skipped. A missing file is an error unless ``-o`` is given.
  ``F{w}|program`` and ``F{w}key@map:spec`` are not run: their members are unknown (warning);
* relative class file paths are used as given, relative to the current directory, as
  sendmail does (it reads the cf before changing to the queue directory);
* class members are folded to lower case as sendmail's symbol table does; a trailing dot
  is kept; words using a macro (``$j``) are not expanded (warning).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from virtc.errors import VirtcError
from virtc.model import fold

_SPACE = " \t\n\r\x0b\x0c"
_COMMANDS = set("CDEFHKLMOPQRSTVX")
"""First letters of the lines sendmail understands (``readcf.c``)."""
_MC_LINE = re.compile(r"^\s*(?:(?:divert|include|FEATURE|OSTYPE|DOMAIN|MAILER|VERSIONID|define)\(|dnl\b)")
_ENTIRE_DOMAIN_LHS = re.compile(r"\$\*\s*\$=\{VirtHost\}")
_K_LINE = re.compile(r"\s*(?P<name>[A-Za-z0-9][A-Za-z0-9_.]*).?\s*(?P<type>[A-Za-z0-9]+).?\s*(?P<args>.*)",
                     re.S)
"""``makemapentry``: name, class, each ended by one character of any kind (``ldap:-k ...``)."""
_SCANF = re.compile(r"^(?P<pre>[^%]*)%(?P<width>\d*)(?:(?P<s>s)|\[(?P<set>\^?\]?[^\]]*)\])")
_DEFAULT_FORMAT = "%s"


class MapSpec(NamedTuple):
    """One ``K`` line: how sendmail opens and queries a map."""

    name: str
    type: str
    path: str | None
    """The map file (or spec) after the flags; None when there is none (ldap without one)."""
    flags: tuple[str, ...]
    """Every ``-x`` flag as written, e.g. ``("-o", "-T<TMPF>")``."""
    fold_case: bool
    """Keys are lower-cased before the lookup (no ``-f``)."""
    optional: bool
    """``-o``: a missing map is no error."""
    ldap_spec: str | None
    """For ldap: the whole argument text after the type."""
    line: int


class SendmailCf(NamedTuple):
    """What a ``sendmail.cf`` says about local domains, the virtuser map and local delivery."""

    path: str
    class_w: frozenset[str]
    """Folded members of class w from C and F lines (not the names sendmail adds at run time:
    its own host names and interface addresses)."""
    virthost: frozenset[str]
    """Folded members of ``{VirtHost}`` (VIRTUSER_DOMAIN, VIRTUSER_DOMAIN_FILE)."""
    dj: str | None
    """``$j`` when the cf sets it literally (``Dj``), else None."""
    virtuser: MapSpec | None
    entire_domain: bool
    """FEATURE(virtuser_entire_domain): subdomains of {VirtHost} domains are looked up too."""
    local_mailer_flags: str
    """The ``F=`` letters of ``Mlocal`` ('' if none)."""
    warnings: tuple[str, ...]

    @property
    def local_checks_users(self) -> bool:
        """sendmail rejects unknown local users at RCPT only when the local mailer has F=w."""
        return "w" in self.local_mailer_flags


def read_sendmail_cf(path: str | Path) -> SendmailCf:
    """Read ``path`` (a sendmail.cf) and the class files it names; VirtcError on failure."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise VirtcError(f"{name}: cannot read: {reason}") from None
    if b"\0" in data:
        raise VirtcError(f"{name}: not a sendmail.cf (binary data)")
    lines = _folded_lines(data.decode("latin-1"))
    _check_is_cf(name, lines)
    return _Reader(name).read(lines)


def _folded_lines(text: str) -> list[tuple[int, str]]:
    """Logical lines with their first line number, as ``fgetfolded`` joins them."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if line[:1] in (" ", "\t") and out:
            first, joined = out[-1]
            out[-1] = (first, joined + "\n" + line)
        else:
            out.append((number, line))
    return out


def _check_is_cf(name: str, lines: list[tuple[int, str]]) -> None:
    """A cf has a ``V`` line and starts with a configuration command; a .mc is told apart."""
    for number, line in lines:
        if _MC_LINE.match(line):
            raise VirtcError(f"{name}:{number}: this is a .mc file; "
                             "give the sendmail.cf m4 generates from it")
    significant = [(n, line) for n, line in lines if line.strip() and not line.startswith("#")]
    if significant and significant[0][1][0] not in _COMMANDS:
        number, line = significant[0]
        raise VirtcError(f"{name}:{number}: not a sendmail.cf (line starts with {line[0]!r}, "
                         "not a configuration command)")
    if not any(line.startswith("V") and line[1:].lstrip()[:1].isdigit() for _, line in significant):
        raise VirtcError(f"{name}: not a sendmail.cf (no V line giving the configuration version)")


def _strip_comments(line: str) -> str:
    """``translate_dollars``' comment rule for level >= 3 cfs: ``#`` not after ``$`` or ``\\``
    ends the physical line (leading blanks included); ``\\#`` is a literal ``#``."""
    out: list[str] = []
    i = 0
    while i < len(line):
        c = line[i]
        if c == "#" and out:
            if out[-1] == "$":
                out.append(c)
            elif out[-1] == "\\":
                out[-1] = "#"
            else:
                while len(out) > 1 and out[-1] in _SPACE and out[-1] != "\n":
                    out.pop()
                end = line.find("\n", i)
                if end < 0:
                    break
                i = end
                continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _macro_name(text: str) -> tuple[str | None, str]:
    """``w...`` or ``{name}...`` -> (name, rest); None when the name is malformed."""
    if text.startswith("{"):
        end = text.find("}")
        if end < 2:
            return None, text
        return text[1:end], text[end + 1:]
    if not text or text[0] in _SPACE:
        return None, text
    return text[0], text[1:]


def _munch(text: str) -> str:
    """A D line value: quotes removed, backslash escapes taken literally (``munchstring``)."""
    out: list[str] = []
    backslash = False
    for c in text:
        if backslash:
            out.append(c)
            backslash = False
        elif c == "\\":
            backslash = True
        elif c != '"':
            out.append(c)
    return "".join(out)


def _scan(line: str, fmt: str) -> str | None:
    """The one string ``sscanf(line, fmt, word)`` stores, or None when it stores none.

    Handles the formats class files use: literal text, then ``%s`` or ``%[set]``
    (``_fmt_ok`` refused the others beforehand).
    """
    m = _SCANF.match(fmt)
    assert m is not None
    pos = 0
    for c in m["pre"]:
        if c in _SPACE:
            while pos < len(line) and line[pos] in _SPACE:
                pos += 1
        elif pos < len(line) and line[pos] == c:
            pos += 1
        else:
            return None
    width = int(m["width"]) if m["width"] else None
    if m["s"]:
        while pos < len(line) and line[pos] in _SPACE:
            pos += 1
        end = pos
        while end < len(line) and line[end] not in _SPACE:
            end += 1
    else:
        spec = m["set"]
        negate = spec.startswith("^")
        members = _set_members(spec[1:] if negate else spec)
        end = pos
        while end < len(line) and (line[end] in members) != negate:
            end += 1
    if width is not None:
        end = min(end, pos + width)
    return line[pos:end] if end > pos else None


def _set_members(spec: str) -> set[str]:
    """The characters of a scanf ``[...]`` set (``a-z`` ranges included)."""
    members: set[str] = set()
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            members.update(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            members.add(spec[i])
            i += 1
    return members


class _Reader:
    """One pass over the logical lines of a cf, collecting the facts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.classes: dict[str, set[str]] = {"w": set(), "VirtHost": set()}
        self.dj: str | None = None
        self.virtuser: MapSpec | None = None
        self.entire_domain = False
        self.local_flags = ""
        self.warnings: list[str] = []
        self.level = 0

    def warn(self, number: int, text: str) -> None:
        self.warnings.append(f"{self.name}:{number}: {text}")

    def read(self, lines: list[tuple[int, str]]) -> SendmailCf:
        for number, raw in lines:
            if not raw or raw[0] == "#":
                continue
            line = _strip_comments(raw) if self.level >= 3 else raw
            line = line.rstrip(_SPACE)
            if not line:
                continue
            kind, rest = line[0], line[1:]
            if kind == "V":
                digits = re.match(r"\s*(\d+)", rest)
                self.level = int(digits.group(1)) if digits else self.level
            elif kind == "C":
                self.class_words(number, rest)
            elif kind == "F":
                self.class_file(number, rest)
            elif kind == "D":
                self.macro(rest)
            elif kind == "K":
                self.map_line(number, rest)
            elif kind == "M":
                self.mailer(rest)
            elif kind == "R":
                lhs, _, rhs = rest.partition("\t")
                if _ENTIRE_DOMAIN_LHS.search(lhs) and "$(virtuser" in rhs:
                    self.entire_domain = True
            elif kind not in _COMMANDS:
                self.warn(number, f"unknown configuration line {line[:40]!r} (sendmail ignores it)")
        return SendmailCf(path=self.name, class_w=frozenset(self.classes["w"]),
                          virthost=frozenset(self.classes["VirtHost"]), dj=self.dj,
                          virtuser=self.virtuser, entire_domain=self.entire_domain,
                          local_mailer_flags=self.local_flags, warnings=tuple(self.warnings))

    def add(self, number: int, cls: str, words: str) -> None:
        for word in words.split():
            if "$" in word:
                self.warn(number, f"class {cls} member {word!r} uses a macro: not expanded, left out")
            else:
                self.classes[cls].add(fold(word))

    def class_words(self, number: int, rest: str) -> None:
        cls, words = _macro_name(rest)
        if cls in self.classes:
            self.add(number, cls, words)

    def class_file(self, number: int, rest: str) -> None:
        """``F`` line: ``[-o] file [format]``, read as ``readcf.c`` and ``fileclass()`` do."""
        cls, spec = _macro_name(rest)
        if cls not in self.classes:
            return
        spec = spec.lstrip(_SPACE)
        optional = spec.startswith("-o")
        if optional:
            spec = re.sub(r"^\S*\s*", "", spec)
        if spec[:1] not in ("/", "|") and "@" in spec:
            after = spec.split("@", 1)[1]
            if after == "LDAP" or (after[:1] != ":" and ":" in after):
                self.warn(number, f"class {cls} is read from a map ({spec}): its members are unknown")
                return
        if spec.startswith('"'):
            end = spec.find('"', 1)
            filename, fmt = (spec[1:end], spec[end + 1:]) if end > 0 else (spec[1:], "")
        else:
            filename, _, fmt = spec.partition(" ")
        fmt = fmt.lstrip(_SPACE) or _DEFAULT_FORMAT
        if not filename:
            self.warn(number, f"class {cls}: F line without a file name")
            return
        if filename.startswith("|"):
            self.warn(number, f"class {cls} is the output of a program ({filename[1:]}): "
                              "its members are unknown")
            return
        if not _SCANF.match(fmt):
            self.warn(number, f"class {cls}: scanf format {fmt!r} not understood, read as %s")
            fmt = _DEFAULT_FORMAT
        beside = Path(self.name).parent / Path(filename).name
        try:
            try:
                content = Path(filename).read_bytes().decode("latin-1")
            except FileNotFoundError:
                # A copy of /etc/mail linted elsewhere (CI): the class file beside the cf.
                if not beside.is_file():
                    raise
                content = beside.read_bytes().decode("latin-1")
                self.warn(number, f"class {cls}: {filename} not found, {beside} read instead")
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            if not optional:
                self.warn(number, f"class {cls}: cannot open '{filename}' ({reason}): its domains are "
                                  "not known (sendmail itself refuses to start without it)")
            elif not isinstance(exc, FileNotFoundError):
                self.warn(number, f"class {cls} file {filename} unreadable ({reason}); "
                                  "with -o sendmail ignores it, so does virtc")
            return
        for line in content.split("\n"):
            if line.startswith("#"):
                continue
            word = _scan(line + "\n", fmt)
            if word is not None:
                self.add(number, cls, word)

    def macro(self, rest: str) -> None:
        name, value = _macro_name(rest)
        if name == "j":
            text = _munch(value)
            self.dj = text if text and "$" not in text else None

    def map_line(self, number: int, rest: str) -> None:
        m = _K_LINE.match(rest)
        if not m or m["name"] != "virtuser":
            return
        mtype, args = m["type"], m["args"]
        if self.virtuser is not None:
            self.warn(number, f"map virtuser defined again (line {self.virtuser.line} before): "
                              "the last definition counts")
        flags: list[str] = []
        path: str | None
        ldap_spec: str | None = None
        if mtype == "ldap":
            ldap_spec = args
            flags = [w for w in args.split() if w.startswith("-")]
            path = None
        elif mtype in ("sequence", "switch", "stab", "user", "dequote"):
            path = args.strip() or None
        else:
            pos = 0
            while True:
                while pos < len(args) and args[pos] in _SPACE:
                    pos += 1
                if args[pos:pos + 1] != "-":
                    break
                start = pos
                pos += 2
                if args[start + 1:start + 2] in ("k", "v"):  # value may follow after blanks
                    while pos < len(args) and args[pos] in _SPACE:
                        pos += 1
                while pos < len(args) and args[pos] not in _SPACE:
                    pos += 1
                flags.append(args[start:pos])
            tail = args[pos:].split()
            path = tail[0] if tail else None
        self.virtuser = MapSpec(name="virtuser", type=mtype, path=path, flags=tuple(flags),
                                fold_case=not any(f.startswith("-f") for f in flags),
                                optional=any(f.startswith("-o") for f in flags),
                                ldap_spec=ldap_spec, line=number)

    def mailer(self, rest: str) -> None:
        """``Mlocal, P=..., F=...``: keep the F= letters of the local mailer."""
        m = re.match(r"([^,\s]*)", rest)
        if not m or m.group(1) != "local":
            return
        flags = ""
        for field in re.finditer(r'[,\s]*([^=,\s])[^=,]*=\s*((?:"[^"]*"|[^,])*)', rest[m.end():]):
            if field.group(1) == "F":
                flags = "".join(_munch(field.group(2)).split())
        self.local_flags = flags
