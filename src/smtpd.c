/*
 * smtpd.c: the server side of an SMTP dialogue (see smtpd.h).
 *
 * A small state machine over command lines: idle, then MAIL (a sender),
 * then RCPT (at least one recipient), then DATA hands the message to the
 * caller and the machine is idle again. HELO, EHLO and RSET end a
 * transaction at any point; NOOP, HELP and VRFY never change it.
 *
 * Promises:
 * - No CR, LF, NUL or other control character ever reaches an address:
 *   a command line holding one is refused whole, before it is parsed,
 *   and the address parser (addr.c) refuses them again.
 * - Memory is bounded: a command line is cut at SMTPD_LINE_MAX (longer
 *   ones are read to their end and refused), a transaction holds at most
 *   SMTPD_MAX_RCPTS recipients, replies are flushed once 4 KiB are held,
 *   and the message is streamed by the caller.
 * - Replies go out before the session can block on input (the reader's
 *   idle hook), and not earlier while pipelined commands are still
 *   buffered (RFC 2920 section 3.2).
 * - After an error inside DATA the rest of the data, up to the "." line,
 *   is discarded, so message text is never taken for commands.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "intake.h"
#include "log.h"
#include "smtpd.h"
#include "util.h"

#define OUT_FLUSH	4096	/* flush held replies beyond this */
#define ECHO_MAX	64	/* bytes of a client's word echoed back */

enum smtpd_state {
	SMTPD_IDLE,		/* no transaction */
	SMTPD_MAIL,		/* MAIL accepted, no recipient yet */
	SMTPD_RCPT,		/* at least one recipient */
};

const char *const smtpd_end_names[] = {
	"quit", "eof", "eof in data", "read error", "write error",
	"timeout",
};

struct session {
	const struct smtpd_params *p;
	struct reader	 r;
	struct buf	 out;
	int		 werror;	/* errno of a failed write, or 0 */
	enum smtpd_state state;
	char		*sender;	/* owned; "" the null sender */
	struct addrlist	 rcpts;
	size_t		 refused;	/* RCPT commands refused */
	bool		 body_8bit;
	bool		 smtputf8;
	bool		 ended;
	bool		 timed_out;	/* no input within p->timeout */
	enum smtpd_end	 end;
};

struct command {
	const char	*verb;
	void		(*fn)(struct session *, const char *);
};

