# security.sh: the security claims of issue 6, end to end, in one place.
# Each check is named after the claim it proves:
#   1. plaintext credentials are never sent unless "tls none" is chosen:
#      a STARTTLS-stripping server (STARTTLS not offered, or answered 454
#      or 502) gets no AUTH and no password byte; SMTPS to a plaintext
#      server sends nothing; "tls none" does send AUTH (explicit choice);
#   2. the certificate is verified by default: no tls_ca_file means the
#      system store, which does not trust the test CA; a wrong name, an
#      expired or a self-signed certificate is refused; only
#      "tls_verify no" lets them in, and no AUTH goes to a refused server;
#   3. credentials never appear in the -v dialogue of postern flush and
#      sendmail, syslog (captured on a private /dev/log), mailq, postern
#      list --json and show, the spool, bounces, or what the smarthost
#      received outside the AUTH exchange; nor in the memory of the
#      delivery process (a core of it, taken with gcore, after AUTH and
#      between passes of the daemon);
#   4. header and envelope injection through -f, -r, -F, a recipient,
#      NAME or -bs commands is refused, and a body cannot smuggle SMTP
#      commands to the smarthost;
#   5. the front-end ignores the caller's environment (LOGNAME, USER,
#      HOME, TMPDIR, NAME, SSL_CERT_FILE), as an unprivileged user;
#   6. spool files and directories keep their modes under umask 000, and
#      delivery refuses a password file opened up after queueing, or one
#      that is a symbolic link.
# Root is needed for the test user, the private /dev/log (a mount
# namespace) and the cores; those parts are skipped without it.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost
certs
umask 000	# every file postern makes must be private all the same

C=$T/certs
AU=secuser
PW="S3cr3t-Pw-$$-x"
BADPW="Wr0ng-Pw-$$-y"
TMO=""
command -v timeout >/dev/null 2>&1 && TMO="timeout 60"
CAP=$T/captured		# everything postern printed, for the secret grep
mkdir -p "$CAP"
password "$T/pw" "$PW"
password "$T/badpw" "$BADPW"
ROOT=no; [ "$(id -u)" -eq 0 ] && ROOT=yes

# --- helpers ---------------------------------------------------------------

# b64 TEXT: base64 of TEXT, with \0 escapes.
b64() { /usr/bin/python3 -c 'import base64, sys; sys.stdout.write(base64.b64encode(sys.argv[1].encode().decode("unicode_escape").encode("latin-1")).decode())' "$1"; }
# The secret in every form it takes on the wire: PLAIN (with and without
# an authorization identity), LOGIN, and the same for the wrong password.
SECRETS="$PW
$BADPW
$(b64 "\\0$AU\\0$PW")
$(b64 "$AU\\0$AU\\0$PW")
$(b64 "$PW")
$(b64 "\\0$AU\\0$BADPW")
$(b64 "$BADPW")"
# leaks WHERE...: the secrets (and the files) found in the files WHERE.
leaks() {
	_l=""
	while IFS= read -r _s; do
		_f=$(grep -rlaF -- "$_s" "$@" 2>/dev/null | sed "s|$T/||" | tr '\n' ' ')
		[ -n "$_f" ] && _l="$_l '$_s' in $_f;"
	done <<EOF
$SECRETS
EOF
	printf '%s' "$_l"
}
# noleak NAME FILES...: passes when no secret is in FILES.
noleak() {
	_n=$1; shift
	_r=$(leaks "$@")
	if [ -z "$_r" ]; then pass "$_n"; else fail "$_n" "$_r"; fi
}
eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'${4:+; $4}"; fi
}
has() { if grep -Eqa -- "$3" "$2"; then pass "$1"; else fail "$1" "$(basename "$2"): $(head -c 400 "$2" | tr '\n' ' ')"; fi; }
hasnt() { if grep -Eqa -- "$3" "$2"; then fail "$1" "$(grep -Ea -- "$3" "$2" | head -n 2 | tr '\n' ' ')"; else pass "$1"; fi; }
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# --- a private syslog (lib.sh): every postern and sendmail run below goes
# through $NS, so log_mail()'s lines are captured in $T/syslog.
private_syslog
[ -n "$NS" ] || skip "syslog capture" "needs root and unshare -m for a private /dev/log; log lines are checked on the -v stderr only"

