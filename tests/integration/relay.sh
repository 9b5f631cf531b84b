# relay.sh: delivery to a real (test) smarthost end to end: every AUTH
# mechanism, every TLS mode, certificate verification, STARTTLS required,
# wrong and badly protected passwords, a smarthost that is down, failover,
# the -v dialogue and one session for several messages. Messages are
# queued with "sendmail -odq" and delivered with "postern flush", so that
# nothing races; the smarthost's files (tests/tools/smarthost.py
# --help-files) and mailq say what happened.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost
certs

C=$T/certs
AU=relayuser
PW='pw-Zq7-d0nt-l3ak'		# the smarthost's password for $AU
BAD='wr0ng-Kx9-n0t-this'	# a wrong one
password "$T/pw" "$PW"
# a smarthost with STARTTLS and the good certificate
STLS="--tls starttls --cert $C/server.pem --key $C/server.key"
AUTH="--auth $AU:$PW"
TMO=""
command -v timeout > /dev/null 2>&1 && TMO="timeout 30"

# --- helpers ---------------------------------------------------------------

# start_sh NAME [PORT] -- ARGS: lib.sh's start_smarthost from an empty
# NAME.log: its wait loop may grep the log before the background
# redirection has created it ("No such file" in the log), and would take
# an old "listening" line of a NAME started before for the new server.
start_sh() { : > "$T/$1.log"; start_smarthost "$@"; }

# no NAME CMD...: passes if CMD fails.
no() {
	_nm=$1; shift
	if "$@"; then fail "$_nm" "command succeeded: $*"; else pass "$_nm"; fi
}
# eq NAME GOT WANT [DETAIL]
eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'${4:+; $4}"; fi
}
# lines FILE: its number of lines, 0 if it does not exist.
lines() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }
b64() { /usr/bin/python3 -c 'import base64, sys; sys.stdout.write(base64.b64encode(sys.argv[1].encode().replace(b"\\0", b"\0")).decode())' "$1"; }

# flush CONF: one foreground pass with the dialogue; FRC its status,
# $T/flush.err its stderr.
flush() {
	$TMO "$POSTERN" -C "$1" flush -v > "$T/flush.out" 2> "$T/flush.err"
	FRC=$?
}
# mq CONF: mailq into $T/mq; MQRC its status.
mq() { "$MAILQ" -C "$1" > "$T/mq" 2>&1; MQRC=$?; }
# reset: an empty queue and no record of past failures.
reset() { clearq; rm -f "$T/spool/status"; }

# is_empty NAME CONF: mailq says the queue is empty and it is.
is_empty() {
	mq "$2"
	if [ "$(qcount)" -eq 0 ] && grep -qx 'Mail queue is empty' "$T/mq"; then
		pass "$1"
	else
		fail "$1" "$(qcount) queued; mailq: $(head -c 400 "$T/mq")"
	fi
}
# still_queued NAME CONF: the message $QID is still queued and listed.
still_queued() {
	mq "$2"
	if [ -f "$T/spool/queue/$QID" ] && grep -q "^$QID " "$T/mq"; then
		pass "$1"
	else
		fail "$1" "mailq: $(head -c 400 "$T/mq")"
	fi
}
# mq_says NAME ERE: the last mailq output (mq) matches ERE.
mq_says() {
	if grep -Eq -- "$2" "$T/mq"; then pass "$1"; else fail "$1" "mailq: $(head -c 500 "$T/mq")"; fi
}
# got NAME SERVER N: the smarthost SERVER has stored N messages.
got() { eq "$1" "$(received "$2")" "$3" "$(tail -n 3 "$T/flush.err" 2>/dev/null | tr '\n' ' ')"; }
# newest SERVER EXT: its newest stored NNNNNN.EXT.
newest() { ls "$T/$1/"*".$2" 2>/dev/null | sort | tail -n 1; }
# env_has NAME SERVER LINE: its newest .env has this exact line.
env_has() {
	_e=$(newest "$2" env)
	if [ -n "$_e" ] && grep -qxF -- "$3" "$_e"; then pass "$1"
	else fail "$1" "${_e:-no .env}: $([ -n "$_e" ] && tr '\n' '|' < "$_e")"; fi
}
# eml_has NAME SERVER SUBJECT: its newest .eml is the message SUBJECT.
eml_has() {
	_e=$(newest "$2" eml)
	if [ -n "$_e" ] && grep -q "^Subject: $3" "$_e"; then pass "$1"
	else fail "$1" "${_e:-no .eml} is not '$3'"; fi
}
# authlog NAME SERVER ERE: the last line of its auth.log matches ERE.
authlog() {
	_l=$(tail -n 1 "$T/$2/auth.log" 2>/dev/null)
	if echo "$_l" | grep -Eq -- "$3"; then pass "$1"; else fail "$1" "auth.log: '$_l'"; fi
}
# no_auth NAME SERVER: the smarthost saw no AUTH command at all.
no_auth() {
	if [ ! -s "$T/$2/auth.log" ] && ! grep -q ' auth' "$T/$2/connections.log"; then
		pass "$1"
	else
		fail "$1" "auth.log: $(cat "$T/$2/auth.log")"
	fi
}
# no_secret NAME FILE...: neither password (nor their PLAIN/LOGIN base64)
# is in the files.
no_secret() {
	_nm=$1; shift
	for _s in "$PW" "$BAD" "$(b64 "$PW")" "$(b64 "$BAD")" \
	    "$(b64 "\\0$AU\\0$PW")" "$(b64 "\\0$AU\\0$BAD")"; do
		if grep -rqF -- "$_s" "$@"; then
			fail "$_nm" "'$_s' found in $(grep -rlF -- "$_s" "$@" | tr '\n' ' ')"
			return 1
		fi
	done
	pass "$_nm"
}

