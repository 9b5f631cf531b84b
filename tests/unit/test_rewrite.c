/*
 * test_rewrite.c: unit tests of rewrite.c. Table cases for the scope of
 * rewrite_sender, the envelope sender, and the From: rewriting over whole
 * header sections (display names kept, originals kept, Sender: and
 * Reply-To:, scope, idempotence, folding of long fields), each checked
 * byte for byte.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "rewrite.h"
#include "rfc5322.h"
#include "t.h"

static void	 conf_init(struct conf *);
static void	 parse_headers(const char *, struct headers *);
static void	 dump(const struct headers *, struct buf *);
static void	 test_scope(void);
static void	 test_envelope(void);
static void	 test_headers(void);
static void	 test_headers_off(void);
static void	 test_long_fields(void);
static void	 test_qualify(void);

static char	 ld_localhost[] = "localhost";
static char	 ld_host[] = "host.example.org";
static char	*local_domains[] = { ld_localhost, ld_host };
static char	 domain[] = "example.org";
static char	 relay[] = "relay@example.net";

/* domain example.org; local_domains localhost host.example.org. */
static void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->domain = domain;
	c->local_domains = local_domains;
	c->nlocal_domains = 2;
	c->rewrite_sender = relay;
	c->rewrite_scope = CONF_SCOPE_LOCAL;
	c->rewrite_from = true;
}

/* Text of fields, LF-ended, into h, as the intake reads them. */
static void
parse_headers(const char *s, struct headers *h)
{
	const char *nl;
	size_t len, name;

	while (*s != '\0') {
		nl = strchr(s, '\n');
		len = nl != NULL ? (size_t)(nl - s) + 1 : strlen(s);
		if (s[0] == ' ' || s[0] == '\t')
			headers_continue(h, s, len);
		else if ((name = rfc5322_field_start(s, len)) > 0)
			headers_add(h, s, len, name);
		else {
			fprintf(stderr, "test_rewrite: bad test header\n");
			exit(2);
		}
		s += len;
	}
}

static void
dump(const struct headers *h, struct buf *b)
{
	size_t i, bytes = 0;

	buf_reset(b);
	for (i = 0; i < h->n; i++) {
		buf_add(b, h->v[i].raw, h->v[i].rawlen);
		bytes += h->v[i].rawlen;
	}
	if (bytes != h->bytes)
		buf_addstr(b, "[bytes total wrong]");
}

static void
test_scope(void)
{
	static const struct {
		const char	*addr;
		bool		 local, all;
	} cases[] = {
		{ "root", true, true },
		{ "www-data", true, true },
		{ "root@example.org", true, true },
		{ "root@EXAMPLE.ORG", true, true },
		{ "root@localhost", true, true },
		{ "root@host.example.org", true, true },
		{ "root@Host.Example.Org", true, true },
		{ "shop@example.com", false, true },
		{ "root@sub.example.org", false, true },
		{ "\"a@example.org\"@example.com", false, true },
		{ "a@[192.0.2.1]", false, true },
		{ "", false, false },
	};
	struct conf c;
	size_t i;

	T_GROUP("rewrite_in_scope");
	conf_init(&c);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_INTEQ(rewrite_in_scope(&c, cases[i].addr), cases[i].local,
		    cases[i].addr);
	c.rewrite_scope = CONF_SCOPE_ALL;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_INTEQ(rewrite_in_scope(&c, cases[i].addr), cases[i].all,
		    cases[i].addr);
	T_OK(!rewrite_in_scope(&c, NULL), "NULL");
}

static void
test_envelope(void)
{
	static const struct {
		const char	*sender;
		enum conf_scope	 scope;
		bool		 set;	/* rewrite_sender given */
		const char	*want;
	} cases[] = {
		{ "www-data@example.org", CONF_SCOPE_LOCAL, true,
		  "relay@example.net" },
		{ "root@host.example.org", CONF_SCOPE_LOCAL, true,
		  "relay@example.net" },
		{ "root", CONF_SCOPE_LOCAL, true, "relay@example.net" },
		{ "shop@example.com", CONF_SCOPE_LOCAL, true,
		  "shop@example.com" },
		{ "shop@example.com", CONF_SCOPE_ALL, true,
		  "relay@example.net" },
		{ "", CONF_SCOPE_LOCAL, true, "" },
		{ "", CONF_SCOPE_ALL, true, "" },
		{ "www-data@example.org", CONF_SCOPE_LOCAL, false,
		  "www-data@example.org" },
		{ "relay@example.net", CONF_SCOPE_ALL, true,
		  "relay@example.net" },
	};
	struct conf c;
	char name[128], *got;
	const char *before;
	size_t i;

	T_GROUP("rewrite_envelope");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_init(&c);
		c.rewrite_scope = cases[i].scope;
		if (!cases[i].set)
			c.rewrite_sender = NULL;
		snprintf(name, sizeof(name), "case %zu '%s'", i,
		    cases[i].sender);
		before = cases[i].sender;
		got = rewrite_envelope(&c, cases[i].sender);
		T_STREQ(got, cases[i].want, name);
		T_OK(got != before, "a copy");
		free(got);
	}
}

