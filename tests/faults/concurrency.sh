# concurrency.sh: messages from 20 parallel sendmail processes (half with
# the detached delivery attempt after each enqueue, half -odq) while
# "postern daemon", three "postern flush" loops and a "sendmail -q" loop
# run at once; at the end every Message-ID was delivered exactly once
# (counted at the test smarthost), the queue and the state directory are
# empty, every sendmail exited 0.
#
# FAULTS_SCALE=ci: 300 messages; full: 1,000. CONCURRENCY_MESSAGES
# overrides (a multiple of 20).
. "$TOP_SRCDIR/tests/faults/lib.sh"
need_smarthost
N=${CONCURRENCY_MESSAGES:-$(by_scale 300 1000)}
SENDERS=20
PER=$((N / SENDERS))
N=$((PER * SENDERS))
start_smarthost s1 -- || exit 1
plainconf "$T/c" "$SH_PORT"
mkdir -p "$T/rc"

# the workers, until $T/stop exists (each loop bounded to 10 minutes)
$POSTERN -C "$T/c" daemon > "$T/daemon.out" 2>&1 &
dp=$!
PIDS="$PIDS $dp"
loop() {	# loop NAME CMD...: runs CMD again and again until $T/stop
	_name=$1; shift
	_end=$(( $(date +%s) + 600 ))
	_n=0
	while [ ! -e "$T/stop" ] && [ "$(date +%s)" -lt $_end ]; do
		"$@" > /dev/null 2>> "$T/$_name.err"
		_n=$((_n + 1))
		sleep 0.02
	done
	echo $_n > "$T/$_name.runs"
}
for w in 1 2 3; do
	loop flush$w $POSTERN -C "$T/c" flush &
	PIDS="$PIDS $!"; eval "wp$w=$!"
done
loop q $SENDMAIL -C "$T/c" -q &
PIDS="$PIDS $!"; wq=$!

t0=$(ms)
for s in $(seq 1 $SENDERS); do
	(
		odq=""; [ $((s % 2)) -eq 0 ] && odq=-odq
		bad=0
		for j in $(seq 1 $PER); do
			printf 'From: c%d@x.org\nSubject: %d.%d\nMessage-ID: <c%d.%d@conc.test>\n\nbody %d %d\n' \
			    $s $s $j $s $j $s $j |
			    timeout 60 $SENDMAIL -C "$T/c" -i $odq "r$s@x.org" || bad=$((bad + 1))
		done
		echo $bad > "$T/rc/$s"
	) &
	PIDS="$PIDS $!"
done
# wait for the senders (not the workers)
wait_until 600 '[ "$(ls "$T/rc" | wc -l)" -eq $SENDERS ]'
t1=$(ms)
# then until everything is delivered (at most 180 s)
wait_until 180 '[ "$(qcount)" -eq 0 ] && [ "$(ids s1 | grep -c .)" -ge $N ]'
t2=$(ms)
touch "$T/stop"
for p in $wp1 $wp2 $wp3 $wq; do wait "$p" 2>/dev/null; done
kill -TERM $dp 2>/dev/null
wait_until 10 '! alive $dp'
kill -KILL $dp 2>/dev/null
wait $dp 2>/dev/null
drc=$?
sbad=$(cat "$T/rc/"* | awk '{ s += $1 } END { print s + 0 }')
echo "# $N messages from $SENDERS senders in $((t1 - t0)) ms; all delivered $((t2 - t0)) ms after the start"
echo "# worker passes: flush $(cat "$T"/flush?.runs | tr '\n' ' ')sendmail -q $(cat "$T/q.runs"); daemon exit $drc"
ids s1 | sort | uniq -c | awk '{ print $2, $1 }' > "$T/got"
seq 1 $SENDERS | while read s; do seq 1 $PER | sed "s/^/<c$s./; s/\$/@conc.test>/"; done | sort > "$T/want"
got=$(wc -l < "$T/got")
missing=$(cut -d' ' -f1 "$T/got" | sort | comm -13 - "$T/want")
lost=$(printf '%s' "$missing" | grep -c .)
dups=$(awk '$2 > 1 { d += $2 - 1 } END { print d + 0 }' "$T/got")
check "every sendmail exited 0" '[ "$sbad" -eq 0 ]' "$sbad failed"
check "every one of $N Message-IDs delivered" '[ -z "$missing" ]' "$lost missing: $(echo $missing | head -c 200)"
check "each delivered exactly once" '[ "$dups" -eq 0 ]' "$dups duplicates: $(awk '$2 > 1' "$T/got" | head -n 3 | tr '\n' ' ')"
check "nothing delivered that was not sent" '[ "$got" -eq "$(cut -d" " -f1 "$T/got" | sort | comm -12 - "$T/want" | wc -l)" ]'
check "queue, state and tmp empty at the end" \
    '[ "$(qcount)" -eq 0 ] && [ -z "$(ls "$T/spool/state")" ] && [ -z "$(ls "$T/spool/tmp")" ]' \
    "queue $(qcount), state $(ls "$T/spool/state" | wc -l), tmp $(ls "$T/spool/tmp" | wc -l)"
errs=$(cat "$T"/flush?.err "$T/q.err" 2>/dev/null | sort | uniq -c | sort -rn | head -n 3)
check "no worker reported an error" '[ -z "$errs" ]' "$errs"
check "all done within the time bound" '[ $((t2 - t0)) -lt 780000 ]'
summary concurrency "$N" "$((SENDERS + 5)) processes" "$lost" "$dups" "daemon + 3 flush loops + sendmail -q loop"