static void	flush_out(struct session *);
static int	on_idle(void *);
static void	input_failed(struct session *, enum smtpd_end);
static void	reply(struct session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	add_printable(struct buf *, const char *, size_t);
static void	end_session(struct session *, enum smtpd_end);
static void	reset_txn(struct session *);
static bool	utf8_valid(const char *);
static int	parse_path(const char *, struct buf *, const char **);
static int	parse_addr(struct session *, const char *, const char *,
		    char **);
static int	mail_params(struct session *, const char *, bool *, bool *);
static void	cmd_helo(struct session *, const char *);
static void	cmd_ehlo(struct session *, const char *);
static void	cmd_mail(struct session *, const char *);
static void	cmd_rcpt(struct session *, const char *);
static void	cmd_data(struct session *, const char *);
static void	cmd_rset(struct session *, const char *);
static void	cmd_noop(struct session *, const char *);
static void	cmd_vrfy(struct session *, const char *);
static void	cmd_help(struct session *, const char *);
static void	cmd_quit(struct session *, const char *);
static void	cmd_unimpl(struct session *, const char *);
static void	dispatch(struct session *, const char *, size_t);

static const struct command commands[] = {
	{ "HELO", cmd_helo },
	{ "EHLO", cmd_ehlo },
	{ "MAIL", cmd_mail },
	{ "RCPT", cmd_rcpt },
	{ "DATA", cmd_data },
	{ "RSET", cmd_rset },
	{ "NOOP", cmd_noop },
	{ "VRFY", cmd_vrfy },
	{ "HELP", cmd_help },
	{ "QUIT", cmd_quit },
	/* known, not offered: refused without reading anything more */
	{ "EXPN", cmd_unimpl },
	{ "ETRN", cmd_unimpl },
	{ "TURN", cmd_unimpl },
	{ "AUTH", cmd_unimpl },
	{ "STARTTLS", cmd_unimpl },
	{ "BDAT", cmd_unimpl },
	{ NULL, NULL },
};

static void
flush_out(struct session *s)
{
	if (s->out.len == 0 || s->werror != 0)
		return;
	if (util_write_all(s->p->outfd, s->out.data, s->out.len) == -1)
		s->werror = errno != 0 ? errno : EIO;
	buf_reset(&s->out);
}

/*
 * The reader is about to wait for input: the client must have our
 * replies, and has the timeout to send more.
 */
static int
on_idle(void *arg)
{
	struct session *s = arg;
	struct pollfd pfd;
	long long left, deadline;
	int n;

	flush_out(s);
	if (s->p->timeout == 0)
		return 0;
	deadline = util_now_ms() + (long long)s->p->timeout * 1000;
	pfd.fd = s->p->infd;
	pfd.events = POLLIN;
	for (;;) {
		left = deadline - util_now_ms();
		if (left <= 0)
			break;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0;	/* input, end of input or an error */
		if (n == -1 && errno != EINTR)
			return 0;	/* read() will tell */
	}
	s->timed_out = true;
	errno = ETIMEDOUT;
	return -1;
}

/*
 * The input failed or ended early. After a timeout the client hears why
 * (RFC 5321 4.5.3.2: a server may close after its timeout, with 421).
 */
static void
input_failed(struct session *s, enum smtpd_end end)
{
	if (s->timed_out) {
		reply(s, "421 4.4.2 %s Error: timeout exceeded",
		    s->p->hostname);
		end = SMTPD_END_TIMEOUT;
	}
	end_session(s, end);
}

/* Appends s[0..n) with every byte outside printable ASCII made '?'. */
static void
add_printable(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_addch(b, (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] > 0x7e ? '?' : s[i]);
}

/* Holds one reply line; printable ASCII only, whatever it quotes. */
static void
reply(struct session *s, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	if (s->werror != 0)
		return;
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	add_printable(&s->out, line.data, line.len);
	buf_addstr(&s->out, "\r\n");
	buf_free(&line);
	if (s->out.len >= OUT_FLUSH)
		flush_out(s);
}

static void
end_session(struct session *s, enum smtpd_end end)
{
	s->ended = true;
	s->end = end;
}

static void
reset_txn(struct session *s)
{
	free(s->sender);
	s->sender = NULL;
	addrlist_free(&s->rcpts);
	s->refused = 0;
	s->body_8bit = s->smtputf8 = false;
	s->state = SMTPD_IDLE;
}

/* RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool
utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned int cp, min;
	int more, i;

	while (*s != '\0') {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			cp = *s & 0x1f;
			more = 1;
			min = 0x80;
		} else if ((*s & 0xf0) == 0xe0) {
			cp = *s & 0x0f;
			more = 2;
			min = 0x800;
		} else if ((*s & 0xf8) == 0xf0) {
			cp = *s & 0x07;
			more = 3;
			min = 0x10000;
		} else
			return false;
		for (i = 1; i <= more; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += more + 1;
	}
	return true;
}

/*
 * The path after "FROM:" or "TO:": blanks, then "<...>" (a '>' inside a
 * quoted string does not close it) or, liberally, a bare address up to
 * the next blank. Copies it into path and points *rest after it, at the
 * end or at a blank. Returns 0, or -1 on a syntax error.
 */
static int
parse_path(const char *arg, struct buf *path, const char **rest)
{
	bool quoted = false;
	size_t i;

	while (*arg == ' ')
		arg++;
	if (*arg == '<') {
		for (i = 1; arg[i] != '\0'; i++) {
			if (quoted && arg[i] == '\\' && arg[i + 1] != '\0')
				i++;
			else if (arg[i] == '"')
				quoted = !quoted;
			else if (!quoted && arg[i] == '>')
				break;
		}
		if (arg[i] != '>')
			return -1;
		i++;
	} else if ((i = strcspn(arg, " ")) == 0)
		return -1;
	if (arg[i] != '\0' && arg[i] != ' ')
		return -1;
	buf_add(path, arg, i);
	*rest = arg + i;
	return 0;
}

/*
 * The address of a path in *out (caller frees); NULL for "<>". A sender is
 * qualified here; a recipient stays as written, so that a local name
 * reaches the aliases (the submit function qualifies it).
 * what is "sender" or "recipient". On error replies and returns -1.
 */
static int
parse_addr(struct session *s, const char *path, const char *what,
    char **out)
{
	struct addrlist l = ADDRLIST_INIT;
	const char *status = what[0] == 's' ? "5.1.7" : "5.1.3";
	char err[256];

	*out = NULL;
	if (addr_parse_arg(path, &l, err, sizeof(err)) == -1) {
		reply(s, "501 %s Bad %s address syntax: %s", status, what, err);
		addrlist_free(&l);
		return -1;
	}
	if (l.n > 1) {
		reply(s, "501 %s Bad %s address syntax: more than one "
		    "address", status, what);
		addrlist_free(&l);
		return -1;
	}
	if (l.n == 1 && !utf8_valid(l.v[0])) {
		reply(s, "501 %s Bad %s address syntax: not valid UTF-8",
		    status, what);
		addrlist_free(&l);
		return -1;
	}
	if (l.n == 1)
		*out = what[0] == 's' ? addr_qualify(l.v[0], s->p->domain) :
		    xstrdup(l.v[0]);
	addrlist_free(&l);
	return 0;
}

/*
 * MAIL parameters: BODY=7BIT|8BITMIME (RFC 6152), SIZE=n (RFC 1870; the
 * queue takes any size, so it is only checked), SMTPUTF8 (RFC 6531).
 * Returns 0, or -1 after replying.
 */
static int
mail_params(struct session *s, const char *p, bool *body8, bool *utf8)
{
	const char *eq, *val;
	size_t n, kwlen, vlen;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return 0;
		n = strcspn(p, " ");
		eq = memchr(p, '=', n);
		kwlen = eq != NULL ? (size_t)(eq - p) : n;
		val = eq != NULL ? eq + 1 : NULL;
		vlen = eq != NULL ? n - kwlen - 1 : 0;
		if (kwlen == 4 && strncasecmp(p, "BODY", 4) == 0) {
			if (val != NULL && vlen == 4 &&
			    strncasecmp(val, "7BIT", 4) == 0)
				*body8 = false;
			else if (val != NULL && vlen == 8 &&
			    strncasecmp(val, "8BITMIME", 8) == 0)
				*body8 = true;
			else {
				reply(s, "501 5.5.4 Syntax: BODY=7BIT or "
				    "BODY=8BITMIME");
				return -1;
			}
		} else if (kwlen == 4 && strncasecmp(p, "SIZE", 4) == 0) {
			if (val == NULL || vlen == 0 || vlen > 20 ||
			    strspn(val, "0123456789") < vlen) {
				reply(s, "501 5.5.4 Syntax: SIZE=number");
				return -1;
			}
		} else if (kwlen == 8 && strncasecmp(p, "SMTPUTF8", 8) == 0 &&
		    val == NULL)
			*utf8 = true;
		else {
			reply(s, "555 5.5.4 Unsupported MAIL parameter %.*s",
			    (int)(kwlen < ECHO_MAX ? kwlen : ECHO_MAX), p);
			return -1;
		}
		p += n;
	}
}

