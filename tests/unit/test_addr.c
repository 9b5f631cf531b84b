/*
 * test_addr.c: unit tests for addr.c, the RFC 5322 address parser.
 *
 * A table of header bodies, each with the expected addresses joined with
 * '|' or the expected error line; then addr_parse_arg's refusal of
 * injected line breaks, the helpers (addr_qualify, addr_equal,
 * addrlist_add_unique), and hostile or large inputs: a comment-nesting
 * bomb and a list of 1,000 addresses.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "addr.h"
#include "t.h"

struct tcase {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*want;		/* joined with '|'; NULL: error */
	const char	*err;		/* the error line wanted */
};

/* sizeof, not strlen, so that a case may hold a NUL byte. */
#define OK(name, in, want)	{ name, in, sizeof(in) - 1, want, NULL }
#define BAD(name, in, err)	{ name, in, sizeof(in) - 1, NULL, err }

static const struct tcase cases[] = {
	/* Valid input. */
	OK("plain addr-spec", "a@b.example", "a@b.example"),
	OK("unqualified name kept as is", "root", "root"),
	OK("quoted display name", "\"John Doe\" <jd@x.org>", "jd@x.org"),
	OK("atom display name", "John Doe <jd@x.org>", "jd@x.org"),
	OK("RFC 2047 encoded word as display name",
	    "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <u@x>", "u@x"),
	OK("RFC 2047 word with dots in it", "=?UTF-8?Q?J._Doe?= <u@x>", "u@x"),
	OK("trailing comment as name", "jd@x.org (John Doe)", "jd@x.org"),
	OK("nested comment", "a@x (a (b) c)", "a@x"),
	OK("quoted-pair in comment", "(a \\) b) a@x", "a@x"),
	OK("quoted-pair of '(' in comment", "a@x (a \\( b)", "a@x"),
	OK("comments between every token",
	    "(c1)a(c2)@(c3)x(c4).(c5)org(c6)", "a@x.org"),
	OK("comment inside angle address", "<(c)a(d)@(e)x>", "a@x"),
	OK("CRLF folding between tokens",
	    "John\r\n Doe <a@x>,\r\n\tb@y", "a@x|b@y"),
	OK("LF folding between tokens", "a@x,\n b@y", "a@x|b@y"),
	OK("folding inside a comment", "a@x (a\r\n b)", "a@x"),
	OK("folding inside quoted display name",
	    "\"John\r\n Doe\" <a@x>", "a@x"),
	OK("folded quoted local part is unfolded",
	    "\"a\r\n b\"@x", "\"a b\"@x"),
	OK("quoted local part kept quoted",
	    "\"quoted local\"@x.org", "\"quoted local\"@x.org"),
	OK("escaped quote in quoted local part",
	    "\"a\\\"b\"@x", "\"a\\\"b\"@x"),
	OK("empty quoted local part", "\"\"@x", "\"\"@x"),
	OK("obs-local-part mixing quoted and atom words",
	    "\"a b\".c@x", "\"a b\".c@x"),
	OK("IPv4 domain literal", "u@[192.0.2.1]", "u@[192.0.2.1]"),
	OK("IPv6 domain literal",
	    "u@[IPv6:2001:db8::1]", "u@[IPv6:2001:db8::1]"),
	OK("whitespace dropped inside domain literal",
	    "u@[ 192.0.2.1 ]", "u@[192.0.2.1]"),
	OK("empty group gives nothing", "undisclosed-recipients:;", ""),
	OK("empty group with spaces", "undisclosed-recipients: ;", ""),
	OK("group members and trailing list",
	    "team: a@x, B <b@y>;, c@z", "a@x|b@y|c@z"),
	OK("two groups", "g1: a@x; g2: b@y;", "a@x|b@y"),
	OK("group without final semicolon",
	    "team: a@x, b@y", "a@x|b@y"),
	OK("empty elements inside group", "g: ,a@x,,;", "a@x"),
	OK("obs-route dropped", "<@r1,@r2:u@h>", "u@h"),
	OK("obs-route with empty elements", "<,@r1,,@r2:u@h>", "u@h"),
	OK("obs-route with display name", "Name <@r1:u@h>", "u@h"),
	OK("empty list elements", "a@x,,b@y, ,", "a@x|b@y"),
	OK("null address gives nothing", "<>", ""),
	OK("null address with display name", "Nobody <>", ""),
	OK("null address with space inside", "< >", ""),
	OK("dotted display name", "J. Doe <j@x>", "j@x"),
	OK("obs-phrase ending in a dot", "Doe J. <j@x>", "j@x"),
	OK("spaces around @ and . in addr-spec",
	    "u @ x . org", "u@x.org"),
	OK("8-bit bytes in display name",
	    "J\xc3\xb6rg M\xc3\xbcller <j@x>", "j@x"),
	OK("8-bit bytes in local part kept",
	    "j\xc3\xb6rg@x.example", "j\xc3\xb6rg@x.example"),
	OK("8-bit bytes in domain kept",
	    "u@b\xc3\xbc" "cher.example", "u@b\xc3\xbc" "cher.example"),
	OK("leading and trailing whitespace", " \t a@x \t ", "a@x"),
	OK("trailing comma", "a@x,", "a@x"),
	OK("leading comma", ",a@x", "a@x"),
	OK("empty input", "", ""),
	OK("whitespace only", "   ", ""),
	OK("comment only", "(nobody)", ""),
	OK("unqualified angle address", "<root>", "root"),
	OK("list of unqualified names", "root, admin", "root|admin"),
	OK("spaces inside angle brackets", "< a@x >", "a@x"),
	OK("semicolon as list separator", "a@x; b@y", "a@x|b@y"),
	OK("address used as display name",
	    "jd@x.org <jd@y.org>", "jd@y.org"),
	OK("bracketed display name", "[Jenkins] <ci@x>", "ci@x"),
	OK("quoted display name with specials",
	    "\"Doe, John <x@y>\" <j@x>", "j@x"),
	OK("HT in quoted display name", "\"a\tb\" <c@d>", "c@d"),
	OK("HT in comment", "a@x (a\tb)", "a@x"),
	OK("final CRLF of the header line", "a@x\r\n", "a@x"),
	OK("final LF of the header line", "a@x\n", "a@x"),
	OK("dots doubled and trailing in local part",
	    "a..b.@x", "a..b.@x"),
	OK("case kept in output", "Jd@X.ORG", "Jd@X.ORG"),
	OK("atext specials in local part",
	    "a!#$%&'*+-/=?^_`{|}~@x", "a!#$%&'*+-/=?^_`{|}~@x"),
	OK("mixed list of every form",
	    "a@x, \"B\" <b@y>, C <@r:c@z>, g: d@w;, root",
	    "a@x|b@y|c@z|d@w|root"),

	/* Errors. */
	BAD("unclosed angle bracket", "<a@x", "unbalanced angle bracket"),
	BAD("stray closing angle bracket", "a@x>",
	    "unbalanced angle bracket"),
	BAD("doubled angle brackets", "<<a@x>>", "unbalanced angle bracket"),
	BAD("angle address left open before next", "a@x <b@y",
	    "unbalanced angle bracket"),
	BAD("angle address left open, list goes on", "<a@x, b@y>",
	    "unexpected text in angle address"),
	BAD("lone closing angle bracket", ">", "unbalanced angle bracket"),
	BAD("unterminated quoted string", "\"abc@x",
	    "unterminated quoted string"),
	BAD("quoted string ending in backslash", "\"a\\",
	    "unterminated quoted string"),
	BAD("unterminated comment", "a@x (comment",
	    "unterminated comment"),
	BAD("unterminated nested comment", "a@x (a (b)",
	    "unterminated comment"),
	BAD("comment ending in backslash", "a@x (a\\",
	    "unterminated comment"),
	BAD("stray closing parenthesis", "a)@x", "unbalanced parenthesis"),
	BAD("missing domain", "a@", "missing domain after @"),
	BAD("missing domain before comma", "a@,b@y",
	    "missing domain after @"),
	BAD("missing domain in angle address", "<a@>",
	    "missing domain after @"),
	BAD("missing local part", "@x", "missing local part before @"),
	BAD("missing local part, spaces", " @ x",
	    "missing local part before @"),
	BAD("CRLF not followed by whitespace", "a@x\r\nBcc: y@z",
	    "line break in address"),
	BAD("LF not followed by whitespace", "a@x\nb@y",
	    "line break in address"),
	BAD("bare CR", "a@x\r b@y", "line break in address"),
	BAD("blank line inside the field", "a@x\r\n\r\n",
	    "line break in address"),
	BAD("line break inside quoted string", "\"a\r\nb\"@x",
	    "line break in address"),
	BAD("line break inside comment", "a@x (a\nb)",
	    "line break in address"),
	BAD("NUL in local part", "a\0b@x", "control character in address"),
	BAD("NUL in quoted string", "\"a\0\"@x",
	    "control character in address"),
	BAD("NUL in display name", "A\0B <a@x>",
	    "control character in address"),
	BAD("DEL in domain", "a@x\x7fy", "control character in address"),
	BAD("ESC in comment", "(a\x1b b) a@x",
	    "control character in address"),
	BAD("quoted-pair of a control character", "\"a\\\x01\"@x",
	    "control character in address"),
	BAD("HT in quoted local part", "\"a\tb\"@x",
	    "control character in address"),
	BAD("nested group", "g: h: a@x;;", "nested group"),
	BAD("display name without address", "John Doe",
	    "display name without angle address"),
	BAD("two addresses without comma", "a@x b@y",
	    "unexpected text after address"),
	BAD("text after angle address", "<a@x> junk",
	    "unexpected text after address"),
	BAD("two @ signs", "a@x@y", "unexpected '@' after address"),
	BAD("colon after address", "a@x:", "unexpected ':' after address"),
	BAD("empty domain label", "a@x..y", "empty label in domain"),
	BAD("trailing dot in domain", "a@x.", "empty label in domain"),
	BAD("space in local part", "a b@x", "invalid local part"),
	BAD("quoted domain", "a@\"x\"", "invalid domain"),
	BAD("route without address", "<@r1:>",
	    "missing address after route"),
	BAD("route without colon", "<@r1 u@h>",
	    "invalid route in angle address"),
	BAD("unterminated domain literal", "u@[192.0.2.1",
	    "unterminated domain literal"),
	BAD("empty domain literal", "u@[]", "empty domain literal"),
	BAD("nested domain literal", "u@[a[b]]", "invalid domain literal"),
	BAD("domain literal as local part", "[x]@y", "invalid local part"),
	BAD("stray closing square bracket", "a]@x",
	    "unbalanced square bracket"),
	BAD("backslash outside quotes", "a\\@x",
	    "backslash outside quoted string"),
	BAD("dot alone", ".", "invalid address"),
	BAD("group in angle brackets", "<g: a@x;>", "invalid angle address"),
};

