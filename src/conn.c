/*
 * conn.c: a client connection to a smarthost (see conn.h): TCP connect
 * with a timeout per address, reads and writes bounded by a deadline,
 * and a TLS client on top through OpenSSL.
 *
 * The socket is non-blocking from creation to close; every wait is a
 * poll() against a deadline taken from CLOCK_MONOTONIC when the call
 * starts, so a call never waits longer than its timeout in total, however
 * the peer dribbles bytes. A negative timeout means no limit; 0 means
 * "only what is possible right now".
 *
 * SIGPIPE: a write to a connection the peer has closed must not kill the
 * process, whatever the caller did with the signal. Plain writes use
 * send(MSG_NOSIGNAL). OpenSSL's socket BIO uses write(), which would raise
 * SIGPIPE, so TLS runs over our own small BIO method (bio_read/bio_write)
 * whose writes are send(MSG_NOSIGNAL) too: no signal masks, no reliance on
 * SIG_IGN. The BIO also records the socket's errno, which OpenSSL may
 * clobber before SSL_get_error() reports SSL_ERROR_SYSCALL.
 *
 * TLS: TLS 1.2 or later. With verify, OpenSSL checks the chain against the
 * trust store and the leaf against the host, through X509_VERIFY_PARAM
 * (a name, or an IP address for a literal): no matching of our own. SNI
 * is sent for names only (RFC 6066 section 3). A peer closing the
 * connection without close_notify reads as EOF, as in OpenSSL 1.1.1
 * (SSL_OP_IGNORE_UNEXPECTED_EOF): SMTP frames its own data, so the reply
 * parser, not the record layer, detects a truncated reply, and many
 * servers drop the connection after "221" without close_notify.
 *
 * Errors: conn_open and conn_tls put one line naming the peer into err;
 * conn_read and conn_write set errno only (ETIMEDOUT, EPIPE, ECONNRESET,
 * EPROTO for a TLS protocol failure). A resolver failure sets errno to
 * EAGAIN (try again later) or EHOSTUNREACH. getaddrinfo() itself cannot
 * be bounded by the timeout: the resolver's own limits apply (XXX: an
 * asynchronous resolver would be a new dependency). After a failed
 * conn_tls the connection carries nothing more (EPROTO): a caller cannot
 * fall back to plaintext on it by mistake.
 *
 * Ownership: a struct ptls is reference counted: each connection that
 * started TLS with it holds a reference, so ptls_free() may come before
 * conn_close() of those connections.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "compat.h"
#include "util.h"
#include "conn.h"

struct ptls {
	SSL_CTX		*ctx;
	BIO_METHOD	*biom;		/* bio_read/bio_write over our socket */
	bool		 verify;
	int		 refs;		/* ptls_new's, plus one per conn_tls */
};

struct conn {
	int		 fd;		/* non-blocking, close-on-exec */
	char		*peer;		/* "host[addr]:port" */
	struct ptls	*tls;		/* referenced while ssl is set */
	SSL		*ssl;		/* NULL until conn_tls */
	bool		 tls_broken;	/* failed: no I/O, no close_notify */
	int		 io_errno;	/* the BIO's last socket errno, or 0 */
	char		 tls_info[128];	/* "" until the handshake is done */
	char		 tls_subject[256]; /* the peer certificate's subject */
};

static int64_t	now_ns(void);
static int64_t	deadline_after(int);
static int	ms_left(int64_t);
static int	wait_fd(int, short, int64_t);
static bool	peek_now(int);
static int	connect_one(const struct addrinfo *, int);
static bool	is_ip_literal(const char *);
static const char *ssl_reason(char *, size_t);
static int	tls_wait(struct conn *, int, int64_t);
static void	ptls_unref(struct ptls *);
static int	bio_write(BIO *, const char *, int);
static int	bio_read(BIO *, char *, int);
static long	bio_ctrl(BIO *, int, long, void *);

static int64_t
now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A deadline timeout_ms from now, or -1 for none (a negative timeout). */
static int64_t
deadline_after(int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	return now_ns() + (int64_t)timeout_ms * 1000000;
}

/* Milliseconds until the deadline for poll(), rounded up; -1 for none. */
static int
ms_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ns();
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * Waits until fd is ready for events (or has an error or hangup, which
 * the next I/O call will report): 0, or -1 with errno (ETIMEDOUT).
 */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int ms, r;

	for (;;) {
		ms = ms_left(deadline);
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, ms);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			if (ms_left(deadline) == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			continue;
		}
		if (pfd.revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
		return 0;
	}
}

