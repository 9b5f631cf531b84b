#!/usr/bin/python3
"""bs_client.py: a local SMTP client for "sendmail -bs", as Symfony
Mailer's SendmailTransport and Alpine use it, for
tests/integration/callers.sh.

  bs_client.py [--after-250 SHELLCMD] OUTDIR COMMAND [ARG]...

runs COMMAND ARG... with pipes on stdin and stdout and, over them:

  greeting (220), EHLO (250; PIPELINING and 8BITMIME listed), NOOP (250),
  message 1: MAIL FROM:<bs1@x.org> BODY=8BITMIME, RCPT TO:<r1@x.org>,
             RCPT TO:<r2@x.org>, DATA, the message (dot-stuffed), "."
  RSET (250)
  an aborted transaction: MAIL FROM:<aborted@x.org>, RCPT
             TO:<nobody@x.org>, RSET (nothing may be sent for it)
  message 2, pipelined: MAIL FROM:<bs2@x.org>, RCPT TO:<r3@x.org> and
             DATA in one write, then their three replies, the message, "."
  QUIT (221), then end of input; COMMAND must exit with status 0.

Each message as sent (before dot-stuffing, CRLF line ends) is written to
OUTDIR/bs1.in and OUTDIR/bs2.in, the dialogue to OUTDIR/bs.log (C: and
S: lines). After each 250 to a final dot, SHELLCMD (if given) runs with
N set to the message's number; it must exit 0 (callers.sh checks there
that the message is already in the spool or delivered).

Prints one line per problem ("ERROR: ...") and exits 1 on the first; on
success prints "OK" and exits 0. Every read is bounded (20 s).
"""
import base64
import os
import select
import subprocess
import sys
import time

TIMEOUT = 20.0

MSG1 = (b"From: Bs One <bs1@x.org>\r\n"
        b"To: r1@x.org, r2@x.org\r\n"
        b"Subject: =?UTF-8?B?" + base64.b64encode("Grüße über -bs".encode()) + b"?=\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=UTF-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"first message, 8-bit: \xc3\xa4\xc3\xb6\xc3\xbc \xe2\x82\xac\r\n"
        b".\r\n"
        b".leading dot\r\n"
        b"..two leading dots\r\n"
        b"\r\n"
        b"last line\r\n")
MSG2 = (b"From: bs2@x.org\r\n"
        b"To: r3@x.org\r\n"
        b"Subject: second message in the same session\r\n"
        b"\r\n"
        b"second body\r\n"
        b". \r\n"
        b"end\r\n")


class Dialogue:
    def __init__(self, argv, log):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        self.buf = b""
        self.log = log

    def send(self, data):
        for line in data.split(b"\r\n")[:-1]:
            self.log.write(b"C: " + line + b"\n")
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def line(self):
        end = time.monotonic() + TIMEOUT
        fd = self.p.stdout.fileno()
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise Error("no reply within %d s" % TIMEOUT)
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise Error("end of output, waiting for a reply (after %r)"
                                % self.buf)
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        self.log.write(b"S: " + line + b"\n")
        if not line.endswith(b"\r"):
            raise Error("reply line without CRLF: %r" % line)
        return line[:-1]

    def reply(self):
        """(code, [text lines]) of one (possibly multi-line) reply."""
        texts = []
        while True:
            l = self.line()
            if len(l) < 3 or not l[:3].isdigit() or l[3:4] not in (b"", b" ", b"-"):
                raise Error("malformed reply line %r" % l)
            texts.append(l[4:].decode("utf-8", "replace"))
            if l[3:4] != b"-":
                return int(l[:3]), texts

    def expect(self, what, code):
        c, t = self.reply()
        if c != code:
            raise Error("%s: got %d %s, want %d" % (what, c, " / ".join(t), code))
        return t


class Error(Exception):
    pass


def stuff(msg):
    return b"\r\n".join(b"." + l if l.startswith(b".") else l
                        for l in msg.split(b"\r\n"))


def main():
    args = sys.argv[1:]
    after = None
    if args[:1] == ["--after-250"]:
        after = args[1]
        args = args[2:]
    outdir, argv = args[0], args[1:]
    log = open(os.path.join(outdir, "bs.log"), "wb", buffering=0)
    for n, m in ((1, MSG1), (2, MSG2)):
        with open(os.path.join(outdir, "bs%d.in" % n), "wb") as f:
            f.write(m)
    d = Dialogue(argv, log)

    def queued(n):
        if after is None:
            return
        env = dict(os.environ, N=str(n))
        if subprocess.run(after, shell=True, env=env).returncode != 0:
            raise Error("message %d: not in the spool after its 250 (%s)" % (n, after))

    try:
        d.expect("greeting", 220)
        d.send(b"EHLO client.test\r\n")
        ext = [t.split(" ")[0].upper() for t in d.expect("EHLO", 250)[1:]]
        for e in ("PIPELINING", "8BITMIME"):
            if e not in ext:
                raise Error("EHLO does not offer %s (offers %s)" % (e, " ".join(ext)))
        d.send(b"NOOP\r\n")
        d.expect("NOOP", 250)

        d.send(b"MAIL FROM:<bs1@x.org> BODY=8BITMIME\r\n")
        d.expect("MAIL 1", 250)
        d.send(b"RCPT TO:<r1@x.org>\r\n")
        d.expect("RCPT 1a", 250)
        d.send(b"RCPT TO:<r2@x.org>\r\n")
        d.expect("RCPT 1b", 250)
        d.send(b"DATA\r\n")
        d.expect("DATA 1", 354)
        d.send(stuff(MSG1) + b".\r\n")
        d.expect("end of DATA 1", 250)
        queued(1)
        d.send(b"RSET\r\n")
        d.expect("RSET", 250)

        d.send(b"MAIL FROM:<aborted@x.org>\r\n")
        d.expect("MAIL (aborted)", 250)
        d.send(b"RCPT TO:<nobody@x.org>\r\n")
        d.expect("RCPT (aborted)", 250)
        d.send(b"RSET\r\n")
        d.expect("RSET (aborted)", 250)

        d.send(b"MAIL FROM:<bs2@x.org>\r\nRCPT TO:<r3@x.org>\r\nDATA\r\n")
        d.expect("MAIL 2 (pipelined)", 250)
        d.expect("RCPT 2 (pipelined)", 250)
        d.expect("DATA 2 (pipelined)", 354)
        d.send(stuff(MSG2) + b".\r\n")
        d.expect("end of DATA 2", 250)
        queued(2)

        d.send(b"QUIT\r\n")
        d.expect("QUIT", 221)
        d.p.stdin.close()
        try:
            rc = d.p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Error("still running %d s after QUIT" % TIMEOUT)
        if rc != 0:
            raise Error("exit status %d after QUIT" % rc)
    except (Error, BrokenPipeError) as e:
        print("ERROR: %s" % e)
        if d.p.poll() is None:
            d.p.kill()
        d.p.wait()
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