NF=0
# flush CONF: one foreground pass with the dialogue, kept in $CAP.
flush() {
	NF=$((NF + 1))
	$NS $TMO "$POSTERN" -C "$1" flush -v > "$T/flush.out" 2> "$T/flush.err"
	FRC=$?
	cat "$T/flush.out" "$T/flush.err" > "$CAP/flush.$NF"
}
# mq CONF: mailq, postern list --json and show of every message, kept.
mq() {
	"$MAILQ" -C "$1" > "$T/mq" 2>&1
	cp "$T/mq" "$CAP/mailq.$NF"
	"$POSTERN" -C "$1" list --json > "$CAP/list.$NF" 2>&1
	for _q in $(ls "$T/spool/queue" 2>/dev/null); do
		"$POSTERN" -C "$1" show "$_q" > "$CAP/show.$NF.$_q" 2>&1
	done
}
reset() { clearq; rm -f "$T/spool/status"; }
# refused NAME SERVER-DIR CONF CLASS: the pass sent no AUTH and no mail
# to the server, the message is still queued, and mailq shows CLASS.
refused() {
	_a0=$(lines "$2/auth.log"); _r0=$(ls "$2" 2>/dev/null | grep -c '\.eml$')
	flush "$3"
	mq "$3"
	_a1=$(lines "$2/auth.log"); _r1=$(ls "$2" 2>/dev/null | grep -c '\.eml$')
	if [ "$_a1" -ne "$_a0" ]; then
		fail "$1" "AUTH was sent: $(tail -n 1 "$2/auth.log")"
	elif [ "$_r1" -ne "$_r0" ] || [ "$(qcount)" -ne 1 ]; then
		fail "$1" "$((_r1 - _r0)) received, $(qcount) queued"
	elif ! grep -q "$4" "$T/mq"; then
		fail "$1" "mailq: $(head -c 400 "$T/mq" | tr '\n' ' ')"
	else
		pass "$1"
	fi
}
# delivered NAME SERVER-DIR CONF: the pass delivered everything.
delivered() {
	_r0=$(ls "$2" 2>/dev/null | grep -c '\.eml$')
	flush "$3"
	mq "$3"
	_r1=$(ls "$2" 2>/dev/null | grep -c '\.eml$')
	if [ "$FRC" -eq 0 ] && [ "$_r1" -gt "$_r0" ] && [ "$(qcount)" -eq 0 ]; then
		pass "$1"
	else
		fail "$1" "rc $FRC, $((_r1 - _r0)) received, $(qcount) queued: $(tail -n 3 "$T/flush.err" | tr '\n' ' ')"
	fi
}

# rec.py MODE PORT FILE: a raw SMTP server that records every byte it
# receives into FILE and accepts everything, AUTH included (a
# STARTTLS-stripping man in the middle would): MODE strip offers AUTH
# but not STARTTLS; starttls454 and starttls502 offer STARTTLS and
# refuse it so; plain offers AUTH without STARTTLS (for "tls none" and
# for SMTPS to a plaintext server). It stops after 120 s.
cat > "$T/rec.py" <<'EOF'
import socket, sys, threading, time
mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
def rec(b):
    with lock, open(out, "ab") as f:
        f.write(b)
def serve(c):
    c.settimeout(10)
    buf = b""
    def send(s):
        c.sendall(s.encode() + b"\r\n")
    def line():
        nonlocal buf
        while b"\n" not in buf:
            d = c.recv(4096)
            if not d:
                raise EOFError
            rec(d)
            buf += d
        l, _, buf = buf.partition(b"\n")
        return l.rstrip(b"\r")
    try:
        send("220 rec.example ESMTP")
        while True:
            l = line()
            w = l.split(b" ")[0].upper()
            if w in (b"EHLO", b"HELO"):
                ext = ["250-rec.example", "250-AUTH PLAIN LOGIN", "250-8BITMIME"]
                if mode.startswith("starttls"):
                    ext.append("250-STARTTLS")
                for e in ext + ["250 PIPELINING"]:
                    send(e)
            elif w == b"STARTTLS":
                send("454 4.7.0 TLS not available" if mode == "starttls454"
                     else "502 5.5.1 Not implemented")
            elif w == b"AUTH":
                a = l.split(b" ")
                if len(a) > 1 and a[1].upper() == b"LOGIN":
                    if len(a) < 3:
                        send("334 VXNlcm5hbWU6")
                        line()
                    send("334 UGFzc3dvcmQ6")
                    line()
                elif len(a) < 3:
                    send("334 ")
                    line()
                send("235 2.7.0 Authentication successful")
            elif w == b"DATA":
                send("354 go ahead")
                while line() != b".":
                    pass
                send("250 2.0.0 queued")
            elif w == b"QUIT":
                send("221 2.0.0 bye")
                break
            else:
                send("250 2.0.0 ok")
    except Exception:
        pass
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
s.settimeout(1)
print("listening", flush=True)
end = time.time() + 120
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
# start_rec NAME MODE: starts rec.py; sets REC_PORT, records into $T/NAME.rec.
start_rec() {
	REC_PORT=$(free_port)
	: > "$T/$1.rec"
	/usr/bin/python3 "$T/rec.py" "$2" "$REC_PORT" "$T/$1.rec" > "$T/$1.reclog" 2>&1 &
	PIDS="$PIDS $!"
	_i=0
	while [ $_i -lt 100 ] && ! grep -q '^listening' "$T/$1.reclog"; do
		sleep 0.1; _i=$((_i + 1))
	done
}

# =============================================================================
# 1. Plaintext credentials are never sent unless "tls none" was chosen
# =============================================================================

# the test smarthost with STARTTLS switched off, offering AUTH in the clear;
# the configuration does not name "tls": starttls is the default
start_smarthost strip -- --tls starttls --cert "$C/server.pem" --key "$C/server.key" \
    --no-starttls-advertise --auth "$AU:$PW" --auth-mechs PLAIN,LOGIN,CRAM-MD5 \
    --auth-optional || exit 0
