#!/usr/bin/python3
"""A test smarthost for postern's demo and tests, built on aiosmtpd.

It listens on 127.0.0.1 (or ::1), accepts every message, and stores each
one as two files in --outdir: N.env (MAIL FROM and RCPT TO, one per line)
and N.eml (the DATA bytes exactly as received, CRLF line ends and all).
It writes its PID to --pidfile and prints "listening on HOST:PORT" once it
accepts connections. It stops on SIGTERM.
"""
import argparse
import asyncio
import itertools
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, outdir):
        self.outdir = outdir
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        base = os.path.join(self.outdir, "%06d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".env", "w") as f:
            f.write("MAIL FROM:<%s>\n" % envelope.mail_from)
            for r in envelope.rcpt_tos:
                f.write("RCPT TO:<%s>\n" % r)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Ok: stored as %06d" % n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    ctl = Controller(Store(a.outdir), hostname=a.host, port=a.port,
                     decode_data=False, data_size_limit=None)
    ctl.start()
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    print("listening on %s:%d" % (a.host, a.port), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
