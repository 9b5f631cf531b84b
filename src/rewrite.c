/*
 * rewrite.c: the envelope sender and From: rewriting of rewrite_sender
 * (see rewrite.h).
 *
 * Everything here is a function of the configuration and its arguments:
 * no I/O but util_domain() and util_fqdn(), which the scope needs and
 * which are cached. Header fields are edited in place, keeping their
 * order, through the public fields of struct headers (raw, rawlen,
 * namelen, valoff, and the bytes total).
 *
 * Promises: the new From: holds only what was configured (an addr-spec
 * conf.c checked) and a display name copied from the original field with
 * its folding undone and its control characters (there are none but TAB
 * after unfolding) made blanks; the original is kept byte for byte, and a
 * kept field whose first line would grow past RFC 5322's 998 bytes is
 * folded right after its name.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "alias.h"
#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "rewrite.h"
#include "rfc5322.h"
#include "util.h"

#define LINE_MAX_5322	998	/* RFC 5322 2.1.1, without CRLF */
#define PHRASE_MAX	256	/* a longer display name is dropped */

static bool	 domain_of(const char *, const char **);
static bool	 is_blank(int);
static void	 phrase_of(const char *, size_t, struct buf *);
static void	 field_set(struct headers *, size_t, const struct buf *,
		    size_t);
static void	 field_insert(struct headers *, size_t, const struct buf *,
		    size_t);
static void	 keep_as(struct buf *, const char *, const struct header *);
static bool	 qualify_field(struct header *, const char *, struct buf *);

/*
 * The fields whose addresses are qualified (RFC 5322 3.6.2, 3.6.3, 3.6.6,
 * and the reply and notification fields mail programs read).
 */
static const char *const address_fields[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"Resent-From", "Resent-Sender", "Resent-Reply-To", "Resent-To",
	"Resent-Cc", "Resent-Bcc", "Errors-To", "Return-Receipt-To",
	"Disposition-Notification-To", "Mail-Followup-To", "Mail-Reply-To",
	NULL
};

/* The domain of addr, after the last '@' outside quotes and literals. */
static bool
domain_of(const char *addr, const char **dom)
{
	bool quoted = false, literal = false, found = false;
	size_t i;

	for (i = 0; addr[i] != '\0'; i++) {
		if ((quoted || literal) && addr[i] == '\\' &&
		    addr[i + 1] != '\0')
			i++;
		else if (quoted && addr[i] == '"')
			quoted = false;
		else if (literal && addr[i] == ']')
			literal = false;
		else if (quoted || literal)
			continue;
		else if (addr[i] == '"')
			quoted = true;
		else if (addr[i] == '[')
			literal = true;
		else if (addr[i] == '@') {
			*dom = addr + i + 1;
			found = true;
		}
	}
	return found;
}

static bool
is_blank(int ch)
{
	return ch == ' ' || ch == '\t';
}

bool
rewrite_in_scope(const struct conf *c, const char *addr)
{
	const char *dom;

	if (addr == NULL || addr[0] == '\0')
		return false;
	if (c->rewrite_scope == CONF_SCOPE_ALL)
		return true;
	if (!domain_of(addr, &dom))
		return true;
	return strcasecmp(dom, util_domain(c)) == 0 || alias_is_local(c, addr);
}

char *
rewrite_envelope(const struct conf *c, const char *sender)
{
	if (c->rewrite_sender != NULL && rewrite_in_scope(c, sender))
		return xstrdup(c->rewrite_sender);
	return xstrdup(sender);
}

/*
 * The display name of a one-mailbox From: value v[0..len), unfolded,
 * into out (left empty when there is none to keep): the phrase before
 * '<' as written, or else the text of a "(comment)" after the address,
 * made a display name. Quoted strings and comments are skipped over, so
 * a '<' or '(' inside them does not count.
 */