static void
cmd_helo(struct session *s, const char *arg)
{
	if (*arg == '\0') {
		reply(s, "501 5.5.4 Syntax: HELO hostname");
		return;
	}
	reset_txn(s);
	reply(s, "250 %s", s->p->hostname);
}

static void
cmd_ehlo(struct session *s, const char *arg)
{
	if (*arg == '\0') {
		reply(s, "501 5.5.4 Syntax: EHLO hostname");
		return;
	}
	reset_txn(s);
	reply(s, "250-%s", s->p->hostname);
	reply(s, "250-PIPELINING");
	reply(s, "250-8BITMIME");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-SMTPUTF8");
	reply(s, "250 HELP");
}

static void
cmd_mail(struct session *s, const char *arg)
{
	struct buf path = BUF_INIT;
	const char *rest;
	bool body8 = false, utf8 = false;
	char *addr;

	if (s->state != SMTPD_IDLE) {
		reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    parse_path(arg + 5, &path, &rest) == -1) {
		reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		goto out;
	}
	if (parse_addr(s, path.data, "sender", &addr) == -1)
		goto out;
	if (mail_params(s, rest, &body8, &utf8) == -1) {
		free(addr);
		goto out;
	}
	s->sender = addr != NULL ? addr : xstrdup("");
	s->body_8bit = body8;
	s->smtputf8 = utf8;
	s->state = SMTPD_MAIL;
	reply(s, "250 2.1.0 Ok");
out:
	buf_free(&path);
}