static char	*join(const struct addrlist *);
static void	 test_table(void);
static void	 test_partial(void);
static void	 test_errbuf(void);
static void	 test_arg(void);
static void	 test_qualified(void);
static void	 test_qualify(void);
static void	 test_equal(void);
static void	 test_list(void);
static void	 test_nesting(void);
static void	 test_large(void);
static void	 test_fuzz(void);

/* The addresses joined with '|'. Caller frees. */
static char *
join(const struct addrlist *l)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (i > 0)
			buf_addch(&b, '|');
		buf_addstr(&b, l->v[i]);
	}
	return buf_detach(&b, NULL);
}

static void
test_table(void)
{
	struct addrlist l = ADDRLIST_INIT;
	const struct tcase *c;
	char err[128], name[256], *got;
	size_t i;
	int rv;

	T_GROUP("addr_parse_list");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		err[0] = 'x';
		err[1] = '\0';
		rv = addr_parse_list(c->in, c->len, &l, err, sizeof(err));
		if (c->want != NULL) {
			got = rv == 0 ? join(&l) : NULL;
			snprintf(name, sizeof(name), "%s (err: %s)", c->name,
			    rv == 0 ? "none" : err);
			T_STREQ(got, c->want, name);
			free(got);
		} else {
			snprintf(name, sizeof(name), "%s fails", c->name);
			T_INTEQ(rv, -1, name);
			snprintf(name, sizeof(name), "%s: error text", c->name);
			T_STREQ(err, c->err, name);
		}
		addrlist_free(&l);
	}
}

