# queue.sh: the queue end to end against the test smarthost (plain SMTP,
# no TLS, no AUTH): temporary and permanent failures per message and per
# recipient, bounces (RFC 3464) and the null sender, expiry, concurrent
# flushes, big and long-lined messages, a flush killed mid-transaction,
# hostile servers, the retry schedule, the daemon, and a smarthost that is
# down. CONTRACT.md, "The queue"; spool/README.md for the file formats.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost

PY=/usr/bin/python3
C=$T/relay.conf
# every program run in the foreground is bounded by timeout(1)
SM="timeout 60 $SENDMAIL -C $C"

# --- helpers ---------------------------------------------------------------

# mkconf PORT [LINE...]: a configuration for a plain smarthost on
# 127.0.0.1:PORT; the timeouts come from CONNECT_TMO, COMMAND_TMO and
# DATA_TMO (relay_conf cannot change them: a key given twice is an error).
mkconf() {
	_port=$1; shift
	{
		printf 'spool_dir %s/spool\ndomain example.org\n' "$T"
		printf 'helo_name client.example\ntls none\n'
		printf 'smarthost 127.0.0.1:%s\n' "$_port"
		printf 'connect_timeout %s\ncommand_timeout %s\ndata_timeout %s\n' \
		    "${CONNECT_TMO:-5s}" "${COMMAND_TMO:-10s}" "${DATA_TMO:-20s}"
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} > "$C"
}
# resetq: an empty spool, without the smarthost's health record.
resetq() { clearq; rm -f "$T/spool/status"; }
# send TAG [SENDMAIL ARGS...]: queues (-odq) a small message whose Subject
# is "TAG subject" and Message-ID <TAG@queue.test>; sets QID.
send() {
	_tag=$1; shift
	printf 'From: s@x.org\nSubject: %s subject\nMessage-ID: <%s@queue.test>\n\nbody of %s\n' \
	    "$_tag" "$_tag" "$_tag" | $SM -odq "$@" > "$T/send.out" 2> "$T/send.err" ||
	    fail "queue $_tag" "$(cat "$T/send.err")"
	QID=$(basename "$(qlast)")
}
# flush [ARGS]: postern flush; output in $T/flush.out and $T/flush.err.
flush() { timeout 120 $POSTERN -C "$C" flush "$@" > "$T/flush.out" 2> "$T/flush.err"; }
# mq: mailq's listing into $T/mq.
mq() { timeout 30 $MAILQ -C "$C" > "$T/mq" 2>&1; }
# sv QID KEY: a value from the state file of QID.
sv() { sed -n "s/^$2 //p" "$T/spool/state/$1" 2>/dev/null; }
# rcpts NAME ADDR: how many RCPT TO:<ADDR> the smarthost NAME stored, in
# all its messages.
rcpts() { cat "$T/$1"/*.env 2>/dev/null | grep -cx "RCPT TO:<$2>"; }
# msgids NAME TAG: how many of smarthost NAME's messages carry the
# Message-ID of TAG.
msgids() { cat "$T/$1"/*.eml 2>/dev/null | tr -d '\r' | grep -acx "Message-ID: <$2@queue.test>"; }
# events NAME WORD: how many events WORD smarthost NAME logged.
events() { awk -v w="$2" '$3 == w' "$T/$1/events.log" 2>/dev/null | wc -l; }
# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL if it has not ended in
# SECONDS (default 5); sets STOP_RC to its exit status, STOP_MS to the time
# it took; returns 1 if it had to be killed.
stop_pid() {
	_t0=$(ms)
	kill -TERM "$1" 2>/dev/null
	wait_until "${2:-5}" "! alive $1"
	_killed=0
	if alive "$1"; then kill -KILL "$1" 2>/dev/null; _killed=1; fi
	wait "$1" 2>/dev/null; STOP_RC=$?
	STOP_MS=$(($(ms) - _t0))
	return $_killed
}
q_has() { [ -e "$T/spool/queue/$1" ]; }
state_has() { [ -e "$T/spool/state/$1" ]; }
nstate() { ls "$T/spool/state" 2>/dev/null | wc -l; }
# check NAME EXPR: PASS if the shell expression EXPR (eval'ed) succeeds,
# else FAIL with $WHY (then cleared) as the explanation.
check() {
	if eval "$2"; then pass "$1"; else fail "$1" "${WHY:-}"; fi
	WHY=""
}
WHY=""

TIMEV=""
if /usr/bin/time -v -o /dev/null true 2>/dev/null; then
	TIMEV="/usr/bin/time -v -o $T/time.out"
fi

# === 1. 4xx at the end of DATA, then success ==============================
resetq
start_smarthost s1 -- --fail-first 1
mkconf "$SH_PORT"
send c1 -f s1@x.org r1@x.org
t0=$(date +%s)
flush
check "1: 451: message stays queued, nothing stored" \
    '[ "$(qcount)" -eq 1 ] && [ "$(received s1)" -eq 0 ] && q_has "$QID"'
mq
WHY="$(cat "$T/mq")"
check "1: mailq shows the 451 reply" \
    'grep -q "(451 4.3.0 Temporary failure (--fail-first))" "$T/mq"'
WHY="$(cat "$T/spool/state/$QID" 2>&1)"
check "1: state file with attempts 1" \
    '[ "$(sv "$QID" attempts)" = 1 ]'
la=$(sv "$QID" last-attempt); na=$(sv "$QID" next-attempt)
WHY="last $la next $na flush started $t0"
check "1: next-attempt 60 s after last-attempt" \
    '[ "$((${na:-0} - ${la:-0}))" -eq 60 ] && [ "$((${na:-0} - t0))" -ge 59 ] && [ "$((${na:-0} - t0))" -le 62 ]'
flush
WHY="received $(received s1), queue $(qcount)"
check "1: second flush delivers it" \
    '[ "$(received s1)" -eq 1 ] && [ "$(qcount)" -eq 0 ]'
check "1: delivered exactly once" \
    '[ "$(msgids s1 c1)" -eq 1 ]'
check "1: state file removed with the message" \
    '! state_has "$QID"'
stop_smarthost s1

# === 2. 5xx for one recipient of two: partial delivery and a bounce =======
resetq
start_smarthost s2 -- --reply-rcpt 'bad@x.org=550 5.1.1 no such user'
mkconf "$SH_PORT"
send c2 -f orig@x.org good@x.org bad@x.org
OQID=$QID
flush
WHY="received $(received s2); good $(rcpts s2 good@x.org) bad $(rcpts s2 bad@x.org)"
check "2: good@ delivered once, bad@ not" \
    '[ "$(received s2)" -eq 1 ] && [ "$(rcpts s2 good@x.org)" -eq 1 ] && [ "$(rcpts s2 bad@x.org)" -eq 0 ]'
check "2: the message left the queue" \
    '! q_has "$OQID" && ! state_has "$OQID"'
B=$(qlast)
WHY="queue: $(ls "$T/spool/queue")"
if [ "$(qcount)" -eq 1 ] && [ "$(basename "$B")" != "$OQID" ]; then
	pass "2: a bounce is queued"
	qhead "$B" > "$T/bh"
	qmsg "$B" > "$T/bounce"
else
	fail "2: a bounce is queued" "$WHY"
	: > "$T/bh"; : > "$T/bounce"
fi
WHY="$(cat "$T/bh")"
check "2: bounce has the null sender" \
    'grep -qx "sender" "$T/bh"'
check "2: bounce goes to the original sender only" \
    '[ "$(grep -c "^rcpt " "$T/bh")" -eq 1 ] && grep -qx "rcpt pending orig@x.org" "$T/bh"'
WHY="$(head -c 3000 "$T/bounce")"
check "2: bounce is multipart/report; report-type=delivery-status" \
    'grep -qi "^Content-Type: multipart/report;.*report-type=delivery-status" "$T/bounce"'
check "2: bounce has a message/delivery-status part" \
    'grep -qi "^Content-Type: message/delivery-status" "$T/bounce"'
check "2: bounce names bad@x.org as Final-Recipient" \
    'grep -qi "^Final-Recipient: rfc822; *bad@x.org\$" "$T/bounce"'
check "2: bounce says Action: failed, Status: 5.1.1" \
    'grep -qx "Action: failed" "$T/bounce" && grep -qx "Status: 5.1.1" "$T/bounce"'
check "2: bounce carries the server's 550 text" \
    'grep -q "^Diagnostic-Code: smtp; *550 5.1.1 no such user" "$T/bounce"'
check "2: bounce does not name good@x.org as failed" \
    '! grep -qi "Final-Recipient:.*good@x.org" "$T/bounce"'
sed -n '/^Content-Type: text\/rfc822-headers/,$p' "$T/bounce" > "$T/bounce.hdrs"
check "2: bounce has text/rfc822-headers with the original Subject" \
    'grep -qx "Subject: c2 subject" "$T/bounce.hdrs"'
check "2: original Message-ID in the returned headers" \
    'grep -qx "Message-ID: <c2@queue.test>" "$T/bounce.hdrs"'
check "2: returned headers only, not the body" \
    '! grep -q "body of c2" "$T/bounce"'
# (the -v dialogue shows the wire; aiosmtpd stores the null sender as
# "<>", so the .env file says MAIL FROM:<<>>)
flush -v
last=$(ls "$T/s2" | grep '\.env$' | sort | tail -n 1)
WHY="$(cat "$T/s2/$last" 2>&1); $(grep '^>>> MAIL' "$T/flush.err")"
check "2: next flush sends the bounce with MAIL FROM:<>" \
    '[ "$(received s2)" -eq 2 ] && grep -q "^>>> MAIL FROM:<>\( \|\$\)" "$T/flush.err" &&
     grep -qx "MAIL FROM:<\(<>\)\?>" "$T/s2/$last" && grep -qx "RCPT TO:<orig@x.org>" "$T/s2/$last"'
check "2: queue empty after the bounce" \
    '[ "$(qcount)" -eq 0 ]'
WHY="good@ sent $(rcpts s2 good@x.org) times"
check "2: good@ never sent twice" \
    '[ "$(rcpts s2 good@x.org)" -eq 1 ]'

# === 3. a null-sender message refused with 5xx is not bounced =============
resetq
n0=$(received s2); m0=$(events s2 reply-rcpt)
send c3 -f '<>' bad@x.org
grep -qx 'sender' "$T/spool/queue/$QID" || fail "3: queued with the null sender" "$(qhead "$(qlast)")"
flush
WHY="queue: $(ls "$T/spool/queue"), reply-rcpt events $m0 -> $(events s2 reply-rcpt)"
check "3: the server refused it" \
    '[ "$(events s2 reply-rcpt)" -eq $((m0 + 1)) ]'
check "3: message removed, no bounce queued" \
    '[ "$(qcount)" -eq 0 ] && [ "$(nstate)" -eq 0 ]'
check "3: nothing stored at the smarthost" \
    '[ "$(received s2)" -eq "$n0" ]'
stop_smarthost s2

# === 4. 4xx for one recipient: the accepted one is not sent again =========
resetq
start_smarthost s4 -- --reply-rcpt 'later@x.org=451 4.2.0 mailbox busy' --fault-count 1
mkconf "$SH_PORT"
send c4 -f s4@x.org now@x.org later@x.org
flush
WHY="received $(received s4), now $(rcpts s4 now@x.org), later $(rcpts s4 later@x.org)"
check "4: now@ delivered, later@ deferred" \
    '[ "$(received s4)" -eq 1 ] && [ "$(rcpts s4 now@x.org)" -eq 1 ] && [ "$(rcpts s4 later@x.org)" -eq 0 ]'
WHY="$(cat "$T/spool/state/$QID" 2>&1)"
check "4: state: now@ sent, later@ pending with the 451" \
    'grep -qx "rcpt sent now@x.org" "$T/spool/state/$QID" && grep -qx "rcpt pending later@x.org" "$T/spool/state/$QID" && grep -qx "reason 451 4.2.0 mailbox busy" "$T/spool/state/$QID"'
mq
WHY="$(cat "$T/mq")"
check "4: mailq lists later@ only, with its reply" \
    'grep -q "^ *later@x.org\$" "$T/mq" && ! grep -q "now@x.org" "$T/mq" && grep -q "(451 4.2.0 mailbox busy)" "$T/mq"'
flush
WHY="received $(received s4), now $(rcpts s4 now@x.org), later $(rcpts s4 later@x.org), queue $(qcount)"
check "4: later@ delivered once on the retry" \
    '[ "$(rcpts s4 later@x.org)" -eq 1 ] && [ "$(received s4)" -eq 2 ]'
check "4: now@ not sent again" \
    '[ "$(rcpts s4 now@x.org)" -eq 1 ]'
check "4: queue empty" \
    '[ "$(qcount)" -eq 0 ] && [ "$(nstate)" -eq 0 ]'
stop_smarthost s4

# === 5. expiry ============================================================
resetq
start_smarthost s5 -- --fail-first 1000
mkconf "$SH_PORT" 'queue_lifetime 2s'
send c5 -f s5@x.org r5@x.org
OQID=$QID
flush
WHY="queue $(qcount), state: $(cat "$T/spool/state/$OQID" 2>&1)"
check "5: deferred by the 451 server" \
    '[ "$(qcount)" -eq 1 ] && [ "$(sv "$OQID" attempts)" = 1 ]'
c0=$(events s5 connect); f0=$(events s5 fail-first)
sleep 2.3
flush
check "5: expired message left the queue" \
    '! q_has "$OQID" && ! state_has "$OQID"'
WHY="connects $c0 -> $(events s5 connect), DATA $f0 -> $(events s5 fail-first)"
check "5: nothing more sent to the smarthost for it" \
    '[ "$(events s5 connect)" -eq "$c0" ] && [ "$(events s5 fail-first)" -eq "$f0" ]'
B=$(qlast)
if [ -n "$B" ] && [ "$(basename "$B")" != "$OQID" ]; then
	qhead "$B" > "$T/bh"; qmsg "$B" > "$T/bounce"
else
	: > "$T/bh"; : > "$T/bounce"
fi
WHY="$(cat "$T/bh")"
check "5: a bounce is queued to the sender with <>" \
    '[ "$(qcount)" -eq 1 ] && grep -qx "sender" "$T/bh" && grep -qx "rcpt pending s5@x.org" "$T/bh"'
WHY="$(grep -i 'expired\|Status\|Diagnostic' "$T/bounce")"
check "5: the bounce says the message expired" \
    'grep -q "expired" "$T/bounce"'
check "5: the bounce names r5@x.org, Status 5.4.7" \
    'grep -qi "^Final-Recipient: rfc822; *r5@x.org\$" "$T/bounce" && grep -qx "Status: 5.4.7" "$T/bounce"'
check "5: the bounce keeps the last error (451)" \
    'grep -q "expired.*451 4.3.0" "$T/bounce"'
check "5: the expiry reason does not claim '0 days' for a 2 s lifetime" \
    '! grep -q "after 0 days" "$T/bounce"'
stop_smarthost s5

# === 6. concurrency: 20 senders, 3 flushes and sendmail -q ===============
resetq
start_smarthost s6 --
mkconf "$SH_PORT"
rm -f "$T/c6.fail"
pids=""
i=1
while [ $i -le 20 ]; do
	(
		j=1
		while [ $j -le 10 ]; do
			printf 'From: s6@x.org\nSubject: c6 %s-%s\nMessage-ID: <c6-%s-%s@queue.test>\n\nbody %s %s\n' \
			    $i $j $i $j $i $j | $SM -odq -f s6@x.org r6@x.org 2>> "$T/c6.fail" ||
			    echo "sendmail $i-$j failed" >> "$T/c6.fail"
			j=$((j + 1))
		done
	) &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
WHY="$(qcount) queued; $(head -c 300 "$T/c6.fail" 2>/dev/null)"
check "6: 200 messages queued by 20 parallel senders" \
    '[ "$(qcount)" -eq 200 ] && [ ! -s "$T/c6.fail" ]'
t0=$(ms)
timeout 90 $POSTERN -C "$C" flush > /dev/null 2> "$T/c6.e1" & f1=$!
timeout 90 $POSTERN -C "$C" flush > /dev/null 2> "$T/c6.e2" & f2=$!
timeout 90 $POSTERN -C "$C" flush > /dev/null 2> "$T/c6.e3" & f3=$!
timeout 90 $SM -q > /dev/null 2> "$T/c6.e4" & f4=$!
rcs=""
for p in $f1 $f2 $f3 $f4; do wait "$p"; rcs="$rcs $?"; done
el=$(($(ms) - t0))
WHY="exit statuses:$rcs; $(cat "$T"/c6.e? | head -c 300)"
echo "# 6: the flushes took $el ms"
check "6: 3 flushes and sendmail -q all exit 0" \
    '[ "$rcs" = " 0 0 0 0" ]'
cat "$T/s6"/*.eml 2>/dev/null | tr -d '\r' | grep -a '^Message-ID: <c6-' | sort | uniq -c > "$T/c6.ids"
distinct=$(wc -l < "$T/c6.ids")
dups=$(awk '$1 > 1' "$T/c6.ids" | wc -l)
WHY="$distinct distinct Message-IDs, $dups duplicated: $(awk '$1 > 1' "$T/c6.ids" | head -n 5 | tr '\n' ' ')"
check "6: every Message-ID arrived exactly once" \
    '[ "$distinct" -eq 200 ] && [ "$dups" -eq 0 ] && [ "$(received s6)" -eq 200 ]'
WHY="queue $(qcount), state $(nstate)"
check "6: queue empty at the end" \
    '[ "$(qcount)" -eq 0 ] && [ "$(nstate)" -eq 0 ]'
stop_smarthost s6

# === 7. a 20 MB message byte-exact; lines over 998 octets folded =========
resetq
start_smarthost s7 --
mkconf "$SH_PORT"
$PY - "$T/big" <<'EOF'
import random, sys
random.seed(20)
pool = bytes(random.choice(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           b"0123456789 .,;:!?-_=+*/()<>[]{}#$%&@'\"\t")
             for _ in range(1 << 16)) + "äöü€ – ✓".encode() * 64
