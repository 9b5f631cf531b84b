# accounts.sh: per-sender accounts (issue 7) end to end, against four test
# smarthosts over STARTTLS with the test CA, each knowing only its own
# credentials (tests/tools/smarthost.py verifies what it receives):
#   sd: the default account (top level), PLAIN, auth_password_file;
#   sa: account "alice" (an exact sender), SCRAM-SHA-256,
#       auth_password_command;
#   sb: account "bulk" (*@domain senders), XOAUTH2, auth_token_command;
#   sn: account "noauth", a server without AUTH (no inherited credentials).
# Checks: routing by sender (exact before *@domain, ASCII case ignored,
# no subdomains, the null sender and unknown senders to the default, an
# unqualified -f, each message of a -bs session, the attempt after
# enqueue); the queue head "account NAME"; mailq's "(account: NAME)" and
# list --json's "account"; per-account sender rewriting; one session and
# one AUTH per account per pass; a dead smarthost deferring only its own
# account (status-NAME, its error shown for its messages only, postern
# check); a bounce queued for and sent through its account, From: its
# rewrite_sender; configuration errors (exit 78, FILE:LINE); test-auth
# [ACCOUNT]; a queued message whose account was removed, routed again; the
# OAuth token cache per account (oauth/token-NAME); no secret in mailq,
# list --json, flush -v, test-auth or the spool.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost
certs

C=$T/certs
PWD_D='pw-Dflt7-n0t-sh0wn'		# sd's password for userd
PWD_A='pw-Alc9-n0t-sh0wn'		# sa's password for usera
TOK_B='ya29.Blk-Tk4_n0tSh0wn'		# sb's token for userb
TLS="--tls starttls --cert $C/server.pem --key $C/server.key --auth-require-tls"
TMO=""
command -v timeout > /dev/null 2>&1 && TMO="timeout 60"
CAP=$T/captured			# everything postern printed, for the leak check
mkdir -p "$CAP"
password "$T/pwd" "$PWD_D"
password "$T/pwa" "$PWD_A"
password "$T/badpwa" 'wr0ng-Alc-pa55'
password "$T/tokb" "$TOK_B"

# --- helpers ---------------------------------------------------------------

eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'${4:+; $4}"; fi
}
has() { if grep -Eq -- "$3" "$2"; then pass "$1"; else fail "$1" "$(basename "$2"): $(head -c 600 "$2" | tr '\n' '|')"; fi; }
hasnt() { if grep -Eq -- "$3" "$2"; then fail "$1" "$(grep -E -- "$3" "$2" | head -n 2 | tr '\n' '|')"; else pass "$1"; fi; }
# lines FILE: its number of lines, 0 if it does not exist.
lines() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }
b64() { /usr/bin/python3 -c 'import base64, sys; sys.stdout.write(base64.b64encode(sys.argv[1].encode().decode("unicode_escape").encode("latin-1")).decode())' "$1"; }

