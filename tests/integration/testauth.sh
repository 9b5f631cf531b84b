# testauth.sh: postern test-auth (issue 7) against the test smarthost:
#   PLAIN over STARTTLS, SCRAM-SHA-256, XOAUTH2 with auth_token_command
#   (exit 0 and an OK line naming user, host, mechanism and TLS version);
#   a wrong password (77, the server's reply); a server that is down
#   (75); a certificate for another name (75, a TLS failure); no
#   auth_user (connect, TLS, EHLO, QUIT); failover past a dead smarthost;
#   a refused token replaced once; a token from oauth_token_url; its
#   endpoint down (75) or refusing the client (78); oauth_ca_file (the
#   test CA, "system", another authority);
#   no smarthost, a password file others can read (78); an unknown
#   ACCOUNT argument (64; accounts.sh tests named ones); a missing
#   spool (not created);
# that no password or token, nor their base64 forms, is ever printed;
# that a queued message and its state are untouched and no smarthost
# status is recorded; and, as root, that test-auth reads the password
# file as the spool's owner.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost
certs

C=$T/certs
AU=relayuser
PW='pw-Ta7-n0t-pr1nted'
BAD='wr0ng-Tb3-pa55'
TOK='ya29.TestAuth-Tk_n0tL3ak'
SRV="--tls starttls --cert $C/server.pem --key $C/server.key
    --auth-require-tls --auth $AU:$PW --auth-token $AU:$TOK"
TMO=""
command -v timeout > /dev/null 2>&1 && TMO="timeout 60"
CAP=$T/captured			# everything test-auth printed
mkdir -p "$CAP"
password "$T/pw" "$PW"
password "$T/badpw" "$BAD"
printf '%s\n' "$TOK" > "$T/tok"

