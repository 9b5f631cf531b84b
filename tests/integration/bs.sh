# bs.sh: sendmail -bs, an SMTP session on standard input and output.
# A session driven line by line through FIFOs (each message must be in
# queue/ when its 250 arrives), pipelining, dot-unstuffing, 8-bit bodies,
# RSET, the error replies, CR/LF injection, EOF inside DATA, the null
# sender, local recipients, startup failures (421), a Python client
# speaking over subprocess pipes as Symfony Mailer does, the one
# background delivery attempt after the session, and the 421 after
# command_timeout of silence.
. "$TOP_SRCDIR/tests/integration/lib.sh"
SM="$SENDMAIL -C $T/conf"
CR=$(printf '\r')
TMO=""
command -v timeout > /dev/null 2>&1 && TMO="timeout 30"

# eq NAME GOT WANT
eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}
# has NAME FILE PATTERN: passes if a line of FILE matches (grep -E).
has() {
	if grep -Eq -- "$3" "$2"; then pass "$1"; else fail "$1" "no '$3' in: $(head -c 600 "$2" | tr '\r\n' '~|')"; fi
}
# session NAME WANT_RC [FLAGS...]: runs sendmail -bs FLAGS on $T/in (CRLF
# already in it); the replies in $T/out, stderr in $T/err.
session() {
	_nm=$1; _rc=$2; shift 2
	IN=$T/in expect_rc "$_nm" "$_rc" $TMO $SM -bs "$@"
}

# --- 1. a session driven reply by reply through FIFOs ------------------------

mkfifo "$T/to" "$T/from"
$TMO $SM -bs -odq < "$T/to" > "$T/from" 2> "$T/fifo.err" &
BS=$!
exec 3> "$T/to" 4< "$T/from"

# say LINE...: sends each argument as one CRLF line.
say() { for _l in "$@"; do printf '%s\r\n' "$_l" >&3; done; }
# reply: reads one (multi-line) reply; its last line, without CR, in R and
# all of its lines in RALL.
reply() {
	R=""; RALL=""
	while IFS= read -r _l <&4; do
		_l=${_l%"$CR"}
		RALL="$RALL$_l|"
		case $_l in ???-*) continue ;; esac
		R=$_l
		return 0
	done
	R="(end of output)"
	return 1
}
# queued REPLY: the queue ID of a "250 2.0.0 Ok: queued as QID" reply.
qid_of() { echo "$1" | sed -n 's/^250 2\.0\.0 Ok: queued as \([0-9A-Z]\{15\}\)$/\1/p'; }

reply; case $R in "220 "*" ESMTP postern") pass "greeting" ;; *) fail "greeting" "$R" ;; esac
say "EHLO client.example"
reply
case $RALL in *"|250-PIPELINING|250-8BITMIME|250-ENHANCEDSTATUSCODES|"*"|250 HELP|") pass "EHLO keywords" ;; *) fail "EHLO keywords" "$RALL" ;; esac

# message 1, one command at a time
say "MAIL FROM:<one@sender.example>"; reply; eq "MAIL" "$R" "250 2.1.0 Ok"
say "RCPT TO:<root>"; reply; eq "RCPT local name" "$R" "250 2.1.5 Ok"
say "RCPT TO:<Friend@Remote.Example>"; reply; eq "RCPT" "$R" "250 2.1.5 Ok"
say "DATA"; reply; eq "DATA" "$R" "354 End data with <CR><LF>.<CR><LF>"
say "Subject: first" "Bcc: hidden@x.example" "" "..a leading dot" ".." \
    "a line.with dots." "..." "last"
sleep 0.3
eq "nothing queued before the final dot" "$(qcount)" 0
say "."
reply
Q1=$(qid_of "$R")
# checked at once: the 250 may only come after the message is durable
if [ -n "$Q1" ] && [ -f "$T/spool/queue/$Q1" ]; then pass "message 1 in queue/ when its 250 arrives"; else fail "message 1 in queue/ when its 250 arrives" "$R; $(ls "$T/spool/queue")"; fi
eq "no temporary file left" "$(ls "$T/spool/tmp" | wc -l)" 0

