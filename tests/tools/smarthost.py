#!/usr/bin/python3
"""A test smarthost for postern's demo and tests, built on aiosmtpd.

It listens on a loopback address (127.0.0.1 by default, or ::1), accepts
every message, and stores each one in --outdir as:

  NNNNNN.eml  the DATA bytes as received, after the server has undone the
              dot-stuffing (CRLF line ends and all)
  NNNNNN.raw  the DATA bytes as they came over the wire, dot-stuffing and
              the final ".\\r\\n" included
  NNNNNN.env  "MAIL FROM:<a>", "RCPT TO:<b>" (one per recipient), then
              "PARAMS ...", "EHLO name", "AUTH user" ("AUTH -" without
              AUTH), "TLS yes|no" and "CONN NNNNNN"

The .eml appears last (renamed into place), so a present .eml means a
complete set. Numbering continues after the highest NNNNNN.eml already in
--outdir. It also appends to --outdir/connections.log one line per
connection when it ends, to auth.log one line per AUTH attempt and to
events.log one line per event as it happens (see --help-files).

It writes its PID to --pidfile and prints "listening on HOST:PORT" once it
accepts connections. It stops on SIGTERM (and SIGINT), exit status 0.

TLS (--tls starttls|smtps with --cert/--key), AUTH (--auth USER:PASSWORD
for PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256 and SCRAM-SHA-1, --auth-token
USER:TOKEN for XOAUTH2 and OAUTHBEARER, --scram-fault) and fault injection (--reply-*, --fail-first,
--greeting, --drop-at, --hang-at, --after-dot, --endless-*, --max-size)
are options; without them it behaves as it always did. Run it with
/usr/bin/python3 (Debian's python3-aiosmtpd).
"""
import argparse
import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import signal
import ssl
import sys
import time
import warnings

from aiosmtpd.smtp import (MISSING, SMTP, AuthResult, TLSSetupException,
                           auth_mechanism)

STAGES = ("greeting", "ehlo", "starttls", "handshake", "auth", "mail",
          "rcpt", "data", "dot", "quit")
MECHS = ("PLAIN", "LOGIN", "CRAM-MD5",     # the ones implemented here
         "SCRAM-SHA-256", "SCRAM-SHA-1", "XOAUTH2", "OAUTHBEARER")
SCRAM_HASH = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-1": "sha1"}
DEFAULT_GREETING_TEXT = "ESMTP postern test smarthost"

FILES_HELP = """\
Files in --outdir (all created empty at start, appended to, never truncated):

connections.log  one line per connection, written when it ends:
                   NNNNNN connect [tls] [auth USER] [authfail USER]
                   [msg MMMMMM]... END
                 tokens in the order they happened; END is one of
                   quit      the client sent QUIT
                   eof       the client closed (or reset) without QUIT
                   drop      closed by --drop-at, or after a 421 greeting
                   timeout   closed after --timeout seconds idle
                   tlsfail   the TLS handshake failed
                   shutdown  the server stopped (SIGTERM)
                   error     anything else
auth.log         one line per AUTH command, written when it is answered:
                   NNNNNN MECHANISM USER RESULT tls=yes|no
                 RESULT: ok, fail (wrong user or password), error
                 (malformed, aborted with "*", already authenticated,
                 connection lost), unsupported (mechanism not offered or
                 not implemented), unavailable (no --auth), notls
                 (--auth-require-tls before TLS). USER is "-" when not
                 known. Passwords are never written.
events.log       one line per event as it happens:
                   EPOCH.MSEC NNNNNN EVENT [ARGS...]
                 (connect PEER, tls VERSION, tlsfail, ehlo NAME, auth ...,
                 reply-mail, reply-rcpt ADDR, reply-data, fail-first,
                 drop STAGE, hang STAGE, msg MMMMMM SIZE, quit,
                 timeout, close END, endless, ...): for debugging.
NNNNNN.eml/.raw/.env per accepted message, as in the module docstring.
In user names and other tokens, bytes that are not printable ASCII
(and spaces, and "%") are written as %XX.
"""


def clean(s):
    """A token for the log files: printable ASCII without spaces."""
    if isinstance(s, str):
        s = s.encode("utf-8", "surrogateescape")
    return "".join(chr(b) if 0x21 <= b <= 0x7e and b != 0x25 else "%%%02X" % b
                   for b in s) or "-"


def reply_text(s):
    """A reply from the command line: a newline (real, or the two
    characters backslash n) separates the lines of a multi-line reply."""
    return s.replace("\\n", "\n").replace("\r\n", "\n").replace("\n", "\r\n")


def fmt_peer(peer):
    if isinstance(peer, tuple) and len(peer) >= 2:
        host = peer[0]
        return ("[%s]:%d" if ":" in host else "%s:%d") % (host, peer[1])
    return clean(str(peer))


async def forever(loop):
    """Wait until cancelled (the connection is lost or the server stops)."""
    await loop.create_future()


