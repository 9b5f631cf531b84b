# oauth.sh: the built-in OAuth 2.0 token client (src/oauth.c, http.c,
# json.c) against tests/tools/tokenserver.py, an HTTPS token endpoint on
# 127.0.0.1 with the test CA, driven through tests/unit/test_oauth get:
# first fetch, cache reuse, refresh on expiry, forced refresh, rotated
# refresh tokens, the client-credentials grant, a public client, one
# request for concurrent callers, the endpoint's faults (down, 500,
# garbage, errors, too big, too slow), certificate checks, secret-file
# checks, and that no secret or token ever appears in an error.
. "$TOP_SRCDIR/tests/integration/lib.sh"

PROG=$TOP_BUILDDIR/tests/unit/test_oauth
PY=/usr/bin/python3
[ -x "$PROG" ] || { skip "oauth" "$PROG not built"; exit 0; }
[ -x "$PY" ] || { skip "oauth" "no $PY"; exit 0; }
command -v openssl > /dev/null 2>&1 || { skip "oauth" "no openssl"; exit 0; }
certs || { fail "oauth: certificates"; exit 1; }
C=$T/certs

SECRET=client-secret-$$-XYZZY
RT0=refresh-token-$$-PLUGH
PUBRT=public-refresh-$$-FROBOZZ
(umask 077 && printf '%s\n' "$SECRET" > "$T/secret" &&
    printf '%s\n' "$RT0" > "$T/refresh" && printf '%s\n' "$PUBRT" > "$T/pubrt")

# tokensrv NAME CERT ARGS...: starts tokenserver.py; sets PORT (at most
# 10 s). Its requests are logged in $T/NAME.req.
tokensrv() {
	_n=$1 _c=$2
	shift 2
	"$PY" "$TOP_SRCDIR/tests/tools/tokenserver.py" --portfile "$T/$_n.port" \
	    --cert "$C/$_c.pem" --key "$C/$_c.key" --log "$T/$_n.req" \
	    --life 120 "$@" > "$T/$_n.log" 2>&1 &
	PIDS="$PIDS $!"
	_i=0
	while [ ! -s "$T/$_n.port" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	PORT=$(cat "$T/$_n.port" 2>/dev/null) && [ -n "$PORT" ]
}
tokensrv main server --client-id cid --client-secret "$SECRET" \
    --refresh-token "$RT0" --rotate && MAIN=$PORT &&
tokensrv pub server --client-id pubcid --refresh-token "$PUBRT" &&
    PUB=$PORT &&
tokensrv wrong wrong --client-id cid --client-secret "$SECRET" \
    --refresh-token "$RT0" && WRONG=$PORT || {
	fail "oauth: token servers" "$(cat "$T"/*.log | head -c 300)"
	exit 1
}
URL=https://127.0.0.1:$MAIN/token

# get ARGS...: one token request; stdout in $T/out, stderr in $T/err
# (also appended to $T/allerr), the status in $RC.
get() {
	"$PROG" get "$@" > "$T/out" 2> "$T/err"
	RC=$?
	cat "$T/err" >> "$T/allerr"
	cat "$T/out" >> "$T/alltokens"
}
# nreq NAME [GRANT]: requests server NAME has answered (of that grant).
nreq() { grep -c "grant=${2:-}" "$T/$1.req"; }
token() { sed -n 's/^token //p' "$T/out"; }
# ok_token NAME: the last get succeeded with a token and no message.
ok_token() {
	if [ $RC -eq 0 ] && grep -q '^token at-' "$T/out" && [ ! -s "$T/err" ]
	then pass "$1"
	else fail "$1" "rc $RC: $(head -c 300 "$T/err")"; fi
}
# err_is NAME TEXT: the last get failed with one line containing TEXT.
err_is() {
	if [ $RC -eq 1 ] && [ ! -s "$T/out" ] &&
	    [ "$(wc -l < "$T/err")" -eq 1 ] && grep -qF -- "$2" "$T/err"
	then pass "$1"
	else fail "$1" "rc $RC, want an error with \"$2\": $(head -c 300 "$T/err")"; fi
}
BASE="-a $C/ca.pem -s $T/secret -r $T/refresh"

# --- the refresh-token grant, the cache, rotation ---
get $BASE -c "$T/cache" "$URL" cid
ok_token "oauth: first fetch"
T1=$(token)
[ "$(nreq main refresh_token)" -eq 1 ] && pass "oauth: one request" ||
    fail "oauth: one request" "$(cat "$T/main.req")"
[ "$(stat -c %a "$T/cache")" = 600 ] && grep -qxF "token $T1" "$T/cache" &&
    pass "oauth: cache file mode 0600 with the token" ||
    fail "oauth: cache file mode 0600 with the token" "$(stat -c %a "$T/cache")"
RT1=$(cat "$T/refresh")
case $RT1 in
rt-*) [ "$(stat -c %a "$T/refresh")" = 600 ] &&
	pass "oauth: rotated refresh token saved, mode 0600" ||
	fail "oauth: rotated refresh token saved, mode 0600" ;;
