/*
 * intake.h: reading a message from the caller.
 *
 * A reader turns raw input into the stored form: CRLF becomes LF, every
 * other byte (8-bit, NUL, a bare CR, a line of any length) passes
 * unchanged, and, unless -i was given, a line holding only "." ends the
 * message (the rest of the input is not read). On top of it,
 * intake_headers() collects the header section and intake_body() streams
 * the rest, so memory stays flat whatever the size of the message.
 *
 * For sendmail -bs the same reader serves a whole SMTP session: command
 * lines come from reader_line(), and after reader_smtp_data() the message
 * of a DATA command, with the SMTP rules of RFC 5321 section 4.5.2.
 * Bytes after the end of a DATA section (pipelined commands) stay in the
 * reader's buffer for the next reader_line().
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
	bool		 smtp;		/* an SMTP DATA section */
	bool		 eof;		/* read() returned 0 */
	bool		 done;		/* end of message reached */
	bool		 truncated;	/* SMTP: the input ended inside DATA */
	bool		 bol;		/* at the beginning of a line */
	int		 error;		/* errno of a failed read, or 0 */
	int		(*idle)(void *); /* called before a read() */
	void		*idle_arg;
	char		 pend[2];	/* bytes held back: "\r", ".", ".\r" */
	size_t		 npend;
	unsigned char	*in;		/* raw input */
	size_t		 inpos, inlen;
	char		*out;		/* normalised bytes not yet taken */
	size_t		 outpos, outlen;
};

enum intake_status {
	INTAKE_OK,
	INTAKE_READ_ERROR,	/* errno in reader.error, or truncated */
	INTAKE_TOO_BIG,		/* a header section over INTAKE_MAX_HEADERS */
};

void	reader_init(struct reader *, int fd, bool dot_ends);
void	reader_free(struct reader *);

/*
 * idle(arg) is called before every read() of the input, that is whenever
 * no input is buffered: sendmail -bs flushes its replies there (RFC 2920:
 * never block on input with replies held back) and waits for input with
 * a time limit. When it returns -1 the read fails with its errno.
 */
void	reader_set_idle(struct reader *, int (*idle)(void *), void *arg);

/*
 * Starts an SMTP DATA section: a line holding only "." (CRLF or LF) ends
 * it; the first "." of any other line is removed (dot-unstuffing); CRLF
 * becomes LF and every other byte passes unchanged. The end of the input
 * before the "." line is an error: reading returns -1 with r->truncated
 * set and r->error 0, and nothing read so far may be used.
 */
void	reader_smtp_data(struct reader *);

/*
 * SMTP: reads one command line into line, without its LF or CRLF (a bare
 * LF ends a line too; any other CR stays in the line). A line longer than
 * max bytes is read to its end and discarded: *toolong is set and line is
 * left empty. Returns 1 with a line, 0 at the end of the input (a last
 * line without LF is dropped), -1 on a read error (errno in r->error).
 */
int	reader_line(struct reader *, struct buf *line, size_t max,
	    bool *toolong);

/*
 * Normalised bytes into out[0..cap), cap >= 4. Returns the count, 0 at the
 * end of the message, -1 on a read error (errno in r->error) or, in SMTP
 * DATA, at a premature end of input (r->truncated).
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
 * if sink returns -1. Returns 0, or -1 (r->error or r->truncated set on a
 * read error, else the sink failed).
 */
int	intake_body(struct reader *, int (*sink)(void *, const void *, size_t),
	    void *arg);

/*
 * Reads and drops the rest of the message (after an error, so that an
 * SMTP session goes on after the "." line). Returns 0 at the end of the
 * message, -1 as reader_read().
 */
int	intake_discard(struct reader *);

#endif