N=0
# send CONF SENDER SUBJECT [RCPT]: queues (-odq) a message from SENDER
# (its From: too, unless SENDER is <>) to RCPT (r@x.org); sets QID.
send() {
	_from=$2
	[ "$_from" = "<>" ] && _from=mailer@else.org
	printf 'From: %s\nTo: %s\nSubject: %s\n\nbody of %s\n' "$_from" \
	    "${4:-r@x.org}" "$3" "$3" > "$T/msg"
	if $SENDMAIL -odq -C "$1" -f "$2" "${4:-r@x.org}" < "$T/msg" 2> "$T/enq.err"; then
		QID=$(basename "$(qlast)")
	else
		fail "accounts: queue '$3' from $2" "$(cat "$T/enq.err")"
		QID=none
	fi
}
# flush CONF [QID...]: one foreground pass with the dialogue (kept in $CAP).
flush() {
	_c=$1; shift
	N=$((N + 1))
	$TMO "$POSTERN" -C "$_c" flush -v "$@" > "$T/flush.out" 2> "$T/flush.err"
	FRC=$?
	cat "$T/flush.out" "$T/flush.err" > "$CAP/flush.$N"
}
# mq CONF: mailq into $T/mq, list --json into $T/json (both kept).
mq() {
	N=$((N + 1))
	"$MAILQ" -C "$1" > "$T/mq" 2>&1
	"$POSTERN" -C "$1" list --json > "$T/json" 2>&1
	cp "$T/mq" "$CAP/mailq.$N"
	cp "$T/json" "$CAP/json.$N"
	cp -r "$T/spool" "$CAP/spool.$N" 2>/dev/null
}
# block QID: mailq's entry for QID, from its line up to the empty line.
block() { awk -v id="$1" 'index($0, id) == 1 { p = 1 } p && /^$/ { exit } p' "$T/mq"; }
# jfield QID FIELD: that field of QID's object in $T/json ("MISSING" if
# the object has none, "NOOBJ" if there is no such object).
jfield() {
	/usr/bin/python3 -c 'import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("BADJSON"); sys.exit(0)
for m in d:
    if m.get("id") == sys.argv[2]:
        v = m.get(sys.argv[3], "MISSING")
        print("null" if v is None else v); break
else:
    print("NOOBJ")' "$T/json" "$1" "$2"
}
# head_account QID: the value of the "account" line of its queue head
# ("-" when there is none, "?" when there are several).
head_account() {
	_h=$(qhead "$T/spool/queue/$1" 2>/dev/null | grep -c '^account ')
	case $_h in
	0) echo - ;;
	1) qhead "$T/spool/queue/$1" | sed -n 's/^account //p' ;;
	*) echo "?" ;;
	esac
}
# head_sender QID: its envelope sender ("<>" for the null sender).
head_sender() {
	_s=$(qhead "$T/spool/queue/$1" | sed -n 's/^sender//p')
	if [ -z "$_s" ]; then echo "<>"; else echo "${_s# }"; fi
}
# at SERVER SUBJECT: how many messages with this Subject SERVER stored.
at() {
	ls "$T/$1"/*.eml > /dev/null 2>&1 || { echo 0; return; }
	grep -l "^Subject: $2[[:space:]]*$" "$T/$1"/*.eml | wc -l | tr -d ' '
}
# env_of SERVER SUBJECT: the .env of the message with this Subject.
env_of() {
	_e=$(grep -l "^Subject: $2[[:space:]]*$" "$T/$1"/*.eml 2>/dev/null | head -n 1)
	[ -n "$_e" ] && cat "${_e%.eml}.env"
}
eml_of() { grep -l "^Subject: $2[[:space:]]*$" "$T/$1"/*.eml 2>/dev/null | head -n 1; }
SERVERS="sd sa sb sn"
# routed NAME SUBJECT SERVER: exactly one copy at SERVER, none elsewhere.
routed() {
	_got=""
	for _s in $SERVERS; do _got="$_got $_s=$(at "$_s" "$2")"; done
	_want=""
	for _s in $SERVERS; do
		if [ "$_s" = "$3" ]; then _want="$_want $_s=1"; else _want="$_want $_s=0"; fi
	done
	eq "$1" "$_got" "$_want" "$(tail -n 3 "$T/flush.err" | tr '\n' ' ')"
}
# authlog_only NAME SERVER ERE: its auth.log is not empty and every line
# matches ERE (each AUTH it saw was that user, that mechanism, accepted).
authlog_only() {
	if [ -s "$T/$2/auth.log" ] && ! grep -Evq -- "$3" "$T/$2/auth.log"; then
		pass "$1"
	else
		fail "$1" "auth.log: $(tr '\n' '|' < "$T/$2/auth.log" 2>/dev/null)"
	fi
}
reset() { clearq; rm -f "$T/spool/status" "$T/spool/status-"*; }

# --- the servers and the configurations --------------------------------------

start_smarthost sd -- $TLS --auth "userd:$PWD_D" --auth-mechs PLAIN || exit 0
PD=$SH_PORT
start_smarthost sa -- $TLS --auth "usera:$PWD_A" --auth-mechs SCRAM-SHA-256 || exit 0
PA=$SH_PORT
# sb also refuses one recipient, for the bounce
start_sb() {
	start_smarthost sb ${1:-} -- $TLS --auth-token "userb:$TOK_B" \
	    --auth-mechs XOAUTH2 --reply-rcpt 'reject@x.org=550 5.1.1 no such user'
}
start_sb || exit 0
PB=$SH_PORT
start_smarthost sn -- --tls starttls --cert "$C/server.pem" --key "$C/server.key" || exit 0
PN=$SH_PORT

# top CONF [LINES...]: the top level (the default account) into CONF.
top() {
	_f=$1; shift
	relay_conf "$_f" "smarthost 127.0.0.1:$PD" "auth_user userd" \
	    "auth_password_file $T/pwd" "auth_mechanisms PLAIN" "$@"
}
# bulk/alice/noauth [LINES...]: an account section on standard output.
# bulk comes before alice, so that an exact sender beating *@domain is not
# a matter of order in the file.
bulk() {
	printf 'account bulk\nsmarthost 127.0.0.1:%s\ntls_ca_file %s\n' "$PB" "$C/ca.pem"
	printf 'auth_user userb\nauth_token_command cat %s\nauth_mechanisms XOAUTH2\n' "$T/tokb"
	printf 'senders *@b.example\nsenders *@Example.COM  *@bulk.example\n'
	for _l in "$@"; do printf '%s\n' "$_l"; done
}
alice() {
	printf 'account alice\nsmarthost 127.0.0.1:%s\ntls_ca_file %s\n' "$PA" "$C/ca.pem"
	printf 'auth_user usera\nauth_password_command cat %s\n' "${APW:-$T/pwa}"
	printf 'auth_mechanisms SCRAM-SHA-256\nsenders Alice@Example.com alice@example.org\n'
	for _l in "$@"; do printf '%s\n' "$_l"; done
}
noauth() {
	printf 'account noauth\nsmarthost 127.0.0.1:%s\ntls_ca_file %s\n' "$PN" "$C/ca.pem"
	printf 'senders n@noauth.example\n'
}
M=$T/main.conf
top "$M"
{ bulk; alice; noauth; } >> "$M"

# --- 1-4: routing, the queue head, mailq and list --json --------------------

send "$M" alice@example.com r1-alice;		Q_A=$QID
send "$M" carol@b.example r1-bulk;		Q_B=$QID
send "$M" dave@else.org r1-default;		Q_D=$QID
send "$M" ALICE@EXAMPLE.COM r2-alice-upper;	Q_AU=$QID
send "$M" bob@eXample.com r2-bulk-mixed;	Q_BM=$QID
send "$M" x@sub.b.example r2-subdomain;		Q_SUB=$QID
send "$M" '<>' r2-null;				Q_NULL=$QID
send "$M" n@noauth.example r2-noauth;		Q_N=$QID
send "$M" alice r2-unqualified;			Q_UQ=$QID

eq "accounts: head: exact sender -> account alice" "$(head_account "$Q_A")" alice
eq "accounts: head: *@domain sender -> account bulk" "$(head_account "$Q_B")" bulk
eq "accounts: head: unmatched sender -> no account line (default)" "$(head_account "$Q_D")" -
eq "accounts: head: exact pattern ignores ASCII case" "$(head_account "$Q_AU")" alice
eq "accounts: head: *@domain ignores ASCII case" "$(head_account "$Q_BM")" bulk
eq "accounts: head: *@domain does not cover subdomains" "$(head_account "$Q_SUB")" -
eq "accounts: head: null sender -> default" "$(head_account "$Q_NULL")" -
eq "accounts: head: null sender kept" "$(head_sender "$Q_NULL")" "<>"
eq "accounts: head: account noauth" "$(head_account "$Q_N")" noauth
eq "accounts: head: -f alice is qualified, then routed" \
    "$(head_sender "$Q_UQ") $(head_account "$Q_UQ")" "alice@example.org alice"
# the "account" line comes right after the "sender" line
_after=$(qhead "$T/spool/queue/$Q_A" | sed -n '/^sender /{n;p;}')
eq "accounts: head: 'account alice' follows the sender line" "$_after" "account alice"
eq "accounts: head: the sender is kept as given" "$(head_sender "$Q_AU")" ALICE@EXAMPLE.COM

# sendmail -bs routes each message of a session by its MAIL FROM
printf 'EHLO client.example\r\nMAIL FROM:<alice@EXAMPLE.com>\r\nRCPT TO:<r@x.org>\r\nDATA\r\nFrom: alice@example.com\r\nSubject: r2-bs\r\n\r\nbody\r\n.\r\n' > "$T/bs.in"
printf 'MAIL FROM:<dave@else.org>\r\nRCPT TO:<r@x.org>\r\nDATA\r\nSubject: r2-bs-2\r\n\r\nbody\r\n.\r\nQUIT\r\n' >> "$T/bs.in"
IN=$T/bs.in expect_rc "accounts: sendmail -bs: exit 0" 0 $TMO "$SENDMAIL" -C "$M" -bs -odq
Q_BS=$(qfiles | tail -n 2 | head -n 1); Q_BS=$(basename "$Q_BS")
Q_BS2=$(basename "$(qlast)")
eq "accounts: sendmail -bs: MAIL FROM routes to alice, then the next to the default" \
    "$(head_account "$Q_BS") $(head_account "$Q_BS2")" "alice -"

mq "$M"
# the line after the sender line, and the recipient line, of an entry
second() { block "$1" | sed -n 2p; }
indent() { printf '%s' "$1" | sed 's/[^ ].*//' | wc -c | tr -d ' '; }
l2=$(second "$Q_A")
eq "accounts: mailq: (account: alice) right after the sender line" \
    "$(echo "$l2" | sed 's/^ *//')" "(account: alice)" "$(block "$Q_A" | tr '\n' '|')"
# (the entry has its 3 lines: sender, note, recipient)
eq "accounts: mailq: the account note is indented like the recipients" \
    "$(indent "$l2") $(block "$Q_A" | wc -l | tr -d ' ')" \
    "$(indent "$(block "$Q_A" | tail -n 1)") 3"
eq "accounts: mailq: (account: bulk) for *@domain" \
    "$(second "$Q_B" | sed 's/^ *//')" "(account: bulk)" "$(block "$Q_B" | tr '\n' '|')"
for q in "$Q_D" "$Q_NULL" "$Q_SUB"; do
	if block "$q" | grep -q 'account'; then
		fail "accounts: mailq: no account note for the default ($q)" "$(block "$q" | tr '\n' '|')"
	else
		pass "accounts: mailq: no account note for the default ($q)"
	fi
done
eq "accounts: mailq: a default entry is sender and recipient only" \
    "$(block "$Q_D" | wc -l | tr -d ' ')" 2 "$(block "$Q_D" | tr '\n' '|')"
eq "accounts: list --json: account alice" "$(jfield "$Q_A" account)" alice
eq "accounts: list --json: account bulk" "$(jfield "$Q_BM" account)" bulk
eq "accounts: list --json: account default" "$(jfield "$Q_D" account)" default
eq "accounts: list --json: null sender's account default" "$(jfield "$Q_NULL" account)" default

flush "$M"
eq "accounts: flush: exit 0" "$FRC" 0
eq "accounts: flush: the queue is empty" "$(qcount)" 0
routed "accounts: exact sender (also under bulk's *@domain) through alice's smarthost only" r1-alice sa
routed "accounts: *@domain sender delivered through bulk's only" r1-bulk sb
routed "accounts: unmatched sender delivered through the default's only" r1-default sd
routed "accounts: exact, other case: alice's" r2-alice-upper sa
routed "accounts: *@Example.COM matches bob@eXample.com: bulk's" r2-bulk-mixed sb
routed "accounts: subdomain of a *@domain: the default's" r2-subdomain sd
routed "accounts: null sender: the default's" r2-null sd
routed "accounts: -bs message: alice's" r2-bs sa
routed "accounts: -bs second message: the default's" r2-bs-2 sd
routed "accounts: unqualified -f alice: alice's" r2-unqualified sa
routed "accounts: account without AUTH: its own server" r2-noauth sn
eq "accounts: null sender: MAIL FROM:<> at the default's" \
    "$(env_of sd r2-null | grep '^MAIL FROM:')" "MAIL FROM:<>"
authlog_only "accounts: default: only userd with PLAIN, accepted" sd \
    '^[0-9]+ PLAIN userd ok tls=yes$'
authlog_only "accounts: alice: only usera with SCRAM-SHA-256 (auth_password_command), accepted" sa \
    '^[0-9]+ SCRAM-SHA-256 usera ok tls=yes$'
authlog_only "accounts: bulk: only userb with XOAUTH2 (auth_token_command), accepted" sb \
    '^[0-9]+ XOAUTH2 userb ok tls=yes$'
eq "accounts: alice's messages were sent as usera" "$(env_of sa r1-alice | grep '^AUTH ')" "AUTH usera"
eq "accounts: bulk's messages were sent as userb" "$(env_of sb r1-bulk | grep '^AUTH ')" "AUTH userb"
eq "accounts: default's messages were sent as userd" "$(env_of sd r1-default | grep '^AUTH ')" "AUTH userd"
# no inheritance: the top level's auth_user is not used by "noauth"
eq "accounts: no inherited credentials: no AUTH to noauth's server" \
    "$(env_of sn r2-noauth | grep '^AUTH ')" "AUTH -"
eq "accounts: no inherited credentials: noauth's server saw no AUTH" "$(lines "$T/sn/auth.log")" 0

# the attempt after enqueue (no -odq) uses the account too
printf 'From: carol@b.example\nSubject: r3-attempt\n\nbody\n' |
    $SENDMAIL -C "$M" -f carol@b.example r@x.org 2> "$T/enq.err"
eq "accounts: sendmail without -odq: exit 0" "$?" 0 "$(cat "$T/enq.err")"
wait_until 15 '[ "$(at sb r3-attempt)" -ge 1 ] && [ "$(qcount)" -eq 0 ]'
routed "accounts: the attempt after enqueue goes through bulk's server" r3-attempt sb

# the servers do check: a wrong password of alice's is refused, deferred
APW=$T/badpwa
top "$T/badalice.conf"
{ bulk; alice; noauth; } >> "$T/badalice.conf"
APW=""
send "$T/badalice.conf" alice@example.com r1-wrongpw
flush "$T/badalice.conf"
mq "$T/badalice.conf"
if [ "$(qcount)" -eq 1 ] && [ "$(at sa r1-wrongpw)" -eq 0 ] &&
    tail -n 1 "$T/sa/auth.log" | grep -Eq '^[0-9]+ SCRAM-SHA-256 usera fail'; then
	pass "accounts: a wrong password of alice's is refused by her server (control)"
else
	fail "accounts: a wrong password of alice's is refused by her server (control)" "$(qcount) queued; $(tail -n 1 "$T/sa/auth.log")"
fi
has "accounts: the AUTH failure is shown for alice's message" "$T/mq" 'AUTH|authentication failed'
# postern check looks at every account's status: an AUTH failure is CRITICAL
"$POSTERN" -C "$T/badalice.conf" check > "$T/check.out" 2>&1
eq "accounts: check: alice's AUTH failure is CRITICAL (exit 2)" "$?" 2 "$(cat "$T/check.out")"
has "accounts: check: CRITICAL line" "$T/check.out" '^POSTERN CRITICAL'
reset

# --- 5: per-account rewriting ------------------------------------------------

RW=$T/rw.conf
top "$RW" "rewrite_sender relay-d@example.org" "rewrite_scope all" "rewrite_from yes"
{ bulk; alice "rewrite_sender relay-a@alice.example" "rewrite_scope all" "rewrite_from yes"; noauth; } >> "$RW"
send "$RW" alice@example.com r5-alice;	Q5A=$QID
send "$RW" bob@example.com r5-bulk;	Q5B=$QID
send "$RW" dave@else.org r5-default;	Q5D=$QID
eq "accounts: rewrite: routed by the sender before rewriting" "$(head_account "$Q5A")" alice
eq "accounts: rewrite: alice's envelope sender rewritten" "$(head_sender "$Q5A")" relay-a@alice.example
has "accounts: rewrite: alice's From: rewritten" "$T/spool/queue/$Q5A" '^From: relay-a@alice\.example$'
has "accounts: rewrite: alice's original From: kept" "$T/spool/queue/$Q5A" '^X-Original-From: alice@example\.com$'
eq "accounts: rewrite: bulk's sender not rewritten (alice's or the top level's)" "$(head_sender "$Q5B")" bob@example.com
has "accounts: rewrite: bulk's From: kept" "$T/spool/queue/$Q5B" '^From: bob@example\.com$'
hasnt "accounts: rewrite: bulk's message has no X-Original-From" "$T/spool/queue/$Q5B" '^X-Original-From:'
eq "accounts: rewrite: the default's sender by the top level's rewrite_sender" "$(head_sender "$Q5D")" relay-d@example.org
has "accounts: rewrite: the default's From: by the top level's" "$T/spool/queue/$Q5D" '^From: relay-d@example\.org$'
flush "$RW"
routed "accounts: rewrite: alice's rewritten message through her server" r5-alice sa
routed "accounts: rewrite: bulk's message through bulk's" r5-bulk sb
routed "accounts: rewrite: the default's message through the default's" r5-default sd
eq "accounts: rewrite: MAIL FROM at alice's server" \
    "$(env_of sa r5-alice | grep '^MAIL FROM:')" "MAIL FROM:<relay-a@alice.example>"
eq "accounts: rewrite: MAIL FROM at bulk's server unchanged" \
    "$(env_of sb r5-bulk | grep '^MAIL FROM:')" "MAIL FROM:<bob@example.com>"
reset

# --- 6: one session and one AUTH per account per pass --------------------------

ca0=$(lines "$T/sa/connections.log"); aa0=$(lines "$T/sa/auth.log")
cb0=$(lines "$T/sb/connections.log"); ab0=$(lines "$T/sb/auth.log")
cd0=$(lines "$T/sd/connections.log")
ra0=$(received sa); rb0=$(received sb)
for i in 1 2 3 4 5; do
	send "$M" alice@example.com "r6-alice-$i"
	send "$M" "u$i@b.example" "r6-bulk-$i"
done
eq "accounts: 10 messages queued for two accounts" "$(qcount)" 10
flush "$M"
eq "accounts: one pass: all 10 delivered" "$(qcount)" 0
eq "accounts: one pass: alice's server got 5" "$(($(received sa) - ra0))" 5
eq "accounts: one pass: bulk's server got 5" "$(($(received sb) - rb0))" 5
# connections.log is written when the server sees the connection end
wait_until 5 '[ "$(lines "$T/sa/connections.log")" -gt "$ca0" ] && [ "$(lines "$T/sb/connections.log")" -gt "$cb0" ]'
sleep 0.3
eq "accounts: one pass: one connection to alice's server" "$(($(lines "$T/sa/connections.log") - ca0))" 1
eq "accounts: one pass: one AUTH at alice's server" "$(($(lines "$T/sa/auth.log") - aa0))" 1
eq "accounts: one pass: one connection to bulk's server" "$(($(lines "$T/sb/connections.log") - cb0))" 1
eq "accounts: one pass: one AUTH at bulk's server" "$(($(lines "$T/sb/auth.log") - ab0))" 1
eq "accounts: one pass: the 5 of alice in that one session" \
    "$(tail -n 1 "$T/sa/connections.log" | grep -o ' msg ' | wc -l | tr -d ' ')" 5
eq "accounts: one pass: no connection to the default's server (nothing for it)" \
    "$(($(lines "$T/sd/connections.log") - cd0))" 0
reset

# --- 7: one account's smarthost down defers only that account ------------------

stop_smarthost sb
rd0=$(received sd); ra0=$(received sa)
send "$M" b1@b.example r7-bulk-1;	Q7B1=$QID
send "$M" alice@example.com r7-alice;	Q7A=$QID
send "$M" b2@b.example r7-bulk-2;	Q7B2=$QID
send "$M" dave@else.org r7-default;	Q7D=$QID
flush "$M"
eq "accounts: bulk down: flush exit 0" "$FRC" 0
eq "accounts: bulk down: alice's delivered" "$(at sa r7-alice)" 1
eq "accounts: bulk down: the default's delivered" "$(at sd r7-default)" 1
if [ -f "$T/spool/queue/$Q7B1" ] && [ -f "$T/spool/queue/$Q7B2" ] && [ "$(qcount)" -eq 2 ]; then
	pass "accounts: bulk down: both of bulk's stay queued, nothing else"
else
	fail "accounts: bulk down: both of bulk's stay queued, nothing else" "$(qcount) queued"
fi
if [ -f "$T/spool/status-bulk" ] && grep -q '^class connect' "$T/spool/status-bulk"; then
	pass "accounts: bulk down: spool/status-bulk records the connect failure"
else
	fail "accounts: bulk down: spool/status-bulk records the connect failure" "$(ls "$T/spool"): $(cat "$T/spool/status-bulk" 2>/dev/null | tr '\n' '|')"
fi
if [ ! -f "$T/spool/status" ] || grep -q '^failures 0$' "$T/spool/status"; then
	pass "accounts: bulk down: the default's status records no failure"
else
	fail "accounts: bulk down: the default's status records no failure" "$(tr '\n' '|' < "$T/spool/status")"
fi
# not yet tried, so only a recorded status could give them an error
send "$M" alice@example.com r7-alice-later;	Q7A2=$QID
send "$M" dave@else.org r7-default-later;	Q7D2=$QID
mq "$M"
for q in "$Q7B1" "$Q7B2"; do
	if block "$q" | grep -q "Connection refused"; then
		pass "accounts: bulk down: mailq shows bulk's error for $q"
	else
		fail "accounts: bulk down: mailq shows bulk's error for $q" "$(block "$q" | tr '\n' '|')"
	fi
done
eq "accounts: bulk down: no error shown for alice's message" \
    "$(block "$Q7A2" | grep -c '(')" 1 "$(block "$Q7A2" | tr '\n' '|')"
eq "accounts: bulk down: no error shown for the default's message" \
    "$(block "$Q7D2" | grep -c '(')" 0 "$(block "$Q7D2" | tr '\n' '|')"
case $(jfield "$Q7B1" error) in
*"Connection refused"*) pass "accounts: bulk down: list --json has bulk's error" ;;
*) fail "accounts: bulk down: list --json has bulk's error" "$(jfield "$Q7B1" error)" ;;
esac
eq "accounts: bulk down: list --json: no error for alice's message" "$(jfield "$Q7A2" error)" null
"$POSTERN" -C "$M" check > "$T/check.out" 2>&1
eq "accounts: check: bulk's connect failure is a WARNING (exit 1)" "$?" 1 "$(cat "$T/check.out")"
has "accounts: check: WARNING naming the connect error" "$T/check.out" '^POSTERN WARNING.*Connection refused'
start_sb "$PB" || exit 0
flush "$M"
eq "accounts: bulk back: everything delivered" "$(qcount)" 0
eq "accounts: bulk back: bulk's two at bulk's server" \
    "$(at sb r7-bulk-1) $(at sb r7-bulk-2)" "1 1"
