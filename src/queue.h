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

/* The mailq / sendmail -bp listing. */
void	 queue_print(FILE *, const struct qentry *, size_t);

#endif
