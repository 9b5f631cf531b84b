# bench/scale.sh: issue 5, part 4 (sourced by run.sh). mailq and one
# "postern flush" pass with $SCALE_N (two sizes) messages queued and the
# smarthost unreachable (a closed port on 127.0.0.1): seconds, and how the
# time grows from the smaller queue to the larger. The queues are copies
# of one real queue file under fresh valid queue IDs (lib.sh fill_queue);
# the page cache is warm, as it is on a server whose queue is in use:
# after filling, the queue is synced (so that writeback of the new files
# does not land in a timed run) and listed, flushed and scanned once
# untimed, so that every timed run meets the same cache and the same
# status file (the first flush writes one, which adds a line per message
# to the listing). System calls are counted once per size with strace -c
# (load does not change them, unlike seconds). The untimed listing is
# checked (every message listed); the timed ones are whole processes
# spawned by floor.c, as in the enqueue benchmark, their output to
# /dev/null: the floor, timed inside its own process, writes nothing,
# and writing 1.3 MB to a file would time the file system, not mailq.
# (Until 2026-11-26 13:30 the shell timed "timeout 300 sendmail -bp >
# file": two process starts and the file's writing, 3-5 ms more.)
# The floor: bench/floor.c "scan" reads the names and, per file, opens
# it, reads 4 KB (its head) and closes it, the least a listing of every
# message's sender and recipients must do.

# ncalls N CMD...: the system calls CMD makes (strace -f -c), per message.
ncalls() {
	_n=$1; shift
	timeout 600 strace -f -c -U calls,name -o "$W/strace.out" "$@" > /dev/null 2>&1
	awk -v n="$_n" '$2 == "total" { printf "%.2f\n", $1 / n }' "$W/strace.out"
}

