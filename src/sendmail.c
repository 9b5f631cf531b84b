/*
 * sendmail.c: the front-end: sendmail(8), mailq(1) and newaliases(8).
 *
 * It reads the command line the way Postfix's and Sendmail's sendmail do,
 * reads the message from standard input and writes it durably to the
 * spool. It is deliberately small and never reads credentials: it is the
 * program a later privileged install makes setgid. It prints one line on
 * stderr for every failure and exits with a sysexits(3) code:
 *	0	the message is safely in the spool (-bs: every message
 *		that got a 250 reply is)
 *	64	bad command line (also: a control character in an address)
 *	65	unusable message (no recipients, bad address header)
 *	74	-bp, -bs: standard output could not be written
 *	75	the spool could not take it; nothing partial is left (-bs:
 *		the spool could not be opened, or the input failed or ended
 *		inside DATA)
 *	78	configuration error
 *
 * One pipeline, submit(), takes a message from a reader to the spool: the
 * header section, -t recipients, Bcc removal, the missing Date/From/
 * Message-ID, then spool_create/write/commit. The command-line path runs
 * it once; -bs (smtpd.c) runs it for each DATA of an SMTP session, with
 * the envelope of MAIL FROM and RCPT TO. Its failures come back as a
 * class that maps to an exit status here and to an SMTP reply there.
 *
 * In the privileged install this program is set-group-ID to the
 * submission group, which may add files to the spool's tmp/ and queue/
 * and read the queue for mailq, nothing else (spool/README.md,
 * "Permissions"). The group is used only on the caller's behalf with the
 * administrator's configuration: -C or $POSTERN_CONFIG, which name a file
 * of the caller's choosing, give it up for good before anything is read
 * (as Sendmail does), and so does every exec of postern, which gets a
 * clean environment. No other option names a file: -X, -oA and the rest
 * are accepted and ignored.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <paths.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <syslog.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "addr.h"
#include "alias.h"
#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "envelope.h"
#include "intake.h"
#include "log.h"
#include "queue.h"
#include "rewrite.h"
#include "rfc5322.h"
#include "smtpd.h"
#include "spool.h"
#include "util.h"

/* Beyond this many messages a session's attempt flushes the whole queue. */
#define FLUSH_MAX_QIDS	256

enum mode {
	MODE_DELIVER,		/* -bm, the default */
	MODE_PRINT,		/* -bp, mailq */
	MODE_SMTP,		/* -bs */
	MODE_ALIASES,		/* -bi, -I, newaliases */
	MODE_QUEUE,		/* -q */
};

struct opts {
	enum mode	 mode;
	const char	*config;	/* -C */
	bool		 extract;	/* -t */
	bool		 dot_ends;	/* cleared by -i, -oi */
	bool		 sender_given;
	const char	*sender;	/* -f, -r */
	const char	*fullname;	/* -F */
	bool		 queue_only;	/* -odq */
	bool		 no_alias;	/* -n */
	int		 verbose;	/* -v */
	char		**rcpts;	/* operands */
	int		 nrcpts;
};

struct sink {
	struct spool_file *f;
	int		   error;
};

/* One message for submit(): what it is given, and what it says back. */
struct submission {
	const char		*sender;	/* qualified; "" is <> */
	bool			 own_sender;	/* the caller's own address */
	const struct addrlist	*rcpts;		/* may be unqualified */
	bool			 extract;	/* -t */
	char			 qid[QID_LEN + 1]; /* out: when queued */
	const char		*smtp;		/* out: reply code, status */
	char			 err[1024];	/* out: one line on failure */
};

enum submit_status {
	SUBMIT_QUEUED,		/* durably in the spool */
	SUBMIT_DATAERR,		/* unusable message: exit 65, SMTP 5xx */
	SUBMIT_TEMPFAIL,	/* the spool failed: exit 75, SMTP 4xx */
	SUBMIT_INPUT,		/* reading failed (r->error, r->truncated) */
	SUBMIT_CONFIG,		/* the alias file is broken: exit 78, 451 */
};

/* sendmail -bs: what the SMTP session's messages share. */
struct bs_session {
	const struct opts	*o;
	const struct conf	*c;
	struct spool		*s;
	char			*own;		/* owned; the caller's */
	char			(*qids)[QID_LEN + 1];	/* owned */
	size_t			 nqids;
};

static void	usage(const char *) __attribute__((noreturn));
static void	parse_args(struct opts *, int, char **);
static int	load_conf(struct conf *, const struct opts *, int, char *,
		    size_t);
