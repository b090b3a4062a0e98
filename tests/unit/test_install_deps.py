"""tools/install-deps.sh against shimmed apt-get, dpkg-query and dpkg-deb.

The script's "packages missing" branch is what a fresh machine runs, and the one CI never
reaches once the packages are there; these tests run it with every package reported
missing and check the exact apt command lines: the sendmail packages are only ever
downloaded and unpacked, never installed (that would remove the machine's MTA), and apt
runs with --no-remove.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from support.oracles import ROOT

SCRIPT = ROOT / "tools" / "install-deps.sh"
TEST_PACKAGES = "libdb-dev m4 db-util patch tinycdb libldap2-dev libsasl2-dev"

# Each shim appends its argv to $SHIM_LOG; behaviour follows the environment:
#   SHIM_INSTALLED  packages dpkg-query reports as installed (space separated)
#   SHIM_UID        what `id -u` prints
SHIMS = {
    "apt-get": r"""
echo "apt-get $*" >> "$SHIM_LOG"
if [ "$1" = download ]; then
    for p in "$@"; do
        case "$p" in -*|download) ;; *) : > "${p}_8.17_amd64.deb" ;; esac
    done
fi
""",
    "dpkg-query": r"""
echo "dpkg-query $*" >> "$SHIM_LOG"
for p in "$@"; do :; done
case " $SHIM_INSTALLED " in
    *" $p "*) printf 'install ok installed' ;;
    *) echo "dpkg-query: no packages found matching $p" >&2; exit 1 ;;
esac
""",
    "dpkg-deb": r"""
echo "dpkg-deb $*" >> "$SHIM_LOG"
program() { mkdir -p "$(dirname "$1")"; printf '#!/bin/sh\n' > "$1"; chmod 755 "$1"; }
case "$1:$2:$3" in
    -f:*sendmail-bin_*:Depends) echo "sendmail-base (= 8.17), sendmail-cf (= 8.17), procps, libc6 (>= 2.34),"\
                     "libdb5.3, libwrap0 (>= 7.6-4~) | libwrap-alt" ;;
    -f:*slapd_*:Depends) echo "adduser, libc6 (>= 2.34), libltdl7 (>= 2.4.6), perl:any" ;;
    -f:*postfix_*:Depends) echo "debconf (>= 0.5) | debconf-2.0, ssl-cert, libicu72 (>= 72.1~rc-1~)" ;;
    -f:*:Depends) ;;
    -f:*:Version) echo '8.17' ;;
    -x:*sendmail-bin_*) program "$3/usr/libexec/sendmail/sendmail" ;;
    -x:*slapd_*) program "$3/usr/sbin/slapd" ;;
    -x:*ldap-utils_*) program "$3/usr/bin/ldapsearch" ;;
    -x:*postfix_*) program "$3/usr/lib/postfix/sbin/smtpd" ;;
    -x:*) mkdir -p "$3/usr/share/sendmail" ;;
esac
""",
    "id": r"""
