/*
 * util.c: host and domain names, randomness, directory fsync, printable
 * text (see util.h). Nothing here touches the spool or the network; the
 * FQDN lookup reads the resolver's configuration only when the host name
 * has no dot, so enqueue stays fast on a well-configured host.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <strings.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "log.h"
#include "util.h"

static bool	valid_hostname(const char *);

static bool
valid_hostname(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) > 253)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c == '-' || c == '.' || c == '_' ||
		    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

const char *
util_fqdn(void)
{
	static char fqdn[256];
	struct addrinfo hints, *res = NULL;
	char host[256];

	if (fqdn[0] != '\0')
		return fqdn;
	if (gethostname(host, sizeof(host)) == -1 || !valid_hostname(host))
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	strlcpy(fqdn, host, sizeof(fqdn));
	if (strchr(host, '.') != NULL)
		return fqdn;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && valid_hostname(res->ai_canonname) &&
	    strlen(res->ai_canonname) < sizeof(fqdn))
		strlcpy(fqdn, res->ai_canonname, sizeof(fqdn));
	if (res != NULL)
		freeaddrinfo(res);
	return fqdn;
}

const char *
util_domain(const struct conf *c)
{
	static char domain[256];
	char line[512];
	FILE *fp;
	size_t n;

	if (c != NULL && c->domain != NULL)
		return c->domain;
	if (domain[0] != '\0')
		return domain;
	if ((fp = fopen("/etc/mailname", "r")) != NULL) {
		if (fgets(line, sizeof(line), fp) != NULL) {
			n = strcspn(line, " \t\r\n");
			line[n] = '\0';
			if (n < sizeof(domain) && valid_hostname(line))
				strlcpy(domain, line, sizeof(domain));
		}
		fclose(fp);
	}
	if (domain[0] == '\0')
		strlcpy(domain, util_fqdn(), sizeof(domain));
	return domain;
}

void
util_random(void *p, size_t n)
{
	unsigned char *u = p;
	ssize_t r;
	int fd;

#ifdef HAVE_GETRANDOM
	while (n > 0) {
		r = getrandom(u, n, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		u += r;
		n -= (size_t)r;
	}
	if (n == 0)
		return;
#endif
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
		fatal(EX_OSERR, "/dev/urandom");
	while (n > 0) {
		r = read(fd, u, n);
		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			fatal(EX_OSERR, "/dev/urandom");
		}
		u += r;
		n -= (size_t)r;
	}
	close(fd);
}

int
util_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

bool
util_has_ctl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return true;
	return false;
}

void
util_printable(struct buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k, need;

	while (i < len) {
		if (u[i] < 0x20 || u[i] == 0x7f) {
			buf_addch(b, '?');
			i++;
			continue;
		}
		if (u[i] < 0x80) {
			buf_addch(b, u[i++]);
			continue;
		}
		if (u[i] >= 0xc2 && u[i] <= 0xdf)
			need = 1;
		else if (u[i] >= 0xe0 && u[i] <= 0xef)
			need = 2;
		else if (u[i] >= 0xf0 && u[i] <= 0xf4)
			need = 3;
		else {
			buf_addch(b, '?');
			i++;
			continue;
		}
		for (k = 1; k <= need; k++)
			if (i + k >= len || (u[i + k] & 0xc0) != 0x80)
				break;
		if (k <= need) {
			buf_addch(b, '?');
			i++;
			continue;
		}
		buf_add(b, s + i, need + 1);
		i += need + 1;
	}
}

void
util_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

bool
util_word_in_list(const char *list, const char *w, size_t n)
{
	const char *s = list, *t;

	if (n == 0)
		return false;
	while (*s != '\0') {
		while (*s == ' ' || *s == '\t')
			s++;
		t = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if ((size_t)(s - t) == n && strncasecmp(t, w, n) == 0)
			return true;
	}
	return false;
}

long long
util_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The caller's name and GECOS field, looked up once. */
static char	pw_name[64];
static char	*pw_gecos;

static void
pw_lookup(void)
{
	struct passwd *pw;

	if (pw_name[0] != '\0')
		return;
	pw = getpwuid(getuid());
	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0' &&
	    strlen(pw->pw_name) < sizeof(pw_name) &&
	    !util_has_ctl(pw->pw_name, strlen(pw->pw_name)) &&
	    strpbrk(pw->pw_name, " \"\\<>()[],;:@") == NULL)
		strlcpy(pw_name, pw->pw_name, sizeof(pw_name));
	else
		snprintf(pw_name, sizeof(pw_name), "uid%lu",
		    (unsigned long)getuid());
	if (pw != NULL && pw->pw_gecos != NULL)
		pw_gecos = xstrdup(pw->pw_gecos);
}

const char *
util_username(void)
{
	pw_lookup();
	return pw_name;
}

const char *
util_gecos(void)
{
	pw_lookup();
	return pw_gecos;
}