has() { if grep -Eq -- "$3" "$2"; then pass "$1"; else fail "$1" "$(head -c 600 "$2" | tr '\n' ' ')"; fi; }
hasnt() { if grep -Eq -- "$3" "$2"; then fail "$1" "$(grep -E -- "$3" "$2" | head -n 2)"; else pass "$1"; fi; }
lastline() {
	_l=$(tail -n 1 "$2")
	if echo "$_l" | grep -Eq -- "$3"; then pass "$1"; else fail "$1" "last line: '$_l'"; fi
}
# ta NAME WANT CONF [ARGS]: runs test-auth, expects exit WANT (and one
# stderr line unless 0); $T/out, $T/err, and both together in $T/all.
N=0
ta() {
	_name=$1; _want=$2; _conf=$3; shift 3
	N=$((N + 1))
	expect_rc "$_name: exit $_want" "$_want" $TMO "$POSTERN" -C "$_conf" test-auth "$@"
	cat "$T/out" "$T/err" > "$T/all"
	cp "$T/all" "$CAP/ta.$N"
}
b64() { /usr/bin/python3 -c 'import base64, sys; sys.stdout.write(base64.b64encode(sys.argv[1].encode().decode("unicode_escape").encode("latin-1")).decode())' "$1"; }
# snap: the spool's queue and state files with their contents
snap() {
	for _f in "$T"/spool/queue/* "$T"/spool/state/* "$T"/spool/status; do
		[ -e "$_f" ] && { echo "$_f"; cksum < "$_f"; }
	done
}

start_smarthost sh -- $SRV --auth-mechs PLAIN,LOGIN,SCRAM-SHA-256,XOAUTH2 || exit 0
P=$SH_PORT
DEAD=$(free_port)
conf() { _c=$T/$1.conf; shift; relay_conf "$_c" "$@"; }

# a message waiting in the queue, which test-auth must leave alone
conf q "smarthost 127.0.0.1:$P" "auth_user $AU" "auth_password_file $T/pw"
printf 'From: s@example.org\nTo: r@x.org\nSubject: waiting\n\nbody\n' |
    $SENDMAIL -odq -C "$T/q.conf" -t 2> "$T/enq.err"
QID=$(basename "$(qlast)")
if [ -f "$T/spool/queue/$QID" ]; then pass "a message is queued first"; else fail "a message is queued first" "$(cat "$T/enq.err")"; fi
BEFORE=$(snap)

# --- success -----------------------------------------------------------------

conf plain "smarthost 127.0.0.1:$P" "auth_user $AU" "auth_password_file $T/pw" \
    "auth_mechanisms PLAIN"
ta "PLAIN over STARTTLS" 0 "$T/plain.conf"
lastline "PLAIN: the OK line names user, host, mechanism, TLS" "$T/out" \
    "^test-auth: OK: authenticated as $AU at 127\.0\.0\.1\[127\.0\.0\.1\]:$P with PLAIN over TLSv1\.[23]$"
has "PLAIN: the dialogue, AUTH redacted" "$T/out" '^>>> AUTH PLAIN \*\*\*$'
has "PLAIN: STARTTLS, then EHLO again" "$T/out" '^>>> STARTTLS$'
has "PLAIN: TLS version and cipher" "$T/out" '^TLS: TLSv1\.[23] with [A-Z0-9_-]+$'
has "PLAIN: the certificate was verified" "$T/out" '^certificate: /.*CN=[^:]*: chain verified .*name matches 127\.0\.0\.1$'
has "PLAIN: QUIT answered" "$T/out" '^<<< 221'
has "PLAIN: the server saw the AUTH over TLS" "$T/sh/auth.log" "PLAIN $AU ok tls=yes"
hasnt "PLAIN: nothing is sent after QUIT (no MAIL)" "$T/out" '^>>> (MAIL|RCPT|DATA)'

conf scram "smarthost 127.0.0.1:$P" "auth_user $AU" "auth_password_file $T/pw"
ta "SCRAM-SHA-256" 0 "$T/scram.conf"
lastline "SCRAM-SHA-256: chosen by default, OK" "$T/out" \
    "^test-auth: OK: authenticated as $AU at .*:$P with SCRAM-SHA-256 over TLSv1\.[23]$"
has "SCRAM-SHA-256: the mechanism is reported" "$T/out" \
    "^authenticated as $AU with SCRAM-SHA-256 \(the server offers: .*SCRAM-SHA-256"

conf xo "smarthost 127.0.0.1:$P" "auth_user $AU" "auth_token_command cat $T/tok" \
    "auth_mechanisms XOAUTH2"
ta "XOAUTH2 with auth_token_command" 0 "$T/xo.conf"
lastline "XOAUTH2: OK" "$T/out" "^test-auth: OK: authenticated as $AU at .* with XOAUTH2 over TLSv1"
has "XOAUTH2: the server accepted the token" "$T/sh/auth.log" "XOAUTH2 $AU ok"

conf noauth "smarthost 127.0.0.1:$P"
ta "no auth_user" 0 "$T/noauth.conf"
lastline "no auth_user: connected, no AUTH" "$T/out" \
    "^test-auth: OK: connected to 127\.0\.0\.1\[127\.0\.0\.1\]:$P over TLSv1\.[23] \(no AUTH configured\)$"
hasnt "no auth_user: no AUTH sent" "$T/out" '^>>> AUTH'
has "no auth_user: QUIT sent" "$T/out" '^>>> QUIT$'

conf fo "smarthost 127.0.0.1:$DEAD 127.0.0.1:$P" "auth_user $AU" \
    "auth_password_file $T/pw"
ta "failover" 0 "$T/fo.conf"
has "failover: the dead smarthost is reported" "$T/out" \
    "^failed: connect to 127\.0\.0\.1.*:$DEAD.*\(connect\); trying the next smarthost$"
lastline "failover: the second one authenticates" "$T/out" \
    "^test-auth: OK: authenticated as $AU at .*:$P with SCRAM-SHA-256"

# a refused token is replaced once, as in a delivery pass
printf 'n=$(cat %s/n 2>/dev/null || echo 0); echo $((n + 1)) > %s/n\n[ "$n" -eq 0 ] && echo ya29.Stale-Tk_0ld || cat %s/tok\n' \
    "$T" "$T" "$T" > "$T/tokcmd"
conf fresh "smarthost 127.0.0.1:$P" "auth_user $AU" "auth_token_command sh $T/tokcmd" \
    "auth_mechanisms XOAUTH2"
ta "refused token, then a fresh one" 0 "$T/fresh.conf"
has "refused token: the retry is shown" "$T/out" 'trying once more with a fresh one'
lastline "refused token: the fresh one authenticates" "$T/out" \
    "^test-auth: OK: authenticated as $AU at .* with XOAUTH2"

# the built-in OAuth 2.0 client (client-credentials grant)
SECRET=oauth-client-secret-$$-TAx
(umask 077 && printf '%s\n' "$SECRET" > "$T/secret")
/usr/bin/python3 "$TOP_SRCDIR/tests/tools/tokenserver.py" --portfile "$T/ts.port" \
    --cert "$C/server.pem" --key "$C/server.key" --log "$T/ts.req" \
    --client-id cid --client-secret "$SECRET" --token-file "$T/oacur" \
    --life 600 > "$T/ts.log" 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -s "$T/ts.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
TS=$(cat "$T/ts.port" 2>/dev/null)
start_smarthost oa -- --tls starttls --cert "$C/server.pem" --key "$C/server.key" \
    --auth-require-tls --auth-mechs OAUTHBEARER --auth-token-file "$AU:$T/oacur" || exit 0
conf oa "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" \
    "oauth_token_url https://127.0.0.1:${TS:-1}/token" "oauth_client_id cid" \
    "oauth_client_secret_file $T/secret" "oauth_scope https://mail.example/.default"
ta "oauth_token_url: a token from the endpoint" 0 "$T/oa.conf"
lastline "oauth_token_url: OAUTHBEARER authenticates" "$T/out" \
    "^test-auth: OK: authenticated as $AU at .* with OAUTHBEARER over TLSv1"
OATOK=$(cat "$T/oacur" 2>/dev/null)
# oauth_ca_file: the endpoint's authorities apart from the smarthost's
# (the token cache removed first, so that each asks the endpoint)
oaca() {
	conf "$1" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" \
	    "oauth_token_url https://127.0.0.1:${TS:-1}/token" "oauth_client_id cid" \
	    "oauth_client_secret_file $T/secret" "oauth_ca_file $2"
	rm -rf "$T/spool/oauth"
}
oaca oaca "$C/ca.pem"
ta "oauth_ca_file: the test CA" 0 "$T/oaca.conf"
oaca oasys system
ta "oauth_ca_file system: the test CA is not in the system store" 75 "$T/oasys.conf"
lastline "oauth_ca_file system: a certificate failure of the endpoint" "$T/err" \
    "^test-auth: FAILED: token endpoint .*certificate.*\\(AUTH\\)\$"
oaca oaself "$C/selfsigned.pem"
ta "oauth_ca_file: another authority" 75 "$T/oaself.conf"
stop_smarthost oa
# the token endpoint down: try later (75); refusing the client: 78
conf oadown "smarthost 127.0.0.1:$P" "auth_user $AU" \
    "oauth_token_url https://127.0.0.1:$DEAD/token" "oauth_client_id cid" \
    "oauth_client_secret_file $T/secret"
ta "token endpoint down" 75 "$T/oadown.conf"
lastline "token endpoint down: FAILED, class AUTH" "$T/err" \
    "^test-auth: FAILED: token endpoint https://127.0.0.1:$DEAD/token: .*\\(AUTH\\)\$"
(umask 077 && printf 'not-the-secret\n' > "$T/badsecret")
conf oabad "smarthost 127.0.0.1:$P" "auth_user $AU" \
    "oauth_token_url https://127.0.0.1:${TS:-1}/token" "oauth_client_id cid" \
    "oauth_client_secret_file $T/badsecret"
ta "token endpoint refuses the client" 78 "$T/oabad.conf"
lastline "token endpoint refuses the client: FAILED, HTTP 401, class config" "$T/err" \
    "^test-auth: FAILED: token endpoint .*HTTP 40[01].*\\(config\\)\$"

# --- failures ----------------------------------------------------------------

conf bad "smarthost 127.0.0.1:$P" "auth_user $AU" "auth_password_file $T/badpw" \
    "auth_mechanisms PLAIN"
ta "wrong password" 77 "$T/bad.conf"
has "wrong password: FAILED with the server's reply" "$T/err" \
    '^test-auth: FAILED: authentication failed \(PLAIN\): 535 .* \(AUTH\)$'
hasnt "wrong password: no OK line" "$T/out" 'test-auth: OK'

conf down "smarthost 127.0.0.1:$DEAD" "auth_user $AU" "auth_password_file $T/pw"
ta "server down" 75 "$T/down.conf"
has "server down: a connect failure" "$T/err" \
    "^test-auth: FAILED: connect to 127\.0\.0\.1.*:$DEAD: .*\(connect\)$"

start_smarthost wrong -- --tls starttls --cert "$C/wrong.pem" --key "$C/wrong.key" \
    --auth "$AU:$PW" || exit 0
conf wrongname "smarthost localhost:$SH_PORT" "auth_user $AU" "auth_password_file $T/pw"
ta "certificate for another name" 75 "$T/wrongname.conf"
has "wrong name: a TLS failure naming the reason" "$T/err" \
    '^test-auth: FAILED: TLS handshake with .*(certificate verify failed|[Hh]ostname mismatch).*\(TLS\)$'
hasnt "wrong name: no AUTH sent" "$T/out" '^>>> AUTH'
stop_smarthost wrong

conf none "auth_user $AU" "auth_password_file $T/pw"
ta "no smarthost" 78 "$T/none.conf"
has "no smarthost: said so" "$T/err" '^test-auth: FAILED: no smarthost configured \(config\)$'

cp "$T/pw" "$T/openpw"; chmod 644 "$T/openpw"
conf openpw "smarthost 127.0.0.1:$P" "auth_user $AU" "auth_password_file $T/openpw"
ta "password file others can read" 78 "$T/openpw.conf"
has "open password file: refused, nothing sent" "$T/err" \
    "^test-auth: FAILED: password file .*accessible by group or others.*\(config\)$"
hasnt "open password file: no connection made" "$T/out" '^connected to'

expect_rc "unknown ACCOUNT argument: exit 64" 64 "$POSTERN" -C "$T/plain.conf" test-auth someone@example.org
has "unknown ACCOUNT argument: named in one line" "$T/err" "^postern: test-auth: no account 'someone@example.org' in $T/plain.conf\$"
expect_rc "two ACCOUNT arguments: exit 64" 64 "$POSTERN" -C "$T/plain.conf" test-auth a b
expect_rc "unknown option: exit 64" 64 "$POSTERN" -C "$T/plain.conf" test-auth -x

# a spool that does not exist is not needed, and not made
relay_conf "$T/nospool.conf" "smarthost 127.0.0.1:$P" "auth_user $AU" \
    "auth_password_file $T/pw"
sed -i "s|^spool_dir .*|spool_dir $T/nospool|" "$T/nospool.conf"
ta "missing spool" 0 "$T/nospool.conf"
if [ -e "$T/nospool" ]; then fail "missing spool: not created" "$(ls -la "$T/nospool")"; else pass "missing spool: not created"; fi

# --- root: the password file is read as the spool's owner ---------------------

if [ "$(id -u)" -eq 0 ] && id nobody > /dev/null 2>&1; then
	mkdir -p "$T/pspool"
	chown nobody "$T/pspool"
	chmod 0700 "$T/pspool"
	relay_conf "$T/priv.conf" "smarthost 127.0.0.1:$P" "auth_user $AU" \
	    "auth_password_file $T/pw"
	sed -i "s|^spool_dir .*|spool_dir $T/pspool|" "$T/priv.conf"
	chmod 0644 "$T/priv.conf"
	# $T/pw is root's, mode 0600: the spool's owner cannot read it
	ta "as root, privileged layout: root's password file" 78 "$T/priv.conf"
	has "privileged layout: read as the spool owner (denied)" "$T/err" \
	    'password file .*Permission denied \(config\)$'
	cp "$T/pw" "$T/nobodypw"
	chown nobody "$T/nobodypw"
	sed -i "s|^auth_password_file .*|auth_password_file $T/nobodypw|" "$T/priv.conf"
	ta "as root, privileged layout: the owner's password file" 0 "$T/priv.conf"
	lastline "privileged layout: authenticated" "$T/out" "^test-auth: OK: authenticated as $AU"
else
	skip "test-auth as the spool owner" "needs root and a user nobody"
fi

# --- what must not change or show -------------------------------------------

AFTER=$(snap)
if [ "$BEFORE" = "$AFTER" ] && [ -f "$T/spool/queue/$QID" ]; then
	pass "the queue, its state and the smarthost status are untouched"
else
	fail "the queue, its state and the smarthost status are untouched" "before: $BEFORE after: $AFTER"
fi
"$MAILQ" -C "$T/q.conf" > "$T/mq" 2>&1
if grep -q "^$QID" "$T/mq" && ! grep -Eqi 'error|AUTH|refused|connect' "$T/mq"; then
	pass "mailq: still queued, no error recorded"
else
	fail "mailq: still queued, no error recorded" "$(head -c 400 "$T/mq")"
fi
if [ "$(received sh)" -eq 0 ]; then pass "the smarthost got no message"; else fail "the smarthost got no message" "$(received sh)"; fi

PLAIN64=$(b64 "\\0$AU\\0$PW")
PLAINB64=$(b64 "\\0$AU\\0$BAD")
PW64=$(b64 "$PW")
XO64=$(b64 "user=$AU\\x01auth=Bearer $TOK\\x01\\x01")
TOK64=$(b64 "$TOK")
leak=""
for s in "$PW" "$BAD" "$TOK" "$PLAIN64" "$PLAINB64" "$PW64" "$XO64" "$TOK64" \
    "$SECRET" ${OATOK:+"$OATOK"} ya29.Stale-Tk_0ld; do
	grep -rqF -- "$s" "$CAP" && leak="$leak $s"
done
if [ -z "$leak" ]; then
	pass "no password, token or base64 form of them in $N transcripts"
else
	fail "no password, token or base64 form of them in $N transcripts" "found:$leak"
fi