*) fail "oauth: rotated refresh token saved, mode 0600" "file holds $RT1" ;;
esac
ls "$T" | grep -q '\.tmp' && fail "oauth: no temporary file left" "$(ls "$T")" ||
    pass "oauth: no temporary file left"

get $BASE -c "$T/cache" "$URL" cid
ok_token "oauth: cached token"
[ "$(token)" = "$T1" ] && [ "$(nreq main)" -eq 1 ] &&
    pass "oauth: cache reused without a request" ||
    fail "oauth: cache reused without a request" "$(nreq main) requests"

get -f $BASE -c "$T/cache" "$URL" cid
ok_token "oauth: forced refresh"
T2=$(token)
[ "$T2" != "$T1" ] && [ "$(nreq main)" -eq 2 ] &&
    [ "$(cat "$T/refresh")" != "$RT1" ] &&
    pass "oauth: forced refresh made a request with the rotated token" ||
    fail "oauth: forced refresh made a request with the rotated token"
get $BASE -c "$T/cache" "$URL" cid
[ "$(token)" = "$T2" ] && [ "$(nreq main)" -eq 2 ] &&
    pass "oauth: the new token is cached" ||
    fail "oauth: the new token is cached"

# A torn cache, or one that others may read, is ignored and replaced.
printf 'postern-oauth-cache 1\nkey x\n' > "$T/cache"
get $BASE -c "$T/cache" "$URL" cid
[ $RC -eq 0 ] && [ "$(nreq main)" -eq 3 ] && grep -q '^end$' "$T/cache" &&
    pass "oauth: torn cache replaced" || fail "oauth: torn cache replaced"
chmod 644 "$T/cache"
get $BASE -c "$T/cache" "$URL" cid
[ $RC -eq 0 ] && [ "$(nreq main)" -eq 4 ] &&
    [ "$(stat -c %a "$T/cache")" = 600 ] &&
    pass "oauth: readable cache ignored and replaced" ||
    fail "oauth: readable cache ignored and replaced"
# An expired entry (edited back in time) is refreshed.
sed -i 's/^expires .*/expires 1000/' "$T/cache"
get $BASE -c "$T/cache" "$URL" cid
[ $RC -eq 0 ] && [ "$(nreq main)" -eq 5 ] &&
    pass "oauth: expired cache entry refreshed" ||
    fail "oauth: expired cache entry refreshed"

# A real short expiry: 2 s tokens are used, then refreshed.
get $BASE -c "$T/short" "$URL?expires=2" cid
S1=$(token)
get $BASE -c "$T/short" "$URL?expires=2" cid
[ "$(token)" = "$S1" ] && [ "$(nreq main)" -eq 6 ] &&
    pass "oauth: short-lived token reused at once" ||
    fail "oauth: short-lived token reused at once"
sleep 2.2
get $BASE -c "$T/short" "$URL?expires=2" cid
[ $RC -eq 0 ] && [ "$(token)" != "$S1" ] && [ "$(nreq main)" -eq 7 ] &&
    pass "oauth: refreshed after expiry" ||
    fail "oauth: refreshed after expiry" "$(nreq main) requests"

# Concurrent callers with no cache: one request, one token for all.
n0=$(nreq main)
for i in 1 2 3 4; do
	"$PROG" get $BASE -c "$T/conc" "$URL" cid > "$T/conc.$i" 2>&1 &
	eval "cp$i=\$!"
done
wait $cp1 $cp2 $cp3 $cp4
[ "$(cat "$T"/conc.? | sort -u | wc -l)" -eq 1 ] &&
    grep -q '^token at-' "$T/conc.1" && [ "$(nreq main)" -eq $((n0 + 1)) ] &&
    pass "oauth: concurrent callers share one request" ||
    fail "oauth: concurrent callers share one request" \
	"$(cat "$T"/conc.? | head -c 300)"

# Variants of a good answer.
get $BASE "$URL?fault=chunked" cid
ok_token "oauth: chunked response"
get $BASE "$URL?expires=str" cid
ok_token "oauth: expires_in as a string"
get $BASE -c "$T/noexp" "$URL?expires=none" cid
ok_token "oauth: no expires_in"
awk '/^obtained/ { o = $2 } /^expires/ { e = $2 }
    END { exit !(e - o == 3600) }' "$T/noexp" &&
    pass "oauth: no expires_in counts as one hour" ||
    fail "oauth: no expires_in counts as one hour"

# --- other grants and clients ---
get -a "$C/ca.pem" -s "$T/secret" -S "https://outlook.office365.com/.default" \
    -c "$T/cc" "$URL" cid
ok_token "oauth: client-credentials grant"
grep -q 'grant=client_credentials status=200 fault=- scope=https://outlook.office365.com/.default' \
    "$T/main.req" && pass "oauth: client-credentials grant with its scope" ||
    fail "oauth: client-credentials grant with its scope"
get -a "$C/ca.pem" -r "$T/pubrt" "https://localhost:$PUB/token" pubcid
ok_token "oauth: public client (no secret), by host name"
n0=$(nreq main)
get -a "$C/ca.pem" "$URL" cid
err_is "oauth: client-credentials needs a secret" "needs a client secret file"
get -a "$C/ca.pem" -s "$T/refresh" "$URL" cid
err_is "oauth: wrong client secret" "HTTP 401: invalid_client"

