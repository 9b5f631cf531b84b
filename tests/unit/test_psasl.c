/*
 * test_psasl.c: unit tests for psasl.c and base64.c, the SMTP AUTH client
 * mechanisms.
 *
 * base64 against the RFC 4648 section 10 vectors, a binary round trip and
 * a table of refused inputs; the mechanism table and psasl_find;
 * psasl_choose with and without a configured preference and with the
 * secrets at hand; PLAIN against RFC 4616, CRAM-MD5 against the RFC 2195
 * example, LOGIN in two steps; SCRAM-SHA-256 against the RFC 7677 and
 * SCRAM-SHA-1 against the RFC 5802 exchange (with their client nonces),
 * and every way a server can fail SCRAM (bad or missing signature, a
 * nonce that does not extend ours, iteration counts out of bounds, a 235
 * without proof); XOAUTH2 against Google's example and OAUTHBEARER
 * against RFC 7628 4.1, byte for byte, and their error challenges;
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
/* An access token likewise (RFC 7628's example). */
#define TOKEN	"vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="

/* RFC 7677 3 and RFC 5802 5: user "user", password "pencil". */
#define S256_NONCE	"rOprNGfwEbeRWgbNEkqO"
#define S256_FIRST	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
			"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define S256_PROOF	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)" \
			"hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define S256_FINAL	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
#define S1_NONCE	"fyko+d2lbbFgONRv9qkxdawL"
#define S1_FIRST	"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j," \
			"s=QSXCR+Q6sek8bf92,i=4096"
#define S1_PROOF	"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j," \
			"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
#define S1_FINAL	"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="

static void	test_base64(void);
static void	test_table(void);
static void	test_choose(void);
static void	test_plain(void);
static void	test_login(void);
static void	test_cram_md5(void);
static void	test_scram(void);
static void	test_scram_faults(void);
static void	test_oauth(void);
static void	test_failures(void);
static void	test_wipe(void);
static const char *enc(const char *, size_t);
static const char *dec(const struct buf *);
static int	scram_to_proof(struct psasl *, const char *, const char *,
		    char *, size_t);
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

