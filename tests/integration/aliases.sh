# aliases.sh: local recipients through the alias file, admin_address,
# -n, newaliases' checks, and sender rewriting, end to end.
. "$TOP_SRCDIR/tests/integration/lib.sh"
A=$T/aliases
cat > "$A" <<'ALIASES'
# system aliases
postmaster: root
www-data:   root
root:       Admin <admin@x.org>,
            \root
team:       a@x.org, b@y.org, team
ALIASES
printf 'spool_dir %s/spool\ndomain example.org\nalias_file %s\n' "$T" "$A" > "$T/c1"
printf 'Subject: a\n\nbody\n' > "$T/m"
rcpts() { qhead "$(qlast)" | sed -n 's/^rcpt pending //p' | sort | tr '\n' ' '; }

IN=$T/m expect_rc "mail to root" 0 $SENDMAIL -C "$T/c1" -odq root
[ "$(rcpts)" = "admin@x.org root@example.org " ] && pass "root: alias and \\\\root" || fail "root: alias and \\\\root" "$(rcpts)"
IN=$T/m expect_rc "mail to www-data" 0 $SENDMAIL -C "$T/c1" -odq www-data
[ "$(rcpts)" = "admin@x.org root@example.org " ] && pass "www-data -> root, recursively" || fail "www-data -> root, recursively" "$(rcpts)"
IN=$T/m expect_rc "mail to a list with a self-loop" 0 $SENDMAIL -C "$T/c1" -odq team
[ "$(rcpts)" = "a@x.org b@y.org team@example.org " ] && pass "team expands, loop ends at itself" || fail "team expands, loop ends at itself" "$(rcpts)"
IN=$T/m expect_rc "unaliased local name" 0 $SENDMAIL -C "$T/c1" -odq nobody
[ "$(rcpts)" = "nobody@example.org " ] && pass "unaliased name qualified with domain" || fail "unaliased name qualified with domain" "$(rcpts)"
IN=$T/m expect_rc "remote address untouched" 0 $SENDMAIL -C "$T/c1" -odq root@remote.example
[ "$(rcpts)" = "root@remote.example " ] && pass "remote root is not local" || fail "remote root is not local" "$(rcpts)"
IN=$T/m expect_rc "-n: no aliasing" 0 $SENDMAIL -C "$T/c1" -odq -n root
[ "$(rcpts)" = "root@example.org " ] && pass "-n skips the aliases" || fail "-n skips the aliases" "$(rcpts)"
printf 'To: postmaster, Web <www-data>\nSubject: t\n\nb\n' > "$T/mt"
IN=$T/mt expect_rc "-t with local names" 0 $SENDMAIL -C "$T/c1" -odq -t
[ "$(rcpts)" = "admin@x.org root@example.org " ] && pass "-t recipients go through the aliases, once each" || fail "-t recipients go through the aliases, once each" "$(rcpts)"

cp "$T/c1" "$T/c2"; echo "admin_address ops@x.org" >> "$T/c2"
IN=$T/m expect_rc "admin_address" 0 $SENDMAIL -C "$T/c2" -odq nobody
[ "$(rcpts)" = "ops@x.org " ] && pass "unaliased name goes to admin_address" || fail "unaliased name goes to admin_address" "$(rcpts)"

# -bs: RCPT TO:<postmaster> reaches the aliases too
printf 'EHLO c\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<postmaster>\r\nDATA\r\nSubject: bs\r\n\r\nb\r\n.\r\nQUIT\r\n' > "$T/bs"
IN=$T/bs expect_rc "-bs to postmaster" 0 $SENDMAIL -C "$T/c1" -odq -bs
[ "$(rcpts)" = "admin@x.org root@example.org " ] && pass "-bs recipient through the aliases" || fail "-bs recipient through the aliases" "$(rcpts)"

# newaliases checks the file
expect_rc "newaliases on a clean file" 0 $NEWALIASES -C "$T/c1"
[ ! -s "$T/err" ] && pass "clean file: no output" || fail "clean file: no output" "$(cat "$T/err")"
printf 'ok: a@x.org\nbroken line without colon\nmailman: "|/usr/bin/mm post"\n' > "$T/bad"
printf 'spool_dir %s/spool\ndomain example.org\nalias_file %s\n' "$T" "$T/bad" > "$T/c3"
$NEWALIASES -C "$T/c3" > "$T/out" 2> "$T/naerr"; rc=$?
cp "$T/naerr" "$T/err"
[ $rc -eq 78 ] && pass "newaliases: errors give exit 78" || fail "newaliases: errors give exit 78" "exit $rc"
grep -q "$T/bad:2:" "$T/err" && pass "newaliases names file and line" || fail "newaliases names file and line" "$(cat "$T/err")"
grep -q "$T/bad:3:.*warning\|warning.*$T/bad:3:" "$T/err" && pass "newaliases warns about a pipe target" || fail "newaliases warns about a pipe target" "$(cat "$T/err")"
n=$(qcount)
IN=$T/m expect_rc "broken alias file: local mail refused" 78 $SENDMAIL -C "$T/c3" -odq ok
IN=$T/m expect_rc "broken alias file: remote mail accepted" 0 $SENDMAIL -C "$T/c3" -odq ok@remote.example
[ "$(qcount)" -eq $((n + 1)) ] && pass "only the remote message queued" || fail "only the remote message queued"
$SENDMAIL -C "$T/c3" -bi 2> "$T/err2"; rc=$?
[ $rc -eq 78 ] && [ "$(sed 's/^[a-z]*: //' "$T/err2")" = "$(sed 's/^[a-z]*: //' "$T/naerr")" ] && pass "sendmail -bi reports as newaliases" || fail "sendmail -bi reports as newaliases" "exit $rc"

