#!/bin/sh
# demo.sh: the README's first command. On a fresh Debian 12 machine it
# installs what is missing, builds postern, starts a test smarthost on
# 127.0.0.1 that requires STARTTLS and AUTH (with a test CA made here),
# pipes a message into "sendmail -t", shows the queue, flushes it with the
# SMTP dialogue shown, and prints what the smarthost received. Everything
# lives in a temporary directory that is removed at the end.
set -eu
cd "$(dirname "$0")"
TOP=$(pwd)
PKGS="build-essential autoconf automake pkg-config libssl-dev openssl python3 python3-aiosmtpd"
. ./tests/tools/deps.sh
. ./tests/tools/build.sh
echo "== building postern in build/"
build build

D=$(mktemp -d /tmp/postern-demo.XXXXXX)
SMPID=""
trap '[ -n "$SMPID" ] && kill "$SMPID" 2>/dev/null; rm -rf "$D"' EXIT INT TERM
sh tests/tools/mkcerts.sh "$D/certs"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 tests/tools/smarthost.py --port "$PORT" --outdir "$D/received" \
	--pidfile "$D/smarthost.pid" --tls starttls --require-tls \
	--cert "$D/certs/server.pem" --key "$D/certs/server.key" \
	--auth demo@demo.example:correct-horse > "$D/smarthost.log" 2>&1 &
SMPID=$!
n=0; while [ $n -lt 100 ] && ! grep -q listening "$D/smarthost.log"; do sleep 0.1; n=$((n + 1)); done
echo "== test smarthost on 127.0.0.1:$PORT (pid $SMPID): STARTTLS and AUTH required"

(umask 077 && echo correct-horse > "$D/password")
cat > "$D/postern.conf" <<CONF
# the demo's configuration: a submission smarthost on loopback
smarthost 127.0.0.1:$PORT
tls starttls
tls_ca_file $D/certs/ca.pem
auth_user demo@demo.example
auth_password_file $D/password
spool_dir $D/spool
domain demo.example
CONF
echo "== configuration ($D/postern.conf)"
sed 's/^/   /' "$D/postern.conf"

echo "== piping a message into: sendmail -C $D/postern.conf -t -odq"
cat > "$D/message" <<'MSG'
From: Backup Job <backup@demo.example>
To: Admin <admin@demo.example>, root
Bcc: audit@demo.example
Subject: nightly backup finished

The nightly backup finished without errors.
MSG
sed 's/^/   | /' "$D/message"
build/src/sendmail -C "$D/postern.conf" -t -odq < "$D/message"
echo "   exit status $? (0: the message is durably in the spool;"
echo "   -odq holds it there so that the demo can show the queue first)"

echo "== mailq -C $D/postern.conf"
build/src/sendmail -C "$D/postern.conf" -bp | sed 's/^/   /'
f=$(ls "$D/spool/queue" | head -n 1)
echo "== the queue file $D/spool/queue/$f"
sed 's/^/   | /' "$D/spool/queue/$f"

echo "== postern -C $D/postern.conf flush -v"
build/src/postern -C "$D/postern.conf" flush -v 2>&1 | sed 's/^/   /'
echo "== mailq after the flush"
build/src/sendmail -C "$D/postern.conf" -bp | sed 's/^/   /'
for f in "$D"/received/*.env; do
	[ -f "$f" ] || { echo "== the smarthost received nothing"; exit 1; }
	echo "== the smarthost received ($(basename "$f" .env)): envelope"
	sed 's/^/   | /' "$f"
	echo "== and message"
	sed 's/^/   | /' "${f%.env}.eml"
done
