/*
 * test_smtp_reply.c: unit tests for smtp_reply.c, the SMTP reply parser,
 * the reply summary and the EHLO extension list.
 *
 * A table of whole replies, each with the expected code, enhanced code,
 * text and line count, or the expected error; every valid case is then
 * fed again one byte at a time and in every two-piece split. Then
 * pipelined replies, the three limits (including an endless line and an
 * endless multi-line reply, which must fail early), the summary, and
 * EHLO replies from Postfix, Gmail and Exchange.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp_reply.h"
#include "t.h"

struct tcase {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 code;		/* 0: an error is wanted */
	const char	*enhanced;
	const char	*text;
	size_t		 nlines;
	const char	*err;		/* part of the error wanted */
};

/* sizeof, not strlen, so that a case may hold a NUL byte. */
#define OK(name, in, code, enh, text, nl) \
	{ name, in, sizeof(in) - 1, code, enh, text, nl, NULL }
#define BAD(name, in, err) \
	{ name, in, sizeof(in) - 1, 0, NULL, NULL, 0, err }

static const struct tcase cases[] = {
	OK("single line", "250 OK\r\n", 250, "", "OK", 1),
	OK("code alone", "250\r\n", 250, "", "", 1),
	OK("code and space", "250 \r\n", 250, "", "", 1),
	OK("text keeps inner spaces", "220 a  b c \r\n", 220, "",
	    "a  b c ", 1),
	OK("multi-line",
	    "250-mx.example Hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
	    250, "", "mx.example Hello\nPIPELINING\n8BITMIME", 3),
	OK("multi-line with empty lines", "250-\r\n250-\r\n250\r\n",
	    250, "", "\n\n", 3),
	OK("enhanced code", "550 5.1.1 <u@x>: no such user\r\n", 550,
	    "5.1.1", "<u@x>: no such user", 1),
	OK("enhanced code on every line",
	    "550-5.7.1 line one\r\n550 5.7.1 line two\r\n", 550, "5.7.1",
	    "line one\nline two", 2),
	OK("enhanced code only on the last line",
	    "451-first\r\n451 4.3.0 second\r\n", 451, "4.3.0",
	    "first\nsecond", 2),
	OK("first enhanced code wins",
	    "550-5.1.1 a\r\n550 5.1.10 b\r\n", 550, "5.1.1", "a\nb", 2),
	OK("three-digit subject and detail", "451 4.123.456 x\r\n", 451,
	    "4.123.456", "x", 1),
	OK("enhanced code alone", "250 2.0.0\r\n", 250, "2.0.0", "", 1),
	OK("enhanced code, one SP taken", "250 2.0.0  ok\r\n", 250,
	    "2.0.0", " ok", 1),
	OK("class not matching reply stays text", "550 4.7.1 x\r\n", 550,
	    "", "4.7.1 x", 1),
	OK("four-digit subject is text", "550 5.1234.1 x\r\n", 550, "",
	    "5.1234.1 x", 1),
	OK("four parts is text", "250 2.0.0.1 x\r\n", 250, "",
	    "2.0.0.1 x", 1),
	OK("code glued to text is text", "250 2.0.0x\r\n", 250, "",
	    "2.0.0x", 1),
	OK("missing detail is text", "250 2.0. x\r\n", 250, "",
	    "2.0. x", 1),
	OK("class 3 is no status class", "354 3.0.0 go\r\n", 354, "",
	    "3.0.0 go", 1),
	OK("bare LF", "250-a\n250 b\n", 250, "", "a\nb", 2),
	OK("CRLF and LF mixed", "250-a\r\n250-b\n250 c\r\n", 250, "",
	    "a\nb\nc", 3),
	OK("tab and UTF-8 kept in text", "250 a\tb \xc3\xa9\r\n", 250, "",
	    "a\tb \xc3\xa9", 1),
	OK("code 599", "599 x\r\n", 599, "", "x", 1),
	OK("code 200", "200 x\r\n", 200, "", "x", 1),

	BAD("mismatched codes", "250-a\r\n251 b\r\n", "changed"),
	BAD("mismatched class", "250-a\r\n550 b\r\n", "changed"),
	BAD("bad separator x", "250xa\r\n", "separator"),
	BAD("bad separator tab", "250\ta\r\n", "separator"),
	BAD("bad separator on second line", "250-a\r\n250_b\r\n",
	    "separator"),
	BAD("code 1xx", "150 x\r\n", "range"),
	BAD("code 6xx", "600 x\r\n", "range"),
	BAD("code 0xx", "099 x\r\n", "range"),
	BAD("non-digit code", "2a0 x\r\n", "three digits"),
	BAD("letters", "abc def\r\n", "three digits"),
	BAD("four-digit code", "2500 x\r\n", "separator"),
	BAD("short line", "25\r\n", "short"),
	BAD("empty line", "\r\n", "short"),
	BAD("bare LF empty line", "\n", "short"),
	BAD("short continuation", "250-a\r\n2\r\n", "short"),
	BAD("CR without LF", "250 a\rb\r\n", "CR"),
	BAD("CR CR LF", "250 a\r\r\n", "CR"),
	BAD("NUL", "250 a\0b\r\n", "NUL"),
	BAD("NUL in code", "2\00050 a\r\n", "NUL"),
};

