"""A real OpenLDAP ``slapd`` with sendmail's schema, private to a test.

Quick use::

    with Slapd() as directory:               # started, empty base dc=example,dc=com
        directory.uri                        # ldap://127.0.0.1:PORT
        directory.search_virtuser()          # {dn: {attr: [values]}} through ldapsearch
        directory.stop()                     # as an outage would

The binaries come from Debian's slapd and ldap-utils, unpacked (never installed, so no
daemon of the machine's is started or changed) by ``tools/install-deps.sh test``. The
server runs from a temporary folder (config, mdb database, pid file) on 127.0.0.1 and a
free port, as ``nobody`` when the tests run as root; the schema is the one
sendmail-base ships (``sendmail.schema.v2``) next to OpenLDAP's ``core.schema``.
Reading back goes through the real ``ldapsearch``, not through virtc's client library.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from support.oracles import ORACLE_PREFIX, free_port, missing

BASE = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{BASE}"
USER_DN = f"cn=virtc,{BASE}"
"""A writer that is not the rootdn: the server's limits apply to it."""
PASSWORD = "virtc-test-secret"
Entries = dict[str, dict[str, list[bytes]]]
_LIBS = ORACLE_PREFIX / "usr/lib/x86_64-linux-gnu"


def _program(path: str) -> Path:
    program = ORACLE_PREFIX / path
    if not os.access(program, os.X_OK):
        missing(f"{program} missing: run `make oracles` (tools/install-deps.sh test unpacks slapd)")
    return program


def _env() -> dict[str, str]:
    env = dict(os.environ, LDAPNOINIT="1")  # no ~/.ldaprc or /etc/ldap/ldap.conf
    env["LD_LIBRARY_PATH"] = ":".join(p for p in (str(_LIBS), env.get("LD_LIBRARY_PATH", "")) if p)
    return env




class Slapd:
    """One slapd process with an empty ``dc=example,dc=com`` (the base entry exists)."""

    def __init__(self, limits: str = "") -> None:
        """``limits``: slapd.conf lines for the database (e.g. ``sizelimit 20``); the
        unprivileged writer :attr:`user_dn` (password :attr:`password`) always exists."""
        self.slapd = _program("usr/sbin/slapd")
        self.ldapsearch = _program("usr/bin/ldapsearch")
        self.ldapadd = _program("usr/bin/ldapadd")
        schema = ORACLE_PREFIX / "usr/share/sendmail/examples/ldap/sendmail.schema.v2"
        core = ORACLE_PREFIX / "etc/ldap/schema/core.schema"
        for f in (schema, core):
            if not f.exists():
                missing(f"{f} missing: run `make oracles`")
        self.dir = Path(tempfile.mkdtemp(prefix="virtc-slapd."))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.base = BASE
        self.root_dn = ROOT_DN
        self.user_dn = USER_DN
        self.password = PASSWORD
        self.password_file = self.dir / "password"
        self.password_file.write_text(PASSWORD + "\n")
        self.password_file.chmod(0o600)
        for sub in ("db", "run"):  # slapd writes there as nobody
            (self.dir / sub).mkdir()
        shutil.copyfile(schema, self.dir / "sendmail.schema")
        (self.dir / "slapd.conf").write_text(f"""\
include {core}
include {self.dir}/sendmail.schema
modulepath {ORACLE_PREFIX}/usr/lib/ldap
moduleload back_mdb
pidfile {self.dir}/run/slapd.pid
argsfile {self.dir}/run/slapd.args
database mdb
maxsize 104857600
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {PASSWORD}
directory {self.dir}/db
index objectClass eq
index sendmailMTAKey eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact="{USER_DN}" write by * read
{limits}
""")
        self.process: subprocess.Popen[bytes] | None = None
        try:
            self.start()
            self.add(f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\n"
                     "o: example\ndc: example\n")
            self.add(f"dn: {USER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
                     f"cn: virtc\nuserPassword: {PASSWORD}\n")
        except BaseException:
            self.close()
            raise

    def start(self) -> None:
        user = ["-u", "nobody", "-g", "nogroup"] if os.geteuid() == 0 else []
        if user:
            for sub in ("db", "run"):
                shutil.chown(self.dir / sub, "nobody", "nogroup")
        self.process = subprocess.Popen(
            [str(self.slapd), "-f", str(self.dir / "slapd.conf"), "-h", f"{self.uri}/", *user, "-d", "0"],
            env=_env(), stdout=subprocess.DEVNULL, stderr=open(self.dir / "slapd.log", "ab"))  # noqa: SIM115
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited {self.process.returncode}: "
                                   f"{(self.dir / 'slapd.log').read_text(errors='replace')[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not answer within 20 s")

    def stop(self) -> None:
        """Stop the server (an outage); ``start()`` brings the same data back."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def add(self, ldif: str) -> None:
        """Load LDIF content records with the real ``ldapadd``."""
        done = subprocess.run([str(self.ldapadd), "-x", "-H", self.uri, "-D", ROOT_DN, "-w", PASSWORD],
                              input=ldif.encode(), capture_output=True, env=_env(), timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"ldapadd: {done.stderr.decode(errors='replace').strip()}")

    def search(self, base: str | None = None, filter: str = "(objectClass=*)") -> Entries:
        """Every entry below ``base`` (default: the whole tree), read with the real ``ldapsearch``."""
        done = subprocess.run([str(self.ldapsearch), "-x", "-LLL", "-o", "ldif-wrap=no", "-H", self.uri,
                               "-D", ROOT_DN, "-w", PASSWORD, "-b", base or BASE, filter],
                              capture_output=True, env=_env(), timeout=60)
        if done.returncode not in (0, 32):  # 32: no such object (the base is not there)
            raise RuntimeError(f"ldapsearch: {done.stderr.decode(errors='replace').strip()}")
        return parse_ldif(done.stdout)

    def search_virtuser(self) -> Entries:
        return self.search(filter="(objectClass=sendmailMTAMapObject)")

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Slapd:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def parse_ldif(data: bytes) -> Entries:
    """``ldapsearch -LLL -o ldif-wrap=no`` output: dn -> attribute -> values (``::`` decoded)."""
    entries: dict[str, dict[str, list[bytes]]] = {}
    for block in data.split(b"\n\n"):
        attrs: dict[str, list[bytes]] = {}
        dn = None
        for line in block.split(b"\n"):
            if not line or line.startswith(b"#"):
                continue
            name, _, rest = line.partition(b":")
            value = base64.b64decode(rest[1:].strip()) if rest.startswith(b":") else rest[1:].lstrip(b" ")
            if name == b"dn":
                dn = value.decode()
            else:
                attrs.setdefault(name.decode(), []).append(value)
        if dn is not None:
            entries[dn] = attrs
    return entries
