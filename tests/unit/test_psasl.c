/*
 * test_psasl.c: unit tests for psasl.c and base64.c, the SMTP AUTH client
 * mechanisms.
 *
 * base64 against the RFC 4648 section 10 vectors, a binary round trip and
 * a table of refused inputs; the mechanism table and psasl_find;
 * psasl_choose with and without a configured preference; PLAIN against
 * RFC 4616, CRAM-MD5 against the RFC 2195 example, LOGIN in two steps;
 * every failure path, each checked for the password leaking into err.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "psasl.h"
#include "t.h"

/* A password that no error text could contain by accident. */
#define PASS	"tanstaaftanstaaf"

static void	test_base64(void);
static void	test_table(void);
static void	test_choose(void);
static void	test_plain(void);
static void	test_login(void);
static void	test_cram_md5(void);
static void	test_failures(void);
static void	test_wipe(void);
static const char *enc(const char *, size_t);
static const char *esc(const char *);
static bool	no_secret(const char *);

/* s with bytes outside printable ASCII as \xNN, for test names. */
static const char *
esc(const char *s)
{
	static char out[64];
	size_t o = 0;

	for (; *s != '\0' && o + 5 < sizeof(out); s++) {
		if (*s >= 0x20 && *s < 0x7f)
			out[o++] = *s;
		else
			o += snprintf(out + o, sizeof(out) - o, "\\x%02x",
			    (unsigned char)*s);
	}
	out[o] = '\0';
	return out;
}

/* base64 of s[0..n), in a static buffer. */
static const char *
enc(const char *s, size_t n)
{
	static char out[256];
	struct buf b = BUF_INIT;

	base64_encode((const unsigned char *)s, n, &b);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_free(&b);
	return out;
}

/* err must hold neither the password nor its base64 form. */
static bool
no_secret(const char *err)
{
	return strstr(err, PASS) == NULL && strstr(err, "dGFuc3RhYWZ0") ==
	    NULL && strstr(err, "b913a6") == NULL;
}

static void
test_base64(void)
{
	static const struct {
		const char	*plain;
		const char	*b64;
	} vec[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const char *const bad[] = {
		"Zg=", "Zg", "Z", "Z===", "====", "=Zg=", "Zg==Zg==", "Zm9v\n",
		"Zm9v\r\n", " Zm9v", "Zm 9v", "Zm9v====", "Z=g=", "Zm9-",
		"Zm9_", "Zm9v!", "Zh==", "Zm9=", "Zm8=Zm8=", "Zm\xc3\xa9",
	};
	struct buf b = BUF_INIT;
	unsigned char bin[300];
	char name[256];
	size_t i, n;
	bool ok;

	T_GROUP("base64");
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		snprintf(name, sizeof(name), "encode \"%s\"",
		    esc(vec[i].plain));
		T_STREQ(enc(vec[i].plain, strlen(vec[i].plain)), vec[i].b64,
		    name);
		buf_reset(&b);
		snprintf(name, sizeof(name), "decode \"%s\"", esc(vec[i].b64));
		T_INTEQ(base64_decode(vec[i].b64, strlen(vec[i].b64), &b), 0,
		    name);
		T_STREQ(b.data, vec[i].plain, name);
		T_INTEQ(b.len, strlen(vec[i].plain), name);
	}

	/* Every byte value, every length up to 300, both ways. */
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + 3);
	ok = true;
	for (n = 0; n <= sizeof(bin); n++) {
		struct buf e = BUF_INIT;

		base64_encode(bin, n, &e);
		buf_reset(&b);
		ok = ok && e.len == (n + 2) / 3 * 4 &&
		    base64_decode(e.data, e.len, &b) == 0 && b.len == n &&
		    memcmp(b.data, bin, n) == 0;
		buf_free(&e);
	}
	T_OK(ok, "binary round trip, lengths 0..300");

	/* Encoding appends. */
	buf_reset(&b);
	buf_addstr(&b, "AUTH PLAIN ");
	base64_encode((const unsigned char *)"foo", 3, &b);
	T_STREQ(b.data, "AUTH PLAIN Zm9v", "encode appends");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		buf_addstr(&b, "keep");
		snprintf(name, sizeof(name), "refuse \"%s\"", esc(bad[i]));
		T_INTEQ(base64_decode(bad[i], strlen(bad[i]), &b), -1, name);
		snprintf(name, sizeof(name), "refusing \"%s\" leaves out",
		    esc(bad[i]));
		T_OK(b.len == 4 && strcmp(b.data, "keep") == 0, name);
	}
	buf_reset(&b);
	T_INTEQ(base64_decode("Zm\0v", 4, &b), -1, "refuse a NUL byte");
	T_INTEQ(base64_decode("Zm9vYmFy", 8, &b), 0, "decode appends: ok");
	T_INTEQ(base64_decode("Zm8=", 4, &b), 0, "decode appends: ok 2");
	T_STREQ(b.data, "foobarfo", "decode appends");
	buf_free(&b);
}

