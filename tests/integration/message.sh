# message.sh: what sendmail stores: recipients from -t, Bcc removal,
# header completion, the lone-dot rule, line ends, 8-bit, NUL and long
# lines, large messages byte for byte.
. "$TOP_SRCDIR/tests/integration/lib.sh"
SM="$SENDMAIL -C $T/conf"

# --- -t recipient extraction -----------------------------------------
printf 'To: "Doe, John" <jd@x.org>, plain@y.org (comment)\nCc: Team: a@t.org, B <b@t.org>;, undisclosed-recipients:;\n  , folded@z.org\nBcc: secret@h.org\nSubject: t\n\nbody\n' > "$T/m1"
IN=$T/m1 expect_rc "-t extracts To/Cc/Bcc" 0 $SM -t
h=$(qhead "$(qlast)")
for a in jd@x.org plain@y.org a@t.org b@t.org folded@z.org secret@h.org; do
	case $h in *"rcpt pending $a"*) pass "-t recipient $a";;
		*) fail "-t recipient $a" "$h";; esac
done
[ "$(echo "$h" | grep -c '^rcpt ')" -eq 6 ] && pass "-t exactly 6 recipients" || fail "-t exactly 6 recipients" "$h"
qmsg "$(qlast)" | grep -qi '^bcc:' && fail "Bcc removed" || pass "Bcc removed"
qmsg "$(qlast)" | grep -q 'secret@h.org' && fail "Bcc address not in message" || pass "Bcc address not in message"
qmsg "$(qlast)" | grep -q '^To: "Doe, John" <jd@x.org>, plain@y.org (comment)$' && pass "To: kept verbatim" || fail "To: kept verbatim"

# command-line recipients are added to -t's
IN=$T/m1 expect_rc "-t plus command-line recipient" 0 $SM -t extra@c.org
qhead "$(qlast)" | grep -q '^rcpt pending extra@c.org$' && pass "-t adds command-line recipient" || fail "-t adds command-line recipient"

# without -t the headers are not recipients, but Bcc still goes
IN=$T/m1 expect_rc "no -t: only command line" 0 $SM only@c.org
[ "$(qhead "$(qlast)" | grep -c '^rcpt ')" -eq 1 ] && pass "no -t: one recipient" || fail "no -t: one recipient"
qmsg "$(qlast)" | grep -qi '^bcc:' && fail "no -t: Bcc removed" || pass "no -t: Bcc removed"

# Resent- set
printf 'To: orig@x.org\nResent-To: new@y.org\nResent-Bcc: rb@y.org\nSubject: r\n\nb\n' > "$T/m2"
IN=$T/m2 expect_rc "-t with Resent- headers" 0 $SM -t
h=$(qhead "$(qlast)")
case $h in *"rcpt pending new@y.org"*"rcpt pending rb@y.org"*) pass "Resent-To/Bcc used";; *) fail "Resent-To/Bcc used" "$h";; esac
case $h in *orig@x.org*) fail "To: ignored when resent" "$h";; *) pass "To: ignored when resent";; esac
qmsg "$(qlast)" | grep -qi '^resent-bcc:' && fail "Resent-Bcc removed" || pass "Resent-Bcc removed"

# unqualified recipients are accepted and qualified with domain
printf 'Subject: cron\n\nout\n' > "$T/m3"
IN=$T/m3 expect_rc "unqualified recipient" 0 $SM root www-data
h=$(qhead "$(qlast)")
case $h in *"rcpt pending root@example.org"*"rcpt pending www-data@example.org"*) pass "unqualified qualified with domain";; *) fail "unqualified qualified with domain" "$h";; esac
# duplicates collapse
IN=$T/m3 expect_rc "duplicate recipients" 0 $SM a@x.org a@X.ORG a@x.org
[ "$(qhead "$(qlast)" | grep -c '^rcpt ')" -eq 1 ] && pass "duplicates collapse" || fail "duplicates collapse"

