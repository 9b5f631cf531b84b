/*
 * conn.h: a client connection to a smarthost: TCP with timeouts, and TLS
 * (implicit, or started on request for STARTTLS) through OpenSSL.
 *
 * Every call that waits takes a timeout in milliseconds and fails with
 * errno ETIMEDOUT when it expires. Nothing here knows SMTP. Errors come
 * back as one printable line in err, naming the peer; never a secret.
 */
#ifndef PST_CONN_H
#define PST_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conn;
struct ptls;

/*
 * A TLS client context for one run: TLS 1.2 or later, the system's trust
 * store or ca_file, and, with verify, chain and host name verification.
 * NULL with err on failure.
 */
struct ptls	*ptls_new(bool verify, const char *ca_file, char *err,
		    size_t errlen);
void		 ptls_free(struct ptls *);	/* NULL-safe */

/*
 * Connects to host:port, trying each address getaddrinfo() returns in
 * order, each within timeout_ms. host is a name or an IPv4/IPv6 literal
 * (no brackets). NULL with err ("connect to HOST[ADDR]:PORT: reason") on
 * failure.
 */
struct conn	*conn_open(const char *host, unsigned port, int timeout_ms,
		    char *err, size_t errlen);

/*
 * TLS handshake as a client on an open connection: SNI is host when host
 * is a name (not for an IP literal); with the context's verify, the chain
 * must verify and the certificate must match host (X509 host or IP
 * check). 0, or -1 with err ("TLS handshake with PEER: reason", the
 * verification error's text when that is the reason).
 */
int		 conn_tls(struct conn *, struct ptls *, const char *host,
		    int timeout_ms, char *err, size_t errlen);

/* Reads what is available (up to n): >0 bytes, 0 at EOF, -1 (errno). */
ssize_t		 conn_read(struct conn *, void *, size_t n, int timeout_ms);
/* Writes all n bytes: 0, or -1 (errno). */
int		 conn_write(struct conn *, const void *, size_t n,
		    int timeout_ms);
/* True if bytes can be read right now without waiting. */
bool		 conn_readable(struct conn *);

/* "host[addr]:port", for logs (borrowed). */
const char	*conn_peer(const struct conn *);
/* "TLSv1.3 with TLS_AES_256_GCM_SHA384", or NULL before TLS (borrowed). */
const char	*conn_tls_info(const struct conn *);
/* The peer certificate's subject, "/CN=smtp.example.net", or NULL. */
const char	*conn_tls_subject(const struct conn *);

/* Closes (sending TLS close_notify when TLS is up). NULL-safe. */
void		 conn_close(struct conn *);

#endif