static void
test_table(void)
{
	size_t i;
	bool ok = true;

	T_GROUP("table");
	T_STREQ(psasl_mechs[0]->name, "CRAM-MD5", "strongest first");
	T_STREQ(psasl_mechs[1]->name, "PLAIN", "then PLAIN");
	T_STREQ(psasl_mechs[2]->name, "LOGIN", "then LOGIN");
	T_OK(psasl_mechs[3] == NULL, "NULL-terminated");
	for (i = 1; psasl_mechs[i] != NULL; i++)
		ok = ok && psasl_mechs[i]->strength <
		    psasl_mechs[i - 1]->strength;
	T_OK(ok, "strengths descend");
	T_OK(psasl_find("PLAIN")->initial, "PLAIN has an initial response");
	T_OK(!psasl_find("LOGIN")->initial, "LOGIN has none");
	T_OK(!psasl_find("CRAM-MD5")->initial, "CRAM-MD5 has none");
	T_STREQ(psasl_find("cram-md5")->name, "CRAM-MD5", "find ignores case");
	T_OK(psasl_find("SCRAM-SHA-256") == NULL, "SCRAM not yet");
	T_OK(psasl_find("PLAI") == NULL, "no prefix match");
	T_OK(psasl_find("") == NULL, "empty name");
	T_OK(psasl_find(NULL) == NULL, "NULL name");
}

static void
test_choose(void)
{
	static const char *const login_plain[] = { "LOGIN", "PLAIN" };
	static const char *const lower[] = { "cram-md5", "plain" };
	static const char *const scram[] = { "SCRAM-SHA-256", "PLAIN" };
	static const char *const cram[] = { "CRAM-MD5" };
	static const char *const unknown[] = { "XOAUTH2", "NTLM" };
	const struct psasl_mech *m;

	T_GROUP("choose");
	m = psasl_choose(NULL, 0, "LOGIN PLAIN CRAM-MD5");
	T_STREQ(m ? m->name : NULL, "CRAM-MD5", "default: strongest");
	m = psasl_choose(NULL, 0, "LOGIN PLAIN XOAUTH2");
	T_STREQ(m ? m->name : NULL, "PLAIN", "default: PLAIN over LOGIN");
	m = psasl_choose(NULL, 0, "login");
	T_STREQ(m ? m->name : NULL, "LOGIN", "default: offered lower case");
	m = psasl_choose(NULL, 0, "NTLM GSSAPI XOAUTH2");
	T_OK(m == NULL, "default: nothing in common");
	m = psasl_choose(NULL, 0, "");
	T_OK(m == NULL, "default: nothing offered");
	m = psasl_choose(NULL, 0, NULL);
	T_OK(m == NULL, "default: NULL offered");
	m = psasl_choose(NULL, 0, "PLAIN-CLIENTTOKEN PLAINX XLOGIN");
	T_OK(m == NULL, "default: no partial-word match");

	m = psasl_choose(login_plain, 2, "PLAIN LOGIN CRAM-MD5");
	T_STREQ(m ? m->name : NULL, "LOGIN", "conf: order wins over strength");
	m = psasl_choose(login_plain, 2, "PLAIN CRAM-MD5");
	T_STREQ(m ? m->name : NULL, "PLAIN", "conf: next offered");
	m = psasl_choose(lower, 2, "PLAIN");
	T_STREQ(m ? m->name : NULL, "PLAIN", "conf: names ignore case");
	m = psasl_choose(scram, 2, "SCRAM-SHA-256 PLAIN");
	T_STREQ(m ? m->name : NULL, "PLAIN", "conf: unimplemented skipped");
	m = psasl_choose(cram, 1, "PLAIN LOGIN");
	T_OK(m == NULL, "conf: nothing in common");
	m = psasl_choose(unknown, 2, "XOAUTH2 NTLM");
	T_OK(m == NULL, "conf: only unknown mechanisms");
	m = psasl_choose(login_plain, 2, "");
	T_OK(m == NULL, "conf: nothing offered");
	m = psasl_choose(login_plain, 2, NULL);
	T_OK(m == NULL, "conf: NULL offered");
}

