/*
 * smtp_reply.c: the incremental SMTP reply parser, the one-line summary
 * of a reply, and the EHLO extension list (see smtp_reply.h).
 *
 * The parser takes bytes as they come from the connection, in pieces of
 * any size, and holds at most one incomplete line and one incomplete
 * reply. Every byte is counted as it arrives, so the limits (line,
 * lines per reply, bytes per reply) trip while a hostile server is still
 * sending, not after it stops: memory stays bounded by SMTP_LINE_MAX plus
 * SMTP_REPLY_MAX whatever the input.
 *
 * A line's length counts its line ending: "250 ok" CRLF is 8 bytes.
 *
 * Promises: a reply handed out has a code of 200..599, the same on all
 * its lines; its text holds no CR and no NUL (both are refused on input)
 * and only '\n' between lines. The enhanced status code is split out only
 * when it is well formed (RFC 3463) and its class agrees with the reply
 * code's first digit (RFC 2034 section 4); otherwise it stays in the text.
 * On RP_ERROR the parser has released what it held.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "compat.h"
#include "smtp_reply.h"
#include "util.h"

#define SUMMARY_MAX	400

static size_t	enhanced_len(const char *, size_t, int);
static int	parse_line(struct smtp_reply_parser *, const char *, size_t,
		    bool *, char *, size_t);
static void	parser_reset(struct smtp_reply_parser *);
static void	ext_line(struct smtp_ext *, const char *, size_t);
static void	ext_add_auth(struct smtp_ext *, const char *, size_t);
static bool	word_eq(const char *, size_t, const char *);

void
smtp_reply_init(struct smtp_reply *r)
{
	r->code = 0;
	r->enhanced[0] = '\0';
	r->nlines = 0;
	buf_init(&r->text);
}

void
smtp_reply_free(struct smtp_reply *r)
{
	if (r == NULL)
		return;
	buf_free(&r->text);
	smtp_reply_init(r);
}

void
smtp_reply_parser_init(struct smtp_reply_parser *p)
{
	buf_init(&p->line);
	smtp_reply_init(&p->cur);
	p->bytes = 0;
}

void
smtp_reply_parser_free(struct smtp_reply_parser *p)
{
	if (p == NULL)
		return;
	buf_free(&p->line);
	smtp_reply_free(&p->cur);
	p->bytes = 0;
}

/* Releases everything after an error, so that init cannot leak. */
static void
parser_reset(struct smtp_reply_parser *p)
{
	smtp_reply_parser_free(p);
	smtp_reply_parser_init(p);
}

enum rp_status
smtp_reply_feed(struct smtp_reply_parser *p, const char *s, size_t len,
    size_t *consumed, struct smtp_reply *out, char *err, size_t errlen)
{
	size_t i, n;
	bool last;
	char c;

	util_errf(err, errlen, "%s", "");
	for (i = 0; i < len; i++) {
		c = s[i];
		if (p->bytes >= SMTP_REPLY_MAX) {
			util_errf(err, errlen, "reply longer than %d bytes",
			    SMTP_REPLY_MAX);
			goto fail;
		}
		p->bytes++;
		n = p->line.len;
		if (c == '\n') {
			/* CRLF, or a bare LF (tolerated). */
			if (n > 0 && p->line.data[n - 1] == '\r')
				n--;
			if (parse_line(p, p->line.data, n, &last, err,
			    errlen) == -1)
				goto fail;
			buf_reset(&p->line);
			if (!last)
				continue;
			*out = p->cur;
			smtp_reply_init(&p->cur);
			p->bytes = 0;
			*consumed = i + 1;
			return RP_REPLY;
		}
		if (n > 0 && p->line.data[n - 1] == '\r') {
			util_errf(err, errlen, "CR not followed by LF in reply");
			goto fail;
		}
		if (c == '\0') {
			util_errf(err, errlen, "NUL byte in reply");
			goto fail;
		}
		/* This byte and the LF still to come must fit. */
		if (n + 2 > SMTP_LINE_MAX) {
			util_errf(err, errlen, "reply line longer than %d bytes",
			    SMTP_LINE_MAX);
			goto fail;
		}
		buf_addch(&p->line, c);
	}
	*consumed = len;
	return RP_MORE;

 fail:
	*consumed = i + 1;
	parser_reset(p);
	return RP_ERROR;
}

