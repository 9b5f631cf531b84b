# fuzz.sh: the bounded CI run of the libFuzzer targets (tests/fuzz/):
# every regression input replayed, then each target fuzzed for
# FUZZ_SECONDS (default 20), two at a time; one PASS or FAIL line per
# target. Skipped when clang is missing, and in the sanitizer rerun
# (tests/run.sh): the targets carry their own sanitizers. Longer runs:
# tests/fuzz/run.sh SECONDS (see its header).
set -u
: "${TOP_SRCDIR:?}" "${TOP_BUILDDIR:?}"
FUZZ_OUT=${FUZZ_OUT:-$TOP_BUILDDIR/fuzz} FUZZ_JOBS=${FUZZ_JOBS:-2} \
	exec sh "$TOP_SRCDIR/tests/fuzz/run.sh" "${FUZZ_SECONDS:-20}"
