/*
 * test_alias.c: unit tests of alias.c. Table cases for the file format
 * (valid, garbage, empty, boundary, CRLF, continuations), for locality and
 * for resolution (chains, loops, "\name", unsupported targets, the
 * administrator address), then the bounds: nesting depth, fan-out that
 * would be exponential without the per-name memory, long files; then
 * alias_expand as the front-end calls it and alias_check as newaliases
 * does. Files are written to a private directory under /tmp, removed at
 * the end.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "alias.h"
#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "log.h"
#include "util.h"
#include "t.h"

static void	 put(const char *, size_t);
static void	 put_str(const char *);
static struct aliases *load_str(const char *, char *, size_t);
static void	 conf_init(struct conf *);
static void	 joined(const struct addrlist *, struct buf *);
static void	 collect(void *, const char *);
static char	*check_str(const char *, int *);
static void	 test_parse_ok(void);
static void	 test_parse_errors(void);
static void	 test_bounds(void);
static void	 test_is_local(void);
static void	 test_resolve(void);
static void	 test_depth(void);
static void	 test_long(void);
static void	 test_expand(void);
static void	 test_check(void);

static char	 tmpdir[] = "/tmp/test_alias.XXXXXX";
static char	 path[64];

static char	 ld_localhost[] = "localhost";
static char	 ld_host[] = "host.example.org";
static char	*local_domains[] = { ld_localhost, ld_host };
static char	 domain[] = "example.org";
static char	 sysadmin[] = "sysadmin@example.net";

static void
put(const char *data, size_t len)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL || fwrite(data, 1, len, fp) != len ||
	    fclose(fp) != 0) {
		fprintf(stderr, "test_alias: %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

static void
put_str(const char *data)
{
	put(data, strlen(data));
}

static struct aliases *
load_str(const char *data, char *err, size_t errlen)
{
	put_str(data);
	return alias_load(path, 0, err, errlen);
}

/* domain example.org, local_domains localhost host.example.org. */
static void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->domain = domain;
	c->local_domains = local_domains;
	c->nlocal_domains = 2;
	c->alias_file = path;
}

/* "a b c": the list, blank-separated. */
static void
joined(const struct addrlist *l, struct buf *b)
{
	size_t i;

	buf_reset(b);
	for (i = 0; i < l->n; i++)
		buf_printf(b, "%s%s", i > 0 ? " " : "", l->v[i]);
}

static void
collect(void *arg, const char *msg)
{
	buf_printf(arg, "%s\n", msg);
}

/* alias_check of data; its report, caller frees. */
static char *
check_str(const char *data, int *rc)
{
	struct conf c;
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *fp;

	put_str(data);
	conf_init(&c);
	if ((fp = tmpfile()) == NULL) {
		perror("tmpfile");
		exit(2);
	}
	*rc = alias_check(path, 0, &c, fp);
	rewind(fp);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	return buf_detach(&b, NULL);
}

