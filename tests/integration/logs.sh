# logs.sh: the mail log. Each acceptance, delivery, deferral and bounce is
# one syslog line (facility mail) with the queue ID, the sender or the
# recipient, the relay, the delay, the status and the server's reply, in
# Postfix's "QID: to=<...>, relay=..., delay=..., status=... (reply)"
# form. Lines are captured on a private /dev/log (lib.sh private_syslog),
# which needs root and unshare -m; skipped otherwise.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost

if ! private_syslog; then
	skip "mail log" "needs root and unshare -m for a private /dev/log"
	exit 0
fi
# has NAME REGEX: a captured line matches the extended regular expression
has() {
	if grep -Eq -- "$2" "$T/syslog"; then pass "$1"
	else fail "$1" "$(tail -n 5 "$T/syslog" | tr '\n' '|')"; fi
}

start_smarthost sh -- --tls none \
    --reply-rcpt 'later@x.org=451 4.2.0 mailbox busy, try later' \
    --reply-rcpt 'gone@x.org=550 5.1.1 no such user here'
relay_conf "$T/c" "smarthost 127.0.0.1:$SH_PORT" "tls none" "alias_file none"
printf 'From: Backup <backup@example.org>\nTo: ok@x.org, later@x.org, gone@x.org\nSubject: log\n\nbody\n' > "$T/m"
IN=$T/m expect_rc "enqueue" 0 $NS $SENDMAIL -C "$T/c" -odq -t -f backup@example.org
QID=$(basename "$(qlast)")
sleep 0.3
has "acceptance: QID, uid, sender, size, recipients" \
    "postern(\\[[0-9]+\\])?: $QID: uid=$(id -u) from=<backup@example.org>, size=[1-9][0-9]*, nrcpt=3 \\(queued\\)"
[ "$(grep -c "$QID: uid=" "$T/syslog")" -eq 1 ] && pass "one acceptance line" || fail "one acceptance line"

$NS $POSTERN -C "$T/c" flush > /dev/null 2>&1
sleep 0.3
R="relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:$SH_PORT"
has "delivery: to, relay, delay, status=sent and the reply" \
    "$QID: to=<ok@x.org>, $R, delay=[0-9]+, status=sent \\(250 [^)]*"
has "deferral: status=deferred with the server's reply" \
    "$QID: to=<later@x.org>, $R, delay=[0-9]+, status=deferred \\(451 4\\.2\\.0 mailbox busy, try later\\)"
has "bounce: status=bounced with the server's reply" \
    "$QID: to=<gone@x.org>, $R, delay=[0-9]+, status=bounced \\(550 5\\.1\\.1 no such user here\\)"
has "the bounce is logged with its own queue ID" \
    "$QID: sender non-delivery notification: [0-9A-Z]{15}"
for s in sent deferred bounced; do
	[ "$(grep -c "$QID: to=<[a-z]*@x.org>, .*status=$s" "$T/syslog")" -eq 1 ] &&
		pass "one line for status=$s" || fail "one line for status=$s"
done
# the facility is mail (priority info: <22> = mail.info)
grep -q "^<22>.*$QID: to=<ok@x.org>" "$T/syslog" && pass "facility mail, priority info" ||
	fail "facility mail, priority info" "$(grep "$QID: to=<ok" "$T/syslog" | head -c 80)"
# the -v flag shows the same lines on stderr
IN=$T/m expect_rc "enqueue again" 0 $NS $SENDMAIL -C "$T/c" -odq -t -f backup@example.org
$NS $POSTERN -C "$T/c" flush -v > "$T/v.out" 2>&1
grep -q 'to=<ok@x.org>, relay=.*status=sent' "$T/v.out" && pass "postern flush -v prints the log lines" ||
	fail "postern flush -v prints the log lines" "$(head -c 300 "$T/v.out")"
# log_level info (the default) has no dialogue in the log
grep -q '>>> MAIL FROM' "$T/syslog" && fail "log_level info: no SMTP dialogue in syslog" ||
	pass "log_level info: no SMTP dialogue in syslog"
stop_smarthost sh

# log_level debug: the dialogue at mail.debug (<23>), credentials as ***
PW=Pw-$$-secret-Zq
start_smarthost sa -- --tls none --auth "u:$PW" --auth-mechs PLAIN
password "$T/pw" "$PW"
relay_conf "$T/cd" "smarthost 127.0.0.1:$SH_PORT" "tls none" "alias_file none" \
    "auth_user u" "auth_password_file $T/pw" "log_level debug"
IN=$T/m expect_rc "enqueue (log_level debug)" 0 $NS $SENDMAIL -C "$T/cd" -odq -t -f backup@example.org
DQ=$(basename "$(qlast)")
: > "$T/syslog"
$NS $POSTERN -C "$T/cd" flush > "$T/d.out" 2>&1
sleep 0.3
has "log_level debug: the dialogue at mail.debug" "^<23>.*127\\.0\\.0\\.1.*>>> MAIL FROM:<backup@example\\.org>"
has "log_level debug: server replies too" "^<23>.*<<< 250"
has "log_level debug: AUTH shown redacted" "^<23>.*>>> AUTH PLAIN \\*\\*\\*"
has "log_level debug: the event lines still at info" "^<22>.*$DQ: to=<ok@x.org>, .*status=sent"
B64=$(printf '\0u\0%s' "$PW" | base64)
if grep -Fq -e "$PW" -e "$B64" "$T/syslog" "$T/d.out"; then
	fail "log_level debug: no password or its base64 in the log"
else
	pass "log_level debug: no password or its base64 in the log"
fi
[ -s "$T/d.out" ] && fail "log_level debug writes nothing to stderr without -v" "$(head -c 200 "$T/d.out")" ||
	pass "log_level debug writes nothing to stderr without -v"
stop_smarthost sa
