/*
 * test_smtp.c: the SMTP client state machine, driven by scripted server
 * replies: the commands it sends are compared with what they must be
 * (the transcripts below), and per-recipient outcomes are checked; the
 * AUTH exchanges of SCRAM (RFC 7677's, a bad or missing server proof),
 * XOAUTH2 and OAUTHBEARER (their error challenges). Also the body
 * encoder.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp.h"
#include "smtp_reply.h"
#include "t.h"

static struct buf tracebuf = BUF_INIT;

static void
tr(void *arg, bool sent, const char *line, size_t len)
{
	(void)arg;
	buf_addstr(&tracebuf, sent ? "C: " : "S: ");
	buf_add(&tracebuf, line, len);
	buf_addch(&tracebuf, '\n');
}

/* Feeds one reply, given as its wire text without the final CRLF. */
static void
feed(struct smtp_client *c, const char *text)
{
	struct smtp_reply_parser p;
	struct smtp_reply r;
	struct buf w = BUF_INIT;
	size_t used;
	char err[128];
	const char *s;

	for (s = text; *s != '\0'; s++) {
		if (*s == '|')
			buf_add(&w, "\r\n", 2);
		else
			buf_addch(&w, *s);
	}
	buf_add(&w, "\r\n", 2);
	smtp_reply_parser_init(&p);
	smtp_reply_init(&r);
	if (smtp_reply_feed(&p, w.data, w.len, &used, &r, err, sizeof(err)) !=
	    RP_REPLY) {
		printf("FAIL: feed: bad scripted reply [%s]: %s\n", text, err);
		abort();
	}
	smtp_reply(c, &r);
	smtp_reply_free(&r);
	smtp_reply_parser_free(&p);
	buf_free(&w);
}

/* The commands sent since the last call, with "|" for CRLF. */
static const char *
sent(struct smtp_client *c)
{
	static struct buf b = BUF_INIT;
	size_t i;

	buf_reset(&b);
	for (i = 0; i < c->out.len; i++) {
		if (c->out.data[i] == '\r' && i + 1 < c->out.len &&
		    c->out.data[i + 1] == '\n') {
			buf_addch(&b, '|');
			i++;
		} else
			buf_addch(&b, c->out.data[i]);
	}
	buf_reset(&c->out);
	return b.data;
}

static struct smtp_opts
opts(enum conf_tls tls, const char *user, const char *pass)
{
	struct smtp_opts o;

	memset(&o, 0, sizeof(o));
	o.helo = "client.example";
	o.tls = tls;
	o.user = user;
	o.pass = pass;
	o.trace = tr;
	return o;
}

#define EHLO_PIPE "250-mx.example|250-PIPELINING|250-SIZE 1000000|" \
	"250-8BITMIME|250 ENHANCEDSTATUSCODES"

