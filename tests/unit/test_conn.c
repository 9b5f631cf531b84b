/*
 * test_conn.c: conn.c against real loopback servers started by
 * tests/integration/conn.sh, which passes their ports in the environment:
 *
 *   CONN_PLAIN_PORT    echoes what it reads; closes on "QUIT"
 *   CONN_SILENT_PORT   accepts and never answers
 *   CONN_TLS_PORT      openssl s_server -rev, a CA-signed certificate for
 *                      localhost, 127.0.0.1 and ::1; "CLOSE" ends a session
 *   CONN_WRONG_PORT    the same with a certificate for another name
 *   CONN_EXPIRED_PORT  an expired certificate from the CA
 *   CONN_SELF_PORT     a self-signed certificate for localhost
 *   CONN_SNI_PORT      the wrong-name certificate, and the localhost one
 *                      for clients that send SNI "localhost"
 *   CONN_CA            the CA's certificate
 *
 * A part whose variable is missing is reported as SKIP. The program
 * leaves SIGPIPE at its default action, so a write that raised it would
 * kill the test rather than pass unnoticed.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "conn.h"
#include "t.h"

#define TMO	5000	/* ms, for what should happen at once */

static void	 skip(const char *, const char *);
static unsigned	 env_port(const char *);
static long	 now_ms(void);
static void	 nap(long);
static bool	 starts(const char *, const char *);
static bool	 ends(const char *, const char *);
static unsigned	 closed_port(void);
static bool	 wait_readable(struct conn *, long);
static ssize_t	 read_until(struct conn *, char *, size_t, char, bool *);
static int	 try_tls(struct ptls *, const char *, unsigned, char *, size_t);
static const char *label(struct buf *, const char *, const char *);
static void	 test_open(void);
static void	 test_connect_timeout(void);
static void	 test_plain(void);
static void	 test_silent(void);
static void	 test_tls(void);
static void	 test_tls_misc(void);
static void	 test_bad_certs(void);
static void	 test_sni(void);

static const char *ca;

static void
skip(const char *name, const char *why)
{
	printf("SKIP: %s: %s (%s)\n", t_group, name, why);
}

/* The port in environment variable name, or 0 when unset or invalid. */
static unsigned
env_port(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return 0;
	return (unsigned)v;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool
ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A loopback port where nothing listens (bound, then released). */
static unsigned
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		abort();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		abort();
	close(fd);
	return ntohs(sin.sin_port);
}

/* Polls conn_readable() for up to ms milliseconds. */
static bool
wait_readable(struct conn *c, long ms)
{
	long end = now_ms() + ms;

	while (!conn_readable(c)) {
		if (now_ms() >= end)
			return false;
		nap(10);
	}
	return true;
}

/*
 * Reads into p (NUL-terminated) until the byte stop or size - 1 bytes,
 * asking for at most 3 bytes a time; *over is set if a read returned
 * more than asked. The length, or -1.
 */
static ssize_t
read_until(struct conn *c, char *p, size_t size, char stop, bool *over)
{
	size_t len = 0, ask;
	ssize_t r;

	*over = false;
	while (len < size - 1) {
		ask = size - 1 - len < 3 ? size - 1 - len : 3;
		if ((r = conn_read(c, p + len, ask, TMO)) <= 0)
			break;
		if ((size_t)r > ask)
			*over = true;
		len += (size_t)r;
		if (memchr(p + len - r, stop, (size_t)r) != NULL)
			break;
	}
	p[len] = '\0';
	return (ssize_t)len;
}