static enum rp_status feed_all(const char *, size_t, struct smtp_reply *,
		    size_t *, char *, size_t);
static bool	same_reply(const struct smtp_reply *, const struct tcase *);
static void	test_table(void);
static void	test_splits(void);
static void	test_pipelined(void);
static void	test_limits(void);
static void	test_reuse(void);
static void	test_summary(void);
static void	test_ehlo(void);
static struct smtp_reply parse_ok(const char *);
static const char *summary(const char *);

/* One parser, all of s; the parser is freed before returning. */
static enum rp_status
feed_all(const char *s, size_t len, struct smtp_reply *out, size_t *used,
    char *err, size_t errlen)
{
	struct smtp_reply_parser p;
	enum rp_status st;

	smtp_reply_parser_init(&p);
	st = smtp_reply_feed(&p, s, len, used, out, err, errlen);
	smtp_reply_parser_free(&p);
	return st;
}

static bool
same_reply(const struct smtp_reply *r, const struct tcase *c)
{
	return r->code == c->code && strcmp(r->enhanced, c->enhanced) == 0 &&
	    r->text.len == strlen(c->text) &&
	    strcmp(r->text.data, c->text) == 0 && r->nlines == c->nlines;
}

static void
test_table(void)
{
	const struct tcase *c;
	struct smtp_reply r;
	enum rp_status st;
	char err[256], name[512];
	size_t i, used;

	T_GROUP("table");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		smtp_reply_init(&r);
		st = feed_all(c->in, c->len, &r, &used, err, sizeof(err));
		if (c->code != 0) {
			T_INTEQ(st, RP_REPLY, c->name);
			snprintf(name, sizeof(name), "%s: code", c->name);
			T_INTEQ(r.code, c->code, name);
			snprintf(name, sizeof(name), "%s: enhanced", c->name);
			T_STREQ(r.enhanced, c->enhanced, name);
			snprintf(name, sizeof(name), "%s: text", c->name);
			T_STREQ(r.text.data, c->text, name);
			snprintf(name, sizeof(name), "%s: lines", c->name);
			T_INTEQ(r.nlines, c->nlines, name);
			snprintf(name, sizeof(name), "%s: all consumed",
			    c->name);
			T_INTEQ(used, c->len, name);
		} else {
			T_INTEQ(st, RP_ERROR, c->name);
			snprintf(name, sizeof(name), "%s: error [%s]",
			    c->name, err);
			T_OK(strstr(err, c->err) != NULL, name);
		}
		smtp_reply_free(&r);
	}
}

/*
 * Every valid case one byte at a time and in every two-piece split: the
 * result must not depend on how the bytes arrive.
 */
static void
test_splits(void)
{
	const struct tcase *c;
	struct smtp_reply_parser p;
	struct smtp_reply r;
	enum rp_status st;
	char err[256], name[512];
	size_t i, k, used;
	bool ok;

	T_GROUP("splits");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		if (c->code == 0)
			continue;

		/* One byte at a time. */
		ok = true;
		smtp_reply_parser_init(&p);
		smtp_reply_init(&r);
		for (k = 0; k < c->len; k++) {
			st = smtp_reply_feed(&p, c->in + k, 1, &used, &r, err,
			    sizeof(err));
			if (k + 1 < c->len)
				ok = ok && st == RP_MORE && used == 1;
			else
				ok = ok && st == RP_REPLY && used == 1 &&
				    same_reply(&r, c);
		}
		snprintf(name, sizeof(name), "%s: byte by byte", c->name);
		T_OK(ok, name);
		smtp_reply_free(&r);
		smtp_reply_parser_free(&p);

		/* Two pieces, split after k bytes. */
		ok = true;
		for (k = 0; k <= c->len; k++) {
			smtp_reply_parser_init(&p);
			smtp_reply_init(&r);
			st = smtp_reply_feed(&p, c->in, k, &used, &r, err,
			    sizeof(err));
			if (k < c->len) {
				ok = ok && st == RP_MORE && used == k;
				st = smtp_reply_feed(&p, c->in + k,
				    c->len - k, &used, &r, err, sizeof(err));
				ok = ok && used == c->len - k;
			}
			ok = ok && st == RP_REPLY && same_reply(&r, c);
			smtp_reply_free(&r);
			smtp_reply_parser_free(&p);
		}
		snprintf(name, sizeof(name), "%s: all two-piece splits",
		    c->name);
		T_OK(ok, name);
	}
}