class State:
    """Everything shared by the connections: options, counters, logs."""

    def __init__(self, a, loop):
        self.a = a
        self.loop = loop
        self.outdir = a.outdir
        self.nconn = 0
        self.active = set()
        self.users = {}
        for up in a.auth or []:
            user, _, pw = up.partition(":")
            self.users[user.encode("utf-8")] = pw.encode("utf-8")
        self.tokens = {}
        for ut in a.auth_token or []:
            user, _, tok = ut.rpartition(":")
            self.tokens[user.encode("utf-8")] = tok.encode("utf-8")
        self.token_files = {}
        for up in a.auth_token_file or []:
            user, _, path = up.partition(":")
            self.token_files[user.encode("utf-8")] = path
        self.mechs = []
        if a.auth_mechs.strip():
            for m in a.auth_mechs.split(","):
                m = m.strip().upper()
                if m and m not in self.mechs:
                    self.mechs.append(m)
        self.reply_mail = reply_text(a.reply_mail) if a.reply_mail else None
        self.reply_data = reply_text(a.reply_data) if a.reply_data else None
        self.reply_rcpt = {}
        for r in a.reply_rcpt or []:
            addr, _, text = r.partition("=")
            self.reply_rcpt[addr.strip().strip("<>").lower()] = reply_text(text)
        self.greeting = reply_text(a.greeting) if a.greeting else None
        self.fail_first = a.fail_first
        self.used = {}
        self.ssl_ctx = None
        if a.tls != "none":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(a.cert, a.key)
            self.ssl_ctx = ctx
        last = 0
        for name in os.listdir(self.outdir):
            m = re.fullmatch(r"(\d{6})\.eml", name)
            if m:
                last = max(last, int(m.group(1)))
        self.nmsg = last
        self.logs = {}
        for name in ("connections.log", "auth.log", "events.log"):
            self.logs[name] = open(os.path.join(self.outdir, name), "a",
                                   buffering=1, encoding="ascii",
                                   errors="backslashreplace")

    # --- logs ---------------------------------------------------------
    def write(self, log, line):
        f = self.logs[log]
        f.write(line + "\n")
        f.flush()

    def event(self, cid, *words):
        self.write("events.log", "%.3f %s %s" % (
            time.time(), cid, " ".join(str(w) for w in words)))

    # --- faults -------------------------------------------------------
    def budget(self, kind):
        """True if a fault of this kind may fire (and counts it)."""
        if self.a.fault_count is None:
            return True
        n = self.used.get(kind, 0)
        if n >= self.a.fault_count:
            return False
        self.used[kind] = n + 1
        return True

    def pending(self, kind, stage):
        """Would a --drop-at/--hang-at fault fire here? (no counting)"""
        want = self.a.drop_at if kind == "drop" else self.a.hang_at
        if want != stage:
            return False
        return (self.a.fault_count is None or
                self.used.get(kind, 0) < self.a.fault_count)

    # --- AUTH ---------------------------------------------------------
    def check_password(self, user, password):
        want = self.users.get(user)
        ok = hmac.compare_digest(want if want is not None else b"\0" * 16,
                                 password)
        return ok and want is not None

    def check_cram(self, user, challenge, digest):
        want = self.users.get(user)
        key = want if want is not None else b"\0" * 16
        expect = hmac.new(key, challenge, hashlib.md5).hexdigest().encode()
        ok = hmac.compare_digest(expect, digest)
        return ok and want is not None

    def check_token(self, user, token):
        want = self.tokens.get(user)
        if user in self.token_files:
            # the token endpoint's current token, read at each AUTH
            try:
                with open(self.token_files[user], "rb") as f:
                    want = f.readline().strip() or None
            except OSError:
                want = None
        ok = hmac.compare_digest(want if want is not None else b"\0" * 16,
                                 token)
        return ok and want is not None

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        """aiosmtpd's authenticator callback, for PLAIN and LOGIN."""
        login, password = auth_data
        ok = self.check_password(login, password)
        server.record_auth(mechanism, login, ok)
        return AuthResult(success=ok, handled=False,
                          auth_data=login.decode("utf-8", "surrogateescape")
                          if ok else None)

    def next_msg(self):
        self.nmsg += 1
        return "%06d" % self.nmsg


class Conn:
    """One client connection, for connections.log and events.log."""

    def __init__(self, st):
        st.nconn += 1
        self.st = st
        self.id = "%06d" % st.nconn
        self.tokens = ["connect"]
        self.ended = False
        self.announced = False
        self.transport = None
        st.active.add(self)

    def connected(self, transport):
        self.transport = transport
        if not self.announced:
            self.announced = True
            self.event("connect", fmt_peer(transport.get_extra_info("peername")))

    def event(self, *words):
        self.st.event(self.id, *words)

    def token(self, *words):
        self.tokens.extend(clean(w) for w in words)

    def end(self, reason):
        if self.ended:
            return
        self.ended = True
        self.st.active.discard(self)
        self.tokens.append(reason)
        self.st.write("connections.log", self.id + " " + " ".join(self.tokens))
        self.event("close", reason)

    def tls_up(self, transport):
        self.token("tls")
        sslobj = transport.get_extra_info("ssl_object")
        self.event("tls", sslobj.version() if sslobj else "?")


class TapReader:
    """Wraps the StreamReader while DATA runs to keep the raw bytes."""

    def __init__(self, reader):
        self.reader = reader
        self.raw = bytearray()

    async def readuntil(self, separator=b"\n"):
        b = await self.reader.readuntil(separator)
        self.raw += b
        return b

    async def read(self, n=-1):
        b = await self.reader.read(n)
        self.raw += b
        return b

    async def readline(self):
        b = await self.reader.readline()
        self.raw += b
        return b

    def __getattr__(self, name):
        return getattr(self.reader, name)


