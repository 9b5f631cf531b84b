/*
 * test_conf.c: unit tests of conf.c. Table cases for each value parser
 * (valid, garbage, empty, boundary), then conf_load on files written to a
 * private directory under /tmp, which is removed at the end.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "t.h"

#define MAXFILES	64

static void	 skip(const char *, const char *);
static const char *tpath(const char *);
static void	 put(const char *, const char *, size_t, mode_t);
static void	 put_str(const char *, const char *, mode_t);
static int	 load(const char *, size_t, struct conf *, char *, size_t);
static void	 expect_err(const char *, const char *, unsigned long,
		    const char *);
static void	 expect_err_mem(const char *, const char *, size_t,
		    unsigned long, const char *);
static void	 expect_ok(const char *, const char *);
static void	 cleanup(void);
static void	 test_hostport(void);
static void	 test_hostport_long(void);
static void	 test_bool(void);
static void	 test_tls(void);
static void	 test_mechanism(void);
static void	 test_path(void);
static void	 test_port(void);
static void	 test_load_all(void);
static void	 test_load_defaults(void);
static void	 test_load_syntax(void);
static void	 test_load_errors(void);
static void	 test_load_limits(void);
static void	 test_load_auth(void);
static void	 test_load_files(void);
static void	 test_sample(void);
static void	 test_address(void);
static void	 test_scope(void);
static void	 test_log_level(void);
static void	 test_load_local(void);
static void	 test_load_local_errors(void);
static void	 test_accounts(void);
static void	 test_accounts_errors(void);
static void	 test_route(void);
static void	 test_oauth_ca(void);

static char	 tmpdir[] = "/tmp/test_conf.XXXXXX";
static char	*files[MAXFILES];
static size_t	 nfiles;
static char	*dirs[MAXFILES];
static size_t	 ndirs;

static void
skip(const char *name, const char *why)
{
	printf("SKIP: %s: %s (%s)\n", t_group, name, why);
}

/* tmpdir/name, remembered for cleanup(); the pointer stays valid. */
static const char *
tpath(const char *name)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_printf(&b, "%s/%s", tmpdir, name);
	for (i = 0; i < nfiles; i++) {
		if (strcmp(files[i], b.data) == 0) {
			buf_free(&b);
			return files[i];
		}
	}
	if (nfiles == MAXFILES) {
		fprintf(stderr, "test_conf: too many files\n");
		exit(2);
	}
	files[nfiles] = buf_detach(&b, NULL);
	return files[nfiles++];
}

static void
put(const char *path, const char *data, size_t len, mode_t mode)
{
	FILE *fp;

	/* A fresh file: the old one may have been left without write access. */
	(void)unlink(path);
	if ((fp = fopen(path, "w")) == NULL ||
	    fwrite(data, 1, len, fp) != len || fclose(fp) != 0 ||
	    chmod(path, mode) == -1) {
		fprintf(stderr, "test_conf: %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

static void
put_str(const char *path, const char *data, mode_t mode)
{
	put(path, data, strlen(data), mode);
}

/* Writes data to tmpdir/t.conf and loads it with must_exist. */
static int
load(const char *data, size_t len, struct conf *c, char *err, size_t errlen)
{
	const char *path = tpath("t.conf");

	put(path, data, len, 0644);
	return conf_load(c, path, true, err, errlen);
}

static void
expect_err_mem(const char *name, const char *data, size_t len,
    unsigned long line, const char *want)
{
	struct conf c;
	struct buf prefix = BUF_INIT, full = BUF_INIT;
	char err[1024];
	int rc;

	rc = load(data, len, &c, err, sizeof(err));
	buf_printf(&prefix, "%s:%lu: ", tpath("t.conf"), line);
	buf_printf(&full, "%s%s", prefix.data, want);
	T_INTEQ(rc, -1, name);
	T_STREQ(err, full.data, name);
	T_OK(c.path == NULL && c.spool_dir == NULL && c.nsmarthosts == 0,
	    name);
	conf_free(&c);
	buf_free(&prefix);
	buf_free(&full);
}

/* Loading data fails on line with exactly the message want. */
static void
expect_err(const char *name, const char *data, unsigned long line,
    const char *want)
{
	expect_err_mem(name, data, strlen(data), line, want);
}

static void
expect_ok(const char *name, const char *data)
{
	struct conf c;
	char err[1024];
	int rc;

	err[0] = '\0';
	rc = load(data, strlen(data), &c, err, sizeof(err));
	T_INTEQ(rc, 0, name);
	if (rc != 0)
		printf("#   %s\n", err);
	conf_free(&c);
}

static void
cleanup(void)
{
	size_t i;

	for (i = 0; i < nfiles; i++)
		(void)unlink(files[i]);
	for (i = ndirs; i > 0; i--) {
		(void)chmod(dirs[i - 1], 0700);
		(void)rmdir(dirs[i - 1]);
	}
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	if (rmdir(tmpdir) == -1)
		fprintf(stderr, "test_conf: rmdir %s: %s\n", tmpdir,
		    strerror(errno));
}

static const struct {
	const char	*in;
	int		 rc;
	const char	*host;	/* rc 0: the host; rc -1: the message */
	unsigned	 port;
} hostports[] = {
	{ "mail.example.org", 0, "mail.example.org", 0 },
	{ "mail.example.org:587", 0, "mail.example.org", 587 },
	{ "Mail.Example.ORG", 0, "Mail.Example.ORG", 0 },
	{ "localhost", 0, "localhost", 0 },
	{ "xn--bcher-kva.example", 0, "xn--bcher-kva.example", 0 },
	{ "123.example", 0, "123.example", 0 },
	{ "a-b.c-d.example:25", 0, "a-b.c-d.example", 25 },
	{ "a:1", 0, "a", 1 },
	{ "a:65535", 0, "a", 65535 },
	{ "a:025", 0, "a", 25 },
	{ "192.0.2.1", 0, "192.0.2.1", 0 },
	{ "192.0.2.1:2525", 0, "192.0.2.1", 2525 },
	{ "[::1]", 0, "::1", 0 },
	{ "[::1]:25", 0, "::1", 25 },
	{ "[2001:db8::1]:465", 0, "2001:db8::1", 465 },
	{ "[::ffff:192.0.2.1]:25", 0, "::ffff:192.0.2.1", 25 },
	{ "a:0", -1, "bad port '0'", 0 },
	{ "a:65536", -1, "bad port '65536'", 0 },
	{ "a:70000", -1, "bad port '70000'", 0 },
	{ "a:18446744073709551617", -1, "bad port '18446744073709551617'",
	  0 },
	{ "a:-1", -1, "bad port '-1'", 0 },
	{ "a:+25", -1, "bad port '+25'", 0 },
	{ "a: 25", -1, "bad port ' 25'", 0 },
	{ "a:0x19", -1, "bad port '0x19'", 0 },
	{ "host:25x", -1, "bad port '25x'", 0 },
	{ "host:", -1, "missing port after ':' in 'host:'", 0 },
	{ ":25", -1, "missing host before ':' in ':25'", 0 },
	{ ":", -1, "missing host before ':' in ':'", 0 },
	{ "", -1, "empty host", 0 },
	{ "::1", -1, "IPv6 address '::1' needs brackets, as in '[::1]'", 0 },
	{ "2001:db8::1:25", -1, "IPv6 address '2001:db8::1:25' needs "
	  "brackets, as in '[2001:db8::1:25]'", 0 },
	{ "a:b:c", -1, "bad host 'a:b:c'", 0 },
	{ "[::1", -1, "missing ']' in '[::1'", 0 },
	{ "[]", -1, "empty host in '[]'", 0 },
	{ "[]:25", -1, "empty host in '[]:25'", 0 },
	{ "[::1]25", -1, "unexpected text after ']' in '[::1]25'", 0 },
	{ "[::1]:", -1, "missing port after ':' in '[::1]:'", 0 },
	{ "[::1]:0", -1, "bad port '0'", 0 },
	{ "[::g]", -1, "bad IPv6 address '::g'", 0 },
	{ "[192.0.2.1]", -1, "bad IPv6 address '192.0.2.1'", 0 },
	{ "[fe80::1%eth0]", -1, "bad IPv6 address 'fe80::1%eth0'", 0 },
	{ "[mail.example.org]", -1, "bad IPv6 address 'mail.example.org'",
	  0 },
	{ "192.0.2.256", -1, "bad IPv4 address '192.0.2.256'", 0 },
	{ "1.2.3", -1, "bad IPv4 address '1.2.3'", 0 },
	{ "1.2.3.4.5", -1, "bad IPv4 address '1.2.3.4.5'", 0 },
	{ "example.123", -1, "bad host name 'example.123'", 0 },
	{ "a..b", -1, "bad host name 'a..b'", 0 },
	{ ".a", -1, "bad host name '.a'", 0 },
	{ "a.", -1, "bad host name 'a.'", 0 },
	{ "-a.example", -1, "bad host name '-a.example'", 0 },
	{ "a-.example", -1, "bad host name 'a-.example'", 0 },
	{ "a_b.example", -1, "bad host name 'a_b.example'", 0 },
	{ "a b", -1, "bad host name 'a b'", 0 },
	{ "a\nb", -1, "bad host name 'a?b'", 0 },
	{ "caf\xc3\xa9.example", -1, "bad host name 'caf??.example'", 0 },
	{ "mail.example.org:25:", -1, "bad host 'mail.example.org:25:'", 0 },
};

static void
test_hostport(void)
{
	struct hostport hp;
	char err[256], name[128];
	size_t i;
	int rc;

	T_GROUP("conf_parse_hostport");
	for (i = 0; i < sizeof(hostports) / sizeof(hostports[0]); i++) {
		snprintf(name, sizeof(name), "case %zu", i);
		err[0] = '\0';
		rc = conf_parse_hostport(hostports[i].in, &hp, err,
		    sizeof(err));
		T_INTEQ(rc, hostports[i].rc, name);
		if (hostports[i].rc == 0) {
			T_STREQ(hp.host, hostports[i].host, name);
			T_INTEQ(hp.port, hostports[i].port, name);
		} else {
			T_STREQ(err, hostports[i].host, name);
			T_OK(hp.host == NULL && hp.port == 0, name);
		}
		free(hp.host);
	}
	rc = conf_parse_hostport(NULL, &hp, err, sizeof(err));
	T_INTEQ(rc, -1, "NULL");
	T_STREQ(err, "empty host", "NULL message");
	rc = conf_parse_hostport("a:0", &hp, NULL, 0);
	T_INTEQ(rc, -1, "NULL err buffer");
	rc = conf_parse_hostport("a:0", &hp, err, 4);
	T_STREQ(err, "bad", "message truncated to the buffer");
}

static void
test_hostport_long(void)
{
	struct hostport hp;
	struct buf b = BUF_INIT;
	char err[256];
	size_t i;
	int rc;

	T_GROUP("conf_parse_hostport long");
	/* A 63-byte label is the longest. */
	for (i = 0; i < 63; i++)
		buf_addch(&b, 'a');
	buf_addstr(&b, ".example");
	rc = conf_parse_hostport(b.data, &hp, err, sizeof(err));
	T_INTEQ(rc, 0, "63-byte label");
	free(hp.host);
	buf_reset(&b);
	for (i = 0; i < 64; i++)
		buf_addch(&b, 'a');
	buf_addstr(&b, ".example");
	rc = conf_parse_hostport(b.data, &hp, err, sizeof(err));
	T_INTEQ(rc, -1, "64-byte label");

	/* 253 bytes in all is the longest name: 63 x 4 labels is 255. */
	buf_reset(&b);
	for (i = 0; i < 253; i++)
		buf_addch(&b, i % 64 == 63 ? '.' : 'a');
	T_INTEQ(b.len, 253, "253-byte name built");
	rc = conf_parse_hostport(b.data, &hp, err, sizeof(err));
	T_INTEQ(rc, 0, "253-byte name");
	free(hp.host);
	buf_addstr(&b, "a");
	rc = conf_parse_hostport(b.data, &hp, err, sizeof(err));
	T_INTEQ(rc, -1, "254-byte name");

	/* A huge value is refused and quoted short. */
	buf_reset(&b);
	for (i = 0; i < 10000; i++)
		buf_addch(&b, 'x');
	buf_addstr(&b, ":25");
	rc = conf_parse_hostport(b.data, &hp, err, sizeof(err));
	T_INTEQ(rc, -1, "10000-byte name");
	T_OK(strlen(err) < 80 && strstr(err, "...'") != NULL,
	    "10000-byte name quoted short");
	buf_reset(&b);
	buf_addstr(&b, "a:");
	for (i = 0; i < 10000; i++)
		buf_addch(&b, '9');
	rc = conf_parse_hostport(b.data, &hp, err, sizeof(err));
	T_INTEQ(rc, -1, "10000-digit port");
	T_OK(strncmp(err, "bad port '999", 13) == 0 && strlen(err) < 80,
	    "10000-digit port message");
	buf_free(&b);
}

static void
test_bool(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		bool		 val;
	} cases[] = {
		{ "yes", 0, true },
		{ "true", 0, true },
		{ "no", 0, false },
		{ "false", 0, false },
		{ "Yes", -1, false },
		{ "YES", -1, false },
		{ "on", -1, false },
		{ "off", -1, false },
		{ "1", -1, false },
		{ "0", -1, false },
		{ "", -1, false },
		{ " yes", -1, false },
		{ "yes ", -1, false },
		{ "yess", -1, false },
		{ "y", -1, false },
	};
	char err[128], name[64];
	size_t i;
	bool v;
	int rc;

	T_GROUP("conf_parse_bool");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "'%s'", cases[i].in);
		v = !cases[i].val;
		rc = conf_parse_bool(cases[i].in, &v, err, sizeof(err));
		T_INTEQ(rc, cases[i].rc, name);
		if (cases[i].rc == 0)
			T_INTEQ(v, cases[i].val, name);
	}
	v = true;
	rc = conf_parse_bool("maybe", &v, err, sizeof(err));
	T_STREQ(err, "bad boolean 'maybe'", "message");
	T_INTEQ(v, true, "unchanged on error");
	rc = conf_parse_bool(NULL, &v, err, sizeof(err));
	T_INTEQ(rc, -1, "NULL");
}

