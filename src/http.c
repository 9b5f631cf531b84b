/*
 * http.c: a minimal HTTPS/1.1 client (see http.h): one POST per
 * connection, "Connection: close", and a pure parser for the response.
 *
 * The transport is conn.c: TCP with a timeout, TLS 1.2+ with the chain
 * and host name verified exactly as for SMTP. One deadline, taken when
 * http_post() starts, bounds connect, handshake, request and response
 * together, so a server that dribbles bytes cannot hold the caller.
 *
 * The response is read into one buffer of HTTP_RAW_MAX bytes allocated
 * up front and parsed again after each read (the parser is pure and the
 * sizes are small): never a realloc that would leave a copy of a token
 * in freed memory; the buffer is wiped before it is freed.
 *
 * Framing (RFC 9112 section 6): chunked transfer coding, else
 * Content-Length, else the end of the connection. Any other transfer
 * coding, obsolete header folding, a bad or conflicting Content-Length
 * and bytes that are not HTTP are errors rather than guesses.
 */
#include "config.h"

#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "compat.h"
#include "conn.h"
#include "util.h"
#include "http.h"

#define CHUNK_LINE_MAX	1024	/* a chunk-size line with extensions */

static int	 ms_left(int64_t);
static const char *find_eol(const char *, const char *);
static bool	 is_tchar(int);
static void	 copy_printable(char *, size_t, const char *, size_t);
static int	 parse_head(const char *, size_t, struct http_response *,
		    long long *, char *, size_t);
static int	 parse_chunked(const char *, size_t, bool, struct buf *,
		    char *, size_t);

static int
ms_left(int64_t deadline)
{
	int64_t left = deadline - util_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int
http_url_parse(const char *s, struct http_url *u, char *err, size_t errlen)
{
	const char *p, *hs, *he, *end;
	char host[256];
	const char *ep;
	struct in6_addr a6;
	unsigned long port = 443;
	size_t i, n;

	memset(u, 0, sizeof(*u));
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
			util_errf(err, errlen, "URL: space, control or "
			    "non-ASCII character at offset %zu", i);
			return -1;
		}
	}
	if (strncasecmp(s, "https://", 8) != 0) {
		util_errf(err, errlen, "URL: %s", strncasecmp(s, "http://", 7)
		    == 0 ? "plain http is not allowed, use https" :
		    "must start with https://");
		return -1;
	}
	if (strchr(s, '#') != NULL) {
		util_errf(err, errlen, "URL: a fragment (#) is not allowed");
		return -1;
	}
	hs = s + 8;
	end = hs + strcspn(hs, "/?");
	if (memchr(hs, '@', (size_t)(end - hs)) != NULL) {
		util_errf(err, errlen, "URL: user information (@) is not "
		    "allowed");
		return -1;
	}
	if (*hs == '[') {
		hs++;
		if ((he = memchr(hs, ']', (size_t)(end - hs))) == NULL) {
			util_errf(err, errlen, "URL: unterminated [IPv6 address]");
			return -1;
		}
		p = he + 1;
		n = (size_t)(he - hs);
		if (n == 0 || n >= sizeof(host)) {
			util_errf(err, errlen, "URL: bad [IPv6 address]");
			return -1;
		}
		memcpy(host, hs, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			util_errf(err, errlen, "URL: bad IPv6 address [%s]", host);
			return -1;
		}
	} else {
		he = hs + strcspn(hs, ":/?");
		p = he;
		n = (size_t)(he - hs);
		if (n == 0 || n > 253) {
			util_errf(err, errlen, "URL: %s host name",
			    n == 0 ? "missing" : "over-long");
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (!isalnum((unsigned char)hs[i]) && hs[i] != '-' &&
			    hs[i] != '.') {
				util_errf(err, errlen, "URL: bad character in "
				    "the host name");
				return -1;
			}
		}
		memcpy(host, hs, n);
		host[n] = '\0';
	}
	if (p < end) {
		if (*p != ':' || p + 1 == end) {
			util_errf(err, errlen, "URL: bad port");
			return -1;
		}
		for (ep = p + 1; ep < end; ep++) {
			if (!isdigit((unsigned char)*ep) || ep - p > 5) {
				util_errf(err, errlen, "URL: bad port");
				return -1;
			}
		}
		port = strtoul(p + 1, NULL, 10);
		if (port < 1 || port > 65535) {
			util_errf(err, errlen, "URL: port out of range");
			return -1;
		}
	}
	u->host = xstrdup(host);
	u->port = (unsigned)port;
	if (*end == '\0')
		u->path = xstrdup("/");
	else if (*end == '?') {
		struct buf b = BUF_INIT;

		buf_printf(&b, "/%s", end);
		u->path = buf_detach(&b, NULL);
	} else
		u->path = xstrdup(end);
	return 0;
}