static const struct {
	const char	*name;
	const char	*file;
	size_t		 count;
	const char	*addr;		/* resolved... */
	const char	*want;		/* ...to these, blank-separated */
} ok_cases[] = {
	{ "empty file", "", 0, "root", "root@example.org" },
	{ "comments and blank lines", "# aliases\n\n   \n\t\n  # indented\n",
	  0, "root", "root@example.org" },
	{ "one alias", "root: admin@example.net\n", 1, "root",
	  "admin@example.net" },
	{ "no final newline", "root: admin@example.net", 1, "root",
	  "admin@example.net" },
	{ "CRLF", "# c\r\nroot: a@example.net,\r\n  b@example.net\r\n\r\n", 1,
	  "root", "a@example.net b@example.net" },
	{ "names ignore case", "Root: a@example.net\n", 1, "ROOT",
	  "a@example.net" },
	{ "no blank after ':'", "root:a@example.net\n", 1, "root",
	  "a@example.net" },
	{ "blanks before ':'", "root \t: a@example.net\n", 1, "root",
	  "a@example.net" },
	{ "continuation lines", "staff: a@example.net,\n  b@example.net,\n"
	  "\tc@example.net\n", 1, "staff",
	  "a@example.net b@example.net c@example.net" },
	{ "comment inside a continuation", "staff: a@example.net,\n# x\n"
	  "  b@example.net\n", 1, "staff", "a@example.net b@example.net" },
	{ "blank line inside a continuation", "staff: a@example.net,\n\n"
	  "  b@example.net\n", 1, "staff", "a@example.net b@example.net" },
	{ "value on the next line", "staff:\n  a@example.net\n", 1, "staff",
	  "a@example.net" },
	{ "empty elements", "staff: ,a@example.net,, b@example.net ,\n", 1,
	  "staff", "a@example.net b@example.net" },
	{ "duplicates removed", "staff: a@example.net, a@EXAMPLE.net, "
	  "<a@example.net>\n", 1, "staff", "a@example.net" },
	{ "display names", "staff: Ann <a@example.net>, \"B, b\" "
	  "<b@example.net>\n", 1, "staff", "a@example.net b@example.net" },
	{ "comment with a comma", "staff: a@example.net (one, two), "
	  "b@example.net\n", 1, "staff", "a@example.net b@example.net" },
	{ "quoted local part with a comma", "staff: \"a,b\"@example.net\n",
	  1, "staff", "\"a,b\"@example.net" },
	{ "quoted name", "\"foo bar\": a@example.net\n", 1, "\"Foo Bar\"",
	  "a@example.net" },
	{ "quoted name at localhost", "\"foo bar\": a@example.net\n", 1,
	  "\"foo bar\"@localhost", "a@example.net" },
	{ "quoted name with an escape", "\"a\\\"b\": a@example.net\n", 1,
	  "\"a\\\"b\"", "a@example.net" },
	{ "dots, plus, dash, underscore", "first.last+x-y_z: a@example.net\n",
	  1, "First.Last+x-y_z", "a@example.net" },
	{ "64-byte name",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: "
	  "a@example.net\n", 1,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "a@example.net" },
	{ "local name target", "postmaster: root\nroot: a@example.net\n", 2,
	  "postmaster", "a@example.net" },
	{ "target at a local domain", "postmaster: root@localhost\n"
	  "root: a@example.net\n", 2, "postmaster@host.example.org",
	  "a@example.net" },
	{ "target at the domain is not local", "postmaster: "
	  "root@example.org\nroot: a@example.net\n", 2, "postmaster",
	  "root@example.org" },
	{ "backslash: the name itself", "root: \\root, a@example.net\n", 1,
	  "root", "root@example.org a@example.net" },
	{ "backslash keeps the case", "root: \\Root\n", 1, "root",
	  "Root@example.org" },
	{ "backslash on a remote address", "root: \\a@example.net\n", 1,
	  "root", "a@example.net" },
	{ "name listing itself", "root: root, a@example.net\n", 1, "root",
	  "root@example.org a@example.net" },
	{ "only itself", "root: root\n", 1, "root", "root@example.org" },
	{ "loop of two", "a: b\nb: a\n", 2, "a", "a@example.org" },
	{ "loop of two, the other way", "a: b\nb: a\n", 2, "b",
	  "b@example.org" },
	{ "loop of three with an exit", "a: b\nb: c, x@example.net\nc: a\n", 3,
	  "a", "a@example.org x@example.net" },
	{ "shared branch once", "a: b, c\nb: d\nc: d\nd: x@example.net\n", 4,
	  "a", "x@example.net" },
	{ "pipe skipped", "h: |/usr/bin/handler, x@example.net\n", 1, "h",
	  "x@example.net" },
	{ "quoted pipe with a comma", "h: \"|/usr/bin/h a, b\", "
	  "x@example.net\n", 1, "h", "x@example.net" },
	{ "only a pipe: as if no alias", "h: |/usr/bin/handler\n", 1, "h",
	  "h@example.org" },
	{ "file, include, error skipped", "h: /var/mail/h, \"/tmp/x y\", "
	  ":include:/etc/list, :INCLUDE:/x, error:nouser no such user\n", 1,
	  "h", "h@example.org" },
	{ "name unknown", "root: a@example.net\n", 1, "nobody",
	  "nobody@example.org" },
	{ "name unknown at localhost", "root: a@example.net\n", 1,
	  "Nobody@LOCALHOST", "Nobody@example.org" },
	{ "remote address unchanged", "root: a@example.net\n", 1,
	  "Root@Example.NET", "Root@Example.NET" },
	{ "remote address at a name of the file", "root: a@example.net\n", 1,
	  "root@example.net", "root@example.net" },
	{ "too long to be a name", "root: a@example.net\n", 1,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "@example.org" },
	{ "Debian's default file", "# /etc/aliases\nmailer-daemon: postmaster"
	  "\npostmaster: root\nnobody: root\nhostmaster: root\nusenet: root\n"
	  "news: root\nwebmaster: root\nwww: root\nftp: root\nabuse: root\n"
	  "noc: root\nsecurity: root\nroot: admin@example.net\n", 13,
	  "mailer-daemon", "admin@example.net" },
};