static void	check_cmdline(const struct opts *);
static int	mode_print(const struct opts *);
static int	mode_aliases(const struct opts *);
static int	mode_smtp(const struct opts *);
static int	enqueue(const struct opts *);
static char	*sender_of(const struct opts *, const struct conf *);
static int	recipients_from_headers(const struct headers *,
		    struct addrlist *, char *, size_t);
static void	complete_headers(struct headers *, const struct opts *,
		    const struct conf *, const char *, bool, const char *);
static const char *full_name(const struct opts *, bool);
static int	sink_write(void *, const void *, size_t);
static enum submit_status failed(struct submission *, enum submit_status,
		    const char *, int, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static enum submit_status submit(const struct opts *, const struct conf *,
		    struct spool *, struct reader *, struct submission *);
static void	bs_submit(void *, const struct smtpd_txn *, struct reader *,
		    char *);
static void	catch_signals(bool);
static void	on_signal(int);
static const char *postern_path(void);
static void	run_postern(const struct opts *, const char *,
		    char (*)[QID_LEN + 1], size_t, bool)
		    __attribute__((noreturn));
static void	start_delivery(const struct opts *, char (*)[QID_LEN + 1],
		    size_t);
static bool	may_deliver(const struct opts *, const struct spool *);
static void	priv_init(void);
static void	priv_drop(void);
static char	**clean_env(void);

/* Set-group-ID at start (the privileged install); the group then. */
static bool	setgid_start;
static gid_t	priv_gid;

static void
usage(const char *why)
{
	fatalx(EX_USAGE, "%s (usage: sendmail [-t] [-i] [-f sender] "
	    "[-F name] [-C config] [recipient ...])", why);
}

static void
parse_args(struct opts *o, int argc, char **argv)
{
	/*
	 * "+": options end at the first operand, as in Postfix on Linux;
	 * ":": missing arguments are reported by us, in one line.
	 */
	static const char optstring[] =
	    "+:B:C:F:GIL:N:O:R:UV:X:b:f:h:imno:p:q::r:tvx";
	const char *last_arg = NULL;
	int c;

	opterr = 0;
	while ((c = getopt(argc, argv, optstring)) != -1) {
		last_arg = optarg;
		switch (c) {
		case 'B': case 'L': case 'N': case 'O': case 'R': case 'V':
		case 'X': case 'h': case 'p':
		case 'G': case 'U': case 'm': case 'x':
			break;		/* accepted, no effect here */
		case 'C':
			o->config = optarg;
			break;
		case 'F':
			o->fullname = optarg;
			break;
		case 'I':
			o->mode = MODE_ALIASES;
			break;
		case 'b':
			if (strcmp(optarg, "m") == 0)
				o->mode = MODE_DELIVER;
			else if (strcmp(optarg, "p") == 0)
				o->mode = MODE_PRINT;
			else if (strcmp(optarg, "s") == 0)
				o->mode = MODE_SMTP;
			else if (strcmp(optarg, "i") == 0)
				o->mode = MODE_ALIASES;
			else
				fatalx(EX_USAGE, "unsupported mode -b%s",
				    optarg);
			break;
		case 'f':
		case 'r':
			o->sender = optarg;
			o->sender_given = true;
			break;
		case 'i':
			o->dot_ends = false;
			break;
		case 'n':
			o->no_alias = true;	/* as Sendmail: no aliasing */
			break;
		case 'o':
			if (strcmp(optarg, "i") == 0)
				o->dot_ends = false;
			else if (strcmp(optarg, "dq") == 0)
				o->queue_only = true;
			else if (strcmp(optarg, "db") == 0 ||
			    strcmp(optarg, "di") == 0)
				o->queue_only = false;
			/* every other -oX (-oem, -oee, -om, ...) is ignored */
			break;
		case 'q':
			/* -q, -q30m, -qR...: all mean "deliver the queue now" */
			o->mode = MODE_QUEUE;
			break;
		case 't':
			o->extract = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case ':':
			fatalx(EX_USAGE, "option -%c requires an argument",
			    optopt);
		default:
			if (optopt >= 0x21 && optopt < 0x7f)
				fatalx(EX_USAGE, "unknown option -%c", optopt);
			fatalx(EX_USAGE, "unknown option");
		}
	}
	o->rcpts = argv + optind;
	o->nrcpts = argc - optind;
	/*
	 * An option after a recipient ("sendmail root -t") would otherwise
	 * become a recipient address; say so instead. "--" allows it.
	 */
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0 &&
	    argv[optind - 1] != last_arg)
		return;
	for (c = 0; c < o->nrcpts; c++)
		if (o->rcpts[c][0] == '-')
			fatalx(EX_USAGE, "option %s after a recipient: options "
			    "come first (use -- before a recipient starting "
			    "with -)", o->rcpts[c]);
}

