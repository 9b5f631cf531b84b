# callers.sh: the real callers of /usr/sbin/sendmail, installed from
# Debian's packages, send through postern to the test smarthost, and what
# arrives (envelope, header and body bytes) and the exit status each
# caller saw are checked:
#   1. PHP's mail() (php-cli): sendmail_path "sendmail -t -i", -f in
#      additional_params, a UTF-8 subject, an 8-bit LF body;
#   2. cron (the real daemon, in a private mount namespace in which
#      /usr/sbin/sendmail is postern's; else cron's exact command line);
#   3. mail/mailx (s-nail) with a subject, Cc, Bcc and an attachment;
#   4. sendmail -bs: a Python SMTP client (two messages, pipelining, an
#      aborted transaction; as Symfony Mailer and as Alpine call it) and
#      Symfony Mailer itself (php-symfony-mailer);
#   5. programs that run "sendmail -i -f SENDER -- RCPT..." and check its
#      exit status: a Python subprocess, and Symfony Mailer's "-t" mode.
# Missing packages are installed (as root, never an MTA) or the case is
# skipped, and said so. Helpers are in tests/callers/.
. "$TOP_SRCDIR/tests/integration/lib.sh"
need_smarthost

PY=/usr/bin/python3
H=$TOP_SRCDIR/tests/callers
CHK="$PY $H/mailcheck.py"
TMO="timeout 120"
# the invoking user: the default envelope sender is ME@example.org
ME=$(id -un)
# never installed: they are, or pull in, another MTA (/usr/sbin/sendmail)
NO_PKGS="postfix exim4 exim4-base exim4-daemon-light exim4-daemon-heavy
	dma nullmailer bsd-mailx sendmail sendmail-bin ssmtp msmtp-mta
	opensmtpd courier-mta citadel-mta esmtp-run masqmail"

# --- helpers ---------------------------------------------------------------