static void
test_parse_ok(void)
{
	struct aliases *al;
	struct addrlist out = ADDRLIST_INIT;
	struct buf got = BUF_INIT, warns = BUF_INIT;
	struct conf c;
	char err[1024];
	size_t i;
	int rc;

	T_GROUP("alias_load and alias_resolve");
	conf_init(&c);
	for (i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		err[0] = '\0';
		al = load_str(ok_cases[i].file, err, sizeof(err));
		T_OK(al != NULL, ok_cases[i].name);
		if (al == NULL) {
			printf("#   %s\n", err);
			continue;
		}
		alias_set_warn(al, collect, &warns);
		T_INTEQ(alias_count(al), ok_cases[i].count, ok_cases[i].name);
		rc = alias_resolve(al, &c, ok_cases[i].addr, &out, err,
		    sizeof(err));
		T_INTEQ(rc, 0, ok_cases[i].name);
		joined(&out, &got);
		T_STREQ(got.data, ok_cases[i].want, ok_cases[i].name);
		addrlist_free(&out);
		alias_free(al);
	}
	buf_free(&got);
	buf_free(&warns);
}

static const struct {
	const char	*name;
	const char	*file;
	const char	*want;	/* after "FILE:" */
} err_cases[] = {
	{ "missing colon", "# x\nroot admin@example.net\n",
	  "2: missing ':' after the alias name 'root'" },
	{ "name alone", "root\n", "1: missing ':' after the alias name "
	  "'root'" },
	{ "empty name", ": a@example.net\n", "1: empty alias name" },
	{ "empty quoted name", "\"\": a@example.net\n", "1: empty alias name" },
	{ "unterminated quoted name", "\"root: a@example.net\n",
	  "1: unterminated quoted alias name" },
	{ "quoted name without colon", "\"root\" a@example.net\n",
	  "1: missing ':' after the alias name 'root'" },
	{ "name with a domain", "root@example.org: a@example.net\n",
	  "1: alias name 'root@example.org' has a domain: alias names are "
	  "local" },
	{ "special in a name", "ro(ot: a@example.net\n",
	  "1: '(' in alias name 'ro(ot' (quote the name)" },
	{ "backslash in a name", "ro\\ot: a@example.net\n",
	  "1: '\\' in alias name 'ro\\ot' (quote the name)" },
	{ "8-bit name", "r\xc3\xa9: a@example.net\n",
	  "1: byte 0xc3 in alias name 'r\xc3\xa9'" },
	{ "65-byte name",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: "
	  "a@example.net\n", "1: alias name "
	  "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' longer than 64 "
	  "bytes" },
	{ "no value", "root:\n", "1: alias 'root' has no address" },
	{ "only commas", "root: , ,\n", "1: alias 'root' has no address" },
	{ "null address", "root: <>\n",
	  "1: alias 'root': bad address '<>': no address" },
	{ "bad address", "root: a@@example.net\n",
	  "1: alias 'root': bad address 'a@@example.net': invalid domain" },
	{ "trailing comment", "root: admin@example.net # the admin\n",
	  "1: alias 'root': bad address 'admin@example.net # the admin': "
	  "unexpected text after address (a comment must be on a line of "
	  "its own)" },
	{ "unterminated quoted string", "root: \"a@example.net\n",
	  "1: alias 'root': unterminated quoted string" },
	{ "bad address on a continuation line", "root: a@example.net,\n"
	  "  b@example.net,\n  c@@example.net\n",
	  "3: alias 'root': bad address 'c@@example.net': invalid domain" },
	{ "duplicate", "root: a@example.net\n# x\nroot: b@example.net\n",
	  "3: duplicate alias 'root' (first on line 1)" },
	{ "duplicate in another case", "root: a@example.net\nROOT: b@x.net\n",
	  "2: duplicate alias 'root' (first on line 1)" },
	{ "duplicate quoted", "root: a@example.net\n\"Root\": b@x.net\n",
	  "2: duplicate alias 'root' (first on line 1)" },
	{ "continuation first", "  a@example.net\nroot: a@example.net\n",
	  "1: continuation line without an alias before it" },
	{ "continuation after a comment only", "# x\n\ta@example.net\n",
	  "2: continuation line without an alias before it" },
	{ "control character", "root: a@example.net\n\x01: b@example.net\n",
	  "2: control character 0x01" },
	{ "bare CR", "root: a@example.net\rb: c@example.net\n",
	  "1: control character 0x0d" },
	{ "CR CR LF", "root: a@example.net\r\r\n",
	  "1: control character 0x0d" },
	{ "DEL in a comment", "# \x7f\n", "1: control character 0x7f" },
	{ "escape sequence", "root: a@example.net\x1b[0m\n",
	  "1: control character 0x1b" },
};