static void
test_open(void)
{
	struct buf want = BUF_INIT;
	struct conn *c;
	char err[256];
	unsigned port = closed_port();

	T_GROUP("open");
	c = conn_open("127.0.0.1", 0, TMO, err, sizeof(err));
	T_OK(c == NULL && errno == EINVAL, "port 0 refused");
	c = conn_open("", 25, TMO, err, sizeof(err));
	T_OK(c == NULL && errno == EINVAL, "empty host refused");

	c = conn_open("127.0.0.1", port, TMO, err, sizeof(err));
	T_OK(c == NULL, "closed port: no connection");
	T_INTEQ(errno, ECONNREFUSED, "closed port: errno");
	buf_printf(&want, "connect to 127.0.0.1[127.0.0.1]:%u: "
	    "Connection refused", port);
	T_STREQ(err, want.data, "closed port: error names the address");

	c = conn_open("localhost", port, TMO, err, sizeof(err));
	T_OK(c == NULL, "closed port by name: no connection");
	T_OK(starts(err, "connect to localhost[") &&
	    ends(err, "Connection refused"), "closed port by name: error");
	buf_reset(&want);
	buf_printf(&want, "]:%u: Connection refused", port);
	T_OK(ends(err, want.data), "closed port by name: error has the port");

	c = conn_open("postern-test.invalid", 25, TMO, err, sizeof(err));
	T_OK(c == NULL, "unknown host: no connection");
	T_OK(starts(err, "connect to postern-test.invalid:25: ") &&
	    strlen(err) > strlen("connect to postern-test.invalid:25: "),
	    "unknown host: error");
	printf("# %s\n", err);

	/* A small buffer truncates, NUL-terminated. */
	c = conn_open("127.0.0.1", port, TMO, err, 12);
	T_STREQ(err, "connect to ", "error truncated to the buffer");
	c = conn_open("127.0.0.1", port, TMO, NULL, 0);
	T_OK(c == NULL, "no error buffer");
	conn_close(NULL);
	ptls_free(NULL);
	T_OK(1, "close and free NULL");
	buf_free(&want);
}

/*
 * A connect that never completes: a listener with a full accept queue
 * that nobody drains. Linux then drops further SYNs, so the connect waits
 * for an answer that never comes. If the kernel answers anyway, SKIP.
 */