static void
test_plain(void)
{
	struct psasl s;
	struct buf out = BUF_INIT;
	char err[256];

	T_GROUP("plain");
	psasl_init(&s, psasl_find("PLAIN"), "tim", PASS);
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 1,
	    "initial response");
	/* RFC 4616: "\0tim\0tanstaaftanstaaf". */
	T_STREQ(out.data, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "RFC 4616 form");
	T_STREQ(out.data, enc("\0tim\0" PASS, 21), "the same, encoded here");
	T_INTEQ(s.stepno, 1, "one step taken");
	psasl_wipe(&out);

	T_INTEQ(psasl_respond(&s, "", 0, &out, err, sizeof(err)), -1,
	    "a challenge after the response");
	T_STREQ(err, "unexpected challenge after PLAIN response",
	    "its reason");
	T_OK(no_secret(err), "no secret in err");
	T_INTEQ(out.len, 0, "nothing to send");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), -1,
	    "initial response twice");
	T_OK(no_secret(err), "no secret in err");

	/* Without an initial response: answer the empty challenge. */
	psasl_init(&s, psasl_find("plain"), "tim", PASS);
	T_INTEQ(psasl_respond(&s, "", 0, &out, err, sizeof(err)), 0,
	    "answer to the empty challenge");
	T_STREQ(out.data, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "same response");
	T_STREQ(err, "", "err empty on success");
	psasl_wipe(&out);
	T_INTEQ(psasl_respond(&s, "", 0, &out, err, sizeof(err)), -1,
	    "second challenge refused");
	T_OK(no_secret(err), "no secret in err");
	psasl_wipe(&out);
}

static void
test_login(void)
{
	struct psasl s;
	struct buf out = BUF_INIT;
	char err[256];

	T_GROUP("login");
	psasl_init(&s, psasl_find("LOGIN"), "tim", PASS);
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 0,
	    "no initial response");
	T_INTEQ(out.len, 0, "nothing written");
	T_INTEQ(psasl_respond(&s, "VXNlcm5hbWU6", 12, &out, err,
	    sizeof(err)), 0, "Username: answered");
	T_STREQ(out.data, "dGlt", "with the user name");
	psasl_wipe(&out);
	T_INTEQ(psasl_respond(&s, "UGFzc3dvcmQ6", 12, &out, err,
	    sizeof(err)), 0, "Password: answered");
	T_STREQ(out.data, "dGFuc3RhYWZ0YW5zdGFhZg==", "with the password");
	psasl_wipe(&out);
	T_INTEQ(psasl_respond(&s, "UGFzc3dvcmQ6", 12, &out, err,
	    sizeof(err)), -1, "third challenge refused");
	T_STREQ(err, "unexpected challenge after LOGIN password",
	    "its reason");
	T_OK(no_secret(err), "no secret in err");
	T_INTEQ(out.len, 0, "nothing to send");

	/* The step decides, whatever the challenge says. */
	psasl_init(&s, psasl_find("LOGIN"), "tim", PASS);
	T_INTEQ(psasl_respond(&s, "VXNlciBOYW1lAA==", 16, &out, err,
	    sizeof(err)), 0, "\"User Name\\0\" challenge");
	T_STREQ(out.data, "dGlt", "user name");
	psasl_wipe(&out);
	T_INTEQ(psasl_respond(&s, "", 0, &out, err, sizeof(err)), 0,
	    "empty challenge");
	T_STREQ(out.data, "dGFuc3RhYWZ0YW5zdGFhZg==", "password");
	psasl_wipe(&out);

	psasl_init(&s, psasl_find("LOGIN"), "tim", PASS);
	T_INTEQ(psasl_respond(&s, "UGFzc3dvcmQ6", 12, &out, err,
	    sizeof(err)), 0, "\"Password:\" first");
	T_STREQ(out.data, "dGlt", "still the user name first");
	psasl_wipe(&out);
}