/* True if fd holds at least one byte of data (EOF and errors are not). */
static bool
peek_now(int fd)
{
	char ch;
	ssize_t r;

	do
		r = recv(fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
	while (r == -1 && errno == EINTR);
	return r == 1;
}

/* One non-blocking connect within timeout_ms: the socket, or -1 (errno). */
static int
connect_one(const struct addrinfo *ai, int timeout_ms)
{
	int64_t deadline = deadline_after(timeout_ms);
	socklen_t len;
	int fd, soerr, saved;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	/* EINTR: the connect goes on in the background, as EINPROGRESS. */
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	if (wait_fd(fd, POLLOUT, deadline) == -1)
		goto fail;
	len = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

struct conn *
conn_open(const char *host, unsigned port, int timeout_ms, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct buf peer = BUF_INIT;
	struct conn *c;
	char serv[8], addr[NI_MAXHOST];
	int fd = -1, gerr, saved = EHOSTUNREACH;

	if (host == NULL || host[0] == '\0' || port == 0 || port > 65535) {
		util_errf(err, errlen, "connect to %s:%u: invalid host or port",
		    host != NULL ? host : "(null)", port);
		errno = EINVAL;
		return NULL;
	}
	(void)snprintf(serv, sizeof(serv), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gerr = getaddrinfo(host, serv, &hints, &res)) != 0) {
		saved = errno;
		util_errf(err, errlen, "connect to %s:%u: %s", host, port,
		    gerr == EAI_SYSTEM ? strerror(saved) : gai_strerror(gerr));
		if (gerr == EAI_AGAIN)
			errno = EAGAIN;
		else if (gerr != EAI_SYSTEM)
			errno = EHOSTUNREACH;
		else
			errno = saved;
		return NULL;
	}
	strlcpy(addr, "?", sizeof(addr));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
		    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
			strlcpy(addr, "?", sizeof(addr));
		if ((fd = connect_one(ai, timeout_ms)) != -1)
			break;
		saved = errno;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		util_errf(err, errlen, "connect to %s[%s]:%u: %s", host, addr, port,
		    strerror(saved));
		errno = saved;
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	buf_printf(&peer, "%s[%s]:%u", host, addr, port);
	c->peer = buf_detach(&peer, NULL);
	return c;
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

const char *
conn_tls_info(const struct conn *c)
{
	return c->tls_info[0] != '\0' ? c->tls_info : NULL;
}

const char *
conn_tls_subject(const struct conn *c)
{
	return c->tls_subject[0] != '\0' ? c->tls_subject : NULL;
}

/*
 * Data only: EOF and errors are not "readable"; the next conn_read
 * reports them. In TLS, the socket may hold a record that carries no data
 * (a TLS 1.3 session ticket, sent after the handshake), so a non-blocking
 * peek through OpenSSL decides.
 */
bool
conn_readable(struct conn *c)
{
	unsigned char ch;
	size_t got;
	int e;

	if (c->ssl == NULL)
		return !c->tls_broken && peek_now(c->fd);
	if (c->tls_broken)
		return false;
	if (SSL_pending(c->ssl) > 0)
		return true;
	ERR_clear_error();
	c->io_errno = 0;
	if (SSL_peek_ex(c->ssl, &ch, 1, &got) == 1)
		return true;
	e = SSL_get_error(c->ssl, 0);
	ERR_clear_error();
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE &&
	    e != SSL_ERROR_ZERO_RETURN)
		c->tls_broken = true;
	return false;
}

ssize_t
conn_read(struct conn *c, void *p, size_t n, int timeout_ms)
{
	int64_t deadline = deadline_after(timeout_ms);
	ssize_t r;
	size_t got;
	int w;

	if (n == 0)
		return 0;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	if (c->tls_broken) {
		errno = EPROTO;
		return -1;
	}
	for (;;) {
		if (c->ssl == NULL) {
			r = recv(c->fd, p, n, 0);
			if (r >= 0)
				return r;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wait_fd(c->fd, POLLIN, deadline) == -1)
				return -1;
			continue;
		}
		ERR_clear_error();
		c->io_errno = 0;
		if (SSL_read_ex(c->ssl, p, n, &got) == 1)
			return (ssize_t)got;
		if ((w = tls_wait(c, 0, deadline)) <= 0)
			return w;
	}
}

int
conn_write(struct conn *c, const void *p, size_t n, int timeout_ms)
{
	int64_t deadline = deadline_after(timeout_ms);
	const char *s = p;
	size_t off = 0, done;
	ssize_t r;
	int w;

	if (c->tls_broken) {
		errno = EPROTO;
		return -1;
	}
	while (off < n) {
		if (c->ssl == NULL) {
			r = send(c->fd, s + off, n - off, MSG_NOSIGNAL);
			if (r >= 0) {
				off += (size_t)r;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wait_fd(c->fd, POLLOUT, deadline) == -1)
				return -1;
			continue;
		}
		/* After WANT_*, OpenSSL wants the same arguments again. */
		ERR_clear_error();
		c->io_errno = 0;
		if (SSL_write_ex(c->ssl, s + off, n - off, &done) == 1) {
			off += done;
			continue;
		}
		if ((w = tls_wait(c, 0, deadline)) == -1)
			return -1;
		if (w == 0) {	/* close_notify came: the peer is gone */
			errno = EPIPE;
			return -1;
		}
	}
	return 0;
}

