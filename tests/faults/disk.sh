# disk.sh: the spool on a full, missing or read-only file system. sendmail
# exits 75 with one clear line and leaves nothing partial; earlier
# messages stay intact; the queue works again once space returns; a
# delivery whose state file cannot be written leaves the message queued,
# neither lost nor sent twice. (tests/integration/privs.sh already covers
# an unwritable spool for an unprivileged caller and one 64 KiB case.)
# Needs root to mount a tmpfs; skipped otherwise.
. "$TOP_SRCDIR/tests/faults/lib.sh"
need_smarthost
if [ "$(id -u)" -ne 0 ]; then
	skip "disk faults" "needs root to mount a tmpfs"
	summary disk 0 0 0 0 "skipped: not root"
	exit 0
fi
D=$T/d
mkdir -p "$D"
mount -t tmpfs -o size=256k,mode=0755 tmpfs "$D" 2>/dev/null || {
	skip "disk faults" "cannot mount a tmpfs here"
	summary disk 0 0 0 0 "skipped: no tmpfs"
	exit 0
}
umount "$D"
cleanup_disk() { umount "$D" 2>/dev/null; cleanup; }
trap cleanup_disk EXIT INT TERM
C=$T/d.conf
printf 'spool_dir %s/spool\ndomain example.org\n' "$D" > "$C"
start_smarthost s1 -- || exit 1
plainconf "$T/relay.conf" "$SH_PORT"
sed -i "s|^spool_dir .*|spool_dir $D/spool|" "$T/relay.conf"
lost=0 dups=0 faults=0 it=0

# msg FILE KB TAG: a message of KB kilobytes whose Message-ID is <TAG@disk.test>
msg() {
	{ printf 'To: a@x.org\nSubject: %s\nMessage-ID: <%s@disk.test>\n\n' "$3" "$3"
	  head -c $(($2 * 1024)) /dev/urandom | base64 -w 76; } > "$1"
}
dq() { ls "$D/spool/$1" 2>/dev/null | wc -l; }
# fill: a filler file takes every free block
fill() { dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null; sync; }
copies() { ids s1 | grep -cx "<$1@disk.test>"; }

# --- enqueue: several file system sizes and message sizes ---------------------
for size in 256k 1m 4m; do
	mount -t tmpfs -o size=$size,mode=0755 tmpfs "$D" || { fail "mount $size"; continue; }
	msg "$T/early" 2 "early-$size"
	IN=$T/early expect_rc "$size: an early message is queued" 0 $SENDMAIL -C "$C" -t -odq
	early=$(ls "$D/spool/queue"); esum=$(md5sum < "$D/spool/queue/$early")
	for kb in 200 900 3000 6000; do
		it=$((it + 1))
		msg "$T/big" $kb "big-$size-$kb"
		$SENDMAIL -C "$C" -t -odq < "$T/big" > "$T/out" 2> "$T/err"
		rc=$?
		if [ $rc -eq 0 ]; then
			# it fitted: it must be there, complete
			q=$(ls "$D/spool/queue" | grep -v "^$early$" | tail -n 1)
			check "$size, $kb KB: fitted, queued complete" \
			    '[ -n "$q" ] && qmsg_bytes "$D/spool/queue/$q" | grep -q "^Message-ID: <big-$size-$kb@disk.test>"'
			rm -f "$D/spool/queue/$q"
			continue
		fi
		faults=$((faults + 1))
		check "$size, $kb KB: exit 75 with one line naming the lack of space" \
		    '[ $rc -eq 75 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -qi "space" "$T/err"' \
		    "exit $rc: $(head -c 200 "$T/err")"
		check "$size, $kb KB: nothing partial in tmp/ or queue/" \
		    '[ "$(dq tmp)" -eq 0 ] && [ "$(dq queue)" -eq 1 ]' "tmp $(dq tmp), queue $(dq queue)"
	done
	check "$size: the early message is intact" \
	    '[ "$(md5sum < "$D/spool/queue/$early")" = "$esum" ]'
	# the disk full to the last block: even a small message fails cleanly
	fill
	msg "$T/small" 1 "small-$size"
	IN=$T/small expect_rc "$size, full to the last block: exit 75" 75 $SENDMAIL -C "$C" -t -odq
	faults=$((faults + 1))
	check "$size, full: nothing partial" '[ "$(dq tmp)" -eq 0 ] && [ "$(dq queue)" -eq 1 ]'
	# space returns: delete the filler
	rm -f "$D/filler"
	IN=$T/small expect_rc "$size, space back: enqueue works" 0 $SENDMAIL -C "$C" -t -odq
	# more space: remount bigger, and the biggest message fits
	mount -o remount,size=16m "$D"
	msg "$T/big" 6000 "bigger-$size"
	IN=$T/big expect_rc "$size, remounted bigger: a 6 MB message is queued" 0 $SENDMAIL -C "$C" -t -odq
	timeout 120 $POSTERN -C "$T/relay.conf" flush > "$T/flush.out" 2>&1
	check "$size: the flush delivers all three, once each" \
	    '[ "$(dq queue)" -eq 0 ] && [ "$(copies early-$size)" -eq 1 ] && [ "$(copies small-$size)" -eq 1 ] && [ "$(copies bigger-$size)" -eq 1 ]' \
	    "queue $(dq queue); $(head -c 200 "$T/flush.out")"
	umount "$D"
