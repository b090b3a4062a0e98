#!/bin/sh
# Install what virtc's demo or its tests need on a Debian machine, idempotently.
#
#   install-deps.sh demo   libdb-dev (headers to compile the `berkeleydb` package), plus
#                          python3-venv, python3-dev and gcc where python3 lacks them
#   install-deps.sh test   the demo's packages, m4, db-util (db_dump, db_verify), patch,
#                          tinycdb (qmail's cdb files), the headers python-ldap builds
#                          against, and as test oracles the real sendmail, makemap, slapd,
#                          ldap-utils and Postfix, UNPACKED into a private prefix (default:
#                          .oracles/ in this checkout)
#
# The server packages are never installed: sendmail-bin and postfix provide and conflict
# with mail-transport-agent, so installing either would remove the machine's mail server,
# and their postinsts (and slapd's) start daemons. `apt-get download` + `dpkg-deb -x`
# gives the tests the same binaries without touching any service; only their shared
# libraries are installed. apt runs with --no-remove, so it aborts rather than remove
# any package. Nothing here starts a daemon, so /usr/sbin/policy-rc.d is neither needed
# nor touched.
#
# Environment: VIRTC_ORACLE_PREFIX (where the oracles are unpacked).
set -eu

mode=${1:-test}
case "$mode" in
    demo|test) ;;
    *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
prefix=${VIRTC_ORACLE_PREFIX:-$here/.oracles}
# What the tests run from the prefix; their presence means the unpack is done.
oracle_bins="usr/libexec/sendmail/sendmail usr/sbin/slapd usr/bin/ldapsearch postfix/usr/lib/postfix/sbin/smtpd"
unpacked="sendmail-bin sendmail-base sendmail-cf slapd ldap-utils postfix"

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

py_lacks() {  # py_lacks CHECK: true when python3 fails the check
    ! python3 -c "$1" >/dev/null 2>&1
}

wanted="libdb-dev"
py_lacks 'import ensurepip, venv' && wanted="$wanted python3-venv"
py_lacks 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' \
    && wanted="$wanted python3-dev"
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || wanted="$wanted gcc"
[ "$mode" = test ] && wanted="$wanted m4 db-util patch tinycdb libldap2-dev libsasl2-dev"

unpack=""
if [ "$mode" = test ]; then
    for bin in $oracle_bins; do
        [ -x "$prefix/$bin" ] || unpack=1
    done
fi
if [ -n "$unpack" ]; then
    # Only a folder this script made (marked) is ever replaced.
    if [ -e "$prefix" ] && [ ! -e "$prefix/.virtc-oracles" ]; then
        echo "virtc: $prefix exists and was not made by $0; set VIRTC_ORACLE_PREFIX to a new folder" >&2
        exit 1
    fi
fi

missing=""
for p in $wanted; do
    installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && [ -z "$unpack" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    what="apt-get install$missing"
    [ -n "$unpack" ] && what="$what, and the oracles ($unpacked) unpacked into $prefix"
    echo "virtc: needs root to install: $what; run: sudo sh $0 $mode" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

debs=""
cleanup() { [ -n "$debs" ] && rm -rf "$debs"; return 0; }
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
if [ -n "$unpack" ]; then
    debs=$(mktemp -d)
    chmod 755 "$debs"
    chown _apt "$debs" 2>/dev/null || true   # apt downloads as _apt where that user exists
    (cd "$debs" && apt-get download -qq $unpacked)
    # The shared libraries the unpacked programs link against, from their own Depends
    # (names vary between Debian releases); only lib* packages: the rest (adduser,
    # debconf, ssl-cert, ...) serve maintainer scripts that never run here.
    for deb in "$debs"/*.deb; do
        dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g'
    done > "$debs/depends"
    for dep in $(grep '^lib' "$debs/depends"); do
        case " $unpacked $missing " in *" $dep "*) continue ;; esac
        installed "$dep" || missing="$missing $dep"
    done
fi

if [ -n "$missing" ]; then
    apt-get install -y -qq --no-install-recommends --no-remove $missing
fi

if [ -n "$unpack" ]; then
    rm -rf "$prefix.new"
    mkdir -p "$prefix.new"
    : > "$prefix.new/.virtc-oracles"
    for p in $unpacked; do
        # Postfix has its own sendmail, mailq and newaliases: it gets a folder of its own.
        case "$p" in postfix) dest=$prefix.new/postfix ;; *) dest=$prefix.new ;; esac
        dpkg-deb -x "$debs/${p}"_*.deb "$dest"
    done
    rm -rf "$prefix"
    mv "$prefix.new" "$prefix"
    echo "virtc: sendmail $(dpkg-deb -f "$debs"/sendmail-bin_*.deb Version), slapd, ldap-utils and postfix" \
         "$(dpkg-deb -f "$debs"/postfix_*.deb Version) unpacked into $prefix (not installed)"
fi