void
http_url_free(struct http_url *u)
{
	if (u == NULL)
		return;
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

void
http_form_add(struct buf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *s;
	unsigned char c;
	int pass;

	if (b->len > 0)
		buf_addch(b, '&');
	for (pass = 0; pass < 2; pass++) {
		for (s = pass == 0 ? name : value; *s != '\0'; s++) {
			c = (unsigned char)*s;
			if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
			    c == '~')
				buf_addch(b, c);
			else if (c == ' ')
				buf_addch(b, '+');
			else {
				buf_addch(b, '%');
				buf_addch(b, hex[c >> 4]);
				buf_addch(b, hex[c & 15]);
			}
		}
		if (pass == 0)
			buf_addch(b, '=');
	}
}

void
http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
	/* Sized once: no realloc ever leaves a copy of a token behind. */
	buf_grow(&r->body, HTTP_BODY_MAX);
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	if (r->body.cap > 0)
		OPENSSL_cleanse(r->body.data, r->body.cap);
	buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

/* The next '\n' in [p, end), or NULL. */
static const char *
find_eol(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* RFC 9110 5.6.2 token characters. */
static bool
is_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) !=
	    NULL);
}

static void
copy_printable(char *dst, size_t dstlen, const char *s, size_t n)
{
	struct buf b = BUF_INIT;

	util_printable(&b, s, n);
	strlcpy(dst, b.data, dstlen);
	buf_free(&b);
}

/*
 * The status line and header fields in p[0..n) (the blank line
 * excluded): fills in status, reason, ctype and chunked, and *clen with
 * the Content-Length or -1. 0, or -1 with err.
 */
static int
parse_head(const char *p, size_t n, struct http_response *r,
    long long *clen, char *err, size_t errlen)
{
	const char *end = p + n, *eol, *le, *colon, *v, *ve;
	long long cl;
	size_t i;

	*clen = -1;
	r->chunked = false;
	r->ctype[0] = '\0';
	r->reason[0] = '\0';
	if ((eol = find_eol(p, end)) == NULL)
		eol = end;
	le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
	if (le - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)p[7]) || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (le - p > 12 && p[12] != ' ')) {
		util_errf(err, errlen, "not an HTTP/1.x status line");
		return -1;
	}
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (r->status < 100 || r->status > 599) {
		util_errf(err, errlen, "bad HTTP status %d", r->status);
		return -1;
	}
	if (le - p > 13)
		copy_printable(r->reason, sizeof(r->reason), p + 13,
		    (size_t)(le - (p + 13)));

	for (p = eol < end ? eol + 1 : end; p < end; p = eol + 1) {
		if ((eol = find_eol(p, end)) == NULL)
			eol = end;
		le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		if (*p == ' ' || *p == '\t') {
			util_errf(err, errlen, "folded header line");
			return -1;
		}
		for (colon = p; colon < le && is_tchar((unsigned char)*colon);
		    colon++)
			;
		if (colon == p || colon == le || *colon != ':') {
			util_errf(err, errlen, "malformed header line");
			return -1;
		}
		for (v = colon + 1; v < le && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = le; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		for (i = 0; v + i < ve; i++) {
			if ((unsigned char)v[i] < 0x20 && v[i] != '\t') {
				util_errf(err, errlen, "control character in "
				    "a header");
				return -1;
			}
		}
		if (colon - p == 14 &&
		    strncasecmp(p, "Content-Length", 14) == 0) {
			if (v == ve || ve - v > 12) {
				util_errf(err, errlen, "bad Content-Length");
				return -1;
			}
			for (cl = 0, i = 0; v + i < ve; i++) {
				if (!isdigit((unsigned char)v[i])) {
					util_errf(err, errlen,
					    "bad Content-Length");
					return -1;
				}
				cl = cl * 10 + (v[i] - '0');
			}
			if (*clen != -1 && *clen != cl) {
				util_errf(err, errlen, "conflicting "
				    "Content-Length headers");
				return -1;
			}
			*clen = cl;
		} else if (colon - p == 17 &&
		    strncasecmp(p, "Transfer-Encoding", 17) == 0) {
			if (ve - v != 7 || strncasecmp(v, "chunked", 7) != 0 ||
			    r->chunked) {
				util_errf(err, errlen, "unsupported "
				    "Transfer-Encoding");
				return -1;
			}
			r->chunked = true;
		} else if (colon - p == 12 &&
		    strncasecmp(p, "Content-Type", 12) == 0)
			copy_printable(r->ctype, sizeof(r->ctype), v,
			    (size_t)(ve - v));
	}
	return 0;
}

