/*
 * intake.c: turn the caller's input into the stored message (see intake.h).
 *
 * The reader is a byte state machine rather than a line reader so that no
 * line, however long, is ever held in memory, and so that a CR or a "."
 * at the end of one read() is handled the same as anywhere else: such
 * bytes wait in pend[] until the next byte decides what they are.
 *
 * In SMTP DATA the same machine unstuffs: a held-back "." that turns out
 * not to be the end line is dropped instead of emitted. The end line is
 * consumed and nothing after it: the bytes that follow are the client's
 * next commands, read by reader_line() from the same buffer. A DATA
 * section cut short by the end of the input is an error rather than an
 * end, so that a client that died mid-message never gets it queued.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "intake.h"
#include "rfc5322.h"

static int	fill(struct reader *);
static int	refill_out(struct reader *);
static void	emit_pend(struct reader *, char *, size_t *);

void
reader_init(struct reader *r, int fd, bool dot_ends)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->dot_ends = dot_ends;
	r->bol = true;
	r->in = xmalloc(INTAKE_BUFSIZE);
	r->out = xmalloc(INTAKE_BUFSIZE);
}

void
reader_free(struct reader *r)
{
	free(r->in);
	free(r->out);
	r->in = NULL;
	r->out = NULL;
}

/* Returns 1 with bytes in r->in, 0 at EOF, -1 on error. */
static int
fill(struct reader *r)
{
	ssize_t n;

	if (r->eof)
		return 0;
	if (r->idle != NULL && r->idle(r->idle_arg) == -1) {
		r->error = errno != 0 ? errno : EIO;
		return -1;
	}
	for (;;) {
		n = read(r->fd, r->in, INTAKE_BUFSIZE);
		if (n == -1 && errno == EINTR)
			continue;
		break;
	}
	if (n == -1) {
		r->error = errno;
		return -1;
	}
	if (n == 0) {
		r->eof = true;
		return 0;
	}
	r->inpos = 0;
	r->inlen = (size_t)n;
	return 1;
}

void
reader_set_idle(struct reader *r, int (*idle)(void *), void *arg)
{
	r->idle = idle;
	r->idle_arg = arg;
}

void
reader_smtp_data(struct reader *r)
{
	r->smtp = true;
	r->dot_ends = true;
	r->done = false;
	r->truncated = false;
	r->bol = true;
	r->npend = 0;
	r->outpos = r->outlen = 0;
}

int
reader_line(struct reader *r, struct buf *line, size_t max, bool *toolong)
{
	unsigned char *p, *nl;
	size_t n;
	int rv;

	buf_reset(line);
	*toolong = false;
	for (;;) {
		if (r->inpos == r->inlen && (rv = fill(r)) <= 0)
			return rv;	/* a partial last line is dropped */
		p = r->in + r->inpos;
		nl = memchr(p, '\n', r->inlen - r->inpos);
		n = nl != NULL ? (size_t)(nl - p) + 1 : r->inlen - r->inpos;
		r->inpos += n;
		/* keep at most max bytes and a CRLF; drop a longer line */
		if (!*toolong && line->len + n > max + 2) {
			*toolong = true;
			buf_reset(line);
		}
		if (!*toolong)
			buf_add(line, p, n);
		if (nl != NULL)
			break;
	}
	if (*toolong)
		return 1;
	buf_truncate(line, line->len - 1);
	if (line->len > 0 && line->data[line->len - 1] == '\r')
		buf_truncate(line, line->len - 1);
	if (line->len > max) {
		*toolong = true;
		buf_reset(line);
	}
	return 1;
}

static void
emit_pend(struct reader *r, char *out, size_t *n)
{
	size_t i;

	for (i = 0; i < r->npend; i++)
		out[(*n)++] = r->pend[i];
	r->npend = 0;
}

