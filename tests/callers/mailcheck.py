#!/usr/bin/python3
"""mailcheck.py: compares what a caller gave sendmail with what the test
smarthost received, for tests/integration/callers.sh.

  mailcheck.py same INPUT EML [--drop NAME]... [--added NAME]...
      INPUT is the message as the caller wrote it (LF, CRLF or mixed),
      EML the smarthost's NNNNNN.eml. Passes (exit 0, no output) when:
      - EML has no bare CR or LF (every line ends in CRLF);
      - its body is INPUT's body byte for byte, line ends made CRLF (and
        one added after a last line that has none);
      - its header fields are INPUT's, in order, byte for byte (line ends
        made CRLF), less those named by --drop (which must not be in EML
        at all), plus exactly one of each named by --added that INPUT
        lacks (a header sendmail adds, e.g. Date, Message-ID), anywhere.
      Otherwise prints what differs, one line per problem, and exits 1.

  mailcheck.py header EML NAME
      Prints the raw value of the first NAME field (unfolded, CRLF
      removed); exit 1 if there is none.

  mailcheck.py part EML FILENAME FILE
      Exit 0 if a MIME part of EML named FILENAME decodes to FILE's bytes.

  mailcheck.py text EML
      Prints the first text/plain part, decoded (as UTF-8).
"""
import email
import email.policy
import re
import sys


def lines_crlf(b):
    """b with every line end (LF, CRLF) made CRLF."""
    return re.sub(rb"\r?\n", b"\r\n", b)


def split(msg):
    """(header, body) of msg (CRLF line ends) at the first empty line."""
    if msg.startswith(b"\r\n"):
        return b"", msg[2:]
    if b"\r\n\r\n" in msg:
        h, b = msg.split(b"\r\n\r\n", 1)
        return h, b
    return msg, b""


def fields(head):
    """The header fields of head (CRLF line ends) as a list of (lowercase
    name, raw bytes including continuation lines)."""
    out = []
    for line in head.split(b"\r\n"):
        if line == b"":
            continue
        if line[:1] in (b" ", b"\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + b"\r\n" + line)
        else:
            out.append((line.split(b":", 1)[0].strip().lower().decode("ascii", "replace"), line))
    return out


def same(argv):
    inp_path, eml_path = argv[0], argv[1]
    drop, added = set(), set()
    i = 2
    while i < len(argv):
        if argv[i] == "--drop":
            drop.add(argv[i + 1].lower())
        elif argv[i] == "--added":
            added.add(argv[i + 1].lower())
        else:
            sys.exit("mailcheck.py: bad argument " + argv[i])
        i += 2
    inp = open(inp_path, "rb").read()
    eml = open(eml_path, "rb").read()
    problems = []
    if re.search(rb"\r(?!\n)|(?<!\r)\n", eml):
        problems.append("bare CR or LF in what the smarthost received")
    ih, ib = split(lines_crlf(inp))
    if ib and not ib.endswith(b"\r\n"):
        ib += b"\r\n"  # the last line gets its line end
    if b"\r\n\r\n" not in eml:
        problems.append("no empty line after the header in the .eml")
    eh, eb = split(eml)
    if eb != ib:
        # the first difference, for the log
        n = next((k for k in range(min(len(eb), len(ib))) if eb[k] != ib[k]),
                 min(len(eb), len(ib)))
        problems.append("body differs at byte %d of %d/%d: got %r, want %r" % (
            n, len(eb), len(ib), eb[max(0, n - 20):n + 40], ib[max(0, n - 20):n + 40]))
    ifl = fields(ih)
    efl = fields(eh)
    for name, raw in efl:
        if name in drop:
            problems.append("header %s was relayed: %r" % (name, raw))
    for name in added:
        if any(n == name for n, _ in ifl):
            # given by the caller: must be kept, not added
            continue
        k = sum(1 for n, _ in efl if n == name)
        if k != 1:
            problems.append("header %s: %d of them, want 1 added" % (name, k))
    given = {n for n, _ in ifl}
    want = [r for n, r in ifl if n not in drop]
    got = [r for n, r in efl if not (n in added and n not in given)]
    if got != want:
        problems.append("header fields differ: got %r, want %r" % (got, want))
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


def parse(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.compat32)


def header(argv):
    eml = open(argv[0], "rb").read()
    head = eml.split(b"\r\n\r\n", 1)[0]
    for name, raw in fields(head):
        if name == argv[1].lower():
            v = raw.split(b":", 1)[1]
            v = re.sub(rb"\r\n", b"", v).strip()
            sys.stdout.buffer.write(v + b"\n")
            return
    sys.exit(1)


def part(argv):
    msg = parse(argv[0])
    want = open(argv[2], "rb").read()
    for p in msg.walk():
        if p.get_filename() == argv[1]:
            sys.exit(0 if p.get_payload(decode=True) == want else 1)
    sys.exit(1)


def text(argv):
    msg = parse(argv[0])
    for p in msg.walk():
        if p.get_content_type() == "text/plain" and not p.get_filename():
            sys.stdout.buffer.write(p.get_payload(decode=True))
            return
    sys.exit(1)


def main():
    cmds = {"same": same, "header": header, "part": part, "text": text}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
