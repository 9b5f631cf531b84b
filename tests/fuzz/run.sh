#!/bin/sh
# tests/fuzz/run.sh [SECONDS]: builds the libFuzzer targets and runs each
# for SECONDS (default 60), FUZZ_JOBS (default 2) at a time.
#
# For each target NAME (fuzz_NAME.c) it first replays every input in
# regress/NAME/ (crashes found before, which must stay fixed), then
# fuzzes from the committed seeds in corpus/NAME/ (read only) and a
# working corpus that persists in the build directory, with dict/NAME.dict
# when there is one. It ends with a table (target, executions, execs/s,
# working corpus size, crashes) and one line per target that tests/run.sh
# counts: "PASS: fuzz NAME (N execs, 0 crashes)" or "FAIL: ...", naming
# the saved input. A crash, leak, timeout or out-of-memory input is kept
# in OUT/crashes/NAME/; to make it a regression test, minimise it
#	OUT/fuzz_NAME -minimize_crash=1 -runs=10000 CRASH
# and commit the result under regress/NAME/.
#
# Longer runs (before a release, after changing a parser):
#	sh tests/fuzz/run.sh 3600		# an hour per target
#	FUZZ_TARGETS="addr rfc5322" FUZZ_JOBS=4 sh tests/fuzz/run.sh 600
# The working corpus grows across runs in OUT; new inputs worth keeping
# can be merged into the seeds with
#	OUT/fuzz_NAME -merge=1 tests/fuzz/corpus/NAME OUT/corpus/NAME
#
# Environment: FUZZ_OUT (build and work directory, default
# ${TMPDIR:-/tmp}/postern-fuzz), FUZZ_JOBS, FUZZ_TARGETS (names to run).
# Exit status: 0 all passed, 1 a failure, 77 clang is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-60}
jobs=${FUZZ_JOBS:-2}
out=${FUZZ_OUT:-${TMPDIR:-/tmp}/postern-fuzz}
case $secs in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 64 ;; esac
case $jobs in ''|*[!0-9]*|0) echo "$0: bad FUZZ_JOBS" >&2; exit 64 ;; esac

if ! command -v clang > /dev/null 2>&1; then
	echo "SKIP: fuzz (clang is not installed: apt-get install clang)"
	exit 77
fi
mkdir -p "$out"
if ! sh "$here/build.sh" "$out" > "$out/build.log" 2>&1; then
	tail -n 20 "$out/build.log"
	echo "FAIL: fuzz build (see $out/build.log)"
	exit 1
fi

targets=
for src in "$here"/fuzz_*.c; do
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	if [ -n "${FUZZ_TARGETS:-}" ]; then
		case " $FUZZ_TARGETS " in *" $name "*) ;; *) continue ;; esac
	fi
	targets="$targets $name"
done

pids=
trap 'for p in $pids; do kill "$p" 2> /dev/null; done' EXIT
trap 'exit 1' INT TERM

# run_target NAME: writes OUT/result/NAME: "execs rate corpus crashes note"
run_target() {
	name=$1
	bin=$out/fuzz_$name
	log=$out/log/$name.log
	crashdir=$out/crashes/$name
	work=$out/corpus/$name
	mkdir -p "$crashdir" "$work"
	: > "$log"
	note=
	rc=0

	# The regression inputs, each once (a crash stops at the first).
	set -- "$here/regress/$name"/*
	if [ -f "$1" ]; then
		timeout 300 "$bin" -runs=1 -timeout=10 \
		    -artifact_prefix="$crashdir/regress-" "$@" >> "$log" 2>&1 ||
		    { rc=$?; note="regression input fails (rc $rc)"; }
	fi

	before=$(ls "$crashdir" | wc -l)
	dict=
	[ -f "$here/dict/$name.dict" ] && dict=-dict=$here/dict/$name.dict
	if [ $rc -eq 0 ]; then
		set -- "$work"
		[ -d "$here/corpus/$name" ] && set -- "$@" "$here/corpus/$name"
		# shellcheck disable=SC2086
		timeout $((secs + 120)) "$bin" -max_total_time="$secs" \
		    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		    -artifact_prefix="$crashdir/" $dict "$@" >> "$log" 2>&1 ||
		    { rc=$?; note="fuzzing stopped (rc $rc)"; }
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	crashes=$(( $(ls "$crashdir" | wc -l) - before ))
	[ $crashes -lt 0 ] && crashes=0
	[ $rc -ne 0 ] && [ $crashes -eq 0 ] && crashes=1
	saved=$(ls -t "$crashdir" | head -n 1)
	[ -n "$note" ] && [ -n "$saved" ] && note="$note: $crashdir/$saved"
	echo "${execs:-0} ${rate:-0} $(ls "$work" | wc -l) $crashes $note" \
	    > "$out/result/$name"
}

mkdir -p "$out/log" "$out/result"
rm -f "$out"/result/*
start=$(date +%s)
n=0
for name in $targets; do
	run_target "$name" &
	pids="$pids $!"
	n=$((n + 1))
	if [ $n -ge "$jobs" ]; then
		wait
		pids=
		n=0
	fi
done
wait
pids=

printf '%-12s %12s %9s %8s %8s\n' target executions execs/s corpus crashes
fails=0
for name in $targets; do
	if [ ! -f "$out/result/$name" ]; then
		echo "0 0 0 1 no result" > "$out/result/$name"
	fi
	read -r execs rate corpus crashes note < "$out/result/$name"
	printf '%-12s %12s %9s %8s %8s\n' "$name" "$execs" "$rate" "$corpus" \
	    "$crashes"
done
echo "fuzzing took $(( $(date +%s) - start ))s, $secs s per target, logs in $out/log"
for name in $targets; do
	read -r execs rate corpus crashes note < "$out/result/$name"
	if [ "$crashes" -eq 0 ]; then
		echo "PASS: fuzz $name ($execs execs, 0 crashes)"
	else
		echo "FAIL: fuzz $name ($execs execs, $crashes crashes: $note)"
		fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ]
