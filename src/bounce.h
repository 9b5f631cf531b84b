/*
 * bounce.h: delivery status notifications (RFC 3464).
 *
 * A bounce is queued like any message, with the null sender, to the
 * original envelope sender; it names each failed recipient with the reply
 * that failed it and carries the original message's header section.
 */
#ifndef PST_BOUNCE_H
#define PST_BOUNCE_H

#include <time.h>

struct conf;
struct envelope;
struct spool;

/*
 * Queues a bounce for every recipient of e marked in failed[] (indexes
 * into e->rcpts, with e->rcpts[i].reason set). fd is the original queue
 * file (its header section is copied). The caller checked e->sender is
 * not null. 0 with *qid set (QID_LEN + 1 bytes), or -1 with errno.
 */
int	bounce_queue(const struct conf *, struct spool *, const char *qid,
	    int fd, const struct envelope *e, const size_t *failed,
	    size_t nfailed, const char *relay, char *bqid);

#endif
