/*
 * admin.c: postern(8), queue administration and delivery.
 *
 *	postern [-C FILE] list [--json]		the queue, as mailq shows it
 *	postern [-C FILE] show QID		one message: envelope, state,
 *						header section
 *	postern [-C FILE] delete QID...|ALL|-	remove messages
 *	postern [-C FILE] hold QID...|ALL|-	keep messages from delivery
 *	postern [-C FILE] release QID...|ALL|-	undo hold
 *	postern [-C FILE] retry [-n] [-v] QID...|ALL|-
 *						clear the back-off, deliver now
 *	postern [-C FILE] purge			remove stale temporary files
 *	postern [-C FILE] cleanup		purge, and remove finished
 *						messages a crash left
 *	postern [-C FILE] check [--warn-size N] [--crit-size N]
 *	    [--warn-age DURATION] [--crit-age DURATION]
 *						a Nagios/Icinga plugin
 *	postern [-C FILE] flush [-v] [QID ...]	deliver now, ignoring back-off
 *	postern [-C FILE] daemon [-v]		deliver as mail arrives and
 *						as retries fall due
 *	postern [-C FILE] test-auth		connect, authenticate, quit:
 *						the dialogue, redacted
 *
 * Every change to a message (delete, hold, release, retry) is made while
 * holding the message's flock(), the lock a delivery worker holds for as
 * long as it works on the message and until its outcome is on disk. So a
 * change never interleaves with a delivery: it waits (ADMIN_LOCK_WAIT_MS
 * at most) for the worker to finish, and then finds the message either
 * gone or with its new state. Removal is queue file first, state file
 * second (queue_remove), so a crash in between leaves an orphan state
 * file that purge removes, never a message that would be delivered again.
 * Hold and release rewrite the state file atomically (queue_write_state).
 *
 * Privileges (postern(8), SECURITY): every command opens the spool through
 * try_open(), which first takes the identity of the spool's owner when run
 * by root and the spool is another user's (the delivery user of the
 * privileged install), for good, so that delivery never runs as root and
 * nothing it writes is root's. Run by anyone else, a command that
 * changes the spool refuses a spool that is not the caller's (exit 77).
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
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
#include "compat.h"
#include "conf.h"
#include "deliver.h"
#include "envelope.h"
#include "log.h"
#include "queue.h"
#include "spool.h"
#include "util.h"

/* Temporary files younger than this may still be written by a live writer. */
#define PURGE_MIN_AGE	60
/* The daemon looks at the queue at least this often (polling fallback). */
#define DAEMON_POLL	60
/* How long a change waits for a worker that is delivering the message. */
#define ADMIN_LOCK_WAIT_MS	5000
/* The most of a header section that show prints. */
#define SHOW_HEADER_MAX	(1024 * 1024)
/* Queue IDs read from standard input ("-"), at most. */
#define STDIN_IDS_MAX	1000000

/* Nagios plugin states (the exit status of check). */
enum check_state {
	CHECK_OK,
	CHECK_WARNING,
	CHECK_CRITICAL,
	CHECK_UNKNOWN,
};
static const char *const check_state_names[] = {
	[CHECK_OK] = "OK",
	[CHECK_WARNING] = "WARNING",
	[CHECK_CRITICAL] = "CRITICAL",
	[CHECK_UNKNOWN] = "UNKNOWN",
};

/* What delete, hold, release and retry do to one message. */
enum change_op {
	CHANGE_DELETE,
	CHANGE_HOLD,
	CHANGE_RELEASE,
	CHANGE_RETRY,
};
static const char *const change_op_names[] = {
	[CHANGE_DELETE] = "delete",
	[CHANGE_HOLD] = "hold",
	[CHANGE_RELEASE] = "release",
	[CHANGE_RETRY] = "retry",
};

/* The messages a change names: a list of queue IDs, or ALL. */
struct targets {
	char		**qids;		/* owned; sorted, no duplicates */
	size_t		  n;
	bool		  all;
};

/* The outcome of a change, counted over its messages. */
struct tally {
	size_t		  done;		/* changed */
	size_t		  already;	/* already so (held, released) */
	size_t		  held;		/* retry: on hold, left alone */
	size_t		  refused;	/* retry: named, but on hold */
	size_t		  missing;	/* named, not in the queue */
	size_t		  busy;		/* still locked after the wait */
	size_t		  damaged;	/* unreadable: not changed */
	size_t		  failed;	/* a system call failed */
	char		**retry;	/* retry: the IDs cleared (owned) */
	size_t		  nretry;
};

static volatile sig_atomic_t stop;
/* The command changes the spool (delete, flush, ...), not only reads it. */
static bool changes_spool;

static void	usage(const char *) __attribute__((noreturn));
static int	try_open(struct conf *, struct spool *, const char *, char *,
		    size_t);
static bool	open_spool(struct conf *, struct spool *, const char *);
static int	become_owner(const char *, char *, size_t);
static bool	qid_arg(const char *, char *);
static int	cmp_str(const void *, const void *);
static void	get_targets(int, char **, struct targets *);
static void	targets_free(struct targets *);
static bool	change_one(struct spool *, enum change_op, const char *, bool,
		    int, struct tally *);
static void	change_all(struct spool *, enum change_op, char **, size_t,
		    bool, struct tally *);
static int	change_exit(const struct tally *);
static int	cmd_list(const struct conf *, struct spool *, bool, int,
		    char **);
