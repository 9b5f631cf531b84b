#!/bin/sh
# privinstall.sh: the privileged steps of "make install", run by it as root
# when DESTDIR is empty (a package's maintainer scripts can run it too).
#
#	sh privinstall.sh SENDMAIL SPOOL USER GROUP
#
# Creates the submission group GROUP and the delivery user USER (primary
# group GROUP) when missing, makes SENDMAIL root:GROUP mode 2755, and
# creates or repairs the spool layout of postern(8), "SECURITY":
#	SPOOL		USER:GROUP 0750
#	SPOOL/tmp	USER:GROUP 3730	(the group creates, cannot list)
#	SPOOL/queue	USER:GROUP 3770	(the group adds by rename, lists)
#	SPOOL/state	USER:GROUP 2750	(delivery writes, the group reads)
#	every file	group GROUP, 0640; root's files become USER's
# It never fails: a step it cannot do is a warning, and without the user
# and group the spool stays private to root (0700), as an unprivileged
# install leaves it.
set -u
if [ $# -ne 4 ]; then
	echo "usage: privinstall.sh SENDMAIL SPOOL USER GROUP" >&2
	exit 64
fi
sendmail=$1 spool=$2 user=$3 group=$4

warn() { echo "make install: warning: $*" >&2; }
private() {
	warn "$*; the spool $spool stays private to root"
	[ -d "$spool" ] || mkdir -m 0700 "$spool" || warn "cannot create $spool"
	exit 0
}

if ! getent group "$group" >/dev/null 2>&1; then
	command -v groupadd >/dev/null 2>&1 ||
		private "no groupadd to create the group $group"
	groupadd --system "$group" || private "cannot create the group $group"
fi
if ! getent passwd "$user" >/dev/null 2>&1; then
	command -v useradd >/dev/null 2>&1 ||
		private "no useradd to create the user $user"
	shell=/usr/sbin/nologin
	[ -x "$shell" ] || shell=/sbin/nologin
	[ -x "$shell" ] || shell=/bin/false
	useradd --system -g "$group" -d "$spool" -M -s "$shell" \
	    -c "postern mail delivery" "$user" ||
		private "cannot create the user $user"
elif ! id -Gn "$user" | tr ' ' '\n' | grep -qx -- "$group"; then
	# delivery reads the submitters' 0640 files through the group
	usermod -a -G "$group" "$user" ||
		private "cannot add the user $user to the group $group"
fi

# chgrp first: it clears the set-group-ID bit
if ! { chgrp "$group" "$sendmail" && chmod 2755 "$sendmail"; }; then
	warn "cannot make $sendmail set-group-ID $group: only root can queue mail"
fi

[ -d "$spool" ] || mkdir -m 0750 "$spool" || private "cannot create $spool"
ok=yes
chown "$user:$group" "$spool" && chmod 0750 "$spool" || ok=no
for d in tmp:3730 queue:3770 state:2750; do
	name=${d%%:*} mode=${d#*:}
	[ -d "$spool/$name" ] || mkdir "$spool/$name" || ok=no
	chown "$user:$group" "$spool/$name" && chmod "$mode" "$spool/$name" ||
		ok=no
done
# a spool from an earlier, unprivileged install: root's files become the
# delivery user's, and every file is readable by the group (for mailq and
# for delivery, which reads the submitters' files through it)
find "$spool" -xdev -mindepth 1 -type f -user 0 \
    -exec chown "$user:$group" {} + || ok=no
find "$spool" -xdev -mindepth 1 -type f \
    -exec chgrp "$group" {} + -exec chmod 0640 {} + || ok=no
if [ $ok = yes ]; then
	echo "make install: the spool $spool belongs to $user, group $group"
else
	warn "the spool $spool could not be fully set up"
fi
