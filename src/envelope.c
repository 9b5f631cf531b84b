/*
 * envelope.c: format and parse envelope records (see envelope.h and
 * spool/README.md).
 *
 * The parsers are strict: any line they do not expect, a missing field, a
 * number out of range or a missing end marker is an error. A damaged
 * envelope must never be mistaken for a message with fewer recipients.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compat.h"
#include "envelope.h"
#include "util.h"

const char *const envelope_rcpt_state_names[] = {
	[RCPT_PENDING] = "pending",
	[RCPT_SENT] = "sent",
	[RCPT_FAILED] = "failed",
};

static int	parse_num(const char *, size_t, long long, long long,
		    long long *);
static int	parse_rcpt(struct envelope *, const char *, size_t);
static void	add_text(struct buf *, const char *, const char *);
static const char *next_line(const char **, const char *, size_t *);
static bool	 account_chars(const char *, size_t);
static void	free_rcpts(struct envelope *);

void
envelope_add_rcpt(struct envelope *e, const char *addr)
{
	e->rcpts = xreallocarray(e->rcpts, e->nrcpts + 1, sizeof(*e->rcpts));
	e->rcpts[e->nrcpts].addr = xstrdup(addr);
	e->rcpts[e->nrcpts].state = RCPT_PENDING;
	e->rcpts[e->nrcpts].reason = NULL;
	e->nrcpts++;
}

/* "key text\n", with the text made printable (no line breaks). */
static void
add_text(struct buf *b, const char *key, const char *text)
{
	buf_addstr(b, key);
	buf_addch(b, ' ');
	util_printable(b, text, strlen(text));
	buf_addch(b, '\n');
}

void
envelope_format_head(const struct envelope *e, struct buf *b,
    size_t *size_off, size_t *body_off)
{
	size_t start = b->len, i;

	buf_addstr(b, "postern-queue 1\nsize ");
	if (size_off != NULL)
		*size_off = b->len - start;
	buf_printf(b, "%0*lld\n", ENVELOPE_SIZE_DIGITS, (long long)e->size);
	buf_addstr(b, "body ");
	if (body_off != NULL)
		*body_off = b->len - start;
	buf_addstr(b, e->eightbit ? "8bit\n" : "7bit\n");
	buf_printf(b, "arrival %lld\n", (long long)e->arrival);
	if (e->sender[0] == '\0')
		buf_addstr(b, "sender\n");
	else
		buf_printf(b, "sender %s\n", e->sender);
	if (e->account != NULL)
		buf_printf(b, "account %s\n", e->account);
	for (i = 0; i < e->nrcpts; i++)
		buf_printf(b, "rcpt %s %s\n",
		    envelope_rcpt_state_names[e->rcpts[i].state],
		    e->rcpts[i].addr);
	buf_addch(b, '\n');
}

void
envelope_format_state(const struct envelope *e, struct buf *b)
{
	size_t i;

	buf_addstr(b, "postern-state 1\n");
	buf_printf(b, "attempts %u\n", e->attempts);
	buf_printf(b, "last-attempt %lld\n", (long long)e->last_attempt);
	buf_printf(b, "next-attempt %lld\n", (long long)e->next_attempt);
	/* written only when set, so that a state file without them reads
	   the same in a version that knows nothing of holding */
	if (e->hold_since != 0)
		buf_printf(b, "hold %lld\n", (long long)e->hold_since);
	if (e->held != 0)
		buf_printf(b, "held %lld\n", (long long)e->held);
	if (e->error != NULL)
		add_text(b, "error", e->error);
	for (i = 0; i < e->nrcpts; i++) {
		buf_printf(b, "rcpt %s %s\n",
		    envelope_rcpt_state_names[e->rcpts[i].state],
		    e->rcpts[i].addr);
		if (e->rcpts[i].reason != NULL)
			add_text(b, "reason", e->rcpts[i].reason);
	}
	buf_addstr(b, "end\n");
}

/* s[0..len) holds only bytes of ACCOUNT_CHARS; s may not end in NUL */
static bool
account_chars(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(ACCOUNT_CHARS, s[i]) == NULL)
			return false;
	return true;
}

/*
 * Returns the next line (without its LF) and its length, advancing *pp;
 * NULL when no complete line is left.
 */