static int	cmd_show(struct spool *, int, char **);
static int	cmd_change(struct conf *, struct spool *, enum change_op, int,
		    char **);
static int	cmd_cleanup(struct spool *, int, char **);
static int	cmd_check(const char *, int, char **);
static int	cmd_flush(struct conf *, struct spool *, int, char **);
static int	cmd_daemon(struct conf *, struct spool *, int, char **);
static int	cmd_test_auth(const char *, int, char **);
static void	print_time(FILE *, const char *, time_t);
static void	print_text(FILE *, const char *, const char *);
static void	fmt_age(char *, size_t, time_t);
static void	on_term(int);

static void
usage(const char *why)
{
	fatalx(EX_USAGE, "%s (usage: postern [-C config] list [--json] | "
	    "show queue-id | delete|hold|release queue-id...|ALL|- | "
	    "retry [-n] [-v] queue-id...|ALL|- | purge | cleanup | "
	    "check [--warn-size N] [--crit-size N] [--warn-age T] "
	    "[--crit-age T] | flush [-v] [queue-id ...] | daemon [-v] | "
	    "test-auth)", why);
}

/*
 * Run by root on a spool that belongs to another user, becomes that user
 * (its groups, gid and uid, irrevocably) and returns 0. Run by another
 * user on a spool not theirs, returns -1 with a one-line reason in err
 * for a command that changes the spool; a reader goes on and finds what
 * the spool's modes let it read. A spool that cannot be stat()ed is left
 * to spool_open() to report.
 */