static void
test_parse_errors(void)
{
	struct aliases *al;
	struct buf want = BUF_INIT;
	char err[1024];
	size_t i;

	T_GROUP("alias_load errors");
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		err[0] = '\0';
		al = load_str(err_cases[i].file, err, sizeof(err));
		T_OK(al == NULL, err_cases[i].name);
		buf_reset(&want);
		buf_printf(&want, "%s:%s", path, err_cases[i].want);
		T_STREQ(err, want.data, err_cases[i].name);
		alias_free(al);
	}

	/* NUL bytes, missing and odd files */
	put("root: a@exa\0mple.net\n", 21);
	al = alias_load(path, 0, err, sizeof(err));
	buf_reset(&want);
	buf_printf(&want, "%s:1: NUL byte", path);
	T_OK(al == NULL, "NUL byte");
	T_STREQ(err, want.data, "NUL byte message");
	al = alias_load(tmpdir, 0, err, sizeof(err));
	buf_reset(&want);
	buf_printf(&want, "%s: %s", tmpdir, strerror(EISDIR));
	T_OK(al == NULL, "directory");
	T_STREQ(err, want.data, "directory message");
	buf_reset(&want);
	buf_printf(&want, "%s/absent", tmpdir);
	al = alias_load(want.data, 0, err, sizeof(err));
	T_OK(al == NULL, "missing file");
	buf_printf(&want, ": %s", strerror(ENOENT));
	T_STREQ(err, want.data, "missing file message");
	buf_reset(&want);
	buf_printf(&want, "%s/absent", tmpdir);
	al = alias_load(want.data, ALIAS_MISSING_OK, err, sizeof(err));
	T_OK(al != NULL && alias_count(al) == 0, "missing file allowed");
	alias_free(al);
	al = alias_load("/dev/null", 0, err, sizeof(err));
	T_OK(al == NULL && strstr(err, "not a regular file") != NULL,
	    "device refused");
	al = alias_load(NULL, 0, err, sizeof(err));
	T_OK(al == NULL && strcmp(err, "no alias file given") == 0, "NULL path");
	al = alias_load("/nonexistent/x", 0, NULL, 0);
	T_OK(al == NULL, "NULL error buffer");
	alias_free(NULL);
	T_OK(alias_count(NULL) == 0, "alias_free and alias_count take NULL");
	buf_free(&want);
}

static void
test_bounds(void)
{
	struct aliases *al;
	struct buf b = BUF_INIT, want = BUF_INIT;
	char err[1024];
	size_t i;

	T_GROUP("alias_load bounds");
	/* a physical line of ALIAS_LINEMAX bytes is the longest */
	buf_addstr(&b, "root: a@example.net, ");
	while (b.len < ALIAS_LINEMAX)
		buf_addch(&b, ' ');
	buf_addstr(&b, "\n");
	al = load_str(b.data, err, sizeof(err));
	T_OK(al != NULL, "line of ALIAS_LINEMAX bytes");
	alias_free(al);
	buf_truncate(&b, b.len - 1);
	buf_addstr(&b, "\r\n");
	al = load_str(b.data, err, sizeof(err));
	T_OK(al != NULL, "line of ALIAS_LINEMAX bytes and CRLF");
	alias_free(al);
	buf_truncate(&b, b.len - 2);
	buf_addstr(&b, " \nx: y@example.net\n");
	al = load_str(b.data, err, sizeof(err));
	buf_printf(&want, "%s:1: line longer than %d bytes", path,
	    ALIAS_LINEMAX);
	T_OK(al == NULL, "line of ALIAS_LINEMAX + 1 bytes");
	T_STREQ(err, want.data, "long line message");

	/* an entry grows by continuation lines up to ALIAS_ENTRYMAX */
	buf_reset(&b);
	buf_addstr(&b, "big: a@example.net\n");
	for (i = 0; i < ALIAS_ENTRYMAX / 1000 + 1; i++) {
		buf_addstr(&b, "  ,");
		while (b.len % 1000 != 999)
			buf_addch(&b, ' ');
		buf_addch(&b, '\n');
	}
	al = load_str(b.data, err, sizeof(err));
	T_OK(al == NULL && strstr(err, "alias longer than") != NULL,
	    "entry longer than ALIAS_ENTRYMAX");
	buf_free(&b);
	buf_free(&want);
}

