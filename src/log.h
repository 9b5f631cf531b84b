/*
 * log.h: diagnostics.
 *
 * Every message is one line on stderr, "PROGNAME: text". log_warn appends
 * strerror(errno), log_warnx does not. fatal/fatalx print and exit with the
 * given sysexits code: they are for the environment (disk, memory, a
 * missing file). bug() aborts on a broken internal invariant.
 * Callers never pass secrets here.
 */
#ifndef PST_LOG_H
#define PST_LOG_H

#include <stdbool.h>

void	log_init(const char *progname);
const char *log_progname(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(int ex, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	fatalx(int ex, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	bug(const char *) __attribute__((noreturn));

/*
 * The delivery log: one line per event to syslog (facility mail), as
 * Postfix does; with log_mail_stderr also to stderr (postern -v).
 * Callers pass printable text and never a secret.
 */
void	log_mail_open(bool to_stderr);
/*
 * log_level debug: lines logged at LOG_DEBUG (the SMTP dialogue, with
 * credentials redacted) go to syslog; otherwise they are dropped. They
 * never go to stderr, where -v shows the dialogue itself.
 */
void	log_mail_debug(bool on);
bool	log_mail_debugging(void);	/* on, and the log is open */
void	log_mail(int priority, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Optional cleanup run by fatal()/fatalx() before exiting (one slot). */
void	log_set_atfatal(void (*)(void));

#endif
