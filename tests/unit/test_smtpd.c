/*
 * test_smtpd.c: the -bs SMTP server over pipes with a fake submit
 * function: whole transcripts (each with the input split at every
 * possible place), command order and syntax, address checks, DATA
 * endings, and when replies are flushed (RFC 2920).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "intake.h"
#include "smtpd.h"
#include "t.h"

/* What the fake submit function saw and how it answers. */
struct fake {
	int		 mode;		/* FAKE_* */
	int		 count;		/* messages taken */
	struct buf	 msg;		/* the last message's bytes */
	struct buf	 env;		/* "sender>rcpt,rcpt," of the last */
	bool		 body_8bit;
	bool		 smtputf8;
};

enum { FAKE_OK, FAKE_TEMPFAIL, FAKE_STOP_EARLY };

static void
fake_submit(void *arg, const struct smtpd_txn *t, struct reader *r,
    char *reply)
{
	struct fake *f = arg;
	char tmp[7];
	ssize_t n;
	size_t i;

	buf_reset(&f->msg);
	buf_reset(&f->env);
	buf_printf(&f->env, "%s>", t->sender);
	for (i = 0; i < t->nrcpts; i++)
		buf_printf(&f->env, "%s,", t->rcpts[i]);
	f->body_8bit = t->body_8bit;
	f->smtputf8 = t->smtputf8;
	if (f->mode == FAKE_STOP_EARLY) {
		/* a few bytes, then an error: smtpd must skip the rest */
		if (reader_read(r, tmp, sizeof(tmp)) == -1)
			return;
		snprintf(reply, SMTPD_REPLY_MAX, "552 5.3.4 too big");
		return;
	}
	while ((n = reader_read(r, tmp, sizeof(tmp))) > 0)
		buf_add(&f->msg, tmp, (size_t)n);
	if (n == -1)
		return;
	if (f->mode == FAKE_TEMPFAIL) {
		snprintf(reply, SMTPD_REPLY_MAX, "451 4.3.0 Error: "
		    "disk\r\nfull");
		return;
	}
	f->count++;
	snprintf(reply, SMTPD_REPLY_MAX, "250 2.0.0 Ok: queued as Q%d",
	    f->count);
}

static void
fake_free(struct fake *f)
{
	buf_free(&f->msg);
	buf_free(&f->env);
}

