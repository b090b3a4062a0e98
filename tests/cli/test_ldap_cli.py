"""`virtc export ldif`, `virtc ldap sync` and lint's LDAP target, without a server.

What a real slapd and sendmail make of the entries is in tests/oracle/test_ldap_oracle.py.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ldif", reason="python-ldap is part of the dev install")

TABLE = ("Joe+*@Example.com\tjoe-plus\n@example.com\terror:5.1.1:550 No such user\n"
         "postmaster@example.com\tpostmaster\nuser@example.com\tlocaluser  \n")
BASE = "dc=example,dc=com"


def virtc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "virtc", *args], capture_output=True, timeout=60, cwd=cwd)


def records(data: bytes) -> dict[str, dict[str, list[bytes]]]:
    import ldif

    parser = ldif.LDIFRecordList(io.BytesIO(data))
    parser.parse()
    return dict(parser.all_records)


def test_ldif_has_the_container_and_one_entry_per_stored_key(tmp_path: Path) -> None:
    (tmp_path / "vt").write_text(TABLE)
    done = virtc("export", "ldif", str(tmp_path / "vt"), "--base", BASE, "--cluster", "mx")
    assert done.returncode == 0, done.stderr
    got = records(done.stdout)
    container = f"sendmailMTAMapName=virtuser,{BASE}"
    assert list(got) == [container, *(f"sendmailMTAKey={k},{container}" for k in (
        r"joe\+*@example.com", "@example.com", "postmaster@example.com", "user@example.com"))]
    joe = got[f"sendmailMTAKey=joe\\+*@example.com,{container}"]
    assert joe == {"objectClass": [b"sendmailMTA", b"sendmailMTAMap", b"sendmailMTAMapObject"],
                   "sendmailMTACluster": [b"mx"], "sendmailMTAKey": [b"joe+*@example.com"],
                   "sendmailMTAMapName": [b"virtuser"], "sendmailMTAMapValue": [b"joe-plus"]}
    # makemap keeps trailing blanks; so does the directory (RFC 2849: base64 in the LDIF).
    assert got[f"sendmailMTAKey=user@example.com,{container}"]["sendmailMTAMapValue"] == [b"localuser  "]
    assert b"sendmailMTAMapValue:: bG9jYWx1c2VyICA=" in done.stdout


def test_ldif_to_a_file_for_a_host(tmp_path: Path) -> None:
    (tmp_path / "vt").write_text(TABLE)
    done = virtc("export", "ldif", str(tmp_path / "vt"), "--base", BASE, "--host", "mx1.example.com",
                 "-o", str(tmp_path / "out.ldif"))
    assert done.returncode == 0 and done.stdout == b""
    got = records((tmp_path / "out.ldif").read_bytes())
    assert all(e.get("sendmailMTAHost", [b"mx1.example.com"]) == [b"mx1.example.com"] for e in got.values())
    assert sum("sendmailMTAHost" in e for e in got.values()) == 4


@pytest.mark.parametrize("scope", [[], ["--cluster", "c", "--host", "h.example.com"]])
def test_ldif_needs_exactly_one_scope(tmp_path: Path, scope: list[str]) -> None:
    (tmp_path / "vt").write_text(TABLE)
    done = virtc("export", "ldif", str(tmp_path / "vt"), "--base", BASE, *scope)
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1
    assert b"--cluster NAME or --host FQDN" in done.stderr


def test_ldif_refuses_what_the_directory_cannot_hold(tmp_path: Path) -> None:
    (tmp_path / "vt").write_bytes(b"jos\xe9@example.com\tjose\n@example.com\terror:5.1.1:550 No\n"
                                  b"postmaster@example.com\tpostmaster\n")
    done = virtc("export", "ldif", str(tmp_path / "vt"), "--base", BASE, "--cluster", "c",
                 "-o", str(tmp_path / "out.ldif"))
    assert done.returncode == 1 and b"VT301 ldap-unstorable" in done.stderr
    assert b"nothing was written" in done.stderr and not (tmp_path / "out.ldif").exists()


def test_lint_knows_ldap_from_the_cf_the_option_or_the_config(tmp_path: Path) -> None:
    (tmp_path / "vt").write_text(TABLE)
    plain = virtc("lint", "--isolated", str(tmp_path / "vt"))
    assert b"VT303" not in plain.stdout
    assert b"VT303 ldap-outage-accepts" in virtc("lint", "--isolated", "--target", "ldap",
                                                 str(tmp_path / "vt")).stdout
    (tmp_path / "sendmail.cf").write_text(
        "V10/Berkeley\nCw example.com\n"
        "Kvirtuser ldap -1 -v sendmailMTAMapValue -k (&(objectClass=sendmailMTAMapObject)"
        "(sendmailMTAMapName=virtuser)(sendmailMTAKey=%0))\n")
    from_cf = virtc("lint", "--isolated", str(tmp_path / "vt"))
    assert b"VT303 ldap-outage-accepts" in from_cf.stdout, from_cf.stdout
    assert b"VT303" not in virtc("lint", "--isolated", "--target", "hash", str(tmp_path / "vt")).stdout
    (tmp_path / ".virtc.toml").write_text('target = "hash"\n')
    assert b"VT303" not in virtc("lint", str(tmp_path / "vt")).stdout
    (tmp_path / ".virtc.toml").write_text('target = "x500"\n')
    bad = virtc("lint", str(tmp_path / "vt"))
    assert bad.returncode == 2 and b"target must be one of hash, ldap" in bad.stderr


def test_sync_reads_the_password_file_before_connecting(tmp_path: Path) -> None:
    (tmp_path / "vt").write_text(TABLE)
    done = virtc("ldap", "sync", str(tmp_path / "vt"), "--uri", "ldap://127.0.0.1:1", "--base", BASE,
                 "--cluster", "c", "--bind-dn", f"cn=admin,{BASE}", "--password-file", str(tmp_path / "nope"))
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1, done.stderr
    assert b"nope" in done.stderr
