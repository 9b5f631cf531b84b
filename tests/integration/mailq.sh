# mailq.sh: the queue listing: empty, one message, order, pending
# recipients and errors from a state file, damaged files, a 2,000-message
# queue of every kind compared byte for byte, 10,000 messages.
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

# 2,000 varied messages (null, UTF-8 and invalid senders, held, state
# files with sent, failed and pending recipients, reasons and errors, a
# spool status, heads and bodies over 4 KB, damaged files), listed
# byte for byte as an independent rendering in awk says
clearq
LC_ALL=C awk -v dir="$T/spool" -v raw="$T/expect.raw" -v tl="$T/times" 'BEGIN {
	a = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; srand(5); base = 1764135000
	stime = base + 2000; serr = "connect to mx.example[192.0.2.1]:587: Connection refused"
	f = dir "/status"
	printf "postern-status 1\ntime %d\nfailures 3\nclass connect\nerror %s\nend\n", stime, serr > f
	close(f)
	for (i = 0; i < 2000; i++) {
		do { q = "1NG"; for (j = 0; j < 12; j++) q = q substr(a, int(rand() * 32) + 1, 1) } while (q in seen)
		seen[q] = 1
		arr = base + (i * 31 % 300) * 13
		if (i % 10 == 0) { sl = "sender"; shown = "<>" }
		else if (i % 10 == 1) { shown = "j\303\266rg" i "@x.org"; sl = "sender " shown }
		else if (i % 10 == 2) { sl = "sender bad\377" i "@x.org"; shown = "bad?" i "@x.org" }
		else { shown = "s" i "@x.org"; sl = "sender " shown }
		nr = (i % 211 == 0) ? 150 : 1 + i % 3
		body = "Subject: m" i "\n\n"
		nl = (i % 97 == 0) ? 120 : i % 5
		for (j = 0; j < nl; j++) body = body "line " j " of the body of a message, long enough to count\n"
		size = length(body)
		rc = ""
		for (j = 0; j < nr; j++) rc = rc "rcpt pending r" j "." i "@y.org\n"
		hsize = (i % 250 == 3) ? size + 1 : size
		head = sprintf("postern-queue 1\nsize %020d\nbody 7bit\narrival %d\n%s\n%s\n", hsize, arr, sl, rc)
		f = dir "/queue/" q
		printf "%s%s", head, body > f
		close(f)
		dmg = ""
		if (i % 250 == 3)
			dmg = sprintf("size mismatch: file has %d bytes, envelope says %d", length(head) + size, length(head) + hsize)
		own = ""; last = 0; held = 0
		delete st; delete why
		for (j = 0; j < nr; j++) st[j] = "pending"
		if (i % 4 == 1 || i % 250 == 7) {
			last = arr + 50
			s = sprintf("postern-state 1\nattempts 2\nlast-attempt %d\nnext-attempt %d\n", last, last + 300)
			if (i % 12 == 5) { held = 1; s = s sprintf("hold %d\n", arr + 60) }
			if (i % 8 == 1) { own = "451 4.7.0 temporary failure " i; s = s "error " own "\n" }
			for (j = 0; j < nr; j++) {
				if (j == 0 && nr > 1) st[j] = "sent"
				else if (j == nr - 1 && i % 16 == 1 && nr > 1) { st[j] = "failed"; why[j] = "550 5.1.1 no such user" }
				else if (j % 2 == 1) why[j] = "452 4.2.2 mailbox full " j
				s = s "rcpt " st[j] " r" j "." i "@y.org\n"
				if (j in why) s = s "reason " why[j] "\n"
			}
			if (i % 250 != 7)
				s = s "end\n"
			else if (dmg == "")
				dmg = "state file has no end"
			f = dir "/state/" q
			printf "%s", s > f
			close(f)
		}
		if (dmg != "") {
			t = 0
			for (j = 1; j <= 7; j++) t = t * 32 + index(a, substr(q, j, 1)) - 1
			out = sprintf("%-16s %10s @%d@  %s\001%50s(%s)\001\001", q, "?", t, "(damaged queue file)", "", dmg)
			printf "%012d %s %s\n", t, q, out > raw
			print "@" t > tl
			continue
		}
		total += size
		out = sprintf("%-16s %10d @%d@  %s\001", q (held ? "!" : ""), size, arr, shown)
		if (stime >= arr && (own == "" || stime > last))
			out = out sprintf("%50s(connect: %s)\001", "", serr)
		else if (own != "")
			out = out sprintf("%50s(%s)\001", "", own)
		for (j = 0; j < nr; j++) {
			if (st[j] != "pending")
				continue
			out = out sprintf("%50sr%d.%d@y.org\001", "", j, i)
			if (j in why)
				out = out sprintf("%50s(%s)\001", "", why[j])
		}
		printf "%012d %s %s\001\n", arr, q, out > raw
		print "@" arr > tl
		n++
	}
	printf "%d %d\n", n, total > (dir "/../totals")
}'
sort -u "$T/times" | LC_ALL=C date -f - '+%s %a %b %e %H:%M:%S' > "$T/whens"
read good total < "$T/totals"
{
	printf '%-16s %10s %-20s  %s\n' "-Queue ID-" "--Size--" "----Arrival Time----" "-Sender/Recipient-------"
	LC_ALL=C sort "$T/expect.raw" | LC_ALL=C awk -v wf="$T/whens" 'BEGIN {
		while ((getline l < wf) > 0) { k = l; sub(/ .*/, "", k); sub(/^[^ ]* /, "", l); w[k] = l " " }
	} {
		s = substr($0, 30); t = $1 + 0
		sub("@" t "@", w[t], s); gsub("\001", "\n", s); printf "%s", s
	}'
	printf -- '-- %d Kbytes in 2000 Requests.\n' $(( (total + 1023) / 1024 ))
} > "$T/expect"
expect_rc "mailq with 2,000 varied messages" 0 $MQ
if cmp -s "$T/out" "$T/expect"; then
	pass "2,000 varied messages: listing byte for byte as expected"
else
	fail "2,000 varied messages: listing byte for byte as expected" "$(diff "$T/expect" "$T/out" | head -n 8)"
fi
grep -q '^[0-9A-Z]\{15\}! ' "$T/out" && grep -q '(damaged queue file)' "$T/out" &&
	grep -q "j$(printf '\303\266')rg1@x.org$" "$T/out" && grep -q ' bad?2@x.org$' "$T/out" && grep -q '^ *(connect: connect to' "$T/out" &&
	pass "the varied queue has held, damaged, UTF-8 and session-error lines" ||
	fail "the varied queue has held, damaged, UTF-8 and session-error lines"
expect_rc "postern list with 2,000 varied messages" 0 $POSTERN -C "$T/conf" list
cmp -s "$T/out" "$T/expect" && pass "postern list: the same listing" || fail "postern list: the same listing" "$(diff "$T/expect" "$T/out" | head -n 4)"
expect_rc "postern list --json with 2,000 varied messages" 0 $POSTERN -C "$T/conf" list --json
/usr/bin/python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
ok = len(v) == 2000 and sum(1 for m in v if m["damaged"]) == int(sys.argv[2]) and sum(1 for m in v if m["held"]) == int(sys.argv[3])
sys.exit(0 if ok else 1)' "$T/out" "$(grep -c '(damaged queue file)$' "$T/expect")" "$(grep -c '^[0-9A-Z]\{15\}! ' "$T/expect")" && pass "list --json: 2,000 objects, damaged and held ones" || fail "list --json: 2,000 objects, damaged and held ones"

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