echo "${SHIM_UID:-0}"
""",
}


def run_script(tmp_path: Path, mode: str, *, installed: str = "", uid: int = 0,
               prefix: Path | None = None) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    shims = tmp_path / "shims"
    shims.mkdir(exist_ok=True)
    for name, body in SHIMS.items():
        path = shims / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
    log = tmp_path / "log"
    log.write_text("")
    env = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "SHIM_LOG": str(log),
           "SHIM_INSTALLED": installed, "SHIM_UID": str(uid),
           "VIRTC_ORACLE_PREFIX": str(prefix or tmp_path / "oracles")}
    proc = subprocess.run(["sh", str(SCRIPT), mode], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    calls = [ln for ln in log.read_text().splitlines() if not ln.startswith("dpkg-query")]
    return proc, calls


def test_fresh_machine_test_mode(tmp_path: Path) -> None:
    """Every package missing: one update, the servers downloaded and unpacked, only their
    shared libraries (lib*) installed."""
    proc, calls = run_script(tmp_path, "test")
    assert proc.returncode == 0, proc.stderr
    prefix = tmp_path / "oracles"
    assert calls[:2] == ["apt-get update -qq", "apt-get download -qq sendmail-bin sendmail-base sendmail-cf "
                         "slapd ldap-utils postfix"]
    installs = [c for c in calls if c.startswith("apt-get install")]
    assert installs == ["apt-get install -y -qq --no-install-recommends --no-remove "
                        "libdb-dev m4 db-util patch tinycdb libldap2-dev libsasl2-dev "
                        "libicu72 libc6 libdb5.3 libwrap0 libltdl7"]
    unpacks = {c.split()[2].rsplit("/", 1)[1]: c.split()[3] for c in calls if c.startswith("dpkg-deb -x")}
    assert unpacks == {f"{p}_8.17_amd64.deb": f"{prefix}.new" for p in
                       ("sendmail-bin", "sendmail-base", "sendmail-cf", "slapd", "ldap-utils")} | {
                       "postfix_8.17_amd64.deb": f"{prefix}.new/postfix"}
    for program in ("usr/libexec/sendmail/sendmail", "usr/sbin/slapd", "usr/bin/ldapsearch",
                    "postfix/usr/lib/postfix/sbin/smtpd"):
        assert os.access(prefix / program, os.X_OK)
    assert (prefix / ".virtc-oracles").exists() and not Path(f"{prefix}.new").exists()
    assert f"unpacked into {prefix} (not installed)" in proc.stdout


def test_demo_mode_installs_only_libdb(tmp_path: Path) -> None:
    proc, calls = run_script(tmp_path, "demo")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["apt-get update -qq",
                     "apt-get install -y -qq --no-install-recommends --no-remove libdb-dev"]
    assert not (tmp_path / "oracles").exists()


def test_nothing_to_do_runs_no_apt(tmp_path: Path) -> None:
    run_script(tmp_path, "test")
    proc, calls = run_script(tmp_path, "test", installed=TEST_PACKAGES, uid=1000)
    assert proc.returncode == 0, proc.stderr
    assert calls == []


def test_sendmail_libraries_installed_only_when_missing(tmp_path: Path) -> None:
    proc, calls = run_script(tmp_path, "test", installed=f"{TEST_PACKAGES} libicu72 libltdl7 libc6 libdb5.3")
    assert proc.returncode == 0, proc.stderr
    assert [c for c in calls if c.startswith("apt-get install")] == [
        "apt-get install -y -qq --no-install-recommends --no-remove libwrap0"]


def test_a_missing_oracle_unpacks_again(tmp_path: Path) -> None:
    """A checkout from before slapd and postfix joined the oracles gets them on the next run."""
    run_script(tmp_path, "test")
    (tmp_path / "oracles/usr/sbin/slapd").unlink()
    proc, calls = run_script(tmp_path, "test", installed=f"{TEST_PACKAGES} libicu72 libltdl7 libc6 libdb5.3 "
                             "libwrap0")
    assert proc.returncode == 0, proc.stderr
    assert any(c.startswith("apt-get download") for c in calls)
    assert not any(c.startswith("apt-get install") for c in calls)
    assert os.access(tmp_path / "oracles/usr/sbin/slapd", os.X_OK)


def test_not_root_says_what_to_run(tmp_path: Path) -> None:
    proc, calls = run_script(tmp_path, "demo", uid=1000)
    assert proc.returncode == 1
    assert calls == []
    assert proc.stderr.count("\n") == 1
    assert "apt-get install libdb-dev" in proc.stderr and "run: sudo sh" in proc.stderr


def test_foreign_prefix_is_never_replaced(tmp_path: Path) -> None:
    prefix = tmp_path / "somebodys"
    prefix.mkdir()
    (prefix / "keep").write_text("mine")
    proc, calls = run_script(tmp_path, "test", prefix=prefix)
    assert proc.returncode == 1
    assert "was not made by" in proc.stderr
    assert calls == []
    assert (prefix / "keep").read_text() == "mine"


def test_usage(tmp_path: Path) -> None:
    proc, _ = run_script(tmp_path, "everything")
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_never_installs_a_server_package(tmp_path: Path) -> None:
    _, calls = run_script(tmp_path, "test")
    for server in ("sendmail", "postfix", "slapd", "ldap-utils", "adduser", "ssl-cert"):
        assert not any(server in c for c in calls if c.startswith("apt-get install")), server


def test_never_touches_policy_rc_d() -> None:
    """Nothing here starts a daemon: a policy-rc.d left behind would block the server's restarts."""
    code = [ln for ln in SCRIPT.read_text().splitlines() if not ln.lstrip().startswith("#")]
    assert not any("policy-rc.d" in ln for ln in code)