static int
load_conf(struct conf *c, const struct opts *o, int flags, char *err,
    size_t errlen)
{
	const char *path;
	bool must;

	path = conf_path(o->config, &must);
	if (must)
		flags |= CONF_MUST_EXIST;
	return conf_load(c, path, flags, err, errlen);
}

/* What reaches a header or the envelope is checked before any input. */
static void
check_cmdline(const struct opts *o)
{
	if (o->fullname != NULL && util_has_ctl(o->fullname,
	    strlen(o->fullname)))
		fatalx(EX_USAGE, "-F: the name contains a control character");
	if (o->sender_given && util_has_ctl(o->sender, strlen(o->sender)))
		fatalx(EX_USAGE, "bad sender address: address contains a "
		    "control character");
}

static int
mode_print(const struct opts *o)
{
	struct conf c;
	struct spool s;
	struct qentry *v;
	struct qstatuses sts;
	size_t n;
	char err[1024];

	/* listing must work while a password file waits to be fixed */
	if (load_conf(&c, o, CONF_SECRETS_LATER, err, sizeof(err)) == -1)
		fatalx(EX_CONFIG, "%s", err);
	if (spool_open(&s, c.spool_dir, false, err, sizeof(err)) == -1) {
		/* a spool never created holds no mail; a broken one is an error */
		if (errno == ENOENT && access(c.spool_dir, F_OK) == -1 &&
		    errno == ENOENT) {
			printf("Mail queue is empty\n");
			conf_free(&c);
			return EX_OK;
		}
		fatalx(EX_TEMPFAIL, "%s", err);
	}
	if (queue_scan(&s, &v, &n) == -1)
		fatal(EX_TEMPFAIL, "cannot read the queue in %s", c.spool_dir);
	queue_statuses_read(&s, &c, &sts);
	queue_print(stdout, v, n, &sts);
	queue_statuses_free(&sts);
	queue_entries_free(v, n);
	spool_close(&s);
	conf_free(&c);
	if (fflush(stdout) == EOF || ferror(stdout))
		fatal(EX_IOERR, "standard output");
	return EX_OK;
}

/* newaliases: check the alias file; every problem is a line on stderr. */
static int
mode_aliases(const struct opts *o)
{
	struct conf c;
	char err[1024];
	int rv;

	if (load_conf(&c, o, CONF_SECRETS_LATER, err, sizeof(err)) == -1)
		fatalx(EX_CONFIG, "%s", err);
	rv = alias_check_conf(&c, stderr) == 0 ? EX_OK : EX_CONFIG;
	conf_free(&c);
	return rv;
}

/* The envelope sender, qualified; "" for the null sender. Caller frees. */
static char *
sender_of(const struct opts *o, const struct conf *c)
{
	struct addrlist l = ADDRLIST_INIT;
	char err[256], *s;

	if (!o->sender_given)
		return addr_qualify(util_username(), util_domain(c));
	if (addr_parse_arg(o->sender, &l, err, sizeof(err)) == -1)
		fatalx(EX_USAGE, "bad sender address: %s", err);
	if (l.n > 1)
		fatalx(EX_USAGE, "bad sender address: more than one address");
	s = l.n == 0 ? xstrdup("") : addr_qualify(l.v[0], util_domain(c));
	addrlist_free(&l);
	return s;
}

/*
 * -t: To, Cc and Bcc; or, when the message was resent (any of Resent-To,
 * Resent-Cc, Resent-Bcc is present), only the Resent- ones. Returns 0, or
 * -1 with a one-line reason in err.
 */
static int
recipients_from_headers(const struct headers *h, struct addrlist *out,
    char *err, size_t errlen)
{
	static const char *const plain[] = { "To", "Cc", "Bcc", NULL };
	static const char *const resent[] = {
		"Resent-To", "Resent-Cc", "Resent-Bcc", NULL };
	const char *const *names = plain;
	struct buf v = BUF_INIT;
	char why[256];
	size_t i, k;

	for (k = 0; resent[k] != NULL; k++)
		if (headers_find(h, resent[k]) != NULL)
			names = resent;
	for (i = 0; i < h->n; i++) {
		for (k = 0; names[k] != NULL; k++)
			if (header_is(&h->v[i], names[k]))
				break;
		if (names[k] == NULL)
			continue;
		buf_reset(&v);
		header_unfold(&h->v[i], &v);
		if (addr_parse_list(v.data, v.len, out, why,
		    sizeof(why)) == -1) {
			util_errf(err, errlen, "bad address in %s: header: %s",
			    names[k], why);
			buf_free(&v);
			return -1;
		}
	}
	buf_free(&v);
	return 0;
}

/*
 * The name for a generated From: -F, else $NAME, else, when the sender is
 * the caller's own address, the caller's GECOS name.
 */
