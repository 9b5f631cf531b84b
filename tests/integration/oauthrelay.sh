# oauthrelay.sh: the built-in OAuth 2.0 token client wired into delivery
# (oauth_token_url and friends, deliver.c), end to end: tests/tools/
# tokenserver.py issues access tokens over HTTPS with the test CA and
# writes the current one to a file, from which tests/tools/smarthost.py
# (--auth-token-file) accepts exactly that token. Checked: the first
# fetch and delivery over XOAUTH2, the cache used by the next pass and by
# OAUTHBEARER (no new request), the cache file 0600 in a 0700 directory,
# a token about to expire refreshed before use, a revoked token replaced
# by exactly one forced refresh in the pass, the client-credentials
# grant, an endpoint that is down, answers garbage or refuses the
# refresh token (mail stays queued with an AUTH error naming the
# endpoint, nothing bounced), and no client secret, refresh token or
# access token in the -v output, mailq, the spool (but oauth/token) or
# the smarthost's files.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost
certs

PY=/usr/bin/python3
C=$T/certs
AU=relayuser
SECRET=oauth-client-secret-$$-XYZZY
RT0=oauth-refresh-token-$$-PLUGH
CUR=$T/tok/current		# the token the endpoint issued last
ACCEPT=$T/accept		# what the smarthost accepts: a link to $CUR
TMO=""
command -v timeout > /dev/null 2>&1 && TMO="timeout 60"
CAP=$T/captured			# everything postern printed, for the grep
mkdir -p "$CAP" "$T/tok" "$T/rt"
(umask 077 && printf '%s\n' "$SECRET" > "$T/secret" &&
    printf '%s\n' "$RT0" > "$T/rt/refresh")
printf '%s\n' "$RT0" > "$T/rt/seen"	# every refresh token used
ln -s "$CUR" "$ACCEPT"
echo nothing-valid > "$T/nothing"

eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'${4:+; $4}"; fi
}
has() { if grep -Eq -- "$3" "$2"; then pass "$1"; else fail "$1" "$(basename "$2"): $(head -c 600 "$2" | tr '\n' ' ')"; fi; }
hasnt() { if grep -Eq -- "$3" "$2"; then fail "$1" "$(grep -E -- "$3" "$2" | head -n 2)"; else pass "$1"; fi; }

# the token endpoint (at most 10 s to start)
"$PY" "$TOP_SRCDIR/tests/tools/tokenserver.py" --portfile "$T/ts.port" \
    --cert "$C/server.pem" --key "$C/server.key" --log "$T/ts.req" \
    --client-id cid --client-secret "$SECRET" --refresh-token "$RT0" \
    --rotate --token-file "$CUR" --life 120 > "$T/ts.log" 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -s "$T/ts.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
TS=$(cat "$T/ts.port" 2>/dev/null)
[ -n "$TS" ] || { fail "oauthrelay: token server" "$(head -c 300 "$T/ts.log")"; exit 1; }
URL=https://127.0.0.1:$TS/token

start_smarthost sh -- --tls starttls --cert "$C/server.pem" \
    --key "$C/server.key" --auth-require-tls \
    --auth-mechs XOAUTH2,OAUTHBEARER --auth-token-file "$AU:$ACCEPT" || exit 0

# nreq: requests the token endpoint has answered
nreq() { wc -l < "$T/ts.req" | tr -d ' '; }
# nauth RESULT: AUTH commands with that result at the smarthost
nauth() { grep -c " $1 tls=" "$T/sh/auth.log"; }
# conf NAME URL [LINES...]: a relay configuration with the built-in client
conf() {
	_c=$T/$1.conf
	_u=$2
	shift 2
	relay_conf "$_c" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" \
	    "oauth_token_url $_u" "oauth_client_id cid" \
	    "oauth_client_secret_file $T/secret" \
	    "oauth_refresh_token_file $T/rt/refresh" \
	    "oauth_scope https://mail.example/ offline_access" "$@"
}
NF=0
# flush CONF: one foreground pass with the dialogue, kept in $CAP
flush() {
	NF=$((NF + 1))
	$TMO "$POSTERN" -C "$1" flush -v > "$T/flush.out" 2> "$T/flush.err"
	FRC=$?
	cat "$T/flush.out" "$T/flush.err" > "$CAP/flush.$NF"
	cat "$T/rt/refresh" >> "$T/rt/seen"
}
mq() { "$MAILQ" -C "$1" > "$T/mq" 2>&1; cp "$T/mq" "$CAP/mailq.$NF"; }
# delivered NAME N CONF: the pass went well, the smarthost has N
# messages, and the queue is empty
delivered() {
	mq "$3"
	if [ "$FRC" -eq 0 ] && [ "$(received sh)" -eq "$2" ] &&
	    [ "$(qcount)" -eq 0 ]; then
		pass "$1"
	else
		fail "$1" "rc $FRC, $(received sh) received, $(qcount) queued: $(tail -n 4 "$T/flush.err" | tr '\n' ' ')"
	fi
}
# deferred NAME N CONF ERE: the message is still queued, nothing else is
# (no bounce), the smarthost still has N messages, and mailq shows an
# AUTH error matching ERE
deferred() {
	mq "$3"
	if [ "$FRC" -eq 0 ] && [ "$(received sh)" -eq "$2" ] &&
	    [ "$(qcount)" -eq 1 ] && [ -f "$T/spool/queue/$QID" ] &&
	    grep -q "AUTH" "$T/mq" && grep -Eq -- "$4" "$T/mq"; then
		pass "$1"
	else
		fail "$1" "rc $FRC, $(received sh) received, $(qcount) queued; mailq: $(head -c 500 "$T/mq")"
	fi
}

