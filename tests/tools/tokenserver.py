#!/usr/bin/python3
"""A test OAuth 2.0 token endpoint for postern's token client (stdlib only).

It serves HTTPS/1.1 on 127.0.0.1 (or ::1) with the test certificates of
tests/tools/mkcerts.sh and answers POSTs of the refresh-token grant
(RFC 6749 section 6) and the client-credentials grant (section 4.4) as
Google's and Microsoft's endpoints do: a JSON body with access_token,
token_type "Bearer", expires_in and, when rotating, a new refresh_token.

It checks what a real endpoint checks: POST, an
application/x-www-form-urlencoded body, client_id, client_secret (when
--client-secret is given; a public client sends none), grant_type, the
current refresh_token. With --rotate, each successful refresh (one
without a fault, or with fault=chunked) issues a new refresh token and the
old one becomes invalid_grant.

Each request appends one line to --log:
  grant=GRANT status=CODE fault=FAULT scope=SCOPE
so that a test can count the requests per grant. The query string of the
request URL selects behaviour per request (the token URL carries it):

  expires=N        expires_in N (default --expires)
  expires=none     no expires_in;  expires=str: expires_in as a string
  fault=500        HTTP 500 with an HTML page
  fault=garbage    HTTP 200, text/html, not JSON
  fault=badjson    HTTP 200, application/json, a truncated object
  fault=notoken    HTTP 200 without access_token
  fault=mac        HTTP 200, token_type "mac"
  fault=echo       HTTP 400 invalid_request whose error_description
                   repeats the client secret and refresh token it got
  fault=slow       never answers (holds the connection for 30 s)
  fault=drip       sends the headers, then one body byte every 0.3 s
  fault=huge       HTTP 200 with a 100,000-byte body
  fault=bighead    HTTP 200 with 20 KiB of headers
  fault=chunked    the normal answer in chunked transfer coding, in small
                   chunks with a chunk extension and a trailer
  fault=close      closes the connection without an answer
  fault=revoke     HTTP 400 invalid_grant, as for a revoked refresh token

With --token-file PATH, each access token it issues replaces the first
line of PATH (atomically) and is appended to PATH.all, so that
smarthost.py --auth-token-file accepts exactly the current token and a
test can look for every token issued.

It writes its port to --portfile once it listens, and exits on SIGTERM or
after --life seconds.
"""
import argparse
import http.server
import json
import os
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients refusing our certificate are part of the tests.
        pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenserver"
    sys_version = ""
    timeout = 20

    def log_message(self, fmt, *args):
        pass

    def record(self, grant, status, fault, scope):
        st = self.server.st
        with st["lock"]:
            with open(st["log"], "a") as f:
                f.write("grant=%s status=%d fault=%s scope=%s\n" %
                        (grant or "-", status, fault or "-", scope or "-"))

    def send(self, status, obj=None, body=None, ctype="application/json",
             chunked=False):
        if body is None:
            body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):
                part = body[i:i + 7]
                ext = ";x=y" if i == 0 else ""
                self.wfile.write(b"%x%s\r\n%s\r\n" %
                                 (len(part), ext.encode(), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\nX-Trailer: 1\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        self.send(405, {"error": "invalid_request"})

    def do_POST(self):
        st = self.server.st
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        fault = q.get("fault", [""])[0]
        expires = q.get("expires", [str(st["expires"])])[0]
        try:
            n = int(self.headers.get("Content-Length", ""))
            raw = self.rfile.read(n) if 0 <= n <= 65536 else b""
        except ValueError:
            raw = b""
        ctype = self.headers.get("Content-Type", "")
        try:
            form = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True,
                                         strict_parsing=True)
        except (ValueError, UnicodeDecodeError):
            form = {}
        one = {k: v[0] for k, v in form.items() if len(v) == 1}
        grant = one.get("grant_type")
        scope = one.get("scope")

        def reply(status, obj=None, **kw):
            self.record(grant, status, fault, scope)
            self.send(status, obj, **kw)

        if fault == "close":
            self.record(grant, 0, fault, scope)
            self.close_connection = True
            self.connection.close()
            return
        if fault == "slow":
            self.record(grant, 0, fault, scope)
            time.sleep(30)
            self.close_connection = True
            return
        if ctype != "application/x-www-form-urlencoded" or not form or \
                len(one) != len(form) or self.headers.get("Host") is None:
            return reply(400, {"error": "invalid_request",
                               "error_description": "bad request body"})
        if one.get("client_id") != st["client_id"]:
            return reply(401, {"error": "invalid_client"})
        if one.get("client_secret") != st["client_secret"]:
            return reply(401, {"error": "invalid_client",
                               "error_description": "client authentication "
                               "failed"})
        if fault == "echo":
            return reply(400, {"error": "invalid_request",
                               "error_description": "got secret %s and "
                               "refresh token %s" %
                               (one.get("client_secret"),
                                one.get("refresh_token"))})
        if fault == "revoke":
            return reply(400, {"error": "invalid_grant",
                               "error_description": "Token has been "
                               "expired or revoked."})
        resp = {}
        with st["lock"]:
            if grant == "refresh_token":
                if one.get("refresh_token") != st["refresh"]:
                    resp = None
                elif st["rotate"] and fault in ("", "chunked"):
                    # A broken answer does not rotate: the client could
                    # not have seen the new token.
                    st["n"] += 1
                    st["refresh"] = "rt-%d-%s" % (st["n"],
                                                  secrets.token_hex(8))
                    resp["refresh_token"] = st["refresh"]
            elif grant == "client_credentials":
                if st["client_secret"] is None:
                    return reply(401, {"error": "unauthorized_client"})
            else:
                return reply(400, {"error": "unsupported_grant_type"})
            st["n"] += 1
            token = "at-%d-%s" % (st["n"], secrets.token_hex(16))
            if st["token_file"] and resp is not None and \
                    fault in ("", "chunked"):
                tf = st["token_file"]
                with open(tf + ".tmp", "w") as f:
                    f.write(token + "\n")
                os.rename(tf + ".tmp", tf)
                with open(tf + ".all", "a") as f:
                    f.write(token + "\n")
        if resp is None:
            return reply(400, {"error": "invalid_grant",
                               "error_description": "Bad Request"})
        resp["access_token"] = token
        resp["token_type"] = "mac" if fault == "mac" else "Bearer"
        if expires == "str":
            resp["expires_in"] = str(st["expires"])
        elif expires != "none":
            resp["expires_in"] = int(expires)
        if scope:
            resp["scope"] = scope
        if fault == "notoken":
            del resp["access_token"]
        if fault == "500":
            return reply(500, body=b"<html><body>Internal error</body>"
                         b"</html>", ctype="text/html")
        if fault == "garbage":
            return reply(200, body=b"<html>Service Unavailable</html>",
                         ctype="text/html")
        if fault == "badjson":
            return reply(200, body=json.dumps(resp).encode()[:20])
        if fault == "huge":
            resp["padding"] = "x" * 100000
            return reply(200, resp)
        if fault == "bighead":
            self.record(grant, 200, fault, scope)
            self.send_response(200)
            for i in range(400):
                self.send_header("X-Pad-%d" % i, "y" * 40)
            body = json.dumps(resp).encode()
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        if fault == "drip":
            self.record(grant, 200, fault, scope)
            body = json.dumps(resp).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            try:
                for ch in body:
                    self.wfile.write(bytes([ch]))
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
            self.close_connection = True
            return
        reply(200, resp, chunked=(fault == "chunked"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--client-secret")
    ap.add_argument("--refresh-token")
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("--rotate", action="store_true")
    ap.add_argument("--token-file")
    ap.add_argument("--life", type=float, default=300)
    a = ap.parse_args()

    Server.address_family = socket.AF_INET6 if ":" in a.host \
        else socket.AF_INET
    srv = Server((a.host, a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    # The handshake happens in the handler's thread, on the first read.
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                 do_handshake_on_connect=False)
    srv.st = {"lock": threading.Lock(), "log": a.log, "n": 0,
              "client_id": a.client_id, "client_secret": a.client_secret,
              "refresh": a.refresh_token, "rotate": a.rotate,
              "expires": a.expires, "token_file": a.token_file}
    open(a.log, "a").close()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    with open(a.portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(a.portfile + ".tmp", a.portfile)
    time.sleep(a.life)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
