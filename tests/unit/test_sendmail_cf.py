"""read_sendmail_cf on hand-written cfs: syntax edge cases, without sendmail.

What sendmail itself makes of m4-generated cfs is in tests/oracle/test_sendmail_cf_oracle.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from virtc.deploy.sendmail_cf import read_sendmail_cf
from virtc.errors import VirtcError

HEAD = "V10/Berkeley\n"


def write(tmp_path: Path, text: str, name: str = "sendmail.cf") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    return path


def test_class_w_lines_both_forms_folded_trailing_dot_kept(tmp_path: Path) -> None:
    cf = read_sendmail_cf(write(tmp_path, HEAD + "Cwlocalhost Mail.Example.\nC{w}b.example  c.example\n"
                                "C{VirtHost}V.example\nCRrelay.example\n"))
    assert cf.class_w == {"localhost", "mail.example.", "b.example", "c.example"}
    assert cf.virthost == {"v.example"}
    assert cf.warnings == ()


def test_continuation_lines_and_comments(tmp_path: Path) -> None:
    text = (HEAD + "# Cwcommented.example\n"
            "Cwa.example\n\tb.example\n"          # continuation: same C line
            "#Cwc.example\n  d.example\n"          # continuation of a comment stays a comment
            "Cwe.example # f.example\n"            # inline comment (level >= 3)
            "Cwg\\#h.example\r\n")                 # \# is a literal '#'; CRLF
    cf = read_sendmail_cf(write(tmp_path, text))
    assert cf.class_w == {"a.example", "b.example", "e.example", "g#h.example"}


def test_inline_comment_needs_a_level_3_v_line(tmp_path: Path) -> None:
    cf = read_sendmail_cf(write(tmp_path, "Cwa.example #b.example\nV2\n"))
    assert cf.class_w == {"a.example", "#b.example"}


def test_class_file_first_word_per_line_comments_skipped(tmp_path: Path) -> None:
    names = write(tmp_path, "# x.example\nOne.Example second.example\n\n   two.example\n#\n", "lhn")
    # In a level >= 3 cf a bare '#' starts a comment, even in a scanf format: write '\#'.
    cf = read_sendmail_cf(write(tmp_path, HEAD + f"Fw{names}\nF{{VirtHost}}-o {names} %[^\\#]\n"))
    assert cf.class_w == {"one.example", "two.example"}
    assert cf.virthost == {"one.example", "second.example", "two.example"}
    cf = read_sendmail_cf(write(tmp_path, HEAD + f"F{{VirtHost}}{names} %[^#]\n"))
    assert "scanf format '%[^' not understood" in cf.warnings[0]


def test_missing_class_file_optional_or_not(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    cf = read_sendmail_cf(write(tmp_path, HEAD + f"Fw-o {missing}\nCwa.example\n"))
    assert cf.class_w == {"a.example"} and cf.warnings == ()
    path = write(tmp_path, HEAD + f"Fw{missing}\n")
    cf = read_sendmail_cf(path)  # a warning: lint goes on without those domains
    assert cf.class_w == frozenset()
    assert cf.warnings == (f"{path}:2: class w: cannot open '{missing}' (no such file or directory): its "
                           "domains are not known (sendmail itself refuses to start without it)",)


def test_a_missing_class_file_is_looked_for_beside_the_cf(tmp_path: Path) -> None:
    """/etc/mail copied into a repository and linted in CI: local-host-names sits beside the cf."""
    write(tmp_path, "b.example\n", "local-host-names")
    cf = read_sendmail_cf(write(tmp_path, HEAD + "Fw/etc/mail/virtc-absent/local-host-names\n"))
    assert cf.class_w == {"b.example"}
    assert "read instead" in cf.warnings[0]


def test_unreadable_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Permission denied, as a non-root reader gets it (simulated: the suite runs as root)."""
    secret = write(tmp_path, "a.example\n", "secret")
    path = write(tmp_path, HEAD + f"F{{w}}-o {secret}\n", "locked.cf")
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name in ("secret", "locked.cf") and getattr(read_bytes, "deny", set()) & {self.name}:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    read_bytes.deny = {"secret"}  # type: ignore[attr-defined]
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    cf = read_sendmail_cf(path)
    assert cf.class_w == frozenset()
    assert len(cf.warnings) == 1 and "unreadable" in cf.warnings[0]
    read_bytes.deny = {"locked.cf"}  # type: ignore[attr-defined]
    with pytest.raises(VirtcError, match=r"locked\.cf: cannot read: permission denied$"):
        read_sendmail_cf(path)


def test_unreadable_class_file_as_root_or_not(tmp_path: Path) -> None:
    """A directory cannot be read by anyone: a warning either way (without -o: sendmail fails)."""
    cf = read_sendmail_cf(write(tmp_path, HEAD + f"Fw-o {tmp_path}\n"))
    assert cf.class_w == frozenset() and "unreadable" in cf.warnings[0]
    cf = read_sendmail_cf(write(tmp_path, HEAD + f"Fw{tmp_path}\n"))
    assert cf.class_w == frozenset() and ":2: class w: cannot open" in cf.warnings[0]


def test_missing_cf(tmp_path: Path) -> None:
    with pytest.raises(VirtcError, match=r"nothere\.cf: cannot read: no such file or directory$"):
        read_sendmail_cf(tmp_path / "nothere.cf")


