/*
 * oauth.c: the OAuth 2.0 token client (see oauth.h).
 *
 * One call: use the cached access token while oauth_fresh() allows it;
 * else take the cache's lock (so that concurrent flush workers make one
 * request, which matters when the server rotates refresh tokens and
 * treats the reuse of an old one as theft), look at the cache again, and
 * only then POST the grant to the token endpoint over https (http.c,
 * with conn.c's certificate verification). A rotated refresh token is
 * saved before the new access token is cached: losing it would lock the
 * account out for good, losing the access token costs one request.
 *
 * Secret files (client secret, refresh token) are checked like
 * auth_password_file: opened without following a symbolic link, and
 * refused unless fstat() of the open file says regular and not readable
 * by group or others. The cache is used only if it belongs to the
 * effective uid with mode 0600; anything else is ignored and replaced.
 * Files are replaced by temp file, fsync, rename, fsync of the directory.
 *
 * Every buffer that holds a secret is wiped (OPENSSL_cleanse) before it
 * is freed, and sized before the secret goes in so that no realloc
 * leaves a copy behind. Error text is built from the endpoint's URL,
 * the HTTP status and the server's error fields (printable, truncated),
 * then every secret known here is masked in it, in case a server echoes
 * one back.
 *
 * Cache file format (text, one item per line):
 *	postern-oauth-cache 1
 *	key HEX		SHA-256 of the endpoint, client, scope, grant and
 *			refresh token file: a cache made for another
 *			account is not used
 *	obtained T	wall-clock seconds
 *	expires T
 *	token TOKEN
 *	end
 */
#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "buf.h"
#include "compat.h"
#include "conn.h"
#include "http.h"
#include "json.h"
#include "util.h"
#include "oauth.h"

#define SECRET_MAX	8192	/* a client secret or refresh token */
#define TOKEN_MAX	16384	/* an access token */
#define CACHE_MAX	(TOKEN_MAX + 512)
#define DEFAULT_TIMEOUT	30	/* seconds */
#define DEFAULT_LIFE	3600	/* when expires_in is absent */
#define LIFE_MAX	(10LL * 366 * 86400)
#define MARGIN_MAX	300	/* refresh at most this long before expiry */
#define DESC_MAX	200	/* of the server's error_description */
#define KEY_HEX		65

enum fields { F_ACCESS, F_TYPE, F_EXPIRES, F_REFRESH, F_ERROR, F_DESC, F_N };

struct secrets {		/* for masking; all borrowed, may be NULL */
	const char	*s[4];
};

static void	 wipe(struct buf *);
static void	 mask(char *, const char *);
static void	 mask_all(char *, const struct secrets *);
static int	 read_secret(const char *, const char *, struct buf *, char *,
		    size_t);
static void	 cache_key(const struct oauth_cfg *, char *);
static int	 cache_read(const char *, const char *, struct buf *, time_t *,
		    time_t *);
static int	 write_atomic(const char *, const char *, size_t, char *,
		    size_t);
static int	 lock_cache(const char *, unsigned, char *, size_t);
static bool	 token_ok(const char *, size_t);
static int	 parse_expires(const struct json_field *, long long *);
static void	 server_error(struct buf *, const struct json_field *);
static int	 fetch(const struct oauth_cfg *, bool *, struct buf *,
		    long long *,
		    char *, size_t, char *, size_t);

bool
oauth_fresh(time_t obtained, time_t expires, time_t now)
{
	long long life, margin;

	if (expires <= obtained || now < obtained - MARGIN_MAX)
		return false;
	life = (long long)expires - (long long)obtained;
	margin = life / 10 < MARGIN_MAX ? life / 10 : MARGIN_MAX;
	return (long long)now + margin < (long long)expires;
}

/* Wipes all of b's storage, then frees it. */
static void
wipe(struct buf *b)
{
	if (b->cap > 0)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

/*
 * Replaces each occurrence of secret in the string s by "***". Strings
 * under 4 bytes are left alone: they would mask ordinary words, and no
 * real secret or token is that short.
 */
static void
mask(char *s, const char *secret)
{
	size_t n, len;
	char *p;

	if (secret == NULL || (n = strlen(secret)) < 4)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		len = strlen(p + n);
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, len + 1);
	}
}