specials = [b".", b"..", b"...", b". dot space", b".\t", b"", b" ", b"\t",
            b"From somebody", b".From", b"=2E", b"-- ", b"." * 997]
out = [b"From: big@x.org\nTo: r7@x.org\nSubject: c7 big\n"
       b"Date: Thu, 01 Jan 2026 00:00:00 +0000\n"
       b"Message-ID: <c7-big@queue.test>\n\n"]
size = sum(map(len, out))
while size < 20 * 1000 * 1000:
    r = random.random()
    if r < 0.05:
        line = random.choice(specials)
    else:
        # lines of up to 998 octets; one starting with "." up to 997
        # (the 998-octet dot line is the edge case below)
        dot = r < 0.15
        top = 998 - dot
        n = random.choice((random.randint(0, 80), random.randint(0, top), top))
        o = random.randrange(len(pool) - n)
        line = (b"." if dot else b"") + pool[o:o + n]
        line = line[:997 if line.startswith(b".") else 998]
    out.append(line + b"\n")
    size += len(line) + 1
open(sys.argv[1], "wb").write(b"".join(out))
EOF
$PY -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(d.replace(b"\n", b"\r\n"))' \
    "$T/big" "$T/big.crlf"
$SM -odq -i -f big@x.org r7@x.org < "$T/big" 2> "$T/send.err" || fail "7: queue 20 MB" "$(cat "$T/send.err")"
t0=$(ms)
flush
el=$(($(ms) - t0))
WHY="received $(received s7), queue $(qcount); $(head -c 300 "$T/flush.err")"
echo "# 7: the 20 MB flush took $el ms"
check "7: 20 MB message delivered" \
    '[ "$(received s7)" -eq 1 ] && [ "$(qcount)" -eq 0 ]'
