#!/bin/sh
# tests/run.sh: run every unit test program and every end-to-end script,
# count their PASS/FAIL/SKIP lines, and end with "N passed, N failed,
# N skipped". A program that exits non-zero without reporting a failure
# (a crash) counts as one failure; exit 77 without any line is one skip.
#
# Environment: TOP_SRCDIR, TOP_BUILDDIR (set by "make check");
# SANITIZER_BUILDDIR: a --enable-sanitizers build whose programs run the
# unit tests and the end-to-end tests again (all but the timing-driven
# crash test); TESTS="pattern ..." restricts the run to matching names.
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
export TOP_SRCDIR TOP_BUILDDIR

logdir=$TOP_BUILDDIR/tests/logs
mkdir -p "$logdir"
summary=$(mktemp "${TMPDIR:-/tmp}/postern-summary.XXXXXX")
trap 'rm -f "$summary"' EXIT

run_one() {
	name=$1; shift
	if [ -n "${TESTS:-}" ]; then
		match=no
		for p in $TESTS; do
			case $name in *$p*) match=yes ;; esac
		done
		[ $match = yes ] || return 0
	fi
	log=$logdir/$(echo "$name" | tr / _).log
	start=$(date +%s)
	"$@" > "$log" 2>&1
	rc=$?
	end=$(date +%s)
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: exited with status $rc (see $log)" >> "$log"
		f=1
	fi
	if [ $rc -eq 77 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "SKIP: $name (exit 77)" >> "$log"
		s=1
	fi
	printf '%-28s %4d passed %3d failed %3d skipped  %4ds\n' \
	    "$name" "$p" "$f" "$s" $((end - start))
	grep -E '^(FAIL|SKIP): ' "$log" | sed 's/^/    /'
	echo "$p $f $s" >> "$summary"
}

run_all() {	# run_all PREFIX BUILDDIR SKIP-PATTERN
	for t in "$2"/tests/unit/test_*; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		case $t in *.c|*.o|*.log|*.trs) continue ;; esac
		# driven by an end-to-end script that starts its servers
		case $t in */test_conn) continue ;; esac
		run_one "$1unit/$(basename "$t")" "$t"
	done
	for t in "$TOP_SRCDIR"/tests/integration/*.sh; do
		[ -f "$t" ] || continue
		n=$(basename "$t" .sh)
		[ "$n" = lib ] && continue
		[ -n "$3" ] && echo "$n" | grep -Eqx "$3" && continue
		run_one "$1integration/$n" env TOP_BUILDDIR="$2" sh "$t"
	done
}

run_all "" "$TOP_BUILDDIR" ""
if [ -n "${SANITIZER_BUILDDIR:-}" ]; then
	run_all "asan/" "$SANITIZER_BUILDDIR" "crash|install|faults|fuzz|valgrind"
fi

awk '{ p += $1; f += $2; s += $3 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s;
           exit (f > 0 || p == 0) }' "$summary"
