# smarthost.sh: every smarthost fault leaves the message queued with a
# clear error of the right class, the retry schedule holds (60 s after
# the first failed attempt, then 300, then 900: deliver.c's schedule,
# spool/README.md), and the daemon does not try again before it is due.
# Faults: refused connection; the connection dropped at each stage
# (greeting, EHLO, MAIL, RCPT, DATA, the final dot, the TLS handshake);
# 421 at the greeting, after MAIL, RCPT and the final dot; a server that
# stops answering (greeting, final dot); an expired certificate and one
# for another name. What relay.sh (certificates: the mailq text, no AUTH
# sent; failover), queue.sh (section 9: hostile servers, bounded time and
# memory; 10: the schedule after 451) and conn.sh (conn.c against broken
# TLS servers) prove is not repeated: here each fault is followed through
# three passes and a daemon run. FAULTS_SCALE=ci: nine of the 16 faults.
. "$TOP_SRCDIR/tests/faults/lib.sh"
need_smarthost
certs
C=$T/certs
TLSARGS="--tls starttls --cert $C/server.pem --key $C/server.key"
it=0 faults=0 lost=0 dups=0 early=0

# sv FILE KEY: a value from a state or status file.
sv() { sed -n "s/^$2 //p" "$1" 2>/dev/null; }

# fault NAME KIND CLASS ERE TLS SERVER-ARGS...
#   KIND: session (no transaction began: the status file counts the
#   failures) or txn (the message was tried: its state file has the
#   schedule); CLASS: the status file's class; ERE: what mailq shows;
#   TLS: plain, or the host name to verify for a STARTTLS smarthost.
fault() {
	_name=$1 _kind=$2 _class=$3 _ere=$4 _tls=$5; shift 5
	case " $(by_scale "$CI_FAULTS" "$_name") " in
	*" $_name "*) ;;
	*)	echo "# $_name: full scale only"; return 0 ;;
	esac
	it=$((it + 1)); faults=$((faults + 3)); _t0=$(ms)
	clearq; rm -f "$T/spool/status"
	if [ "$_name" = refused ]; then
		SH_PORT=$(free_port)
	else
		start_smarthost "f$it" -- --timeout 60 "$@" || return
	fi
	_port=$SH_PORT
	if [ "$_tls" = plain ]; then
		plainconf "$T/c" "$_port"
		_healthy=""
	else
		relay_conf "$T/c" "smarthost $_tls:$_port" "tls starttls" \
		    "connect_timeout 2s" 2>/dev/null
		# relay_conf sets timeouts: keep its own
		sed -i '/^connect_timeout 2s$/d' "$T/c"
		_healthy=$TLSARGS
	fi
	printf 'From: s@x.org\nSubject: %s\nMessage-ID: <%s@sh.test>\n\nbody\n' \
	    "$_name" "$_name" | $SENDMAIL -C "$T/c" -odq -i a@x.org
	_q=$(basename "$(qlast)")
	_sched=""
	for _n in 1 2 3; do
		timeout 60 $POSTERN -C "$T/c" flush > "$T/flush.out" 2>&1
		_rc=$?
		if [ "$_kind" = txn ]; then
			_a=$(sv "$T/spool/state/$_q" attempts)
			_d=$(( $(sv "$T/spool/state/$_q" next-attempt) - $(sv "$T/spool/state/$_q" last-attempt) ))
			_sched="$_sched $_a:$_d"
		else
			_sched="$_sched $(sv "$T/spool/status" failures):$([ -e "$T/spool/state/$_q" ] && echo state || echo -)"
		fi
	done
	echo "# $_name: flush exit $_rc; schedule$_sched; status class $(sv "$T/spool/status" class); $(($(ms) - _t0)) ms"
	$MAILQ -C "$T/c" > "$T/mq" 2>&1
	_got=$(ids "f$it" | grep -c .)
	check "$_name: still queued after three passes, nothing stored" \
	    '[ "$(qcount)" -eq 1 ] && [ -e "$T/spool/queue/$_q" ] && [ "$_got" -eq 0 ] && [ "$_rc" -eq 0 ]' \
	    "queue $(qcount), stored $_got, flush exit $_rc"
	check "$_name: mailq shows the error" \
	    'grep -Eq "^ +\(.*$_ere" "$T/mq"' "$(sed -n 2,3p "$T/mq")"
	check "$_name: status class $_class" '[ "$(sv "$T/spool/status" class)" = "$_class" ]' \
	    "$(sv "$T/spool/status" class): $(sv "$T/spool/status" error)"
	if [ "$_kind" = txn ]; then
		check "$_name: next attempt after 60, 300, 900 s" \
		    '[ "$_sched" = " 1:60 2:300 3:900" ]' "attempts:delay$_sched"
	else
		check "$_name: three failures counted, the message not marked tried" \
		    '[ "$_sched" = " 1:- 2:- 3:-" ]' "failures:state$_sched"
	fi
	check "$_name: the daemon's hold-off is due after the status time + 900 s" \
	    '[ "$(sv "$T/spool/status" failures)" = 3 ]'
	# the smarthost comes back (the healthy one of its kind takes the
	# calls); the daemon must not call before the retry is due
	stop_smarthost "f$it"
	if [ "$_tls" = plain ]; then _h=hp; else _h=ht; fi
	eval "_hport=\$${_h}_port"
	sed -i "s|^smarthost .*|smarthost $([ "$_tls" = plain ] && echo 127.0.0.1 || echo "$_tls"):$_hport|" "$T/c"
	_n0=$(ids $_h | grep -c .)
	_e0=$(grep -c ' connect ' "$T/$_h/events.log")
	$POSTERN -C "$T/c" daemon > "$T/daemon.out" 2>&1 &
	_dp=$!
	PIDS="$PIDS $_dp"
	sleep 1
	_ev=$(( $(grep -c ' connect ' "$T/$_h/events.log") - _e0 ))
	kill -TERM "$_dp" 2>/dev/null
	wait_until 5 '! alive $_dp'
	kill -KILL "$_dp" 2>/dev/null
	wait "$_dp" 2>/dev/null
	early=$((early + ${_ev:-0}))
	check "$_name: the daemon does not call the smarthost before the retry time" \
	    '[ "${_ev:-0}" -eq 0 ] && [ "$(qcount)" -eq 1 ]' "$_ev connections, queue $(qcount)"
	timeout 60 $POSTERN -C "$T/c" flush > "$T/flush.out" 2>&1
	_got=$(( $(ids $_h | grep -c .) - _n0 ))
	check "$_name: a flush once it is back delivers it once" \
	    '[ "$_got" -eq 1 ] && [ "$(qcount)" -eq 0 ]' "stored $_got, queue $(qcount): $(head -c 200 "$T/flush.out")"
	[ "$_got" -eq 0 ] && lost=$((lost + 1))
	[ "$_got" -gt 1 ] && dups=$((dups + _got - 1))
	echo "# $_name: done in $(($(ms) - _t0)) ms"
}

