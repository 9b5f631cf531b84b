# delivery.sh: SIGKILL "postern flush" at chosen points of the SMTP session
# and at random instants, then let a normal flush deliver; count every
# Message-ID at the test smarthosts. No message may be lost; a duplicate
# is allowed only for a kill in the window between the final dot and the
# spool update (spool/README.md, "The state file"), and is counted.
#
# Kill points (each message has two recipients; three messages a flush):
#   greeting mail rcpt data   the server stalls there (--hang-at) and the
#                             flush is killed while it waits: before MAIL,
#                             before the RCPTs, after them, before DATA
#   mid-data        killed at its 2nd body write (strace inject on sendto)
#   dot             the whole body sent, the server stalls before storing
#   after-dot       the server stored it but never replies (--after-dot)
#   after-reply     250 read, killed at the unlink of the finished message
#   after-unlink    killed between the unlink of queue/QID and state/QID
#   state-rename    one recipient 250, one 451: killed at the rename of
#                   the new state file (the 250 not recorded)
#   random          a random instant in the first 0.3 s of the flush
# Duplicates are allowed for after-dot, after-reply, state-rename and
# random (one kill, so at most two copies); any other duplicate fails.
#
# FAULTS_SCALE=ci: 2 rounds of the 11 points (22 kills); full: 20 rounds
# (220). DELIVERY_ROUNDS overrides.
. "$TOP_SRCDIR/tests/faults/lib.sh"
need_smarthost
ROUNDS=${DELIVERY_ROUNDS:-$(by_scale 2 20)}
LIMIT=$(by_scale 150 900)
POINTS="greeting mail rcpt data mid-data dot after-dot after-reply after-unlink state-rename random"
if ! command -v strace >/dev/null 2>&1; then
	skip "kills at mid-data, after-reply, after-unlink, state-rename" "strace is not installed"
	POINTS="greeting mail rcpt data dot after-dot random"
fi
SERVERS="ok greeting mail rcpt data dot after part"
for s in $SERVERS; do
	case $s in
	ok)	args="" ;;
	after)	args="--after-dot hang" ;;
	part)	args="--reply-rcpt b@x.org=451_4.2.1_try_later" ;;
	*)	args="--hang-at $s" ;;
	esac
	# (smarthost.py takes the reply text with blanks; keep the loop simple)
	args=$(echo "$args" | tr _ ' ')
	if [ "$s" = part ]; then
		start_smarthost "s_$s" -- --timeout 120 --reply-rcpt 'b@x.org=451 4.2.1 try later' || exit 1
	else
		start_smarthost "s_$s" -- --timeout 120 $args || exit 1
	fi
	plainconf "$T/c_$s" "$SH_PORT"
done

# the bodies: 300 KB (several 64 KiB writes), 2 KB and 1 MB
$PY -c '
import random, sys
r = random.Random(6)
for name, n in (("b1", 300000), ("b2", 2000), ("b3", 1000000)):
    with open(sys.argv[1] + "/" + name, "w") as f:
        left = n
        while left > 0:
            s = "%08x %s\n" % (r.getrandbits(32), "x" * r.randrange(10, 120))
            f.write(s); left -= len(s)
' "$T"

# events SERVER WORD: events WORD the server logged so far.
events() { cat "$T/s_$1/events.log" 2>/dev/null | grep -c " $2"; }

# background_kill SERVER WORD: a flush to SERVER, killed once the server
# logged one more WORD event; KRC its exit status (137: killed).
background_kill() {
	_srv=$1 _ev=$2
	_n0=$(events "$_srv" "$_ev")
	$POSTERN -C "$T/c_$_srv" flush > /dev/null 2>&1 &
	_fp=$!
	wait_until 20 '[ "$(events "$_srv" "$_ev")" -gt "$_n0" ]' ||
	    echo "# $_srv: no '$_ev' event"
	kill -KILL "$_fp" 2>/dev/null
	wait "$_fp" 2>/dev/null
	KRC=$?
}

# inject SERVER SYSCALL WHEN: a flush to SERVER killed at that system call.
inject() {
	timeout 60 strace -f -qq -o /dev/null -e trace="$2" \
	    -e inject="$2:signal=KILL:when=$3" \
	    $POSTERN -C "$T/c_$1" flush > /dev/null 2>&1
	KRC=$?
}