static void
mask_all(char *s, const struct secrets *sec)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < sizeof(sec->s) / sizeof(sec->s[0]); i++)
		mask(s, sec->s[i]);
}

/*
 * The first line of a secret file into out (sized before reading, wiped
 * by the caller). what names it in errors ("client secret file").
 */
static int
read_secret(const char *what, const char *path, struct buf *out, char *err,
    size_t errlen)
{
	struct stat st;
	char *tmp;
	size_t got = 0, len;
	ssize_t n;
	int fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		util_errf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		util_errf(err, errlen, "%s %s is not a regular file", what, path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		util_errf(err, errlen, "%s %s is accessible by group or others "
		    "(chmod 600 it); not used", what, path);
		close(fd);
		return -1;
	}
	tmp = xmalloc(SECRET_MAX + 2);
	while (got < SECRET_MAX + 1) {
		n = read(fd, tmp + got, SECRET_MAX + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			util_errf(err, errlen, "%s %s: %s", what, path,
			    strerror(errno));
			goto done;
		}
		if (n == 0 || memchr(tmp + got, '\n', (size_t)n) != NULL) {
			got += (size_t)n;
			break;
		}
		got += (size_t)n;
	}
	tmp[got] = '\0';
	len = strcspn(tmp, "\r\n");
	if (len == 0 || len > SECRET_MAX) {
		util_errf(err, errlen, "%s %s: %s", what, path, len == 0 ?
		    "empty first line" : "first line too long");
		goto done;
	}
	buf_reset(out);
	buf_grow(out, len);
	buf_add(out, tmp, len);
	rv = 0;
done:
	OPENSSL_cleanse(tmp, SECRET_MAX + 2);
	free(tmp);
	close(fd);
	return rv;
}

