# bench/relay.sh: issue 5, part 2 (sourced by run.sh). The relay floor:
# Postfix's smtp-source against Postfix's smtp-sink on 127.0.0.1, $RELAY_N
# 2 KB messages over 1 and over 8 connections (each connection carries
# many messages: smtp-source -d). postern: $RELAY_N queued messages and one
# "postern flush" to the same smtp-sink (tls none), timed from the start of
# the flush to its exit (an upper bound of "to the last acceptance": it
# adds the QUIT exchange); the sink's counters give the messages accepted
# and the connections used. Then the test smarthost (tests/tools/
# smarthost.py, Python) with STARTTLS and AUTH, $TLS_N messages: its
# connections.log and auth.log give the connections and AUTH exchanges.
# The floor and postern alternate within each run.

section_relay() {
	N=$RELAY_N
	D=$W/relay
	mkdir -p "$D"
	for f in src1 src8 pst pconn tls tconn tauth; do : > "$D/$f"; done
	port=$(free_port)
	start_sink "$port" "$D/sink.out" || { echo "smtp-sink did not start: $(cat "$D/sink.out")"; return 1; }
	conf "$D/conf" "$D/spool" "smarthost 127.0.0.1:$port" "tls none"
	echo "== relay: $N messages of 2 KB to Postfix's smtp-sink on 127.0.0.1, $RUNS runs"
	r=0
	while [ $r -lt "$RUNS" ]; do
		r=$((r + 1))
		for s in 1 8; do
			set -- $(sink_counts "$D/sink.out")
			t0=$(now_ns)
			smtp_source "$port" $s "$N" > "$D/source.out" 2>&1 || { cat "$D/source.out"; return 1; }
			t1=$(now_ns)
			sleep 0.2
			m0=$2
			set -- $(sink_counts "$D/sink.out")
			[ $(($2 - m0)) -eq "$N" ] || { echo "smtp-source: sink took $(($2 - m0)) of $N"; return 1; }
			awk -v n="$N" -v s="$(secs "$t0" "$t1")" 'BEGIN { print n / s }' >> "$D/src$s"
		done
		fill_queue "$D/conf" "$D/spool" "$N" "$r" || { echo "could not fill the queue"; return 1; }
		set -- $(sink_counts "$D/sink.out"); s0=$1; m0=$2
		t0=$(now_ns)
		timeout 300 "$POSTERN" -C "$D/conf" flush > "$D/flush.out" 2>&1
		rc=$?
		t1=$(now_ns)
		sleep 0.2
		set -- $(sink_counts "$D/sink.out")
		left=$(qcount "$D/spool")
		if [ $rc -ne 0 ] || [ "$left" -ne 0 ] || [ $(($2 - m0)) -ne "$N" ]; then
			echo "postern flush: exit $rc, $left left in the queue, sink took $(($2 - m0)) of $N"
			head -n 5 "$D/flush.out"
			return 1
		fi
		awk -v n="$N" -v s="$(secs "$t0" "$t1")" 'BEGIN { print n / s }' >> "$D/pst"
		echo $(($1 - s0)) >> "$D/pconn"
	done
	stop "$SINK_PID"

	# STARTTLS + AUTH against the test smarthost
	sh "$TOP/tests/tools/mkcerts.sh" "$D/certs" || return 1
	(umask 077 && echo 'bench-Pw-7q' > "$D/pw")
	port=$(free_port)
	start_smarthost "$port" "$D/sh" --tls starttls --cert "$D/certs/server.pem" \
		--key "$D/certs/server.key" --auth benchuser:bench-Pw-7q --auth-require-tls ||
		{ echo "smarthost did not start: $(cat "$D/sh.log")"; return 1; }
	conf "$D/tconf" "$D/tspool" "smarthost localhost:$port" "tls starttls" \
		"tls_ca_file $D/certs/ca.pem" "auth_user benchuser" "auth_password_file $D/pw"
	r=0
	while [ $r -lt "$RUNS" ]; do
		r=$((r + 1))
		fill_queue "$D/tconf" "$D/tspool" "$TLS_N" "$((r + 100))" || { echo "could not fill the queue"; return 1; }
		c0=$(wc -l < "$D/sh/connections.log"); a0=$(wc -l < "$D/sh/auth.log")
		e0=$(ls "$D/sh" | grep -c '\.eml$')
		t0=$(now_ns)
		timeout 300 "$POSTERN" -C "$D/tconf" flush > "$D/flush.out" 2>&1
		rc=$?
		t1=$(now_ns)
		sleep 0.3
		e1=$(ls "$D/sh" | grep -c '\.eml$')
		left=$(qcount "$D/tspool")
		if [ $rc -ne 0 ] || [ "$left" -ne 0 ] || [ $((e1 - e0)) -ne "$TLS_N" ]; then
			echo "postern flush (TLS): exit $rc, $left left, smarthost took $((e1 - e0)) of $TLS_N"
			head -n 5 "$D/flush.out"
			return 1
		fi
		awk -v n="$TLS_N" -v s="$(secs "$t0" "$t1")" 'BEGIN { print n / s }' >> "$D/tls"
		echo $(($(wc -l < "$D/sh/connections.log") - c0)) >> "$D/tconn"
		echo $(($(wc -l < "$D/sh/auth.log") - a0)) >> "$D/tauth"
	done
	stop "$SH_PID"
	okauth=$(grep -c ' ok tls=yes$' "$D/sh/auth.log")

	row() { printf '  %-52s %-26s %s\n' "$1" "$(fmt_stats "$2" 1 0)" "${3:-}"; }
	printf '  %-52s %-26s %s\n' "" "msgs/s" "connections"
	row "floor: smtp-source -> smtp-sink, 1 connection" "$D/src1" 1
	row "floor: smtp-source -> smtp-sink, 8 connections" "$D/src8" 8
	row "postern flush -> smtp-sink (tls none)" "$D/pst" "$(fmt_stats "$D/pconn" 1 0)"
	f1=$(med "$D/src1"); p=$(med "$D/pst")
	printf '  %-52s %s\n' "ratio postern / smtp-source 1 connection" "$(calc "$p / $f1")"
	row "postern flush -> smarthost.py STARTTLS+AUTH, N=$TLS_N" "$D/tls" "$(fmt_stats "$D/tconn" 1 0)"
	printf '  %-52s %s (all runs: %s AUTH ok over TLS)\n' "AUTH exchanges per run (smarthost.py)" "$(fmt_stats "$D/tauth" 1 0)" "$okauth"
	verdict "relay to smtp-sink: >= 2000 msgs/s" "$(ge "$p" 2000)" "$(calc "$p") msgs/s"
	verdict "relay to smtp-sink: >= 2/3 of smtp-source 1-connection rate" \
		"$(ge "$p" "$(calc "$f1 * 2 / 3")")" "$(calc "$p / $f1") x"
	pc=$(stats < "$D/pconn" | cut -d' ' -f3)
	verdict "relay: a handful of connections (<= 5 for $N messages)" "$(le "$pc" 5)" "at most $pc"
	ta=$(awk '{ s += $1 } END { print s }' "$D/tauth"); tc=$(awk '{ s += $1 } END { print s }' "$D/tconn")
	verdict "relay with AUTH: at most one AUTH per connection" "$(le "$ta" "$tc")" "$ta AUTH in $tc connections"
	echo "relay_msgs_s=$p relay_floor1=$f1 relay_conns=$pc" >> "$W/results"
}
