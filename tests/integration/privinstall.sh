# privinstall.sh: the privileged install (postern(8), "SECURITY"). As root
# it configures and builds a copy of postern with its own prefix, delivery
# user and submission group, runs "make install", and checks with a second,
# unprivileged user what that user can and cannot do: submit mail and list
# the queue through the set-group-ID front-end, but not read, list or
# remove queued files, read the password, use -C or POSTERN_CONFIG with
# the group's rights, or run postern on the spool; and that delivery, by
# root's postern, the daemon or root's sendmail, runs as the delivery user.
# Skipped when not root, and in the sanitizer pass (it builds its own
# normal copy, so a second run would test nothing new).
. "$TOP_SRCDIR/tests/integration/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	skip "privileged install" "needs root: it creates users and installs set-group-ID"
	exit 0
fi
if [ -n "${SANITIZER_BUILDDIR:-}" ] && [ "$TOP_BUILDDIR" = "$SANITIZER_BUILDDIR" ]; then
	skip "privileged install" "builds its own copy: run once, in the normal pass"
	exit 0
fi
for c in useradd groupadd runuser getent; do
	command -v $c >/dev/null 2>&1 || { skip "privileged install" "no $c"; exit 0; }
done
need_smarthost

DU=postern-pi		# the delivery user of this install
DG=postern-pidrop	# its submission group
U=postern-test		# an ordinary user, as in privs.sh and install.sh
id "$U" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$U" ||
	{ fail "create test user"; exit 1; }
asuser() { runuser -u "$U" -- "$@"; }
P=$T/prefix
S=$P/var/spool/postern
H=$T/home
mkdir -p "$H" && chown "$U" "$H"

# --- build and install -------------------------------------------------------
# Out of tree from the sources when they are not configured in place
# (configure refuses that), else from a copy of the files git knows.
SRC=$TOP_SRCDIR
if [ -f "$TOP_SRCDIR/config.status" ] || [ ! -x "$TOP_SRCDIR/configure" ]; then
	SRC=$T/src
	mkdir -p "$SRC"
	if ! (cd "$TOP_SRCDIR" && git ls-files -z | xargs -0 tar cf -) | (cd "$SRC" && tar xf -) ||
	    ! (cd "$SRC" && autoreconf -fi) > "$T/build.log" 2>&1; then
		skip "privileged install" "cannot copy and autoreconf the sources"
		exit 0
	fi
fi
mkdir -p "$T/build"
t0=$(date +%s)
if (cd "$T/build" && "$SRC/configure" -q --prefix="$P" --with-user=$DU \
    --with-drop-group=$DG --with-systemdsystemunitdir="$P/lib/systemd/system" \
    CFLAGS=-O0 && make -s -j2 all && make -s install) > "$T/build.log" 2>&1; then
	pass "configure, make, make install as root ($(($(date +%s) - t0)) s)"
else
	fail "configure, make, make install as root" "$(tail -n 5 "$T/build.log")"
	exit 1
fi

# --- what the install made ----------------------------------------------------
owner() { stat -c '%U:%G %a' "$1"; }
getent group $DG >/dev/null && pass "group $DG created" || fail "group $DG created"
[ "$(id -gn $DU 2>/dev/null)" = $DG ] && pass "user $DU created, primary group $DG" ||
	fail "user $DU created, primary group $DG" "$(id $DU 2>&1)"
case $(getent passwd $DU | cut -d: -f7) in
*/nologin|/bin/false) pass "user $DU cannot log in" ;;
*) fail "user $DU cannot log in" "$(getent passwd $DU)" ;;
esac
[ "$(owner "$P/sbin/sendmail")" = "root:$DG 2755" ] && pass "sendmail is root:$DG 2755" ||
	fail "sendmail is root:$DG 2755" "$(owner "$P/sbin/sendmail")"
[ "$(owner "$P/sbin/postern")" = "root:root 755" ] && pass "postern is an ordinary program" ||
	fail "postern is an ordinary program" "$(owner "$P/sbin/postern")"
[ "$(readlink "$P/lib/sendmail")" = "$P/sbin/sendmail" ] && pass "lib/sendmail links to sbin/sendmail" ||
	fail "lib/sendmail links to sbin/sendmail" "$(readlink "$P/lib/sendmail")"