static void
test_cram_md5(void)
{
	static const char chal[] =
	    "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
	struct psasl s;
	struct buf out = BUF_INIT, raw = BUF_INIT;
	char err[256];

	T_GROUP("cram-md5");
	T_STREQ(enc("<1896.697170952@postoffice.reston.mci.net>", 42), chal,
	    "the RFC 2195 challenge in base64");
	psasl_init(&s, psasl_find("CRAM-MD5"), "tim", PASS);
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 0,
	    "no initial response");
	T_INTEQ(psasl_respond(&s, chal, sizeof(chal) - 1, &out, err,
	    sizeof(err)), 0, "RFC 2195 challenge answered");
	T_STREQ(out.data, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	    "RFC 2195 response, base64");
	T_INTEQ(base64_decode(out.data, out.len, &raw), 0, "decodes");
	T_STREQ(raw.data, "tim b913a602c7eda7a495b4e6e7334d3890",
	    "RFC 2195 response");
	psasl_wipe(&raw);
	psasl_wipe(&out);

	/* The step function directly. */
	psasl_init(&s, psasl_find("CRAM-MD5"), "tim", PASS);
	T_INTEQ(s.mech->step(&s,
	    (const unsigned char *)"<1896.697170952@postoffice.reston.mci.net>",
	    42, &raw, err, sizeof(err)), 0, "step 0");
	T_STREQ(raw.data, "tim b913a602c7eda7a495b4e6e7334d3890",
	    "step 0 raw response");
	psasl_wipe(&raw);

	psasl_init(&s, psasl_find("CRAM-MD5"), "tim", PASS);
	(void)psasl_respond(&s, chal, sizeof(chal) - 1, &out, err,
	    sizeof(err));
	psasl_wipe(&out);
	T_INTEQ(psasl_respond(&s, chal, sizeof(chal) - 1, &out, err,
	    sizeof(err)), -1, "second challenge refused");
	T_STREQ(err, "unexpected challenge after CRAM-MD5 response",
	    "its reason");
	T_OK(no_secret(err), "no secret in err");

	psasl_init(&s, psasl_find("CRAM-MD5"), "tim", PASS);
	T_INTEQ(psasl_respond(&s, "", 0, &out, err, sizeof(err)), -1,
	    "empty challenge refused");
	T_STREQ(err, "empty CRAM-MD5 challenge", "its reason");
	T_OK(no_secret(err), "no secret in err");
	T_INTEQ(out.len, 0, "nothing to send");
	psasl_wipe(&out);
}

static void
test_failures(void)
{
	struct psasl s;
	struct buf out = BUF_INIT;
	char err[256];
	size_t i;

	T_GROUP("failures");
	for (i = 0; psasl_mechs[i] != NULL; i++) {
		char name[128];

		psasl_init(&s, psasl_mechs[i], "tim", PASS);
		snprintf(name, sizeof(name), "%s: bad base64 challenge",
		    psasl_mechs[i]->name);
		T_INTEQ(psasl_respond(&s, "Zm9v\r\n", 6, &out, err,
		    sizeof(err)), -1, name);
		T_OK(strstr(err, "not valid base64") != NULL, name);
		T_OK(no_secret(err), "no secret in err");
		T_INTEQ(out.len, 0, "nothing to send");

		psasl_init(&s, psasl_mechs[i], "tim", "");
		snprintf(name, sizeof(name), "%s: empty password",
		    psasl_mechs[i]->name);
		T_OK(psasl_initial(&s, &out, err, sizeof(err)) ==
		    (psasl_mechs[i]->initial ? -1 : 0), name);
		T_INTEQ(psasl_respond(&s, "", 0, &out, err, sizeof(err)), -1,
		    name);
		T_OK(strstr(err, "no password") != NULL, name);

		psasl_init(&s, psasl_mechs[i], "", PASS);
		snprintf(name, sizeof(name), "%s: empty user",
		    psasl_mechs[i]->name);
		T_INTEQ(psasl_respond(&s, "", 0, &out, err, sizeof(err)), -1,
		    name);
		T_OK(strstr(err, "no user") != NULL, name);
		T_OK(no_secret(err), "no secret in err");

		psasl_init(&s, psasl_mechs[i], NULL, NULL);
		snprintf(name, sizeof(name), "%s: NULL user and password",
		    psasl_mechs[i]->name);
		T_INTEQ(psasl_respond(&s, "", 0, &out, err, sizeof(err)), -1,
		    name);
		T_INTEQ(out.len, 0, "nothing to send");
	}
	psasl_init(&s, psasl_find("LOGIN"), "tim", PASS);
	T_INTEQ(psasl_respond(&s, "", 0, &out, NULL, 0), 0,
	    "err may be NULL");
	psasl_wipe(&out);
	psasl_wipe(&out);
}

static void
test_wipe(void)
{
	struct buf b = BUF_INIT;

	T_GROUP("wipe");
	psasl_wipe(NULL);
	psasl_wipe(&b);
	T_OK(b.len == 0 && b.cap == 0 && b.data[0] == '\0',
	    "empty buffer, NULL");
	buf_addstr(&b, PASS);
	psasl_wipe(&b);
	T_OK(b.len == 0 && b.cap == 0 && b.data[0] == '\0',
	    "buffer reset after wipe");
	buf_addstr(&b, "reusable");
	T_STREQ(b.data, "reusable", "buffer usable after wipe");
	psasl_wipe(&b);
}

int
main(void)
{
	test_base64();
	test_table();
	test_choose();
	test_plain();
	test_login();
	test_cram_md5();
	test_failures();
	test_wipe();
	return t_done();
}