void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		/* One close_notify, without waiting for the peer's. */
		if (!c->tls_broken && SSL_is_init_finished(c->ssl)) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
		}
		SSL_free(c->ssl);	/* frees the BIO too */
		ERR_clear_error();
		ptls_unref(c->tls);
	}
	close(c->fd);
	free(c->peer);
	free(c);
}

/*
 * After an SSL call on c failed with ret: waits for the direction
 * OpenSSL needs and returns 1 (call again), or 0 at close_notify, or -1
 * with errno.
 */
static int
tls_wait(struct conn *c, int ret, int64_t deadline)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c->fd, POLLIN, deadline) == -1 ? -1 : 1;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c->fd, POLLOUT, deadline) == -1 ? -1 : 1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		c->tls_broken = true;
		errno = c->io_errno != 0 ? c->io_errno : ECONNRESET;
		break;
	default:
		c->tls_broken = true;
		errno = EPROTO;
		break;
	}
	ERR_clear_error();
	return -1;
}

/* The first reason in OpenSSL's error queue, which is then cleared. */
static const char *
ssl_reason(char *tmp, size_t len)
{
	unsigned long e;
	const char *s;

	if ((e = ERR_get_error()) == 0)
		return NULL;
	if ((s = ERR_reason_error_string(e)) == NULL) {
#ifdef ERR_SYSTEM_ERROR
		/* OpenSSL 3 packs errno into the code, without a string. */
		if (ERR_SYSTEM_ERROR(e))
			strlcpy(tmp, strerror(ERR_GET_REASON(e)), len);
		else
#endif
			ERR_error_string_n(e, tmp, len);
		s = tmp;
	}
	ERR_clear_error();
	return s;
}

static bool
is_ip_literal(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	/* A colon is never in a name: a scoped IPv6 address is a literal. */
	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1 || strchr(host, ':') != NULL;
}

int
conn_tls(struct conn *c, struct ptls *t, const char *host, int timeout_ms,
    char *err, size_t errlen)
{
	int64_t deadline = deadline_after(timeout_ms);
	X509_VERIFY_PARAM *param;
	X509 *cert;
	BIO *bio;
	char tmp[256];
	const char *why;
	bool literal = is_ip_literal(host);
	long vr;
	int r, e, saved;

	if (c->ssl != NULL || c->tls_broken) {
		util_errf(err, errlen, "TLS handshake with %s: TLS already started",
		    c->peer);
		errno = EINVAL;
		return -1;
	}
	ERR_clear_error();
	if ((c->ssl = SSL_new(t->ctx)) == NULL ||
	    (bio = BIO_new(t->biom)) == NULL) {
		why = ssl_reason(tmp, sizeof(tmp));
		util_errf(err, errlen, "TLS handshake with %s: %s", c->peer,
		    why != NULL ? why : "out of memory");
		SSL_free(c->ssl);
		c->ssl = NULL;
		c->tls_broken = true;	/* no plaintext after a failed start */
		errno = ENOMEM;
		return -1;
	}
	t->refs++;
	c->tls = t;
	/* From here on c->ssl is set: on failure, no plaintext follows. */
	c->tls_broken = true;
	BIO_set_data(bio, c);
	BIO_set_init(bio, 1);
	SSL_set_bio(c->ssl, bio, bio);
	SSL_set_connect_state(c->ssl);

	if (t->verify) {
		param = SSL_get0_param(c->ssl);
		X509_VERIFY_PARAM_set_hostflags(param,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (literal)
			r = X509_VERIFY_PARAM_set1_ip_asc(param, host);
		else
			r = X509_VERIFY_PARAM_set1_host(param, host, 0);
		if (r != 1) {
			ERR_clear_error();
			util_errf(err, errlen, "TLS handshake with %s: cannot "
			    "check the certificate against \"%s\"", c->peer,
			    host);
			errno = EINVAL;
			return -1;
		}
	}
	if (!literal && SSL_set_tlsext_host_name(c->ssl, host) != 1) {
		ERR_clear_error();
		util_errf(err, errlen, "TLS handshake with %s: invalid server "
		    "name \"%s\"", c->peer, host);
		errno = EINVAL;
		return -1;
	}

	for (;;) {
		ERR_clear_error();
		c->io_errno = 0;
		if ((r = SSL_connect(c->ssl)) == 1)
			break;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT, deadline) == 0)
				continue;
			saved = errno;
			util_errf(err, errlen, "TLS handshake with %s: %s", c->peer,
			    strerror(saved));
			errno = saved;
			return -1;
		}
		/*
		 * The most useful reason first: the verification error (the
		 * queue would only say "certificate verify failed"), then
		 * OpenSSL's, then the socket's.
		 */
		saved = c->io_errno != 0 ? c->io_errno : ECONNRESET;
		if (t->verify &&
		    (vr = SSL_get_verify_result(c->ssl)) != X509_V_OK) {
			ERR_clear_error();
			util_errf(err, errlen, "TLS handshake with %s: certificate "
			    "verify failed: %s", c->peer,
			    X509_verify_cert_error_string(vr));
			saved = EPROTO;
		} else if ((why = ssl_reason(tmp, sizeof(tmp))) != NULL) {
			util_errf(err, errlen, "TLS handshake with %s: %s", c->peer,
			    why);
			if (e == SSL_ERROR_SSL)
				saved = EPROTO;
		} else if (c->io_errno != 0)
			util_errf(err, errlen, "TLS handshake with %s: %s", c->peer,
			    strerror(c->io_errno));
		else
			util_errf(err, errlen, "TLS handshake with %s: connection "
			    "closed by the server", c->peer);
		errno = saved;
		return -1;
	}
	c->tls_broken = false;
	(void)snprintf(c->tls_info, sizeof(c->tls_info), "%s with %s",
	    SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
	if ((cert = SSL_get0_peer_certificate(c->ssl)) != NULL)
		(void)X509_NAME_oneline(X509_get_subject_name(cert),
		    c->tls_subject, sizeof(c->tls_subject));
	return 0;
}