/*
 * Decodes a chunked body from p[0..n) into body: 1 complete (trailers
 * read), 0 more needed, -1 with err.
 */
static int
parse_chunked(const char *p, size_t n, bool eof, struct buf *body,
    char *err, size_t errlen)
{
	const char *end = p + n, *eol, *le, *q;
	unsigned long size;
	int digits;

	buf_reset(body);
	for (;;) {
		if ((eol = find_eol(p, end)) == NULL) {
			if ((size_t)(end - p) >= CHUNK_LINE_MAX)
				goto long_line;
			goto more;
		}
		if (eol - p >= CHUNK_LINE_MAX)
			goto long_line;
		le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		size = 0;
		for (q = p, digits = 0; q < le && isxdigit((unsigned char)*q);
		    q++, digits++) {
			if (digits == 7) {
				util_errf(err, errlen, "chunk too big");
				return -1;
			}
			size = size * 16 + (unsigned long)(isdigit(
			    (unsigned char)*q) ? *q - '0' :
			    tolower((unsigned char)*q) - 'a' + 10);
		}
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
		if (digits == 0 || (q < le && *q != ';')) {
			util_errf(err, errlen, "bad chunk size line");
			return -1;
		}
		p = eol + 1;
		if (size == 0)
			break;
		if (size > HTTP_BODY_MAX - body->len) {
			util_errf(err, errlen, "body over %d bytes",
			    HTTP_BODY_MAX);
			return -1;
		}
		if ((size_t)(end - p) < size + 1)
			goto more;
		buf_add(body, p, size);
		p += size;
		if (*p == '\r') {
			if (end - p < 2)
				goto more;
			p++;
		}
		if (*p != '\n') {
			util_errf(err, errlen, "chunk not followed by CRLF");
			return -1;
		}
		p++;
	}
	/* Trailer fields, ignored, up to the blank line. */
	for (;;) {
		if ((eol = find_eol(p, end)) == NULL) {
			if ((size_t)(end - p) >= CHUNK_LINE_MAX)
				goto long_line;
			goto more;
		}
		le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		if (le == p)
			return 1;
		p = eol + 1;
	}
long_line:
	util_errf(err, errlen, "over-long chunk line");
	return -1;
more:
	if (eof) {
		util_errf(err, errlen, "connection closed inside the "
		    "chunked body");
		return -1;
	}
	return 0;
}

int
http_response_parse(const char *p, size_t n, bool eof,
    struct http_response *r, char *err, size_t errlen)
{
	const char *end = p + n, *q, *eol, *body;
	long long clen;
	size_t avail;

	if (n > HTTP_RAW_MAX) {
		util_errf(err, errlen, "response over %d bytes", HTTP_RAW_MAX);
		return -1;
	}
	buf_reset(&r->body);
	for (;;) {
		/* The blank line that ends the head, within HTTP_HEAD_MAX. */
		body = NULL;
		for (q = p; q < end && (size_t)(q - p) < HTTP_HEAD_MAX;
		    q = eol + 1) {
			if ((eol = find_eol(q, end)) == NULL)
				break;
			if (eol == q || (eol == q + 1 && *q == '\r')) {
				body = eol + 1;
				break;
			}
		}
		if (body == NULL) {
			if ((size_t)(end - p) >= HTTP_HEAD_MAX) {
				util_errf(err, errlen, "headers over %d bytes",
				    HTTP_HEAD_MAX);
				return -1;
			}
			if (eof) {
				util_errf(err, errlen, n == 0 ? "empty response" :
				    "connection closed inside the headers");
				return -1;
			}
			return 0;
		}
		if ((size_t)(body - p) > HTTP_HEAD_MAX) {
			util_errf(err, errlen, "headers over %d bytes",
			    HTTP_HEAD_MAX);
			return -1;
		}
		if (parse_head(p, (size_t)(q - p), r, &clen, err, errlen) == -1)
			return -1;
		if (r->status >= 200)
			break;
		if (r->status == 101) {
			util_errf(err, errlen, "unexpected 101 response");
			return -1;
		}
		p = body;	/* an interim response: the real one follows */
	}