static void
test_pipelined(void)
{
	static const char two[] = "250 2.1.0 sender ok\r\n"
	    "550-5.1.1 no\r\n550 5.1.1 such user\r\n";
	struct smtp_reply_parser p;
	struct smtp_reply r1, r2;
	enum rp_status st;
	char err[256];
	size_t used, k, len = sizeof(two) - 1, first = 21;
	bool ok;

	T_GROUP("pipelined");
	smtp_reply_parser_init(&p);
	smtp_reply_init(&r1);
	smtp_reply_init(&r2);
	st = smtp_reply_feed(&p, two, len, &used, &r1, err, sizeof(err));
	T_INTEQ(st, RP_REPLY, "first reply");
	T_INTEQ(used, first, "consumed stops after the first reply");
	T_INTEQ(r1.code, 250, "first code");
	T_STREQ(r1.text.data, "sender ok", "first text");
	st = smtp_reply_feed(&p, two + used, len - used, &used, &r2, err,
	    sizeof(err));
	T_INTEQ(st, RP_REPLY, "second reply");
	T_INTEQ(used, len - first, "second consumes the rest");
	T_INTEQ(r2.code, 550, "second code");
	T_STREQ(r2.enhanced, "5.1.1", "second enhanced");
	T_STREQ(r2.text.data, "no\nsuch user", "second text");
	T_INTEQ(r2.nlines, 2, "second has two lines");
	smtp_reply_free(&r1);
	smtp_reply_free(&r2);

	/* The same bytes in two pieces split anywhere. */
	ok = true;
	for (k = 0; k <= len; k++) {
		const char *s = two;
		size_t left = k, nrep = 0;
		int piece;

		smtp_reply_init(&r1);
		for (piece = 0; piece < 2; piece++) {
			while (left > 0) {
				st = smtp_reply_feed(&p, s, left, &used, &r1,
				    err, sizeof(err));
				ok = ok && st != RP_ERROR && used <= left;
				s += used;
				left -= used;
				if (st == RP_REPLY) {
					nrep++;
					ok = ok && (nrep != 1 ||
					    r1.code == 250) && (nrep != 2 ||
					    (r1.code == 550 &&
					    strcmp(r1.text.data,
					    "no\nsuch user") == 0));
					smtp_reply_free(&r1);
				}
			}
			left = len - k;
		}
		ok = ok && nrep == 2;
	}
	T_OK(ok, "two replies split at every byte");
	smtp_reply_parser_free(&p);
}