/*
 * One complete line s[0..n), without its line ending, into p->cur. *last
 * is set when it ends the reply. 0 or -1 with err.
 */
static int
parse_line(struct smtp_reply_parser *p, const char *s, size_t n, bool *last,
    char *err, size_t errlen)
{
	struct smtp_reply *r = &p->cur;
	const char *text;
	size_t tlen, elen;
	int code;

	if (n < 3) {
		util_errf(err, errlen, "reply line too short");
		return -1;
	}
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9') {
		util_errf(err, errlen, "reply code is not three digits");
		return -1;
	}
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (code < 200 || code > 599) {
		util_errf(err, errlen, "reply code %d out of range", code);
		return -1;
	}
	if (n == 3)
		*last = true;
	else if (s[3] == ' ')
		*last = true;
	else if (s[3] == '-')
		*last = false;
	else {
		util_errf(err, errlen, "bad separator after reply code %d", code);
		return -1;
	}
	if (r->nlines > 0 && code != r->code) {
		util_errf(err, errlen, "reply code changed from %d to %d "
		    "within a reply", r->code, code);
		return -1;
	}
	if (r->nlines >= SMTP_REPLY_LINES_MAX) {
		util_errf(err, errlen, "reply longer than %d lines",
		    SMTP_REPLY_LINES_MAX);
		return -1;
	}

	text = n > 4 ? s + 4 : "";
	tlen = n > 4 ? n - 4 : 0;
	if ((elen = enhanced_len(text, tlen, s[0])) > 0) {
		/* The first line's code stands for the reply. */
		if (r->enhanced[0] == '\0') {
			memcpy(r->enhanced, text, elen);
			r->enhanced[elen] = '\0';
		}
		/* The code, then one SP or the end of the line. */
		text += elen;
		tlen -= elen;
		if (tlen > 0) {
			text++;
			tlen--;
		}
	}
	if (r->nlines > 0)
		buf_addch(&r->text, '\n');
	buf_add(&r->text, text, tlen);
	r->code = code;
	r->nlines++;
	return 0;
}

/*
 * The length of the RFC 3463 status code "class.subject.detail" that
 * opens s[0..n), followed by SP or the end; 0 if there is none. class is
 * the reply code's first digit, which the status class must equal; only
 * 2, 4 and 5 are status classes.
 */
static size_t
enhanced_len(const char *s, size_t n, int class)
{
	size_t i, j, part;

	if (n < 5 || s[0] != class || s[1] != '.' ||
	    (class != '2' && class != '4' && class != '5'))
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (j = 0; i + j < n && j < 4 &&
		    s[i + j] >= '0' && s[i + j] <= '9'; j++)
			;
		if (j == 0 || j > 3)
			return 0;
		i += j;
		if (part == 0) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && s[i] != ' ')
		return 0;
	return i;
}

/*
 * Appends at most SUMMARY_MAX bytes: the code, the enhanced code, the
 * first non-empty line, then the other non-empty lines after "; ". Made
 * printable (util_printable keeps the byte count: one '?' per bad byte),
 * so the cut is made afterwards, at a UTF-8 character boundary, and
 * marked "...".
 */
void
smtp_reply_summary(const struct smtp_reply *r, struct buf *out)
{
	struct buf raw = BUF_INIT, pr = BUF_INIT;
	const char *s, *nl, *end;
	size_t n;
	bool first = true;

	buf_printf(&raw, "%03d", r->code);
	if (r->enhanced[0] != '\0')
		buf_printf(&raw, " %s", r->enhanced);
	s = r->text.data;
	end = s + r->text.len;
	while (s <= end && raw.len <= SUMMARY_MAX) {
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		if (nl > s) {
			buf_addstr(&raw, first ? " " : "; ");
			buf_add(&raw, s, nl - s);
			first = false;
		}
		s = nl + 1;
	}
	util_printable(&pr, raw.data, raw.len);
	if (pr.len > SUMMARY_MAX) {
		n = SUMMARY_MAX - 3;
		while (n > 0 && ((unsigned char)pr.data[n] & 0xc0) == 0x80)
			n--;
		buf_truncate(&pr, n);
		buf_addstr(&pr, "...");
	}
	buf_add(out, pr.data, pr.len);
	buf_free(&raw);
	buf_free(&pr);
}