static const char *
full_name(const struct opts *o, bool own_sender)
{
	static char gecos[256];
	const char *env, *g;

	if (o->fullname != NULL)
		return o->fullname;
	env = getenv("NAME");
	if (env != NULL && env[0] != '\0' && !util_has_ctl(env, strlen(env)))
		return env;
	if (!own_sender || (g = util_gecos()) == NULL)
		return NULL;
	strlcpy(gecos, g, sizeof(gecos));
	gecos[strcspn(gecos, ",")] = '\0';
	if (gecos[0] == '\0' || util_has_ctl(gecos, strlen(gecos)))
		return NULL;
	return gecos;
}

/* Adds Date:, From: and Message-ID: when the message lacks them. */
static void
complete_headers(struct headers *h, const struct opts *o,
    const struct conf *c, const char *sender, bool own_sender,
    const char *qid)
{
	struct buf b = BUF_INIT;
	const char *name;
	char date[64];
	unsigned int r;

	if (headers_find(h, "Date") == NULL) {
		rfc5322_date(time(NULL), date, sizeof(date));
		buf_printf(&b, "Date: %s\n", date);
		headers_add(h, b.data, b.len, 4);
	}
	if (headers_find(h, "From") == NULL) {
		buf_reset(&b);
		buf_addstr(&b, "From: ");
		if (sender[0] == '\0')
			buf_printf(&b, "Mail Delivery System <MAILER-DAEMON@%s>",
			    util_domain(c));
		else if ((name = full_name(o, own_sender)) != NULL) {
			rfc5322_display_name(&b, name);
			buf_printf(&b, " <%s>", sender);
		} else
			buf_addstr(&b, sender);
		buf_addch(&b, '\n');
		headers_add(h, b.data, b.len, 4);
	}
	if (headers_find(h, "Message-ID") == NULL) {
		buf_reset(&b);
		util_random(&r, sizeof(r));
		buf_printf(&b, "Message-ID: <%s.%08x@%s>\n", qid, r,
		    util_domain(c));
		headers_add(h, b.data, b.len, 10);
	}
	buf_free(&b);
}

static int
sink_write(void *arg, const void *p, size_t n)
{
	struct sink *s = arg;

	if (spool_write(s->f, p, n) == -1) {
		s->error = errno;
		return -1;
	}
	return 0;
}

/* Fills sub's failure fields; errnum >= 0 adds strerror(errnum). */
static enum submit_status
failed(struct submission *sub, enum submit_status st, const char *smtp,
    int errnum, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errnum >= 0)
		util_errf(sub->err, sizeof(sub->err), "%s: %s", msg,
		    strerror(errnum));
	else
		util_errf(sub->err, sizeof(sub->err), "%s", msg);
	sub->smtp = smtp;
	return st;
}

/*
 * The message pipeline: reads one message from r and writes it durably
 * to the spool with sub's envelope (plus its -t recipients). On failure
 * nothing of the message is left in the spool, sub->err says why and
 * sub->smtp gives the SMTP reply code and enhanced status for it. The
 * reader may be left before the end of the message.
 */
static enum submit_status
submit(const struct opts *o, const struct conf *c, struct spool *s,
    struct reader *r, struct submission *sub)
{
	struct addrlist rcpts = ADDRLIST_INIT, hdr = ADDRLIST_INIT;
	const struct conf *a;
	struct headers h = HEADERS_INIT;
	struct buf body_start = BUF_INIT;
	struct envelope e;
	struct spool_file f;
	struct sink sk;
	enum submit_status st = SUBMIT_QUEUED;
	size_t i;
	int aflags = o->no_alias ? ALIAS_NOEXPAND : 0;

	memset(&e, 0, sizeof(e));
	switch (intake_headers(r, &h, &body_start)) {
	case INTAKE_OK:
		break;
	case INTAKE_TOO_BIG:
		st = failed(sub, SUBMIT_DATAERR, "552 5.3.4", -1, "the header "
		    "section is larger than %d bytes", INTAKE_MAX_HEADERS);
		goto out;
	case INTAKE_READ_ERROR:
		goto input;
	}

	if (sub->extract && recipients_from_headers(&h, &hdr, sub->err,
	    sizeof(sub->err)) == -1) {
		sub->smtp = "554 5.6.0";
		st = SUBMIT_DATAERR;
		goto out;
	}
	/* local names through the aliases; all qualified, each once */
	if (alias_expand(c, sub->rcpts, aflags, &rcpts, sub->err,
	    sizeof(sub->err)) == -1 || alias_expand(c, &hdr, aflags, &rcpts,
	    sub->err, sizeof(sub->err)) == -1) {
		sub->smtp = "451 4.3.5";
		st = SUBMIT_CONFIG;
		goto out;
	}
	if (rcpts.n == 0) {
		st = failed(sub, SUBMIT_DATAERR, "554 5.5.1", -1, "no "
		    "recipients: name them on the command line or use -t "
		    "with To:, Cc: or Bcc: headers");
		goto out;
	}
	headers_remove(&h, "Bcc");
	headers_remove(&h, "Resent-Bcc");

