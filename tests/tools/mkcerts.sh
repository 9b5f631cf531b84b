#!/bin/sh
# mkcerts.sh DIR: test certificates for postern's TLS tests (openssl CLI).
#
# Creates in DIR (EC P-256 keys, PEM, keys mode 0600):
#   ca.pem ca.key                  test CA ("postern test CA")
#   server.pem server.key          CN=localhost, SAN DNS:localhost,
#                                  IP:127.0.0.1, IP:::1, signed by the CA
#   expired.pem expired.key        as server.pem but valid only from
#                                  2020-01-01 to 2020-01-02 (expired)
#   wrong.pem wrong.key            CN=wrong.example, SAN DNS:wrong.example,
#                                  signed by the CA (name mismatch)
#   selfsigned.pem selfsigned.key  as server.pem but self-signed (untrusted)
#
# Quiet on success; on failure prints openssl's messages to stderr and
# exits non-zero. Idempotent: when all ten files exist and server.pem is
# valid for at least one more day it does nothing; otherwise it makes a
# complete new set (in a temporary directory inside DIR, then moved into
# place). Needs only openssl and a POSIX shell.
set -eu
umask 077

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
DIR=$1
FILES="ca.pem ca.key server.pem server.key expired.pem expired.key wrong.pem wrong.key selfsigned.pem selfsigned.key"

(umask 022 && mkdir -p "$DIR")
complete=yes
for f in $FILES; do
	[ -s "$DIR/$f" ] || complete=no
done
if [ $complete = yes ] &&
    openssl x509 -in "$DIR/server.pem" -noout -checkend 86400 >/dev/null 2>&1; then
	exit 0
fi

T=$(mktemp -d "$DIR/.mkcerts.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
LOG=$T/log

# run CMD...: run an openssl command with its output in $LOG; on failure
# show the log and stop.
run() {
	if ! "$@" >>"$LOG" 2>&1; then
		echo "mkcerts.sh: failed: $*" >&2
		cat "$LOG" >&2
		exit 1
	fi
}

serial() {
	# a positive 63-bit serial number in hex
	printf '%s' "$(openssl rand -hex 8 | sed 's/^./1/')"
}

cat >"$T/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_localhost ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1

[ v3_selfsigned ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1

[ v3_wrong ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example

# "openssl ca" is used only for the expired certificate: it is the one
# OpenSSL 3.0 command that takes an explicit start and end date.
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $ENV::MKCERTS_T/index.txt
new_certs_dir = $ENV::MKCERTS_T/newcerts
serial = $ENV::MKCERTS_T/serial
default_md = sha256
policy = test_policy
unique_subject = no
email_in_dn = no
[ test_policy ]
commonName = supplied
EOF
MKCERTS_T=$T
export MKCERTS_T
CNF=$T/openssl.cnf

key() {
	run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$T/$1.key"
}

csr() {	# csr NAME CN
	run openssl req -config "$CNF" -new -key "$T/$1.key" -subj "/CN=$2" \
	    -out "$T/$1.csr"
}

sign() {	# sign NAME EXTENSIONS: a 10-year certificate from the test CA
	run openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
	    -set_serial "0x$(serial)" -days 3650 -sha256 \
	    -extfile "$CNF" -extensions "$2" -out "$T/$1.pem"
}

# the CA
key ca
run openssl req -config "$CNF" -new -x509 -key "$T/ca.key" \
    -subj "/O=postern tests/CN=postern test CA" -days 3650 -sha256 \
    -set_serial "0x$(serial)" -extensions v3_ca -out "$T/ca.pem"

# the good server certificate
key server
csr server localhost
sign server v3_localhost

# the wrong name
key wrong
csr wrong wrong.example
sign wrong v3_wrong

# self-signed, not from the CA
key selfsigned
run openssl req -config "$CNF" -new -x509 -key "$T/selfsigned.key" \
    -subj "/CN=localhost" -days 3650 -sha256 -set_serial "0x$(serial)" \
    -extensions v3_selfsigned -out "$T/selfsigned.pem"

# expired: signed by the CA, valid 2020-01-01 .. 2020-01-02
key expired
csr expired localhost
mkdir "$T/newcerts"
: >"$T/index.txt"
serial >"$T/serial"
echo >>"$T/serial"
run openssl ca -config "$CNF" -batch -notext -md sha256 \
    -cert "$T/ca.pem" -keyfile "$T/ca.key" -in "$T/expired.csr" \
    -startdate 20200101000000Z -enddate 20200102000000Z \
    -extfile "$CNF" -extensions v3_localhost -out "$T/expired.pem"

# sanity checks: the chain verifies for the good one and not for the others
run openssl verify -CAfile "$T/ca.pem" -verify_hostname localhost "$T/server.pem"
run openssl verify -CAfile "$T/ca.pem" -verify_ip 127.0.0.1 "$T/server.pem"
run openssl verify -CAfile "$T/ca.pem" -verify_hostname wrong.example "$T/wrong.pem"
run openssl verify -CAfile "$T/ca.pem" -no_check_time "$T/expired.pem"
if openssl verify -CAfile "$T/ca.pem" "$T/expired.pem" >>"$LOG" 2>&1; then
	echo "mkcerts.sh: expired.pem unexpectedly verifies" >&2
	exit 1
fi
if openssl verify -CAfile "$T/ca.pem" "$T/selfsigned.pem" >>"$LOG" 2>&1; then
	echo "mkcerts.sh: selfsigned.pem unexpectedly verifies" >&2
	exit 1
fi

for f in $FILES; do
	chmod 0644 "$T/$f"
	case $f in *.key) chmod 0600 "$T/$f" ;; esac
done
# ca.pem goes first and comes back last, so that an interrupted run leaves
# an incomplete set behind that the next run replaces
rm -f "$DIR/ca.pem"
for f in $FILES; do
	case $f in ca.*) continue ;; esac
	mv -f "$T/$f" "$DIR/$f"
done
mv -f "$T/ca.key" "$DIR/ca.key"
mv -f "$T/ca.pem" "$DIR/ca.pem"
exit 0
