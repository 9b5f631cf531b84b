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

struct qentry {
	char		 qid[QID_LEN + 1];
	struct envelope	 env;		/* empty when damaged */
	char		*damaged;	/* owned; NULL, or why it is unreadable */
};

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
 * Damaged messages are listed with their reason, never skipped.
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

/* Reads the status; a missing or damaged one is all zero. */
void	 queue_status_read(struct spool *, struct qstatus *);
/* Replaces the status atomically (not fsynced: it is advice). 0 or -1. */
int	 queue_status_write(struct spool *, const struct qstatus *);

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

/* The mailq / sendmail -bp listing; st may be NULL. */
void	 queue_print(FILE *, const struct qentry *, size_t,
	    const struct qstatus *st);

#endif