static void
test_is_local(void)
{
	static const struct {
		const char	*addr;
		bool		 configured, builtin;
	} cases[] = {
		{ "root", true, true },
		{ "www-data", true, true },
		{ "\"a@b\"", true, true },
		{ "root@localhost", true, true },
		{ "root@LocalHost", true, true },
		{ "root@host.example.org", true, false },
		{ "root@HOST.EXAMPLE.ORG", true, false },
		{ "root@example.org", false, false },
		{ "root@localhost.example", false, false },
		{ "root@[127.0.0.1]", false, false },
		{ "\"x@localhost\"@example.net", false, false },
	};
	struct conf c;
	struct buf b = BUF_INIT;
	size_t i;

	T_GROUP("alias_is_local");
	conf_init(&c);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_INTEQ(alias_is_local(&c, cases[i].addr), cases[i].configured,
		    cases[i].addr);
	c.nlocal_domains = 0;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcasecmp(util_fqdn(), "host.example.org") == 0)
			break;
		buf_reset(&b);
		buf_printf(&b, "%s, built-in", cases[i].addr);
		T_INTEQ(alias_is_local(&c, cases[i].addr), cases[i].builtin,
		    b.data);
	}
	buf_reset(&b);
	buf_printf(&b, "root@%s", util_fqdn());
	T_OK(alias_is_local(&c, b.data), "the FQDN is local by default");
	T_OK(alias_is_local(NULL, "root@localhost"), "NULL configuration");
	buf_free(&b);
}

static void
test_resolve(void)
{
	struct aliases *al;
	struct addrlist out = ADDRLIST_INIT;
	struct buf got = BUF_INIT, warns = BUF_INIT, want = BUF_INIT;
	struct conf c;
	char err[1024];

	T_GROUP("alias_resolve");
	conf_init(&c);
	al = load_str("root: \\root, admin@example.net\n"
	    "postmaster: root\n"
	    "h: |/usr/bin/handler, x@example.net\n"
	    "pipeonly: |/usr/bin/handler\n", err, sizeof(err));
	T_OK(al != NULL, "loads");
	if (al == NULL)
		return;
	alias_set_warn(al, collect, &warns);

	/* the administrator takes the local names no alias takes further */
	c.admin_address = sysadmin;
	T_INTEQ(alias_resolve(al, &c, "nobody", &out, err, sizeof(err)), 0,
	    "admin: unknown name");
	T_INTEQ(alias_resolve(al, &c, "postmaster@localhost", &out, err,
	    sizeof(err)), 0, "admin: chain");
	T_INTEQ(alias_resolve(al, &c, "friend@example.org", &out, err,
	    sizeof(err)), 0, "admin: remote");
	joined(&out, &got);
	T_STREQ(got.data, "sysadmin@example.net admin@example.net "
	    "friend@example.org", "admin: results, once each");
	addrlist_free(&out);
	c.admin_address = NULL;

	/* no aliases at all: local names are only qualified */
	T_INTEQ(alias_resolve(NULL, &c, "root", &out, err, sizeof(err)), 0,
	    "no table");
	T_INTEQ(alias_resolve(NULL, &c, "x@localhost", &out, err, sizeof(err)),
	    0, "no table, localhost");
	joined(&out, &got);
	T_STREQ(got.data, "root@example.org x@example.org", "no table results");
	addrlist_free(&out);

	/* skipped targets warn with the line, each time they are met */
	T_INTEQ(alias_resolve(al, &c, "h", &out, err, sizeof(err)), 0,
	    "pipe: resolves");
	joined(&out, &got);
	T_STREQ(got.data, "x@example.net", "pipe: the rest");
	buf_printf(&want, "%s:3: alias 'h': a pipe to a command is not "
	    "supported by postern: '|/usr/bin/handler' (skipped)\n", path);
	T_STREQ(warns.data, want.data, "pipe: warning");
	addrlist_free(&out);
	buf_reset(&warns);
	T_INTEQ(alias_resolve(al, &c, "pipeonly", &out, err, sizeof(err)), 0,
	    "only a pipe: resolves");
	joined(&out, &got);
	T_STREQ(got.data, "pipeonly@example.org", "only a pipe: qualified");
	T_OK(strstr(warns.data, ":4: alias 'pipeonly'") != NULL,
	    "only a pipe: warning");
	addrlist_free(&out);
	buf_reset(&warns);

	/* out already holds addresses: no duplicates are added */
	addrlist_add(&out, "admin@example.net");
	T_INTEQ(alias_resolve(al, &c, "root", &out, err, sizeof(err)), 0,
	    "appends");
	joined(&out, &got);
	T_STREQ(got.data, "admin@example.net root@example.org",
	    "appends without duplicates");
	addrlist_free(&out);
	T_STREQ(warns.data, "", "no warning without a skipped target");
	alias_free(al);
	buf_free(&got);
	buf_free(&warns);
	buf_free(&want);
}

