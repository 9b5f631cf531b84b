# tests/integration/lib.sh: sourced by every end-to-end test script.
#
# Gives each script a private directory $T with a configuration $T/conf
# whose spool is $T/spool, the programs under test ($SENDMAIL, $MAILQ,
# $POSTERN) and assertion helpers that print the lines tests/run.sh
# counts. Everything the script starts is stopped by the EXIT trap.

set -u
: "${TOP_SRCDIR:?}" "${TOP_BUILDDIR:?}"
SENDMAIL=$TOP_BUILDDIR/src/sendmail
POSTERN=$TOP_BUILDDIR/src/postern
T=$(mktemp -d /tmp/postern-test.XXXXXX)
chmod 0755 "$T"
MAILQ=$T/bin/mailq
NEWALIASES=$T/bin/newaliases
mkdir -p "$T/bin"
ln -s "$SENDMAIL" "$MAILQ"
ln -s "$SENDMAIL" "$NEWALIASES"
cat > "$T/conf" <<CONF
spool_dir $T/spool
domain example.org
CONF
unset POSTERN_CONFIG NAME
PIDS=""

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+ ($2)}"; }
skip() { echo "SKIP: $1${2:+ ($2)}"; }

# ok NAME CMD...: passes if CMD exits 0.
ok() {
	name=$1; shift
	if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# expect_rc NAME WANT CMD...: runs CMD with stdin from $IN (default
# /dev/null), records stdout in $T/out and stderr in $T/err, passes if the
# exit status is WANT and, for a non-zero WANT, stderr is exactly one line.
expect_rc() {
	name=$1; want=$2; shift 2
	"$@" < "${IN:-/dev/null}" > "$T/out" 2> "$T/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit $rc, want $want: $(head -c 300 "$T/err")"
		return 1
	fi
	if [ "$want" -ne 0 ] && [ "$(wc -l < "$T/err")" -ne 1 ]; then
		fail "$name" "want one line on stderr, got: $(head -c 300 "$T/err")"
		return 1
	fi
	pass "$name"
}

# The queue files, one path per line, oldest first.
qfiles() { ls "$T/spool/queue" 2>/dev/null | sort | sed "s|^|$T/spool/queue/|"; }
qcount() { ls "$T/spool/queue" 2>/dev/null | wc -l; }
# The newest queue file.
qlast() { qfiles | tail -n 1; }
# The message part of a queue file (after the envelope head).
qmsg() { sed '1,/^$/d' "$1"; }
qmsg_bytes() {
	off=$(LC_ALL=C grep -a -b -m1 -x '' "$1" | cut -d: -f1)
	tail -c +$((off + 2)) "$1"
}
# The envelope head of a queue file.
qhead() { sed '/^$/q' "$1"; }
clearq() { rm -f "$T/spool/queue/"* "$T/spool/state/"* "$T/spool/tmp/"* 2>/dev/null; }

# --- the test smarthost (tests/tools/smarthost.py, Debian's aiosmtpd) ------

# need_smarthost: skips the whole script (exit 0 after a SKIP line) when
# python3-aiosmtpd or openssl is missing.
need_smarthost() {
	if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
		skip "$(basename "$0" .sh)" "python3-aiosmtpd is not installed"
		exit 0
	fi
	command -v openssl >/dev/null 2>&1 || {
		skip "$(basename "$0" .sh)" "openssl is not installed"; exit 0; }
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# certs: the test CA and certificates in $T/certs (see mkcerts.sh).
certs() {
	[ -f "$T/certs/ca.pem" ] || sh "$TOP_SRCDIR/tests/tools/mkcerts.sh" "$T/certs"
}

# start_smarthost NAME [PORT] -- ARGS...: starts a smarthost storing into
# $T/NAME, on PORT or a free port, with smarthost.py's ARGS; sets SH_PORT
# and NAME_PID, and waits (at most 10 s) until it listens. Its PID joins
# PIDS, so the EXIT trap stops it.
start_smarthost() {
	_n=$1; shift
	SH_PORT=""
	if [ $# -gt 0 ] && [ "$1" != "--" ]; then SH_PORT=$1; shift; fi
	[ "${1:-}" = "--" ] && shift
	[ -n "$SH_PORT" ] || SH_PORT=$(free_port)
	: > "$T/$_n.log"	# a restart must not see the last "listening"
	/usr/bin/python3 "$TOP_SRCDIR/tests/tools/smarthost.py" --port "$SH_PORT" \
		--outdir "$T/$_n" "$@" > "$T/$_n.log" 2>&1 &
	_p=$!
	PIDS="$PIDS $_p"
	eval "${_n}_PID=$_p"
	_i=0
	while [ $_i -lt 100 ] && ! grep -q '^listening' "$T/$_n.log"; do
		sleep 0.1; _i=$((_i + 1))
	done
	grep -q '^listening' "$T/$_n.log" || { fail "start smarthost $_n" "$(cat "$T/$_n.log")"; return 1; }
}

# stop_smarthost NAME: stops it by its PID and waits for it.
stop_smarthost() {
	eval "_p=\${${1}_PID:-}"
	[ -n "$_p" ] || return 0
	kill "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	eval "${1}_PID="
}

# received NAME: how many messages the smarthost NAME has stored.
received() { ls "$T/$1" 2>/dev/null | grep -c '\.eml$'; }

# relay_conf FILE SMARTHOST-LINE [MORE LINES...]: a configuration for
# delivery to the test smarthost, with this test's spool and the test CA.
relay_conf() {
	_f=$1; shift
	{
		printf 'spool_dir %s/spool\ndomain example.org\nhelo_name client.example\n' "$T"
		[ -f "$T/certs/ca.pem" ] && printf 'tls_ca_file %s/certs/ca.pem\n' "$T"
		printf 'connect_timeout 5s\ncommand_timeout 10s\ndata_timeout 20s\n'
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} > "$_f"
}

# password FILE WORD: a password file of mode 0600.
password() { (umask 077 && printf '%s\n' "$2" > "$1"); }

# private_syslog: captures syslog lines in $T/syslog. Sets NS to a command
# prefix that runs a program in a mount namespace whose /dev holds null,
# zero, urandom and the like and a socket "log" read by a small listener
# (stopped by the EXIT trap). Without root or unshare -m, NS stays empty
# and 1 is returned.
private_syslog() {
	NS=""
	: > "$T/syslog"
	[ "$(id -u)" -eq 0 ] && command -v unshare > /dev/null 2>&1 || return 1
	mkdir -p "$T/dev"
	cat > "$T/ns.sh" <<'EOF'
D=$1; shift
for n in null zero random urandom full tty; do
	[ -e "$D/$n" ] || : > "$D/$n"
	mount --bind "/dev/$n" "$D/$n" || exit 111
done
[ -e "$D/fd" ] || ln -s /proc/self/fd "$D/fd"
mount --rbind "$D" /dev || exit 111
exec "$@"
EOF
	cat > "$T/syslogd.py" <<'EOF'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.settimeout(1)
end = time.time() + 600
with open(sys.argv[2], "ab") as f:
    print("listening", flush=True)
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        f.write(d + b"\n")
        f.flush()
EOF
	/usr/bin/python3 "$T/syslogd.py" "$T/dev/log" "$T/syslog" > "$T/syslogd.out" 2>&1 &
	PIDS="$PIDS $!"
	_i=0
	while [ $_i -lt 50 ] && ! grep -q listening "$T/syslogd.out"; do
		sleep 0.1; _i=$((_i + 1))
	done
	if unshare -m sh "$T/ns.sh" "$T/dev" logger -t postern-probe probe 2>/dev/null &&
	    sleep 0.2 && grep -q postern-probe "$T/syslog"; then
		NS="unshare -m sh $T/ns.sh $T/dev"
		return 0
	fi
	return 1
}

# enqueue CONF SUBJECT [SENDMAIL-ARGS...]: queues one message from
# s@example.org to rcpt@x.org with sendmail -odq -t, so no delivery
# attempt; sets QID (none, with a FAIL line, if sendmail failed).
enqueue() {
	_c=$1; _s=$2; shift 2
	printf 'From: s@example.org\nTo: rcpt@x.org\nSubject: %s\n\nbody of %s\n' \
	    "$_s" "$_s" > "$T/msg"
	if ! $SENDMAIL -odq -C "$_c" -t "$@" < "$T/msg" 2> "$T/enq.err"; then
		fail "enqueue $_s" "$(cat "$T/enq.err")"
		QID=none
		return 1
	fi
	QID=$(basename "$(qlast)")
}

# ms: the time in milliseconds.
ms() { date +%s%3N; }

# wait_until SECONDS EXPR: polls the shell expression EXPR (eval'ed each
# time) every 0.05 s, at most SECONDS long; its last status.
wait_until() {
	_wu=$(($1 * 20))
	while [ $_wu -gt 0 ]; do
		eval "$2" && return 0
		sleep 0.05; _wu=$((_wu - 1))
	done
	eval "$2"
}

# alive PID: the process exists and is not a zombie.
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# user_can_run USER: USER may execute $SENDMAIL and $POSTERN. Not so when
# a directory above the build is closed to others (a clone made under
# "mktemp -d", mode 0700); tests of an unprivileged caller then skip.
user_can_run() {
	runuser -u "$1" -- test -x "$SENDMAIL" 2>/dev/null &&
	    runuser -u "$1" -- test -x "$POSTERN" 2>/dev/null
}
UNREACHABLE="the build is in a directory the test user cannot enter (a parent is not searchable by others, as a clone under mktemp -d is); clone to a world-searchable path to run it"