static void
test_limits(void)
{
	struct smtp_reply_parser p;
	struct smtp_reply r;
	struct buf b = BUF_INIT;
	enum rp_status st;
	char err[256];
	char *big;
	size_t used, i, total;

	T_GROUP("limits");

	/* A line of exactly SMTP_LINE_MAX bytes, CRLF included. */
	buf_addstr(&b, "250 ");
	while (b.len < SMTP_LINE_MAX - 2)
		buf_addch(&b, 'a');
	buf_addstr(&b, "\r\n");
	smtp_reply_init(&r);
	st = feed_all(b.data, b.len, &r, &used, err, sizeof(err));
	T_INTEQ(st, RP_REPLY, "line of SMTP_LINE_MAX bytes with CRLF");
	T_INTEQ(r.text.len, SMTP_LINE_MAX - 6, "its text");
	smtp_reply_free(&r);

	/* One more byte of text. */
	buf_truncate(&b, b.len - 2);
	buf_addstr(&b, "a\r\n");
	st = feed_all(b.data, b.len, &r, &used, err, sizeof(err));
	T_INTEQ(st, RP_ERROR, "line one byte over the limit");
	T_OK(strstr(err, "line longer") != NULL, "error names the line");

	/* The same length with a bare LF fits. */
	buf_truncate(&b, b.len - 2);
	buf_addch(&b, '\n');
	T_INTEQ(b.len, SMTP_LINE_MAX, "bare-LF line length");
	st = feed_all(b.data, b.len, &r, &used, err, sizeof(err));
	T_INTEQ(st, RP_REPLY, "line of SMTP_LINE_MAX bytes with bare LF");
	smtp_reply_free(&r);

	/* An endless line fails as soon as the limit is passed. */
	big = xmalloc(1024 * 1024);
	memset(big, 'a', 1024 * 1024);
	memcpy(big, "250 ", 4);
	st = feed_all(big, 1024 * 1024, &r, &used, err, sizeof(err));
	T_INTEQ(st, RP_ERROR, "endless line");
	T_OK(used <= SMTP_LINE_MAX, "endless line stopped at the limit");

	/* The same fed in small pieces. */
	smtp_reply_parser_init(&p);
	total = 0;
	do {
		st = smtp_reply_feed(&p, big + total, 100, &used, &r, err,
		    sizeof(err));
		total += used;
	} while (st == RP_MORE && total + 100 <= 1024 * 1024);
	T_INTEQ(st, RP_ERROR, "endless line in pieces");
	T_OK(total <= SMTP_LINE_MAX, "endless line in pieces stopped early");
	T_OK(p.line.cap == 0 && p.cur.text.cap == 0,
	    "parser released its memory on error");
	smtp_reply_parser_free(&p);
	free(big);

	/* SMTP_REPLY_LINES_MAX lines fit; one more does not. */
	buf_reset(&b);
	for (i = 0; i < SMTP_REPLY_LINES_MAX - 1; i++)
		buf_addstr(&b, "250-x\r\n");
	buf_addstr(&b, "250 x\r\n");
	st = feed_all(b.data, b.len, &r, &used, err, sizeof(err));
	T_INTEQ(st, RP_REPLY, "SMTP_REPLY_LINES_MAX lines");
	T_INTEQ(r.nlines, SMTP_REPLY_LINES_MAX, "all lines counted");
	smtp_reply_free(&r);
	buf_reset(&b);
	for (i = 0; i < SMTP_REPLY_LINES_MAX; i++)
		buf_addstr(&b, "250-x\r\n");
	buf_addstr(&b, "250 x\r\n");
	st = feed_all(b.data, b.len, &r, &used, err, sizeof(err));
	T_INTEQ(st, RP_ERROR, "one line too many");
	T_OK(strstr(err, "lines") != NULL, "error names the lines");

	/* An endless multi-line reply. */
	smtp_reply_parser_init(&p);
	total = 0;
	for (i = 0; i < 100000; i++) {
		st = smtp_reply_feed(&p, "250-x\r\n", 7, &used, &r, err,
		    sizeof(err));
		total += used;
		if (st != RP_MORE)
			break;
	}
	T_INTEQ(st, RP_ERROR, "endless multi-line reply");
	T_INTEQ(i, SMTP_REPLY_LINES_MAX, "stopped at the line limit");
	smtp_reply_parser_free(&p);

	/* SMTP_REPLY_MAX bytes fit exactly: 256 lines of 256 bytes. */
	buf_reset(&b);
	for (i = 0; i < SMTP_REPLY_LINES_MAX; i++) {
		buf_addstr(&b, i + 1 < SMTP_REPLY_LINES_MAX ? "250-" : "250 ");
		while (b.len % 256 < 254)
			buf_addch(&b, 'b');
		buf_addstr(&b, "\r\n");
	}
	T_INTEQ(b.len, SMTP_REPLY_MAX, "test reply is SMTP_REPLY_MAX bytes");
	st = feed_all(b.data, b.len, &r, &used, err, sizeof(err));
	T_INTEQ(st, RP_REPLY, "reply of SMTP_REPLY_MAX bytes");
	smtp_reply_free(&r);

	/* One byte more, in the last line. */
	buf_truncate(&b, b.len - 2);
	buf_addstr(&b, "b\r\n");
	st = feed_all(b.data, b.len, &r, &used, err, sizeof(err));
	T_INTEQ(st, RP_ERROR, "reply one byte over SMTP_REPLY_MAX");
	T_OK(strstr(err, "bytes") != NULL, "error names the bytes");
	T_INTEQ(used, SMTP_REPLY_MAX + 1, "stopped at the byte limit");

	/* Long lines, under the line limit: the byte limit trips first. */
	buf_reset(&b);
	for (i = 0; i < 100; i++) {
		buf_addstr(&b, "250-");
		while (b.len % 1000 < 998)
			buf_addch(&b, 'c');
		buf_addstr(&b, "\r\n");
	}
	st = feed_all(b.data, b.len, &r, &used, err, sizeof(err));
	T_INTEQ(st, RP_ERROR, "endless reply of long lines");
	T_INTEQ(used, SMTP_REPLY_MAX + 1, "stopped at the byte limit");

	/* The byte count starts again with each reply. */
	buf_reset(&b);
	for (i = 0; i < 3; i++) {
		size_t start = b.len, k;

		for (k = 0; k < 200; k++) {
			buf_addstr(&b, k + 1 < 200 ? "250-" : "250 ");
			while ((b.len - start) % 300 < 298)
				buf_addch(&b, 'd');
			buf_addstr(&b, "\r\n");
		}
	}
	smtp_reply_parser_init(&p);
	total = 0;
	for (i = 0; i < 3; i++) {
		st = smtp_reply_feed(&p, b.data + total, b.len - total, &used,
		    &r, err, sizeof(err));
		total += used;
		if (st != RP_REPLY)
			break;
		smtp_reply_free(&r);
	}
	T_INTEQ(i, 3, "three 60000-byte replies in a row");
	smtp_reply_parser_free(&p);
	buf_free(&b);
}