# --- 1. every AUTH mechanism over STARTTLS ---------------------------------

# by the server's offer: it offers only this mechanism
for m in PLAIN LOGIN CRAM-MD5; do
	n=offer_$(echo "$m" | tr -d -- -)
	start_sh "$n" -- $STLS $AUTH --auth-mechs "$m" || continue
	relay_conf "$T/c1" "smarthost 127.0.0.1:$SH_PORT" "tls starttls" \
	    "auth_user $AU" "auth_password_file $T/pw"
	enqueue "$T/c1" "offer $m"
	flush "$T/c1"
	got "auth $m offered alone: delivered" "$n" 1
	eq "auth $m offered alone: one AUTH" "$(lines "$T/$n/auth.log")" 1
	authlog "auth $m offered alone: auth.log $m ok over TLS" "$n" "^[0-9]+ $m $AU ok tls=yes$"
	env_has "auth $m offered alone: .env AUTH user" "$n" "AUTH $AU"
	env_has "auth $m offered alone: .env TLS yes" "$n" "TLS yes"
	is_empty "auth $m offered alone: queue empty" "$T/c1"
	stop_smarthost "$n"
done

# by the configuration: the server offers all three
start_sh all3 -- $STLS $AUTH --auth-mechs PLAIN,LOGIN,CRAM-MD5
ALL3=$SH_PORT
k=0
for m in PLAIN LOGIN CRAM-MD5; do
	relay_conf "$T/c1" "smarthost 127.0.0.1:$ALL3" \
	    "auth_user $AU" "auth_password_file $T/pw" "auth_mechanisms $m"
	enqueue "$T/c1" "config $m"
	flush "$T/c1"
	k=$((k + 1))
	got "auth_mechanisms $m: delivered" all3 $k
	eml_has "auth_mechanisms $m: the right message" all3 "config $m"
	authlog "auth_mechanisms $m: auth.log $m ok over TLS" all3 "^[0-9]+ $m $AU ok tls=yes$"
	env_has "auth_mechanisms $m: .env AUTH user" all3 "AUTH $AU"
	env_has "auth_mechanisms $m: .env TLS yes" all3 "TLS yes"
	is_empty "auth_mechanisms $m: queue empty" "$T/c1"
done
# the default: the strongest offered
relay_conf "$T/c1" "smarthost 127.0.0.1:$ALL3" "auth_user $AU" "auth_password_file $T/pw"
enqueue "$T/c1" "default mech"
flush "$T/c1"
got "default mechanism: delivered" all3 4
authlog "default mechanism: CRAM-MD5 (the strongest offered)" all3 "^[0-9]+ CRAM-MD5 $AU ok tls=yes$"
# several in preference order: the first one the server offers
relay_conf "$T/c1" "smarthost 127.0.0.1:$ALL3" "auth_user $AU" \
    "auth_password_file $T/pw" "auth_mechanisms LOGIN PLAIN"
