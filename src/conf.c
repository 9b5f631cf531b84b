/*
 * conf.c: reads postern.conf into a struct conf (see conf.h).
 *
 * Every key is one entry of keys[] below: its name, the function that
 * parses and stores its value, its compiled-in default and the field it
 * fills. Adding a key means adding a field to struct conf and a line to
 * that table. Known SASL mechanisms are likewise one table, mechanisms[].
 *
 * Reading is strict and bounded. A line holds at most CONF_LINEMAX bytes
 * (not counting its LF or CRLF end); a NUL byte or any other control
 * character but TAB, anywhere in the file, comments included, is an error;
 * so is an unknown key, a key without a value, a value that does not
 * parse, and a single-valued key given twice. The list keys (smarthost,
 * auth_mechanisms, local_domains) take several blank-separated values and
 * may repeat, each line appending to the list. The first problem stops
 * the load with one line "FILE:LINE: reason". Checks that involve several
 * keys run once the whole file was read; then the defaults fill the keys
 * not given.
 *
 * Promises: the password file is never opened, only stat()ed, and the
 * secret commands are never run, because the front-end, which may run
 * setgid, loads this file too. On error nothing
 * stays allocated. The conf_parse_* functions are pure: no I/O, no global
 * state, and their messages quote input only as printable, truncated text.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "compat.h"
#include "envelope.h"
#include "util.h"
#include "conf.h"
#include "log.h"

#define CONF_LINEMAX	4096	/* bytes in a line, without its end */
#define CONF_MAXHOSTS	32	/* smarthosts in the failover list */
#define CONF_MAXDOMAINS	64	/* entries in local_domains */
#define CONF_MAXACCOUNTS 100	/* named accounts */
#define CONF_MAXSENDERS	1024	/* senders patterns of one account */
#define CONF_ADDRMAX	320	/* an address: 64 local part, @, 255 domain */
#define CONF_MSGMAX	512	/* a message before "FILE:LINE: " */
#define QUOTE_VALUE	48	/* bytes of a value quoted in a message */
#define QUOTE_PATH	1024	/* bytes of the file name in a message */
#define HOST_NAMEMAX	253	/* RFC 1035 2.3.4, in text form */
#define HOST_LABELMAX	63

struct conf_key;
typedef int	(*conf_setter)(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);

struct conf_key {
	const char	*name;
	conf_setter	 set;	/* parses a value and stores it */
	const char	*def;	/* given to set when the key is absent */
	size_t		 off;	/* the field set fills */
	size_t		 noff;	/* list keys: the field counting entries */
	bool		 list;	/* may repeat, values are appended */
};

/* Indexes into keys[]; the cross-field checks name keys by these. */
enum conf_keyidx {
	K_SMARTHOST,
	K_TLS,
	K_TLS_VERIFY,
	K_TLS_CA_FILE,
	K_AUTH_USER,
	K_AUTH_PASSWORD_FILE,
	K_AUTH_PASSWORD_COMMAND,
	K_AUTH_TOKEN_COMMAND,
	K_OAUTH_TOKEN_URL,
	K_OAUTH_CLIENT_ID,
	K_OAUTH_CLIENT_SECRET_FILE,
	K_OAUTH_REFRESH_TOKEN_FILE,
	K_OAUTH_SCOPE,
	K_OAUTH_CA_FILE,
	K_AUTH_MECHANISMS,
	K_SPOOL_DIR,
	K_HELO_NAME,
	K_DOMAIN,
	K_CONNECT_TIMEOUT,
	K_COMMAND_TIMEOUT,
	K_DATA_TIMEOUT,
	K_QUEUE_LIFETIME,
	K_ALIAS_FILE,
	K_ADMIN_ADDRESS,
	K_LOCAL_DOMAINS,
	K_REWRITE_SENDER,
	K_REWRITE_SCOPE,
	K_REWRITE_FROM,
	K_LOG_LEVEL,
	K_SENDERS,
	K_NKEYS
};

/*
 * The keys an "account NAME" section may set; every other key is global
 * and belongs before the first account line. senders is the only key
 * that belongs in a section only.
 */
static const enum conf_keyidx account_keys[] = {
	K_SMARTHOST, K_TLS, K_TLS_VERIFY, K_TLS_CA_FILE, K_AUTH_USER,
	K_AUTH_PASSWORD_FILE, K_AUTH_PASSWORD_COMMAND, K_AUTH_TOKEN_COMMAND,
	K_OAUTH_TOKEN_URL, K_OAUTH_CLIENT_ID, K_OAUTH_CLIENT_SECRET_FILE,
	K_OAUTH_REFRESH_TOKEN_FILE, K_OAUTH_SCOPE, K_OAUTH_CA_FILE,
	K_AUTH_MECHANISMS, K_REWRITE_SENDER, K_REWRITE_SCOPE, K_REWRITE_FROM, K_SENDERS,
};

/* Where parse_line puts what it reads. */
struct parse {
	struct conf	*top;
	struct conf	*cur;		/* top, or the account being read */
	unsigned long	*seen;		/* cur's: the line each key was on */
	unsigned long	(*aseen)[K_NKEYS]; /* per named account */
	unsigned long	*aline;		/* per named account: its line */
};

enum conf_rl {
	RL_LINE,
	RL_EOF,
	RL_LONG,
	RL_NUL,
	RL_ERROR,
};

static void	 quote(char *, size_t, const char *, size_t);
static int	 one_of(const char *, const char *const *, const char *,
		    char *, size_t);