static const struct {
	const char	*name;
	enum conf_scope	 scope;
	const char	*in;
	const char	*out;
	bool		 changed;
} hcases[] = {
	{ "local user, no name", CONF_SCOPE_LOCAL,
	  "Subject: x\nFrom: www-data@host.example.org\nTo: a@example.com\n",
	  "Subject: x\nFrom: relay@example.net\n"
	  "X-Original-From: www-data@host.example.org\nTo: a@example.com\n",
	  true },
	{ "display name kept", CONF_SCOPE_LOCAL,
	  "From: Cron Daemon <root@host.example.org>\n",
	  "From: Cron Daemon <relay@example.net>\n"
	  "X-Original-From: Cron Daemon <root@host.example.org>\n", true },
	{ "quoted display name kept as written", CONF_SCOPE_LOCAL,
	  "From: \"Doe, John\" <john@localhost>\n",
	  "From: \"Doe, John\" <relay@example.net>\n"
	  "X-Original-From: \"Doe, John\" <john@localhost>\n", true },
	{ "encoded display name kept", CONF_SCOPE_LOCAL,
	  "From: =?UTF-8?B?w6lsw6g=?= <root@localhost>\n",
	  "From: =?UTF-8?B?w6lsw6g=?= <relay@example.net>\n"
	  "X-Original-From: =?UTF-8?B?w6lsw6g=?= <root@localhost>\n", true },
	{ "old comment form: the comment is the name", CONF_SCOPE_LOCAL,
	  "From: root (Cron Daemon)\n",
	  "From: Cron Daemon <relay@example.net>\n"
	  "X-Original-From: root (Cron Daemon)\n", true },
	{ "comment needing quotes", CONF_SCOPE_LOCAL,
	  "From: root@localhost (Daemon, cron)\n",
	  "From: \"Daemon, cron\" <relay@example.net>\n"
	  "X-Original-From: root@localhost (Daemon, cron)\n", true },
	{ "nested comment dropped", CONF_SCOPE_LOCAL,
	  "From: root@localhost (a (b))\n",
	  "From: relay@example.net\n"
	  "X-Original-From: root@localhost (a (b))\n", true },
	{ "'<' in a quoted name", CONF_SCOPE_LOCAL,
	  "From: \"a <b>\" <root@localhost>\n",
	  "From: \"a <b>\" <relay@example.net>\n"
	  "X-Original-From: \"a <b>\" <root@localhost>\n", true },
	{ "folded field", CONF_SCOPE_LOCAL,
	  "From: Cron\n\tDaemon\n <root@localhost>\nTo: x@example.com\n",
	  "From: Cron Daemon <relay@example.net>\n"
	  "X-Original-From: Cron\n\tDaemon\n <root@localhost>\n"
	  "To: x@example.com\n", true },
	{ "at the domain: Reply-To added", CONF_SCOPE_LOCAL,
	  "From: Ann <ann@example.org>\nTo: b@example.com\n",
	  "From: Ann <relay@example.net>\n"
	  "X-Original-From: Ann <ann@example.org>\nTo: b@example.com\n"
	  "Reply-To: Ann <ann@example.org>\n", true },
	{ "unqualified: no Reply-To", CONF_SCOPE_LOCAL,
	  "From: root\n",
	  "From: relay@example.net\nX-Original-From: root\n", true },
	{ "existing Reply-To kept", CONF_SCOPE_LOCAL,
	  "Reply-To: help@example.org\nFrom: ann@example.org\n",
	  "Reply-To: help@example.org\nFrom: relay@example.net\n"
	  "X-Original-From: ann@example.org\n", true },
	{ "Sender renamed", CONF_SCOPE_LOCAL,
	  "From: root@localhost\nSender: someone@example.com\n",
	  "From: relay@example.net\nX-Original-From: root@localhost\n"
	  "X-Original-Sender: someone@example.com\n", true },
	{ "remote From, scope local: unchanged", CONF_SCOPE_LOCAL,
	  "From: Shop <shop@example.com>\nSender: www-data@localhost\n",
	  "From: Shop <shop@example.com>\nSender: www-data@localhost\n",
	  false },
	{ "remote From, scope all", CONF_SCOPE_ALL,
	  "From: Shop <shop@example.com>\nSubject: order\n",
	  "From: Shop <relay@example.net>\n"
	  "X-Original-From: Shop <shop@example.com>\nSubject: order\n"
	  "Reply-To: Shop <shop@example.com>\n", true },
	{ "two mailboxes, one local", CONF_SCOPE_LOCAL,
	  "From: root@localhost, Ann <ann@example.com>\n"
	  "Sender: root@localhost\n",
	  "From: relay@example.net\n"
	  "X-Original-From: root@localhost, Ann <ann@example.com>\n"
	  "X-Original-Sender: root@localhost\n"
	  "Reply-To: root@localhost, Ann <ann@example.com>\n", true },
	{ "group", CONF_SCOPE_ALL,
	  "From: team: a@example.com;\n",
	  "From: relay@example.net\nX-Original-From: team: a@example.com;\n"
	  "Reply-To: team: a@example.com;\n", true },
	{ "unparsable From, scope local: unchanged", CONF_SCOPE_LOCAL,
	  "From: <<root@localhost\n", "From: <<root@localhost\n", false },
	{ "unparsable From, scope all: replaced, no Reply-To",
	  CONF_SCOPE_ALL, "From: <<shop@example.com\n",
	  "From: relay@example.net\nX-Original-From: <<shop@example.com\n",
	  true },
	{ "empty From, scope all", CONF_SCOPE_ALL, "From:\n",
	  "From: relay@example.net\nX-Original-From:\n", true },
	{ "already the account", CONF_SCOPE_ALL,
	  "From: Relay <Relay@EXAMPLE.NET>\n",
	  "From: Relay <Relay@EXAMPLE.NET>\n", false },
	{ "already the account, local", CONF_SCOPE_LOCAL,
	  "From: relay@example.net\nSender: root@localhost\n",
	  "From: relay@example.net\nSender: root@localhost\n", false },
	{ "no From", CONF_SCOPE_ALL, "Subject: x\nTo: a@example.com\n",
	  "Subject: x\nTo: a@example.com\n", false },
	{ "two From fields", CONF_SCOPE_LOCAL,
	  "From: root@localhost\nFrom: Ann <ann@example.org>\n",
	  "From: relay@example.net\nX-Original-From: root@localhost\n"
	  "From: Ann <relay@example.net>\n"
	  "X-Original-From: Ann <ann@example.org>\n"
	  "Reply-To: Ann <ann@example.org>\n", true },
	{ "field name case", CONF_SCOPE_LOCAL,
	  "FROM: root@localhost\nsender: root@localhost\n",
	  "From: relay@example.net\nX-Original-From: root@localhost\n"
	  "X-Original-Sender: root@localhost\n", true },
	{ "blank before the colon", CONF_SCOPE_LOCAL,
	  "From : root@localhost\n",
	  "From: relay@example.net\nX-Original-From: root@localhost\n", true },
};

