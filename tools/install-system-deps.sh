#!/bin/sh
# Install the Debian packages virtc needs, idempotently (run as root):
#   libdb-dev      headers to compile the `berkeleydb` Python package (virtc build)
#   sendmail-bin   the real makemap and sendmail, the oracles the tests compare against
#   m4             to generate the sendmail.cf the query oracle runs
#   db-util        db_dump / db_verify, to check written maps
# Packages already present are not touched; nothing runs when all are there.
set -eu
pkgs="libdb-dev sendmail-bin m4 db-util"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "virtc: missing Debian packages:$missing; run as root: apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Never let maintainer scripts start daemons.
[ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
apt-get update -qq
# sendmail's postinst starts sendmail, which sleeps 60 s when the host name has no
# domain. Give apt a private /etc/hosts with a qualified alias (the real one is untouched).
host=$(hostname)
hosts=$(mktemp)
{ echo "127.0.0.1 $host.localdomain $host"; cat /etc/hosts; } > "$hosts"
chmod 644 "$hosts"
if [ "${host#*.}" = "$host" ] && unshare -m true 2>/dev/null; then
    unshare -m sh -c 'mount --bind "$0" /etc/hosts && shift && exec "$@"' "$hosts" \
        apt-get install -y -qq --no-install-recommends $missing
else
    apt-get install -y -qq --no-install-recommends $missing
fi
rm -f "$hosts"