static void
test_partial(void)
{
	struct addrlist l = ADDRLIST_INIT;
	const char *in = "a@x, \"B\" <b@y>, <c@z";
	char err[128];
	int rv;

	T_GROUP("addr_parse_list partial");
	rv = addr_parse_list(in, strlen(in), &l, err, sizeof(err));
	T_INTEQ(rv, -1, "error after two good addresses is reported");
	T_INTEQ(l.n, 2, "addresses before the bad one are kept");
	T_OK(l.n == 2 && strcmp(l.v[1], "b@y") == 0,
	    "kept addresses are the right ones");
	addrlist_free(&l);

	addrlist_add(&l, "old@x");
	rv = addr_parse_list("new@y", 5, &l, err, sizeof(err));
	T_OK(rv == 0 && l.n == 2 && strcmp(l.v[0], "old@x") == 0 &&
	    strcmp(l.v[1], "new@y") == 0, "parsing appends to a list");
	addrlist_free(&l);

	rv = addr_parse_list("a@x, b@y", 3, &l, err, sizeof(err));
	T_OK(rv == 0 && l.n == 1 && strcmp(l.v[0], "a@x") == 0,
	    "only len bytes are read");
	addrlist_free(&l);
}

static void
test_errbuf(void)
{
	struct addrlist l = ADDRLIST_INIT;
	char err[8];
	int rv;

	T_GROUP("error buffer");
	rv = addr_parse_list("<a@x", 4, &l, NULL, 0);
	T_INTEQ(rv, -1, "NULL error buffer is allowed");
	memset(err, 'z', sizeof(err));
	rv = addr_parse_list("<a@x", 4, &l, err, sizeof(err));
	T_OK(rv == -1 && memchr(err, '\0', sizeof(err)) != NULL,
	    "short error buffer is NUL-terminated");
	T_STREQ(err, "unbalan", "short error buffer is truncated");
	err[0] = 'z';
	rv = addr_parse_list("a@x", 3, &l, err, sizeof(err));
	T_OK(rv == 0 && err[0] == '\0', "success clears the error buffer");
	addrlist_free(&l);
}