: > "$T/expect"		# ID MAX-COPIES POINT
start=$(date +%s); it=0; killed=0; notkilled=""; leftover=0
for round in $(seq 1 "$ROUNDS"); do
	[ $(( $(date +%s) - start )) -lt "$LIMIT" ] || break
	for p in $POINTS; do
		it=$((it + 1))
		# the previous recovery emptied the queue; orphan state files
		# (after-unlink) go, so that unlinkat #1 is the message's
		rm -f "$T/spool/state/"* "$T/spool/tmp/"*
		for k in 1 2 3; do
			id="d$it.$k.$p@faults.test"
			case $p in
			after-dot|after-reply|state-rename|random) max=2 ;;
			*) max=1 ;;
			esac
			echo "$id $max $p" >> "$T/expect"
			{ printf 'From: f@x.org\nSubject: %s\nMessage-ID: <%s>\n\n' "$p" "$id"
			  cat "$T/b$k"; } | $SENDMAIL -C "$T/c_ok" -odq -i a@x.org b@x.org ||
			    fail "queue $id"
		done
		case $p in
		greeting|mail|rcpt|data) background_kill "$p" "hang $p" ;;
		dot)		background_kill dot "hang dot" ;;
		after-dot)	background_kill after "after-dot hang" ;;
		mid-data)	inject ok sendto 6 ;;
		after-reply)	inject ok unlinkat 1 ;;
		after-unlink)	inject ok unlinkat 2 ;;
		state-rename)	inject part renameat 1 ;;
		random)
			$POSTERN -C "$T/c_ok" flush > /dev/null 2>&1 &
			_fp=$!
			sleep "$(awk -v s=$it 'BEGIN { srand(s); printf "%.3f", rand() * 0.3 }')"
			kill -KILL "$_fp" 2>/dev/null
			wait "$_fp" 2>/dev/null
			KRC=$?
			;;
		esac
		if [ "$KRC" -eq 137 ]; then
			killed=$((killed + 1))
		elif [ "$p" != random ]; then
			notkilled="$notkilled $it:$p:$KRC"
		fi
		# recovery: a normal flush
		timeout 120 $POSTERN -C "$T/c_ok" flush > "$T/rec.out" 2>&1 ||
		    echo "# recovery flush after $p: exit $?: $(head -c 200 "$T/rec.out")"
		if [ "$(qcount)" -ne 0 ]; then
			leftover=$((leftover + $(qcount)))
			echo "# after $p (iteration $it): $(qcount) still queued"
			rm -f "$T/spool/queue/"*
		fi
	done
done
echo "# $it iterations, $killed killed, in $(( $(date +%s) - start )) s"
want=$(( ROUNDS * $(echo $POINTS | wc -w) ))
check "all $want kill iterations ran within ${LIMIT}s" '[ "$it" -ge "$want" ]' "$it"
check "every placed kill hit the flush" '[ -z "$notkilled" ]' "not killed (iteration:point:exit):$notkilled"
check "every recovery flush emptied the queue" '[ "$leftover" -eq 0 ]' "$leftover left over"

# count every Message-ID at every server
ids $(for s in $SERVERS; do echo "s_$s"; done) | sort | uniq -c | awk '{ print $2, $1 }' > "$T/got"
awk 'NR == FNR { got["<" $1 ">"] = 0; next } { got[$1] = $2 }
     END { for (i in got) print i, got[i] }' "$T/expect" "$T/got" > /dev/null
# ID MAX POINT COPIES
awk 'NR == FNR { n[$1] = $2; next }
     { id = "<" $1 ">"; print $1, $2, $3, (id in n) ? n[id] : 0 }' "$T/got" "$T/expect" > "$T/table"
lost=$(awk '$4 == 0' "$T/table" | wc -l)
dups=$(awk '$4 > 1 { d += $4 - 1 } END { print d + 0 }' "$T/table")
baddup=$(awk '$4 > $2' "$T/table")
stray=$(awk 'NR == FNR { e["<" $1 ">"] = 1; next } !($1 in e)' "$T/expect" "$T/got" | head -n 3)
windows=$(awk '$4 > 1 { w[$3] += $4 - 1 }
    END { for (p in w) { printf "%s%s %d", s, p, w[p]; s = ", " } }' "$T/table")
echo "# messages: $(wc -l < "$T/expect"), lost: $lost, duplicates: $dups (${windows:-none})"
awk '{ c[$3] += 0; if ($4 > 1) c[$3] += $4 - 1 } END { for (p in c) printf "#   %-13s %d duplicate(s)\n", p, c[p] }' "$T/table" | sort
check "no message lost ($(wc -l < "$T/expect") messages)" '[ "$lost" -eq 0 ]' \
    "$(awk '$4 == 0 { print $1, $3 }' "$T/table" | head -n 5)"
check "duplicates only in the window after the final dot ($dups)" '[ -z "$baddup" ]' \
    "$(echo "$baddup" | head -n 5)"
check "nothing delivered that was not queued" '[ -z "$stray" ]' "$stray"
# the placed kills in the window hit it: the first message of each such
# flush was sent twice, the other two once
for p in after-dot after-reply state-rename; do
	case " $POINTS " in *" $p "*) ;; *) continue ;; esac
	n=$(awk -v p=$p '$3 == p && $1 ~ /^d[0-9]+\.1\./' "$T/table" | wc -l)
	d=$(awk -v p=$p '$3 == p && $1 ~ /^d[0-9]+\.1\./ && $4 == 2' "$T/table" | wc -l)
	o=$(awk -v p=$p '$3 == p && $1 !~ /^d[0-9]+\.1\./ && $4 != 1' "$T/table" | wc -l)
	check "$p: each kill gave exactly the one expected duplicate ($d of $n)" \
	    '[ "$d" -eq "$n" ] && [ "$o" -eq 0 ]' "$d of $n; $o others not sent once"
done
# the stored copies are complete: the body of every .eml is one of ours
badbody=0
for e in $(find "$T"/s_* -name '*.eml' | head -n 60); do
	tr -d '\r' < "$e" | sed '1,/^$/d' > "$T/body"
	cmp -s "$T/body" "$T/b1" || cmp -s "$T/body" "$T/b2" || cmp -s "$T/body" "$T/b3" ||
	    badbody=$((badbody + 1))
done
check "stored messages are byte-exact (60 checked)" '[ "$badbody" -eq 0 ]' "$badbody differ"
summary delivery "$it" "$killed" "$lost" "$dups" "${windows:-no duplicates}"