# --- faults: each one clear line, exit 1, nothing on stdout ---
get $BASE "https://127.0.0.1:$(free_port)/token" cid
err_is "oauth: endpoint down" "connect to 127.0.0.1[127.0.0.1]"
get $BASE "$URL?fault=500" cid
err_is "oauth: HTTP 500" "token endpoint $URL?fault=500: HTTP 500 Internal Server Error"
get $BASE "$URL?fault=garbage" cid
err_is "oauth: garbage body" "HTTP 200 but the body is not JSON (text/html"
get $BASE "$URL?fault=badjson" cid
err_is "oauth: truncated JSON" "not JSON (application/json, at offset"
get $BASE "$URL?fault=notoken" cid
err_is "oauth: no access_token" "without an access_token"
get $BASE "$URL?fault=mac" cid
err_is "oauth: token_type mac" "token_type mac is not Bearer"
get $BASE "$URL?fault=revoke" cid
err_is "oauth: invalid_grant" "HTTP 400: invalid_grant: Token has been expired or revoked."
get $BASE "$URL?fault=huge" cid
err_is "oauth: body too big" "body over 65536 bytes"
get $BASE "$URL?fault=bighead" cid
err_is "oauth: headers too big" "headers over 16384 bytes"
get $BASE "$URL?fault=close" cid
err_is "oauth: connection closed" "token endpoint $URL?fault=close: read from"
s=$(date +%s)
get -t 1 $BASE "$URL?fault=slow" cid
err_is "oauth: slow endpoint times out" "timed out"
get -t 1 $BASE "$URL?fault=drip" cid
err_is "oauth: dribbling endpoint times out" "timed out"
[ $(($(date +%s) - s)) -le 5 ] && pass "oauth: timeouts bound the whole exchange" ||
    fail "oauth: timeouts bound the whole exchange" "$(($(date +%s) - s)) s"
get $BASE "$URL?fault=echo" cid
err_is "oauth: echoed secrets are masked" "got secret *** and refresh token ***"
[ "$(nreq main)" -eq $((n0 + 13)) ] && pass "oauth: one request per fault" ||
    fail "oauth: one request per fault" "$(nreq main) requests, want $((n0 + 13))"

# --- TLS ---
get -a "$C/selfsigned.pem" -s "$T/secret" -r "$T/refresh" "$URL" cid
err_is "oauth: untrusted CA refused" "certificate verify failed"
get $BASE "https://localhost:$WRONG/token" cid
err_is "oauth: wrong host name refused" "certificate verify failed"
[ "$(nreq wrong)" -eq 0 ] && pass "oauth: nothing sent to a bad certificate" ||
    fail "oauth: nothing sent to a bad certificate"
get $BASE "http://127.0.0.1:$MAIN/token" cid
err_is "oauth: plain http refused" "plain http is not allowed"

# --- secret files ---
n0=$(nreq main)
chmod 640 "$T/secret"
get $BASE "$URL" cid
err_is "oauth: group-readable secret refused" "client secret file $T/secret is accessible by group or others"
chmod 600 "$T/secret"
ln -s "$T/refresh" "$T/link"
get -a "$C/ca.pem" -s "$T/secret" -r "$T/link" "$URL" cid
err_is "oauth: symbolic link refused" "refresh token file $T/link:"
get -a "$C/ca.pem" -s "$T/secret" -r "$T/missing" "$URL" cid
err_is "oauth: missing refresh token file" "No such file"
[ "$(nreq main)" -eq "$n0" ] && pass "oauth: no request without good secrets" ||
    fail "oauth: no request without good secrets"

# A rotated refresh token that cannot be saved (the temporary file's name
# is too long even for root): the access token is still given, with a
# warning. Last, since the server no longer knows the saved token.
long=$T/$(printf '%0250d' 0)
cp "$T/refresh" "$long"
get -a "$C/ca.pem" -s "$T/secret" -r "$long" "$URL" cid
if [ $RC -eq 0 ] && grep -q '^token at-' "$T/out" &&
    [ "$(wc -l < "$T/err")" -eq 1 ] &&
    grep -q "^warning: .*the rotated refresh token could not be saved: .*File name too long" "$T/err" &&
    cmp -s "$T/refresh" "$long"; then
	pass "oauth: unsaved rotation warns and still gives the token"
else
	fail "oauth: unsaved rotation warns and still gives the token" \
	    "rc $RC: $(head -c 300 "$T/err")"
fi

# --- no secret or token in any message ---
leak=""
for s in "$SECRET" "$RT0" "$RT1" "$PUBRT" $(sed -n 's/^token //p' "$T/alltokens") \
    $(grep -ho 'rt-[0-9]*-[0-9a-f]*' "$T/refresh" "$T/main.req" 2>/dev/null); do
	grep -qF -- "$s" "$T/allerr" && leak="$leak $s"
done
[ -s "$T/allerr" ] && [ -z "$leak" ] &&
    pass "oauth: no secret or token in any error" ||
    fail "oauth: no secret or token in any error" "found:$leak"