def test_program_and_map_classes_and_macros_are_warnings(tmp_path: Path) -> None:
    cf = read_sendmail_cf(write(tmp_path, HEAD + "Fw|/usr/bin/hostlist\nF{VirtHost}@LDAP\n"
                                "Cw$j a.example\n"))
    assert cf.class_w == {"a.example"} and cf.virthost == frozenset()
    assert [w.split(": ", 1)[1].split(" ")[:3] for w in cf.warnings] == [
        ["class", "w", "is"], ["class", "VirtHost", "is"], ["class", "w", "member"]]
    assert "program" in cf.warnings[0] and "map" in cf.warnings[1] and "macro" in cf.warnings[2]


def test_dj_literal_or_macro(tmp_path: Path) -> None:
    assert read_sendmail_cf(write(tmp_path, HEAD + "DjMail.example.org\n")).dj == "Mail.example.org"
    assert read_sendmail_cf(write(tmp_path, HEAD + "Dj$w.example.org\n")).dj is None
    assert read_sendmail_cf(write(tmp_path, HEAD + "#Dj$w.Foo.COM\n")).dj is None
    assert read_sendmail_cf(write(tmp_path, HEAD + 'D{j}"quoted.example"\n')).dj == "quoted.example"


def test_k_line_flags_path_and_last_definition(tmp_path: Path) -> None:
    text = (HEAD + "Kvirtuser hash /old\nKother hash /x\n"
            "Kvirtuser hash -o -T<TMPF> -f -k key /etc/mail/virtusertable.db rebuild\n")
    cf = read_sendmail_cf(write(tmp_path, text))
    spec = cf.virtuser
    assert spec is not None
    assert (spec.type, spec.path, spec.flags, spec.line) == (
        "hash", "/etc/mail/virtusertable.db", ("-o", "-T<TMPF>", "-f", "-k key"), 4)
    assert spec.optional and not spec.fold_case and spec.ldap_spec is None
    assert "defined again" in cf.warnings[0]


def test_k_line_ldap(tmp_path: Path) -> None:
    spec = read_sendmail_cf(write(tmp_path, HEAD + "Kvirtuser ldap:-1 -k (uid=%0) -v mail\n")).virtuser
    assert spec is not None
    assert (spec.type, spec.path, spec.ldap_spec) == ("ldap", None, "-1 -k (uid=%0) -v mail")
    assert spec.flags == ("-1", "-k", "-v") and spec.fold_case and not spec.optional


def test_no_virtusertable(tmp_path: Path) -> None:
    cf = read_sendmail_cf(write(tmp_path, HEAD + "Kmailertable hash /etc/mail/mailertable\n"))
    assert cf.virtuser is None and cf.entire_domain is False


def test_local_mailer_flags_and_w(tmp_path: Path) -> None:
    mlocal = ("Mlocal,\t\tP=/usr/bin/procmail, F=lsDFMAw5:/|@qSPfhn9, S=EnvFromL/HdrFromL,\n"
              "\t\tT=DNS/RFC822/X-Unix,\n\t\tA=procmail -Y -a $h -d $u\n")
    cf = read_sendmail_cf(write(tmp_path, HEAD + "Mprog, P=/bin/sh, F=lsDFMoqeu9, A=sh -c $u\n" + mlocal))
    assert cf.local_mailer_flags == "lsDFMAw5:/|@qSPfhn9" and cf.local_checks_users
    cf = read_sendmail_cf(write(tmp_path, HEAD + mlocal.replace("Aw5", "A5")))
    assert not cf.local_checks_users
    assert read_sendmail_cf(write(tmp_path, HEAD)).local_mailer_flags == ""


def test_entire_domain_from_the_rules(tmp_path: Path) -> None:
    rule = "R<!> $+ < @ $* $={VirtHost} . >\t$: < $(virtuser $1 @ $2 $3 $@ $1 $: @ $) > $1 < @ $2 $3 . >\n"
    assert read_sendmail_cf(write(tmp_path, HEAD + "SParse1\n" + rule)).entire_domain
    plain = rule.replace("$* $={VirtHost}", "$={VirtHost}")
    assert not read_sendmail_cf(write(tmp_path, HEAD + "SParse1\n" + plain)).entire_domain


@pytest.mark.parametrize(("content", "message"), [
    ("divert(-1)\ninclude(`cf.m4')\nFEATURE(`virtusertable')\n",
     ":1: this is a .mc file; give the sendmail.cf m4 generates from it"),
    ("dnl a comment\nOSTYPE(`linux')dnl\n", ":1: this is a .mc file"),
    ("alice@example.com\talice\n", ":1: not a sendmail.cf (line starts with 'a'"),
    ("# only comments\nCwa.example\n", ": not a sendmail.cf (no V line"),
    ("", ": not a sendmail.cf (no V line"),
])
def test_not_a_cf(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(VirtcError) as err:
        read_sendmail_cf(path)
    assert str(err.value).startswith(f"{path}{message}")
    assert "\n" not in str(err.value)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "sendmail.cf.db"
    path.write_bytes(b"\x00\x06\x15\x61V10\x00\xff")
    with pytest.raises(VirtcError, match=r"sendmail\.cf\.db: not a sendmail.cf \(binary data\)$"):
        read_sendmail_cf(path)


def test_latin1_members(tmp_path: Path) -> None:
    cf = read_sendmail_cf(write(tmp_path, HEAD + "CwCaf\xc9.Example\n"))
    assert cf.class_w == {"caf\xc9.example"}
