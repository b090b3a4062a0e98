"""virtc.deploy.sendmail_cf against the real sendmail: the classes w and {VirtHost}, $j and the
local mailer's flags sendmail itself reads from m4-generated cfs (``sendmail -bt``: ``$=w``,
``$={VirtHost}``, ``$j``, ``=M``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from support.sendmail import SendmailOracle

from virtc.deploy.sendmail_cf import read_sendmail_cf
from virtc.errors import VirtcError

TABLE = "alice@a.example\talice\n@a.example\terror:5.1.1:550 User unknown\nbob@v.example\tbob\n"

VARIANTS = {
    "class w file": ([], {}),
    "local domain, own name, local mailer without w": (
        ["LOCAL_DOMAIN(`extra.example')dnl", "define(`confDOMAIN_NAME', `mail.example.org')dnl",
         "MODIFY_MAILER_FLAGS(`LOCAL', `-w')dnl"], {}),
    "virthost file, virtuser_entire_domain": (
        ["VIRTUSER_DOMAIN(`v2.example')dnl"], {"virthost": True, "features": ("virtuser_entire_domain",)}),
}


def _regenerate(oracle: SendmailOracle, extra: list[str]) -> None:
    """The oracle's cf with ``extra`` .mc lines (before the mailers), made again by m4."""
    mc = (oracle.dir / "oracle.mc").read_text()
    mc = mc.replace("MAILER(`local')", "".join(line + "\n" for line in extra) + "MAILER(`local')", 1)
    (oracle.dir / "oracle.mc").write_text(mc)
    with oracle.cf.open("w") as out:
        subprocess.run(["m4", str(oracle.dir / "oracle.mc")], stdout=out, check=True, timeout=60)


def _members(answer: str) -> list[list[str]]:
    """The lines sendmail -bt printed after each '> ' prompt."""
    return [[line for line in chunk.strip().splitlines() if line != ">"]
            for chunk in re.split(r"(?m)^> ", answer)[1:]]


@pytest.mark.parametrize("variant", VARIANTS)
def test_classes_and_flags_are_what_sendmail_reads(sendmail: str, tmp_path: Path, variant: str) -> None:
    extra, options = VARIANTS[variant]
    src = tmp_path / "vt"
    src.write_text(TABLE)
    with SendmailOracle(src, local_domains=["a.example", "v.example"], **options) as oracle:  # type: ignore[arg-type]
        _regenerate(oracle, extra)
        cf = read_sendmail_cf(oracle.cf)
        # One question a run: an empty answer leaves no line to split the next one at.
        w, virthost, dj, mailers = (_members(oracle.run(["-bt"], f"{q}\n"))[0]
                                    for q in ("$=w", "$={VirtHost}", "$j", "=M"))
        # A cf with no class w lines at all: what sendmail adds to class w by itself.
        bare = oracle.dir / "bare.cf"
        bare.write_text("".join(line + "\n" for line in oracle.cf.read_text().splitlines()
                                if not re.match(r"C\{?w\}?|F\{?w\}?", line)))
        own = _members(oracle.run(["-bt", "-C", str(bare)], "$=w\n"))[0]
    real_w = {m.lower() for m in w}
    assert cf.class_w <= real_w
    assert cf.class_w | {m.lower() for m in own} == real_w | {"localhost"}
    assert cf.virthost == {m.lower() for m in virthost}
    if "confDOMAIN_NAME" in " ".join(extra):
        assert cf.dj == dj[0].lower() == "mail.example.org"
    local = next(line for line in mailers if "(local)" in line)
    real_flags = re.search(r" F=(\S+)", local)
    assert real_flags is not None
    assert set(cf.local_mailer_flags) == set(real_flags.group(1))
    assert cf.local_checks_users == ("w" in real_flags.group(1))
    assert cf.entire_domain == ("virtuser_entire_domain" in options.get("features", ()))
    assert cf.virtuser is not None and cf.virtuser.type == "hash"
    assert cf.virtuser.path is not None and cf.virtuser.path.endswith("/virtusertable")


def test_not_a_cf(tmp_path: Path) -> None:
    mc = tmp_path / "sendmail.mc"
    mc.write_text("divert(-1)\nFEATURE(`virtusertable')dnl\n")
    with pytest.raises(VirtcError, match=r"this is a \.mc file"):
        read_sendmail_cf(mc)
    binary = tmp_path / "x.cf"
    binary.write_bytes(b"\x7fELF\0\0\0")
    with pytest.raises(VirtcError, match=r"not a sendmail\.cf"):
        read_sendmail_cf(binary)
    with pytest.raises(VirtcError, match=r"missing\.cf"):
        read_sendmail_cf(tmp_path / "missing.cf")


LINT_TABLE = ("alice@a.example\talice\n@a.example\terror:5.1.1:550 User unknown\n"
              "bob@v.example\tbob\ncarol@w.example\tcarol\n@w.example\terror:5.1.1:550 User unknown\n"
              "dave@sub.v.example\tdave\n")


@pytest.mark.parametrize("variant", VARIANTS)
def test_lint_and_query_read_the_cf_as_sendmail_does(sendmail: str, tmp_path: Path, variant: str) -> None:
    """Lint with --sendmail-cf: a domain is reported open (VT102) exactly when sendmail accepts
    an unnamed address in it, and query's kind for it matches sendmail's mailer."""
    import json

    from support.cli import runner

    from virtc.cli import cli

    extra, options = VARIANTS[variant]
    src = tmp_path / "vt"
    src.write_text(LINT_TABLE)
    domains = ["a.example", "v.example", "w.example", "sub.v.example", "extra.example", "v2.example"]
    with SendmailOracle(src, local_domains=["a.example", "v.example", "w.example"], **options) as oracle:  # type: ignore[arg-type]
        _regenerate(oracle, extra)
        probes = [f"nobody-virtc@{d}" for d in domains]
        answers = oracle.resolve(probes, trace=False)
        lint = runner().invoke(cli, ["lint", "--isolated", "--format", "json", "--select", "VT101,VT102",
                                     "--sendmail-cf", str(oracle.cf), str(src)])
        query = runner().invoke(cli, ["query", "--json", "--table", str(src), "--sendmail-cf", str(oracle.cf),
                                      *probes])
    reported = {d["message"].split("'")[1] for d in json.loads(lint.stdout)["diagnostics"]}
    kinds = [r["kind"] for r in json.loads(query.stdout)]
    for domain, answer, kind in zip(domains, answers, kinds):
        accepted = answer.mailer in ("local", "esmtp", "relay", "smtp")
        looked_up = answer.mailer == "error" or kind != "not-local"
        if looked_up and accepted:
            assert domain in reported, (variant, domain, answer.raw)
        if domain in reported:
            assert accepted, (variant, domain, answer.raw)
        assert (kind == "error") == (answer.mailer == "error"), (variant, domain, kind, answer.raw)
