/*
 * test_intake.c: the input reader (CRLF, the lone dot, bytes kept) with
 * the input split at every possible place between read() calls, and the
 * header-section reader.
 */
#include "config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "intake.h"
#include "rfc5322.h"
#include "t.h"

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
readall(const char *in, size_t len, bool dot_ends, size_t chunk,
    struct buf *out)
{
	struct reader r;
	char tmp[64];
	ssize_t n;
	int fd = feed(in, len, chunk);

	reader_init(&r, fd, dot_ends);
	while ((n = reader_read(&r, tmp, sizeof(tmp))) > 0)
		buf_add(out, tmp, (size_t)n);
	reader_free(&r);
	close(fd);
	while (wait(NULL) > 0)
		;
}

static void
test_reader(void)
{
	static const struct {
		const char *name, *in, *want;
		bool dot_ends;
	} cases[] = {
		{ "LF kept", "a\nb\n", "a\nb\n", true },
		{ "CRLF to LF", "a\r\nb\r\n", "a\nb\n", true },
		{ "mixed", "a\r\nb\nc\r\n", "a\nb\nc\n", true },
		{ "bare CR kept", "a\rb\n", "a\rb\n", true },
		{ "CR at end kept", "a\r", "a\r", true },
		{ "CR CR LF", "a\r\r\n", "a\r\n", true },
		{ "no final newline", "abc", "abc", true },
		{ "lone dot ends", "a\n.\nb\n", "a\n", true },
		{ "lone dot CRLF ends", "a\r\n.\r\nb\r\n", "a\n", true },
		{ "lone dot first line", ".\nb\n", "", true },
		{ "dot at EOF kept", "a\n.", "a\n.", true },
		{ "dot CR at EOF kept", "a\n.\r", "a\n.\r", true },
		{ "dot CR x kept", "a\n.\rx\n", "a\n.\rx\n", true },
		{ "double dot kept", "a\n..\nb\n", "a\n..\nb\n", true },
		{ "dot text kept", "a\n.x\n", "a\n.x\n", true },
		{ "dot mid-line kept", "a.\nb\n", "a.\nb\n", true },
		{ "-i: lone dot kept", "a\n.\nb\n", "a\n.\nb\n", false },
		{ "-i: CRLF dot kept", "a\r\n.\r\nb\r\n", "a\n.\nb\n", false },
		{ "empty", "", "", true },
		{ "8-bit kept", "\xff\xfe\x80\n", "\xff\xfe\x80\n", true },
	};
	struct buf out = BUF_INIT;
	size_t i, chunk, len;
	int bad;

	T_GROUP("reader");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i].in);
		bad = 0;
		for (chunk = 1; chunk <= (len ? len : 1); chunk++) {
			buf_reset(&out);
			readall(cases[i].in, len, cases[i].dot_ends, chunk,
			    &out);
			if (strcmp(out.data, cases[i].want) != 0)
				bad++;
		}
		T_INTEQ(bad, 0, cases[i].name);
	}

	/* NUL bytes pass */
	buf_reset(&out);
	readall("a\0b\r\n\0\n", 7, true, 2, &out);
	T_OK(out.len == 6 && memcmp(out.data, "a\0b\n\0\n", 6) == 0,
	    "NUL bytes kept");
	buf_free(&out);
}

/*
 * SMTP DATA: the message, what the next reader_line() calls see after it
 * ("|" after each line), and whether the input was cut short.
 */
static void
smtp_data(const char *in, size_t len, size_t chunk, struct buf *msg,
    struct buf *rest, bool *truncated)
{
	struct buf line = BUF_INIT;
	struct reader r;
	char tmp[5];
	ssize_t n;
	bool toolong;
	int fd = feed(in, len, chunk);

	reader_init(&r, fd, false);
	reader_smtp_data(&r);
	while ((n = reader_read(&r, tmp, sizeof(tmp))) > 0)
		buf_add(msg, tmp, (size_t)n);
	*truncated = r.truncated;
	if (n == 0)
		while (reader_line(&r, &line, 100, &toolong) == 1) {
			buf_add(rest, line.data, line.len);
			buf_addch(rest, '|');
		}
	buf_free(&line);
	reader_free(&r);
	close(fd);
	while (wait(NULL) > 0)
		;
}

