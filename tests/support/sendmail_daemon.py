"""A real sendmail daemon (``sendmail -bD``) on 127.0.0.1, private to a test.

Quick use::

    with SendmailDaemon(Path("virtusertable")) as mx:   # listening when this returns
        mx.port                                       # a free high port on 127.0.0.1
        mx.stop()                                     # as an outage would

It is :class:`support.sendmail.SendmailOracle`'s configuration (its private folder, the
map built by the real makemap, the table's domains in class w, no DNS) with three
changes to the generated cf: one daemon on ``127.0.0.1:PORT`` (never port 25, never
another address), a pid file in the private folder, and a local mailer without flag
``w``, as when local delivery goes to Cyrus or Dovecot over LMTP: then sendmail itself
does not reject unknown local users at RCPT, and only the table's catch-alls do.
The daemon and its children are one process group, killed when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from support.oracles import free_port
from support.sendmail import SendmailOracle


class SendmailDaemon:
    def __init__(self, table: Path, *, local_checks_users: bool = False) -> None:
        self.oracle = SendmailOracle(table)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        try:
            self._configure(local_checks_users)
            self.start()
        except BaseException:
            self.close()
            raise

    def _configure(self, local_checks_users: bool) -> None:
        cf = self.oracle.cf
        text = cf.read_text()
        text = re.sub(r"(?m)^O DaemonPortOptions=.*\n", "", text)
        text += (f"O DaemonPortOptions=Port={self.port},Addr=127.0.0.1,Name=MTA\n"
                 f"O PidFile={self.oracle.dir}/sendmail.pid\n")
        if not local_checks_users:
            text = re.sub(r"(?m)^(Mlocal,.*F=)([^,]*)", lambda m: m[1] + m[2].replace("w", ""), text)
        cf.write_text(text)
        if ("w" in self.local_mailer_flags()) != local_checks_users:
            raise RuntimeError(f"Mlocal F={self.local_mailer_flags()} in {cf}: flag w should be "
                               f"{'on' if local_checks_users else 'off'}")

    def local_mailer_flags(self) -> str:
        """The ``F=`` of the ``Mlocal`` line of the cf the daemon runs."""
        m = re.search(r"(?m)^Mlocal,.*?\bF=([^,]*)", self.oracle.cf.read_text())
        if m is None:
            raise RuntimeError(f"no Mlocal line with F= in {self.oracle.cf}")
        return m[1]

    def start(self) -> None:
        cmd = [*self.oracle._prefix, self.oracle.sendmail, "-bD", "-C", str(self.oracle.cf)]
        self.process = subprocess.Popen(cmd, cwd=self.oracle.dir, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"sendmail -bD exited {self.process.returncode}: {err.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.recv(512)  # the greeting: the daemon is serving
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"sendmail -bD did not answer on 127.0.0.1:{self.port} within 30 s")

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            if self.process.stderr is not None:
                self.process.stderr.close()
            self.process = None

    def close(self) -> None:
        self.stop()
        self.oracle.close()

    def __enter__(self) -> SendmailDaemon:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