static void
test_headers(void)
{
	struct headers h;
	struct buf got = BUF_INIT;
	struct conf c;
	size_t i;
	bool changed;

	T_GROUP("rewrite_headers");
	for (i = 0; i < sizeof(hcases) / sizeof(hcases[0]); i++) {
		struct headers init = HEADERS_INIT;

		h = init;
		conf_init(&c);
		c.rewrite_scope = hcases[i].scope;
		parse_headers(hcases[i].in, &h);
		changed = rewrite_headers(&c, &h);
		T_INTEQ(changed, hcases[i].changed, hcases[i].name);
		dump(&h, &got);
		T_STREQ(got.data, hcases[i].out, hcases[i].name);
		/* a second pass finds nothing more to do */
		T_INTEQ(rewrite_headers(&c, &h), false, hcases[i].name);
		headers_free(&h);
	}
	buf_free(&got);
}

static void
test_headers_off(void)
{
	struct headers h = HEADERS_INIT;
	struct buf got = BUF_INIT;
	struct conf c;
	const char *in = "From: root@localhost\n";

	T_GROUP("rewrite_headers off");
	conf_init(&c);
	c.rewrite_from = false;
	parse_headers(in, &h);
	T_INTEQ(rewrite_headers(&c, &h), false, "rewrite_from no");
	dump(&h, &got);
	T_STREQ(got.data, in, "rewrite_from no: unchanged");
	c.rewrite_from = true;
	c.rewrite_sender = NULL;
	T_INTEQ(rewrite_headers(&c, &h), false, "no rewrite_sender");
	dump(&h, &got);
	T_STREQ(got.data, in, "no rewrite_sender: unchanged");
	headers_free(&h);
	buf_free(&got);
}