e=$(ls "$T/s7"/*.eml 2>/dev/null | head -n 1)
WHY="$(cmp "$T/big.crlf" "${e:-/dev/null}" 2>&1 | head -c 300); sizes $(wc -c < "$T/big.crlf") vs $(wc -c < "${e:-/dev/null}")"
check "7: 20 MB message byte-exact (CRLF, un-dot-stuffed)" \
    'cmp -s "$T/big.crlf" "${e:-/dev/null}"'
r=$(ls "$T/s7"/*.raw 2>/dev/null | head -n 1)
WHY="$(LC_ALL=C awk 'length($0) > 999 { print NR": "length($0); exit }' "${r:-/dev/null}")"
check "7: no line on the wire over 1000 octets with CRLF" \
    '[ -z "$(LC_ALL=C awk "length(\$0) > 999 { print; exit }" "${r:-/dev/null}")" ]'
rm -f "$T/big" "$T/big.crlf" "$T/s7"/*.eml "$T/s7"/*.raw

# a 998-octet line is legal (RFC 5321 4.5.3.1.6: the stuffed dot does not
# count): it must arrive unchanged, even when it starts with '.'
n0=$(received s7)
$PY - "$T/edge" <<'EOF'
import sys
a = b"a" * 998
d = b"." + b"d" * 997
open(sys.argv[1], "wb").write(b"From: e@x.org\nSubject: c7 edge\nMessage-ID: <c7-edge@queue.test>\n"
                              b"Date: Thu, 01 Jan 2026 00:00:00 +0000\n\n"
                              + a + b"\n" + d + b"\n.\n")
EOF
$SM -odq -i -f e@x.org r7@x.org < "$T/edge"
flush
e=$(ls "$T/s7"/*.eml 2>/dev/null | sort | tail -n 1)
$PY -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(d.replace(b"\n", b"\r\n"))' \
    "$T/edge" "$T/edge.crlf"
WHY="$(cmp "$T/edge.crlf" "${e:-/dev/null}" 2>&1)"
check "7: 998-octet lines (one starting with '.') arrive unchanged" \
    '[ "$(received s7)" -eq $((n0 + 1)) ] && cmp -s "$T/edge.crlf" "${e:-/dev/null}"'

# a 3000-octet line: delivered, folded by CR LF SP after 998 octets
n0=$(received s7)
$PY - "$T/long" "$T/long.want" <<'EOF'
import sys
line = bytes(b"0123456789abcdefghijklmnopqrstuvwxyz"[i % 36] for i in range(3000))
head = (b"From: l@x.org\nSubject: c7 long\nMessage-ID: <c7-long@queue.test>\n"
        b"Date: Thu, 01 Jan 2026 00:00:00 +0000\n\n")
open(sys.argv[1], "wb").write(head + b"before\n" + line + b"\nafter\n")
# README.md: folded on the wire by inserting CR LF SP; each wire line at
# most 998 octets: 998, then SP + 997, SP + 997, SP + the rest
want = line[:998] + b"\r\n " + line[998:1995] + b"\r\n " + line[1995:2992] \
       + b"\r\n " + line[2992:]
open(sys.argv[2], "wb").write(head.replace(b"\n", b"\r\n") + b"before\r\n"
                              + want + b"\r\nafter\r\n")
EOF
$SM -odq -i -f l@x.org r7@x.org < "$T/long"
flush
WHY="received $(received s7), queue $(qcount); $(head -c 300 "$T/flush.err")"
check "7: a 3000-octet line is delivered, not failed or lost" \
    '[ "$(received s7)" -eq $((n0 + 1)) ] && [ "$(qcount)" -eq 0 ]'
e=$(ls "$T/s7"/*.eml 2>/dev/null | sort | tail -n 1)
WHY="$(cmp "$T/long.want" "${e:-/dev/null}" 2>&1)"
check "7: the long line folded by CR LF SP after 998 octets" \
    'cmp -s "$T/long.want" "${e:-/dev/null}"'
stop_smarthost s7

# === 8. flush killed with SIGKILL while waiting for the final reply =======
resetq
start_smarthost s8 -- --hang-at dot --timeout 30
mkconf "$SH_PORT"
$PY -c 'import sys
sys.stdout.write("From: k@x.org\nSubject: c8 subject\nMessage-ID: <c8@queue.test>\n"
                 "Date: Thu, 01 Jan 2026 00:00:00 +0000\n\n")
for i in range(5000): sys.stdout.write("line %d of the killed flush\n" % i)' > "$T/c8"
$SM -odq -i -f k@x.org r8@x.org < "$T/c8"
QID=$(basename "$(qlast)")
sum0=$(md5sum < "$T/spool/queue/$QID")
$POSTERN -C "$C" flush > /dev/null 2>&1 &
fp=$!
PIDS="$PIDS $fp"
if wait_until 10 'grep -q " hang dot" "$T/s8/events.log"'; then
	pass "8: the flush reached the end of DATA"
else
	fail "8: the flush reached the end of DATA" "$(cat "$T/s8/events.log")"
fi
kill -KILL "$fp" 2>/dev/null
wait "$fp" 2>/dev/null
WHY="queue $(qcount)"
check "8: after kill -9 the message is still queued" \
    'q_has "$QID"'
WHY="$(md5sum < "$T/spool/queue/$QID" 2>&1) vs $sum0"
check "8: queue file unchanged" \
    '[ "$(md5sum < "$T/spool/queue/$QID" 2>/dev/null)" = "$sum0" ]'
mq
WHY="$(cat "$T/mq")"
check "8: mailq lists it, not damaged" \
    'grep -q "^$QID " "$T/mq" && ! grep -q "damaged" "$T/mq" && grep -q "^ *r8@x.org\$" "$T/mq"'
stop_smarthost s8
start_smarthost s8b --
mkconf "$SH_PORT"
flush
n=$(msgids s8b c8); n8=$(msgids s8 c8)
echo "# 8: copies delivered after the restart: $n; stored by the hung server: $n8;" \
    "duplicates: $((n + n8 - 1))"
WHY="received by the new server: $n, by the hung one: $n8, queue $(qcount)"
check "8: a flush after the restart delivers it" \
    '[ "$n" -ge 1 ] && [ "$(qcount)" -eq 0 ]'
check "8: no duplicate (the hung server never stored it)" \
    '[ "$((n + n8))" -eq 1 ]'
e=$(ls "$T/s8b"/*.eml 2>/dev/null | head -n 1)
tr -d '\r' < "${e:-/dev/null}" > "$T/c8.got"
check "8: delivered complete" \
    'cmp -s "$T/c8" "$T/c8.got"'
stop_smarthost s8b

# === 9. hostile servers: bounded time and memory ==========================
# hostile NAME SMARTHOST-ARGS...
# (smarthost names become shell variable names: h1, h2...)
HN=0
hostile() {
	_h=$1; shift
	HN=$((HN + 1)); _s=h$HN
	resetq
	start_smarthost $_s -- --timeout 60 "$@" || return 0
	CONNECT_TMO=2s COMMAND_TMO=2s DATA_TMO=3s mkconf "$SH_PORT"
	send c9"$_h" -f h@x.org r9@x.org
	_t0=$(ms)
	timeout 60 $TIMEV $POSTERN -C "$C" flush > "$T/flush.out" 2> "$T/flush.err"
	_rc=$?
	_el=$(($(ms) - _t0))
	WHY="took $_el ms, exit $_rc"
	echo "# 9 $_h: flush took $_el ms"
	check "9 $_h: flush returns within 30 s" \
	    '[ "$_el" -lt 30000 ] && [ "$_rc" -ne 124 ]'
	WHY="queue $(qcount), stored $(received $_s)"
	check "9 $_h: message stays queued" \
	    'q_has "$QID" && [ "$(received $_s)" -eq 0 ]'
	mq
	WHY="$(cat "$T/mq")"
	check "9 $_h: mailq shows an error" \
	    'grep -q "^ *(.*[a-z]" "$T/mq"'
	echo "# 9 $_h: $(grep '^ *(' "$T/mq" | head -n 1 | sed 's/^ *//')"
	if [ -n "$TIMEV" ]; then
		_rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T/time.out")
		WHY="peak RSS ${_rss:-?} kB"
		echo "# 9 $_h: peak RSS ${_rss:-?} kB"
		check "9 $_h: peak RSS under 50 MB" \
		    '[ "${_rss:-999999}" -lt 51200 ]'
	else
		skip "9 $_h: peak RSS" "/usr/bin/time -v is not available"
	fi
	stop_smarthost $_s
}
hostile endless-line --endless-line
hostile endless-line-fast --endless-line --endless-delay 0
hostile endless-multiline --endless-multiline
hostile endless-multiline-fast --endless-multiline --endless-delay 0
hostile hang-greeting --hang-at greeting
hostile hang-mail --hang-at mail
hostile hang-dot --hang-at dot

