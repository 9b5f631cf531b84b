/*
 * test_rfc5322.c: header fields (recognition, folding, lookup, removal),
 * the Date format and display-name encoding.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "rfc5322.h"
#include "t.h"

static void
test_field_start(void)
{
	static const struct {
		const char *line;
		size_t want;
	} cases[] = {
		{ "Subject: x\n", 7 },
		{ "To:x\n", 2 },
		{ "X-Empty:\n", 7 },
		{ "Subject : obsolete blank\n", 7 },
		{ "Subject\t: tab\n", 7 },
		{ ": no name\n", 0 },
		{ " Subject: continuation\n", 0 },
		{ "no colon here\n", 0 },
		{ "two words: x\n", 0 },
		{ "\n", 0 },
		{ "Sub\x01ject: x\n", 0 },
		{ "S\xc3\xa9: x\n", 0 },
		{ "From someone@x Thu Nov 26\n", 0 },
		{ "Received-SPF: pass\n", 12 },
	};
	char name[64];
	size_t i, k;

	T_GROUP("field start");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (k = 0; cases[i].line[k] != '\0' && k < sizeof(name) - 1;
		    k++)
			name[k] = (unsigned char)cases[i].line[k] < 0x20 ||
			    (unsigned char)cases[i].line[k] >= 0x7f ?
			    '?' : cases[i].line[k];
		name[k] = '\0';
		T_INTEQ(rfc5322_field_start(cases[i].line,
		    strlen(cases[i].line)), cases[i].want, name);
	}
}

static void
add(struct headers *h, const char *line)
{
	headers_add(h, line, strlen(line), rfc5322_field_start(line,
	    strlen(line)));
}

static void
test_headers(void)
{
	struct headers h = HEADERS_INIT;
	struct buf b = BUF_INIT;
	const struct header *f;

	T_GROUP("headers");
	add(&h, "To: a@x,\n");
	headers_continue(&h, "  b@y\n", 6);
	add(&h, "bcc: hidden@z\n");
	add(&h, "Subject: s\n");
	add(&h, "BCC: again@z\n");
	T_INTEQ(h.n, 4, "four fields");
	T_INTEQ(h.bytes, 15 + 14 + 11 + 13, "byte count");
	f = headers_find(&h, "to");
	T_OK(f != NULL && f == &h.v[0], "find is case-insensitive");
	header_unfold(f, &b);
	T_STREQ(b.data, " a@x,  b@y", "unfold joins continuation lines");
	T_STREQ(h.v[0].raw, "To: a@x,\n  b@y\n", "raw keeps the folding");
	T_INTEQ(headers_remove(&h, "Bcc"), 2, "remove every Bcc");
	T_INTEQ(h.n, 2, "two fields left");
	T_OK(headers_find(&h, "Bcc") == NULL, "no Bcc left");
	T_STREQ(h.v[1].raw, "Subject: s\n", "order kept");
	T_INTEQ(h.bytes, 15 + 11, "byte count after removal");
	T_OK(headers_find(&h, "Subj") == NULL, "no prefix match");
	buf_reset(&b);
	add(&h, "X-Empty:\n");
	header_unfold(headers_find(&h, "X-Empty"), &b);
	T_STREQ(b.data, "", "empty value");
	headers_free(&h);
	headers_free(&h);
	T_OK(h.n == 0 && h.v == NULL, "free twice is safe");
	buf_free(&b);
}

static void
test_date(void)
{
	char d[64];

	T_GROUP("date");
	setenv("TZ", "UTC", 1);
	tzset();
	rfc5322_date(1795671943, d, sizeof(d));
	T_STREQ(d, "Thu, 26 Nov 2026 05:45:43 +0000", "UTC");
	setenv("TZ", "America/New_York", 1);
	tzset();
	rfc5322_date(1795671943, d, sizeof(d));
	T_OK(strcmp(d, "Thu, 26 Nov 2026 00:45:43 -0500") == 0 ||
	    strstr(d, "+0000") != NULL, "negative offset (or no zoneinfo)");
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	rfc5322_date(1795671943, d, sizeof(d));
	T_OK(strcmp(d, "Thu, 26 Nov 2026 11:15:43 +0530") == 0 ||
	    strstr(d, "+0000") != NULL, "half-hour offset (or no zoneinfo)");
	rfc5322_date(0, d, sizeof(d));
	T_OK(strstr(d, "1970") != NULL, "epoch");
}

static void
test_display_name(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "Cron Daemon", "Cron Daemon" },
		{ "root", "root" },
		{ "Doe, John", "\"Doe, John\"" },
		{ "J. Doe", "\"J. Doe\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "", "\"\"" },
		{ "J\xc3\xbcrgen", "=?UTF-8?B?SsO8cmdlbg==?=" },
	};
	struct buf b = BUF_INIT;
	size_t i;
	char name[200];

	T_GROUP("display name");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		rfc5322_display_name(&b, cases[i].in);
		T_STREQ(b.data, cases[i].want, cases[i].in);
	}
	/* 30 two-byte characters: split into words without cutting one */
	for (i = 0; i < 30; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[60] = '\0';
	buf_reset(&b);
	rfc5322_display_name(&b, name);
	T_OK(strchr(b.data, ' ') != NULL, "long name: several words");
	T_OK(strlen(b.data) < 2 * 75 + 1, "each word at most 75 characters");
	T_STREQ(strchr(b.data, ' ') + 1, "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqQ==?=",
	    "second word starts on a character boundary");
	buf_free(&b);
}

int
main(void)
{
	test_field_start();
	test_headers();
	test_date();
	test_display_name();
	return t_done();
}