static void
test_reuse(void)
{
	struct smtp_reply_parser p;
	struct smtp_reply r;
	enum rp_status st;
	char err[256];
	size_t used;

	T_GROUP("reuse");
	smtp_reply_parser_init(&p);
	smtp_reply_init(&r);
	st = smtp_reply_feed(&p, "250-a\r\n", 7, &used, &r, err, sizeof(err));
	T_INTEQ(st, RP_MORE, "half a reply");
	st = smtp_reply_feed(&p, "2x", 2, &used, &r, err, sizeof(err));
	T_INTEQ(st, RP_MORE, "bad code not yet seen");
	st = smtp_reply_feed(&p, "0 b\r\n250 c\r\n", 12, &used, &r, err,
	    sizeof(err));
	T_INTEQ(st, RP_ERROR, "bad code at line end");
	T_INTEQ(used, 5, "consumed up to the offending byte");
	smtp_reply_parser_init(&p);
	st = smtp_reply_feed(&p, "221 bye\r\n", 9, &used, &r, err,
	    sizeof(err));
	T_INTEQ(st, RP_REPLY, "re-initialised parser works");
	T_STREQ(r.text.data, "bye", "its text");
	T_STREQ(err, "", "err cleared on success");
	smtp_reply_free(&r);
	smtp_reply_free(&r);
	smtp_reply_free(NULL);
	smtp_reply_parser_free(&p);
	smtp_reply_parser_free(&p);
	smtp_reply_parser_free(NULL);
	T_OK(true, "frees are NULL-safe and repeatable");

	smtp_reply_parser_init(&p);

	st = smtp_reply_feed(&p, "", 0, &used, &r, err, sizeof(err));
	T_INTEQ(st, RP_MORE, "empty feed");
	T_INTEQ(used, 0, "empty feed consumes nothing");
	st = smtp_reply_feed(&p, "250 x\r\n", 7, &used, &r, NULL, 0);
	T_INTEQ(st, RP_REPLY, "err may be NULL");
	smtp_reply_free(&r);
	st = smtp_reply_feed(&p, "x\r\n", 3, &used, &r, NULL, 0);
	T_INTEQ(st, RP_ERROR, "err may be NULL on error");
	smtp_reply_parser_free(&p);
}

/* A complete reply from s, which must parse. */
static struct smtp_reply
parse_ok(const char *s)
{
	struct smtp_reply r;
	size_t used;
	char err[256];

	smtp_reply_init(&r);
	if (feed_all(s, strlen(s), &r, &used, err, sizeof(err)) !=
	    RP_REPLY || used != strlen(s)) {
		printf("FAIL: parse_ok: reply of %zu bytes: %s\n",
		    strlen(s), err);
		t_failed++;
	}
	return r;
}

/* The summary of reply s, in a static buffer. */
static const char *
summary(const char *s)
{
	static char out[1024];
	struct smtp_reply r = parse_ok(s);
	struct buf b = BUF_INIT;

	smtp_reply_summary(&r, &b);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_free(&b);
	smtp_reply_free(&r);
	return out;
}