static void
test_tls(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		enum conf_tls	 val;
	} cases[] = {
		{ "starttls", 0, CONF_TLS_STARTTLS },
		{ "smtps", 0, CONF_TLS_SMTPS },
		{ "none", 0, CONF_TLS_NONE },
		{ "STARTTLS", -1, 0 },
		{ "tls", -1, 0 },
		{ "ssl", -1, 0 },
		{ "yes", -1, 0 },
		{ "", -1, 0 },
		{ "none ", -1, 0 },
		{ "smtps\n", -1, 0 },
	};
	char err[128], name[64];
	enum conf_tls v;
	size_t i;
	int rc;

	T_GROUP("conf_parse_tls");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "case %zu", i);
		v = CONF_TLS_NONE;
		rc = conf_parse_tls(cases[i].in, &v, err, sizeof(err));
		T_INTEQ(rc, cases[i].rc, name);
		if (cases[i].rc == 0)
			T_INTEQ(v, cases[i].val, name);
		else
			T_INTEQ(v, CONF_TLS_NONE, name);
	}
	rc = conf_parse_tls("smtps\n", &v, err, sizeof(err));
	T_STREQ(err, "bad tls mode 'smtps?'", "message is printable");
	rc = conf_parse_tls(NULL, &v, err, sizeof(err));
	T_INTEQ(rc, -1, "NULL");
}

static void
test_mechanism(void)
{
	static const struct {
		const char	*in;
		bool		 known;
	} cases[] = {
		{ "PLAIN", true },
		{ "plain", true },
		{ "LOGIN", true },
		{ "Cram-Md5", true },
		{ "CRAM-MD5", true },
		{ "SCRAM-SHA-256", true },
		{ "scram-sha-1", true },
		{ "XOAUTH2", true },
		{ "OAUTHBEARER", true },
		{ "SCRAM-SHA-512", false },
		{ "SCRAM-SHA-256-PLUS", false },
		{ "DIGEST-MD5", false },
		{ "ANONYMOUS", false },
		{ "", false },
		{ "PLAIN ", false },
		{ "PLAINX", false },
	};
	size_t i;

	T_GROUP("conf_mechanism_known");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_INTEQ(conf_mechanism_known(cases[i].in), cases[i].known,
		    cases[i].in);
	T_INTEQ(conf_mechanism_known(NULL), false, "NULL");
	T_GROUP("conf_mechanism_token");
	T_OK(conf_mechanism_token("XOAUTH2"), "XOAUTH2 takes a token");
	T_OK(conf_mechanism_token("oauthbearer"), "OAUTHBEARER too");
	T_OK(!conf_mechanism_token("SCRAM-SHA-256"), "SCRAM does not");
	T_OK(!conf_mechanism_token("PLAIN"), "PLAIN does not");
	T_OK(!conf_mechanism_token("NTLM"), "unknown: no");
	T_OK(!conf_mechanism_token(NULL), "NULL: no");
}

static void
test_path(void)
{
	bool ex;

	T_GROUP("conf_path");
	unsetenv("POSTERN_CONFIG");
	ex = true;
	T_STREQ(conf_path(NULL, &ex), PST_SYSCONFDIR "/postern.conf",
	    "compiled-in");
	T_INTEQ(ex, false, "compiled-in is not explicit");
	T_STREQ(conf_path("/x.conf", &ex), "/x.conf", "-C");
	T_INTEQ(ex, true, "-C is explicit");
	setenv("POSTERN_CONFIG", "/env.conf", 1);
	ex = false;
	T_STREQ(conf_path(NULL, &ex), "/env.conf", "environment");
	T_INTEQ(ex, true, "environment is explicit");
	T_STREQ(conf_path("/x.conf", &ex), "/x.conf", "-C beats environment");
	setenv("POSTERN_CONFIG", "", 1);
	ex = true;
	T_STREQ(conf_path(NULL, &ex), PST_SYSCONFDIR "/postern.conf",
	    "empty environment ignored");
	T_INTEQ(ex, false, "empty environment is not explicit");
	T_STREQ(conf_path(NULL, NULL), PST_SYSCONFDIR "/postern.conf",
	    "explicit may be NULL");
	unsetenv("POSTERN_CONFIG");
}

static void
test_port(void)
{
	struct conf c;
	struct hostport hp = { (char *)"h", 0 };

	T_GROUP("conf_port");
	memset(&c, 0, sizeof(c));
	c.tls = CONF_TLS_STARTTLS;
	T_INTEQ(conf_port(&c, &hp), 587, "starttls");
	c.tls = CONF_TLS_SMTPS;
	T_INTEQ(conf_port(&c, &hp), 465, "smtps");
	c.tls = CONF_TLS_NONE;
	T_INTEQ(conf_port(&c, &hp), 25, "none");
	hp.port = 2525;
	T_INTEQ(conf_port(&c, &hp), 2525, "explicit port");
	c.tls = CONF_TLS_SMTPS;
	T_INTEQ(conf_port(&c, &hp), 2525, "explicit port beats smtps");
}

static void
test_load_all(void)
{
	struct conf c;
	struct buf b = BUF_INIT;
	const char *pw = tpath("pw"), *ca = tpath("ca.pem");
	const char *tls_none = "tls none\ntls_verify true\n";
	char err[1024];
	int rc;

	T_GROUP("conf_load every key");
	put_str(pw, "secret\n", 0600);
	put_str(ca, "not really PEM\n", 0644);
	buf_printf(&b,
	    "smarthost a.example:2525 [2001:db8::1]:465\n"
	    "smarthost 192.0.2.7\n"
	    "smarthost\tb.example\n"
	    "tls smtps\n"
	    "tls_verify no\n"
	    "tls_ca_file %s\n"
	    "auth_user alice@example.org\n"
	    "auth_password_file %s\n"
	    "auth_mechanisms cram-md5 Plain\n"
	    "auth_mechanisms LOGIN\n"
	    "spool_dir /var/spool/elsewhere\n"
	    "helo_name relay.example.org\n"
	    "domain example.org\n", ca, pw);
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "loads");
	if (rc != 0) {
		printf("#   %s\n", err);
		buf_free(&b);
		return;
	}
	T_STREQ(c.path, tpath("t.conf"), "path");
	T_INTEQ(c.nsmarthosts, 4, "smarthosts accumulate");
	T_STREQ(c.smarthosts[0].host, "a.example", "smarthost 1 host");
	T_INTEQ(c.smarthosts[0].port, 2525, "smarthost 1 port");
	T_STREQ(c.smarthosts[1].host, "2001:db8::1", "smarthost 2 host");
	T_INTEQ(c.smarthosts[1].port, 465, "smarthost 2 port");
	T_STREQ(c.smarthosts[2].host, "192.0.2.7", "smarthost 3 host");
	T_INTEQ(c.smarthosts[2].port, 0, "smarthost 3 port");
	T_STREQ(c.smarthosts[3].host, "b.example", "smarthost 4 host");
	T_INTEQ(conf_port(&c, &c.smarthosts[3]), 465, "smtps default port");
	T_INTEQ(c.tls, CONF_TLS_SMTPS, "tls");
	T_INTEQ(c.tls_verify, false, "tls_verify");
	T_STREQ(c.tls_ca_file, ca, "tls_ca_file");
	T_STREQ(c.auth_user, "alice@example.org", "auth_user");
	T_STREQ(c.auth_password_file, pw, "auth_password_file");
	T_INTEQ(c.nauth_mechanisms, 3, "auth_mechanisms accumulate");
	T_STREQ(c.auth_mechanisms[0], "CRAM-MD5", "mechanism 1 upper case");
	T_STREQ(c.auth_mechanisms[1], "PLAIN", "mechanism 2 upper case");
	T_STREQ(c.auth_mechanisms[2], "LOGIN", "mechanism 3");
	T_STREQ(c.spool_dir, "/var/spool/elsewhere", "spool_dir");
	T_STREQ(c.helo_name, "relay.example.org", "helo_name");
	T_STREQ(c.domain, "example.org", "domain");
	conf_free(&c);
	T_OK(c.path == NULL && c.smarthosts == NULL && c.nsmarthosts == 0 &&
	    c.spool_dir == NULL, "conf_free resets");
	conf_free(&c);
	conf_free(NULL);
	T_OK(1, "conf_free twice and on NULL");

	/* tls_verify true, tls none. */
	rc = load(tls_none, strlen(tls_none), &c, err, sizeof(err));
	T_INTEQ(rc, 0, "tls none");
	T_INTEQ(c.tls, CONF_TLS_NONE, "tls none value");
	T_INTEQ(c.tls_verify, true, "tls_verify true");
	conf_free(&c);
	buf_free(&b);
}