void
smtp_ext_parse(const struct smtp_reply *r, struct smtp_ext *ext)
{
	const char *s, *nl, *end;

	memset(ext, 0, sizeof(*ext));
	if (r->code < 200 || r->code > 299)
		return;
	s = r->text.data;
	end = s + r->text.len;
	/* The first line is the server's greeting. */
	if ((nl = memchr(s, '\n', end - s)) == NULL)
		return;
	for (s = nl + 1; s <= end; s = nl + 1) {
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		ext_line(ext, s, nl - s);
	}
}

/* One EHLO line s[0..n): "KEYWORD [params]". */
static void
ext_line(struct smtp_ext *ext, const char *s, size_t n)
{
	const char *kw, *arg, *end = s + n;
	size_t kwlen;
	unsigned long long v;
	char num[32];
	char *ep;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	kw = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	kwlen = s - kw;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	arg = s;

	if (word_eq(kw, kwlen, "PIPELINING"))
		ext->pipelining = true;
	else if (word_eq(kw, kwlen, "8BITMIME"))
		ext->eightbitmime = true;
	else if (word_eq(kw, kwlen, "SMTPUTF8"))
		ext->smtputf8 = true;
	else if (word_eq(kw, kwlen, "ENHANCEDSTATUSCODES"))
		ext->enhancedstatuscodes = true;
	else if (word_eq(kw, kwlen, "STARTTLS"))
		ext->starttls = true;
	else if (word_eq(kw, kwlen, "DSN"))
		ext->dsn = true;
	else if (word_eq(kw, kwlen, "SIZE")) {
		ext->size = true;
		ext->size_max = 0;
		/* Only a plain decimal number sets a limit (RFC 1870). */
		n = 0;
		while (arg + n < end && arg[n] != ' ' && arg[n] != '\t')
			n++;
		if (n == 0 || n >= sizeof(num))
			return;
		memcpy(num, arg, n);
		num[n] = '\0';
		if (strspn(num, "0123456789") != n)
			return;
		errno = 0;
		v = strtoull(num, &ep, 10);
		if (errno == 0 && *ep == '\0')
			ext->size_max = v;
	} else if (word_eq(kw, kwlen, "AUTH"))
		ext_add_auth(ext, arg, end - arg);
	else if (kwlen > 5 && strncasecmp(kw, "AUTH=", 5) == 0)
		/* The pre-RFC 2554 form: "AUTH=LOGIN PLAIN". */
		ext_add_auth(ext, kw + 5, end - (kw + 5));
}

/*
 * Adds the mechanism names in s[0..n) to ext->auth, upper case, each
 * once. A name that is not a SASL mechanism name (RFC 4422 3.1: up to
 * 20 of A-Z 0-9 - _) or does not fit is skipped.
 */
static void
ext_add_auth(struct smtp_ext *ext, const char *s, size_t n)
{
	const char *end = s + n, *w;
	char name[21];
	size_t wlen, i, have;
	bool ok;

	while (s < end) {
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		w = s;
		while (s < end && *s != ' ' && *s != '\t')
			s++;
		wlen = s - w;
		if (wlen == 0 || wlen >= sizeof(name))
			continue;
		ok = true;
		for (i = 0; i < wlen; i++) {
			if (w[i] >= 'a' && w[i] <= 'z')
				name[i] = w[i] - 'a' + 'A';
			else if ((w[i] >= 'A' && w[i] <= 'Z') ||
			    (w[i] >= '0' && w[i] <= '9') ||
			    w[i] == '-' || w[i] == '_')
				name[i] = w[i];
			else {
				ok = false;
				break;
			}
		}
		if (!ok)
			continue;
		name[wlen] = '\0';
		if (util_word_in_list(ext->auth, name, wlen))
			continue;
		have = strlen(ext->auth);
		if (have + (have > 0) + wlen >= sizeof(ext->auth))
			continue;
		if (have > 0)
			ext->auth[have++] = ' ';
		memcpy(ext->auth + have, name, wlen);
		ext->auth[have + wlen] = '\0';
	}
}

bool
smtp_ext_has_auth(const struct smtp_ext *ext, const char *mech)
{
	return util_word_in_list(ext->auth, mech, strlen(mech));
}

/* True if s[0..n) is the word w, ignoring case. */
static bool
word_eq(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