static void
test_pipelined(void)
{
	struct smtp_opts o = opts(CONF_TLS_NONE, NULL, NULL);
	struct smtp_client c;
	struct smtp_rcpt r[3];
	struct smtp_txn t;

	T_GROUP("pipelined transaction");
	smtp_init(&c, &o, false);
	T_STREQ(sent(&c), "", "nothing before the greeting");
	feed(&c, "220 mx.example ESMTP");
	T_STREQ(sent(&c), "EHLO client.example|", "EHLO");
	feed(&c, EHLO_PIPE);
	T_INTEQ(c.state, SMTP_READY, "ready");
	T_OK(c.ext.pipelining && c.ext.eightbitmime, "extensions learnt");
	memset(r, 0, sizeof(r));
	r[0].addr = "a@x.org";
	r[1].addr = "b@x.org";
	r[2].addr = "c@x.org";
	memset(&t, 0, sizeof(t));
	t.sender = "s@y.org";
	t.rcpts = r;
	t.nrcpts = 3;
	t.size = 1234;
	t.eightbit = true;
	smtp_begin(&c, &t);
	T_STREQ(sent(&c), "MAIL FROM:<s@y.org> SIZE=1234 BODY=8BITMIME|"
	    "RCPT TO:<a@x.org>|RCPT TO:<b@x.org>|RCPT TO:<c@x.org>|DATA|",
	    "MAIL, RCPTs and DATA in one write");
	feed(&c, "250 2.1.0 ok");
	feed(&c, "250 2.1.5 ok");
	feed(&c, "550 5.1.1 <b@x.org>: no such user");
	feed(&c, "451 4.2.0 <c@x.org>: try later");
	T_INTEQ(c.state, SMTP_TXN, "still waiting for DATA's reply");
	feed(&c, "354 go ahead");
	T_INTEQ(c.state, SMTP_BODY, "body wanted");
	smtp_body_sent(&c);
	feed(&c, "250 2.0.0 queued as X");
	T_INTEQ(c.state, SMTP_READY, "ready again, no RSET after success");
	T_STREQ(sent(&c), "", "nothing sent after the dot's reply");
	T_INTEQ(r[0].outcome, SMTP_DELIVERED, "a delivered");
	T_STREQ(r[0].reply, "250 2.0.0 queued as X", "a's reply");
	T_INTEQ(r[1].outcome, SMTP_PERMFAIL, "b permanently failed");
	T_STREQ(r[1].reply, "550 5.1.1 <b@x.org>: no such user", "b's reply");
	T_INTEQ(r[2].outcome, SMTP_TEMPFAIL, "c deferred");

	/* MAIL refused: every reply still consumed in order, then RSET */
	smtp_begin(&c, &t);
	sent(&c);
	feed(&c, "452 4.3.1 insufficient storage");
	feed(&c, "503 5.5.1 no MAIL");
	feed(&c, "503 5.5.1 no MAIL");
	feed(&c, "503 5.5.1 no MAIL");
	feed(&c, "554 5.5.1 no valid recipients");
	T_STREQ(sent(&c), "RSET|", "RSET after a refused MAIL");
	T_INTEQ(r[0].outcome, SMTP_TEMPFAIL, "452 MAIL: all deferred");
	T_INTEQ(r[2].outcome, SMTP_TEMPFAIL, "452 MAIL: the last too");
	feed(&c, "250 ok");
	T_INTEQ(c.state, SMTP_READY, "ready after RSET");

	/* a server that says 354 although no recipient was accepted */
	smtp_begin(&c, &t);
	sent(&c);
	feed(&c, "250 ok");
	feed(&c, "550 no");
	feed(&c, "550 no");
	feed(&c, "550 no");
	feed(&c, "354 go ahead anyway");
	T_STREQ(sent(&c), ".|", "empty DATA closed at once");
	feed(&c, "554 no valid recipients");
	T_INTEQ(c.state, SMTP_READY, "ready");
	T_INTEQ(r[0].outcome, SMTP_PERMFAIL, "refused recipient stays failed");

	/* the final dot refused for the accepted recipients only */
	smtp_begin(&c, &t);
	sent(&c);
	feed(&c, "250 ok");
	feed(&c, "250 ok");
	feed(&c, "550 5.1.1 no");
	feed(&c, "250 ok");
	feed(&c, "354 go");
	smtp_body_sent(&c);
	feed(&c, "552 5.3.4 too big after all");
	T_INTEQ(r[0].outcome, SMTP_PERMFAIL, "a failed by the dot's reply");
	T_STREQ(r[0].reply, "552 5.3.4 too big after all", "a's reply");
	T_STREQ(r[1].reply, "550 5.1.1 no", "b keeps its RCPT reply");

	/* 421 in the middle: the session ends, undecided are deferred */
	smtp_begin(&c, &t);
	sent(&c);
	feed(&c, "250 ok");
	feed(&c, "421 4.3.2 shutting down");
	T_INTEQ(c.state, SMTP_FAILED, "421 fails the session");
	T_INTEQ(c.fail, SMTP_FAIL_SERVICE, "class service");
	T_INTEQ(r[0].outcome, SMTP_TEMPFAIL, "421: a deferred");
	T_INTEQ(r[2].outcome, SMTP_TEMPFAIL, "421: c deferred");
	smtp_free(&c);
}

