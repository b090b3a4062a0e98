"""``virtc probe`` against a real sendmail daemon on 127.0.0.1.

The daemon's local mailer lacks flag ``w`` (as with LMTP delivery to Cyrus or Dovecot), so
only the table's catch-alls reject unknown recipients: the probe must name exactly the
domain without one, and the daemon must really accept there (checked with a plain SMTP
client, so the test can fail).
"""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest
from support.sendmail_daemon import SendmailDaemon

pytestmark = pytest.mark.oracle

TABLE = ("alice@closed.test\talice\npostmaster@closed.test\tpostmaster\n"
         "@closed.test\terror:5.1.1:550 User unknown\n"
         "bob@open.test\tbob\n"
         "carol@other.test\tcarol\n@other.test\terror:5.1.1:550 No such user here\n")


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "virtc", "probe", *args], capture_output=True, text=True,
                          timeout=120)


def rcpt(port: int, address: str) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        smtp.mail("")
        code, _ = smtp.rcpt(address)
        return code


def test_probe_names_the_open_domain_and_only_it(tmp_path: Path) -> None:
    table = tmp_path / "virtusertable"
    table.write_text(TABLE)
    with SendmailDaemon(table) as mx:
        assert "w" not in mx.local_mailer_flags()  # as for LMTP delivery
        assert rcpt(mx.port, "nobody-here@open.test") == 250  # the hole is real
        assert rcpt(mx.port, "nobody-here@closed.test") == 550
        host = f"127.0.0.1:{mx.port}"
        done = probe(host, "--table", str(table), "--json")
        assert done.returncode == 1, done.stderr
        results = json.loads(done.stdout)
        assert {(r["host"], r["domain"], r["accepts_unknown"]) for r in results} == {
            (host, "closed.test", False), (host, "open.test", True), (host, "other.test", False)}
        assert all(r["recipient"].startswith("virtc-probe-") for r in results)
        opened = next(r for r in results if r["domain"] == "open.test")
        assert opened["reply"].startswith("250 ") and opened["error"] is None  # sendmail's own 250
        other = next(r for r in results if r["domain"] == "other.test")
        assert other["reply"].startswith("550 5.1.1") and "No such user here" in other["reply"]
        text = probe(host, "--table", str(table))
        assert text.returncode == 1
        assert "open.test on 127.0.0.1" in text.stderr and "closed.test on" not in text.stderr


def test_all_closed_is_exit_0_and_a_stopped_daemon_exit_2(tmp_path: Path) -> None:
    table = tmp_path / "virtusertable"
    table.write_text(TABLE + "@open.test\terror:5.1.1:550 User unknown\n")
    with SendmailDaemon(table) as mx:
        host = f"127.0.0.1:{mx.port}"
        done = probe(host, "--table", str(table))
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count("rejects unknown") == 3
        mx.stop()
        down = probe(host, "--table", str(table), "--timeout", "5")
        assert down.returncode == 2, down.stdout + down.stderr
        assert down.stdout.count("no verdict") == 3


def test_with_flag_w_sendmail_rejects_unknown_local_users_itself(tmp_path: Path) -> None:
    """Debian's own local mailer has F=w: then the domain without a catch-all is closed too,
    and the probe says so (the reason the LMTP case needs the catch-all)."""
    table = tmp_path / "virtusertable"
    table.write_text(TABLE)
    with SendmailDaemon(table, local_checks_users=True) as mx:
        assert "w" in mx.local_mailer_flags()
        done = probe(f"127.0.0.1:{mx.port}", "--table", str(table))
        assert done.returncode == 0, done.stdout + done.stderr


def test_non_ascii_domains_get_no_verdict_not_a_wrong_one(tmp_path: Path) -> None:
    """sendmail offers no SMTPUTF8 and strips the eighth bit: sent as bytes, RCPT to
    ``café.test`` (closed by its catch-all) is answered for ``cafi.test`` with 250. The probe
    does not send it, says why, and still probes the ASCII domain."""
    table = tmp_path / "virtusertable"
    table.write_bytes(b"q@caf\xe9.test\tq\n@caf\xe9.test\terror:5.1.1:550 No\n"
                      b"a@b\xc3\xbccher.test\ta\n@b\xc3\xbccher.test\terror:5.1.1:550 No\n"
                      b"z@plain.test\tz\n@plain.test\terror:5.1.1:550 No\n")
    with SendmailDaemon(table) as mx:
        with smtplib.SMTP("127.0.0.1", mx.port, timeout=30) as smtp:
            smtp.ehlo("client.test")
            assert not smtp.has_extn("smtputf8")
            smtp.command_encoding = "latin-1"  # the table's bytes, as an 8-bit client sends them
            smtp.docmd("MAIL", "FROM:<>")
            code, text = smtp.docmd("RCPT", "TO:<nobody-here@caf\xe9.test>")
            assert code == 250 and b"@cafi.test>" in text  # another domain's answer
        done = subprocess.run([sys.executable, "-m", "virtc", "probe", f"127.0.0.1:{mx.port}", "--table",
                               str(table), "--json"], capture_output=True, timeout=120)
        assert done.returncode == 2, done.stderr
        results = {r["domain"]: r["accepts_unknown"] for r in json.loads(done.stdout.decode("utf-8"))}
        assert results == {"caf\u00e9.test": None, "b\u00fccher.test": None, "plain.test": False}