eq "accounts: bulk back: nothing of bulk's went elsewhere" \
    "$(at sd r7-bulk-1) $(at sa r7-bulk-1) $(at sd r7-bulk-2) $(at sa r7-bulk-2)" "0 0 0 0"
reset

# --- 8: a bounce goes through its account, From: its rewrite_sender ------------

BC=$T/bounce.conf
top "$BC"
{ bulk "rewrite_sender bulk-relay@b.example" "rewrite_scope all" "rewrite_from yes"; alice; noauth; } >> "$BC"
rd0=$(received sd)
send "$BC" bob@example.com r8-bounce reject@x.org;	Q8=$QID
eq "accounts: bounce: the message is bulk's" "$(head_account "$Q8")" bulk
flush "$BC" "$Q8"
eq "accounts: bounce: the refused message is gone" "$([ -f "$T/spool/queue/$Q8" ] && echo queued || echo gone)" gone
eq "accounts: bounce: one bounce queued" "$(qcount)" 1
QB=$(basename "$(qlast)")
if [ "$QB" != "$Q8" ] && [ -f "$T/spool/queue/$QB" ]; then
	eq "accounts: bounce: queued with account bulk" "$(head_account "$QB")" bulk
	eq "accounts: bounce: from the null sender" "$(head_sender "$QB")" "<>"
	has "accounts: bounce: to the (rewritten) sender" "$T/spool/queue/$QB" '^rcpt pending bulk-relay@b\.example$'
	if qmsg "$T/spool/queue/$QB" | sed '/^$/q' | grep -Eiq '^From:.*[< ]?bulk-relay@b\.example>?[[:space:]]*$' &&
	    ! qmsg "$T/spool/queue/$QB" | sed '/^$/q' | grep -iq '^From:.*MAILER-DAEMON'; then
		pass "accounts: bounce: From: bulk's rewrite_sender"
	else
		fail "accounts: bounce: From: bulk's rewrite_sender" "$(qmsg "$T/spool/queue/$QB" | grep -i '^From:')"
	fi
	rb0=$(received sb)
	flush "$BC"
	eq "accounts: bounce: delivered" "$(qcount)" 0
	eq "accounts: bounce: through bulk's server" "$(($(received sb) - rb0))" 1
	eq "accounts: bounce: not through the default's" "$(received sd)" "$rd0"
	_e=$(env_of sb "Undelivered Mail Returned to Sender")
	if echo "$_e" | grep -qx 'MAIL FROM:<>' && echo "$_e" | grep -qx 'RCPT TO:<bulk-relay@b.example>' &&
	    echo "$_e" | grep -qx 'AUTH userb'; then
		pass "accounts: bounce: MAIL FROM:<>, to bulk-relay, as userb"
	else
		fail "accounts: bounce: MAIL FROM:<>, to bulk-relay, as userb" "$(echo "$_e" | tr '\n' '|')"
	fi