static void
test_smtp_data(void)
{
	static const struct {
		const char *name, *in, *want, *rest;
		bool truncated;
	} cases[] = {
		{ "CRLF dot ends", "a\r\n.\r\nQUIT\r\n", "a\n", "QUIT|",
		    false },
		{ "LF dot ends", "a\n.\nQUIT\n", "a\n", "QUIT|", false },
		{ "empty message", ".\r\nNOOP\r\nQUIT\r\n", "", "NOOP|QUIT|",
		    false },
		{ "leading dot removed", "..a\r\n.b\r\n.\r\n", ".a\nb\n", "",
		    false },
		{ "double dot line", "a\r\n..\r\n.\r\n", "a\n.\n", "", false },
		{ "triple dot line", "...\r\n.\r\n", "..\n", "", false },
		{ "dot mid-line kept", "a.\r\nb..\r\n.\r\n", "a.\nb..\n", "",
		    false },
		{ "dot CR x", "a\r\n.\rx\r\n.\r\n", "a\n\rx\n", "", false },
		{ "dot CR CR LF", ".\r\r\n.\r\n", "\r\n", "", false },
		{ "bare CR kept", "a\rb\r\n.\r\n", "a\rb\n", "", false },
		{ "8-bit kept", "\xff\xc3\xa9\r\n.\r\n", "\xff\xc3\xa9\n", "",
		    false },
		{ "dot line after no EOL", "a\r\n.\r\nx", "a\n", "", false },
		{ "EOF: truncated", "a\r\n", "", "", true },
		{ "EOF after dot", "a\r\n.", "", "", true },
		{ "EOF after dot CR", "a\r\n.\r", "", "", true },
		{ "EOF after double dot", "a\r\n..\r\n", "", "", true },
		{ "EOF at once", "", "", "", true },
	};
	struct buf msg = BUF_INIT, rest = BUF_INIT;
	size_t i, chunk, len;
	bool trunc;
	int bad;

	T_GROUP("smtp data");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i].in);
		bad = 0;
		for (chunk = 1; chunk <= (len ? len : 1); chunk++) {
			buf_reset(&msg);
			buf_reset(&rest);
			smtp_data(cases[i].in, len, chunk, &msg, &rest, &trunc);
			if (trunc != cases[i].truncated ||
			    (!trunc && (strcmp(msg.data, cases[i].want) != 0 ||
			    strcmp(rest.data, cases[i].rest) != 0)))
				bad++;
		}
		T_INTEQ(bad, 0, cases[i].name);
	}
	buf_free(&msg);
	buf_free(&rest);
}

static void
test_lines(void)
{
	static const char in[] =
	    "abc\r\n12345678\nx\ry\r\n123456789\r\n\r\nend";
	struct buf line = BUF_INIT, all = BUF_INIT;
	struct reader r;
	bool toolong;
	int fd, rv;

	T_GROUP("command lines");
	fd = feed(in, sizeof(in) - 1, 3);
	reader_init(&r, fd, true);
	while ((rv = reader_line(&r, &line, 8, &toolong)) == 1) {
		buf_addstr(&all, toolong ? "LONG" : line.data);
		buf_addch(&all, '|');
	}
	T_INTEQ(rv, 0, "EOF");
	T_STREQ(all.data, "abc|12345678|x\ry|LONG||",
	    "CRLF, LF, inner CR, too long, empty, partial last line dropped");
	reader_free(&r);
	close(fd);
	while (wait(NULL) > 0)
		;
	buf_free(&line);
	buf_free(&all);
}

static enum intake_status
headers_of(const char *in, struct headers *h, struct buf *body,
    struct buf *rest)
{
	enum intake_status st;
	struct reader r;
	char tmp[4096];
	ssize_t n;
	int fd = feed(in, strlen(in), strlen(in) ? strlen(in) : 1);