static void
test_summary(void)
{
	struct smtp_reply r;
	struct buf in = BUF_INIT, out = BUF_INIT;
	size_t i;
	bool ok;

	T_GROUP("summary");
	T_STREQ(summary("550 5.1.1 no such user\r\n"),
	    "550 5.1.1 no such user", "single line with enhanced code");
	T_STREQ(summary("250 ok\r\n"), "250 ok", "single line");
	T_STREQ(summary("250\r\n"), "250", "code alone");
	T_STREQ(summary("250 2.0.0\r\n"), "250 2.0.0", "enhanced alone");
	T_STREQ(summary("550-5.7.1 one\r\n550-5.7.1 two\r\n"
	    "550 5.7.1 three\r\n"),
	    "550 5.7.1 one; two; three", "multi-line joined");
	T_STREQ(summary("451-\r\n451-a\r\n451-\r\n451 b\r\n"),
	    "451 a; b", "empty lines skipped");
	T_STREQ(summary("550 a\tb\x1b[31m\r\n"), "550 a?b?[31m",
	    "control characters replaced");
	T_STREQ(summary("550 caf\xc3\xa9 \xff\xc3\r\n"),
	    "550 caf\xc3\xa9 ??", "invalid UTF-8 replaced, valid kept");

	/* The cap: 400 bytes, "..." at the end. */
	buf_addstr(&in, "550-");
	for (i = 0; i < 300; i++)
		buf_addch(&in, 'x');
	buf_addstr(&in, "\r\n550 ");
	for (i = 0; i < 300; i++)
		buf_addch(&in, 'y');
	buf_addstr(&in, "\r\n");
	r = parse_ok(in.data);
	smtp_reply_summary(&r, &out);
	T_INTEQ(out.len, 400, "long reply capped at 400 bytes");
	T_OK(out.len >= 3 && strcmp(out.data + out.len - 3, "...") == 0,
	    "cut marked with ...");
	T_OK(strncmp(out.data, "550 xxx", 7) == 0 &&
	    strstr(out.data, "x; yyy") != NULL, "first line, then the next");
	smtp_reply_free(&r);

	/* Appends to what out holds. */
	buf_reset(&out);
	buf_addstr(&out, "prefix: ");
	r = parse_ok("250 ok\r\n");
	smtp_reply_summary(&r, &out);
	T_STREQ(out.data, "prefix: 250 ok", "summary appends");
	smtp_reply_free(&r);

	/* A cut never splits a UTF-8 character: try every alignment. */
	ok = true;
	for (i = 0; i < 4; i++) {
		size_t k;

		buf_reset(&in);
		buf_addstr(&in, "550 ");
		for (k = 0; k < i; k++)
			buf_addch(&in, 'z');
		for (k = 0; k < 300; k++)
			buf_addstr(&in, "\xe2\x82\xac");	/* U+20AC */
		buf_addstr(&in, "\r\n");
		r = parse_ok(in.data);
		buf_reset(&out);
		smtp_reply_summary(&r, &out);
		ok = ok && out.len <= 400 && out.len >= 395 &&
		    strchr(out.data, '?') == NULL &&
		    strcmp(out.data + out.len - 3, "...") == 0 &&
		    ((unsigned char)out.data[out.len - 4] == 0xac ||
		    out.data[out.len - 4] == 'z');
		smtp_reply_free(&r);
	}
	T_OK(ok, "cut at a UTF-8 character boundary");

	/* The longest possible reply still gives at most 400 bytes. */
	buf_reset(&in);
	for (i = 0; i < SMTP_REPLY_LINES_MAX; i++) {
		buf_addstr(&in, i + 1 < SMTP_REPLY_LINES_MAX ? "250-" : "250 ");
		while (in.len % 256 < 254)
			buf_addch(&in, '\x01');
		buf_addstr(&in, "\r\n");
	}
	r = parse_ok(in.data);
	buf_reset(&out);
	smtp_reply_summary(&r, &out);
	T_INTEQ(out.len, 400, "largest reply capped");
	smtp_reply_free(&r);
	buf_free(&in);
	buf_free(&out);
}