# === 10. the retry schedule; the daemon respects it, flush does not ======
resetq
start_smarthost s10 -- --fail-first 1000
mkconf "$SH_PORT"
send c10 -f s10@x.org r10@x.org
RQID=$QID
flush
a1=$(sv "$RQID" attempts); d1=$(($(sv "$RQID" next-attempt) - $(sv "$RQID" last-attempt)))
flush
a2=$(sv "$RQID" attempts); d2=$(($(sv "$RQID" next-attempt) - $(sv "$RQID" last-attempt)))
WHY="attempts $a1, next - last = $d1"
check "10: after the first failed attempt: next-attempt = last + 60" \
    '[ "$a1" = 1 ] && [ "$d1" -eq 60 ]'
WHY="attempts $a2, next - last = $d2"
check "10: after the second: next-attempt = last + 300" \
    '[ "$a2" = 2 ] && [ "$d2" -eq 300 ]'
stop_smarthost s10
start_smarthost s10b --
mkconf "$SH_PORT"
$POSTERN -C "$C" daemon > "$T/d10.out" 2>&1 &
dp=$!
PIDS="$PIDS $dp"
sleep 0.5
send c10fresh -f s10@x.org r10@x.org
wait_until 10 '[ "$(msgids s10b c10fresh)" -ge 1 ]'
WHY="$(cat "$T/d10.out")"
check "10: the daemon delivers a new message" \
    '[ "$(msgids s10b c10fresh)" -eq 1 ]'