/* The raw form of a base64 response, in a static buffer. */
static const char *
dec(const struct buf *b64)
{
	static char out[512];
	struct buf b = BUF_INIT;

	if (base64_decode(b64->data, b64->len, &b) == -1)
		snprintf(out, sizeof(out), "(bad base64)");
	else
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
	T_STREQ(psasl_mechs[0]->name, "OAUTHBEARER", "strongest first");
	T_STREQ(psasl_mechs[1]->name, "XOAUTH2", "then XOAUTH2");
	T_STREQ(psasl_mechs[2]->name, "SCRAM-SHA-256", "then SCRAM-SHA-256");
	T_STREQ(psasl_mechs[3]->name, "SCRAM-SHA-1", "then SCRAM-SHA-1");
	T_STREQ(psasl_mechs[4]->name, "CRAM-MD5", "then CRAM-MD5");
	T_STREQ(psasl_mechs[5]->name, "PLAIN", "then PLAIN");
	T_STREQ(psasl_mechs[6]->name, "LOGIN", "then LOGIN");
	T_OK(psasl_mechs[7] == NULL, "NULL-terminated");
	for (i = 1; psasl_mechs[i] != NULL; i++)
		ok = ok && psasl_mechs[i]->strength <
		    psasl_mechs[i - 1]->strength;
	T_OK(ok, "strengths descend");
	T_OK(psasl_find("PLAIN")->initial, "PLAIN has an initial response");
	T_OK(!psasl_find("LOGIN")->initial, "LOGIN has none");
	T_OK(!psasl_find("CRAM-MD5")->initial, "CRAM-MD5 has none");
	T_OK(psasl_find("SCRAM-SHA-256")->initial, "SCRAM: client-first");
	T_OK(psasl_find("XOAUTH2")->initial, "XOAUTH2: initial response");
	T_OK(psasl_find("OAUTHBEARER")->initial, "OAUTHBEARER: likewise");
	T_OK(psasl_find("XOAUTH2")->secret == PSASL_TOKEN &&
	    psasl_find("OAUTHBEARER")->secret == PSASL_TOKEN,
	    "OAuth mechanisms take a token");
	T_OK(psasl_find("SCRAM-SHA-1")->secret == PSASL_PASSWORD &&
	    psasl_find("PLAIN")->secret == PSASL_PASSWORD,
	    "the others a password");
	T_STREQ(psasl_find("cram-md5")->name, "CRAM-MD5", "find ignores case");
	T_STREQ(psasl_find("scram-sha-256")->name, "SCRAM-SHA-256",
	    "SCRAM-SHA-256 found");
	T_OK(psasl_find("SCRAM-SHA-512") == NULL, "SCRAM-SHA-512 is not");
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
	static const char *const unknown[] = { "GSSAPI", "NTLM" };
	static const char *const xo_plain[] = { "XOAUTH2", "PLAIN" };
	const unsigned pw = PSASL_HAVE_PASSWORD, tok = PSASL_HAVE_TOKEN;
	const struct psasl_mech *m;

	T_GROUP("choose");
	m = psasl_choose(NULL, 0, "LOGIN PLAIN CRAM-MD5", pw);
	T_STREQ(m ? m->name : NULL, "CRAM-MD5", "default: strongest");
	m = psasl_choose(NULL, 0, "LOGIN PLAIN XOAUTH2", pw);
	T_STREQ(m ? m->name : NULL, "PLAIN", "default: PLAIN over LOGIN");
	m = psasl_choose(NULL, 0, "login", pw);
	T_STREQ(m ? m->name : NULL, "LOGIN", "default: offered lower case");
	m = psasl_choose(NULL, 0, "NTLM GSSAPI XOAUTH2", pw);
	T_OK(m == NULL, "default: nothing in common");
	m = psasl_choose(NULL, 0, "", pw);
	T_OK(m == NULL, "default: nothing offered");
	m = psasl_choose(NULL, 0, NULL, pw);
	T_OK(m == NULL, "default: NULL offered");
	m = psasl_choose(NULL, 0, "PLAIN-CLIENTTOKEN PLAINX XLOGIN", pw);
	T_OK(m == NULL, "default: no partial-word match");
	/* the contract's order: SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN */
	m = psasl_choose(NULL, 0, "LOGIN PLAIN CRAM-MD5 SCRAM-SHA-1 "
	    "SCRAM-SHA-256", pw);
	T_STREQ(m ? m->name : NULL, "SCRAM-SHA-256",
	    "default: SCRAM-SHA-256 first");
	m = psasl_choose(NULL, 0, "SCRAM-SHA-256 SCRAM-SHA-1", pw);
	T_STREQ(m ? m->name : NULL, "SCRAM-SHA-256",
	    "default: SCRAM-SHA-256 over SCRAM-SHA-1");
	m = psasl_choose(NULL, 0, "PLAIN SCRAM-SHA-1 CRAM-MD5", pw);
	T_STREQ(m ? m->name : NULL, "SCRAM-SHA-1",
	    "default: SCRAM-SHA-1 when nothing better");
	m = psasl_choose(NULL, 0, "SCRAM-SHA-256-PLUS PLAIN", pw);
	T_STREQ(m ? m->name : NULL, "PLAIN", "default: no -PLUS");
	m = psasl_choose(NULL, 0, "XOAUTH2 OAUTHBEARER PLAIN", pw);
	T_STREQ(m ? m->name : NULL, "PLAIN",
	    "default: no token, no OAuth mechanism");
	m = psasl_choose(NULL, 0, "XOAUTH2 OAUTHBEARER", pw);
	T_OK(m == NULL, "default: only OAuth offered, no token");
	m = psasl_choose(NULL, 0, "SCRAM-SHA-256 PLAIN XOAUTH2", tok);
	T_STREQ(m ? m->name : NULL, "XOAUTH2",
	    "default: the token's mechanism");
	m = psasl_choose(NULL, 0, "XOAUTH2 OAUTHBEARER", tok);
	T_STREQ(m ? m->name : NULL, "OAUTHBEARER",
	    "default: OAUTHBEARER over XOAUTH2");
	m = psasl_choose(NULL, 0, "SCRAM-SHA-256 PLAIN", tok);
	T_OK(m == NULL, "default: only a token, no password mechanism");
	m = psasl_choose(NULL, 0, "SCRAM-SHA-256 XOAUTH2", pw | tok);
	T_STREQ(m ? m->name : NULL, "XOAUTH2", "default: token preferred");
	m = psasl_choose(NULL, 0, "SCRAM-SHA-256 PLAIN", pw | tok);
	T_STREQ(m ? m->name : NULL, "SCRAM-SHA-256",
	    "default: password when no OAuth offered");
	m = psasl_choose(NULL, 0, "PLAIN XOAUTH2", 0);
	T_OK(m == NULL, "default: no secret at all");

	m = psasl_choose(login_plain, 2, "PLAIN LOGIN CRAM-MD5", pw);
	T_STREQ(m ? m->name : NULL, "LOGIN", "conf: order wins over strength");
	m = psasl_choose(login_plain, 2, "PLAIN CRAM-MD5", pw);
	T_STREQ(m ? m->name : NULL, "PLAIN", "conf: next offered");
	m = psasl_choose(lower, 2, "PLAIN", pw);
	T_STREQ(m ? m->name : NULL, "PLAIN", "conf: names ignore case");
	m = psasl_choose(scram, 2, "SCRAM-SHA-256 PLAIN", pw);
	T_STREQ(m ? m->name : NULL, "SCRAM-SHA-256", "conf: SCRAM-SHA-256");
	m = psasl_choose(cram, 1, "PLAIN LOGIN", pw);
	T_OK(m == NULL, "conf: nothing in common");
	m = psasl_choose(unknown, 2, "GSSAPI NTLM", pw);
	T_OK(m == NULL, "conf: only unknown mechanisms");
	m = psasl_choose(login_plain, 2, "", pw);
	T_OK(m == NULL, "conf: nothing offered");
	m = psasl_choose(login_plain, 2, NULL, pw);
	T_OK(m == NULL, "conf: NULL offered");
	m = psasl_choose(xo_plain, 2, "XOAUTH2 PLAIN", pw);
	T_STREQ(m ? m->name : NULL, "PLAIN", "conf: XOAUTH2 skipped, no token");
	m = psasl_choose(xo_plain, 2, "XOAUTH2 PLAIN", tok);
	T_STREQ(m ? m->name : NULL, "XOAUTH2", "conf: XOAUTH2 with a token");
	m = psasl_choose(xo_plain, 2, "PLAIN", tok);
	T_OK(m == NULL, "conf: PLAIN skipped, no password");
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

/*
 * Runs a SCRAM exchange up to the client-final message against
 * server_first; 0 with the response checked against nothing, -1 if a
 * step failed (err says why).
 */
static int
scram_to_proof(struct psasl *s, const char *mech, const char *server_first,
    char *err, size_t errlen)
{
	struct buf out = BUF_INIT;
	int rv = -1;

	psasl_init(s, psasl_find(mech), "user", "pencil");
	if (psasl_set_nonce(s, strstr(mech, "256") ? S256_NONCE :
	    S1_NONCE) == -1 || psasl_initial(s, &out, err, errlen) != 1)
		goto out;
	psasl_wipe(&out);
	rv = psasl_respond(s, enc(server_first, strlen(server_first)),
	    strlen(enc(server_first, strlen(server_first))), &out, err,
	    errlen);
 out:
	psasl_wipe(&out);
	return rv;
}

static void
test_scram(void)
{
	struct psasl s;
	struct buf out = BUF_INIT, b = BUF_INIT;
	char err[256];
	const char *e;

	T_GROUP("scram-sha-256");
	psasl_init(&s, psasl_find("SCRAM-SHA-256"), "user", "pencil");
	T_INTEQ(psasl_set_nonce(&s, S256_NONCE), 0, "RFC 7677 nonce set");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 1,
	    "client-first as the initial response");
	T_STREQ(dec(&out), "n,,n=user,r=" S256_NONCE, "RFC 7677 client-first");
	psasl_wipe(&out);
	e = enc(S256_FIRST, strlen(S256_FIRST));
	T_INTEQ(psasl_respond(&s, e, strlen(e), &out, err, sizeof(err)), 0,
	    "server-first answered");
	T_STREQ(dec(&out), S256_PROOF, "RFC 7677 client-final, proof");
	T_OK(!s.verified, "not verified yet");
	T_INTEQ(psasl_finish(&s, "Authentication successful", 25, err,
	    sizeof(err)), -1, "a 235 before the server-final is refused");
	T_OK(strstr(err, "without proving") != NULL, err);
	psasl_wipe(&out);
	e = enc(S256_FINAL, strlen(S256_FINAL));
	T_INTEQ(psasl_respond(&s, e, strlen(e), &out, err, sizeof(err)), 0,
	    "RFC 7677 server signature verifies");
	T_INTEQ(out.len, 0, "answered with an empty line");
	T_OK(s.verified, "verified");
	T_INTEQ(psasl_finish(&s, "2.7.0 Authentication successful", 31,
	    err, sizeof(err)), 0, "then 235 completes it");
	T_INTEQ(psasl_respond(&s, "", 0, &out, err, sizeof(err)), -1,
	    "a challenge after the server-final is refused");
	psasl_clear(&s);
	T_OK(s.mech == NULL && s.server_sig_len == 0 && s.nonce[0] == '\0',
	    "psasl_clear wipes the state");

	T_GROUP("scram-sha-1");
	psasl_init(&s, psasl_find("SCRAM-SHA-1"), "user", "pencil");
	T_INTEQ(psasl_set_nonce(&s, S1_NONCE), 0, "RFC 5802 nonce set");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 1, "client-first");
	T_STREQ(dec(&out), "n,,n=user,r=" S1_NONCE, "RFC 5802 client-first");
	psasl_wipe(&out);
	e = enc(S1_FIRST, strlen(S1_FIRST));
	T_INTEQ(psasl_respond(&s, e, strlen(e), &out, err, sizeof(err)), 0,
	    "server-first answered");
	T_STREQ(dec(&out), S1_PROOF, "RFC 5802 client-final, proof");
	psasl_wipe(&out);
	e = enc(S1_FINAL, strlen(S1_FINAL));
	T_INTEQ(psasl_respond(&s, e, strlen(e), &out, err, sizeof(err)), 0,
	    "RFC 5802 server signature verifies");
	T_INTEQ(psasl_finish(&s, "ok", 2, err, sizeof(err)), 0, "complete");
	psasl_wipe(&out);

	T_GROUP("scram details");
	/* the server-final as the text of the 235 (no 334 for it) */
	T_INTEQ(scram_to_proof(&s, "SCRAM-SHA-256", S256_FIRST, err,
	    sizeof(err)), 0, "to the proof");
	e = enc(S256_FINAL, strlen(S256_FINAL));
	T_INTEQ(psasl_finish(&s, e, strlen(e), err, sizeof(err)), 0,
	    "server-final in the 235 text verifies");
	T_INTEQ(scram_to_proof(&s, "SCRAM-SHA-256", S256_FIRST, err,
	    sizeof(err)), 0, "to the proof again");
	e = enc(S1_FINAL, strlen(S1_FINAL));
	T_INTEQ(psasl_finish(&s, e, strlen(e), err, sizeof(err)), -1,
	    "a wrong server-final in the 235 text fails");
	T_OK(strstr(err, "does not verify") != NULL, err);

	/* saslname: "," and "=" escaped (RFC 5802 5.1) */
	psasl_init(&s, psasl_find("SCRAM-SHA-256"), "a,b=c", "pencil");
	(void)psasl_set_nonce(&s, "abc");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 1, "odd user");
	T_STREQ(dec(&out), "n,,n=a=2Cb=3Dc,r=abc", "user name escaped");
	psasl_wipe(&out);

	/* random nonces: 32 characters, different each time */
	psasl_init(&s, psasl_find("SCRAM-SHA-256"), "user", "pencil");
	(void)psasl_initial(&s, &out, err, sizeof(err));
	buf_addstr(&b, dec(&out));
	psasl_wipe(&out);
	T_INTEQ(strlen(s.nonce), 32, "random nonce of 32 characters");
	psasl_init(&s, psasl_find("SCRAM-SHA-256"), "user", "pencil");
	(void)psasl_initial(&s, &out, err, sizeof(err));
	T_OK(strncmp(b.data, "n,,n=user,r=", 12) == 0 &&
	    strcmp(b.data, dec(&out)) != 0, "another nonce next time");
	psasl_wipe(&out);
	buf_free(&b);

	T_INTEQ(psasl_set_nonce(&s, "a,b"), -1, "nonce with ',' refused");
	T_INTEQ(psasl_set_nonce(&s, ""), -1, "empty nonce refused");
	T_INTEQ(psasl_set_nonce(&s, "a b"), -1, "nonce with a space refused");
	T_INTEQ(psasl_set_nonce(&s, "0123456789012345678901234567890123456789"
	    "012345678901234567890123456789"), -1, "long nonce refused");

	/* SASLprep of ASCII only */
	psasl_init(&s, psasl_find("SCRAM-SHA-256"), "user", "p\xc3\xa4ss");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), -1,
	    "non-ASCII password refused");
	T_OK(strstr(err, "SASLprep") != NULL && strstr(err, "p\xc3\xa4ss") ==
	    NULL, err);
	T_INTEQ(out.len, 0, "nothing to send");
	psasl_init(&s, psasl_find("SCRAM-SHA-1"), "\xc3\xbcser", "pencil");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), -1,
	    "non-ASCII user refused");
	psasl_init(&s, psasl_find("SCRAM-SHA-1"), "user", "pen\tcil");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), -1,
	    "control character refused");
	psasl_wipe(&out);
}

