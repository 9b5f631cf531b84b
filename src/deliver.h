/*
 * deliver.h: one delivery pass over the queue.
 *
 * A pass takes every message it can lock, in order of arrival, bounces
 * what has expired, and relays the rest over one SMTP session per
 * account (conf.h; several messages per connection), trying the
 * account's smarthosts in order. Each recipient's outcome goes back to
 * the queue before the message's lock is released. A failure of an
 * account's smarthost ends the pass for that account's messages; it is
 * recorded once (spool_dir/status, or status-NAME), never bounced.
 */
#ifndef PST_DELIVER_H
#define PST_DELIVER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct conf;
struct spool;

struct deliver_opts {
	bool		 verbose;	/* the SMTP dialogue on stderr */
	bool		 ignore_backoff; /* flush: every message now */
	char *const	*only;		/* queue IDs to try; NULL: all */
	size_t		 nonly;
	/* when set and non-zero, the pass stops before the next message */
	volatile sig_atomic_t *stop;
};

struct deliver_stats {
	size_t		 tried;		/* messages given to the smarthost */
	size_t		 delivered;	/* messages finished and removed */
	size_t		 deferred;	/* messages left queued */
	size_t		 bounced;	/* bounces queued */
	size_t		 busy;		/* locked by another process */
	time_t		 next_due;	/* earliest retry among deferred */
	bool		 session_failed;
};

/* The retry delay after the n-th failed attempt (n >= 1), in seconds. */
unsigned	deliver_backoff(unsigned n);

/*
 * One pass. Returns 0 (even when the smarthost failed: the messages stay
 * queued and the failure is recorded), -1 on a local error that stops the
 * pass (spool unreadable), with a message already printed.
 */
int	deliver_pass(const struct conf *, struct spool *,
	    const struct deliver_opts *, struct deliver_stats *);

/* What postern test-auth found (deliver_test_auth). */
enum deliver_test {
	DELIVER_TEST_OK,
	DELIVER_TEST_TEMPFAIL,	/* connection, greeting, TLS, a 4xx: later */
	DELIVER_TEST_REFUSED,	/* AUTH refused (5xx) or impossible */
	DELIVER_TEST_CONFIG,	/* no smarthost, no secret, no TLS context */
};

struct deliver_test_result {
	char		 relay[320];	/* "host[addr]:port" that answered */
	char		 user[256];	/* auth_user; "" without AUTH */
	char		 mech[32];	/* the AUTH mechanism used */
	char		 tls[128];	/* "TLSv1.3 with ..."; "" without */
	const char	*class;		/* of the failure: smtp_fail_names[],
					   or "config" */
	char		 error[600];	/* the failure, printable, no secret */
};

/*
 * postern test-auth: connects to the smarthosts in failover order until
 * one takes the session as far as delivery would (EHLO, TLS, EHLO, AUTH
 * with the configured secrets), then sends QUIT. The dialogue, with
 * credentials shown as ***, the TLS parameters and each host's failure
 * go to out. Touches no queue file and records nothing in the spool
 * (the OAuth 2.0 token cache aside). r says what happened.
 */
enum deliver_test deliver_test_auth(const struct conf *, FILE *out,
	    struct deliver_test_result *r);

#endif