static void
test_load_defaults(void)
{
	struct conf c;
	char err[1024];
	int rc;

	T_GROUP("conf_load defaults");
	rc = load("", 0, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "empty file");
	T_STREQ(c.path, tpath("t.conf"), "path of an empty file");
	T_INTEQ(c.nsmarthosts, 0, "no smarthost");
	T_OK(c.smarthosts == NULL, "no smarthost array");
	T_INTEQ(c.tls, CONF_TLS_STARTTLS, "tls starttls");
	T_INTEQ(c.tls_verify, true, "tls_verify yes");
	T_OK(c.tls_ca_file == NULL, "tls_ca_file none");
	T_OK(c.auth_user == NULL, "auth_user none");
	T_OK(c.auth_password_file == NULL, "auth_password_file none");
	T_INTEQ(c.nauth_mechanisms, 0, "auth_mechanisms built-in");
	T_STREQ(c.spool_dir, PST_SPOOLDIR, "spool_dir");
	T_OK(c.helo_name == NULL, "helo_name FQDN");
	T_OK(c.domain == NULL, "domain from mailname");
	T_STREQ(c.alias_file, "/etc/aliases", "alias_file /etc/aliases");
	T_OK(c.alias_file_optional, "the default alias_file may be missing");
	T_OK(c.admin_address == NULL, "admin_address none");
	T_INTEQ(c.nlocal_domains, 0, "local_domains built-in");
	T_OK(c.rewrite_sender == NULL, "rewrite_sender none");
	T_INTEQ(c.rewrite_scope, CONF_SCOPE_LOCAL, "rewrite_scope local");
	T_INTEQ(c.rewrite_from, true, "rewrite_from yes");
	conf_free(&c);

	rc = conf_load(&c, tpath("absent.conf"), false, err, sizeof(err));
	T_INTEQ(rc, 0, "missing file, optional");
	T_OK(c.path == NULL, "missing file: path NULL");
	T_STREQ(c.spool_dir, PST_SPOOLDIR, "missing file: spool_dir");
	T_INTEQ(c.tls, CONF_TLS_STARTTLS, "missing file: tls");
	T_INTEQ(c.tls_verify, true, "missing file: tls_verify");
	T_STREQ(c.alias_file, "/etc/aliases", "missing file: alias_file");
	T_OK(c.alias_file_optional, "missing file: alias_file optional");
	T_INTEQ(c.rewrite_from, true, "missing file: rewrite_from");
	conf_free(&c);

	rc = conf_load(&c, tpath("absent.conf"), true, err, sizeof(err));
	T_INTEQ(rc, -1, "missing file, required");
	{
		struct buf w = BUF_INIT;

		buf_printf(&w, "%s: %s", tpath("absent.conf"),
		    strerror(ENOENT));
		T_STREQ(err, w.data, "missing file message");
		buf_free(&w);
	}
	T_OK(c.spool_dir == NULL, "missing file, required: nothing kept");
	conf_free(&c);

	rc = conf_load(&c, NULL, false, err, sizeof(err));
	T_INTEQ(rc, -1, "NULL path");
}

static void
test_load_syntax(void)
{
	struct conf c;
	struct buf b = BUF_INIT;
	const char *s;
	char err[1024];
	size_t i;
	int rc;

	T_GROUP("conf_load syntax");
	expect_err("'#' not after a blank is part of the value",
	    "# a comment\n"
	    "smarthost a.example # fine\n"
	    "tls none#not a comment\n", 3,
	    "more than one value for 'tls'");
	expect_err("'#' not after a blank is part of the value 2",
	    "tls none#x\n", 1,
	    "bad tls mode 'none#x' in tls; expected starttls, smtps or none");

	s = "# a comment\n"
	    "\n"
	    "   \t \n"
	    "#smarthost commented.example\n"
	    "  smarthost a.example   # the main one\n"
	    "\tsmarthost b.example:26\t#backup\n"
	    "tls none # comment\n"
	    "##\n";
	rc = load(s, strlen(s), &c, err, sizeof(err));
	T_INTEQ(rc, 0, "comments, blank lines and indentation");
	T_INTEQ(c.nsmarthosts, 2, "comments: two smarthosts");
	if (c.nsmarthosts == 2) {
		T_STREQ(c.smarthosts[0].host, "a.example", "comments: first");
		T_STREQ(c.smarthosts[1].host, "b.example", "comments: second");
		T_INTEQ(c.smarthosts[1].port, 26, "comments: second port");
	}
	T_INTEQ(c.tls, CONF_TLS_NONE, "comments: tls");
	conf_free(&c);

	s = "smarthost a.example\r\ntls smtps\r\n\r\n# x\r\n"
	    "domain example.org";
	rc = load(s, strlen(s), &c, err, sizeof(err));
	T_INTEQ(rc, 0, "CRLF, last line without an end");
	T_INTEQ(c.nsmarthosts, 1, "CRLF: smarthost");
	T_INTEQ(c.tls, CONF_TLS_SMTPS, "CRLF: tls");
	T_STREQ(c.domain, "example.org", "CRLF: last line");
	conf_free(&c);

	s = "tls smtps\r";
	rc = load(s, strlen(s), &c, err, sizeof(err));
	T_INTEQ(rc, 0, "CR at the end of the file");
	T_INTEQ(c.tls, CONF_TLS_SMTPS, "CR at the end: tls");
	conf_free(&c);

	s = "smarthost a.example\nsmarthost b.example c.example\n"
	    "smarthost d.example\n";
	rc = load(s, strlen(s), &c, err, sizeof(err));
	T_INTEQ(rc, 0, "repeated smarthost lines");
	T_INTEQ(c.nsmarthosts, 4, "repeated smarthost: count");
	for (i = 0; i < c.nsmarthosts && i < 4; i++) {
		buf_reset(&b);
		buf_printf(&b, "%c.example", (int)('a' + i));
		T_STREQ(c.smarthosts[i].host, b.data,
		    "repeated smarthost: order");
	}
	conf_free(&c);
	buf_free(&b);

	expect_ok("many blanks between key and value",
	    "tls \t  \t smtps\t \n");
	expect_ok("non-ASCII in a comment", "# r\xc3\xa9sum\xc3\xa9\n");
	expect_ok("tab in a comment", "#\tx\n");
}