static void
test_depth(void)
{
	struct aliases *al;
	struct addrlist out = ADDRLIST_INIT;
	struct buf b = BUF_INIT;
	struct conf c;
	char err[4096];
	time_t start;
	size_t i;
	int rc;

	T_GROUP("alias nesting");
	conf_init(&c);
	/* a1 -> ... -> a20 -> x: twenty aliases deep is allowed */
	for (i = 1; i < ALIAS_MAXDEPTH; i++)
		buf_printf(&b, "a%zu: a%zu\n", i, i + 1);
	buf_printf(&b, "a%d: x@example.net\n", ALIAS_MAXDEPTH);
	al = load_str(b.data, err, sizeof(err));
	T_OK(al != NULL, "chain of ALIAS_MAXDEPTH loads");
	rc = alias_resolve(al, &c, "a1", &out, err, sizeof(err));
	T_INTEQ(rc, 0, "chain of ALIAS_MAXDEPTH resolves");
	T_INTEQ(out.n, 1, "chain of ALIAS_MAXDEPTH: one address");
	addrlist_free(&out);
	alias_free(al);

	/* one more is an error naming the chain and its first line */
	buf_reset(&b);
	for (i = 1; i <= ALIAS_MAXDEPTH; i++)
		buf_printf(&b, "a%zu: a%zu\n", i, i + 1);
	buf_printf(&b, "a%d: x@example.net\n", ALIAS_MAXDEPTH + 1);
	al = load_str(b.data, err, sizeof(err));
	T_OK(al != NULL, "chain of ALIAS_MAXDEPTH + 1 loads");
	rc = alias_resolve(al, &c, "a1", &out, err, sizeof(err));
	T_INTEQ(rc, -1, "chain of ALIAS_MAXDEPTH + 1 fails");
	buf_reset(&b);
	buf_printf(&b, "%s:1: aliases nest more than %d deep: a1 -> a2 -> ",
	    path, ALIAS_MAXDEPTH);
	T_OK(strncmp(err, b.data, b.len) == 0, "depth message");
	T_OK(strstr(err, "-> a21") != NULL, "depth message names the chain");
	rc = alias_resolve(al, &c, "a2", &out, err, sizeof(err));
	T_INTEQ(rc, 0, "the same chain from its second name resolves");
	addrlist_free(&out);
	alias_free(al);

	/*
	 * Each level lists both names of the next: 2^19 paths. Expanding
	 * each name once per recipient keeps this to 40 entries.
	 */
	buf_reset(&b);
	for (i = 0; i < 19; i++) {
		buf_printf(&b, "n%zu: n%zu, m%zu\n", i, i + 1, i + 1);
		buf_printf(&b, "m%zu: m%zu, n%zu, y%zu@example.net\n", i, i + 1,
		    i + 1, i);
	}
	buf_addstr(&b, "n19: end@example.net\nm19: end@example.net\n");
	al = load_str(b.data, err, sizeof(err));
	T_OK(al != NULL, "fan-out loads");
	start = time(NULL);
	rc = alias_resolve(al, &c, "n0", &out, err, sizeof(err));
	T_INTEQ(rc, 0, "fan-out resolves");
	T_INTEQ(out.n, 19, "fan-out: every address once");
	T_OK(time(NULL) - start < 5, "fan-out is quick");
	addrlist_free(&out);
	alias_free(al);
	buf_free(&b);
}

static void
test_long(void)
{
	struct aliases *al;
	struct addrlist out = ADDRLIST_INIT;
	struct buf b = BUF_INIT;
	struct conf c;
	char err[1024];
	size_t i;
	int rc;

	T_GROUP("long alias files");
	conf_init(&c);
	for (i = 0; i < 50000; i++)
		buf_printf(&b, "user%zu: u%zu@example.net\n", i, i);
	buf_addstr(&b, "all: ");
	for (i = 0; i < 3000; i++)
		buf_printf(&b, "%suser%zu\n", i > 0 ? "  , " : "", i);
	al = load_str(b.data, err, sizeof(err));
	T_OK(al != NULL, "50001 aliases load");
	if (al == NULL) {
		printf("#   %s\n", err);
		buf_free(&b);
		return;
	}
	T_INTEQ(alias_count(al), 50001, "count");
	rc = alias_resolve(al, &c, "USER49999", &out, err, sizeof(err));
	T_INTEQ(rc, 0, "last resolves");
	T_OK(out.n == 1 && strcmp(out.v[0], "u49999@example.net") == 0,
	    "last");
	addrlist_free(&out);
	rc = alias_resolve(al, &c, "all", &out, err, sizeof(err));
	T_INTEQ(rc, 0, "3000-name list resolves");
	T_INTEQ(out.n, 3000, "3000 addresses");
	T_OK(out.n == 3000 && strcmp(out.v[2999], "u2999@example.net") == 0,
	    "in order");
	addrlist_free(&out);
	alias_free(al);
	buf_free(&b);
}

