/*
 * test_envelope.c: envelope records round-trip, and damaged records are
 * refused rather than read as something else; queue IDs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "envelope.h"
#include "spool.h"
#include "t.h"

static void
test_head_roundtrip(void)
{
	struct envelope e, r;
	struct buf b = BUF_INIT;
	char err[256];
	size_t off, boff;

	T_GROUP("head");
	memset(&e, 0, sizeof(e));
	e.size = 2048;
	e.arrival = 1764135352;
	e.sender = xstrdup("user@example.org");
	envelope_add_rcpt(&e, "root@example.org");
	envelope_add_rcpt(&e, "\"john doe\"@example.org");
	envelope_format_head(&e, &b, &off, &boff);
	T_STREQ(b.data, "postern-queue 1\nsize 00000000000000002048\n"
	    "body 7bit\narrival 1764135352\nsender user@example.org\n"
	    "rcpt pending root@example.org\n"
	    "rcpt pending \"john doe\"@example.org\n\n", "format");
	T_OK(memcmp(b.data + off, "00000000000000002048", 20) == 0,
	    "size offset points at the digits");
	T_OK(memcmp(b.data + boff, "7bit\n", 5) == 0,
	    "body offset points at the type");
	buf_addstr(&b, "Subject: x\n\nbody\n");
	T_INTEQ(envelope_parse_head(&r, b.data, b.len, err, sizeof(err)), 0,
	    "parse");
	T_INTEQ(r.size, 2048, "size");
	T_INTEQ(r.arrival, 1764135352, "arrival");
	T_OK(!r.eightbit, "7bit");
	T_STREQ(r.sender, "user@example.org", "sender");
	T_INTEQ(r.nrcpts, 2, "recipients");
	T_STREQ(r.rcpts[1].addr, "\"john doe\"@example.org",
	    "address with a blank");
	T_INTEQ(r.rcpts[0].state, RCPT_PENDING, "pending");
	T_INTEQ(r.body_offset, (long long)(strstr(b.data, "Subject") -
	    b.data), "body offset");
	T_INTEQ(envelope_pending(&r), 2, "pending count");
	envelope_free(&r);

	/* the null sender */
	free(e.sender);
	e.sender = xstrdup("");
	buf_reset(&b);
	e.eightbit = true;
	envelope_format_head(&e, &b, NULL, NULL);
	T_OK(strstr(b.data, "\nsender\n") != NULL, "null sender written bare");
	T_INTEQ(envelope_parse_head(&r, b.data, b.len, err, sizeof(err)), 0,
	    "null sender parses");
	T_STREQ(r.sender, "", "null sender read back");
	T_OK(r.eightbit, "8bit read back");
	T_OK(r.account == NULL, "no account line: the default account");
	envelope_free(&r);

	/* a named account (conf.h) */
	e.account = xstrdup("work-2.x_y");
	buf_reset(&b);
	envelope_format_head(&e, &b, NULL, NULL);
	T_OK(strstr(b.data, "\nsender\naccount work-2.x_y\nrcpt ") != NULL,
	    "account written after the sender");
	T_INTEQ(envelope_parse_head(&r, b.data, b.len, err, sizeof(err)), 0,
	    "account parses");
	T_STREQ(r.account, "work-2.x_y", "account read back");
	envelope_free(&r);
	envelope_free(&e);
	T_OK(e.account == NULL, "envelope_free clears the account");
	buf_free(&b);
}

static void
test_head_damaged(void)
{
	static const struct {
		const char *text, *name;
	} bad[] = {
		{ "", "empty" },
		{ "postern-queue 2\n", "other version" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\nrcpt pending x@y\n",
		  "no empty line (torn)" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\n\n",
		  "no recipient" },
		{ "postern-queue 1\nbody 7bit\narrival 1\nsender a@b\nrcpt pending x@y\n\n",
		  "no size" },
		{ "postern-queue 1\nsize 1\nbody 7bit\nsender a@b\nrcpt pending x@y\n\n",
		  "no arrival" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nrcpt pending x@y\n\n",
		  "no sender" },
		{ "postern-queue 1\nsize x\nbody 7bit\narrival 1\nsender a@b\nrcpt pending x@y\n\n",
		  "bad size" },
		{ "postern-queue 1\nsize 99999999999999999999999\nbody 7bit\narrival 1\nsender a@b\nrcpt pending x@y\n\n",
		  "size overflow" },
		{ "postern-queue 1\nsize 1\nsize 1\narrival 1\nsender a@b\nrcpt pending x@y\n\n",
		  "duplicate size" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\nrcpt maybe x@y\n\n",
		  "bad state" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\nrcpt pending \n\n",
		  "empty address" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\nrcpt pending x\ty\n\n",
		  "control character" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\nrcpt pending x@y\nextra 1\n\n",
		  "unknown key" },
		{ "postern-queue 1\nsize 1\narrival 1\nsender a@b\nrcpt pending x@y\n\n",
		  "no body type" },
		{ "postern-queue 1\nsize 1\nbody 9bit\narrival 1\nsender a@b\nrcpt pending x@y\n\n",
		  "bad body type" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\naccount \nrcpt pending x@y\n\n",
		  "empty account" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\naccount a\naccount b\nrcpt pending x@y\n\n",
		  "two accounts" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\naccount ../x\nrcpt pending x@y\n\n",
		  "account with a slash" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\naccount a b\nrcpt pending x@y\n\n",
		  "account with a blank" },
		{ "postern-queue 1\nsize 1\nbody 7bit\narrival 1\nsender a@b\naccount "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nrcpt pending x@y\n\n",
		  "account longer than 64 bytes" },
	};
	struct envelope r;
	char err[256];
	size_t i;

	T_GROUP("head damaged");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		T_INTEQ(envelope_parse_head(&r, bad[i].text,
		    strlen(bad[i].text), err, sizeof(err)), -1, bad[i].name);
		T_OK(err[0] != '\0', "reason given");
		T_OK(r.rcpts == NULL && r.sender == NULL, "nothing left");
	}
}