static void
test_load_errors(void)
{
	const char *pw = tpath("pw600"), *ca = tpath("ca2.pem");
	struct buf b = BUF_INIT, w = BUF_INIT;

	T_GROUP("conf_load errors");
	put_str(pw, "secret\n", 0600);
	put_str(ca, "x\n", 0644);
	expect_err("unknown key", "tls none\n\nsmart_host a.example\n", 3,
	    "unknown key 'smart_host'");
	expect_err("keys are lower case", "TLS none\n", 1,
	    "unknown key 'TLS'");
	expect_err("key=value", "tls=none\n", 1, "unknown key 'tls=none'");
	expect_err("missing value", "# x\ntls\n", 2, "missing value for 'tls'");
	expect_err("missing value, blanks", "tls \t \n", 1,
	    "missing value for 'tls'");
	expect_err("missing value, comment", "smarthost # none\n", 1,
	    "missing value for 'smarthost'");
	expect_err("duplicate key", "tls none\n# x\ntls smtps\n", 3,
	    "duplicate key 'tls' (first given on line 1)");
	expect_err("duplicate key, same value", "domain a.example\n"
	    "domain a.example\n", 2,
	    "duplicate key 'domain' (first given on line 1)");
	expect_err("two values", "spool_dir /a /b\n", 1,
	    "more than one value for 'spool_dir'");
	expect_err("bad port", "smarthost a.example\nsmarthost b.example:70000"
	    "\n", 2, "bad port '70000' in smarthost");
	expect_err("bad port, second on the line",
	    "smarthost a.example b.example:0\n", 1,
	    "bad port '0' in smarthost");
	expect_err("bare IPv6 smarthost", "smarthost ::1\n", 1,
	    "IPv6 address '::1' needs brackets, as in '[::1]' in smarthost");
	expect_err("'#' inside a smarthost", "smarthost a.example#1\n", 1,
	    "bad host name 'a.example#1' in smarthost");
	expect_err("duplicate smarthost", "smarthost a.example:25\n"
	    "smarthost b.example A.EXAMPLE:25\n", 2,
	    "duplicate smarthost 'A.EXAMPLE:25'");
	expect_err("bad tls", "tls ssl\n", 1,
	    "bad tls mode 'ssl' in tls; expected starttls, smtps or none");
	expect_err("bad tls_verify", "tls_verify on\n", 1,
	    "bad boolean 'on' in tls_verify; expected yes or no");
	expect_err("relative tls_ca_file", "tls_ca_file ca.pem\n", 1,
	    "path 'ca.pem' in tls_ca_file is not absolute");
	buf_printf(&b, "tls_ca_file %s/none.pem\n", tmpdir);
	buf_printf(&w, "tls_ca_file %s/none.pem: %s", tmpdir,
	    strerror(ENOENT));
	expect_err("missing tls_ca_file", b.data, 1, w.data);
	buf_reset(&b);
	buf_reset(&w);
	buf_printf(&b, "tls_ca_file %s\n", tmpdir);
	buf_printf(&w, "tls_ca_file %s is not a regular file", tmpdir);
	expect_err("directory as tls_ca_file", b.data, 1, w.data);
	expect_err("unknown mechanism", "auth_mechanisms PLAIN DIGEST-MD5\n",
	    1, "unknown mechanism 'DIGEST-MD5' in auth_mechanisms; "
	    "expected CRAM-MD5, LOGIN, OAUTHBEARER, PLAIN, SCRAM-SHA-1, "
	    "SCRAM-SHA-256 or XOAUTH2");
	expect_err("mechanism not implemented",
	    "auth_mechanisms SCRAM-SHA-512\n", 1,
	    "unknown mechanism 'SCRAM-SHA-512' in auth_mechanisms; "
	    "expected CRAM-MD5, LOGIN, OAUTHBEARER, PLAIN, SCRAM-SHA-1, "
	    "SCRAM-SHA-256 or XOAUTH2");
	expect_err("duplicate mechanism on a line",
	    "auth_mechanisms plain PLAIN\n", 1,
	    "duplicate mechanism 'PLAIN' in auth_mechanisms");
	expect_err("duplicate mechanism across lines",
	    "auth_mechanisms LOGIN\nauth_mechanisms login\n", 2,
	    "duplicate mechanism 'LOGIN' in auth_mechanisms");
	expect_err("relative spool_dir", "spool_dir var/spool\n", 1,
	    "path 'var/spool' in spool_dir is not absolute");
	expect_err("relative auth_password_file", "auth_user u\n"
	    "auth_password_file pw\n", 2,
	    "path 'pw' in auth_password_file is not absolute");
	expect_err("bad helo_name", "helo_name bad_name.example\n", 1,
	    "bad host name 'bad_name.example' in helo_name");
	expect_err("helo_name IP", "helo_name 192.0.2.1\n", 1,
	    "bad host name '192.0.2.1' in helo_name");
	expect_err("helo_name address literal", "helo_name [192.0.2.1]\n", 1,
	    "bad host name '[192.0.2.1]' in helo_name");
	expect_err("bad domain", "domain example.org.\n", 1,
	    "bad host name 'example.org.' in domain");
	expect_err("domain with port", "domain example.org:25\n", 1,
	    "bad host name 'example.org:25' in domain");
	expect_err_mem("NUL byte", "tls none\ndom\0ain x\n", 19, 2,
	    "NUL byte");
	expect_err_mem("NUL byte in a comment", "#\0\n", 3, 1, "NUL byte");
	expect_err("control character", "tls none\n\ntls_verify\x01 yes\n", 3,
	    "control character 0x01");
	expect_err("control character in a comment", "# bell \a\n", 1,
	    "control character 0x07");
	expect_err("bare CR", "tls\rnone\n", 1, "control character 0x0d");
	expect_err("CR CR LF", "tls none\r\r\n", 1, "control character 0x0d");
	expect_err("DEL", "# \x7f\n", 1, "control character 0x7f");
	expect_err("ESC", "helo_name a\x1b[0m\n", 1, "control character 0x1b");
	expect_err("form feed", "\f\n", 1, "control character 0x0c");
	expect_err("vertical tab", "tls\vnone\n", 1, "control character 0x0b");

	/* Checks across keys name the line of the key that is present. */
	expect_err("auth_user alone", "tls none\nauth_user bob\n", 2,
	    "auth_user without auth_password_file, auth_password_command, "
	    "auth_token_command or oauth_token_url");
	expect_err("auth_password_command alone",
	    "auth_password_command echo x\n", 1,
	    "auth_password_command without auth_user");
	expect_err("auth_token_command alone", "tls none\n"
	    "auth_token_command echo x\n", 2,
	    "auth_token_command without auth_user");
	buf_reset(&b);
	buf_printf(&b, "\n\nauth_password_file %s\n", pw);
	expect_err("auth_password_file alone", b.data, 3,
	    "auth_password_file without auth_user");
	expect_err("auth_mechanisms alone", "auth_mechanisms PLAIN\n", 1,
	    "auth_mechanisms without auth_user");
	buf_free(&b);
	buf_free(&w);
}

static void
test_load_limits(void)
{
	struct buf b = BUF_INIT;
	size_t i;

	T_GROUP("conf_load limits");
	/* A line of 4096 bytes, not counting its end, is the longest. */
	buf_addstr(&b, "tls none\n#");
	for (i = 1; i < 4096; i++)
		buf_addch(&b, 'x');
	buf_addstr(&b, "\n");
	expect_ok("4096-byte line", b.data);
	buf_truncate(&b, b.len - 1);
	buf_addstr(&b, "\r\n");
	expect_ok("4096-byte line with CRLF", b.data);
	buf_truncate(&b, b.len - 2);
	expect_ok("4096-byte last line without an end", b.data);
	buf_addstr(&b, "x\n");
	expect_err("4097-byte line", b.data, 2,
	    "line longer than 4096 bytes");
	buf_truncate(&b, b.len - 1);
	buf_addstr(&b, "\r\n");
	expect_err("4097-byte line with CRLF", b.data, 2,
	    "line longer than 4096 bytes");
	buf_truncate(&b, b.len - 2);
	for (i = 0; i < 100000; i++)
		buf_addch(&b, 'y');
	buf_addstr(&b, "\ntls none\n");
	expect_err("100 kB line", b.data, 2, "line longer than 4096 bytes");

	/* The long unknown key is quoted short. */
	buf_reset(&b);
	for (i = 0; i < 200; i++)
		buf_addch(&b, 'k');
	buf_addstr(&b, " v\n");
	expect_err("long unknown key", b.data, 1, "unknown key "
	    "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'");

	/* 32 smarthosts at most. */
	buf_reset(&b);
	for (i = 0; i < 32; i++)
		buf_printf(&b, "smarthost h%zu.example\n", i);
	expect_ok("32 smarthosts", b.data);
	buf_addstr(&b, "smarthost one-too-many.example\n");
	expect_err("33 smarthosts", b.data, 33,
	    "more than 32 entries in smarthost");
	buf_free(&b);
}

/* auth_password_command, auth_token_command and what goes with them. */
static void
test_load_commands(void)
{
	struct conf c;
	struct buf b = BUF_INIT;
	const char *pw = tpath("cmd-password");
	char err[1024];
	int rc;

	T_GROUP("conf_load secret commands");
	buf_addstr(&b, "auth_user bob\nauth_password_command  pass show "
	    "mail/relay | head -n 1 \t\n");
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "auth_password_command with blanks loads");
	T_STREQ(c.auth_password_command, "pass show mail/relay | head -n 1",
	    "the rest of the line, trimmed");
	T_OK(c.auth_password_file == NULL && c.auth_token_command == NULL,
	    "nothing else set");
	conf_free(&c);
	buf_reset(&b);
	buf_addstr(&b, "auth_user bob\nauth_token_command oauth2l fetch "
	    "--scope mail # comment\n");
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "auth_token_command loads");
	T_STREQ(c.auth_token_command, "oauth2l fetch --scope mail",
	    "comment after a blank dropped");
	conf_free(&c);
	expect_ok("token command and XOAUTH2", "auth_user bob\n"
	    "auth_token_command /bin/get-token\nauth_mechanisms XOAUTH2\n");
	expect_ok("both commands, mixed list", "auth_user bob\n"
	    "auth_token_command /bin/get-token\n"
	    "auth_password_command /bin/get-pw\n"
	    "auth_mechanisms OAUTHBEARER SCRAM-SHA-256\n");
	expect_ok("a list with one usable mechanism", "auth_user bob\n"
	    "auth_password_command /bin/get-pw\n"
	    "auth_mechanisms XOAUTH2 PLAIN\n");
	expect_err("duplicate auth_password_command", "auth_user bob\n"
	    "auth_password_command a\nauth_password_command b\n", 3,
	    "duplicate key 'auth_password_command' (first given on line 2)");
	expect_err("auth_password_command without a value", "auth_user bob\n"
	    "auth_password_command   \n", 2,
	    "missing value for 'auth_password_command'");
	put_str(pw, "secret\n", 0600);
	buf_reset(&b);
	buf_printf(&b, "auth_user bob\nauth_password_file %s\n"
	    "auth_password_command /bin/get-pw\n", pw);
	expect_err("password file and command", b.data, 3,
	    "auth_password_file and auth_password_command exclude each other");
	buf_reset(&b);
	buf_printf(&b, "auth_user bob\nauth_password_command /bin/get-pw\n"
	    "auth_password_file %s\n", pw);
	expect_err("password command and file", b.data, 3,
	    "auth_password_file and auth_password_command exclude each other");
	expect_err("XOAUTH2 without a token", "auth_user bob\n"
	    "auth_password_command /bin/get-pw\n"
	    "auth_mechanisms XOAUTH2 OAUTHBEARER\n", 3,
	    "auth_mechanisms names no mechanism for the configured secret "
	    "(OAUTHBEARER and XOAUTH2 need auth_token_command or "
	    "oauth_token_url)");
	expect_err("only password mechanisms with a token", "auth_user bob\n"
	    "auth_token_command /bin/get-token\n"
	    "auth_mechanisms SCRAM-SHA-256 PLAIN\n", 3,
	    "auth_mechanisms names no mechanism for the configured secret "
	    "(with auth_token_command: OAUTHBEARER or XOAUTH2)");
	buf_free(&b);
}

