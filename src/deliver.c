/*
 * deliver.c: a delivery pass (see deliver.h): the driver between the
 * queue, the connection and the SMTP state machine.
 *
 * Crash safety: a message is delivered only while its queue file is
 * flock()ed, and its outcome is written (state file, or removal) before
 * the lock goes. A worker killed at any point leaves the message with the
 * state of its last completed attempt, so the next pass delivers exactly
 * the recipients not yet accepted. The one window for a duplicate is after
 * the final dot and before its reply is recorded, as RFC 5321 6.1 allows.
 *
 * A bounce is queued (durably) before the failed recipients are marked,
 * so a crash may at worst queue a bounce twice, never lose one.
 *
 * A message on hold (a "hold" line in its state file, set by postern hold
 * under the same lock) is neither delivered nor expired by any pass; its
 * time on hold does not count toward queue_lifetime (envelope_age).
 *
 * Secrets: the password (auth_password_file, or the first line printed
 * by auth_password_command) and the access token (auth_token_command,
 * or the built-in OAuth 2.0 client of oauth.h when oauth_token_url is
 * set) are obtained once per pass, before the first connection, held in
 * buffers of their own and wiped at the end of the pass. The commands
 * run here only, never in the front-end: /bin/sh -c, stdin /dev/null,
 * stderr inherited, in a process group of their own that is killed after
 * CMD_TIMEOUT seconds. A failure of a secret source is an AUTH failure
 * of the pass: the messages stay queued with that error. When the
 * server refuses the token (a 5xx or an error challenge), the command is
 * run once more in the same pass and, if it prints a different token,
 * the same smarthost is tried once more with it.
 *
 * The built-in client caches the token with its expiry in
 * SPOOL/oauth/token (mode 0600, the directory 0700, created here), so
 * that most passes make no HTTPS request; a token about to expire is
 * refreshed before use, and a refused one is replaced once per pass with
 * OAUTH_FORCE_REFRESH, as for the command. Its errors name the endpoint,
 * never a secret.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "conn.h"
#include "deliver.h"
#include "envelope.h"
#include "log.h"
#include "oauth.h"
#include "queue.h"
#include "smtp.h"
#include "smtp_reply.h"
#include "spool.h"
#include "util.h"

#define BODY_CHUNK	(64 * 1024)
#define PASS_MAX	1024	/* bytes of a password */
#define TOKEN_MAX	8192	/* bytes of an access token (JWTs are long) */
#define CMD_TIMEOUT	30	/* seconds for a secret command */
#define CMD_OUTPUT_MAX	(64 * 1024) /* bytes a secret command may print */
#define OAUTH_DIR	"oauth"	/* in the spool: the token cache */

struct session {
	const struct conf	*conf;
	const struct deliver_opts *opts;
	FILE			*out;		/* -v: where connections and
						   TLS parameters are shown */
	struct ptls		*tls;
	struct conn		*conn;
	struct smtp_client	 c;
	struct smtp_opts	 so;
	struct smtp_reply_parser rp;
	struct buf		 in;		/* received, not yet parsed */
	size_t			 inpos;
	char			*pass;		/* secret */
	char			*token;		/* secret */
	bool			 token_refused;	/* by the last server tried */
	bool			 token_retried;	/* a fresh one was tried */
	bool			 secret_later;	/* get_secrets failed in a way
						   that may pass by itself */
	bool			 up;		/* READY for a message */
	bool			 failed;	/* no more tries this pass */
	enum smtp_fail		 fail;
	char			 relay[320];
	char			 error[600];
};

/* One account's share of a pass: its session and smarthost status. */
struct lane {
	struct session	 s;
	struct qstatus	 st;		/* as the pass found it */
	time_t		 due;		/* the end of its back-off */
	bool		 hold_off;	/* its smarthost failed lately */
	bool		 tried;		/* a message went to its smarthost */
};

static const unsigned schedule[] = { 60, 300, 900, 1800, 3600 };

/*
 * How much earlier than its queue ID's time a message may have arrived
 * (the arrival is taken just before the ID is made).
 */
#define QID_TIME_MARGIN	60

/* Free bytes in the spool below which a partial delivery is not risked. */
#define STATE_ROOM	(64 * 1024)

static void	trace(void *, bool, const char *, size_t);
static int	read_password(const struct conf *, char **, char *, size_t);
static int	run_command(const char *, const char *, size_t, char **,
		    char *, size_t);
static int	oauth_get(const struct conf *, int, char **, char *, size_t);
static int	get_secrets(struct session *, char *, size_t);
static int	fresh_token(struct session *);
static void	free_secret(char **);
static int	session_try(struct session *, const struct hostport *);
static int	flush_out(struct session *);
static int	get_reply(struct session *, int, struct smtp_reply *);
static void	pump(struct session *, int);
static int	session_open(struct session *);
static void	session_close(struct session *);
static void	note_failure(struct session *, enum smtp_fail, const char *);
static int	send_body(struct session *, int, const struct envelope *);
static int	lock_message(struct spool *, const char *, int *,
		    struct envelope *, char *, size_t);
static void	finish(const struct conf *, struct spool *, struct session *,
		    const char *, int, struct envelope *, size_t *, size_t,
		    struct deliver_stats *);
static void	expire(const struct conf *, struct spool *, const char *, int,
		    struct envelope *, const char *, struct deliver_stats *);
static void	deliver_message(struct session *, struct spool *,
		    const char *, int, struct envelope *,
		    struct deliver_stats *);
static int	cmp_name(const void *, const void *);
static size_t	lane_of(const struct conf *, const char *,
		    const struct envelope *);
static bool	all_down(const struct lane *, size_t, time_t, time_t *);
static bool	state_room(const struct spool *);
static void	test_trace(void *, bool, const char *, size_t);
static void	test_up(struct session *, const struct hostport *,
		    struct deliver_test_result *);
struct test_trace;
static int	test_try(struct session *, struct test_trace *,
		    const struct hostport *, struct deliver_test_result *);

/* test-auth's view of the dialogue (its trace_arg). */
struct test_trace {
	FILE		*out;
	char		 mech[32];	/* from the last AUTH sent */
	int		 code;		/* of the last reply; 0: none */
};

unsigned
deliver_backoff(unsigned n)
{
	if (n == 0)
		return 0;
	if (n > sizeof(schedule) / sizeof(schedule[0]))
		return 3600;
	return schedule[n - 1];
}

