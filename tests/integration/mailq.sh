# mailq.sh: the queue listing: empty, one message, order, pending
# recipients and errors from a state file, damaged files, 10,000 messages.
. "$TOP_SRCDIR/tests/integration/lib.sh"
SM="$SENDMAIL -C $T/conf"
MQ="$MAILQ -C $T/conf"

expect_rc "mailq before any spool exists" 0 $MQ
[ "$(cat "$T/out")" = "Mail queue is empty" ] && pass "no spool: Mail queue is empty" || fail "no spool: Mail queue is empty" "$(cat "$T/out")"
expect_rc "postern list before any spool exists" 0 $POSTERN -C "$T/conf" list
[ "$(cat "$T/out")" = "Mail queue is empty" ] && pass "no spool: postern list empty" || fail "no spool: postern list empty"
mkdir -p "$T/spool"
expect_rc "mailq on a spool without queue/" 75 $MQ
mkdir -p "$T/spool/queue" "$T/spool/tmp" "$T/spool/state"
expect_rc "mailq on an empty queue" 0 $MQ
[ "$(cat "$T/out")" = "Mail queue is empty" ] && pass "empty: Mail queue is empty" || fail "empty: Mail queue is empty"
expect_rc "sendmail -bp on an empty queue" 0 $SM -bp
[ "$(cat "$T/out")" = "Mail queue is empty" ] && pass "-bp empty" || fail "-bp empty"
expect_rc "postern list on an empty queue" 0 $POSTERN -C "$T/conf" list
[ "$(cat "$T/out")" = "Mail queue is empty" ] && pass "postern list empty" || fail "postern list empty"

printf 'To: "A" <a@x.org>, b@y.org\nCc: root\nSubject: q\n\n0123456789\n' > "$T/m"
IN=$T/m expect_rc "enqueue one" 0 $SM -odq -t -f sender@s.org
qid=$(basename "$(qlast)")
expect_rc "mailq with one message" 0 $MQ
out=$(cat "$T/out")
echo "$out" | head -n 1 | grep -q '^-Queue ID-' && pass "header line" || fail "header line" "$out"
echo "$out" | grep -q "^$qid  *[0-9][0-9]* [A-Z][a-z][a-z] [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]\{8\}  *sender@s.org$" && pass "queue ID, size, time, sender" || fail "queue ID, size, time, sender" "$out"
size=$(sed -n 's/^size 0*//p' "$(qlast)")
echo "$out" | grep -q "^$qid  *$size " && pass "size column is the message size" || fail "size column is the message size"
for r in a@x.org b@y.org root@example.org; do
	echo "$out" | grep -q "^  *$r$" && pass "recipient $r listed" || fail "recipient $r listed" "$out"
done
echo "$out" | tail -n 1 | grep -q '^-- 1 Kbytes in 1 Request\.$' && pass "trailer" || fail "trailer" "$(echo "$out" | tail -n 1)"

# a state file: sent recipients disappear, errors show
cat > "$T/spool/state/$qid" <<STATE
postern-state 1
attempts 2
last-attempt 1764135400
next-attempt 1764135700
error connect to smtp.example.org[192.0.2.1]:587: Connection refused
rcpt sent a@x.org
rcpt pending b@y.org
reason 451 4.3.0 try later
rcpt failed root@example.org
reason 550 5.1.1 no such user
end
STATE
expect_rc "mailq with a state file" 0 $MQ
out=$(cat "$T/out")
echo "$out" | grep -q '^  *(connect to smtp.example.org\[192.0.2.1\]:587: Connection refused)$' && pass "last error shown" || fail "last error shown" "$out"
echo "$out" | grep -q 'a@x.org' && fail "sent recipient hidden" "$out" || pass "sent recipient hidden"
echo "$out" | grep -q 'root@example.org' && fail "failed recipient hidden" || pass "failed recipient hidden"
echo "$out" | grep -q '^  *b@y.org$' && echo "$out" | grep -q '^  *(451 4.3.0 try later)$' && pass "pending recipient with its reason" || fail "pending recipient with its reason" "$out"

# order: by arrival, whatever the directory order
sleep 1
IN=$T/m expect_rc "enqueue second" 0 $SM -t -f second@s.org
sleep 1
IN=$T/m expect_rc "enqueue third" 0 $SM -t -f third@s.org
expect_rc "mailq with three" 0 $MQ
order=$(grep -o '[a-z]*@s.org$' "$T/out" | tr '\n' ' ')
[ "$order" = "sender@s.org second@s.org third@s.org " ] && pass "sorted by arrival" || fail "sorted by arrival" "$order"
grep -q '^-- 1 Kbytes in 3 Requests\.$' "$T/out" && pass "plural trailer" || fail "plural trailer" "$(tail -n 1 "$T/out")"

# a damaged file is listed, not hidden, and does not stop the listing
last=$(qlast)
head -c 60 "$last" > "$last.cut" && mv "$last.cut" "$last"
expect_rc "mailq with a damaged file" 0 $MQ
grep -q "^$(basename "$last") .*(damaged queue file)" "$T/out" && pass "damaged file listed" || fail "damaged file listed" "$(cat "$T/out")"
grep -q 'second@s.org' "$T/out" && pass "others still listed" || fail "others still listed"
# stray names are not messages
touch "$T/spool/queue/README" "$T/spool/queue/.hidden"
expect_rc "mailq ignores stray files" 0 $MQ
grep -q 'README\|hidden' "$T/out" && fail "stray files ignored" || pass "stray files ignored"

# 10,000 messages: copies of one queue file under fresh queue IDs
clearq
IN=$T/m expect_rc "enqueue template" 0 $SM -t -f bulk@s.org
tpl=$(qlast)
awk -v n=10000 'BEGIN {
	a = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; srand(11)
	for (i = 0; i < n; i++) {
		s = "1NG"; for (j = 0; j < 12; j++) s = s substr(a, int(rand()*32) + 1, 1)
		print s
	} }' | sort -u > "$T/ids"
# one awk process writes them all (10,000 cp processes take a minute)
LC_ALL=C awk -v dir="$T/spool/queue" 'NR == FNR { l[n++] = $0; next }
	{ f = dir "/" $0; for (i = 0; i < n; i++) print l[i] > f; close(f) }' "$tpl" "$T/ids"
n=$(qcount)
[ "$n" -ge 10000 ] && pass "10,000 messages queued" || fail "10,000 messages queued" "$n"
start=$(date +%s%N)
$MQ > "$T/out" 2>&1
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "mailq with $n messages: $ms ms"
[ "$(grep -c 'bulk@s.org$' "$T/out")" -eq "$n" ] && pass "all $n listed" || fail "all $n listed" "$(grep -c 'bulk@s.org$' "$T/out")"
[ "$ms" -lt 5000 ] && pass "mailq with 10,000 messages under 5 s ($ms ms)" || fail "mailq with 10,000 messages under 5 s" "$ms ms"
