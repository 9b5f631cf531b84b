# flags.sh: every sendmail flag of CONTRACT.md, grouped and glued forms,
# and the exit status with one stderr line for each failure.
. "$TOP_SRCDIR/tests/integration/lib.sh"
SM="$SENDMAIL -C $T/conf"
printf 'To: t@x.org\nSubject: f\n\nbody\n' > "$T/msg"
IN=$T/msg; export IN

n0=$(qcount)
expect_rc "-t" 0 $SM -t
expect_rc "-ti grouped" 0 $SM -ti
expect_rc "-t -i -oi" 0 $SM -t -i -oi
expect_rc "-f with space" 0 $SM -f a@b.org -t
qhead "$(qlast)" | grep -q '^sender a@b.org$' && pass "-f value used" || fail "-f value used"
expect_rc "-fuser@host glued" 0 $SM -fglued@b.org -t
qhead "$(qlast)" | grep -q '^sender glued@b.org$' && pass "-f glued value used" || fail "-f glued value used"
expect_rc "-r" 0 $SM -r r@b.org -t
qhead "$(qlast)" | grep -q '^sender r@b.org$' && pass "-r value used" || fail "-r value used"
expect_rc "-f '<a@b>'" 0 $SM -f '<ab@b.org>' -t
qhead "$(qlast)" | grep -q '^sender ab@b.org$' && pass "-f angle brackets stripped" || fail "-f angle brackets stripped"
expect_rc "-f ''" 0 $SM -f '' -t
qhead "$(qlast)" | grep -qx 'sender' && pass "-f '' is the null sender" || fail "-f '' is the null sender"
expect_rc "-f unqualified" 0 $SM -f daemon -t
qhead "$(qlast)" | grep -q '^sender daemon@example.org$' && pass "-f qualified with domain" || fail "-f qualified with domain"
printf 'Subject: f\n\nbody\n' > "$T/nofrom"
IN=$T/nofrom expect_rc "-FCronDaemon glued" 0 $SM -FCronDaemon -f c@x.org u@x.org
qmsg "$(qlast)" | grep -q '^From: CronDaemon <c@x.org>$' && pass "-F glued used" || fail "-F glued used"
IN=$T/nofrom expect_rc "-F with space" 0 $SM -F 'Backup Job' -f c@x.org u@x.org
qmsg "$(qlast)" | grep -q '^From: Backup Job <c@x.org>$' && pass "-F used" || fail "-F used"
expect_rc "-bm explicit" 0 $SM -bm -t
expect_rc "cron's call" 0 $SM -FCronDaemon -i -B8BITMIME -oem root
qhead "$(qlast)" | grep -q '^rcpt pending root@example.org$' && pass "cron's call queued for root" || fail "cron's call queued for root"
for o in -oem -oee -oep -oeq -oew -om -oo -odb -odi -odq -oA/etc/aliases -oQ/x; do
	expect_rc "$o accepted" 0 $SM $o -t
done
expect_rc "-B 8BITMIME -N never -R hdrs -V envid -L tag" 0 $SM -B 8BITMIME -N never -R hdrs -V envid -L tag -t
expect_rc "-B8BITMIME -Nsuccess,failure -Rfull" 0 $SM -B8BITMIME -Nsuccess,failure -Rfull -t
expect_rc "-X file -G -U -h 5" 0 $SM -X "$T/xlog" -G -U -h 5 -t
[ ! -e "$T/xlog" ] && pass "-X ignored: no transcript written" || fail "-X ignored: no transcript written"
expect_rc "-n -m -x ignored" 0 $SM -n -m -t
expect_rc "-O Option=value" 0 $SM -O DeliveryMode=b -t
expect_rc "-pSMTP" 0 $SM -pSMTP -t
expect_rc "-v" 0 $SM -v -t
grep -q 'queued as [0-9A-Z]\{15\}' "$T/err" && pass "-v says the queue ID" || fail "-v says the queue ID" "$(cat "$T/err")"
expect_rc "-- ends options" 0 $SM -- -dash@x.org
qhead "$(qlast)" | grep -q '^rcpt pending -dash@x.org$' && pass "-- recipient starting with -" || fail "-- recipient starting with -"
expect_rc "option after a recipient refused" 64 $SM u@x.org -f late@x.org
grep -q 'after a recipient' "$T/err" && pass "option after a recipient explained" || fail "option after a recipient explained" "$(cat "$T/err")"
expect_rc "-f -- is a value, not the end of options" 64 $SM -f -- root -t
expect_rc "several recipients" 0 $SM -i -f s@x.org -- r1@x.org r2@y.org
[ "$(qhead "$(qlast)" | grep -c '^rcpt ')" -eq 2 ] && pass "several recipients queued" || fail "several recipients queued"
expect_rc "comma list argument" 0 $SM 'a@x.org, B <b@y.org>'
[ "$(qhead "$(qlast)" | grep -c '^rcpt ')" -eq 2 ] && pass "comma list argument split" || fail "comma list argument split"