section_scale() {
	Q=$W/scale
	mkdir -p "$Q"
	cport=$(free_port)	# nobody listens there
	conf "$Q/conf" "$Q/spool" "smarthost 127.0.0.1:$cport" "tls none"
	set -- $SCALE_N
	n1=$1; n2=$2
	echo "== queue scale: mailq and one flush pass (smarthost unreachable) with $n1 and $n2 messages, $RUNS runs, seconds"
	for n in $n1 $n2; do
		: > "$Q/mq$n"; : > "$Q/fl$n"; : > "$Q/sc$n"
		t0=$(now_ns)
		fill_queue "$Q/conf" "$Q/spool" "$n" 7 || { echo "could not fill the queue with $n"; return 1; }
		t1=$(now_ns)
		echo "  ($n queue files written in $(calc "$(secs "$t0" "$t1")") s, $(du -sm "$Q/spool/queue" | cut -f1) MB)"
		sync
		# the untimed round, and the system calls per message
		"$FLOOR" scan "$Q/spool/queue" > /dev/null || return 1
		timeout 300 "$POSTERN" -C "$Q/conf" flush > /dev/null 2>&1
		# the listing is checked here, untimed; the timed runs write it
		# to /dev/null, as the floor writes nothing
		timeout 300 "$SENDMAIL" -C "$Q/conf" -bp > "$Q/mq.out" 2>&1
		rc=$?
		got=$(grep -Ec '^[0-9A-Z]{15} ' "$Q/mq.out")
		if [ $rc -ne 0 ] || [ "$got" -ne "$n" ]; then
			echo "mailq: exit $rc, $got of $n listed: $(head -n 3 "$Q/mq.out")"
			return 1
		fi
		rm -f "$Q/mq.out"
		if command -v strace > /dev/null 2>&1; then
			printf '  (system calls per message with %s: floor %s, mailq %s, flush %s)\n' "$n" \
				"$(ncalls "$n" "$FLOOR" scan "$Q/spool/queue")" \
				"$(ncalls "$n" "$SENDMAIL" -C "$Q/conf" -bp)" \
				"$(ncalls "$n" "$POSTERN" -C "$Q/conf" flush)"
		fi
		r=0
		while [ $r -lt "$RUNS" ]; do
			r=$((r + 1))
			"$FLOOR" scan "$Q/spool/queue" > "$W/floor.out" || return 1
			cut -d' ' -f1 "$W/floor.out" >> "$Q/sc$n"
			# the whole process, spawned and waited for as the
			# enqueue benchmark does (floor.c: a 600 s alarm)
			"$FLOOR" spawn 1 1 /dev/null "$SENDMAIL" -C "$Q/conf" \
			    -bp > "$W/mq.t" || { echo "mailq failed"; return 1; }
			cut -d' ' -f1 "$W/mq.t" >> "$Q/mq$n"
			t0=$(now_ns)
			timeout 300 "$POSTERN" -C "$Q/conf" flush > "$Q/fl.out" 2>&1
			rc=$?
			t1=$(now_ns)
			left=$(qcount "$Q/spool")
			if [ "$left" -ne "$n" ]; then
				echo "flush with the smarthost down: exit $rc, $left of $n left: $(head -n 3 "$Q/fl.out")"
				return 1
			fi
			secs "$t0" "$t1" >> "$Q/fl$n"
			fl1=$(head -n 1 "$Q/fl.out")
		done
		echo "  (flush exit status $rc${fl1:+: }$(head -n 1 "$Q/fl.out"))"
		rm -rf "$Q/spool"
	done
	row() { printf '  %-44s %s\n' "$1" "$(fmt_stats "$2" 1 3)"; }
	row "floor: open+pread 4 KB+close each, $n1" "$Q/sc$n1"
	row "mailq, $n1 messages" "$Q/mq$n1"
	row "floor: open+pread 4 KB+close each, $n2" "$Q/sc$n2"
	row "mailq, $n2 messages" "$Q/mq$n2"
	row "postern flush, smarthost down, $n1" "$Q/fl$n1"
	row "postern flush, smarthost down, $n2" "$Q/fl$n2"
	grow=$(calc "$n2 / $n1")
	gm=$(calc "$(med "$Q/mq$n2") / $(med "$Q/mq$n1")")
	gf=$(calc "$(med "$Q/fl$n2") / $(med "$Q/fl$n1")")
	printf '  %-44s mailq %s x, flush %s x, floor %s x (queue grew %s x)\n' "time growth $n1 -> $n2" \
		"$gm" "$gf" "$(calc "$(med "$Q/sc$n2") / $(med "$Q/sc$n1")")" "$grow"
	printf '  %-44s %s at %s, %s at %s\n' "ratio mailq / floor" \
		"$(calc "$(med "$Q/mq$n1") / $(med "$Q/sc$n1")")" "$n1" "$(calc "$(med "$Q/mq$n2") / $(med "$Q/sc$n2")")" "$n2"
	# issue 5: under 0.1 s at 10,000 and under ten times that at 100,000
	# (other sizes: the same 10 us per message)
	m1=$(calc "$(med "$Q/mq$n1")"); m2=$(calc "$(med "$Q/mq$n2")")
	l1=$(calc "0.1 * $n1 / 10000"); l2=$(calc "$l1 * $n2 / $n1")
	verdict "queue: mailq with $n1 messages < $l1 s" "$(le "$m1" "$l1")" "$m1 s"
	verdict "queue: mailq with $n2 messages < $l2 s" "$(le "$m2" "$l2")" "$m2 s"
	verdict "queue: mailq time grows linearly or better" "$(le "$gm" "$grow")" "$gm x for $grow x"
	verdict "queue: flush pass time grows linearly or better" "$(le "$gf" "$grow")" "$gf x for $grow x"
	echo "mq_$n1=$m1 mq_$n2=$m2 fl_$n1=$(med "$Q/fl$n1") fl_$n2=$(med "$Q/fl$n2")" >> "$W/results"
}