else
	fail "accounts: bounce: queued" "queue: $(ls "$T/spool/queue")"
fi
reset

# --- 9: configuration errors --------------------------------------------------

# bad NAME WANT-LINE-ERE ERE LINES...: a configuration of the top level and
# LINES must be refused with exit 78 and "sendmail: FILE:LINE: ...", LINE
# being the line number of the first line matching WANT-LINE-ERE
# (the last one, when it starts with "last:"), the text matching ERE.
NB=0
bad() {
	_nm=$1; _at=$2; _re=$3; shift 3
	NB=$((NB + 1))
	_f=$T/bad$NB.conf
	top "$_f"
	for _l in "$@"; do printf '%s\n' "$_l" >> "$_f"; done
	case $_at in
	any) _ln='[0-9]+' ;;
	last:*) _ln=$(grep -nE -- "${_at#last:}" "$_f" | tail -n 1 | cut -d: -f1) ;;
	*) _ln=$(grep -nE -- "$_at" "$_f" | head -n 1 | cut -d: -f1) ;;
	esac
	expect_rc "accounts: config: $_nm: exit 78" 78 "$SENDMAIL" -odq -C "$_f" -f a@b.example r@x.org || return
	if grep -Eiq -- "^sendmail: $_f:$_ln: .*($_re)" "$T/err"; then
		pass "accounts: config: $_nm: FILE:$_ln and the reason"
	else
		fail "accounts: config: $_nm: FILE:$_ln and the reason" "$(cat "$T/err")"
	fi
}
S1="smarthost 127.0.0.1:$PB"
bad "global key in a section" '^spool_dir /x' "spool_dir.*global" \
    "account a1" "$S1" "senders a@a1.example" "spool_dir /x"