# message 2: RSET first, then a pipelined group in one write
say "RSET"; reply; eq "RSET" "$R" "250 2.0.0 Ok"
printf 'MAIL FROM:<two@sender.example> BODY=8BITMIME\r\nRCPT TO:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n' >&3
reply; eq "pipelined MAIL" "$R" "250 2.1.0 Ok"
reply; eq "pipelined RCPT 1" "$R" "250 2.1.5 Ok"
reply; eq "pipelined RCPT 2" "$R" "250 2.1.5 Ok"
reply; eq "pipelined DATA" "$R" "354 End data with <CR><LF>.<CR><LF>"
# 8-bit body, LF-only lines mixed in, the end dot and QUIT in one write
printf 'Subject: second\r\nFrom: Two <two@sender.example>\r\n\r\ncaf\303\251 \342\202\254\nbare\rCR\r\n.\r\nNOOP\r\n' >&3
reply
Q2=$(qid_of "$R")
if [ -n "$Q2" ] && [ -f "$T/spool/queue/$Q2" ]; then pass "message 2 in queue/ when its 250 arrives"; else fail "message 2 in queue/ when its 250 arrives" "$R"; fi
reply; eq "NOOP pipelined after the dot" "$R" "250 2.0.0 Ok"
say "QUIT"; reply; eq "QUIT" "$R" "221 2.0.0 Bye"
exec 3>&-
wait $BS; rc=$?
exec 4<&-
eq "exit 0 after QUIT" "$rc" 0
eq "nothing on stderr" "$(cat "$T/fifo.err")" ""

if [ -n "$Q1" ] && [ -f "$T/spool/queue/$Q1" ]; then
	F=$T/spool/queue/$Q1
	has "envelope sender from MAIL FROM" "$F" '^sender one@sender\.example$'
	has "local recipient qualified" "$F" '^rcpt pending root@example\.org$'
	has "remote recipient kept" "$F" '^rcpt pending Friend@Remote\.Example$'
	qmsg "$F" > "$T/m1"
	printf 'Subject: first\n' > "$T/w1"
	eq "Bcc removed" "$(grep -ci '^bcc:' "$T/m1")" 0
	has "Date added" "$T/m1" '^Date: '
	has "From from the envelope sender" "$T/m1" '^From: one@sender\.example$'
	has "Message-ID added" "$T/m1" "^Message-ID: <$Q1\\."
	sed '1,/^$/d' "$T/m1" > "$T/b1"
	printf '.a leading dot\n.\na line.with dots.\n..\nlast\n' > "$T/w1"
	if cmp -s "$T/b1" "$T/w1"; then pass "dot-unstuffing, lone dot kept as text"; else fail "dot-unstuffing, lone dot kept as text" "$(od -c "$T/b1" | head -5)"; fi
fi
if [ -n "$Q2" ] && [ -f "$T/spool/queue/$Q2" ]; then
	F=$T/spool/queue/$Q2
	has "8-bit body marked" "$F" '^body 8bit$'
	eq "two recipients" "$(grep -c '^rcpt pending [ab]@x\.example$' "$F")" 2
	has "From kept" "$F" '^From: Two <two@sender\.example>$'
	qmsg_bytes "$F" | sed '1,/^$/d' > "$T/b2"
	printf 'caf\303\251 \342\202\254\nbare\rCR\n' > "$T/w2"
	if cmp -s "$T/b2" "$T/w2"; then pass "8-bit bytes and a bare CR kept, CRLF to LF"; else fail "8-bit bytes and a bare CR kept, CRLF to LF" "$(od -c "$T/b2" | head -5)"; fi
fi

# --- 2. errors ------------------------------------------------------------