relay_conf "$T/strip.conf" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" \
    "auth_password_file $T/pw"
enqueue "$T/strip.conf" stripped
refused "STARTTLS stripped (not offered), default tls: no AUTH, nothing sent, queued as a TLS error" \
    "$T/strip" "$T/strip.conf" "TLS"
eq "STARTTLS stripped: the server saw no AUTH command at all" "$(lines "$T/strip/auth.log")" 0
hasnt "STARTTLS stripped: no MAIL after the refusal (no fallback)" "$T/strip/events.log" ' msg '
noleak "STARTTLS stripped: no password byte in anything the server stored" "$T/strip"
stop_smarthost strip
reset

# a raw recorder, so that every byte the client sent can be grepped
for m in strip starttls454 starttls502; do
	start_rec "$m" "$m"
	relay_conf "$T/$m.conf" "smarthost 127.0.0.1:$REC_PORT" "tls starttls" \
	    "auth_user $AU" "auth_password_file $T/pw"
	enqueue "$T/$m.conf" "$m"
	flush "$T/$m.conf"
	mq "$T/$m.conf"
	case $m in
	strip)	what="STARTTLS not offered" ;;
	*)	what="STARTTLS offered, answered ${m#starttls}" ;;
	esac
	if [ "$(qcount)" -eq 1 ] && grep -q 'TLS' "$T/mq"; then
		pass "$what: the message stays queued with a TLS error"
	else
		fail "$what: the message stays queued with a TLS error" "$(qcount) queued; mailq: $(head -c 300 "$T/mq" | tr '\n' ' ')"
	fi
	hasnt "$what: no AUTH in the bytes the server received" "$T/$m.rec" '^AUTH'
	hasnt "$what: no MAIL FROM in the bytes the server received" "$T/$m.rec" '^MAIL'
	noleak "$what: no password byte in the bytes the server received" "$T/$m.rec"
	grep -q '^EHLO' "$T/$m.rec" && pass "$what: the recorder did see the session (EHLO)" ||
	    fail "$what: the recorder did see the session (EHLO)" "$(head -c 200 "$T/$m.rec")"
	reset
done

# SMTPS to a server that talks plaintext: the TLS handshake fails first
start_rec smtps plain
relay_conf "$T/smtps.conf" "smarthost 127.0.0.1:$REC_PORT" "tls smtps" \
    "auth_user $AU" "auth_password_file $T/pw"
enqueue "$T/smtps.conf" smtps-plain
flush "$T/smtps.conf"
mq "$T/smtps.conf"
[ "$(qcount)" -eq 1 ] && grep -q TLS "$T/mq" && pass "SMTPS to a plaintext server: queued with a TLS error" ||
	fail "SMTPS to a plaintext server: queued with a TLS error" "$(head -c 300 "$T/mq")"
hasnt "SMTPS to a plaintext server: no SMTP command sent" "$T/smtps.rec" '(EHLO|HELO|AUTH|MAIL)'
noleak "SMTPS to a plaintext server: no password byte sent" "$T/smtps.rec"
reset

# "tls none" is the explicit choice that allows AUTH in the clear
start_rec none plain
relay_conf "$T/none.conf" "smarthost 127.0.0.1:$REC_PORT" "tls none" \
    "auth_user $AU" "auth_password_file $T/pw" "auth_mechanisms PLAIN"
enqueue "$T/none.conf" tls-none
flush "$T/none.conf"
mq "$T/none.conf"
[ "$FRC" -eq 0 ] && [ "$(qcount)" -eq 0 ] && grep -q '^DATA' "$T/none.rec" &&
	pass "tls none: delivered over plaintext" ||
	fail "tls none: delivered over plaintext" "rc $FRC, $(qcount) queued: $(tail -n 3 "$T/flush.err" | tr '\n' ' ')"
has "tls none: AUTH PLAIN was sent (the explicit choice)" "$T/none.rec" '^AUTH PLAIN'
P64=$(b64 "\\0$AU\\0$PW")
eq "tls none: the PLAIN response appears once, in the AUTH command" \
    "$(grep -caF -- "$P64" "$T/none.rec")/$(grep -aF -- "$P64" "$T/none.rec" | grep -c '^AUTH PLAIN ')" "1/1"
grep -avF -- "$P64" "$T/none.rec" > "$T/none.rest"
noleak "tls none: no password byte outside the AUTH exchange" "$T/none.rest"
reset

# =============================================================================
# 2. The certificate is verified by default
# =============================================================================

SRVAUTH="--auth $AU:$PW --auth-mechs PLAIN,LOGIN,CRAM-MD5"
for k in wrong expired selfsigned; do
	start_smarthost "$k" -- --tls starttls --cert "$C/$k.pem" --key "$C/$k.key" $SRVAUTH || exit 0
	eval "PORT_$k=\$SH_PORT"
done
# the good one also refuses one recipient, for a bounce below
start_smarthost good -- --tls starttls --cert "$C/server.pem" --key "$C/server.key" \
    $SRVAUTH --reply-rcpt "bad@x.org=550 5.1.1 no such user" \
    --reply-rcpt "later@x.org=450 4.2.0 try later" || exit 0
