/*
 * admin.c: postern(8), queue administration and delivery.
 *
 *	postern [-C FILE] list			the queue, as mailq shows it
 *	postern [-C FILE] purge			remove stale temporary files
 *	postern [-C FILE] flush [-v] [QID ...]	deliver now, ignoring back-off
 *	postern [-C FILE] daemon [-v]		deliver as mail arrives and
 *						as retries fall due
 */
#include "config.h"

#include <sys/inotify.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "deliver.h"
#include "log.h"
#include "queue.h"
#include "spool.h"

/* Temporary files younger than this may still be written by a live writer. */
#define PURGE_MIN_AGE	60
/* The daemon looks at the queue at least this often (polling fallback). */
#define DAEMON_POLL	60

static volatile sig_atomic_t stop;

static void	usage(const char *) __attribute__((noreturn));
static bool	open_spool(struct conf *, struct spool *, const char *);
static int	cmd_flush(struct conf *, struct spool *, int, char **);
static int	cmd_daemon(struct conf *, struct spool *, int, char **);
static void	on_term(int);

static void
usage(const char *why)
{
	fatalx(EX_USAGE, "%s (usage: postern [-C config] list | purge | "
	    "flush [-v] [queue-id ...] | daemon [-v])", why);
}

/* False when the spool was never created: it holds no mail. */
static bool
open_spool(struct conf *c, struct spool *s, const char *config)
{
	const char *path;
	char err[1024];
	bool must;

	/* the password file is checked when it is used, per message */
	path = conf_path(config, &must);
	if (conf_load(c, path, (must ? CONF_MUST_EXIST : 0) |
	    CONF_SECRETS_LATER, err, sizeof(err)) == -1)
		fatalx(EX_CONFIG, "%s", err);
	if (spool_open(s, c->spool_dir, false, err, sizeof(err)) == -1) {
		if (errno == ENOENT && access(c->spool_dir, F_OK) == -1 &&
		    errno == ENOENT)
			return false;
		fatalx(EX_TEMPFAIL, "%s", err);
	}
	return true;
}

static int
cmd_flush(struct conf *c, struct spool *s, int argc, char **argv)
{
	struct deliver_opts o;
	struct deliver_stats ds;
	int ch, i;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((ch = getopt(argc, argv, "+:v")) != -1) {
		if (ch != 'v')
			usage("unknown flush option");
		o.verbose = true;
	}
	for (i = optind; i < argc; i++)
		if (!qid_valid(argv[i]))
			usage("not a queue ID");
	if (optind < argc) {
		o.only = argv + optind;
		o.nonly = (size_t)(argc - optind);
	}
	o.ignore_backoff = true;
	log_mail_open(o.verbose);
	if (deliver_pass(c, s, &o, &ds) == -1)
		return EX_TEMPFAIL;
	return EX_OK;
}

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Passes when messages arrive (inotify on queue/), when a retry falls due,
 * and at least every DAEMON_POLL seconds; SIGTERM or SIGINT end it between
 * two messages' worth of work at most.
 */
static int
cmd_daemon(struct conf *c, struct spool *s, int argc, char **argv)
{
	struct deliver_opts o;
	struct deliver_stats ds;
	struct sigaction sa;
	struct pollfd pfd;
	char evbuf[4096];
	time_t now, wait;
	int ch, in = -1;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((ch = getopt(argc, argv, "+:v")) != -1) {
		if (ch != 'v')
			usage("unknown daemon option");
		o.verbose = true;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_mail_open(o.verbose);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in != -1) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/queue", s->dir);
		if (inotify_add_watch(in, path, IN_MOVED_TO | IN_CREATE) ==
		    -1) {
			close(in);
			in = -1;
		}
	}
	if (in == -1)
		log_mail(LOG_WARNING, "inotify unavailable; polling the queue "
		    "every %d seconds", DAEMON_POLL);
	log_mail(LOG_INFO, "daemon started");
	while (!stop) {
		if (deliver_pass(c, s, &o, &ds) == -1)
			sleep(5);
		if (stop)
			break;
		now = time(NULL);
		wait = DAEMON_POLL;
		if (ds.next_due > 0 && ds.next_due - now < wait)
			wait = ds.next_due > now ? ds.next_due - now : 1;
		pfd.fd = in;
		pfd.events = POLLIN;
		if (poll(&pfd, in != -1 ? 1 : 0, (int)wait * 1000) > 0) {
			/* coalesce a burst of arrivals into one pass */
			usleep(100000);
			while (read(in, evbuf, sizeof(evbuf)) > 0)
				;
		}
	}
	log_mail(LOG_INFO, "daemon stopped");
	if (in != -1)
		close(in);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *cmd;
	struct conf c;
	struct spool s;
	struct qentry *v;
	struct qstatus st;
	size_t n;
	int ch, removed, rv = EX_OK;

	log_init("postern");
	signal(SIGPIPE, SIG_IGN);
	opterr = 0;
	while ((ch = getopt(argc, argv, "+:C:")) != -1) {
		switch (ch) {
		case 'C':
			config = optarg;
			break;
		case ':':
			usage("option -C requires an argument");
		default:
			usage("unknown option");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage("no command");
	cmd = argv[0];

	if (strcmp(cmd, "list") == 0) {
		if (argc != 1)
			usage("list takes no arguments");
		if (!open_spool(&c, &s, config)) {
			queue_print(stdout, NULL, 0, NULL);
			conf_free(&c);
			return EX_OK;
		}
		if (queue_scan(&s, &v, &n) == -1)
			fatal(EX_TEMPFAIL, "cannot read the queue");
		queue_status_read(&s, &st);
		queue_print(stdout, v, n, &st);
		queue_entries_free(v, n);
	} else if (strcmp(cmd, "purge") == 0) {
		if (argc != 1)
			usage("purge takes no arguments");
		if (!open_spool(&c, &s, config)) {
			printf("removed 0 stale files\n");
			conf_free(&c);
			return EX_OK;
		}
		if ((removed = spool_purge(&s, PURGE_MIN_AGE)) == -1)
			fatal(EX_TEMPFAIL, "cannot purge %s", c.spool_dir);
		printf("removed %d stale file%s\n", removed,
		    removed == 1 ? "" : "s");
	} else if (strcmp(cmd, "flush") == 0) {
		if (!open_spool(&c, &s, config)) {
			conf_free(&c);
			return EX_OK;	/* nothing was ever queued */
		}
		rv = cmd_flush(&c, &s, argc, argv);
	} else if (strcmp(cmd, "daemon") == 0) {
		/* the daemon waits for mail: it makes the spool if need be */
		if (!open_spool(&c, &s, config)) {
			char err[1024];

			if (spool_open(&s, c.spool_dir, true, err,
			    sizeof(err)) == -1)
				fatalx(EX_TEMPFAIL, "%s", err);
		}
		rv = cmd_daemon(&c, &s, argc, argv);
	} else
		usage("unknown command");
	spool_close(&s);
	conf_free(&c);
	if (fflush(stdout) == EOF)
		fatal(EX_IOERR, "standard output");
	return rv;
}