/* The hex SHA-256 identifying the account and grant a token is for. */
static void
cache_key(const struct oauth_cfg *cfg, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	struct buf b = BUF_INIT;
	const char *parts[5];
	size_t k;

	parts[0] = cfg->token_url;
	parts[1] = cfg->client_id;
	parts[2] = cfg->scope != NULL ? cfg->scope : "";
	parts[3] = cfg->refresh_token_file != NULL ? "refresh_token" :
	    "client_credentials";
	parts[4] = cfg->refresh_token_file != NULL ?
	    cfg->refresh_token_file : "";
	buf_addstr(&b, "postern-oauth-cache 1");
	for (k = 0; k < 5; k++) {
		buf_addch(&b, '\n');
		buf_addstr(&b, parts[k]);
	}
	if (EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	for (i = 0; i < mdlen && i * 2 + 2 < KEY_HEX; i++) {
		hex[i * 2] = digits[md[i] >> 4];
		hex[i * 2 + 1] = digits[md[i] & 15];
	}
	hex[i * 2] = '\0';
	buf_free(&b);
}

/*
 * The cached token for key: 0 with token, obtained and expires; -1 if
 * there is none usable (missing, foreign, unsafe, torn or for another
 * key). Never an error: the cache is only an optimisation.
 */
static int
cache_read(const char *path, const char *key, struct buf *token,
    time_t *obtained, time_t *expires)
{
	struct stat st;
	char *data, *p, *nl, *end;
	long long v[2];
	size_t got = 0, i;
	ssize_t n;
	int fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		close(fd);
		return -1;
	}
	data = xmalloc(CACHE_MAX + 1);
	while (got < CACHE_MAX) {
		n = read(fd, data + got, CACHE_MAX - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	data[got] = '\0';
	if (got == CACHE_MAX || strlen(data) != got)
		goto done;

	/* Exact lines, in order; anything else is a torn or foreign file. */
	p = data;
	if ((nl = strchr(p, '\n')) == NULL)
		goto done;
	*nl = '\0';
	if (strcmp(p, "postern-oauth-cache 1") != 0)
		goto done;
	p = nl + 1;
	if ((nl = strchr(p, '\n')) == NULL)
		goto done;
	*nl = '\0';
	if (strncmp(p, "key ", 4) != 0 || strcmp(p + 4, key) != 0)
		goto done;
	p = nl + 1;
	for (i = 0; i < 2; i++) {
		const char *label = i == 0 ? "obtained " : "expires ";

		if ((nl = strchr(p, '\n')) == NULL)
			goto done;
		*nl = '\0';
		if (strncmp(p, label, strlen(label)) != 0)
			goto done;
		p += strlen(label);
		errno = 0;
		v[i] = strtoll(p, &end, 10);
		if (errno != 0 || end == p || *end != '\0' || v[i] < 0)
			goto done;
		p = nl + 1;
	}
	if ((nl = strchr(p, '\n')) == NULL || strncmp(p, "token ", 6) != 0)
		goto done;
	p += 6;
	if (!token_ok(p, (size_t)(nl - p)) || strcmp(nl + 1, "end\n") != 0)
		goto done;
	buf_reset(token);
	buf_grow(token, (size_t)(nl - p));
	buf_add(token, p, (size_t)(nl - p));
	*obtained = (time_t)v[0];
	*expires = (time_t)v[1];
	rv = 0;
done:
	OPENSSL_cleanse(data, CACHE_MAX + 1);
	free(data);
	return rv;
}

/*
 * Replaces path with data, durably: a temp file of mode 0600 in the same
 * directory, fsync, rename, fsync of the directory. 0, or -1 with err.
 */
static int
write_atomic(const char *path, const char *data, size_t len, char *err,
    size_t errlen)
{
	struct buf tmp = BUF_INIT, dir = BUF_INIT;
	const char *slash;
	int fd, dfd, saved;

	buf_printf(&tmp, "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp.data)) == -1) {
		util_errf(err, errlen, "%s: cannot create a temporary file: %s",
		    path, strerror(errno));
		buf_free(&tmp);
		return -1;
	}
	if (fchmod(fd, 0600) == -1 || util_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp.data, path) == -1) {
		saved = errno;
		goto fail;
	}
	if ((slash = strrchr(path, '/')) == NULL)
		buf_addstr(&dir, ".");
	else if (slash == path)
		buf_addstr(&dir, "/");
	else
		buf_add(&dir, path, (size_t)(slash - path));
	/* The rename must survive a crash: the directory is synced too. */
	if ((dfd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	buf_free(&dir);
	buf_free(&tmp);
	return 0;
fail:
	(void)unlink(tmp.data);
	util_errf(err, errlen, "%s: cannot replace it: %s", path,
	    strerror(saved));
	buf_free(&tmp);
	return -1;
}

/*
 * Takes the cache's lock (PATH.lock), waiting at most secs: the
 * descriptor, -1 if the lock file cannot be made (then there is no
 * locking, and no cache either), or -2 with err after the wait.
 */
static int
lock_cache(const char *path, unsigned secs, char *err, size_t errlen)
{
	struct timespec nap = { 0, 50 * 1000000 };
	struct buf lp = BUF_INIT;
	unsigned long tries;
	int fd;

	buf_printf(&lp, "%s.lock", path);
	fd = open(lp.data, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	buf_free(&lp);
	if (fd == -1)
		return -1;
	for (tries = 0; tries <= (unsigned long)secs * 20; tries++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	close(fd);
	util_errf(err, errlen, "token cache %s: another process held its "
	    "lock for %u s", path, secs);
	return -2;
}

/* RFC 6750 b64token, loosely: visible ASCII, no spaces, bounded. */
static bool
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/*
 * expires_in: a JSON number or a string of digits (some servers quote
 * it), in seconds; absent is DEFAULT_LIFE. 0, or -1 if malformed.
 */
static int
parse_expires(const struct json_field *f, long long *secs)
{
	const char *s = f->value.data;
	long long v = 0;
	size_t i;

	if (f->type == JSON_NONE || f->type == JSON_NULL) {
		*secs = DEFAULT_LIFE;
		return 0;
	}
	if (f->type != JSON_NUMBER && f->type != JSON_STRING)
		return -1;
	if (f->value.len == 0 || f->value.len > 12)
		return -1;
	for (i = 0; i < f->value.len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*secs = v > LIFE_MAX ? LIFE_MAX : v;
	return 0;
}

/* ": error: description" from the server's error fields, printable. */
static void
server_error(struct buf *b, const struct json_field *f)
{
	if (f[F_ERROR].type == JSON_STRING && f[F_ERROR].value.len > 0) {
		buf_addstr(b, ": ");
		util_printable(b, f[F_ERROR].value.data,
		    f[F_ERROR].value.len > 64 ? 64 : f[F_ERROR].value.len);
	}
	if (f[F_DESC].type == JSON_STRING && f[F_DESC].value.len > 0) {
		buf_addstr(b, ": ");
		util_printable(b, f[F_DESC].value.data,
		    f[F_DESC].value.len > DESC_MAX ? DESC_MAX :
		    f[F_DESC].value.len);
	}
}

/*
 * One request to the endpoint: the access token into token and its
 * lifetime into *life. A refresh token the server rotated is saved; if
 * that fails, warn says so (the token is still good). 0, or -1 with err
 * (without the "token endpoint URL: " prefix).
 */
static int
fetch(const struct oauth_cfg *cfg, bool *later, struct buf *token,
    long long *life, char *err, size_t errlen, char *warn, size_t warnlen)
{
	struct json_field f[F_N] = {
		[F_ACCESS] = { "access_token", JSON_NONE, BUF_INIT },
		[F_TYPE] = { "token_type", JSON_NONE, BUF_INIT },
		[F_EXPIRES] = { "expires_in", JSON_NONE, BUF_INIT },
		[F_REFRESH] = { "refresh_token", JSON_NONE, BUF_INIT },
		[F_ERROR] = { "error", JSON_NONE, BUF_INIT },
		[F_DESC] = { "error_description", JSON_NONE, BUF_INIT },
	};
	struct buf secret = BUF_INIT, refresh = BUF_INIT, form = BUF_INIT;
	struct buf e = BUF_INIT, saved = BUF_INIT;
	struct http_response r;
	struct http_url u;
	struct ptls *t = NULL;
	struct secrets sec;
	char jerr[128], werr[PATH_MAX + 128];
	size_t i;
	int rv = -1, jrv;
	unsigned timeout = cfg->timeout > 0 ? cfg->timeout : DEFAULT_TIMEOUT;

	http_response_init(&r);
	memset(&u, 0, sizeof(u));
	if (http_url_parse(cfg->token_url, &u, err, errlen) == -1)
		goto done;
	if (cfg->client_secret_file != NULL && read_secret("client secret "
	    "file", cfg->client_secret_file, &secret, err, errlen) == -1)
		goto done;
	if (cfg->refresh_token_file != NULL && read_secret("refresh token "
	    "file", cfg->refresh_token_file, &refresh, err, errlen) == -1)
		goto done;
	if (cfg->refresh_token_file == NULL && cfg->client_secret_file == NULL) {
		util_errf(err, errlen, "the client-credentials grant needs a "
		    "client secret file");
		goto done;
	}

	/* Sized for the worst case: every byte percent-encoded. */
	buf_grow(&form, 3 * (secret.len + refresh.len + strlen(cfg->client_id)
	    + (cfg->scope != NULL ? strlen(cfg->scope) : 0)) + 128);
	if (cfg->refresh_token_file != NULL) {
		http_form_add(&form, "grant_type", "refresh_token");
		http_form_add(&form, "refresh_token", refresh.data);
	} else
		http_form_add(&form, "grant_type", "client_credentials");
	http_form_add(&form, "client_id", cfg->client_id);
	if (cfg->client_secret_file != NULL)
		http_form_add(&form, "client_secret", secret.data);
	if (cfg->scope != NULL && cfg->scope[0] != '\0')
		http_form_add(&form, "scope", cfg->scope);

	if ((t = ptls_new(cfg->verify, cfg->ca_file, err, errlen)) == NULL)
		goto done;
	if (http_post(&u, t, "application/x-www-form-urlencoded", form.data,
	    form.len, (int)(timeout > INT_MAX / 1000 ? INT_MAX : timeout * 1000),
	    &r, err, errlen) == -1) {
		*later = true;	/* unreachable, slow, TLS: may pass */
		goto done;
	}

	jrv = json_object_get(r.body.data, r.body.len, f, F_N, jerr,
	    sizeof(jerr));
	if (r.status != 200 || (jrv == 0 && f[F_ERROR].type != JSON_NONE)) {
		*later = r.status >= 500 || r.status == 429;
		buf_printf(&e, "HTTP %d", r.status);
		if (jrv == 0 && (f[F_ERROR].type == JSON_STRING ||
		    f[F_DESC].type == JSON_STRING))
			server_error(&e, f);
		else if (r.reason[0] != '\0')
			buf_printf(&e, " %s", r.reason);
		util_errf(err, errlen, "%s", e.data);
		goto done;
	}
	if (jrv == -1) {
		util_errf(err, errlen, "HTTP 200 but the body is not JSON "
		    "(%s, %s)", r.ctype[0] != '\0' ? r.ctype : "no type",
		    jerr);
		goto done;
	}
	if (f[F_ACCESS].type != JSON_STRING) {
		util_errf(err, errlen, "HTTP 200 without an access_token");
		goto done;
	}
	if (!token_ok(f[F_ACCESS].value.data, f[F_ACCESS].value.len)) {
		util_errf(err, errlen, "the access_token is empty, too long "
		    "or holds characters a token cannot have");
		goto done;
	}
	if (f[F_TYPE].type != JSON_NONE && (f[F_TYPE].type != JSON_STRING ||
	    strcasecmp(f[F_TYPE].value.data, "bearer") != 0)) {
		buf_addstr(&e, "token_type ");
		util_printable(&e, f[F_TYPE].value.data,
		    f[F_TYPE].value.len > 32 ? 32 : f[F_TYPE].value.len);
		util_errf(err, errlen, "%s is not Bearer", e.data);
		goto done;
	}
	if (parse_expires(&f[F_EXPIRES], life) == -1) {
		util_errf(err, errlen, "expires_in is not a number of seconds");
		goto done;
	}

	/* A rotated refresh token replaces the old one before anything else. */
	if (cfg->refresh_token_file != NULL &&
	    f[F_REFRESH].type == JSON_STRING &&
	    strcmp(f[F_REFRESH].value.data, refresh.data) != 0) {
		if (!token_ok(f[F_REFRESH].value.data, f[F_REFRESH].value.len))
			util_errf(warn, warnlen, "the server sent an unusable "
			    "new refresh token; keeping the old one");
		else {
			buf_grow(&saved, f[F_REFRESH].value.len + 1);
			buf_add(&saved, f[F_REFRESH].value.data,
			    f[F_REFRESH].value.len);
			buf_addch(&saved, '\n');
			if (write_atomic(cfg->refresh_token_file, saved.data,
			    saved.len, werr, sizeof(werr)) == -1)
				util_errf(warn, warnlen, "the rotated refresh "
				    "token could not be saved: refresh token "
				    "file %s", werr);
		}
	}
	buf_reset(token);
	buf_grow(token, f[F_ACCESS].value.len);
	buf_add(token, f[F_ACCESS].value.data, f[F_ACCESS].value.len);
	rv = 0;
done:
	sec.s[0] = secret.data;
	sec.s[1] = refresh.data;
	sec.s[2] = f[F_ACCESS].value.data;
	sec.s[3] = f[F_REFRESH].value.data;
	mask_all(err, &sec);
	mask_all(warn, &sec);
	for (i = 0; i < F_N; i++)
		wipe(&f[i].value);
	wipe(&secret);
	wipe(&refresh);
	wipe(&form);
	wipe(&saved);
	buf_free(&e);
	http_response_free(&r);
	http_url_free(&u);
	ptls_free(t);
	return rv;
}

int
oauth_token(const struct oauth_cfg *cfg, int flags, struct buf *token,
    char *err, size_t errlen)
{
	struct buf refused = BUF_INIT, entry = BUF_INIT;
	char key[KEY_HEX], ferr[512], warn[PATH_MAX + 256];
	char cwarn[PATH_MAX + 128];
	time_t obtained, expires, now;
	long long life = 0;
	int lockfd = -1, rv = -1;
	unsigned timeout = cfg->timeout > 0 ? cfg->timeout : DEFAULT_TIMEOUT;
	bool later = false;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ferr[0] = warn[0] = cwarn[0] = '\0';
	buf_reset(token);
	if (cfg->token_url == NULL || cfg->token_url[0] == '\0' ||
	    cfg->client_id == NULL || cfg->client_id[0] == '\0') {
		util_errf(err, errlen, "token endpoint: the URL and the client "
		    "ID are required");
		return -1;
	}
	if (cfg->cache_path != NULL) {
		cache_key(cfg, key);
		if (cache_read(cfg->cache_path, key, token, &obtained,
		    &expires) == 0) {
			if (!(flags & OAUTH_FORCE_REFRESH) &&
			    oauth_fresh(obtained, expires, time(NULL)))
				return 0;
			/* Remember the refused one: only another will do. */
			buf_grow(&refused, token->len);
			buf_add(&refused, token->data, token->len);
		}
		lockfd = lock_cache(cfg->cache_path, timeout, ferr,
		    sizeof(ferr));
		if (lockfd == -2) {
			util_errf(err, errlen, "%s", ferr);
			later = true;
			goto done;
		}
		/* Another worker may have fetched one while we waited. */
		if (token->cap > 0)
			OPENSSL_cleanse(token->data, token->cap);
		if (cache_read(cfg->cache_path, key, token, &obtained,
		    &expires) == 0 && oauth_fresh(obtained, expires,
		    time(NULL)) && (!(flags & OAUTH_FORCE_REFRESH) ||
		    refused.len == 0 || token->len != refused.len ||
		    memcmp(token->data, refused.data, refused.len) != 0)) {
			rv = 0;
			goto done;
		}
	}
	if (token->cap > 0)
		OPENSSL_cleanse(token->data, token->cap);
	buf_reset(token);

	now = time(NULL);
	if (fetch(cfg, &later, token, &life, ferr, sizeof(ferr), warn,
	    sizeof(warn)) == -1) {
		util_errf(err, errlen, "token endpoint %s: %s", cfg->token_url,
		    ferr);
		goto done;
	}
	rv = 0;
	if (cfg->cache_path != NULL) {
		buf_grow(&entry, token->len + 256);
		buf_printf(&entry, "postern-oauth-cache 1\nkey %s\n"
		    "obtained %lld\nexpires %lld\ntoken ", key, (long long)now,
		    (long long)now + life);
		buf_add(&entry, token->data, token->len);
		buf_addstr(&entry, "\nend\n");
		if (write_atomic(cfg->cache_path, entry.data, entry.len, cwarn,
		    sizeof(cwarn)) == -1)
			util_errf(warn[0] != '\0' ? NULL : warn, sizeof(warn),
			    "token cache %s", cwarn);
	}
	if (warn[0] != '\0')
		util_errf(err, errlen, "token endpoint %s: %s", cfg->token_url,
		    warn);
done:
	if (lockfd >= 0)
		close(lockfd);	/* releases the lock */
	if (rv == -1 && token->cap > 0) {
		OPENSSL_cleanse(token->data, token->cap);
		buf_reset(token);
	}
	wipe(&refused);
	wipe(&entry);
	if (rv == -1)
		errno = later ? EAGAIN : EINVAL;
	return rv;
}