static void
test_arg(void)
{
	static const struct {
		const char	*name;
		const char	*in;
		const char	*want;	/* NULL: refused */
	} args[] = {
		{ "CRLF header injection refused", "a@b\r\nBcc: x@y", NULL },
		{ "trailing LF refused", "a@b\n", NULL },
		{ "trailing CR refused", "a@b\r", NULL },
		{ "folding refused in an argument", "a@x,\n b@y", NULL },
		{ "LF inside display name refused", "\"A\nB\" <a@b>", NULL },
		{ "LF inside comment refused", "a@b (x\ny)", NULL },
		{ "HT refused in an argument", "\"A\tB\" <a@b>", NULL },
		{ "ESC refused in an argument", "a\x1b@b", NULL },
		{ "DEL refused in an argument", "a@b\x7f", NULL },
		{ "empty argument gives empty list", "", "" },
		{ "null sender gives empty list", "<>", "" },
		{ "plain address", "user@host", "user@host" },
		{ "unqualified user", "user", "user" },
		{ "angle address", "<user@host>", "user@host" },
		{ "display name and address", "Name <user@host>", "user@host" },
		{ "comma-separated recipients", "a@x, b@y", "a@x|b@y" },
		{ "8-bit bytes allowed", "j\xc3\xb6rg@x", "j\xc3\xb6rg@x" },
	};
	struct addrlist l = ADDRLIST_INIT;
	char err[128], *got;
	size_t i;
	int rv;

	T_GROUP("addr_parse_arg");
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		err[0] = '\0';
		rv = addr_parse_arg(args[i].in, &l, err, sizeof(err));
		if (args[i].want == NULL) {
			T_OK(rv == -1 && l.n == 0 && strcmp(err,
			    "address contains a control character") == 0,
			    args[i].name);
		} else {
			got = rv == 0 ? join(&l) : NULL;
			T_STREQ(got, args[i].want, args[i].name);
			free(got);
		}
		addrlist_free(&l);
	}
	rv = addr_parse_arg("<a@x", &l, err, sizeof(err));
	T_OK(rv == -1 && strcmp(err, "unbalanced angle bracket") == 0,
	    "syntax errors reported as for headers");
	addrlist_free(&l);
}