# --- first fetch, then the cache ---------------------------------------------

conf xo "$URL" "auth_mechanisms XOAUTH2"
enqueue "$T/xo.conf" first-fetch
flush "$T/xo.conf"
delivered "XOAUTH2: token fetched from the endpoint, delivered" 1 "$T/xo.conf"
eq "XOAUTH2: one request to the token endpoint" "$(nreq)" 1
has "XOAUTH2: the refresh-token grant with the scope" "$T/ts.req" \
    "^grant=refresh_token status=200 fault=- scope=https://mail.example/ offline_access$"
has "XOAUTH2: the smarthost accepted the token" "$T/sh/auth.log" \
    "^[0-9]+ XOAUTH2 $AU ok tls=yes$"
has "XOAUTH2: -v shows the mechanism, redacted" "$T/flush.err" \
    '^>>> AUTH XOAUTH2 \*\*\*$'
tokmode=$(stat -c %a "$T/spool/oauth/token" 2>/dev/null)
dirmode=$(stat -c %a "$T/spool/oauth" 2>/dev/null)
eq "the token cache is mode 0600 in a directory of mode 0700" \
    "$tokmode $dirmode" "600 700"

enqueue "$T/xo.conf" from-cache
flush "$T/xo.conf"
delivered "the second pass: delivered" 2 "$T/xo.conf"
eq "the second pass used the cached token (no request)" "$(nreq)" 1

conf ob "$URL" "auth_mechanisms OAUTHBEARER"
enqueue "$T/ob.conf" oauthbearer
flush "$T/ob.conf"
delivered "OAUTHBEARER: delivered with the cached token" 3 "$T/ob.conf"
eq "OAUTHBEARER: no request" "$(nreq)" 1
has "OAUTHBEARER: the smarthost accepted the token" "$T/sh/auth.log" \
    "^[0-9]+ OAUTHBEARER $AU ok tls=yes$"

# --- revoked: one forced refresh in the pass ---------------------------------

echo "revoked-by-the-provider" > "$CUR"
fails0=$(nauth fail)
enqueue "$T/xo.conf" revoked
flush "$T/xo.conf"
delivered "revoked token: refreshed and delivered in the same pass" 4 \
    "$T/xo.conf"
eq "revoked token: exactly one forced refresh" "$(nreq)" 2
eq "revoked token: refused once by the smarthost" "$(($(nauth fail) - fails0))" 1
has "revoked token: the retry is logged" "$T/flush.err" \
    "refused the access token; trying once more"

# the smarthost refuses every token (another URL: no cached token): a
# fetch, refused, one forced refresh, refused again, then the mail waits
ln -sfn "$T/nothing" "$ACCEPT"
conf xo2 "$URL?x=1" "auth_mechanisms XOAUTH2"
enqueue "$T/xo2.conf" refused-twice
n0=$(nreq)
fails0=$(nauth fail)
flush "$T/xo2.conf"
ln -sfn "$CUR" "$ACCEPT"
deferred "refused after the forced refresh: deferred, not bounced" 4 \
    "$T/xo2.conf" "token refused"
eq "refused after the forced refresh: two requests, no more" \
    "$(($(nreq) - n0))" 2
eq "refused after the forced refresh: two AUTH tries, no more" \
    "$(($(nauth fail) - fails0))" 2
clearq

# --- expiry: a token about to expire is refreshed before use -----------------