enqueue "$T/c1" "pref list"
flush "$T/c1"
got "auth_mechanisms LOGIN PLAIN: delivered" all3 5
authlog "auth_mechanisms LOGIN PLAIN: LOGIN used" all3 "^[0-9]+ LOGIN $AU ok tls=yes$"
stop_smarthost all3
reset

# --- 2. every TLS mode -----------------------------------------------------

# starttls: the server refuses everything before STARTTLS
start_sh m_starttls -- $STLS --require-tls
relay_conf "$T/c2" "smarthost 127.0.0.1:$SH_PORT" "tls starttls"
enqueue "$T/c2" "mode starttls"
flush "$T/c2"
got "tls starttls: delivered" m_starttls 1
env_has "tls starttls: .env TLS yes" m_starttls "TLS yes"
env_has "tls starttls: no AUTH configured, none done" m_starttls "AUTH -"
is_empty "tls starttls: queue empty" "$T/c2"
stop_smarthost m_starttls

# smtps: TLS from the first byte, with AUTH
start_sh m_smtps -- --tls smtps --cert "$C/server.pem" --key "$C/server.key" $AUTH
relay_conf "$T/c2" "smarthost localhost:$SH_PORT" "tls smtps" \
    "auth_user $AU" "auth_password_file $T/pw"
enqueue "$T/c2" "mode smtps"
flush "$T/c2"
got "tls smtps: delivered" m_smtps 1
env_has "tls smtps: .env TLS yes" m_smtps "TLS yes"
env_has "tls smtps: .env AUTH user" m_smtps "AUTH $AU"
authlog "tls smtps: AUTH ok over TLS" m_smtps " $AU ok tls=yes$"
is_empty "tls smtps: queue empty" "$T/c2"
stop_smarthost m_smtps

# none: a plain server without AUTH
start_sh m_none -- --tls none
relay_conf "$T/c2" "smarthost 127.0.0.1:$SH_PORT" "tls none"
enqueue "$T/c2" "mode none"
flush "$T/c2"
got "tls none: delivered" m_none 1
env_has "tls none: .env TLS no" m_none "TLS no"
env_has "tls none: .env no AUTH" m_none "AUTH -"
is_empty "tls none: queue empty" "$T/c2"
stop_smarthost m_none

# none with AUTH: in clear, because the admin said so
start_sh m_noneauth -- --tls none $AUTH
relay_conf "$T/c2" "smarthost 127.0.0.1:$SH_PORT" "tls none" \
    "auth_user $AU" "auth_password_file $T/pw"
enqueue "$T/c2" "mode none auth"
flush "$T/c2"
got "tls none + AUTH: delivered" m_noneauth 1
authlog "tls none + AUTH: AUTH ok in clear (tls=no)" m_noneauth " $AU ok tls=no$"
env_has "tls none + AUTH: .env AUTH user" m_noneauth "AUTH $AU"
env_has "tls none + AUTH: .env TLS no" m_noneauth "TLS no"
is_empty "tls none + AUTH: queue empty" "$T/c2"
# the same plain server with tls starttls: nothing in clear
relay_conf "$T/c2" "smarthost 127.0.0.1:$SH_PORT" "tls starttls" \
    "auth_user $AU" "auth_password_file $T/pw"
enqueue "$T/c2" "mode starttls to plain"
flush "$T/c2"
got "tls starttls to a plain server: nothing delivered" m_noneauth 1
eq "tls starttls to a plain server: no AUTH sent" "$(lines "$T/m_noneauth/auth.log")" 1
still_queued "tls starttls to a plain server: still queued" "$T/c2"
stop_smarthost m_noneauth
reset

# --- 3. certificates -------------------------------------------------------

