/*
 * smtp.c: the ESMTP client state machine (see smtp.h). No sockets, no
 * clocks, no files: every input is a reply or a call from the driver, and
 * every output is bytes in c->out, a state, and per-recipient outcomes.
 *
 * Entering a state emits its command; a complete reply picks the next
 * state. Replies are matched to commands in order, which is what makes
 * PIPELINING (RFC 2920) safe: MAIL, every RCPT and DATA are written at
 * once and their replies are consumed one by one in the same order.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "compat.h"
#include "psasl.h"
#include "smtp.h"
#include "smtp_reply.h"

/* RFC 5321 4.5.3.1.6: 1000 octets with CR LF; Postfix folds at 998. */
#define LINE_LIMIT	998

const char *const smtp_state_names[] = {
	"GREETING", "EHLO", "HELO", "STARTTLS", "TLS", "AUTH", "READY",
	"TXN", "BODY", "DOT", "RSET", "QUIT", "CLOSED", "FAILED",
};

const char *const smtp_fail_names[] = {
	"none", "connect", "greeting", "TLS", "AUTH", "protocol", "service",
};

static void	emit(struct smtp_client *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	emit_redacted(struct smtp_client *, const char *, size_t,
		    const char *);
static void	trace_reply(struct smtp_client *, const struct smtp_reply *);
static void	failure(struct smtp_client *, enum smtp_fail,
		    const struct smtp_reply *, const char *);
static void	send_ehlo(struct smtp_client *);
static void	after_ehlo(struct smtp_client *);
static void	start_auth(struct smtp_client *);
static void	auth_reply(struct smtp_client *, const struct smtp_reply *);
static void	txn_reply(struct smtp_client *, const struct smtp_reply *);
static void	send_mail(struct smtp_client *);
static void	send_rcpt(struct smtp_client *);
static void	send_data(struct smtp_client *);
static void	decide_all(struct smtp_txn *, bool only_accepted,
		    enum smtp_outcome, const char *);
static void	decide_undecided(struct smtp_txn *, const char *);
static enum smtp_outcome outcome_of(int code);
static void	end_txn(struct smtp_client *);
static bool	has_8bit(const char *);

void
smtp_init(struct smtp_client *c, const struct smtp_opts *o, bool tls_active)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->out);
	c->opts = o;
	c->state = SMTP_GREETING;
	c->tls_active = tls_active;
}

void
smtp_free(struct smtp_client *c)
{
	if (c == NULL)
		return;
	psasl_wipe(&c->out);
	psasl_clear(&c->sasl);
}

static void
emit(struct smtp_client *c, const char *fmt, ...)
{
	size_t start = c->out.len;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	buf_add(&c->out, "\r\n", 2);
	if (c->opts->trace != NULL)
		c->opts->trace(c->opts->trace_arg, true, c->out.data + start,
		    c->out.len - start - 2);
}

/* Sends text; the trace shows shown instead (secrets never reach it). */
static void
emit_redacted(struct smtp_client *c, const char *text, size_t len,
    const char *shown)
{
	buf_add(&c->out, text, len);
	buf_add(&c->out, "\r\n", 2);
	if (c->opts->trace != NULL)
		c->opts->trace(c->opts->trace_arg, true, shown, strlen(shown));
}

static void
trace_reply(struct smtp_client *c, const struct smtp_reply *r)
{
	struct buf b = BUF_INIT;

	if (c->opts->trace == NULL)
		return;
	smtp_reply_summary(r, &b);
	c->opts->trace(c->opts->trace_arg, false, b.data, b.len);
	buf_free(&b);
}

static void
failure(struct smtp_client *c, enum smtp_fail why, const struct smtp_reply *r,
    const char *what)
{
	struct buf b = BUF_INIT;

	if (r != NULL) {
		smtp_reply_summary(r, &b);
		snprintf(c->error, sizeof(c->error), "%s: %s", what, b.data);
	} else
		snprintf(c->error, sizeof(c->error), "%s", what);
	buf_free(&b);
	c->fail = why;
	c->state = SMTP_FAILED;
	if (c->txn != NULL) {
		decide_undecided(c->txn, c->error);
		c->txn = NULL;
	}
}