/* A pipe fed by a child in pieces of chunk bytes, 1 ms apart. */
static int
feed(const char *in, size_t len, size_t chunk)
{
	struct timespec ts = { 0, 1000000 };
	int p[2];
	size_t off;
	pid_t pid;

	if (pipe(p) == -1)
		abort();
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		close(p[0]);
		for (off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;

			if (write(p[1], in + off, n) != (ssize_t)n)
				_exit(1);
			if (chunk < len)
				nanosleep(&ts, NULL);
		}
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void
params_init(struct smtpd_params *p, struct fake *f, int in, int out)
{
	memset(p, 0, sizeof(*p));
	p->infd = in;
	p->outfd = out;
	p->hostname = "mx.test";
	p->domain = "example.org";
	p->submit = fake_submit;
	p->arg = f;
}

/* Runs a session on in[0..len) fed in chunks; the replies into out. */
static enum smtpd_end
session(struct fake *f, const char *in, size_t len, size_t chunk,
    struct buf *out)
{
	struct smtpd_params p;
	enum smtpd_end end;
	FILE *tmp;
	char b[4096];
	size_t n;
	int fd, error;

	fd = feed(in, len, chunk ? chunk : 1);
	if ((tmp = tmpfile()) == NULL)
		abort();
	params_init(&p, f, fd, fileno(tmp));
	end = smtpd_run(&p, &error);
	close(fd);
	while (wait(NULL) > 0)
		;
	rewind(tmp);
	buf_reset(out);
	while ((n = fread(b, 1, sizeof(b), tmp)) > 0)
		buf_add(out, b, n);
	fclose(tmp);
	return end;
}

static enum smtpd_end
run(struct fake *f, const char *in, struct buf *out)
{
	return session(f, in, strlen(in), strlen(in), out);
}

/* The last reply line of out (without CRLF), in a static buffer. */
static const char *
last(const struct buf *out)
{
	static char line[1024];
	const char *e, *s;

	if (out->len < 2)
		return "";
	e = out->data + out->len - 2;
	for (s = e; s > out->data && s[-1] != '\n'; s--)
		;
	snprintf(line, sizeof(line), "%.*s", (int)(e - s), s);
	return line;
}

static bool
ends_with(const struct buf *b, const char *s)
{
	size_t n = strlen(s);

	return b->len >= n && memcmp(b->data + b->len - n, s, n) == 0;
}

/* The reply after the greeting to one command: the second line. */
static const char *
answer(struct fake *f, const char *cmd)
{
	static char line[1024];
	struct buf in = BUF_INIT, out = BUF_INIT;
	const char *s, *e;

	buf_printf(&in, "%s\r\n", cmd);
	(void)session(f, in.data, in.len, in.len, &out);
	line[0] = '\0';
	if ((s = strstr(out.data, "\r\n")) != NULL &&
	    (e = strstr(s + 2, "\r\n")) != NULL)
		snprintf(line, sizeof(line), "%.*s", (int)(e - s - 2), s + 2);
	buf_free(&in);
	buf_free(&out);
	return line;
}

static void
test_transcript(void)
{
	static const char in[] =
	    "EHLO client.test\r\n"
	    "MAIL FROM:<a@b.org> BODY=8BITMIME SIZE=100\r\n"
	    "RCPT TO:<root>\r\n"
	    "RCPT TO:<x@y.org>\r\n"
	    "RCPT TO:<x@Y.ORG>\r\n"
	    "DATA\r\n"
	    "Subject: s\r\n"
	    "\r\n"
	    "..leading dot\r\n"
	    "..\r\n"
	    "mid.dot\n"
	    "\xc3\xa9t\xc3\xa9\r\n"
	    ".\r\n"
	    "mail from:<>\r\n"
	    "rcpt to:<c@d.org>\r\n"
	    "data\r\n"
	    ".\r\n"
	    "QUIT\r\n";
	static const char want[] =
	    "220 mx.test ESMTP postern\r\n"
	    "250-mx.test\r\n"
	    "250-PIPELINING\r\n"
	    "250-8BITMIME\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250-SMTPUTF8\r\n"
	    "250 HELP\r\n"
	    "250 2.1.0 Ok\r\n"
	    "250 2.1.5 Ok\r\n"
	    "250 2.1.5 Ok\r\n"
	    "250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as Q1\r\n"
	    "250 2.1.0 Ok\r\n"
	    "250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as Q2\r\n"
	    "221 2.0.0 Bye\r\n";
	struct fake f;
	struct buf out = BUF_INIT;
	size_t chunk, len = strlen(in);
	int bad = 0, badmsg = 0;

	T_GROUP("transcript");
	memset(&f, 0, sizeof(f));
	T_INTEQ(run(&f, in, &out), SMTPD_END_QUIT, "ends with QUIT");
	T_STREQ(out.data, want, "replies");
	T_STREQ(f.env.data, ">c@d.org,", "second: null sender");
	T_INTEQ(f.count, 2, "two messages");
	T_STREQ(f.msg.data, "", "second: empty message");

	f.count = 0;
	(void)session(&f, in, len, len, &out);
	for (chunk = 1; chunk < len; chunk++) {
		f.count = 0;
		(void)session(&f, in, (size_t)(strstr(in, "mail from") - in),
		    chunk, &out);
		if (strcmp(f.msg.data, "Subject: s\n\n.leading dot\n.\n"
		    "mid.dot\n\xc3\xa9t\xc3\xa9\n") != 0)
			badmsg++;
		f.count = 0;
		(void)session(&f, in, len, chunk, &out);
		if (strcmp(out.data, want) != 0)
			bad++;
	}
	T_INTEQ(bad, 0, "same replies at every split point");
	T_INTEQ(badmsg, 0, "message unstuffed at every split point");

	f.count = 0;
	(void)session(&f, in, (size_t)(strstr(in, "mail from") - in), len,
	    &out);
	T_STREQ(f.env.data, "a@b.org>root,x@y.org,",
	    "envelope: local name left for the aliases, duplicate dropped");
	T_OK(f.body_8bit, "BODY=8BITMIME passed on");
	buf_free(&out);
	fake_free(&f);
}

static void
test_commands(void)
{
	struct fake f;
	struct buf out = BUF_INIT, in = BUF_INIT;
	char *longl;
	int i;

	T_GROUP("commands");
	memset(&f, 0, sizeof(f));
	T_STREQ(answer(&f, "HELO c"), "250 mx.test", "HELO");
	T_STREQ(answer(&f, "HELO"), "501 5.5.4 Syntax: HELO hostname",
	    "HELO without a name");
	T_STREQ(answer(&f, "EHLO"), "501 5.5.4 Syntax: EHLO hostname",
	    "EHLO without a name");
	T_STREQ(answer(&f, "NOOP"), "250 2.0.0 Ok", "NOOP");
	T_STREQ(answer(&f, "noop anything"), "250 2.0.0 Ok",
	    "NOOP with a parameter, lower case");
	T_STREQ(answer(&f, "RSET"), "250 2.0.0 Ok", "RSET");
	T_STREQ(answer(&f, "RSET x"), "501 5.5.4 Syntax: RSET",
	    "RSET with a parameter");
	T_OK(strncmp(answer(&f, "VRFY root"), "252 2.0.0 ", 10) == 0, "VRFY");
	T_OK(strncmp(answer(&f, "HELP"), "214 2.0.0 ", 10) == 0, "HELP");
	T_STREQ(answer(&f, "EXPN list"),
	    "502 5.5.1 Error: command not implemented", "EXPN");
	T_STREQ(answer(&f, "STARTTLS"),
	    "502 5.5.1 Error: command not implemented", "STARTTLS");
	T_STREQ(answer(&f, "FOO bar"),
	    "500 5.5.1 Error: command not recognized", "unknown");
	T_STREQ(answer(&f, ""), "500 5.5.1 Error: command not recognized",
	    "empty line");
	T_STREQ(answer(&f, "MAILFROM:<a@b>"),
	    "500 5.5.1 Error: command not recognized", "glued verb");
	T_STREQ(answer(&f, "RCPT TO:<a@b.org>"),
	    "503 5.5.1 Error: need MAIL command", "RCPT before MAIL");
	T_STREQ(answer(&f, "DATA"), "503 5.5.1 Error: need MAIL command",
	    "DATA before MAIL");
	T_STREQ(answer(&f, "QUIT"), "221 2.0.0 Bye", "QUIT");

	/* order inside a transaction */
	T_INTEQ(run(&f, "MAIL FROM:<a@b.org>\r\nMAIL FROM:<c@d.org>\r\n"
	    "DATA\r\nRCPT TO:<x@y.org> NOTIFY=NEVER\r\nDATA\r\n", &out),
	    SMTPD_END_EOF, "EOF between commands");
	T_OK(strstr(out.data, "250 2.1.0 Ok\r\n503 5.5.1 Error: nested MAIL "
	    "command\r\n503 5.5.1 Error: need RCPT command\r\n") != NULL,
	    "nested MAIL, DATA without RCPT");
	T_STREQ(last(&out), "554 5.5.1 Error: no valid recipients",
	    "DATA after every RCPT was refused");
	T_OK(strstr(out.data, "555 5.5.4 Unsupported RCPT parameter NOTIFY")
	    != NULL, "RCPT parameter refused");
	(void)run(&f, "MAIL FROM:<a@b.org>\r\nRSET\r\nRCPT TO:<x@y.org>\r\n",
	    &out);
	T_STREQ(last(&out), "503 5.5.1 Error: need MAIL command",
	    "RSET ends the transaction");
	(void)run(&f, "MAIL FROM:<a@b.org>\r\nEHLO again\r\nRCPT TO:<x@y>\r\n",
	    &out);
	T_STREQ(last(&out), "503 5.5.1 Error: need MAIL command",
	    "EHLO ends the transaction");
	(void)run(&f, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nDATA x\r\n",
	    &out);
	T_STREQ(last(&out), "501 5.5.4 Syntax: DATA", "DATA with a parameter");

	/* line length: 998 bytes before CRLF pass, 999 do not */
	longl = malloc(2000);
	memset(longl, 'x', 2000);
	memcpy(longl, "NOOP ", 5);
	buf_reset(&in);
	buf_add(&in, longl, 998);
	buf_addstr(&in, "\r\n");
	buf_add(&in, longl, 999);
	buf_addstr(&in, "\r\n");
	buf_add(&in, longl, 999);
	buf_addstr(&in, "\n");
	buf_add(&in, longl, 2000);
	buf_add(&in, longl, 2000);
	buf_addstr(&in, "\r\nNOOP\r\n");
	(void)session(&f, in.data, in.len, 100, &out);
	T_STREQ(out.data, "220 mx.test ESMTP postern\r\n250 2.0.0 Ok\r\n"
	    "500 5.5.2 Error: line too long\r\n"
	    "500 5.5.2 Error: line too long\r\n"
	    "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n",
	    "998 octets pass, longer lines refused, the session goes on");
	free(longl);

	/* LF-only command lines are accepted */
	(void)run(&f, "NOOP\nQUIT\n", &out);
	T_STREQ(last(&out), "221 2.0.0 Bye", "LF-only lines");

	/* too many recipients */
	buf_reset(&in);
	buf_addstr(&in, "MAIL FROM:<a@b.org>\r\n");
	for (i = 0; i <= SMTPD_MAX_RCPTS; i++)
		buf_printf(&in, "RCPT TO:<r%d@x.org>\r\n", i);
	(void)session(&f, in.data, in.len, in.len, &out);
	T_STREQ(last(&out), "452 4.5.3 Error: too many recipients",
	    "recipient 1001 refused with 452");
	buf_free(&in);
	buf_free(&out);
	fake_free(&f);
}

#define SYNTAX	"501 5.5.4 Syntax: MAIL FROM:<address>"

static void
test_addresses(void)
{
	static const struct {
		const char *cmd, *want;
	} mail[] = {
		{ "MAIL FROM:<a@b.org>", "250 2.1.0 Ok" },
		{ "MAIL FROM: <a@b.org>", "250 2.1.0 Ok" },
		{ "MAIL FROM:a@b.org", "250 2.1.0 Ok" },
		{ "MAIL FROM:<>", "250 2.1.0 Ok" },
		{ "mail from:<\"a b\"@b.org>", "250 2.1.0 Ok" },
		{ "MAIL FROM:<\"a>b\"@b.org>", "250 2.1.0 Ok" },
		{ "MAIL FROM:<@r1,@r2:a@b.org>", "250 2.1.0 Ok" },
		{ "MAIL FROM:<a@b.org> BODY=7BIT", "250 2.1.0 Ok" },
		{ "MAIL FROM:<a@b.org> body=8bitmime", "250 2.1.0 Ok" },
		{ "MAIL FROM:<a@b.org> SMTPUTF8", "250 2.1.0 Ok" },
		{ "MAIL FROM:<a@b.org> SIZE=123456789", "250 2.1.0 Ok" },
		{ "MAIL FROM:<j\xc3\xb6rg@b.org>", "250 2.1.0 Ok" },
		{ "MAIL FROM:<a@b.org> BODY=BINARYMIME",
		    "501 5.5.4 Syntax: BODY=7BIT or BODY=8BITMIME" },
		{ "MAIL FROM:<a@b.org> SIZE=12k",
		    "501 5.5.4 Syntax: SIZE=number" },
		{ "MAIL FROM:<a@b.org> SIZE", "501 5.5.4 Syntax: SIZE=number" },
		{ "MAIL FROM:<a@b.org> AUTH=<>",
		    "555 5.5.4 Unsupported MAIL parameter AUTH" },
		{ "MAIL FROM:<a@b.org> RET=HDRS",
		    "555 5.5.4 Unsupported MAIL parameter RET" },
		{ "MAIL FROM:", SYNTAX },
		{ "MAIL FROM:<a@b.org", SYNTAX },
		{ "MAIL FROM:<a@b.org>x", SYNTAX },
		{ "MAIL TO:<a@b.org>", SYNTAX },
		{ "MAIL", SYNTAX },
		{ "MAIL FROM:a@b.org,c@d.org", "501 5.1.7 Bad sender address "
		    "syntax: more than one address" },
		{ "MAIL FROM:<a@b.org,c@d.org>", "501 5.1.7 Bad sender address "
		    "syntax: unexpected text in angle address" },
		{ "MAIL FROM:<j\xf6rg@b.org>", "501 5.1.7 Bad sender address "
		    "syntax: not valid UTF-8" },
		{ "MAIL FROM:<a@b.org>\rRCPT TO:<x@y.org>", "501 5.5.2 Syntax "
		    "error: control character in command line" },
		{ "MAIL FROM:<a\tb@b.org>", "501 5.5.2 Syntax error: control "
		    "character in command line" },
		{ "MAIL FROM:<a@b.org\x7f>", "501 5.5.2 Syntax error: control "
		    "character in command line" },
	};
	struct fake f;
	struct buf in = BUF_INIT, out = BUF_INIT;
	size_t i;

	T_GROUP("addresses");
	memset(&f, 0, sizeof(f));
	for (i = 0; i < sizeof(mail) / sizeof(mail[0]); i++)
		T_STREQ(answer(&f, mail[i].cmd), mail[i].want, mail[i].cmd);

	/* a NUL inside a command line */
	buf_add(&in, "MAIL FROM:<a@b.org\0>\r\n", 22);
	(void)session(&f, in.data, in.len, in.len, &out);
	T_STREQ(last(&out), "501 5.5.2 Syntax error: control character in "
	    "command line", "NUL refused");

	/* the CRLF of a header-injection attempt splits the line: "Bcc: x"
	 * becomes an unknown command and nothing reaches the envelope */
	(void)run(&f, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nBcc: "
	    "evil@z.org\r\nRCPT TO:<x@y.org\rBcc: evil@z.org>\r\nDATA\r\n"
	    "\r\n.\r\n", &out);
	T_OK(strstr(out.data, "500 5.5.1 Error: command not recognized\r\n"
	    "501 5.5.2 ") != NULL, "injection attempts refused");
	T_STREQ(f.env.data, "a@b.org>x@y.org,", "envelope untouched");

	T_STREQ(answer(&f, "RCPT TO:<a@b.org>"),
	    "503 5.5.1 Error: need MAIL command", "RCPT alone");
	(void)run(&f, "MAIL FROM:<a@b.org>\r\nRCPT TO:<>\r\n"
	    "RCPT TO:<a b@c>\r\nRCPT TO:<postmaster>\r\n"
	    "RCPT TO:<\xe7\x94\xa8\xe6\x88\xb7@"
	    "\xe4\xbe\x8b\xe5\xad\x90.org>\r\n"
	    "RCPT TO: <sp@x.org>\r\nDATA\r\n.\r\n", &out);
	T_OK(strstr(out.data, "250 2.1.0 Ok\r\n501 5.1.3 Bad recipient "
	    "address syntax: empty address\r\n501 5.1.3 Bad recipient address "
	    "syntax") != NULL, "empty and bad recipients refused");
	T_STREQ(f.env.data, "a@b.org>postmaster,\xe7\x94\xa8\xe6"
	    "\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.org,sp@x.org,",
	    "postmaster left for the aliases, UTF-8 address kept");
	buf_free(&in);
	buf_free(&out);
	fake_free(&f);
}

static void
test_data(void)
{
	static const char head[] =
	    "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\n";
	struct fake f;
	struct buf out = BUF_INIT, in = BUF_INIT;
	size_t chunk;
	int bad = 0;

	T_GROUP("data");
	memset(&f, 0, sizeof(f));

	/* the input ends inside DATA: no reply, nothing taken */
	T_INTEQ(run(&f, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\n"
	    "Subject: cut\r\n\r\nbody\r\n", &out), SMTPD_END_DATA_EOF,
	    "EOF inside DATA");
	T_STREQ(last(&out), "354 End data with <CR><LF>.<CR><LF>",
	    "no reply after the 354");
	T_INTEQ(f.count, 0, "nothing taken");
	T_INTEQ(run(&f, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\n"
	    "body\r\n.", &out), SMTPD_END_DATA_EOF, "EOF after a last dot");
	T_INTEQ(run(&f, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\n",
	    &out), SMTPD_END_DATA_EOF, "EOF right after DATA");
	T_INTEQ(run(&f, "NOOP\r\nQUI", &out), SMTPD_END_EOF,
	    "EOF inside a command line");
	T_STREQ(last(&out), "250 2.0.0 Ok", "the partial line is dropped");

	/* an error inside DATA: the rest is skipped, never taken as commands */
	f.mode = FAKE_STOP_EARLY;
	buf_addstr(&in, head);
	buf_addstr(&in, "Subject: long\r\n\r\nRSET\r\nQUIT\r\n..\r\n.\r\n"
	    "NOOP\r\n");
	for (chunk = 1; chunk <= in.len; chunk++) {
		(void)session(&f, in.data, in.len, chunk, &out);
		if (!ends_with(&out, "354 End data with <CR><LF>.<CR><LF>\r\n"
		    "552 5.3.4 too big\r\n250 2.0.0 Ok\r\n"))
			bad++;
	}
	T_INTEQ(bad, 0, "data after an error skipped, at every split point");

	/* a reply is made printable */
	f.mode = FAKE_TEMPFAIL;
	(void)session(&f, in.data, in.len, in.len, &out);
	T_OK(strstr(out.data, "451 4.3.0 Error: disk??full\r\n250 2.0.0 Ok")
	    != NULL, "tempfail reply, control characters replaced");

	/* the transaction is over after DATA, whatever its outcome */
	f.mode = FAKE_OK;
	(void)run(&f, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\n"
	    ".\r\nRCPT TO:<z@y.org>\r\n", &out);
	T_STREQ(last(&out), "503 5.5.1 Error: need MAIL command",
	    "a new MAIL is needed after DATA");
	buf_free(&in);
	buf_free(&out);
	fake_free(&f);
}

/*
 * RFC 2920: replies are held while more commands are buffered and sent
 * before the server waits for input. A SOCK_SEQPACKET socket keeps each
 * write() a record of its own, which shows where the flushes were.
 */
static void
test_flush(void)
{
	static const char in[] = "EHLO c\r\nNOOP\r\nNOOP\r\nQUIT\r\n";
	struct smtpd_params p;
	struct fake f;
	struct pollfd pfd;
	char rec[4096];
	ssize_t n;
	int sv[2], pin[2], error, records = 0;
	pid_t pid;

	T_GROUP("flush");
	memset(&f, 0, sizeof(f));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1) {
		printf("SKIP: flush: no SOCK_SEQPACKET\n");
		return;
	}
	if (pipe(pin) == -1)
		abort();
	params_init(&p, &f, pin[0], sv[0]);
	/* one write for all the commands: they are buffered together */
	if (write(pin[1], in, sizeof(in) - 1) != (ssize_t)sizeof(in) - 1)
		abort();
	close(pin[1]);
	(void)smtpd_run(&p, &error);
	close(pin[0]);
	close(sv[0]);
	while ((n = recv(sv[1], rec, sizeof(rec) - 1, 0)) > 0) {
		rec[n] = '\0';
		records++;
		if (records == 1)
			T_STREQ(rec, "220 mx.test ESMTP postern\r\n",
			    "the greeting goes out before the first read");
		if (records == 2)
			T_OK(strstr(rec, "250 HELP\r\n250 2.0.0 Ok\r\n"
			    "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n") != NULL,
			    "pipelined replies go out together");
	}
	T_INTEQ(records, 2, "two writes");
	close(sv[1]);

	/* a client that waits for each reply is never left waiting */
	if (pipe(pin) == -1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		static const char *const cmds[] = { "EHLO c\r\n",
		    "MAIL FROM:<a@b>\r\n", "RCPT TO:<c@d>\r\n", "DATA\r\n",
		    "x\r\n.\r\n", "QUIT\r\n", NULL };
		int i;

		close(pin[0]);
		close(sv[0]);
		pfd.fd = sv[1];
		pfd.events = POLLIN;
		for (i = 0; cmds[i] != NULL; i++) {
			if (poll(&pfd, 1, 5000) != 1)
				_exit(1);	/* no reply came */
			if (read(sv[1], rec, sizeof(rec)) <= 0)
				_exit(2);
			if (write(pin[1], cmds[i], strlen(cmds[i])) == -1)
				_exit(3);
		}
		if (poll(&pfd, 1, 5000) != 1)
			_exit(1);
		_exit(0);
	}
	close(pin[1]);
	close(sv[1]);
	params_init(&p, &f, pin[0], sv[0]);
	T_INTEQ(smtpd_run(&p, &error), SMTPD_END_QUIT, "lock-step session");
	close(pin[0]);
	close(sv[0]);
	while (waitpid(pid, &error, 0) == -1)
		;
	T_OK(WIFEXITED(error) && WEXITSTATUS(error) == 0,
	    "every reply arrived before the client's next command");
	fake_free(&f);
}

