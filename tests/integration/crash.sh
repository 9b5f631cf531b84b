# crash.sh: SIGKILL sendmail while it writes, at random instants and at
# each system call of the commit, and check that the queue only ever holds
# complete, byte-exact messages, that every message whose sendmail exited
# 0 is there, and that stale temporary files are purged, never queued.
. "$TOP_SRCDIR/tests/integration/lib.sh"
N=${CRASH_ITERATIONS:-250}
LIMIT=${CRASH_SECONDS:-240}
mkdir -p "$T/base"
# message bodies from 1 KB to 5 MB
for kb in 1 7 60 400 1500 5000; do
	LC_ALL=C awk -v kb=$kb 'BEGIN { srand(kb); n = 0; while (n < kb * 1024) {
		s = sprintf("%d %08x line of the crash test body\n", n, int(rand() * 4294967295));
		printf "%s", s; n += length(s) } }' > "$T/base/$kb"
done
set -- 1 7 60 400 1500 5000

verify_queue() {	# prints one line per problem
	for f in $(qfiles); do
		off=$(LC_ALL=C grep -a -b -m1 -x '' "$f" | cut -d: -f1)
		[ -n "$off" ] || { echo "no head end: $f"; continue; }
		size=$(sed -n 's/^size 0*\([0-9]\)/\1/p' "$f" | head -n 1)
		total=$(wc -c < "$f")
		[ "$total" -eq $((off + 1 + size)) ] || echo "size mismatch: $f"
		iter=$(sed -n 's/^X-Iter: //p' "$f" | head -n 1)
		base=$(sed -n 's/^X-Base: //p' "$f" | head -n 1)
		[ -n "$iter" ] && [ -n "$base" ] || { echo "no markers: $f"; continue; }
		tail -c +$((off + 2)) "$f" | sed '1,/^$/d' | cmp -s - "$T/base/$base" ||
			echo "body differs: $f (iteration $iter)"
		echo "$iter" >> "$T/present"
	done
}

# --- random instants ----------------------------------------------------------
: > "$T/accepted"; : > "$T/present"
start=$(date +%s); i=0; killed=0
while [ $i -lt $N ] && [ $(( $(date +%s) - start )) -lt "$LIMIT" ]; do
	i=$((i + 1))
	shift_by=$((i % 6)); b=$(eval echo "\${$((shift_by + 1))}")
	# a random instant within sendmail's run time (about 12 ms + 3 ms/MB)
	delay=$(awk -v s=$i -v kb=$b 'BEGIN { srand(s); printf "%.4f", rand() * (0.012 + kb * 0.000004) }')
	{ printf 'To: a@x.org\nX-Iter: %d\nX-Base: %s\n\n' $i $b; cat "$T/base/$b"; } |
		$SENDMAIL -C "$T/conf" -t -i -odq 2>/dev/null &
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null
	wait $pid
	rc=$?
	[ $rc -eq 0 ] && echo $i >> "$T/accepted"
	[ $rc -eq 137 ] && killed=$((killed + 1))
done
echo "iterations: $i, killed: $killed, exited 0: $(wc -l < "$T/accepted"), queued: $(qcount), temporaries left: $(ls "$T/spool/tmp" | wc -l)"
[ $i -ge 200 ] && pass "at least 200 kill iterations ($i)" || fail "at least 200 kill iterations" "$i in ${LIMIT}s"
[ "$killed" -ge $((i / 4)) ] && pass "a quarter or more of the runs were killed mid-run ($killed)" || fail "a quarter or more of the runs were killed mid-run" "$killed of $i"
problems=$(verify_queue)
[ -z "$problems" ] && pass "queue holds only complete, byte-exact messages" || fail "queue holds only complete, byte-exact messages" "$(echo "$problems" | head -n 3)"
sort "$T/present" > "$T/p.s"; sort "$T/accepted" > "$T/a.s"
missing=$(comm -13 "$T/p.s" "$T/a.s" | head -n 3)
[ -z "$missing" ] && pass "every message accepted with exit 0 is queued" || fail "every message accepted with exit 0 is queued" "missing iterations $missing"
$MAILQ -C "$T/conf" > "$T/mq" 2>&1
grep -q damaged "$T/mq" && fail "mailq sees no damaged file" || pass "mailq sees no damaged file"

# stale temporary files: purged once old and unlocked, never queued
ntmp=$(ls "$T/spool/tmp" | wc -l)
touch -d '2 minutes ago' "$T/spool/tmp/"* 2>/dev/null
# a live writer: headers sent, the rest of its input still to come
mkfifo "$T/fifo"
$SENDMAIL -C "$T/conf" -odq live@x.org < "$T/fifo" &
livepid=$!
PIDS="$PIDS $livepid"
exec 3> "$T/fifo"
printf 'Subject: live\n\nfirst line\n' >&3
n=0; while [ $n -lt 50 ] && [ "$(ls "$T/spool/tmp" | wc -l)" -le "$ntmp" ]; do sleep 0.1; n=$((n + 1)); done
touch -d '2 minutes ago' "$T/spool/tmp/"* 2>/dev/null
$POSTERN -C "$T/conf" purge > "$T/purge" 2>&1
left=$(ls "$T/spool/tmp" | wc -l)
[ "$left" -eq 1 ] && pass "purge removed $ntmp stale temporaries, kept the live writer's" || fail "purge removed stale temporaries, kept the live writer's" "$ntmp before, $left after: $(cat "$T/purge")"
kill -9 $livepid 2>/dev/null
wait $livepid 2>/dev/null
exec 3>&-
grep -l '^Subject: live' $(qfiles) /dev/null >/dev/null 2>&1 && fail "killed live writer queued nothing" || pass "killed live writer queued nothing"
qfiles | xargs -r grep -L '^X-Iter: ' | grep -q . && fail "purge queued nothing" || pass "purge queued nothing"

# --- at each system call of the commit -----------------------------------------------
if ! command -v strace >/dev/null 2>&1; then
	skip "kill at each commit system call" "strace is not installed"
	exit 0
fi
clearq
at() {	# at NAME SYSCALL WHEN EXPECT(queued|absent)
	printf 'To: a@x.org\nX-Iter: %s\nX-Base: 60\n\n' "$1" > "$T/one"
	cat "$T/base/60" >> "$T/one"
	strace -f -qq -o /dev/null -e trace="$2" -e inject="$2:signal=KILL:when=$3" \
		$SENDMAIL -C "$T/conf" -t -i -odq < "$T/one" 2>/dev/null
	rc=$?
	if grep -lq "^X-Iter: $1$" $(qfiles) /dev/null 2>/dev/null; then got=queued; else got=absent; fi
	[ $rc -eq 137 ] && [ "$got" = "$4" ] && pass "killed at $2 #$3: message $4" ||
		fail "killed at $2 #$3: message $4" "exit $rc, message $got"
}
at k1 openat 3 absent
at k2 write 1 absent
at k3 write 2 absent
at k4 pwrite64 1 absent
at k5 fsync 1 absent
at k6 renameat2 1 absent
at k7 fsync 2 queued
problems=$(verify_queue)
[ -z "$problems" ] && pass "after syscall kills: only complete messages" || fail "after syscall kills: only complete messages" "$problems"
