"""``virtc probe`` against a scripted SMTP server in this process: the protocol paths.

The real sendmail daemon is in tests/oracle/test_probe_oracle.py.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from virtc.deploy.probe import Target, mx_targets
from virtc.errors import VirtcError

TABLE = "a@one.test\tx\n@one.test\terror:5.1.1:550 No\nb@two.test\ty\n"


class FakeSMTP:
    """Answers each command with ``rcpt(address)`` for RCPT, 250 for the rest; logs commands.

    ``hang_up_after_rcpt``: close the connection right after answering RCPT (every session).
    ``hang_up_at``: close instead of answering the n-th RCPT over all sessions (1-based).
    ``flood``: after RCPT, send ``250-`` continuation lines forever (never the last line).
    ``error_limits``: (soft, hard) as Postfix's smtpd_soft/hard_error_limit: after ``soft``
    5xx replies in a session count each further reply as delayed (``delayed``; Postfix
    sleeps a second), after ``hard`` answer the next command with 421 and hang up.
    ``extensions``: EHLO keywords offered besides PIPELINING and 8BITMIME (e.g. SMTPUTF8).
    """

    def __init__(self, rcpt: Callable[[str], str | bytes], *, greeting: str = "220 fake ESMTP",
                 hang_up_after: int | None = None, silent: bool = False, hang_up_after_rcpt: bool = False,
                 hang_up_at: set[int] | None = None, flood: bool = False,
                 extensions: tuple[str, ...] = (),
                 error_limits: tuple[int, int] | None = None) -> None:
        self.rcpt, self.greeting, self.hang_up_after, self.silent = rcpt, greeting, hang_up_after, silent
        self.hang_up_after_rcpt, self.hang_up_at, self.flood = hang_up_after_rcpt, hang_up_at or set(), flood
        self.extensions, self.error_limits = extensions, error_limits
        self.delayed = 0
        self.most_rcpts = 0  # the most RCPT commands one session got
        self.commands: list[str] = []
        self.sessions = 0
        self.rcpts = 0
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
            with contextlib.suppress(OSError):  # the client went away (as after its time is up)
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as f:
            if self.silent:
                conn.recv(1)  # never answers
                return
            f.write(self.greeting.encode() + b"\r\n")
            f.flush()
            rcpts = errors = 0
            for raw in f:
                line = raw.decode().rstrip("\r\n")
                self.commands.append(line)
                verb = line.split(" ", 1)[0].split(":", 1)[0].upper()
                if self.error_limits is not None and errors >= self.error_limits[0]:
                    self.delayed += 1
                if self.error_limits is not None and errors >= self.error_limits[1]:
                    f.write(b"421 4.7.0 fake Error: too many errors\r\n")
                    f.flush()
                    return
                reply: str | bytes
                if verb == "EHLO":
                    reply = "".join(f"250-{k}\r\n" for k in ("fake", "PIPELINING", *self.extensions))
                    reply += "250 8BITMIME"
                elif verb == "RCPT":
                    self.rcpts += 1
                    if self.rcpts in self.hang_up_at:
                        return
                    if self.flood:
                        while True:
                            f.write(b"250-still thinking\r\n")
                            f.flush()
                            time.sleep(0.05)
                    reply = self.rcpt(line.split("<", 1)[1].rstrip(">"))
                    rcpts += 1
                    self.most_rcpts = max(self.most_rcpts, rcpts)
                elif verb == "QUIT":
                    f.write(b"221 bye\r\n")
                    f.flush()
                    break
                else:
                    reply = "250 ok"
                errors += (reply if isinstance(reply, bytes) else reply.encode()).startswith(b"5")
                f.write((reply if isinstance(reply, bytes) else reply.encode()) + b"\r\n")
                f.flush()
                if self.hang_up_after_rcpt and verb == "RCPT":
                    return
                if self.hang_up_after is not None and verb == "RSET" and rcpts >= self.hang_up_after:
                    break

    def verbs(self) -> list[str]:
        return [c.split(" ")[0].split(":")[0].upper() for c in self.commands]

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
    for s in made:
        assert "DATA" not in s.verbs(), s.commands  # never, in any test


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


def test_multi_line_replies_are_one_reply_line(table: Path, servers: list[FakeSMTP]) -> None:
    s = FakeSMTP(lambda a: "550-5.1.1 No such user here.\r\n550 5.1.1 See https://example.org/why",
                 greeting="220-fake.example ESMTP\r\n220-no UCE\r\n220 welcome")
    servers.append(s)
    done = run(f"127.0.0.1:{s.port}", "--table", str(table), "--json")
    assert done.returncode == 0, done.stderr
    replies = {r["reply"] for r in json.loads(done.stdout)}
    assert replies == {"550 5.1.1 No such user here. 5.1.1 See https://example.org/why"}


def test_a_server_that_hangs_up_after_answering_rcpt_keeps_its_answer(
        table: Path, servers: list[FakeSMTP]) -> None:
    """The RSET fails, not the probe: the answer counts and the next domain gets a new session."""
    s = FakeSMTP(lambda a: "250 2.1.5 ok", hang_up_after_rcpt=True)
    servers.append(s)
    done = run(f"127.0.0.1:{s.port}", "--table", str(table), "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    assert [r["accepts_unknown"] for r in json.loads(done.stdout)] == [True, True]
    assert s.sessions == 2


def test_a_server_that_hangs_up_mid_session(table: Path, servers: list[FakeSMTP]) -> None:
    # Closes instead of answering the second domain's RCPT: one new session asks it again.
    again = FakeSMTP(lambda a: "550 5.1.1 no", hang_up_at={2})
    servers.append(again)
    done = run(f"127.0.0.1:{again.port}", "--table", str(table), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["accepts_unknown"] for r in json.loads(done.stdout)] == [False, False]
    assert again.sessions == 2 and again.rcpts == 3
    # Closes at every RCPT: no verdict, exit 2, and no endless reconnecting.
    never = FakeSMTP(lambda a: "550 5.1.1 no", hang_up_at=set(range(1, 100)))
    servers.append(never)
    done = run(f"127.0.0.1:{never.port}", "--table", str(table), "--json")
    assert done.returncode == 2
    results = json.loads(done.stdout)
    assert [r["accepts_unknown"] for r in results] == [None, None]
    assert all("closed" in r["error"] for r in results), results
    assert never.sessions == 1


def test_a_server_that_never_finishes_its_reply_is_cut_off(table: Path, servers: list[FakeSMTP]) -> None:
    """Continuation lines each within --timeout: the host's total budget still ends it."""
    s = FakeSMTP(lambda a: "250 ok", flood=True)
    servers.append(s)
    start = time.monotonic()
    done = run(f"127.0.0.1:{s.port}", "--table", str(table), "--timeout", "0.2")
    elapsed = time.monotonic() - start
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.count("time is up") == 2, done.stdout
    assert elapsed < 15  # 0.2 s x (5 + 3 x 2 domains) = 2.2 s for the host, plus start-up