class Hooks:
    """aiosmtpd handler: EHLO, MAIL, RCPT and DATA hooks."""

    def __init__(self, st):
        self.st = st

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        st = self.st
        session.host_name = hostname       # the 5-argument hook must do this
        server.ehlo_name = hostname
        server.conn.event("ehlo", clean(hostname))
        out = []
        for r in responses:
            word = r[4:].split(" ", 1)[0].upper()
            if r == "250 HELP" or word == "AUTH":
                continue
            if word == "STARTTLS" and st.a.no_starttls_advertise:
                continue
            out.append(r)
        if (st.users or st.tokens or st.token_files) and st.mechs and (
                server.tls_on or not st.a.auth_require_tls):
            out.append("250-AUTH " + " ".join(st.mechs))
        for kw in st.a.ehlo_extra or []:
            out.append("250-" + kw)
        out.append("250 HELP")
        return out

    async def handle_MAIL(self, server, session, envelope, address, options):
        st = self.st
        if st.reply_mail is None or not st.budget("reply-mail"):
            return MISSING
        server.conn.event("reply-mail", st.reply_mail.split(" ", 1)[0])
        if st.reply_mail.startswith("2"):
            envelope.mail_from = address
            envelope.mail_options.extend(options)
        return st.reply_mail

    async def handle_RCPT(self, server, session, envelope, address, options):
        st = self.st
        text = st.reply_rcpt.get(address.lower())
        if text is None or not st.budget("reply-rcpt " + address.lower()):
            return MISSING
        server.conn.event("reply-rcpt", clean(address), text.split(" ", 1)[0])
        if text.startswith("2"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
        return text

    async def handle_DATA(self, server, session, envelope):
        st = self.st
        conn = server.conn
        await server.fault("dot")
        if st.fail_first > 0:
            st.fail_first -= 1
            conn.event("fail-first", "left", st.fail_first)
            return "451 4.3.0 Temporary failure (--fail-first)"
        status = None
        if st.reply_data is not None and st.budget("reply-data"):
            conn.event("reply-data", st.reply_data.split(" ", 1)[0])
            if not st.reply_data.startswith("2"):
                return st.reply_data
            status = st.reply_data
        n = st.next_msg()
        base = os.path.join(st.outdir, n)
        content = envelope.original_content
        if content is None:
            content = envelope.content
        if server.tap is not None:
            with open(base + ".raw", "wb") as f:
                f.write(bytes(server.tap.raw))
        with open(base + ".env", "w", encoding="utf-8",
                  errors="surrogateescape") as f:
            # aiosmtpd keeps the null sender as "<>"
            sender = "" if envelope.mail_from == "<>" else envelope.mail_from
            f.write("MAIL FROM:<%s>\n" % sender)
            for r in envelope.rcpt_tos:
                f.write("RCPT TO:<%s>\n" % r)
            f.write("PARAMS %s\n" % " ".join(envelope.mail_options)
                    if envelope.mail_options else "PARAMS\n")
            f.write("EHLO %s\n" % (session.host_name or "-"))
            f.write("AUTH %s\n" % (session.auth_data
                                   if session.authenticated else "-"))
            f.write("TLS %s\n" % ("yes" if server.tls_on else "no"))
            f.write("CONN %s\n" % conn.id)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(content)
        os.rename(base + ".eml.tmp", base + ".eml")
        conn.token("msg", n)
        conn.event("msg", n, len(content))
        if st.a.after_dot and st.budget("after-dot"):
            # stored, but the client never reads the reply: the window
            # in which a client may send the message again
            conn.event("after-dot", st.a.after_dot, n)
            if st.a.after_dot == "drop":
                server.end_reason = "drop"
                server.transport.close()
            await forever(st.loop)
        return status or "250 2.0.0 Ok: stored as %s" % n


class Smtp(SMTP):
    """aiosmtpd's SMTP with CRAM-MD5, TLS bookkeeping and fault stages."""

    # aiosmtpd 1.4.3 sends "User Name\0" and "Password\0"; use the usual ones
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(self, st, conn, **kw):
        self.st = st
        self.conn = conn
        self.tls_on = False
        self.greeted = False
        self.ehlo_name = None
        self.tap = None
        self.end_reason = None
        self.authlog_done = False
        super().__init__(Hooks(st), **kw)

    # --- connection bookkeeping ---------------------------------------
    def connection_made(self, transport):
        starttls = (self._original_transport is not None and
                    self.transport is not None)
        super().connection_made(transport)
        self.conn.connected(transport)
        if starttls or transport.get_extra_info("ssl_object") is not None:
            self.tls_on = True
            self.conn.tls_up(transport)

    def connection_lost(self, error):
        if self._timeout_handle is not None:
            super().connection_lost(error)
        self.conn.end(self.end_reason or ("eof" if error is None or
                                          isinstance(error, OSError)
                                          else "error"))

    def _timeout_cb(self):
        if not self.end_reason:
            self.end_reason = "timeout"
        self.conn.event("timeout")
        super()._timeout_cb()

    # --- faults -------------------------------------------------------
    async def fault(self, stage):
        st = self.st
        if st.pending("drop", stage) and st.budget("drop"):
            self.end_reason = "drop"
            self.conn.event("drop", stage)
            self.transport.close()
            await forever(self.loop)
        if st.pending("hang", stage) and st.budget("hang"):
            self.conn.event("hang", stage)
            await forever(self.loop)

    async def push(self, status):
        if not self.greeted:
            self.greeted = True
            await self.fault("greeting")
            if self.st.greeting is not None:
                status = self.st.greeting
        await super().push(status)

    # --- commands -----------------------------------------------------
    async def smtp_HELO(self, arg):
        await self.fault("ehlo")
        await super().smtp_HELO(arg)

    async def smtp_EHLO(self, arg):
        await self.fault("ehlo")
        await super().smtp_EHLO(arg)

    async def smtp_STARTTLS(self, arg):
        if self.tls_on and not arg:    # aiosmtpd 1.4.3 would stack TLS
            return await self.push("503 5.5.1 TLS already active")
        if self.st.a.no_starttls_advertise and not arg:
            return await self.push("454 4.7.0 TLS not available")
        await self.fault("starttls")
        if self.tls_context and not arg and (
                self.st.pending("drop", "handshake") or
                self.st.pending("hang", "handshake")):
            await self.push("220 Ready to start TLS")
            await self.fault("handshake")
        try:
            await super().smtp_STARTTLS(arg)
        except TLSSetupException:
            self.end_reason = "tlsfail"
            self.conn.event("tlsfail")
            raise

    def record_auth(self, mech, user, result):
        self.authlog_done = True
        if isinstance(result, bool):
            if result:
                self.conn.token("auth", user)
            else:
                self.conn.token("authfail", user)
            result = "ok" if result else "fail"
        self.conn.event("auth", mech, clean(user), result)
        self.st.write("auth.log", "%s %s %s %s tls=%s" % (
            self.conn.id, clean(mech), clean(user), result,
            "yes" if self.tls_on else "no"))

    async def smtp_AUTH(self, arg):
        st = self.st
        words = arg.split() if arg else []
        if words:
            words[0] = words[0].upper()   # aiosmtpd 1.4.3 is case-sensitive
            arg = " ".join(words)
        mech = words[0] if words else "-"
        try:
            await self.fault("auth")
        except asyncio.CancelledError:
            self.record_auth(mech, "-", "error")
            raise
        if not st.users and not st.tokens and not st.token_files:
            self.record_auth(mech, "-", "unavailable")
            return await self.push("502 5.5.1 AUTH not available")
        if st.a.auth_require_tls and not self.tls_on:
            self.record_auth(mech, "-", "notls")
            return await self.push("538 5.7.11 Encryption required for "
                                   "requested authentication mechanism")
        if words and (mech not in st.mechs or mech not in MECHS):
            self.record_auth(mech, "-", "unsupported")
            return await self.push("504 5.5.4 Unrecognized authentication type")
        self.authlog_done = False
        try:
            await super().smtp_AUTH(arg)
        finally:
            if not self.authlog_done:
                self.record_auth(mech, "-", "error")

    @auth_mechanism("CRAM-MD5")
    async def auth_CRAM_MD5(self, _, args):
        if len(args) > 1:
            await self.push("501 5.5.2 CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = "<%d.%d@localhost>" % (secrets.randbits(62),
                                           time.time_ns() // 1000)
        answer = await self.challenge_auth(challenge)
        if answer is MISSING:         # "*" or bad base64, already answered
            return AuthResult(success=False, handled=True)
        user, sp, digest = answer.rpartition(b" ")
        if not sp or not user:
            await self.push("501 5.5.2 Malformed CRAM-MD5 response")
            return AuthResult(success=False, handled=True)
        ok = self.st.check_cram(user, challenge.encode(), digest)
        self.record_auth("CRAM-MD5", user, ok)
        return AuthResult(success=ok, handled=False,
                          auth_data=user.decode("utf-8", "surrogateescape")
                          if ok else None)

    # --- SCRAM (RFC 5802, RFC 7677), XOAUTH2, OAUTHBEARER (RFC 7628) ---
    async def _first_blob(self, mech, args):
        """The client's first message: the initial response or the answer
        to an empty challenge. None when the exchange is over (answered)."""
        if len(args) > 2:
            await self.push("501 5.5.2 Too many arguments")
            self.record_auth(mech, "-", "error")
            return None
        if len(args) == 2:
            if args[1] == "=":
                return b""
            try:
                return base64.b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                await self.push("501 5.5.2 Can't decode base64")
                self.record_auth(mech, "-", "error")
                return None
        blob = await self.challenge_auth("")
        if blob is MISSING:
            self.record_auth(mech, "-", "error")
            return None
        return blob

    async def _malformed(self, mech, user, what):
        await self.push("501 5.5.2 Malformed %s %s" % (mech, what))
        self.record_auth(mech, user, "error")
        return AuthResult(success=False, handled=True)

    async def _scram(self, mech, args):
        st = self.st
        h = SCRAM_HASH[mech]
        first = await self._first_blob(mech, args)
        if first is None:
            return AuthResult(success=False, handled=True)
        # gs2-header "n,," or "y,," (no channel binding), then the bare part
        m = re.fullmatch(rb"[ny],(?:a=[^,]*)?,(n=([^,]*),r=([\x21-\x2b\x2d-\x7e]+)"
                         rb"(?:,.*)?)", first, re.S)
        if not m:
            return await self._malformed(mech, "-", "client-first message")
        gs2 = first[:len(first) - len(m.group(1))]
        bare, cnonce = m.group(1), m.group(3)
        user = m.group(2).replace(b"=2C", b",").replace(b"=3D", b"=")
        pw = st.users.get(user)
        salt = hashlib.sha256(b"salt:" + user).digest()[:16]
        iters = st.a.scram_iterations
        snonce = cnonce + base64.b64encode(secrets.token_bytes(18))
        sfirst = b"r=%s,s=%s,i=%d" % (snonce, base64.b64encode(salt), iters)
        final = await self.challenge_auth(sfirst)
        if final is MISSING:
            self.record_auth(mech, user, "error")
            return AuthResult(success=False, handled=True)
        m = re.fullmatch(rb"(c=([^,]*),r=([^,]*)(?:,.*)?),p=([^,]*)", final,
                         re.S)
        if not m:
            return await self._malformed(mech, user, "client-final message")
        without_proof, cbind, rnonce = m.group(1), m.group(2), m.group(3)
        if (cbind != base64.b64encode(gs2) or
                not hmac.compare_digest(rnonce, snonce)):
            return await self._malformed(mech, user, "channel binding or nonce")
        try:
            proof = base64.b64decode(m.group(4), validate=True)
        except (binascii.Error, ValueError):
            return await self._malformed(mech, user, "proof")
        # a real server computation; an unknown user gets a random key
        salted = hashlib.pbkdf2_hmac(
            h, pw if pw is not None else secrets.token_bytes(16), salt, iters)
        stored = hashlib.new(h, hmac.new(salted, b"Client Key", h).digest()
                             ).digest()
        authmsg = bare + b"," + sfirst + b"," + without_proof
        csig = hmac.new(stored, authmsg, h).digest()
        ok = len(proof) == len(csig) and pw is not None and hmac.compare_digest(
            hashlib.new(h, bytes(a ^ b for a, b in zip(proof, csig))).digest(),
            stored)
        if not ok:
            self.record_auth(mech, user, False)
            return AuthResult(success=False, handled=False)
        ssig = hmac.new(hmac.new(salted, b"Server Key", h).digest(), authmsg,
                        h).digest()
        fault = st.a.scram_fault
        if fault == "bad-signature":
            ssig = bytes([ssig[0] ^ 1]) + ssig[1:]
        vfinal = b"v=" + base64.b64encode(ssig)
        self.conn.event("scram", mech, clean(user), fault or "-")
        if fault == "no-final":
            self.record_auth(mech, user, True)
            return AuthResult(success=True, handled=False,
                              auth_data=user.decode("utf-8", "surrogateescape"))
        if fault == "final-in-235":
            self.record_auth(mech, user, True)
            return AuthResult(success=True, handled=False,
                              message="235 2.7.0 " +
                              base64.b64encode(vfinal).decode(),
                              auth_data=user.decode("utf-8", "surrogateescape"))
        answer = await self.challenge_auth(vfinal)
        if answer is MISSING:          # "*": the client did not believe us
            self.record_auth(mech, user, "error")
            return AuthResult(success=False, handled=True)
        if answer != b"":
            return await self._malformed(mech, user, "final response")
        self.record_auth(mech, user, True)
        return AuthResult(success=True, handled=False,
                          auth_data=user.decode("utf-8", "surrogateescape"))

    @auth_mechanism("SCRAM-SHA-256")
    async def auth_SCRAM_SHA_256(self, _, args):
        return await self._scram("SCRAM-SHA-256", args)

    @auth_mechanism("SCRAM-SHA-1")
    async def auth_SCRAM_SHA_1(self, _, args):
        return await self._scram("SCRAM-SHA-1", args)

    async def _oauth(self, mech, user, token, empty):
        """Checks the token; on failure sends the RFC 7628 error challenge,
        wants the mechanism's empty response (empty), then 535."""
        if self.st.check_token(user, token):
            self.record_auth(mech, user, True)
            return AuthResult(success=True, handled=False,
                              auth_data=user.decode("utf-8", "surrogateescape"))
        self.conn.event("oauth-error-challenge", mech, clean(user))
        answer = await self.challenge_auth(
            '{"status":"invalid_token","schemes":"bearer",'
            '"scope":"https://mail.example/"}')
        if answer is MISSING:
            self.record_auth(mech, user, "error")
            return AuthResult(success=False, handled=True)
        if answer != empty:
            return await self._malformed(mech, user, "error-challenge response")
        self.record_auth(mech, user, False)
        return AuthResult(success=False, handled=False)

    @auth_mechanism("XOAUTH2")
    async def auth_XOAUTH2(self, _, args):
        blob = await self._first_blob("XOAUTH2", args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        m = re.fullmatch(rb"user=([^\x01]+)\x01auth=Bearer ([^\x01 ]+)\x01\x01",
                         blob)
        if not m:
            return await self._malformed("XOAUTH2", "-", "initial response")
        return await self._oauth("XOAUTH2", m.group(1), m.group(2), b"")

    @auth_mechanism("OAUTHBEARER")
    async def auth_OAUTHBEARER(self, _, args):
        blob = await self._first_blob("OAUTHBEARER", args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        m = re.fullmatch(rb"n,a=([^,]+),\x01((?:[A-Za-z]+=[^\x01]*\x01)+)\x01",
                         blob)
        if not m:
            return await self._malformed("OAUTHBEARER", "-", "initial response")
        user = m.group(1).replace(b"=2C", b",").replace(b"=3D", b"=")
        kv = dict(p.split(b"=", 1) for p in m.group(2).split(b"\x01") if p)
        self.conn.event("oauthbearer", clean(user),
                        "host=" + clean(kv.get(b"host", b"-")),
                        "port=" + clean(kv.get(b"port", b"-")))
        auth = kv.get(b"auth", b"")
        if not auth.startswith(b"Bearer ") or len(auth) <= 7:
            return await self._malformed("OAUTHBEARER", user, "auth value")
        return await self._oauth("OAUTHBEARER", user, auth[7:], b"\x01")

    async def smtp_MAIL(self, arg):
        await self.fault("mail")
        # RFC 4954 section 5: accept (and keep) an AUTH= parameter
        auth_param = None
        if arg:
            m = re.search(r"(?i)\sAUTH=(\S+)", arg)
            if m:
                auth_param = m.group(1)
                arg = arg[:m.start()] + arg[m.end():]
        before = self.envelope.mail_from
        await super().smtp_MAIL(arg)
        if auth_param and before is None and self.envelope.mail_from:
            self.envelope.mail_options.append("AUTH=" + auth_param)

    async def smtp_RCPT(self, arg):
        await self.fault("rcpt")
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg):
        await self.fault("data")
        self.tap = TapReader(self._reader)
        self._reader = self.tap
        try:
            await super().smtp_DATA(arg)
        finally:
            self._reader = self.tap.reader
            self.tap = None

    async def smtp_QUIT(self, arg):
        await self.fault("quit")
        if not arg:
            self.end_reason = self.end_reason or "quit"
            self.conn.event("quit")
        await super().smtp_QUIT(arg)


class RawProto(asyncio.StreamReaderProtocol):
    """The hostile modes, without aiosmtpd: a bad greeting, endless lines."""

    def __init__(self, st, conn):
        self.st = st
        self.conn = conn
        super().__init__(asyncio.StreamReader(limit=4096, loop=st.loop),
                         self._session, loop=st.loop)

    def connection_made(self, transport):
        self.conn.connected(transport)
        if transport.get_extra_info("ssl_object") is not None:
            self.conn.tls_up(transport)
        super().connection_made(transport)

    def connection_lost(self, exc):
        super().connection_lost(exc)
        self.conn.end("eof")

    async def _readline(self, reader):
        try:
            line = await asyncio.wait_for(reader.readline(), self.st.a.timeout)
        except (asyncio.TimeoutError, ValueError, asyncio.LimitOverrunError):
            return None
        return line if line.endswith(b"\n") else None

    async def _endless(self, writer, reader, first, multiline):
        self.conn.event("endless", "multiline" if multiline else "line")
        writer.write(first)
        n = 0
        while not reader.at_eof():
            if multiline:
                chunk = b"".join(b"250-X-ENDLESS-%09d %s\r\n" % (n + i, b"x" * 40)
                                 for i in range(64))
                n += 64
            else:
                chunk = b"x" * 4096
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(self.st.a.endless_delay)

    async def _session(self, reader, writer):
        st, a, conn = self.st, self.st.a, self.conn
        reason = "eof"
        try:
            if a.endless_line == "greeting":
                await self._endless(writer, reader, b"220 ", False)
                return
            greeting = st.greeting or "220 localhost " + DEFAULT_GREETING_TEXT
            writer.write(greeting.encode("utf-8") + b"\r\n")
            await writer.drain()
            if not greeting.startswith("2"):
                if greeting.startswith("421"):
                    reason = "drop"
                    return
                # RFC 5321 3.1: after a 554 greeting, only QUIT is answered
                for _ in range(1000):
                    line = await self._readline(reader)
                    if line is None:
                        return
                    if line.strip().upper() == b"QUIT":
                        conn.event("quit")
                        reason = "quit"
                        writer.write(b"221 2.0.0 Bye\r\n")
                        await writer.drain()
                        return
                    writer.write(b"503 5.5.1 Bad sequence of commands: "
                                 b"no service, only QUIT\r\n")
                    await writer.drain()
                return
            line = await self._readline(reader)
            if line is None:
                return
            conn.event("command", clean(line.strip()[:40]))
            if a.endless_line == "ehlo":
                await self._endless(writer, reader, b"250 ", False)
            elif a.endless_multiline:
                await self._endless(writer, reader,
                                    b"250-localhost greets you\r\n", True)
        except (ConnectionError, OSError):
            reason = "eof"
        finally:
            conn.end(reason)
            writer.close()


class TLSFront(asyncio.Protocol):
    """--tls smtps: does the TLS handshake itself (loop.start_tls) so that
    connections whose handshake fails are counted and logged too, then
    hands the TLS transport to the SMTP (or raw) protocol."""

    def __init__(self, st, make_inner):
        self.st = st
        self.make_inner = make_inner
        self.task = None

    def connection_made(self, transport):
        transport.pause_reading()   # the ClientHello waits for start_tls
        self.conn = Conn(self.st)
        self.conn.connected(transport)
        self.task = self.st.loop.create_task(self._run(transport))

    def connection_lost(self, exc):
        # only reached if the connection ends before start_tls takes over
        if self.task is not None:
            self.task.cancel()
        self.conn.end("eof")

    def data_received(self, data):
        pass

    async def _run(self, transport):
        st, conn = self.st, self.conn
        if st.pending("drop", "handshake") and st.budget("drop"):
            conn.event("drop", "handshake")
            conn.end("drop")
            transport.close()
            return
        if st.pending("hang", "handshake") and st.budget("hang"):
            conn.event("hang", "handshake")
            await asyncio.sleep(st.a.timeout)
            conn.end("timeout")
            transport.close()
            return
        inner = self.make_inner(conn)
        try:
            tls = await st.loop.start_tls(
                transport, inner, st.ssl_ctx, server_side=True,
                ssl_handshake_timeout=min(st.a.timeout, 60.0))
        except asyncio.CancelledError:
            raise
        except Exception as e:
            conn.event("tlsfail", clean(type(e).__name__))
            conn.end("tlsfail")
            transport.abort()
            return
        if conn.ended:
            tls.abort()
            return
        inner.connection_made(tls)


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Test smarthost (aiosmtpd) for postern's tests.",
        epilog="Use --help-files for the formats of the files in --outdir.")
    ap.add_argument("--host", default="127.0.0.1",
                    help="loopback address to listen on (127.0.0.1 or ::1)")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--pidfile")
    ap.add_argument("--hostname", default="localhost",
                    help="the server's name in the greeting and EHLO reply")
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="close a connection idle this many seconds "
                         "(also bounds --hang-at); default 300")
    ap.add_argument("--verbose", action="store_true",
                    help="aiosmtpd's debug log on stderr")
    ap.add_argument("--help-files", action="store_true",
                    help="describe the files in --outdir and exit")

    g = ap.add_argument_group("TLS")
    g.add_argument("--tls", choices=("none", "starttls", "smtps"),
                   default="none")
    g.add_argument("--cert", help="PEM certificate (chain) for --tls")
    g.add_argument("--key", help="PEM private key for --tls")
    g.add_argument("--require-tls", action="store_true",
                   help="starttls: refuse MAIL/RCPT/DATA/AUTH/HELO with 530 "
                        "before STARTTLS")
    g.add_argument("--no-starttls-advertise", action="store_true",
                   help="starttls: do not offer STARTTLS; refuse it with 454")

    g = ap.add_argument_group("AUTH")
    g.add_argument("--auth", action="append", metavar="USER:PASSWORD",
                   help="accept this user (repeatable); AUTH is then "
                        "required before MAIL (530)")
    g.add_argument("--auth-mechs", default="PLAIN,LOGIN,CRAM-MD5",
                   help="mechanisms to offer, in this order (default "
                        "PLAIN,LOGIN,CRAM-MD5; also SCRAM-SHA-256, "
                        "SCRAM-SHA-1, XOAUTH2, OAUTHBEARER); other names "
                        "are offered but answered 504")
    g.add_argument("--auth-token", action="append", metavar="USER:TOKEN",
                   help="accept this OAuth 2.0 access token for USER with "
                        "XOAUTH2 and OAUTHBEARER (repeatable); a wrong one "
                        "gets the RFC 7628 error challenge, then 535")
    g.add_argument("--auth-token-file", action="append", metavar="USER:PATH",
                   help="accept for USER the token on the first line of "
                        "PATH, read at each AUTH (tokenserver.py "
                        "--token-file writes it; repeatable)")
    g.add_argument("--scram-iterations", type=int, default=4096, metavar="N",
                   help="the SCRAM iteration count the server sends "
                        "(default 4096)")
    g.add_argument("--scram-fault",
                   choices=("bad-signature", "no-final", "final-in-235"),
                   help="SCRAM: send a server signature that does not "
                        "verify, answer 235 without the server-final "
                        "message, or send it as the text of the 235")
    g.add_argument("--auth-optional", action="store_true",
                   help="offer AUTH but do not require it")
    g.add_argument("--auth-require-tls", action="store_true",
                   help="offer and accept AUTH only over TLS (538 before)")
    g.add_argument("--ehlo-extra", action="append", metavar="KEYWORD",
                   help="another EHLO keyword line to advertise (repeatable)")

    g = ap.add_argument_group("faults")
    g.add_argument("--reply-mail", metavar="CODE_TEXT",
                   help="answer MAIL FROM with this")
    g.add_argument("--reply-rcpt", action="append", metavar="ADDR=CODE_TEXT",
                   help="answer RCPT TO:<ADDR> with this (repeatable)")
    g.add_argument("--reply-data", metavar="CODE_TEXT",
                   help="answer the end of DATA with this (a 2xx reply "
                        "stores the message)")
    g.add_argument("--fail-first", type=int, default=0, metavar="N",
                   help="answer the end of DATA with 451 for the first N "
                        "messages")
    g.add_argument("--fault-count", type=int, metavar="N",
                   help="fire each --reply-*/--drop-at/--hang-at fault only "
                        "the first N times (default: always)")
    g.add_argument("--greeting", metavar="CODE_TEXT",
                   help="the banner, e.g. '421 4.3.2 busy' or '554 go away'")
    g.add_argument("--drop-at", choices=STAGES, metavar="STAGE",
                   help="close the connection without a reply at STAGE: "
                        + "|".join(STAGES))
    g.add_argument("--hang-at", choices=STAGES, metavar="STAGE",
                   help="stop answering at STAGE (until --timeout)")
    g.add_argument("--after-dot", choices=("hang", "drop"),
                   help="store the message, then stop answering (hang) or "
                        "close the connection (drop) instead of replying "
                        "to the final dot (counted by --fault-count)")
    g.add_argument("--endless-line", nargs="?", const="ehlo",
                   choices=("greeting", "ehlo"), metavar="WHERE",
                   help="send a line without end: after the greeting, in "
                        "reply to the first command (WHERE=ehlo, default), "
                        "or as the greeting itself (WHERE=greeting)")
    g.add_argument("--endless-multiline", action="store_true",
                   help="answer the first command with endless 250- lines")
    g.add_argument("--endless-delay", type=float, default=0.05,
                   metavar="SECONDS",
                   help="pause between 4 KiB chunks of --endless-* "
                        "(default 0.05)")
    g.add_argument("--max-size", type=int, metavar="N",
                   help="advertise SIZE N and refuse bigger messages (552)")

    if "--help-files" in argv:
        sys.stdout.write(FILES_HELP)
        sys.exit(0)
    a = ap.parse_args(argv)

    try:
        if not ipaddress.ip_address(a.host).is_loopback:
            ap.error("--host must be a loopback address")
    except ValueError:
        ap.error("--host must be a numeric loopback address (127.0.0.1, ::1)")
    if not 0 < a.port < 65536:
        ap.error("--port must be 1..65535")
    if a.tls != "none" and not (a.cert and a.key):
        ap.error("--tls %s needs --cert and --key" % a.tls)
    if a.tls == "none" and (a.cert or a.key):
        ap.error("--cert/--key need --tls starttls or --tls smtps")
    if (a.require_tls or a.no_starttls_advertise) and a.tls != "starttls":
        ap.error("--require-tls/--no-starttls-advertise need --tls starttls")
    for opt in ("drop_at", "hang_at"):
        stage = getattr(a, opt)
        if stage == "starttls" and a.tls != "starttls":
            ap.error("--%s starttls needs --tls starttls" % opt.replace("_", "-"))
        if stage == "handshake" and a.tls == "none":
            ap.error("--%s handshake needs --tls" % opt.replace("_", "-"))
    if a.drop_at and a.drop_at == a.hang_at:
        ap.error("--drop-at and --hang-at at the same stage")
    for up in a.auth or []:
        if ":" not in up or up.startswith(":"):
            ap.error("--auth wants USER:PASSWORD")
    for ut in a.auth_token or []:
        if ":" not in ut or ut.startswith(":") or ut.endswith(":"):
            ap.error("--auth-token wants USER:TOKEN")
    for up in a.auth_token_file or []:
        if ":" not in up or up.startswith(":") or up.endswith(":"):
            ap.error("--auth-token-file wants USER:PATH")
    if a.scram_iterations <= 0:
        ap.error("--scram-iterations must be positive")
    for r in a.reply_rcpt or []:
        if "=" not in r:
            ap.error("--reply-rcpt wants ADDR=CODE_TEXT")
    if a.timeout <= 0 or a.endless_delay < 0 or a.fail_first < 0:
        ap.error("--timeout, --endless-delay and --fail-first must be positive")
    if a.max_size is not None and a.max_size <= 0:
        ap.error("--max-size must be positive")
    if a.fault_count is not None and a.fault_count < 0:
        ap.error("--fault-count must be >= 0")
    if a.endless_line and a.endless_multiline:
        ap.error("--endless-line and --endless-multiline exclude each other")
    a.raw = bool(a.endless_line or a.endless_multiline or
                 (a.greeting is not None and not a.greeting.startswith("2")))
    if a.raw:
        for opt in ("drop_at", "hang_at"):
            if getattr(a, opt) not in (None, "handshake"):
                ap.error("--endless-* and a non-2xx --greeting combine with "
                         "--drop-at/--hang-at handshake only")
    return a


def main(argv):
    a = parse_args(argv)
    os.makedirs(a.outdir, exist_ok=True)

    warnings.simplefilter("ignore")
    for name in ("mail.log", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG if a.verbose
                                         else logging.CRITICAL + 1)
    if a.verbose:
        logging.basicConfig(stream=sys.stderr, level=logging.DEBUG,
                            format="%(asctime)s %(name)s %(message)s")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        st = State(a, loop)
    except (OSError, ssl.SSLError) as e:
        print("smarthost.py: %s" % e, file=sys.stderr)
        return 1

    smtp_kw = dict(
        data_size_limit=a.max_size,
        enable_SMTPUTF8=True,
        decode_data=False,
        hostname=a.hostname,
        ident=DEFAULT_GREETING_TEXT,
        tls_context=st.ssl_ctx if a.tls == "starttls" else None,
        require_starttls=a.require_tls,
        timeout=a.timeout,
        auth_required=bool(st.users or st.tokens or st.token_files) and not a.auth_optional,
        auth_require_tls=False,           # checked in Smtp.smtp_AUTH
        auth_exclude_mechanism=[m for m in MECHS if m not in st.mechs],
        authenticator=st.authenticate,
        loop=loop,
    )
    if a.raw:
        def make_inner(conn):
            return RawProto(st, conn)
    else:
        def make_inner(conn):
            return Smtp(st, conn, **smtp_kw)
    if a.tls == "smtps":
        def factory():
            return TLSFront(st, make_inner)
    else:
        def factory():
            return make_inner(Conn(st))

    try:
        server = loop.run_until_complete(loop.create_server(
            factory, host=a.host, port=a.port, reuse_address=True))
    except OSError as e:
        print("smarthost.py: cannot listen on %s:%d: %s" % (a.host, a.port, e),
              file=sys.stderr)
        return 1

    stop = loop.create_future()

    def on_signal():
        if not stop.done():
            stop.set_result(None)
    loop.add_signal_handler(signal.SIGTERM, on_signal)
    loop.add_signal_handler(signal.SIGINT, on_signal)

    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    print("listening on %s:%d" % (a.host, a.port), flush=True)

    loop.run_until_complete(stop)
    server.close()
    for conn in list(st.active):
        conn.end("shutdown")
        if conn.transport is not None:
            conn.transport.abort()
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in tasks:
        t.cancel()
    if tasks:
        loop.run_until_complete(asyncio.wait(tasks, timeout=2))
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
