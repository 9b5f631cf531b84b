#!/bin/sh
# smarthost-selftest.sh: checks tests/tools/smarthost.py and mkcerts.sh.
#
# Makes certificates in a temporary directory, starts the test smarthost in
# a number of configurations on free loopback ports, talks to it with
# openssl s_client and Python's smtplib, and prints one PASS: or FAIL:
# line per check (SKIP: where the machine lacks something, e.g. ::1).
# Every server it starts is stopped by its PID at the end; every wait is
# bounded. Exit status: 0 if nothing failed.
set -u
cd "$(dirname "$0")" || exit 1
TOOLS=$(pwd)
PY=/usr/bin/python3
T=$(mktemp -d /tmp/smarthost-selftest.XXXXXX)
C=$T/certs
PIDS=""
NPASS=0
NFAIL=0

# stop PID: SIGTERM, up to 5 s, then SIGKILL; sets RC to its exit status
stop() {
	RC=255
	kill -TERM "$1" 2>/dev/null || { wait "$1" 2>/dev/null; RC=$?; return; }
	n=0
	while [ $n -lt 50 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	RC=$?
}

cleanup() {
	for p in $PIDS; do
		stop "$p"
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

pass() {
	echo "PASS: $1"
	NPASS=$((NPASS + 1))
}

fail() {
	echo "FAIL: $1${2:+ -- $2}"
	NFAIL=$((NFAIL + 1))
}

freeport() {
	$PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# start NAME [--host H] ARGS...: start a smarthost with --outdir $T/NAME;
# sets PORT, OUT, PID. Three attempts (a free port can be taken meanwhile).
start() {
	name=$1
	shift
	OUT=$T/$name
	tries=0
	while [ $tries -lt 3 ]; do
		PORT=$(freeport)
		: >"$OUT.log"
		$PY "$TOOLS/smarthost.py" --port "$PORT" --outdir "$OUT" \
		    --pidfile "$OUT.pid" "$@" >"$OUT.log" 2>&1 &
		PID=$!
		PIDS="$PIDS $PID"
		n=0
		while [ $n -lt 100 ]; do
			if grep -qs '^listening on ' "$OUT.log"; then
				return 0
			fi
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1
			n=$((n + 1))
		done
		stop "$PID"
		tries=$((tries + 1))
	done
	fail "start $name" "$(tail -c 300 "$OUT.log")"
	return 1
}

# check NAME CMD...: one check, bounded to 30 s. "check NAME client
# SCENARIO ARGS..." runs the Python check SCENARIO against $PORT and $OUT.
check() {
	name=$1
	shift
	if [ "$1" = client ]; then
		scen=$2
		shift 2
		set -- "$PY" "$T/client.py" "$scen" "$PORT" "$OUT" "$C" "$@"
	fi
	if out=$(timeout 30 "$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ' | cut -c 1-300)"
	fi
}

# sclient NAME GREP ARGS...: openssl s_client, its output must match GREP
sclient() {
	name=$1
	pat=$2
	shift 2
	out=$(timeout 10 openssl s_client "$@" </dev/null 2>&1)
	if printf '%s\n' "$out" | grep -qi -- "$pat"; then
		pass "$name"
	else
		fail "$name" "no '$pat' in: $(printf '%s' "$out" | grep -i verif | head -n 3 | tr '\n' ' ')"
	fi
}

cat >"$T/client.py" <<'PYEOF'
import base64, glob, hashlib, hmac, os, re, smtplib, socket, ssl, sys, time

HOST = "127.0.0.1"
USER, PW = "alice", "s3cret"
MSG = (b"From: a@x.example\r\nTo: b@y.example\r\nSubject: selftest\r\n\r\n"
       b"line 1\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast\r\n")


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def lines(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def wait_lines(path, n, t=3.0):
    """The lines of path once it has at least n of them (or after t s)."""
    deadline = time.monotonic() + t
    while True:
        ls = lines(path)
        if len(ls) >= n or time.monotonic() > deadline:
            return ls
        time.sleep(0.05)


def emls(out):
    return sorted(glob.glob(os.path.join(out, "[0-9]*.eml")))


def ctx(certs, ca="ca.pem"):
    return ssl.create_default_context(cafile=os.path.join(certs, ca))


def connect(port, certs, mode="plain", timeout=5, host=HOST):
    if mode == "smtps":
        s = smtplib.SMTP_SSL(host, port, timeout=timeout,
                             local_hostname="selftest.example",
                             context=ctx(certs))
    else:
        s = smtplib.SMTP(host, port, timeout=timeout,
                         local_hostname="selftest.example")
    s.ehlo()
    if mode == "starttls":
        code, _ = s.starttls(context=ctx(certs))
        expect(code == 220, "STARTTLS answered %d" % code)
        s.ehlo()
    return s


def login(s, mech, pw=PW, initial=True):
    s.user, s.password = USER, pw
    fn = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login,
          "CRAM-MD5": s.auth_cram_md5}[mech]
    return s.auth(mech, fn, initial_response_ok=initial)


class Session:
    """Counts what a check adds to the output directory."""

    def __init__(self, out):
        self.out = out
        self.n_eml = len(emls(out))
        self.n_conn = len(lines(os.path.join(out, "connections.log")))
        self.n_auth = len(lines(os.path.join(out, "auth.log")))

    def new_emls(self):
        return emls(self.out)[self.n_eml:]

    def conn_lines(self, n=1):
        ls = wait_lines(os.path.join(self.out, "connections.log"),
                        self.n_conn + n)
        expect(len(ls) >= self.n_conn + n,
               "connections.log: %d new lines, want %d"
               % (len(ls) - self.n_conn, n))
        return ls[self.n_conn:]

    def auth_lines(self):
        return lines(os.path.join(self.out, "auth.log"))[self.n_auth:]


def stored(path):
    with open(path, "rb") as f:
        eml = f.read()
    with open(path[:-4] + ".raw", "rb") as f:
        raw = f.read()
    env = lines(path[:-4] + ".env")
    return eml, raw, env


def send_ok(s, sess, rcpts=("b@y.example",)):
    r = s.sendmail("a@x.example", list(rcpts), MSG)
    expect(r == {}, "refused: %r" % r)
    new = sess.new_emls()
    expect(len(new) == 1, "%d new .eml files" % len(new))
    eml, raw, env = stored(new[0])
    expect(eml == MSG, ".eml differs from what was sent: %r" % eml[:200])
    stuffed = re.sub(rb"(?m)^\.", b"..", MSG) + b".\r\n"
    expect(raw == stuffed, ".raw is not the dot-stuffed wire data: %r" % raw)
    expect(env[0] == "MAIL FROM:<a@x.example>", "env: %r" % env)
    for r in rcpts:
        expect("RCPT TO:<%s>" % r in env, "env lacks RCPT %s: %r" % (r, env))
    return env


# ---------------------------------------------------------------- checks
def t_plain(port, out, certs):
    sess = Session(out)
    s = connect(port, certs)
    env = send_ok(s, sess, ("b@y.example", "c@y.example"))
    s.quit()
    for want in ("AUTH -", "TLS no", "EHLO selftest.example"):
        expect(want in env, "env lacks %r: %r" % (want, env))
    cl = sess.conn_lines()
    expect(re.fullmatch(r"\d{6} connect msg \d{6} quit", cl[0]),
           "connections.log: %r" % cl[0])


def t_ipv6(port, out, certs):
    sess = Session(out)
    s = connect(port, certs, host="::1")
    send_ok(s, sess)
    s.quit()


def t_pre_tls(port, out, certs):
    """--auth-require-tls: STARTTLS offered, AUTH only after it."""
    s = connect(port, certs)
    expect(s.has_extn("starttls"), "no STARTTLS: %r" % s.esmtp_features)
    expect(not s.has_extn("auth"), "AUTH offered before TLS")
    code, _ = s.docmd("AUTH", "PLAIN " + base64.b64encode(
        b"\0alice\0s3cret").decode())
    expect(code == 538, "AUTH before TLS answered %d" % code)
    s.starttls(context=ctx(certs))
    s.ehlo()
    expect(s.esmtp_features.get("auth", "").split() ==
           ["PLAIN", "LOGIN", "CRAM-MD5"], "AUTH line: %r" % s.esmtp_features)
    expect(not s.has_extn("starttls"), "STARTTLS offered again after TLS")
    code, _ = s.docmd("STARTTLS")
    expect(code == 503, "second STARTTLS answered %d" % code)
    s.quit()


def t_auth(port, out, certs, mech, initial="1", mode="starttls"):
    sess = Session(out)
    s = connect(port, certs, mode)
    code, msg = s.docmd("MAIL FROM:<a@x.example>")
    expect(code == 530, "MAIL before AUTH answered %d %r" % (code, msg))
    code, msg = login(s, mech, initial=(initial == "1"))
    expect(code == 235, "AUTH %s answered %d" % (mech, code))
    env = send_ok(s, sess)
    s.quit()
    expect("AUTH alice" in env and "TLS yes" in env, "env: %r" % env)
    al = sess.auth_lines()
    expect(len(al) == 1 and re.fullmatch(r"\d{6} %s alice ok tls=yes" % mech,
                                         al[0]), "auth.log: %r" % al)
    cl = sess.conn_lines()
    expect(re.fullmatch(r"\d{6} connect tls auth alice msg \d{6} quit", cl[0]),
           "connections.log: %r" % cl[0])


def t_badpw(port, out, certs, mech, mode="starttls"):
    sess = Session(out)
    s = connect(port, certs, mode)
    try:
        login(s, mech, pw="wrong-password")
        raise AssertionError("AUTH %s with a wrong password succeeded" % mech)
    except smtplib.SMTPAuthenticationError as e:
        expect(e.smtp_code == 535 and b"5.7.8" in e.smtp_error,
               "answer %d %r" % (e.smtp_code, e.smtp_error))
    code, _ = s.docmd("MAIL FROM:<a@x.example>")
    expect(code == 530, "MAIL after failed AUTH answered %d" % code)
    s.quit()
    al = sess.auth_lines()
    expect(len(al) == 1 and re.fullmatch(r"\d{6} %s alice fail tls=yes" % mech,
                                         al[0]), "auth.log: %r" % al)
    expect(sess.conn_lines()[0].endswith(" authfail alice quit"),
           "connections.log: %r" % sess.conn_lines())


def t_cram_challenge(port, out, certs):
    s = connect(port, certs, "starttls")
    chall = []
    for _ in range(2):
        code, b64 = s.docmd("AUTH", "CRAM-MD5")
        expect(code == 334, "AUTH CRAM-MD5 answered %d" % code)
        c = base64.b64decode(b64)
        expect(re.fullmatch(rb"<\d+\.\d+@localhost>", c), "challenge %r" % c)
        chall.append(c)
        code, _ = s.docmd("*")
        expect(code == 501, "'*' answered %d" % code)
    expect(chall[0] != chall[1], "the same challenge twice")
    code, b64 = s.docmd("auth", "cram-md5")      # lower case is fine too
    c = base64.b64decode(b64)
    d = hmac.new(PW.encode(), c, hashlib.md5).hexdigest()
    code, _ = s.docmd(base64.b64encode(b"alice " + d.encode()).decode())
    expect(code == 235, "correct CRAM-MD5 answer got %d" % code)
    s.quit()


def t_no_secrets(port, out, certs):
    for f in glob.glob(os.path.join(out, "*")):
        if f.endswith((".log", ".env")):
            with open(f, "rb") as fh:
                data = fh.read()
            for pw in (b"s3cret", b"wrong-password"):
                expect(pw not in data, "%s contains a password" % f)


def t_smtps(port, out, certs):
    s = connect(port, certs, "smtps")
    expect(s.esmtp_features.get("auth", "").split() == ["CRAM-MD5", "LOGIN"],
           "AUTH line: %r" % s.esmtp_features)
    expect(not s.has_extn("starttls"), "STARTTLS offered on SMTPS")
    code, _ = s.docmd("AUTH", "PLAIN " + base64.b64encode(
        b"\0alice\0s3cret").decode())
    expect(code == 504, "AUTH PLAIN (not offered) answered %d" % code)
    s.quit()


def t_tlsfail(port, out, certs):
    sess = Session(out)
    try:
        connect(port, certs, "starttls")
        raise AssertionError("the handshake succeeded")
    except ssl.SSLCertVerificationError:
        pass
    cl = sess.conn_lines()
    expect(re.fullmatch(r"\d{6} connect (tlsfail|eof)", cl[0]),
           "connections.log: %r" % cl)


def t_client_rejects(port, out, certs):
    """A client verifying against another CA fails; the server counts it."""
    sess = Session(out)
    try:
        smtplib.SMTP_SSL(HOST, port, timeout=5,
                         context=ctx(certs, "selfsigned.pem"))
        raise AssertionError("the handshake succeeded")
    except ssl.SSLCertVerificationError:
        pass
    cl = sess.conn_lines()
    expect(re.fullmatch(r"\d{6} connect tlsfail", cl[0]),
           "connections.log: %r" % cl)


def t_no_adv(port, out, certs):
    s = connect(port, certs)
    expect(not s.has_extn("starttls"), "STARTTLS offered")
    code, _ = s.docmd("STARTTLS")
    expect(code == 454, "STARTTLS answered %d" % code)
    s.quit()


def t_require_tls(port, out, certs):
    s = connect(port, certs)
    code, _ = s.docmd("MAIL FROM:<a@x.example>")
    expect(code == 530, "MAIL before STARTTLS answered %d" % code)
    s.starttls(context=ctx(certs))
    s.ehlo()
    code, _ = s.docmd("MAIL FROM:<a@x.example>")
    expect(code == 250, "MAIL after STARTTLS answered %d" % code)
    s.quit()


def t_reply_mail(port, out, certs):
    sess = Session(out)
    s = connect(port, certs)
    try:
        s.sendmail("a@x.example", ["b@y.example"], MSG)
        raise AssertionError("accepted")
    except smtplib.SMTPSenderRefused as e:
        expect(e.smtp_code == 451 and e.smtp_error == b"4.3.0 try later",
               "answer %d %r" % (e.smtp_code, e.smtp_error))
    s.quit()
    expect(not sess.new_emls(), "stored")


def t_reply_rcpt_data(port, out, certs):
    sess = Session(out)
    s = connect(port, certs)
    s.mail("a@x.example")
    code, msg = s.rcpt("bad@y.example")
    expect((code, msg) == (550, b"5.1.1 no such user"), "RCPT bad: %d %r"
           % (code, msg))
    code, _ = s.rcpt("b@y.example")
    expect(code == 250, "RCPT good: %d" % code)
    code, msg = s.data(MSG)
    expect(code == 554 and msg == b"5.7.1 rejected\nsecond line",
           "DATA: %d %r" % (code, msg))
    s.quit()
    expect(not sess.new_emls(), "stored")


def t_fail_first(port, out, certs):
    sess = Session(out)
    s = connect(port, certs)
    try:
        s.sendmail("a@x.example", ["b@y.example"], MSG)
        raise AssertionError("first message accepted")
    except smtplib.SMTPDataError as e:
        expect(e.smtp_code == 451, "first answer %d" % e.smtp_code)
    s.quit()
    s = connect(port, certs)
    send_ok(s, sess)
    s.quit()


def t_max_size(port, out, certs):
    sess = Session(out)
    s = connect(port, certs)
    expect(s.esmtp_features.get("size") == "300", "SIZE: %r" % s.esmtp_features)
    big = MSG + b"x" * 70 + b"\r\n"
    big = big * 8
    try:
        s.sendmail("a@x.example", ["b@y.example"], big)   # sends SIZE=
        raise AssertionError("accepted a message above SIZE")
    except smtplib.SMTPSenderRefused as e:
        expect(e.smtp_code == 552, "MAIL SIZE= answered %d" % e.smtp_code)
    s.rset()
    s.mail("a@x.example")
    s.rcpt("b@y.example")
    code, _ = s.data(big)
    expect(code == 552, "DATA above SIZE answered %d" % code)
    send_ok(s, sess)
    s.quit()


def t_greeting_554(port, out, certs):
    try:
        smtplib.SMTP(HOST, port, timeout=5)
        raise AssertionError("connected")
    except smtplib.SMTPConnectError as e:
        expect(e.smtp_code == 554, "code %d" % e.smtp_code)
    with socket.create_connection((HOST, port), timeout=5) as c:
        f = c.makefile("rb")
        expect(f.readline() == b"554 go away\r\n", "greeting")
        c.sendall(b"EHLO x\r\n")
        expect(f.readline().startswith(b"503 "), "EHLO not 503")
        c.sendall(b"QUIT\r\n")
        expect(f.readline().startswith(b"221 "), "QUIT not 221")
        expect(f.readline() == b"", "not closed after QUIT")


def t_greeting_421(port, out, certs):
    with socket.create_connection((HOST, port), timeout=5) as c:
        f = c.makefile("rb")
        expect(f.readline() == b"421 4.3.2 busy\r\n", "greeting")
        expect(f.readline() == b"", "not closed after 421")


def t_greeting_220(port, out, certs):
    s = smtplib.SMTP(timeout=5)
    code, msg = s.connect(HOST, port)
    expect((code, msg) == (220, b"custom.example hi\nthere"),
           "greeting %d %r" % (code, msg))
    s.ehlo()
    expect(s.has_extn("pipelining") and s.has_extn("dsn"),
           "--ehlo-extra: %r" % s.esmtp_features)
    s.quit()


def t_drop(port, out, certs, stage):
    """--drop-at STAGE --fault-count 1: the first try fails, then fine."""
    sess = Session(out)
    s = connect(port, certs)
    t0 = time.monotonic()
    try:
        s.sendmail("a@x.example", ["b@y.example"], MSG)
        raise AssertionError("accepted")
    except smtplib.SMTPServerDisconnected:
        pass
    expect(time.monotonic() - t0 < 3, "slow drop")
    expect(not sess.new_emls(), "stored a dropped message")
    s.close()
    s = connect(port, certs)
    send_ok(s, sess)
    s.quit()
    cl = sess.conn_lines(2)
    expect(cl[0].endswith(" drop") and cl[1].endswith(" quit"),
           "connections.log: %r" % cl)


def t_drop_quit(port, out, certs):
    """--drop-at quit: no 221, but the message was stored."""
    sess = Session(out)
    s = connect(port, certs)
    send_ok(s, sess)
    try:
        s.quit()
        raise AssertionError("QUIT answered")
    except smtplib.SMTPServerDisconnected:
        pass
    cl = sess.conn_lines()
    expect(re.fullmatch(r"\d{6} connect msg \d{6} drop", cl[0]),
           "connections.log: %r" % cl)


def t_hang(port, out, certs, stage):
    s = connect(port, certs, timeout=1.5)
    t0 = time.monotonic()
    try:
        if stage == "handshake":
            s.starttls(context=ctx(certs))
        else:
            s.sendmail("a@x.example", ["b@y.example"], MSG)
        raise AssertionError("answered")
    except (socket.timeout, TimeoutError, ssl.SSLError, OSError):
        pass
    dt = time.monotonic() - t0
    expect(1.0 < dt < 4, "timed out after %.1f s" % dt)
    s.close()


def cpu_ticks(pidfile):
    with open(pidfile) as f:
        pid = f.read().strip()
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])     # utime + stime


def read_for(c, seconds, limit=1 << 20):
    """What arrives on c in the given time (at most limit bytes)."""
    data = b""
    deadline = time.monotonic() + seconds
    c.settimeout(0.5)
    while len(data) < limit and time.monotonic() < deadline:
        try:
            b = c.recv(65536)
        except socket.timeout:
            continue
        if not b:
            break
        data += b
    return data


def t_endless(port, out, certs, kind):
    sess = Session(out)
    ticks0 = cpu_ticks(out + ".pid")
    t0 = time.monotonic()
    with socket.create_connection((HOST, port), timeout=5) as c:
        if kind != "greeting":
            f = c.makefile("rb")
            g = f.readline(1000)
            expect(g.startswith(b"220 ") and g.endswith(b"\r\n"),
                   "greeting %r" % g)
            f.close()
            c.sendall(b"EHLO selftest.example\r\n")
            data = read_for(c, 2.0)
        else:
            data = read_for(c, 2.0)
    dt = time.monotonic() - t0
    ticks = cpu_ticks(out + ".pid") - ticks0
    expect(len(data) > 8192, "only %d bytes in %.1f s" % (len(data), dt))
    if kind == "multiline":
        ls = data.split(b"\r\n")
        expect(len(ls) > 100 and all(l.startswith(b"250-") for l in ls[:-1]),
               "not endless 250- lines")
    else:
        want = b"220 " if kind == "greeting" else b"250 "
        expect(data.startswith(want) and b"\n" not in data,
               "not one endless line: %r" % data[:60])
    expect(ticks < 100, "server used %d CPU ticks in %.1f s" % (ticks, dt))
    cl = sess.conn_lines()
    expect(cl[0].endswith(" eof"), "connections.log: %r" % cl)


def t_endless_smtplib(port, out, certs):
    """smtplib (8 KiB line limit) gives up on the endless line."""
    t0 = time.monotonic()
    s = smtplib.SMTP(HOST, port, timeout=3)
    try:
        s.ehlo()
        raise AssertionError("EHLO answered")
    except smtplib.SMTPResponseException as e:
        expect(e.smtp_code == 500, "code %d" % e.smtp_code)
    s.close()
    expect(time.monotonic() - t0 < 5, "took too long")


def t_counts(port, out, certs, n):
    ls = wait_lines(os.path.join(out, "connections.log"), int(n))
    ids = [l.split()[0] for l in ls]
    expect(len(ls) == int(n), "%d connections logged, want %s" % (len(ls), n))
    expect(all(l.split()[1] == "connect" for l in ls), "bad lines %r" % ls)
    expect(len(set(ids)) == len(ids), "duplicate connection ids")


name = sys.argv[1]
port, out, certs = int(sys.argv[2]), sys.argv[3], sys.argv[4]
try:
    globals()["t_" + name](port, out, certs, *sys.argv[5:])
except AssertionError as e:
    print("%s: %s" % (name, e))
    sys.exit(1)
PYEOF

# ------------------------------------------------------------ certificates
if timeout 60 sh "$TOOLS/mkcerts.sh" "$C" >"$T/mkcerts.out" 2>&1 &&
    [ ! -s "$T/mkcerts.out" ]; then
	pass "mkcerts: quietly creates the certificates"
else
	fail "mkcerts: quietly creates the certificates" "$(head -c 300 "$T/mkcerts.out")"
fi
sums() { (cd "$C" && cat ca.pem ca.key server.pem expired.pem wrong.pem selfsigned.pem | cksum); }
before=$(sums)
if timeout 60 sh "$TOOLS/mkcerts.sh" "$C" && [ "$(sums)" = "$before" ]; then
	pass "mkcerts: idempotent"
else
	fail "mkcerts: idempotent"
fi
check "mkcerts: server.pem verifies for localhost" \
    openssl verify -CAfile "$C/ca.pem" -verify_hostname localhost "$C/server.pem"
check "mkcerts: server.pem verifies for ::1" \
    openssl verify -CAfile "$C/ca.pem" -verify_ip ::1 "$C/server.pem"
if openssl verify -CAfile "$C/ca.pem" "$C/expired.pem" 2>&1 | grep -q "certificate has expired"; then
	pass "mkcerts: expired.pem is expired"
else
	fail "mkcerts: expired.pem is expired"
fi
if sh "$TOOLS/mkcerts.sh" >/dev/null 2>&1; then
	fail "mkcerts: usage error without DIR"
else
	pass "mkcerts: usage error without DIR"
fi

# ------------------------------------------------------------ plain, as the demo runs it
if start plain; then
	check "plain: message stored (.eml unstuffed, .raw, .env)" client plain
	check "plain: IPv4 connection counted" client counts 1
	PLAINPID=$PID
	stop "$PLAINPID"
	if [ "$RC" = 0 ]; then pass "plain: exits 0 on SIGTERM"; else fail "plain: exits 0 on SIGTERM" "status $RC"; fi
fi
if $PY -c 'import socket;s=socket.socket(socket.AF_INET6);s.bind(("::1",0))' 2>/dev/null; then
	if start ipv6 --host ::1; then
		check "ipv6: message over ::1" client ipv6
	fi
else
	echo "SKIP: ipv6 (no ::1 on this machine)"
fi

# ------------------------------------------------------------ STARTTLS + AUTH
if start starttls --tls starttls --cert "$C/server.pem" --key "$C/server.key" --auth alice:s3cret --auth-require-tls; then
	sclient "starttls: openssl s_client verifies the chain and name" \
	    "Verify return code: 0 (ok)" -starttls smtp -connect "127.0.0.1:$PORT" \
	    -CAfile "$C/ca.pem" -verify_hostname localhost -verify_return_error
	check "starttls: STARTTLS offered, AUTH only after it (538 before)" client pre_tls
	for m in PLAIN LOGIN CRAM-MD5; do
		check "starttls: AUTH $m, 530 before it, message stored" client auth $m
		check "starttls: AUTH $m wrong password -> 535 5.7.8" client badpw $m
	done
	check "starttls: AUTH PLAIN without initial response" client auth PLAIN 0
	check "starttls: AUTH LOGIN without initial response" client auth LOGIN 0
	check "starttls: CRAM-MD5 challenges fresh, '*' aborts, lower case" client cram_challenge
	check "starttls: no password in any log or .env" client no_secrets
fi

# ------------------------------------------------------------ SMTPS
if start smtps --tls smtps --cert "$C/server.pem" --key "$C/server.key" --auth alice:s3cret --auth-mechs CRAM-MD5,LOGIN; then
	sclient "smtps: openssl s_client verifies the chain and name" \
	    "Verify return code: 0 (ok)" -connect "127.0.0.1:$PORT" \
	    -CAfile "$C/ca.pem" -verify_hostname localhost -verify_return_error
	check "smtps: AUTH line follows --auth-mechs, PLAIN -> 504" client smtps
	check "smtps: AUTH CRAM-MD5 and message stored" client auth CRAM-MD5 1 smtps
	check "smtps: AUTH LOGIN wrong password -> 535" client badpw LOGIN smtps
	check "smtps: a failed handshake is counted as tlsfail" client client_rejects
fi

# ------------------------------------------------------------ bad certificates
for bad in expired:"certificate has expired" wrong:"hostname mismatch" selfsigned:"self.signed certificate"; do
	b=${bad%%:*}
	if start "cert-$b" --tls starttls --cert "$C/$b.pem" --key "$C/$b.key"; then
		sclient "cert $b: openssl s_client refuses it" "${bad#*:}" \
		    -starttls smtp -connect "127.0.0.1:$PORT" -CAfile "$C/ca.pem" \
		    -verify_hostname localhost -verify_return_error
		check "cert $b: smtplib refuses it" client tlsfail
	fi
done

# ------------------------------------------------------------ STARTTLS variants
if start noadv --tls starttls --cert "$C/server.pem" --key "$C/server.key" --no-starttls-advertise; then
	check "no-starttls-advertise: not offered, 454" client no_adv
fi
if start reqtls --tls starttls --cert "$C/server.pem" --key "$C/server.key" --require-tls; then
	check "require-tls: 530 before STARTTLS, 250 after" client require_tls
fi

# ------------------------------------------------------------ faults
if start replymail --reply-mail "451 4.3.0 try later"; then
	check "reply-mail: 451 4.3.0 try later" client reply_mail
fi
if start replyrcpt --reply-rcpt "bad@y.example=550 5.1.1 no such user" \
    --reply-data '554-5.7.1 rejected\n554 second line'; then
	check "reply-rcpt and multi-line reply-data" client reply_rcpt_data
fi
if start failfirst --fail-first 1; then
	check "fail-first 1: 451, then stored" client fail_first
fi
if start maxsize --max-size 300; then
	check "max-size: SIZE advertised, 552 at MAIL and at DATA" client max_size
fi
if start g554 --greeting "554 go away"; then
	check "greeting 554: refused, 503 until QUIT" client greeting_554
fi
if start g421 --greeting "421 4.3.2 busy"; then
	check "greeting 421: closed after it" client greeting_421
fi
if start g220 --greeting '220-custom.example hi\n220 there' \
    --ehlo-extra PIPELINING --ehlo-extra DSN; then
	check "greeting 220 multi-line and --ehlo-extra" client greeting_220
fi
for st in mail rcpt data dot quit; do
	if start "drop-$st" --drop-at $st --fault-count 1; then
		if [ $st = quit ]; then
			check "drop-at quit: no 221, message stored" client drop_quit
		else
			check "drop-at $st (once): disconnect, nothing stored, then fine" client drop $st
		fi
	fi
done
if start hang-rcpt --hang-at rcpt --timeout 10; then
	check "hang-at rcpt: bounded by the client timeout" client hang rcpt
fi
if start hang-hs --tls starttls --cert "$C/server.pem" --key "$C/server.key" --hang-at handshake --timeout 10; then
	check "hang-at handshake: bounded by the client timeout" client hang handshake
fi

# ------------------------------------------------------------ hostile
if start endless --endless-line; then
	check "endless-line: one endless 250 line, low CPU" client endless line
	check "endless-line: smtplib gives up (line too long)" client endless_smtplib
fi
if start endless-g --endless-line greeting; then
	check "endless-line greeting: endless 220 line" client endless greeting
fi
if start endless-ml --endless-multiline; then
	check "endless-multiline: endless 250- lines, low CPU" client endless multiline
fi

# ------------------------------------------------------------ stop everything
for p in $PIDS; do
	stop "$p"
done
PIDS=""
echo "smarthost selftest: $NPASS passed, $NFAIL failed"
[ "$NFAIL" -eq 0 ]