# bad NAME CERT HOST ERE: a server with CERT refuses verification
bad_cert() {
	_n=$1 _cert=$2 _host=$3 _why=$4
	start_sh "$_n" -- --tls starttls --cert "$C/$_cert.pem" \
	    --key "$C/$_cert.key" $AUTH || return
	relay_conf "$T/c3" "smarthost $_host:$SH_PORT" \
	    "auth_user $AU" "auth_password_file $T/pw"
	enqueue "$T/c3" "cert $_cert"
	flush "$T/c3"
	eq "$_cert certificate: flush exits 0" "$FRC" 0
	got "$_cert certificate: nothing delivered" "$_n" 0
	still_queued "$_cert certificate: still queued" "$T/c3"
	mq_says "$_cert certificate: mailq says why" "certificate verify failed: $_why"
	no_auth "$_cert certificate: no AUTH sent" "$_n"
	if grep -q ' tlsfail$' "$T/$_n/connections.log"; then
		pass "$_cert certificate: the handshake was aborted"
	else
		fail "$_cert certificate: the handshake was aborted" "$(cat "$T/$_n/connections.log")"
	fi
}
bad_cert c_expired expired 127.0.0.1 "certificate has expired"
stop_smarthost c_expired
reset
bad_cert c_wrong wrong localhost "[Hh]ostname mismatch"
stop_smarthost c_wrong
reset
bad_cert c_self selfsigned localhost "self.signed certificate"
# tls_verify no: the same self-signed server takes the queued message
relay_conf "$T/c3" "smarthost localhost:$SH_PORT" "tls_verify no" \
    "auth_user $AU" "auth_password_file $T/pw"
flush "$T/c3"
got "tls_verify no: self-signed accepted, delivered" c_self 1
env_has "tls_verify no: .env TLS yes" c_self "TLS yes"
authlog "tls_verify no: AUTH ok over TLS" c_self " $AU ok tls=yes$"
is_empty "tls_verify no: queue empty" "$T/c3"
stop_smarthost c_self
reset

# the good certificate by name and by address
start_sh c_good -- $STLS $AUTH
k=0
for h in localhost 127.0.0.1; do
	relay_conf "$T/c3" "smarthost $h:$SH_PORT" \
	    "auth_user $AU" "auth_password_file $T/pw"
	enqueue "$T/c3" "good cert via $h"
	flush "$T/c3"
	k=$((k + 1))
	got "server.pem verified as $h: delivered" c_good $k
	eml_has "server.pem verified as $h: the right message" c_good "good cert via $h"
	env_has "server.pem verified as $h: .env TLS yes" c_good "TLS yes"
	is_empty "server.pem verified as $h: queue empty" "$T/c3"
done
stop_smarthost c_good
reset

# --- 4. STARTTLS required but not offered ----------------------------------

start_sh no_stls -- $STLS --no-starttls-advertise $AUTH
relay_conf "$T/c4" "smarthost 127.0.0.1:$SH_PORT" "tls starttls" \
    "auth_user $AU" "auth_password_file $T/pw"
enqueue "$T/c4" "no starttls"
flush "$T/c4"
eq "no STARTTLS offered: flush exits 0" "$FRC" 0
got "no STARTTLS offered: nothing delivered" no_stls 0
no_auth "no STARTTLS offered: no AUTH sent (though AUTH is offered)" no_stls
_ev=$(awk '{ print $3 }' "$T/no_stls/events.log" | grep -Evx 'connect|ehlo|quit|close' | tr '\n' ' ')
eq "no STARTTLS offered: the session ended after EHLO" "$_ev" "" "$(cat "$T/no_stls/events.log")"
still_queued "no STARTTLS offered: still queued" "$T/c4"
mq_says "no STARTTLS offered: mailq names STARTTLS" "STARTTLS"
stop_smarthost no_stls
reset

# --- 5. wrong password -----------------------------------------------------

start_sh badpw -- $STLS $AUTH
password "$T/pw5" "$BAD"
relay_conf "$T/c5" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" \
    "auth_password_file $T/pw5" "auth_mechanisms PLAIN"
enqueue "$T/c5" "wrong password"
flush "$T/c5"
eq "wrong password: flush exits 0" "$FRC" 0
got "wrong password: nothing delivered" badpw 0
authlog "wrong password: the server refused it" badpw " PLAIN $AU fail tls=yes$"
still_queued "wrong password: still queued" "$T/c5"
mq_says "wrong password: mailq says authentication failed with the 535 text" \
    "authentication failed.*535 5\.7\.8 Authentication credentials invalid"
