# conn.sh: runs tests/unit/test_conn (conn.c: TCP, timeouts, TLS and
# certificate verification) against loopback servers started here:
# a Python echo server and a silent listener, and openssl s_server with
# a good, a wrong-name, an expired and a self-signed certificate, made
# here with the openssl CLI. Exits 77 when a tool is missing.
. "$TOP_SRCDIR/tests/integration/lib.sh"

PROG=$TOP_BUILDDIR/tests/unit/test_conn
PY=/usr/bin/python3
need() { skip "conn" "$1"; exit 77; }
[ -x "$PROG" ] || need "$PROG not built"
command -v openssl > /dev/null 2>&1 || need "no openssl"
[ -x "$PY" ] || need "no $PY"
# Every server dies on its own after this long, should the trap miss it.
LIFE=300
TMO=""
command -v timeout > /dev/null 2>&1 && TMO="timeout $LIFE"

# Certificates: a CA; localhost (DNS:localhost, IP:127.0.0.1, IP:::1) and
# wrong.example.org from it; an expired one from it, which only "openssl
# ca" can backdate in OpenSSL 3.0; a self-signed one for localhost.
C=$T/certs
mkdir -p "$C"
cat > "$C/openssl.cnf" <<EOF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_localhost ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[ v3_wrong ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example.org
[ ca ]
default_ca = old_ca
[ old_ca ]
database = $C/index.txt
new_certs_dir = $C
serial = $C/serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
[ any ]
commonName = supplied
EOF
: > "$C/index.txt"
echo 01 > "$C/serial"

# req ARGS: "openssl req" making a new P-256 key, unencrypted.
req() {
	openssl req -config "$C/openssl.cnf" -newkey ec \
	    -pkeyopt ec_paramgen_curve:prime256v1 -nodes "$@"
}
mkcerts() {
	cnf=$C/openssl.cnf
	req -x509 -keyout "$C/ca.key" -out "$C/ca.pem" \
	    -subj "/CN=postern test CA" -days 2 -extensions v3_ca || return 1
	for n in localhost wrong expired; do
		cn=localhost
		[ $n = wrong ] && cn=wrong.example.org
		req -new -keyout "$C/$n.key" -out "$C/$n.csr" -subj "/CN=$cn" ||
		    return 1
	done
	for n in localhost wrong; do
		openssl x509 -req -in "$C/$n.csr" -CA "$C/ca.pem" \
		    -CAkey "$C/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
		    -days 2 -extfile "$cnf" -extensions "v3_$n" \
		    -out "$C/$n.pem" || return 1
	done
	openssl ca -config "$cnf" -batch -notext -cert "$C/ca.pem" \
	    -keyfile "$C/ca.key" -in "$C/expired.csr" -out "$C/expired.pem" \
	    -startdate 20200101000000Z -enddate 20200102000000Z \
	    -extfile "$cnf" -extensions v3_localhost || return 1
	req -x509 -keyout "$C/self.key" -out "$C/self.pem" \
	    -subj "/CN=localhost" -days 2 -extensions v3_localhost || return 1
}
if ! mkcerts > "$C/log" 2>&1; then
	fail "conn: certificates" "$(tail -n 5 "$C/log")"
	exit 1
fi

# A loopback server in Python: "echo" echoes and closes on QUIT, "silent"
# accepts and holds connections. It writes its port to a file once it
# listens, so there is no race for a port.
cat > "$T/srv.py" <<'EOF'
import os, selectors, socket, sys, time
mode, portfile, life = sys.argv[1], sys.argv[2], float(sys.argv[3])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
sel = selectors.DefaultSelector()
sel.register(ls, selectors.EVENT_READ)
held = []
end = time.monotonic() + life
while time.monotonic() < end:
    for key, _ in sel.select(timeout=1):
        if key.fileobj is ls:
            c, _ = ls.accept()
            if mode == "echo":
                sel.register(c, selectors.EVENT_READ)
            else:
                held.append(c)
            continue
        c = key.fileobj
        try:
            d = c.recv(65536)
        except OSError:
            d = b""
        if not d or b"QUIT" in d:
            sel.unregister(c)
            c.close()
            continue
        try:
            c.sendall(d)
        except OSError:
            pass
EOF

# pyserver MODE NAME: starts srv.py; sets PORT, or fails after 5 s.
pyserver() {
	"$PY" "$T/srv.py" "$1" "$T/$2.port" $LIFE > "$T/$2.log" 2>&1 &
	PIDS="$PIDS $!"
	i=0
	while [ ! -s "$T/$2.port" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PORT=$(cat "$T/$2.port" 2>/dev/null) && [ -n "$PORT" ]
}

# tlsserver NAME CERT [ARGS]: openssl s_server -rev on a free port; sets
# PORT once the port accepts connections (at most 5 s).
tlsserver() {
	name=$1 cert=$2
	shift 2
	PORT=$("$PY" -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || return 1
	$TMO openssl s_server -accept "127.0.0.1:$PORT" -cert "$C/$cert.pem" \
	    -key "$C/$cert.key" -quiet -rev "$@" < /dev/null \
	    > "$T/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	"$PY" - "$PORT" <<'EOF'
import socket, sys, time
for _ in range(50):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

started=yes
pyserver echo plain && CONN_PLAIN_PORT=$PORT || started=no
pyserver silent silent && CONN_SILENT_PORT=$PORT || started=no
tlsserver tls localhost && CONN_TLS_PORT=$PORT || started=no
tlsserver wrong wrong && CONN_WRONG_PORT=$PORT || started=no
tlsserver expired expired && CONN_EXPIRED_PORT=$PORT || started=no
tlsserver self self && CONN_SELF_PORT=$PORT || started=no
tlsserver sni wrong -servername localhost -cert2 "$C/localhost.pem" \
    -key2 "$C/localhost.key" && CONN_SNI_PORT=$PORT || started=no
if [ $started = no ]; then
	fail "conn: servers" \
	    "a test server did not start: $(cat "$T"/*.log | head -c 300)"
	exit 1
fi
export CONN_PLAIN_PORT CONN_SILENT_PORT CONN_TLS_PORT CONN_WRONG_PORT \
    CONN_EXPIRED_PORT CONN_SELF_PORT CONN_SNI_PORT
CONN_CA=$C/ca.pem
export CONN_CA
# An unknown name must fail fast even with an unreachable resolver.
RES_OPTIONS="timeout:1 attempts:1"
export RES_OPTIONS

$TMO "$PROG"