/*
 * One line of the SMTP dialogue (smtp.c has redacted credentials): on
 * stderr with -v, to syslog at LOG_DEBUG with log_level debug.
 */
static void
trace(void *arg, bool sent, const char *line, size_t len)
{
	struct session *s = arg;
	struct buf b = BUF_INIT;

	util_printable(&b, line, len);
	if (s->opts->verbose) {
		fprintf(stderr, "%s %s\n", sent ? ">>>" : "<<<", b.data);
		fflush(stderr);
	}
	log_mail(LOG_DEBUG, "%s %s %s", s->relay, sent ? ">>>" : "<<<",
	    b.data);
	buf_free(&b);
}

/*
 * The first line of auth_password_file. The file must belong to no one
 * else's eyes: fstat() of the open file, not stat() of the path, so a
 * swapped file cannot slip between check and read.
 */
static int
read_password(const struct conf *c, char **out, char *err, size_t errlen)
{
	struct stat st;
	char buf[PASS_MAX + 2];
	ssize_t n;
	size_t len;
	int fd;

	*out = NULL;
	fd = open(c->auth_password_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "password file %s: %s",
		    c->auth_password_file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "password file %s is not a regular file",
		    c->auth_password_file);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "password file %s is accessible by group "
		    "or others (chmod 600 it); not used",
		    c->auth_password_file);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "password file %s: %s",
		    c->auth_password_file, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	if (len == 0 || len > PASS_MAX) {
		explicit_bzero(buf, sizeof(buf));
		snprintf(err, errlen, "password file %s: %s",
		    c->auth_password_file, len == 0 ? "empty first line" :
		    "password too long");
		return -1;
	}
	*out = xstrndup(buf, len);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/*
 * Runs cmd (the value of key) with /bin/sh -c and takes the first line
 * of its standard output, at most max bytes, as a secret: *out, caller
 * wipes and frees. The command must exit 0 within CMD_TIMEOUT seconds;
 * its process group is killed otherwise. What it prints is read into
 * buffers that are wiped, and never appears in err.
 */
static int
run_command(const char *key, const char *cmd, size_t max, char **out,
    char *err, size_t errlen)
{
	char chunk[4096], *line;
	size_t len = 0, total = 0, i;
	long long deadline = util_now_ms() + CMD_TIMEOUT * 1000LL, left;
	struct pollfd pfd;
	bool eol = false, timedout = false, toomuch = false;
	int p[2], fd, status = 0;
	ssize_t n;
	pid_t pid, w;

	*out = NULL;
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "%s: pipe: %s", key, strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "%s: fork: %s", key, strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		/* its own group: a timeout kills what it started, too */
		(void)setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);	/* exec keeps SIG_IGN */
		if (dup2(p[1], STDOUT_FILENO) == -1)
			_exit(126);
		if ((fd = open("/dev/null", O_RDONLY)) != -1 &&
		    fd != STDIN_FILENO) {
			(void)dup2(fd, STDIN_FILENO);
			close(fd);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	(void)setpgid(pid, pid);
	close(p[1]);
	line = xmalloc(max + 1);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		if ((left = deadline - util_now_ms()) <= 0) {
			timedout = true;
			break;
		}
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd.revents == 0)
			continue;
		if ((n = read(p[0], chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		if (n == 0)
			break;
		/* keep the first line, read (and drop) the rest */
		for (i = 0; i < (size_t)n && !eol; i++) {
			if (chunk[i] == '\n' || chunk[i] == '\r')
				eol = true;
			else if (len <= max)
				line[len++] = chunk[i];
		}
		total += (size_t)n;
		if (total > CMD_OUTPUT_MAX) {
			toomuch = true;
			break;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(p[0]);
	/* exited, or killed once the time is up */
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w == -1 && errno != EINTR))
			break;
		if (w == 0 && (timedout || toomuch || util_now_ms() >= deadline)) {
			if (!toomuch)
				timedout = true;
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) == -1 &&
			    errno == EINTR)
				;
			break;
		}
		if (w == 0)
			(void)poll(NULL, 0, 10);
	}
	if (timedout)
		snprintf(err, errlen, "%s timed out after %d seconds", key,
		    CMD_TIMEOUT);
	else if (toomuch)
		snprintf(err, errlen, "%s printed more than %d bytes", key,
		    CMD_OUTPUT_MAX);
	else if (WIFSIGNALED(status))
		snprintf(err, errlen, "%s was killed by signal %d", key,
		    WTERMSIG(status));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(err, errlen, "%s failed (exit status %d)", key,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	else if (len == 0)
		snprintf(err, errlen, "%s printed nothing on its first line",
		    key);
	else if (len > max)
		snprintf(err, errlen, "%s printed a first line longer than "
		    "%zu bytes", key, max);
	else {
		*out = xstrndup(line, len);
		explicit_bzero(line, max + 1);
		free(line);
		return 0;
	}
	explicit_bzero(line, max + 1);
	free(line);
	return -1;
}

