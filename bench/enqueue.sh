# bench/enqueue.sh: issue 5, part 1 (sourced by run.sh). The durable-enqueue
# floor and the spawn floor (bench/floor.c), and postern's enqueue of
# $ENQ_N 2 KB messages through "sendmail -odq -t", fed by the same driver
# (posix_spawn, message piped on stdin, waited for), with 1 and 8
# concurrent feeders. Floors and postern alternate within each run, so a
# load change on the machine hits both.

# blk FILE FLOOR-ARGS...: runs bench/floor.c, appends "SECONDS N".
blk() {
	_o=$1; shift
	"$FLOOR" "$@" >> "$_o" || { echo "floor $1 failed" >&2; return 1; }
}
# per_ms BLOCKS-FILE OUT: appends to OUT the ms per message of the blocks.
per_ms() {
	awk '{ s += $1; n += $2 } END { print s * 1000 / n }' "$1" >> "$2"
}

section_enqueue() {
	N=$ENQ_N
	E=$W/enq
	mkdir -p "$E"
	conf "$E/conf" "$E/spool" "smarthost 127.0.0.1:9"
	for f in fs1 fs8 sp1 sp8 st1 sm1 sm8 r1 r8; do : > "$E/$f"; done
	# Each run is cut into blocks of about 100 messages, and the floors
	# and postern take turns block by block, so that the machine's load,
	# which drifts over seconds here, weighs on all three alike.
	B=$(( (N + 99) / 100 ))
	# Nothing is deleted while the clock runs: on ext4 without a journal
	# a new file's inode search steps over every inode freed in the last
	# 30 s (recently_deleted()), so deleting the last run's 1,000-message
	# spool just before this one made each enqueue step over up to 1,000
	# of them (16 % of its CPU in perf), the floor over its last 100.
	# Spools and floor directories are moved aside, removed at the end.
	mkdir -p "$E/old"
	echo "== enqueue: $N messages of 2 KB, $RUNS runs (each in $B interleaved blocks), spool on $(df -T "$W" | awk 'NR == 2 { print $2 }')"
	r=0
	while [ $r -lt "$RUNS" ]; do
		r=$((r + 1))
		for k in 1 8; do
			[ ! -d "$E/spool" ] || mv "$E/spool" "$E/old/spool.$r.$k"
			: > "$E/b.fs"; : > "$E/b.sp"; : > "$E/b.sm"
			b=0; done_n=0
			while [ $b -lt $B ]; do
				b=$((b + 1))
				n=$(( N * b / B - done_n )); done_n=$((done_n + n))
				[ ! -d "$E/floor" ] || mv "$E/floor" "$E/old/floor.$r.$k.$b"
				mkdir -p "$E/floor/tmp" "$E/floor/queue"
				blk "$E/b.fs" fsync "$E/floor" "$n" 2048 $k || return 1
				blk "$E/b.sp" spawn "$n" $k "$W/msg2k" /bin/true || return 1
				blk "$E/b.sm" spawn "$n" $k "$W/msg2k" "$SENDMAIL" -C "$E/conf" -odq -t || return 1
			done
			per_ms "$E/b.fs" "$E/fs$k"; per_ms "$E/b.sp" "$E/sp$k"; per_ms "$E/b.sm" "$E/sm$k"
			got=$(qcount "$E/spool")
			if [ "$got" -ne "$N" ]; then
				echo "enqueue: $got messages queued, want $N" >&2
				return 1
			fi
		done
		: > "$E/b.st"
		blk "$E/b.st" spawn "$N" 1 "$W/msg2k" "$W/true-static" || return 1
		per_ms "$E/b.st" "$E/st1"
		# this run's ratios: postern / (spawn floor + fsync floor)
		for k in 1 8; do
			paste "$E/sm$k" "$E/sp$k" "$E/fs$k" | tail -n 1 |
				awk '{ print $1 / ($2 + $3) }' >> "$E/r$k"
		done
	done
	rm -rf "$E/floor" "$E/spool" "$E/old"
	row() { printf '  %-44s %-24s %s\n' "$1" "$(fmt_stats "$2" 1 3)" "$(stats < "$2" | awk '{ printf "%.0f", 1000 / $1 }')"; }
	printf '  %-44s %-24s %s\n' "" "ms per message" "msgs/s (median)"
	row "fsync floor, 1 writer" "$E/fs1"
	row "fsync floor, 8 writers" "$E/fs8"
	row "spawn floor (/bin/true), 1 feeder" "$E/sp1"
	row "spawn floor (/bin/true), 8 feeders" "$E/sp8"
	row "spawn of a static no-op (for scale)" "$E/st1"
	row "postern sendmail -odq -t, 1 feeder" "$E/sm1"
	row "postern sendmail -odq -t, 8 feeders" "$E/sm8"
	printf '  %-44s %s\n' "ratio to floor (spawn + fsync), 1 feeder" "$(fmt_stats "$E/r1" 1 2)"
	printf '  %-44s %s\n' "ratio to floor (spawn + fsync), 8 feeders" "$(fmt_stats "$E/r8" 1 2)"
	m1=$(med "$E/r1")
	verdict "enqueue, 1 feeder: <= 1.3 x (spawn + fsync floor)" "$(le "$m1" 1.3)" "$(calc "$m1") x"
	s1=$(med "$E/sm1"); s8=$(med "$E/sm8")
	verdict "enqueue, 8 feeders: rate >= sequential rate" "$(le "$s8" "$s1")" \
		"$(calc "1000 / $s8") vs $(calc "1000 / $s1") msgs/s"
	echo "enqueue_ms_seq=$s1 enqueue_ms_8=$s8 enqueue_ratio_seq=$m1" >> "$W/results"
}