	/* the sender's account (conf.h) rewrites it and later relays it */
	a = conf_route(c, sub->sender);
	e.arrival = time(NULL);
	e.sender = rewrite_envelope(a, sub->sender);
	if (a->account != NULL)
		e.account = xstrdup(a->account);
	for (i = 0; i < rcpts.n; i++)
		envelope_add_rcpt(&e, rcpts.v[i]);

	if (spool_create(s, &f, &e) == -1) {
		st = failed(sub, SUBMIT_TEMPFAIL, "451 4.3.0", errno,
		    "cannot create a file in %s/tmp", c->spool_dir);
		goto out;
	}
	log_set_atfatal(spool_abort_signal);
	complete_headers(&h, o, c, sub->sender, sub->own_sender, f.qid);
	/* after completion, so that a generated From: is rewritten too */
	(void)rewrite_headers(a, &h);
	sk.f = &f;
	sk.error = 0;
	for (i = 0; i < h.n && sk.error == 0; i++)
		sink_write(&sk, h.v[i].raw, h.v[i].rawlen);
	if (sk.error == 0)
		sink_write(&sk, "\n", 1);
	if (sk.error == 0 && body_start.len > 0)
		sink_write(&sk, body_start.data, body_start.len);
	if (sk.error == 0 && intake_body(r, sink_write, &sk) == -1 &&
	    sk.error == 0) {
		spool_abort(s, &f);
		log_set_atfatal(NULL);
		goto input;
	}
	if (sk.error != 0) {
		spool_abort(s, &f);
		st = failed(sub, SUBMIT_TEMPFAIL, "451 4.3.0", sk.error,
		    "cannot write to the spool %s", c->spool_dir);
	} else if (spool_commit(s, &f) == -1)
		st = failed(sub, SUBMIT_TEMPFAIL, "451 4.3.0", errno,
		    "cannot commit the message to %s", c->spool_dir);
	else {
		memcpy(sub->qid, f.qid, sizeof(sub->qid));
		/* the acceptance, as Postfix's pickup and qmgr log it */
		log_mail_open(false);
		log_mail(LOG_INFO, "%s: uid=%lu from=<%s>, size=%lld, "
		    "nrcpt=%zu (queued)", f.qid, (unsigned long)getuid(),
		    e.sender, (long long)f.body_len, e.nrcpts);
	}
	log_set_atfatal(NULL);
	goto out;

input:
	if (r->truncated)
		st = failed(sub, SUBMIT_INPUT, "451 4.3.0", -1, "the input "
		    "ended inside DATA; the message was not queued");
	else
		st = failed(sub, SUBMIT_INPUT, "451 4.3.0", r->error,
		    "error reading the message");
out:
	addrlist_free(&rcpts);
	addrlist_free(&hdr);
	headers_free(&h);
	buf_free(&body_start);
	envelope_free(&e);
	return st;
}

/* -bs: messages answered with 250 before the signal are queued. */
static volatile sig_atomic_t in_session;

/* Async-signal-safe: remove the partial message, say so, exit 75. */
static void
on_signal(int sig)
{
	static const char msg[] =
	    "sendmail: interrupted by a signal; the message was not queued\n";
	static const char smsg[] = "sendmail: interrupted by a signal; the "
	    "message in progress was not queued\n";
	ssize_t w;

	(void)sig;
	spool_abort_signal();
	if (in_session)
		w = write(STDERR_FILENO, smsg, sizeof(smsg) - 1);
	else
		w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	_exit(EX_TEMPFAIL);
}

static void
catch_signals(bool session)
{
	struct sigaction sa;

	in_session = session;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);
}