# check NAME EXPR: PASS if the shell expression EXPR (eval'ed) succeeds,
# else FAIL with $WHY (then cleared) as the explanation.
WHY=""
check() {
	if eval "$2"; then pass "$1"; else fail "$1" "$WHY"; fi
	WHY=""
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# need_pkgs PKG...: 0 if all are installed, installing the missing ones
# first when root (never one of $NO_PKGS, nor anything that provides
# mail-transport-agent); else 1 with the reason in $NEED_WHY.
need_pkgs() {
	_miss=""
	for _p in "$@"; do installed "$_p" || _miss="$_miss $_p"; done
	[ -z "$_miss" ] && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get > /dev/null 2>&1; then
		NEED_WHY="not installed:$_miss (installing needs root and apt-get)"
		return 1
	fi
	_sim=$(LC_ALL=C apt-get -s install --no-install-recommends $_miss 2>&1) || {
		timeout 300 apt-get update -qq > /dev/null 2>&1
		_sim=$(LC_ALL=C apt-get -s install --no-install-recommends $_miss 2>&1)
	} || { NEED_WHY="apt-get cannot install$_miss: $(echo "$_sim" | tail -n 1)"; return 1; }
	for _p in $(echo "$_sim" | sed -n 's/^Inst \([^ ]*\) .*/\1/p'); do
		for _no in $NO_PKGS; do
			if [ "$_p" = "$_no" ]; then
				NEED_WHY="installing$_miss would install $_p, an MTA"
				return 1
			fi
		done
		if apt-cache show --no-all-versions "$_p" 2>/dev/null |
		    grep -Eq '^Provides:.*mail-transport-agent'; then
			NEED_WHY="installing$_miss would install $_p, which provides mail-transport-agent"
			return 1
		fi
	done
	echo "installing:$_miss"
	if ! DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq \
	    --no-install-recommends $_miss > "$T/apt.log" 2>&1; then
		NEED_WHY="apt-get install$_miss failed: $(tail -n 1 "$T/apt.log")"
		return 1
	fi
	for _p in "$@"; do
		installed "$_p" || { NEED_WHY="$_p still not installed"; return 1; }
	done
}

# setup NAME: a smarthost (plain SMTP) storing into $T/NAME, and CONF, a
# configuration relaying to it with a spool of its own ($T/spool-NAME),
# so that one case's background delivery never takes another's mail.
setup() {
	start_smarthost "$1" -- || return 1
	CONF=$T/$1.conf
	SPOOL=$T/spool-$1
	cat > "$CONF" <<-EOF
	spool_dir $SPOOL
	domain example.org
	helo_name client.example
	smarthost 127.0.0.1:$SH_PORT
	tls none
	connect_timeout 5s
	command_timeout 10s
	data_timeout 20s
	EOF
}
# a configuration postern refuses (exit 78)
BAD=$T/bad.conf
printf 'spool_dir %s/spool-bad\nno_such_key yes\n' "$T" > "$BAD"

# nothing_sent CASE NAME N: after a refused submission, the smarthost NAME
# still has N messages and the bad configuration's spool holds none.
nothing_sent() {
	_ns=$2; _nn=$3
	sleep 1
	WHY="$(received "$_ns") at the smarthost, $(ls "$T/spool-bad/queue" 2>/dev/null | wc -l) queued"
	check "$1: bad configuration: nothing queued or sent" \
	    '[ "$(received "$_ns")" -eq "$_nn" ] && [ "$(ls "$T/spool-bad/queue" 2>/dev/null | wc -l)" -eq 0 ]'
}
# queued NAME: messages in NAME's spool.
queued() { ls "$T/spool-$1/queue" 2>/dev/null | wc -l; }

# delivered CASE NAME N: sendmail's background attempt brings the smarthost
# NAME to N messages within 20 s; if it does not, FAIL, and one
# "postern flush" is tried so that the checks of the bytes can go on.
delivered() {
	_dn=$2; _dc=$3
	if wait_until 20 '[ "$(received "$_dn")" -ge "$_dc" ]'; then
		pass "$1: delivered by sendmail's background attempt"
		return 0
	fi
	fail "$1: delivered by sendmail's background attempt" \
	    "$(received "$2") of $3 at the smarthost after 20 s, $(queued "$2") queued"
	$TMO "$POSTERN" -C "$T/$2.conf" flush > "$T/flush.out" 2>&1
	[ "$(received "$2")" -ge "$3" ]
}
# eml_with NAME ERE: the .eml of smarthost NAME whose content matches ERE
# (the first one); "" if none.
eml_with() {
	for _f in $(ls "$T/$1/"*.eml 2>/dev/null | sort); do
		if LC_ALL=C grep -Eaq -- "$2" "$_f"; then echo "$_f"; return; fi
	done
}
# envelope_is NAME EML SENDER RCPT...: its .env has exactly MAIL
# FROM:<SENDER> and these RCPT TO lines (in any order).
envelope_is() {
	_nm=$1; _env=${2%.eml}.env; _s=$3; shift 3
	_want=$(printf 'RCPT TO:<%s>\n' "$@" | sort)
	_got=$(grep '^RCPT TO:' "$_env" 2>/dev/null | sort)
	_from=$(grep '^MAIL FROM:' "$_env" 2>/dev/null)
	if [ "$_from" = "MAIL FROM:<$_s>" ] && [ "$_got" = "$_want" ]; then
		pass "$_nm"
	else
		fail "$_nm" "got: $(tr '\n' '|' < "$_env" 2>/dev/null); want MAIL FROM:<$_s> and $(echo "$_want" | tr '\n' '|')"
	fi
}
# same NAME INPUT EML [mailcheck.py OPTIONS]: the smarthost got INPUT's
# header fields and body byte for byte (CRLF line ends), see mailcheck.py.
same() {
	_nm=$1; shift
	if [ -z "$2" ] || [ ! -f "$2" ]; then fail "$_nm" "no such message at the smarthost"; return; fi
	if _out=$($CHK same "$@" 2>&1); then pass "$_nm"; else fail "$_nm" "$(echo "$_out" | tr '\n' ' ' | head -c 1500)"; fi
}
# hdr EML NAME: the value of its first NAME header field.
hdr() { $CHK header "$1" "$2" 2>/dev/null; }

# mkwrap FILE PREFIX: a sendmail that logs its arguments (one a line) to
# PREFIX.argv and its input to PREFIX.in, runs the real one with them,
# and logs and returns its exit status (PREFIX.rc). Environment variables
# the postern front-end reads are logged to PREFIX.envvars.
mkwrap() {
	cat > "$1" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$@" > $2.argv
	env | grep -E '^(POSTERN_CONFIG|NAME|USER|LOGNAME|HOME)=' > $2.envvars
	tee $2.in | $SENDMAIL "\$@"
	echo \$? > $2.rc
	exit \$(cat $2.rc)
	EOF
	chmod 0755 "$1"
}

printf 'attachment\0\377\001 bytes\n\200\201\n' > "$T/att.bin"

# === 1. PHP's mail() ======================================================

php_case() {
	command -v php > /dev/null 2>&1 || need_pkgs php-cli || {
		skip "php mail()" "$NEED_WHY"; return; }
	setup php || return
	# what PHP writes to its sendmail, and how it calls it
	mkdir -p "$T/php-cap"
	printf '#!/bin/sh\nprintf "%%s\\n" "$@" > %s/argv\ncat > %s/in\n' \
	    "$T/php-cap" "$T/php-cap" > "$T/php-cap/sendmail"
	chmod 0755 "$T/php-cap/sendmail"
	out=$($TMO php -n -d sendmail_path="$T/php-cap/sendmail -t -i" "$H/php_mail.php" 2>&1)
	WHY="argv: $(tr '\n' ' ' < "$T/php-cap/argv" 2>/dev/null), php: $out"
	check "php mail(): PHP calls sendmail -t -i -fsender@x.org" \
	    '[ "$(tr "\n" " " < "$T/php-cap/argv")" = "-t -i -fsender@x.org " ]'
	WHY="$(od -c "$T/php-cap/in" 2>/dev/null | head -n 20 | tr -s ' \n' ' ')"
	check "php mail(): PHP writes CRLF header lines and LF body lines" \
	    'LC_ALL=C grep -aq "^To: rcpt@x.org.\$" "$T/php-cap/in" &&
	     [ "$(LC_ALL=C grep -ac "$(printf "\r")\$" "$T/php-cap/in")" -ge 8 ] &&
	     LC_ALL=C grep -aqx "\\.leading dot" "$T/php-cap/in"'

	# the real thing
	out=$($TMO php -n -d sendmail_path="$SENDMAIL -C $CONF -t -i" "$H/php_mail.php" 2>&1)
	WHY="php printed: $out"
	check "php mail(): returns true" '[ "$out" = true ]'
	delivered "php mail()" php 1 || return
	e=$(eml_with php '^Subject: ')
	envelope_is "php mail(): envelope from -f, recipients from To/Cc/Bcc" "$e" \
	    sender@x.org rcpt@x.org cc@x.org bcc@x.org
	same "php mail(): headers and 8-bit body byte for byte, Bcc removed" \
	    "$T/php-cap/in" "$e" --drop bcc --added date --added message-id
	WHY="$(hdr "$e" subject)"
	check "php mail(): UTF-8 subject unchanged" \
	    '[ "$(hdr "$e" subject)" = "=?UTF-8?B?R3LDvMOfZSBhdXMgUEhQIOKAkyDimIM=?=" ]'
	WHY="$(sed -n '/^\r$/,$p' "$e" | head -c 200)"
	check "php mail(): lone-dot line kept (-i)" \
	    'LC_ALL=C grep -aqxF ".$(printf "\r")" "$e"'

	# postern's failure reaches PHP: mail() returns false, nothing sent
	n=$(received php)
	out=$($TMO php -n -d sendmail_path="$SENDMAIL -C $BAD -t -i" "$H/php_mail.php" 2>"$T/php.err")
	WHY="php printed: $out; stderr: $(cat "$T/php.err")"
	check "php mail(): bad configuration: returns false" '[ "$out" = false ]'
	nothing_sent "php mail()" php "$n"
}
php_case

# === 2. cron ==============================================================

# the compiled-in default configuration file of this build
DEFCONF=$(LC_ALL=C grep -ao '/[[:alnum:]/._+-]*/postern\.conf' "$SENDMAIL" | head -n 1)

# cron_message CASE NAME EML TAG: checks a message cron sent (cron runs
# its mailer as the job's user: here root, or ME for cron's command line)
cron_message() {
	_c=$1; _e=$3; _tag=$4
	_u=root; [ "$1" = cron ] || _u=$ME
	envelope_is "$_c: envelope $_u@example.org to root@example.org" "$_e" \
	    "$_u@example.org" root@example.org
	WHY="From: $(hdr "$_e" from)"
	check "$_c: From: root (Cron Daemon) qualified as root@example.org (Cron Daemon)" \
	    'hdr "$_e" from | grep -Eq "^root@example\\.org \\(Cron Daemon\\)\$"'
	WHY="To: $(hdr "$_e" to)"
	check "$_c: To: root qualified as root@example.org" \
	    '[ "$(hdr "$_e" to)" = root@example.org ]'
	WHY="Subject: $(hdr "$_e" subject)"
	check "$_c: Subject: Cron <root@...> and the command" \
	    'hdr "$_e" subject | grep -q "^Cron <root@[^>]*> .*$_tag"'
	WHY="$(sed -n '/^\r$/,$p' "$_e" | head -c 300)"
	check "$_c: the job's 8-bit output is the body" \
	    'LC_ALL=C grep -aq "^cron job output $_tag.$" "$_e" &&
	     LC_ALL=C grep -aq "^Grüße, 8-bit: äöü.$" "$_e"'
	# as written, but for the qualified From: and To:
	sed -e 's/^From: root (Cron Daemon)/From: root@example.org (Cron Daemon)/' \
	    -e 's/^To: root$/To: root@example.org/' "$T/cron/call.in" > "$T/cron/call.want"
	same "$_c: header and body byte for byte" "$T/cron/call.want" "$_e" \
	    --added message-id --added date
}

# cron_cmdline REASON: cron's exact command line, when the daemon cannot run
cron_cmdline() {
	skip "cron: the real daemon" "$1; cron's command line is run instead"
	setup cronline || return
	R=$T/cron; mkdir -p "$R"
	mkwrap "$R/sendmail" "$R/call"
	# what Debian's cron 3.0pl1 writes (see the real daemon's case)
	printf '%s\n' 'From: root (Cron Daemon)' 'To: root' \
	    "Subject: Cron <root@host> printf 'cron job output line\\nGrüße, 8-bit: äöü\\n'" \
	    'MIME-Version: 1.0' 'Content-Type: text/plain; charset=UTF-8' \
	    'Content-Transfer-Encoding: 8bit' 'X-Cron-Env: <SHELL=/bin/sh>' \
	    'X-Cron-Env: <HOME=/root>' 'X-Cron-Env: <PATH=/usr/bin:/bin>' \
	    'X-Cron-Env: <LOGNAME=root>' '' 'cron job output line' \
	    'Grüße, 8-bit: äöü' > "$R/msg"
	POSTERN_CONFIG=$CONF $TMO "$R/sendmail" -FCronDaemon -i -B8BITMIME -oem root < "$R/msg" > "$R/out" 2>&1
	WHY="$(cat "$R/out")"
	check "cron (command line): sendmail -FCronDaemon -i -B8BITMIME -oem root exits 0" \
	    '[ "$(cat "$R/call.rc")" = 0 ]'
	delivered "cron (command line)" cronline 1 || return
	cron_message "cron (command line)" cronline "$(eml_with cronline '^Subject: ')" line
}

cron_case() {
	[ "$(id -u)" -eq 0 ] || { cron_cmdline "not root: cannot run cron in a mount namespace"; return; }
	command -v unshare > /dev/null 2>&1 || { cron_cmdline "no unshare(1)"; return; }
	if ! [ -x /usr/sbin/cron ] && ! need_pkgs cron; then
		cron_cmdline "$NEED_WHY"; return
	fi
	[ -x /usr/sbin/cron ] || { cron_cmdline "no /usr/sbin/cron"; return; }
	[ -n "$DEFCONF" ] || { cron_cmdline "cannot find the default configuration path in $SENDMAIL"; return; }
	if ! unshare -m --propagation private sh -c "mount -t tmpfs tmpfs '$T'" 2>/dev/null; then
		cron_cmdline "cannot mount in a private mount namespace here"; return
	fi
	setup cron || return
	R=$T/cron
	mkdir -p "$R/sbin" "$R/cron.d" "$R/crontabs" "$R/run" "$R/etc"
	: > "$R/crontab"
	mkwrap "$R/sendmail" "$R/call"
	TAG=$$
	# the job prints two lines, the second 8-bit, every minute
	printf '%s\n' "SHELL=/bin/sh" \
	    "* * * * * root printf 'cron job output $TAG\\nGrüße, 8-bit: äöü\\n'" \
	    > "$R/cron.d/postern-callers"
	chmod 0644 "$R/cron.d/postern-callers"
	# the configuration at the default path, the only one cron's sendmail
	# can find (cron gives its mailer no crontab variables): mounted over
	# the file if there is one, else laid over its directory (overlayfs;
	# else the directory is replaced, but never /etc)
	confdir=$(dirname "$DEFCONF")
	mkdir -p "$R/etcu" "$R/etcw"
	cp "$CONF" "$R/etc/$(basename "$DEFCONF")"
	cp "$CONF" "$R/etcu/$(basename "$DEFCONF")"
	if [ -f "$DEFCONF" ]; then
		MOUNTCONF="mount --bind $R/etc/$(basename "$DEFCONF") $DEFCONF"
	elif [ -d "$confdir" ]; then
		MOUNTCONF="mount -t overlay overlay -o lowerdir=$confdir,upperdir=$R/etcu,workdir=$R/etcw $confdir"
		[ "$confdir" = /etc ] || MOUNTCONF="$MOUNTCONF || mount --bind $R/etc $confdir"
	else
		cron_cmdline "no directory $confdir for the default configuration $DEFCONF"
		return
	fi
	# In the namespace: /usr/sbin is the real one with our sendmail laid
	# over it (overlayfs; where that cannot be mounted, a directory with
	# copies of cron and our sendmail only); /etc/crontab is empty and
	# /etc/cron.d and the users' crontabs are ours (no host job runs);
	# /run is private (cron's PID file and @reboot marker stay out of the
	# host's). The real /usr/sbin is never mounted under $T.
	mkdir -p "$R/upper" "$R/work"
	cp "$R/sendmail" "$R/upper/sendmail"
	cp /usr/sbin/cron "$R/sendmail" "$R/sbin/"
	cat > "$R/ns.sh" <<-EOF
	set -e
	mount -t overlay overlay -o lowerdir=/usr/sbin,upperdir=$R/upper,workdir=$R/work /usr/sbin ||
	    mount --bind $R/sbin /usr/sbin
	$MOUNTCONF
	[ ! -f /etc/crontab ] || mount --bind $R/crontab /etc/crontab
	mount --bind $R/cron.d /etc/cron.d
	[ ! -d /var/spool/cron/crontabs ] || mount --bind $R/crontabs /var/spool/cron/crontabs
	mount --bind $R/run /run
	exec timeout -k 5 150 /usr/sbin/cron -f
	EOF
	[ -d /etc/cron.d ] || { cron_cmdline "no /etc/cron.d to mount over"; return; }
	# cron_pid is timeout(1)'s, which passes SIGTERM on to cron and ends it
	# anyway after 150 s, should this script be killed before it can
	env -u POSTERN_CONFIG unshare -m --propagation private sh "$R/ns.sh" > "$R/cron.log" 2>&1 &
	cron_pid=$!
	PIDS="$PIDS $cron_pid"
	sleep 2
	if ! kill -0 "$cron_pid" 2>/dev/null; then
		wait "$cron_pid" 2>/dev/null
		cron_cmdline "cron did not start in the namespace: $(tr '\n' ' ' < "$R/cron.log" | head -c 300)"
		return
	fi
	pass "cron: the real daemon runs in a private mount namespace"
	# it runs the job at the next minute, and mails its output
	t0=$(date +%s)
	wait_until 75 '[ -f "$R/call.rc" ]'
	WHY="nothing after $(($(date +%s) - t0)) s; cron: $(tr '\n' ' ' < "$R/cron.log" | head -c 300)"
	check "cron: cron ran the job and called /usr/sbin/sendmail" '[ -f "$R/call.rc" ]'
	if [ -f "$R/call.rc" ]; then
		WHY="$(tr '\n' ' ' < "$R/call.argv")"
		check "cron: cron called sendmail -FCronDaemon -i -B8BITMIME -oem root" \
		    '[ "$(tr "\n" " " < "$R/call.argv")" = "-FCronDaemon -i -B8BITMIME -oem root " ]'
		WHY="status $(cat "$R/call.rc")"
		check "cron: sendmail exited 0" '[ "$(cat "$R/call.rc")" = 0 ]'
		if delivered "cron" cron 1; then
			cron_message cron cron "$(eml_with cron '^Subject: ')" "$TAG"
		fi
	fi
	cron_daemon=$(pgrep -P "$cron_pid" 2>/dev/null)
	kill "$cron_pid" 2>/dev/null
	wait "$cron_pid" 2>/dev/null
	WHY="cron (PID ${cron_daemon:-?}) still runs"
	check "cron: the daemon stopped" \
	    '[ -n "$cron_daemon" ] && wait_until 5 "! kill -0 $cron_daemon 2>/dev/null"'
}
cron_case

# === 3. mail/mailx (s-nail) ===============================================

mailx_case() {
	command -v s-nail > /dev/null 2>&1 || need_pkgs s-nail || {
		skip "mailx (s-nail)" "$NEED_WHY"; return; }
	setup mailx || return
	mkdir -p "$T/home"
	mkwrap "$T/mx-sendmail" "$T/mx"
	printf 'Hello from mailx, 8-bit: Grüße äöü €\n.\n.leading dot\nlast line\n' > "$T/mx.body"
	# as a script calls mail(1); the MTA is ours, its configuration by -C
	MX="env HOME=$T/home MAILRC=/dev/null LC_ALL=C.UTF-8 USER=$ME LOGNAME=$ME
	    $TMO s-nail -n -S sendwait -S nosave -S mime-encoding=8bit"
	$MX -S mta="$T/mx-sendmail" -S mta-arguments="-C $CONF" \
	    -r 'Mailx Sender <mx@x.org>' -s 'mailx: Grüße, subject' \
	    -c cc@x.org -b bcc@x.org -a "$T/att.bin" rcpt@x.org \
	    < "$T/mx.body" > "$T/mx.out" 2>&1
	rc=$?
	WHY="status $rc: $(cat "$T/mx.out")"
	check "mailx: exits 0" '[ $rc -eq 0 ]'
	WHY="$(tr '\n' ' ' < "$T/mx.argv" 2>/dev/null)"
	check "mailx: calls sendmail -i -C CONF -F NAME -f ADDR -- RCPTS" \
	    '[ "$(tr "\n" " " < "$T/mx.argv")" = "-i -C $CONF -F Mailx Sender -f mx@x.org -- rcpt@x.org cc@x.org bcc@x.org " ]'
	delivered "mailx" mailx 1 || return
	e=$(eml_with mailx '^Subject: ')
	envelope_is "mailx: envelope from -r, recipients To, Cc and Bcc" "$e" \
	    mx@x.org rcpt@x.org cc@x.org bcc@x.org
	same "mailx: headers and body byte for byte" "$T/mx.in" "$e" --drop bcc
	WHY="Cc: $(hdr "$e" cc)"
	check "mailx: Cc: header" '[ "$(hdr "$e" cc)" = cc@x.org ]'
	check "mailx: attachment decodes to the file" '$CHK part "$e" att.bin "$T/att.bin"'
	WHY="$($CHK text "$e" | head -c 300)"
	check "mailx: 8-bit text part is the body" \
	    '[ "$($CHK text "$e")" = "$(cat "$T/mx.body")" ]'

	# mta=sendmail itself, no wrapper
	$MX -S mta="$SENDMAIL" -S mta-arguments="-C $CONF" -s 'mailx direct' \
	    rcpt2@x.org < "$T/mx.body" > "$T/mx.out" 2>&1
	rc=$?
	WHY="status $rc: $(cat "$T/mx.out")"
	check "mailx direct: exits 0" '[ $rc -eq 0 ]'
	if delivered "mailx direct" mailx 2; then
		e=$(eml_with mailx '^Subject: mailx direct')
		envelope_is "mailx direct: default sender $ME@example.org, To" "$e" \
		    "$ME@example.org" rcpt2@x.org
	fi

	# postern's failure reaches mailx
	n=$(received mailx)
	$MX -S mta="$SENDMAIL" -S mta-arguments="-C $BAD" -s 'mailx bad' \
	    rcpt@x.org < "$T/mx.body" > "$T/mx.out" 2>&1
	rc=$?
	WHY="status $rc: $(cat "$T/mx.out")"
	check "mailx: bad configuration: non-zero exit status" '[ $rc -ne 0 ]'
	nothing_sent "mailx" mailx "$n"
}
mailx_case

# === 4. sendmail -bs ======================================================

# bs_session CASE NAME ARGS...: the Python client's session with
# "sendmail -C CONF ARGS...", then its checks
bs_session() {
	_bc=$1; _bn=$2; shift 2
	setup "$_bn" || return
	mkdir -p "$T/$_bn-c"
	# after each 250 to the final dot: the message is in the spool (or
	# already delivered from it)
	after="[ \$((\$(ls $SPOOL/queue 2>/dev/null | wc -l) + \$(ls $T/$_bn 2>/dev/null | grep -c '\\.eml\$'))) -ge \$N ]"
	out=$($TMO $PY "$H/bs_client.py" --after-250 "$after" "$T/$_bn-c" \
	    "$SENDMAIL" -C "$CONF" "$@" 2>&1)
	WHY="$out; dialogue: $(tr '\n' ' ' < "$T/$_bn-c/bs.log" | tail -c 800)"
	check "$_bc: SMTP dialogue (EHLO, NOOP, 2 messages, RSET, pipelining, QUIT), exit 0" \
	    '[ "$out" = OK ]'
	delivered "$_bc" "$_bn" 2 || return
	sleep 1
	WHY="$(cat "$T/$_bn"/*.env | tr '\n' '|')"
	check "$_bc: exactly the two messages, not the aborted one" \
	    '[ "$(received "$_bn")" -eq 2 ] && ! grep -q aborted "$T/$_bn"/*.env'
	e=$(eml_with "$_bn" '^From: Bs One')
	envelope_is "$_bc: message 1 envelope" "$e" bs1@x.org r1@x.org r2@x.org
	same "$_bc: message 1 byte for byte (8-bit, dots)" "$T/$_bn-c/bs1.in" "$e" \
	    --added date --added message-id
	e=$(eml_with "$_bn" '^From: bs2@x.org')
	envelope_is "$_bc: message 2 envelope" "$e" bs2@x.org r3@x.org
	same "$_bc: message 2 byte for byte" "$T/$_bn-c/bs2.in" "$e" \
	    --added date --added message-id
}

# symfony CASE NAME COMMAND COUNT: Symfony Mailer's SendmailTransport
# with COMMAND sends COUNT messages; checks them
symfony() {
	_sc=$1; _sn=$2; _scnt=$4
	mkdir -p "$T/$_sn-c"
	out=$($TMO php "$H/symfony.php" "$3" "$T/$_sn-c" sf "$4" 2>&1)
	WHY="$out"
	check "$_sc: sends without an exception" '[ "$out" = "sent $_scnt" ]'
	delivered "$_sc" "$_sn" "$4" || return
	_si=1
	while [ $_si -le "$4" ]; do
		e=$(eml_with "$_sn" "^X-Test: sf $_si[^0-9]")
		envelope_is "$_sc: message $_si envelope" "$e" \
		    sf@x.org to@x.org cc@x.org bcc@x.org
		same "$_sc: message $_si byte for byte" "$T/$_sn-c/sf-$_si.in" "$e" --drop bcc
		check "$_sc: message $_si attachment" \
		    '$CHK part "$e" a$_si.bin "$T/$_sn-c/sf-$_si.att"'
		_si=$((_si + 1))
	done
}

bs_case() {
	printf 'QUIT\r\n' | $TMO "$SENDMAIL" -C "$T/conf" -bs > "$T/bs.out" 2> "$T/bs.err"
	if ! head -n 1 "$T/bs.out" | grep -q '^220[ -]'; then
		skip "sendmail -bs" "sendmail -bs not implemented in this build ($(head -n 1 "$T/bs.err"))"
		return
	fi
	bs_session "sendmail -bs (Symfony's way)" bs -bs
	bs_session "sendmail -bs -odb -oem (Alpine's way)" bsalpine -bs -odb -oem
	if ! need_pkgs php-symfony-mailer php-cli; then
		skip "Symfony Mailer -bs" "$NEED_WHY"
		return
	fi
	setup sfbs || return
	symfony "Symfony Mailer -bs" sfbs "$SENDMAIL -C $CONF -bs" 2
	n=$(received sfbs)
	out=$($TMO php "$H/symfony.php" "$SENDMAIL -C $BAD -bs" "$T/sfbs-c" bad 1 2>&1)
	WHY="$out"
	check "Symfony Mailer -bs: bad configuration: an exception" \
	    'echo "$out" | grep -q "^EXCEPTION "'
	nothing_sent "Symfony Mailer -bs" sfbs "$n"
}
bs_case

# === 5. "sendmail -i -f SENDER -- RCPT..." from a program =================

argv_case() {
	setup argv || return
	printf 'From: App <app@x.org>\nTo: header-only@x.org\nSubject: from a program\n\nbody, 8-bit: Grüße\n.\n..two dots\nlast line\n' > "$T/argv.msg"
	out=$($PY "$H/pipe_caller.py" "$T/argv.msg" "$SENDMAIL" -C "$CONF" \
	    -i -f sender@x.org -- rcpt1@x.org rcpt2@y.org 2>&1)
	WHY="$out"
	check "program: sendmail -i -f sender -- rcpt1 rcpt2: status 0" \
	    '[ "$out" = "status 0" ]'
	delivered "program" argv 1 || return
	e=$(eml_with argv '^Subject: from a program')
	envelope_is "program: envelope is exactly -f and the two recipients" "$e" \
	    sender@x.org rcpt1@x.org rcpt2@y.org
	same "program: message byte for byte" "$T/argv.msg" "$e" \
	    --added date --added message-id

	# a recipient that looks like an option, after --
	out=$($PY "$H/pipe_caller.py" "$T/argv.msg" "$SENDMAIL" -C "$CONF" \
	    -i -f sender@x.org -- -dash@x.org 2>&1)
	WHY="$out"
	check "program: -- then -dash@x.org: status 0" '[ "$out" = "status 0" ]'
	if delivered "program -- -dash@x.org" argv 2; then
		e=$(ls "$T/argv/"*.eml | sort | tail -n 1)
		envelope_is "program: -dash@x.org is a recipient" "$e" sender@x.org -dash@x.org
	fi

	# the failure reaches the program
	n=$(received argv)
	out=$($PY "$H/pipe_caller.py" "$T/argv.msg" "$SENDMAIL" -C "$BAD" \
	    -i -f sender@x.org -- rcpt1@x.org rcpt2@y.org 2>&1)
	WHY="$out"
	check "program: bad configuration: status 78 and one line on stderr" \
	    '[ "$(echo "$out" | head -n 1)" = "status 78" ] &&
	     [ "$(echo "$out" | grep -c "^stderr: ")" -eq 1 ] &&
	     ! echo "$out" | grep -q " | "'
	nothing_sent "program" argv "$n"

	# Symfony Mailer's "-t" mode runs "sendmail ... -i -f'FROM' -- 'RCPT'..."
	# (through mkwrap's logging wrapper, which passes the status on)
	if ! need_pkgs php-symfony-mailer php-cli; then
		skip "Symfony Mailer -t" "$NEED_WHY"
		return
	fi
	setup sft || return
	mkwrap "$T/sft-sendmail" "$T/sft"
	symfony "Symfony Mailer -t -i" sft "$T/sft-sendmail -C $CONF -t -i" 1
	WHY="$(tr '\n' ' ' < "$T/sft.argv" 2>/dev/null)"
	check "Symfony Mailer -t -i: runs sendmail -C CONF -i -fsf@x.org -- RCPTS" \
	    '[ "$(tr "\n" " " < "$T/sft.argv")" = "-C $CONF -i -fsf@x.org -- to@x.org cc@x.org bcc@x.org " ]'
	n=$(received sft)
	out=$($TMO php "$H/symfony.php" "$SENDMAIL -C $BAD -t -i" "$T/sft-c" bad 1 2>&1)
	WHY="$out"
	# "Process failed with exit code 78", or a failed write if sendmail
	# exited before Symfony wrote the message
	check "Symfony Mailer -t -i: bad configuration: an exception" \
	    'echo "$out" | grep -q "^EXCEPTION "'
	nothing_sent "Symfony Mailer -t -i" sft "$n"
}
argv_case

exit 0