static void
cmd_rcpt(struct session *s, const char *arg)
{
	struct buf path = BUF_INIT;
	const char *rest;
	char *addr = NULL;
	size_t n;

	if (s->state == SMTPD_IDLE) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	s->refused++;		/* taken back below on success */
	if (strncasecmp(arg, "TO:", 3) != 0 ||
	    parse_path(arg + 3, &path, &rest) == -1) {
		reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		goto out;
	}
	if (parse_addr(s, path.data, "recipient", &addr) == -1)
		goto out;
	if (addr == NULL) {
		reply(s, "501 5.1.3 Bad recipient address syntax: empty "
		    "address");
		goto out;
	}
	while (*rest == ' ')
		rest++;
	if (*rest != '\0') {
		n = strcspn(rest, " =");
		reply(s, "555 5.5.4 Unsupported RCPT parameter %.*s",
		    (int)(n < ECHO_MAX ? n : ECHO_MAX), rest);
		goto out;
	}
	if (s->rcpts.n >= SMTPD_MAX_RCPTS) {
		reply(s, "452 4.5.3 Error: too many recipients");
		goto out;
	}
	addrlist_add_unique(&s->rcpts, addr);
	s->refused--;
	s->state = SMTPD_RCPT;
	reply(s, "250 2.1.5 Ok");
out:
	free(addr);
	buf_free(&path);
}

static void
cmd_data(struct session *s, const char *arg)
{
	struct smtpd_txn t;
	char msg[SMTPD_REPLY_MAX];

	if (*arg != '\0') {
		reply(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (s->state == SMTPD_IDLE) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->state == SMTPD_MAIL) {
		if (s->refused > 0)
			reply(s, "554 5.5.1 Error: no valid recipients");
		else
			reply(s, "503 5.5.1 Error: need RCPT command");
		return;
	}
	reply(s, "354 End data with <CR><LF>.<CR><LF>");

	memset(&t, 0, sizeof(t));
	t.sender = s->sender;
	t.rcpts = s->rcpts.v;
	t.nrcpts = s->rcpts.n;
	t.body_8bit = s->body_8bit;
	t.smtputf8 = s->smtputf8;
	msg[0] = '\0';
	reader_smtp_data(&s->r);
	s->p->submit(s->p->arg, &t, &s->r, msg);
	if (!s->r.done && !s->r.truncated && s->r.error == 0)
		(void)intake_discard(&s->r);
	if (s->r.truncated || s->r.error != 0) {
		if (msg[0] == '2')
			bug("a message was accepted without its end");
		input_failed(s, s->r.error != 0 ? SMTPD_END_READ_ERROR :
		    SMTPD_END_DATA_EOF);
		reset_txn(s);
		return;
	}
	if ((msg[0] != '2' && msg[0] != '4' && msg[0] != '5') ||
	    strnlen(msg, sizeof(msg)) == sizeof(msg))
		bug("submit gave no reply");
	reply(s, "%s", msg);
	reset_txn(s);
}

static void
cmd_rset(struct session *s, const char *arg)
{
	if (*arg != '\0') {
		reply(s, "501 5.5.4 Syntax: RSET");
		return;
	}
	reset_txn(s);
	reply(s, "250 2.0.0 Ok");
}

static void
cmd_noop(struct session *s, const char *arg)
{
	(void)arg;		/* RFC 5321 4.1.1.9: a parameter is allowed */
	reply(s, "250 2.0.0 Ok");
}

static void
cmd_vrfy(struct session *s, const char *arg)
{
	if (*arg == '\0') {
		reply(s, "501 5.5.4 Syntax: VRFY address");
		return;
	}
	reply(s, "252 2.0.0 Cannot VRFY; send the message and delivery "
	    "will be attempted");
}

static void
cmd_help(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP "
	    "VRFY HELP QUIT");
}