static void
test_state_roundtrip(void)
{
	struct envelope e, r;
	struct buf b = BUF_INIT, h = BUF_INIT;
	char err[256];

	T_GROUP("state");
	memset(&e, 0, sizeof(e));
	e.sender = xstrdup("s@x");
	e.arrival = 5;
	envelope_add_rcpt(&e, "a@x");
	envelope_add_rcpt(&e, "b@x");
	envelope_add_rcpt(&e, "c@x");
	envelope_format_head(&e, &h, NULL, NULL);
	e.rcpts[0].state = RCPT_SENT;
	e.rcpts[2].state = RCPT_FAILED;
	e.rcpts[2].reason = xstrdup("550 5.1.1 no\r\nsuch user");
	e.attempts = 3;
	e.last_attempt = 100;
	e.next_attempt = 400;
	e.error = xstrdup("connect: refused");
	envelope_format_state(&e, &b);
	T_STREQ(b.data, "postern-state 1\nattempts 3\nlast-attempt 100\n"
	    "next-attempt 400\nerror connect: refused\nrcpt sent a@x\n"
	    "rcpt pending b@x\nrcpt failed c@x\n"
	    "reason 550 5.1.1 no??such user\nend\n",
	    "format, line breaks in reasons made printable");
	T_INTEQ(envelope_parse_head(&r, h.data, h.len, err, sizeof(err)), 0,
	    "head parses");
	T_INTEQ(envelope_parse_state(&r, b.data, b.len, err, sizeof(err)), 0,
	    "state parses");
	T_INTEQ(r.attempts, 3, "attempts");
	T_INTEQ(r.next_attempt, 400, "next attempt");
	T_STREQ(r.error, "connect: refused", "error");
	T_INTEQ(r.rcpts[0].state, RCPT_SENT, "sent");
	T_INTEQ(r.rcpts[2].state, RCPT_FAILED, "failed");
	T_STREQ(r.rcpts[2].reason, "550 5.1.1 no??such user", "reason");
	T_INTEQ(envelope_pending(&r), 1, "one pending");
	T_STREQ(r.sender, "s@x", "sender kept from the head");

	/* torn or damaged state files leave the envelope as it was */
	buf_truncate(&b, b.len - 4);
	T_INTEQ(envelope_parse_state(&r, b.data, b.len, err, sizeof(err)), -1,
	    "state without end refused");
	T_INTEQ(r.attempts, 3, "envelope unchanged after a refused state");
	T_INTEQ(envelope_parse_state(&r, "postern-state 1\nend\n", 20, err,
	    sizeof(err)), -1, "state without recipients refused");
	T_INTEQ(envelope_parse_state(&r,
	    "postern-state 1\nrcpt sent a@x\nend\nx", 35, err, sizeof(err)), -1,
	    "bytes after end refused");
	T_INTEQ(envelope_parse_state(&r,
	    "postern-state 1\nreason x\nrcpt sent a@x\nend\n", 43, err,
	    sizeof(err)), -1, "reason before any recipient refused");
	envelope_free(&r);
	envelope_free(&e);
	buf_free(&b);
	buf_free(&h);
}

static void
test_qid(void)
{
	char a[QID_LEN + 1], b[QID_LEN + 1];
	time_t now = time(NULL);
	int i, same = 0;

	T_GROUP("qid");
	qid_new(a);
	T_INTEQ(strlen(a), QID_LEN, "length");
	T_OK(qid_valid(a), "valid");
	T_OK(qid_time(a) >= now - 1 && qid_time(a) <= now + 1,
	    "encodes the time");
	for (i = 0; i < 1000; i++) {
		qid_new(b);
		if (strcmp(a, b) == 0)
			same++;
		if (strcmp(a, b) > 0 && qid_time(b) > qid_time(a))
			same += 1000;
		memcpy(a, b, sizeof(a));
	}
	T_INTEQ(same, 0, "1000 consecutive IDs distinct and time-ordered");
	T_OK(!qid_valid(""), "empty invalid");
	T_OK(!qid_valid("1NGFJ4S69C3QME"), "short invalid");
	T_OK(!qid_valid("1NGFJ4S69C3QMEYY"), "long invalid");
	T_OK(!qid_valid("1NGFJ4S69C3QMEI"), "letter I invalid");
	T_OK(!qid_valid("../../etc/passw"), "path invalid");
	T_OK(!qid_valid("1ngfj4s69c3qmey"), "lower case invalid");
}

int
main(void)
{
	test_head_roundtrip();
	test_head_damaged();
	test_state_roundtrip();
	test_qid();
	return t_done();
}