static const char *
next_line(const char **pp, const char *end, size_t *lenp)
{
	const char *p = *pp, *nl;

	if (p >= end)
		return NULL;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return NULL;
	*lenp = (size_t)(nl - p);
	*pp = nl + 1;
	return p;
}

static int
parse_num(const char *s, size_t len, long long min, long long max,
    long long *out)
{
	long long v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "STATE ADDR" */
static int
parse_rcpt(struct envelope *e, const char *s, size_t len)
{
	const char *sp = memchr(s, ' ', len);
	struct rcpt *r;
	size_t slen, i;

	if (sp == NULL || sp + 1 == s + len)
		return -1;
	slen = (size_t)(sp - s);
	for (i = 0; i <= RCPT_FAILED; i++)
		if (strlen(envelope_rcpt_state_names[i]) == slen &&
		    memcmp(envelope_rcpt_state_names[i], s, slen) == 0)
			break;
	if (i > RCPT_FAILED)
		return -1;
	if (util_has_ctl(sp + 1, len - slen - 1))
		return -1;
	/* one allocation per address: a listing parses every envelope */
	e->rcpts = xreallocarray(e->rcpts, e->nrcpts + 1, sizeof(*e->rcpts));
	r = &e->rcpts[e->nrcpts++];
	r->addr = xstrndup(sp + 1, len - slen - 1);
	r->state = (enum rcpt_state)i;
	r->reason = NULL;
	return 0;
}

#define KEYIS(line, len, key) \
	((len) >= sizeof(key) - 1 && memcmp((line), key, sizeof(key) - 1) == 0)

int
envelope_parse_head(struct envelope *e, const char *p, size_t len,
    char *err, size_t errlen)
{
	const char *end = p + (len > ENVELOPE_MAX ? ENVELOPE_MAX : len);
	const char *line, *start = p;
	bool have_size = false, have_arrival = false, have_body = false;
	long long v;
	size_t n;

	memset(e, 0, sizeof(*e));
	if ((line = next_line(&p, end, &n)) == NULL ||
	    n != strlen("postern-queue 1") ||
	    memcmp(line, "postern-queue 1", n) != 0) {
		snprintf(err, errlen, "not a postern queue file");
		goto bad;
	}
	while ((line = next_line(&p, end, &n)) != NULL) {
		if (n == 0) {
			if (!have_size || !have_arrival || !have_body ||
			    e->sender == NULL ||
			    e->nrcpts == 0) {
				snprintf(err, errlen, "incomplete envelope");
				goto bad;
			}
			e->body_offset = (off_t)(p - start);
			return 0;
		}
		if (KEYIS(line, n, "size ")) {
			if (have_size || parse_num(line + 5, n - 5, 0,
			    INT64_MAX, &v) == -1)
				goto badline;
			e->size = (off_t)v;
			have_size = true;
		} else if (KEYIS(line, n, "body ")) {
			if (have_body || n != 9 || (memcmp(line + 5, "7bit", 4)
			    != 0 && memcmp(line + 5, "8bit", 4) != 0))
				goto badline;
			e->eightbit = line[5] == '8';
			have_body = true;
		} else if (KEYIS(line, n, "arrival ")) {
			if (have_arrival || parse_num(line + 8, n - 8, 0,
			    INT64_MAX, &v) == -1)
				goto badline;
			e->arrival = (time_t)v;
			have_arrival = true;
		} else if (n == 6 && memcmp(line, "sender", 6) == 0) {
			if (e->sender != NULL)
				goto badline;
			e->sender = xstrdup("");
		} else if (KEYIS(line, n, "sender ")) {
			if (e->sender != NULL || n == 7 ||
			    util_has_ctl(line + 7, n - 7))
				goto badline;
			e->sender = xstrndup(line + 7, n - 7);
		} else if (KEYIS(line, n, "account ")) {
			/* a name of conf_parse_account_name's alphabet */
			if (e->account != NULL || n == 8 ||
			    n - 8 > ACCOUNT_NAMEMAX ||
			    !account_chars(line + 8, n - 8))
				goto badline;
			e->account = xstrndup(line + 8, n - 8);
		} else if (KEYIS(line, n, "rcpt ")) {
			if (parse_rcpt(e, line + 5, n - 5) == -1)
				goto badline;
		} else
			goto badline;
	}
	snprintf(err, errlen, "envelope has no end");
	goto bad;
badline:
	snprintf(err, errlen, "bad envelope line %.*s",
	    (int)(n > 40 ? 40 : n), line);
bad:
	envelope_free(e);
	return -1;
}

int
envelope_parse_state(struct envelope *e, const char *p, size_t len,
    char *err, size_t errlen)
{
	const char *end = p + (len > ENVELOPE_MAX ? ENVELOPE_MAX : len);
	const char *line;
	struct envelope st;
	long long v;
	size_t n;

	memset(&st, 0, sizeof(st));
	if ((line = next_line(&p, end, &n)) == NULL ||
	    n != strlen("postern-state 1") ||
	    memcmp(line, "postern-state 1", n) != 0) {
		snprintf(err, errlen, "not a postern state file");
		goto bad;
	}
	while ((line = next_line(&p, end, &n)) != NULL) {
		if (n == 3 && memcmp(line, "end", 3) == 0) {
			if (p != end || st.nrcpts == 0) {
				snprintf(err, errlen, "bad state file end");
				goto bad;
			}
			free_rcpts(e);
			free(e->error);
			e->rcpts = st.rcpts;
			e->nrcpts = st.nrcpts;
			e->attempts = st.attempts;
			e->last_attempt = st.last_attempt;
			e->next_attempt = st.next_attempt;
			e->hold_since = st.hold_since;
			e->held = st.held;
			e->error = st.error;
			return 0;
		}
		if (KEYIS(line, n, "attempts ")) {
			if (parse_num(line + 9, n - 9, 0, UINT32_MAX, &v) == -1)
				goto badline;
			st.attempts = (unsigned)v;
		} else if (KEYIS(line, n, "last-attempt ")) {
			if (parse_num(line + 13, n - 13, 0, INT64_MAX, &v) == -1)
				goto badline;
			st.last_attempt = (time_t)v;
		} else if (KEYIS(line, n, "next-attempt ")) {
			if (parse_num(line + 13, n - 13, 0, INT64_MAX, &v) == -1)
				goto badline;
			st.next_attempt = (time_t)v;
		} else if (KEYIS(line, n, "hold ")) {
			if (st.hold_since != 0 || parse_num(line + 5, n - 5, 1,
			    INT64_MAX, &v) == -1)
				goto badline;
			st.hold_since = (time_t)v;
		} else if (KEYIS(line, n, "held ")) {
			if (st.held != 0 || parse_num(line + 5, n - 5, 1,
			    INT64_MAX, &v) == -1)
				goto badline;
			st.held = (time_t)v;
		} else if (KEYIS(line, n, "error ")) {
			if (st.error != NULL || util_has_ctl(line + 6, n - 6))
				goto badline;
			st.error = xstrndup(line + 6, n - 6);
		} else if (KEYIS(line, n, "rcpt ")) {
			if (parse_rcpt(&st, line + 5, n - 5) == -1)
				goto badline;
		} else if (KEYIS(line, n, "reason ")) {
			if (st.nrcpts == 0 ||
			    st.rcpts[st.nrcpts - 1].reason != NULL ||
			    util_has_ctl(line + 7, n - 7))
				goto badline;
			st.rcpts[st.nrcpts - 1].reason =
			    xstrndup(line + 7, n - 7);
		} else
			goto badline;
	}
	snprintf(err, errlen, "state file has no end");
	goto bad;
badline:
	snprintf(err, errlen, "bad state line %.*s",
	    (int)(n > 40 ? 40 : n), line);
bad:
	free_rcpts(&st);
	free(st.error);
	return -1;
}

size_t
envelope_pending(const struct envelope *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->nrcpts; i++)
		if (e->rcpts[i].state == RCPT_PENDING)
			n++;
	return n;
}

time_t
envelope_age(const struct envelope *e, time_t now)
{
	time_t age = now - e->arrival - e->held;

	if (e->hold_since != 0 && now > e->hold_since)
		age -= now - e->hold_since;
	return age;
}

static void
free_rcpts(struct envelope *e)
{
	size_t i;

	for (i = 0; i < e->nrcpts; i++) {
		free(e->rcpts[i].addr);
		free(e->rcpts[i].reason);
	}
	free(e->rcpts);
	e->rcpts = NULL;
	e->nrcpts = 0;
}

void
envelope_free(struct envelope *e)
{
	if (e == NULL)
		return;
	free_rcpts(e);
	free(e->sender);
	free(e->account);
	free(e->error);
	memset(e, 0, sizeof(*e));
}
