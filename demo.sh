#!/bin/sh
# demo.sh: the README's first command. On a fresh Debian 12 machine it
# installs what is missing, builds postern, starts a test smarthost on
# 127.0.0.1, pipes a message into "sendmail -t" and shows the queue.
# Everything lives in a temporary directory that is removed at the end.
set -eu
cd "$(dirname "$0")"
TOP=$(pwd)
PKGS="build-essential autoconf automake pkg-config libssl-dev python3 python3-aiosmtpd"
. ./tests/tools/deps.sh
. ./tests/tools/build.sh
echo "== building postern in build/"
build build

D=$(mktemp -d /tmp/postern-demo.XXXXXX)
SMPID=""
trap '[ -n "$SMPID" ] && kill "$SMPID" 2>/dev/null; rm -rf "$D"' EXIT INT TERM
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 tests/tools/smarthost.py --port "$PORT" --outdir "$D/received" \
	--pidfile "$D/smarthost.pid" > "$D/smarthost.log" 2>&1 &
SMPID=$!
n=0; while [ $n -lt 50 ] && ! grep -q listening "$D/smarthost.log"; do sleep 0.1; n=$((n + 1)); done
echo "== test smarthost listening on 127.0.0.1:$PORT (pid $SMPID)"

cat > "$D/postern.conf" <<CONF
# the demo's configuration: a plain-text smarthost on loopback
smarthost 127.0.0.1:$PORT
tls none
spool_dir $D/spool
domain demo.example
CONF
echo "== configuration ($D/postern.conf)"
sed 's/^/   /' "$D/postern.conf"

echo "== piping a message into: sendmail -C $D/postern.conf -t"
cat > "$D/message" <<'MSG'
From: Backup Job <backup@demo.example>
To: Admin <admin@demo.example>, root
Bcc: audit@demo.example
Subject: nightly backup finished

The nightly backup finished without errors.
MSG
sed 's/^/   | /' "$D/message"
build/src/sendmail -C "$D/postern.conf" -t < "$D/message"
echo "   exit status $? (0: the message is durably in the spool)"

echo "== mailq -C $D/postern.conf"
build/src/sendmail -C "$D/postern.conf" -bp | sed 's/^/   /'
f=$(ls "$D/spool/queue" | head -n 1)
echo "== the queue file $D/spool/queue/$f"
sed 's/^/   | /' "$D/spool/queue/$f"

echo "== delivery to the smarthost is not implemented yet (the relay engine,"
echo "   issue 3): the demo stops after mailq. The smarthost received"
echo "   $(ls "$D/received" 2>/dev/null | grep -c '\.eml$' || true) messages."
