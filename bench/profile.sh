# bench/profile.sh: where the time of one enqueue goes (sourced by run.sh;
# "sh bench/run.sh profile", not part of the default set). Prints, for
# "sendmail -odq -t" of the 2 KB message: the system calls of one enqueue
# (strace -c), the wall time of each kind (perf trace -s, when perf works
# here), the CPU profile by library (perf record over 200 enqueues), and
# the enqueue with fsync made a no-op (an LD_PRELOAD shim built here) next
# to the real one, which separates the disk's share from the CPU's.

section_profile() {
	P=$W/prof
	mkdir -p "$P"
	conf "$P/conf" "$P/spool" "smarthost 127.0.0.1:9"
	"$SENDMAIL" -C "$P/conf" -odq -t < "$W/msg2k" || return 1
	echo "== profile of one enqueue (sendmail -odq -t, 2 KB)"
	echo "-- system calls of one enqueue (strace -c):"
	strace -c -o "$P/strace" "$SENDMAIL" -C "$P/conf" -odq -t < "$W/msg2k" || return 1
	sed 's/^/  /' "$P/strace"
	if command -v perf > /dev/null 2>&1 &&
	    perf trace -s -o "$P/ptrace" -- "$SENDMAIL" -C "$P/conf" -odq -t < "$W/msg2k" 2> /dev/null; then
		echo "-- wall time per kind of system call, ms (perf trace -s, top 8):"
		awk '$1 ~ /^[a-z_0-9]+$/ && NF >= 7 { print }' "$P/ptrace" | sort -k4 -g -r | head -n 8 |
			awk '{ printf "  %-12s calls %-4s total %s\n", $1, $2, $4 }'
		echo "-- CPU samples by library over 200 enqueues (perf record):"
		perf record -q -o "$P/perf.data" -- "$FLOOR" spawn 200 1 "$W/msg2k" \
			"$SENDMAIL" -C "$P/conf" -odq -t > /dev/null 2>&1 &&
			perf report -i "$P/perf.data" --sort comm,dso --stdio 2> /dev/null |
			grep '%' | head -n 8 | sed 's/^ */  /'
	else
		echo "-- (perf is not usable here: no per-call wall times or CPU profile)"
	fi
	printf 'int fsync(int fd) { (void)fd; return 0; }\nint fdatasync(int fd) { (void)fd; return 0; }\n' > "$P/nofsync.c"
	cc -O2 -shared -fPIC -o "$P/nofsync.so" "$P/nofsync.c" || return 1
	: > "$P/real"; : > "$P/nofs"; : > "$P/true"
	r=0
	while [ $r -lt "$RUNS" ]; do
		r=$((r + 1))
		rm -rf "$P/spool"
		"$FLOOR" spawn 300 1 "$W/msg2k" "$SENDMAIL" -C "$P/conf" -odq -t | awk '{ print $1 * 1000 / $2 }' >> "$P/real"
		rm -rf "$P/spool"
		LD_PRELOAD=$P/nofsync.so "$FLOOR" spawn 300 1 "$W/msg2k" "$SENDMAIL" -C "$P/conf" -odq -t |
			awk '{ print $1 * 1000 / $2 }' >> "$P/nofs"
		LD_PRELOAD=$P/nofsync.so "$FLOOR" spawn 300 1 "$W/msg2k" /bin/true | awk '{ print $1 * 1000 / $2 }' >> "$P/true"
	done
	echo "-- ms per enqueue, 300 enqueues, $RUNS runs (the shim adds one library to each):"
	printf '  %-40s %s\n' "sendmail -odq -t" "$(fmt_stats "$P/real" 1 3)"
	printf '  %-40s %s\n' "sendmail -odq -t, fsync a no-op" "$(fmt_stats "$P/nofs" 1 3)"
	printf '  %-40s %s\n' "/bin/true with the same shim" "$(fmt_stats "$P/true" 1 3)"
}
