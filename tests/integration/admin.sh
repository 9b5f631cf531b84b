# admin.sh: queue administration with postern(8): list --json, show,
# delete, hold and release, retry, cleanup, the check plugin, and changes
# made while flushes deliver through a slow smarthost (never a
# half-removed message, never a duplicate). spool/README.md describes
# the files; the smarthost is tests/tools/smarthost.py.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost

PY=/usr/bin/python3
C=$T/relay.conf
SM="timeout 60 $SENDMAIL -C $C"
PT="timeout 120 $POSTERN -C $C"

# --- helpers ---------------------------------------------------------------

# mkconf PORT [LINE...]: a plain (no TLS, no AUTH) smarthost on PORT.
mkconf() {
	_port=$1; shift
	{
		printf 'spool_dir %s/spool\ndomain example.org\n' "$T"
		printf 'helo_name client.example\ntls none\n'
		printf 'smarthost 127.0.0.1:%s\n' "$_port"
		printf 'connect_timeout 5s\ncommand_timeout 10s\ndata_timeout 20s\n'
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} > "$C"
}
resetq() { clearq; rm -f "$T/spool/status"; }
# send TAG [SENDMAIL ARGS...]: queues (-odq) a message with Message-ID
# <TAG@admin.test>; sets QID.
send() {
	_tag=$1; shift
	printf 'From: s@x.org\nSubject: %s subject\nMessage-ID: <%s@admin.test>\n\nbody of %s\n' \
	    "$_tag" "$_tag" "$_tag" | $SM -odq "$@" > "$T/send.out" 2> "$T/send.err" ||
	    fail "queue $_tag" "$(cat "$T/send.err")"
	QID=$(basename "$(qlast)")
}
# run CMD...: runs it with stdin from $IN (default /dev/null); RC, and
# $T/out and $T/err.
run() { "$@" < "${IN:-/dev/null}" > "$T/out" 2> "$T/err"; RC=$?; }
check() {
	if eval "$2"; then pass "$1"; else fail "$1" "${WHY:-}"; fi
	WHY=""
}
WHY=""
q_has() { [ -e "$T/spool/queue/$1" ]; }
state_has() { [ -e "$T/spool/state/$1" ]; }
nstate() { ls "$T/spool/state" 2>/dev/null | wc -l; }
sv() { sed -n "s/^$2 //p" "$T/spool/state/$1" 2>/dev/null; }
msgids() { cat "$T/$1"/*.eml 2>/dev/null | tr -d '\r' | grep -acx "Message-ID: <$2@admin.test>"; }
mq() { timeout 30 $MAILQ -C "$C" > "$T/mq" 2>&1; }
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait_until 5 "! alive $1"
	alive "$1" && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# json EXPR: evaluates the Python expression EXPR with d = the JSON
# document in $T/out; prints its value (json.load must succeed).
json() { $PY -c 'import json, sys; d = json.load(open(sys.argv[1], encoding="utf-8")); print(eval(sys.argv[2]))' "$T/out" "$1" 2>&1; }
# setarrival FILE T: rewrites the arrival time in a queue file's head
# (the size field counts only the message, so the file stays valid).
setarrival() { sed -i "1,/^\$/s/^arrival .*/arrival $2/" "$1"; }
# status CLASS ERROR: a spool_dir/status as a failed session writes it.
status() {
	printf 'postern-status 1\ntime %s\nfailures 1\nclass %s\nerror %s\nend\n' \
	    "$(date +%s)" "$1" "$2" > "$T/spool/status"
}
NOW=$(date +%s)

# === 1. no spool yet ======================================================
mkconf "$(free_port)"
run $PT list --json
check "no spool: list --json is [] and exit 0" \
    '[ "$RC" -eq 0 ] && [ "$(json d)" = "[]" ]'
run $PT delete ALL
check "no spool: delete ALL deletes 0" \
    '[ "$RC" -eq 0 ] && grep -qx "deleted 0 messages" "$T/out"'
run $PT hold 1NGFHW7JF8Q38EA
WHY="exit $RC: $(cat "$T/err")"
check "no spool: hold of an ID exits 66 with one line" \
    '[ "$RC" -eq 66 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q "not in the queue" "$T/err"'
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "no spool: check OK" \
    '[ "$RC" -eq 0 ] && grep -q "^POSTERN OK - 0 messages" "$T/out"'
run $PT show 1NGFHW7JF8Q38EA
check "no spool: show exits 66" '[ "$RC" -eq 66 ]'
run $PT show '1NGFHW7JF8Q38EA!'
check "no spool: show with the hold mark exits 66, naming the ID" \
    '[ "$RC" -eq 66 ] && grep -qx "postern: 1NGFHW7JF8Q38EA: not in the queue" "$T/err"'

# === 2. usage errors =======================================================
for a in "delete" "hold" "release" "retry" "show" "delete nonsense" \
    "hold ALL 1NGFHW7JF8Q38EA" "delete all" "list --xml" "show a b" \
    "retry -x ALL" "cleanup now"; do
	run $PT $a
	WHY="exit $RC: $(cat "$T/err")"
	check "usage: postern $a exits 64 with one line" \
	    '[ "$RC" -eq 64 ] && [ "$(wc -l < "$T/err")" -eq 1 ]'
done

# === 3. list --json ========================================================
resetq
mkconf "$(free_port)"
send j1 -f 'sender@x.org' a@x.org b@x.org
J1=$QID
send j2 -f '<>' c@x.org
J2=$QID
# a state file with everything a JSON writer must escape (state files are
# printable, so only quotes, backslashes and non-ASCII here)
$PY - "$T/spool/state/$J1" <<'EOF'
import sys
open(sys.argv[1], "wb").write(
    b"postern-state 1\nattempts 2\nlast-attempt 1795672000\n"
    b"next-attempt 1795672300\n"
    b"error 451 \"quoted\" back\\slash caf\xc3\xa9 \xf0\x9f\x93\xa7 bad\xff\xfe end\n"
    b"rcpt sent a@x.org\nrcpt pending b@x.org\n"
    b"reason 452 ED A0 80 is a surrogate: \xed\xa0\x80; overlong \xc0\xaf\n"
    b"end\n")
EOF
# a damaged queue file whose reason quotes control characters
printf 'postern-queue 1\nsize 1\n\001\033[31m"\\\ttab\377\n\nx' > "$T/spool/queue/1NGFHW7JF8Q38EA"
run $PT list --json
WHY="exit $RC: $(head -c 600 "$T/out") $(cat "$T/err")"
check "json: parses (python json.load)" \
    '[ "$RC" -eq 0 ] && [ "$(json "type(d).__name__")" = list ]'
check "json: pure ASCII output" \
    '! LC_ALL=C grep -q "[^ -~]" "$T/out"'
check "json: three messages, oldest first" \
    '[ "$(json "len(d)")" = 3 ] && [ "$(json "d[0][\"id\"]")" = 1NGFHW7JF8Q38EA ] && [ "$(json "d[1][\"id\"]")" = "$J1" ]'
check "json: the field names of every message" \
    '[ "$(json "sorted(d[1].keys())")" = "['"'"'account'"'"', '"'"'arrival'"'"', '"'"'arrival_iso'"'"', '"'"'attempts'"'"', '"'"'damaged'"'"', '"'"'error'"'"', '"'"'held'"'"', '"'"'hold_since'"'"', '"'"'id'"'"', '"'"'last_attempt'"'"', '"'"'next_attempt'"'"', '"'"'recipients'"'"', '"'"'sender'"'"', '"'"'size'"'"']" ]'
size=$(sed -n 's/^size 0*//p' "$T/spool/queue/$J1")
arr=$(sed -n 's/^arrival //p' "$T/spool/queue/$J1")
iso=$(date -u -d "@$arr" +%Y-%m-%dT%H:%M:%SZ)
WHY="$(json "d[1]")"
check "json: size, arrival, arrival_iso, sender" \
    '[ "$(json "d[1][\"size\"]")" = "$size" ] && [ "$(json "d[1][\"arrival\"]")" = "$arr" ] &&
     [ "$(json "d[1][\"arrival_iso\"]")" = "$iso" ] && [ "$(json "d[1][\"sender\"]")" = sender@x.org ]'
check "json: attempts, last_attempt, next_attempt, held" \
    '[ "$(json "d[1][\"attempts\"]")" = 2 ] && [ "$(json "d[1][\"last_attempt\"]")" = 1795672000 ] &&
     [ "$(json "d[1][\"next_attempt\"]")" = 1795672300 ] && [ "$(json "d[1][\"held\"]")" = False ]'
check "json: error with quotes, backslash, UTF-8 kept, bad bytes U+FFFD" \
    '[ "$(json "d[1][\"error\"] == \"451 \\\"quoted\\\" back\\\\slash caf\\u00e9 \\U0001f4e7 bad\\ufffd\\ufffd end\"")" = True ]'
check "json: recipients with state and reason" \
    '[ "$(json "[(r[\"address\"], r[\"state\"]) for r in d[1][\"recipients\"]]")" = "[('"'"'a@x.org'"'"', '"'"'sent'"'"'), ('"'"'b@x.org'"'"', '"'"'pending'"'"')]" ] &&
     [ "$(json "d[1][\"recipients\"][0][\"reason\"]")" = None ]'
check "json: a surrogate and an overlong form become U+FFFD" \
    '[ "$(json "d[1][\"recipients\"][1][\"reason\"].count(\"\\ufffd\")")" = 5 ]'
check "json: null sender is the empty string" \
    '[ "$(json "d[2][\"sender\"]")" = "" ] && [ "$(json "d[2][\"error\"]")" = None ]'
WHY="$(json "d[0]")"
check "json: a damaged file has its reason, control characters escaped" \
    '[ "$(json "d[0][\"damaged\"].startswith(\"bad envelope line \\x01\\x1b[31m\\\"\\\\\\ttab\\ufffd\")")" = True ] &&
     [ "$(json "d[0][\"size\"], d[0][\"sender\"], d[0][\"recipients\"]")" = "(None, None, [])" ] &&
     [ "$(json "d[1][\"damaged\"]")" = None ]'
rm -f "$T/spool/queue/1NGFHW7JF8Q38EA"
clearq
run $PT list --json
check "json: an empty queue is []" \
    '[ "$RC" -eq 0 ] && [ "$(json d)" = "[]" ]'

# === 4. show ===============================================================
resetq
printf 'From: s@x.org\nSubject: shown\nX-Ctl: a\033[2Jb\nX-Folded: one\n\ttwo\nMessage-ID: <show@admin.test>\n\nSECRET-BODY line\nSubject: not a header\n' |
    $SM -odq -f 'owner@x.org' p1@x.org p2@x.org p3@x.org
Q=$(basename "$(qlast)")
cat > "$T/spool/state/$Q" <<STATE
postern-state 1
attempts 3
last-attempt 1795672000
next-attempt 4102444800
error 421 4.3.2 try later
rcpt sent p1@x.org
rcpt pending p2@x.org
reason 451 4.2.0 mailbox busy
rcpt failed p3@x.org
reason 550 5.1.1 no such user
end
STATE
run $PT show "$Q"
WHY="exit $RC: $(cat "$T/out" "$T/err")"
check "show: exit 0" '[ "$RC" -eq 0 ]'
check "show: queue id, sender, size, attempts" \
    'grep -qx "queue id: *$Q" "$T/out" && grep -qx "sender: *owner@x.org" "$T/out" &&
     grep -qx "size: *$(sed -n "s/^size 0*//p" "$T/spool/queue/$Q")" "$T/out" && grep -qx "attempts: *3" "$T/out"'
check "show: arrival, last and next attempt as times" \
    'grep -q "^arrival: *20[0-9][0-9]-[01][0-9]-[0-3][0-9] [0-9:]\{8\} [-+][0-9]\{4\}$" "$T/out" &&
     grep -q "^last attempt: *20[0-9][0-9]-" "$T/out" && grep -q "^next attempt: *2100-01-0[12] " "$T/out"'
check "show: hold state and last error" \
    'grep -qx "on hold: *no" "$T/out" && grep -qx "last error: *421 4.3.2 try later" "$T/out"'
check "show: each recipient with its state and reason" \
    'grep -qx "recipients: *3 (1 pending, 1 sent, 1 failed)" "$T/out" &&
     grep -qx "  sent *p1@x.org" "$T/out" && grep -qx "  pending *p2@x.org" "$T/out" &&
     grep -qx " *(451 4.2.0 mailbox busy)" "$T/out" && grep -qx "  failed *p3@x.org" "$T/out" &&
     grep -qx " *(550 5.1.1 no such user)" "$T/out"'
check "show: the header section after an empty line" \
    'sed "1,/^\$/d" "$T/out" | grep -qx "Subject: shown" && grep -qx "Message-ID: <show@admin.test>" "$T/out"'
check "show: folded header kept with its tab" \
    'grep -q "$(printf "^\ttwo\$")" "$T/out"'
check "show: escape sequences made harmless" \
    'grep -qx "X-Ctl: a?\[2Jb" "$T/out" && ! grep -q "$(printf "\033")" "$T/out"'
check "show: not the body" \
    '! grep -q "SECRET-BODY" "$T/out" && ! grep -q "not a header" "$T/out"'
run $PT show "$Q!"
check "show: accepts the ID with mailq's hold mark" '[ "$RC" -eq 0 ]'
run $PT show 1NGFHW7JF8Q38EA
WHY="exit $RC: $(cat "$T/err")"
check "show: unknown ID exits 66 with one line" \
    '[ "$RC" -eq 66 ] && [ "$(wc -l < "$T/err")" -eq 1 ]'
printf 'postern-queue 1\nsize 5\n\nx' > "$T/spool/queue/1NGFHW7JF8Q38EB"
run $PT show 1NGFHW7JF8Q38EB
WHY="exit $RC: $(cat "$T/err")"
check "show: damaged file exits 65 with one line" \
    '[ "$RC" -eq 65 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q damaged "$T/err"'
rm -f "$T/spool/queue/1NGFHW7JF8Q38EB"

# === 5. delete =============================================================
resetq
for i in 1 2 3 4 5 6; do send d$i -f s@x.org d$i@x.org; eval "D$i=\$QID"; done
printf 'postern-state 1\nattempts 1\nlast-attempt 1\nnext-attempt 2\nrcpt pending d1@x.org\nend\n' > "$T/spool/state/$D1"
run $PT delete "$D1"
check "delete one: exit 0, says 1" \
    '[ "$RC" -eq 0 ] && grep -qx "deleted 1 message" "$T/out"'
check "delete one: queue and state file gone, the others stay" \
    '! q_has "$D1" && ! state_has "$D1" && [ "$(qcount)" -eq 5 ]'
run $PT delete "$D2" "$D3" "$D2"
check "delete several (a repeated ID once): deleted 2" \
    '[ "$RC" -eq 0 ] && grep -qx "deleted 2 messages" "$T/out" && [ "$(qcount)" -eq 3 ]'
run $PT delete "$D4" "$D1"
WHY="exit $RC: $(cat "$T/out" "$T/err")"
check "delete: one gone already: the other deleted, exit 66, one line" \
    '[ "$RC" -eq 66 ] && grep -qx "deleted 1 message" "$T/out" && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q "^postern: $D1: not in the queue" "$T/err"'
printf '%s\n\n  %s!  \n' "$D5" "$D6" > "$T/ids"
IN=$T/ids run $PT delete -
IN=""
check "delete -: IDs from standard input" \
    '[ "$RC" -eq 0 ] && grep -qx "deleted 2 messages" "$T/out" && [ "$(qcount)" -eq 0 ]'
for i in 1 2 3; do send da$i -f s@x.org da$i@x.org; done
printf 'postern-queue 1\nsize 9\n\nx' > "$T/spool/queue/1NGFHW7JF8Q38EC"
printf 'postern-state 1\nattempts 1\nlast-attempt 1\nnext-attempt 2\nrcpt pending da1@x.org\nend\n' > "$T/spool/state/$QID"
run $PT delete ALL
check "delete ALL: every message, damaged ones too" \
    '[ "$RC" -eq 0 ] && grep -qx "deleted 4 messages" "$T/out" && [ "$(qcount)" -eq 0 ] && [ "$(nstate)" -eq 0 ]'
# a message locked by a worker: waited for, then refused
send dl -f s@x.org dl@x.org
flock "$T/spool/queue/$QID" sleep 8 &
lp=$!
PIDS="$PIDS $lp"
sleep 0.3
t0=$(date +%s)
run $PT delete "$QID"
el=$(($(date +%s) - t0))
WHY="exit $RC after ${el}s: $(cat "$T/out" "$T/err")"
check "delete of a message locked for 8 s: refused after ~5 s, exit 75" \
    '[ "$RC" -eq 75 ] && [ "$el" -ge 4 ] && [ "$el" -le 7 ] && grep -qx "deleted 0 messages" "$T/out" && [ "$(wc -l < "$T/err")" -eq 1 ]'
check "delete refused: the message is intact" \
    'q_has "$QID"'
wait "$lp"
flock "$T/spool/queue/$QID" sleep 2 &
lp=$!
sleep 0.3
run $PT delete "$QID"
WHY="exit $RC: $(cat "$T/out" "$T/err")"
check "delete of a message locked for 2 s: waits, then deletes" \
    '[ "$RC" -eq 0 ] && grep -qx "deleted 1 message" "$T/out" && ! q_has "$QID"'
wait "$lp"

# === 6. hold and release ===================================================
resetq
start_smarthost s6 --
mkconf "$SH_PORT"
send h1 -f s@x.org h1@x.org
H1=$QID
send h2 -f s@x.org h2@x.org
H2=$QID
run $PT hold "$H1"
check "hold: exit 0, held 1" \
    '[ "$RC" -eq 0 ] && grep -qx "held 1 message" "$T/out"'
WHY="$(cat "$T/spool/state/$H1" 2>&1)"
check "hold: the state file says hold T" \
    'grep -q "^hold [0-9]\{10\}$" "$T/spool/state/$H1" && [ "$(sv "$H1" attempts)" = 0 ]'
run $PT hold "$H1"
check "hold again: already on hold, exit 0" \
    '[ "$RC" -eq 0 ] && grep -qx "held 0 messages (1 already on hold)" "$T/out"'
mq
WHY="$(cat "$T/mq")"
check "mailq: ! after the held message's ID only" \
    'grep -q "^$H1! " "$T/mq" && grep -q "^$H2 " "$T/mq" && ! grep -q "^$H2!" "$T/mq"'
run $PT list
check "postern list: the same mark" 'grep -q "^$H1! " "$T/out"'
run $PT list --json
check "json: held true for the held message only" \
    '[ "$(json "[m[\"held\"] for m in d]")" = "[True, False]" ] && [ "$(json "d[0][\"hold_since\"] > 0")" = True ]'
run $PT show "$H1"
check "show: on hold since, no next attempt" \
    'grep -q "^on hold since: *20" "$T/out" && grep -qx "next attempt: *none while on hold" "$T/out"'
# the post-enqueue attempt is "postern flush QID"
run $PT flush "$H1"
check "hold: the post-enqueue attempt (flush QID) leaves it alone" \
    '[ "$RC" -eq 0 ] && [ "$(msgids s6 h1)" -eq 0 ] && q_has "$H1"'
run $PT flush "$H1!"
WHY="exit $RC: $(cat "$T/err")"
check "hold: flush takes the ID with mailq's hold mark, leaves it alone" \
    '[ "$RC" -eq 0 ] && [ "$(msgids s6 h1)" -eq 0 ] && q_has "$H1"'
run $PT flush "$H1!!"
check "flush: two marks are not a queue ID (64)" '[ "$RC" -eq 64 ]'
run $PT flush
WHY="h1 $(msgids s6 h1), h2 $(msgids s6 h2)"
check "hold: flush delivers the other message, not the held one" \
    '[ "$(msgids s6 h2)" -eq 1 ] && [ "$(msgids s6 h1)" -eq 0 ] && q_has "$H1" && [ "$(qcount)" -eq 1 ]'
check "hold: no attempt was counted" '[ "$(sv "$H1" attempts)" = 0 ]'
run $PT retry "$H1"
WHY="exit $RC: $(cat "$T/out" "$T/err")"
check "retry of a held message: refused (65), not delivered" \
    '[ "$RC" -eq 65 ] && grep -q "on hold" "$T/err" && [ "$(msgids s6 h1)" -eq 0 ]'
$POSTERN -C "$C" daemon > "$T/d6.out" 2>&1 &
dp=$!
PIDS="$PIDS $dp"
send h3 -f s@x.org h3@x.org
H3=$QID
run $PT hold "$H3"
wait_until 5 '[ "$(qcount)" -eq 1 ] || [ "$(msgids s6 h3)" -ge 1 ]'
sleep 1.5
WHY="h1 $(msgids s6 h1), h3 $(msgids s6 h3), hold rc $RC"
check "hold: the daemon leaves the held message alone" \
    '[ "$(msgids s6 h1)" -eq 0 ] && q_has "$H1"'
run $PT release "$H1"
check "release: exit 0, released 1" \
    '[ "$RC" -eq 0 ] && grep -qx "released 1 message" "$T/out" && ! grep -q "^hold " "$T/spool/state/$H1"'
wait_until 5 '[ "$(msgids s6 h1)" -ge 1 ]'
WHY="$(cat "$T/d6.out")"
check "release: a running daemon delivers it at once" \
    '[ "$(msgids s6 h1)" -eq 1 ] && ! q_has "$H1"'
run $PT release ALL
wait_until 5 '[ "$(qcount)" -eq 0 ]'
check "release ALL, daemon: every message delivered once" \
    '[ "$(qcount)" -eq 0 ] && [ "$(msgids s6 h3)" -eq 1 ] && [ "$(msgids s6 h2)" -eq 1 ]'
stop_pid "$dp"
# release then flush
send h4 -f s@x.org h4@x.org
run $PT hold ALL
check "hold ALL" '[ "$RC" -eq 0 ] && grep -qx "held 1 message" "$T/out"'
run $PT flush
check "hold ALL: flush delivers nothing" '[ "$(msgids s6 h4)" -eq 0 ]'
run $PT release "$QID"
run $PT flush "$QID!"
check "release then flush delivers" \
    '[ "$(msgids s6 h4)" -eq 1 ] && [ "$(qcount)" -eq 0 ]'
run $PT release 1NGFHW7JF8Q38EA
check "release of an unknown ID: exit 66" '[ "$RC" -eq 66 ]'

# held mail does not expire; released, its time on hold does not count
resetq
mkconf "$SH_PORT" "queue_lifetime 3s"
send x1 -f s@x.org x1@x.org
X1=$QID
send x2 -f s@x.org x2@x.org
X2=$QID
run $PT hold "$X1"
sleep 4
run $PT flush
WHY="queue: $(ls "$T/spool/queue"); x1 $(msgids s6 x1)"
check "expiry: the held message stays, neither sent nor bounced" \
    'q_has "$X1" && [ "$(msgids s6 x1)" -eq 0 ] && ! q_has "$X2" && [ "$(qcount)" -eq 2 ]'
check "expiry: the other one expired (a bounce queued)" \
    '[ "$(msgids s6 x2)" -eq 0 ] && qfiles | xargs grep -lx "sender" | grep -q .'
run $PT release "$X1"
WHY="$(cat "$T/spool/state/$X1" 2>&1)"
check "release: the time on hold is recorded" \
    '[ "$(sv "$X1" held)" -ge 3 ]'
run $PT flush
check "release: delivered, not expired (hold time excluded)" \
    '[ "$(msgids s6 x1)" -eq 1 ] && ! q_has "$X1"'
stop_smarthost s6

# === 7. retry ==============================================================
resetq
start_smarthost s7 -- --fail-first 2
mkconf "$SH_PORT"
send r1 -f s@x.org r1@x.org
R1=$QID
send r2 -f s@x.org r2@x.org
R2=$QID
run $PT flush
now=$(date +%s)
WHY="r1 next $(sv "$R1" next-attempt), now $now"
check "retry: after a 451, back-off set" \
    '[ "$(sv "$R1" next-attempt)" -gt "$now" ] && [ "$(sv "$R2" next-attempt)" -gt "$now" ]'
run $PT retry -n "$R1"
WHY="exit $RC: $(cat "$T/out" "$T/err"); $(cat "$T/spool/state/$R1")"
check "retry -n: next-attempt 0, nothing sent" \
    '[ "$RC" -eq 0 ] && grep -qx "cleared the back-off of 1 message" "$T/out" && [ "$(sv "$R1" next-attempt)" = 0 ] && [ "$(msgids s7 r1)" -eq 0 ]'
check "retry -n: the other message keeps its back-off" \
    '[ "$(sv "$R2" next-attempt)" -gt "$now" ]'
run $PT list --json
check "retry -n: json next_attempt 0" \
    '[ "$(json "d[0][\"next_attempt\"]")" = 0 ]'
$POSTERN -C "$C" daemon > "$T/d7.out" 2>&1 &
dp=$!
PIDS="$PIDS $dp"
wait_until 5 '[ "$(msgids s7 r1)" -ge 1 ]'
sleep 1
WHY="r1 $(msgids s7 r1), r2 $(msgids s7 r2)"
check "retry -n: the daemon delivers it, leaves the backed-off one" \
    '[ "$(msgids s7 r1)" -eq 1 ] && [ "$(msgids s7 r2)" -eq 0 ] && q_has "$R2"'
stop_pid "$dp"
run $PT retry "$R2"
WHY="exit $RC: $(cat "$T/out" "$T/err")"
check "retry: clears the back-off and delivers now" \
    '[ "$RC" -eq 0 ] && grep -qx "cleared the back-off of 1 message; delivered 1, deferred 0" "$T/out" && [ "$(msgids s7 r2)" -eq 1 ] && [ "$(qcount)" -eq 0 ]'
# a smarthost back-off (spool_dir/status) is cleared too
send r3 -f s@x.org r3@x.org
printf 'postern-status 1\ntime %s\nfailures 3\nclass connect\nerror connect to x: refused\nend\n' "$(date +%s)" > "$T/spool/status"
run $PT retry -n ALL
check "retry -n ALL: the smarthost's back-off cleared" \
    'grep -qx "failures 0" "$T/spool/status" && grep -qx "cleared the back-off of 1 message" "$T/out"'
run $PT retry ALL
check "retry ALL delivers" \
    '[ "$RC" -eq 0 ] && [ "$(msgids s7 r3)" -eq 1 ] && [ "$(qcount)" -eq 0 ]'
run $PT retry 1NGFHW7JF8Q38EA
check "retry of an unknown ID: exit 66" '[ "$RC" -eq 66 ]'
stop_smarthost s7

# === 8. cleanup ============================================================
resetq
mkconf "$(free_port)"
send f1 -f s@x.org f1@x.org f2@x.org
F1=$QID
printf 'postern-state 1\nattempts 1\nlast-attempt 1\nnext-attempt 2\nrcpt sent f1@x.org\nrcpt failed f2@x.org\nreason 550 no\nend\n' > "$T/spool/state/$F1"
send f2 -f s@x.org f3@x.org
F2=$QID
send f3 -f s@x.org f4@x.org
F3=$QID
printf 'postern-state 1\nattempts 1\nlast-attempt 1\nnext-attempt 2\nrcpt sent f4@x.org\nend\n' > "$T/spool/state/$F3"
printf 'postern-state 1\nattempts 1\nlast-attempt 1\nnext-attempt 2\nrcpt sent z@x.org\nend\n' > "$T/spool/state/1NGFHW7JF8Q38ED"
printf 'half' > "$T/spool/tmp/1NGFHW7JF8Q38EE"
touch -d '2 minutes ago' "$T/spool/tmp/1NGFHW7JF8Q38EE"
flock "$T/spool/queue/$F3" sleep 3 &
lp=$!
sleep 0.3
run $PT cleanup
WHY="exit $RC: $(cat "$T/out" "$T/err"); queue: $(ls "$T/spool/queue")"
check "cleanup: finished message, orphan state, stale temporary" \
    '[ "$RC" -eq 0 ] && grep -qx "removed 2 stale files and 1 finished message" "$T/out"'
check "cleanup: the finished one gone, the pending one kept" \
    '! q_has "$F1" && ! state_has "$F1" && q_has "$F2"'
check "cleanup: a locked (busy) finished message left to its worker" \
    'q_has "$F3"'
wait "$lp"
run $PT cleanup
check "cleanup again: the no longer busy one goes" \
    'grep -qx "removed 0 stale files and 1 finished message" "$T/out" && ! q_has "$F3"'

# === 9. check ==============================================================
resetq
mkconf "$(free_port)"
PERF='| queue=[0-9]*;[0-9]*;[0-9]*;0 oldest=[0-9]*s;[0-9]*;[0-9]*;0 held=[0-9]*;;;0 damaged=[0-9]*;;;0$'
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: empty queue OK, exit 0" \
    '[ "$RC" -eq 0 ] && grep -qx "POSTERN OK - 0 messages, oldest 0s, last error: none | queue=0;100;1000;0 oldest=0s;3600;86400;0 held=0;;;0 damaged=0;;;0" "$T/out"'
check "check: one line on stdout, nothing on stderr" \
    '[ "$(wc -l < "$T/out")" -eq 1 ] && [ ! -s "$T/err" ]'
send k1 -f s@x.org k1@x.org
send k2 -f s@x.org k2@x.org
send k3 -f s@x.org k3@x.org
K3=$QID
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: 3 fresh messages OK" \
    '[ "$RC" -eq 0 ] && grep -q "^POSTERN OK - 3 messages, oldest [0-9]*s, last error: none $PERF" "$T/out"'
run $PT check --warn-size 2
WHY="exit $RC: $(cat "$T/out")"
check "check: more than --warn-size: WARNING, exit 1" \
    '[ "$RC" -eq 1 ] && grep -q "^POSTERN WARNING - 3 messages (> 2), " "$T/out" && grep -q "| queue=3;2;1000;0 " "$T/out"'
run $PT check --warn-size 3
check "check: exactly --warn-size: OK" '[ "$RC" -eq 0 ]'
run $PT check --warn-size 1 --crit-size 2
WHY="exit $RC: $(cat "$T/out")"
check "check: more than --crit-size: CRITICAL, exit 2" \
    '[ "$RC" -eq 2 ] && grep -q "^POSTERN CRITICAL - 3 messages (> 2), " "$T/out" && grep -q "| queue=3;1;2;0 " "$T/out"'
setarrival "$T/spool/queue/$K3" $((NOW - 7200))
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: oldest 2 h, default warn 1h: WARNING" \
    '[ "$RC" -eq 1 ] && grep -q "^POSTERN WARNING - 3 messages, oldest 2h (> 1h), last error: none | queue=3;100;1000;0 oldest=7[2-9][0-9][0-9]s;3600;86400;0 " "$T/out"'
setarrival "$T/spool/queue/$K3" $((NOW - 2 * 86400))
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: oldest 2 days, default crit 1d: CRITICAL" \
    '[ "$RC" -eq 2 ] && grep -q "^POSTERN CRITICAL - 3 messages, oldest 2d (> 1d), " "$T/out"'
run $PT check --warn-age 3d --crit-age 5d
check "check: --warn-age 3d: OK again" '[ "$RC" -eq 0 ] && grep -q "oldest=1[0-9]*s;259200;432000;0" "$T/out"'
run $PT check --warn-age 30m --crit-age 7d
check "check: --warn-age 30m: WARNING" '[ "$RC" -eq 1 ] && grep -q "oldest 2d (> 30m)" "$T/out"'
run $PT hold "$K3"
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: a held message does not count for age" \
    '[ "$RC" -eq 0 ] && grep -q "^POSTERN OK - 3 messages (1 on hold), oldest [0-9]*s, " "$T/out" && grep -q " held=1;;;0 " "$T/out"'
send k4 -f s@x.org k4@x.org
K4=$QID
truncate -s -1 "$T/spool/queue/$K4"	# cut short: damaged
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: a damaged queue file: WARNING" \
    '[ "$RC" -eq 1 ] && grep -q "^POSTERN WARNING - 4 messages (1 on hold, 1 damaged), " "$T/out" && grep -q "damaged=1;;;0$" "$T/out"'
rm -f "$T/spool/queue/$K4"
for cl in connect greeting service protocol; do
	status "$cl" "some $cl failure"
	run $PT check
	WHY="exit $RC: $(cat "$T/out")"
	check "check: last session failed ($cl): WARNING" \
	    '[ "$RC" -eq 1 ] && grep -q "^POSTERN WARNING - .*, last error: $cl: some $cl failure $PERF" "$T/out"'
done
for cl in AUTH TLS; do
	status "$cl" "some $cl failure"
	run $PT check
	WHY="exit $RC: $(cat "$T/out")"
	check "check: last session failed ($cl): CRITICAL" \
	    '[ "$RC" -eq 2 ] && grep -q "^POSTERN CRITICAL - .*, last error: $cl: some $cl failure $PERF" "$T/out"'
done
status connect 'a | b'
run $PT check
WHY="$(cat "$T/out")"
check "check: a | in the error text cannot start the perfdata" \
    '[ "$(grep -o "|" "$T/out" | wc -l)" -eq 1 ] && grep -q "last error: connect: a / b |" "$T/out"'
status connect 'x'
run $PT check --warn-size 1 --crit-size 2
check "check: the worst state wins (size CRITICAL, error WARNING)" '[ "$RC" -eq 2 ]'
# real failures, recorded by a flush
resetq
mkconf "$(free_port)"
# a failure with nothing waiting: no pass will clear it, so no alert
status AUTH "some AUTH failure"
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: an old AUTH failure with an empty queue: OK, error still shown" \
    '[ "$RC" -eq 0 ] && grep -q "^POSTERN OK - 0 messages, oldest 0s, last error: AUTH: some AUTH failure " "$T/out"'
send kc -f s@x.org kc@x.org
run $PT flush
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: smarthost down (flush): WARNING, class connect" \
    '[ "$RC" -eq 1 ] && grep -q "last error: connect: .*refused" "$T/out"'
password "$T/pw" wrong-password
start_smarthost s9 -- --auth user:right-password
mkconf "$SH_PORT" "auth_user user" "auth_password_file $T/pw"
run $PT flush
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: AUTH refused (flush): CRITICAL, class AUTH" \
    '[ "$RC" -eq 2 ] && grep -q "^POSTERN CRITICAL - .*last error: AUTH: " "$T/out"'
password "$T/pw" right-password
run $PT flush
run $PT check
WHY="exit $RC: $(cat "$T/out")"
check "check: a good session clears the error: OK" \
    '[ "$RC" -eq 0 ] && grep -q "^POSTERN OK - 0 messages, oldest 0s, last error: none " "$T/out"'
stop_smarthost s9
for a in "--warn-size" "--warn-size x" "--warn-size -1" "--crit-age 5y" "--bogus" "extra"; do
	run $PT check $a
	WHY="exit $RC: $(cat "$T/out" "$T/err")"
	check "check $a: UNKNOWN, exit 3, one line" \
	    '[ "$RC" -eq 3 ] && grep -q "^POSTERN UNKNOWN - " "$T/out" && [ "$(wc -l < "$T/out")" -eq 1 ]'
done
printf 'bogus_key 1\n' > "$T/bad.conf"
run $POSTERN -C "$T/bad.conf" check
WHY="exit $RC: $(cat "$T/out" "$T/err")"
check "check: bad configuration: UNKNOWN, exit 3" \
    '[ "$RC" -eq 3 ] && grep -q "^POSTERN UNKNOWN - .*bad.conf" "$T/out"'

# === 10. changes while two flushes deliver through a slow smarthost =======
# A proxy in front of the smarthost delays each reply by 0.15 s, so that a
# message takes about a second and the flushes hold their locks while
# delete, hold and retry work on the same messages.
cat > "$T/slowproxy.py" <<'EOF'
import asyncio, sys
listen, upstream, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
async def pipe(r, w, slow):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            if slow:
                await asyncio.sleep(delay)
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def handle(cr, cw):
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
    except Exception:
        cw.close()
        return
    await asyncio.gather(pipe(cr, uw, False), pipe(ur, cw, True))
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", listen)
    print("listening", flush=True)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
EOF
resetq
start_smarthost s10 --
pport=$(free_port)
$PY "$T/slowproxy.py" "$pport" "$SH_PORT" 0.15 > "$T/proxy.log" 2>&1 &
PIDS="$PIDS $!"
wait_until 10 'grep -q listening "$T/proxy.log"'
mkconf "$pport"
N=16
i=1
while [ $i -le $N ]; do send c$i -f s@x.org c$i@x.org; eval "C$i=\$QID"; i=$((i + 1)); done
$PT flush > /dev/null 2>&1 &
f1=$!
$PT flush > /dev/null 2>&1 &
f2=$!
PIDS="$PIDS $f1 $f2"
sleep 0.5
: > "$T/ops"
# from the newest down, while the flushes work from the oldest up; each
# command's exit status says what it did
for i in 16 15 14 13 12 11 10 9 8 7 6 5; do
	eval "q=\$C$i"
	case $((i % 3)) in
	0) op=delete ;;
	1) op=hold ;;
	2) op=retry ;;
	esac
	$PT $op "$q" > /dev/null 2> "$T/op.err"
	echo "$i $op $? $(tr '\n' ' ' < "$T/op.err")" >> "$T/ops"
	sleep 0.2
done
wait "$f1"; wait "$f2"
# nothing half-removed: every state file has its queue file, every queue
# file reads; no message twice
orphans=0
for s in $(ls "$T/spool/state"); do [ -e "$T/spool/queue/$s" ] || orphans=$((orphans + 1)); done
mq
WHY="$(cat "$T/ops")"
check "concurrent: every change finished (0, or 66 if delivered first)" \
    '! awk "\$3 != 0 && \$3 != 66" "$T/ops" | grep -q .'
check "concurrent: no orphan state file, no damaged queue file" \
    '[ "$orphans" -eq 0 ] && ! grep -q damaged "$T/mq"'
dups=0; bad=""
i=1
while [ $i -le $N ]; do
	n=$(msgids s10 c$i)
	[ "$n" -gt 1 ] && dups=$((dups + 1))
	eval "q=\$C$i"
	r=$(awk -v i=$i '$1 == i { print $2 " " $3 }' "$T/ops")
	case $r in
	"delete 0")	# deleted before any delivery
		{ [ "$n" -eq 0 ] && ! q_has "$q" && ! state_has "$q"; } || bad="$bad c$i:deleted/$n" ;;
	"hold 0")	# held, then never delivered
		{ [ "$n" -eq 0 ] && q_has "$q" && grep -q "^$q! " "$T/mq"; } || bad="$bad c$i:held/$n" ;;
	*" 66")		# delivered before the command
		{ [ "$n" -eq 1 ] && ! q_has "$q"; } || bad="$bad c$i:gone/$n" ;;
	*)		# untouched or retried: delivered once
		{ [ "$n" -eq 1 ] && ! q_has "$q"; } || bad="$bad c$i:$r/$n" ;;
	esac
	i=$((i + 1))