sleep 1
WHY="delivered $(msgids s10b c10) times; attempts $(sv "$RQID" attempts)"
check "10: the daemon leaves the backed-off message alone" \
    '[ "$(msgids s10b c10)" -eq 0 ] && q_has "$RQID" && [ "$(sv "$RQID" attempts)" = 2 ]'
stop_pid "$dp"
WHY="exit $STOP_RC after $STOP_MS ms"
check "10: daemon stopped by SIGTERM" \
    '[ "$STOP_RC" -eq 0 ]'
flush
WHY="delivered $(msgids s10b c10) times, queue $(qcount)"
check "10: postern flush ignores next-attempt" \
    '[ "$(msgids s10b c10)" -eq 1 ] && [ "$(qcount)" -eq 0 ]'
stop_smarthost s10b

# === 11. the daemon: inotify, SIGTERM ====================================
resetq
start_smarthost s11 --
mkconf "$SH_PORT"
$POSTERN -C "$C" daemon > "$T/d11.out" 2>&1 &
dp=$!
PIDS="$PIDS $dp"
sleep 1		# its first pass is over: only inotify (or the 60 s poll) wakes it
check "11: daemon running" \
    'alive "$dp"'
t0=$(ms)
send c11 -f s11@x.org r11@x.org
wait_until 5 '[ "$(msgids s11 c11)" -ge 1 ]'
el=$(($(ms) - t0))
WHY="delivered $(msgids s11 c11) times after $el ms; $(cat "$T/d11.out")"
echo "# 11: delivered after $el ms"
check "11: a queued message is delivered within 5 s" \
    '[ "$(msgids s11 c11)" -eq 1 ] && [ "$el" -lt 5000 ]'