# sender rewriting for one-account smarthosts
printf 'spool_dir %s/spool\ndomain example.org\nalias_file none\nrewrite_sender relay@provider.example\n' "$T" > "$T/c4"
printf 'From: Backup Job <backup@example.org>\nTo: admin@x.org\nSubject: r\n\nb\n' > "$T/mr"
IN=$T/mr expect_rc "rewrite: local sender" 0 $SENDMAIL -C "$T/c4" -odq -t -f backup@example.org
qhead "$(qlast)" | grep -qx 'sender relay@provider.example' && pass "envelope sender rewritten" || fail "envelope sender rewritten" "$(qhead "$(qlast)")"
m=$(qmsg "$(qlast)")
echo "$m" | grep -q '^From: Backup Job <relay@provider.example>$' && pass "From: rewritten, display name kept" || fail "From: rewritten, display name kept" "$(echo "$m" | grep -i '^from\|original')"
echo "$m" | grep -q '^X-Original-From: Backup Job <backup@example.org>$' && pass "original From: kept" || fail "original From: kept" "$(echo "$m" | grep -i original)"
IN=$T/mr expect_rc "rewrite: remote sender untouched" 0 $SENDMAIL -C "$T/c4" -odq -t -f someone@elsewhere.example
qhead "$(qlast)" | grep -qx 'sender someone@elsewhere.example' && pass "remote sender left alone (scope local)" || fail "remote sender left alone (scope local)"
IN=$T/m expect_rc "rewrite: null sender" 0 $SENDMAIL -C "$T/c4" -odq -f '<>' admin@x.org
qhead "$(qlast)" | grep -qx 'sender' && pass "null sender never rewritten" || fail "null sender never rewritten"

# delivered: the alias result is what the smarthost gets
need_smarthost
start_smarthost sh -- --tls none
relay_conf "$T/c5" "smarthost 127.0.0.1:$SH_PORT" "tls none" "alias_file $A"
clearq
IN=$T/m expect_rc "queue to www-data" 0 $SENDMAIL -C "$T/c5" -odq www-data
$POSTERN -C "$T/c5" flush > /dev/null 2>&1
got=$(grep -h '^RCPT TO:' "$T"/sh/*.env 2>/dev/null | sort | tr '\n' ' ')
[ "$got" = "RCPT TO:<admin@x.org> RCPT TO:<root@example.org> " ] && pass "smarthost gets the expanded recipients" || fail "smarthost gets the expanded recipients" "$got"
stop_smarthost sh

# a bounce through a one-sender smarthost comes from that sender (From:),
# with the null envelope sender
start_smarthost sb -- --tls none --reply-rcpt 'gone@x.org=550 5.1.1 no such user'
relay_conf "$T/c6" "smarthost 127.0.0.1:$SH_PORT" "tls none" "alias_file none" \
    "rewrite_sender relay@provider.example"
clearq
printf 'From: Backup Job <backup@example.org>\nTo: gone@x.org\nSubject: b\n\nb\n' > "$T/mb"
IN=$T/mb expect_rc "rewrite: queue to a refused recipient" 0 $SENDMAIL -C "$T/c6" -odq -t
$POSTERN -C "$T/c6" flush > /dev/null 2>&1
bq=$(grep -lx 'sender' "$T"/spool/queue/* 2>/dev/null | head -n 1)
if [ -n "$bq" ]; then
	pass "bounce queued"
	grep -qx 'From: Mail Delivery System <relay@provider.example>' "$bq" && pass "bounce From: is the rewrite_sender" || fail "bounce From: is the rewrite_sender" "$(grep '^From:' "$bq")"
	grep -qx 'rcpt pending relay@provider.example' "$bq" && pass "bounce goes to the rewritten envelope sender" || fail "bounce goes to the rewritten envelope sender" "$(grep '^rcpt' "$bq")"
else
	fail "bounce queued" "$(ls "$T/spool/queue")"
fi
stop_smarthost sb