static void
phrase_of(const char *v, size_t len, struct buf *out)
{
	size_t i, a, b, cstart = 0, cend = 0;
	int depth = 0;
	bool quoted = false, comment = false;
	char *text, *p;

	buf_reset(out);
	for (i = 0; i < len; i++) {
		if ((quoted || depth > 0) && v[i] == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (quoted) {
			if (v[i] == '"')
				quoted = false;
			continue;
		}
		if (v[i] == '(') {
			if (depth++ == 0 && !comment)
				cstart = i + 1;
			continue;
		}
		if (v[i] == ')' && depth > 0) {
			if (--depth == 0 && !comment && cstart > 0) {
				comment = true;
				cend = i;
			}
			continue;
		}
		if (depth > 0)
			continue;
		if (v[i] == '"')
			quoted = true;
		else if (v[i] == '<')
			break;
		else if (v[i] == ':' || v[i] == ';' || v[i] == ',')
			return;		/* a group or a list: no single name */
	}
	if (i < len) {
		/* "Phrase <addr>": the phrase, as written */
		a = 0;
		b = i;
		while (a < b && is_blank((unsigned char)v[a]))
			a++;
		while (b > a && is_blank((unsigned char)v[b - 1]))
			b--;
		if (b == a || b - a > PHRASE_MAX)
			return;
		buf_add(out, v + a, b - a);
		for (p = out->data; *p != '\0'; p++)
			if (*p == '\t')
				*p = ' ';
		return;
	}
	if (!comment)
		return;
	/* "addr (Full Name)": a plain comment becomes the name */
	b = cend;
	for (i = cstart; i < b; i++)
		if (v[i] == '(' || v[i] == '\\')
			return;
	a = cstart;
	while (a < b && is_blank((unsigned char)v[a]))
		a++;
	while (b > a && is_blank((unsigned char)v[b - 1]))
		b--;
	if (b == a || b - a > PHRASE_MAX)
		return;
	text = xstrndup(v + a, b - a);
	for (p = text; *p != '\0'; p++)
		if (*p == '\t')
			*p = ' ';
	rfc5322_display_name(out, text);
	free(text);
}

/* Field i becomes the raw text in b, whose name is namelen bytes. */
static void
field_set(struct headers *h, size_t i, const struct buf *b, size_t namelen)
{
	struct header *f = &h->v[i];

	h->bytes -= f->rawlen;
	free(f->raw);
	/* Not xstrndup: a field may hold NUL bytes, kept as they came. */
	f->raw = xmalloc(b->len + 1);
	memcpy(f->raw, b->data, b->len + 1);
	f->rawlen = b->len;
	f->namelen = namelen;
	f->valoff = namelen + 1;	/* fields made here have no blank */
	h->bytes += b->len;
}

/* A new field at position pos, the fields from there moving down. */
static void
field_insert(struct headers *h, size_t pos, const struct buf *b,
    size_t namelen)
{
	struct header f;

	headers_add(h, b->data, b->len, namelen);
	f = h->v[h->n - 1];
	memmove(&h->v[pos + 1], &h->v[pos], (h->n - 1 - pos) * sizeof(*h->v));
	h->v[pos] = f;
}

/*
 * Into b: a field named name holding the value of f byte for byte, folded
 * after the name when its first line would grow too long.
 */
static void
keep_as(struct buf *b, const char *name, const struct header *f)
{
	const char *v = f->raw + f->valoff, *nl;
	size_t vlen = f->rawlen - f->valoff, first;

	buf_reset(b);
	buf_printf(b, "%s:", name);
	nl = memchr(v, '\n', vlen);
	first = nl != NULL ? (size_t)(nl - v) : vlen;
	if (b->len + first > LINE_MAX_5322) {
		buf_addch(b, '\n');
		if (vlen == 0 || !is_blank((unsigned char)v[0]))
			buf_addch(b, ' ');
	}
	buf_add(b, v, vlen);
	if (b->data[b->len - 1] != '\n')
		buf_addch(b, '\n');
}

bool
rewrite_headers(const struct conf *c, struct headers *h)
{
	struct addrlist l = ADDRLIST_INIT;
	struct buf v = BUF_INIT, phrase = BUF_INIT, b = BUF_INIT;
	struct buf reply = BUF_INIT;
	const char *dom;
	size_t i, k;
	bool ok, scope, changed = false, reachable, qualified;

	if (c->rewrite_sender == NULL || !c->rewrite_from)
		return rewrite_qualify(c, h);
	for (i = 0; i < h->n; i++) {
		if (!header_is(&h->v[i], "From"))
			continue;
		buf_reset(&v);
		header_unfold(&h->v[i], &v);
		addrlist_free(&l);
		ok = addr_parse_list(v.data, v.len, &l, NULL, 0) == 0;
		/* ASCII case aside, as submission servers compare accounts */
		if (ok && l.n == 1 && strcasecmp(l.v[0], c->rewrite_sender) == 0)
			continue;
		scope = c->rewrite_scope == CONF_SCOPE_ALL;
		reachable = false;
		for (k = 0; ok && k < l.n; k++) {
			if (rewrite_in_scope(c, l.v[k]))
				scope = true;
			if (domain_of(l.v[k], &dom) &&
			    !alias_is_local(c, l.v[k]))
				reachable = true;
		}
		if (!scope)
			continue;

		/* the original, kept next to the new field */
		if (ok && reachable && reply.len == 0)
			keep_as(&reply, "Reply-To", &h->v[i]);
		keep_as(&b, "X-Original-From", &h->v[i]);
		field_insert(h, i + 1, &b, strlen("X-Original-From"));

		if (ok && l.n == 1)
			phrase_of(v.data, v.len, &phrase);
		else
			buf_reset(&phrase);
		buf_reset(&b);
		if (phrase.len > 0)
			buf_printf(&b, "From: %s <%s>\n", phrase.data,
			    c->rewrite_sender);
		else
			buf_printf(&b, "From: %s\n", c->rewrite_sender);
		field_set(h, i, &b, strlen("From"));
		changed = true;
		i++;		/* past X-Original-From */
	}
	if (changed) {
		for (i = 0; i < h->n; i++) {
			if (!header_is(&h->v[i], "Sender"))
				continue;
			keep_as(&b, "X-Original-Sender", &h->v[i]);
			field_set(h, i, &b, strlen("X-Original-Sender"));
		}
		if (reply.len > 0 && headers_find(h, "Reply-To") == NULL)
			headers_add(h, reply.data, reply.len,
			    strlen("Reply-To"));
	}
	addrlist_free(&l);
	buf_free(&v);
	buf_free(&phrase);
	buf_free(&b);
	buf_free(&reply);
	/* after the From: rewriting, which judges the addresses as written */
	qualified = rewrite_qualify(c, h);
	return changed || qualified;
}

bool
rewrite_qualify(const struct conf *c, struct headers *h)
{
	struct buf b = BUF_INIT;
	const char *domain = NULL;
	size_t i, k;
	bool changed = false;

	for (i = 0; i < h->n; i++) {
		for (k = 0; address_fields[k] != NULL; k++)
			if (header_is(&h->v[i], address_fields[k]))
				break;
		if (address_fields[k] == NULL)
			continue;
		if (domain == NULL)
			domain = util_domain(c);
		if (qualify_field(&h->v[i], domain, &b)) {
			h->bytes += b.len;
			h->bytes -= h->v[i].rawlen;
			free(h->v[i].raw);
			h->v[i].rawlen = b.len;
			h->v[i].raw = buf_detach(&b, NULL);
			changed = true;
		}
	}
	buf_free(&b);
	return changed;
}

/*
 * Into b: field f with "@domain" after each unqualified address, the rest
 * byte for byte. False (b unused) when every address has a domain or the
 * value does not parse: a field postern cannot read is left as written.
 */
static bool
qualify_field(struct header *f, const char *domain, struct buf *b)
{
	struct addrlist l = ADDRLIST_INIT;
	size_t *ends, k, from = 0, vlen = f->rawlen - f->valoff;
	const char *v = f->raw + f->valoff;
	bool any = false;

	ends = xcalloc(ADDR_ENDS_MAX, sizeof(*ends));
	if (addr_parse_list_ends(v, vlen, &l, ends, NULL, 0) == 0) {
		for (k = 0; k < l.n; k++)
			if (!addr_is_qualified(l.v[k]))
				any = true;
	}
	if (any) {
		buf_reset(b);
		buf_add(b, f->raw, f->valoff);
		for (k = 0; k < l.n; k++) {
			if (addr_is_qualified(l.v[k]))
				continue;
			buf_add(b, v + from, ends[k] - from);
			buf_printf(b, "@%s", domain);
			from = ends[k];
		}
		buf_add(b, v + from, vlen - from);
	}
	free(ends);
	addrlist_free(&l);
	return any;
}