void
smtp_fail(struct smtp_client *c, enum smtp_fail why, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	failure(c, why, NULL, msg);
}

static void
send_ehlo(struct smtp_client *c)
{
	memset(&c->ext, 0, sizeof(c->ext));
	emit(c, "EHLO %s", c->opts->helo);
	c->state = SMTP_EHLO;
}

/* Capabilities known: STARTTLS, then AUTH, then ready. */
static void
after_ehlo(struct smtp_client *c)
{
	if (c->opts->tls == CONF_TLS_STARTTLS && !c->tls_active) {
		if (!c->ext.starttls) {
			failure(c, SMTP_FAIL_TLS, NULL,
			    "the server does not offer STARTTLS, which the "
			    "configuration requires (tls starttls)");
			return;
		}
		emit(c, "STARTTLS");
		c->state = SMTP_STARTTLS;
		return;
	}
	if (c->opts->user != NULL && !c->authenticated) {
		start_auth(c);
		return;
	}
	c->state = SMTP_READY;
}

static void
start_auth(struct smtp_client *c)
{
	const struct psasl_mech *m;
	struct buf b64 = BUF_INIT, line = BUF_INIT, shown = BUF_INIT;
	char err[256];
	unsigned have = 0;
	int rv;

	/* Never credentials in clear text unless the admin said tls none. */
	if (!c->tls_active && c->opts->tls != CONF_TLS_NONE) {
		failure(c, SMTP_FAIL_TLS, NULL, "refusing AUTH without TLS");
		return;
	}
	if (c->ext.auth[0] == '\0') {
		failure(c, SMTP_FAIL_AUTH, NULL,
		    "the server does not offer AUTH");
		return;
	}
	if (c->opts->pass != NULL)
		have |= PSASL_HAVE_PASSWORD;
	if (c->opts->token != NULL)
		have |= PSASL_HAVE_TOKEN;
	m = psasl_choose(c->opts->mechs, c->opts->nmechs, c->ext.auth, have);
	if (m == NULL) {
		buf_printf(&line, "no usable AUTH mechanism (server offers "
		    "%.200s; configured: %s)", c->ext.auth,
		    have == PSASL_HAVE_TOKEN ? "an access token" :
		    have == PSASL_HAVE_PASSWORD ? "a password" :
		    "a password and an access token");
		failure(c, SMTP_FAIL_AUTH, NULL, line.data);
		buf_free(&line);
		return;
	}
	psasl_init(&c->sasl, m, c->opts->user, m->secret == PSASL_TOKEN ?
	    c->opts->token : c->opts->pass);
	psasl_set_server(&c->sasl, c->opts->host, c->opts->port);
	rv = psasl_initial(&c->sasl, &b64, err, sizeof(err));
	if (rv == -1) {
		psasl_wipe(&b64);
		failure(c, SMTP_FAIL_AUTH, NULL, err);
		return;
	}
	buf_printf(&line, "AUTH %s", m->name);
	buf_printf(&shown, "AUTH %s", m->name);
	if (rv == 1) {
		buf_addch(&line, ' ');
		buf_add(&line, b64.data, b64.len);
		buf_addstr(&shown, " ***");
	}
	emit_redacted(c, line.data, line.len, shown.data);
	psasl_wipe(&b64);
	psasl_wipe(&line);
	buf_free(&shown);
	c->state = SMTP_AUTH;
}

