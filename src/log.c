/*
 * log.c: one-line diagnostics on stderr (see log.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char *progname = "postern";
static bool mail_stderr;
static bool mail_open;
static bool mail_debug;
static void (*atfatal)(void);

static void	vlog(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

void
log_init(const char *name)
{
	progname = name;
}

const char *
log_progname(void)
{
	return progname;
}

void
log_set_atfatal(void (*fn)(void))
{
	atfatal = fn;
}

/* errnum < 0: no errno text. The line is built first, written once. */
static void
vlog(int errnum, const char *fmt, va_list ap)
{
	char msg[2048];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		msg[0] = '\0';
	if (errnum >= 0)
		fprintf(stderr, "%s: %s: %s\n", progname, msg, strerror(errnum));
	else
		fprintf(stderr, "%s: %s\n", progname, msg);
	fflush(stderr);
}

void
log_mail_open(bool to_stderr)
{
	mail_stderr = to_stderr;
	if (!mail_open) {
		openlog("postern", LOG_PID | LOG_NDELAY, LOG_MAIL);
		mail_open = true;
	}
}

void
log_mail_debug(bool on)
{
	mail_debug = on;
}

bool
log_mail_debugging(void)
{
	return mail_debug && mail_open;
}

void
log_mail(int priority, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	/* LOG_DEBUG: syslog only, and only with log_level debug */
	if (priority == LOG_DEBUG && (!mail_debug || !mail_open))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (mail_open)
		syslog(priority, "%s", msg);
	if (mail_stderr && priority != LOG_DEBUG) {
		fprintf(stderr, "%s: %s\n", progname, msg);
		fflush(stderr);
	}
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(-1, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(-1, fmt, ap);
	va_end(ap);
}

void
fatal(int ex, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (atfatal != NULL)
		atfatal();
	va_start(ap, fmt);
	vlog(saved, fmt, ap);
	va_end(ap);
	exit(ex);
}

void
fatalx(int ex, const char *fmt, ...)
{
	va_list ap;

	if (atfatal != NULL)
		atfatal();
	va_start(ap, fmt);
	vlog(-1, fmt, ap);
	va_end(ap);
	exit(ex);
}

void
bug(const char *what)
{
	fprintf(stderr, "%s: internal error: %s\n", progname, what);
	abort();
}
