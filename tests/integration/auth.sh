# auth.sh: the SASL mechanisms of issue 7 end to end, over STARTTLS with
# the test CA, against the test smarthost's handlers, which really verify
# what they receive (tests/tools/smarthost.py: SCRAM computed with the
# configured password, tokens compared with --auth-token):
#   SCRAM-SHA-256 (the default choice when offered) and SCRAM-SHA-1; a
#   wrong password, a server signature that does not verify, a 235 without
#   the server's proof, the proof in the 235 text;
#   XOAUTH2 and OAUTHBEARER with a token from auth_token_command; a bad
#   token (error challenge answered, message deferred with an AUTH error,
#   never bounced); a refused token replaced by a fresh one in the pass;
#   auth_password_command: success, failure, empty output, not run by the
#   front-end;
# and that no password or token (nor their base64 forms) appears in the
# -v dialogue of postern flush and sendmail, the log lines, mailq, the
# spool or what the smarthost recorded.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost
certs

C=$T/certs
AU=relayuser
PW='pw-Sc7-d0nt-l3ak'		# the smarthost's password for $AU
BAD='wr0ng-Qx4-n0t-this'	# a wrong one
TOK='ya29.Tk-Zq7_n0tL3ak'	# the smarthost's token for $AU
BADTOK='ya29.Bad-Tk9_wr0ng'	# a token it refuses
ALL=PLAIN,LOGIN,CRAM-MD5,SCRAM-SHA-1,SCRAM-SHA-256,XOAUTH2,OAUTHBEARER
SRV="--tls starttls --cert $C/server.pem --key $C/server.key
    --auth-require-tls --auth $AU:$PW --auth-token $AU:$TOK"
TMO=""
command -v timeout > /dev/null 2>&1 && TMO="timeout 60"
CAP=$T/captured			# everything postern printed, for the grep
mkdir -p "$CAP"
password "$T/pw" "$PW"
password "$T/badpw" "$BAD"
printf '%s\n' "$TOK" > "$T/tok"
printf '%s\n' "$BADTOK" > "$T/badtok"

# --- helpers ---------------------------------------------------------------

eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'${4:+; $4}"; fi
}
# b64 TEXT: base64 of TEXT, with \x01 and \0 escapes.
b64() { /usr/bin/python3 -c 'import base64, sys; sys.stdout.write(base64.b64encode(sys.argv[1].encode().decode("unicode_escape").encode("latin-1")).decode())' "$1"; }
NF=0
# flush CONF: one foreground pass with the dialogue, kept in $CAP.
flush() {
	NF=$((NF + 1))
	$TMO "$POSTERN" -C "$1" flush -v > "$T/flush.out" 2> "$T/flush.err"
	FRC=$?
	cat "$T/flush.out" "$T/flush.err" > "$CAP/flush.$NF"
}
# mq CONF: mailq into $T/mq (kept in $CAP too).
mq() { "$MAILQ" -C "$1" > "$T/mq" 2>&1; cp "$T/mq" "$CAP/mailq.$NF"; }
reset() { clearq; rm -f "$T/spool/status"; }
# delivered NAME SERVER N CONF: the flush went well, SERVER has N
# messages, and the queue is empty.
delivered() {
	mq "$4"
	if [ "$FRC" -eq 0 ] && [ "$(received "$2")" -eq "$3" ] &&
	    [ "$(qcount)" -eq 0 ]; then
		pass "$1"
	else
		fail "$1" "rc $FRC, $(received "$2") received, $(qcount) queued: $(tail -n 4 "$T/flush.err" | tr '\n' ' ')"
	fi
}
# deferred NAME SERVER N CONF ERE: the message is still queued, nothing
# else is (no bounce), SERVER still has N messages, and mailq shows an
# AUTH error matching ERE.
deferred() {
	mq "$4"
	if [ "$FRC" -eq 0 ] && [ "$(received "$2")" -eq "$3" ] &&
	    [ "$(qcount)" -eq 1 ] && [ -f "$T/spool/queue/$QID" ] &&
	    grep -q "AUTH" "$T/mq" && grep -Eq -- "$5" "$T/mq"; then
		pass "$1"
	else
		fail "$1" "rc $FRC, $(received "$2") received, $(qcount) queued; mailq: $(head -c 500 "$T/mq")"
	fi
}
# authlog NAME SERVER ERE: the last line of its auth.log matches ERE.
authlog() {
	_l=$(tail -n 1 "$T/$2/auth.log" 2>/dev/null)
	if echo "$_l" | grep -Eq -- "$3"; then pass "$1"; else fail "$1" "auth.log: '$_l'"; fi
}
# has NAME FILE ERE / hasnt NAME FILE ERE
has() { if grep -Eq -- "$3" "$2"; then pass "$1"; else fail "$1" "$(basename "$2"): $(head -c 600 "$2" | tr '\n' ' ')"; fi; }
hasnt() { if grep -Eq -- "$3" "$2"; then fail "$1" "$(grep -E -- "$3" "$2" | head -n 2)"; else pass "$1"; fi; }
# conf NAME LINES...: a relay configuration for the smarthost on $SH_PORT.
conf() { _c=$T/$1.conf; shift; relay_conf "$_c" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" "$@"; }

# --- SCRAM -----------------------------------------------------------------

start_smarthost sh -- $SRV --auth-mechs "$ALL" || exit 0
P1=$SH_PORT

conf scram "auth_password_file $T/pw"
enqueue "$T/scram.conf" scram-default
flush "$T/scram.conf"
delivered "SCRAM-SHA-256: delivered" sh 1 "$T/scram.conf"
authlog "SCRAM-SHA-256: the default choice, verified by the server" sh \
    "^[0-9]+ SCRAM-SHA-256 $AU ok tls=yes$"
has "SCRAM-SHA-256: -v shows the mechanism, redacted" "$T/flush.err" \
    '^>>> AUTH SCRAM-SHA-256 \*\*\*$'
has "SCRAM-SHA-256: -v shows the empty final response" "$T/flush.err" \
    '^<<< 235 '

conf scram1 "auth_password_file $T/pw" "auth_mechanisms SCRAM-SHA-1"
enqueue "$T/scram1.conf" scram-sha1
flush "$T/scram1.conf"
delivered "SCRAM-SHA-1: delivered" sh 2 "$T/scram1.conf"
authlog "SCRAM-SHA-1: chosen by auth_mechanisms" sh "^[0-9]+ SCRAM-SHA-1 $AU ok"

conf scrambad "auth_password_file $T/badpw"
enqueue "$T/scrambad.conf" scram-wrong-password
flush "$T/scrambad.conf"
deferred "SCRAM, wrong password: deferred, not bounced" sh 2 \
    "$T/scrambad.conf" "authentication failed"
authlog "SCRAM, wrong password: the server refused the proof" sh \
    "^[0-9]+ SCRAM-SHA-256 $AU fail"
reset

# sendmail -v: the attempt in the foreground, its dialogue on stderr
printf 'From: s@example.org\nTo: rcpt@x.org\nSubject: sendmail-v\n\nbody\n' \
    > "$T/msg"
$TMO $SENDMAIL -v -C "$T/scram.conf" -t < "$T/msg" > "$CAP/sendmail-v.out" \
    2> "$CAP/sendmail-v.err"
eq "sendmail -v: exit 0" "$?" 0
eq "sendmail -v: delivered" "$(received sh)" 3 "$(tail -n 3 "$CAP/sendmail-v.err" | tr '\n' ' ')"
has "sendmail -v: dialogue shown, AUTH redacted" "$CAP/sendmail-v.err" \
    '>>> AUTH SCRAM-SHA-256 \*\*\*'

# servers that do not prove they know the password
stop_smarthost sh
start_smarthost shfault -- $SRV --auth-mechs SCRAM-SHA-256 \
    --scram-fault bad-signature || exit 0
conf fault "auth_password_file $T/pw"
enqueue "$T/fault.conf" scram-bad-signature
flush "$T/fault.conf"
deferred "bad server signature: deferred, not bounced" shfault 0 \
    "$T/fault.conf" "signature does not verify"
# "-": the client cancels with "*" and closes at once, so the server may
# fail to answer its 501 before it logs
authlog "bad server signature: the client cancelled with *" shfault \
    "^[0-9]+ SCRAM-SHA-256 ($AU|-) error"
has "bad server signature: -v shows the cancel" "$T/flush.err" '^>>> \*$'
reset
stop_smarthost shfault

start_smarthost shfault2 -- $SRV --auth-mechs SCRAM-SHA-256 \
    --scram-fault no-final || exit 0
conf fault2 "auth_password_file $T/pw"
enqueue "$T/fault2.conf" scram-no-final
flush "$T/fault2.conf"
deferred "235 without the server signature: deferred" shfault2 0 \
    "$T/fault2.conf" "without proving"
reset
stop_smarthost shfault2

start_smarthost shfault3 -- $SRV --auth-mechs SCRAM-SHA-256 \
    --scram-fault final-in-235 || exit 0
conf fault3 "auth_password_file $T/pw"
enqueue "$T/fault3.conf" scram-final-in-235
flush "$T/fault3.conf"
delivered "server signature in the 235 text: verified, delivered" \
    shfault3 1 "$T/fault3.conf"
stop_smarthost shfault3

# --- OAuth 2.0 ---------------------------------------------------------------

start_smarthost sh2 -- $SRV --auth-mechs "$ALL" || exit 0

conf xo "auth_token_command cat $T/tok" "auth_mechanisms XOAUTH2"
enqueue "$T/xo.conf" xoauth2
flush "$T/xo.conf"
delivered "XOAUTH2: token from auth_token_command, delivered" sh2 1 \
    "$T/xo.conf"
authlog "XOAUTH2: the server accepted the token" sh2 "^[0-9]+ XOAUTH2 $AU ok"
has "XOAUTH2: -v redacts the initial response" "$T/flush.err" \
    '^>>> AUTH XOAUTH2 \*\*\*$'

conf ob "auth_token_command cat $T/tok"
enqueue "$T/ob.conf" oauthbearer
flush "$T/ob.conf"
delivered "OAUTHBEARER: the default with a token, delivered" sh2 2 \
    "$T/ob.conf"
authlog "OAUTHBEARER: the server accepted the token" sh2 \
    "^[0-9]+ OAUTHBEARER $AU ok"
has "OAUTHBEARER: host and port sent" "$T/sh2/events.log" \
    "oauthbearer $AU host=127.0.0.1 port=$SH_PORT"

conf xobad "auth_token_command cat $T/badtok" "auth_mechanisms XOAUTH2"
n0=$(wc -l < "$T/sh2/auth.log")
enqueue "$T/xobad.conf" xoauth2-bad-token
flush "$T/xobad.conf"
deferred "XOAUTH2, bad token: deferred, not bounced" sh2 2 "$T/xobad.conf" \
    "token refused.*invalid_token"
authlog "XOAUTH2, bad token: error challenge answered with an empty line" \
    sh2 "^[0-9]+ XOAUTH2 $AU fail"
has "XOAUTH2, bad token: the server sent its error challenge" \
    "$T/sh2/events.log" "oauth-error-challenge XOAUTH2 $AU"
eq "XOAUTH2, bad token: the same token is not tried twice" \
    "$(($(wc -l < "$T/sh2/auth.log") - n0))" 1
reset

conf obbad "auth_token_command cat $T/badtok" "auth_mechanisms OAUTHBEARER"
enqueue "$T/obbad.conf" oauthbearer-bad-token
flush "$T/obbad.conf"
deferred "OAUTHBEARER, bad token: deferred, not bounced" sh2 2 \
    "$T/obbad.conf" "token refused"
authlog "OAUTHBEARER, bad token: error challenge answered with ^A" sh2 \
    "^[0-9]+ OAUTHBEARER $AU fail"
reset

# a refused token: the command runs again and the fresh token is tried
cat > "$T/tokseq.sh" <<EOF
n=\$(cat "$T/tokn" 2>/dev/null || echo 0)
echo \$((n + 1)) > "$T/tokn"
if [ "\$n" -eq 0 ]; then cat "$T/badtok"; else cat "$T/tok"; fi
EOF
conf seq "auth_token_command sh $T/tokseq.sh" "auth_mechanisms XOAUTH2"
enqueue "$T/seq.conf" fresh-token
flush "$T/seq.conf"
delivered "refused token replaced by a fresh one in the same pass" sh2 3 \
    "$T/seq.conf"
eq "the token command ran twice" "$(cat "$T/tokn" 2>/dev/null)" 2
has "the retry is logged" "$T/flush.err" "refused the access token; trying once more"

# --- auth_password_command ---------------------------------------------------

cat > "$T/getpw.sh" <<EOF
touch "$T/getpw.ran"
cat "$T/pw"
echo "a second line that is not the password"
EOF
conf pwcmd "auth_password_command sh $T/getpw.sh"
rm -f "$T/getpw.ran"
enqueue "$T/pwcmd.conf" password-command
mq "$T/pwcmd.conf"
if [ -e "$T/getpw.ran" ]; then
	fail "the front-end never runs auth_password_command" "it ran"
else
	pass "the front-end never runs auth_password_command"
fi
flush "$T/pwcmd.conf"
delivered "auth_password_command: first line used, delivered" sh2 4 \
    "$T/pwcmd.conf"
authlog "auth_password_command: SCRAM-SHA-256 with it" sh2 \
    "^[0-9]+ SCRAM-SHA-256 $AU ok"

conf pwfail "auth_password_command exit 3"
c0=$(wc -l < "$T/sh2/connections.log")
enqueue "$T/pwfail.conf" password-command-fails
flush "$T/pwfail.conf"
deferred "failing auth_password_command: deferred" sh2 4 "$T/pwfail.conf" \
    "auth_password_command failed \(exit status 3\)"
eq "failing auth_password_command: no connection made" \
    "$(wc -l < "$T/sh2/connections.log")" "$c0"
reset

conf pwempty "auth_password_command true"
enqueue "$T/pwempty.conf" password-command-empty
flush "$T/pwempty.conf"
deferred "empty auth_password_command output: deferred" sh2 4 \
    "$T/pwempty.conf" "auth_password_command printed nothing"
reset

conf pwlong "auth_password_command printf '%02000d' 7"
enqueue "$T/pwlong.conf" password-command-long
flush "$T/pwlong.conf"
deferred "auth_password_command printing a long line: deferred" sh2 4 \
    "$T/pwlong.conf" "first line longer than 1024 bytes"
reset

conf tokfail "auth_token_command echo 'not a token' >&2; exit 1"
enqueue "$T/tokfail.conf" token-command-fails
flush "$T/tokfail.conf"
deferred "failing auth_token_command: deferred" sh2 4 "$T/tokfail.conf" \
    "auth_token_command failed \(exit status 1\)"
has "its stderr reaches the -v output" "$T/flush.err" "not a token"
reset
stop_smarthost sh2

# --- no secret anywhere ------------------------------------------------------

cp -r "$T/sh" "$T/sh2" "$T/shfault" "$T/spool" "$CAP/" 2>/dev/null
leaks=""
for s in "$PW" "$BAD" "$TOK" "$BADTOK" "$(b64 "$PW")" "$(b64 "$BAD")" \
    "$(b64 "$TOK")" "$(b64 "$BADTOK")" \
    "$(b64 "user=$AU\\x01auth=Bearer $TOK\\x01\\x01")" \
    "$(b64 "user=$AU\\x01auth=Bearer $BADTOK\\x01\\x01")" \
    "$(b64 "n,a=$AU,\\x01host=127.0.0.1\\x01port=$P1")"; do
	if grep -rqF -- "$s" "$CAP"; then
		leaks="$leaks '$s' in $(grep -rlF -- "$s" "$CAP" | sed "s|$CAP/||" | tr '\n' ' ')"
	fi
done
if [ -z "$leaks" ]; then
	pass "no password or token in -v output, logs, mailq, spool or server files"
else
	fail "no password or token in -v output, logs, mailq, spool or server files" "$leaks"
fi
if grep -rlqE 'Sanitizer|runtime error:' "$CAP"; then
	fail "no sanitizer report in any run" "$(grep -rlE 'Sanitizer|runtime error:' "$CAP" | head -n 3 | tr '\n' ' ')"
else
	pass "no sanitizer report in any run"
fi
n=$(cat "$CAP"/flush.* | wc -l)
if [ "$n" -gt 50 ]; then pass "the captured output is not empty ($n lines)"; else fail "captured output" "$n lines"; fi