static void
auth_reply(struct smtp_client *c, const struct smtp_reply *r)
{
	struct buf b64 = BUF_INIT;
	char err[256], what[256];
	bool token = c->sasl.mech != NULL &&
	    c->sasl.mech->secret == PSASL_TOKEN;

	if (r->code == 235) {
		/* SCRAM: no success unless the server proved itself */
		if (psasl_finish(&c->sasl, r->text.data, r->text.len, err,
		    sizeof(err)) == -1) {
			psasl_clear(&c->sasl);
			failure(c, SMTP_FAIL_AUTH, NULL, err);
			return;
		}
		psasl_clear(&c->sasl);
		c->authenticated = true;
		c->state = SMTP_READY;
		return;
	}
	if (r->code == 334) {
		if (psasl_respond(&c->sasl, r->text.data, r->text.len, &b64,
		    err, sizeof(err)) == -1) {
			psasl_wipe(&b64);
			psasl_clear(&c->sasl);
			/* "*" cancels the exchange (RFC 4954 4) */
			emit(c, "*");
			failure(c, SMTP_FAIL_AUTH, NULL, err);
			return;
		}
		emit_redacted(c, b64.data, b64.len, "***");
		psasl_wipe(&b64);
		return;
	}
	snprintf(what, sizeof(what), "%s%s%s%s%s",
	    r->code == 535 || (token && r->code >= 500) ?
	    "authentication failed" : "AUTH refused",
	    c->sasl.mech != NULL ? " (" : "",
	    c->sasl.mech != NULL ? c->sasl.mech->name : "",
	    c->sasl.refused ? ", token refused: " : "",
	    c->sasl.refused ? c->sasl.detail : "");
	if (c->sasl.mech != NULL)
		strlcat(what, ")", sizeof(what));
	/* a 4xx is the server's trouble; a 5xx or an error challenge, ours */
	c->token_refused = token && (c->sasl.refused || r->code >= 500);
	psasl_clear(&c->sasl);
	failure(c, SMTP_FAIL_AUTH, r, what);
}

void
smtp_reply(struct smtp_client *c, const struct smtp_reply *r)
{
	trace_reply(c, r);
	/* 421 at any point: the server is closing the session. */
	if (r->code == 421 && c->state != SMTP_QUIT) {
		failure(c, c->state == SMTP_GREETING ? SMTP_FAIL_GREETING :
		    SMTP_FAIL_SERVICE, r, "the server closed the session");
		return;
	}
	switch (c->state) {
	case SMTP_GREETING:
		if (r->code != 220) {
			failure(c, SMTP_FAIL_GREETING, r, "greeting");
			return;
		}
		send_ehlo(c);
		return;
	case SMTP_EHLO:
		if (r->code == 250) {
			smtp_ext_parse(r, &c->ext);
			after_ehlo(c);
			return;
		}
		/* RFC 5321 3.2: HELO, but only where nothing needs EHLO. */
		if (r->code >= 500 && c->opts->tls == CONF_TLS_NONE &&
		    c->opts->user == NULL) {
			emit(c, "HELO %s", c->opts->helo);
			c->state = SMTP_HELO;
			return;
		}
		failure(c, SMTP_FAIL_PROTOCOL, r, "EHLO refused");
		return;
	case SMTP_HELO:
		if (r->code != 250) {
			failure(c, SMTP_FAIL_PROTOCOL, r, "HELO refused");
			return;
		}
		c->state = SMTP_READY;
		return;
	case SMTP_STARTTLS:
		if (r->code != 220) {
			failure(c, SMTP_FAIL_TLS, r, "STARTTLS refused");
			return;
		}
		c->state = SMTP_TLS;
		return;
	case SMTP_AUTH:
		auth_reply(c, r);
		return;
	case SMTP_TXN:
		txn_reply(c, r);
		return;
	case SMTP_DOT:
		if (c->discard_dot)
			c->discard_dot = false;
		else {
			struct buf b = BUF_INIT;

			smtp_reply_summary(r, &b);
			decide_all(c->txn, true, outcome_of(r->code), b.data);
			buf_free(&b);
		}
		end_txn(c);
		return;
	case SMTP_RSET:
		if (r->code != 250) {
			failure(c, SMTP_FAIL_PROTOCOL, r, "RSET refused");
			return;
		}
		c->state = SMTP_READY;
		return;
	case SMTP_QUIT:
		c->state = SMTP_CLOSED;
		return;
	case SMTP_TLS:
	case SMTP_READY:
	case SMTP_BODY:
	case SMTP_CLOSED:
	case SMTP_FAILED:
		break;
	}
	failure(c, SMTP_FAIL_PROTOCOL, r, "unexpected reply");
}

void
smtp_tls_done(struct smtp_client *c)
{
	/* RFC 3207 4.2: forget everything learnt before TLS, ask again. */
	c->tls_active = true;
	send_ehlo(c);
}