wait_until 2 '[ "$(qcount)" -eq 0 ]'
check "11: and leaves the queue" \
    '[ "$(qcount)" -eq 0 ]'
send c11b -f s11@x.org r11@x.org
wait_until 5 '[ "$(msgids s11 c11b)" -ge 1 ]'
check "11: a second message too" \
    '[ "$(msgids s11 c11b)" -eq 1 ]'
if stop_pid "$dp" 5; then
	WHY="exit $STOP_RC"
	echo "# 11: the daemon stopped after $STOP_MS ms"
	check "11: SIGTERM stops the daemon within 5 s with exit 0" \
	    '[ "$STOP_RC" -eq 0 ]'
else
	fail "11: SIGTERM stops the daemon within 5 s with exit 0" "still running after 5 s: killed"
fi
# a daemon started (at boot, say) before anything was ever queued: the
# spool does not exist yet
sed "s|^spool_dir .*|spool_dir $T/spool11|" "$C" > "$T/c11"
$POSTERN -C "$T/c11" daemon > "$T/d11.out" 2>&1 &
dp=$!
PIDS="$PIDS $dp"
sleep 1
WHY="it exited: $(cat "$T/d11.out")"
check "11: a daemon started before the spool exists keeps running" \
    'alive "$dp"'
printf 'From: s@x.org\nSubject: c11c\nMessage-ID: <c11c@queue.test>\n\nbody\n' |
    timeout 60 $SENDMAIL -C "$T/c11" -odq -f s11@x.org r11@x.org