for d in ".:750" "tmp:3730" "queue:3770" "state:2750"; do
	n=${d%%:*} m=${d#*:}
	[ "$(owner "$S/$n")" = "$DU:$DG $m" ] && pass "spool $n is $DU:$DG $m" ||
		fail "spool $n is $DU:$DG $m" "$(owner "$S/$n")"
done
UD=$P/lib/systemd/system
for f in postern.service postern-flush.service postern-flush.timer; do
	[ -s "$UD/$f" ] && pass "unit $f installed" || fail "unit $f installed"
done
grep -qx "User=$DU" "$UD/postern.service" && grep -qx "ExecStart=$P/sbin/postern daemon" "$UD/postern.service" &&
	grep -qx "ReadWritePaths=$S" "$UD/postern.service" && pass "postern.service runs the daemon as $DU" ||
	fail "postern.service runs the daemon as $DU" "$(grep -E '^(User|ExecStart|ReadWritePaths)=' "$UD/postern.service")"
grep -qx "User=$DU" "$UD/postern-flush.service" && grep -qx "ExecStart=$P/sbin/postern flush" "$UD/postern-flush.service" &&
	pass "postern-flush.service flushes as $DU" || fail "postern-flush.service flushes as $DU"
if command -v systemd-analyze >/dev/null 2>&1; then
	if systemd-analyze verify --man=no "$UD/postern.service" "$UD/postern-flush.service" \
	    "$UD/postern-flush.timer" > "$T/verify" 2>&1; then
		pass "systemd-analyze verify accepts the units"
	else
		fail "systemd-analyze verify accepts the units" "$(head -c 300 "$T/verify")"
	fi
else
	skip "systemd-analyze verify" "systemd-analyze is not installed"
fi

# --- the site's configuration: a smarthost with AUTH, a password --------------
start_smarthost sh -- --tls none --auth relay:s3cret-pw || exit 1
GOOD=$SH_PORT
DEAD=$(free_port)
install -o $DU -g $DG -m 0600 /dev/null "$P/etc/postern.password"
echo s3cret-pw > "$P/etc/postern.password"
printf 'root: admin@example.org\n' > "$T/galias"
chgrp $DG "$T/galias" && chmod 0640 "$T/galias"
siteconf() {
	cat > "$P/etc/postern.conf" <<CONF
smarthost 127.0.0.1:$1
tls none
auth_user relay
auth_password_file $P/etc/postern.password
domain example.org
helo_name client.example
alias_file $T/galias
connect_timeout 5s
command_timeout 10s
data_timeout 20s
CONF
}
siteconf "$DEAD"

# --- an unprivileged user submits ----------------------------------------------
printf 'To: t@x.org\nSubject: from a user\n\nbody-marker-7Q\n' > "$T/msg"
IN=$T/msg expect_rc "user submits through the set-group-ID sendmail" 0 \
	runuser -u "$U" -- sh -c "umask 077; exec '$P/sbin/sendmail' -v -t"
grep -q 'delivery user' "$T/err" && pass "-v: says delivery is left to the delivery user" ||
	fail "-v: says delivery is left to the delivery user" "$(cat "$T/err")"
q=$(ls "$S/queue")
[ "$(echo "$q" | grep -c .)" = 1 ] && pass "the message is in queue/" || fail "the message is in queue/" "$q"
Q=$S/queue/$q
[ "$(owner "$Q")" = "$U:$DG 640" ] && pass "queue file is $U:$DG 640 despite umask 077" ||
	fail "queue file is $U:$DG 640 despite umask 077" "$(owner "$Q")"
[ -z "$(ls "$S/tmp")" ] && pass "nothing left in tmp/" || fail "nothing left in tmp/"
sleep 1
[ -z "$(ls "$S/state")" ] && pass "no delivery attempt as the user" ||
	fail "no delivery attempt as the user" "$(ls -l "$S/state")"
asuser ls "$S/queue" > /dev/null 2>&1 && fail "user cannot list queue/" || pass "user cannot list queue/"
asuser cat "$Q" > /dev/null 2>&1 && fail "user cannot read a queued file" || pass "user cannot read a queued file"
asuser rm -f "$Q" 2>/dev/null
[ -f "$Q" ] && pass "user cannot remove a queued file" || fail "user cannot remove a queued file"
asuser cat "$P/etc/postern.password" > /dev/null 2>&1 && fail "user cannot read the password file" ||
	pass "user cannot read the password file"
asuser touch "$S/tmp/x" 2>/dev/null && fail "user cannot write into the spool" || pass "user cannot write into the spool"

# mailq, through the group: the envelope, never the body
expect_rc "user's mailq exits 0" 0 runuser -u "$U" -- "$P/bin/mailq"
grep -q "^$q" "$T/out" && grep -q "t@x.org" "$T/out" && pass "user's mailq lists the message" ||
	fail "user's mailq lists the message" "$(cat "$T/out")"
grep -q body-marker "$T/out" && fail "mailq shows no body" || pass "mailq shows no body"
asuser "$P/sbin/newaliases" > "$T/out" 2>&1 && pass "user's newaliases reads the site's alias file" ||
	fail "user's newaliases reads the site's alias file" "$(cat "$T/out")"

# -C and POSTERN_CONFIG: the caller's own rights only
printf 'spool_dir %s\ndomain example.org\n' "$S" > "$H/c-priv"
printf 'spool_dir %s/spool\ndomain example.org\n' "$H" > "$H/c-own"
printf 'spool_dir %s/spool\nalias_file %s/galias\n' "$H" "$T" > "$H/c-alias"
chown "$U" "$H"/c-*
IN=$T/msg expect_rc "-C naming the privileged spool: exit 75" 75 \
	runuser -u "$U" -- "$P/sbin/sendmail" -C "$H/c-priv" -t
IN=$T/msg expect_rc "POSTERN_CONFIG naming the privileged spool: exit 75" 75 \
	runuser -u "$U" -- env POSTERN_CONFIG="$H/c-priv" "$P/sbin/sendmail" -t
IN=$T/msg expect_rc "mailq -C naming the privileged spool: exit 75" 75 \
	runuser -u "$U" -- "$P/sbin/sendmail" -C "$H/c-priv" -bp
IN=$T/msg expect_rc "-C with the user's own spool works" 0 \
	runuser -u "$U" -- "$P/sbin/sendmail" -C "$H/c-own" -odq -t
[ "$(stat -c %G "$H"/spool/queue/* 2>/dev/null)" = "$(id -gn "$U")" ] &&
	pass "-C: the file has the user's group, not $DG" ||
	fail "-C: the file has the user's group, not $DG" "$(ls -l "$H"/spool/queue/)"
expect_rc "-C: an alias file only $DG may read is refused" 78 \
	runuser -u "$U" -- "$P/sbin/sendmail" -C "$H/c-alias" -bi
grep -qi 'permission denied' "$T/err" && pass "-C: the alias file error says why" ||
	fail "-C: the alias file error says why" "$(cat "$T/err")"
expect_rc "POSTERN_CONFIG: an alias file only $DG may read is refused" 78 \
	runuser -u "$U" -- env POSTERN_CONFIG="$H/c-alias" "$P/sbin/newaliases"
# options that the front-end accepts and ignores write nothing
IN=$T/msg expect_rc "-X FILE is ignored" 0 runuser -u "$U" -- "$P/sbin/sendmail" -X "$H/xlog" -oA"$H/al" -odq -t
[ ! -e "$H/xlog" ] && [ ! -e "$H/al" ] && pass "-X and -oA create no file" || fail "-X and -oA create no file"
[ "$(ls "$S/queue" | wc -l)" = 2 ] && pass "the second message is queued" || fail "the second message is queued"

# postern as the user: a clear refusal
expect_rc "user's postern flush: exit 77" 77 runuser -u "$U" -- "$P/sbin/postern" flush
grep -q "root" "$T/err" && pass "postern flush says who may" || fail "postern flush says who may" "$(cat "$T/err")"
expect_rc "user's postern delete: exit 77" 77 runuser -u "$U" -- "$P/sbin/postern" delete ALL
expect_rc "user's postern list: exit 77" 77 runuser -u "$U" -- "$P/sbin/postern" list
expect_rc "user's sendmail -q: exit 77" 77 runuser -u "$U" -- "$P/sbin/sendmail" -q
[ "$(ls "$S/queue" | wc -l)" = 2 ] && pass "nothing was removed" || fail "nothing was removed"

# --- delivery, by root: as the delivery user -------------------------------------
expect_rc "root's flush with the smarthost down exits 0" 0 "$P/sbin/postern" flush
expect_rc "root's postern hold writes state files" 0 "$P/sbin/postern" hold ALL
n=$(ls "$S/state" | wc -l)
[ "$n" = 2 ] && pass "state files written" || fail "state files written" "$n"
bad=$(find "$S/state" "$S/status" -type f ! \( -user $DU -group $DG -perm 0640 \) 2>&1)
[ -z "$bad" ] && [ -f "$S/status" ] && pass "state and status files are $DU:$DG 640" ||
	fail "state and status files are $DU:$DG 640" "$bad"
expect_rc "user's mailq after an attempt exits 0" 0 runuser -u "$U" -- "$P/bin/mailq"
grep -q "^$q!" "$T/out" && grep -q 'connect' "$T/out" && ! grep -q damaged "$T/out" &&
	pass "user's mailq reads the state and status files" ||
	fail "user's mailq reads the state and status files" "$(cat "$T/out")"
expect_rc "root's postern release" 0 "$P/sbin/postern" release ALL
siteconf "$GOOD"
expect_rc "root's postern flush delivers" 0 "$P/sbin/postern" flush
[ "$(received sh)" = 2 ] && pass "the smarthost got both messages" || fail "the smarthost got both messages" "$(received sh)"
grep -l body-marker-7Q "$T"/sh/*.eml > /dev/null 2>&1 && pass "the user's message arrived" || fail "the user's message arrived"
[ -z "$(ls -A "$S/queue"; ls -A "$S/state")" ] && pass "the queue is empty" || fail "the queue is empty" "$(ls -A "$S/queue" "$S/state")"
bad=$(find "$S" -user root)
[ -z "$bad" ] && pass "no file in the spool is root's" || fail "no file in the spool is root's" "$bad"

# the daemon, started by root, runs as the delivery user and sees the
# user's mail at once (no flush after submission)
"$P/sbin/postern" daemon > "$T/daemon.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
i=0
while [ $i -lt 50 ] && [ "$(ps -o user= -p $DPID 2>/dev/null | tr -d ' ')" != $DU ]; do
	sleep 0.1; i=$((i + 1))
done
[ "$(ps -o user= -p $DPID | tr -d ' ')" = $DU ] && pass "root's postern daemon runs as $DU" ||
	fail "root's postern daemon runs as $DU" "$(ps -o user=,group= -p $DPID) $(cat "$T/daemon.log")"
IN=$T/msg expect_rc "user submits while the daemon runs" 0 runuser -u "$U" -- "$P/sbin/sendmail" -t
i=0
while [ $i -lt 150 ] && [ "$(received sh)" -lt 3 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(received sh)" = 3 ] && pass "the daemon delivers the user's message" || fail "the daemon delivers the user's message"
printf 'EHLO c.example\r\nMAIL FROM:<%s@example.org>\r\nRCPT TO:<t@x.org>\r\nDATA\r\nSubject: bs\r\n\r\nhi\r\n.\r\nQUIT\r\n' "$U" > "$T/bs"
IN=$T/bs expect_rc "user's sendmail -bs session" 0 runuser -u "$U" -- "$P/sbin/sendmail" -bs
grep -q '^250 2.0.0 Ok: queued' "$T/out" && pass "-bs: the message is accepted" || fail "-bs: the message is accepted" "$(cat "$T/out")"
i=0
while [ $i -lt 150 ] && [ "$(received sh)" -lt 4 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(received sh)" = 4 ] && pass "the daemon delivers the -bs message" || fail "the daemon delivers the -bs message"
kill $DPID; wait $DPID 2>/dev/null

# root's sendmail still makes an immediate attempt, as the delivery user
IN=$T/msg expect_rc "root submits" 0 "$P/sbin/sendmail" -t
i=0
while [ $i -lt 150 ] && [ "$(received sh)" -lt 5 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(received sh)" = 5 ] && pass "root's sendmail starts delivery" || fail "root's sendmail starts delivery"
i=0
while [ $i -lt 50 ] && [ -n "$(ls "$S/queue")" ]; do sleep 0.1; i=$((i + 1)); done
bad=$(find "$S" -user root)
[ -z "$bad" ] && pass "still no file in the spool is root's" || fail "still no file in the spool is root's" "$bad"

# --- a second install repairs the layout; DESTDIR skips the privileged part --
chmod 0700 "$S" "$S/queue"
chgrp root "$P/sbin/sendmail"
if (cd "$T/build" && make -s install) > "$T/build.log" 2>&1; then
	pass "make install again"
else
	fail "make install again" "$(tail -n 3 "$T/build.log")"
fi
[ "$(owner "$S")" = "$DU:$DG 750" ] && [ "$(owner "$S/queue")" = "$DU:$DG 3770" ] &&
	[ "$(owner "$P/sbin/sendmail")" = "root:$DG 2755" ] && pass "reinstall repairs modes and owners" ||
	fail "reinstall repairs modes and owners" "$(owner "$S") $(owner "$S/queue") $(owner "$P/sbin/sendmail")"
if (cd "$T/build" && make -s install DESTDIR="$T/staged") > "$T/build.log" 2>&1; then
	pass "make install DESTDIR=... as root"
else
	fail "make install DESTDIR=... as root" "$(tail -n 3 "$T/build.log")"
fi
grep -q 'warning: DESTDIR is set' "$T/build.log" && pass "DESTDIR: the skipped steps are named" ||
	fail "DESTDIR: the skipped steps are named" "$(cat "$T/build.log")"
[ "$(owner "$T/staged$P/sbin/sendmail")" = "root:root 755" ] &&
	[ "$(stat -c %a "$T/staged$S")" = 700 ] && pass "DESTDIR: no set-group-ID, private spool" ||
	fail "DESTDIR: no set-group-ID, private spool" "$(owner "$T/staged$P/sbin/sendmail") $(owner "$T/staged$S")"
