/*
 * smtp.h: the ESMTP client session as a state machine, without I/O.
 *
 * The driver (deliver.c) owns the connection. It feeds every complete
 * server reply to smtp_reply(); the client appends the commands to send to
 * c->out and moves to its next state. Two states hand work to the driver:
 * SMTP_TLS (do the TLS handshake, then smtp_tls_done()) and SMTP_BODY
 * (send the message with smtp_body_encode()/smtp_body_end(), then
 * smtp_body_sent()). SMTP_READY is idle between messages: smtp_begin()
 * starts a transaction, smtp_quit() ends the session.
 *
 * Rules kept here: with tls starttls, STARTTLS or fail, and every
 * capability learnt before TLS is forgotten; no AUTH before TLS unless tls
 * is none; a failed AUTH ends the session (nothing is then sent without
 * it), and so does a 235 before a SCRAM server proved that it knows the
 * password (psasl_finish); PIPELINING sends MAIL, every RCPT and DATA in
 * one write.
 *
 * Outcomes are per recipient (DELIVERED, TEMPFAIL, PERMFAIL) with the
 * reply that decided them. A session failure (c->fail != SMTP_FAIL_NONE)
 * leaves undecided recipients TEMPFAIL.
 */
#ifndef PST_SMTP_H
#define PST_SMTP_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "conf.h"
#include "psasl.h"
#include "smtp_reply.h"

enum smtp_state {
	SMTP_GREETING,
	SMTP_EHLO,
	SMTP_HELO,
	SMTP_STARTTLS,
	SMTP_TLS,		/* driver: handshake, then smtp_tls_done() */
	SMTP_AUTH,
	SMTP_READY,		/* idle: smtp_begin() or smtp_quit() */
	SMTP_TXN,		/* MAIL/RCPT/DATA replies outstanding */
	SMTP_BODY,		/* driver: send the body, smtp_body_sent() */
	SMTP_DOT,		/* waiting for the reply to the final dot */
	SMTP_RSET,
	SMTP_QUIT,
	SMTP_CLOSED,		/* QUIT answered: close */
	SMTP_FAILED,		/* see fail and error */
};

extern const char *const smtp_state_names[];

/* Why a session failed: decides failover and what mailq shows. */
enum smtp_fail {
	SMTP_FAIL_NONE,
	SMTP_FAIL_CONNECT,	/* connection, timeout, lost connection */
	SMTP_FAIL_GREETING,	/* 4xx/5xx banner */
	SMTP_FAIL_TLS,		/* STARTTLS missing/refused, handshake */
	SMTP_FAIL_AUTH,		/* no usable mechanism, credentials refused */
	SMTP_FAIL_PROTOCOL,	/* malformed or unexpected reply, EHLO refused */
	SMTP_FAIL_SERVICE,	/* 421: the server is closing */
};

extern const char *const smtp_fail_names[];

enum smtp_outcome {
	SMTP_UNDECIDED,
	SMTP_DELIVERED,
	SMTP_TEMPFAIL,
	SMTP_PERMFAIL,
};

struct smtp_rcpt {
	const char		*addr;		/* borrowed */
	enum smtp_outcome	 outcome;
	bool			 accepted;	/* RCPT got 2xx */
	char			 reply[512];	/* what decided it */
};

struct smtp_txn {
	const char		*sender;	/* borrowed; "" for <> */
	struct smtp_rcpt	*rcpts;		/* borrowed array */
	size_t			 nrcpts;
	off_t			 size;		/* for SIZE= */
	bool			 eightbit;	/* BODY=8BITMIME */
	/* the client's bookkeeping */
	size_t			 rcpt_next;	/* next RCPT to send */
	size_t			 rcpt_replies;	/* RCPT replies received */
	bool			 mail_ok;
	bool			 mail_replied;
	bool			 data_sent;
	size_t			 accepted;
};

struct smtp_opts {
	const char		*helo;
	enum conf_tls		 tls;
	const char		*user;		/* NULL: no AUTH */
	const char		*pass;		/* borrowed secret; NULL: none */
	const char		*token;		/* borrowed OAuth 2.0 access
						   token; NULL: none */
	const char		*host;		/* the server, for OAUTHBEARER */
	unsigned		 port;
	const char *const	*mechs;		/* preference; nmechs 0: built-in */
	size_t			 nmechs;
	/* the dialogue, for -v; AUTH data is redacted before it gets here */
	void			(*trace)(void *, bool sent, const char *line,
				    size_t len);
	void			*trace_arg;
};

struct smtp_client {
	enum smtp_state		 state;
	const struct smtp_opts	*opts;
	struct buf		 out;		/* bytes for the driver to send */
	struct smtp_ext		 ext;
	bool			 tls_active;
	bool			 authenticated;
	struct psasl		 sasl;
	bool			 token_refused;	/* AUTH with the token failed
						   for good (5xx, or an error
						   challenge): a fresh token
						   may do better */
	struct smtp_txn		*txn;		/* during a transaction */
	bool			 discard_dot;	/* body was a lone "." only */
	enum smtp_fail		 fail;
	char			 error[512];
};

/* tls_active: the connection is already TLS (tls smtps). */
void	smtp_init(struct smtp_client *, const struct smtp_opts *,
	    bool tls_active);
void	smtp_free(struct smtp_client *);	/* wipes secrets; NULL-safe */

/* One complete reply from the server. */
void	smtp_reply(struct smtp_client *, const struct smtp_reply *);
/* The driver finished the TLS handshake asked for in SMTP_TLS. */
void	smtp_tls_done(struct smtp_client *);
/* SMTP_READY: start t (outcomes undecided); may decide it at once. */
void	smtp_begin(struct smtp_client *, struct smtp_txn *t);
/* SMTP_BODY: the driver sent the whole body and the final dot. */
void	smtp_body_sent(struct smtp_client *);
/* SMTP_READY: end the session politely. */
void	smtp_quit(struct smtp_client *);
/*
 * The driver's failure (connection lost, timeout, TLS error): the session
 * is over; undecided recipients of a running transaction are TEMPFAIL.
 */
void	smtp_fail(struct smtp_client *, enum smtp_fail, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * The body on the wire: LF (and a bare CR, and CR LF) become CR LF, a
 * leading "." is doubled, and a line longer than 998 octets is broken by
 * inserting CR LF SP (as Postfix does). smtp_body_end() completes the last
 * line and appends ".\r\n".
 */
struct smtp_body {
	bool	bol;
	bool	cr;		/* the previous byte was a CR */
	size_t	col;
};
void	smtp_body_init(struct smtp_body *);
void	smtp_body_encode(struct smtp_body *, const char *, size_t,
	    struct buf *out);
void	smtp_body_end(struct smtp_body *, struct buf *out);

#endif