static void
test_ehlo(void)
{
	struct smtp_reply r;
	struct smtp_ext e;
	struct buf b = BUF_INIT;
	size_t i;

	T_GROUP("ehlo");

	/* Postfix 3.x, before STARTTLS. */
	r = parse_ok(
	    "250-mail.example.org\r\n"
	    "250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n"
	    "250-VRFY\r\n"
	    "250-ETRN\r\n"
	    "250-STARTTLS\r\n"
	    "250-AUTH PLAIN LOGIN\r\n"
	    "250-AUTH=PLAIN LOGIN\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250-8BITMIME\r\n"
	    "250-DSN\r\n"
	    "250-SMTPUTF8\r\n"
	    "250 CHUNKING\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.pipelining, "postfix: PIPELINING");
	T_OK(e.size, "postfix: SIZE");
	T_INTEQ(e.size_max, 10240000, "postfix: SIZE value");
	T_OK(e.starttls, "postfix: STARTTLS");
	T_OK(e.enhancedstatuscodes, "postfix: ENHANCEDSTATUSCODES");
	T_OK(e.eightbitmime, "postfix: 8BITMIME");
	T_OK(e.dsn, "postfix: DSN");
	T_OK(e.smtputf8, "postfix: SMTPUTF8");
	T_STREQ(e.auth, "PLAIN LOGIN", "postfix: AUTH, duplicates dropped");
	T_OK(smtp_ext_has_auth(&e, "LOGIN"), "postfix: has LOGIN");
	T_OK(smtp_ext_has_auth(&e, "plain"), "postfix: has plain");
	T_OK(!smtp_ext_has_auth(&e, "CRAM-MD5"), "postfix: no CRAM-MD5");
	smtp_reply_free(&r);

	/* Gmail, after STARTTLS. */
	r = parse_ok(
	    "250-smtp.gmail.com at your service, [203.0.113.5]\r\n"
	    "250-SIZE 35882577\r\n"
	    "250-8BITMIME\r\n"
	    "250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER "
	    "XOAUTH\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250-PIPELINING\r\n"
	    "250-CHUNKING\r\n"
	    "250 SMTPUTF8\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.pipelining && e.eightbitmime && e.enhancedstatuscodes &&
	    e.smtputf8, "gmail: flags");
	T_OK(!e.starttls && !e.dsn, "gmail: no STARTTLS, no DSN");
	T_INTEQ(e.size_max, 35882577, "gmail: SIZE value");
	T_STREQ(e.auth, "LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER "
	    "XOAUTH", "gmail: AUTH");
	T_OK(smtp_ext_has_auth(&e, "PLAIN"), "gmail: PLAIN");
	T_OK(!smtp_ext_has_auth(&e, "PLAIN-CLIENT"), "gmail: no prefix match");
	T_OK(!smtp_ext_has_auth(&e, "OAUTH"), "gmail: no suffix match");
	T_OK(!smtp_ext_has_auth(&e, ""), "gmail: empty name");
	smtp_reply_free(&r);

	/* Exchange on-premises, before STARTTLS. */
	r = parse_ok(
	    "250-mail.contoso.com Hello [192.0.2.10]\r\n"
	    "250-SIZE 37748736\r\n"
	    "250-PIPELINING\r\n"
	    "250-DSN\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250-STARTTLS\r\n"
	    "250-X-ANONYMOUSTLS\r\n"
	    "250-AUTH NTLM\r\n"
	    "250-X-EXPS GSSAPI NTLM\r\n"
	    "250-8BITMIME\r\n"
	    "250-BINARYMIME\r\n"
	    "250-CHUNKING\r\n"
	    "250 XRDST\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.pipelining && e.dsn && e.enhancedstatuscodes && e.starttls &&
	    e.eightbitmime, "exchange: flags");
	T_OK(!e.smtputf8, "exchange: no SMTPUTF8");
	T_INTEQ(e.size_max, 37748736, "exchange: SIZE value");
	T_STREQ(e.auth, "NTLM", "exchange: X-EXPS is not AUTH");
	smtp_reply_free(&r);

	/* Office 365, after STARTTLS. */
	r = parse_ok(
	    "250-LO2P265CA0123.outlook.office365.com Hello [203.0.113.5]\r\n"
	    "250-SIZE 157286400\r\n"
	    "250-PIPELINING\r\n"
	    "250-DSN\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250-AUTH LOGIN XOAUTH2\r\n"
	    "250-8BITMIME\r\n"
	    "250-BINARYMIME\r\n"
	    "250-CHUNKING\r\n"
	    "250 SMTPUTF8\r\n");
	smtp_ext_parse(&r, &e);
	T_STREQ(e.auth, "LOGIN XOAUTH2", "office365: AUTH");
	T_INTEQ(e.size_max, 157286400, "office365: SIZE value");
	smtp_reply_free(&r);

	/* AUTH= alone, lower case, bare LF. */
	r = parse_ok("250-old.example\n250-auth=login plain\n250 size\n");
	smtp_ext_parse(&r, &e);
	T_STREQ(e.auth, "LOGIN PLAIN", "AUTH= form, upper-cased");
	T_OK(e.size && e.size_max == 0, "lower-case size without number");
	smtp_reply_free(&r);

	r = parse_ok("250-h\r\n250-AUTH cram-md5 Plain\r\n"
	    "250-AUTH=LOGIN PLAIN\r\n250 AUTH   plain\t  CRAM-MD5  \r\n");
	smtp_ext_parse(&r, &e);
	T_STREQ(e.auth, "CRAM-MD5 PLAIN LOGIN", "AUTH merged, deduplicated");
	smtp_reply_free(&r);

	r = parse_ok("250-h\r\n250-AUTH PL\x01IN ok\xc3\xa9 "
	    "ABCDEFGHIJKLMNOPQRSTU ABCDEFGHIJKLMNOPQRST X_Y\r\n250 AUTH=\r\n");
	smtp_ext_parse(&r, &e);
	T_STREQ(e.auth, "ABCDEFGHIJKLMNOPQRST X_Y",
	    "bad and over-long mechanism names skipped");
	smtp_reply_free(&r);

	/* Many mechanisms: bounded by the array. */
	buf_addstr(&b, "250-h\r\n250 AUTH");
	for (i = 0; i < 150; i++)
		buf_printf(&b, " MECHANISM-NUMBER-%03zu", i);
	buf_addstr(&b, "\r\n");
	r = parse_ok(b.data);
	smtp_ext_parse(&r, &e);
	T_OK(strlen(e.auth) < sizeof(e.auth) && strlen(e.auth) > 400,
	    "AUTH list bounded by the array");
	T_OK(smtp_ext_has_auth(&e, "MECHANISM-NUMBER-000"), "first kept");
	T_OK(!smtp_ext_has_auth(&e, "MECHANISM-NUMBER-149"), "last dropped");
	T_OK(e.auth[strlen(e.auth) - 1] != ' ', "no trailing space");
	smtp_reply_free(&r);
	buf_free(&b);

	/* SIZE forms. */
	r = parse_ok("250-h\r\n250 SIZE\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.size && e.size_max == 0, "SIZE without number: no limit");
	smtp_reply_free(&r);
	r = parse_ok("250-h\r\n250 SIZE 0\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.size && e.size_max == 0, "SIZE 0: no limit");
	smtp_reply_free(&r);
	r = parse_ok("250-h\r\n250 SIZE 52428800\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.size && e.size_max == 52428800, "SIZE with number");
	smtp_reply_free(&r);
	r = parse_ok("250-h\r\n250 SIZE 18446744073709551615\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.size_max == 18446744073709551615ULL, "SIZE at ULLONG_MAX");
	smtp_reply_free(&r);
	r = parse_ok("250-h\r\n250 SIZE 18446744073709551616\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.size && e.size_max == 0, "SIZE overflowing: ignored");
	smtp_reply_free(&r);
	r = parse_ok("250-h\r\n250 SIZE abc\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.size && e.size_max == 0, "SIZE abc: ignored");
	smtp_reply_free(&r);
	r = parse_ok("250-h\r\n250 SIZE -5\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.size && e.size_max == 0, "SIZE -5: ignored");
	smtp_reply_free(&r);
	r = parse_ok("250-h\r\n250 SIZE 10k\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.size && e.size_max == 0, "SIZE 10k: ignored");
	smtp_reply_free(&r);
	r = parse_ok("250-h\r\n250 SIZE +10\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.size && e.size_max == 0, "SIZE +10: ignored");
	smtp_reply_free(&r);

	/* The greeting line is skipped; prefixes are not keywords. */
	r = parse_ok("250-PIPELINING welcome\r\n250-STARTTLSX\r\n"
	    "250-SIZEX 5\r\n250 AUTHX PLAIN\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(!e.pipelining && !e.starttls && !e.size && e.auth[0] == '\0',
	    "greeting skipped, no prefix matches");
	smtp_reply_free(&r);
	r = parse_ok("250 only.a.greeting\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(!e.pipelining && !e.size && e.auth[0] == '\0', "HELO-like reply");
	smtp_reply_free(&r);
	r = parse_ok("502-h\r\n502 PIPELINING\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(!e.pipelining, "error reply offers nothing");
	smtp_reply_free(&r);
	r = parse_ok("250-h\r\n250 2.0.0 PIPELINING\r\n");
	smtp_ext_parse(&r, &e);
	T_OK(e.pipelining, "enhanced code before a keyword is split off");
	smtp_reply_free(&r);
}

int
main(void)
{
	test_table();
	test_splits();
	test_pipelined();
	test_limits();
	test_reuse();
	test_summary();
	test_ehlo();
	return t_done();
}