static int
become_owner(const char *dir, char *err, size_t errlen)
{
	struct passwd *pw;
	struct stat st;
	char name[256];
	uid_t uid;
	gid_t gid;

	if (stat(dir, &st) == -1 || st.st_uid == geteuid())
		return 0;
	uid = st.st_uid;
	if (geteuid() != 0) {
		if (!changes_spool)
			return 0;
		pw = getpwuid(uid);
		util_errf(err, errlen, "the spool %s belongs to %s: run this "
		    "as root or as that user", dir, pw != NULL ?
		    pw->pw_name : "another user");
		return -1;
	}
	if ((pw = getpwuid(uid)) == NULL)
		fatalx(EX_NOUSER, "the spool %s belongs to uid %lu, which is "
		    "no user", dir, (unsigned long)uid);
	if (strlcpy(name, pw->pw_name, sizeof(name)) >= sizeof(name))
		fatalx(EX_NOUSER, "the spool %s belongs to a user with too "
		    "long a name", dir);
	gid = pw->pw_gid;
	if (initgroups(name, gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal(EX_OSERR, "cannot become %s, the owner of the spool %s",
		    name, dir);
	if (setuid(0) != -1 || geteuid() != uid || getegid() != gid)
		fatalx(EX_OSERR, "root privileges could not be given up");
	/* the files it writes are for the spool's group to read (mailq) */
	umask(027);
	return 0;
}

/*
 * Loads the configuration and opens the spool, as its owner when run by
 * root (become_owner). 1: open; 0: the spool was never created (it holds
 * no mail); -1: configuration error, -2: the spool cannot be opened, -3:
 * the caller may not use it, with a one-line reason in err.
 */
static int
try_open(struct conf *c, struct spool *s, const char *config, char *err,
    size_t errlen)
{
	const char *path;
	bool must;

	/* the password file is checked when it is used, per message */
	path = conf_path(config, &must);
	if (conf_load(c, path, (must ? CONF_MUST_EXIST : 0) |
	    CONF_SECRETS_LATER, err, errlen) == -1)
		return -1;
	if (become_owner(c->spool_dir, err, errlen) == -1)
		return -3;
	if (spool_open(s, c->spool_dir, false, err, errlen) == -1) {
		if (errno == ENOENT && access(c->spool_dir, F_OK) == -1 &&
		    errno == ENOENT)
			return 0;
		if (errno == EACCES || errno == EPERM) {
			util_errf(err + strlen(err), errlen - strlen(err),
			    " (run this as root or as the owner of the spool)");
			return -3;
		}
		return -2;
	}
	return 1;
}

/* False when the spool was never created: it holds no mail. */
static bool
open_spool(struct conf *c, struct spool *s, const char *config)
{
	char err[1024];

	switch (try_open(c, s, config, err, sizeof(err))) {
	case -1:
		fatalx(EX_CONFIG, "%s", err);
	case -2:
		fatalx(EX_TEMPFAIL, "%s", err);
	case -3:
		fatalx(EX_NOPERM, "%s", err);
	case 0:
		return false;
	default:
		return true;
	}
}

/*
 * A queue ID as given: copied to out without the "!" that mailq shows
 * after a message on hold. False if it is not a queue ID.
 */
static bool
qid_arg(const char *arg, char *out)
{
	size_t len = strlen(arg);

	if (len == QID_LEN + 1 && arg[QID_LEN] == '!')
		len--;
	if (len != QID_LEN)
		return false;
	memcpy(out, arg, QID_LEN);
	out[QID_LEN] = '\0';
	return qid_valid(out);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * argv[0..argc): queue IDs, or "ALL" alone (upper case, as Postfix asks,
 * so that it is never typed by accident), or "-" alone: queue IDs from
 * standard input, one a line. Usage errors end the program before
 * anything was changed.
 */
static void
get_targets(int argc, char **argv, struct targets *t)
{
	char qid[QID_LEN + 1], *line = NULL, *p, *end;
	size_t cap = 0, lineno = 0, i, j;
	ssize_t len;
	bool from_stdin;

	memset(t, 0, sizeof(*t));
	if (argc == 0)
		usage("no queue ID given");
	if (argc == 1 && strcmp(argv[0], "ALL") == 0) {
		t->all = true;
		return;
	}
	from_stdin = argc == 1 && strcmp(argv[0], "-") == 0;
	if (!from_stdin) {
		t->qids = xreallocarray(NULL, (size_t)argc, sizeof(*t->qids));
		for (i = 0; i < (size_t)argc; i++) {
			if (strcmp(argv[i], "ALL") == 0 ||
			    strcmp(argv[i], "-") == 0)
				usage("ALL and - stand alone");
			if (!qid_arg(argv[i], qid))
				usage("not a queue ID");
			t->qids[t->n++] = xstrdup(qid);
		}
	} else {
		while ((len = getline(&line, &cap, stdin)) != -1) {
			lineno++;
			p = line;
			end = line + len;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			while (end > p && (end[-1] == '\n' || end[-1] == '\r' ||
			    end[-1] == ' ' || end[-1] == '\t'))
				end--;
			if (p == end)
				continue;
			*end = '\0';
			if (!qid_arg(p, qid) || memchr(p, '\0',
			    (size_t)(end - p)) != NULL) {
				free(line);
				fatalx(EX_USAGE, "standard input, line %zu: not "
				    "a queue ID; nothing was changed", lineno);
			}
			if (t->n == STDIN_IDS_MAX)
				fatalx(EX_USAGE, "more than %d queue IDs on "
				    "standard input", STDIN_IDS_MAX);
			t->qids = xreallocarray(t->qids, t->n + 1,
			    sizeof(*t->qids));
			t->qids[t->n++] = xstrdup(qid);
		}
		free(line);
		if (ferror(stdin))
			fatal(EX_IOERR, "standard input");
	}
	/* each message once, in order of arrival */
	if (t->n > 1)
		qsort(t->qids, t->n, sizeof(*t->qids), cmp_str);
	for (i = j = 0; i < t->n; i++) {
		if (j > 0 && strcmp(t->qids[j - 1], t->qids[i]) == 0) {
			free(t->qids[i]);
			continue;
		}
		t->qids[j++] = t->qids[i];
	}
	t->n = j;
}

static void
targets_free(struct targets *t)
{
	queue_names_free(t->qids, t->n);
	memset(t, 0, sizeof(*t));
}

/*
 * One message, under its lock. named: the administrator gave its ID, so
 * its absence is an error (with ALL it was delivered meanwhile). With
 * wait_ms 0 a busy message is neither waited for nor reported: false
 * tells the caller to come back to it.
 */
static bool
change_one(struct spool *s, enum change_op op, const char *qid, bool named,
    int wait_ms, struct tally *t)
{
	struct envelope e;
	char err[256];
	time_t now;
	bool write = false;
	int fd;

	switch (queue_lock(s, qid, wait_ms, &fd)) {
	case QUEUE_LOCKED:
		break;
	case QUEUE_GONE:
		if (named) {
			log_warnx("%s: not in the queue", qid);
			t->missing++;
		}
		return true;
	case QUEUE_BUSY:
		if (wait_ms == 0)
			return false;
		log_warnx("%s: still being delivered after %d seconds; not "
		    "changed (try again)", qid, wait_ms / 1000);
		t->busy++;
		return true;
	case QUEUE_ERROR:
		log_warn("%s", qid);
		t->failed++;
		return true;
	}
	if (op == CHANGE_DELETE) {
		/* damaged or not: a removal needs no envelope */
		if (queue_remove(s, qid) == -1) {
			log_warn("%s: cannot remove", qid);
			t->failed++;
		} else {
			log_mail(LOG_INFO, "%s: removed (postern delete)",
			    qid);
			t->done++;
		}
		close(fd);
		return true;
	}
	if (queue_read(s, qid, fd, &e, err, sizeof(err)) == -1) {
		log_warnx("%s: damaged queue file (%s); not changed", qid, err);
		t->damaged++;
		close(fd);
		return true;
	}
	now = time(NULL);
	switch (op) {
	case CHANGE_HOLD:
		if (e.hold_since != 0) {
			t->already++;
			break;
		}
		e.hold_since = now > 0 ? now : 1;
		write = true;
		break;
	case CHANGE_RELEASE:
		if (e.hold_since == 0) {
			t->already++;
			break;
		}
		/* the time on hold does not count toward queue_lifetime */
		if (now > e.hold_since)
			e.held += now - e.hold_since;
		e.hold_since = 0;
		write = true;
		break;
	case CHANGE_RETRY:
		if (e.hold_since != 0) {
			if (named) {
				log_warnx("%s: on hold; release it first",
				    qid);
				t->refused++;
			}
			t->held++;
			break;
		}
		write = e.next_attempt != 0;
		e.next_attempt = 0;
		t->retry = xreallocarray(t->retry, t->nretry + 1,
		    sizeof(*t->retry));
		t->retry[t->nretry++] = xstrdup(qid);
		break;
	case CHANGE_DELETE:
		bug("change_one: delete");
	}
	if (write && queue_write_state(s, qid, &e) == -1) {
		log_warn("%s: cannot write its state", qid);
		t->failed++;
		if (op == CHANGE_RETRY)
			free(t->retry[--t->nretry]);
	} else if (write || op == CHANGE_RETRY) {
		t->done++;
		if (op == CHANGE_HOLD)
			log_mail(LOG_INFO, "%s: placed on hold", qid);
		else if (op == CHANGE_RELEASE)
			log_mail(LOG_INFO, "%s: released from hold", qid);
		else if (write)
			log_mail(LOG_INFO, "%s: retry back-off cleared", qid);
	}
	envelope_free(&e);
	close(fd);
	return true;
}

/*
 * Every message of qids[0..n) that is free at once first, then the ones
 * that were busy, each waited for: "hold ALL" holds all that is not
 * being delivered right away, instead of queueing up behind the workers
 * message after message.
 */
static void
change_all(struct spool *s, enum change_op op, char **qids, size_t n,
    bool named, struct tally *t)
{
	size_t *busy, nbusy = 0, i;

	busy = xcalloc(n > 0 ? n : 1, sizeof(*busy));
	for (i = 0; i < n; i++)
		if (!change_one(s, op, qids[i], named, 0, t))
			busy[nbusy++] = i;
	for (i = 0; i < nbusy; i++)
		change_one(s, op, qids[busy[i]], named, ADMIN_LOCK_WAIT_MS, t);
	free(busy);
}

/*
 * 0 when every message was dealt with; else the most useful code for a
 * script: 75 retry later (busy, or a failed system call), 65 a message
 * could not be changed (damaged, or on hold for retry), 66 one was not
 * in the queue.
 */
static int
change_exit(const struct tally *t)
{
	if (t->busy > 0 || t->failed > 0)
		return EX_TEMPFAIL;
	if (t->damaged > 0 || t->refused > 0)
		return EX_DATAERR;
	if (t->missing > 0)
		return EX_NOINPUT;
	return EX_OK;
}

static int
cmd_list(const struct conf *c, struct spool *s, bool have_spool, int argc,
    char **argv)
{
	struct qentry *v = NULL;
	struct qstatuses sts;
	size_t n = 0;
	bool json = false;

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = true;
	else if (argc != 1)
		usage("list takes no arguments but --json");
	if (have_spool) {
		if (queue_scan(s, &v, &n) == -1)
			fatal(EX_TEMPFAIL, "cannot read the queue");
		queue_statuses_read(s, c, &sts);
	}
	if (json) {
		if (queue_print_json(stdout, v, n, have_spool ? &sts : NULL) ==
		    -1)
			fatal(EX_IOERR, "standard output");
	} else
		queue_print(stdout, v, n, have_spool ? &sts : NULL);
	if (have_spool)
		queue_statuses_free(&sts);
	queue_entries_free(v, n);
	return EX_OK;
}

/* "label: 2026-11-26 05:45:43 +0000" in local time. */
static void
print_time(FILE *fp, const char *label, time_t t)
{
	char when[64];
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)t);
	fprintf(fp, "%-14s%s%s\n", label, strlen(label) >= 14 ? " " : "",
	    when);
}

/* "label: text", the text made printable. */
static void
print_text(FILE *fp, const char *label, const char *text)
{
	struct buf b = BUF_INIT;

	util_printable(&b, text, strlen(text));
	fprintf(fp, "%-14s%s\n", label, b.data);
	buf_free(&b);
}

/*
 * The envelope and delivery state of one message, each recipient with
 * its state and last reply, then (after an empty line) the header section
 * of the message, never its body. Read without the lock, as mailq reads:
 * one consistent snapshot through one open queue file.
 */
static int
cmd_show(struct spool *s, int argc, char **argv)
{
	struct envelope e;
	struct qstatus st;
	struct buf b = BUF_INIT, line = BUF_INIT;
	char qid[QID_LEN + 1], err[256];
	const char *p, *nl, *tab, *lasterr;
	size_t i, npend = 0, nsent = 0, nfail = 0;
	time_t now = time(NULL);
	bool truncated;
	int fd;

	if (argc != 2)
		usage("show takes one queue ID");
	if (!qid_arg(argv[1], qid))
		usage("not a queue ID");
	fd = openat(s->queuefd, qid, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		fatalx(EX_NOINPUT, "%s: not in the queue", qid);
	if (fd == -1)
		fatal(EX_TEMPFAIL, "%s", qid);
	if (queue_read(s, qid, fd, &e, err, sizeof(err)) == -1)
		fatalx(EX_DATAERR, "%s: damaged queue file: %s", qid, err);
	queue_status_read(s, e.account, &st);

	printf("%-14s%s\n", "queue id:", qid);
	print_text(stdout, "sender:", e.sender[0] != '\0' ? e.sender : "<>");
	printf("%-14s%s\n", "account:", e.account != NULL ? e.account :
	    "default");
	print_time(stdout, "arrival:", e.arrival);
	printf("%-14s%lld\n", "size:", (long long)e.size);
	if (e.hold_since != 0)
		print_time(stdout, "on hold since:", e.hold_since);
	else
		printf("%-14s%s\n", "on hold:", "no");
	printf("%-14s%u\n", "attempts:", e.attempts);
	if (e.last_attempt != 0)
		print_time(stdout, "last attempt:", e.last_attempt);
	else
		printf("%-14s%s\n", "last attempt:", "never");
	if (e.hold_since != 0)
		printf("%-14s%s\n", "next attempt:", "none while on hold");
	else if (e.next_attempt > now)
		print_time(stdout, "next attempt:", e.next_attempt);
	else
		printf("%-14s%s\n", "next attempt:", "now");
	lasterr = queue_last_error(&e, &st);
	print_text(stdout, "last error:", lasterr != NULL ? lasterr : "none");
	for (i = 0; i < e.nrcpts; i++) {
		if (e.rcpts[i].state == RCPT_PENDING)
			npend++;
		else if (e.rcpts[i].state == RCPT_SENT)
			nsent++;
		else
			nfail++;
	}
	printf("%-14s%zu (%zu pending, %zu sent, %zu failed)\n",
	    "recipients:", e.nrcpts, npend, nsent, nfail);
	for (i = 0; i < e.nrcpts; i++) {
		buf_reset(&line);
		util_printable(&line, e.rcpts[i].addr,
		    strlen(e.rcpts[i].addr));
		printf("  %-8s%s\n",
		    envelope_rcpt_state_names[e.rcpts[i].state], line.data);
		if (e.rcpts[i].reason != NULL) {
			buf_reset(&line);
			util_printable(&line, e.rcpts[i].reason,
			    strlen(e.rcpts[i].reason));
			printf("  %-8s(%s)\n", "", line.data);
		}
	}

	/* the header section, made safe for a terminal; folding tabs kept */
	if (queue_read_header(fd, &e, &b, SHOW_HEADER_MAX, &truncated) == -1)
		fatal(EX_TEMPFAIL, "%s: reading the message", qid);
	close(fd);
	putchar('\n');
	for (p = b.data; p < b.data + b.len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(b.data + b.len - p));
		buf_reset(&line);
		while ((tab = memchr(p, '\t', (size_t)(nl - p))) != NULL) {
			util_printable(&line, p, (size_t)(tab - p));
			buf_addch(&line, '\t');
			p = tab + 1;
		}
		util_printable(&line, p, (size_t)(nl - p));
		printf("%s\n", line.data);
	}
	if (truncated)
		printf("[header section longer than %d bytes: cut here]\n",
		    SHOW_HEADER_MAX);
	buf_free(&b);
	buf_free(&line);
	envelope_free(&e);
	return EX_OK;
}

/*
 * delete, hold, release, retry. A message that a worker is delivering is
 * waited for, up to ADMIN_LOCK_WAIT_MS; one still busy after that is
 * left unchanged and reported.
 */
static int
cmd_change(struct conf *c, struct spool *s, enum change_op op, int argc,
    char **argv)
{
	struct deliver_opts o;
	struct deliver_stats ds;
	struct targets tg;
	struct tally t;
	struct qstatus st;
	char **names;
	size_t n, i;
	bool no_deliver = false;
	int ch, rv;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((ch = getopt(argc, argv, op == CHANGE_RETRY ? "+:nv" : "+:")) !=
	    -1) {
		if (ch == 'n')
			no_deliver = true;
		else if (ch == 'v')
			o.verbose = true;
		else
			usage(op == CHANGE_RETRY ? "unknown retry option" :
			    "unknown option");
	}
	get_targets(argc - optind, argv + optind, &tg);
	log_mail_open(o.verbose);
	memset(&t, 0, sizeof(t));
	if (s == NULL) {
		for (i = 0; i < tg.n; i++)
			log_warnx("%s: not in the queue", tg.qids[i]);
		t.missing = tg.n;
	} else if (tg.all) {
		if (queue_names(s, &names, &n) == -1)
			fatal(EX_TEMPFAIL, "cannot read %s/queue", s->dir);
		change_all(s, op, names, n, false, &t);
		queue_names_free(names, n);
	} else
		change_all(s, op, tg.qids, tg.n, true, &t);
	/* removals survive a power loss; state files were fsynced */
	if (op == CHANGE_DELETE && t.done > 0)
		fsync(s->queuefd);
	if (s == NULL)
		no_deliver = true;
	rv = change_exit(&t);

	switch (op) {
	case CHANGE_DELETE:
		printf("deleted %zu message%s\n", t.done,
		    t.done == 1 ? "" : "s");
		break;
	case CHANGE_HOLD:
	case CHANGE_RELEASE:
		printf("%s %zu message%s", op == CHANGE_HOLD ? "held" :
		    "released", t.done, t.done == 1 ? "" : "s");
		if (t.already > 0)
			printf(" (%zu already %s)", t.already,
			    op == CHANGE_HOLD ? "on hold" : "not on hold");
		putchar('\n');
		/* a running daemon delivers released mail at once */
		if (op == CHANGE_RELEASE && t.done > 0 && s != NULL)
			spool_wake(s);
		break;
	case CHANGE_RETRY:
		if (t.nretry > 0) {
			/* and the smarthosts' own back-off */
			for (i = 0; i <= c->naccounts; i++) {
				const char *a = i == 0 ? NULL :
				    c->accounts[i - 1].account;

				queue_status_read(s, a, &st);
				if (st.failures > 0) {
					st.failures = 0;
					queue_status_write(s, a, &st);
				}
			}
		}
		printf("cleared the back-off of %zu message%s", t.nretry,
		    t.nretry == 1 ? "" : "s");
		if (t.held > 0)
			printf(" (%zu on hold, left alone)", t.held);
		if (no_deliver || t.nretry == 0) {
			putchar('\n');
			if (t.nretry > 0)
				spool_wake(s);
			break;
		}
		o.ignore_backoff = true;
		if (!tg.all) {
			o.only = t.retry;
			o.nonly = t.nretry;
		}
		fflush(stdout);
		if (deliver_pass(c, s, &o, &ds) == -1) {
			putchar('\n');
			rv = EX_TEMPFAIL;
			break;
		}
		printf("; delivered %zu, deferred %zu", ds.delivered,
		    ds.deferred);
		if (ds.busy > 0)
			printf(", %zu busy", ds.busy);
		putchar('\n');
		break;
	}
	queue_names_free(t.retry, t.nretry);
	targets_free(&tg);
	return rv;
}

/*
 * purge, and the messages that a crash left finished: every recipient
 * sent or failed (and bounced), removed under the lock. Expired messages
 * are not touched: a delivery pass bounces them.
 */
static int
cmd_cleanup(struct spool *s, int argc, char **argv)
{
	int files, msgs;

	(void)argv;
	if (argc != 1)
		usage("cleanup takes no arguments");
	if ((files = spool_purge(s, PURGE_MIN_AGE)) == -1)
		fatal(EX_TEMPFAIL, "cannot purge %s", s->dir);
	if ((msgs = queue_remove_finished(s)) == -1)
		fatal(EX_TEMPFAIL, "cannot read %s/queue", s->dir);
	if (msgs > 0) {
		log_mail_open(false);
		log_mail(LOG_INFO, "cleanup: removed %d finished message%s",
		    msgs, msgs == 1 ? "" : "s");
	}
	printf("removed %d stale file%s and %d finished message%s\n", files,
	    files == 1 ? "" : "s", msgs, msgs == 1 ? "" : "s");
	return EX_OK;
}

/* "45s", "5m", "3h", "2d": the largest whole unit. */
static void
fmt_age(char *out, size_t len, time_t t)
{
	if (t < 60)
		snprintf(out, len, "%llds", (long long)(t < 0 ? 0 : t));
	else if (t < 3600)
		snprintf(out, len, "%lldm", (long long)t / 60);
	else if (t < 86400)
		snprintf(out, len, "%lldh", (long long)t / 3600);
	else
		snprintf(out, len, "%lldd", (long long)t / 86400);
}

/* A class of failure that needs a person: a certificate, a password. */
static bool
check_grave(const struct qstatus *st)
{
	return strcmp(st->class, "AUTH") == 0 || strcmp(st->class, "TLS") == 0;
}

/*
 * The account failure check reports, into *st (zero if none): one with
 * messages of its account waiting (not on hold) first, then the gravest,
 * then the first account (the default). *account: its name, NULL for
 * the default account.
 */
static void
check_status(const struct qstatuses *sts, const struct qentry *v, size_t n,
    struct qstatus *st, const char **account, bool *waiting)
{
	const struct qstatus *best = NULL, *cur, *own;
	size_t i, k;
	bool w, bestw = false;

	for (k = 0; k < sts->n; k++) {
		cur = &sts->v[k];
		if (cur->class[0] == '\0' || strcmp(cur->class, "none") == 0)
			continue;
		/* waiting: not on hold, and of this account (an account
		   no longer configured counts as the default's) */
		w = false;
		for (i = 0; i < n && !w; i++) {
			own = queue_statuses_find(sts, v[i].env.account);
			w = v[i].damaged == NULL && v[i].env.hold_since == 0 &&
			    (own != NULL ? own : &sts->v[0]) == cur;
		}
		if (best == NULL || (w && !bestw) || (w == bestw &&
		    check_grave(cur) && !check_grave(best))) {
			best = cur;
			bestw = w;
			*account = sts->names[k];
		}
	}
	if (best != NULL)
		*st = *best;
	*waiting = bestw;
}

/*
 * A Nagios/Icinga plugin (Nagios plugin guidelines): one line on standard
 * output, "POSTERN STATE - text | perfdata", and the state as the exit
 * status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad option, unreadable
 * configuration or spool). Rules (postern(8)):
 *	more than --crit-size (1000) messages		CRITICAL
 *	more than --warn-size (100)			WARNING
 *	oldest message not on hold older than --crit-age (1d)	CRITICAL
 *	older than --warn-age (1h)			WARNING
 *	a damaged queue file				WARNING
 *	the last session failed (spool_dir/status) with class
 *	    TLS or AUTH (needs a person)		CRITICAL
 *	    connect, greeting, service, protocol, other	WARNING
 * The worst applies. A failed session counts until a session succeeds.
 */
static int
cmd_check(const char *config, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "warn-size", required_argument, NULL, 'w' },
		{ "crit-size", required_argument, NULL, 'c' },
		{ "warn-age", required_argument, NULL, 'W' },
		{ "crit-age", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf c;
	struct spool s;
	struct qentry *v = NULL;
	struct qstatuses sts;
	struct qstatus st;
	struct buf text = BUF_INIT;
	unsigned long warn_size = 100, crit_size = 1000, val;
	const char *account = NULL;
	bool waiting = false;
	unsigned warn_age = 3600, crit_age = 86400, secs;
	enum check_state state = CHECK_OK, sz = CHECK_OK, ag = CHECK_OK;
	char err[1024], age[32], lim[32], *end;
	size_t n = 0, i, held = 0, damaged = 0;
	time_t now = time(NULL), oldest = 0;
	bool errored;
	int ch, opened;

	memset(&st, 0, sizeof(st));
	memset(&sts, 0, sizeof(sts));
	memset(&s, 0, sizeof(s));
	s.dirfd = s.tmpfd = s.queuefd = s.statefd = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
		case 'c':
			errno = 0;
			val = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || val > UINT_MAX) {
				printf("POSTERN UNKNOWN - --%s: not a number "
				    "of messages\n", ch == 'w' ? "warn-size" :
				    "crit-size");
				return CHECK_UNKNOWN;
			}
			if (ch == 'w')
				warn_size = val;
			else
				crit_size = val;
			break;
		case 'W':
		case 'C':
			if (conf_parse_duration(optarg, &secs, err,
			    sizeof(err)) == -1) {
				printf("POSTERN UNKNOWN - --%s: %s\n",
				    ch == 'W' ? "warn-age" : "crit-age", err);
				return CHECK_UNKNOWN;
			}
			if (ch == 'W')
				warn_age = secs;
			else
				crit_age = secs;
			break;
		case ':':
			printf("POSTERN UNKNOWN - %s needs a value\n",
			    argv[optind - 1]);
			return CHECK_UNKNOWN;
		default:
			printf("POSTERN UNKNOWN - unknown check option %s "
			    "(options: --warn-size N --crit-size N "
			    "--warn-age T --crit-age T)\n", argv[optind - 1]);
			return CHECK_UNKNOWN;
		}
	}
	if (optind != argc) {
		printf("POSTERN UNKNOWN - check takes options only\n");
		return CHECK_UNKNOWN;
	}

	opened = try_open(&c, &s, config, err, sizeof(err));
	if (opened < 0) {
		buf_reset(&text);
		util_printable(&text, err, strlen(err));
		printf("POSTERN UNKNOWN - %s\n", text.data);
		buf_free(&text);
		conf_free(&c);
		return CHECK_UNKNOWN;
	}
	if (opened == 1) {
		if (queue_scan(&s, &v, &n) == -1) {
			printf("POSTERN UNKNOWN - cannot read %s/queue: %s\n",
			    s.dir, strerror(errno));
			spool_close(&s);
			conf_free(&c);
			return CHECK_UNKNOWN;
		}
		queue_statuses_read(&s, &c, &sts);
		check_status(&sts, v, n, &st, &account, &waiting);
		queue_statuses_free(&sts);
	}
	for (i = 0; i < n; i++) {
		if (v[i].damaged != NULL)
			damaged++;
		else if (v[i].env.hold_since != 0) {
			held++;
			continue;	/* kept there on purpose */
		}
		if (now - v[i].env.arrival > oldest)
			oldest = now - v[i].env.arrival;
	}

	if (n > crit_size)
		sz = CHECK_CRITICAL;
	else if (n > warn_size)
		sz = CHECK_WARNING;
	if (oldest > (time_t)crit_age)
		ag = CHECK_CRITICAL;
	else if (oldest > (time_t)warn_age)
		ag = CHECK_WARNING;
	state = sz > ag ? sz : ag;
	if (damaged > 0 && state < CHECK_WARNING)
		state = CHECK_WARNING;
	errored = st.class[0] != '\0' && strcmp(st.class, "none") != 0;
	/*
	 * The status file keeps the last failure until a pass gets through,
	 * and a queue with nothing to send makes no pass: with no message
	 * waiting, the failure is reported but raises no alert.
	 */
	if (errored && waiting) {
		if (check_grave(&st))
			state = CHECK_CRITICAL;
		else if (state < CHECK_WARNING)
			state = CHECK_WARNING;
	}

	buf_printf(&text, "%zu message%s", n, n == 1 ? "" : "s");
	if (sz != CHECK_OK)
		buf_printf(&text, " (> %lu)", sz == CHECK_CRITICAL ?
		    crit_size : warn_size);
	if (held > 0 && damaged > 0)
		buf_printf(&text, " (%zu on hold, %zu damaged)", held,
		    damaged);
	else if (held > 0)
		buf_printf(&text, " (%zu on hold)", held);
	else if (damaged > 0)
		buf_printf(&text, " (%zu damaged)", damaged);
	fmt_age(age, sizeof(age), oldest);
	buf_printf(&text, ", oldest %s", age);
	if (ag != CHECK_OK) {
		fmt_age(lim, sizeof(lim), ag == CHECK_CRITICAL ?
		    (time_t)crit_age : (time_t)warn_age);
		buf_printf(&text, " (> %s)", lim);
	}
	buf_addstr(&text, ", last error: ");
	if (errored) {
		size_t start = text.len, k;

		if (account != NULL)
			buf_printf(&text, "account %s: ", account);
		buf_printf(&text, "%s: ", st.class);
		util_printable(&text, st.error, strnlen(st.error, 200));
		/* "|" starts the performance data */
		for (k = start; k < text.len; k++)
			if (text.data[k] == '|')
				text.data[k] = '/';
	} else
		buf_addstr(&text, "none");
	printf("POSTERN %s - %s | queue=%zu;%lu;%lu;0 oldest=%llds;%u;%u;0 "
	    "held=%zu;;;0 damaged=%zu;;;0\n", check_state_names[state],
	    text.data, n, warn_size, crit_size, (long long)oldest, warn_age,
	    crit_age, held, damaged);
	buf_free(&text);
	queue_entries_free(v, n);
	if (opened == 1)
		spool_close(&s);
	conf_free(&c);
	if (fflush(stdout) == EOF)
		return CHECK_UNKNOWN;
	return state;
}

