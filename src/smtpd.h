/*
 * smtpd.h: the server side of an SMTP dialogue, for sendmail -bs.
 *
 * smtpd_run() speaks RFC 5321 SMTP with the PIPELINING, 8BITMIME,
 * ENHANCEDSTATUSCODES and SMTPUTF8 extensions over two file descriptors
 * (standard input and output for sendmail -bs). It checks the commands,
 * their order and the envelope addresses, and hands each message to the
 * caller's submit function with the reader positioned at the start of
 * the DATA section. It knows nothing of the queue.
 *
 * Limits: a command line holds at most SMTPD_LINE_MAX bytes before its
 * line end; a transaction has at most SMTPD_MAX_RCPTS distinct
 * recipients. The message itself is not limited here.
 */
#ifndef PST_SMTPD_H
#define PST_SMTPD_H

#include <stdbool.h>
#include <stddef.h>

struct reader;

#define SMTPD_LINE_MAX		998	/* 1000 with CRLF */
#define SMTPD_MAX_RCPTS		1000
#define SMTPD_REPLY_MAX		512	/* a reply line from submit() */

/* One transaction, borrowed by submit(). */
struct smtpd_txn {
	const char	 *sender;	/* qualified; "" is the null sender */
	char		**rcpts;	/* qualified, no duplicates, >= 1 */
	size_t		  nrcpts;
	bool		  body_8bit;	/* BODY=8BITMIME was given */
	bool		  smtputf8;	/* SMTPUTF8 was given */
};

struct smtpd_params {
	int		 infd;
	int		 outfd;
	const char	*hostname;	/* in the greeting and the EHLO reply */
	const char	*domain;	/* qualifies local names */
	/*
	 * Reads the message from r up to its end (reader_read and the
	 * intake_ functions; r is in SMTP DATA mode) and stores it. Writes
	 * the reply into reply[0..SMTPD_REPLY_MAX), one line without CRLF:
	 * "250 ..." only once the message is safely stored, else a 4xx or
	 * 5xx reply. It may stop reading early after an error: smtpd_run
	 * discards the rest of the data. If the input failed (r->error or
	 * r->truncated) the reply is not used.
	 */
	void		(*submit)(void *arg, const struct smtpd_txn *,
			    struct reader *r, char *reply);
	void		*arg;
	/*
	 * Seconds to wait for the client's next input (a command, or more
	 * of a message); then the session ends with a 421 reply
	 * (SMTPD_END_TIMEOUT, a message in progress dropped). 0: no limit.
	 */
	unsigned	 timeout;
};

/* How a session ended. */
enum smtpd_end {
	SMTPD_END_QUIT,		/* the client said QUIT */
	SMTPD_END_EOF,		/* the input ended between commands */
	SMTPD_END_DATA_EOF,	/* the input ended inside DATA: dropped */
	SMTPD_END_READ_ERROR,	/* errno in *error */
	SMTPD_END_WRITE_ERROR,	/* errno in *error */
	SMTPD_END_TIMEOUT,	/* no input for timeout seconds */
};

extern const char *const smtpd_end_names[];

/*
 * Runs one session: greeting, commands, messages, until QUIT or the end
 * of the input. Every reply is written (and flushed) before it returns.
 * *error receives the errno of a read or write error, else 0.
 */
enum smtpd_end	smtpd_run(const struct smtpd_params *, int *error);

/*
 * Writes one reply line "CODE TEXT\r\n" to fd, the text made printable
 * and cut to a sane length: for refusing a session before smtpd_run
 * (code "421 4.3.0" and the like). Returns 0, or -1 with errno.
 */
int		smtpd_refuse(int fd, const char *code, const char *text);

#endif