static void
test_qualified(void)
{
	T_GROUP("addr_is_qualified");
	T_OK(addr_is_qualified("a@b"), "user@domain is qualified");
	T_OK(!addr_is_qualified("root"), "bare user is not qualified");
	T_OK(!addr_is_qualified("a@"), "empty domain is not qualified");
	T_OK(!addr_is_qualified(""), "empty string is not qualified");
	T_OK(!addr_is_qualified("\"a@b\""),
	    "'@' inside quoted local part does not count");
	T_OK(addr_is_qualified("\"a@b\"@c"),
	    "quoted local part with domain is qualified");
	T_OK(!addr_is_qualified("\"a\\\"@b\""),
	    "escaped quote does not end the quoted part");
	T_OK(addr_is_qualified("u@[192.0.2.1]"),
	    "domain literal is a domain");
}

static void
test_qualify(void)
{
	char *s;

	T_GROUP("addr_qualify");
	s = addr_qualify("root", "example.org");
	T_STREQ(s, "root@example.org", "unqualified gets the domain");
	free(s);
	s = addr_qualify("a@b.example", "example.org");
	T_STREQ(s, "a@b.example", "qualified is copied unchanged");
	free(s);
	s = addr_qualify("\"a@b\"", "example.org");
	T_STREQ(s, "\"a@b\"@example.org", "quoted '@' does not qualify");
	free(s);
}

static void
test_equal(void)
{
	T_GROUP("addr_equal");
	T_OK(addr_equal("a@x.org", "a@x.org"), "identical addresses");
	T_OK(addr_equal("a@X.Org", "a@x.ORG"), "domain case ignored");
	T_OK(!addr_equal("A@x.org", "a@x.org"), "local part case kept");
	T_OK(addr_equal("root", "root"), "equal unqualified");
	T_OK(!addr_equal("root", "Root"), "unqualified case kept");
	T_OK(!addr_equal("root", "root@x"), "qualified vs unqualified");
	T_OK(!addr_equal("a@x", "a@xy"), "domain prefix is not equal");
	T_OK(!addr_equal("a@x", "ab@x"), "local prefix is not equal");
	T_OK(addr_equal("\"a@b\"@X", "\"a@b\"@x"),
	    "split after quoted local part");
	T_OK(!addr_equal("\"a@B\"@x", "\"a@b\"@x"),
	    "quoted '@' is not taken as the split");
	T_OK(addr_equal("u@[IPv6:DB8::1]", "u@[ipv6:db8::1]"),
	    "domain literal case ignored");
	T_OK(addr_equal("u\xc3\x96@x", "u\xc3\x96@X"),
	    "8-bit local part compared exactly");
}

