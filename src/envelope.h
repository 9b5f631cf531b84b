/*
 * envelope.h: the envelope record of a queued message.
 *
 * Two texts carry it (spool/README.md documents both):
 *
 *   the head of the queue file, written once at enqueue and never changed:
 *	postern-queue 1
 *	size 00000000000000002048	(message bytes after the head, 20 digits)
 *	body 7bit			(8bit if any byte has the high bit set)
 *	arrival 1764135352
 *	sender user@example.org	("sender" alone: the null sender <>)
 *	account work		(only for a named account, conf.h)
 *	rcpt pending root@example.org
 *	(an empty line; the message follows)
 *
 *   the state file, rewritten atomically by delivery after each attempt;
 *   when it exists its recipient list replaces the head's:
 *	postern-state 1
 *	attempts 2
 *	last-attempt 1764135400
 *	next-attempt 1764135700
 *	hold 1764135800		(on hold since then; only while held)
 *	held 3600			(seconds spent on hold before; if not 0)
 *	error connect to smtp.example.org: Connection refused
 *	rcpt sent a@example.org
 *	rcpt failed b@example.org
 *	reason 550 5.1.1 no such user	(of the recipient before it)
 *	end
 *
 * Addresses are the last item of their line and may hold blanks (quoted
 * local parts) but never a control character; error texts are made
 * printable before they are stored.
 */
#ifndef PST_ENVELOPE_H
#define PST_ENVELOPE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct buf;

enum rcpt_state {
	RCPT_PENDING,
	RCPT_SENT,
	RCPT_FAILED,
};

struct rcpt {
	char		*addr;		/* owned */
	enum rcpt_state	 state;
	char		*reason;	/* owned; NULL: none */
};

struct envelope {
	/* head of the queue file */
	off_t		 size;		/* message bytes after the head */
	bool		 eightbit;	/* the message has 8-bit bytes */
	off_t		 body_offset;	/* set by envelope_parse_head */
	time_t		 arrival;
	char		*sender;	/* owned; "" is the null sender */
	char		*account;	/* owned; NULL: the default account */
	struct rcpt	*rcpts;
	size_t		 nrcpts;
	/* state file (zero when there is none) */
	unsigned	 attempts;
	time_t		 last_attempt;
	time_t		 next_attempt;
	time_t		 hold_since;	/* on hold since then; 0: not held */
	time_t		 held;		/* seconds on hold before, which do
					   not count toward queue_lifetime */
	char		*error;		/* owned; NULL: none */
};

/*
 * An account name (conf.h): 1 to ACCOUNT_NAMEMAX of ACCOUNT_CHARS, the
 * first a letter or digit. conf.c checks the configuration's names and
 * the head parser the stored ones against these.
 */
#define ACCOUNT_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789._-"
#define ACCOUNT_NAMEMAX	64

/* Width of the size field, written as a placeholder and patched later. */
#define ENVELOPE_SIZE_DIGITS	20
/* Upper bound on a head or a state file, to bound what readers allocate. */
#define ENVELOPE_MAX		(16 * 1024 * 1024)

extern const char *const envelope_rcpt_state_names[];

/* Appends a recipient (copied), pending. */
void	 envelope_add_rcpt(struct envelope *, const char *addr);

/*
 * Appends the queue file head to b. *size_off and *body_off receive the
 * offsets, within what was appended, of the size digits and of the body
 * type ("7bit"), to patch once the message has been read.
 */
void	 envelope_format_head(const struct envelope *, struct buf *b,
	    size_t *size_off, size_t *body_off);
/* Appends the state file text to b. */
void	 envelope_format_state(const struct envelope *, struct buf *b);

/*
 * Parse a head (p[0..len) must contain the whole head, up to and including
 * the empty line; trailing message bytes are ignored) or a state file.
 * Return 0, or -1 with a one-line reason in err. envelope_parse_head
 * starts from an empty e and leaves it empty on error;
 * envelope_parse_state replaces e's recipient list and state fields on
 * success and leaves e unchanged on error.
 */
int	 envelope_parse_head(struct envelope *e, const char *p, size_t len,
	    char *err, size_t errlen);
int	 envelope_parse_state(struct envelope *e, const char *p, size_t len,
	    char *err, size_t errlen);

/* Recipients still pending. */
size_t	 envelope_pending(const struct envelope *);

/*
 * How long the message has been in the queue at now for queue_lifetime:
 * its age less the time it spent on hold (a held message does not age).
 */
time_t	 envelope_age(const struct envelope *, time_t now);

/* NULL-safe; frees every field and zeroes e. */
void	 envelope_free(struct envelope *);

#endif