static bool
has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

void
smtp_begin(struct smtp_client *c, struct smtp_txn *t)
{
	bool utf8 = has_8bit(t->sender);
	char msg[256];
	size_t i;

	c->txn = t;
	t->rcpt_next = t->rcpt_replies = t->accepted = 0;
	t->mail_ok = t->mail_replied = t->data_sent = false;
	for (i = 0; i < t->nrcpts; i++) {
		t->rcpts[i].outcome = SMTP_UNDECIDED;
		t->rcpts[i].accepted = false;
		t->rcpts[i].reply[0] = '\0';
		if (has_8bit(t->rcpts[i].addr))
			utf8 = true;
	}
	/* Refusals that need no round trip (RFC 1870, RFC 6531). */
	if (c->ext.size && c->ext.size_max > 0 &&
	    (unsigned long long)t->size > c->ext.size_max) {
		/* no reply code: this never crossed the wire */
		snprintf(msg, sizeof(msg), "5.3.4 message size %lld "
		    "exceeds the server's limit of %llu", (long long)t->size,
		    c->ext.size_max);
		decide_all(t, false, SMTP_PERMFAIL, msg);
		c->txn = NULL;
		return;
	}
	if (utf8 && !c->ext.smtputf8) {
		decide_all(t, false, SMTP_PERMFAIL, "5.6.7 non-ASCII "
		    "address but the server does not offer SMTPUTF8");
		c->txn = NULL;
		return;
	}
	c->state = SMTP_TXN;
	send_mail(c);
	if (c->ext.pipelining) {
		while (t->rcpt_next < t->nrcpts)
			send_rcpt(c);
		send_data(c);
	}
}

static void
send_mail(struct smtp_client *c)
{
	struct smtp_txn *t = c->txn;
	struct buf b = BUF_INIT;
	size_t i;

	buf_printf(&b, "MAIL FROM:<%s>", t->sender);
	if (c->ext.size)
		buf_printf(&b, " SIZE=%lld", (long long)t->size);
	if (t->eightbit && c->ext.eightbitmime)
		buf_addstr(&b, " BODY=8BITMIME");
	if (c->ext.smtputf8) {
		bool utf8 = has_8bit(t->sender);

		for (i = 0; i < t->nrcpts && !utf8; i++)
			utf8 = has_8bit(t->rcpts[i].addr);
		if (utf8)
			buf_addstr(&b, " SMTPUTF8");
	}
	emit(c, "%s", b.data);
	buf_free(&b);
}

static void
send_rcpt(struct smtp_client *c)
{
	struct smtp_txn *t = c->txn;

	emit(c, "RCPT TO:<%s>", t->rcpts[t->rcpt_next++].addr);
}

static void
send_data(struct smtp_client *c)
{
	emit(c, "DATA");
	c->txn->data_sent = true;
}

static enum smtp_outcome
outcome_of(int code)
{
	if (code >= 200 && code < 400)
		return SMTP_DELIVERED;
	if (code >= 500)
		return SMTP_PERMFAIL;
	return SMTP_TEMPFAIL;
}

/* Sets the outcome (and reply) of every undecided recipient. */
static void
decide_all(struct smtp_txn *t, bool only_accepted, enum smtp_outcome o,
    const char *reply)
{
	size_t i;

	if (reply == NULL)
		return;
	for (i = 0; i < t->nrcpts; i++) {
		if (t->rcpts[i].outcome != SMTP_UNDECIDED)
			continue;
		if (only_accepted && !t->rcpts[i].accepted)
			continue;
		t->rcpts[i].outcome = o;
		strlcpy(t->rcpts[i].reply, reply, sizeof(t->rcpts[i].reply));
	}
}

static void
decide_undecided(struct smtp_txn *t, const char *why)
{
	decide_all(t, false, SMTP_TEMPFAIL, why);
}

/*
 * One reply of MAIL, a RCPT or DATA, in the order they were sent. Without
 * PIPELINING the next command goes out only now.
 */
