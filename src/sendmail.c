/*
 * sendmail.c: the front-end: sendmail(8), mailq(1) and newaliases(8).
 *
 * It reads the command line the way Postfix's and Sendmail's sendmail do,
 * reads the message from standard input and writes it durably to the
 * spool. It is deliberately small and never reads credentials: it is the
 * program a later privileged install makes setgid. It prints one line on
 * stderr for every failure and exits with a sysexits(3) code:
 *	0	the message is safely in the spool
 *	64	bad command line (also: a control character in an address)
 *	65	unusable message (no recipients, bad address header)
 *	69	a mode that is not implemented yet
 *	75	the spool could not take it; nothing partial is left
 *	78	configuration error
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "envelope.h"
#include "intake.h"
#include "log.h"
#include "queue.h"
#include "rfc5322.h"
#include "spool.h"
#include "util.h"

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
	int		 verbose;	/* -v */
	char		**rcpts;	/* operands */
	int		 nrcpts;
};

struct sink {
	struct spool_file *f;
	int		   error;
};

static void	usage(const char *) __attribute__((noreturn));
static void	parse_args(struct opts *, int, char **);
static void	load_conf(struct conf *, const struct opts *, int);
static int	mode_print(const struct opts *);
static int	enqueue(const struct opts *);
static char	*sender_of(const struct opts *, const struct conf *);
static void	recipients_from_headers(const struct headers *,
		    struct addrlist *);
static void	complete_headers(struct headers *, const struct opts *,
		    const struct conf *, const char *, const char *);
static const char *full_name(const struct opts *);
static int	sink_write(void *, const void *, size_t);
static void	on_signal(int);
static const char *postern_path(void);
static void	run_postern(const struct opts *, const char *, const char *,
		    bool) __attribute__((noreturn));
static void	start_delivery(const struct opts *, const char *);

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
		case 'G': case 'U': case 'm': case 'n': case 'x':
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

static void
load_conf(struct conf *c, const struct opts *o, int flags)
{
	char err[1024];
	const char *path;
	bool must;

	path = conf_path(o->config, &must);
	if (must)
		flags |= CONF_MUST_EXIST;
	if (conf_load(c, path, flags, err, sizeof(err)) == -1)
		fatalx(EX_CONFIG, "%s", err);
}

static int
mode_print(const struct opts *o)
{
	struct conf c;
	struct spool s;
	struct qentry *v;
	struct qstatus st;
	size_t n;
	char err[1024];

	/* listing must work while a password file waits to be fixed */
	load_conf(&c, o, CONF_SECRETS_LATER);
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
	queue_status_read(&s, &st);
	queue_print(stdout, v, n, &st);
	queue_entries_free(v, n);
	spool_close(&s);
	conf_free(&c);
	if (fflush(stdout) == EOF || ferror(stdout))
		fatal(EX_IOERR, "standard output");
	return EX_OK;
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
 * Resent-Cc, Resent-Bcc is present), only the Resent- ones.
 */
static void
recipients_from_headers(const struct headers *h, struct addrlist *out)
{
	static const char *const plain[] = { "To", "Cc", "Bcc", NULL };
	static const char *const resent[] = {
		"Resent-To", "Resent-Cc", "Resent-Bcc", NULL };
	const char *const *names = plain;
	struct buf v = BUF_INIT;
	char err[256];
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
		if (addr_parse_list(v.data, v.len, out, err, sizeof(err)) == -1)
			fatalx(EX_DATAERR, "bad address in %s: header: %s",
			    names[k], err);
	}
	buf_free(&v);
}

static const char *
full_name(const struct opts *o)
{
	static char gecos[256];
	struct passwd *pw;
	const char *env;

	if (o->fullname != NULL)
		return o->fullname;
	env = getenv("NAME");
	if (env != NULL && env[0] != '\0' && !util_has_ctl(env, strlen(env)))
		return env;
	if (o->sender_given || (pw = getpwuid(getuid())) == NULL ||
	    pw->pw_gecos == NULL)
		return NULL;
	strlcpy(gecos, pw->pw_gecos, sizeof(gecos));
	gecos[strcspn(gecos, ",")] = '\0';
	if (gecos[0] == '\0' || util_has_ctl(gecos, strlen(gecos)))
		return NULL;
	return gecos;
}

