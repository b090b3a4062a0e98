"""VT212's claims against the real sendmail -bs: a forward to a local user that does not
exist is rejected at RCPT when the local mailer has F=w, accepted without it."""

from __future__ import annotations

import json
import pwd
from pathlib import Path

from support.cli import runner
from support.sendmail import SendmailOracle

from virtc.cli import cli

TABLE = "sales@a.example\tvirtc-no-such-user\nok@a.example\troot\n@a.example\terror:5.1.1:550 User unknown\n"


def _rcpt(src: Path, checks_users: bool) -> list[str]:
    with SendmailOracle(src) as oracle:
        if not checks_users:
            mc = (oracle.dir / "oracle.mc").read_text()
            mc = mc.replace("MAILER(`local')", "MODIFY_MAILER_FLAGS(`LOCAL', `-w')dnl\nMAILER(`local')", 1)
            (oracle.dir / "oracle.mc").write_text(mc)
            import subprocess

            with oracle.cf.open("w") as out:
                subprocess.run(["m4", str(oracle.dir / "oracle.mc")], stdout=out, check=True, timeout=60)
        return oracle.smtp_replies(["sales@a.example", "ok@a.example"], delivery_mode="background")


def test_unknown_local_target_is_what_sendmail_does(sendmail: str, tmp_path: Path) -> None:
    assert "virtc-no-such-user" not in {p.pw_name for p in pwd.getpwall()}
    src = tmp_path / "virtusertable"
    src.write_text(TABLE)
    with_w, without_w = _rcpt(src, True), _rcpt(src, False)
    assert with_w[0].startswith("550 5.1.1") and with_w[1].startswith("250")
    assert without_w[0].startswith("250") and without_w[1].startswith("250")
    passwd = tmp_path / "passwd"
    passwd.write_text("".join(f"{p.pw_name}:x:{p.pw_uid}:{p.pw_gid}::{p.pw_dir}:{p.pw_shell}\n"
                              for p in pwd.getpwall()))
    r = runner().invoke(cli, ["lint", "--isolated", "--format", "json", "--select", "VT212",
                               "--users", str(passwd), str(src)])
    found = json.loads(r.output)["diagnostics"]
    assert [(d["line"], d["code"]) for d in found] == [(1, "VT212")]  # sales@, not ok@ (root)
