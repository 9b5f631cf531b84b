/*
 * fuzz_smtp_reply: what a hostile or broken smarthost can send.
 *
 * Input: one byte of settings, then the server's byte stream. The stream
 * goes through the incremental reply parser (smtp_reply.c) twice, whole
 * and in pieces of 1 to 8 bytes: both must yield the same replies and
 * stop at the same error (the parser is incremental, so where the reads
 * end must not matter). Each reply is checked against smtp_reply.h's
 * promises, summarised, and parsed as an EHLO reply. The same replies
 * then drive the client state machine (smtp.c) through STARTTLS, AUTH
 * with the mechanisms of psasl_mechs[], two transactions and QUIT; its
 * trace, which -v prints, must never show the password.
 */
#include "config.h"

#include <stdbool.h>

#include "buf.h"
#include "psasl.h"
#include "smtp.h"
#include "smtp_reply.h"
#include "fuzz.h"

#define USER	"user@example.org"
#define PASS	"s3cret-Pa55"

static bool secret_seen;

static void
check_reply(const struct smtp_reply *r)
{
	struct smtp_ext ext;
	struct buf b = BUF_INIT;

	FUZZ_CHECK(r->code >= 200 && r->code <= 599);
	FUZZ_CHECK(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
	FUZZ_CHECK(memchr(r->text.data, '\r', r->text.len) == NULL);
	FUZZ_CHECK(memchr(r->text.data, '\0', r->text.len) == NULL);
	FUZZ_CHECK(strlen(r->enhanced) < sizeof(r->enhanced));
	FUZZ_CHECK(r->enhanced[0] == '\0' ||
	    r->enhanced[0] == '0' + r->code / 100);
	smtp_reply_summary(r, &b);
	FUZZ_CHECK(b.len <= 400);
	FUZZ_CHECK(!fuzz_has_ctl(b.data, b.len));
	buf_free(&b);
	memset(&ext, 0, sizeof(ext));
	smtp_ext_parse(r, &ext);
	FUZZ_CHECK(strlen(ext.auth) < sizeof(ext.auth));
	(void)smtp_ext_has_auth(&ext, "PLAIN");
}

/* Parses s[0..n) in pieces of at most step bytes; a transcript to out. */
static void
parse(const char *s, size_t n, size_t step, struct buf *out,
    struct smtp_reply **rv, size_t *nr)
{
	struct smtp_reply_parser p;
	struct smtp_reply r;
	size_t off = 0, len, used;
	char err[256];
	enum rp_status st;

	smtp_reply_parser_init(&p);
	while (off < n) {
		len = n - off < step ? n - off : step;
		used = 0;
		st = smtp_reply_feed(&p, s + off, len, &used, &r, err,
		    sizeof(err));
		FUZZ_CHECK(used <= len);
		off += used;
		if (st == RP_ERROR) {
			FUZZ_CHECK(err[0] != '\0');
			buf_printf(out, "error at %zu: %s\n", off, err);
			smtp_reply_parser_free(&p);
			return;
		}
		if (st == RP_MORE) {
			FUZZ_CHECK(used == len);
			continue;
		}
		FUZZ_CHECK(used > 0);
		check_reply(&r);
		buf_printf(out, "%d [%s] %zu lines at %zu: ", r.code,
		    r.enhanced, r.nlines, off);
		buf_add(out, r.text.data, r.text.len);
		buf_addch(out, '\n');
		if (rv != NULL && *nr < 64) {
			(*rv)[(*nr)++] = r;
			continue;
		}
		smtp_reply_free(&r);
	}
	buf_printf(out, "more\n");
	smtp_reply_parser_free(&p);
}

static void
trace(void *arg, bool sent, const char *line, size_t len)
{
	struct buf b = BUF_INIT;

	(void)arg;
	if (!sent)
		return;		/* the server's text may say anything */
	buf_add(&b, line, len);
	if (strstr(b.data, PASS) != NULL || strstr(b.data, "czNjcmV0LVBhNTU") ||
	    strstr(b.data, "AHVzZXJAZXhhbXBsZS5vcmcAczNjcmV0LVBhNTU"))
		secret_seen = true;
	buf_free(&b);
}

static void
drive(unsigned flags, struct smtp_reply *rv, size_t nr)
{
	static const enum conf_tls modes[] = {
		CONF_TLS_STARTTLS, CONF_TLS_SMTPS, CONF_TLS_NONE, CONF_TLS_NONE
	};
	struct smtp_rcpt rcpts[3];
	struct smtp_txn txn;
	struct smtp_opts o;
	struct smtp_client c;
	size_t i, k, txns = 0;

	memset(&o, 0, sizeof(o));
	o.helo = "client.example.org";
	o.tls = modes[flags & 3];
	if (flags & 4) {
		o.user = USER;
		o.pass = PASS;
	}
	o.trace = trace;
	memset(&txn, 0, sizeof(txn));
	memset(rcpts, 0, sizeof(rcpts));
	rcpts[0].addr = "a@example.org";
	rcpts[1].addr = "b@example.org";
	rcpts[2].addr = (flags & 8) ? "\xc3\xa9t\xc3\xa9@example.org" :
	    "c@example.org";
	txn.sender = (flags & 16) ? "" : "sender@example.org";
	txn.rcpts = rcpts;
	txn.nrcpts = 1 + (flags >> 5) % 3;
	txn.size = (flags & 128) ? 100000000 : 2048;
	txn.eightbit = (flags & 8) != 0;

	secret_seen = false;
	smtp_init(&c, &o, o.tls == CONF_TLS_SMTPS);
	for (i = 0; i < nr; i++) {
		if (c.state == SMTP_CLOSED || c.state == SMTP_FAILED)
			break;
		smtp_reply(&c, &rv[i]);
		buf_reset(&c.out);
		for (;;) {
			if (c.state == SMTP_TLS)
				smtp_tls_done(&c);
			else if (c.state == SMTP_BODY)
				smtp_body_sent(&c);
			else if (c.state == SMTP_READY && txns < 2) {
				txns++;
				smtp_begin(&c, &txn);
				if (c.state == SMTP_READY)
					for (k = 0; k < txn.nrcpts; k++)
						FUZZ_CHECK(rcpts[k].outcome !=
						    SMTP_UNDECIDED);
			} else if (c.state == SMTP_READY)
				smtp_quit(&c);
			else
				break;
			buf_reset(&c.out);
		}
		FUZZ_CHECK(c.state != SMTP_FAILED || c.error[0] != '\0');
	}
	FUZZ_CHECK(!(c.authenticated && o.user == NULL));
	smtp_free(&c);
	FUZZ_CHECK(!secret_seen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, pieces = BUF_INIT;
	struct smtp_reply *rv;
	const char *s;
	size_t n, nr = 0, i;
	unsigned flags;

	if (size < 1 || size > 256 * 1024)
		return 0;
	flags = data[0];
	s = (const char *)data + 1;
	n = size - 1;
	rv = calloc(64, sizeof(*rv));
	FUZZ_CHECK(rv != NULL);
	parse(s, n, n, &whole, &rv, &nr);
	parse(s, n, 1 + flags % 8, &pieces, NULL, NULL);
	if (whole.len != pieces.len ||
	    memcmp(whole.data, pieces.data, whole.len) != 0) {
		fprintf(stderr, "whole:\n%s\npieces of %u:\n%s\n", whole.data,
		    1 + flags % 8, pieces.data);
		FUZZ_CHECK(!"the same replies in pieces");
	}
	drive(flags, rv, nr);
	for (i = 0; i < nr; i++)
		smtp_reply_free(&rv[i]);
	free(rv);
	buf_free(&whole);
	buf_free(&pieces);
	return 0;
}