# --- header completion -------------------------------------------------
IN=$T/m3 expect_rc "headers added" 0 $SM -f sender@s.org -F 'Cron Daemon' u@x.org
m=$(qmsg "$(qlast)")
echo "$m" | grep -Eq '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$' && pass "Date: added" || fail "Date: added" "$m"
echo "$m" | grep -Eq '^Message-ID: <[0-9A-Z]{15}\.[0-9a-f]{8}@example\.org>$' && pass "Message-ID: added" || fail "Message-ID: added" "$m"
echo "$m" | grep -q '^From: Cron Daemon <sender@s.org>$' && pass "From: from -f and -F" || fail "From: from -f and -F" "$m"
IN=$T/m3 expect_rc "From: non-ASCII -F" 0 $SM -f s@s.org -F 'Jürgen Müller' u@x.org
qmsg "$(qlast)" | grep -q '^From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <s@s.org>$' && pass "From: RFC 2047 name" || fail "From: RFC 2047 name" "$(qmsg "$(qlast)" | grep ^From)"
IN=$T/m3 expect_rc "From: special chars -F" 0 $SM -f s@s.org -F 'Doe, "J"' u@x.org
qmsg "$(qlast)" | grep -q '^From: "Doe, \\"J\\"" <s@s.org>$' && pass "From: quoted name" || fail "From: quoted name" "$(qmsg "$(qlast)" | grep ^From)"
printf 'From: Me <me@m.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\nSubject: s\n\nb\n' > "$T/m4"
IN=$T/m4 expect_rc "existing headers kept" 0 $SM -f other@o.org u@x.org
m=$(qmsg "$(qlast)")
[ "$(echo "$m" | grep -c '^From:')" -eq 1 ] && echo "$m" | grep -q '^From: Me <me@m.org>$' && pass "From: not duplicated" || fail "From: not duplicated" "$m"
[ "$(echo "$m" | grep -c '^Date:')" -eq 1 ] && pass "Date: not duplicated" || fail "Date: not duplicated"
[ "$(echo "$m" | grep -c '^Message-ID:')" -eq 1 ] && pass "Message-ID: not duplicated" || fail "Message-ID: not duplicated"
qhead "$(qlast)" | grep -q '^sender other@o.org$' && pass "envelope sender from -f" || fail "envelope sender from -f"
# the null sender
IN=$T/m3 expect_rc "-f <>" 0 $SM -f '<>' u@x.org
qhead "$(qlast)" | grep -qx 'sender' && pass "null sender stored" || fail "null sender stored" "$(qhead "$(qlast)")"
qmsg "$(qlast)" | grep -q '^From: Mail Delivery System <MAILER-DAEMON@example.org>$' && pass "null sender From:" || fail "null sender From:"
# default sender: the invoking user at domain
IN=$T/m3 expect_rc "default sender" 0 $SM u@x.org
qhead "$(qlast)" | grep -q "^sender $(id -un)@example.org$" && pass "default sender is user@domain" || fail "default sender is user@domain" "$(qhead "$(qlast)")"

# --- the lone dot --------------------------------------------------------
printf 'Subject: d\n\nline1\n.\nline2\n' > "$T/d1"
IN=$T/d1 expect_rc "lone dot ends input" 0 $SM u@x.org
[ "$(qmsg "$(qlast)" | tail -n 1)" = "line1" ] && pass "lone dot: rest dropped" || fail "lone dot: rest dropped" "$(qmsg "$(qlast)")"
IN=$T/d1 expect_rc "-i keeps the dot" 0 $SM -i u@x.org
qmsg "$(qlast)" | tail -n 2 | tr '\n' '|' | grep -qx '\.|line2|' && pass "-i: dot and rest kept" || fail "-i: dot and rest kept" "$(qmsg "$(qlast)")"
IN=$T/d1 expect_rc "-oi keeps the dot" 0 $SM -oi u@x.org
qmsg "$(qlast)" | tail -n 1 | grep -qx 'line2' && pass "-oi: rest kept" || fail "-oi: rest kept"
printf 'Subject: d\r\n\r\nline1\r\n.\r\nline2\r\n' > "$T/d2"
IN=$T/d2 expect_rc "CRLF lone dot" 0 $SM u@x.org
[ "$(qmsg "$(qlast)" | tail -n 1)" = "line1" ] && pass "CRLF lone dot ends input" || fail "CRLF lone dot ends input"
printf 'Subject: d\n\n..leading\n.x\n . \n' > "$T/d3"
IN=$T/d3 expect_rc "other leading dots" 0 $SM u@x.org
qmsg "$(qlast)" | tail -n 3 | tr '\n' '|' | grep -qx '\.\.leading|\.x| \. |' && pass "other leading dots kept as is" || fail "other leading dots kept as is" "$(qmsg "$(qlast)")"

# --- line ends -------------------------------------------------------------
printf 'Subject: le\n\na\nb\n' > "$T/lf"
printf 'Subject: le\r\n\r\na\r\nb\r\n' > "$T/crlf"
printf 'Subject: le\r\n\r\na\nb\r\n' > "$T/mixed"
for f in lf crlf mixed; do
	IN=$T/$f expect_rc "$f input accepted" 0 $SM -f s@s.org u@x.org
	qmsg_bytes "$(qlast)" | grep -v '^Date:\|^Message-ID:' > "$T/$f.stored"
done
cmp -s "$T/lf.stored" "$T/crlf.stored" && pass "CRLF stored as LF" || fail "CRLF stored as LF"
cmp -s "$T/lf.stored" "$T/mixed.stored" && pass "mixed stored as LF" || fail "mixed stored as LF"
tr -d '\n' < "$T/crlf.stored" | grep -q "$(printf '\r')" && fail "no CR left from CRLF" || pass "no CR left from CRLF"
printf 'Subject: cr\n\na\rb\n' > "$T/barecr"
IN=$T/barecr expect_rc "bare CR accepted" 0 $SM u@x.org
qmsg_bytes "$(qlast)" | tail -n 1 | od -c | grep -q 'a  \\r   b' && pass "bare CR kept" || fail "bare CR kept" "$(qmsg_bytes "$(qlast)" | tail -n 1 | od -c)"