def test_json_shape_and_utf8_output(table: Path, servers: list[FakeSMTP]) -> None:
    s = FakeSMTP(lambda a: "550 5.1.1 caf\u00e9 inconnu \x1b[31m".encode())
    servers.append(s)
    host = f"127.0.0.1:{s.port}"
    done = subprocess.run([sys.executable, "-m", "virtc", "probe", host, "--table", str(table), "--json"],
                          capture_output=True, timeout=60)
    assert done.returncode == 0
    results = json.loads(done.stdout.decode("utf-8"))
    assert isinstance(results, list) and len(results) == 2
    for r in results:
        assert set(r) == {"host", "domain", "recipient", "accepts_unknown", "reply", "error"}
        assert r["host"] == host and r["accepts_unknown"] is False and r["error"] is None
        assert r["reply"] == "550 5.1.1 caf\u00e9 inconnu \x1b[31m"  # UTF-8 shown as such
    assert [r["domain"] for r in results] == ["one.test", "two.test"]
    text = subprocess.run([sys.executable, "-m", "virtc", "probe", host, "--table", str(table)],
                          capture_output=True, timeout=60)
    lines = text.stdout.decode("utf-8").splitlines()
    assert len(lines) == 2 and all(line.startswith(host + "\t") for line in lines)
    assert "caf\u00e9" in lines[0] and "\x1b" not in lines[0] and "\u241b" in lines[0]  # no escapes


@pytest.mark.parametrize("option", [["--from", "a@b.test>\r\nDATA"], ["--from", "a b@c.test"],
                                    ["--helo", "x\r\nDATA"], ["--from", "b\u00e9@c.test"],
                                    ["--helo", "h\u00f4te.test"]])
def test_addresses_that_would_inject_commands_are_refused(
        table: Path, servers: list[FakeSMTP], option: list[str]) -> None:
    s = FakeSMTP(lambda a: "250 ok")
    servers.append(s)
    done = run(f"127.0.0.1:{s.port}", "--table", str(table), *option)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("virtc: ") and len(done.stderr.splitlines()) == 1
    assert s.sessions == 0


