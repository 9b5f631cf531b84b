# enqueue.sh: SIGKILL sendmail while it writes, at random instants and at
# each system call of the commit; the queue only ever holds complete,
# byte-exact messages, every message whose sendmail exited 0 is there,
# stale temporaries are purged, never queued, and a flush then delivers
# every surviving message byte-exact to the test smarthost, exactly once.
# The power-loss model: a system call trace shows the file fsync()ed
# before its rename into queue/, and queue/ fsync()ed before exit 0.
# (Formerly tests/integration/crash.sh.)
#
# FAULTS_SCALE=ci: 100 random kills; full: 600. ENQUEUE_ITERATIONS and
# ENQUEUE_SECONDS override the count and its time bound.
. "$TOP_SRCDIR/tests/faults/lib.sh"
N=${ENQUEUE_ITERATIONS:-$(by_scale 100 600)}
LIMIT=${ENQUEUE_SECONDS:-$(by_scale 90 600)}
mkdir -p "$T/base"
# message bodies from 1 KB to 5 MB
for kb in 1 7 60 400 1500 5000; do
	LC_ALL=C awk -v kb=$kb 'BEGIN { srand(kb); n = 0; while (n < kb * 1024) {
		s = sprintf("%d %08x line of the crash test body\n", n, int(rand() * 4294967295));
		printf "%s", s; n += length(s) } }' > "$T/base/$kb"
done
set -- 1 7 60 400 1500 5000