static void
test_list(void)
{
	struct addrlist l = ADDRLIST_INIT;

	T_GROUP("addrlist");
	addrlist_add(&l, "a@x");
	addrlist_add(&l, "a@x");
	T_INTEQ(l.n, 2, "addrlist_add keeps duplicates");
	addrlist_free(&l);
	T_OK(l.v == NULL && l.n == 0, "addrlist_free resets the list");
	addrlist_free(&l);
	addrlist_free(NULL);
	T_OK(1, "addrlist_free twice and on NULL is safe");

	addrlist_add_unique(&l, "a@x.org");
	addrlist_add_unique(&l, "a@X.ORG");
	addrlist_add_unique(&l, "A@x.org");
	addrlist_add_unique(&l, "root");
	addrlist_add_unique(&l, "root");
	T_INTEQ(l.n, 3, "addrlist_add_unique drops addr_equal duplicates");
	T_OK(l.n == 3 && strcmp(l.v[0], "a@x.org") == 0 &&
	    strcmp(l.v[1], "A@x.org") == 0 && strcmp(l.v[2], "root") == 0,
	    "addrlist_add_unique keeps the first spelling, in order");
	addrlist_free(&l);
}

static void
test_nesting(void)
{
	struct addrlist l = ADDRLIST_INIT;
	struct buf b = BUF_INIT;
	char err[128];
	size_t i;
	int rv;

	T_GROUP("comment nesting");
	for (i = 0; i < 100000; i++)
		buf_addch(&b, '(');
	rv = addr_parse_list(b.data, b.len, &l, err, sizeof(err));
	T_OK(rv == -1 && l.n == 0, "100,000 open parentheses fail");
	T_STREQ(err, "comments nested too deeply",
	    "100,000 open parentheses: error text");
	buf_reset(&b);

	for (i = 0; i < 50000; i++)
		buf_addch(&b, '(');
	for (i = 0; i < 50000; i++)
		buf_addch(&b, ')');
	buf_addstr(&b, "a@x");
	rv = addr_parse_list(b.data, b.len, &l, err, sizeof(err));
	T_INTEQ(rv, -1, "50,000 balanced nested comments fail");
	buf_reset(&b);

	buf_addstr(&b, "a@x ");
	for (i = 0; i < 64; i++)
		buf_addch(&b, '(');
	for (i = 0; i < 64; i++)
		buf_addch(&b, ')');
	rv = addr_parse_list(b.data, b.len, &l, err, sizeof(err));
	T_OK(rv == 0 && l.n == 1, "64 nested comments are accepted");
	addrlist_free(&l);
	buf_reset(&b);

	buf_addstr(&b, "a@x ");
	for (i = 0; i < 65; i++)
		buf_addch(&b, '(');
	for (i = 0; i < 65; i++)
		buf_addch(&b, ')');
	rv = addr_parse_list(b.data, b.len, &l, err, sizeof(err));
	T_INTEQ(rv, -1, "65 nested comments are refused");
	addrlist_free(&l);
	buf_reset(&b);

	buf_addstr(&b, "a@x ");
	for (i = 0; i < 50000; i++)
		buf_addstr(&b, "(c)");
	rv = addr_parse_list(b.data, b.len, &l, err, sizeof(err));
	T_OK(rv == 0 && l.n == 1, "50,000 sibling comments are accepted");
	addrlist_free(&l);
	buf_free(&b);
}