static bool	 is_blank(int);
static bool	 is_digit(int);
static bool	 is_alpha(int);
static const char *next_word(const char **, size_t *);
static bool	 hostname_ok(const char *, size_t);
static int	 check_host(const char *, size_t, char *, size_t);
static int	 parse_port(const char *, unsigned *);
static void	 mechanism_hint(struct buf *);
static int	 set_smarthosts(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_tls(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_bool(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_word(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_path(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 check_file(struct conf *, const struct conf_key *,
		    const char *, bool, char *, size_t);
static int	 set_ca_file(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_secret_file(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_command(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_url(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_oauth_scope(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_mechanisms(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_hostname(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_duration(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_alias_file(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_address(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_domains(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_scope(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_oauth_ca_file(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_senders(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static int	 set_log_level(struct conf *, const struct conf_key *,
		    const char *, char *, size_t);
static void	 store_string(struct conf *, const struct conf_key *,
		    const char *);
static enum conf_rl read_line(FILE *, struct buf *);
static int	 parse_line(struct parse *, char *, size_t, unsigned long,
		    char *, size_t);
static int	 check_across(const struct conf *, const unsigned long *,
		    unsigned long *, char *, size_t);
static void	 apply_defaults(struct conf *, const unsigned long *, bool);
static bool	 per_account(size_t);
static int	 start_account(struct parse *, const char *, unsigned long,
		    char *, size_t);
static int	 check_senders(const struct parse *, size_t, char *, size_t);
static int	 check_accounts(struct parse *, unsigned long *, char *,
		    size_t);
static void	 inherit_globals(struct conf *, const struct conf *);
static char	*lower_domain(const char *);

#define FIELD(c, k, type)	((type *)(void *)((char *)(c) + (k)->off))
#define COUNT(c, k)		((size_t *)(void *)((char *)(c) + (k)->noff))
#define CONF_OFF(f)		offsetof(struct conf, f)

static const struct conf_key keys[K_NKEYS] = {
	[K_SMARTHOST] =		{ "smarthost", set_smarthosts, NULL,
				  CONF_OFF(smarthosts), CONF_OFF(nsmarthosts),
				  true },
	[K_TLS] =		{ "tls", set_tls, "starttls",
				  CONF_OFF(tls), 0, false },
	[K_TLS_VERIFY] =	{ "tls_verify", set_bool, "yes",
				  CONF_OFF(tls_verify), 0, false },
	[K_TLS_CA_FILE] =	{ "tls_ca_file", set_ca_file, NULL,
				  CONF_OFF(tls_ca_file), 0, false },
	[K_AUTH_USER] =		{ "auth_user", set_word, NULL,
				  CONF_OFF(auth_user), 0, false },
	[K_AUTH_PASSWORD_FILE] = { "auth_password_file", set_secret_file, NULL,
				  CONF_OFF(auth_password_file), 0, false },
	/* The value is the rest of the line (see parse_line). */
	[K_AUTH_PASSWORD_COMMAND] = { "auth_password_command", set_command,
				  NULL, CONF_OFF(auth_password_command), 0,
				  false },
	[K_AUTH_TOKEN_COMMAND] = { "auth_token_command", set_command, NULL,
				  CONF_OFF(auth_token_command), 0, false },
	[K_OAUTH_TOKEN_URL] =	{ "oauth_token_url", set_url, NULL,
				  CONF_OFF(oauth_token_url), 0, false },
	[K_OAUTH_CLIENT_ID] =	{ "oauth_client_id", set_word, NULL,
				  CONF_OFF(oauth_client_id), 0, false },
	[K_OAUTH_CLIENT_SECRET_FILE] = { "oauth_client_secret_file",
				  set_secret_file, NULL,
				  CONF_OFF(oauth_client_secret_file), 0, false },
	[K_OAUTH_REFRESH_TOKEN_FILE] = { "oauth_refresh_token_file",
				  set_secret_file, NULL,
				  CONF_OFF(oauth_refresh_token_file), 0, false },
	/* Several blank-separated scopes: the rest of the line. */
	[K_OAUTH_SCOPE] =	{ "oauth_scope", set_oauth_scope, NULL,
				  CONF_OFF(oauth_scope), 0, false },
	[K_OAUTH_CA_FILE] =	{ "oauth_ca_file", set_oauth_ca_file, NULL,
				  CONF_OFF(oauth_ca_file), 0, false },
	[K_AUTH_MECHANISMS] =	{ "auth_mechanisms", set_mechanisms, NULL,
				  CONF_OFF(auth_mechanisms),
				  CONF_OFF(nauth_mechanisms), true },
	[K_SPOOL_DIR] =		{ "spool_dir", set_path, PST_SPOOLDIR,
				  CONF_OFF(spool_dir), 0, false },
	[K_HELO_NAME] =		{ "helo_name", set_hostname, NULL,
				  CONF_OFF(helo_name), 0, false },
	[K_DOMAIN] =		{ "domain", set_hostname, NULL,
				  CONF_OFF(domain), 0, false },
	/* RFC 5321 4.5.3.2 minimums: 5 minutes a command, 10 for the dot */
	[K_CONNECT_TIMEOUT] =	{ "connect_timeout", set_duration, "30s",
				  CONF_OFF(connect_timeout), 0, false },
	[K_COMMAND_TIMEOUT] =	{ "command_timeout", set_duration, "5m",
				  CONF_OFF(command_timeout), 0, false },
	[K_DATA_TIMEOUT] =	{ "data_timeout", set_duration, "10m",
				  CONF_OFF(data_timeout), 0, false },
	[K_QUEUE_LIFETIME] =	{ "queue_lifetime", set_duration, "5d",
				  CONF_OFF(queue_lifetime), 0, false },
	/* The default file may be missing: see alias_file_optional. */
	[K_ALIAS_FILE] =	{ "alias_file", set_alias_file, "/etc/aliases",
				  CONF_OFF(alias_file), 0, false },
	[K_ADMIN_ADDRESS] =	{ "admin_address", set_address, NULL,
				  CONF_OFF(admin_address), 0, false },
	/* None given: "localhost" and the FQDN, found when needed. */
	[K_LOCAL_DOMAINS] =	{ "local_domains", set_domains, NULL,
				  CONF_OFF(local_domains),
				  CONF_OFF(nlocal_domains), true },
	[K_REWRITE_SENDER] =	{ "rewrite_sender", set_address, NULL,
				  CONF_OFF(rewrite_sender), 0, false },
	[K_REWRITE_SCOPE] =	{ "rewrite_scope", set_scope, "local",
				  CONF_OFF(rewrite_scope), 0, false },
	[K_REWRITE_FROM] =	{ "rewrite_from", set_bool, "yes",
				  CONF_OFF(rewrite_from), 0, false },
	[K_LOG_LEVEL] =		{ "log_level", set_log_level, "info",
				  CONF_OFF(log_level), 0, false },
	[K_SENDERS] =		{ "senders", set_senders, NULL,
				  CONF_OFF(senders), CONF_OFF(nsenders), true },
};

/*
 * The SASL mechanisms postern implements, by their IANA names (XOAUTH2
 * is Google's), and whether they take an access token rather than a
 * password. A new mechanism becomes configurable by adding its name here
 * once psasl.c has it.
 */
static const struct {
	const char	*name;
	bool		 token;
} mechanisms[] = {
	{ "CRAM-MD5", false },
	{ "LOGIN", false },
	{ "OAUTHBEARER", true },
	{ "PLAIN", false },
	{ "SCRAM-SHA-1", false },
	{ "SCRAM-SHA-256", false },
	{ "XOAUTH2", true },
};
#define NMECHANISMS	(sizeof(mechanisms) / sizeof(mechanisms[0]))

const char *
conf_path(const char *cmdline, bool *explicit)
{
	const char *env;
	bool named = true;
	const char *path;

	if (cmdline != NULL)
		path = cmdline;
	else if ((env = getenv("POSTERN_CONFIG")) != NULL && *env != '\0')
		path = env;
	else {
		path = PST_SYSCONFDIR "/postern.conf";
		named = false;
	}
	if (explicit != NULL)
		*explicit = named;
	return path;
}

int
conf_load(struct conf *c, const char *path, int flags, char *err,
    size_t errlen)
{
	struct conf n;
	struct parse p;
	struct buf line = BUF_INIT;
	struct stat st;
	unsigned long seen[K_NKEYS];
	unsigned long lineno = 0;
	char qpath[QUOTE_PATH], msg[CONF_MSGMAX];
	FILE *fp = NULL;
	enum conf_rl r;
	size_t i;
	int fd = -1, rc = -1;

	memset(&n, 0, sizeof(n));
	memset(c, 0, sizeof(*c));
	memset(seen, 0, sizeof(seen));
	memset(&p, 0, sizeof(p));
	p.top = p.cur = &n;
	p.seen = seen;
	n.secrets_later = (flags & CONF_SECRETS_LATER) != 0;
	util_errf(err, errlen, "%s", "");
	if (path == NULL) {
		util_errf(err, errlen, "no configuration file given");
		return -1;
	}
	/* A name from the command line must not break the message line. */
	quote(qpath, sizeof(qpath), path, strlen(path));

	/* O_NONBLOCK: a FIFO must not hang open(); it is refused below. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !(flags & CONF_MUST_EXIST)) {
			apply_defaults(&n, seen, false);
			rc = 0;
			goto out;
		}
		util_errf(err, errlen, "%s: %s", qpath, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		util_errf(err, errlen, "%s: %s", qpath, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		util_errf(err, errlen, "%s: %s", qpath, strerror(EISDIR));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		util_errf(err, errlen, "%s: not a regular file", qpath);
		goto out;
	}
	/* O_NONBLOCK does nothing to a regular file; no need to clear it. */
	if ((fp = fdopen(fd, "r")) == NULL) {
		util_errf(err, errlen, "%s: %s", qpath, strerror(errno));
		goto out;
	}
	fd = -1;

	while ((r = read_line(fp, &line)) != RL_EOF) {
		lineno++;
		switch (r) {
		case RL_NUL:
			util_errf(err, errlen, "%s:%lu: NUL byte", qpath, lineno);
			goto out;
		case RL_LONG:
			util_errf(err, errlen, "%s:%lu: line longer than %d bytes",
			    qpath, lineno, CONF_LINEMAX);
			goto out;
		case RL_ERROR:
			util_errf(err, errlen, "%s: %s", qpath, strerror(errno));
			goto out;
		case RL_LINE:
		case RL_EOF:
			break;
		}
		if (parse_line(&p, line.data, line.len, lineno, msg,
		    sizeof(msg)) == -1) {
			util_errf(err, errlen, "%s:%lu: %s", qpath, lineno, msg);
			goto out;
		}
	}
	if (check_across(&n, seen, &lineno, msg, sizeof(msg)) == -1 ||
	    check_accounts(&p, &lineno, msg, sizeof(msg)) == -1) {
		util_errf(err, errlen, "%s:%lu: %s", qpath, lineno, msg);
		goto out;
	}
	apply_defaults(&n, seen, false);
	n.path = xstrdup(path);
	for (i = 0; i < n.naccounts; i++) {
		apply_defaults(&n.accounts[i], p.aseen[i], true);
		inherit_globals(&n.accounts[i], &n);
	}
	rc = 0;

 out:
	free(p.aseen);
	free(p.aline);
	buf_free(&line);
	if (fp != NULL)
		fclose(fp);
	if (fd != -1)
		close(fd);
	if (rc == 0)
		*c = n;
	else
		conf_free(&n);
	return rc;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->naccounts; i++)
		conf_free(&c->accounts[i]);
	free(c->accounts);
	free(c->account);
	for (i = 0; i < c->nsenders; i++)
		free(c->senders[i]);
	free(c->senders);
	free(c->path);
	for (i = 0; i < c->nsmarthosts; i++)
		free(c->smarthosts[i].host);
	free(c->smarthosts);
	free(c->tls_ca_file);
	free(c->auth_user);
	free(c->auth_password_file);
	free(c->auth_password_command);
	free(c->auth_token_command);
	free(c->oauth_token_url);
	free(c->oauth_client_id);
	free(c->oauth_client_secret_file);
	free(c->oauth_refresh_token_file);
	free(c->oauth_scope);
	free(c->oauth_ca_file);
	for (i = 0; i < c->nauth_mechanisms; i++)
		free(c->auth_mechanisms[i]);
	free(c->auth_mechanisms);
	free(c->spool_dir);
	free(c->helo_name);
	free(c->domain);
	free(c->alias_file);
	free(c->admin_address);
	for (i = 0; i < c->nlocal_domains; i++)
		free(c->local_domains[i]);
	free(c->local_domains);
	free(c->rewrite_sender);
	memset(c, 0, sizeof(*c));
}

unsigned
conf_port(const struct conf *c, const struct hostport *hp)
{
	if (hp->port != 0)
		return hp->port;
	switch (c->tls) {
	case CONF_TLS_SMTPS:
		return 465;
	case CONF_TLS_NONE:
		return 25;
	case CONF_TLS_STARTTLS:
		break;
	}
	return 587;
}

const struct conf *
conf_route(const struct conf *top, const char *sender)
{
	const struct conf *a;
	const char *at;
	size_t i, j;

	if (sender == NULL || sender[0] == '\0' || top->naccounts == 0)
		return top;
	for (i = 0; i < top->naccounts; i++) {
		a = &top->accounts[i];
		for (j = 0; j < a->nsenders; j++)
			if (a->senders[j][0] != '*' &&
			    strcasecmp(a->senders[j], sender) == 0)
				return a;
	}
	/* the last "@": a quoted local part may hold one */
	if ((at = strrchr(sender, '@')) == NULL)
		return top;
	for (i = 0; i < top->naccounts; i++) {
		a = &top->accounts[i];
		for (j = 0; j < a->nsenders; j++)
			if (a->senders[j][0] == '*' &&
			    strcasecmp(a->senders[j] + 2, at + 1) == 0)
				return a;
	}
	return top;
}

const struct conf *
conf_account(const struct conf *top, const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0' || strcmp(name, "default") == 0)
		return top;
	for (i = 0; i < top->naccounts; i++)
		if (strcmp(top->accounts[i].account, name) == 0)
			return &top->accounts[i];
	return NULL;
}

const char *
conf_account_name(const struct conf *c)
{
	return c->account != NULL ? c->account : "default";
}

int
conf_parse_account_name(const char *s, char *err, size_t errlen)
{
	char q[QUOTE_VALUE];
	size_t len = strlen(s);

	quote(q, sizeof(q), s, len);
	if (len == 0 || len > ACCOUNT_NAMEMAX) {
		util_errf(err, errlen, "account name '%s' is not 1 to %d "
		    "bytes long", q, ACCOUNT_NAMEMAX);
		return -1;
	}
	if (strspn(s, ACCOUNT_CHARS) != len || strchr("._-", s[0]) != NULL) {
		util_errf(err, errlen, "bad account name '%s': letters, "
		    "digits, '.', '_' and '-', starting with a letter or "
		    "digit", q);
		return -1;
	}
	if (strcmp(s, "default") == 0) {
		util_errf(err, errlen, "account name 'default' is taken: it "
		    "names the keys before the first 'account' line");
		return -1;
	}
	return 0;
}

/* A copy of addr with the part after its last "@" in lower case. */
static char *
lower_domain(const char *addr)
{
	char *out = xstrdup(addr), *p;

	if ((p = strrchr(out, '@')) == NULL)
		return out;
	for (; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

int
conf_parse_sender_pattern(const char *s, char **out, char *err,
    size_t errlen)
{
	char q[QUOTE_VALUE], *a;
	size_t len = strlen(s);

	*out = NULL;
	if (s[0] == '*') {
		if (s[1] != '@' || !hostname_ok(s + 2, len - 2)) {
			quote(q, sizeof(q), s, len);
			util_errf(err, errlen, "bad sender pattern '%s': an "
			    "address or *@domain", q);
			return -1;
		}
		*out = lower_domain(s);
		return 0;
	}
	/* a bare addr-spec: no display name, no angle brackets */
	if (strpbrk(s, "<>()") != NULL) {
		quote(q, sizeof(q), s, len);
		util_errf(err, errlen, "bad sender pattern '%s': an address "
		    "or *@domain", q);
		return -1;
	}
	if (conf_parse_address(s, &a, err, errlen) == -1)
		return -1;
	*out = lower_domain(a);
	free(a);
	return 0;
}

int
conf_parse_hostport(const char *s, struct hostport *out, char *err,
    size_t errlen)
{
	struct in6_addr a6;
	char q[QUOTE_VALUE], addr[INET6_ADDRSTRLEN];
	const char *host, *colon, *port = NULL, *p;
	size_t hlen;
	unsigned pn = 0;

	out->host = NULL;
	out->port = 0;
	if (s == NULL || *s == '\0') {
		util_errf(err, errlen, "empty host");
		return -1;
	}
	quote(q, sizeof(q), s, strlen(s));
	if (s[0] == '[') {
		if ((p = strchr(s, ']')) == NULL) {
			util_errf(err, errlen, "missing ']' in '%s'", q);
			return -1;
		}
		host = s + 1;
		hlen = (size_t)(p - host);
		if (hlen == 0) {
			util_errf(err, errlen, "empty host in '%s'", q);
			return -1;
		}
		if (hlen >= sizeof(addr)) {
			util_errf(err, errlen, "bad IPv6 address in '%s'", q);
			return -1;
		}
		memcpy(addr, host, hlen);
		addr[hlen] = '\0';
		if (inet_pton(AF_INET6, addr, &a6) != 1) {
			quote(q, sizeof(q), addr, hlen);
			util_errf(err, errlen, "bad IPv6 address '%s'", q);
			return -1;
		}
		p++;
		if (*p == ':')
			port = p + 1;
		else if (*p != '\0') {
			util_errf(err, errlen, "unexpected text after ']' in '%s'",
			    q);
			return -1;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* Is ":25" part of the address or the port? */
			if (inet_pton(AF_INET6, s, &a6) == 1)
				util_errf(err, errlen, "IPv6 address '%s' needs "
				    "brackets, as in '[%s]'", q, q);
			else
				util_errf(err, errlen, "bad host '%s'", q);
			return -1;
		}
		host = s;
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (hlen == 0) {
			util_errf(err, errlen, "missing host before ':' in '%s'",
			    q);
			return -1;
		}
		if (check_host(host, hlen, err, errlen) == -1)
			return -1;
		if (colon != NULL)
			port = colon + 1;
	}
	if (port != NULL) {
		if (*port == '\0') {
			util_errf(err, errlen, "missing port after ':' in '%s'",
			    q);
			return -1;
		}
		if (parse_port(port, &pn) == -1) {
			quote(q, sizeof(q), port, strlen(port));
			util_errf(err, errlen, "bad port '%s'", q);
			return -1;
		}
	}
	out->host = xstrndup(host, hlen);
	out->port = pn;
	return 0;
}

int
conf_parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
	char q[QUOTE_VALUE];

	if (s != NULL && (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0)) {
		*out = true;
		return 0;
	}
	if (s != NULL && (strcmp(s, "no") == 0 || strcmp(s, "false") == 0)) {
		*out = false;
		return 0;
	}
	quote(q, sizeof(q), s != NULL ? s : "", s != NULL ? strlen(s) : 0);
	util_errf(err, errlen, "bad boolean '%s'", q);
	return -1;
}

int
conf_parse_tls(const char *s, enum conf_tls *out, char *err, size_t errlen)
{
	static const char *const names[] = {
		[CONF_TLS_STARTTLS] = "starttls",
		[CONF_TLS_SMTPS] = "smtps",
		[CONF_TLS_NONE] = "none",
		NULL
	};
	int i;

	if ((i = one_of(s, names, "tls mode", err, errlen)) == -1)
		return -1;
	*out = (enum conf_tls)i;
	return 0;
}

/*
 * The index of s in the NULL-terminated names, or -1 with "bad WHAT 's'"
 * in err.
 */
static int
one_of(const char *s, const char *const *names, const char *what, char *err,
    size_t errlen)
{
	char q[QUOTE_VALUE];
	int i;

	for (i = 0; s != NULL && names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	quote(q, sizeof(q), s != NULL ? s : "", s != NULL ? strlen(s) : 0);
	util_errf(err, errlen, "bad %s '%s'", what, q);
	return -1;
}

int
conf_parse_address(const char *s, char **out, char *err, size_t errlen)
{
	struct addrlist l = ADDRLIST_INIT;
	char q[QUOTE_VALUE], reason[CONF_MSGMAX];
	size_t len = s != NULL ? strlen(s) : 0;

	*out = NULL;
	quote(q, sizeof(q), s != NULL ? s : "", len);
	if (len == 0) {
		util_errf(err, errlen, "empty address");
		return -1;
	}
	if (len > CONF_ADDRMAX) {
		util_errf(err, errlen, "address '%s' longer than %d bytes", q,
		    CONF_ADDRMAX);
		return -1;
	}
	if (addr_parse_arg(s, &l, reason, sizeof(reason)) == -1) {
		util_errf(err, errlen, "bad address '%s': %s", q, reason);
		addrlist_free(&l);
		return -1;
	}
	if (l.n != 1) {
		util_errf(err, errlen, l.n == 0 ? "empty address '%s'" :
		    "more than one address in '%s'", q);
		addrlist_free(&l);
		return -1;
	}
	if (!addr_is_qualified(l.v[0])) {
		util_errf(err, errlen, "address '%s' has no domain", q);
		addrlist_free(&l);
		return -1;
	}
	*out = l.v[0];
	free(l.v);
	return 0;
}

int
conf_parse_scope(const char *s, enum conf_scope *out, char *err,
    size_t errlen)
{
	static const char *const names[] = {
		[CONF_SCOPE_LOCAL] = "local",
		[CONF_SCOPE_ALL] = "all",
		NULL
	};
	int i;

	if ((i = one_of(s, names, "scope", err, errlen)) == -1)
		return -1;
	*out = (enum conf_scope)i;
	return 0;
}

bool
conf_mechanism_known(const char *name)
{
	size_t i;

	if (name == NULL)
		return false;
	for (i = 0; i < NMECHANISMS; i++)
		if (strcasecmp(name, mechanisms[i].name) == 0)
			return true;
	return false;
}

bool
conf_mechanism_token(const char *name)
{
	size_t i;

	if (name == NULL)
		return false;
	for (i = 0; i < NMECHANISMS; i++)
		if (strcasecmp(name, mechanisms[i].name) == 0)
			return mechanisms[i].token;
	return false;
}

/*
 * Copies s[0..len) to out as printable ASCII (other bytes become '?'),
 * ending in "..." when it does not fit: messages quote what they were given
 * without letting it break the line or run on.
 */
static void
quote(char *out, size_t outlen, const char *s, size_t len)
{
	size_t i, n;
	unsigned char ch;

	if (outlen == 0)
		return;
	n = len < outlen - 1 ? len : outlen - 1;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[n] = '\0';
	if (n < len && n >= 3)
		memcpy(out + n - 3, "...", 3);
}

static bool
is_blank(int ch)
{
	return ch == ' ' || ch == '\t';
}

static bool
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static bool
is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* The next blank-separated word of *pp, or NULL; advances *pp past it. */
static const char *
next_word(const char **pp, size_t *lenp)
{
	const char *p = *pp, *w;

	while (is_blank((unsigned char)*p))
		p++;
	if (*p == '\0')
		return NULL;
	w = p;
	while (*p != '\0' && !is_blank((unsigned char)*p))
		p++;
	*lenp = (size_t)(p - w);
	*pp = p;
	return w;
}

/*
 * A host name in the RFC 1123 sense: dot-separated labels of letters,
 * digits and hyphens, 1-63 bytes each, no hyphen at either end of a label,
 * 253 bytes at most, no trailing dot. A last label of digits only is
 * refused: "10.0.0.300" is a bad address, not a name.
 */
static bool
hostname_ok(const char *s, size_t len)
{
	size_t i, label = 0;
	bool digits = true;
	int ch;

	if (len == 0 || len > HOST_NAMEMAX)
		return false;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (!is_alpha(ch) && !is_digit(ch) && ch != '-')
			return false;
		if (ch == '-' && label == 0)
			return false;
		if (!is_digit(ch))
			digits = false;
		if (++label > HOST_LABELMAX)
			return false;
	}
	if (label == 0 || s[len - 1] == '-' || digits)
		return false;
	return true;
}

/* The host part of a smarthost: an IPv4 address or a host name. */
static int
check_host(const char *host, size_t len, char *err, size_t errlen)
{
	struct in_addr a4;
	char q[QUOTE_VALUE], addr[INET_ADDRSTRLEN];
	size_t i;

	quote(q, sizeof(q), host, len);
	for (i = 0; i < len; i++)
		if (!is_digit((unsigned char)host[i]) && host[i] != '.')
			break;
	if (i == len) {
		if (len >= sizeof(addr))
			goto bad4;
		memcpy(addr, host, len);
		addr[len] = '\0';
		if (inet_pton(AF_INET, addr, &a4) != 1)
			goto bad4;
		return 0;
	}
	if (!hostname_ok(host, len)) {
		util_errf(err, errlen, "bad host name '%s'", q);
		return -1;
	}
	return 0;

 bad4:
	util_errf(err, errlen, "bad IPv4 address '%s'", q);
	return -1;
}

/* Decimal digits only, 1-65535: no sign, blank or trailing text. */
static int
parse_port(const char *s, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!is_digit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* "CRAM-MD5, LOGIN, ... or XOAUTH2", from mechanisms[]. */
static void
mechanism_hint(struct buf *b)
{
	size_t i;

	for (i = 0; i < NMECHANISMS; i++) {
		if (i > 0)
			buf_addstr(b, i + 1 == NMECHANISMS ? " or " : ", ");
		buf_addstr(b, mechanisms[i].name);
	}
}

static int
set_smarthosts(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	struct hostport **list = FIELD(c, k, struct hostport *);
	size_t *n = COUNT(c, k);
	struct hostport hp;
	char reason[CONF_MSGMAX];
	const char *w;
	char *word;
	size_t wlen, i;

	while ((w = next_word(&val, &wlen)) != NULL) {
		word = xstrndup(w, wlen);
		if (conf_parse_hostport(word, &hp, reason,
		    sizeof(reason)) == -1) {
			util_errf(msg, msglen, "%s in %s", reason, k->name);
			free(word);
			return -1;
		}
		for (i = 0; i < *n; i++) {
			if (strcasecmp((*list)[i].host, hp.host) == 0 &&
			    (*list)[i].port == hp.port) {
				util_errf(msg, msglen, "duplicate %s '%s'",
				    k->name, word);
				free(hp.host);
				free(word);
				return -1;
			}
		}
		free(word);
		if (*n >= CONF_MAXHOSTS) {
			util_errf(msg, msglen, "more than %d entries in %s",
			    CONF_MAXHOSTS, k->name);
			free(hp.host);
			return -1;
		}
		*list = xreallocarray(*list, *n + 1, sizeof(**list));
		(*list)[(*n)++] = hp;
	}
	return 0;
}

static int
set_tls(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char reason[CONF_MSGMAX];

	if (conf_parse_tls(val, FIELD(c, k, enum conf_tls), reason,
	    sizeof(reason)) == -1) {
		util_errf(msg, msglen, "%s in %s; expected starttls, smtps or none",
		    reason, k->name);
		return -1;
	}
	return 0;
}

int
conf_parse_duration(const char *s, unsigned *seconds, char *err,
    size_t errlen)
{
	unsigned long long v = 0, unit = 1;
	size_t i;

	for (i = 0; is_digit((unsigned char)s[i]); i++) {
		v = v * 10 + (unsigned long long)(s[i] - '0');
		if (v > 365ULL * 86400) {
			util_errf(err, errlen, "duration too long");
			return -1;
		}
	}
	if (i == 0) {
		util_errf(err, errlen, "bad duration");
		return -1;
	}
	switch (s[i]) {
	case '\0':
		break;
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		util_errf(err, errlen, "bad duration unit");
		return -1;
	}
	if (s[i] != '\0' && s[i + 1] != '\0') {
		util_errf(err, errlen, "bad duration");
		return -1;
	}
	if (v == 0 || v * unit > 365ULL * 86400) {
		util_errf(err, errlen, v == 0 ? "duration must be positive" :
		    "duration too long");
		return -1;
	}
	*seconds = (unsigned)(v * unit);
	return 0;
}

static int
set_duration(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char reason[CONF_MSGMAX], q[QUOTE_VALUE + 8];

	if (conf_parse_duration(val, FIELD(c, k, unsigned), reason,
	    sizeof(reason)) == -1) {
		quote(q, sizeof(q), val, strlen(val));
		util_errf(msg, msglen, "%s '%s' in %s; expected seconds or a number "
		    "with s, m, h or d", reason, q, k->name);
		return -1;
	}
	return 0;
}

static int
set_bool(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char reason[CONF_MSGMAX];

	if (conf_parse_bool(val, FIELD(c, k, bool), reason,
	    sizeof(reason)) == -1) {
		util_errf(msg, msglen, "%s in %s; expected yes or no", reason,
		    k->name);
		return -1;
	}
	return 0;
}

static void
store_string(struct conf *c, const struct conf_key *k, const char *val)
{
	char **field = FIELD(c, k, char *);

	free(*field);
	*field = xstrdup(val);
}

static int
set_word(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	(void)msg;
	(void)msglen;
	store_string(c, k, val);
	return 0;
}

static int
set_path(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	if (val[0] != '/') {
		util_errf(msg, msglen, "path '%s' in %s is not absolute", val,
		    k->name);
		return -1;
	}
	store_string(c, k, val);
	return 0;
}

/*
 * A file the delivery worker will read. EACCES is let through: the
 * front-end, run by any user, may not be allowed to look, and must still
 * queue mail; the worker opens the file and finds out for certain. Only
 * stat(): the contents are the worker's business, and for a secret it
 * checks the mode again with fstat() on the descriptor it reads.
 */
static int
check_file(struct conf *c, const struct conf_key *k, const char *val,
    bool secret, char *msg, size_t msglen)
{
	struct stat st;

	if (val[0] != '/' || c->secrets_later)
		return set_path(c, k, val, msg, msglen);
	/* the worker does not follow a link to a secret (O_NOFOLLOW) */
	if ((secret ? lstat(val, &st) : stat(val, &st)) == -1) {
		if (errno != EACCES) {
			util_errf(msg, msglen, "%s %s: %s", k->name, val,
			    strerror(errno));
			return -1;
		}
	} else if (S_ISLNK(st.st_mode)) {
		util_errf(msg, msglen, "%s %s is a symbolic link", k->name, val);
		return -1;
	} else if (!S_ISREG(st.st_mode)) {
		util_errf(msg, msglen, "%s %s is not a regular file", k->name, val);
		return -1;
	} else if (secret && (st.st_mode & 077) != 0) {
		util_errf(msg, msglen, "%s %s is accessible by group or others "
		    "(chmod 600 it)", k->name, val);
		return -1;
	}
	return set_path(c, k, val, msg, msglen);
}

static int
set_ca_file(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	return check_file(c, k, val, false, msg, msglen);
}

/* A CA file as tls_ca_file, or "system" (stored as ""). */
static int
set_oauth_ca_file(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	if (strcmp(val, "system") == 0) {
		store_string(c, k, "");
		return 0;
	}
	return check_file(c, k, val, false, msg, msglen);
}

static int
set_secret_file(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	return check_file(c, k, val, true, msg, msglen);
}

/*
 * A shell command line, kept as written; the delivery worker runs it with
 * /bin/sh -c. Nothing is checked here but that it is not blank: the file
 * reader already refused control characters, and "#" after a blank
 * starts a comment, as on every line.
 */
static int
set_command(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	(void)msg;
	(void)msglen;
	store_string(c, k, val);
	return 0;
}

/*
 * The token endpoint: "https://HOST[:PORT][/PATH][?QUERY]", with the host
 * and port checked as a smarthost's. No user information ("@": a URL
 * appears in errors) and no fragment. The worker's HTTP client checks
 * the rest when it uses it.
 */
static int
set_url(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	struct hostport hp;
	char reason[CONF_MSGMAX], q[QUOTE_VALUE], *auth;
	size_t alen, i;

	quote(q, sizeof(q), val, strlen(val));
	for (i = 0; val[i] != '\0'; i++) {
		if ((unsigned char)val[i] >= 0x7f) {
			util_errf(msg, msglen, "non-ASCII character in %s",
			    k->name);
			return -1;
		}
	}
	if (strncasecmp(val, "https://", 8) != 0) {
		util_errf(msg, msglen, "%s '%s' must start with https://",
		    k->name, q);
		return -1;
	}
	alen = strcspn(val + 8, "/?");
	if (memchr(val + 8, '@', alen) != NULL ||
	    strchr(val, '#') != NULL) {
		util_errf(msg, msglen, "%s must have no user information (@) "
		    "or fragment (#)", k->name);
		return -1;
	}
	auth = xstrndup(val + 8, alen);
	if (conf_parse_hostport(auth, &hp, reason, sizeof(reason)) == -1) {
		util_errf(msg, msglen, "%s in %s", reason, k->name);
		free(auth);
		return -1;
	}
	free(hp.host);
	free(auth);
	store_string(c, k, val);
	return 0;
}

/*
 * OAuth 2.0 scopes (RFC 6749 3.3): blank-separated tokens of printable
 * ASCII but '"' and '\\', stored separated by one space.
 */
static int
set_oauth_scope(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	struct buf b = BUF_INIT;
	const char *w;
	size_t wlen, i;
	int ch;

	while ((w = next_word(&val, &wlen)) != NULL) {
		for (i = 0; i < wlen; i++) {
			ch = (unsigned char)w[i];
			if (ch <= 0x20 || ch >= 0x7f || ch == '"' ||
			    ch == '\\') {
				util_errf(msg, msglen, "bad character in %s",
				    k->name);
				buf_free(&b);
				return -1;
			}
		}
		if (b.len > 0)
			buf_addch(&b, ' ');
		buf_add(&b, w, wlen);
	}
	store_string(c, k, b.data);
	buf_free(&b);
	return 0;
}

static int
set_mechanisms(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char ***list = FIELD(c, k, char **);
	size_t *n = COUNT(c, k);
	struct buf hint = BUF_INIT;
	const char *w;
	char *name, *p;
	size_t wlen, i;

	while ((w = next_word(&val, &wlen)) != NULL) {
		name = xstrndup(w, wlen);
		if (!conf_mechanism_known(name)) {
			mechanism_hint(&hint);
			util_errf(msg, msglen, "unknown mechanism '%s' in %s; "
			    "expected %s", name, k->name, hint.data);
			buf_free(&hint);
			free(name);
			return -1;
		}
		for (p = name; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		for (i = 0; i < *n; i++) {
			if (strcmp((*list)[i], name) == 0) {
				util_errf(msg, msglen, "duplicate mechanism '%s' "
				    "in %s", name, k->name);
				free(name);
				return -1;
			}
		}
		*list = xreallocarray(*list, *n + 1, sizeof(**list));
		(*list)[(*n)++] = name;
	}
	return 0;
}

static int
set_hostname(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	if (!hostname_ok(val, strlen(val))) {
		util_errf(msg, msglen, "bad host name '%s' in %s", val, k->name);
		return -1;
	}
	store_string(c, k, val);
	return 0;
}

/* An absolute path, or "none" for no alias file at all. */
static int
set_alias_file(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char **field = FIELD(c, k, char *);

	if (strcmp(val, "none") == 0) {
		free(*field);
		*field = NULL;
		return 0;
	}
	if (val[0] != '/') {
		util_errf(msg, msglen, "%s must be an absolute path or none",
		    k->name);
		return -1;
	}
	return set_path(c, k, val, msg, msglen);
}

static int
set_address(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char **field = FIELD(c, k, char *);
	char reason[CONF_MSGMAX], *a;

	if (conf_parse_address(val, &a, reason, sizeof(reason)) == -1) {
		util_errf(msg, msglen, "%s in %s", reason, k->name);
		return -1;
	}
	free(*field);
	*field = a;
	return 0;
}

static int
set_domains(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char ***list = FIELD(c, k, char **);
	size_t *n = COUNT(c, k);
	char q[QUOTE_VALUE];
	const char *w;
	char *name, *p;
	size_t wlen, i;

	while ((w = next_word(&val, &wlen)) != NULL) {
		if (!hostname_ok(w, wlen)) {
			quote(q, sizeof(q), w, wlen);
			util_errf(msg, msglen, "bad domain '%s' in %s", q,
			    k->name);
			return -1;
		}
		name = xstrndup(w, wlen);
		for (p = name; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		for (i = 0; i < *n; i++) {
			if (strcmp((*list)[i], name) == 0) {
				util_errf(msg, msglen, "duplicate domain '%s' "
				    "in %s", name, k->name);
				free(name);
				return -1;
			}
		}
		if (*n >= CONF_MAXDOMAINS) {
			util_errf(msg, msglen, "more than %d entries in %s",
			    CONF_MAXDOMAINS, k->name);
			free(name);
			return -1;
		}
		*list = xreallocarray(*list, *n + 1, sizeof(**list));
		(*list)[(*n)++] = name;
	}
	return 0;
}

static int
set_scope(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char reason[CONF_MSGMAX];

	if (conf_parse_scope(val, FIELD(c, k, enum conf_scope), reason,
	    sizeof(reason)) == -1) {
		util_errf(msg, msglen, "%s in %s; expected local or all", reason,
		    k->name);
		return -1;
	}
	return 0;
}

static int
set_log_level(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char reason[CONF_MSGMAX];

	if (conf_parse_log_level(val, FIELD(c, k, enum conf_log_level),
	    reason, sizeof(reason)) == -1) {
		util_errf(msg, msglen, "%s in %s; expected info or debug",
		    reason, k->name);
		return -1;
	}
	return 0;
}

static int
set_senders(struct conf *c, const struct conf_key *k, const char *val,
    char *msg, size_t msglen)
{
	char reason[CONF_MSGMAX], *pat, *w;
	const char *p;
	size_t wlen;

	while ((p = next_word(&val, &wlen)) != NULL) {
		w = xstrndup(p, wlen);
		if (conf_parse_sender_pattern(w, &pat, reason,
		    sizeof(reason)) == -1) {
			util_errf(msg, msglen, "%s in %s", reason, k->name);
			free(w);
			return -1;
		}
		free(w);
		c->senders = xreallocarray(c->senders, c->nsenders + 1,
		    sizeof(*c->senders));
		c->senders[c->nsenders++] = pat;
	}
	return 0;
}

int
conf_parse_log_level(const char *s, enum conf_log_level *out, char *err,
    size_t errlen)
{
	static const char *const names[] = {
		[CONF_LOG_INFO] = "info",
		[CONF_LOG_DEBUG] = "debug",
		NULL
	};
	int i;

	if ((i = one_of(s, names, "log level", err, errlen)) == -1)
		return -1;
	*out = (enum conf_log_level)i;
	return 0;
}

/*
 * One line into b, without its LF or CRLF. A line may hold CONF_LINEMAX
 * bytes; reading stops as soon as it is known to be longer, so a huge
 * line costs no memory.
 */
static enum conf_rl
read_line(FILE *fp, struct buf *b)
{
	int ch;

	buf_reset(b);
	while ((ch = getc(fp)) != EOF && ch != '\n') {
		if (ch == '\0')
			return RL_NUL;
		/* One byte over the limit may be the CR of a CRLF. */
		if (b->len > CONF_LINEMAX)
			return RL_LONG;
		buf_addch(b, ch);
	}
	if (ch == EOF) {
		if (ferror(fp))
			return RL_ERROR;
		if (b->len == 0)
			return RL_EOF;
	}
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		buf_truncate(b, b->len - 1);
	if (b->len > CONF_LINEMAX)
		return RL_LONG;
	return RL_LINE;
}

/*
 * One line of the file, s[0..len), which may be modified. seen[] holds
 * the line each key was first given on. Returns 0, or -1 with a message
 * (without "FILE:LINE: ") in msg.
 */
static int
parse_line(struct parse *p, char *s, size_t len, unsigned long lineno,
    char *msg, size_t msglen)
{
	const struct conf_key *k = NULL;
	unsigned long *seen = p->seen;
	char q[QUOTE_VALUE];
	char *key, *val;
	size_t i, keylen, before;
	int ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			util_errf(msg, msglen, "control character 0x%02x", ch);
			return -1;
		}
	}
	/* "#" starts a comment at the start of a line or after a blank. */
	for (i = 0; i < len; i++) {
		if (s[i] == '#' &&
		    (i == 0 || is_blank((unsigned char)s[i - 1]))) {
			len = i;
			break;
		}
	}
	while (len > 0 && is_blank((unsigned char)s[len - 1]))
		len--;
	/* An empty line may be the buffer's static "": never write to it. */
	if (len == 0)
		return 0;
	s[len] = '\0';

	key = s;
	while (is_blank((unsigned char)*key))
		key++;
	if (*key == '\0')
		return 0;
	keylen = strcspn(key, " \t");
	val = key + keylen;
	while (is_blank((unsigned char)*val))
		val++;
	key[keylen] = '\0';

	if (strcmp(key, "account") == 0) {
		if (*val == '\0' || val[strcspn(val, " \t")] != '\0') {
			util_errf(msg, msglen, "account takes one name");
			return -1;
		}
		return start_account(p, val, lineno, msg, msglen);
	}
	for (i = 0; i < K_NKEYS; i++) {
		if (strcmp(key, keys[i].name) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (k == NULL) {
		quote(q, sizeof(q), key, keylen);
		util_errf(msg, msglen, "unknown key '%s'", q);
		return -1;
	}
	if (*val == '\0') {
		util_errf(msg, msglen, "missing value for '%s'", k->name);
		return -1;
	}
	if (p->cur == p->top && i == K_SENDERS) {
		util_errf(msg, msglen, "'%s' outside an account: the keys "
		    "before the first 'account' line are the default "
		    "account, which takes every other sender", k->name);
		return -1;
	}
	if (p->cur != p->top && !per_account(i)) {
		util_errf(msg, msglen, "'%s' is global: put it before the "
		    "first 'account' line", k->name);
		return -1;
	}
	if (!k->list) {
		if (seen[i] != 0) {
			util_errf(msg, msglen, "duplicate key '%s' (first given on "
			    "line %lu)", k->name, seen[i]);
			return -1;
		}
		/* a command's value is the rest of the line, blanks and all */
		if (k->set != set_command && k->set != set_oauth_scope &&
		    val[strcspn(val, " \t")] != '\0') {
			util_errf(msg, msglen, "more than one value for '%s'",
			    k->name);
			return -1;
		}
	}
	if (seen[i] == 0)
		seen[i] = lineno;
	before = p->cur->nsenders;
	if (k->set(p->cur, k, val, msg, msglen) == -1)
		return -1;
	return i == K_SENDERS ? check_senders(p, before, msg, msglen) : 0;
}

static bool
per_account(size_t k)
{
	size_t i;

	for (i = 0; i < sizeof(account_keys) / sizeof(account_keys[0]); i++)
		if ((size_t)account_keys[i] == k)
			return true;
	return false;
}

/* "account NAME": the lines that follow fill a new account. */
static int
start_account(struct parse *p, const char *name, unsigned long lineno,
    char *msg, size_t msglen)
{
	struct conf *top = p->top;
	char reason[CONF_MSGMAX];
	size_t i, n = top->naccounts;

	if (conf_parse_account_name(name, reason, sizeof(reason)) == -1) {
		util_errf(msg, msglen, "%s", reason);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(top->accounts[i].account, name) == 0) {
			util_errf(msg, msglen, "duplicate account '%s' (first "
			    "given on line %lu)", name, p->aline[i]);
			return -1;
		}
	}
	if (n >= CONF_MAXACCOUNTS) {
		util_errf(msg, msglen, "more than %d accounts",
		    CONF_MAXACCOUNTS);
		return -1;
	}
	top->accounts = xreallocarray(top->accounts, n + 1,
	    sizeof(*top->accounts));
	p->aseen = xreallocarray(p->aseen, n + 1, sizeof(*p->aseen));
	p->aline = xreallocarray(p->aline, n + 1, sizeof(*p->aline));
	memset(&top->accounts[n], 0, sizeof(top->accounts[n]));
	memset(p->aseen[n], 0, sizeof(p->aseen[n]));
	top->accounts[n].account = xstrdup(name);
	top->accounts[n].secrets_later = top->secrets_later;
	p->aline[n] = lineno;
	top->naccounts = n + 1;
	p->cur = &top->accounts[n];
	p->seen = p->aseen[n];
	return 0;
}

/*
 * The patterns the current account just got, from index from on: each
 * may route to one account only, and be given once.
 */
static int
check_senders(const struct parse *p, size_t from, char *msg, size_t msglen)
{
	const struct conf *cur = p->cur, *a;
	char q[QUOTE_VALUE];
	size_t i, j, k;

	if (cur->nsenders > CONF_MAXSENDERS) {
		util_errf(msg, msglen, "more than %d senders in one account",
		    CONF_MAXSENDERS);
		return -1;
	}
	for (i = from; i < cur->nsenders; i++) {
		quote(q, sizeof(q), cur->senders[i], strlen(cur->senders[i]));
		for (k = 0; k < p->top->naccounts; k++) {
			a = &p->top->accounts[k];
			for (j = 0; j < (a == cur ? i : a->nsenders); j++) {
				if (strcasecmp(a->senders[j],
				    cur->senders[i]) != 0)
					continue;
				if (a == cur)
					util_errf(msg, msglen, "sender '%s' "
					    "given twice", q);
				else
					util_errf(msg, msglen, "sender '%s' "
					    "already routes to account '%s' "
					    "(line %lu)", q, a->account,
					    p->aline[k]);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Each named account by itself: what check_across asks of the top level,
 * plus a smarthost and a sender to route. *lineno: the line to blame.
 */
static int
check_accounts(struct parse *p, unsigned long *lineno, char *msg,
    size_t msglen)
{
	const struct conf *a;
	char inner[CONF_MSGMAX];
	size_t i;

	for (i = 0; i < p->top->naccounts; i++) {
		a = &p->top->accounts[i];
		if (check_across(a, p->aseen[i], lineno, inner,
		    sizeof(inner)) == -1) {
			util_errf(msg, msglen, "account '%s': %s", a->account,
			    inner);
			return -1;
		}
		*lineno = p->aline[i];
		if (a->nsmarthosts == 0) {
			util_errf(msg, msglen, "account '%s' has no %s",
			    a->account, keys[K_SMARTHOST].name);
			return -1;
		}
		if (a->nsenders == 0) {
			util_errf(msg, msglen, "account '%s' has no %s: no "
			    "message would go through it", a->account,
			    keys[K_SENDERS].name);
			return -1;
		}
	}
	return 0;
}

/* A named account's copy of the global keys, from the top level. */
static void
inherit_globals(struct conf *a, const struct conf *top)
{
	size_t i;

	a->path = top->path != NULL ? xstrdup(top->path) : NULL;
	a->spool_dir = xstrdup(top->spool_dir);
	a->helo_name = top->helo_name != NULL ? xstrdup(top->helo_name) :
	    NULL;
	a->domain = top->domain != NULL ? xstrdup(top->domain) : NULL;
	a->alias_file = top->alias_file != NULL ? xstrdup(top->alias_file) :
	    NULL;
	a->alias_file_optional = top->alias_file_optional;
	a->admin_address = top->admin_address != NULL ?
	    xstrdup(top->admin_address) : NULL;
	if (top->nlocal_domains > 0) {
		a->local_domains = xreallocarray(NULL, top->nlocal_domains,
		    sizeof(*a->local_domains));
		for (i = 0; i < top->nlocal_domains; i++)
			a->local_domains[i] = xstrdup(top->local_domains[i]);
	}
	a->nlocal_domains = top->nlocal_domains;
	a->connect_timeout = top->connect_timeout;
	a->command_timeout = top->command_timeout;
	a->data_timeout = top->data_timeout;
	a->queue_lifetime = top->queue_lifetime;
	a->log_level = top->log_level;
	a->secrets_later = top->secrets_later;
}

/*
 * Checks across keys, once the file is read. On error *lineno is the line
 * of the key that is present, and msg says which one is missing.
 */
static int
check_across(const struct conf *c, const unsigned long *seen,
    unsigned long *lineno, char *msg, size_t msglen)
{
	static const enum conf_keyidx needs_rewrite[] = {
		K_REWRITE_SCOPE, K_REWRITE_FROM };
	static const enum conf_keyidx needs_user[] = {
		K_AUTH_PASSWORD_FILE, K_AUTH_PASSWORD_COMMAND,
		K_AUTH_TOKEN_COMMAND, K_OAUTH_TOKEN_URL, K_AUTH_MECHANISMS };
	static const enum conf_keyidx needs_url[] = {
		K_OAUTH_CLIENT_ID, K_OAUTH_CLIENT_SECRET_FILE,
		K_OAUTH_REFRESH_TOKEN_FILE, K_OAUTH_SCOPE, K_OAUTH_CA_FILE };
	bool pw = seen[K_AUTH_PASSWORD_FILE] != 0 ||
	    seen[K_AUTH_PASSWORD_COMMAND] != 0;
	bool url = seen[K_OAUTH_TOKEN_URL] != 0;
	bool tok = seen[K_AUTH_TOKEN_COMMAND] != 0 || url;
	size_t i, usable = 0;

	if (seen[K_AUTH_USER] != 0 && !pw && !tok) {
		*lineno = seen[K_AUTH_USER];
		util_errf(msg, msglen, "%s without %s, %s, %s or %s",
		    keys[K_AUTH_USER].name, keys[K_AUTH_PASSWORD_FILE].name,
		    keys[K_AUTH_PASSWORD_COMMAND].name,
		    keys[K_AUTH_TOKEN_COMMAND].name,
		    keys[K_OAUTH_TOKEN_URL].name);
		return -1;
	}
	for (i = 0; i < sizeof(needs_url) / sizeof(needs_url[0]); i++) {
		if (seen[needs_url[i]] != 0 && !url) {
			*lineno = seen[needs_url[i]];
			util_errf(msg, msglen, "%s without %s",
			    keys[needs_url[i]].name,
			    keys[K_OAUTH_TOKEN_URL].name);
			return -1;
		}
	}
	if (url && seen[K_AUTH_TOKEN_COMMAND] != 0) {
		*lineno = seen[K_OAUTH_TOKEN_URL] >
		    seen[K_AUTH_TOKEN_COMMAND] ? seen[K_OAUTH_TOKEN_URL] :
		    seen[K_AUTH_TOKEN_COMMAND];
		util_errf(msg, msglen, "%s and %s exclude each other",
		    keys[K_OAUTH_TOKEN_URL].name,
		    keys[K_AUTH_TOKEN_COMMAND].name);
		return -1;
	}
	if (url && seen[K_OAUTH_CLIENT_ID] == 0) {
		*lineno = seen[K_OAUTH_TOKEN_URL];
		util_errf(msg, msglen, "%s without %s",
		    keys[K_OAUTH_TOKEN_URL].name,
		    keys[K_OAUTH_CLIENT_ID].name);
		return -1;
	}
	/* the client-credentials grant authenticates with the secret */
	if (url && seen[K_OAUTH_REFRESH_TOKEN_FILE] == 0 &&
	    seen[K_OAUTH_CLIENT_SECRET_FILE] == 0) {
		*lineno = seen[K_OAUTH_TOKEN_URL];
		util_errf(msg, msglen, "%s needs %s (refresh-token grant) or "
		    "%s (client-credentials grant)",
		    keys[K_OAUTH_TOKEN_URL].name,
		    keys[K_OAUTH_REFRESH_TOKEN_FILE].name,
		    keys[K_OAUTH_CLIENT_SECRET_FILE].name);
		return -1;
	}
	for (i = 0; i < sizeof(needs_user) / sizeof(needs_user[0]); i++) {
		if (seen[needs_user[i]] != 0 && seen[K_AUTH_USER] == 0) {
			*lineno = seen[needs_user[i]];
			util_errf(msg, msglen, "%s without %s",
			    keys[needs_user[i]].name, keys[K_AUTH_USER].name);
			return -1;
		}
	}
	if (seen[K_AUTH_PASSWORD_FILE] != 0 &&
	    seen[K_AUTH_PASSWORD_COMMAND] != 0) {
		*lineno = seen[K_AUTH_PASSWORD_FILE] >
		    seen[K_AUTH_PASSWORD_COMMAND] ? seen[K_AUTH_PASSWORD_FILE] :
		    seen[K_AUTH_PASSWORD_COMMAND];
		util_errf(msg, msglen, "%s and %s exclude each other",
		    keys[K_AUTH_PASSWORD_FILE].name,
		    keys[K_AUTH_PASSWORD_COMMAND].name);
		return -1;
	}
	/* A preference list must name a mechanism the secrets can serve. */
	if (seen[K_AUTH_MECHANISMS] != 0) {
		for (i = 0; i < c->nauth_mechanisms; i++) {
			if (conf_mechanism_token(c->auth_mechanisms[i]) ? tok :
			    pw)
				usable++;
		}
		if (usable == 0) {
			*lineno = seen[K_AUTH_MECHANISMS];
			util_errf(msg, msglen, "%s names no mechanism for the "
			    "configured secret (%s)",
			    keys[K_AUTH_MECHANISMS].name, url ?
			    "with oauth_token_url: OAUTHBEARER or XOAUTH2" :
			    tok ?
			    "with auth_token_command: OAUTHBEARER or XOAUTH2" :
			    "OAUTHBEARER and XOAUTH2 need auth_token_command or "
			    "oauth_token_url");
			return -1;
		}
	}
	/* Settings that would do nothing are mistakes worth naming. */
	for (i = 0; i < sizeof(needs_rewrite) / sizeof(needs_rewrite[0]);
	    i++) {
		if (seen[needs_rewrite[i]] != 0 && seen[K_REWRITE_SENDER] == 0) {
			*lineno = seen[needs_rewrite[i]];
			util_errf(msg, msglen, "%s without %s",
			    keys[needs_rewrite[i]].name,
			    keys[K_REWRITE_SENDER].name);
			return -1;
		}
	}
	return 0;
}

/* The compiled-in defaults of the keys not given; they always parse. */
static void
apply_defaults(struct conf *c, const unsigned long *seen, bool account)
{
	char msg[CONF_MSGMAX];
	size_t i;

	for (i = 0; i < K_NKEYS; i++) {
		if (seen[i] != 0 || keys[i].def == NULL ||
		    (account && !per_account(i)))
			continue;
		if (keys[i].set(c, &keys[i], keys[i].def, msg,
		    sizeof(msg)) == -1)
			bug("bad compiled-in configuration default");
	}
	/* Only the compiled-in alias file may be missing. */
	c->alias_file_optional = seen[K_ALIAS_FILE] == 0;
}
