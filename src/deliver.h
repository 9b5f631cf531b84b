/*
 * deliver.h: one delivery pass over the queue.
 *
 * A pass takes every message it can lock, in order of arrival, bounces
 * what has expired, and relays the rest over one SMTP session (several
 * messages per connection), trying the smarthosts in order. Each
 * recipient's outcome goes back to the queue before the message's lock is
 * released. A failure of the smarthost itself ends the pass for delivery;
 * it is recorded once (spool_dir/status), never bounced.
 */
#ifndef PST_DELIVER_H
#define PST_DELIVER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
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

#endif