/* The built-in OAuth 2.0 client's keys and their checks across keys. */
static void
test_load_oauth(void)
{
	struct conf c;
	struct buf b = BUF_INIT, w = BUF_INIT;
	const char *sec = tpath("oauth-secret"), *rt = tpath("oauth-refresh");
	const char *open = tpath("oauth-open");
	const char *url =
	    "oauth_token_url https://oauth2.googleapis.com/token\n";
	char err[1024];
	int rc;

	T_GROUP("conf_load oauth");
	put_str(sec, "s3cret\n", 0600);
	put_str(rt, "1//refresh\n", 0600);
	put_str(open, "1//refresh\n", 0644);

	/* refresh-token grant with a client secret, as Google's */
	buf_printf(&b, "auth_user me@gmail.com\n%s"
	    "oauth_client_id 123-x.apps.googleusercontent.com\n"
	    "oauth_client_secret_file %s\noauth_refresh_token_file %s\n"
	    "oauth_scope \t https://mail.google.com/  \n"
	    "auth_mechanisms XOAUTH2\n", url, sec, rt);
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "refresh-token grant loads");
	if (rc != 0)
		printf("#   %s\n", err);
	T_STREQ(c.oauth_token_url, "https://oauth2.googleapis.com/token",
	    "oauth_token_url");
	T_STREQ(c.oauth_client_id, "123-x.apps.googleusercontent.com",
	    "oauth_client_id");
	T_STREQ(c.oauth_client_secret_file, sec, "oauth_client_secret_file");
	T_STREQ(c.oauth_refresh_token_file, rt, "oauth_refresh_token_file");
	T_STREQ(c.oauth_scope, "https://mail.google.com/", "one scope, trimmed");
	T_OK(c.auth_token_command == NULL, "no token command");
	T_OK(c.oauth_ca_file == NULL, "oauth_ca_file: none, as tls_ca_file");
	conf_free(&c);
	T_OK(c.oauth_token_url == NULL && c.oauth_scope == NULL,
	    "conf_free resets the oauth keys");

	/* several scopes, a public client (no secret) */
	buf_reset(&b);
	buf_printf(&b, "auth_user u@example.com\noauth_token_url "
	    "https://login.microsoftonline.com/common/oauth2/v2.0/token\n"
	    "oauth_client_id 0f1e2d3c\noauth_refresh_token_file %s\n"
	    "oauth_scope https://outlook.office.com/SMTP.Send \t "
	    "offline_access # comment\n", rt);
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "public client loads");
	T_STREQ(c.oauth_scope, "https://outlook.office.com/SMTP.Send "
	    "offline_access", "scopes joined by one space");
	T_OK(c.oauth_client_secret_file == NULL, "no client secret");
	conf_free(&c);

	/* client-credentials grant; a port and an IPv6 literal */
	buf_reset(&b);
	buf_printf(&b, "auth_user u\noauth_token_url HTTPS://[::1]:8443/t?x=1\n"
	    "oauth_client_id cid\noauth_client_secret_file %s\n", sec);
	expect_ok("client-credentials grant, IPv6 URL", b.data);

	/* with a password too: the mechanism decides */
	buf_reset(&b);
	buf_printf(&b, "auth_user u\n%soauth_client_id cid\n"
	    "oauth_refresh_token_file %s\nauth_password_file %s\n"
	    "auth_mechanisms XOAUTH2 PLAIN\n", url, rt, sec);
	expect_ok("token URL and password file", b.data);

	/* bad values */
	expect_err("http URL", "auth_user u\n"
	    "oauth_token_url http://example.com/token\n", 2,
	    "oauth_token_url 'http://example.com/token' must start with "
	    "https://");
	expect_err("URL with credentials", "auth_user u\n"
	    "oauth_token_url https://u:p@example.com/token\n", 2,
	    "oauth_token_url must have no user information (@) or "
	    "fragment (#)");
	expect_err("URL with a fragment", "auth_user u\n"
	    "oauth_token_url https://example.com/token#x\n", 2,
	    "oauth_token_url must have no user information (@) or "
	    "fragment (#)");
	expect_err("URL without a host", "oauth_token_url https:///token\n", 1,
	    "empty host in oauth_token_url");
	expect_err("URL with a bad port",
	    "oauth_token_url https://example.com:99999/\n", 1,
	    "bad port '99999' in oauth_token_url");
	expect_err("URL with a bad host",
	    "oauth_token_url https://bad_host/\n", 1,
	    "bad host name 'bad_host' in oauth_token_url");
	expect_err("two URLs", "oauth_token_url https://a.example/ "
	    "https://b.example/\n", 1,
	    "more than one value for 'oauth_token_url'");
	expect_err("two client IDs", "oauth_client_id a b\n", 1,
	    "more than one value for 'oauth_client_id'");
	expect_err("scope with a quote", "oauth_scope a \"b\"\n", 1,
	    "bad character in oauth_scope");
	expect_err("duplicate oauth_scope", "oauth_scope a\noauth_scope b\n",
	    2, "duplicate key 'oauth_scope' (first given on line 1)");
	buf_reset(&b);
	buf_printf(&b, "auth_user u\n%soauth_client_id cid\n"
	    "oauth_refresh_token_file %s\n", url, open);
	buf_reset(&w);
	buf_printf(&w, "oauth_refresh_token_file %s is accessible by group or "
	    "others (chmod 600 it)", open);
	expect_err("refresh token file readable by others", b.data, 4, w.data);
	expect_err("relative refresh token file", "auth_user u\n"
	    "oauth_refresh_token_file rt\n", 2,
	    "path 'rt' in oauth_refresh_token_file is not absolute");
	buf_reset(&b);
	buf_printf(&b, "oauth_client_secret_file %s/none\n", tmpdir);
	buf_reset(&w);
	buf_printf(&w, "oauth_client_secret_file %s/none: %s", tmpdir,
	    strerror(ENOENT));
	expect_err("missing client secret file", b.data, 1, w.data);

	buf_reset(&b);
	buf_printf(&b, "%s/oauth-link", tmpdir);
	(void)unlink(b.data);
	T_OK(symlink(rt, b.data) == 0, "symlink made");
	buf_reset(&w);
	buf_printf(&w, "oauth_refresh_token_file %s/oauth-link is a symbolic "
	    "link", tmpdir);
	buf_reset(&b);
	buf_printf(&b, "oauth_refresh_token_file %s/oauth-link\n", tmpdir);
	expect_err("refresh token file that is a symbolic link", b.data, 1,
	    w.data);
	buf_reset(&b);
	buf_printf(&b, "%s/oauth-link", tmpdir);
	(void)unlink(b.data);

	/* checks across keys */
	buf_reset(&b);
	buf_printf(&b, "auth_user u\n%s\noauth_refresh_token_file %s\n",
	    url, rt);
	expect_err("token URL without a client ID", b.data, 2,
	    "oauth_token_url without oauth_client_id");
	buf_reset(&b);
	buf_printf(&b, "%soauth_client_id cid\noauth_refresh_token_file %s\n",
	    url, rt);
	expect_err("token URL without auth_user", b.data, 1,
	    "oauth_token_url without auth_user");
	buf_reset(&b);
	buf_printf(&b, "auth_user u\n\n%soauth_client_id cid\n", url);
	expect_err("no grant", b.data, 3, "oauth_token_url needs "
	    "oauth_refresh_token_file (refresh-token grant) or "
	    "oauth_client_secret_file (client-credentials grant)");
	expect_err("client ID without the URL", "auth_user u\n"
	    "auth_token_command x\noauth_client_id cid\n", 3,
	    "oauth_client_id without oauth_token_url");
	expect_err("scope without the URL", "auth_user u\n"
	    "auth_token_command x\n\noauth_scope s\n", 4,
	    "oauth_scope without oauth_token_url");
	buf_reset(&b);
	buf_printf(&b, "auth_user u\nauth_token_command x\n\n\n"
	    "oauth_refresh_token_file %s\n", rt);
	expect_err("refresh token file without the URL", b.data, 5,
	    "oauth_refresh_token_file without oauth_token_url");
	buf_reset(&b);
	buf_printf(&b, "auth_user u\n%soauth_client_id cid\n"
	    "oauth_refresh_token_file %s\nauth_token_command x\n", url, rt);
	expect_err("token URL and token command", b.data, 5,
	    "oauth_token_url and auth_token_command exclude each other");
	buf_reset(&b);
	buf_printf(&b, "auth_user u\nauth_token_command x\n%s"
	    "oauth_client_id cid\noauth_refresh_token_file %s\n", url, rt);
	expect_err("token command and token URL", b.data, 3,
	    "oauth_token_url and auth_token_command exclude each other");
	buf_reset(&b);
	buf_printf(&b, "auth_user u\n%soauth_client_id cid\n"
	    "oauth_refresh_token_file %s\nauth_mechanisms PLAIN LOGIN\n",
	    url, rt);
	expect_err("only password mechanisms with a token URL", b.data, 5,
	    "auth_mechanisms names no mechanism for the configured secret "
	    "(with oauth_token_url: OAUTHBEARER or XOAUTH2)");

	/* the front-end leaves the files to the worker */
	buf_reset(&b);
	buf_printf(&b, "auth_user u\n%soauth_client_id cid\n"
	    "oauth_refresh_token_file %s\n"
	    "oauth_client_secret_file %s/none\n", url, open, tmpdir);
	put_str(tpath("t.conf"), b.data, 0644);
	rc = conf_load(&c, tpath("t.conf"), CONF_MUST_EXIST |
	    CONF_SECRETS_LATER, err, sizeof(err));
	T_INTEQ(rc, 0, "CONF_SECRETS_LATER: unsafe or missing files load");
	if (rc != 0)
		printf("#   %s\n", err);
	conf_free(&c);
	buf_free(&b);
	buf_free(&w);
}

static void
test_load_auth(void)
{
	struct conf c;
	struct buf b = BUF_INIT, w = BUF_INIT;
	const char *pw = tpath("password");
	char err[1024];
	int rc;

	T_GROUP("conf_load auth_password_file");
	buf_printf(&b, "auth_user bob\nauth_password_file %s\n", pw);

	put_str(pw, "secret\n", 0600);
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "mode 0600 accepted");
	T_STREQ(c.auth_password_file, pw, "mode 0600 path");
	conf_free(&c);

	put_str(pw, "secret\n", 0400);
	expect_ok("mode 0400 accepted", b.data);

	buf_printf(&w, "auth_password_file %s is accessible by group or "
	    "others (chmod 600 it)", pw);
	put_str(pw, "secret\n", 0644);
	expect_err("mode 0644 refused", b.data, 2, w.data);
	put_str(pw, "secret\n", 0640);
	expect_err("mode 0640 refused", b.data, 2, w.data);
	put_str(pw, "secret\n", 0604);
	expect_err("mode 0604 refused", b.data, 2, w.data);
	put_str(pw, "secret\n", 0601);
	expect_err("mode 0601 refused", b.data, 2, w.data);
	put_str(pw, "secret\n", 0610);
	expect_err("mode 0610 refused", b.data, 2, w.data);

	(void)unlink(pw);
	buf_reset(&w);
	buf_printf(&w, "auth_password_file %s: %s", pw, strerror(ENOENT));
	expect_err("missing refused", b.data, 2, w.data);

	buf_reset(&b);
	buf_reset(&w);
	buf_printf(&b, "auth_user bob\nauth_password_file %s\n", tmpdir);
	buf_printf(&w, "auth_password_file %s is not a regular file", tmpdir);
	expect_err("directory refused", b.data, 2, w.data);

	/* Where stat() gets EACCES, only the delivery worker can tell. */
	if (geteuid() == 0)
		skip("EACCES accepted", "running as root");
	else {
		const char *d = tpath("closed");

		if (mkdir(d, 0700) == -1) {
			perror(d);
			exit(2);
		}
		dirs[ndirs++] = (char *)d;
		buf_reset(&b);
		buf_printf(&b, "auth_user bob\nauth_password_file %s/pw\n", d);
		put_str(tpath("closed/pw"), "secret\n", 0600);
		chmod(d, 0);
		expect_ok("EACCES accepted", b.data);
		chmod(d, 0700);
		(void)unlink(tpath("closed/pw"));
	}
	buf_free(&b);
	buf_free(&w);
}

