"""A private Postfix (master + smtpd) as a test oracle: what does Postfix answer at RCPT?

Quick use::

    with PostfixServer(export_dir) as server:     # the files of `virtc export postfix`
        server.rcpt_replies(["a@example.com", "b+x@example.com"])   # ['250 2.1.5 Ok', '550 5.1.1 ...']

Postfix conflicts with sendmail as a Debian package, so tools/install-deps.sh unpacks it
under ``.oracles/postfix`` (``VIRTC_ORACLE_PREFIX``) and this module runs it from there,
as root, with the existing ``mail`` user and ``staff`` group: its own config, queue and
data directories, ``smtpd`` on 127.0.0.1 at a free port, logs to a file. The export's
``main.cf`` lines are appended to a base config, and ``local_recipient_maps`` is emptied
so that any local name is accepted, as sendmail's deferred mode accepts it. The client
sends EHLO, MAIL FROM, RCPT TO (RSET and MAIL again every few hundred), QUIT, never DATA.
``load(export_dir)`` swaps in another export and restarts the master.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from support.oracles import ORACLE_PREFIX, _missing, free_port

PREFIX = ORACLE_PREFIX / "postfix"
LIB = PREFIX / "usr/lib/postfix"
POSTMAP = PREFIX / "usr/sbin/postmap"
MASTER = LIB / "sbin/master"
QUEUE_DIRS = ("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
              "private", "saved", "trace", "maildrop", "public", "pid")
HASH_MAPS = ("virtual", "recipient_access")
RCPTS_PER_MAIL = 200

_BASE = """compatibility_level = 3.6
queue_directory = {s}/queue
data_directory = {data}
command_directory = {p}/usr/sbin
daemon_directory = {lib}/sbin
meta_directory = {p}/etc/postfix
shlib_directory = {lib}
mail_owner = mail
setgid_group = staff
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME
    LD_LIBRARY_PATH={lib}
maillog_file = {s}/maillog
maillog_file_prefixes = {s}
myhostname = postfix.virtc-oracle.invalid
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 192.0.2.1/32
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100000
smtpd_hard_error_limit = 100000
smtpd_recipient_limit = 100000
"""
_OVERRIDES = """
# The test oracle: accept any local name, as sendmail's deferred mode does.
local_recipient_maps =
"""
_MASTER_CF = """127.0.0.1:{port} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def require_postfix() -> None:
    """Skip (locally) or fail (under CI) when the unpacked Postfix is missing."""
    for tool in (MASTER, POSTMAP, LIB / "sbin/smtpd"):
        if not os.access(tool, os.X_OK):
            _missing(f"{tool} missing (run `make oracles` as root: tools/install-deps.sh test)")
    if os.geteuid() != 0:
        _missing("the Postfix oracle runs its master as root")




class PostfixServer:
    """A private Postfix instance answering SMTP on 127.0.0.1 (see the module docstring)."""

    def __init__(self, export_dir: Path | None = None) -> None:
        require_postfix()
        self.env = {**os.environ, "LD_LIBRARY_PATH": str(LIB)}
        self.dir = Path(tempfile.mkdtemp(prefix="virtc-postfix."))
        self.data = Path(tempfile.mkdtemp(prefix="virtc-pfdata.", dir="/var/tmp"))
        self.conf = self.dir / "conf"
        self.master: subprocess.Popen[bytes] | None = None
        self.port = 0
        try:
            self.conf.mkdir()
            for d in QUEUE_DIRS:
                (self.dir / "queue" / d).mkdir(parents=True)
                shutil.chown(self.dir / "queue" / d, "mail", "mail" if d != "pid" else None)
            shutil.chown(self.dir / "queue/pid", "root")
            shutil.chown(self.data, "mail", "mail")
            self.data.chmod(0o700)
            self.dir.chmod(0o755)
            if export_dir is not None:
                self.load(export_dir)
        except BaseException:
            self.close()
            raise

    def load(self, export_dir: Path) -> None:
        """Configure with the files of ``export_dir`` and (re)start the master."""
        self.stop()
        for f in self.conf.iterdir():
            f.unlink()
        for f in export_dir.iterdir():
            if f.name != "main.cf":
                shutil.copyfile(f, self.conf / f.name)
        base = _BASE.format(s=self.dir, data=self.data, p=PREFIX, lib=LIB)
        main = base + "\n" + (export_dir / "main.cf").read_text() + _OVERRIDES
        (self.conf / "main.cf").write_text(main)
        self.port = free_port()
        (self.conf / "master.cf").write_text(_MASTER_CF.format(port=self.port))
        past = time.time() - 5  # Postfix waits until a file it reads is older than now
        for f in self.conf.iterdir():
            os.utime(f, (past, past))
        for name in HASH_MAPS:
            self._run([str(POSTMAP), "-c", str(self.conf), f"hash:{self.conf / name}"])
        log = (self.dir / "master.out").open("ab")
        self.master = subprocess.Popen([str(MASTER), "-c", str(self.conf), "-d"], stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log, env=self.env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
                return
            if self.master.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postfix master did not start: {self.log()[-2000:]}")
            time.sleep(0.05)

    def _run(self, cmd: Sequence[str]) -> None:
        done = subprocess.run(cmd, capture_output=True, env=self.env, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.decode(errors='replace')}{self.log()}")

    def log(self) -> str:
        text = ""
        for name in ("master.out", "maillog"):
            with contextlib.suppress(OSError):
                text += (self.dir / name).read_text(errors="replace")
        return text

    def rcpt_replies(self, addresses: Sequence[str]) -> list[str]:
        """Postfix's reply to ``RCPT TO:<addr>`` for each address, in one session."""
        replies: list[str] = []
        with socket.create_connection(("127.0.0.1", self.port), 30) as sock:
            f = sock.makefile("rwb")

            def reply() -> str:
                lines = []
                while True:
                    line = f.readline().decode("latin-1")
                    if not line:
                        raise RuntimeError(f"postfix closed the session: {lines} {self.log()[-2000:]}")
                    lines.append(line.rstrip("\r\n"))
                    if len(line) < 4 or line[3] != "-":
                        return "\n".join(lines)

            def send(command: str) -> str:
                f.write(command.encode("latin-1") + b"\r\n")
                f.flush()
                return reply()

            reply()
            send("EHLO client.virtc-oracle.invalid")
            for i, a in enumerate(addresses):
                if i % RCPTS_PER_MAIL == 0:
                    if i:
                        send("RSET")
                    mail = send("MAIL FROM:<>")
                    if not mail.startswith("250"):
                        raise RuntimeError(f"postfix refused MAIL FROM:<>: {mail}")
                replies.append(send(f"RCPT TO:<{a}>"))
            send("QUIT")
        return replies

    def stop(self) -> None:
        if self.master is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.master.pid, signal.SIGTERM)
        try:
            self.master.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.master.pid, signal.SIGKILL)
            self.master.wait()
        self.master = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self) -> PostfixServer:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
