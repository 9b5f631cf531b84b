/*
 * smtp_reply.h: the SMTP reply parser and the EHLO extension list.
 *
 * Pure: bytes in, replies out; it never reads or writes a socket. It
 * accepts exactly RFC 5321 4.2 replies: lines "CODE-text" CRLF ... ending
 * with "CODE text" CRLF (or "CODE" CRLF), the code three digits 2xx-5xx
 * and the same on every line. An enhanced status code (RFC 3463
 * "class.subject.detail") at the start of the text is split out. Bare LF
 * line ends are tolerated (a common server bug); anything else is an error.
 *
 * Limits bound what a hostile server can make us hold: SMTP_LINE_MAX bytes
 * per line, SMTP_REPLY_LINES_MAX lines and SMTP_REPLY_MAX bytes per reply.
 */
#ifndef PST_SMTP_REPLY_H
#define PST_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SMTP_LINE_MAX		4096
#define SMTP_REPLY_LINES_MAX	256
#define SMTP_REPLY_MAX		(64 * 1024)

struct smtp_reply {
	int		 code;		/* 200..599 */
	char		 enhanced[16];	/* "5.1.1", or "" when absent */
	size_t		 nlines;
	struct buf	 text;		/* each line's text after the code, the
					   separator and the enhanced code (if
					   the server sent one on that line),
					   lines joined by '\n'; never holds
					   CR or NUL */
};

struct smtp_reply_parser {
	struct buf	 line;		/* the incomplete current line */
	struct smtp_reply cur;		/* the reply being assembled */
	size_t		 bytes;		/* bytes of the current reply */
};

enum rp_status {
	RP_MORE,	/* every byte consumed; no complete reply yet */
	RP_REPLY,	/* *out holds a complete reply (caller frees) */
	RP_ERROR,	/* protocol violation or limit; err says which */
};

void	smtp_reply_parser_init(struct smtp_reply_parser *);
/* NULL-safe; frees what the parser holds. */
void	smtp_reply_parser_free(struct smtp_reply_parser *);

/*
 * Feeds p[0..len). *consumed receives how many bytes were used: on
 * RP_REPLY the bytes after the reply are not consumed (feed them again:
 * they belong to the next reply, e.g. with PIPELINING); on RP_MORE all
 * were. After RP_ERROR the parser must be re-initialised.
 */
enum rp_status smtp_reply_feed(struct smtp_reply_parser *, const char *p,
	    size_t len, size_t *consumed, struct smtp_reply *out, char *err,
	    size_t errlen);

void	smtp_reply_init(struct smtp_reply *);
/* NULL-safe. */
void	smtp_reply_free(struct smtp_reply *);

/*
 * One line for logs and mailq: "550 5.1.1 text of the first line[; more]",
 * control characters and invalid UTF-8 replaced, at most 400 bytes.
 */
void	smtp_reply_summary(const struct smtp_reply *, struct buf *out);

/* What an EHLO reply offers (RFC 5321 4.1.1.1 and the extensions' RFCs). */
struct smtp_ext {
	bool		 pipelining;	/* RFC 2920 */
	bool		 size;		/* RFC 1870 */
	unsigned long long size_max;	/* 0: no limit announced */
	bool		 eightbitmime;	/* RFC 6152 */
	bool		 smtputf8;	/* RFC 6531 */
	bool		 enhancedstatuscodes; /* RFC 2034 */
	bool		 starttls;	/* RFC 3207 */
	bool		 dsn;		/* RFC 3461 */
	char		 auth[512];	/* mechanisms, upper case, space
					   separated; "" if no AUTH */
};

/*
 * Fills ext from a 250 EHLO reply (the first line is the greeting and is
 * skipped). Keywords are case-insensitive; both "AUTH mech ..." and the
 * old "AUTH=mech ..." add mechanisms; unknown keywords are ignored.
 */
void	smtp_ext_parse(const struct smtp_reply *, struct smtp_ext *ext);

/* True if the space-separated list (as in ext->auth) holds mech. */
bool	smtp_ext_has_auth(const struct smtp_ext *, const char *mech);

#endif