/* Adds Date:, From: and Message-ID: when the message lacks them. */
static void
complete_headers(struct headers *h, const struct opts *o,
    const struct conf *c, const char *sender, const char *qid)
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
		else if ((name = full_name(o)) != NULL) {
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

/* Async-signal-safe: remove the partial message, say so, exit 75. */
static void
on_signal(int sig)
{
	static const char msg[] =
	    "sendmail: interrupted by a signal; the message was not queued\n";
	ssize_t w;

	(void)sig;
	spool_abort_signal();
	w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	_exit(EX_TEMPFAIL);
}

static int
enqueue(const struct opts *o)
{
	struct addrlist rcpts = ADDRLIST_INIT, arg = ADDRLIST_INIT;
	struct headers h = HEADERS_INIT;
	struct buf body_start = BUF_INIT;
	struct envelope e;
	struct spool_file f;
	struct sigaction sa;
	struct reader r;
	struct spool s;
	struct conf c;
	struct sink sk;
	char err[1024], *sender, *q;
	size_t i;
	int k;

	/* Everything from the command line is checked before any input. */
	if (o->fullname != NULL && util_has_ctl(o->fullname,
	    strlen(o->fullname)))
		fatalx(EX_USAGE, "-F: the name contains a control character");
	if (o->sender_given && util_has_ctl(o->sender, strlen(o->sender)))
		fatalx(EX_USAGE, "bad sender address: address contains a "
		    "control character");
	for (k = 0; k < o->nrcpts; k++)
		if (addr_parse_arg(o->rcpts[k], &arg, err, sizeof(err)) == -1)
			fatalx(EX_USAGE, "bad recipient address: %s", err);
	load_conf(&c, o, 0);
	sender = sender_of(o, &c);

	if (spool_open(&s, c.spool_dir, true, err, sizeof(err)) == -1)
		fatalx(EX_TEMPFAIL, "%s", err);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);

	reader_init(&r, STDIN_FILENO, o->dot_ends);
	switch (intake_headers(&r, &h, &body_start)) {
	case INTAKE_OK:
		break;
	case INTAKE_TOO_BIG:
		fatalx(EX_DATAERR, "the header section is larger than %d bytes",
		    INTAKE_MAX_HEADERS);
	case INTAKE_READ_ERROR:
		errno = r.error;
		fatal(EX_TEMPFAIL, "error reading the message");
	}

	if (o->extract)
		recipients_from_headers(&h, &arg);
	for (i = 0; i < arg.n; i++) {
		q = addr_qualify(arg.v[i], util_domain(&c));
		addrlist_add_unique(&rcpts, q);
		free(q);
	}
	addrlist_free(&arg);
	if (rcpts.n == 0)
		fatalx(EX_DATAERR, "no recipients: name them on the command "
		    "line or use -t with To:, Cc: or Bcc: headers");
	headers_remove(&h, "Bcc");
	headers_remove(&h, "Resent-Bcc");

	memset(&e, 0, sizeof(e));
	e.arrival = time(NULL);
	e.sender = sender;
	for (i = 0; i < rcpts.n; i++)
		envelope_add_rcpt(&e, rcpts.v[i]);
	addrlist_free(&rcpts);

	if (spool_create(&s, &f, &e) == -1)
		fatal(EX_TEMPFAIL, "cannot create a file in %s/tmp", c.spool_dir);
	log_set_atfatal(spool_abort_signal);
	complete_headers(&h, o, &c, sender, f.qid);
	sk.f = &f;
	sk.error = 0;
	for (i = 0; i < h.n && sk.error == 0; i++)
		sink_write(&sk, h.v[i].raw, h.v[i].rawlen);
	if (sk.error == 0)
		sink_write(&sk, "\n", 1);
	if (sk.error == 0 && body_start.len > 0)
		sink_write(&sk, body_start.data, body_start.len);
	if (sk.error == 0 && intake_body(&r, sink_write, &sk) == -1 &&
	    sk.error == 0) {
		spool_abort(&s, &f);
		errno = r.error;
		fatal(EX_TEMPFAIL, "error reading the message");
	}
	if (sk.error != 0) {
		spool_abort(&s, &f);
		errno = sk.error;
		fatal(EX_TEMPFAIL, "cannot write to the spool %s", c.spool_dir);
	}
	if (spool_commit(&s, &f) == -1)
		fatal(EX_TEMPFAIL, "cannot commit the message to %s",
		    c.spool_dir);
	log_set_atfatal(NULL);

	if (o->verbose)
		fprintf(stderr, "%s: queued as %s\n", log_progname(), f.qid);
	if (!o->queue_only)
		start_delivery(o, f.qid);

	reader_free(&r);
	headers_free(&h);
	buf_free(&body_start);
	envelope_free(&e);
	spool_close(&s);
	conf_free(&c);
	return EX_OK;
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

/* Replaces this process with "postern [-C FILE] flush [-v] [QID]". */
static void
run_postern(const struct opts *o, const char *cmd, const char *qid,
    bool verbose)
{
	const char *argv[8];
	int n = 0;

	argv[n++] = "postern";
	if (o->config != NULL) {
		argv[n++] = "-C";
		argv[n++] = o->config;
	}
	argv[n++] = cmd;
	if (verbose)
		argv[n++] = "-v";
	if (qid != NULL)
		argv[n++] = qid;
	argv[n] = NULL;
	execv(postern_path(), (char *const *)argv);
	fatal(EX_UNAVAILABLE, "cannot run %s", postern_path());
}

/*
 * The attempt right after enqueue. With -v it runs in the foreground and
 * shows the dialogue; otherwise it runs detached, its output to
 * /dev/null, so that callers reading our output or waiting for our
 * children (popen, PHP) are not held up. Either way the exit status is
 * already decided: the message is in the queue.
 */
static void
start_delivery(const struct opts *o, const char *qid)
{
	pid_t pid;
	int fd, status;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return;		/* the next flush or the daemon will do it */
	if (pid == 0) {
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
		run_postern(o, "flush", qid, o->verbose > 0);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	struct opts o;
	const char *name;

	name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (strcmp(name, "mailq") != 0 && strcmp(name, "newaliases") != 0)
		name = "sendmail";
	log_init(name);
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

	switch (o.mode) {
	case MODE_PRINT:
		return mode_print(&o);
	case MODE_ALIASES:
		/* XXX alias files arrive with the drop-in issue: none yet. */
		return EX_OK;
	case MODE_SMTP:
		fatalx(EX_UNAVAILABLE, "-bs (SMTP on standard input) is not "
		    "implemented yet");
	case MODE_QUEUE:
		run_postern(&o, "flush", NULL, o.verbose > 0);
	case MODE_DELIVER:
		break;
	}
	if (o.nrcpts == 0 && !o.extract)
		usage("no recipients: name them on the command line or use -t");
	return enqueue(&o);
}