static void
test_connect_timeout(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct buf want = BUF_INIT;
	struct conn *c;
	char err[256];
	int lfd, fill[4];
	long t0, dt;
	size_t i;

	T_GROUP("connect timeout");
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		abort();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1 ||
	    listen(lfd, 0) == -1)
		abort();
	for (i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	nap(100);
	t0 = now_ms();
	c = conn_open("127.0.0.1", ntohs(sin.sin_port), 300, err, sizeof(err));
	dt = now_ms() - t0;
	if (c != NULL) {
		skip("connect times out", "the kernel accepted the connection");
		conn_close(c);
	} else {
		T_INTEQ(errno, ETIMEDOUT, "errno ETIMEDOUT");
		T_OK(dt >= 280 && dt < 1000, "within the timeout");
		buf_printf(&want, "connect to 127.0.0.1[127.0.0.1]:%u: "
		    "Connection timed out", ntohs(sin.sin_port));
		T_STREQ(err, want.data, "error");
	}
	for (i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
	buf_free(&want);
}

static void
test_plain(void)
{
	struct buf want = BUF_INIT;
	struct conn *c;
	char err[256], line[64];
	char *big, *back;
	unsigned port = env_port("CONN_PLAIN_PORT");
	size_t len, i;
	ssize_t r;
	bool over;
	int rc;

	T_GROUP("plain");
	if (port == 0) {
		skip("all", "CONN_PLAIN_PORT not set");
		return;
	}
	c = conn_open("127.0.0.1", port, TMO, err, sizeof(err));
	T_OK(c != NULL, "connect");
	if (c == NULL) {
		printf("# %s\n", err);
		return;
	}
	buf_printf(&want, "127.0.0.1[127.0.0.1]:%u", port);
	T_STREQ(conn_peer(c), want.data, "peer");
	T_OK(conn_tls_info(c) == NULL, "no TLS info before TLS");
	T_OK(!conn_readable(c), "nothing to read yet");
	T_INTEQ(conn_write(c, "hello\r\n", 7, TMO), 0, "write");
	T_OK(wait_readable(c, TMO), "readable when the echo arrives");
	r = read_until(c, line, sizeof(line), '\n', &over);
	T_STREQ(line, "hello\r\n", "round trip");
	T_OK(!over, "reads return no more than asked");
	T_INTEQ(conn_read(c, line, 0, TMO), 0, "read of 0 bytes");
	T_INTEQ(conn_write(c, "", 0, TMO), 0, "write of 0 bytes");

	/* 64 KiB through the echo: many writes and reads on both sides. */
	len = 64 * 1024;
	big = xmalloc(len);
	back = xmalloc(len);
	for (i = 0; i < len; i++)
		big[i] = (char)('a' + i % 26);
	rc = conn_write(c, big, len, TMO);
	T_INTEQ(rc, 0, "64 KiB write");
	for (i = 0; i < len; i += (size_t)r)
		if ((r = conn_read(c, back + i, len - i, TMO)) <= 0)
			break;
	T_OK(i == len && memcmp(big, back, len) == 0, "64 KiB read back");
	free(big);
	free(back);

	/* EOF, then writes to the closed peer: EPIPE, not SIGPIPE. */
	T_INTEQ(conn_write(c, "QUIT\r\n", 6, TMO), 0, "write QUIT");
	nap(200);
	T_OK(!conn_readable(c), "EOF is not readable data");
	T_INTEQ(conn_read(c, line, sizeof(line), TMO), 0, "EOF reads 0");
	for (i = 0; i < 250; i++) {
		if ((rc = conn_write(c, "x\r\n", 3, TMO)) == -1)
			break;
		nap(20);
	}
	T_OK(rc == -1 && (errno == EPIPE || errno == ECONNRESET),
	    "write to a closed peer fails, without SIGPIPE");
	conn_close(c);

	/* By name: ::1 may come first and refuse; 127.0.0.1 must win. */
	c = conn_open("localhost", port, TMO, err, sizeof(err));
	T_OK(c != NULL, "connect by name");
	if (c != NULL) {
		buf_reset(&want);
		buf_printf(&want, "localhost[127.0.0.1]:%u", port);
		T_STREQ(conn_peer(c), want.data, "peer by name");
		conn_close(c);
	}
	buf_free(&want);
}

static void
test_silent(void)
{
	struct buf want = BUF_INIT;
	struct ptls *t;
	struct conn *c;
	char err[256], b[16];
	unsigned port = env_port("CONN_SILENT_PORT");
	long t0, dt;
	ssize_t r;

	T_GROUP("silent");
	if (port == 0) {
		skip("all", "CONN_SILENT_PORT not set");
		return;
	}
	c = conn_open("127.0.0.1", port, TMO, err, sizeof(err));
	T_OK(c != NULL, "connect");
	if (c == NULL)
		return;
	T_OK(!conn_readable(c), "not readable");
	t0 = now_ms();
	r = conn_read(c, b, sizeof(b), 300);
	dt = now_ms() - t0;
	T_INTEQ(r, -1, "read times out");
	T_INTEQ(errno, ETIMEDOUT, "errno ETIMEDOUT");
	T_OK(dt >= 290 && dt < 1000, "after 300 ms");
	t0 = now_ms();
	r = conn_read(c, b, sizeof(b), 0);
	T_OK(r == -1 && errno == ETIMEDOUT && now_ms() - t0 < 100,
	    "timeout 0 does not wait");
	conn_close(c);

	if ((t = ptls_new(true, NULL, err, sizeof(err))) == NULL) {
		skip("handshake times out", err);
		return;
	}
	c = conn_open("127.0.0.1", port, TMO, err, sizeof(err));
	T_OK(c != NULL, "connect for TLS");
	if (c != NULL) {
		t0 = now_ms();
		T_INTEQ(conn_tls(c, t, "127.0.0.1", 300, err, sizeof(err)),
		    -1, "handshake times out");
		dt = now_ms() - t0;
		T_INTEQ(errno, ETIMEDOUT, "handshake errno ETIMEDOUT");
		T_OK(dt >= 290 && dt < 1000, "handshake after 300 ms");
		buf_printf(&want, "TLS handshake with 127.0.0.1[127.0.0.1]:%u: "
		    "Connection timed out", port);
		T_STREQ(err, want.data, "handshake timeout error");
		T_OK(conn_tls_info(c) == NULL, "no TLS info");
		T_OK(conn_read(c, b, sizeof(b), 100) == -1 && errno == EPROTO,
		    "no plaintext read after a failed handshake");
		T_OK(conn_write(c, "x", 1, 100) == -1 && errno == EPROTO,
		    "no plaintext write after a failed handshake");
		conn_close(c);
	}
	ptls_free(t);
	buf_free(&want);
}

static void
test_tls(void)
{
	struct buf want = BUF_INIT;
	struct ptls *t;
	struct conn *c;
	char err[256], line[64];
	const char *info;
	unsigned port = env_port("CONN_TLS_PORT");
	size_t i;
	bool over;
	int rc;

	T_GROUP("tls");
	if (port == 0 || ca == NULL) {
		skip("all", "CONN_TLS_PORT or CONN_CA not set");
		return;
	}
	t = ptls_new(true, ca, err, sizeof(err));
	T_OK(t != NULL, "context with the CA");
	if (t == NULL) {
		printf("# %s\n", err);
		return;
	}
	c = conn_open("localhost", port, TMO, err, sizeof(err));
	T_OK(c != NULL, "connect");
	if (c == NULL)
		goto out;
	rc = conn_tls(c, t, "localhost", TMO, err, sizeof(err));
	T_INTEQ(rc, 0, "handshake verifies localhost");
	if (rc != 0)
		printf("# %s\n", err);
	info = conn_tls_info(c);
	T_OK(info != NULL && starts(info, "TLSv1.") &&
	    strstr(info, " with ") != NULL, "TLS info");
	printf("# %s\n", info != NULL ? info : "(null)");
	T_INTEQ(conn_tls(c, t, "localhost", TMO, err, sizeof(err)), -1,
	    "second handshake refused");

	/* A TLS 1.3 session ticket arrives after the handshake: no data. */
	nap(100);
	T_OK(!conn_readable(c), "not readable: a session ticket is no data");
	T_INTEQ(conn_write(c, "hello\r\n", 7, TMO), 0, "write");
	T_OK(wait_readable(c, TMO), "readable when the answer arrives");
	(void)read_until(c, line, sizeof(line), '\n', &over);
	T_STREQ(line, "olleh\n", "round trip");
	T_OK(!over, "reads return no more than asked");

	/* close_notify from the server, then writes: EPIPE, no SIGPIPE. */
	T_INTEQ(conn_write(c, "CLOSE\n", 6, TMO), 0, "write CLOSE");
	nap(200);
	T_OK(!conn_readable(c), "close_notify is not readable data");
	T_INTEQ(conn_read(c, line, sizeof(line), TMO), 0, "EOF reads 0");
	for (i = 0; i < 250; i++) {
		if ((rc = conn_write(c, "x\r\n", 3, TMO)) == -1)
			break;
		nap(20);
	}
	T_OK(rc == -1 && (errno == EPIPE || errno == ECONNRESET),
	    "write to a closed peer fails, without SIGPIPE");
	printf("# after %zu writes: %s\n", i, strerror(errno));
	conn_close(c);

	/* By IP literal: the certificate's IP SAN, and no SNI. */
	c = conn_open("127.0.0.1", port, TMO, err, sizeof(err));
	T_OK(c != NULL, "connect to 127.0.0.1");
	if (c != NULL) {
		rc = conn_tls(c, t, "127.0.0.1", TMO, err, sizeof(err));
		T_INTEQ(rc, 0, "handshake verifies 127.0.0.1");
		if (rc != 0)
			printf("# %s\n", err);
		conn_close(c);
	}

	/* The system store does not know the test CA. */
	ptls_free(t);
	t = ptls_new(true, NULL, err, sizeof(err));
	T_OK(t != NULL, "context with the system store");
	if (t == NULL)
		goto out;
	c = conn_open("localhost", port, TMO, err, sizeof(err));
	if (c != NULL) {
		rc = conn_tls(c, t, "localhost", TMO, err, sizeof(err));
		buf_printf(&want, "TLS handshake with %s: certificate verify "
		    "failed: ", conn_peer(c));
		T_OK(rc == -1 && starts(err, want.data),
		    "system store refuses the test CA");
		printf("# %s\n", err);
		conn_close(c);
	}
out:
	ptls_free(t);
	buf_free(&want);
}

static void
test_tls_misc(void)
{
	struct ptls *t;
	struct conn *c;
	char err[256];
	unsigned port = env_port("CONN_TLS_PORT");
	unsigned plain = env_port("CONN_PLAIN_PORT");
	long t0;
	int rc;

	T_GROUP("tls misc");
	t = ptls_new(true, "/nonexistent/ca.pem", err, sizeof(err));
	T_OK(t == NULL, "missing CA file refused");
	T_STREQ(err, "TLS CA file /nonexistent/ca.pem: No such file or "
	    "directory", "missing CA file: error");
	t = ptls_new(true, "/dev/null", err, sizeof(err));
	T_OK(t == NULL, "empty CA file refused");
	T_STREQ(err, "TLS CA file /dev/null: no certificate or crl found",
	    "empty CA file: error");

	if (port == 0 || ca == NULL)
		skip("context freed before the connection", "no TLS server");
	else if ((t = ptls_new(true, ca, err, sizeof(err))) != NULL) {
		c = conn_open("localhost", port, TMO, err, sizeof(err));
		if (c != NULL) {
			rc = conn_tls(c, t, "localhost", TMO, err,
			    sizeof(err));
			ptls_free(t);
			T_INTEQ(rc, 0, "handshake");
			T_INTEQ(conn_write(c, "x\n", 2, TMO), 0,
			    "write after ptls_free");
			conn_close(c);
			T_OK(1, "context freed before the connection");
		} else
			ptls_free(t);
	}

	if (plain == 0) {
		skip("TLS with a plain server", "CONN_PLAIN_PORT not set");
		return;
	}
	if ((t = ptls_new(true, ca, err, sizeof(err))) == NULL)
		return;
	c = conn_open("127.0.0.1", plain, TMO, err, sizeof(err));
	if (c != NULL) {
		t0 = now_ms();
		rc = conn_tls(c, t, "127.0.0.1", 2000, err, sizeof(err));
		T_OK(rc == -1 && errno != ETIMEDOUT && now_ms() - t0 < 1500,
		    "TLS with a plain (echo) server fails at once");
		T_OK(starts(err, "TLS handshake with 127.0.0.1[127.0.0.1]:"),
		    "error names the peer");
		printf("# %s\n", err);
		conn_close(c);
	}
	ptls_free(t);
}

/* "a: b" in b (reused), for test names. */
static const char *
label(struct buf *b, const char *a, const char *what)
{
	buf_reset(b);
	buf_printf(b, "%s: %s", a, what);
	return b->data;
}

/* One handshake with host against port: 0 or -1, err set. */
static int
try_tls(struct ptls *t, const char *host, unsigned port, char *err,
    size_t errlen)
{
	struct conn *c;
	int rc;

	if ((c = conn_open(host, port, TMO, err, errlen)) == NULL)
		return -2;
	rc = conn_tls(c, t, host, TMO, err, errlen);
	conn_close(c);
	return rc;
}

static void
test_bad_certs(void)
{
	static const struct {
		const char	*env;
		const char	*host;
		const char	*reason;
	} cases[] = {
		{ "CONN_WRONG_PORT", "localhost", "hostname mismatch" },
		{ "CONN_WRONG_PORT", "127.0.0.1", "IP address mismatch" },
		{ "CONN_EXPIRED_PORT", "localhost",
		    "certificate has expired" },
		{ "CONN_SELF_PORT", "localhost", "self-signed certificate" },
	};
	struct buf name = BUF_INIT, want = BUF_INIT, lbl = BUF_INIT;
	struct ptls *strict, *lax;
	char err[256];
	unsigned port;
	size_t i;
	int rc;

	T_GROUP("bad certificates");
	if (ca == NULL) {
		skip("all", "CONN_CA not set");
		return;
	}
	strict = ptls_new(true, ca, err, sizeof(err));
	lax = ptls_new(false, NULL, err, sizeof(err));
	if (strict == NULL || lax == NULL) {
		T_OK(0, "contexts");
		goto out;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&name);
		buf_printf(&name, "%s %s", cases[i].env, cases[i].host);
		if ((port = env_port(cases[i].env)) == 0) {
			skip(name.data, "not set");
			continue;
		}
		rc = try_tls(strict, cases[i].host, port, err, sizeof(err));
		buf_reset(&want);
		buf_printf(&want, "TLS handshake with %s[127.0.0.1]:%u: "
		    "certificate verify failed: %s", cases[i].host, port,
		    cases[i].reason);
		T_INTEQ(rc, -1, label(&lbl, name.data, "refused"));
		if (rc == -1)
			T_INTEQ(errno, EPROTO, label(&lbl, name.data, "errno"));
		T_STREQ(err, want.data, label(&lbl, name.data, "error"));
		rc = try_tls(lax, cases[i].host, port, err, sizeof(err));
		T_INTEQ(rc, 0, label(&lbl, name.data,
		    "accepted without verify"));
		if (rc != 0)
			printf("# %s\n", err);
	}
out:
	ptls_free(strict);
	ptls_free(lax);
	buf_free(&name);
	buf_free(&want);
	buf_free(&lbl);
}

