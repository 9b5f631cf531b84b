#!/bin/sh
# bench/run.sh: issue 5's benchmark suite, one command:
#
#   sh bench/run.sh [--quick] [SECTION...]
#
# SECTION: enqueue relay memory scale (default: all four, in that order),
# or profile (a syscall profile of one enqueue; not in the default set).
# --quick: a smoke run with small N and one run each, to check that the
# suite still works (seconds, not minutes); its figures are not
# measurements and its verdicts say so.
#
# On a fresh Debian 12 machine it installs what is missing (apt-get, as
# root or with sudo), builds postern in build/ (tests/tools/build.sh) and
# bench/floor.c, extracts Postfix's smtp-source and smtp-sink from Debian's
# postfix package into bench/.tools/ WITHOUT installing postfix (that would
# replace /usr/sbin/sendmail), runs each section and prints the floors and
# postern side by side, medians of $RUNS runs with [min-max], and one
# "target:" line per target of issue 5, summarised at the end. Everything
# it starts is stopped by its PID, and its work directory is removed.
# Exit status: 0 when the suite ran (whether or not the targets are met),
# 1 when a section failed.
#
# Environment: RUNS (default 3), ENQ_N (1000), RELAY_N (2000), TLS_N (200),
# MEM_MB (50), BENCH_BUILD (the build directory, default build), SCALE_N ("10000 100000"), BENCH_DIR (parent of the work
# directory, default /var/tmp: the spool, the fsync floor and the queues
# live there, on one file system).
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
QUICK=""
SECTIONS=""
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	enqueue|relay|memory|scale|profile) SECTIONS="$SECTIONS $a" ;;
	*) echo "usage: sh bench/run.sh [--quick] [enqueue|relay|memory|scale|profile]..." >&2; exit 2 ;;
	esac
done
[ -n "$SECTIONS" ] || SECTIONS="enqueue relay memory scale"
if [ -n "$QUICK" ]; then
	: "${RUNS:=1}" "${ENQ_N:=50}" "${RELAY_N:=100}" "${TLS_N:=10}" "${MEM_MB:=2}" "${SCALE_N:=200 2000}"
else
	: "${RUNS:=3}" "${ENQ_N:=1000}" "${RELAY_N:=2000}" "${TLS_N:=200}" "${MEM_MB:=50}" "${SCALE_N:=10000 100000}"
fi

# --- what it needs -------------------------------------------------------
PKGS="build-essential autoconf automake pkg-config libssl-dev ca-certificates
      python3 python3-aiosmtpd openssl time coreutils procps strace"
. ./tests/tools/deps.sh
# postern itself: the normal (optimised, no sanitizer) build, in build/
# unless BENCH_BUILD names another directory
B=${BENCH_BUILD:-build}
echo "building postern in $B/ ..."
{ [ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ]; } ||
	autoreconf -fi > /dev/null 2>&1 || { echo "autoreconf failed" >&2; exit 1; }
mkdir -p "$B"
if ! (cd "$B" && { [ -f Makefile ] || ../configure; } && make -j2) > "$TOP/$B/bench-build.log" 2>&1; then
	tail -n 30 "$TOP/$B/bench-build.log" >&2
	echo "build in $B failed" >&2
	exit 1
fi
SENDMAIL=$TOP/$B/src/sendmail
POSTERN=$TOP/$B/src/postern
TOOLS=$TOP/bench/.tools
mkdir -p "$TOOLS"
FLOOR=$TOOLS/floor
cc -O2 -Wall -o "$FLOOR" bench/floor.c || exit 1

# Postfix's smtp-source and smtp-sink, extracted, never installed.
PFX=$TOOLS/postfix
PFX_BIN=$PFX/usr/sbin
PFX_LIB=$PFX/usr/lib/postfix
if [ ! -x "$PFX_BIN/smtp-sink" ] || [ ! -x "$PFX_BIN/smtp-source" ]; then
	echo "extracting smtp-source and smtp-sink from Debian's postfix package ..."
	rm -rf "$TOOLS/dl" "$PFX" && mkdir -p "$TOOLS/dl"
	(cd "$TOOLS/dl" && { apt-get download postfix > /dev/null 2>&1 ||
		{ ${SUDO:-} apt-get update -qq && apt-get download postfix > /dev/null 2>&1; }; }) ||
		{ echo "apt-get download postfix failed" >&2; exit 1; }
	dpkg-deb -x "$TOOLS"/dl/postfix_*.deb "$PFX" || exit 1
	rm -rf "$TOOLS/dl"
fi
# their shared libraries: Postfix's own come with the package; install
# the library packages postfix depends on if any is missing (never postfix)
if LD_LIBRARY_PATH=$PFX_LIB ldd "$PFX_BIN/smtp-sink" "$PFX_BIN/smtp-source" "$PFX_LIB"/*.so 2>/dev/null |
    grep -q 'not found'; then
	PKGS="libdb5.3 libicu72 libnsl2 libsasl2-2 libssl3"
	. ./tests/tools/deps.sh
fi

# --- the run -------------------------------------------------------------
mkdir -p "${BENCH_DIR:=/var/tmp}"
W=$(mktemp -d "$BENCH_DIR/postern-bench.XXXXXX") || exit 1
chmod 0755 "$W"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. ./bench/lib.sh
. ./bench/enqueue.sh
. ./bench/relay.sh
. ./bench/memory.sh
. ./bench/scale.sh
. ./bench/profile.sh

msg2k "$W/msg2k"
printf 'int main(void) { return 0; }\n' > "$W/true.c"
cc -O2 -static -o "$W/true-static" "$W/true.c" 2>/dev/null ||
	cc -O2 -o "$W/true-static" "$W/true.c" || exit 1
: > "$W/results"

echo "postern benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, Linux $(uname -r)," \
	"$(. /etc/os-release && echo "$PRETTY_NAME"), postern $(git describe --always --dirty 2>/dev/null || echo "(not a git checkout)")"
echo "RUNS=$RUNS ENQ_N=$ENQ_N RELAY_N=$RELAY_N TLS_N=$TLS_N MEM_MB=$MEM_MB SCALE_N='$SCALE_N'${QUICK:+ (quick smoke run)}"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for SEC in $SECTIONS; do
	echo
	"section_$SEC" > "$W/$SEC.out" 2>&1
	SECRC=$?
	cat "$W/$SEC.out"
	cat "$W/$SEC.out" >> "$W/all.out"
	if [ $SECRC -ne 0 ]; then
		echo "section $SEC FAILED (exit $SECRC)"
		echo "target: section $SEC ran  failed: NOT MET" >> "$W/all.out"
		status=1
	fi
done
echo
echo "== summary (load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
grep '^target:' "$W/all.out" 2>/dev/null | sed 's/^target: /  /'
met=$(grep -c '^target:.*: met' "$W/all.out" 2>/dev/null)
not=$(grep -c '^target:.*: NOT MET' "$W/all.out" 2>/dev/null)
echo "targets: $met met, $not not met${QUICK:+ (smoke run)}"
exit $status
