# tests/faults/lib.sh: sourced by every script of the fault-injection
# suite, after tests/integration/lib.sh (which gives $T, the programs,
# pass/fail/skip and the smarthost helpers).
#
# FAULTS_SCALE=ci (the default, bounded for CI) or full (the figures of
# RELIABILITY.md) chooses the number of iterations. Each script ends with
# one line
#	SUMMARY: suite|iterations|faults injected|lost|duplicates|note
# that tests/faults/run.sh gathers into its table.
. "$TOP_SRCDIR/tests/integration/lib.sh"

FAULTS_SCALE=${FAULTS_SCALE:-ci}
case $FAULTS_SCALE in
ci|full) ;;
*)	fail "FAULTS_SCALE is ci or full" "got '$FAULTS_SCALE'"; exit 1 ;;
esac
PY=/usr/bin/python3

# by_scale CI FULL: the value for this scale.
by_scale() { if [ "$FAULTS_SCALE" = full ]; then echo "$2"; else echo "$1"; fi; }

# summary SUITE ITERATIONS FAULTS LOST DUPLICATES [NOTE]
summary() { echo "SUMMARY: $1|$2|$3|$4|$5|${6:-}"; }

# check NAME COND [DETAIL]: passes if the shell expression COND is true.
check() {
	if eval "$2"; then pass "$1"; else fail "$1" "${3:-}"; fi
}

# ids NAME...: the Message-ID of every message the smarthosts NAME...
# stored, one line each (from the header section only, CR removed).
ids() {
	for _d in "$@"; do
		find "$T/$_d" -maxdepth 1 -name '*.eml' 2>/dev/null
	done | sort | xargs -r awk 'FNR == 1 { h = 1 }
	    { sub(/\r$/, "") } /^$/ { h = 0 }
	    h && tolower($0) ~ /^message-id:/ { sub(/^[^:]*:[ \t]*/, ""); print }'
}

# plainconf FILE PORT [LINE...]: a configuration for a plain smarthost on
# 127.0.0.1:PORT with short timeouts (CONNECT_TMO, COMMAND_TMO, DATA_TMO).
plainconf() {
	_f=$1; _port=$2; shift 2
	{
		printf 'spool_dir %s/spool\ndomain example.org\n' "$T"
		printf 'helo_name client.example\ntls none\n'
		printf 'smarthost 127.0.0.1:%s\n' "$_port"
		printf 'connect_timeout %s\ncommand_timeout %s\ndata_timeout %s\n' \
		    "${CONNECT_TMO:-5s}" "${COMMAND_TMO:-10s}" "${DATA_TMO:-20s}"
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} > "$_f"
}
