/*
 * spool.h: the queue directory and durable writing of new messages.
 *
 * Layout under spool_dir (spool/README.md is the administrator's guide):
 *	tmp/QID		a message being written; never delivered
 *	queue/QID	a complete message: envelope head, then the message
 *	state/QID	delivery state, written by the flush worker
 *
 * A message exists for delivery exactly when queue/QID exists, and it only
 * gets there by rename() after its bytes and its final size were fsync()ed;
 * the queue directory is fsync()ed before success is reported. A crash at
 * any instant leaves either a complete queue file or a stale tmp/ file,
 * which spool_purge() removes once its writer is gone.
 */
#ifndef PST_SPOOL_H
#define PST_SPOOL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct envelope;

#define QID_LEN		15

struct spool {
	char	*dir;		/* owned */
	int	 dirfd;
	int	 tmpfd;		/* O_PATH when the caller may not list tmp/ */
	int	 queuefd;
	int	 statefd;
	mode_t	 fmode;		/* of new files: 0600, or 0640 if shared */
};

struct spool_file {
	int	 fd;
	char	 qid[QID_LEN + 1];
	char	 tmpname[QID_LEN + 1];
	size_t	 size_off;	/* file offset of the size digits */
	size_t	 body_off;	/* file offset of "7bit" */
	bool	 eightbit;	/* an 8-bit byte was written */
	off_t	 head_len;
	off_t	 body_len;	/* bytes written after the head */
	char	*wbuf;		/* owned write buffer */
	size_t	 wlen;
	bool	 head_buffered;	/* the head is still in wbuf, at its start */
};

/*
 * Opens the spool; with create, makes spool_dir (mode 0700; its parent
 * must exist) and the subdirectories when missing. Returns 0, or -1 with
 * a one-line reason in err.
 *
 * The privileged layout (spool/README.md, "Permissions"): a spool_dir
 * whose group may read it is shared with that group, and every file made
 * in it (by spool_create, and by queue.c's state and status writers, which
 * use fmode) is mode 0640 so that the group reads it; a private spool's
 * files are 0600. tmp/ may be write-only for the group (3730): it is then
 * opened O_PATH, which is enough for openat(), renameat() and unlinkat(),
 * but not for spool_purge(), which is the owner's job.
 */
int	 spool_open(struct spool *, const char *dir, bool create, char *err,
	    size_t errlen);
/* NULL-safe. */
void	 spool_close(struct spool *);

/*
 * Creates tmp/QID (mode s->fmode, locked) and writes the envelope head of e
 * (its size field a placeholder). Returns 0, or -1 with errno set.
 */
int	 spool_create(struct spool *, struct spool_file *,
	    const struct envelope *e);
/*
 * Appends message bytes (buffered), noting whether any is 8-bit.
 * Returns 0, or -1 with errno set.
 */
int	 spool_write(struct spool_file *, const void *, size_t);
/*
 * Makes the message durable and visible: flush, size patched, fsync,
 * rename into queue/ (never over an existing message: on a collision a
 * new queue ID is taken), fsync of queue/. Returns 0 with f->qid final,
 * or -1 with errno set after removing every trace of the message.
 */
int	 spool_commit(struct spool *, struct spool_file *);
/* Removes the temporary file; safe after a failed create or commit. */
void	 spool_abort(struct spool *, struct spool_file *);

/*
 * Async-signal-safe: unlinks the temporary file of the message being
 * written, if any (for a fatal signal handler).
 */
void	 spool_abort_signal(void);

/* A new queue ID: 15 characters that sort in order of creation time. */
void	 qid_new(char out[QID_LEN + 1]);
/* True if s has the syntax of a queue ID. */
bool	 qid_valid(const char *s);
/* The creation time encoded in a queue ID. */
time_t	 qid_time(const char *qid);

/*
 * Removes tmp/ files older than min_age seconds whose writer is gone (the
 * writer holds a lock for its whole life), state/ files without a queue
 * file, and wake-up files (spool_wake) older than min_age that a crash
 * left in queue/. Returns the number of files removed, or -1 with errno.
 */
int	 spool_purge(struct spool *, time_t min_age);

/*
 * Wakes a running daemon, which watches queue/ for new names, without
 * adding a message: creates and at once removes queue/.wake.PID. Every
 * reader of queue/ ignores names that are not queue IDs. Best effort.
 */
void	 spool_wake(struct spool *);

#endif
