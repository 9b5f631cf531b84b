/*
 * rfc5322.h: the header section of a message, as read by the front-end.
 *
 * A struct headers holds the fields in input order, each as its raw bytes:
 * the name, the colon, the value and every continuation line, each line
 * ending in a single LF (the reader has normalised CRLF). The front-end
 * removes and appends fields and writes them back out unchanged otherwise.
 */
#ifndef PST_RFC5322_H
#define PST_RFC5322_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct buf;

struct header {
	char	*raw;		/* owned; the whole field, LF line ends */
	size_t	 rawlen;
	size_t	 namelen;	/* raw[0..namelen) is the field name */
	size_t	 valoff;	/* raw[valoff..rawlen) is the value */
};

struct headers {
	struct header	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 bytes;	/* sum of rawlen */
};

#define HEADERS_INIT { NULL, 0, 0, 0 }

/*
 * If line[0..len) starts a header field ("Name:" with the name made of
 * printable ASCII other than ':' and optional blanks before the colon,
 * RFC 5322 obs-optional), returns the name's length, else 0.
 */
size_t	 rfc5322_field_start(const char *line, size_t len);

/* Appends a new field from its first line. */
void	 headers_add(struct headers *, const char *line, size_t len,
	    size_t namelen);
/* Appends a continuation line to the last field (there must be one). */
void	 headers_continue(struct headers *, const char *line, size_t len);
/* First field with that name (ASCII case-insensitive), or NULL. */
const struct header *headers_find(const struct headers *, const char *name);
/* Removes every field with that name; returns how many. */
size_t	 headers_remove(struct headers *, const char *name);
/* NULL-safe. */
void	 headers_free(struct headers *);

/* True if the field's name equals name (ASCII case-insensitive). */
bool	 header_is(const struct header *, const char *name);

/*
 * The field's value with folding undone (each line end that precedes a
 * blank is removed; a final line end is dropped). Appended to b.
 */
void	 header_unfold(const struct header *, struct buf *b);

/* RFC 5322 date-time in local time: "Thu, 26 Nov 2026 05:35:52 +0000". */
void	 rfc5322_date(time_t, char *out, size_t outlen);

/*
 * Appends name as an RFC 5322 display-name: as is when it is only atext
 * and blanks, as a quoted-string when it is other printable ASCII, and as
 * RFC 2047 "=?UTF-8?B?...?=" words when it has 8-bit bytes.
 */
void	 rfc5322_display_name(struct buf *b, const char *name);

#endif