static void
test_long_fields(void)
{
	struct headers h = HEADERS_INIT;
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT, name = BUF_INIT;
	struct conf c;
	size_t i;

	T_GROUP("rewrite_headers long fields");
	conf_init(&c);
	c.rewrite_scope = CONF_SCOPE_ALL;
	/*
	 * A From: line of 998 bytes: kept as X-Original-From: it would be
	 * 1009, so it is folded after the name. The display name is too
	 * long to keep.
	 */
	for (i = 0; i < 998 - strlen("From: \"\" <a@example.com>"); i++)
		buf_addch(&name, 'n');
	buf_printf(&in, "From: \"%s\" <a@example.com>\n", name.data);
	T_INTEQ(in.len, 999, "the test line is 998 bytes and LF");
	parse_headers(in.data, &h);
	T_OK(rewrite_headers(&c, &h), "long: changed");
	dump(&h, &got);
	buf_printf(&want, "From: relay@example.net\nX-Original-From:\n"
	    " \"%s\" <a@example.com>\nReply-To:\n \"%s\" <a@example.com>\n",
	    name.data, name.data);
	T_STREQ(got.data, want.data, "long: folded after the name");
	headers_free(&h);

	/* a 256-byte name is kept, a 257-byte one is not */
	for (i = 256; i <= 257; i++) {
		struct headers init = HEADERS_INIT;

		h = init;
		buf_reset(&name);
		while (name.len < i)
			buf_addch(&name, 'n');
		buf_reset(&in);
		buf_printf(&in, "From: %s <root@localhost>\n", name.data);
		parse_headers(in.data, &h);
		(void)rewrite_headers(&c, &h);
		buf_reset(&want);
		if (i <= 256)
			buf_printf(&want, "From: %s <relay@example.net>\n",
			    name.data);
		else
			buf_addstr(&want, "From: relay@example.net\n");
		T_OK(h.n >= 1 && h.v[0].rawlen == want.len &&
		    memcmp(h.v[0].raw, want.data, want.len) == 0,
		    i <= 256 ? "256-byte name kept" : "257-byte name dropped");
		headers_free(&h);
	}
	buf_free(&in);
	buf_free(&want);
	buf_free(&got);
	buf_free(&name);
}

static const struct {
	const char	*name;
	const char	*in;
	const char	*out;	/* NULL: unchanged */
} qcases[] = {
	{ "cron's To:", "To: root\n", "To: root@example.org\n" },
	{ "cron's From:", "From: root (Cron Daemon)\n",
	  "From: root@example.org (Cron Daemon)\n" },
	{ "angle address", "From: Web Server <www-data>\n",
	  "From: Web Server <www-data@example.org>\n" },
	{ "qualified: unchanged", "To: a@x.org, \"B\" <b@y.org>\n", NULL },
	{ "mixed list", "Cc: a@x.org, bob,\n carol (C), <dave>\n",
	  "Cc: a@x.org, bob@example.org,\n carol@example.org (C), "
	  "<dave@example.org>\n" },
	{ "quoted local part", "To: \"john doe\"\n",
	  "To: \"john doe\"@example.org\n" },
	{ "dotted local part", "Reply-To: first.last\n",
	  "Reply-To: first.last@example.org\n" },
	{ "group", "To: team: alice, bob@x.org;\n",
	  "To: team: alice@example.org, bob@x.org;\n" },
	{ "empty group", "To: undisclosed-recipients:;\n", NULL },
	{ "Resent- and Errors-To", "Resent-To: ops\nErrors-To: <postmaster>\n",
	  "Resent-To: ops@example.org\nErrors-To: <postmaster@example.org>\n" },
	{ "not an address field", "Subject: root\nX-To: root\n", NULL },
	{ "unparseable: unchanged", "To: root <\n", NULL },
	{ "blank before the colon", "To : root\n", "To : root@example.org\n" },
	{ "display name looks like an address",
	  "From: root@localhost <root>\n",
	  "From: root@localhost <root@example.org>\n" },
};

static void
test_qualify(void)
{
	struct headers h;
	struct buf got = BUF_INIT;
	struct conf c;
	size_t i;

	T_GROUP("rewrite_qualify");
	conf_init(&c);
	for (i = 0; i < sizeof(qcases) / sizeof(qcases[0]); i++) {
		struct headers init = HEADERS_INIT;
		const char *want = qcases[i].out != NULL ? qcases[i].out :
		    qcases[i].in;

		h = init;
		parse_headers(qcases[i].in, &h);
		T_INTEQ(rewrite_qualify(&c, &h), qcases[i].out != NULL,
		    qcases[i].name);
		dump(&h, &got);
		T_STREQ(got.data, want, qcases[i].name);
		T_INTEQ(rewrite_qualify(&c, &h), false, qcases[i].name);
		headers_free(&h);
	}
	buf_free(&got);
}

int
main(void)
{
	test_scope();
	test_envelope();
	test_headers();
	test_headers_off();
	test_long_fields();
	test_qualify();
	return t_done();
}