ssize_t
reader_read(struct reader *r, char *out, size_t cap)
{
	size_t n = 0;
	int c, rv;

	/* Each step emits at most 3 bytes: two held back and one new. */
	while (!r->done && n + 3 <= cap) {
		if (r->inpos == r->inlen) {
			if (n > 0 && r->inlen != 0 && !r->eof)
				break;	/* return what we have first */
			if ((rv = fill(r)) == -1)
				return n > 0 ? (ssize_t)n : -1;
			if (rv == 0 && r->smtp) {
				/* no "." line: nothing of it may be kept */
				r->npend = 0;
				r->truncated = true;
				return -1;
			}
			if (rv == 0) {
				emit_pend(r, out, &n);
				r->done = true;
				break;
			}
		}
		c = r->in[r->inpos++];
again:
		if (r->npend == 1 && r->pend[0] == '\r') {
			r->npend = 0;
			if (c == '\n') {
				out[n++] = '\n';
				r->bol = true;
				continue;
			}
			out[n++] = '\r';	/* a bare CR stays */
			r->bol = false;
			goto again;
		}
		if (r->npend == 1) {		/* "." at the start of a line */
			if (c == '\n') {
				r->npend = 0;
				r->done = true;
				break;
			}
			if (c == '\r') {
				r->pend[1] = '\r';
				r->npend = 2;
				continue;
			}
			if (r->smtp)
				r->npend = 0;	/* unstuffed */
			else
				emit_pend(r, out, &n);
			r->bol = false;
			goto again;
		}
		if (r->npend == 2) {		/* ".\r" */
			if (c == '\n') {
				r->npend = 0;
				r->done = true;
				break;
			}
			if (!r->smtp)
				out[n++] = '.';
			r->pend[0] = '\r';
			r->npend = 1;
			r->bol = false;
			goto again;
		}
		if (c == '.' && r->bol && r->dot_ends) {
			r->pend[0] = '.';
			r->npend = 1;
			continue;
		}
		if (c == '\r') {
			r->pend[0] = '\r';
			r->npend = 1;
			continue;
		}
		out[n++] = (char)c;
		r->bol = c == '\n';
	}
	return (ssize_t)n;
}

/* Refills the normalised-output buffer; 1 with bytes, 0 at end, -1. */
static int
refill_out(struct reader *r)
{
	ssize_t n;

	if (r->outpos < r->outlen)
		return 1;
	r->outpos = r->outlen = 0;
	do {
		n = reader_read(r, r->out, INTAKE_BUFSIZE);
	} while (n == 0 && !r->done);
	if (n == -1)
		return -1;
	r->outlen = (size_t)n;
	return n > 0 ? 1 : 0;
}

enum intake_status
intake_headers(struct reader *r, struct headers *h, struct buf *body_start)
{
	struct buf line = BUF_INIT;
	bool first = true, partial;
	size_t namelen;
	char *nl;
	int rv;

	for (;;) {
		/* One line, ending in LF unless the message ends first. */
		buf_reset(&line);
		partial = false;
		for (;;) {
			if ((rv = refill_out(r)) == -1) {
				buf_free(&line);
				return INTAKE_READ_ERROR;
			}
			if (rv == 0)
				break;
			nl = memchr(r->out + r->outpos, '\n',
			    r->outlen - r->outpos);
			if (nl != NULL) {
				buf_add(&line, r->out + r->outpos,
				    (size_t)(nl - (r->out + r->outpos)) + 1);
				r->outpos = (size_t)(nl - r->out) + 1;
				break;
			}
			buf_add(&line, r->out + r->outpos,
			    r->outlen - r->outpos);
			r->outpos = r->outlen;
			if (h->bytes + line.len > INTAKE_MAX_HEADERS) {
				partial = true;
				break;
			}
		}
		if (line.len == 0)
			break;			/* end of message */
		if (first && line.len >= 5 && memcmp(line.data, "From ", 5) == 0
		    && !partial) {
			first = false;
			continue;
		}
		first = false;
		if (line.len == 1 && line.data[0] == '\n')
			break;			/* the separator */
		if ((line.data[0] == ' ' || line.data[0] == '\t') && h->n > 0 &&
		    !partial) {
			if (h->bytes + line.len > INTAKE_MAX_HEADERS) {
				buf_free(&line);
				return INTAKE_TOO_BIG;
			}
			headers_continue(h, line.data, line.len);
			continue;
		}
		namelen = rfc5322_field_start(line.data, line.len);
		if (namelen > 0) {
			if (partial || h->bytes + line.len > INTAKE_MAX_HEADERS) {
				buf_free(&line);
				return INTAKE_TOO_BIG;
			}
			headers_add(h, line.data, line.len, namelen);
			continue;
		}
		/* Not a header: the body starts here, without a separator. */
		buf_add(body_start, line.data, line.len);
		break;
	}
	buf_free(&line);
	return INTAKE_OK;
}

int
intake_body(struct reader *r, int (*sink)(void *, const void *, size_t),
    void *arg)
{
	ssize_t n;

	if (r->outpos < r->outlen) {
		if (sink(arg, r->out + r->outpos, r->outlen - r->outpos) == -1)
			return -1;
		r->outpos = r->outlen;
	}
	for (;;) {
		n = reader_read(r, r->out, INTAKE_BUFSIZE);
		if (n == -1)
			return -1;
		if (n == 0) {
			if (r->done)
				return 0;
			continue;
		}
		if (sink(arg, r->out, (size_t)n) == -1)
			return -1;
	}
}

int
intake_discard(struct reader *r)
{
	r->outpos = r->outlen = 0;
	while (!r->done)
		if (reader_read(r, r->out, INTAKE_BUFSIZE) == -1)
			return -1;
	return 0;
}