static void
txn_reply(struct smtp_client *c, const struct smtp_reply *r)
{
	struct smtp_txn *t = c->txn;
	struct buf b = BUF_INIT;
	struct smtp_rcpt *rc;

	smtp_reply_summary(r, &b);
	if (!t->mail_replied) {
		t->mail_replied = true;
		t->mail_ok = r->code / 100 == 2;
		if (!t->mail_ok)
			decide_all(t, false, outcome_of(r->code), b.data);
		if (!c->ext.pipelining) {
			if (t->mail_ok)
				send_rcpt(c);
			else
				end_txn(c);
		}
		buf_free(&b);
		return;
	}
	if (t->rcpt_replies < t->rcpt_next) {
		rc = &t->rcpts[t->rcpt_replies++];
		if (t->mail_ok) {
			if (r->code / 100 == 2) {
				rc->accepted = true;
				t->accepted++;
			} else {
				rc->outcome = outcome_of(r->code);
				strlcpy(rc->reply, b.data, sizeof(rc->reply));
			}
		}
		if (!c->ext.pipelining) {
			if (t->rcpt_next < t->nrcpts)
				send_rcpt(c);
			else if (t->accepted > 0)
				send_data(c);
			else
				end_txn(c);
		}
		buf_free(&b);
		return;
	}
	/* the reply to DATA */
	if (r->code == 354) {
		if (t->mail_ok && t->accepted > 0) {
			c->state = SMTP_BODY;
		} else {
			/* RFC 2920 3.1: nothing to send, close DATA at once */
			emit(c, ".");
			c->discard_dot = true;
			c->state = SMTP_DOT;
		}
		buf_free(&b);
		return;
	}
	if (t->mail_ok && t->accepted > 0)
		decide_all(t, true, outcome_of(r->code / 100 == 2 ?
		    451 : r->code), b.data);
	buf_free(&b);
	end_txn(c);
}

void
smtp_body_sent(struct smtp_client *c)
{
	c->state = SMTP_DOT;
}

/*
 * The transaction is over. After the final dot the server has reset it
 * already; after a refusal half-way, RSET makes the session clean for the
 * next message.
 */
static void
end_txn(struct smtp_client *c)
{
	/* Anything still undecided (e.g. RCPTs never sent) retries later. */
	decide_undecided(c->txn, "not attempted: the transaction ended early");
	c->txn = NULL;
	if (c->state == SMTP_DOT) {
		c->state = SMTP_READY;
		return;
	}
	emit(c, "RSET");
	c->state = SMTP_RSET;
}

void
smtp_quit(struct smtp_client *c)
{
	emit(c, "QUIT");
	c->state = SMTP_QUIT;
}

void
smtp_body_init(struct smtp_body *s)
{
	s->bol = true;
	s->cr = false;
	s->col = 0;
}

void
smtp_body_encode(struct smtp_body *s, const char *p, size_t n,
    struct buf *out)
{
	size_t i, run;

	buf_grow(out, n + n / 8 + 8);
	for (i = 0; i < n; i++) {
		char ch = p[i];

		if (s->cr) {
			s->cr = false;
			if (ch == '\n')
				continue;	/* CR LF: one line end, sent */
		}
		if (ch == '\r' || ch == '\n') {
			buf_add(out, "\r\n", 2);
			s->bol = true;
			s->col = 0;
			s->cr = ch == '\r';
			continue;
		}
		if (s->col >= LINE_LIMIT) {
			/* fold: CR LF SP keeps MIME structure intact */
			buf_add(out, "\r\n ", 3);
			s->col = 1;
			s->bol = false;
		}
		/* the doubled dot does not count (RFC 5321 4.5.3.1.6) */
		if (s->bol && ch == '.')
			buf_addch(out, '.');
		s->bol = false;
		/* copy the run of ordinary bytes in one go */
		for (run = 1; i + run < n && run + s->col < LINE_LIMIT &&
		    p[i + run] != '\r' && p[i + run] != '\n'; run++)
			;
		buf_add(out, p + i, run);
		s->col += run;
		i += run - 1;
	}
}

void
smtp_body_end(struct smtp_body *s, struct buf *out)
{
	if (!s->bol)
		buf_add(out, "\r\n", 2);
	buf_add(out, ".\r\n", 3);
	smtp_body_init(s);
}