wait_until 5 '[ "$(msgids s11 c11c)" -ge 1 ]'
WHY="$(cat "$T/d11.out")"
check "11: and delivers what is queued later" \
    '[ "$(msgids s11 c11c)" -eq 1 ]'
stop_pid "$dp" 5
stop_smarthost s11

# === 12. smarthost down: one connection attempt per pass =================
resetq
port=$(free_port)
mkconf "$port"
i=1
while [ $i -le 50 ]; do send c12-$i -f s12@x.org r12@x.org; i=$((i + 1)); done
check "12: 50 messages queued" \
    '[ "$(qcount)" -eq 50 ]'
STRACE=""
if command -v strace > /dev/null 2>&1 && strace -f -qq -o /dev/null true 2>/dev/null; then
	STRACE="strace -f -qq -y -e trace=connect,openat -o $T/strace"
fi
t0=$(ms)
# LeakSanitizer cannot run under ptrace: no leak check for this one run
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	timeout 60 $STRACE $POSTERN -C "$C" flush -v > "$T/flush.out" 2> "$T/flush.err"
rc=$?
el=$(($(ms) - t0))
WHY="exit $rc after $el ms"
echo "# 12: the flush took $el ms"
check "12: flush of 50 messages, smarthost down: exit 0 in under 5 s" \
    '[ "$rc" -eq 0 ] && [ "$el" -lt 5000 ]'