PORT_good=$SH_PORT

# no tls_ca_file and no tls_verify: the system store, without the test CA
cat > "$T/noca.conf" <<CONF
spool_dir $T/spool
domain example.org
smarthost 127.0.0.1:$PORT_good
auth_user $AU
auth_password_file $T/pw
connect_timeout 5s
command_timeout 10s
CONF
enqueue "$T/noca.conf" default-verify
refused "default verification: a certificate from an unknown CA is refused, no AUTH sent" \
    "$T/good" "$T/noca.conf" "TLS"
reset
for k in wrong expired selfsigned; do
	eval "_p=\$PORT_$k"
	relay_conf "$T/$k.conf" "smarthost 127.0.0.1:$_p" "auth_user $AU" \
	    "auth_password_file $T/pw"
	enqueue "$T/$k.conf" "$k"
	case $k in
	wrong)	what="a certificate for another host name" ;;
	expired) what="an expired certificate" ;;
	*)	what="a self-signed certificate" ;;
	esac
	refused "default verification: $what is refused, no AUTH sent" \
	    "$T/$k" "$T/$k.conf" "TLS"
	reset
done
# tls_verify no is the only way in
relay_conf "$T/noverify.conf" "smarthost 127.0.0.1:$PORT_selfsigned" \
    "auth_user $AU" "auth_password_file $T/pw" "tls_verify no"
enqueue "$T/noverify.conf" noverify
delivered "tls_verify no: the self-signed server is accepted" "$T/selfsigned" "$T/noverify.conf"
reset

# =============================================================================
# 3. Credentials never appear in output, logs, the spool, bounces or memory
# =============================================================================

# PLAIN, LOGIN and CRAM-MD5 through postern flush -v, then sendmail -v
for m in PLAIN LOGIN CRAM-MD5; do
	relay_conf "$T/$m.conf" "smarthost 127.0.0.1:$PORT_good" "auth_user $AU" \
	    "auth_password_file $T/pw" "auth_mechanisms $m"
	enqueue "$T/$m.conf" "auth-$m"
	delivered "$m: delivered with the test CA (the verified path works)" "$T/good" "$T/$m.conf"
	has "$m: the server saw AUTH $m over TLS" "$T/good/auth.log" "$m $AU ok tls=yes\$"
	has "$m: postern flush -v shows the AUTH dialogue" "$T/flush.err" "AUTH $m"
done
printf 'From: s@example.org\nTo: rcpt@x.org\nSubject: sendmail -v\n\nbody\n' > "$T/msg"
$NS $TMO "$SENDMAIL" -C "$T/PLAIN.conf" -v -t < "$T/msg" > "$CAP/sendmail-v.out" 2> "$CAP/sendmail-v.err"
[ $? -eq 0 ] && [ "$(qcount)" -eq 0 ] && grep -q 'AUTH PLAIN' "$CAP/sendmail-v.err" &&
	pass "sendmail -v: delivered in the foreground, dialogue shown" ||
	fail "sendmail -v: delivered in the foreground, dialogue shown" "$(tail -n 3 "$CAP/sendmail-v.err" | tr '\n' ' ')"

# a wrong password: the AUTH error is recorded, shown by mailq, list, show
relay_conf "$T/badpw.conf" "smarthost 127.0.0.1:$PORT_good" "auth_user $AU" \
    "auth_password_file $T/badpw" "auth_mechanisms PLAIN"
enqueue "$T/badpw.conf" wrong-password
refused "wrong password: refused by the server, the message stays queued (AUTH error)" \
    "$T/nonexistent" "$T/badpw.conf" "AUTH"
has "wrong password: the server saw the failed AUTH" "$T/good/auth.log" "PLAIN $AU fail"
cp -r "$T/spool" "$CAP/spool.badpw"
reset

