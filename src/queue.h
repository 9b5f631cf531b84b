/*
 * queue.h: reading the queue: one message's envelope, the whole queue, and
 * the mailq view. Nothing here writes to the spool or knows SMTP.
 */
#ifndef PST_QUEUE_H
#define PST_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "envelope.h"
#include "spool.h"

struct buf;
struct conf;

struct qentry {
	char		 qid[QID_LEN + 1];
	struct envelope	 env;		/* empty when damaged */
	char		*damaged;	/* owned; NULL, or why it is unreadable */
};

/*
 * Opens queue/QID and takes its exclusive flock(), the right to change
 * the message (deliver it, write its state, remove it). A holder that
 * is busy is waited for up to wait_ms milliseconds (0: not at all).
 * QUEUE_LOCKED puts the locked descriptor in *fdp (the caller closes it,
 * which releases the lock); otherwise *fdp is -1. QUEUE_GONE also covers
 * a message removed by its last holder while we waited.
 */
enum queue_lock {
	QUEUE_LOCKED,
	QUEUE_GONE,		/* not in the queue */
	QUEUE_BUSY,		/* another process still holds the lock */
	QUEUE_ERROR,		/* errno says why */
};
enum queue_lock queue_lock(struct spool *, const char *qid, int wait_ms,
	    int *fdp);

/*
 * The queue IDs in queue/, sorted (that is, by arrival), without reading
 * any file. Returns 0 with *names (caller frees with queue_names_free), or
 * -1 with errno.
 */
int	 queue_names(struct spool *, char ***names, size_t *n);
void	 queue_names_free(char **, size_t);

/*
 * Reads queue/QID's head, checks the file holds exactly head + size bytes,
 * and applies state/QID when present. fd >= 0 reads from that open queue
 * file instead of opening it. Returns 0, or -1 with a reason in err (and
 * errno ENOENT when the message is gone).
 */
int	 queue_read(struct spool *, const char *qid, int fd,
	    struct envelope *e, char *err, size_t errlen);

/*
 * Every message in queue/, sorted by arrival (queue ID as tie-break).
 * Damaged messages are listed with their reason, never skipped. Takes no
 * lock: state/ is listed once before queue/, so a message whose first
 * state file is written meanwhile is shown as it was before it.
 * Returns 0 with *entries (caller frees with queue_entries_free), or -1.
 */
int	 queue_scan(struct spool *, struct qentry **entries, size_t *n);
void	 queue_entries_free(struct qentry *, size_t);

/*
 * The outcome of the last session with the smarthost, kept in
 * spool_dir/status so that a failure reached before any message was tried
 * (connection, TLS, AUTH) is recorded once, not once per message.
 */
struct qstatus {
	time_t		 time;		/* 0: no status */
	unsigned	 failures;	/* consecutive failed sessions */
	char		 class[16];	/* connect, greeting, TLS, AUTH, ... */
	char		 error[512];	/* empty after a good session */
};

/*
 * Each account has its own (conf.h): spool_dir/status for the default
 * account (account NULL), spool_dir/status-NAME for a named one.
 */
#define STATUS_NAMEMAX	80	/* "status-" and an account name */

/* Reads the status; a missing or damaged one is all zero. */
void	 queue_status_read(struct spool *, const char *account,
	    struct qstatus *);
/* Replaces the status atomically (not fsynced: it is advice). 0 or -1. */
int	 queue_status_write(struct spool *, const char *account,
	    const struct qstatus *);

/* The status of every account of a configuration, for listings. */
struct qstatuses {
	size_t		 n;
	const char	**names;	/* [0] NULL: the default account;
					   borrowed from the conf */
	struct qstatus	*v;
};
/* top NULL: the default account's only. */
void	 queue_statuses_read(struct spool *, const struct conf *top,
	    struct qstatuses *);
/* The status of account (NULL: default); NULL if q has none for it. */
const struct qstatus *queue_statuses_find(const struct qstatuses *q,
	    const char *account);
void	 queue_statuses_free(struct qstatuses *);

/*
 * Replaces state/QID with e's delivery state: written under tmp/,
 * fsynced, renamed, state/ fsynced. The caller holds the message's lock.
 * 0, or -1 with errno.
 */
int	 queue_write_state(struct spool *, const char *qid,
	    const struct envelope *e);

/*
 * Removes a finished message: queue/QID first, then state/QID, so that a
 * crash in between leaves an orphan state file (purged later), never a
 * message that would be delivered again. 0, or -1 with errno.
 */
int	 queue_remove(struct spool *, const char *qid);

/*
 * Removes every message none of whose recipients is pending any more (a
 * worker that died between its last state file and the removal leaves
 * one), under the message's lock; a message that is busy or damaged is
 * left alone. Returns how many were removed, or -1 with errno.
 */
int	 queue_remove_finished(struct spool *);

/*
 * The error to show for a message: the newer of its own last error and
 * the last failed session (which may never have reached the message), or
 * NULL. st may be NULL. Borrowed from e or st.
 */
const char *queue_last_error(const struct envelope *e,
	    const struct qstatus *st);

/*
 * Appends to b the header section of the message open on fd (e read from
 * it): the lines up to the empty line that ends it, LF-terminated, at
 * most max bytes (*truncated then says so). 0, or -1 with errno.
 */
int	 queue_read_header(int fd, const struct envelope *e, struct buf *b,
	    size_t max, bool *truncated);

/*
 * The mailq / sendmail -bp listing; sts may be NULL. A message on hold has
 * "!" right after its queue ID, as in Postfix.
 */
void	 queue_print(FILE *, const struct qentry *, size_t,
	    const struct qstatuses *sts);

/*
 * The listing as one JSON document (postern list --json; spool/README.md
 * describes it): an array with one object per message. Every string is
 * escaped down to ASCII, so the output is valid UTF-8 JSON whatever bytes
 * an address or a reply holds (invalid UTF-8 becomes U+FFFD). Returns 0,
 * or -1 if writing failed.
 */
int	 queue_print_json(FILE *, const struct qentry *, size_t,
	    const struct qstatuses *sts);

#endif