static void
test_load_files(void)
{
	struct conf c;
	struct buf w = BUF_INIT;
	const char *p;
	char err[1024];
	int rc;

	T_GROUP("conf_load the file itself");
	rc = conf_load(&c, tmpdir, false, err, sizeof(err));
	T_INTEQ(rc, -1, "directory");
	buf_printf(&w, "%s: %s", tmpdir, strerror(EISDIR));
	T_STREQ(err, w.data, "directory message");
	conf_free(&c);

	p = tpath("fifo");
	if (mkfifo(p, 0600) == -1) {
		perror(p);
		exit(2);
	}
	rc = conf_load(&c, p, true, err, sizeof(err));
	T_INTEQ(rc, -1, "FIFO refused without hanging");
	buf_reset(&w);
	buf_printf(&w, "%s: not a regular file", p);
	T_STREQ(err, w.data, "FIFO message");
	conf_free(&c);

	if (geteuid() == 0)
		skip("unreadable file", "running as root");
	else {
		p = tpath("unreadable.conf");
		put_str(p, "tls none\n", 0);
		rc = conf_load(&c, p, false, err, sizeof(err));
		T_INTEQ(rc, -1, "unreadable file");
		buf_reset(&w);
		buf_printf(&w, "%s: %s", p, strerror(EACCES));
		T_STREQ(err, w.data, "unreadable file message");
		conf_free(&c);
	}

	/* A file name with a newline cannot break the message line. */
	rc = conf_load(&c, "/nonexistent\n/x", true, err, sizeof(err));
	T_INTEQ(rc, -1, "odd file name");
	T_OK(strchr(err, '\n') == NULL, "odd file name: one line");

	/* A previous error message does not linger after success. */
	p = tpath("ok.conf");
	put_str(p, "", 0644);
	strlcpy(err, "stale", sizeof(err));
	rc = conf_load(&c, p, true, err, sizeof(err));
	T_INTEQ(rc, 0, "empty file loads");
	conf_free(&c);
	buf_free(&w);
}

/*
 * The installed sample must load, yield the defaults and show every key;
 * the example of its comments, uncommented, must load too.
 */
static void
test_sample(void)
{
	struct conf c;
	struct buf b = BUF_INIT;
	static const char *const keys[] = { "smarthost", "tls", "tls_verify",
	    "tls_ca_file", "auth_user", "auth_password_file",
	    "auth_mechanisms", "spool_dir", "helo_name", "domain",
	    "connect_timeout", "command_timeout", "data_timeout",
	    "queue_lifetime", "alias_file", "admin_address", "local_domains",
	    "rewrite_sender", "rewrite_scope", "rewrite_from", "log_level" };
	struct buf all = BUF_INIT, w = BUF_INIT;
	const char *top, *pw = tpath("sample-pw");
	char err[1024], line[512];
	size_t i;
	bool example = false;
	FILE *fp;
	int rc;

	T_GROUP("sample postern.conf");
	if ((top = getenv("TOP_SRCDIR")) == NULL || *top == '\0') {
		skip("etc/postern.conf loads", "TOP_SRCDIR not set");
		return;
	}
	buf_printf(&b, "%s/etc/postern.conf", top);
	rc = conf_load(&c, b.data, true, err, sizeof(err));
	T_INTEQ(rc, 0, "etc/postern.conf loads");
	if (rc != 0)
		printf("#   %s\n", err);
	T_INTEQ(c.nsmarthosts, 0, "sample: no smarthost");
	T_INTEQ(c.tls, CONF_TLS_STARTTLS, "sample: tls default");
	T_INTEQ(c.tls_verify, true, "sample: tls_verify default");
	T_STREQ(c.spool_dir, PST_SPOOLDIR, "sample: spool_dir default");
	T_OK(c.auth_user == NULL && c.helo_name == NULL && c.domain == NULL,
	    "sample: the rest unset");
	conf_free(&c);

	/*
	 * The examples at its end, uncommented: the lines after "# Example"
	 * that are "#key ..." or "#  key ..." (in an account), with a
	 * password file of ours.
	 */
	put_str(pw, "secret\n", 0600);
	if ((fp = fopen(b.data, "r")) == NULL) {
		perror(b.data);
		exit(2);
	}
	buf_reset(&b);
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *k = line + 1;

		buf_addstr(&all, line);
		if (strncmp(line, "# Example", 9) == 0)
			example = true;
		if (strncmp(k, "  ", 2) == 0)
			k += 2;
		if (!example || line[0] != '#' || *k < 'a' || *k > 'z')
			continue;
		else if (strncmp(k, "auth_password_file ", 19) == 0)
			buf_printf(&b, "auth_password_file %s\n", pw);
		else
			buf_addstr(&b, k);
	}
	fclose(fp);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		buf_reset(&w);
		buf_printf(&w, "\n#%s ", keys[i]);
		T_OK(strstr(all.data, w.data) != NULL, keys[i]);
	}
	T_OK(strstr(b.data, "smarthost ") != NULL &&
	    strstr(b.data, "auth_user ") != NULL &&
	    strstr(b.data, "auth_password_file ") != NULL,
	    "sample has an example with smarthost and AUTH");
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "sample example loads");
	if (rc != 0)
		printf("#   %s\n", err);
	T_INTEQ(c.nsmarthosts, 2, "sample example: two smarthosts");
	T_INTEQ(c.tls, CONF_TLS_STARTTLS, "sample example: starttls");
	T_INTEQ(c.naccounts, 1, "sample example: an account");
	T_OK(c.naccounts == 1 && c.accounts[0].nsenders > 0 &&
	    c.accounts[0].nsmarthosts == 1 && c.accounts[0].auth_user != NULL,
	    "sample example: the account has senders, smarthost and AUTH");
	conf_free(&c);
	buf_free(&b);
	buf_free(&w);
	buf_free(&all);
}

static void
test_duration(void)
{
	static const struct {
		const char *in;
		long long want;		/* -1: refused */
	} cases[] = {
		{ "30", 30 }, { "30s", 30 }, { "5m", 300 }, { "2h", 7200 },
		{ "5d", 432000 }, { "365d", 31536000 }, { "1", 1 },
		{ "0", -1 }, { "0s", -1 }, { "366d", -1 }, { "", -1 },
		{ "m", -1 }, { "5x", -1 }, { "5mm", -1 }, { "-5", -1 },
		{ " 5", -1 }, { "5 m", -1 }, { "99999999999999999999", -1 },
		{ "31536001", -1 },
	};
	char err[256], name[64];
	unsigned v;
	size_t i;
	int rv;

	T_GROUP("conf_parse_duration");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		rv = conf_parse_duration(cases[i].in, &v, err, sizeof(err));
		snprintf(name, sizeof(name), "'%s'", cases[i].in);
		if (cases[i].want < 0)
			T_OK(rv == -1 && v == 12345 && err[0] != '\0', name);
		else
			T_OK(rv == 0 && v == cases[i].want, name);
	}
}

static void
test_duration_keys(void)
{
	struct conf c;
	char err[512];
	const char *p = tpath("durations.conf");

	T_GROUP("conf_load durations");
	put_str(p, "queue_lifetime 2d\ncommand_timeout 90\n", 0644);
	T_INTEQ(conf_load(&c, p, true, err, sizeof(err)), 0, "loads");
	T_INTEQ(c.queue_lifetime, 172800, "queue_lifetime set");
	T_INTEQ(c.command_timeout, 90, "command_timeout set");
	T_INTEQ(c.connect_timeout, 30, "connect_timeout default 30s");
	T_INTEQ(c.data_timeout, 600, "data_timeout default 10m");
	conf_free(&c);
	put_str(p, "\ndata_timeout soon\n", 0644);
	T_INTEQ(conf_load(&c, p, true, err, sizeof(err)), -1, "bad refused");
	T_OK(strstr(err, ":2: ") != NULL && strstr(err, "data_timeout") != NULL,
	    "error names line and key");
	conf_free(&c);
	unlink(p);
}

static void
test_address(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		const char	*want;	/* rc 0: the address; -1: the message */
	} cases[] = {
		{ "admin@example.org", 0, "admin@example.org" },
		{ "<admin@example.org>", 0, "admin@example.org" },
		{ "Admin <admin@example.org>", 0, "admin@example.org" },
		{ "admin@example.org (the admin)", 0, "admin@example.org" },
		{ "Admin.Name+tag@Example.ORG", 0,
		  "Admin.Name+tag@Example.ORG" },
		{ "\"a b\"@example.org", 0, "\"a b\"@example.org" },
		{ "a@[192.0.2.1]", 0, "a@[192.0.2.1]" },
		{ "", -1, "empty address" },
		{ "<>", -1, "empty address '<>'" },
		{ "root", -1, "address 'root' has no domain" },
		{ "<root>", -1, "address '<root>' has no domain" },
		{ "a@x.example,b@x.example", -1,
		  "more than one address in 'a@x.example,b@x.example'" },
		{ "a@x.example;b@x.example", -1,
		  "more than one address in 'a@x.example;b@x.example'" },
		{ "a@", -1, NULL },
		{ "@x.example", -1, NULL },
		{ "a@@x.example", -1, NULL },
		{ "<a@x.example", -1, NULL },
		{ "a@x.example\nBcc: b@y", -1, NULL },
		{ "a\x01@x.example", -1, NULL },
	};
	struct buf b = BUF_INIT;
	char err[256], name[64], *out;
	size_t i;
	int rc;

	T_GROUP("conf_parse_address");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "case %zu", i);
		err[0] = '\0';
		out = (char *)1;
		rc = conf_parse_address(cases[i].in, &out, err, sizeof(err));
		T_INTEQ(rc, cases[i].rc, name);
		if (cases[i].rc == 0)
			T_STREQ(out, cases[i].want, name);
		else {
			T_OK(out == NULL && err[0] != '\0', name);
			if (cases[i].want != NULL)
				T_STREQ(err, cases[i].want, name);
		}
		if (rc == 0)
			free(out);
	}
	rc = conf_parse_address(NULL, &out, err, sizeof(err));
	T_INTEQ(rc, -1, "NULL");
	T_STREQ(err, "empty address", "NULL message");
	/* 320 bytes is the longest: 64 + '@' + 255. */
	for (i = 0; i < 64; i++)
		buf_addch(&b, 'l');
	buf_addch(&b, '@');
	while (b.len < 320)
		buf_addstr(&b, b.len + 10 <= 320 ? "abcdefghi." : "x");
	rc = conf_parse_address(b.data, &out, err, sizeof(err));
	T_INTEQ(rc, 0, "320 bytes");
	if (rc == 0)
		free(out);
	buf_addch(&b, 'y');
	rc = conf_parse_address(b.data, &out, err, sizeof(err));
	T_INTEQ(rc, -1, "321 bytes");
	T_OK(strstr(err, "longer than 320 bytes") != NULL &&
	    strstr(err, "...") != NULL, "321 bytes: message quotes it short");
	buf_free(&b);
}