static int
enqueue(const struct opts *o)
{
	struct addrlist arg = ADDRLIST_INIT;
	struct submission sub;
	struct reader r;
	struct spool s;
	struct conf c;
	char err[1024], *sender;
	int k;

	/* Everything from the command line is checked before any input. */
	check_cmdline(o);
	for (k = 0; k < o->nrcpts; k++)
		if (addr_parse_arg(o->rcpts[k], &arg, err, sizeof(err)) == -1)
			fatalx(EX_USAGE, "bad recipient address: %s", err);
	if (load_conf(&c, o, 0, err, sizeof(err)) == -1)
		fatalx(EX_CONFIG, "%s", err);
	sender = sender_of(o, &c);

	if (spool_open(&s, c.spool_dir, true, err, sizeof(err)) == -1)
		fatalx(EX_TEMPFAIL, "%s", err);
	catch_signals(false);

	memset(&sub, 0, sizeof(sub));
	sub.sender = sender;
	sub.own_sender = !o->sender_given;
	sub.rcpts = &arg;
	sub.extract = o->extract;
	reader_init(&r, STDIN_FILENO, o->dot_ends);
	switch (submit(o, &c, &s, &r, &sub)) {
	case SUBMIT_QUEUED:
		break;
	case SUBMIT_DATAERR:
		fatalx(EX_DATAERR, "%s", sub.err);
	case SUBMIT_TEMPFAIL:
	case SUBMIT_INPUT:
		fatalx(EX_TEMPFAIL, "%s", sub.err);
	case SUBMIT_CONFIG:
		fatalx(EX_CONFIG, "%s", sub.err);
	}

	if (o->verbose)
		fprintf(stderr, "%s: queued as %s\n", log_progname(), sub.qid);
	if (!o->queue_only && may_deliver(o, &s))
		start_delivery(o, &sub.qid, 1);

	reader_free(&r);
	addrlist_free(&arg);
	free(sender);
	spool_close(&s);
	conf_free(&c);
	return EX_OK;
}

/* smtpd's submit function: one DATA of a -bs session into the spool. */
static void
bs_submit(void *arg, const struct smtpd_txn *t, struct reader *r,
    char *reply)
{
	struct bs_session *bs = arg;
	struct addrlist rcpts;
	struct submission sub;

	memset(&sub, 0, sizeof(sub));
	rcpts.v = t->rcpts;
	rcpts.n = t->nrcpts;
	sub.sender = t->sender;
	sub.own_sender = t->sender[0] != '\0' && addr_equal(t->sender,
	    bs->own);
	sub.rcpts = &rcpts;
	sub.extract = false;
	switch (submit(bs->o, bs->c, bs->s, r, &sub)) {
	case SUBMIT_QUEUED:
		bs->qids = xreallocarray(bs->qids, bs->nqids + 1,
		    sizeof(*bs->qids));
		memcpy(bs->qids[bs->nqids++], sub.qid, sizeof(sub.qid));
		if (bs->o->verbose)
			fprintf(stderr, "%s: queued as %s\n", log_progname(),
			    sub.qid);
		(void)snprintf(reply, SMTPD_REPLY_MAX, "250 2.0.0 Ok: queued "
		    "as %s", sub.qid);
		break;
	case SUBMIT_DATAERR:
	case SUBMIT_TEMPFAIL:
	case SUBMIT_CONFIG:
		/* a long reason is cut: the reply stays one sane line */
		util_errf(reply, SMTPD_REPLY_MAX, "%s Error: %s", sub.smtp,
		    sub.err);
		break;
	case SUBMIT_INPUT:
		break;		/* the session ends without a reply */
	}
}

/*
 * sendmail -bs: an SMTP session on standard input and output. The
 * envelope sender of each message is its MAIL FROM (-f and -r are
 * checked but not used). Every message is in the spool before its 250
 * reply; after the session one delivery attempt covers all of them.
 */