clearq
LONG=$(head -c 1200 /dev/zero | tr '\0' 'x')
{
	printf 'HELO client\r\n'
	printf 'RCPT TO:<a@x.example>\r\n'
	printf 'DATA\r\n'
	printf 'FROBNICATE\r\n'
	printf 'NOOP %s\r\n' "$LONG"
	printf 'MAIL FROM:<bad address@x>\r\n'
	printf 'MAIL FROM:<ok@x.example> XFOO=1\r\n'
	printf 'MAIL FROM:<ok@x.example>\r\n'
	printf 'MAIL FROM:<again@x.example>\r\n'
	printf 'DATA\r\n'
	printf 'RCPT TO:<>\r\n'
	printf 'RCPT TO:<a@x.example>\r\n'
	printf 'VRFY root\r\n'
	printf 'HELP\r\n'
	printf 'QUIT\r\n'
} > "$T/in"
session "error session" 0 -odq
tr -d '\r' < "$T/out" > "$T/o"
eq "replies in order" "$(cut -c1-3 "$T/o" | tr '\n' ' ')" \
    "220 250 503 503 500 500 501 555 250 503 503 501 250 252 214 221 "
has "503 RCPT before MAIL" "$T/o" '^503 5\.5\.1 Error: need MAIL command$'
has "500 unknown command" "$T/o" '^500 5\.5\.1 Error: command not recognized$'
has "500 line too long" "$T/o" '^500 5\.5\.2 Error: line too long$'
has "501 bad sender address" "$T/o" '^501 5\.1\.7 Bad sender address syntax'
has "555 unknown MAIL parameter" "$T/o" '^555 5\.5\.4 Unsupported MAIL parameter XFOO$'
has "503 nested MAIL" "$T/o" '^503 5\.5\.1 Error: nested MAIL command$'
has "503 DATA before RCPT" "$T/o" '^503 5\.5\.1 Error: need RCPT command$'
has "501 empty recipient" "$T/o" '^501 5\.1\.3 '
eq "nothing queued by the error session" "$(qcount)" 0

# CR and LF inside MAIL and RCPT: the line is refused, or split into an
# unknown command; nothing of it reaches the envelope or a header
printf 'EHLO c\r\nMAIL FROM:<a@x.example\r>\r\nMAIL FROM:<a@x.example\rBcc: evil@x.example>\r\nMAIL FROM:<ok@x.example>\r\nRCPT TO:<b@x.example\nBcc: evil@x.example>\r\nRCPT TO:<b@x.example\r\nX-Injected: yes>\r\nRCPT TO:<b@x.example\000evil@x.example>\r\nRCPT TO:<good@x.example>\r\nDATA\r\nSubject: inj\r\n\r\nbody\r\n.\r\nQUIT\r\n' > "$T/in"
session "injection session" 0 -odq
tr -d '\r' < "$T/out" > "$T/o"
eq "CR inside MAIL refused" "$(grep -c '^501 5\.5\.2 Syntax error: control character in command line$' "$T/o")" 3
eq "LF splits: the rest is an unknown command" "$(grep -c '^500 5\.5\.1 ' "$T/o")" 2
eq "one message queued" "$(qcount)" 1
F=$(qlast)
eq "only the good recipient" "$(grep '^rcpt ' "$F")" "rcpt pending good@x.example"
eq "no injected header or address" "$(grep -ci 'evil\|injected' "$F")" 0

# --- 3. the input ends -----------------------------------------------------

clearq
printf 'EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\nSubject: cut\r\n\r\npartial body\r\n' > "$T/in"
session "EOF inside DATA: exit 75" 75 -odq
has "EOF inside DATA explained" "$T/err" 'ended inside DATA'
eq "EOF inside DATA: nothing queued" "$(qcount)" 0
eq "EOF inside DATA: no temporary file" "$(ls "$T/spool/tmp" | wc -l)" 0
printf 'EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\nSubject: ok\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@x.example>\r\n' > "$T/in"
session "EOF between commands after a message: exit 0" 0 -odq
eq "the message before EOF is queued" "$(qcount)" 1
: > "$T/in"
session "empty input: greeting only, exit 0" 0 -odq

# --- 4. null sender, BODY, unqualified sender ------------------------------

