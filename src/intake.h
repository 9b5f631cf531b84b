/*
 * intake.h: reading a message from the caller.
 *
 * A reader turns raw input into the stored form: CRLF becomes LF, every
 * other byte (8-bit, NUL, a bare CR, a line of any length) passes
 * unchanged, and, unless -i was given, a line holding only "." ends the
 * message (the rest of the input is not read). On top of it,
 * intake_headers() collects the header section and intake_body() streams
 * the rest, so memory stays flat whatever the size of the message.
 */
#ifndef PST_INTAKE_H
#define PST_INTAKE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct headers;

#define INTAKE_BUFSIZE		(64 * 1024)
/* The header section is kept in memory; beyond this it is refused. */
#define INTAKE_MAX_HEADERS	(1024 * 1024)

struct reader {
	int		 fd;
	bool		 dot_ends;	/* no -i: a lone "." ends input */
	bool		 eof;		/* read() returned 0 */
	bool		 done;		/* end of message reached */
	bool		 bol;		/* at the beginning of a line */
	int		 error;		/* errno of a failed read, or 0 */
	char		 pend[2];	/* bytes held back: "\r", ".", ".\r" */
	size_t		 npend;
	unsigned char	*in;		/* raw input */
	size_t		 inpos, inlen;
	char		*out;		/* normalised bytes not yet taken */
	size_t		 outpos, outlen;
};

enum intake_status {
	INTAKE_OK,
	INTAKE_READ_ERROR,	/* errno in reader.error */
	INTAKE_TOO_BIG,		/* a header section over INTAKE_MAX_HEADERS */
};

void	reader_init(struct reader *, int fd, bool dot_ends);
void	reader_free(struct reader *);

/*
 * Normalised bytes into out[0..cap), cap >= 4. Returns the count, 0 at the
 * end of the message, -1 on a read error (errno in r->error).
 */
ssize_t	reader_read(struct reader *, char *out, size_t cap);

/*
 * Reads the header section into h. A first line "From " (an mbox
 * separator) is dropped. The section ends at an empty line (consumed), at
 * the end of the message, or at the first line that is neither a field
 * nor a continuation: that line is the first of the body and is left in
 * body_start.
 */
enum intake_status intake_headers(struct reader *, struct headers *h,
	    struct buf *body_start);

/*
 * Passes every remaining normalised byte to sink(arg, p, n); stops early
 * if sink returns -1. Returns 0, or -1 (r->error set on a read error,
 * else the sink failed).
 */
int	intake_body(struct reader *, int (*sink)(void *, const void *, size_t),
	    void *arg);

#endif