# --- bytes kept: 8-bit, NUL, long lines, no final newline, big --------------
head -c 300000 /dev/urandom > "$T/rand"
{ printf 'Subject: bin\n\n'; tr -d '\r' < "$T/rand" | sed 's/^\.$/../'; } > "$T/binmsg"
IN=$T/binmsg expect_rc "8-bit, NUL and long lines accepted" 0 $SM -i u@x.org
qmsg_bytes "$(qlast)" | sed '1,/^$/d' > "$T/bin.body"
sed '1,/^$/d' "$T/binmsg" > "$T/bin.want"
cmp -s "$T/bin.body" "$T/bin.want" && pass "8-bit body with NUL bytes byte-exact" || fail "8-bit body with NUL bytes byte-exact"
qhead "$(qlast)" | grep -qx 'body 8bit' && pass "8-bit body marked 8bit" || fail "8-bit body marked 8bit"
IN=$T/m3 expect_rc "7-bit message" 0 $SM u@x.org
qhead "$(qlast)" | grep -qx 'body 7bit' && pass "7-bit body marked 7bit" || fail "7-bit body marked 7bit"
{ printf 'Subject: long\n\n'; head -c 2000000 /dev/zero | tr '\0' 'x'; printf '\nend'; } > "$T/long"
IN=$T/long expect_rc "2 MB line without final newline" 0 $SM u@x.org
qmsg_bytes "$(qlast)" | tail -c 4 | grep -qx 'end' && [ "$(qmsg_bytes "$(qlast)" | wc -c)" -gt 2000000 ] && pass "long line and missing final newline kept" || fail "long line and missing final newline kept"
# 20 MB, stored byte-exact
awk 'BEGIN { srand(7); for (i = 0; i < 280000; i++) { s = ""; for (j = 0; j < 7; j++) s = s sprintf("%08x%s", int(rand()*4294967295), j < 6 ? " " : ""); print "line " i " " s } }' > "$T/big.body"
{ printf 'Subject: big\nTo: big@x.org\n\n'; cat "$T/big.body"; } > "$T/big"
sz=$(wc -c < "$T/big.body")
[ "$sz" -gt 20000000 ] && pass "20 MB test body generated" || fail "20 MB test body generated" "$sz"
IN=$T/big expect_rc "20 MB message accepted" 0 $SM -t
qmsg_bytes "$(qlast)" | sed '1,/^$/d' | cmp -s - "$T/big.body" && pass "20 MB body byte-exact" || fail "20 MB body byte-exact"
size=$(qhead "$(qlast)" | sed -n 's/^size 0*//p')
[ "$size" -eq "$(qmsg_bytes "$(qlast)" | wc -c)" ] && pass "size field matches" || fail "size field matches"

# --- header section shapes -------------------------------------------------------
printf 'From someone Thu Nov 26 00:00:00 2026\nSubject: mbox\n\nb\n' > "$T/mbox"
IN=$T/mbox expect_rc "leading From_ line" 0 $SM u@x.org
qmsg "$(qlast)" | grep -q '^From someone' && fail "From_ line dropped" || pass "From_ line dropped"
printf 'just a body line\nsecond\n' > "$T/nohdr"
IN=$T/nohdr expect_rc "message without headers" 0 $SM u@x.org
m=$(qmsg_bytes "$(qlast)")
echo "$m" | sed '1,/^$/d' | tr '\n' '|' | grep -qx 'just a body line|second|' && pass "no headers: body kept after added headers" || fail "no headers: body kept after added headers" "$m"
printf 'Subject: folded\n  continued\nX-A: 1\n\nb\n' > "$T/fold"
IN=$T/fold expect_rc "folded header" 0 $SM u@x.org
qmsg "$(qlast)" | grep -A1 '^Subject: folded$' | grep -q '^  continued$' && pass "folded header kept" || fail "folded header kept"
# an empty message is still a message
IN=/dev/null expect_rc "empty input" 0 $SM u@x.org
qmsg "$(qlast)" | grep -q '^Date:' && pass "empty input gets headers" || fail "empty input gets headers"

# --- unqualified header addresses get the domain, as in Postfix ---------------
printf 'From: root (Cron Daemon)\nTo: root, Ops <ops>, a@x.org\nCc: "j doe"\nSubject: root\n\nroot\n' > "$T/unq"
IN=$T/unq expect_rc "unqualified header addresses" 0 $SM -t
m=$(qmsg "$(qlast)")
echo "$m" | grep -qx 'From: root@example.org (Cron Daemon)' && pass "From: root (Cron Daemon) qualified" || fail "From: root (Cron Daemon) qualified" "$m"
echo "$m" | grep -qx 'To: root@example.org, Ops <ops@example.org>, a@x.org' && pass "To: list qualified, qualified ones kept" || fail "To: list qualified, qualified ones kept" "$m"
echo "$m" | grep -qx 'Cc: "j doe"@example.org' && pass "quoted local part qualified" || fail "quoted local part qualified" "$m"
echo "$m" | grep -qx 'Subject: root' && pass "other fields untouched" || fail "other fields untouched" "$m"
echo "$m" | sed '1,/^$/d' | grep -qx root && pass "body untouched" || fail "body untouched" "$m"
