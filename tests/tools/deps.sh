# tests/tools/deps.sh: sourced by demo.sh and test.sh. Installs, on Debian,
# the packages named in $PKGS that are not installed yet, with sudo when
# not root, and runs "apt-get update" once first.
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
	echo "installing:$missing"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	    --no-install-recommends $missing > /dev/null
fi