verify_queue() {	# prints one line per problem; iterations into $T/present
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
	wait $pid 2>/dev/null
	rc=$?
	[ $rc -eq 0 ] && echo $i >> "$T/accepted"
	[ $rc -eq 137 ] && killed=$((killed + 1))
done
echo "# iterations: $i, killed: $killed, exited 0: $(wc -l < "$T/accepted"), queued: $(qcount), temporaries left: $(ls "$T/spool/tmp" | wc -l)"
check "all $N kill iterations ran within ${LIMIT}s" '[ $i -ge $N ]' "$i in ${LIMIT}s"
check "a quarter or more of the runs were killed mid-run ($killed)" \
    '[ "$killed" -ge $((i / 4)) ]' "$killed of $i"
problems=$(verify_queue)
check "queue holds only complete, byte-exact messages" '[ -z "$problems" ]' \
    "$(echo "$problems" | head -n 3)"
sort -u "$T/present" > "$T/p.s"; sort -u "$T/accepted" > "$T/a.s"
missing=$(comm -13 "$T/p.s" "$T/a.s")
lost=$(printf '%s' "$missing" | grep -c .)
check "every message accepted with exit 0 is queued" '[ -z "$missing" ]' \
    "missing iterations $(echo $missing | head -c 200)"
$MAILQ -C "$T/conf" > "$T/mq" 2>&1
check "mailq sees no damaged file" '! grep -q damaged "$T/mq"'
faults=$killed

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
wait_until 5 '[ "$(ls "$T/spool/tmp" | wc -l)" -gt "$ntmp" ]'
touch -d '2 minutes ago' "$T/spool/tmp/"* 2>/dev/null
$POSTERN -C "$T/conf" purge > "$T/purge" 2>&1
left=$(ls "$T/spool/tmp" | wc -l)
check "purge removed $ntmp stale temporaries, kept the live writer's" \
    '[ "$left" -eq 1 ]' "$ntmp before, $left after: $(cat "$T/purge")"
kill -9 $livepid 2>/dev/null
wait $livepid 2>/dev/null
exec 3>&-
check "killed live writer queued nothing" \
    '! grep -l "^Subject: live" $(qfiles) /dev/null >/dev/null 2>&1'
check "purge queued nothing" '! qfiles | xargs -r grep -L "^X-Iter: " | grep -q .'

# --- the next flush delivers every survivor, byte-exact, once ---------------
delivered=0 dups=0
if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	skip "flush after the kills" "python3-aiosmtpd is not installed"
else
	start_smarthost e1 --
	plainconf "$T/relay.conf" "$SH_PORT"
	timeout 300 $POSTERN -C "$T/relay.conf" flush > "$T/flush.out" 2>&1
	frc=$?
	check "flush after the kills exits 0" '[ $frc -eq 0 ]' "exit $frc: $(head -c 300 "$T/flush.out")"
	check "queue empty after the flush" '[ "$(qcount)" -eq 0 ]' "$(qcount) left"
	: > "$T/got"; bad=""
	for e in $(find "$T/e1" -name '*.eml' | sort); do
		tr -d '\r' < "$e" > "$T/eml"
		iter=$(sed -n '1,/^$/s/^X-Iter: //p' "$T/eml")
		base=$(sed -n '1,/^$/s/^X-Base: //p' "$T/eml")
		echo "$iter" >> "$T/got"
		sed '1,/^$/d' "$T/eml" | cmp -s - "$T/base/$base" || bad="$bad $iter"
	done
	delivered=$(wc -l < "$T/got")
	sort "$T/got" | uniq -d > "$T/dups"
	dups=$(wc -l < "$T/dups")
	sort -u "$T/got" > "$T/g.s"
	notdel=$(comm -23 "$T/p.s" "$T/g.s")
	check "every queued message delivered ($delivered)" '[ -z "$notdel" ]' \
	    "not delivered: $(echo $notdel | head -c 200)"
	lost=$((lost + $(printf '%s' "$notdel" | grep -c .)))
	check "every delivered message is byte-exact" '[ -z "$bad" ]' "differ:$bad"
	check "no message delivered twice" '[ "$dups" -eq 0 ]' "$(head -n 5 "$T/dups")"
	check "nothing delivered that was not queued" \
	    '[ -z "$(comm -13 "$T/p.s" "$T/g.s")" ]'
	stop_smarthost e1
	clearq
fi

# --- at each system call of the commit -----------------------------------------------
if ! command -v strace >/dev/null 2>&1; then
	skip "kill at each commit system call; durability trace" "strace is not installed"
	summary enqueue "$i" "$faults" "$lost" "$dups" "random kills; $delivered delivered after"
	exit 0
fi
: > "$T/present"
at() {	# at NAME SYSCALL WHEN EXPECT(queued|absent) BASE(KB)
	printf 'To: a@x.org\nX-Iter: %s\nX-Base: %s\n\n' "$1" "$5" > "$T/one"
	cat "$T/base/$5" >> "$T/one"
	strace -f -qq -o /dev/null -e trace="$2" -e inject="$2:signal=KILL:when=$3" \
		$SENDMAIL -C "$T/conf" -t -i -odq < "$T/one" 2>/dev/null
	rc=$?
	if grep -lq "^X-Iter: $1$" $(qfiles) /dev/null 2>/dev/null; then got=queued; else got=absent; fi
	want=$4
	check "killed at $2 #$3 ($5 KB): message $4" '[ $rc -eq 137 ] && [ "$got" = "$want" ]' \
	    "exit $rc, message $got"
	faults=$((faults + 1))
}
# A message that fits the 128 KiB write buffer is written in one write(),
# its head patched in the buffer; a longer one in several, its head
# patched on disk with pwrite().
at k1 openat 3 absent 60
at k2 write 1 absent 60
at k3 write 2 absent 400
at k4 pwrite64 1 absent 400
at k5 fsync 1 absent 60
at k6 renameat2 1 absent 60
at k7 fsync 2 queued 60
at k8 fsync 1 absent 400
at k9 fsync 2 queued 400
problems=$(verify_queue)
check "after syscall kills: only complete messages" '[ -z "$problems" ]' "$problems"

# --- durability: the order of the commit's system calls -----------------------
# file written, file fsync()ed, renamed into queue/, queue/ fsync()ed, and
# only then exit 0; nothing written to the file after its fsync().
clearq
for kb in 7 400; do	# one write() with the head; several and a pwrite()
	printf 'To: a@x.org\nX-Iter: d%s\nX-Base: %s\n\n' $kb $kb > "$T/one"
	cat "$T/base/$kb" >> "$T/one"
	strace -f -qq -y -o "$T/trace" \
	    -e trace=write,pwrite64,writev,fsync,fdatasync,rename,renameat,renameat2,link,linkat,exit_group \
	    $SENDMAIL -C "$T/conf" -t -i -odq < "$T/one" 2>/dev/null
	rc=$?
	qid=$(basename "$(qlast)")
	awk -v qid="$qid" '
		{ sub(/^[0-9]+ +/, "") }
		# the queue file under its temporary name
		/^(write|pwrite64|writev)\(/ && index($0, "/tmp/" qid ">") { w = NR; if (fs) late = 1 }
		/^f(data)?sync\(/ && index($0, "/tmp/" qid ">") && / = 0$/ { fs = NR }
		/^(renameat2?|linkat)\(/ && index($0, "\"" qid "\"") && index($0, "/queue>") && / = 0$/ { rn = NR }
		/^f(data)?sync\(/ && $0 ~ /\/queue> *\) = 0$/ && rn { dfs = NR }
		/^exit_group\(0\)/ { ex = NR }
		END {
			ok = w && fs > w && rn > fs && dfs > rn && ex > dfs && !late
			printf "write %d, fsync(file) %d, rename %d, fsync(queue/) %d, exit(0) %d%s\n",
			    w, fs, rn, dfs, ex, late ? ", written after fsync" : ""
			exit !ok
		}' "$T/trace" > "$T/order"
	ord=$?
	echo "# durability trace, $kb KB: $(cat "$T/order")"
	check "power loss, $kb KB: exit 0 only after fsync of the file, rename, fsync of queue/" \
	    '[ $rc -eq 0 ] && [ $ord -eq 0 ]' "exit $rc; $(cat "$T/order")"
done
summary enqueue "$i" "$faults" "$lost" "$dups" "random kills + 9 syscall kills; $delivered delivered after"
