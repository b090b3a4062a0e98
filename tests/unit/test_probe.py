"""``virtc probe`` against a scripted SMTP server in this process: the protocol paths.

The real sendmail daemon is in tests/oracle/test_probe_oracle.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from virtc.deploy.probe import Target, mx_targets
from virtc.errors import VirtcError

TABLE = "a@one.test\tx\n@one.test\terror:5.1.1:550 No\nb@two.test\ty\n"


class FakeSMTP:
    """Answers each command with ``rcpt(address)`` for RCPT, 250 for the rest; logs commands."""

    def __init__(self, rcpt: Callable[[str], str], *, greeting: str = "220 fake ESMTP",
                 hang_up_after: int | None = None, silent: bool = False) -> None:
        self.rcpt, self.greeting, self.hang_up_after, self.silent = rcpt, greeting, hang_up_after, silent
        self.commands: list[str] = []
        self.sessions = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.sessions += 1
            with conn, conn.makefile("rwb") as f:
                if self.silent:
                    conn.recv(1)  # never answers
                    continue
                f.write(self.greeting.encode() + b"\r\n")
                f.flush()
                rcpts = 0
                for raw in f:
                    line = raw.decode().rstrip("\r\n")
                    self.commands.append(line)
                    verb = line.split(" ", 1)[0].split(":", 1)[0].upper()
                    if verb == "EHLO":
                        reply = "250-fake\r\n250-PIPELINING\r\n250 8BITMIME"
                    elif verb == "RCPT":
                        reply = self.rcpt(line.split("<", 1)[1].rstrip(">"))
                        rcpts += 1
                    elif verb == "QUIT":
                        f.write(b"221 bye\r\n")
                        f.flush()
                        break
                    else:
                        reply = "250 ok"
                    f.write(reply.encode() + b"\r\n")
                    f.flush()
                    if self.hang_up_after is not None and verb == "RSET" and rcpts >= self.hang_up_after:
                        break

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "vt"
    path.write_text(TABLE)
    return path


@pytest.fixture
def servers() -> Iterator[list[FakeSMTP]]:
    made: list[FakeSMTP] = []
    yield made
    for s in made:
        s.close()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "virtc", "probe", *args], capture_output=True, text=True,
                          timeout=60)


def test_rejects_everywhere_is_exit_0_and_data_is_never_sent(table: Path, servers: list[FakeSMTP]) -> None:
    s = FakeSMTP(lambda a: "550 5.1.1 no such user")
    servers.append(s)
    done = run(f"127.0.0.1:{s.port}", "--table", str(table))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("rejects unknown") == 2
    verbs = [c.split(" ")[0].split(":")[0].upper() for c in s.commands]
    assert verbs == ["EHLO", "MAIL", "RCPT", "RSET", "MAIL", "RCPT", "RSET", "QUIT"]
    assert "DATA" not in verbs and s.sessions == 1
    assert s.commands[1].upper() == "MAIL FROM:<>"


def test_an_accepting_domain_is_exit_1_and_named(table: Path, servers: list[FakeSMTP]) -> None:
    s = FakeSMTP(lambda a: "250 2.1.5 ok" if a.endswith("@two.test") else "550 5.1.1 no")
    servers.append(s)
    host = f"127.0.0.1:{s.port}"
    done = run(host, "--table", str(table), "--json", "--from", "probe@example.org")
    assert done.returncode == 1
    results = json.loads(done.stdout)
    assert [(r["host"], r["domain"], r["accepts_unknown"]) for r in results] == [
        (host, "one.test", False), (host, "two.test", True)]
    assert results[1]["reply"] == "250 2.1.5 ok" and results[1]["error"] is None
    recipient = results[1]["recipient"]
    assert recipient.startswith("virtc-probe-") and recipient.endswith("@two.test")
    upper = [c.upper() for c in s.commands]
    assert f"RCPT TO:<{recipient}>".upper() in upper and "MAIL FROM:<PROBE@EXAMPLE.ORG>" in upper
    assert "two.test on " + host in done.stderr


def test_a_temporary_reply_is_no_verdict(table: Path, servers: list[FakeSMTP]) -> None:
    s = FakeSMTP(lambda a: "451 4.3.0 try later")
    servers.append(s)
    done = run(f"127.0.0.1:{s.port}", "--table", str(table), "--json")
    assert done.returncode == 2
    assert {r["accepts_unknown"] for r in json.loads(done.stdout)} == {None}


def test_a_server_that_hangs_up_between_domains_is_asked_again(table: Path, servers: list[FakeSMTP]) -> None:
    s = FakeSMTP(lambda a: "550 5.1.1 no", hang_up_after=1)
    servers.append(s)
    done = run(f"127.0.0.1:{s.port}", "--table", str(table))
    assert done.returncode == 0, done.stdout + done.stderr
    assert s.sessions == 2


def test_connection_refused_and_timeout_are_exit_2(table: Path, servers: list[FakeSMTP]) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    refused = run(f"127.0.0.1:{port}", "--table", str(table))
    assert refused.returncode == 2 and refused.stdout.count("no verdict") == 2
    silent = FakeSMTP(lambda a: "250 ok", silent=True)
    servers.append(silent)
    slow = run(f"127.0.0.1:{silent.port}", "--table", str(table), "--timeout", "0.5")
    assert slow.returncode == 2 and "timed out" in slow.stdout
    assert silent.sessions == 1  # the host's other domain is not waited for again


def test_one_host_open_another_down_is_exit_1(table: Path, servers: list[FakeSMTP]) -> None:
    s = FakeSMTP(lambda a: "250 ok")
    servers.append(s)
    done = run(f"127.0.0.1:{s.port}", "127.0.0.1:1", "--table", str(table))
    assert done.returncode == 1


@pytest.mark.parametrize(("text", "host", "port"), [
    ("mx1.example.com", "mx1.example.com", 25), ("192.0.2.1:2525", "192.0.2.1", 2525),
    ("[::1]:2525", "::1", 2525), ("[2001:db8::1]", "2001:db8::1", 25), ("::1", "::1", 25)])
def test_target_parse(text: str, host: str, port: int) -> None:
    t = Target.parse(text)
    assert (t.given, t.host, t.port) == (text, host, port)


@pytest.mark.parametrize("text", ["", "a b", "host:0", "host:99999", "[::1"])
def test_target_parse_refuses(text: str) -> None:
    with pytest.raises(VirtcError):
        Target.parse(text)


def test_mx_hosts_come_from_dns_in_preference_order(monkeypatch: pytest.MonkeyPatch) -> None:
    dns = pytest.importorskip("dns.resolver")

    class MX:
        def __init__(self, preference: int, exchange: str) -> None:
            self.preference, self.exchange = preference, exchange

    def resolve(name: str, rdtype: str) -> list[MX]:
        if name == "nomx.test":
            raise dns.NoAnswer()
        return [MX(20, "mx2.example.net."), MX(10, "mx1.example.net.")]

    monkeypatch.setattr(dns, "resolve", resolve)
    plan = mx_targets(["one.test", "nomx.test"])
    assert [(t.host, d) for t, d in plan.items()] == [
        ("mx1.example.net", ["one.test"]), ("mx2.example.net", ["one.test"]), ("nomx.test", ["nomx.test"])]
