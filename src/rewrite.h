/*
 * rewrite.h: sender rewriting for smarthosts that accept one sender only.
 *
 * Many submission servers (Microsoft 365, Gmail, most ISPs) refuse or
 * rewrite mail whose envelope sender or From: is not the authenticated
 * account. With rewrite_sender ADDR set, postern makes such mail
 * acceptable before it is queued:
 *
 *  - the envelope sender, when rewrite_scope covers it, becomes ADDR;
 *    the null sender <> is never rewritten;
 *  - with rewrite_from yes (the default), each From: field whose address
 *    rewrite_scope covers becomes "From: PHRASE <ADDR>", keeping the
 *    original display name (or the "(Full Name)" comment of the old
 *    "user (Full Name)" form); the original field is kept, word for word,
 *    as X-Original-From: right after it; a Sender: field is renamed
 *    X-Original-Sender: (the new From: holds one mailbox, so Sender: is
 *    not needed, and a foreign one would be refused the same way); and
 *    when the message has no Reply-To: and the original address can be
 *    reached from elsewhere (it has a domain that is not one of this
 *    host's local_domains), Reply-To: is added with the original From:
 *    value, so replies still reach the author.
 *
 * rewrite_scope local covers a sender without a domain, at the configured
 * domain (util_domain) or at one of local_domains (alias_is_local); all
 * covers every sender. A From: already equal to ADDR is left alone.
 */
#ifndef PST_REWRITE_H
#define PST_REWRITE_H

#include <stdbool.h>

struct conf;
struct headers;

/* True if rewrite_scope covers addr (an addr-spec; "" never). */
bool	 rewrite_in_scope(const struct conf *c, const char *addr);

/*
 * The envelope sender to queue for sender (qualified; "" for <>): a copy
 * of c->rewrite_sender when it is set and rewrite_scope covers sender,
 * else a copy of sender. Caller frees; sender is left as it is, for the
 * From: a message without one is given.
 */
char	*rewrite_envelope(const struct conf *c, const char *sender);

/*
 * Qualifies header addresses, as Postfix does for local submissions: in
 * the address fields (From:, Sender:, Reply-To:, To:, Cc:, Bcc:, their
 * Resent- forms, Errors-To: and the like), "@domain" (util_domain) is
 * inserted after each address without one, so that cron's "To: root" and
 * "From: root (Cron Daemon)" reach the smarthost as "To: root@domain" and
 * "From: root@domain (Cron Daemon)". Everything else in the field stays
 * byte for byte; a field that does not parse is left alone. Returns true
 * if h changed.
 */
bool	 rewrite_qualify(const struct conf *c, struct headers *h);

/*
 * Rewrites the From: fields of h as described above, when rewrite_sender
 * is set and rewrite_from is yes, then qualifies header addresses
 * (rewrite_qualify; X-Original-From: keeps the From: as written); call it
 * once the header section is complete (after a missing From: was added).
 * Returns true if h changed.
 */
bool	 rewrite_headers(const struct conf *c, struct headers *h);

#endif