conf exp "$URL?expires=2" "auth_mechanisms XOAUTH2"
enqueue "$T/exp.conf" short-lived-1
flush "$T/exp.conf"
delivered "short-lived token: delivered" 5 "$T/exp.conf"
n0=$(nreq)
fails0=$(nauth fail)
sleep 2.2
enqueue "$T/exp.conf" short-lived-2
flush "$T/exp.conf"
delivered "expired token: delivered" 6 "$T/exp.conf"
eq "expired token: refreshed before use (one request)" "$(($(nreq) - n0))" 1
eq "expired token: never offered to the smarthost" "$(nauth fail)" "$fails0"

# --- the client-credentials grant --------------------------------------------

relay_conf "$T/cc.conf" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" \
    "oauth_token_url $URL" "oauth_client_id cid" \
    "oauth_client_secret_file $T/secret" \
    "oauth_scope https://outlook.office365.com/.default"
enqueue "$T/cc.conf" client-credentials
flush "$T/cc.conf"
delivered "client-credentials grant: delivered (OAUTHBEARER by default)" 7 \
    "$T/cc.conf"
has "client-credentials grant: asked for" "$T/ts.req" \
    "^grant=client_credentials status=200 fault=- scope=https://outlook.office365.com/.default$"

# --- the endpoint fails: the mail waits --------------------------------------

conf garbage "$URL?fault=garbage"
nconn=$(wc -l < "$T/sh/connections.log")
enqueue "$T/garbage.conf" endpoint-garbage
flush "$T/garbage.conf"
deferred "endpoint answers garbage: deferred, not bounced" 7 \
    "$T/garbage.conf" "token endpoint https://127.0.0.1:$TS/token"
eq "endpoint answers garbage: no connection to the smarthost" \
    "$(wc -l < "$T/sh/connections.log")" "$nconn"
clearq

DOWN=$(free_port)
conf down "https://127.0.0.1:$DOWN/token"
enqueue "$T/down.conf" endpoint-down
flush "$T/down.conf"
deferred "endpoint down: deferred with an AUTH error naming it" 7 \
    "$T/down.conf" "token endpoint https://127.0.0.1:$DOWN/token"
clearq

conf revoke "$URL?fault=revoke"
enqueue "$T/revoke.conf" refresh-token-revoked
flush "$T/revoke.conf"
deferred "refresh token revoked: deferred, the server's error shown" 7 \
    "$T/revoke.conf" "invalid_grant"
clearq

# --- no secret anywhere ------------------------------------------------------

cp -r "$T/sh" "$CAP/" 2>/dev/null
mkdir -p "$CAP/spool"
(cd "$T/spool" && find . -type f ! -path ./oauth/token) | while read -r f; do
	mkdir -p "$CAP/spool/$(dirname "$f")"
	cp "$T/spool/$f" "$CAP/spool/$f"
done
# each access token, and the base64 XOAUTH2 and OAUTHBEARER responses
"$PY" -c '
import base64, sys
for t in open(sys.argv[1]).read().split():
    print(t)
    for r in ("user=%s\x01auth=Bearer %s\x01\x01" % (sys.argv[2], t),
              "n,a=%s,\x01host=127.0.0.1\x01port=%s\x01auth=Bearer %s\x01\x01"
              % (sys.argv[2], sys.argv[3], t)):
        print(base64.b64encode(r.encode()).decode())
' "$CUR.all" "$AU" "$SH_PORT" > "$T/tokforms"
leaks=""
for s in "$SECRET" $(sort -u "$T/rt/seen") $(cat "$T/tokforms"); do
	[ -n "$s" ] || continue
	if grep -rqF -- "$s" "$CAP"; then
		leaks="$leaks '$s' in $(grep -rlF -- "$s" "$CAP" | sed "s|$CAP/||" | tr '\n' ' ')"
	fi
done
nsec=$(sort -u "$T/rt/seen" | wc -l)
ntok=$(wc -l < "$CUR.all")
if [ -z "$leaks" ] && [ "$nsec" -ge 3 ] && [ "$ntok" -ge 5 ]; then
	pass "no client secret, refresh token ($nsec) or access token ($ntok) in -v output, mailq, spool or smarthost files"
else
	fail "no client secret, refresh or access token anywhere" "$nsec refresh tokens, $ntok access tokens;$leaks"
fi
if grep -rlqE 'Sanitizer|runtime error:' "$CAP"; then
	fail "no sanitizer report in any run" "$(grep -rlE 'Sanitizer|runtime error:' "$CAP" | head -n 3 | tr '\n' ' ')"
else
	pass "no sanitizer report in any run"
fi
n=$(cat "$CAP"/flush.* | wc -l)
if [ "$n" -gt 50 ]; then pass "the captured output is not empty ($n lines)"; else fail "captured output" "$n lines"; fi
stop_smarthost sh