done

# --- delivery with a full disk ----------------------------------------------------
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$D"
stop_smarthost s1
start_smarthost s1 -- --fail-first 1 || exit 1
sed -i "s|^smarthost .*|smarthost 127.0.0.1:$SH_PORT|" "$T/relay.conf"
msg "$T/m" 4 "deferred"
$SENDMAIL -C "$C" -t -odq < "$T/m"
qid=$(ls "$D/spool/queue"); qsum=$(md5sum < "$D/spool/queue/$qid")
fill
it=$((it + 1)); faults=$((faults + 1))
timeout 60 $POSTERN -C "$T/relay.conf" flush > "$T/flush.out" 2>&1
frc=$?
echo "# flush with a full disk and a 451: exit $frc: $(head -c 300 "$T/flush.out")"
check "451 with a full disk: the message stays queued, unchanged" \
    '[ "$(md5sum < "$D/spool/queue/$qid" 2>/dev/null)" = "$qsum" ]'
check "451 with a full disk: no half-written state file left" \
    '[ "$(dq tmp)" -eq 0 ] && { [ ! -e "$D/spool/state/$qid" ] || tail -n 1 "$D/spool/state/$qid" | grep -qx end; }'
check "451 with a full disk: nothing stored by the smarthost" '[ "$(copies deferred)" -eq 0 ]'
# now it is accepted, the disk still full: the removal needs no space
timeout 60 $POSTERN -C "$T/relay.conf" flush > "$T/flush.out" 2>&1
check "250 with a full disk: delivered once, removed" \
    '[ "$(copies deferred)" -eq 1 ] && [ "$(dq queue)" -eq 0 ]' "copies $(copies deferred), queue $(dq queue)"
rm -f "$D/filler"
timeout 60 $POSTERN -C "$T/relay.conf" flush > "$T/flush.out" 2>&1
check "space back: not sent again" '[ "$(copies deferred)" -eq 1 ]'
[ "$(copies deferred)" -gt 1 ] && dups=$((dups + $(copies deferred) - 1))
[ "$(copies deferred)" -eq 0 ] && lost=$((lost + 1))

# two recipients, a full disk: one accepted and one deferred could not be
# recorded, so the message is not sent at all until there is room; then
# the accepted one is never sent again
stop_smarthost s1
start_smarthost s1 -- --reply-rcpt 'b@x.org=451 4.2.0 try b later' || exit 1
sed -i "s|^smarthost .*|smarthost 127.0.0.1:$SH_PORT|" "$T/relay.conf"
rm -f "$D/spool/state/"* "$D/spool/status"
{ printf 'To: a@x.org, b@x.org\nSubject: partial\nMessage-ID: <partial@disk.test>\n\n'
  head -c 4096 /dev/urandom | base64 -w 76; } > "$T/m"