struct ptls *
ptls_new(bool verify, const char *ca_file, char *err, size_t errlen)
{
	struct ptls *t;
	char tmp[256];
	const char *why;
	int idx;

	t = xcalloc(1, sizeof(*t));
	t->verify = verify;
	t->refs = 1;
	ERR_clear_error();
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		why = ssl_reason(tmp, sizeof(tmp));
		util_errf(err, errlen, "TLS setup: %s",
		    why != NULL ? why : "cannot create a context");
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
		why = ssl_reason(tmp, sizeof(tmp));
		util_errf(err, errlen, "TLS setup: cannot require TLS 1.2: %s",
		    why != NULL ? why : "unknown error");
		goto fail;
	}
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION);
	if (ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1) {
			why = ssl_reason(tmp, sizeof(tmp));
			util_errf(err, errlen, "TLS CA file %s: %s", ca_file,
			    why != NULL ? why : "cannot load");
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
		why = ssl_reason(tmp, sizeof(tmp));
		util_errf(err, errlen, "TLS setup: system trust store: %s",
		    why != NULL ? why : "cannot load");
		goto fail;
	}
	SSL_CTX_set_verify(t->ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	    NULL);

	/* One BIO type index per context: OpenSSL's indexes are finite. */
	if ((idx = BIO_get_new_index()) == -1 ||
	    (t->biom = BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK,
	    "postern socket")) == NULL ||
	    BIO_meth_set_write(t->biom, bio_write) != 1 ||
	    BIO_meth_set_read(t->biom, bio_read) != 1 ||
	    BIO_meth_set_ctrl(t->biom, bio_ctrl) != 1) {
		why = ssl_reason(tmp, sizeof(tmp));
		util_errf(err, errlen, "TLS setup: %s",
		    why != NULL ? why : "cannot create a BIO method");
		goto fail;
	}
	return t;
fail:
	ERR_clear_error();
	ptls_unref(t);
	return NULL;
}

void
ptls_free(struct ptls *t)
{
	if (t != NULL)
		ptls_unref(t);
}

static void
ptls_unref(struct ptls *t)
{
	if (--t->refs > 0)
		return;
	SSL_CTX_free(t->ctx);
	BIO_meth_free(t->biom);
	free(t);
}

/*
 * The BIO under TLS: plain send/recv on the connection's socket. A
 * transient condition sets the retry flag, so that SSL_get_error() says
 * WANT_READ or WANT_WRITE and the caller polls.
 */
static int
bio_write(BIO *b, const char *p, int len)
{
	struct conn *c = BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if ((r = send(c->fd, p, (size_t)len, MSG_NOSIGNAL)) >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		BIO_set_retry_write(b);
	else
		c->io_errno = errno;
	return -1;
}

static int
bio_read(BIO *b, char *p, int len)
{
	struct conn *c = BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if ((r = recv(c->fd, p, (size_t)len, 0)) >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		BIO_set_retry_read(b);
	else
		c->io_errno = errno;
	return -1;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Nothing is buffered here; other requests are not supported. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}