static void
cmd_quit(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, "221 2.0.0 Bye");
	/* a client gone after QUIT missed nothing; before it, it did */
	end_session(s, s->werror != 0 ? SMTPD_END_WRITE_ERROR :
	    SMTPD_END_QUIT);
}

static void
cmd_unimpl(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, "502 5.5.1 Error: command not implemented");
}

/* line[0..len) is one command line without its line end. */
static void
dispatch(struct session *s, const char *line, size_t len)
{
	const struct command *c;
	size_t vlen;

	if (util_has_ctl(line, len)) {
		reply(s, "501 5.5.2 Syntax error: control character in "
		    "command line");
		return;
	}
	vlen = strcspn(line, " ");
	for (c = commands; c->verb != NULL; c++)
		if (strlen(c->verb) == vlen &&
		    strncasecmp(c->verb, line, vlen) == 0)
			break;
	if (c->verb == NULL) {
		reply(s, "500 5.5.1 Error: command not recognized");
		return;
	}
	line += vlen;
	while (*line == ' ')
		line++;
	c->fn(s, line);
}

enum smtpd_end
smtpd_run(const struct smtpd_params *p, int *error)
{
	struct session s;
	struct buf line = BUF_INIT;
	bool toolong;
	int rv;

	memset(&s, 0, sizeof(s));
	s.p = p;
	buf_init(&s.out);
	s.state = SMTPD_IDLE;
	*error = 0;
	reader_init(&s.r, p->infd, true);
	reader_set_idle(&s.r, on_idle, &s);

	reply(&s, "220 %s ESMTP postern", p->hostname);
	while (!s.ended) {
		if (s.werror != 0)
			break;
		rv = reader_line(&s.r, &line, SMTPD_LINE_MAX, &toolong);
		if (rv == -1)
			input_failed(&s, SMTPD_END_READ_ERROR);
		else if (rv == 0)
			end_session(&s, SMTPD_END_EOF);
		else if (toolong)
			reply(&s, "500 5.5.2 Error: line too long");
		else
			dispatch(&s, line.data, line.len);
	}
	flush_out(&s);
	if (s.werror != 0 && (s.end == SMTPD_END_EOF || !s.ended))
		s.end = SMTPD_END_WRITE_ERROR;
	if (s.end == SMTPD_END_READ_ERROR)
		*error = s.r.error;
	else if (s.end == SMTPD_END_WRITE_ERROR)
		*error = s.werror;
	reset_txn(&s);
	reader_free(&s.r);
	buf_free(&s.out);
	buf_free(&line);
	return s.end;
}

int
smtpd_refuse(int fd, const char *code, const char *text)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(text);
	int rv;

	buf_addstr(&b, code);
	buf_addch(&b, ' ');
	add_printable(&b, text, n < SMTPD_REPLY_MAX ? n : SMTPD_REPLY_MAX);
	buf_addstr(&b, "\r\n");
	rv = util_write_all(fd, b.data, b.len);
	buf_free(&b);
	return rv;
}