$SENDMAIL -C "$C" -t -odq < "$T/m"
qid=$(ls "$D/spool/queue")
fill
it=$((it + 1)); faults=$((faults + 1))
timeout 60 $POSTERN -C "$T/relay.conf" flush -v > "$T/flush.out" 2>&1
check "two recipients, full disk: nothing sent" '[ "$(copies partial)" -eq 0 ] && [ -e "$D/spool/queue/$qid" ]' \
    "copies $(copies partial); $(head -c 300 "$T/flush.out")"
check "two recipients, full disk: the reason is logged" 'grep -q "is full: messages for several recipients wait" "$T/flush.out"'
rm -f "$D/filler"
timeout 60 $POSTERN -C "$T/relay.conf" flush > "$T/flush.out" 2>&1
check "room again: a accepted, b deferred and recorded" \
    '[ "$(copies partial)" -eq 1 ] && grep -q "^rcpt sent a@x.org" "$D/spool/state/$qid" && grep -q "^rcpt pending b@x.org" "$D/spool/state/$qid"' \
    "copies $(copies partial); $(cat "$D/spool/state/$qid" 2>&1 | head -c 300)"
fill
timeout 60 $POSTERN -C "$T/relay.conf" flush > "$T/flush.out" 2>&1
rm -f "$D/filler"
check "full again: a is not sent again, b still waits" \
    '[ "$(copies partial)" -eq 1 ] && [ -e "$D/spool/queue/$qid" ]' "copies $(copies partial)"
[ "$(copies partial)" -gt 1 ] && dups=$((dups + $(copies partial) - 1))
$POSTERN -C "$T/relay.conf" delete "$qid" > /dev/null 2>&1

# a queued message, a read-only spool: never sent more than once
rm -f "$D/spool/state/"* "$D/spool/status"
msg "$T/m" 4 "readonly"
$SENDMAIL -C "$C" -t -odq < "$T/m"
mount -o remount,ro "$D"
it=$((it + 1)); faults=$((faults + 1))
for n in 1 2 3; do
	timeout 60 $POSTERN -C "$T/relay.conf" flush > "$T/flush.out" 2>&1
done
frc=$?
echo "# flush on a read-only spool: exit $frc: $(head -c 300 "$T/flush.out")"
check "read-only spool: three flushes send the message at most once" \
    '[ "$(copies readonly)" -le 1 ]' "$(copies readonly) copies"
check "read-only spool: the message is still queued" '[ "$(dq queue)" -eq 1 ]'
$MAILQ -C "$C" > "$T/mq" 2>&1
check "read-only spool: mailq lists it" 'grep -q "a@x.org" "$T/mq"' "$(head -c 200 "$T/mq")"
mount -o remount,rw "$D"
timeout 60 $POSTERN -C "$T/relay.conf" flush > "$T/flush.out" 2>&1
check "read-write again: delivered, queue empty" '[ "$(copies readonly)" -ge 1 ] && [ "$(dq queue)" -eq 0 ]'
[ "$(copies readonly)" -gt 1 ] && dups=$((dups + $(copies readonly) - 1))
[ "$(copies readonly)" -eq 0 ] && lost=$((lost + 1))
umount "$D"

# --- a missing spool that cannot be created --------------------------------------
printf 'spool_dir %s/no/such/dir/spool\n' "$T" > "$T/c.missing"
msg "$T/small" 1 missing
IN=$T/small expect_rc "missing, uncreatable spool: exit 75" 75 $SENDMAIL -C "$T/c.missing" -t
check "missing spool: the error names the directory" 'grep -q "no/such/dir" "$T/err"' "$(cat "$T/err")"
faults=$((faults + 1))
summary disk "$it" "$faults" "$lost" "$dups" "tmpfs 256k/1m/4m x 200KB-6MB, full, read-only, missing"
