#!/bin/sh
# tests/faults/run.sh: the fault-injection suite (issue 6). Runs every
# script of tests/faults/ against one build, prints their PASS/FAIL/SKIP
# lines and then a summary table: suite, iterations, faults injected,
# messages lost, duplicates (and in which window), sanitizer reports,
# PASS/FAIL/SKIP counts and time.
#
#   FAULTS_SCALE=ci (default): bounded for CI, about 4 minutes on 2 cores;
#   tests/integration/faults.sh runs it so.
#   FAULTS_SCALE=full: the figures for RELIABILITY.md (600 enqueue kills,
#   220 delivery kills, 1,000 concurrent messages), about 15 minutes:
#     cd /work/main && FAULTS_SCALE=full TOP_SRCDIR=$PWD \
#         TOP_BUILDDIR=$PWD/build sh tests/faults/run.sh
#   FAULTS="enqueue delivery ...": only these scripts.
#
# Needs root for disk.sh (tmpfs mounts; skipped otherwise), strace for the
# system-call-precise kills, /usr/bin/python3 with aiosmtpd for the test
# smarthost. Exit status 1 if anything failed.
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${FAULTS_SCALE:=ci}"
export TOP_SRCDIR TOP_BUILDDIR FAULTS_SCALE
logdir=$TOP_BUILDDIR/tests/logs/faults
mkdir -p "$logdir"
rows=$(mktemp "${TMPDIR:-/tmp}/postern-faults.XXXXXX")
trap 'rm -f "$rows"' EXIT
anyfail=0
for s in ${FAULTS:-enqueue delivery disk smarthost concurrency}; do
	log=$logdir/$s.log
	t0=$(date +%s)
	sh "$TOP_SRCDIR/tests/faults/$s.sh" > "$log" 2>&1
	rc=$?
	t1=$(date +%s)
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	k=$(grep -c '^SKIP: ' "$log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: faults/$s: exited with status $rc (see $log)" >> "$log"
		f=1
	fi
	san=$(grep -Ec 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$log")
	[ "$f" -gt 0 ] && anyfail=1
	grep -E '^(PASS|FAIL|SKIP): ' "$log" | sed "s/^\([A-Z]*\): /\1: $s: /"
	sumline=$(grep '^SUMMARY: ' "$log" | tail -n 1 | sed 's/^SUMMARY: //')
	[ -n "$sumline" ] || sumline="$s|?|?|?|?|no summary (see $log)"
	echo "$sumline|$san|$p|$f|$k|$((t1 - t0))" >> "$rows"
done
echo
echo "fault-injection summary (FAULTS_SCALE=$FAULTS_SCALE, $(date -u +%Y-%m-%dT%H:%MZ), logs in $logdir)"
awk -F'|' '
	BEGIN { printf "%-12s %10s %8s %5s %6s %4s %5s %4s %4s %5s  %s\n",
	    "suite", "iterations", "faults", "lost", "dups", "san", "pass", "fail", "skip", "secs", "duplicates by window / notes" }
	{ printf "%-12s %10s %8s %5s %6s %4s %5s %4s %4s %5s  %s\n",
	    $1, $2, $3, $4, $5, $7, $8, $9, $10, $11, $6 }' "$rows"
exit $anyfail