bad "senders at top level" '^senders' "senders" \
    "senders a@a1.example" "account a1" "$S1" "senders b@a1.example"
bad "account without smarthost" '^account a1' "smarthost" \
    "account a1" "senders a@a1.example" "account a2" "$S1" "senders b@a2.example"
bad "account without senders" '^account a2' "senders" \
    "account a1" "$S1" "senders a@a1.example" "account a2" "$S1"
bad "duplicate account name" 'last:^account a1' "a1" \
    "account a1" "$S1" "senders a@a1.example" "account a1" "$S1" "senders b@a1.example"
bad "bad account name" '^account -x' "name" \
    "account -x" "$S1" "senders a@a1.example"
bad "bad account name (a slash)" '^account a/b' "name" \
    "account a/b" "$S1" "senders a@a1.example"
bad "account default" '^account default' "default" \
    "account default" "$S1" "senders a@a1.example"
bad "a pattern in two accounts (case aside)" '^senders \*@B' "\\*@b\\.example" \
    "account a1" "$S1" "senders *@b.example" "account a2" "$S1" "senders *@B.EXAMPLE"
bad "an exact pattern in two accounts" 'last:x@a\.example' "x@a\\.example" \
    "account a1" "$S1" "senders x@a.example" "account a2" "$S1" "senders y@a.example x@a.example"