static void
free_secret(char **p)
{
	if (*p != NULL) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/*
 * An access token from the built-in client into *out (caller wipes and
 * frees); flags for oauth_token(). The cache directory is made on
 * demand; without it the token is still fetched, just not kept.
 * 0, -1 with err, or -2 with err when the failure may pass by itself.
 */
static int
oauth_get(const struct conf *c, int flags, char **out, char *err,
    size_t errlen)
{
	struct oauth_cfg oc;
	struct buf tok = BUF_INIT;
	struct stat st;
	char dir[PATH_MAX], cache[PATH_MAX], werr[512];
	int rc;

	*out = NULL;
	memset(&oc, 0, sizeof(oc));
	oc.token_url = c->oauth_token_url;
	oc.client_id = c->oauth_client_id;
	oc.client_secret_file = c->oauth_client_secret_file;
	oc.refresh_token_file = c->oauth_refresh_token_file;
	oc.scope = c->oauth_scope;
	/* the smarthost's authorities unless oauth_ca_file says otherwise */
	oc.ca_file = c->oauth_ca_file == NULL ? c->tls_ca_file :
	    c->oauth_ca_file[0] != '\0' ? c->oauth_ca_file : NULL;
	oc.verify = c->tls_verify;
	oc.timeout = c->connect_timeout + c->command_timeout;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", c->spool_dir,
	    OAUTH_DIR) >= sizeof(dir) ||
	    (size_t)snprintf(cache, sizeof(cache), "%s/token%s%s", dir,
	    c->account != NULL ? "-" : "", c->account != NULL ? c->account :
	    "") >= sizeof(cache))
		log_mail(LOG_WARNING, "%s/%s: path too long; the access "
		    "token is not cached", c->spool_dir, OAUTH_DIR);
	else if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		log_mail(LOG_WARNING, "mkdir %s: %s; the access token is not "
		    "cached", dir, strerror(errno));
	else if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		log_mail(LOG_WARNING, "%s is not a directory of mode 0700 "
		    "owned by this user; the access token is not cached", dir);
	else
		oc.cache_path = cache;

	werr[0] = '\0';
	rc = oauth_token(&oc, flags, &tok, werr, sizeof(werr));
	if (rc == -1) {
		if (errno == EAGAIN)
			rc = -2;	/* the endpoint may answer later */
		snprintf(err, errlen, "%s", werr);
	} else {
		if (werr[0] != '\0')
			log_mail(LOG_WARNING, "%s", werr);
		*out = xstrndup(tok.data, tok.len);
	}
	if (tok.cap > 0)
		explicit_bzero(tok.data, tok.cap);
	buf_free(&tok);
	return rc;
}

/*
 * The password and the token the configuration names, once per pass.
 * With both sources configured, one that works is enough (the other's
 * trouble is logged); otherwise its failure is the pass's AUTH failure.
 */
static int
get_secrets(struct session *s, char *err, size_t errlen)
{
	const struct conf *c = s->conf;
	char perr[512] = "", terr[512] = "";
	bool want_pass, want_token;
	int prc = 0, trc = 0;

	if (c->auth_user == NULL)
		return 0;
	want_pass = c->auth_password_file != NULL ||
	    c->auth_password_command != NULL;
	want_token = c->auth_token_command != NULL ||
	    c->oauth_token_url != NULL;
	if (want_pass && s->pass == NULL) {
		if (c->auth_password_command != NULL)
			prc = run_command("auth_password_command",
			    c->auth_password_command, PASS_MAX, &s->pass, perr,
			    sizeof(perr));
		else
			prc = read_password(c, &s->pass, perr, sizeof(perr));
	}
	if (want_token && s->token == NULL && c->oauth_token_url != NULL)
		trc = oauth_get(c, 0, &s->token, terr, sizeof(terr));
	else if (want_token && s->token == NULL)
		trc = run_command("auth_token_command", c->auth_token_command,
		    TOKEN_MAX, &s->token, terr, sizeof(terr));
	if (prc == 0 && trc == 0)
		return 0;
	if (want_pass && want_token && (prc == 0 || trc == 0)) {
		log_mail(LOG_WARNING, "%s", prc == -1 ? perr : terr);
		return 0;
	}
	snprintf(err, errlen, "%s", prc == -1 ? perr : terr);
	s->secret_later = prc != -1 && trc == -2;
	return -1;
}

/*
 * The server refused the token: run the command again, or make the
 * built-in client fetch a new one, once per pass. 0 if that gave a
 * different token (worth another try), else -1.
 */
static int
fresh_token(struct session *s)
{
	const struct conf *c = s->conf;
	char err[512], *tok = NULL;
	bool same;
	int rc;

	if ((c->auth_token_command == NULL && c->oauth_token_url == NULL) ||
	    s->token_retried)
		return -1;
	s->token_retried = true;
	if (c->oauth_token_url != NULL)
		rc = oauth_get(c, OAUTH_FORCE_REFRESH, &tok, err, sizeof(err));
	else
		rc = run_command("auth_token_command", c->auth_token_command,
		    TOKEN_MAX, &tok, err, sizeof(err));
	if (rc != 0) {
		log_mail(LOG_WARNING, "%s", err);
		return -1;
	}
	same = s->token != NULL && strcmp(tok, s->token) == 0;
	free_secret(&s->token);
	s->token = tok;
	if (same) {
		log_mail(LOG_INFO, "%s the refused token again; not "
		    "retrying", c->oauth_token_url != NULL ?
		    "the token endpoint gave" : "auth_token_command printed");
		return -1;
	}
	log_mail(LOG_INFO, "the server refused the access token; trying "
	    "once more with a fresh one");
	return 0;
}

static void
note_failure(struct session *s, enum smtp_fail why, const char *text)
{
	s->fail = why;
	snprintf(s->error, sizeof(s->error), "%s", text);
}

/* Sends what the client queued; wipes it (it may hold AUTH data). */
static int
flush_out(struct session *s)
{
	int rv = 0;

	if (s->c.out.len == 0)
		return 0;
	if (conn_write(s->conn, s->c.out.data, s->c.out.len,
	    (int)s->conf->command_timeout * 1000) == -1) {
		rv = -1;
		smtp_fail(&s->c, SMTP_FAIL_CONNECT, "write to %s: %s",
		    s->relay, errno == ETIMEDOUT ? "timed out" :
		    strerror(errno));
	}
	psasl_wipe(&s->c.out);
	return rv;
}