# -C, POSTERN_CONFIG, default
cp "$T/conf" "$T/conf2"
expect_rc "POSTERN_CONFIG" 0 env POSTERN_CONFIG="$T/conf2" $SENDMAIL -t
echo 'bogus_key 1' > "$T/bad.conf"
expect_rc "-C beats POSTERN_CONFIG" 0 env POSTERN_CONFIG="$T/bad.conf" $SENDMAIL -C "$T/conf" -t
expect_rc "POSTERN_CONFIG used (bad one fails)" 78 env POSTERN_CONFIG="$T/bad.conf" $SENDMAIL -t
expect_rc "-C missing file" 78 $SENDMAIL -C "$T/nonexistent" -t
printf '# comment\n\ntls starttls\nbogus_key 1\n' > "$T/c78"
expect_rc "unknown key: exit 78" 78 $SENDMAIL -C "$T/c78" -t
grep -q "$T/c78:4:" "$T/err" && pass "unknown key error names file and line" || fail "unknown key error names file and line" "$(cat "$T/err")"
printf 'tls_verify maybe\n' > "$T/c78"
expect_rc "bad value: exit 78" 78 $SENDMAIL -C "$T/c78" -t
printf 'smarthost\n' > "$T/c78"
expect_rc "missing value: exit 78" 78 $SENDMAIL -C "$T/c78" -t
echo secret > "$T/pw"; chmod 0644 "$T/pw"
printf 'spool_dir %s/spool\nauth_user u\nauth_password_file %s/pw\n' "$T" "$T" > "$T/c78"
expect_rc "password file readable by others: exit 78" 78 $SENDMAIL -C "$T/c78" -t
grep -q "$T/c78:3:" "$T/err" && pass "password file error names file and line" || fail "password file error names file and line" "$(cat "$T/err")"
grep -q secret "$T/err" && fail "password never printed" || pass "password never printed"
chmod 0600 "$T/pw"
expect_rc "password file 0600 accepted" 0 $SENDMAIL -C "$T/c78" -t

# modes
expect_rc "-bp" 0 $SM -bp
grep -q '^-Queue ID-' "$T/out" && pass "-bp lists" || fail "-bp lists"
expect_rc "mailq name" 0 $MAILQ -C "$T/conf"
grep -q '^-Queue ID-' "$T/out" && pass "mailq lists" || fail "mailq lists"
expect_rc "-bi without alias file" 0 $SM -bi
expect_rc "-I" 0 $SM -I
expect_rc "newaliases name" 0 $NEWALIASES -C "$T/conf"
n=$(qcount)
expect_rc "newaliases stays newaliases" 0 $NEWALIASES -C "$T/conf" -bm root
[ "$(qcount)" -eq "$n" ] && pass "newaliases never queues" || fail "newaliases never queues"
expect_rc "mailq stays mailq" 0 $MAILQ -C "$T/conf" -bm root
grep -q '^-Queue ID-' "$T/out" && [ "$(qcount)" -eq "$n" ] && pass "mailq never queues" || fail "mailq never queues"
expect_rc "-bs with empty input" 0 $SM -bs -odq
expect_rc "-q runs a flush" 0 $SM -q
grep -q 'no smarthost configured' "$T/spool/status" && pass "-q reached the delivery program" || fail "-q reached the delivery program"
expect_rc "-q30m runs a flush" 0 $SM -q30m
n1=$(qcount)
expect_rc "-bd unsupported" 64 $SM -bd
expect_rc "-bt unsupported" 64 $SM -bt

