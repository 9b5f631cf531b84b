/*
 * bounce.c: delivery status notifications (RFC 3464, RFC 6522), queued
 * with the null sender so that a bounce can never bounce.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "envelope.h"
#include "rewrite.h"
#include "rfc5322.h"
#include "spool.h"
#include "util.h"

/* The original header section is copied up to this size. */
#define HEADERS_MAX	(256 * 1024)

static void	status_of(const char *, char *, size_t);
static bool	smtp_reply_text(const char *);
static int	copy_headers(struct spool_file *, int, const struct envelope *);

/*
 * True for a reason that is a server's reply ("550 5.1.1 ..."), false for
 * one postern wrote itself, which starts with a status and no reply code
 * ("4.4.7 message expired ...", "5.3.4 message size ...").
 */
static bool
smtp_reply_text(const char *r)
{
	return r[0] >= '2' && r[0] <= '5' && r[1] >= '0' && r[1] <= '9' &&
	    r[2] >= '0' && r[2] <= '9' && (r[3] == ' ' || r[3] == '\0');
}

/* "550 5.1.1 text" gives 5.1.1; without an enhanced code, X.0.0. */
static void
status_of(const char *reply, char *out, size_t outlen)
{
	const char *p = reply;
	size_t n;

	if (strlen(p) > 4 && p[3] == ' ' && (p[4] == '4' || p[4] == '5') &&
	    p[5] == '.') {
		n = strspn(p + 4, "0123456789.");
		if (n >= 5 && n < outlen) {
			memcpy(out, p + 4, n);
			out[n] = '\0';
			if (out[0] == '4')
				out[0] = '5';	/* failed for good now */
			return;
		}
	}
	if ((p[0] == '4' || p[0] == '5') && p[1] == '.' &&
	    strspn(p, "0123456789.") >= 5) {
		n = strspn(p, "0123456789.");
		snprintf(out, outlen, "5%.*s", (int)(n - 1), p + 1);
		return;
	}
	snprintf(out, outlen, "5.0.0");
}

/* The original header section, up to its blank line (or the cap). */
static int
copy_headers(struct spool_file *f, int fd, const struct envelope *e)
{
	char buf[8192];
	off_t off = e->body_offset, end = e->body_offset + e->size;
	size_t copied = 0;
	bool bol = true;
	ssize_t n, i;

	while (off < end && copied < HEADERS_MAX) {
		n = pread(fd, buf, sizeof(buf), off);
		if (n <= 0)
			return n == 0 ? 0 : -1;
		if (off + n > end)
			n = (ssize_t)(end - off);
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n' && bol)
				return spool_write(f, buf, (size_t)i);
			bol = buf[i] == '\n';
		}
		if (spool_write(f, buf, (size_t)n) == -1)
			return -1;
		copied += (size_t)n;
		off += n;
	}
	return 0;
}

