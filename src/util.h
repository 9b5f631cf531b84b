/*
 * util.h: small helpers shared by the programs: host and domain names,
 * randomness, durable directory updates, printable text for logs.
 */
#ifndef PST_UTIL_H
#define PST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct buf;
struct conf;

/* The host's fully qualified name (cached; borrowed). Never NULL. */
const char	*util_fqdn(void);

/*
 * The domain for unqualified addresses: conf's domain, else the first line
 * of /etc/mailname, else util_fqdn(). Cached; borrowed.
 */
const char	*util_domain(const struct conf *);

/* Fills p with n unpredictable bytes (getrandom, else /dev/urandom). */
void		 util_random(void *p, size_t n);

/* write() all of p, retrying on EINTR and short writes; 0 or -1/errno. */
int		 util_write_all(int fd, const void *p, size_t n);

/* True if s[0..len) holds any byte < 0x20 or 0x7f. */
bool		 util_has_ctl(const char *s, size_t len);

/*
 * Appends s[0..len) to b with every control byte, and every byte of a
 * non-UTF-8 sequence, replaced by '?': safe to print or log.
 */
void		 util_printable(struct buf *b, const char *s, size_t len);

/*
 * snprintf into err, a caller's one-line error buffer; err may be NULL
 * and truncation is acceptable.
 */
void		 util_errf(char *err, size_t errlen, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * True if the blank-separated list holds the word w[0..n) (ASCII case
 * ignored); an empty word is never in it.
 */
bool		 util_word_in_list(const char *list, const char *w, size_t n);

/* Milliseconds of CLOCK_MONOTONIC, for deadlines. */
long long	 util_now_ms(void);

/* The login name of the real uid (borrowed), or "uidN" if unknown. */
const char	*util_username(void);
/*
 * The real uid's GECOS field as the password database has it (borrowed),
 * or NULL. One lookup serves both functions.
 */
const char	*util_gecos(void);

#endif
