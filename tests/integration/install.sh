# install.sh: an unprivileged user builds postern from the sources and
# runs "make install" into a prefix it owns; the installed programs, links,
# configuration, man pages and spool work from there. As root the test
# creates that user; otherwise it runs as the caller.
. "$TOP_SRCDIR/tests/integration/lib.sh"

if ! git -C "$TOP_SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
	skip "unprivileged install" "the source is not a git checkout (needs git ls-files)"
	exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
	U=postern-test
	id "$U" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$U" ||
		{ fail "create test user"; exit 1; }
	asuser() { runuser -u "$U" -- "$@"; }
else
	U=$(id -un)
	asuser() { "$@"; }
fi
H=$T/home
mkdir -p "$H/src"
# the committed sources plus the working tree's changes to them
(cd "$TOP_SRCDIR" && git ls-files -z | xargs -0 tar cf -) | (cd "$H/src" && tar xf -)
[ "$(id -u)" -eq 0 ] && chown -R "$U" "$H"
P=$H/prefix
if asuser sh -c "cd '$H/src' && autoreconf -fi && ./configure -q --prefix='$P' && make -s -j2 && make -s install" > "$T/build.log" 2>&1; then
	pass "configure, make, make install as $U"
else
	fail "configure, make, make install as $U" "$(tail -n 5 "$T/build.log")"
	exit 1
fi
for f in sbin/sendmail sbin/postern; do
	[ -x "$P/$f" ] && [ ! -L "$P/$f" ] && pass "installed $f" || fail "installed $f"
done
[ "$(readlink "$P/bin/mailq")" = "$P/sbin/sendmail" ] && pass "mailq links to sendmail" || fail "mailq links to sendmail" "$(readlink "$P/bin/mailq")"
[ "$(readlink "$P/sbin/newaliases")" = "sendmail" ] && pass "newaliases links to sendmail" || fail "newaliases links to sendmail"
[ -f "$P/etc/postern.conf" ] && pass "sample configuration installed" || fail "sample configuration installed"
for m in man8/sendmail.8 man1/mailq.1 man8/newaliases.8 man8/postern.8 man5/postern.conf.5; do
	[ -s "$P/share/man/$m" ] && pass "man page $m installed" || fail "man page $m installed"
done
[ "$(stat -c %a "$P/var/spool/postern")" = 700 ] && pass "spool directory created 0700" || fail "spool directory created 0700"
[ "$(readlink "$P/lib/sendmail")" = "$P/sbin/sendmail" ] && pass "lib/sendmail links to sbin/sendmail" ||
	fail "lib/sendmail links to sbin/sendmail" "$(readlink "$P/lib/sendmail")"
for u in postern.service postern-flush.service postern-flush.timer; do
	[ -s "$P/lib/systemd/system/$u" ] && pass "unit $u installed under the prefix" ||
		fail "unit $u installed under the prefix"
done
grep -qx "ExecStart=$P/sbin/postern daemon" "$P/lib/systemd/system/postern.service" &&
	grep -qx "ReadWritePaths=$P/var/spool/postern" "$P/lib/systemd/system/postern.service" &&
	pass "postern.service names the installed paths" ||
	fail "postern.service names the installed paths" "$(grep -E '^(ExecStart|ReadWritePaths)=' "$P/lib/systemd/system/postern.service")"
[ "$(stat -c %a "$P/sbin/sendmail")" = 755 ] && pass "unprivileged: sendmail is not set-group-ID" ||
	fail "unprivileged: sendmail is not set-group-ID" "$(stat -c %a "$P/sbin/sendmail")"
grep -q "make install: warning: not root" "$T/build.log" && pass "unprivileged: the skipped steps are named" ||
	fail "unprivileged: the skipped steps are named" "$(grep -i warning "$T/build.log")"
[ "$(stat -c %U "$P/var/spool/postern")" = "$U" ] && pass "spool owned by the installing user" || fail "spool owned by the installing user"
ldd "$P/sbin/sendmail" | grep -q 'libssl\|libcrypto' && fail "sendmail does not link OpenSSL" || pass "sendmail does not link OpenSSL"
libs=$(ldd "$P/sbin/postern" | awk '{print $1}' | grep -v 'linux-vdso\|ld-linux' | sed 's/\.so.*//' | sort -u | tr '\n' ' ')
case $libs in "libc libcrypto libssl "|"libc "|"libc libssl libcrypto ") pass "postern links libc and OpenSSL only ($libs)";; *) fail "postern links libc and OpenSSL only" "$libs";; esac

# the installed programs, with the installed default configuration
printf 'To: root\nSubject: installed\n\nhello\n' > "$T/msg"
asuser sh -c "'$P/sbin/sendmail' -t -odq < '$T/msg'" && pass "installed sendmail queues with the default config" || fail "installed sendmail queues with the default config"
asuser "$P/bin/mailq" > "$T/mq" 2>&1
grep -q "^  *root@" "$T/mq" && pass "installed mailq shows the message" || fail "installed mailq shows the message" "$(cat "$T/mq")"
asuser "$P/sbin/postern" list > "$T/pl" 2>&1
cmp -s "$T/mq" "$T/pl" && pass "postern list equals mailq" || fail "postern list equals mailq"
asuser "$P/sbin/newaliases" && pass "installed newaliases exits 0" || fail "installed newaliases exits 0"
# a second install keeps the site's configuration
echo "domain site.example" >> "$P/etc/postern.conf"
asuser sh -c "cd '$H/src' && make -s install" > /dev/null 2>&1
grep -q '^domain site.example$' "$P/etc/postern.conf" && pass "reinstall keeps postern.conf" || fail "reinstall keeps postern.conf"
asuser sh -c "cd '$H/src' && make -s uninstall" > /dev/null 2>&1
[ ! -e "$P/sbin/sendmail" ] && [ ! -L "$P/bin/mailq" ] && [ ! -L "$P/lib/sendmail" ] &&
	[ ! -e "$P/lib/systemd/system/postern.service" ] && pass "make uninstall removes the programs and units" ||
	fail "make uninstall removes the programs and units"
