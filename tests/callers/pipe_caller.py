#!/usr/bin/python3
"""pipe_caller.py: a program that hands a message to sendmail the way many
applications do, for tests/integration/callers.sh:

  pipe_caller.py MESSAGE SENDMAIL [ARG]...

runs SENDMAIL ARG... (e.g. "-C conf -i -f sender -- rcpt1 rcpt2") with the
bytes of the file MESSAGE on its standard input, waits (at most 60 s) and
prints "status N" with its exit status, then "stderr: ..." with what it
printed there, if anything. Exits 0 if the status was 0, else 1.
"""
import subprocess
import sys

with open(sys.argv[1], "rb") as f:
    msg = f.read()
try:
    p = subprocess.run(sys.argv[2:], input=msg, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
except subprocess.TimeoutExpired:
    print("status timeout")
    sys.exit(1)
print("status %d" % p.returncode)
if p.stderr:
    print("stderr: " + p.stderr.decode("utf-8", "replace").rstrip("\n").replace("\n", " | "))
sys.exit(0 if p.returncode == 0 else 1)