# a recipient refused with 550: a bounce is queued (it holds the transcript)
enqueue "$T/PLAIN.conf" bounce bad@x.org
flush "$T/PLAIN.conf"
mq "$T/PLAIN.conf"
nb=$(grep -lx sender "$T"/spool/queue/* 2>/dev/null | wc -l)
nbs=$(grep -l 'bad@x.org' "$T"/good/*.eml 2>/dev/null | xargs grep -l 'Delivery Status\|delivery-status' 2>/dev/null | wc -l)
[ $((nb + nbs)) -ge 1 ] && pass "a 550 recipient gave a bounce (queued or delivered)" ||
	fail "a 550 recipient gave a bounce (queued or delivered)" "$(ls "$T/spool/queue")"
cp -r "$T/spool" "$CAP/spool.bounce"

if [ -n "$NS" ]; then
	n=$(grep -c 'postern' "$T/syslog")
	[ "$n" -ge 5 ] && pass "syslog captured on the private /dev/log ($n lines)" ||
		fail "syslog captured on the private /dev/log" "$n lines: $(head -c 300 "$T/syslog")"
	has "syslog has the delivery lines" "$T/syslog" 'status=sent'
	noleak "no secret in syslog" "$T/syslog"
fi
n=$(cat "$CAP"/flush.* | wc -l)
[ "$n" -gt 40 ] && pass "the captured -v output is not empty ($n lines)" || fail "the captured -v output" "$n lines"
noleak "no secret in postern flush -v output" "$CAP"/flush.*
noleak "no secret in sendmail -v output" "$CAP"/sendmail-v.*
noleak "no secret in mailq, postern list --json, postern show" "$CAP"/mailq.* "$CAP"/list.* "$CAP"/show.*
noleak "no secret in the spool (queue, state, status, bounces)" "$CAP"/spool.* "$T/spool"
noleak "no secret in what the smarthost stored (messages, envelopes, logs)" "$T/good"

# --- memory: cores of the delivery process ----------------------------------
# count FILE STRING...: how many times each STRING occurs in FILE.
count() {
	/usr/bin/python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
print(" ".join(str(d.count(s.encode())) for s in sys.argv[2:]))' "$@"
}
# core NAME PID: a core of the running process PID into $T/NAME.core.
core() {
	rm -f "$T/$1".core*
	$TMO gcore -o "$T/$1.core" "$2" > "$T/gcore.out" 2>&1
	mv "$T/$1.core.$2" "$T/$1.core" 2>/dev/null
	[ -s "$T/$1.core" ]
}
L64=$(b64 "$PW")
if [ $ROOT = no ] || ! command -v gcore >/dev/null 2>&1; then
	skip "password not left in memory" "needs root and gdb's gcore"
# (the binary says whether it is a sanitizer build: test.sh exports
# ASAN_OPTIONS for both passes, so that cannot tell)
elif nm "$POSTERN" 2>/dev/null | grep -q __asan_init; then
	skip "password not left in memory" "gcore of a sanitizer build would walk terabytes of shadow memory; checked in the normal build"
else
	# mid-pass: right after AUTH (the server stops answering at MAIL)
	start_smarthost hang -- --tls starttls --cert "$C/server.pem" --key "$C/server.key" \
	    --auth "$AU:$PW" --auth-mechs PLAIN,LOGIN --hang-at mail --timeout 30 || exit 0
	for m in PLAIN LOGIN; do
		relay_conf "$T/hang$m.conf" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" \
		    "auth_password_file $T/pw" "auth_mechanisms $m"
		enqueue "$T/hang$m.conf" "core-$m"
		n0=$(grep -c 'hang mail' "$T/hang/events.log")
		# no timeout(1) wrapper: the core must be postern's; the
		# command_timeout of relay_conf (10 s) ends it anyway
		"$POSTERN" -C "$T/hang$m.conf" flush > /dev/null 2>&1 &
		FP=$!
		i=0
		while [ $i -lt 100 ] && [ "$(grep -c 'hang mail' "$T/hang/events.log")" -le "$n0" ]; do
			sleep 0.1; i=$((i + 1))
		done
		if ! grep -q "$m $AU ok" "$T/hang/auth.log"; then
			fail "core after AUTH $m" "the flush did not authenticate: $(tail -n 2 "$T/hang/events.log" | tr '\n' ' ')"
		elif core "flush$m" "$FP"; then
			set -- $(count "$T/flush$m.core" "$PW" "$P64" "$L64" "$AU")
			[ "$4" -ge 1 ] && pass "core after AUTH $m: the core is postern's memory (it holds the user name)" ||
				fail "core after AUTH $m: the core is postern's memory (it holds the user name)"
			# the pass keeps the password in one buffer of its own until
			# it ends (deliver.c), for the other smarthosts; no more
			[ "$1" -le 1 ] && pass "core after AUTH $m: the password is held at most once ($1)" ||
				fail "core after AUTH $m: the password is held at most once" "found $1 copies in the core"
			[ "$2" -eq 0 ] && [ "$3" -eq 0 ] && pass "core after AUTH $m: no encoded AUTH response left in memory" ||
				fail "core after AUTH $m: no encoded AUTH response left in memory" "PLAIN form $2 times, LOGIN form $3 times"
		else
			skip "core after AUTH $m" "gcore failed: $(tail -n 1 "$T/gcore.out")"
		fi
		kill "$FP" 2>/dev/null; wait "$FP" 2>/dev/null
		rm -f "$T"/flush*.core
		reset
	done
	stop_smarthost hang

	# between passes: postern daemon after a delivery with each mechanism
	relay_conf "$T/daemon.conf" "smarthost 127.0.0.1:$PORT_good" "auth_user $AU" \
	    "auth_password_file $T/pw" "auth_mechanisms LOGIN"
	enqueue "$T/daemon.conf" daemon-core
	r0=$(received good)
	"$POSTERN" -C "$T/daemon.conf" daemon > "$T/daemon.out" 2>&1 &
	DP=$!
	PIDS="$PIDS $DP"
	i=0
	while [ $i -lt 100 ] && [ "$(received good)" -le "$r0" ]; do sleep 0.1; i=$((i + 1)); done
	i=0
	while [ $i -lt 50 ] && [ "$(qcount)" -gt 0 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.5	# the pass ends after the message is removed
	if [ "$(received good)" -le "$r0" ]; then
		fail "daemon core between passes" "the daemon delivered nothing: $(tail -n 2 "$T/daemon.out")"
	elif core daemon "$DP"; then
		set -- $(count "$T/daemon.core" "$PW" "$P64" "$L64" "$AU")
		[ "$4" -ge 1 ] && pass "daemon core: the core is postern's memory (it holds the user name)" ||
			fail "daemon core: the core is postern's memory (it holds the user name)"
		[ "$1" -eq 0 ] && [ "$3" -eq 0 ] && pass "daemon between passes: the password is wiped from memory" ||
			fail "daemon between passes: the password is wiped from memory" "raw $1 times, LOGIN form $3 times"
	else
		skip "daemon core between passes" "gcore failed: $(tail -n 1 "$T/gcore.out")"
	fi
	kill "$DP" 2>/dev/null; wait "$DP" 2>/dev/null
	rm -f "$T/daemon.core"
	reset
fi

# =============================================================================
# 4. Header and envelope injection is refused
# =============================================================================

SM="$SENDMAIL -C $T/conf -odq"
printf 'To: ok@x.org\nSubject: inj\n\nbody\n' > "$T/msg"
CR=$(printf '\r'); LF='
'; TAB=$(printf '\t'); ESC=$(printf '\033'); DEL=$(printf '\177')
# inj NAME ARGS...: sendmail ARGS exits 64 with one line, queues nothing;
# run without and with -t (a message with a valid To: on stdin).
inj() {
	_n=$1; shift
	for _t in "" -t; do
		clearq
		IN=$T/msg expect_rc "injection, $_n${_t:+ with -t}: exit 64" 64 $SM $_t "$@"
		[ "$(qcount)" -eq 0 ] && pass "injection, $_n${_t:+ with -t}: nothing queued" ||
			fail "injection, $_n${_t:+ with -t}: nothing queued"
	done
}
inj "-f with CRLF Bcc:" -f "a@b.org${CR}${LF}Bcc: x@y.org" ok@x.org
inj "-fVALUE glued, LF" "-fa@b.org${LF}Bcc: x@y.org" ok@x.org
inj "-r with CR" -r "a@b.org${CR}RCPT TO:<x@y.org>" ok@x.org
inj "-rVALUE glued, LF" "-ra@b.org${LF}RCPT TO:<x@y.org>" ok@x.org
inj "-F with LF Bcc:" -F "Name${LF}Bcc: x@y.org" ok@x.org
inj "-FVALUE glued, CR" "-FName${CR}Bcc: x@y.org" ok@x.org
inj "-F with TAB" -F "Name${TAB}x" ok@x.org
inj "-F with ESC" -F "Name${ESC}[2J" ok@x.org
inj "recipient with LF RCPT TO:" "a@b.org${LF}RCPT TO:<x@y.org>"
inj "recipient with CR" "a@b.org${CR}x@y.org"
inj "recipient with CRLF Bcc:" ok@x.org "a@b.org${CR}${LF}Bcc: x@y.org"
inj "recipient after -- with LF" -- "a@b.org${LF}x@y.org"
inj "recipient with DEL" "a@b.org${DEL}"
skip "injection with NUL" "argv cannot carry a NUL byte (C strings end there); -bs covers NUL"
clearq
IN=/dev/null expect_rc "injection, -bs -f with LF: exit 64" 64 $SM -bs -f "a@b.org${LF}x@y.org"
# NAME with a newline is ignored, not pasted into From:
printf 'To: ok@x.org\nSubject: name\n\nbody\n' > "$T/msg"
clearq
NAME="Evil${LF}Bcc: x@y.org" $SM -t < "$T/msg" 2> "$T/err"
if [ "$(qcount)" -eq 1 ] && ! grep -q 'x@y.org' "$(qlast)" && ! grep -q '^Bcc:' "$(qlast)"; then
	pass "injection through NAME: ignored, no header or recipient added"
else
	fail "injection through NAME: ignored, no header or recipient added" "$(qcount) queued: $(grep -i 'x@y.org' "$(qlast)")"
fi
clearq

# -bs: control characters in commands, overlong lines, state afterwards
{
	printf 'EHLO c.example\r\n'
	printf 'MAIL FROM:<a@b.org\rRCPT TO:<evil1@y.org>>\r\n'
	printf 'RCPT TO:<evil1@y.org>\r\n'
	printf 'MAIL FROM:<a@b.org>\000RCPT TO:<evil2@y.org>\r\n'
	printf 'MAIL FROM:<a@b.org\nRCPT TO:<evil3@y.org>>\r\n'
	printf 'MAIL FROM:<ok@example.org> BODY=8BITMIME\r\n'
	printf 'RCPT TO:<good@x.org>\rDATA\r\n'
	printf 'RCPT TO:<evil4@y.org>\000\r\n'
	printf 'RCPT TO:<good@x.org\001>\r\n'
	head -c 1048576 /dev/zero | tr '\0' 'A'; printf '\r\n'
	printf 'RCPT TO:<good@x.org>\r\n'
	printf 'DATA\r\n'
	printf 'Subject: bs\r\n\r\nbody\r\n.\r\n'
	printf 'QUIT\r\n'
} > "$T/bs.in"
IN=$T/bs.in expect_rc "-bs session with injection attempts: exit 0" 0 $SM -bs
codes=$(grep -aE '^[0-9]{3} ' "$T/out" | cut -c1-3 | tr '\n' ' ')
eq "-bs: each injection attempt refused with 5xx, the session goes on" "$codes" \
    "220 250 501 503 501 501 503 250 501 501 501 500 250 354 250 221 "
grep -aq '^501 5.5.2' "$T/out" && pass "-bs: control characters named as such (501 5.5.2)" ||
	fail "-bs: control characters named as such (501 5.5.2)" "$(head -c 400 "$T/out")"
grep -aq '^500 5.5.2' "$T/out" && pass "-bs: a 1 MiB command line refused (500 5.5.2)" ||
	fail "-bs: a 1 MiB command line refused (500 5.5.2)"
if [ "$(qcount)" -eq 1 ] && grep -q '^sender ok@example.org$' "$(qlast)" &&
    [ "$(grep -c '^rcpt ' "$(qlast)")" -eq 1 ] && grep -q '^rcpt .*good@x.org$' "$(qlast)" &&
    ! grep -q 'evil' "$(qlast)"; then
	pass "-bs: one message queued, with the valid envelope only (no injected recipient)"
else
	fail "-bs: one message queued, with the valid envelope only (no injected recipient)" "$(qcount) queued: $(qhead "$(qlast)" | tr '\n' ' ')"
fi
clearq
# memory stays bounded whatever the length of a command line
maxrss() {
	/usr/bin/python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], "rb"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
printf 'EHLO c.example\r\nQUIT\r\n' > "$T/bs.small"
{ printf 'EHLO c.example\r\n'; head -c 16777216 /dev/zero | tr '\0' 'A'; printf '\r\nQUIT\r\n'; } > "$T/bs.big"
r1=$(maxrss "$T/bs.small" $SM -bs); r2=$(maxrss "$T/bs.big" $SM -bs)
rm -f "$T/bs.big"
[ $((r2 - r1)) -lt 4096 ] && pass "-bs: a 16 MiB line costs no memory (max RSS $r1 KiB, then $r2 KiB)" ||
	fail "-bs: a 16 MiB line costs no memory" "max RSS $r1 KiB, then $r2 KiB"

# the body cannot smuggle SMTP commands to the smarthost: a line of one
# dot after a bare CR or LF is dot-stuffed like any other
{
	printf 'From: s@example.org\nTo: rcpt@x.org\nSubject: smuggle\n\nstart\r.\r'
	printf 'MAIL FROM:<evil@y.org>\rRCPT TO:<evil@y.org>\rDATA\rSubject: smuggled 1\r\rx\r.\r'
	printf 'middle\n.\r\nMAIL FROM:<evil@y.org>\r\nRCPT TO:<evil@y.org>\r\nDATA\r\nSubject: smuggled 2\r\n\r\nx\r\n.\r\n'
	printf 'end\r\n'
} > "$T/smuggle"
r0=$(received good); c0=$(lines "$T/good/connections.log")
$SENDMAIL -C "$T/PLAIN.conf" -odq -i -t < "$T/smuggle"
flush "$T/PLAIN.conf"
sleep 0.3	# connections.log is written when the connection ends
r1=$(received good)
last=$(ls "$T/good" | grep '\.eml$' | sort | tail -n 1)
eq "smuggling: the smarthost got exactly one message" "$((r1 - r0))" 1
if [ -n "$last" ] && ! grep -q evil "$T/good/${last%.eml}.env" &&
    ! grep -q evil "$T/good/connections.log" && grep -q 'smuggled 2' "$T/good/$last"; then
	pass "smuggling: the injected MAIL/RCPT stayed in the body, not the envelope"
else
	fail "smuggling: the injected MAIL/RCPT stayed in the body, not the envelope" "$(cat "$T/good/${last%.eml}.env" 2>/dev/null | tr '\n' ' ')"
fi
reset

# =============================================================================
# 5. The front-end ignores the caller's environment
# =============================================================================

# sendmail(8), "The delivery attempt": the environment is cleaned only
# in the privileged install (privinstall.sh); otherwise the attempt runs
# as the caller, with the caller's environment, so nothing is to prove.

U=postern-sec
if [ $ROOT = yes ]; then
	id "$U" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$U" ||
		{ fail "create the test user $U"; exit 1; }
fi
if [ $ROOT = no ]; then
	skip "hostile environment of an unprivileged caller" "needs root to create the test user"
elif ! user_can_run "$U"; then
	skip "hostile environment of an unprivileged caller" "$UNREACHABLE"
else
	H=$T/sec
	mkdir -p "$H/tmp" "$H/home"
	chown "$U" "$H" "$H/tmp" "$H/home"
	printf 'spool_dir %s/spool\ndomain example.org\n' "$H" > "$H/conf"
	printf 'To: ok@x.org\nSubject: env\n\nbody\n' > "$T/msg"
	runuser -u "$U" -- env LOGNAME=someoneelse USER=root HOME="$H/home" \
	    TMPDIR="$H/tmp" NAME="Evil${LF}Bcc: x@y.org" \
	    "$SENDMAIL" -C "$H/conf" -odq -t < "$T/msg" 2> "$T/err"
	rc=$?
	q=$(ls "$H/spool/queue" 2>/dev/null | head -n 1)
	eq "hostile environment: the unprivileged user still queues (exit 0)" "$rc" 0 "$(cat "$T/err")"
	if [ -n "$q" ]; then
		has "LOGNAME=someoneelse USER=root: the sender comes from the real uid" \
		    "$H/spool/queue/$q" "^sender $U@example.org\$"
		has "LOGNAME/USER: the From: added is the real user's too" \
		    "$H/spool/queue/$q" "^From: .*$U@example.org"
		hasnt "NAME with a newline: no header or recipient injected" \
		    "$H/spool/queue/$q" '(x@y\.org|^Bcc:)'
	else
		fail "hostile environment: a message to look at" "nothing queued"
	fi
	eq "TMPDIR and HOME are not written to" "$(ls -A "$H/tmp" "$H/home" | grep -v ':$' | grep -c .)" 0
	# a configuration the caller may not read: a clear error, exit 78
	printf 'spool_dir %s/spool\n' "$T" > "$T/private.conf"
	chmod 0600 "$T/private.conf"
	IN=$T/msg expect_rc "POSTERN_CONFIG naming an unreadable file: exit 78" 78 \
	    runuser -u "$U" -- env POSTERN_CONFIG="$T/private.conf" "$SENDMAIL" -odq -t
	has "POSTERN_CONFIG naming an unreadable file: the error names it" "$T/err" "$T/private.conf"
	skip "LD_PRELOAD and the like" "the unprivileged front-end is an ordinary program (the dynamic linker honours them, as for any program of the caller's); the set-group-ID install is covered by privinstall.sh"
fi

# =============================================================================
# 6. Spool files and the password file keep their permissions
# =============================================================================

# a recipient deferred with 450 leaves a state file, a pass a status file
enqueue "$T/PLAIN.conf" deferred later@x.org
flush "$T/PLAIN.conf"
enqueue "$T/PLAIN.conf" second
mode() { stat -c %a "$1"; }
eq "umask 000: the spool directory is 0700" "$(mode "$T/spool")" 700
for d in tmp queue state; do
	eq "umask 000: $d/ is 0700" "$(mode "$T/spool/$d")" 700
done
eq "umask 000: queue files are 0600" "$(stat -c %a "$T"/spool/queue/* | sort -u | tr '\n' ' ')" "600 "
st=$(ls "$T/spool/state" | head -n 1)
if [ -n "$st" ]; then
	eq "umask 000: state files are 0600" "$(stat -c %a "$T"/spool/state/* | sort -u | tr '\n' ' ')" "600 "
else
	fail "umask 000: state files are 0600" "no state file after a failed pass"
fi
[ -f "$T/spool/status" ] && eq "umask 000: the status file is 0600" "$(mode "$T/spool/status")" 600 ||
	fail "umask 000: the status file is 0600" "no status file after a failed pass"
eq "umask 000: nothing in the spool is open to group or others" \
    "$(find "$T/spool" -perm /077 | wc -l)" 0
reset

# a password file opened up after queueing: refused by delivery
enqueue "$T/PLAIN.conf" pw-0644
chmod 0644 "$T/pw"
refused "password file made 0644 after queueing: nothing sent, queued as an AUTH error" \
    "$T/good" "$T/PLAIN.conf" "AUTH"
has "password file made 0644: the error names the file" "$T/mq" "$T/pw"
chmod 0600 "$T/pw"
eq "password file made 0644: the mode postern found is left alone (not 'fixed')" "$(mode "$T/pw")" 600
reset

# a password file that is a symbolic link (to a 0600 file of another user)
cp "$T/pw" "$T/pw-target"
chmod 0600 "$T/pw-target"
[ $ROOT = yes ] && chown postern-sec "$T/pw-target"
ln -s "$T/pw-target" "$T/pw-link"
relay_conf "$T/link.conf" "smarthost 127.0.0.1:$PORT_good" "auth_user $AU" \
    "auth_password_file $T/pw-link" "auth_mechanisms PLAIN"
enqueue "$T/PLAIN.conf" pw-symlink
refused "password file that is a symbolic link: nothing sent, queued as an AUTH error" \
    "$T/good" "$T/link.conf" "AUTH"
has "password file that is a symbolic link: the error names the file" "$T/mq" "$T/pw-link"
reset
IN=$T/msg expect_rc "sendmail refuses a symlinked password file at once (exit 78), as delivery would" 78 \
    $SENDMAIL -C "$T/link.conf" -odq -t
clearq
noleak "no secret in anything captured after the checks above" "$CAP" "$T/spool" "$T/good" "$T/syslog"
if grep -rlqaE 'Sanitizer|runtime error:' "$CAP" "$T/err" "$T/out" 2>/dev/null; then
	fail "no sanitizer report in any captured output" "$(grep -rlaE 'Sanitizer|runtime error:' "$CAP" | head -n 3 | tr '\n' ' ')"
else
	pass "no sanitizer report in any captured output"
fi