static void
test_lockstep(void)
{
	struct smtp_opts o = opts(CONF_TLS_NONE, NULL, NULL);
	struct smtp_client c;
	struct smtp_rcpt r[2];
	struct smtp_txn t;

	T_GROUP("transaction without PIPELINING");
	smtp_init(&c, &o, false);
	feed(&c, "220 old.example");
	sent(&c);
	feed(&c, "250-old.example|250 SIZE");
	memset(r, 0, sizeof(r));
	r[0].addr = "a@x.org";
	r[1].addr = "b@x.org";
	memset(&t, 0, sizeof(t));
	t.sender = "";
	t.rcpts = r;
	t.nrcpts = 2;
	t.size = 99;
	t.eightbit = true;
	smtp_begin(&c, &t);
	T_STREQ(sent(&c), "MAIL FROM:<> SIZE=99|",
	    "MAIL alone; null sender; no BODY= without 8BITMIME");
	feed(&c, "250 ok");
	T_STREQ(sent(&c), "RCPT TO:<a@x.org>|", "first RCPT after MAIL's reply");
	feed(&c, "250 ok");
	T_STREQ(sent(&c), "RCPT TO:<b@x.org>|", "second RCPT");
	feed(&c, "250 ok");
	T_STREQ(sent(&c), "DATA|", "DATA");
	feed(&c, "354 go");
	T_INTEQ(c.state, SMTP_BODY, "body");
	smtp_body_sent(&c);
	feed(&c, "250 ok");
	T_INTEQ(r[1].outcome, SMTP_DELIVERED, "delivered");

	/* every RCPT refused: no DATA, RSET */
	smtp_begin(&c, &t);
	sent(&c);
	feed(&c, "250 ok");
	sent(&c);
	feed(&c, "550 no");
	sent(&c);
	feed(&c, "550 no");
	T_STREQ(sent(&c), "RSET|", "no DATA when nobody was accepted");
	feed(&c, "250 ok");
	T_INTEQ(c.state, SMTP_READY, "ready");
	smtp_free(&c);
}

static void
test_refusals_without_round_trip(void)
{
	struct smtp_opts o = opts(CONF_TLS_NONE, NULL, NULL);
	struct smtp_client c;
	struct smtp_rcpt r[1];
	struct smtp_txn t;

	T_GROUP("refused before MAIL");
	smtp_init(&c, &o, false);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 SIZE 1000");
	memset(r, 0, sizeof(r));
	r[0].addr = "a@x.org";
	memset(&t, 0, sizeof(t));
	t.sender = "s@y.org";
	t.rcpts = r;
	t.nrcpts = 1;
	t.size = 1001;
	smtp_begin(&c, &t);
	T_STREQ(sent(&c), "", "nothing sent for a message over SIZE");
	T_INTEQ(r[0].outcome, SMTP_PERMFAIL, "over SIZE fails for good");
	T_OK(strstr(r[0].reply, "5.3.4") != NULL, "with 5.3.4");
	T_INTEQ(c.state, SMTP_READY, "session still usable");
	t.size = 10;
	r[0].addr = "j\xc3\xbcrgen@x.org";
	smtp_begin(&c, &t);
	T_STREQ(sent(&c), "", "nothing sent for UTF-8 without SMTPUTF8");
	T_INTEQ(r[0].outcome, SMTP_PERMFAIL, "UTF-8 address refused");
	smtp_free(&c);
}

/* base64 of s, in a static buffer. */
static const char *
b64(const char *s)
{
	static struct buf b = BUF_INIT;

	buf_reset(&b);
	base64_encode((const unsigned char *)s, strlen(s), &b);
	return b.data;
}

/* "334 " or "235 " and base64 of text, for feed(). */
static const char *
reply64(const char *code, const char *text)
{
	static char line[1024];

	snprintf(line, sizeof(line), "%s %s", code, b64(text));
	return line;
}

/* RFC 7677's exchange (user "user", password "pencil"). */
#define S256_NONCE	"rOprNGfwEbeRWgbNEkqO"
#define S256_FIRST	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
			"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define S256_PROOF	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)" \
			"hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define S256_FINAL	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
#define TOKEN		"ya29.Zq7dontleakthistoken"
#define OAUTH_ERR	"{\"status\":\"invalid_token\",\"schemes\":\"bearer\"}"

/*
 * Starts a session that has just sent AUTH SCRAM-SHA-256 (TLS already
 * up), with the RFC 7677 client nonce put in place of the random one.
 */