clearq
printf 'HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nDATA\r\nSubject: bounce\r\n\r\nx\r\n.\r\nMAIL FROM:<daemon> BODY=7BIT SIZE=10\r\nRCPT TO:<z@x.example>\r\nDATA\r\n\r\nx\r\n.\r\nQUIT\r\n' > "$T/in"
session "null sender session" 0 -odq
F=$(qfiles | head -n 1)
eq "null sender in the envelope" "$(grep '^sender' "$F")" "sender"
has "null sender: From is MAILER-DAEMON" "$F" '^From: Mail Delivery System <MAILER-DAEMON@example\.org>$'
has "postmaster qualified" "$F" '^rcpt pending postmaster@example\.org$'
F=$(qlast)
has "unqualified sender qualified" "$F" '^sender daemon@example\.org$'

# -f is not used: MAIL FROM is the envelope sender
clearq
printf 'MAIL FROM:<m@x.example>\r\nRCPT TO:<z@x.example>\r\nDATA\r\n\r\nx\r\n.\r\nQUIT\r\n' > "$T/in"
session "-f with -bs" 0 -odq -f ignored@x.example -FName
has "MAIL FROM wins over -f" "$(qlast)" '^sender m@x\.example$'
has "-F names the generated From" "$(qlast)" '^From: Name <m@x\.example>$'

# --- 5. the command line and startup failures ------------------------------

session "-bs with a recipient: usage error" 64 -odq root
session "-bs with -t: usage error" 64 -t
printf 'bogus_key 1\n' > "$T/bad.conf"
IN=$T/in expect_rc "configuration error: exit 78" 78 $SENDMAIL -C "$T/bad.conf" -bs
has "configuration error: 421 to the client" "$T/out" '^421 4\.3\.5 '
printf 'spool_dir %s/no/such/parent/spool\n' "$T" > "$T/nospool.conf"
IN=$T/in expect_rc "spool unusable: exit 75" 75 $SENDMAIL -C "$T/nospool.conf" -bs
has "spool unusable: 421 to the client" "$T/out" '^421 4\.3\.0 '

# -v: the queue ID of each message on stderr
clearq
printf 'MAIL FROM:<v@x.example>\r\nRCPT TO:<z@x.example>\r\nDATA\r\n\r\n1\r\n.\r\nMAIL FROM:<v@x.example>\r\nRCPT TO:<z@x.example>\r\nDATA\r\n\r\n2\r\n.\r\nQUIT\r\n' > "$T/in"
session "-v session" 0 -odq -v
eq "-v: each queue ID on stderr" "$(grep -c 'queued as [0-9A-Z]\{15\}$' "$T/err")" 2

# --- 6. a client over subprocess pipes, as Symfony Mailer's transport ------

clearq
cat > "$T/client.py" <<'PY'
import subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def rd():
    lines = []
    while True:
        l = p.stdout.readline()
        if not l:
            sys.exit("EOF from server after %r" % lines)
        lines.append(l)
        if l[3:4] != b"-":
            return lines
def cmd(c, want):
    p.stdin.write(c + b"\r\n"); p.stdin.flush()
    r = rd()
    if not r[-1].startswith(want):
        sys.exit("%r -> %r" % (c, r))
    return r
if not rd()[-1].startswith(b"220"): sys.exit("greeting")
ext = cmd(b"EHLO [127.0.0.1]", b"250 ")
assert any(b"8BITMIME" in l for l in ext)
for n in (1, 2):
    cmd(b"MAIL FROM:<py@x.example> BODY=8BITMIME", b"250")
    cmd(b"RCPT TO:<rcpt%d@x.example>" % n, b"250")
    cmd(b"DATA", b"354")
    body = (b"Subject: py %d\r\n\r\n.starts with a dot\r\n.\r\n\xc3\xa9\r\n" % n)
    # Symfony's dot-stuffing: "\r\n." becomes "\r\n.."
    stuffed = body.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."): stuffed = b"." + stuffed
    p.stdin.write(stuffed + b".\r\n"); p.stdin.flush()
    r = rd()
    if not r[-1].startswith(b"250 2.0.0 Ok: queued as "): sys.exit("dot: %r" % r)
