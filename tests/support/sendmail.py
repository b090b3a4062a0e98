"""The real ``sendmail -bt`` as a test oracle: how does sendmail resolve these addresses?

Quick use::

    from support.sendmail import resolve_with_sendmail
    results = resolve_with_sendmail(Path("virtusertable"), ["a@example.com", "b+x@example.com"])
    results[0].mailer, results[0].host, results[0].user    # 'local', None, 'alice'
    results[0].matched                                     # ('a@example.com',)
    results[1].reply                                       # '550 5.1.1 User unknown' for errors

For many calls against one table, build the configuration once::

    with SendmailOracle(Path("virtusertable.db"), virthost=True) as oracle:
        oracle.resolve(addresses)          # one sendmail run for the whole batch
        oracle.smtp_replies(addresses)     # the real RCPT TO replies (sendmail -bs), slower

What the harness does:

* creates a private work directory under ``~/.cache/virtc/sendmail-oracle`` (or
  ``$VIRTC_ORACLE_DIR``): sendmail refuses maps and class files below a world-writable
  directory such as ``/tmp``, and that directory is not one, so no DontBlameSendmail
  option is needed;
* writes a ``.mc`` (local and smtp mailers, ``nocanonify``, no DNS, no aliases) with
  ``FEATURE(virtusertable)`` plus the requested features, and runs ``m4`` on it;
* compiles a source with the real ``makemap hash`` (``-C`` our cf, so the host's
  configuration never matters; makemap's data errors such as duplicate keys are kept in
  ``makemap_messages``, the map is used anyway, as sendmail would) or copies a given
  ``.db`` as is (so sendmail itself reads virtc's output);
* puts the local domains (default: the domains of the map's keys, read back from the
  map with ``makemap -u``) in class w, or in ``$={VirtHost}`` with ``virthost=True``;
* feeds one ``/parse ADDRESS`` line per address to ``sendmail -bt -d60.1`` in a single
  run and parses what sendmail prints for each (``-d60.1`` logs every map lookup).

sendmail sleeps 60 s at start-up when the host name is unqualified (``vm`` here): the
harness then runs it in a private mount namespace (``unshare -m``) where ``/etc/hosts``
gives the host a qualified alias. The real ``/etc/hosts`` is never touched.

Limits: addresses must not contain newlines; sendmail's tokenizer gives quotes, ``<>``,
``()``, ``\\``, ``,``, ``;`` and spaces meanings of their own, so keep generated local
parts to letters, digits and ``.-_=+!#$&'*/?^`{|}~``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from support.oracles import require_tool, sendmail_cf_m4
from virtc.compat import zip_strict

TIMEOUT = 300
FAKE_DOMAIN = "virtc-oracle.invalid"

_MC = """divert(-1)
include(`{cf_m4}')dnl
VERSIONID(`virtc test oracle')dnl
OSTYPE(`linux')dnl
define(`confCW_FILE', `-o {wd}/local-host-names')dnl
define(`confSERVICE_SWITCH_FILE', `{wd}/service.switch')dnl
define(`confHOSTS_FILE', `{wd}/hosts')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`ALIAS_FILE', `{wd}/aliases')dnl
define(`QUEUE_DIR', `{wd}/queue')dnl
define(`confHOST_STATUS_DIRECTORY', `')dnl
define(`confBAD_RCPT_THROTTLE', `0')dnl
define(`confTO_ICONNECT', `1s')dnl
FEATURE(`use_cw_file')dnl
FEATURE(`nocanonify')dnl
{virthost}{features}{virtuser}
MAILER(`local')dnl
MAILER(`smtp')dnl
"""

# One line per map lookup with -d60.1:  map_lookup(virtuser, KEY) => VALUE (STATUS), ad=0
_LOOKUP = re.compile(r"^map_lookup\(virtuser, (.*)\) => (.*) \((\d+)\)(?:, ad=\d+)?$")
# The final answer of /parse:  mailer M, host H, user U   (no host for local)
_MAILER = re.compile(r"^mailer (\S+?)(?:, host (.*?))?, user (.*)$")
_RECURSION = "rewrite: excessive recursion"
_NOT_FOUND = "NOT FOUND"
_ENHANCED = re.compile(r"[245]\.\d{1,3}\.\d{1,3}(?= |$)")


@dataclass(frozen=True)
class SendmailResult:
    """What ``sendmail -bt`` printed for one ``/parse ADDRESS``."""

    address: str
    mailer: str | None
    """``local``, ``esmtp``, ``error`` (sendmail prints ``*error*``), ``prog``, ``*file*``,
    ``*include*``; None when sendmail could not parse the address at all (then ``message``
    says why, e.g. ``Address "..." too long (255 bytes max)``)."""
    host: str | None
    """Next hop (``example.net.``); for errors the status token as written (``nouser``, ``5.1.1``)."""
    user: str | None
    """Local user or address; for errors the text (``550 5.1.1 User unknown``), unquoted."""
    lookups: tuple[tuple[str, str | None], ...] = ()
    """Every virtuser lookup in order: (key as sendmail built it, value or None if not found).

    Keys keep the address's case (sendmail folds them only to query the map)."""
    message: str | None = None
    """The text of a ``ADDRESS... TEXT`` error line, if sendmail printed one."""
    recursion: bool = False
    """sendmail hit ``rewrite: excessive recursion`` (a loop: 554 at RCPT time)."""
    raw: str = field(default="", repr=False)
    """sendmail's whole output for this address."""

    @property
    def matched(self) -> tuple[str, ...]:
        """The keys that were found, in order (one per resolution step)."""
        return tuple(k for k, v in self.lookups if v is not None)

    @property
    def is_error(self) -> bool:
        return self.mailer == "error"

    @property
    def reply(self) -> str | None:
        """For errors: the SMTP reply sendmail sends at RCPT, without the ``<addr>...``.

        Derived from host and user with sendmail's ``buildaddr``/``usrerrenh`` rules
        (checked against ``sendmail -bs`` by ``smtp_replies`` in tests): ``NNN TEXT``
        uses the status as enhanced code when it has dots, else ``N.0.0``; an enhanced
        code right after ``NNN`` wins; text not starting with ``NNN `` gives ``553 5.3.0``.
        """
        if not self.is_error or self.user is None:
            return None
        return error_reply(self.host or "", self.user)


def error_reply(status: str, text: str) -> str:
    """The SMTP reply for sendmail's error mailer with host ``status`` and user ``text``."""
    m = re.match(r"([245]\d\d) (.*)", text, re.S)
    if not m:
        return f"553 5.3.0 {text}"
    code, rest = m.groups()
    if _ENHANCED.match(rest):
        return f"{code} {rest}"
    # Only a well-formed enhanced code counts (sendmail's isenhsc): 'a.b.c' gives N.0.0.
    dsn = status if _ENHANCED.fullmatch(status) else f"{code[0]}.0.0"
    return f"{code} {dsn} {rest}"


def _work_root() -> Path:
    root = Path(os.environ.get("VIRTC_ORACLE_DIR") or Path.home() / ".cache" / "virtc" / "sendmail-oracle")
    root.mkdir(parents=True, exist_ok=True, mode=0o755)
    return root


def _needs_qualified_host() -> bool:
    """sendmail sleeps 60 s at start when it cannot find a qualified name for the host."""
    name = socket.gethostname()
    if "." in name:
        return False
    try:
        canon, aliases, _ = socket.gethostbyname_ex(name)
    except OSError:
        return True
    return not any("." in n for n in [canon, *aliases])


def _qualified_host_prefix(hosts: Path, fqdn: str) -> list[str]:
    """A command prefix under which sendmail finds a qualified name for this host.

    A private mount namespace with our hosts file on /etc/hosts; failing that, a
    private UTS namespace with a qualified host name. Without either sendmail sleeps
    60 s at each start: fail loudly rather than run the suite for hours.
    """
    mount = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts)]
    uts = ["unshare", "-u", "sh", "-c", 'hostname "$0" && exec "$@"', fqdn]
    for prefix in (mount, uts):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=30).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            pass
    raise RuntimeError(f"host name {socket.gethostname()!r} is unqualified and 'unshare' is not usable: "
                       "sendmail would sleep 60 s per run (add an FQDN alias to /etc/hosts)")


def _map_keys(makemap: str, cf: Path, mapname: Path) -> list[str]:
    dump = subprocess.run([makemap, "-C", str(cf), "-u", "hash", str(mapname)],
                          capture_output=True, timeout=TIMEOUT)
    if dump.returncode != 0:
        raise RuntimeError(f"makemap -u {mapname}: {dump.stderr.decode('latin-1').strip()}")
    return [line.split(b"\t", 1)[0].rstrip(b"\0").decode("latin-1")
            for line in dump.stdout.split(b"\n") if line]


def write_host_files(wd: Path) -> str:
    """Write ``service.switch``, ``hosts`` and ``queue/`` into ``wd`` for a cf built there.

    The cf must point at them (``confSERVICE_SWITCH_FILE``, ``confHOSTS_FILE``, ``QUEUE_DIR``,
    as :class:`SendmailOracle`'s .mc does). Returns the qualified host name sendmail will use.
    """
    (wd / "queue").mkdir(mode=0o700, exist_ok=True)
    (wd / "service.switch").write_text("hosts\tfiles\naliases\tfiles\n")
    short = socket.gethostname().split(".")[0]
    hostname = f"{short}.{FAKE_DOMAIN}" if _needs_qualified_host() else socket.getfqdn()
    hosts = f"127.0.0.1 {short}.{FAKE_DOMAIN} {short} localhost\n"
    with contextlib.suppress(OSError):
        hosts += Path("/etc/hosts").read_text()
    (wd / "hosts").write_text(hosts)
    return hostname


def run_sendmail_cf(cf: Path, args: Sequence[str], stdin: str, *, wd: Path, hostname: str) -> str:
    """Run the real sendmail with ``-C cf`` in ``wd`` (set up by :func:`write_host_files`).

    For any cf, not only :class:`SendmailOracle`'s; returns stdout.
    """
    prefix = _qualified_host_prefix(wd / "hosts", hostname) if _needs_qualified_host() else []
    cmd = [*prefix, require_tool("sendmail"), *args, "-C", str(cf)]
    done = subprocess.run(cmd, input=stdin.encode("latin-1"), capture_output=True,
                          timeout=TIMEOUT, cwd=wd)
    return done.stdout.decode("latin-1")


def new_work_dir() -> Path:
    """A private directory for a sendmail run (not below a world-writable one); caller removes it."""
    wd = Path(tempfile.mkdtemp(prefix="oracle.", dir=_work_root()))
    wd.chmod(0o755)
    return wd


def domains_of(keys: Iterable[str]) -> list[str]:
    """The distinct lower-cased domains of map keys (what follows the last '@'), in order."""
    seen: dict[str, None] = {}
    for key in keys:
        _, at, dom = key.rpartition("@")
        if at and dom and not any(c.isspace() for c in dom):
            seen.setdefault(dom.lower(), None)
    return list(seen)


@dataclass(frozen=True)
class LdapMap:
    """Where ``FEATURE(`virtusertable', `LDAP')`` looks: server, base DN, and the cluster
    name (None: only entries for this host's ``$j`` are seen)."""

    uri: str
    base: str
    cluster: str | None = None


class SendmailOracle:
    """A sendmail configuration for one table, built once, queried many times.

    ``table`` is a virtusertable source (compiled with the real makemap) or a ``.db``
    (used as is). ``local_domains`` replaces the default (the domains of the map's keys).
    A ``Path`` is a local-host-names file, copied as is (``domains`` is then empty).
    ``virthost`` puts them in ``$={VirtHost}`` (VIRTUSER_DOMAIN_FILE) instead of class w.
    ``features`` are extra FEATURE names, e.g. ``("virtuser_entire_domain",)``.
    ``aliases`` adds lines to the aliases file (only used by ``smtp_replies``).
    ``ldap`` reads the virtuser map from a directory instead of the hash map, as
    ``FEATURE(`virtusertable', `LDAP')`` with its confLDAP_DEFAULT_SPEC and
    confLDAP_CLUSTER (the hash map is still built: its keys give the local domains).
    """

    def __init__(self, table: Path, *, local_domains: Sequence[str] | Path | None = None,
                 virthost: bool = False, features: Sequence[str] = (),
                 aliases: Sequence[str] = (), ldap: LdapMap | None = None) -> None:
        self.ldap = ldap
        self.sendmail = require_tool("sendmail")
        self.makemap = require_tool("makemap")
        require_tool("m4")
        self.cf_m4 = sendmail_cf_m4()
        if not self.cf_m4.exists():
            raise RuntimeError(f"{self.cf_m4} missing: run `make oracles` (tools/install-deps.sh test)")
        self.dir = Path(tempfile.mkdtemp(prefix="oracle.", dir=_work_root()))
        self.dir.chmod(0o755)
        self.makemap_messages: list[str] = []
        try:
            self._setup(Path(table), local_domains, virthost, features, aliases)
        except BaseException:
            self.close()
            raise

    def _setup(self, table: Path, local_domains: Sequence[str] | Path | None, virthost: bool,
               features: Sequence[str], aliases: Sequence[str]) -> None:
        wd = self.dir
        (wd / "queue").mkdir(mode=0o700)
        (wd / "service.switch").write_text("hosts\tfiles\naliases\tfiles\n")
        short = socket.gethostname().split(".")[0]
        # sendmail's own name ($j), which it appends to some addresses (h!user@$j).
        self.hostname = f"{short}.{FAKE_DOMAIN}" if _needs_qualified_host() else socket.getfqdn()
        hosts = f"127.0.0.1 {short}.{FAKE_DOMAIN} {short} localhost\n"
        with contextlib.suppress(OSError):
            hosts += Path("/etc/hosts").read_text()
        (wd / "hosts").write_text(hosts)
        (wd / "aliases").write_text("".join(line.rstrip("\n") + "\n" for line in aliases))
        self.cf = wd / "oracle.cf"
        # A first cf so that makemap -C has something to read (it only wants TrustedUser).
        self.cf.write_text("")
        mapname = wd / "virtusertable"
        if table.name.endswith(".db"):
            shutil.copyfile(table, wd / "virtusertable.db")
        else:
            with table.open("rb") as src:
                made = subprocess.run([self.makemap, "-C", str(self.cf), "hash", str(mapname)],
                                      stdin=src, capture_output=True, timeout=TIMEOUT)
            # 65 = data errors (duplicates, bad lines): the map is written anyway.
            if made.returncode not in (0, 65):
                raise RuntimeError(f"makemap hash {table}: {made.stderr.decode('latin-1').strip()}")
            self.makemap_messages = made.stderr.decode("latin-1").splitlines()
        (wd / "virtusertable.db").chmod(0o640)
        self.keys = _map_keys(self.makemap, self.cf, mapname)
        if isinstance(local_domains, Path):  # a local-host-names file, used as is
            listing = local_domains.read_text(encoding="latin-1")
            self.domains = []
        else:
            domains = list(local_domains) if local_domains is not None else domains_of(self.keys)
            self.domains = domains
            listing = "".join(d + "\n" for d in domains)
        (wd / "local-host-names").write_text("" if virthost else listing)
        virthost_m4 = ""
        if virthost:
            (wd / "virthosts").write_text(listing)
            virthost_m4 = f"VIRTUSER_DOMAIN_FILE(`-o {wd}/virthosts')dnl\n"
        if self.ldap is None:
            virtuser = f"FEATURE(`virtusertable', `hash {wd}/virtusertable')dnl\n"
        else:
            cluster = "" if self.ldap.cluster is None else \
                f"define(`confLDAP_CLUSTER', `{self.ldap.cluster}')dnl\n"
            # -w 3: without it Debian's libldap binds as LDAPv2, which slapd refuses.
            virtuser = (f"define(`confLDAP_DEFAULT_SPEC', `-H {self.ldap.uri} -b {self.ldap.base} -w 3')dnl\n"
                        f"{cluster}FEATURE(`virtusertable', `LDAP')dnl\n")
        mc = _MC.format(cf_m4=self.cf_m4, wd=wd, virthost=virthost_m4, virtuser=virtuser,
                        features="".join(f"FEATURE(`{f}')dnl\n" for f in features))
        (wd / "oracle.mc").write_text(mc)
        with self.cf.open("w") as out:
            m4 = subprocess.run(["m4", str(wd / "oracle.mc")], stdout=out, stderr=subprocess.PIPE,
                                timeout=TIMEOUT)
        if m4.returncode != 0:
            raise RuntimeError(f"m4 {wd / 'oracle.mc'}: {m4.stderr.decode().strip()}")
        self._prefix = _qualified_host_prefix(wd / "hosts", self.hostname) if _needs_qualified_host() else []

    # -- queries -------------------------------------------------------------------

    def run(self, args: Sequence[str], stdin: str) -> str:
        """Run sendmail with our cf and ``args``, feeding ``stdin``; return its stdout."""
        cmd = [*self._prefix, self.sendmail, *args, "-C", str(self.cf)]
        done = subprocess.run(cmd, input=stdin.encode("latin-1"), capture_output=True,
                              timeout=TIMEOUT, cwd=self.dir)
        return done.stdout.decode("latin-1")

    def resolve(self, addresses: Sequence[str], *, trace: bool = True) -> list[SendmailResult]:
        """One ``/parse`` per address, all in one ``sendmail -bt`` run."""
        for a in addresses:
            if "\n" in a or "\r" in a:
                raise ValueError(f"address with a newline: {a!r}")
        args = ["-bt", "-d60.1"] if trace else ["-bt"]
        out = self.run(args, "".join(f"/parse {a}\n" for a in addresses))
        # sendmail prints the prompt "> " before reading each command.
        chunks = re.split(r"(?m)^> ", out)[1:1 + len(addresses)]
        if len(chunks) != len(addresses):
            raise RuntimeError(f"sendmail -bt gave {len(chunks)} answers for {len(addresses)} "
                               f"addresses:\n{out[-2000:]}")
        # mailer is None when sendmail could not parse the address (see ``message``).
        return [_parse_chunk(a, c) for a, c in zip_strict(addresses, chunks)]

    def smtp_replies(self, addresses: Sequence[str], delivery_mode: str = "deferred") -> list[str]:
        """The real ``RCPT TO:<addr>`` reply for each address (``sendmail -bs``, one session).

        Returned without the ``<addr>... `` part, e.g. ``550 5.1.1 User unknown``;
        accepted recipients give ``250 2.1.5 ...``. Commands are sent one at a time,
        waiting for each reply (sendmail rejects pipelined input before its greeting).
        In the default ``deferred`` mode sendmail accepts any local user name and file or
        ``:include:`` targets; ``background`` checks them (``550 5.1.1 User unknown``).
        No message is ever sent (the session ends before DATA).
        """
        cmd = [*self._prefix, self.sendmail, "-bs", "-C", str(self.cf), f"-ODeliveryMode={delivery_mode}"]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, cwd=self.dir)
        assert proc.stdin is not None and proc.stdout is not None
        stdin, stdout = proc.stdin, proc.stdout

        def reply() -> str:
            lines = []
            while True:
                line = stdout.readline().decode("latin-1")
                if not line:
                    raise RuntimeError("sendmail -bs closed the session: " + "".join(lines))
                lines.append(line.rstrip("\r\n"))
                if len(line) < 4 or line[3] != "-":
                    return "\n".join(lines)

        def send(command: str) -> str:
            stdin.write(command.encode("latin-1") + b"\r\n")
            stdin.flush()
            return reply()

        replies = []
        try:
            reply()  # greeting
            send("EHLO client.virtc-oracle.invalid")
            mail = send("MAIL FROM:<>")
            if not mail.startswith("250"):
                raise RuntimeError(f"sendmail -bs refused MAIL FROM:<>: {mail}")
            for a in addresses:
                text = send(f"RCPT TO:<{a}>")
                code, _, rest = text.partition(" ")
                # "550 5.1.1 <a>... User unknown" -> "550 5.1.1 User unknown"
                rest = re.sub(r"^((?:\d\.\d{1,3}\.\d{1,3} )?)<.*?>\.\.\. ", r"\1", rest, flags=re.S)
                replies.append(f"{code} {rest}")
            send("QUIT")
        finally:
            stdin.close()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return replies

    # -- lifetime ------------------------------------------------------------------

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> SendmailOracle:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _parse_chunk(address: str, chunk: str) -> SendmailResult:
    mailer = host = user = message = None
    lookups: list[tuple[str, str | None]] = []
    recursion = False
    for line in chunk.splitlines():
        if m := _LOOKUP.match(line):
            lookups.append((m.group(1), None if m.group(2) == _NOT_FOUND else m.group(2)))
        elif m := _MAILER.match(line):
            mailer, host, user = m.groups()
        elif line.startswith(_RECURSION):
            recursion = True
        elif "... " in line and " input: " not in line and " returns: " not in line \
                and not line.startswith(("Cracked address", "Parsing ")):
            message = line.split("... ", 1)[1]
    if mailer == "*error*":
        mailer = "error"
    if user is not None and len(user) >= 2 and user[0] == user[-1] == '"':
        user = user[1:-1]
    return SendmailResult(address, mailer, host, user, tuple(lookups), message, recursion, chunk)


def resolve_with_sendmail(table: Path, addresses: Sequence[str], *,
                          local_domains: Sequence[str] | Path | None = None, virthost: bool = False,
                          features: Sequence[str] = (), trace: bool = True) -> list[SendmailResult]:
    """Resolve ``addresses`` through ``table`` (source or ``.db``) with the real sendmail.

    One-shot form of :class:`SendmailOracle` (which see for the arguments).
    """
    with SendmailOracle(table, local_domains=local_domains, virthost=virthost,
                        features=features) as oracle:
        return oracle.resolve(addresses, trace=trace)