	avail = (size_t)(end - body);
	if (r->chunked)
		return parse_chunked(body, avail, eof, &r->body, err, errlen);
	if (r->status == 204 || r->status == 304)
		return 1;
	if (clen >= 0) {
		if (clen > HTTP_BODY_MAX) {
			util_errf(err, errlen, "body over %d bytes",
			    HTTP_BODY_MAX);
			return -1;
		}
		if (avail < (size_t)clen) {
			if (eof) {
				util_errf(err, errlen, "connection closed "
				    "after %zu of %lld body bytes", avail, clen);
				return -1;
			}
			return 0;
		}
		buf_add(&r->body, body, (size_t)clen);
		return 1;
	}
	if (avail > HTTP_BODY_MAX) {
		util_errf(err, errlen, "body over %d bytes", HTTP_BODY_MAX);
		return -1;
	}
	if (!eof)
		return 0;
	buf_add(&r->body, body, avail);
	return 1;
}

int
http_post(const struct http_url *u, struct ptls *t, const char *ctype,
    const void *body, size_t len, int timeout_ms, struct http_response *r,
    char *err, size_t errlen)
{
	int64_t deadline = util_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	struct buf head = BUF_INIT;
	struct conn *c;
	char *raw, perr[256];
	size_t got = 0;
	ssize_t n;
	int rv = -1, prv;
	bool v6 = strchr(u->host, ':') != NULL;

	if ((c = conn_open(u->host, u->port, ms_left(deadline), err,
	    errlen)) == NULL)
		return -1;
	if (conn_tls(c, t, u->host, ms_left(deadline), err, errlen) == -1) {
		conn_close(c);
		return -1;
	}
	buf_printf(&head, "POST %s HTTP/1.1\r\nHost: %s%s%s", u->path,
	    v6 ? "[" : "", u->host, v6 ? "]" : "");
	if (u->port != 443)
		buf_printf(&head, ":%u", u->port);
	buf_printf(&head, "\r\nUser-Agent: postern/%s\r\n"
	    "Accept: application/json\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    PACKAGE_VERSION, ctype, len);
	if (conn_write(c, head.data, head.len, ms_left(deadline)) == -1 ||
	    conn_write(c, body, len, ms_left(deadline)) == -1) {
		util_errf(err, errlen, "write to %s: %s", conn_peer(c),
		    errno == ETIMEDOUT ? "timed out" : strerror(errno));
		buf_free(&head);
		conn_close(c);
		return -1;
	}
	buf_free(&head);

	raw = xmalloc(HTTP_RAW_MAX);
	for (;;) {
		if (got == HTTP_RAW_MAX) {
			util_errf(err, errlen, "response from %s: over %d bytes",
			    conn_peer(c), HTTP_RAW_MAX);
			break;
		}
		n = conn_read(c, raw + got, HTTP_RAW_MAX - got,
		    ms_left(deadline));
		if (n == -1) {
			util_errf(err, errlen, "read from %s: %s", conn_peer(c),
			    errno == ETIMEDOUT ? "timed out waiting for the "
			    "response" : strerror(errno));
			break;
		}
		got += (size_t)n;
		prv = http_response_parse(raw, got, n == 0, r, perr,
		    sizeof(perr));
		if (prv == 1) {
			rv = 0;
			break;
		}
		if (prv == -1) {
			util_errf(err, errlen, "response from %s: %s",
			    conn_peer(c), perr);
			break;
		}
	}
	OPENSSL_cleanse(raw, HTTP_RAW_MAX);
	free(raw);
	conn_close(c);
	return rv;
}