bad "unknown key in a section" '^frobnicate' "frobnicate" \
    "account a1" "$S1" "senders a@a1.example" "frobnicate yes"
bad "bad sender pattern" '^senders a@a1.example \*@' "pattern|\\*" \
    "account a1" "$S1" "senders a@a1.example *@"
# the cross-key check may blame any line: FILE:N and the account's name
bad "auth_user without a secret in an account" any "a1" \
    "account a1" "$S1" "senders a@a1.example" "auth_user someone"
bad_ln=$(grep -c '' "$T/bad1.conf")
# postern refuses them the same way
expect_rc "accounts: config: postern list refuses too: exit 78" 78 "$POSTERN" -C "$T/bad1.conf" list
has "accounts: config: postern: FILE:LINE" "$T/err" "^postern: $T/bad1\\.conf:$bad_ln: "
# a valid file: a section ends at the next "account" line; comments fine
cp "$M" "$T/ok.conf"
printf '# a comment\naccount last\nsmarthost 127.0.0.1:%s\ntls_ca_file %s\nsenders z@z.example\n' "$PN" "$C/ca.pem" >> "$T/ok.conf"
expect_rc "accounts: config: a valid file with 4 accounts: list exits 0" 0 "$POSTERN" -C "$T/ok.conf" list

# --- 10: test-auth [ACCOUNT] --------------------------------------------------