# the healthy smarthosts, plain and STARTTLS, that take over after a fault
start_smarthost hp -- || exit 1
hp_port=$SH_PORT
start_smarthost ht -- $TLSARGS || exit 1
ht_port=$SH_PORT
# FAULTS_SCALE=ci runs these nine (one of each kind); full runs all 16
CI_FAULTS="refused drop-greeting 421-greeting drop-rcpt drop-dot 421-mail hang-dot drop-handshake cert-wrongname"
COMMAND_TMO=1s DATA_TMO=1s
export COMMAND_TMO DATA_TMO
fault refused        session connect  "Connection refused"          plain
fault drop-greeting  session connect  "closed the connection"       plain --drop-at greeting
fault drop-ehlo      session connect  "closed the connection"       plain --drop-at ehlo
fault 421-greeting   session greeting "421 4.3.2 busy"              plain --greeting "421 4.3.2 busy"
fault hang-greeting  session connect  "timed out"                   plain --hang-at greeting
fault drop-mail      txn     connect  "closed the connection"       plain --drop-at mail
fault drop-rcpt      txn     connect  "closed the connection"       plain --drop-at rcpt
fault drop-data      txn     connect  "closed the connection"       plain --drop-at data
fault drop-dot       txn     connect  "closed the connection"       plain --drop-at dot
fault 421-mail       txn     service  "421 4.3.2 going down"        plain --reply-mail "421 4.3.2 going down"
fault 421-rcpt       txn     service  "421 4.3.2 going down"        plain --reply-rcpt "a@x.org=421 4.3.2 going down"
fault 421-dot        txn     service  "421 4.3.2 going down"        plain --reply-data "421 4.3.2 going down"
fault hang-dot       txn     connect  "timed out"                   plain --hang-at dot
fault drop-handshake session TLS      "TLS"                         localhost $TLSARGS --drop-at handshake
fault cert-expired   session TLS      "certificate has expired"     127.0.0.1 --tls starttls --cert "$C/expired.pem" --key "$C/expired.key"
fault cert-wrongname session TLS      "[Hh]ostname mismatch"        localhost --tls starttls --cert "$C/wrong.pem" --key "$C/wrong.key"
summary smarthost "$it" "$faults" "$lost" "$dups" "$it faults x 3 passes + a daemon run each; $early early retries"