int
bounce_queue(const struct conf *c, struct spool *sp, const char *qid,
    int fd, const struct envelope *e, const size_t *failed, size_t nfailed,
    const char *relay, char *bqid)
{
	struct envelope b;
	struct spool_file f;
	struct buf m = BUF_INIT, daemon = BUF_INIT;
	char date[64], arrival[64], status[16], boundary[64];
	const char *domain = util_domain(c);
	const char *mta = c->helo_name != NULL ? c->helo_name : util_fqdn();
	unsigned int r;
	size_t i;
	int saved;

	memset(&b, 0, sizeof(b));
	b.arrival = time(NULL);
	b.sender = xstrdup("");
	/* through the smarthost that knows the sender */
	if (c->account != NULL)
		b.account = xstrdup(c->account);
	envelope_add_rcpt(&b, e->sender);
	if (spool_create(sp, &f, &b) == -1) {
		saved = errno;
		envelope_free(&b);
		errno = saved;
		return -1;
	}
	rfc5322_date(b.arrival, date, sizeof(date));
	rfc5322_date(e->arrival, arrival, sizeof(arrival));
	util_random(&r, sizeof(r));
	snprintf(boundary, sizeof(boundary), "%s.%08x/%s", f.qid, r, mta);

	/*
	 * A smarthost that takes one sender only takes the bounce from it
	 * too: with rewrite_sender and rewrite_from, From: is that address
	 * when rewrite_scope covers MAILER-DAEMON@domain (always, unless
	 * the domain is not local). The envelope sender stays <>.
	 */
	buf_printf(&daemon, "MAILER-DAEMON@%s", domain);
	if (c->rewrite_sender != NULL && c->rewrite_from &&
	    rewrite_in_scope(c, daemon.data))
		buf_printf(&m, "From: Mail Delivery System <%s>\n",
		    c->rewrite_sender);
	else
		buf_printf(&m, "From: Mail Delivery System <%s>\n",
		    daemon.data);
	buf_free(&daemon);
	buf_printf(&m, "To: <%s>\n", e->sender);
	buf_addstr(&m, "Subject: Undelivered Mail Returned to Sender\n");
	buf_printf(&m, "Date: %s\n", date);
	buf_printf(&m, "Message-ID: <%s.%08x@%s>\n", f.qid, r, domain);
	buf_addstr(&m, "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n");
	buf_printf(&m, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\n\tboundary=\"%s\"\n\n", boundary);
	buf_addstr(&m, "This is a MIME-encapsulated message.\n\n");

	buf_printf(&m, "--%s\nContent-Description: Notification\n"
	    "Content-Type: text/plain; charset=utf-8\n\n", boundary);
	buf_printf(&m, "This is the mail relay on %s.\n\n"
	    "Your message (queue ID %s, received %s) could not be\n"
	    "delivered to the following recipient%s. This is a permanent\n"
	    "error; the message will not be retried.\n\n", mta, qid, arrival,
	    nfailed == 1 ? "" : "s");
	for (i = 0; i < nfailed; i++) {
		const struct rcpt *rc = &e->rcpts[failed[i]];

		buf_printf(&m, "<%s>: ", rc->addr);
		util_printable(&m, rc->reason, strlen(rc->reason));
		buf_addstr(&m, "\n");
	}

	buf_printf(&m, "\n--%s\nContent-Description: Delivery report\n"
	    "Content-Type: message/delivery-status\n\n", boundary);
	buf_printf(&m, "Reporting-MTA: dns; %s\nX-Postern-Queue-ID: %s\n"
	    "Arrival-Date: %s\n", mta, qid, arrival);
	for (i = 0; i < nfailed; i++) {
		const struct rcpt *rc = &e->rcpts[failed[i]];

		status_of(rc->reason, status, sizeof(status));
		buf_printf(&m, "\nFinal-Recipient: rfc822; %s\n"
		    "Action: failed\nStatus: %s\n", rc->addr, status);
		/* RFC 3464 2.3.5: the host name, not "host[addr]:port" */
		if (relay != NULL && relay[0] != '\0' && smtp_reply_text(
		    rc->reason))
			buf_printf(&m, "Remote-MTA: dns; %.*s\n",
			    (int)strcspn(relay, "[:"), relay);
		/* a server's reply is an smtp diagnostic; our own reasons
		   (expiry, SIZE, SMTPUTF8) are not */
		buf_addstr(&m, smtp_reply_text(rc->reason) ?
		    "Diagnostic-Code: smtp; " : "Diagnostic-Code: X-Postern; ");
		util_printable(&m, rc->reason, strlen(rc->reason));
		buf_addstr(&m, "\n");
	}
	buf_printf(&m, "\n--%s\nContent-Description: Undelivered Message "
	    "Headers\nContent-Type: text/rfc822-headers\n\n", boundary);
	if (spool_write(&f, m.data, m.len) == -1 ||
	    copy_headers(&f, fd, e) == -1)
		goto fail;
	buf_reset(&m);
	buf_printf(&m, "\n--%s--\n", boundary);
	if (spool_write(&f, m.data, m.len) == -1 || spool_commit(sp, &f) == -1)
		goto fail;
	memcpy(bqid, f.qid, QID_LEN + 1);
	buf_free(&m);
	envelope_free(&b);
	return 0;
fail:
	saved = errno;
	spool_abort(sp, &f);
	buf_free(&m);
	envelope_free(&b);
	errno = saved;
	return -1;
}