static void
test_expand(void)
{
	struct addrlist in = ADDRLIST_INIT, out = ADDRLIST_INIT;
	struct buf got = BUF_INIT, want = BUF_INIT;
	struct conf c;
	char err[1024];
	int rc;

	T_GROUP("alias_expand");
	conf_init(&c);
	put_str("root: admin@example.net\npostmaster: root\n");
	addrlist_add(&in, "root");
	addrlist_add(&in, "postmaster@localhost");
	addrlist_add(&in, "friend@example.net");
	addrlist_add(&in, "admin@example.net");
	addrlist_add(&in, "www-data");
	rc = alias_expand(&c, &in, 0, &out, err, sizeof(err));
	T_INTEQ(rc, 0, "expands");
	joined(&out, &got);
	T_STREQ(got.data, "admin@example.net friend@example.net "
	    "www-data@example.org", "results, once each");
	addrlist_free(&out);

	rc = alias_expand(&c, &in, ALIAS_NOEXPAND, &out, err, sizeof(err));
	T_INTEQ(rc, 0, "ALIAS_NOEXPAND");
	joined(&out, &got);
	T_STREQ(got.data, "root@example.org postmaster@example.org "
	    "friend@example.net admin@example.net www-data@example.org",
	    "ALIAS_NOEXPAND: only qualified");
	addrlist_free(&out);

	/* a broken file stops local recipients only */
	put_str("root admin@example.net\n");
	rc = alias_expand(&c, &in, 0, &out, err, sizeof(err));
	T_INTEQ(rc, -1, "broken file, local recipient");
	buf_printf(&want, "%s:1: missing ':' after the alias name 'root'",
	    path);
	T_STREQ(err, want.data, "broken file message");
	addrlist_free(&out);
	addrlist_free(&in);
	addrlist_add(&in, "friend@example.net");
	addrlist_add(&in, "Other@Example.Com");
	rc = alias_expand(&c, &in, 0, &out, err, sizeof(err));
	T_INTEQ(rc, 0, "broken file, remote recipients");
	joined(&out, &got);
	T_STREQ(got.data, "friend@example.net Other@Example.Com",
	    "remote recipients unchanged");
	addrlist_free(&out);
	addrlist_free(&in);

	/* the file named must exist; the default need not; none is none */
	addrlist_add(&in, "root");
	buf_reset(&want);
	buf_printf(&want, "%s/absent", tmpdir);
	c.alias_file = want.data;
	rc = alias_expand(&c, &in, 0, &out, err, sizeof(err));
	T_INTEQ(rc, -1, "missing file named");
	T_OK(strstr(err, strerror(ENOENT)) != NULL, "missing file message");
	c.alias_file_optional = true;
	rc = alias_expand(&c, &in, 0, &out, err, sizeof(err));
	T_INTEQ(rc, 0, "missing default file");
	c.alias_file = NULL;
	rc = alias_expand(&c, &in, 0, &out, err, sizeof(err));
	T_INTEQ(rc, 0, "alias_file none");
	joined(&out, &got);
	T_STREQ(got.data, "root@example.org", "no file: qualified");
	addrlist_free(&out);
	addrlist_free(&in);

	/* empty input */
	rc = alias_expand(&c, &in, 0, &out, err, sizeof(err));
	T_OK(rc == 0 && out.n == 0, "no recipients");
	buf_free(&got);
	buf_free(&want);
}