static int
mode_smtp(const struct opts *o)
{
	struct smtpd_params p;
	struct bs_session bs;
	struct spool s;
	struct conf c;
	enum smtpd_end end;
	char err[1024];
	int error, ex = EX_OK;

	if (o->nrcpts > 0 || o->extract)
		usage("-bs takes its recipients from RCPT TO: no recipient "
		    "arguments and no -t");
	check_cmdline(o);
	/* a client that cannot be served still gets an SMTP reply */
	if (load_conf(&c, o, 0, err, sizeof(err)) == -1) {
		(void)smtpd_refuse(STDOUT_FILENO, "421 4.3.5", "postern: "
		    "configuration error; service not available");
		fatalx(EX_CONFIG, "%s", err);
	}
	if (spool_open(&s, c.spool_dir, true, err, sizeof(err)) == -1) {
		(void)smtpd_refuse(STDOUT_FILENO, "421 4.3.0", err);
		fatalx(EX_TEMPFAIL, "%s", err);
	}
	catch_signals(true);
	/* a client gone away is an EPIPE to handle, not a signal to die of */
	signal(SIGPIPE, SIG_IGN);

	memset(&bs, 0, sizeof(bs));
	bs.o = o;
	bs.c = &c;
	bs.s = &s;
	bs.own = addr_qualify(util_username(), util_domain(&c));
	memset(&p, 0, sizeof(p));
	p.infd = STDIN_FILENO;
	p.outfd = STDOUT_FILENO;
	p.hostname = c.helo_name != NULL ? c.helo_name : util_fqdn();
	p.domain = util_domain(&c);
	p.submit = bs_submit;
	p.arg = &bs;
	/* a client that stops talking does not keep us forever */
	p.timeout = c.command_timeout;
	end = smtpd_run(&p, &error);
	if (o->verbose)
		fprintf(stderr, "%s: SMTP session ended (%s), %zu message%s "
		    "queued\n", log_progname(), smtpd_end_names[end], bs.nqids,
		    bs.nqids == 1 ? "" : "s");

	if (bs.nqids > 0 && !o->queue_only && may_deliver(o, &s))
		start_delivery(o, bs.qids, bs.nqids);
	switch (end) {
	case SMTPD_END_QUIT:
	case SMTPD_END_EOF:
		break;
	case SMTPD_END_DATA_EOF:
		log_warnx("the input ended inside DATA; that message was not "
		    "queued");
		ex = EX_TEMPFAIL;
		break;
	case SMTPD_END_READ_ERROR:
		errno = error;
		log_warn("error reading the SMTP session");
		ex = EX_TEMPFAIL;
		break;
	case SMTPD_END_WRITE_ERROR:
		errno = error;
		log_warn("cannot write the SMTP replies");
		ex = EX_IOERR;
		break;
	case SMTPD_END_TIMEOUT:
		log_warnx("no input for %u seconds (command_timeout): the SMTP "
		    "session was closed; a message in progress was not queued",
		    c.command_timeout);
		ex = EX_TEMPFAIL;
		break;
	}
	free(bs.own);
	free(bs.qids);
	spool_close(&s);
	conf_free(&c);
	return ex;
}

/*
 * The delivery program: "postern" beside this program's own file (so a
 * build tree and an installed tree each use their own), else the
 * installed one.
 */