static void
scram_start(struct smtp_client *c, const struct smtp_opts *o)
{
	const char *s;

	smtp_init(c, o, true);
	feed(c, "220 mx");
	sent(c);
	feed(c, "250-mx|250 AUTH PLAIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256");
	s = sent(c);
	T_OK(strncmp(s, "AUTH SCRAM-SHA-256 ", 19) == 0,
	    "SCRAM-SHA-256 is the default choice");
	snprintf(c->sasl.nonce, sizeof(c->sasl.nonce), "%s", S256_NONCE);
}

static void
test_new_auth(void)
{
	struct smtp_opts o = opts(CONF_TLS_STARTTLS, "user", "pencil");
	struct smtp_client c;
	char want[512];

	T_GROUP("SCRAM in the session");
	buf_reset(&tracebuf);
	scram_start(&c, &o);
	feed(&c, reply64("334", S256_FIRST));
	snprintf(want, sizeof(want), "%s|", b64(S256_PROOF));
	T_STREQ(sent(&c), want, "client-final with the RFC 7677 proof");
	feed(&c, reply64("334", S256_FINAL));
	T_STREQ(sent(&c), "|", "server signature verified: empty response");
	T_INTEQ(c.state, SMTP_AUTH, "waiting for 235");
	feed(&c, "235 2.7.0 Authentication successful");
	T_INTEQ(c.state, SMTP_READY, "authenticated and ready");
	T_OK(c.authenticated, "authenticated");
	T_OK(strstr(tracebuf.data, "pencil") == NULL &&
	    strstr(tracebuf.data, "cGVuY2ls") == NULL &&
	    strstr(tracebuf.data, "C: AUTH SCRAM-SHA-256 ***") != NULL,
	    "trace redacted");
	smtp_free(&c);

	scram_start(&c, &o);
	feed(&c, reply64("334", S256_FIRST));
	sent(&c);
	feed(&c, reply64("334",
	    "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
	T_STREQ(sent(&c), "*|", "bad server signature: exchange cancelled");
	T_INTEQ(c.state, SMTP_FAILED, "session failed");
	T_INTEQ(c.fail, SMTP_FAIL_AUTH, "class AUTH");
	T_OK(strstr(c.error, "does not verify") != NULL, c.error);
	smtp_free(&c);

	scram_start(&c, &o);
	feed(&c, reply64("334", S256_FIRST));
	sent(&c);
	feed(&c, "235 2.7.0 Authentication successful");
	T_INTEQ(c.state, SMTP_FAILED, "235 without the server's proof fails");
	T_INTEQ(c.fail, SMTP_FAIL_AUTH, "class AUTH");
	T_OK(!c.authenticated, "not taken as authenticated");
	T_OK(strstr(c.error, "without proving") != NULL, c.error);
	smtp_free(&c);

	scram_start(&c, &o);
	feed(&c, reply64("334", S256_FIRST));
	sent(&c);
	feed(&c, reply64("235 2.7.0", S256_FINAL));
	T_INTEQ(c.state, SMTP_READY, "server-final in the 235 text verified");
	smtp_free(&c);

	scram_start(&c, &o);
	feed(&c, reply64("334", S256_FIRST));
	sent(&c);
	feed(&c, reply64("334", "e=invalid-proof"));
	T_STREQ(sent(&c), "*|", "e= error: cancelled");
	T_OK(c.fail == SMTP_FAIL_AUTH && strstr(c.error, "invalid-proof"),
	    c.error);
	smtp_free(&c);

	scram_start(&c, &o);
	feed(&c, "535 5.7.8 Authentication credentials invalid");
	T_OK(c.fail == SMTP_FAIL_AUTH && !c.token_refused &&
	    strstr(c.error, "SCRAM-SHA-256") != NULL, c.error);
	smtp_free(&c);

	T_GROUP("XOAUTH2 and OAUTHBEARER in the session");
	o = opts(CONF_TLS_STARTTLS, "someone@example.org", NULL);
	o.token = TOKEN;
	o.host = "mx.example.org";
	o.port = 587;
	buf_reset(&tracebuf);
	smtp_init(&c, &o, true);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 AUTH PLAIN SCRAM-SHA-256 XOAUTH2");
	snprintf(want, sizeof(want), "AUTH XOAUTH2 %s|",
	    b64("user=someone@example.org\001auth=Bearer " TOKEN "\001\001"));
	T_STREQ(sent(&c), want, "XOAUTH2 with its initial response");
	feed(&c, reply64("334", OAUTH_ERR));
	T_STREQ(sent(&c), "|", "error challenge: empty response");
	feed(&c, "535 5.7.8 Username and Password not accepted");
	T_INTEQ(c.state, SMTP_FAILED, "then 535: failed");
	T_INTEQ(c.fail, SMTP_FAIL_AUTH, "class AUTH (deferred, never bounced)");
	T_OK(c.token_refused, "the token was refused");
	T_OK(strstr(c.error, "535") != NULL &&
	    strstr(c.error, "invalid_token") != NULL, c.error);
	T_OK(strstr(c.error, TOKEN) == NULL &&
	    strstr(tracebuf.data, "Zq7d") == NULL &&
	    strstr(tracebuf.data, b64("user=someone")) == NULL,
	    "no token in error or trace");
	smtp_free(&c);

	smtp_init(&c, &o, true);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 AUTH XOAUTH2 OAUTHBEARER");
	snprintf(want, sizeof(want), "AUTH OAUTHBEARER %s|",
	    b64("n,a=someone@example.org,\001host=mx.example.org\001"
	    "port=587\001auth=Bearer " TOKEN "\001\001"));
	T_STREQ(sent(&c), want, "OAUTHBEARER preferred, host and port");
	feed(&c, reply64("334", OAUTH_ERR));
	T_STREQ(sent(&c), "AQ==|", "error challenge: ^A");
	feed(&c, "535 5.7.8 no");
	T_OK(c.fail == SMTP_FAIL_AUTH && c.token_refused, "refused");
	smtp_free(&c);

	smtp_init(&c, &o, true);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 AUTH XOAUTH2");
	sent(&c);
	feed(&c, "535 5.7.3 Authentication unsuccessful");
	T_OK(c.fail == SMTP_FAIL_AUTH && c.token_refused,
	    "535 without a challenge: token refused too");
	smtp_free(&c);

	smtp_init(&c, &o, true);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 AUTH XOAUTH2");
	sent(&c);
	feed(&c, "454 4.7.0 Temporary authentication failure");
	T_OK(c.fail == SMTP_FAIL_AUTH && !c.token_refused,
	    "454: not the token's fault");
	smtp_free(&c);

	smtp_init(&c, &o, true);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 AUTH PLAIN SCRAM-SHA-256");
	T_STREQ(sent(&c), "", "only a token: no password mechanism");
	T_OK(c.fail == SMTP_FAIL_AUTH && strstr(c.error, "access token"),
	    c.error);
	smtp_free(&c);
}

static void
test_tls_and_auth(void)
{
	struct smtp_opts o = opts(CONF_TLS_STARTTLS, "tim", "tanstaaftanstaaf");
	struct smtp_client c;

	T_GROUP("STARTTLS and AUTH");
	buf_reset(&tracebuf);
	smtp_init(&c, &o, false);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250-AUTH PLAIN LOGIN|250 STARTTLS");
	T_STREQ(sent(&c), "STARTTLS|", "STARTTLS before anything else");
	feed(&c, "220 ready");
	T_INTEQ(c.state, SMTP_TLS, "driver asked for the handshake");
	T_STREQ(sent(&c), "", "nothing sent before TLS");
	smtp_tls_done(&c);
	T_STREQ(sent(&c), "EHLO client.example|", "EHLO again after TLS");
	T_OK(c.ext.auth[0] == '\0' && !c.ext.starttls,
	    "pre-TLS capabilities forgotten");
	feed(&c, "250-mx|250 AUTH LOGIN PLAIN CRAM-MD5");
	T_STREQ(sent(&c), "AUTH CRAM-MD5|", "strongest offered mechanism");
	feed(&c, "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
	T_STREQ(sent(&c), "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw|",
	    "RFC 2195 response");
	feed(&c, "235 2.7.0 ok");
	T_INTEQ(c.state, SMTP_READY, "authenticated and ready");
	T_OK(strstr(tracebuf.data, "dGlt") == NULL &&
	    strstr(tracebuf.data, "tanstaaf") == NULL,
	    "trace shows no credentials");
	T_OK(strstr(tracebuf.data, "C: AUTH CRAM-MD5") != NULL &&
	    strstr(tracebuf.data, "C: ***") != NULL, "trace shows redactions");
	smtp_free(&c);

	/* a configured preference, PLAIN with its initial response */
	{
		static const char *const pref[] = { "PLAIN" };

		o.mechs = pref;
		o.nmechs = 1;
		buf_reset(&tracebuf);
		smtp_init(&c, &o, true);	/* smtps: TLS already */
		feed(&c, "220 mx");
		sent(&c);
		feed(&c, "250-mx|250 AUTH=LOGIN PLAIN CRAM-MD5");
		T_STREQ(sent(&c),
		    "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm|",
		    "configured PLAIN with initial response");
		T_OK(strstr(tracebuf.data, "C: AUTH PLAIN ***") != NULL &&
		    strstr(tracebuf.data, "AHRpbQ") == NULL,
		    "initial response redacted in the trace");
		feed(&c, "535 5.7.8 Authentication credentials invalid");
		T_INTEQ(c.state, SMTP_FAILED, "535 fails the session");
		T_INTEQ(c.fail, SMTP_FAIL_AUTH, "class AUTH");
		T_OK(strstr(c.error, "authentication failed") != NULL &&
		    strstr(c.error, "535") != NULL, "clear error");
		T_OK(strstr(c.error, "tanstaaf") == NULL, "no password in it");
		smtp_free(&c);
		o.mechs = NULL;
		o.nmechs = 0;
	}

	/* LOGIN, two challenges */
	{
		static const char *const pref[] = { "LOGIN" };

		o.mechs = pref;
		o.nmechs = 1;
		smtp_init(&c, &o, true);
		feed(&c, "220 mx");
		sent(&c);
		feed(&c, "250-mx|250 AUTH LOGIN");
		T_STREQ(sent(&c), "AUTH LOGIN|", "LOGIN without initial response");
		feed(&c, "334 VXNlcm5hbWU6");
		T_STREQ(sent(&c), "dGlt|", "user name");
		feed(&c, "334 UGFzc3dvcmQ6");
		T_STREQ(sent(&c), "dGFuc3RhYWZ0YW5zdGFhZg==|", "password");
		feed(&c, "235 ok");
		T_INTEQ(c.state, SMTP_READY, "ready");
		smtp_free(&c);
		o.mechs = NULL;
		o.nmechs = 0;
	}

	/* STARTTLS required but not offered: nothing else is sent */
	smtp_init(&c, &o, false);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 AUTH PLAIN");
	T_STREQ(sent(&c), "", "no AUTH, no MAIL without STARTTLS");
	T_INTEQ(c.fail, SMTP_FAIL_TLS, "class TLS");
	smtp_free(&c);

	/* STARTTLS refused */
	smtp_init(&c, &o, false);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 STARTTLS");
	sent(&c);
	feed(&c, "454 4.7.0 TLS not available");
	T_INTEQ(c.fail, SMTP_FAIL_TLS, "454 to STARTTLS fails TLS");
	smtp_free(&c);

	/* no mechanism in common */
	smtp_init(&c, &o, true);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 AUTH GSSAPI");
	T_INTEQ(c.fail, SMTP_FAIL_AUTH, "no common mechanism");
	T_STREQ(sent(&c), "", "nothing sent");
	smtp_free(&c);

	/* tls none: AUTH in clear text is the admin's explicit choice */
	o.tls = CONF_TLS_NONE;
	smtp_init(&c, &o, false);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "250-mx|250 AUTH PLAIN");
	T_OK(strncmp(sent(&c), "AUTH PLAIN ", 11) == 0, "tls none: AUTH sent");
	smtp_free(&c);
}

static void
test_greeting_and_helo(void)
{
	struct smtp_opts o = opts(CONF_TLS_NONE, NULL, NULL);
	struct smtp_opts oa = opts(CONF_TLS_NONE, "u", "p");
	struct smtp_client c;

	T_GROUP("greeting and HELO");
	smtp_init(&c, &o, false);
	feed(&c, "554 5.7.1 go away");
	T_INTEQ(c.fail, SMTP_FAIL_GREETING, "554 banner");
	T_STREQ(sent(&c), "", "nothing sent");
	smtp_free(&c);
	smtp_init(&c, &o, false);
	feed(&c, "421 busy");
	T_INTEQ(c.fail, SMTP_FAIL_GREETING, "421 banner is a greeting failure");
	smtp_free(&c);
	smtp_init(&c, &o, false);
	feed(&c, "220 old");
	sent(&c);
	feed(&c, "502 5.5.1 EHLO not implemented");
	T_STREQ(sent(&c), "HELO client.example|", "HELO fallback");
	feed(&c, "250 old");
	T_INTEQ(c.state, SMTP_READY, "ready after HELO");
	T_OK(!c.ext.pipelining, "no extensions after HELO");
	smtp_free(&c);
	smtp_init(&c, &oa, false);
	feed(&c, "220 old");
	sent(&c);
	feed(&c, "502 no");
	T_INTEQ(c.fail, SMTP_FAIL_PROTOCOL, "no HELO fallback when AUTH needed");
	smtp_free(&c);
	smtp_init(&c, &o, false);
	feed(&c, "220 mx");
	sent(&c);
	feed(&c, "354 what");
	T_INTEQ(c.fail, SMTP_FAIL_PROTOCOL, "unexpected reply to EHLO");
	smtp_free(&c);
}

static const char *
enc(const char *const *parts)
{
	static struct buf out = BUF_INIT;
	struct smtp_body b;
	size_t i;

	buf_reset(&out);
	smtp_body_init(&b);
	for (i = 0; parts[i] != NULL; i++)
		smtp_body_encode(&b, parts[i], strlen(parts[i]), &out);
	smtp_body_end(&b, &out);
	return out.data;
}

static void
test_body(void)
{
	static const char *const p1[] = { "a\nb\n", NULL };
	static const char *const p2[] = { ".x\n..\n.\n", NULL };
	static const char *const p3[] = { "no newline", NULL };
	static const char *const p4[] = { "a\rb\r\nc\n", NULL };
	static const char *const p5[] = { "a\r", "\nb\n", NULL };
	static const char *const p6[] = { "a\n", ".", "b\n", NULL };
	static const char *const p7[] = { "", NULL };
	static const char *const p8[] = { "x\n\n.\n", NULL };
	char *longl = malloc(2100), *want = malloc(2200);
	const char *parts[2] = { longl, NULL };
	const char *got;

	T_GROUP("body encoding");
	T_STREQ(enc(p1), "a\r\nb\r\n.\r\n", "LF to CRLF and the dot");
	T_STREQ(enc(p2), "..x\r\n...\r\n..\r\n.\r\n", "dot-stuffing");
	T_STREQ(enc(p3), "no newline\r\n.\r\n", "last line completed");
	T_STREQ(enc(p4), "a\r\nb\r\nc\r\n.\r\n", "bare CR becomes a line end");
	T_STREQ(enc(p5), "a\r\nb\r\n.\r\n", "CR LF split between calls");
	T_STREQ(enc(p6), "a\r\n..b\r\n.\r\n", "dot at a chunk boundary");
	T_STREQ(enc(p7), ".\r\n", "empty body");
	T_STREQ(enc(p8), "x\r\n\r\n..\r\n.\r\n", "empty line and lone dot");
	memset(longl, 'y', 2000);
	longl[2000] = '\0';
	memset(want, 'y', 998);
	memcpy(want + 998, "\r\n ", 3);
	memset(want + 1001, 'y', 997);
	memcpy(want + 1998, "\r\n ", 3);
	memset(want + 2001, 'y', 5);
	memcpy(want + 2006, "\r\n.\r\n", 6);
	got = enc(parts);
	T_STREQ(got, want, "a 2000-octet line folded at 998 with CRLF SP");
	longl[0] = '.';
	got = enc(parts);
	T_OK(strncmp(got, "..y", 3) == 0 && got[999] == '\r',
	    "the doubled dot does not count toward the limit");
	free(longl);
	free(want);
}

int
main(void)
{
	test_pipelined();
	test_lockstep();
	test_refusals_without_round_trip();
	test_tls_and_auth();
	test_new_auth();
	test_greeting_and_helo();
	test_body();
	buf_free(&tracebuf);
	return t_done();
}
