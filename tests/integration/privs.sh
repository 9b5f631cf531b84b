# privs.sh: file permissions and an unprivileged caller: spool files are
# private, an unwritable spool gives exit 75 and leaves nothing behind.
# Needs root to create the unprivileged user; skipped otherwise.
. "$TOP_SRCDIR/tests/integration/lib.sh"
SM="$SENDMAIL -C $T/conf"
printf 'To: t@x.org\nSubject: p\n\nbody\n' > "$T/msg"

if [ "$(id -u)" -ne 0 ]; then
	skip "privileges" "needs root to create a test user"
	exit 0
fi
U=postern-test
id "$U" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$U" ||
	{ fail "create test user"; exit 1; }
asuser() { runuser -u "$U" -- "$@"; }
if ! user_can_run "$U"; then
	skip "an unprivileged caller" "$UNREACHABLE"
	exit 0
fi

# --- modes of what root's sendmail creates -----------------------------------
IN=$T/msg expect_rc "enqueue as root" 0 $SM -t
mode() { stat -c %a "$1"; }
[ "$(mode "$T/spool")" = 700 ] && pass "spool dir created 0700" || fail "spool dir created 0700" "$(mode "$T/spool")"
for d in tmp queue state; do
	[ "$(mode "$T/spool/$d")" = 700 ] && pass "$d/ is 0700" || fail "$d/ is 0700" "$(mode "$T/spool/$d")"
done
[ "$(mode "$(qlast)")" = 600 ] && pass "queue file is 0600" || fail "queue file is 0600" "$(mode "$(qlast)")"
(umask 000; IN=$T/msg expect_rc "enqueue with umask 000" 0 $SM -t)
[ "$(mode "$(qlast)")" = 600 ] && pass "queue file 0600 whatever the umask" || fail "queue file 0600 whatever the umask"
chmod 0755 "$T/spool" "$T/spool/queue"	# even if an admin opens the dirs
asuser cat "$(qlast)" >/dev/null 2>&1 && fail "other user cannot read a queued message" || pass "other user cannot read a queued message"

# --- an unprivileged caller with its own spool ---------------------------------
H=$T/home; mkdir -p "$H"; chown "$U" "$H"
printf 'spool_dir %s/spool\ndomain example.org\n' "$H" > "$H/conf"; chown "$U" "$H/conf"
asuser sh -c "$SENDMAIL -C $H/conf -t < $T/msg" && pass "unprivileged user enqueues" || fail "unprivileged user enqueues"
grep -q "^sender $U@example.org$" "$H"/spool/queue/* && pass "unprivileged sender is user@domain" || fail "unprivileged sender is user@domain"
[ "$(stat -c %U "$H/spool/queue/"*)" = "$U" ] && pass "queue file owned by the caller" || fail "queue file owned by the caller"

# --- postern and the spool's owner (postern(8), SECURITY) -------------------------
# root's postern on a user's spool acts as that user, never as root
expect_rc "root's postern hold on the user's spool" 0 $POSTERN -C "$H/conf" hold ALL
[ "$(stat -c '%U %a' "$H/spool/state/"*)" = "$U 600" ] && pass "root's postern writes the user's state files as the user, 0600" ||
	fail "root's postern writes the user's state files as the user, 0600" "$(stat -c '%U %a' "$H/spool/state/"*)"
# a user's postern on a spool not theirs refuses to change it
expect_rc "user's postern flush on root's spool: exit 77" 77 runuser -u "$U" -- $POSTERN -C "$T/conf" flush
grep -q "belongs to root" "$T/err" && pass "the refusal names the owner" || fail "the refusal names the owner" "$(cat "$T/err")"
expect_rc "user's postern delete on root's spool: exit 77" 77 runuser -u "$U" -- $POSTERN -C "$T/conf" delete ALL
[ "$(qcount)" = 2 ] && pass "root's queue unchanged" || fail "root's queue unchanged" "$(qcount)"
# a spool its group may read is shared with the group: files 0640, any umask
chmod 0750 "$H/spool"
asuser sh -c "umask 077; $SENDMAIL -C $H/conf -odq -t < $T/msg" && pass "enqueue into a group-readable spool" || fail "enqueue into a group-readable spool"
[ "$(ls -t "$H/spool/queue" | head -n 1 | sed "s|^|$H/spool/queue/|" | xargs stat -c %a)" = 640 ] &&
	pass "group-readable spool: queue file 0640 despite umask 077" || fail "group-readable spool: queue file 0640 despite umask 077"

# --- spool errors -----------------------------------------------------------------
# a spool directory the caller cannot create
printf 'spool_dir %s/rootonly/spool\n' "$T" > "$H/c1"; mkdir -m 0755 "$T/rootonly"
IN=$T/msg expect_rc "uncreatable spool: exit 75" 75 runuser -u "$U" -- $SENDMAIL -C "$H/c1" -t
# an existing spool the caller cannot write into
mkdir -p "$T/rootonly/spool/tmp" "$T/rootonly/spool/queue" "$T/rootonly/spool/state"
chmod -R 0755 "$T/rootonly/spool"
IN=$T/msg expect_rc "unwritable spool: exit 75" 75 runuser -u "$U" -- $SENDMAIL -C "$H/c1" -t
grep -q 'spool' "$T/err" && pass "unwritable spool error names the spool" || fail "unwritable spool error names the spool" "$(cat "$T/err")"
# tmp/ writable but queue/ not: the commit fails and the temporary file goes
chown -R "$U" "$T/rootonly/spool/tmp"
IN=$T/msg expect_rc "queue/ unwritable: exit 75" 75 runuser -u "$U" -- $SENDMAIL -C "$H/c1" -t
[ -z "$(ls "$T/rootonly/spool/tmp")" ] && pass "failed commit leaves no temporary file" || fail "failed commit leaves no temporary file" "$(ls "$T/rootonly/spool/tmp")"
[ -z "$(ls "$T/rootonly/spool/queue")" ] && pass "failed commit queues nothing" || fail "failed commit queues nothing"

# a read-only file system
if command -v mount >/dev/null && mkdir -p "$T/rofs" && mount -t tmpfs -o size=1m tmpfs "$T/rofs" 2>/dev/null; then
	mkdir -p "$T/rofs/spool"
	mount -o remount,ro "$T/rofs"
	printf 'spool_dir %s/rofs/spool\n' "$T" > "$T/c2"
	IN=$T/msg expect_rc "read-only file system: exit 75" 75 $SENDMAIL -C "$T/c2" -t
	umount "$T/rofs"
	# disk full: a 64 KiB tmpfs and a 1 MB message
	mount -t tmpfs -o size=64k tmpfs "$T/rofs"
	printf 'spool_dir %s/rofs/spool\n' "$T" > "$T/c3"
	{ printf 'To: a@x.org\n\n'; head -c 1000000 /dev/zero | tr '\0' 'y'; } > "$T/bigmsg"
	IN=$T/bigmsg expect_rc "disk full: exit 75" 75 $SENDMAIL -C "$T/c3" -t
	grep -qi 'space' "$T/err" && pass "disk full error says so" || fail "disk full error says so" "$(cat "$T/err")"
	[ -z "$(ls "$T/rofs/spool/tmp")" ] && [ -z "$(ls "$T/rofs/spool/queue")" ] && pass "disk full leaves nothing" || fail "disk full leaves nothing"
	IN=$T/msg expect_rc "queue usable after disk full" 0 $SENDMAIL -C "$T/c3" -t
	umount "$T/rofs"
else
	skip "read-only and full file systems" "cannot mount a tmpfs here"
fi