cmd(b"QUIT", b"221")
p.stdin.close()
sys.exit(p.wait())
PY
if $TMO /usr/bin/python3 "$T/client.py" $SM -bs -odq > "$T/py.out" 2>&1; then pass "Python client over pipes"; else fail "Python client over pipes" "$(cat "$T/py.out")"; fi
eq "Python client: two messages" "$(qcount)" 2
qmsg "$(qlast)" | sed '1,/^$/d' > "$T/b3"
printf '.starts with a dot\n.\n\303\251\n' > "$T/w3"
if cmp -s "$T/b3" "$T/w3"; then pass "Python client: body byte for byte"; else fail "Python client: body byte for byte" "$(od -c "$T/b3" | head)"; fi

# --- 7. one background attempt for the session's messages ------------------

if /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	clearq
	start_smarthost bsrelay -- --tls none
	relay_conf "$T/relay.conf" "smarthost 127.0.0.1:$SH_PORT" "tls none"
	printf 'EHLO c\r\nMAIL FROM:<r@x.example>\r\nRCPT TO:<d1@x.example>\r\nDATA\r\nSubject: r1\r\n\r\n1\r\n.\r\nMAIL FROM:<r@x.example>\r\nRCPT TO:<d2@x.example>\r\nDATA\r\nSubject: r2\r\n\r\n2\r\n.\r\nQUIT\r\n' > "$T/in"
	IN=$T/in expect_rc "session without -odq" 0 $TMO $SENDMAIL -C "$T/relay.conf" -bs
	i=0
	while [ $i -lt 100 ] && [ "$(received bsrelay)" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
	eq "both messages delivered in the background" "$(received bsrelay)" 2
	i=0
	while [ $i -lt 50 ] && [ "$(qcount)" -gt 0 ]; do sleep 0.1; i=$((i + 1)); done
	eq "the queue is empty afterwards" "$(qcount)" 0
	eq "one connection for the session's messages" "$(grep -c ' msg .* msg ' "$T/bsrelay/connections.log")" 1
	stop_smarthost bsrelay
else
	skip "background attempt after -bs" "python3-aiosmtpd is not installed"
fi

# --- 8. a client that stops talking: command_timeout ------------------------

clearq
cp "$T/conf" "$T/tmo.conf"
echo "command_timeout 2s" >> "$T/tmo.conf"
# the input stays open (the writer sleeps), so only the timeout ends it
for where in commands data; do
	if [ $where = commands ]; then
		printf 'EHLO c\r\nMAIL FROM:<t@x.example>\r\nRCPT TO:<d@x.example>\r\nDATA\r\nSubject: whole\r\n\r\n1\r\n.\r\n'
	else
		printf 'EHLO c\r\nMAIL FROM:<t@x.example>\r\nRCPT TO:<d@x.example>\r\nDATA\r\nSubject: part\r\n\r\nhalf a li'
	fi > "$T/tin"
	rm -f "$T/tfifo"
	mkfifo "$T/tfifo"
	{ cat "$T/tin"; sleep 8; } > "$T/tfifo" &
	wp=$!
	t0=$(ms)
	$TMO $SENDMAIL -C "$T/tmo.conf" -bs -odq < "$T/tfifo" > "$T/out" 2> "$T/err"
	rc=$?
	el=$(( $(ms) - t0 ))
	kill "$wp" 2> /dev/null
	wait "$wp" 2> /dev/null
	eq "timeout in $where: exit 75" "$rc" 75
	[ "$el" -ge 1900 ] && [ "$el" -lt 7500 ] && pass "timeout in $where: after command_timeout, not before or at the writer's end" || fail "timeout in $where: after command_timeout" "${el} ms"
	eq "timeout in $where: the last reply is 421 4.4.2" "$(tail -n 1 "$T/out" | tr -d '\r' | cut -c1-9)" "421 4.4.2"
	eq "timeout in $where: one line on stderr" "$(wc -l < "$T/err")" 1
	has "timeout in $where: stderr names command_timeout" "$T/err" 'no input for 2 seconds \(command_timeout\)'
done
eq "timeout: the complete message was queued, the half one was not" "$(qcount)" 1
grep -q '^Subject: whole' "$(qlast)" && pass "timeout: the queued message is the complete one" || fail "timeout: the queued message is the complete one"
eq "timeout: no partial file left in tmp/" "$(ls "$T/spool/tmp" | wc -l)" 0