/*
 * The SNI server shows the localhost certificate only to a client that
 * asks for "localhost": a name gets it, an IP literal (no SNI) does not.
 */
static void
test_sni(void)
{
	struct buf want = BUF_INIT;
	struct ptls *t;
	char err[256];
	unsigned port = env_port("CONN_SNI_PORT");

	T_GROUP("sni");
	if (port == 0 || ca == NULL) {
		skip("all", "CONN_SNI_PORT or CONN_CA not set");
		return;
	}
	if ((t = ptls_new(true, ca, err, sizeof(err))) == NULL) {
		T_OK(0, "context");
		return;
	}
	T_INTEQ(try_tls(t, "localhost", port, err, sizeof(err)), 0,
	    "SNI sent for a name");
	T_INTEQ(try_tls(t, "127.0.0.1", port, err, sizeof(err)), -1,
	    "no SNI for an IP literal");
	buf_printf(&want, "TLS handshake with 127.0.0.1[127.0.0.1]:%u: "
	    "certificate verify failed: IP address mismatch", port);
	T_STREQ(err, want.data, "no SNI: the default certificate");
	ptls_free(t);
	buf_free(&want);
}

int
main(void)
{
	/* Inherited SIG_IGN would hide a SIGPIPE: make it fatal again. */
	signal(SIGPIPE, SIG_DFL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ca = getenv("CONN_CA");
	if (ca != NULL && *ca == '\0')
		ca = NULL;

	test_open();
	test_connect_timeout();
	test_plain();
	test_silent();
	test_tls();
	test_tls_misc();
	test_bad_certs();
	test_sni();
	return t_done();
}