cp "$T/mq" "$T/mq5"
no_secret "wrong password: not in mailq, flush -v stderr or the spool" \
    "$T/mq5" "$T/flush.err" "$T/spool"
password "$T/pw5" "$PW"
flush "$T/c5"
got "password fixed: delivered once" badpw 1
authlog "password fixed: AUTH ok" badpw " PLAIN $AU ok tls=yes$"
eq "password fixed: one message in one session" \
    "$(grep -o ' msg [0-9]*' "$T/badpw/connections.log" | wc -l | tr -d ' ')" 1
is_empty "password fixed: queue empty" "$T/c5"
no_secret "password fixed: not in flush -v stderr or the spool" "$T/flush.err" "$T/spool"
stop_smarthost badpw
reset

# --- 6. password file readable by others at delivery time ------------------

start_sh pw644 -- $STLS $AUTH
password "$T/pw6" "$PW"
relay_conf "$T/c6" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" \
    "auth_password_file $T/pw6"
enqueue "$T/c6" "pw 0644"
chmod 0644 "$T/pw6"
flush "$T/c6"
eq "password file 0644: flush completes its pass (exit 0)" "$FRC" 0 "$(cat "$T/flush.err")"
eq "password file 0644: no connection made" "$(lines "$T/pw644/connections.log")" 0
got "password file 0644: nothing delivered" pw644 0
# mailq with a configuration without the password file, same spool
still_queued "password file 0644: still queued" "$T/conf"
mq_says "password file 0644: mailq names the file" "$T/pw6"
no_secret "password file 0644: password not shown" "$T/mq" "$T/flush.err" "$T/spool"
chmod 0600 "$T/pw6"
flush "$T/c6"
got "password file 0600 again: delivered" pw644 1
is_empty "password file 0600 again: queue empty" "$T/c6"
stop_smarthost pw644
reset

# --- 7. the smarthost is down when the message arrives ---------------------

P7=$(free_port)
relay_conf "$T/c7" "smarthost 127.0.0.1:$P7" "auth_user $AU" "auth_password_file $T/pw"
printf 'To: rcpt@x.org\nSubject: down\n\nbody\n' > "$T/msg7"
IN=$T/msg7 expect_rc "smarthost down: sendmail exits 0" 0 $SENDMAIL -C "$T/c7" -t
QID=$(basename "$(qlast)")
# the detached attempt records its failure when its pass ends
i=0
while [ $i -lt 100 ] && ! grep -q '^class connect$' "$T/spool/status" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
still_queued "smarthost down: still queued" "$T/c7"
mq_says "smarthost down: mailq shows the connect error" \
    "connect to 127\.0\.0\.1.*:$P7: Connection refused"
start_sh up7 "$P7" -- $STLS $AUTH
expect_rc "sendmail -q" 0 $TMO $SENDMAIL -q -C "$T/c7"
got "server up, sendmail -q: delivered" up7 1
eml_has "server up, sendmail -q: the right message" up7 "down"
sleep 0.3
got "server up, sendmail -q: delivered exactly once" up7 1
is_empty "server up, sendmail -q: queue empty" "$T/c7"
stop_smarthost up7
reset

# --- 8. failover -----------------------------------------------------------