static void
test_check(void)
{
	struct conf c;
	struct buf want = BUF_INIT;
	char *r;
	int rc;

	T_GROUP("alias_check");
	r = check_str("# fine\nroot: admin@example.net\npostmaster: root\n"
	    "self: self\nkeep: \\keep, a@example.net\n", &rc);
	T_INTEQ(rc, 0, "clean file");
	T_STREQ(r, "", "clean file: nothing said");
	free(r);

	/* every problem is reported, in file order, and the check goes on */
	r = check_str("root admin@example.net\n"
	    "h: |/usr/bin/h, /var/log/h, x@example.net,\n"
	    "  b@@example.net\n"
	    "ok: x@example.net\n"
	    "ok: y@example.net\n"
	    "mm: \"|/var/lib/mailman/mail/mailman post mm\"\n"
	    "z\x01: x@example.net\n"
	    "inc: :include:/etc/list\n", &rc);
	T_INTEQ(rc, -1, "broken file");
	buf_printf(&want,
	    "test_alias: %s:1: missing ':' after the alias name 'root'\n"
	    "test_alias: %s:2: warning: alias 'h': a pipe to a command is not "
	    "supported by postern: '|/usr/bin/h' (skipped)\n"
	    "test_alias: %s:2: warning: alias 'h': delivery to a file is not "
	    "supported by postern: '/var/log/h' (skipped)\n"
	    "test_alias: %s:3: alias 'h': bad address 'b@@example.net': "
	    "invalid domain\n"
	    "test_alias: %s:5: duplicate alias 'ok' (first on line 4)\n"
	    "test_alias: %s:6: warning: alias 'mm': a pipe to a command is not "
	    "supported by postern: '\"|/var/lib/mailman/mail/mailman post mm\"' "
	    "(skipped)\n"
	    "test_alias: %s:7: control character 0x01\n"
	    "test_alias: %s:8: warning: alias 'inc': an :include: file is not "
	    "supported by postern: ':include:/etc/list' (skipped)\n",
	    path, path, path, path, path, path, path, path);
	T_STREQ(r, want.data, "broken file: every problem");
	free(r);

	/* unsupported targets alone are warnings */
	r = check_str("mm: |/usr/bin/mm\nerr: error:nouser gone\n", &rc);
	T_INTEQ(rc, 0, "warnings only: success");
	T_OK(strstr(r, "warning: alias 'err': an error: target is not "
	    "supported") != NULL, "error: target named");
	free(r);

	/* loops: once each, from their first name; a name listing itself
	 * is not one */
	r = check_str("self: self, x@example.net\n"
	    "a: b\nb: c\nc: a, x@example.net\n"
	    "d: d2\nd2: d\n"
	    "e: a\n", &rc);
	T_INTEQ(rc, 0, "loops are warnings");
	buf_reset(&want);
	buf_printf(&want,
	    "test_alias: %s:2: warning: alias loop a -> b -> c -> a: 'a' is "
	    "not expanded again\n"
	    "test_alias: %s:5: warning: alias loop d -> d2 -> d: 'd' is not "
	    "expanded again\n", path, path);
	T_STREQ(r, want.data, "each loop once");
	free(r);

	/* nesting too deep is an error */
	buf_reset(&want);
	{
		struct buf f = BUF_INIT;
		size_t i;

		for (i = 1; i <= ALIAS_MAXDEPTH; i++)
			buf_printf(&f, "a%zu: a%zu\n", i, i + 1);
		buf_printf(&f, "a%d: x@example.net\n", ALIAS_MAXDEPTH + 1);
		r = check_str(f.data, &rc);
		buf_free(&f);
	}
	T_INTEQ(rc, -1, "too deep: error");
	buf_printf(&want, "test_alias: %s:1: aliases nest more than %d deep: "
	    "a1 -> a2 -> ", path, ALIAS_MAXDEPTH);
	T_OK(strncmp(r, want.data, want.len) == 0, "too deep: message");
	T_OK(strchr(r, '\n') != NULL && strchr(r, '\n')[1] == '\0',
	    "too deep: one line, for the one name it breaks");
	free(r);

	/* missing files, none */
	conf_init(&c);
	buf_reset(&want);
	buf_printf(&want, "%s/absent", tmpdir);
	T_INTEQ(alias_check(want.data, ALIAS_MISSING_OK, &c, stdout), 0,
	    "missing default file");
	c.alias_file = want.data;
	c.alias_file_optional = true;
	T_INTEQ(alias_check_conf(&c, stdout), 0, "missing default file, conf");
	c.alias_file = NULL;
	T_INTEQ(alias_check_conf(&c, stdout), 0, "alias_file none");
	{
		FILE *fp = tmpfile();
		char line[512] = "";

		c.alias_file = want.data;
		c.alias_file_optional = false;
		T_INTEQ(alias_check_conf(&c, fp), -1, "missing file named");
		rewind(fp);
		if (fgets(line, sizeof(line), fp) == NULL)
			line[0] = '\0';
		T_OK(strstr(line, "/absent: ") != NULL &&
		    strstr(line, strerror(ENOENT)) != NULL,
		    "missing file named: message");
		fclose(fp);
	}
	buf_free(&want);
}

int
main(void)
{
	log_init("test_alias");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/aliases", tmpdir);
	test_parse_ok();
	test_parse_errors();
	test_bounds();
	test_is_local();
	test_resolve();
	test_depth();
	test_long();
	test_expand();
	test_check();
	(void)unlink(path);
	if (rmdir(tmpdir) == -1)
		fprintf(stderr, "test_alias: rmdir %s: %s\n", tmpdir,
		    strerror(errno));
	return t_done();
}
