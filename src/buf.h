/*
 * buf.h: the one growable byte buffer.
 *
 * Invariants: data is never NULL (an empty buffer points at a static ""),
 * data[len] is always a NUL byte (so text can be passed to string functions,
 * but the buffer may hold NUL bytes itself), len < cap once anything was
 * allocated. Growth checks for size_t overflow. Allocation failure is fatal
 * (EX_TEMPFAIL): a mail program out of memory cannot do anything useful.
 */
#ifndef PST_BUF_H
#define PST_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { (char *)buf_empty, 0, 0 }
extern const char buf_empty[];

void	 buf_init(struct buf *);
void	 buf_grow(struct buf *, size_t extra);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addstr(struct buf *, const char *);
void	 buf_addch(struct buf *, int);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_truncate(struct buf *, size_t len);
void	 buf_reset(struct buf *);
/* Hands the storage to the caller (caller frees); the buffer is reset. */
char	*buf_detach(struct buf *, size_t *lenp);
/* NULL-safe; releases the storage and resets the buffer. */
void	 buf_free(struct buf *);

/* Allocation helpers that never return NULL (fatal on failure). */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

#endif