static void
test_scope(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		enum conf_scope	 want;
	} cases[] = {
		{ "local", 0, CONF_SCOPE_LOCAL },
		{ "all", 0, CONF_SCOPE_ALL },
		{ "", -1, 0 },
		{ "LOCAL", -1, 0 },
		{ "any", -1, 0 },
		{ "local ", -1, 0 },
		{ "allx", -1, 0 },
	};
	enum conf_scope v;
	char err[256], name[64];
	size_t i;
	int rc;

	T_GROUP("conf_parse_scope");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "'%s'", cases[i].in);
		v = (enum conf_scope)99;
		err[0] = '\0';
		rc = conf_parse_scope(cases[i].in, &v, err, sizeof(err));
		T_INTEQ(rc, cases[i].rc, name);
		if (cases[i].rc == 0)
			T_INTEQ(v, cases[i].want, name);
		else
			T_OK(v == (enum conf_scope)99 &&
			    strncmp(err, "bad scope '", 11) == 0, name);
	}
	rc = conf_parse_scope(NULL, &v, err, sizeof(err));
	T_INTEQ(rc, -1, "NULL");
	T_STREQ(err, "bad scope ''", "NULL message");
}

static void
test_log_level(void)
{
	struct conf c;
	enum conf_log_level v;
	char err[256];
	const char *path = tpath("loglevel");

	T_GROUP("log_level");
	T_INTEQ(conf_parse_log_level("info", &v, err, sizeof(err)), 0, "info");
	T_INTEQ(v, CONF_LOG_INFO, "info value");
	T_INTEQ(conf_parse_log_level("debug", &v, err, sizeof(err)), 0,
	    "debug");
	T_INTEQ(v, CONF_LOG_DEBUG, "debug value");
	T_INTEQ(conf_parse_log_level("DEBUG", &v, err, sizeof(err)), -1,
	    "DEBUG refused");
	T_INTEQ(conf_parse_log_level("verbose", &v, err, sizeof(err)), -1,
	    "verbose refused");
	put_str(path, "domain example.org\n", 0644);
	T_INTEQ(conf_load(&c, path, CONF_MUST_EXIST, err, sizeof(err)), 0,
	    "default loads");
	T_INTEQ(c.log_level, CONF_LOG_INFO, "default is info");
	conf_free(&c);
	put_str(path, "log_level debug\n", 0644);
	T_INTEQ(conf_load(&c, path, CONF_MUST_EXIST, err, sizeof(err)), 0,
	    "log_level debug loads");
	T_INTEQ(c.log_level, CONF_LOG_DEBUG, "log_level debug");
	conf_free(&c);
	put_str(path, "log_level loud\n", 0644);
	T_INTEQ(conf_load(&c, path, CONF_MUST_EXIST, err, sizeof(err)), -1,
	    "log_level loud refused");
	T_OK(strstr(err, ":1: bad log level 'loud' in log_level; expected "
	    "info or debug") != NULL, err);
	conf_free(&c);
}

static void
test_load_local(void)
{
	struct conf c;
	struct buf b = BUF_INIT;
	char err[1024];
	size_t i;
	int rc;

	T_GROUP("conf_load local recipients and rewriting");
	buf_addstr(&b,
	    "alias_file /etc/postern/aliases\n"
	    "admin_address Sysadmin@Example.ORG\n"
	    "local_domains localhost Host.Example.org\n"
	    "local_domains\tintranet.example\n"
	    "rewrite_sender <relay@example.net>\n"
	    "rewrite_scope all\n"
	    "rewrite_from no\n");
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "loads");
	if (rc != 0) {
		printf("#   %s\n", err);
		buf_free(&b);
		return;
	}
	T_STREQ(c.alias_file, "/etc/postern/aliases", "alias_file");
	T_OK(!c.alias_file_optional, "a given alias_file must exist");
	T_STREQ(c.admin_address, "Sysadmin@Example.ORG",
	    "admin_address as written");
	T_INTEQ(c.nlocal_domains, 3, "local_domains accumulate");
	T_STREQ(c.local_domains[0], "localhost", "local domain 1");
	T_STREQ(c.local_domains[1], "host.example.org",
	    "local domain 2 lower case");
	T_STREQ(c.local_domains[2], "intranet.example", "local domain 3");
	T_STREQ(c.rewrite_sender, "relay@example.net",
	    "rewrite_sender without brackets");
	T_INTEQ(c.rewrite_scope, CONF_SCOPE_ALL, "rewrite_scope");
	T_INTEQ(c.rewrite_from, false, "rewrite_from");
	conf_free(&c);
	T_OK(c.alias_file == NULL && c.local_domains == NULL &&
	    c.nlocal_domains == 0 && c.rewrite_sender == NULL,
	    "conf_free resets");

	expect_ok("alias_file none", "alias_file none\n");
	rc = load("alias_file none\n", 16, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "alias_file none loads");
	T_OK(c.alias_file == NULL, "alias_file none: no file");
	T_OK(!c.alias_file_optional, "alias_file none: not the default");
	conf_free(&c);
	/* A given file need not exist when the configuration is read. */
	expect_ok("alias_file missing", "alias_file /nonexistent/aliases\n");
	expect_ok("rewrite_sender alone", "rewrite_sender a@example.net\n");
	expect_ok("rewrite_scope local", "rewrite_sender a@example.net\n"
	    "rewrite_scope local\n");
	expect_ok("rewrite_from yes", "rewrite_from yes\n"
	    "rewrite_sender a@example.net\n");

	/* 64 local domains at most. */
	buf_reset(&b);
	for (i = 0; i < 64; i++)
		buf_printf(&b, "local_domains d%zu.example\n", i);
	expect_ok("64 local domains", b.data);
	buf_addstr(&b, "local_domains one-too-many.example\n");
	expect_err("65 local domains", b.data, 65,
	    "more than 64 entries in local_domains");
	buf_free(&b);
}

static void
test_load_local_errors(void)
{
	T_GROUP("conf_load local recipients and rewriting errors");
	expect_err("relative alias_file", "alias_file aliases\n", 1,
	    "alias_file must be an absolute path or none");
	expect_err("alias_file NONE", "alias_file NONE\n", 1,
	    "alias_file must be an absolute path or none");
	expect_err("two alias files", "alias_file /a /b\n", 1,
	    "more than one value for 'alias_file'");
	expect_err("alias_file twice", "alias_file /a\nalias_file none\n", 2,
	    "duplicate key 'alias_file' (first given on line 1)");
	expect_err("unqualified admin_address", "admin_address root\n", 1,
	    "address 'root' has no domain in admin_address");
	expect_err("admin_address list", "admin_address a@x.example,b@x.example"
	    "\n", 1, "more than one address in 'a@x.example,b@x.example' in "
	    "admin_address");
	expect_err("admin_address with a name", "admin_address Admin "
	    "<a@x.example>\n", 1, "more than one value for 'admin_address'");
	expect_err("admin_address <>", "admin_address <>\n", 1,
	    "empty address '<>' in admin_address");
	expect_err("bad admin_address", "\nadmin_address a@@x.example\n", 2,
	    "bad address 'a@@x.example': invalid domain in "
	    "admin_address");
	expect_err("bad local domain", "local_domains localhost bad_name\n", 1,
	    "bad domain 'bad_name' in local_domains");
	expect_err("local domain with a trailing dot", "local_domains a.\n", 1,
	    "bad domain 'a.' in local_domains");
	expect_err("local domain literal", "local_domains [127.0.0.1]\n", 1,
	    "bad domain '[127.0.0.1]' in local_domains");
	expect_err("duplicate local domain", "local_domains a.example\n"
	    "local_domains A.Example\n", 2,
	    "duplicate domain 'a.example' in local_domains");
	expect_err("unqualified rewrite_sender", "rewrite_sender relay\n", 1,
	    "address 'relay' has no domain in rewrite_sender");
	expect_err("bad rewrite_scope", "rewrite_sender a@x.example\n"
	    "rewrite_scope everything\n", 2,
	    "bad scope 'everything' in rewrite_scope; expected local or all");
	expect_err("bad rewrite_from", "rewrite_sender a@x.example\n"
	    "rewrite_from maybe\n", 2,
	    "bad boolean 'maybe' in rewrite_from; expected yes or no");
	/* Settings that would do nothing name their line. */
	expect_err("rewrite_scope alone", "tls none\nrewrite_scope all\n", 2,
	    "rewrite_scope without rewrite_sender");
	expect_err("rewrite_from alone", "\n\n\nrewrite_from no\n", 4,
	    "rewrite_from without rewrite_sender");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_hostport();
	test_hostport_long();
	test_duration();
	test_duration_keys();
	test_bool();
	test_tls();
	test_mechanism();
	test_load_commands();
	test_load_oauth();
	test_path();
	test_port();
	test_load_all();
	test_load_defaults();
	test_load_syntax();
	test_load_errors();
	test_load_limits();
	test_load_auth();
	test_load_files();
	test_sample();
	test_address();
	test_scope();
	test_log_level();
	test_load_local();
	test_load_local_errors();
	test_accounts();
	test_accounts_errors();
	test_route();
	test_oauth_ca();
	cleanup();
	return t_done();
}