start_sh f_good -- $STLS $AUTH
GOOD=$SH_PORT
k=0
# failover NAME FIRST-SERVER-NAME SMARTHOST-LINES...
failover() {
	_nm=$1 _first=$2; shift 2
	relay_conf "$T/c8" "$@" "auth_user $AU" "auth_password_file $T/pw"
	enqueue "$T/c8" "failover $_nm"
	flush "$T/c8"
	k=$((k + 1))
	got "failover, $_nm: delivered by the second" f_good $k
	eml_has "failover, $_nm: the right message" f_good "failover $_nm"
	is_empty "failover, $_nm: queue empty" "$T/c8"
	if [ -n "$_first" ]; then
		got "failover, $_nm: nothing stored by the first" "$_first" 0
		eq "failover, $_nm: the first was tried once" "$(lines "$T/$_first/connections.log")" 1
	fi
}
DEAD=$(free_port)
failover "first unreachable" "" "smarthost 127.0.0.1:$DEAD 127.0.0.1:$GOOD"
start_sh f_421 -- --greeting '421 4.3.2 busy'
failover "first greets 421" f_421 "smarthost 127.0.0.1:$SH_PORT 127.0.0.1:$GOOD"
stop_smarthost f_421
start_sh f_554 -- --greeting '554 5.3.2 go away'
failover "first greets 554 (repeated lines)" f_554 "smarthost 127.0.0.1:$SH_PORT" "smarthost 127.0.0.1:$GOOD"
stop_smarthost f_554
start_sh f_exp -- --tls starttls --cert "$C/expired.pem" --key "$C/expired.key" $AUTH
failover "first fails the TLS handshake" f_exp "smarthost 127.0.0.1:$SH_PORT 127.0.0.1:$GOOD"
no_auth "failover, first fails the TLS handshake: no AUTH sent to it" f_exp
stop_smarthost f_exp
stop_smarthost f_good
reset

# --- 9. sendmail -v --------------------------------------------------------

start_sh v9 -- $STLS $AUTH
for m in PLAIN LOGIN; do
	relay_conf "$T/c9" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" \
	    "auth_password_file $T/pw" "auth_mechanisms $m"
	printf 'To: rcpt@x.org\nSubject: verbose %s\n\nbody\n' "$m" > "$T/msg9"
	IN=$T/msg9 expect_rc "-v $m: exit 0" 0 $TMO $SENDMAIL -v -C "$T/c9" -t
	cp "$T/err" "$T/err9"
	if grep -q '^>>> EHLO ' "$T/err9" && grep -q '^<<< 220 ' "$T/err9" &&
	    grep -q '^>>> MAIL FROM:<' "$T/err9" && grep -q '^<<< 250 ' "$T/err9"; then
		pass "-v $m: the dialogue on stderr"
	else
		fail "-v $m: the dialogue on stderr" "$(head -c 400 "$T/err9")"
	fi
	ok "-v $m: AUTH $m shown" grep -q "^>>> AUTH $m" "$T/err9"
	ok "-v $m: credentials shown as ***" grep -q '^>>> .*\*\*\*$' "$T/err9"
	no_secret "-v $m: no password nor base64 credentials" "$T/err9"
	if [ $m = LOGIN ]; then
		no "-v LOGIN: not even the base64 user name" grep -qF -- "$(b64 "$AU")" "$T/err9"
	fi
	eml_has "-v $m: delivered" v9 "verbose $m"
done
is_empty "-v: queue empty" "$T/c9"
stop_smarthost v9
# a failed attempt: still exit 0, the message is spooled
relay_conf "$T/c9" "smarthost 127.0.0.1:$(free_port)" "auth_user $AU" "auth_password_file $T/pw"
IN=$T/msg9 expect_rc "-v, smarthost down: exit 0" 0 $TMO $SENDMAIL -v -C "$T/c9" -t
ok "-v, smarthost down: the failure on stderr" grep -q 'Connection refused' "$T/err"
eq "-v, smarthost down: queued" "$(qcount)" 1
reset

# --- 10. several messages: one connection, one AUTH ------------------------

start_sh multi -- $STLS $AUTH
relay_conf "$T/c10" "smarthost 127.0.0.1:$SH_PORT" "auth_user $AU" "auth_password_file $T/pw"
for i in 1 2 3; do enqueue "$T/c10" "batch $i"; done
eq "3 messages queued" "$(qcount)" 3
flush "$T/c10"
got "one flush: 3 delivered" multi 3
eq "one flush: one connection" "$(lines "$T/multi/connections.log")" 1
eq "one flush: 3 messages on that connection" \
    "$(grep -o ' msg [0-9]*' "$T/multi/connections.log" | wc -l | tr -d ' ')" 3 \
    "$(cat "$T/multi/connections.log")"
eq "one flush: one AUTH" "$(lines "$T/multi/auth.log")" 1
ok "one flush: the session ended with QUIT" grep -q ' quit$' "$T/multi/connections.log"
is_empty "one flush: queue empty" "$T/c10"
stop_smarthost multi