/* The next reply within timeout_ms; -1 after recording the failure. */
static int
get_reply(struct session *s, int timeout_ms, struct smtp_reply *r)
{
	char chunk[4096], err[256];
	struct timespec now;
	long long deadline, left;
	enum rp_status st;
	size_t used;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 +
	    timeout_ms;
	for (;;) {
		if (s->inpos < s->in.len) {
			st = smtp_reply_feed(&s->rp, s->in.data + s->inpos,
			    s->in.len - s->inpos, &used, r, err, sizeof(err));
			s->inpos += used;
			if (s->inpos == s->in.len) {
				buf_reset(&s->in);
				s->inpos = 0;
			}
			if (st == RP_REPLY)
				return 0;
			if (st == RP_ERROR) {
				smtp_fail(&s->c, SMTP_FAIL_PROTOCOL,
				    "bad reply from %s: %s", s->relay, err);
				return -1;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = deadline - ((long long)now.tv_sec * 1000 +
		    now.tv_nsec / 1000000);
		if (left <= 0) {
			errno = ETIMEDOUT;
			n = -1;
		} else
			n = conn_read(s->conn, chunk, sizeof(chunk), (int)left);
		if (n == 0) {
			smtp_fail(&s->c, SMTP_FAIL_CONNECT, "%s closed the "
			    "connection (in %s)", s->relay,
			    smtp_state_names[s->c.state]);
			return -1;
		}
		if (n < 0) {
			smtp_fail(&s->c, SMTP_FAIL_CONNECT, "%s: %s (in %s)",
			    s->relay, errno == ETIMEDOUT ? "timed out waiting "
			    "for a reply" : strerror(errno),
			    smtp_state_names[s->c.state]);
			return -1;
		}
		buf_add(&s->in, chunk, (size_t)n);
	}
}

/* Runs the dialogue until the client needs the driver. */
static void
pump(struct session *s, int timeout_ms)
{
	struct smtp_reply r;

	for (;;) {
		if (flush_out(s) == -1)
			return;
		switch (s->c.state) {
		case SMTP_READY:
		case SMTP_TLS:
		case SMTP_BODY:
		case SMTP_CLOSED:
		case SMTP_FAILED:
			return;
		default:
			break;
		}
		smtp_reply_init(&r);
		if (get_reply(s, timeout_ms, &r) == 0)
			smtp_reply(&s->c, &r);
		smtp_reply_free(&r);
	}
}

static void
session_close(struct session *s)
{
	if (s->conn != NULL && s->c.state == SMTP_READY) {
		smtp_quit(&s->c);
		pump(s, 5000);
	}
	conn_close(s->conn);
	s->conn = NULL;
	smtp_free(&s->c);
	smtp_reply_parser_free(&s->rp);
	buf_free(&s->in);
	s->inpos = 0;
	s->up = false;
}

/*
 * Connects, in failover order, until a server is ready for mail. A host
 * that cannot be reached, greets with an error, fails TLS or closes the
 * session gives way to the next; a refused AUTH does not (the account is
 * the same) and ends the pass's deliveries, except that a refused token
 * is replaced by a fresh one once (fresh_token) and the host tried again.
 */
static int
session_open(struct session *s)
{
	const struct conf *c = s->conf;
	char err[600];
	size_t i;

	if (c->nsmarthosts == 0) {
		note_failure(s, SMTP_FAIL_CONNECT, "no smarthost configured");
		s->failed = true;
		return -1;
	}
	if (get_secrets(s, err, sizeof(err)) == -1) {
		note_failure(s, SMTP_FAIL_AUTH, err);
		s->failed = true;
		return -1;
	}
	if (c->tls != CONF_TLS_NONE && s->tls == NULL &&
	    (s->tls = ptls_new(c->tls_verify, c->tls_ca_file, err,
	    sizeof(err))) == NULL) {
		note_failure(s, SMTP_FAIL_TLS, err);
		s->failed = true;
		return -1;
	}
	s->so.helo = c->helo_name != NULL ? c->helo_name : util_fqdn();
	s->so.tls = c->tls;
	s->so.user = c->auth_user;
	s->so.mechs = (const char *const *)c->auth_mechanisms;
	s->so.nmechs = c->nauth_mechanisms;
	log_mail_debug(c->log_level == CONF_LOG_DEBUG);
	s->so.trace = s->opts->verbose || log_mail_debugging() ? trace : NULL;
	s->so.trace_arg = s;

	for (i = 0; i < c->nsmarthosts; i++) {
		if (session_try(s, &c->smarthosts[i]) == 0)
			return 0;
		if (s->fail == SMTP_FAIL_AUTH && s->token_refused &&
		    fresh_token(s) == 0 &&
		    session_try(s, &c->smarthosts[i]) == 0)
			return 0;
		/* the account is the same everywhere: no failover for AUTH */
		if (s->fail == SMTP_FAIL_AUTH)
			break;
	}
	s->failed = true;
	return -1;
}

/* One smarthost: 0 when it is ready for mail, else -1 (s->fail says). */
static int
session_try(struct session *s, const struct hostport *hp)
{
	const struct conf *c = s->conf;
	unsigned port = conf_port(c, hp);
	char err[600];
	int tmo = (int)c->command_timeout * 1000;

	/* the secrets may have been replaced since the last host */
	s->so.pass = s->pass;
	s->so.token = s->token;
	s->so.host = hp->host;
	s->so.port = port;
	s->token_refused = false;
	smtp_reply_parser_init(&s->rp);
	buf_init(&s->in);
	s->inpos = 0;
	s->conn = conn_open(hp->host, port, (int)c->connect_timeout * 1000,
	    err, sizeof(err));
	if (s->conn == NULL) {
		note_failure(s, SMTP_FAIL_CONNECT, err);
		log_mail(LOG_INFO, "%s", err);
		smtp_reply_parser_free(&s->rp);
		return -1;
	}
	snprintf(s->relay, sizeof(s->relay), "%s", conn_peer(s->conn));
	if (s->opts->verbose)
		fprintf(s->out, "connected to %s\n", s->relay);
	smtp_init(&s->c, &s->so, c->tls == CONF_TLS_SMTPS);
	if (c->tls == CONF_TLS_SMTPS && conn_tls(s->conn, s->tls, hp->host,
	    (int)c->connect_timeout * 1000, err, sizeof(err)) == -1)
		smtp_fail(&s->c, SMTP_FAIL_TLS, "%s", err);
	else {
		if (s->opts->verbose && conn_tls_info(s->conn))
			fprintf(s->out, "TLS: %s\n", conn_tls_info(s->conn));
		pump(s, tmo);
	}
	while (s->c.state == SMTP_TLS) {
		/* bytes after the 220 were sent in clear text: an
		   injection attempt (CVE-2011-0411 and relatives) */
		if (s->inpos < s->in.len || conn_readable(s->conn)) {
			smtp_fail(&s->c, SMTP_FAIL_TLS, "%s sent data after "
			    "its STARTTLS reply", s->relay);
			break;
		}
		if (conn_tls(s->conn, s->tls, hp->host,
		    (int)c->connect_timeout * 1000, err, sizeof(err)) == -1) {
			smtp_fail(&s->c, SMTP_FAIL_TLS, "%s", err);
			break;
		}
		if (s->opts->verbose && conn_tls_info(s->conn))
			fprintf(s->out, "TLS: %s\n", conn_tls_info(s->conn));
		smtp_tls_done(&s->c);
		pump(s, tmo);
	}
	if (s->c.state == SMTP_READY) {
		/* a host that failed before this one is history now */
		s->up = true;
		s->fail = SMTP_FAIL_NONE;
		s->error[0] = '\0';
		return 0;
	}
	note_failure(s, s->c.fail, s->c.error);
	log_mail(LOG_INFO, "%s (%s)", s->c.error, smtp_fail_names[s->c.fail]);
	s->token_refused = s->c.token_refused;
	session_close(s);
	return -1;
}

/* Streams the message body: flat memory whatever its size. */
static int
send_body(struct session *s, int fd, const struct envelope *e)
{
	struct smtp_body enc;
	struct buf out = BUF_INIT;
	char *chunk = xmalloc(BODY_CHUNK);
	off_t off = e->body_offset, end = e->body_offset + e->size;
	int tmo = (int)s->conf->command_timeout * 1000;
	ssize_t n;
	int rv = -1;

	smtp_body_init(&enc);
	while (off < end) {
		n = pread(fd, chunk, (size_t)(end - off < BODY_CHUNK ?
		    end - off : BODY_CHUNK), off);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			/* the connection is useless mid-DATA: drop it */
			smtp_fail(&s->c, SMTP_FAIL_CONNECT, "reading the queue "
			    "file: %s", n == 0 ? "unexpected end" :
			    strerror(errno));
			goto out;
		}
		off += n;
		smtp_body_encode(&enc, chunk, (size_t)n, &out);
		if (out.len >= BODY_CHUNK) {
			if (conn_write(s->conn, out.data, out.len, tmo) == -1)
				goto werr;
			buf_reset(&out);
		}
	}
	smtp_body_end(&enc, &out);
	if (conn_write(s->conn, out.data, out.len, tmo) == -1)
		goto werr;
	rv = 0;
	goto out;
werr:
	smtp_fail(&s->c, SMTP_FAIL_CONNECT, "write to %s: %s", s->relay,
	    errno == ETIMEDOUT ? "timed out" : strerror(errno));
out:
	buf_free(&out);
	free(chunk);
	return rv;
}

/*
 * Opens and locks queue/QID and reads its envelope. 0 locked; 1 gone or
 * finished by someone else; 2 busy; 3 damaged (err says why).
 */
static int
lock_message(struct spool *sp, const char *qid, int *fdp,
    struct envelope *e, char *err, size_t errlen)
{
	int fd;

	switch (queue_lock(sp, qid, 0, fdp)) {
	case QUEUE_LOCKED:
		break;
	case QUEUE_BUSY:
		return 2;
	default:
		return 1;
	}
	fd = *fdp;
	if (queue_read(sp, qid, fd, e, err, errlen) == -1) {
		close(fd);
		*fdp = -1;
		return errno == ENOENT ? 1 : 3;
	}
	return 0;
}

/*
 * Records the outcome of an attempt: a bounce for the recipients that
 * failed in it (failed[], indexes into e->rcpts) first, then the state
 * file, or the removal of a finished message.
 */
static void
finish(const struct conf *c, struct spool *sp, struct session *s,
    const char *qid, int fd, struct envelope *e, size_t *failed,
    size_t nfailed, struct deliver_stats *ds)
{
	char bqid[QID_LEN + 1];
	size_t i;

	if (nfailed > 0 && e->sender[0] == '\0')
		log_mail(LOG_INFO, "%s: null sender: no bounce for %zu failed "
		    "recipient%s", qid, nfailed, nfailed == 1 ? "" : "s");
	else if (nfailed > 0) {
		if (bounce_queue(c, sp, qid, fd, e, failed, nfailed,
		    s != NULL ? s->relay : "", bqid) == 0) {
			log_mail(LOG_INFO, "%s: sender non-delivery "
			    "notification: %s", qid, bqid);
			ds->bounced++;
		} else {
			/* keep them pending: the bounce is retried with them */
			log_mail(LOG_WARNING, "%s: cannot queue a bounce: %s; "
			    "will retry", qid, strerror(errno));
			for (i = 0; i < nfailed; i++)
				e->rcpts[failed[i]].state = RCPT_PENDING;
		}
	}
	if (envelope_pending(e) == 0) {
		if (queue_remove(sp, qid) == 0) {
			ds->delivered++;
			return;
		}
		log_mail(LOG_ERR, "%s: cannot remove: %s", qid,
		    strerror(errno));
		/*
		 * Record that nobody is pending, or the next pass would
		 * send it again to recipients it has reached; that pass (or
		 * postern cleanup) removes it.
		 */
		if (queue_write_state(sp, qid, e) == -1)
			log_mail(LOG_ERR, "%s: cannot write the delivery "
			    "state: %s", qid, strerror(errno));
		return;
	}
	if (queue_write_state(sp, qid, e) == -1)
		log_mail(LOG_ERR, "%s: cannot write the delivery state: %s",
		    qid, strerror(errno));
	ds->deferred++;
	if (ds->next_due == 0 || e->next_attempt < ds->next_due)
		ds->next_due = e->next_attempt;
}

/*
 * Lifetime over: every pending recipient fails, the sender hears. The
 * last error is the recipient's, else the message's, else that of the
 * last failed session (a message may never have reached the smarthost).
 */
static void
expire(const struct conf *c, struct spool *sp, const char *qid, int fd,
    struct envelope *e, const char *session_error, struct deliver_stats *ds)
{
	struct buf b = BUF_INIT;
	size_t *failed, nfailed = 0, i;

	failed = xcalloc(e->nrcpts, sizeof(*failed));
	for (i = 0; i < e->nrcpts; i++) {
		struct rcpt *r = &e->rcpts[i];

		if (r->state != RCPT_PENDING)
			continue;
		failed[nfailed++] = i;
		buf_reset(&b);
		buf_addstr(&b, "4.4.7 message expired after ");
		if (c->queue_lifetime % 86400 == 0)
			buf_printf(&b, "%u day%s", c->queue_lifetime / 86400,
			    c->queue_lifetime == 86400 ? "" : "s");
		else if (c->queue_lifetime % 3600 == 0)
			buf_printf(&b, "%u hour%s", c->queue_lifetime / 3600,
			    c->queue_lifetime == 3600 ? "" : "s");
		else
			buf_printf(&b, "%u second%s", c->queue_lifetime,
			    c->queue_lifetime == 1 ? "" : "s");
		buf_addstr(&b, " in the queue");
		if (r->reason != NULL)
			buf_printf(&b, "; last error: %s", r->reason);
		else if (e->error != NULL)
			buf_printf(&b, "; last error: %s", e->error);
		else if (session_error != NULL && session_error[0] != '\0')
			buf_printf(&b, "; last error: %s", session_error);
		free(r->reason);
		r->reason = xstrdup(b.data);
		r->state = RCPT_FAILED;
		log_mail(LOG_INFO, "%s: to=<%s>, delay=%lld, status=expired "
		    "(%s)", qid, r->addr, (long long)(time(NULL) -
		    e->arrival), r->reason);
	}
	buf_free(&b);
	finish(c, sp, NULL, qid, fd, e, failed, nfailed, ds);
	free(failed);
}

static void
deliver_message(struct session *s, struct spool *sp, const char *qid,
    int fd, struct envelope *e, struct deliver_stats *ds)
{
	struct smtp_txn t;
	struct smtp_rcpt *tr;
	size_t *map, *failed, nfailed = 0, i, n = 0;
	time_t now;
	bool any_temp = false;

	tr = xcalloc(e->nrcpts, sizeof(*tr));
	map = xcalloc(e->nrcpts, sizeof(*map));
	failed = xcalloc(e->nrcpts, sizeof(*failed));
	for (i = 0; i < e->nrcpts; i++) {
		if (e->rcpts[i].state != RCPT_PENDING)
			continue;
		tr[n].addr = e->rcpts[i].addr;
		map[n++] = i;
	}
	memset(&t, 0, sizeof(t));
	t.sender = e->sender;
	t.rcpts = tr;
	t.nrcpts = n;
	t.size = e->size;
	t.eightbit = e->eightbit;
	ds->tried++;
	smtp_begin(&s->c, &t);
	pump(s, (int)s->conf->command_timeout * 1000);
	if (s->c.state == SMTP_BODY && send_body(s, fd, e) == 0) {
		smtp_body_sent(&s->c);
		pump(s, (int)s->conf->data_timeout * 1000);
	}
	if (s->c.state == SMTP_RSET)
		pump(s, (int)s->conf->command_timeout * 1000);

	now = time(NULL);
	for (i = 0; i < n; i++) {
		struct rcpt *r = &e->rcpts[map[i]];
		const char *status;

		free(r->reason);
		r->reason = NULL;
		switch (tr[i].outcome) {
		case SMTP_DELIVERED:
			r->state = RCPT_SENT;
			status = "sent";
			break;
		case SMTP_PERMFAIL:
			r->state = RCPT_FAILED;
			failed[nfailed++] = map[i];
			status = "bounced";
			break;
		default:
			status = "deferred";
			any_temp = true;
			break;
		}
		if (tr[i].outcome != SMTP_DELIVERED)
			r->reason = xstrdup(tr[i].reply[0] ? tr[i].reply :
			    "no reply");
		log_mail(LOG_INFO, "%s: to=<%s>, relay=%s, delay=%lld, "
		    "status=%s (%s)", qid, r->addr, s->relay,
		    (long long)(now - e->arrival), status, tr[i].reply[0] ?
		    tr[i].reply : "no reply");
	}
	e->attempts++;
	e->last_attempt = now;
	e->next_attempt = now + deliver_backoff(e->attempts);
	free(e->error);
	e->error = any_temp && s->c.fail != SMTP_FAIL_NONE ?
	    xstrdup(s->c.error) : NULL;
	finish(s->conf, sp, s, qid, fd, e, failed, nfailed, ds);
	free(tr);
	free(map);
	free(failed);
	if (s->c.state != SMTP_READY) {
		/* the session ended (failure or 421): no more this pass */
		note_failure(s, s->c.fail, s->c.error);
		session_close(s);
		s->failed = true;
	}
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Can this pass record what it does? A message sent while queue/ and
 * state/ cannot be changed (a read-only mount, lost permissions) would
 * be sent again by every pass: then nothing is sent at all.
 */
static int
spool_writable(const struct spool *sp)
{
	struct statvfs vfs;

	if (fstatvfs(sp->queuefd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
		errno = EROFS;
		return -1;
	}
	if (faccessat(sp->queuefd, ".", W_OK, AT_EACCESS) == -1 ||
	    faccessat(sp->statefd, ".", W_OK, AT_EACCESS) == -1)
		return -1;
	return 0;
}

/*
 * The lane of a message: 0 for the default account, k + 1 for the named
 * account k. A message whose account left the configuration is routed
 * again by its sender.
 */
static size_t
lane_of(const struct conf *top, const char *qid, const struct envelope *e)
{
	const struct conf *a;

	if (e->account == NULL)
		return 0;
	if ((a = conf_account(top, e->account)) == NULL) {
		a = conf_route(top, e->sender);
		log_mail(LOG_WARNING, "%s: account %s is not configured any "
		    "more; sent through account %s", qid, e->account,
		    conf_account_name(a));
	}
	return a == top ? 0 : (size_t)(a - top->accounts) + 1;
}

/*
 * Whether the spool has room for the state file that a partial delivery
 * needs. Without it a message for several recipients is not sent: one
 * recipient accepted and another deferred could not be recorded, and the
 * next pass would send to the first one again. A message for one
 * recipient needs no room: it is removed or keeps its state.
 */
static bool
state_room(const struct spool *sp)
{
	struct statvfs vfs;

	if (fstatvfs(sp->statefd, &vfs) == -1)
		return true;	/* cannot tell: try, as before */
	if ((unsigned long long)vfs.f_bavail * vfs.f_frsize < STATE_ROOM)
		return false;
	/* f_files 0: a file system without an inode count */
	return vfs.f_files == 0 || vfs.f_favail > 0;
}

/*
 * True if no lane can deliver now: each one's smarthost failed in this
 * pass or is in its back-off. *due: the earliest time one may again (now
 * for a failure in this pass: the status file will hold its back-off).
 */
static bool
all_down(const struct lane *lanes, size_t n, time_t now, time_t *due)
{
	size_t k;

	*due = 0;
	for (k = 0; k < n; k++) {
		if (!lanes[k].hold_off && !lanes[k].s.failed)
			return false;
		if (*due == 0 || (lanes[k].hold_off ? lanes[k].due : now) <
		    *due)
			*due = lanes[k].hold_off ? lanes[k].due : now;
	}
	return true;
}

int
deliver_pass(const struct conf *top, struct spool *sp,
    const struct deliver_opts *o, struct deliver_stats *ds)
{
	struct lane *lanes, *l;
	struct qstatus st;
	struct envelope e;
	char **names = NULL, err[512];
	size_t n = 0, i, k, nlanes = 1 + top->naccounts;
	time_t now = time(NULL), due;
	bool full_logged = false;
	int fd, rv;

	memset(ds, 0, sizeof(*ds));
	if (o->only != NULL) {
		/* named messages (the attempt after enqueue): no scan */
		names = xreallocarray(NULL, o->nonly, sizeof(*names));
		for (i = 0; i < o->nonly; i++) {
			if (!qid_valid(o->only[i]))
				continue;
			for (k = 0; k < n && strcmp(names[k], o->only[i]); k++)
				;
			if (k == n)	/* each message once */
				names[n++] = xstrdup(o->only[i]);
		}
	} else {
		spool_purge(sp, 60);
		if (queue_names(sp, &names, &n) == -1) {
			log_warn("cannot read %s/queue", sp->dir);
			return -1;
		}
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);
	if (n > 0 && spool_writable(sp) == -1) {
		log_warn("%s: the spool cannot be changed, nothing delivered",
		    sp->dir);
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return -1;
	}

	/* an account whose smarthost failed lately waits for its retry */
	lanes = xcalloc(nlanes, sizeof(*lanes));
	for (k = 0; k < nlanes; k++) {
		l = &lanes[k];
		l->s.conf = k == 0 ? top : &top->accounts[k - 1];
		l->s.opts = o;
		l->s.out = stderr;
		queue_status_read(sp, l->s.conf->account, &l->st);
		l->due = l->st.time + (time_t)deliver_backoff(l->st.failures);
		l->hold_off = !o->ignore_backoff && l->st.failures > 0 &&
		    now < l->due;
	}

	for (i = 0; i < n; i++) {
		if (o->stop != NULL && *o->stop)
			break;		/* SIGTERM: between two messages */
		now = time(NULL);
		/*
		 * With every account's smarthost down (it failed in this
		 * pass, or its back-off runs), a message too young to expire
		 * is not even opened: its queue ID holds a time no later than
		 * its arrival, less the margin. A queue of 100,000 costs a
		 * directory listing. Finished messages a crash left behind
		 * wait for a pass that gets through, or postern cleanup.
		 */
		if (all_down(lanes, nlanes, now, &due) &&
		    now - qid_time(names[i]) + QID_TIME_MARGIN <
		    (time_t)top->queue_lifetime) {
			ds->deferred++;
			if (ds->next_due == 0 || due < ds->next_due)
				ds->next_due = due;
			continue;
		}
		rv = lock_message(sp, names[i], &fd, &e, err, sizeof(err));
		if (rv == 2)
			ds->busy++;
		if (rv == 3)
			log_mail(LOG_WARNING, "%s: damaged queue file, left "
			    "alone: %s", names[i], err);
		if (rv != 0)
			continue;
		l = &lanes[lane_of(top, names[i], &e)];
		if (envelope_pending(&e) == 0)
			finish(l->s.conf, sp, NULL, names[i], fd, &e, NULL, 0,
			    ds);
		else if (e.hold_since != 0) {
			/* on hold: neither delivered nor expired until
			   released; not a retry the daemon waits for */
			if (o->only != NULL)
				log_mail(LOG_INFO, "%s: on hold, not delivered",
				    names[i]);
		} else if (envelope_age(&e, now) >=
		    (time_t)top->queue_lifetime)
			expire(l->s.conf, sp, names[i], fd, &e, l->st.error,
			    ds);
		else if (l->hold_off) {
			ds->deferred++;
			if (ds->next_due == 0 || l->due < ds->next_due)
				ds->next_due = l->due;
		} else if (l->s.failed ||
		    (!o->ignore_backoff && e.next_attempt > now)) {
			ds->deferred++;
			if (ds->next_due == 0 || e.next_attempt < ds->next_due)
				ds->next_due = e.next_attempt > now ?
				    e.next_attempt : now;
		} else if (envelope_pending(&e) > 1 && !state_room(sp)) {
			/* a partial delivery could not be recorded */
			ds->deferred++;
			if (!full_logged)
				log_mail(LOG_WARNING, "%s is full: messages "
				    "for several recipients wait until a "
				    "partial delivery can be recorded",
				    sp->dir);
			full_logged = true;
		} else if (l->s.up || session_open(&l->s) == 0) {
			deliver_message(&l->s, sp, names[i], fd, &e, ds);
			l->tried = true;
		} else
			ds->deferred++;
		envelope_free(&e);
		close(fd);
	}

	for (k = 0; k < nlanes; k++) {
		l = &lanes[k];
		if (l->s.up)
			session_close(&l->s);
		/* one record of each smarthost's health per pass */
		if (l->s.failed || l->s.fail != SMTP_FAIL_NONE) {
			queue_status_read(sp, l->s.conf->account, &st);
			st.time = time(NULL);
			/*
			 * The attempts after each enqueue must not stretch
			 * the daemon's hold-off during an outage: they record
			 * the error but only the first of them counts as a
			 * failure.
			 */
			if (o->only == NULL || st.failures == 0)
				st.failures++;
			strlcpy(st.class, smtp_fail_names[l->s.fail],
			    sizeof(st.class));
			strlcpy(st.error, l->s.error, sizeof(st.error));
			queue_status_write(sp, l->s.conf->account, &st);
			ds->session_failed = true;
			if (l->s.conf->account != NULL)
				log_mail(LOG_WARNING, "delivery deferred for "
				    "account %s: %s (%s)", l->s.conf->account,
				    l->s.error, smtp_fail_names[l->s.fail]);
			else
				log_mail(LOG_WARNING, "delivery deferred: %s "
				    "(%s)", l->s.error,
				    smtp_fail_names[l->s.fail]);
		} else if (l->tried) {
			memset(&st, 0, sizeof(st));
			st.time = time(NULL);
			queue_status_write(sp, l->s.conf->account, &st);
		}
		free_secret(&l->s.pass);
		free_secret(&l->s.token);
		ptls_free(l->s.tls);
	}
	/* removals and renames of this pass survive a power loss */
	fsync(sp->queuefd);
	free(lanes);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}

/*
 * test-auth's trace: the dialogue as -v shows it (smtp.c has redacted
 * the credentials), and what the verdict needs: the mechanism of the
 * AUTH command and the code of the last reply.
 */
static void
test_trace(void *arg, bool sent, const char *line, size_t len)
{
	struct test_trace *t = arg;
	struct buf b = BUF_INIT;
	size_t n;

	util_printable(&b, line, len);
	fprintf(t->out, "%s %s\n", sent ? ">>>" : "<<<", b.data);
	if (sent && b.len > 5 && strncasecmp(b.data, "AUTH ", 5) == 0) {
		n = strcspn(b.data + 5, " ");
		if (n < sizeof(t->mech))
			snprintf(t->mech, sizeof(t->mech), "%.*s", (int)n,
			    b.data + 5);
	} else if (!sent && b.len >= 3 && b.data[0] >= '1' &&
	    b.data[0] <= '5' && b.data[1] >= '0' && b.data[1] <= '9' &&
	    b.data[2] >= '0' && b.data[2] <= '9')
		t->code = (b.data[0] - '0') * 100 + (b.data[1] - '0') * 10 +
		    (b.data[2] - '0');
	buf_free(&b);
}

/* One session with hp for test-auth: 0 and r filled if it got through. */
static int
test_try(struct session *s, struct test_trace *t, const struct hostport *hp,
    struct deliver_test_result *r)
{
	t->code = 0;
	t->mech[0] = '\0';
	if (session_try(s, hp) != 0)
		return -1;
	test_up(s, hp, r);
	return 0;
}

/* A server took the session as far as delivery would: note it, QUIT. */
static void
test_up(struct session *s, const struct hostport *hp,
    struct deliver_test_result *r)
{
	const struct conf *c = s->conf;
	const struct test_trace *t = s->so.trace_arg;
	const char *info = conn_tls_info(s->conn);
	const char *subject = conn_tls_subject(s->conn);

	snprintf(r->relay, sizeof(r->relay), "%s", s->relay);
	if (info != NULL)
		snprintf(r->tls, sizeof(r->tls), "%s", info);
	if (c->tls == CONF_TLS_NONE)
		fprintf(s->out, "TLS: none (tls none)\n");
	else if (c->tls_verify)
		fprintf(s->out, "certificate: %s: chain verified (%s), name "
		    "matches %s\n", subject != NULL ? subject : "?",
		    c->tls_ca_file != NULL ? c->tls_ca_file :
		    "the system store", hp->host);
	else
		fprintf(s->out, "certificate: %s: NOT verified (tls_verify "
		    "no)\n", subject != NULL ? subject : "?");
	if (c->auth_user != NULL) {
		snprintf(r->user, sizeof(r->user), "%s", c->auth_user);
		snprintf(r->mech, sizeof(r->mech), "%s", t->mech);
		fprintf(s->out, "authenticated as %s with %s (the server "
		    "offers: %s)\n", r->user, r->mech, s->c.ext.auth);
	}
	session_close(s);	/* QUIT */
}

enum deliver_test
deliver_test_auth(const struct conf *c, FILE *out,
    struct deliver_test_result *r)
{
	static const struct deliver_opts o = { .verbose = true };
	struct session s;
	struct test_trace t;
	enum deliver_test rv = DELIVER_TEST_CONFIG;
	char err[600];
	size_t i;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	s.conf = c;
	s.opts = &o;
	s.out = out;
	t.out = out;
	r->class = "config";

	if (c->nsmarthosts == 0) {
		snprintf(r->error, sizeof(r->error), "no smarthost configured");
		return DELIVER_TEST_CONFIG;
	}
	if (get_secrets(&s, err, sizeof(err)) == -1) {
		snprintf(r->error, sizeof(r->error), "%s", err);
		/* a token endpoint that is down: try again later */
		if (s.secret_later) {
			r->class = "AUTH";
			rv = DELIVER_TEST_TEMPFAIL;
		}
		goto done;
	}
	if (c->tls != CONF_TLS_NONE && (s.tls = ptls_new(c->tls_verify,
	    c->tls_ca_file, err, sizeof(err))) == NULL) {
		snprintf(r->error, sizeof(r->error), "%s", err);
		goto done;
	}
	s.so.helo = c->helo_name != NULL ? c->helo_name : util_fqdn();
	s.so.tls = c->tls;
	s.so.user = c->auth_user;
	s.so.mechs = (const char *const *)c->auth_mechanisms;
	s.so.nmechs = c->nauth_mechanisms;
	s.so.trace = test_trace;
	s.so.trace_arg = &t;

	/* the failover of session_open(), each failure shown */
	for (i = 0; i < c->nsmarthosts; i++) {
		if (test_try(&s, &t, &c->smarthosts[i], r) == 0) {
			rv = DELIVER_TEST_OK;
			goto done;
		}
		if (s.fail == SMTP_FAIL_AUTH && s.token_refused &&
		    fresh_token(&s) == 0) {
			fprintf(out, "failed: %s (%s)\n", s.error,
			    smtp_fail_names[s.fail]);
			fprintf(out, "the access token was refused; trying "
			    "once more with a fresh one\n");
			if (test_try(&s, &t, &c->smarthosts[i], r) == 0) {
				rv = DELIVER_TEST_OK;
				goto done;
			}
		}
		/* the account is the same everywhere: no failover for AUTH */
		if (s.fail == SMTP_FAIL_AUTH || i + 1 == c->nsmarthosts)
			break;
		/* the verdict names the last failure; this one gives way */
		fprintf(out, "failed: %s (%s); trying the next smarthost\n",
		    s.error, smtp_fail_names[s.fail]);
	}
	snprintf(r->relay, sizeof(r->relay), "%s", s.relay);
	snprintf(r->error, sizeof(r->error), "%s", s.error);
	r->class = smtp_fail_names[s.fail];
	/* a 4xx is the server's passing trouble; anything else, ours */
	rv = s.fail == SMTP_FAIL_AUTH && !(t.code >= 400 && t.code < 500) ?
	    DELIVER_TEST_REFUSED : DELIVER_TEST_TEMPFAIL;
done:
	fflush(out);
	free_secret(&s.pass);
	free_secret(&s.token);
	ptls_free(s.tls);
	return rv;
}