static void
test_output_error(void)
{
	struct smtpd_params p;
	struct fake f;
	int pin[2], pout[2], error;

	T_GROUP("output");
	memset(&f, 0, sizeof(f));
	if (pipe(pin) == -1 || pipe(pout) == -1)
		abort();
	close(pout[0]);		/* nobody reads the replies */
	if (write(pin[1], "NOOP\r\n", 6) != 6)
		abort();
	params_init(&p, &f, pin[0], pout[1]);
	T_INTEQ(smtpd_run(&p, &error), SMTPD_END_WRITE_ERROR,
	    "client gone: write error");
	T_INTEQ(error, EPIPE, "EPIPE");
	close(pin[0]);
	close(pin[1]);
	close(pout[1]);
	fake_free(&f);
}

/*
 * A client that stops talking: between commands and inside DATA, the
 * session ends after p.timeout with a 421, and the message in progress
 * is not accepted. The write end stays open, so only the timeout ends it.
 */
static void
test_timeout(void)
{
	static const struct {
		const char *in, *name;
		int count;
	} cases[] = {
		{ "EHLO c\r\n", "between commands", 0 },
		{ "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
		  "Subject: x\r\n\r\npart", "inside DATA", 0 },
		{ "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\n",
		  "after an accepted message", 1 },
	};
	static const char last[] = "421 4.4.2 mx.test Error: timeout "
	    "exceeded\r\n";
	struct smtpd_params p;
	struct fake f;
	struct buf out = BUF_INIT;
	struct timespec t0, t1;
	char b[4096];
	FILE *tmp;
	size_t i, n;
	long ms;
	int pin[2], error;

	T_GROUP("timeout");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f, 0, sizeof(f));
		if (pipe(pin) == -1 || (tmp = tmpfile()) == NULL)
			abort();
		if (write(pin[1], cases[i].in, strlen(cases[i].in)) !=
		    (ssize_t)strlen(cases[i].in))
			abort();
		params_init(&p, &f, pin[0], fileno(tmp));
		p.timeout = 1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		T_INTEQ(smtpd_run(&p, &error), SMTPD_END_TIMEOUT,
		    cases[i].name);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		T_OK(ms >= 900 && ms < 5000, "after the timeout, not before");
		rewind(tmp);
		buf_reset(&out);
		while ((n = fread(b, 1, sizeof(b), tmp)) > 0)
			buf_add(&out, b, n);
		buf_addch(&out, '\0');
		n = strlen(out.data);
		T_OK(n >= strlen(last) && strcmp(out.data + n - strlen(last),
		    last) == 0, "the last reply is 421 4.4.2");
		T_INTEQ(f.count, cases[i].count, "no message accepted by the "
		    "timeout");
		T_OK(strstr(out.data, "250 2.0.0 Ok: queued as Q2") == NULL,
		    "nothing queued after the last full message");
		close(pin[0]);
		close(pin[1]);
		fclose(tmp);
		fake_free(&f);
	}
	buf_free(&out);
	T_STREQ(smtpd_end_names[SMTPD_END_TIMEOUT], "timeout", "its name");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_transcript();
	test_commands();
	test_addresses();
	test_data();
	test_flush();
	test_output_error();
	test_timeout();
	return t_done();
}
