# bench/lib.sh: sourced by bench/run.sh and its sections. Helpers for
# timing, statistics, queue generation and the servers a section starts.
# Needs: $TOP (the source tree), $W (the run's private directory),
# $SENDMAIL, $POSTERN, $FLOOR, $RUNS; every server started here joins
# $PIDS, which run.sh's EXIT trap stops by PID.

# now_ns: monotonic-enough wall clock in nanoseconds.
now_ns() { date +%s%N; }

# secs T0 T1: the seconds between two now_ns readings.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", (b - a) / 1e9 }'; }

# stats < NUMBERS: "MEDIAN MIN MAX" of one number per line.
stats() {
	sort -g | awk '{ a[NR] = $1 }
	END {
		if (NR == 0) { print "nan nan nan"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		print m, a[1], a[NR]
	}'
}

# calc EXPR: awk arithmetic, printed with %.4g.
calc() { awk "BEGIN { printf \"%.4g\n\", $1 }"; }

# fmt_stats FILE [SCALE] [PREC]: "MEDIAN [MIN-MAX]" of FILE's numbers
# multiplied by SCALE, with PREC decimals.
fmt_stats() {
	stats < "$1" | awk -v s="${2:-1}" -v p="${3:-2}" '{
		printf "%.*f [%.*f-%.*f]\n", p, $1 * s, p, $2 * s, p, $3 * s }'
}
# med FILE: the median of FILE's numbers.
med() { stats < "$1" | cut -d' ' -f1; }

# verdict NAME OK(1|0) DETAIL: one "target:" line; run.sh summarises them.
verdict() {
	if [ "$2" = 1 ]; then v="met"; else v="NOT MET"; fi
	[ -n "${QUICK:-}" ] && v="$v (smoke run, small N: not a measurement)"
	printf 'target: %-64s %s: %s\n' "$1" "$3" "$v"
}
# le A B / ge A B: 1 if A <= B (A >= B), else 0.
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 <= b + 0) ? 1 : 0 }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? 1 : 0 }'; }

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_listen PORT: waits (at most 10 s) until 127.0.0.1:PORT accepts.
wait_listen() {
	/usr/bin/python3 - "$1" <<'PY'
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# stop PID: stops a server this run started, by its PID, and waits.
stop() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	_np=""
	for _p in $PIDS; do [ "$_p" = "$1" ] || _np="$_np $_p"; done
	PIDS=$_np
}

# msg2k FILE: a 2 KB message (headers and body, 2048 bytes) for -t.
msg2k() {
	{
		printf 'From: Bench Sender <sender@bench.example>\n'
		printf 'To: Bench Rcpt <rcpt@bench.example>\n'
		printf 'Subject: postern benchmark message\n\n'
	} > "$1"
	_h=$(wc -c < "$1")
	awk -v n=$((2048 - _h)) 'BEGIN {
		l = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij."
		while (n > 0) {
			s = (n > length(l) + 1) ? l : substr(l, 1, n - 1)
			print s; n -= length(s) + 1
		} }' >> "$1"
}

# conf FILE SPOOL [LINES...]: a postern configuration.
conf() {
	_f=$1; _s=$2; shift 2
	{
		printf 'spool_dir %s\ndomain bench.example\nhelo_name client.bench.example\n' "$_s"
		printf 'connect_timeout 5s\ncommand_timeout 30s\ndata_timeout 60s\n'
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} > "$_f"
}

# qcount SPOOL: the number of files in SPOOL/queue.
qcount() { ls -f "$1/queue" 2>/dev/null | grep -vc '^\.'; }

# fill_queue CONF SPOOL N SEED: N messages in SPOOL/queue: one message is
# enqueued for real with "sendmail -odq -t" (the 2 KB message), and its
# queue file is copied under N fresh valid queue IDs (15 characters of
# 0-9A-Z without I L O U; the same format spool/README.md describes) by
# one awk process; generating them through sendmail would measure
# enqueue again and take N x 4 ms. The template's own ID is removed.
fill_queue() {
	_c=$1; _sp=$2; _n=$3; _seed=$4
	rm -rf "$_sp/queue" "$_sp/state" "$_sp/tmp" "$_sp/status"
	"$SENDMAIL" -C "$_c" -odq -t < "$W/msg2k" || return 1
	_tpl=$(ls "$_sp/queue" | head -n 1)
	mv "$_sp/queue/$_tpl" "$W/template"
	awk -v n="$_n" -v seed="$_seed" 'BEGIN {
		a = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; srand(seed)
		for (i = 0; i < n; i++) {
			s = "1NG"
			for (j = 0; j < 12; j++) s = s substr(a, int(rand() * 32) + 1, 1)
			if (!(s in seen)) { seen[s] = 1; print s } else i--
		} }' > "$W/ids"
	LC_ALL=C awk -v dir="$_sp/queue" 'NR == FNR { l[k++] = $0; next }
		{ f = dir "/" $0; for (i = 0; i < k; i++) print l[i] > f; close(f) }' \
		"$W/template" "$W/ids"
	[ "$(qcount "$_sp")" -eq "$_n" ]
}

# maxrss_mb FILE: the peak RSS from /usr/bin/time -v's output, in MB.
maxrss_mb() {
	awk -F: '/Maximum resident set size/ { printf "%.2f\n", $2 / 1024 }' "$1"
}

# --- Postfix's smtp-sink and smtp-source ----------------------------------

# start_sink PORT OUT: smtp-sink on 127.0.0.1:PORT with running counters
# (-c: "sess=S quit=Q mesg=M" after every session end, QUIT and final dot)
# written to OUT; sets SINK_PID.
start_sink() {
	_u=""
	[ "$(id -u)" -eq 0 ] && _u="-u nobody"
	LD_LIBRARY_PATH=$PFX_LIB "$PFX_BIN/smtp-sink" -c $_u -h sink.bench.example \
		"127.0.0.1:$1" 256 > "$2" 2>&1 &
	SINK_PID=$!
	PIDS="$PIDS $SINK_PID"
	wait_listen "$1"
}
# sink_counts OUT: "SESSIONS MESSAGES" so far.
sink_counts() {
	tr '\r' '\n' < "$1" | awk -F'[ =]' '/^sess=/ { s = $2; m = $6 }
		END { print s + 0, m + 0 }'
}
# smtp_source PORT SESSIONS N: smtp-source, N 2 KB messages over SESSIONS
# connections that each stay up for many messages (-d).
smtp_source() {
	LD_LIBRARY_PATH=$PFX_LIB timeout 300 "$PFX_BIN/smtp-source" -d -s "$2" -m "$3" \
		-l 2048 -M client.bench.example -f sender@bench.example \
		-t rcpt@bench.example "127.0.0.1:$1"
}

# --- the test smarthost (tests/tools/smarthost.py) -------------------------

# start_smarthost PORT OUTDIR ARGS...: sets SH_PID; waits until it listens.
start_smarthost() {
	_port=$1; _out=$2; shift 2
	mkdir -p "$_out"
	/usr/bin/python3 "$TOP/tests/tools/smarthost.py" --host 127.0.0.1 \
		--port "$_port" --outdir "$_out" "$@" > "$_out.log" 2>&1 &
	SH_PID=$!
	PIDS="$PIDS $SH_PID"
	wait_listen "$_port"
}