# ta NAME WANT [ARGS]: postern test-auth ARGS with the main configuration.
ta() {
	_nm=$1; _w=$2; shift 2
	N=$((N + 1))
	expect_rc "accounts: test-auth $_nm: exit $_w" "$_w" $TMO "$POSTERN" -C "$M" test-auth "$@"
	cat "$T/out" "$T/err" > "$CAP/ta.$N"
}
n0=$(lines "$T/sa/auth.log")
ta alice 0 alice
has "accounts: test-auth alice: usera at alice's server with SCRAM-SHA-256" "$T/out" \
    "^test-auth: OK: authenticated as usera at .*:$PA with SCRAM-SHA-256 "
eq "accounts: test-auth alice: alice's server accepted usera" \
    "$(tail -n 1 "$T/sa/auth.log" | cut -d' ' -f2-4) $(($(lines "$T/sa/auth.log") - n0))" "SCRAM-SHA-256 usera ok 1"
ta bulk 0 bulk
has "accounts: test-auth bulk: userb with XOAUTH2" "$T/out" \
    "^test-auth: OK: authenticated as userb at .*:$PB with XOAUTH2 "
ta "(no argument)" 0
has "accounts: test-auth: the default account, userd with PLAIN" "$T/out" \
    "^test-auth: OK: authenticated as userd at .*:$PD with PLAIN "
ta default 0 default
has "accounts: test-auth default: the top level" "$T/out" \
    "^test-auth: OK: authenticated as userd at .*:$PD with PLAIN "
ta noauth 0 noauth
has "accounts: test-auth noauth: no AUTH (nothing inherited)" "$T/out" \
    "^test-auth: OK: connected to .*:$PN over TLSv1\\.[23] \\(no AUTH configured\\)$"
# tls_ca_file is not inherited either: without its own, the system CAs
# do not know the test CA
cp "$M" "$T/noca.conf"
printf 'account noca\nsmarthost 127.0.0.1:%s\nsenders q@noca.example\n' "$PN" >> "$T/noca.conf"
N=$((N + 1))
expect_rc "accounts: test-auth noca: exit 75" 75 $TMO "$POSTERN" -C "$T/noca.conf" test-auth noca
cat "$T/out" "$T/err" > "$CAP/ta.$N"
has "accounts: test-auth noca: the top level's tls_ca_file is not used (TLS failure)" "$T/err" \
    'certificate verify failed.*\(TLS\)$'