if [ -n "$STRACE" ]; then
	nc=$(grep -c "htons($port)" "$T/strace")
	WHY="$(grep "htons($port)" "$T/strace" | head -n 3)"
	check "12: exactly one connection attempt (strace)" \
	    '[ "$nc" -eq 1 ]'
	# once the smarthost failed, messages too young to expire are not
	# even opened: the first one only
	no=$(grep -Ec 'openat\(.*/queue>, "[0-9A-Z]{15}"' "$T/strace")
	WHY="$no queue files opened"
	check "12: after the failure no young message is opened (strace)" \
	    '[ "$no" -eq 1 ]'
else
	skip "12: connection attempts counted with strace" "strace is not usable here"
fi
nr=$(grep -c '^postern: connect to .*refused' "$T/flush.err")
WHY="$(head -c 500 "$T/flush.err")"
check "12: one refused connection in the -v log" \
    '[ "$nr" -eq 1 ]'
WHY="$(ls "$T/spool/state")"
check "12: no state files written" \
    '[ "$(nstate)" -eq 0 ]'
WHY="$(cat "$T/spool/status" 2>&1)"
check "12: failure recorded once in spool_dir/status" \
    'grep -qx "failures 1" "$T/spool/status" && grep -qi "^error .*refused" "$T/spool/status"'
mq
WHY="$(grep -ci 'refused' "$T/mq") of $(grep -c '^[0-9A-Z]\{15\} ' "$T/mq"); $(head -n 4 "$T/mq")"
check "12: mailq shows the error for every message" \
    '[ "$(grep -ci "^ *(.*refused" "$T/mq")" -eq 50 ] && [ "$(qcount)" -eq 50 ]'

# === 13. smarthost down: messages old enough to expire are still read ====
# A queue ID holds its message's creation time: copies of a queued
# message under IDs 2 days and 10 minutes old. With queue_lifetime 1d and
# the smarthost down, the old one expires (bounced), the young ones stay.
resetq
port=$(free_port)
mkconf "$port" "queue_lifetime 1d"
send c13 -f s13@x.org r13@x.org
young=$(basename "$(qlast)")
qid_at() {	# qid_at SECONDS_AGO TAIL8: a queue ID of that time
	/usr/bin/python3 -c 'import sys, time
c = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
t = int(time.time()) - int(sys.argv[1]); s = ""
for i in range(7): s = c[t & 31] + s; t >>= 5
print(s + sys.argv[2])' "$1" "$2"
}
old=$(qid_at 172800 00000000)
mid=$(qid_at 600 00000001)
arr=$(($(date +%s) - 172800))
sed "s/^arrival .*/arrival $arr/" "$T/spool/queue/$young" > "$T/spool/queue/$old"
cp "$T/spool/queue/$young" "$T/spool/queue/$mid"
timeout 60 $POSTERN -C "$C" flush > "$T/flush.out" 2> "$T/flush.err"
rc=$?
WHY="exit $rc; $(ls "$T/spool/queue" | tr '\n' ' '); $(head -c 300 "$T/flush.err")"
check "13: the message 2 days old expired with the smarthost down" \
    '[ "$rc" -eq 0 ] && [ ! -e "$T/spool/queue/$old" ]'
check "13: the young ones stay queued" \
    '[ -e "$T/spool/queue/$young" ] && [ -e "$T/spool/queue/$mid" ]'
nb=$(grep -l '^sender$' "$T"/spool/queue/* 2>/dev/null | wc -l)
check "13: its sender got a bounce (queued)" '[ "$nb" -eq 1 ]'
