# faults.sh: the fault-injection suite tests/faults/ (issue 6) in its
# CI-bounded form (FAULTS_SCALE=ci, about 4 minutes on 2 cores); its
# PASS/FAIL/SKIP lines are counted by tests/run.sh, its summary table is
# in the log. Not run against the sanitizer build (timing-driven).
# The full scale, for RELIABILITY.md:
#   FAULTS_SCALE=full TOP_SRCDIR=/work/main TOP_BUILDDIR=/work/main/build \
#       sh tests/faults/run.sh
: "${TOP_SRCDIR:?}" "${TOP_BUILDDIR:?}"
FAULTS_SCALE=${FAULTS_SCALE:-ci} exec sh "$TOP_SRCDIR/tests/faults/run.sh"