ta nosuch 64 nosuch
has "accounts: test-auth nosuch: says so" "$T/err" \
    "^postern: test-auth: no account 'nosuch' in $M$"

# --- 12: a message whose account was removed is routed again --------------------

send "$M" alice@example.com r12-orphan;	Q12=$QID
eq "accounts: removed account: queued for alice" "$(head_account "$Q12")" alice
GONE=$T/gone.conf
top "$GONE"
{ bulk; noauth; } >> "$GONE"
mq "$GONE"
# (no check on how mailq names a vanished account; only that it lists it)
has "accounts: removed account: mailq still lists the message" "$T/mq" "^$Q12"
flush "$GONE"
eq "accounts: removed account: delivered" "$(qcount)" 0
routed "accounts: removed account: routed again by its sender (*@Example.COM: bulk's)" r12-orphan sb
has "accounts: removed account: a warning names the account" "$T/flush.err" "alice"
reset

# --- the OAuth 2.0 token cache is per account ------------------------------------

SECRET=oauth-client-secret-$$-Acc
(umask 077 && printf '%s\n' "$SECRET" > "$T/secret")
/usr/bin/python3 "$TOP_SRCDIR/tests/tools/tokenserver.py" --portfile "$T/ts.port" \
    --cert "$C/server.pem" --key "$C/server.key" --log "$T/ts.req" \
    --client-id cid --client-secret "$SECRET" --token-file "$T/oacur" \
    --life 120 > "$T/ts.log" 2>&1 &
TS_PID=$!
PIDS="$PIDS $TS_PID"
wait_until 10 '[ -s "$T/ts.port" ]'
TS=$(cat "$T/ts.port" 2>/dev/null)
start_smarthost so -- $TLS --auth-mechs OAUTHBEARER --auth-token-file "usero:$T/oacur" || exit 0
SERVERS="$SERVERS so"
OA=$T/oauth.conf
top "$OA"
{ bulk; alice; noauth
	printf 'account oa\nsmarthost 127.0.0.1:%s\ntls_ca_file %s\nauth_user usero\n' "$SH_PORT" "$C/ca.pem"
	printf 'oauth_token_url https://127.0.0.1:%s/token\noauth_client_id cid\n' "${TS:-1}"
	printf 'oauth_client_secret_file %s\nsenders *@oa.example\n' "$T/secret"
} >> "$OA"
send "$OA" x@oa.example r13-oauth-1
send "$OA" dave@else.org r13-default
flush "$OA"
routed "accounts: oauth: the account's message through its server" r13-oauth-1 so
routed "accounts: oauth: the default's message through the default's" r13-default sd
if [ -f "$T/spool/oauth/token-oa" ] && [ ! -e "$T/spool/oauth/token" ]; then
	pass "accounts: oauth: the token is cached in oauth/token-oa, not oauth/token"
else
	fail "accounts: oauth: the token is cached in oauth/token-oa, not oauth/token" "$(ls -la "$T/spool/oauth" 2>&1 | tr '\n' '|')"
fi
send "$OA" y@oa.example r13-oauth-2
flush "$OA"
routed "accounts: oauth: a second message" r13-oauth-2 so
eq "accounts: oauth: one token request for both passes (the account's cache)" \
    "$(grep -c 'status=200' "$T/ts.req" 2>/dev/null)" 1
OATOK=$(cat "$T/oacur" 2>/dev/null)
kill "$TS_PID" 2>/dev/null; wait "$TS_PID" 2>/dev/null
stop_smarthost so
reset

# --- 11: no secret anywhere ---------------------------------------------------

leak=""
for s in "$PWD_D" "$PWD_A" "$TOK_B" "$(b64 "$PWD_D")" "$(b64 "$PWD_A")" "$(b64 "$TOK_B")" \
    "$(b64 "\\0userd\\0$PWD_D")" "$(b64 "user=userb\\x01auth=Bearer $TOK_B\\x01\\x01")"; do
	grep -rqF -- "$s" "$CAP" "$T/spool" && leak="$leak $s"
done
# the OAuth client secret nowhere; the access token only in the cache
grep -rqF -- "$SECRET" "$CAP" "$T/spool" && leak="$leak $SECRET"
[ -n "$OATOK" ] && grep -rqF -- "$OATOK" "$CAP" && leak="$leak $OATOK"
if [ -z "$leak" ]; then
	pass "accounts: no password or token in $N mailq/list --json/flush -v/test-auth captures or the spool"
else
	fail "accounts: no password or token in $N mailq/list --json/flush -v/test-auth captures or the spool" "found:$leak"
fi
# the captures are not empty: the check looked at something
if grep -q '>>> AUTH PLAIN \*\*\*' "$CAP"/flush.* && grep -q '>>> AUTH XOAUTH2 \*\*\*' "$CAP"/flush.* &&
    grep -q '"account"' "$CAP"/json.*; then
	pass "accounts: the captures hold the redacted AUTH lines and the listings"
else
	fail "accounts: the captures hold the redacted AUTH lines and the listings" "$(ls "$CAP" | tr '\n' ' ')"
fi

for s in sd sa sb sn; do stop_smarthost "$s"; done