# usage errors: exit 64, one line, nothing queued
expect_rc "unknown option" 64 $SM -y -t
grep -q 'unknown option -y' "$T/err" && pass "unknown option named" || fail "unknown option named" "$(cat "$T/err")"
expect_rc "missing option argument" 64 $SM -t -f
grep -q 'requires an argument' "$T/err" && pass "missing argument named" || fail "missing argument named"
expect_rc "no recipients and no -t" 64 $SM
expect_rc "CR in -f" 64 $SM -f "$(printf 'a@b.org\rX')" -t
expect_rc "LF in -f" 64 $SM -f "$(printf 'a@b.org\nBcc: v@x.org')" -t
expect_rc "LF in -F" 64 $SM -F "$(printf 'Name\nBcc: v@x.org')" -t
expect_rc "CR in -F" 64 $SM -F "$(printf 'Name\rX')" -t
expect_rc "LF in recipient" 64 $SM "$(printf 'a@b.org\nBcc: v@x.org')"
expect_rc "CR in recipient" 64 $SM "$(printf 'a@b.org\r')"
expect_rc "TAB in recipient" 64 $SM "$(printf 'a@b.org\tx')"
expect_rc "two senders" 64 $SM -f 'a@x.org, b@x.org' -t
expect_rc "bad recipient syntax" 64 $SM 'a@'
n2=$(qcount)
[ "$n1" -eq "$n2" ] && pass "nothing queued by refused commands" || fail "nothing queued by refused commands" "$n1 -> $n2"
[ -z "$(ls "$T/spool/tmp")" ] && pass "no temporary files left" || fail "no temporary files left"

# data errors: exit 65
printf 'Subject: none\n\nb\n' > "$T/norcpt"
IN=$T/norcpt expect_rc "-t without recipient headers" 65 $SM -t
printf 'To: undisclosed-recipients:;\n\nb\n' > "$T/undisc"
IN=$T/undisc expect_rc "-t with only an empty group" 65 $SM -t
printf 'To: "unterminated <a@x.org>\n\nb\n' > "$T/badhdr"
IN=$T/badhdr expect_rc "-t with a malformed To:" 65 $SM -t
grep -q 'To:' "$T/err" && pass "malformed header named" || fail "malformed header named" "$(cat "$T/err")"
printf 'To: a@x.org\nX-Big: ' > "$T/hugehdr"; head -c 1100000 /dev/zero | tr '\0' 'h' >> "$T/hugehdr"; printf '\n\nb\n' >> "$T/hugehdr"
IN=$T/hugehdr expect_rc "header section over 1 MB" 65 $SM -t
n3=$(qcount)
[ "$n2" -eq "$n3" ] && pass "nothing queued by refused messages" || fail "nothing queued by refused messages"

# a signal while reading: exit 75, one line, nothing left
mkfifo "$T/fifo"
$SM -odq sig@x.org < "$T/fifo" 2> "$T/sigerr" &
pid=$!
exec 3> "$T/fifo"
printf 'Subject: sig\n\npartial body\n' >&3
n=0; while [ $n -lt 50 ] && [ -z "$(ls "$T/spool/tmp")" ]; do sleep 0.1; n=$((n + 1)); done
kill -TERM $pid
wait $pid; rc=$?
exec 3>&-
[ $rc -eq 75 ] && [ "$(wc -l < "$T/sigerr")" -eq 1 ] && grep -q 'not queued' "$T/sigerr" && pass "SIGTERM: exit 75 with one line" || fail "SIGTERM: exit 75 with one line" "exit $rc: $(cat "$T/sigerr")"
[ -z "$(ls "$T/spool/tmp")" ] && ! grep -qs '^Subject: sig$' $(qfiles) && pass "SIGTERM: nothing left behind" || fail "SIGTERM: nothing left behind"

# spool errors: exit 75, nothing partial
printf 'spool_dir %s/no/such/parent/spool\n' "$T" > "$T/c75"
expect_rc "spool parent missing" 75 $SENDMAIL -C "$T/c75" -t
if [ "$(id -u)" -eq 0 ]; then
	skip "unwritable spool" "root can write anywhere; see tests/integration/privs.sh"
else
	mkdir -p "$T/ro"; chmod 0500 "$T/ro"
	printf 'spool_dir %s/ro/spool\n' "$T" > "$T/c75b"
	expect_rc "unwritable spool" 75 $SENDMAIL -C "$T/c75b" -t
fi