static const char *
postern_path(void)
{
	static char path[4096];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	if (n > 0) {
		path[n] = '\0';
		if ((slash = strrchr(path, '/')) != NULL) {
			strlcpy(slash + 1, "postern", sizeof(path) -
			    (size_t)(slash + 1 - path));
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return PST_SBINDIR "/postern";
}

/*
 * Replaces this process with "postern [-C FILE] flush [-v] [QID ...]";
 * more than FLUSH_MAX_QIDS queue IDs flush the whole queue instead.
 */
static void
run_postern(const struct opts *o, const char *cmd, char (*qids)[QID_LEN + 1],
    size_t nqids, bool verbose)
{
	const char **argv;
	size_t i, n = 0;

	if (nqids > FLUSH_MAX_QIDS)
		nqids = 0;
	argv = xreallocarray(NULL, nqids + 6, sizeof(*argv));
	argv[n++] = "postern";
	if (o->config != NULL) {
		argv[n++] = "-C";
		argv[n++] = o->config;
	}
	argv[n++] = cmd;
	if (verbose)
		argv[n++] = "-v";
	for (i = 0; i < nqids; i++)
		argv[n++] = qids[i];
	argv[n] = NULL;
	/* postern runs as the caller; root's postern becomes the spool's */
	priv_drop();
	if (setgid_start)
		execve(postern_path(), (char *const *)argv, clean_env());
	else
		execv(postern_path(), (char *const *)argv);
	fatal(EX_UNAVAILABLE, "cannot run %s", postern_path());
}

/*
 * Whether the caller may attempt delivery right away. In the privileged
 * layout the spool belongs to the delivery user: postern run by root
 * becomes that user, anyone else could not read the queue, so their
 * mail waits for postern daemon (it sees the new file at once) or the
 * flush timer.
 */
static bool
may_deliver(const struct opts *o, const struct spool *s)
{
	struct stat st;

	if (getuid() == 0 || (fstat(s->dirfd, &st) == 0 &&
	    st.st_uid == getuid()))
		return true;
	if (o->verbose)
		fprintf(stderr, "%s: the spool belongs to the delivery user: "
		    "postern daemon or the flush timer delivers\n",
		    log_progname());
	return false;
}

/*
 * Run at the start of main. Set-group-ID, the program must not let a
 * closed standard descriptor become a spool file that error messages go
 * to; the kernel and libc already refuse ptrace, core dumps and the
 * dangerous environment variables (LD_*, TMPDIR, ...).
 */
static void
priv_init(void)
{
	int fd;

	if (getegid() == getgid())
		return;
	setgid_start = true;
	priv_gid = getegid();
	for (;;) {
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			fatal(EX_OSERR, "/dev/null");
		if (fd > STDERR_FILENO) {
			close(fd);
			break;
		}
	}
}

/* Gives up the set-group-ID privilege, irrevocably: real, effective, saved. */
static void
priv_drop(void)
{
	gid_t gid = getgid(), r, e, sv;

	if (!setgid_start || getegid() == gid)
		return;
	if (setresgid(gid, gid, gid) == -1)
		fatal(EX_OSERR, "cannot give up the group privilege");
	/* root may take any group; anyone else must not get it back */
	if (getresgid(&r, &e, &sv) == -1 || r != gid || e != gid ||
	    sv != gid || (geteuid() != 0 && setegid(priv_gid) != -1))
		fatalx(EX_OSERR, "the group privilege could not be given up");
}

/*
 * The environment of postern after priv_drop(): a fixed PATH, and the
 * variables that choose what the caller means (their configuration, time
 * zone and language); nothing else crosses.
 */
static char **
clean_env(void)
{
	static const char *const keep[] = {
		"POSTERN_CONFIG=", "TZ=", "LANG=", "LC_ALL=", NULL };
	static char path[] = "PATH=" _PATH_STDPATH;
	extern char **environ;
	char **env;
	size_t i, k, n = 0;

	for (i = 0; environ[i] != NULL; i++)
		;
	env = xreallocarray(NULL, i + 2, sizeof(*env));
	env[n++] = path;
	for (i = 0; environ[i] != NULL; i++)
		for (k = 0; keep[k] != NULL; k++)
			if (strncmp(environ[i], keep[k], strlen(keep[k])) == 0)
				env[n++] = environ[i];
	env[n] = NULL;
	return env;
}

/*
 * The attempt right after enqueue (of one message, or of a -bs session's
 * messages). With -v it runs in the foreground and shows the dialogue on
 * stderr; otherwise it runs detached, its output to /dev/null, so that
 * callers reading our output or waiting for our children (popen, PHP)
 * are not held up. Either way the exit status is already decided: the
 * messages are in the queue.
 */
static void
start_delivery(const struct opts *o, char (*qids)[QID_LEN + 1], size_t n)
{
	pid_t pid;
	int fd, status;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return;		/* the next flush or the daemon will do it */
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);	/* exec keeps SIG_IGN */
		if (o->verbose && o->mode == MODE_SMTP &&
		    (fd = open("/dev/null", O_RDONLY)) != -1) {
			/* stdout is the client's: the dialogue to stderr */
			dup2(fd, STDIN_FILENO);
			dup2(STDERR_FILENO, STDOUT_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		if (!o->verbose) {
			setsid();
			if ((fd = open("/dev/null", O_RDWR)) != -1) {
				dup2(fd, STDIN_FILENO);
				dup2(fd, STDOUT_FILENO);
				dup2(fd, STDERR_FILENO);
				if (fd > STDERR_FILENO)
					close(fd);
			}
			/* a grandchild, so no caller ever waits for it */
			if ((pid = fork()) != 0)
				_exit(0);
		}
		run_postern(o, "flush", qids, n, o->verbose > 0);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	struct opts o;
	const char *name, *env;

#ifdef __GLIBC__
	/*
	 * One heap, grown once and never given back before exit: a brk()
	 * that shrinks it unmaps pages and flushes the TLB, 0.1 to 0.3 ms
	 * each in a virtual machine, where enqueue used to make three.
	 */
	(void)mallopt(M_TOP_PAD, 512 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
	name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (strcmp(name, "mailq") != 0 && strcmp(name, "newaliases") != 0)
		name = "sendmail";
	log_init(name);
	priv_init();
	memset(&o, 0, sizeof(o));
	o.dot_ends = true;
	if (strcmp(name, "mailq") == 0)
		o.mode = MODE_PRINT;
	else if (strcmp(name, "newaliases") == 0)
		o.mode = MODE_ALIASES;
	parse_args(&o, argc, argv);
	if (strcmp(name, "mailq") == 0)
		o.mode = MODE_PRINT;
	else if (strcmp(name, "newaliases") == 0)
		o.mode = MODE_ALIASES;
	/*
	 * A configuration of the caller's choosing could point the spool,
	 * the alias file or anything else anywhere: then the caller gets
	 * exactly their own rights, as with any other program.
	 */
	if (o.config != NULL || ((env = getenv("POSTERN_CONFIG")) != NULL &&
	    env[0] != '\0'))
		priv_drop();

	switch (o.mode) {
	case MODE_PRINT:
		return mode_print(&o);
	case MODE_ALIASES:
		return mode_aliases(&o);
	case MODE_SMTP:
		return mode_smtp(&o);
	case MODE_QUEUE:
		run_postern(&o, "flush", NULL, 0, o.verbose > 0);
	case MODE_DELIVER:
		break;
	}
	if (o.nrcpts == 0 && !o.extract)
		usage("no recipients: name them on the command line or use -t");
	return enqueue(&o);
}
