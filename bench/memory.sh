# bench/memory.sh: issue 5, part 3 (sourced by run.sh). Peak RSS
# (/usr/bin/time -v, "Maximum resident set size": the largest of the
# process and the children it waited for) of the front-end enqueueing a
# $MEM_MB MB message ("sendmail -odq -t"), and of "postern flush" relaying
# it: to Postfix's smtp-sink without TLS, and to the test smarthost with
# STARTTLS and AUTH. For scale, the same figure for /bin/true.

section_memory() {
	M=$W/mem
	mkdir -p "$M"
	for f in fe dl dt tr; do : > "$M/$f"; done
	{
		printf 'From: sender@bench.example\nTo: rcpt@bench.example\nSubject: big\n\n'
		yes 'The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnop.' |
			head -c $((MEM_MB * 1024 * 1024))
	} > "$M/big"
	echo "== memory: one message of $MEM_MB MB ($(wc -c < "$M/big") bytes), $RUNS runs, peak RSS in MB"
	sport=$(free_port)
	start_sink "$sport" "$M/sink.out" || { echo "smtp-sink did not start"; return 1; }
	conf "$M/conf" "$M/spool" "smarthost 127.0.0.1:$sport" "tls none"
	sh "$TOP/tests/tools/mkcerts.sh" "$M/certs" || return 1
	(umask 077 && echo 'bench-Pw-7q' > "$M/pw")
	tport=$(free_port)
	start_smarthost "$tport" "$M/sh" --tls starttls --cert "$M/certs/server.pem" \
		--key "$M/certs/server.key" --auth benchuser:bench-Pw-7q --auth-require-tls ||
		{ echo "smarthost did not start"; return 1; }
	conf "$M/tconf" "$M/spool" "smarthost localhost:$tport" "tls starttls" \
		"tls_ca_file $M/certs/ca.pem" "auth_user benchuser" "auth_password_file $M/pw"
	r=0
	while [ $r -lt "$RUNS" ]; do
		r=$((r + 1))
		/usr/bin/time -v /bin/true 2> "$M/time.out"
		maxrss_mb "$M/time.out" >> "$M/tr"
		for c in conf tconf; do
			rm -rf "$M/spool"
			timeout 300 /usr/bin/time -v "$SENDMAIL" -C "$M/$c" -odq -t < "$M/big" 2> "$M/time.out" ||
				{ echo "enqueue of the big message failed: $(tail -n 30 "$M/time.out")"; return 1; }
			[ "$c" = conf ] && maxrss_mb "$M/time.out" >> "$M/fe"
			e0=$(ls "$M/sh" | grep -c '\.eml$')
			set -- $(sink_counts "$M/sink.out"); m0=$2
			timeout 300 /usr/bin/time -v "$POSTERN" -C "$M/$c" flush > /dev/null 2> "$M/time.out"
			rc=$?
			sleep 0.3
			left=$(qcount "$M/spool")
			if [ $rc -ne 0 ] || [ "$left" -ne 0 ]; then
				echo "flush of the big message ($c): exit $rc, $left left: $(head -n 3 "$M/time.out")"
				return 1
			fi
			if [ "$c" = conf ]; then
				set -- $(sink_counts "$M/sink.out")
				[ $(($2 - m0)) -eq 1 ] || { echo "smtp-sink did not get the big message"; return 1; }
				maxrss_mb "$M/time.out" >> "$M/dl"
			else
				[ $(($(ls "$M/sh" | grep -c '\.eml$') - e0)) -eq 1 ] ||
					{ echo "the smarthost did not get the big message"; return 1; }
				rm -f "$M/sh"/*.eml "$M/sh"/*.raw "$M/sh"/*.env
				maxrss_mb "$M/time.out" >> "$M/dt"
			fi
		done
	done
	stop "$SINK_PID"
	stop "$SH_PID"
	row() { printf '  %-56s %s\n' "$1" "$(fmt_stats "$2" 1 2)"; }
	row "/bin/true (for scale)" "$M/tr"
	row "front-end: sendmail -odq -t < $MEM_MB MB" "$M/fe"
	row "delivery: postern flush -> smtp-sink, tls none" "$M/dl"
	row "delivery: postern flush -> smarthost.py, STARTTLS+AUTH" "$M/dt"
	fe=$(med "$M/fe"); dl=$(med "$M/dl"); dt=$(med "$M/dt")
	verdict "memory: front-end <= 3 MB peak RSS" "$(le "$fe" 3)" "$fe MB"
	verdict "memory: delivery without TLS <= 4 MB peak RSS" "$(le "$dl" 4)" "$dl MB"
	verdict "memory: delivery with TLS <= 8 MB peak RSS" "$(le "$dt" 8)" "$dt MB"
	echo "mem_fe=$fe mem_dl=$dl mem_dt=$dt" >> "$W/results"
}
