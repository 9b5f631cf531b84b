/*
 * rfc5322.c: header fields of a message (see rfc5322.h), the Date format
 * and display-name encoding used for the headers postern adds.
 *
 * Fields are kept as the bytes that were read, so that every field postern
 * does not deliberately remove reaches the smarthost exactly as the caller
 * wrote it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "compat.h"
#include "rfc5322.h"

static bool	is_atext(unsigned char);

size_t
rfc5322_field_start(const char *line, size_t len)
{
	size_t i, name;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == ':' || c == ' ' || c == '\t')
			break;
		if (c < 33 || c > 126)
			return 0;
	}
	name = i;
	if (name == 0)
		return 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] != ':')
		return 0;
	return name;
}

void
headers_add(struct headers *h, const char *line, size_t len, size_t namelen)
{
	struct header *f;
	size_t i;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 32;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	f = &h->v[h->n++];
	f->raw = xmalloc(len + 1);
	memcpy(f->raw, line, len);
	f->raw[len] = '\0';
	f->rawlen = len;
	f->namelen = namelen;
	for (i = namelen; i < len && f->raw[i] != ':'; i++)
		;
	f->valoff = i < len ? i + 1 : len;
	h->bytes += len;
}

void
headers_continue(struct headers *h, const char *line, size_t len)
{
	struct header *f;
	char *p;

	if (h->n == 0)
		return;
	f = &h->v[h->n - 1];
	p = xmalloc(f->rawlen + len + 1);
	memcpy(p, f->raw, f->rawlen);
	memcpy(p + f->rawlen, line, len);
	p[f->rawlen + len] = '\0';
	free(f->raw);
	f->raw = p;
	f->rawlen += len;
	h->bytes += len;
}

bool
header_is(const struct header *f, const char *name)
{
	return strlen(name) == f->namelen &&
	    strncasecmp(f->raw, name, f->namelen) == 0;
}

const struct header *
headers_find(const struct headers *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (header_is(&h->v[i], name))
			return &h->v[i];
	return NULL;
}

size_t
headers_remove(struct headers *h, const char *name)
{
	size_t i, j, removed = 0;

	for (i = j = 0; i < h->n; i++) {
		if (header_is(&h->v[i], name)) {
			h->bytes -= h->v[i].rawlen;
			free(h->v[i].raw);
			removed++;
			continue;
		}
		h->v[j++] = h->v[i];
	}
	h->n = j;
	return removed;
}

void
headers_free(struct headers *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		free(h->v[i].raw);
	free(h->v);
	h->v = NULL;
	h->n = h->cap = h->bytes = 0;
}

void
header_unfold(const struct header *f, struct buf *b)
{
	const char *p = f->raw + f->valoff, *end = f->raw + f->rawlen;

	for (; p < end; p++) {
		if (*p == '\n' && (p + 1 == end || p[1] == ' ' ||
		    p[1] == '\t'))
			continue;
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			continue;
		buf_addch(b, *p);
	}
}

void
rfc5322_date(time_t t, char *out, size_t outlen)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	long off;
	char sign = '+';

	if (localtime_r(&t, &tm) == NULL) {
		gmtime_r(&t, &tm);
		tm.tm_gmtoff = 0;
	}
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	snprintf(out, outlen, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
	    off / 60, off % 60);
}

static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

void
rfc5322_display_name(struct buf *b, const char *name)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *)name;
	bool eightbit = false, plain = true;
	size_t i, n = strlen(name), chunk;

	for (i = 0; i < n; i++) {
		if (u[i] >= 0x80)
			eightbit = true;
		else if (!is_atext(u[i]) && u[i] != ' ')
			plain = false;
	}
	if (eightbit) {
		/*
		 * Encoded words are at most 75 characters: 45 input bytes
		 * make 60 of base64 plus 12 of framing. A word must hold
		 * whole characters (RFC 2047 5), so a chunk never ends
		 * inside a UTF-8 sequence.
		 */
		for (i = 0; i < n; i += chunk) {
			size_t k;

			chunk = n - i > 45 ? 45 : n - i;
			while (chunk > 4 && i + chunk < n &&
			    (u[i + chunk] & 0xc0) == 0x80)
				chunk--;
			if (i > 0)
				buf_addch(b, ' ');
			buf_addstr(b, "=?UTF-8?B?");
			for (k = 0; k < chunk; k += 3) {
				unsigned v = (unsigned)u[i + k] << 16;

				if (k + 1 < chunk)
					v |= (unsigned)u[i + k + 1] << 8;
				if (k + 2 < chunk)
					v |= u[i + k + 2];
				buf_addch(b, b64[(v >> 18) & 63]);
				buf_addch(b, b64[(v >> 12) & 63]);
				buf_addch(b, k + 1 < chunk ?
				    b64[(v >> 6) & 63] : '=');
				buf_addch(b, k + 2 < chunk ? b64[v & 63] : '=');
			}
			buf_addstr(b, "?=");
		}
		return;
	}
	if (plain && n > 0) {
		buf_addstr(b, name);
		return;
	}
	buf_addch(b, '"');
	for (i = 0; i < n; i++) {
		if (u[i] == '"' || u[i] == '\\')
			buf_addch(b, '\\');
		buf_addch(b, u[i]);
	}
	buf_addch(b, '"');
}
