/*
 * buf.c: growable byte buffer and allocation helpers (see buf.h).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "compat.h"
#include "log.h"

const char buf_empty[1] = "";

void
buf_init(struct buf *b)
{
	b->data = (char *)buf_empty;
	b->len = 0;
	b->cap = 0;
}

void
buf_grow(struct buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		fatalx(EX_SOFTWARE, "buffer size overflow");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	p = realloc(b->cap ? b->data : NULL, ncap);
	if (p == NULL)
		fatal(EX_TEMPFAIL, "out of memory");
	if (b->cap == 0)
		p[0] = '\0';
	b->data = p;
	b->cap = ncap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addch(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->data[b->len++] = (char)c;
	b->data[b->len] = '\0';
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->cap ? b->cap - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		fatal(EX_SOFTWARE, "vsnprintf");
	if (b->cap == 0 || (size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		if (n < 0)
			fatal(EX_SOFTWARE, "vsnprintf");
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len > b->len)
		bug("buf_truncate beyond length");
	if (b->cap == 0)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void
buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

char *
buf_detach(struct buf *b, size_t *lenp)
{
	char *p;

	if (b->cap == 0)
		p = xstrdup("");
	else
		p = b->data;
	if (lenp != NULL)
		*lenp = b->len;
	buf_init(b);
	return p;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->cap != 0)
		free(b->data);
	buf_init(b);
}

void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		fatal(EX_TEMPFAIL, "out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t sz)
{
	void *p;

	if ((p = calloc(n ? n : 1, sz ? sz : 1)) == NULL)
		fatal(EX_TEMPFAIL, "out of memory");
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t sz)
{
	void *p;

	if ((p = reallocarray(old, n ? n : 1, sz ? sz : 1)) == NULL)
		fatal(EX_TEMPFAIL, "out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal(EX_TEMPFAIL, "out of memory");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		fatal(EX_TEMPFAIL, "out of memory");
	return p;
}