static void
test_scram_faults(void)
{
	static const struct {
		const char	*first;
		const char	*why;
		const char	*name;
	} bad[] = {
		{ "r=XXXXrOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
		  "i=4096",
		  "does not extend", "server nonce not extending ours" },
		{ "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		  "does not extend", "server nonce equal to ours" },
		{ "r=rOprNGfwEbeRWgbNEkq,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		  "does not extend", "server nonce shorter than ours" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095",
		  "too low", "iteration count 4095" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",
		  "too low", "iteration count 1" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
		  "i=1000001", "too high", "iteration count 1000001" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
		  "i=184467440737095516160000", "too high",
		  "iteration count that overflows" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
		  "i=-4096",
		  "not a number", "negative iteration count" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
		  "not a number", "empty iteration count" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==",
		  "malformed", "no iteration count" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,i=4096", "malformed", "no salt" },
		{ "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOxyz,i=4096",
		  "malformed", "attributes out of order" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,s=%%%,i=4096", "bad salt",
		  "salt not base64" },
		{ "r=rOprNGfwEbeRWgbNEkqOxyz,s=,i=4096", "bad salt",
		  "empty salt" },
		{ "m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
		  "i=4096", "extension", "mandatory extension" },
		{ "e=other-error", "reports an error", "error instead" },
		{ "", "empty", "empty server-first" },
	};
	static const struct {
		const char	*final;
		const char	*why;
		const char	*name;
	} badfinal[] = {
		{ "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		  "does not verify", "wrong server signature" },
		{ "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4",
		  "does not verify", "signature not base64" },
		{ "v=" "rmF9pqV8S7suAoZWja4dJRkFsKQ=", "does not verify",
		  "signature of another length" },
		{ "v=", "does not verify", "empty signature" },
		{ "x=abc", "no server signature", "no v= attribute" },
		{ "garbage", "no server signature", "not an attribute" },
		{ "e=invalid-proof", "refused: invalid-proof",
		  "e= error reported" },
	};
	struct psasl s;
	struct buf out = BUF_INIT;
	char err[256], name[160];
	const char *e;
	size_t i;

	T_GROUP("scram faults");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_INTEQ(scram_to_proof(&s, "SCRAM-SHA-256", bad[i].first, err,
		    sizeof(err)), -1, bad[i].name);
		snprintf(name, sizeof(name), "%s: says '%s'", bad[i].name,
		    bad[i].why);
		T_OK(strstr(err, bad[i].why) != NULL, name);
		T_OK(strstr(err, "pencil") == NULL, "no password in err");
		T_INTEQ(s.server_sig_len, 0, "no signature computed");
	}
	for (i = 0; i < sizeof(badfinal) / sizeof(badfinal[0]); i++) {
		(void)scram_to_proof(&s, "SCRAM-SHA-256", S256_FIRST, err,
		    sizeof(err));
		e = enc(badfinal[i].final, strlen(badfinal[i].final));
		T_INTEQ(psasl_respond(&s, e, strlen(e), &out, err,
		    sizeof(err)), -1, badfinal[i].name);
		snprintf(name, sizeof(name), "%s: says '%s'",
		    badfinal[i].name, badfinal[i].why);
		T_OK(strstr(err, badfinal[i].why) != NULL, name);
		T_INTEQ(out.len, 0, "nothing to send");
		T_OK(!s.verified, "not verified");
		T_INTEQ(psasl_finish(&s, "ok", 2, err, sizeof(err)), -1,
		    "and a 235 after it fails too");
	}
	/* the lowest and highest counts accepted */
	T_INTEQ(scram_to_proof(&s, "SCRAM-SHA-256", "r=" S256_NONCE "x,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=ext", err, sizeof(err)), 0,
	    "i=4096 and an extension after it accepted");
	psasl_wipe(&out);
}

static void
test_oauth(void)
{
	struct psasl s;
	struct buf out = BUF_INIT, raw = BUF_INIT;
	char err[256];
	const char *e;
	static const char json[] =
	    "{\"status\":\"invalid_token\",\"scope\":\"example_scope\","
	    "\"openid-configuration\":\"https://example.com/.well-known/"
	    "openid-configuration\"}";

	T_GROUP("xoauth2");
	psasl_init(&s, psasl_find("XOAUTH2"), "someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 1,
	    "initial response");
	T_STREQ(out.data, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlci"
	    "B5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c"
	    "BAQ==", "Google's example, byte for byte");
	T_INTEQ(base64_decode(out.data, out.len, &raw), 0, "decodes");
#define XO_RAW "user=someuser@example.com\001auth=Bearer " \
	    "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg\001\001"
	T_OK(raw.len == sizeof(XO_RAW) - 1 && memcmp(raw.data, XO_RAW,
	    raw.len) == 0, "user=U^Aauth=Bearer T^A^A");
#undef XO_RAW
	psasl_wipe(&raw);
	psasl_wipe(&out);
	e = enc(json, strlen(json));
	T_INTEQ(psasl_respond(&s, e, strlen(e), &out, err, sizeof(err)), 0,
	    "error challenge answered");
	T_INTEQ(out.len, 0, "with an empty line");
	T_OK(s.refused, "token refused");
	T_OK(strstr(s.detail, "invalid_token") != NULL, s.detail);
	T_INTEQ(psasl_respond(&s, e, strlen(e), &out, err, sizeof(err)), -1,
	    "a second challenge refused");

	T_GROUP("oauthbearer");
	psasl_init(&s, psasl_find("OAUTHBEARER"), "user@example.com", TOKEN);
	psasl_set_server(&s, "server.example.com", 143);
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 1,
	    "initial response");
	T_STREQ(out.data, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1"
	    "wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbG"
	    "NrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB",
	    "RFC 7628 4.1, byte for byte");
	psasl_wipe(&out);
	e = enc(json, strlen(json));
	T_INTEQ(psasl_respond(&s, e, strlen(e), &out, err, sizeof(err)), 0,
	    "error challenge answered");
	T_STREQ(out.data, "AQ==", "with a single ^A (RFC 7628 3.2.3)");
	T_OK(s.refused && strstr(s.detail, "invalid_token") != NULL,
	    "its status kept");
	psasl_wipe(&out);
	T_INTEQ(psasl_finish(&s, "", 0, err, sizeof(err)), 0,
	    "finish has nothing to check");

	psasl_init(&s, psasl_find("OAUTHBEARER"), "a,b=c", TOKEN);
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 1,
	    "without host and port");
	T_INTEQ(base64_decode(out.data, out.len, &raw), 0, "decodes");
#define OB_RAW "n,a=a=2Cb=3Dc,\001auth=Bearer " TOKEN "\001\001"
	T_OK(raw.len == sizeof(OB_RAW) - 1 && memcmp(raw.data, OB_RAW,
	    raw.len) == 0, "a= escaped, host and port left out");
#undef OB_RAW
	psasl_wipe(&raw);
	psasl_wipe(&out);

	T_GROUP("oauth token checks");
	psasl_init(&s, psasl_find("XOAUTH2"), "u", "{\"access_token\": \"x\"}");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), -1,
	    "JSON instead of a token refused");
	T_OK(strstr(err, "b64token") != NULL && strstr(err, "access_token") ==
	    NULL, err);
	psasl_init(&s, psasl_find("OAUTHBEARER"), "u", "abc=def");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), -1,
	    "'=' inside a token refused");
	psasl_init(&s, psasl_find("OAUTHBEARER"), "u", "===");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), -1,
	    "only '=' refused");
	psasl_init(&s, psasl_find("XOAUTH2"), "u\001x", TOKEN);
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), -1,
	    "^A in the user refused");
	psasl_init(&s, psasl_find("XOAUTH2"), "u", "Az09-._~+/==");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), 1,
	    "every b64token character accepted");
	psasl_wipe(&out);
	psasl_init(&s, psasl_find("XOAUTH2"), "u", "");
	T_INTEQ(psasl_initial(&s, &out, err, sizeof(err)), -1, "empty token");
	T_STREQ(err, "XOAUTH2: no access token", "its reason");
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
		T_OK(strstr(err, psasl_mechs[i]->secret == PSASL_TOKEN ?
		    "no access token" : "no password") != NULL, name);

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
	test_scram();
	test_scram_faults();
	test_oauth();
	test_failures();
	test_wipe();
	return t_done();
}