static int
cmd_flush(struct conf *c, struct spool *s, int argc, char **argv)
{
	struct deliver_opts o;
	struct deliver_stats ds;
	char qid[QID_LEN + 1];
	int ch, i;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((ch = getopt(argc, argv, "+:v")) != -1) {
		if (ch != 'v')
			usage("unknown flush option");
		o.verbose = true;
	}
	for (i = optind; i < argc; i++) {
		if (!qid_arg(argv[i], qid))
			usage("not a queue ID");
		/* mailq's "!" of a held message, as the other commands */
		argv[i][QID_LEN] = '\0';
	}
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

/*
 * Connects, authenticates and quits (deliver_test_auth), as the spool's
 * owner when run by root, as delivery would: the password file is read
 * with that user's rights. The queue is not opened, let alone locked.
 * Exit: 0, 75 try later, 77 AUTH refused, 78 configuration.
 */
static int
cmd_test_auth(const char *config, int argc, char **argv)
{
	struct deliver_test_result r;
	struct conf c;
	const struct conf *a;
	const char *path, *name = NULL;
	char err[1024];
	size_t n;
	bool must;
	int ch, ex;

	optind = 1;
	while ((ch = getopt(argc, argv, "+:")) != -1)
		usage("unknown test-auth option");
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		usage("test-auth takes one account at most");
	path = conf_path(config, &must);
	if (conf_load(&c, path, (must ? CONF_MUST_EXIST : 0) |
	    CONF_SECRETS_LATER, err, sizeof(err)) == -1)
		fatalx(EX_CONFIG, "%s", err);
	if ((a = conf_account(&c, name)) == NULL) {
		struct buf q = BUF_INIT;

		util_printable(&q, name, strnlen(name, 64));
		fatalx(EX_USAGE, "test-auth: no account '%s' in %s", q.data,
		    path);
	}
	if (become_owner(c.spool_dir, err, sizeof(err)) == -1)
		fatalx(EX_NOPERM, "%s", err);

	switch (deliver_test_auth(a, stdout, &r)) {
	case DELIVER_TEST_OK:
		/* "TLSv1.3 with TLS_AES_256_GCM_SHA384": the version */
		if ((n = strcspn(r.tls, " ")) == 0)
			snprintf(r.tls, sizeof(r.tls), "plain text (tls none)");
		else
			r.tls[n] = '\0';
		if (r.user[0] != '\0')
			printf("test-auth: OK: authenticated as %s at %s with %s "
			    "over %s\n", r.user, r.relay, r.mech, r.tls);
		else
			printf("test-auth: OK: connected to %s over %s (no AUTH "
			    "configured)\n", r.relay, r.tls);
		ex = EX_OK;
		break;
	case DELIVER_TEST_TEMPFAIL:
		ex = EX_TEMPFAIL;
		break;
	case DELIVER_TEST_REFUSED:
		ex = EX_NOPERM;
		break;
	default:
		ex = EX_CONFIG;
		break;
	}
	if (fflush(stdout) == EOF)
		fatal(EX_IOERR, "standard output");
	if (ex != EX_OK)
		fprintf(stderr, "test-auth: FAILED: %s (%s)\n", r.error,
		    r.class);
	conf_free(&c);
	return ex;
}

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Passes when messages arrive (inotify on queue/; release and retry -n
 * wake it the same way, see spool_wake), when a retry falls due, and at
 * least every DAEMON_POLL seconds; SIGTERM or SIGINT end it between two
 * messages' worth of work at most.
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
	if (optind < argc)
		usage("daemon takes no arguments");
	o.stop = &stop;
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
	int ch, removed, rv = EX_OK;
	bool have;

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

	changes_spool = strcmp(cmd, "list") != 0 && strcmp(cmd, "show") != 0 &&
	    strcmp(cmd, "check") != 0;
	/* check reports every problem in its own format (state UNKNOWN) */
	if (strcmp(cmd, "check") == 0)
		return cmd_check(config, argc, argv);
	/* test-auth needs no spool: only its owner's identity */
	if (strcmp(cmd, "test-auth") == 0) {
		changes_spool = false;
		return cmd_test_auth(config, argc, argv);
	}

	if (strcmp(cmd, "list") == 0) {
		have = open_spool(&c, &s, config);
		rv = cmd_list(&c, &s, have, argc, argv);
		if (!have) {
			conf_free(&c);
			return fflush(stdout) == EOF ? EX_IOERR : rv;
		}
	} else if (strcmp(cmd, "show") == 0) {
		if (!open_spool(&c, &s, config)) {
			char qid[QID_LEN + 1];

			if (argc == 2 && qid_arg(argv[1], qid))
				fatalx(EX_NOINPUT, "%s: not in the queue",
				    qid);
			usage("show takes one queue ID");
		}
		rv = cmd_show(&s, argc, argv);
	} else if (strcmp(cmd, "delete") == 0 || strcmp(cmd, "hold") == 0 ||
	    strcmp(cmd, "release") == 0 || strcmp(cmd, "retry") == 0) {
		enum change_op op = CHANGE_DELETE;

		while (strcmp(change_op_names[op], cmd) != 0)
			op++;
		/* without a spool nothing was ever queued: ALL is
		   nothing, and a named message is not in the queue */
		have = open_spool(&c, &s, config);
		rv = cmd_change(&c, have ? &s : NULL, op, argc, argv);
		if (!have) {
			conf_free(&c);
			return fflush(stdout) == EOF ? EX_IOERR : rv;
		}
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
	} else if (strcmp(cmd, "cleanup") == 0) {
		if (!open_spool(&c, &s, config)) {
			if (argc != 1)
				usage("cleanup takes no arguments");
			printf("removed 0 stale files and 0 finished "
			    "messages\n");
			conf_free(&c);
			return EX_OK;
		}
		rv = cmd_cleanup(&s, argc, argv);
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