done
echo "# 10: $(awk '{ print $2 "=" $3 }' "$T/ops" | sort | uniq -c | tr '\n' ' ')"
WHY="$dups duplicates"
check "concurrent: no message delivered twice" '[ "$dups" -eq 0 ]'
WHY="$bad; ops: $(cat "$T/ops")"
check "concurrent: each message deleted, held or delivered once, as its command said" \
    '[ -z "$bad" ]'
run $PT release ALL
run $PT flush
dups=0; missing=0; i=1
while [ $i -le $N ]; do
	n=$(msgids s10 c$i)
	[ "$n" -gt 1 ] && dups=$((dups + 1))
	r=$(awk -v i=$i '$1 == i { print $2 " " $3 }' "$T/ops")
	[ "$r" != "delete 0" ] && [ "$n" -ne 1 ] && missing=$((missing + 1))
	i=$((i + 1))
done
WHY="$dups duplicates, $missing not delivered, queue $(qcount)"
check "concurrent: after release, every message not deleted delivered exactly once" \
    '[ "$dups" -eq 0 ] && [ "$missing" -eq 0 ] && [ "$(qcount)" -eq 0 ] && [ "$(nstate)" -eq 0 ]'

# delete ALL and hold ALL while two flushes run
resetq
i=1
while [ $i -le $N ]; do send e$i -f s@x.org e$i@x.org; i=$((i + 1)); done
$PT flush > /dev/null 2>&1 &
f1=$!
$PT flush > /dev/null 2>&1 &
f2=$!
sleep 1
$PT hold ALL > "$T/hold.out" 2> "$T/hold.err"
hrc=$?
$PT delete ALL > "$T/del.out" 2> "$T/del.err"
drc=$?
wait "$f1"; wait "$f2"
nd=$(sed -n 's/^deleted \([0-9]*\) messages*$/\1/p' "$T/del.out")
got=0; dups=0; i=1
while [ $i -le $N ]; do
	n=$(msgids s10 e$i); got=$((got + n)); [ "$n" -gt 1 ] && dups=$((dups + 1))
	i=$((i + 1))
done
echo "# 10: hold ALL exit $hrc: $(cat "$T/hold.out"); delete ALL exit $drc: deleted $nd; delivered $got"
WHY="hold $hrc $(cat "$T/hold.err"), delete $drc $(cat "$T/del.err")"
check "concurrent ALL: hold ALL and delete ALL exit 0" \
    '[ "$hrc" -eq 0 ] && [ "$drc" -eq 0 ]'
WHY="delivered $got + deleted $nd of $N; $dups duplicates; queue $(qcount), state $(nstate)"
check "concurrent ALL: each message delivered once or deleted, nothing left" \
    '[ "$dups" -eq 0 ] && [ $((got + nd)) -eq "$N" ] && [ "$(qcount)" -eq 0 ] && [ "$(nstate)" -eq 0 ]'
stop_smarthost s10
