# demo.sh: the README's first command runs and shows a message going into
# the queue (and, once the relay lands, to the test smarthost).
. "$TOP_SRCDIR/tests/integration/lib.sh"
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	skip "demo" "python3-aiosmtpd is not installed"
	exit 0
fi
if [ "$TOP_BUILDDIR" != "$TOP_SRCDIR/build" ]; then
	skip "demo" "the demo uses build/; this run tests $TOP_BUILDDIR"
	exit 0
fi
sh "$TOP_SRCDIR/demo.sh" > "$T/demo.out" 2>&1
rc=$?
[ $rc -eq 0 ] && pass "demo.sh exits 0" || fail "demo.sh exits 0" "exit $rc: $(tail -n 5 "$T/demo.out")"
grep -q 'test smarthost on 127.0.0.1:.*STARTTLS and AUTH required' "$T/demo.out" && pass "demo starts the smarthost" || fail "demo starts the smarthost"
grep -q 'exit status 0' "$T/demo.out" && pass "demo queues the message" || fail "demo queues the message"
grep -q '^ *admin@demo.example$' "$T/demo.out" && pass "demo's mailq shows the recipients" || fail "demo's mailq shows the recipients"
grep -q '^ *TLS: TLSv1\.[23] ' "$T/demo.out" && pass "demo relays over STARTTLS" || fail "demo relays over STARTTLS"
grep -q '^ *>>> AUTH ' "$T/demo.out" && grep -q '^ *<<< 235 ' "$T/demo.out" && pass "demo authenticates" || fail "demo authenticates"
grep -q 'correct-horse' "$T/demo.out" && fail "demo shows no password" || pass "demo shows no password"
grep -A1 '== mailq after the flush' "$T/demo.out" | grep -q 'Mail queue is empty' && pass "demo's queue empty after the flush" || fail "demo's queue empty after the flush"
grep -q '| RCPT TO:<audit@demo.example>' "$T/demo.out" && grep -q '| TLS yes' "$T/demo.out" && grep -q '| AUTH demo@demo.example' "$T/demo.out" && pass "smarthost received it with TLS and AUTH" || fail "smarthost received it with TLS and AUTH"
sed -n '/== and message/,$p' "$T/demo.out" | grep -q 'Bcc:' && fail "received message has no Bcc" || pass "received message has no Bcc"
ls -d /tmp/postern-demo.* >/dev/null 2>&1 && fail "demo removes its directory" "$(ls -d /tmp/postern-demo.*)" || pass "demo removes its directory"
