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