static void
test_large(void)
{
	struct addrlist l = ADDRLIST_INIT;
	struct buf b = BUF_INIT, want = BUF_INIT;
	char err[128];
	size_t i;
	bool same;
	int rv;

	T_GROUP("large input");
	for (i = 0; i < 1000; i++) {
		if (i % 3 == 0)
			buf_printf(&b, "user%zu@host%zu.example,\r\n ", i, i);
		else if (i % 3 == 1)
			buf_printf(&b,
			    "\"User %zu\" <user%zu@host%zu.example>, ",
			    i, i, i);
		else
			buf_printf(&b, "user%zu@host%zu.example (U %zu), ",
			    i, i, i);
	}
	rv = addr_parse_list(b.data, b.len, &l, err, sizeof(err));
	T_INTEQ(rv, 0, "list of 1,000 addresses parses");
	T_INTEQ(l.n, 1000, "list of 1,000 addresses: count");
	same = l.n == 1000;
	for (i = 0; same && i < l.n; i++) {
		buf_reset(&want);
		buf_printf(&want, "user%zu@host%zu.example", i, i);
		same = strcmp(l.v[i], want.data) == 0;
	}
	T_OK(same, "list of 1,000 addresses: each in order");
	addrlist_free(&l);

	rv = addr_parse_arg(b.data, &l, err, sizeof(err));
	T_INTEQ(rv, -1, "the same list with folding refused as argument");
	addrlist_free(&l);

	buf_reset(&b);
	buf_addch(&b, '"');
	for (i = 0; i < 100000; i++)
		buf_addch(&b, 'q');
	buf_addstr(&b, "\"@x");
	rv = addr_parse_list(b.data, b.len, &l, err, sizeof(err));
	T_OK(rv == 0 && l.n == 1 && strlen(l.v[0]) == 100004,
	    "100,000-byte quoted local part kept whole");
	addrlist_free(&l);

	buf_reset(&b);
	for (i = 0; i < 100000; i++)
		buf_addch(&b, '"');
	rv = addr_parse_list(b.data, b.len, &l, err, sizeof(err));
	T_INTEQ(rv, -1, "100,000 quotes (adjacent words) fail cleanly");
	addrlist_free(&l);

	buf_reset(&b);
	for (i = 0; i < 1000; i++)
		addrlist_add_unique(&l, i % 2 ? "a@X" : "a@x");
	T_INTEQ(l.n, 1, "1,000 duplicate adds keep one");
	addrlist_free(&l);

	buf_free(&b);
	buf_free(&want);
}

/*
 * Random strings over the bytes that matter to the grammar: whatever the
 * outcome, no address may come out holding a control character, and
 * addr_parse_arg must refuse every input holding one.
 */
static void
test_fuzz(void)
{
	static const char alphabet[] =
	    "aaaaaa@@.,;:<>()[]\"\\ \t\r\n\0\x01\x7f\xc3";
	struct addrlist l = ADDRLIST_INIT;
	char in[48], err[128];
	unsigned long seed = 12345;
	size_t i, j, k, len;
	bool clean = true, refused = true, ctl;

	T_GROUP("random input");
	for (i = 0; i < 200000; i++) {
		len = (seed >> 16) % sizeof(in);
		ctl = false;
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245 + 12345;
			in[j] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
			if ((unsigned char)in[j] < 0x20 || in[j] == 0x7f)
				ctl = true;
		}
		seed = seed * 1103515245 + 12345;
		(void)addr_parse_list(in, len, &l, err, sizeof(err));
		for (j = 0; j < l.n; j++)
			for (k = 0; l.v[j][k] != '\0'; k++)
				if ((unsigned char)l.v[j][k] < 0x20 ||
				    l.v[j][k] == 0x7f)
					clean = false;
		addrlist_free(&l);
		if (memchr(in, '\0', len) != NULL)
			continue;
		in[len] = '\0';
		if (addr_parse_arg(in, &l, err, sizeof(err)) == 0 && ctl)
			refused = false;
		addrlist_free(&l);
	}
	T_OK(clean, "200,000 random inputs yield no control character");
	T_OK(refused, "addr_parse_arg refuses every control character");
}

int
main(void)
{
	test_table();
	test_partial();
	test_errbuf();
	test_arg();
	test_qualified();
	test_qualify();
	test_equal();
	test_list();
	test_nesting();
	test_large();
	test_fuzz();
	return t_done();
}