	reader_init(&r, fd, true);
	st = intake_headers(&r, h, body);
	if (st == INTAKE_OK) {
		if (r.outpos < r.outlen)
			buf_add(rest, r.out + r.outpos, r.outlen - r.outpos);
		while ((n = reader_read(&r, tmp, sizeof(tmp))) > 0)
			buf_add(rest, tmp, (size_t)n);
	}
	reader_free(&r);
	close(fd);
	while (wait(NULL) > 0)
		;
	return st;
}

static void
test_headers(void)
{
	struct headers h = HEADERS_INIT;
	struct buf body = BUF_INIT, rest = BUF_INIT;
	char *big;

	T_GROUP("headers");
	T_INTEQ(headers_of("From x@y Thu Nov 26 00:00:00 2026\nTo: a@b\n"
	    "Subject: s\n  folded\n\nbody\n", &h, &body, &rest), INTAKE_OK,
	    "ok");
	T_INTEQ(h.n, 2, "From_ line dropped, two fields");
	T_STREQ(h.v[1].raw, "Subject: s\n  folded\n", "folded field whole");
	T_STREQ(body.data, "", "no body start after an empty line");
	T_STREQ(rest.data, "body\n", "body follows");
	headers_free(&h);
	buf_reset(&body);
	buf_reset(&rest);

	T_INTEQ(headers_of("To: a@b\nthis is text\nmore\n", &h, &body, &rest),
	    INTAKE_OK, "non-header line");
	T_INTEQ(h.n, 1, "one field");
	T_STREQ(body.data, "this is text\n", "the line starts the body");
	T_STREQ(rest.data, "more\n", "rest follows");
	headers_free(&h);
	buf_reset(&body);
	buf_reset(&rest);

	T_INTEQ(headers_of(" leading blank\nTo: a@b\n", &h, &body, &rest),
	    INTAKE_OK, "leading continuation");
	T_INTEQ(h.n, 0, "a first line starting with a blank is body");
	T_STREQ(body.data, " leading blank\n", "kept as body");
	headers_free(&h);
	buf_reset(&body);
	buf_reset(&rest);

	T_INTEQ(headers_of("To: a@b\r\nSubject: crlf\r\n\r\nx\r\n", &h, &body,
	    &rest), INTAKE_OK, "CRLF headers");
	T_STREQ(h.v[1].raw, "Subject: crlf\n", "CRLF normalised");
	T_STREQ(rest.data, "x\n", "CRLF body");
	headers_free(&h);
	buf_reset(&body);
	buf_reset(&rest);

	T_INTEQ(headers_of("To: a@b\n.\nSubject: after\n", &h, &body, &rest),
	    INTAKE_OK, "dot inside the headers");
	T_INTEQ(h.n, 1, "lone dot ends the message in the headers");
	headers_free(&h);
	buf_reset(&body);
	buf_reset(&rest);

	T_INTEQ(headers_of("", &h, &body, &rest), INTAKE_OK, "empty input");
	T_INTEQ(h.n, 0, "no fields");
	headers_free(&h);

	/* a header section over the limit is refused ... */
	big = malloc(INTAKE_MAX_HEADERS + 100);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'x', INTAKE_MAX_HEADERS);
	memcpy(big + 7 + INTAKE_MAX_HEADERS, "\n\nb\n", 5);
	T_INTEQ(headers_of(big, &h, &body, &rest), INTAKE_TOO_BIG,
	    "oversized field refused");
	headers_free(&h);
	buf_reset(&body);
	buf_reset(&rest);
	/* ... but an over-long first line that is not a header is body */
	memset(big, 'y', INTAKE_MAX_HEADERS + 10);
	memcpy(big + INTAKE_MAX_HEADERS + 10, "\nz\n", 4);
	T_INTEQ(headers_of(big, &h, &body, &rest), INTAKE_OK,
	    "long non-header line accepted");
	T_INTEQ(body.len + rest.len, INTAKE_MAX_HEADERS + 13,
	    "every byte of it kept");
	headers_free(&h);
	buf_free(&body);
	buf_free(&rest);
	free(big);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_reader();
	test_smtp_data();
	test_lines();
	test_headers();
	return t_done();
}