# A UTF-8 domain, a Latin-1 one, and a plain one, as a table's bytes.
EIGHT_BIT = b"a@b\xc3\xbccher.test\tx\nq@caf\xe9.test\ty\nz@plain.test\tz\n"


def test_non_ascii_domains_are_not_sent_as_8_bit(tmp_path: Path, servers: list[FakeSMTP]) -> None:
    """Without SMTPUTF8 sendmail strips the eighth bit and answers for another domain (cafi.test):
    such a domain gets no verdict (exit 2) and the others are still probed, in one session."""
    table = tmp_path / "vt"
    table.write_bytes(EIGHT_BIT)
    s = FakeSMTP(lambda a: "550 5.1.1 no")
    servers.append(s)
    done = subprocess.run([sys.executable, "-m", "virtc", "probe", f"127.0.0.1:{s.port}", "--table",
                           str(table), "--json"], capture_output=True, timeout=60)
    assert done.returncode == 2, done.stderr
    results = {r["domain"]: r for r in json.loads(done.stdout.decode("utf-8"))}
    assert list(results) == ["b\u00fccher.test", "caf\u00e9.test", "plain.test"]
    assert results["plain.test"]["accepts_unknown"] is False
    assert results["b\u00fccher.test"]["accepts_unknown"] is None
    assert "SMTPUTF8" in results["b\u00fccher.test"]["error"]
    assert results["caf\u00e9.test"]["accepts_unknown"] is None
    assert "neither ASCII nor UTF-8" in results["caf\u00e9.test"]["error"]
    assert [c for c in s.commands if c.upper().startswith("RCPT")] == [
        f"rcpt TO:<{results['plain.test']['recipient']}>"]
    assert s.sessions == 1 and all(c.isascii() for c in s.commands)


def test_a_utf8_domain_is_asked_with_smtputf8(tmp_path: Path, servers: list[FakeSMTP]) -> None:
    table = tmp_path / "vt"
    table.write_bytes(EIGHT_BIT)
    s = FakeSMTP(lambda a: "250 2.1.5 ok" if a.endswith("@b\u00fccher.test") else "550 5.1.1 no",
                 extensions=("SMTPUTF8",))
    servers.append(s)
    done = subprocess.run([sys.executable, "-m", "virtc", "probe", f"127.0.0.1:{s.port}", "--table",
                           str(table), "--json"], capture_output=True, timeout=60)
    assert done.returncode == 1, done.stderr
    results = {r["domain"]: r for r in json.loads(done.stdout.decode("utf-8"))}
    assert results["b\u00fccher.test"]["accepts_unknown"] is True
    assert results["plain.test"]["accepts_unknown"] is False
    recipient = results["b\u00fccher.test"]["recipient"]
    i = s.commands.index(f"rcpt TO:<{recipient}>")  # sent as UTF-8, the table's bytes
    assert s.commands[i - 1] == "mail FROM:<> SMTPUTF8"
    assert "mail FROM:<> SMTPUTF8" not in s.commands[i + 1:]  # only for that domain
    assert "b\u00fccher.test on 127.0.0.1" in done.stderr.decode("utf-8")


def test_a_domain_is_sent_as_the_table_spells_it(tmp_path: Path, servers: list[FakeSMTP]) -> None:
    """No address parser in between: smtplib's rcpt() would drop the "(ample)" comment."""
    table = tmp_path / "vt"
    table.write_text("a@ex(ample).test\tx\n")
    s = FakeSMTP(lambda a: "550 5.1.1 no")
    servers.append(s)
    done = run(f"127.0.0.1:{s.port}", "--table", str(table), "--json")
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert f"rcpt TO:<{result['recipient']}>" in s.commands
    assert result["recipient"].endswith("@ex(ample).test")


def test_many_domains_are_asked_in_sessions_of_eight(tmp_path: Path, servers: list[FakeSMTP]) -> None:
    """Postfix slows every reply after 10 rejected recipients in a session and hangs up after
    20: 20 domains are asked in 3 sessions of at most 8, and no reply is slowed."""
    table = tmp_path / "vt"
    table.write_text("".join(f"u@d{n}.test\tu\n@d{n}.test\terror:5.1.1:550 No\n" for n in range(20)))
    s = FakeSMTP(lambda a: "550 5.1.1 no", error_limits=(10, 20))
    servers.append(s)
    done = run(f"127.0.0.1:{s.port}", "--table", str(table))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("rejects unknown") == 20
    assert s.sessions == 3 and s.most_rcpts == 8 and s.delayed == 0
    assert s.verbs().count("QUIT") == 3