/* Two named accounts after a default one: what each holds. */
static void
test_accounts(void)
{
	struct conf c;
	const struct conf *a, *b;
	char err[1024];
	const char *pw = tpath("acct.pw");
	struct buf t = BUF_INIT;
	int rc;

	T_GROUP("conf_load accounts");
	put_str(pw, "secret\n", 0600);
	buf_printf(&t,
	    "smarthost top.example:587\n"
	    "auth_user topuser\n"
	    "auth_password_file %s\n"
	    "rewrite_sender top@example.org\n"
	    "domain example.org\n"
	    "spool_dir /var/tmp/sp\n"
	    "command_timeout 7m\n"
	    "local_domains example.org other.example\n"
	    "\n"
	    "account work\n"
	    "  senders Alice@Example.COM *@Corp.Example\n"
	    "  senders bob@example.com\n"
	    "  smarthost smtp.office365.com\n"
	    "  tls smtps\n"
	    "  auth_user alice@example.com\n"
	    "  auth_password_command echo x\n"
	    "account home.2\n"
	    "  senders *@home.example\n"
	    "  smarthost [::1]:2525\n"
	    "  tls none\n", pw);
	err[0] = '\0';
	rc = load(t.data, t.len, &c, err, sizeof(err));
	buf_free(&t);
	T_INTEQ(rc, 0, "loads");
	if (rc != 0) {
		printf("#   %s\n", err);
		return;
	}
	T_INTEQ((long)c.naccounts, 2, "two named accounts");
	T_OK(c.account == NULL, "the top level is the default account");
	T_STREQ(conf_account_name(&c), "default", "its name");
	a = &c.accounts[0];
	b = &c.accounts[1];
	T_STREQ(a->account, "work", "first account's name");
	T_STREQ(b->account, "home.2", "second account's name");
	T_INTEQ((long)a->nsenders, 3, "senders lines append");
	T_STREQ(a->senders[0], "Alice@example.com", "domain lower-cased, "
	    "local part kept");
	T_STREQ(a->senders[1], "*@corp.example", "*@domain lower-cased");
	T_STREQ(a->smarthosts[0].host, "smtp.office365.com", "own smarthost");
	T_INTEQ(a->tls, CONF_TLS_SMTPS, "own tls");
	T_INTEQ((long)conf_port(a, &a->smarthosts[0]), 465, "port by its "
	    "own tls");
	T_STREQ(a->auth_user, "alice@example.com", "own auth_user");
	T_OK(a->auth_password_file == NULL, "top's password file not "
	    "inherited");
	T_OK(a->rewrite_sender == NULL, "top's rewrite_sender not inherited");
	T_OK(b->auth_user == NULL, "no auth_user: no AUTH, not top's");
	T_INTEQ(b->tls_verify, true, "per-account default: tls_verify yes");
	T_INTEQ(a->rewrite_from, true, "per-account default: rewrite_from");
	T_INTEQ(a->rewrite_scope, CONF_SCOPE_LOCAL, "per-account default: "
	    "rewrite_scope");
	T_STREQ(a->spool_dir, "/var/tmp/sp", "global spool_dir copied");
	T_STREQ(b->domain, "example.org", "global domain copied");
	T_INTEQ((long)b->command_timeout, 420, "global timeout copied");
	T_INTEQ((long)b->nlocal_domains, 2, "global local_domains copied");
	T_STREQ(b->local_domains[1], "other.example", "local_domains values");
	T_OK(b->path != NULL && strcmp(b->path, c.path) == 0, "path copied");
	T_OK(b->naccounts == 0 && b->accounts == NULL, "no nested accounts");
	T_OK(conf_account(&c, NULL) == &c, "account NULL: top");
	T_OK(conf_account(&c, "default") == &c, "account default: top");
	T_OK(conf_account(&c, "home.2") == b, "account by name");
	T_OK(conf_account(&c, "Home.2") == NULL, "names are case-sensitive");
	T_OK(conf_account(&c, "nosuch") == NULL, "unknown account: NULL");
	conf_free(&c);
	T_OK(c.accounts == NULL && c.naccounts == 0, "conf_free clears");
}

static void
test_accounts_errors(void)
{
	T_GROUP("conf_load account errors");
	expect_err("global key in a section", "account a\nsenders *@a.example"
	    "\nsmarthost h\nspool_dir /x\n", 4, "'spool_dir' is global: put "
	    "it before the first 'account' line");
	expect_err("domain in a section", "account a\ndomain a.example\n", 2,
	    "'domain' is global: put it before the first 'account' line");
	expect_err("senders at top", "senders a@b.example\n", 1, "'senders' "
	    "outside an account: the keys before the first 'account' line "
	    "are the default account, which takes every other sender");
	expect_err("no smarthost", "smarthost h\naccount a\nsenders *@a.example"
	    "\n", 2, "account 'a' has no smarthost");
	expect_err("no senders", "account a\nsmarthost h\naccount b\n"
	    "smarthost h\nsenders *@b.example\n", 1, "account 'a' has no "
	    "senders: no message would go through it");
	expect_err("duplicate account", "account a\nsmarthost h\nsenders "
	    "*@a.example\naccount a\n", 4, "duplicate account 'a' (first "
	    "given on line 1)");
	expect_err("account default", "account default\n", 1, "account name "
	    "'default' is taken: it names the keys before the first "
	    "'account' line");
	expect_err("bad account name", "account -a\n", 1, "bad account name "
	    "'-a': letters, digits, '.', '_' and '-', starting with a letter "
	    "or digit");
	expect_err("account name with a slash", "account a/b\n", 1, "bad "
	    "account name 'a/b': letters, digits, '.', '_' and '-', starting "
	    "with a letter or digit");
	expect_err("account without a name", "account\n", 1, "account takes "
	    "one name");
	expect_err("account with two names", "account a b\n", 1, "account "
	    "takes one name");
	expect_err("long account name", "account "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\n", 1, "account name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "...' is not 1 to 64 bytes long");
	expect_err("pattern in two accounts", "account a\nsmarthost h\n"
	    "senders *@x.example\naccount b\nsmarthost h\nsenders "
	    "*@X.example\n", 6, "sender '*@x.example' already routes to "
	    "account 'a' (line 1)");
	expect_err("pattern twice in one account", "account a\nsmarthost h\n"
	    "senders u@x.example U@X.EXAMPLE\n", 3, "sender 'U@x.example' "
	    "given twice");
	expect_err("bad pattern", "account a\nsenders *x.example\n", 2, "bad "
	    "sender pattern '*x.example': an address or *@domain in senders");
	expect_err("pattern with a bad domain", "account a\nsenders *@-x\n",
	    2, "bad sender pattern '*@-x': an address or *@domain in senders");
	expect_err("unqualified pattern", "account a\nsenders root\n", 2,
	    "address 'root' has no domain in senders");
	expect_err("pattern with brackets", "account a\nsenders <a@b.example>"
	    "\n", 2, "bad sender pattern '<a@b.example>': an address or "
	    "*@domain in senders");
	expect_err("unknown key in a section", "account a\nsmarthst h\n", 2,
	    "unknown key 'smarthst'");
	expect_err("duplicate key in a section", "account a\ntls none\n"
	    "tls smtps\n", 3, "duplicate key 'tls' (first given on line 2)");
	expect_err("cross-key check per account", "auth_user u\n"
	    "auth_password_command x\naccount a\nsmarthost h\nsenders "
	    "*@a.example\nauth_user v\n", 6, "account 'a': auth_user without "
	    "auth_password_file, auth_password_command, auth_token_command or "
	    "oauth_token_url");
	expect_err("rewrite_from without rewrite_sender in a section",
	    "account a\nsmarthost h\nsenders *@a.example\nrewrite_from no\n",
	    4, "account 'a': rewrite_from without rewrite_sender");
	expect_ok("same key at top and in a section", "tls none\naccount a\n"
	    "tls smtps\nsmarthost h\nsenders *@a.example\n");
	expect_ok("a section may repeat a top-level key's list",
	    "smarthost a b\naccount x\nsmarthost c\nsmarthost d\nsenders "
	    "*@a.example\n");
}

static void
test_route(void)
{
	static const char text[] = "smarthost top\n"
	    "account a\nsmarthost ha\nsenders alice@corp.example *@home.example"
	    "\n"
	    "account b\nsmarthost hb\nsenders *@corp.example bob@home.example\n";
	struct conf c;
	char err[1024];
	int rc;

	T_GROUP("conf_route");
	rc = load(text, strlen(text), &c, err, sizeof(err));
	T_INTEQ(rc, 0, "loads");
	if (rc != 0) {
		printf("#   %s\n", err);
		return;
	}
	T_STREQ(conf_account_name(conf_route(&c, "alice@corp.example")), "a",
	    "exact pattern");
	T_STREQ(conf_account_name(conf_route(&c, "ALICE@Corp.Example")), "a",
	    "exact pattern, any case");
	T_STREQ(conf_account_name(conf_route(&c, "carol@corp.example")), "b",
	    "domain pattern");
	T_STREQ(conf_account_name(conf_route(&c, "bob@home.example")), "b",
	    "an exact pattern beats another account's domain pattern");
	T_STREQ(conf_account_name(conf_route(&c, "dave@HOME.example")), "a",
	    "domain pattern, any case");
	T_STREQ(conf_account_name(conf_route(&c, "x@sub.corp.example")),
	    "default", "no subdomains");
	T_STREQ(conf_account_name(conf_route(&c, "x@other.example")),
	    "default", "no match: default");
	T_STREQ(conf_account_name(conf_route(&c, "")), "default",
	    "null sender: default");
	T_STREQ(conf_account_name(conf_route(&c, "\"a@b\"@corp.example")),
	    "b", "quoted local part holding @");
	T_STREQ(conf_account_name(conf_route(&c, "nodomain")), "default",
	    "no domain: default");
	conf_free(&c);
}

/* oauth_ca_file: a CA file, or "system"; only with oauth_token_url. */
static void
test_oauth_ca(void)
{
	struct conf c;
	struct buf b = BUF_INIT;
	const char *sec = tpath("oca-secret"), *ca = tpath("oca.pem");
	char err[1024];
	int rc;

	T_GROUP("conf_load oauth_ca_file");
	put_str(sec, "s3cret\n", 0600);
	put_str(ca, "-----BEGIN CERTIFICATE-----\n", 0644);
	buf_printf(&b, "auth_user u\noauth_token_url https://t.example/token\n"
	    "oauth_client_id id\noauth_client_secret_file %s\n"
	    "oauth_ca_file system\n", sec);
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "system loads");
	T_OK(rc == 0 && c.oauth_ca_file != NULL && c.oauth_ca_file[0] == '\0',
	    "system: stored as \"\"");
	conf_free(&c);
	buf_reset(&b);
	buf_printf(&b, "auth_user u\noauth_token_url https://t.example/token\n"
	    "oauth_client_id id\noauth_client_secret_file %s\n"
	    "oauth_ca_file %s\n", sec, ca);
	rc = load(b.data, b.len, &c, err, sizeof(err));
	T_INTEQ(rc, 0, "a file loads");
	T_STREQ(rc == 0 ? c.oauth_ca_file : "", ca, "a file: its path");
	conf_free(&c);
	buf_free(&b);
	expect_err("oauth_ca_file without oauth_token_url",
	    "oauth_ca_file system\n", 1,
	    "oauth_ca_file without oauth_token_url");
	expect_err("oauth_ca_file relative", "oauth_ca_file ca.pem\n", 1,
	    "path 'ca.pem' in oauth_ca_file is not absolute");
}
