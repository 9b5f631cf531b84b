# valgrind.sh: the relay path once under valgrind memcheck, in the normal
# (not sanitizer) build: "sendmail -t" queues a message for two
# recipients, "postern flush" relays it over STARTTLS with AUTH to the
# test smarthost, which refuses one recipient, so the flush queues a
# bounce; mailq lists it and a second flush relays the bounce. Every
# program must end with no memcheck error and no definitely or indirectly
# lost block; "still reachable" memory (OpenSSL's global state) is
# allowed. Nothing is suppressed. Skipped when valgrind is missing, and in
# the sanitizer rerun (tests/run.sh), where valgrind cannot work.
. "$TOP_SRCDIR/tests/integration/lib.sh"
command -v valgrind > /dev/null 2>&1 || {
	skip valgrind "valgrind is not installed"; exit 0; }
need_smarthost
certs

C=$T/certs
PW='pw-Vg3-n0t-l3ak3d'
password "$T/pw" "$PW"
TMO=""
command -v timeout > /dev/null 2>&1 && TMO="timeout 60"
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
    --error-exitcode=99 --log-file=$T/vg.%p"
VGN=0

# vg NAME CMD...: runs CMD under memcheck (stdin from $IN, default
# /dev/null); passes if it exits 0 with an empty memcheck report. Its
# output is in $T/out, its stderr in $T/err.
vg() {
	_name=$1; shift
	VGN=$((VGN + 1))
	mkdir -p "$T/vg$VGN"
	# shellcheck disable=SC2086
	$TMO $VG "$@" < "${IN:-/dev/null}" > "$T/out" 2> "$T/err"
	_rc=$?
	mv "$T"/vg.* "$T/vg$VGN/" 2> /dev/null
	_rep=$(cat "$T/vg$VGN"/vg.* 2> /dev/null | head -c 2000)
	if [ $_rc -eq 99 ] || [ -n "$_rep" ]; then
		fail "valgrind: $_name" "exit $_rc; $_rep"
	elif [ $_rc -ne 0 ]; then
		fail "valgrind: $_name" "exit $_rc: $(head -c 300 "$T/err")"
	else
		pass "valgrind: $_name (no errors, no leaks)"
	fi
}

start_smarthost sh -- --tls starttls --cert "$C/server.pem" \
    --key "$C/server.key" --auth "relay:$PW" \
    --reply-rcpt 'gone@x.org=550 5.1.1 no such user'
relay_conf "$T/rconf" "smarthost 127.0.0.1:$SH_PORT" "tls starttls" \
    "auth_user relay" "auth_password_file $T/pw" "tls_verify yes"

printf 'From: Sender <s@example.org>\nTo: rcpt@x.org, gone@x.org\nCc: root\nBcc: hidden@x.org\nSubject: under valgrind\n\nbody\n.. a dot line\n' > "$T/msg"
IN=$T/msg vg "sendmail -t" "$SENDMAIL" -odq -C "$T/rconf" -t
[ "$(qcount)" -eq 1 ] && pass "the message is queued" ||
	fail "the message is queued" "$(qcount) queued"

vg "postern flush (STARTTLS, AUTH, one refusal)" "$POSTERN" -C "$T/rconf" flush
n=$(received sh)
[ "$n" -eq 1 ] && pass "the smarthost got the message" ||
	fail "the smarthost got the message" "received $n"
[ "$(qcount)" -eq 1 ] && pass "a bounce is queued" ||
	fail "a bounce is queued" "$(qcount) queued"

vg "mailq" "$SENDMAIL" -C "$T/rconf" -bp
vg "postern flush (the bounce)" "$POSTERN" -C "$T/rconf" flush
n=$(received sh)
[ "$n" -eq 2 ] && [ "$(qcount)" -eq 0 ] &&
	pass "the bounce was relayed and the queue is empty" ||
	fail "the bounce was relayed and the queue is empty" \
	    "received $n, $(qcount) queued"
grep -rl "$PW" "$T"/vg* > /dev/null 2>&1 &&
	fail "no password in the valgrind reports"
stop_smarthost sh
