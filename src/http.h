/*
 * http.h: a minimal HTTPS/1.1 client for one POST and its response, as
 * the OAuth 2.0 token client needs it (RFC 9110, RFC 9112).
 *
 * https only: the request and the response carry secrets. TCP, TLS and
 * certificate verification are conn.c's, with a caller's struct ptls.
 * Every read is bounded: the status line and headers to HTTP_HEAD_MAX,
 * the decoded body to HTTP_BODY_MAX, the raw bytes to HTTP_RAW_MAX; the
 * whole exchange, connect included, to one deadline.
 *
 * Errors come back as one printable line in err naming the peer, never
 * quoting a request or response body.
 */
#ifndef PST_HTTP_H
#define PST_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define HTTP_HEAD_MAX	(16 * 1024)	/* status line and headers */
#define HTTP_BODY_MAX	(64 * 1024)	/* the body, decoded */
#define HTTP_RAW_MAX	(HTTP_HEAD_MAX + 2 * HTTP_BODY_MAX) /* on the wire */

struct ptls;

/* A parsed https URL. All strings owned; http_url_free() releases them. */
struct http_url {
	char		*host;		/* a name, or an IP literal (no []) */
	unsigned	 port;		/* 443 unless given */
	char		*path;		/* "/..." with the query; "/" if none */
};

/*
 * Parses "https://HOST[:PORT][/PATH][?QUERY]", HOST a DNS name, an IPv4
 * address or "[IPv6]". Refused: other schemes, user information ("@":
 * credentials do not belong in a URL that appears in errors), fragments,
 * spaces and control characters. 0, or -1 with err.
 */
int	 http_url_parse(const char *, struct http_url *, char *err,
	    size_t errlen);
void	 http_url_free(struct http_url *);	/* NULL-safe; resets it */

/*
 * Appends name=value to an application/x-www-form-urlencoded body, with
 * "&" before it unless b is empty: every byte but ALPHA, DIGIT and
 * "-._~" percent-encoded, a space as "+".
 */
void	 http_form_add(struct buf *b, const char *name, const char *value);

struct http_response {
	int		 status;	/* 200..599 */
	char		 reason[64];	/* the reason phrase, made printable */
	char		 ctype[64];	/* Content-Type, printable, or "" */
	bool		 chunked;	/* came with chunked transfer coding */
	struct buf	 body;		/* decoded; wiped by http_response_free */
};

void	 http_response_init(struct http_response *);
/* Wipes the body (it may hold tokens) and releases it. NULL-safe. */
void	 http_response_free(struct http_response *);

/*
 * Parses a complete or partial response held in p[0..n): 1 when the
 * response is complete (r filled in), 0 when more bytes are needed, -1
 * with err (no endpoint named) when it is malformed or over a limit.
 * eof says that no more bytes will come: a body framed by the end of the
 * connection is then complete, anything else truncated. Interim 1xx
 * responses are skipped. Pure: no I/O; r->body is replaced on each call.
 */
int	 http_response_parse(const char *p, size_t n, bool eof,
	    struct http_response *r, char *err, size_t errlen);

/*
 * POSTs body (of type ctype, with "Accept: application/json" and
 * "Connection: close") to url over TLS with t, all within timeout_ms, and
 * reads the response into r (any status: the caller judges it). The
 * request and the raw response are wiped before return. 0, or -1 with
 * err naming the peer ("connect to HOST[ADDR]:PORT: reason", "TLS
 * handshake with ...", "read from HOST[ADDR]:PORT: timed out waiting
 * for the response", "response from HOST[ADDR]:PORT: body over 65536
 * bytes"); the caller adds which endpoint it was.
 */
int	 http_post(const struct http_url *url, struct ptls *t,
	    const char *ctype, const void *body, size_t len, int timeout_ms,
	    struct http_response *r, char *err, size_t errlen);

#endif
