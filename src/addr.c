/*
 * addr.c: RFC 5322 address-list parser (see addr.h).
 *
 * A small lexer turns the input into tokens (atoms, quoted strings, domain
 * literals and the specials < > @ , ; : .), skipping whitespace, folding
 * and comments; a one-token-lookahead parser above it recognises mailboxes,
 * angle addresses, groups and the obsolete forms of RFC 5322 section 4.4.
 * Each address is rebuilt from its tokens, so whitespace, comments and
 * display names never reach the result.
 *
 * Promises: no recursion beyond one level (a group's members); comment
 * nesting is counted, not recursed, and capped at ADDR_COMMENT_DEPTH; no
 * returned address holds a byte below 0x20 or 0x7F (checked once more when
 * an address is stored, whatever the lexer let through). Bytes with the
 * high bit set are ordinary text (RFC 6532).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "addr.h"
#include "compat.h"

#define ADDR_COMMENT_DEPTH	64

enum tok_type {
	TOK_END = 256,		/* below 256: a special, the byte */
	TOK_ATOM,
	TOK_QSTR,		/* with its quotes, as written */
	TOK_DLIT		/* with its brackets, as written */
};

struct token {
	int		 type;
	const char	*p;
	size_t		 n;
};

struct parser {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	bool		 eol_ok;	/* input may end in a line ending */
	struct token	 tok;		/* the lookahead */
	struct addrlist	*out;
	size_t		*ends;		/* addr_parse_list_ends: per address */
	size_t		 nends;
	size_t		 local_end;	/* just past the last word collected */
	char		*err;
	size_t		 errlen;
};

/* What collect_words() saw. */
struct words {
	size_t		 nwords;
	size_t		 ndots;
	bool		 adjacent;	/* two words, no dot between */
	bool		 literal;	/* a domain literal among them */
};

static int	 perr(struct parser *, const char *);
static bool	 is_ctl(unsigned char);
static bool	 is_special(unsigned char);
static size_t	 eol_len(struct parser *, size_t);
static bool	 fold_at(struct parser *, size_t, size_t *);
static int	 skip_cfws(struct parser *);
static int	 skip_comment(struct parser *);
static int	 lex_delimited(struct parser *, unsigned char, const char *);
static int	 advance(struct parser *);
static void	 add_text(struct buf *, const struct token *);
static int	 collect_words(struct parser *, struct buf *, struct words *);
static int	 check_local(struct parser *, const struct words *);
static int	 parse_domain(struct parser *, struct buf *);
static int	 parse_route(struct parser *);
static int	 parse_angle(struct parser *);
static int	 parse_group(struct parser *);
static int	 parse_address(struct parser *, bool);
static int	 parse_tail(struct parser *);
static int	 parse_list(struct parser *);
static int	 emit(struct parser *, struct buf *, size_t);
static bool	 split_addr(const char *, size_t *);
static void	 addrlist_push(struct addrlist *, char *);

static int
perr(struct parser *p, const char *msg)
{
	if (p->err != NULL && p->errlen > 0)
		strlcpy(p->err, msg, p->errlen);
	return -1;
}

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* RFC 5322 specials, plus the bytes that end an atom. */
static bool
is_special(unsigned char c)
{
	return c != '\0' && strchr("()<>[]:;@\\,.\" \t", c) != NULL;
}

/*
 * Returns the length of the line ending at s[i] (CR LF, or a lone LF as
 * Unix programs write it), 0 for a bare CR.
 */
static size_t
eol_len(struct parser *p, size_t i)
{
	if (p->s[i] == '\n')
		return 1;
	if (i + 1 < p->len && p->s[i + 1] == '\n')
		return 2;
	return 0;
}

/*
 * True if s[i], a CR or LF, starts folding: a line ending followed by SP
 * or HT. *next is set past the line ending.
 */
static bool
fold_at(struct parser *p, size_t i, size_t *next)
{
	size_t n;

	n = eol_len(p, i);
	*next = i + n;
	return n > 0 && *next < p->len &&
	    (p->s[*next] == ' ' || p->s[*next] == '\t');
}

/* Skips whitespace, folding and comments between tokens. */
static int
skip_cfws(struct parser *p)
{
	size_t next;
	unsigned char c;

	while (p->pos < p->len) {
		c = (unsigned char)p->s[p->pos];
		if (c == ' ' || c == '\t')
			p->pos++;
		else if (c == '\r' || c == '\n') {
			if (fold_at(p, p->pos, &next))
				p->pos = next;
			else if (p->eol_ok && next > p->pos && next == p->len)
				p->pos = next;	/* the field's line end */
			else
				return perr(p, "line break in address");
		} else if (c == '(') {
			if (skip_comment(p) == -1)
				return -1;
		} else
			break;
	}
	return 0;
}

/*
 * Skips one comment, nested comments included. Counting the depth instead
 * of recursing keeps a hostile "((((..." from using the stack.
 */
static int
skip_comment(struct parser *p)
{
	size_t depth = 0, next;
	unsigned char c;

	for (;;) {
		if (p->pos >= p->len)
			return perr(p, "unterminated comment");
		c = (unsigned char)p->s[p->pos];
		if (c == '(') {
			if (++depth > ADDR_COMMENT_DEPTH)
				return perr(p, "comments nested too deeply");
			p->pos++;
		} else if (c == ')') {
			p->pos++;
			if (--depth == 0)
				return 0;
		} else if (c == '\\') {
			if (p->pos + 1 >= p->len)
				return perr(p, "unterminated comment");
			c = (unsigned char)p->s[p->pos + 1];
			if (is_ctl(c) && c != '\t')
				return perr(p, "control character in address");
			p->pos += 2;
		} else if (c == '\r' || c == '\n') {
			if (!fold_at(p, p->pos, &next))
				return perr(p, "line break in address");
			p->pos = next;
		} else if (is_ctl(c) && c != '\t')
			return perr(p, "control character in address");
		else
			p->pos++;
	}
}

/*
 * Lexes a quoted string (close is '"') or a domain literal (close is ']')
 * starting at p->pos, with quoted-pairs and folding inside.
 */
static int
lex_delimited(struct parser *p, unsigned char close, const char *unterm)
{
	size_t start = p->pos, next;
	unsigned char c;

	p->pos++;
	for (;;) {
		if (p->pos >= p->len)
			return perr(p, unterm);
		c = (unsigned char)p->s[p->pos];
		if (c == close) {
			p->pos++;
			break;
		} else if (c == '\\') {
			if (p->pos + 1 >= p->len)
				return perr(p, unterm);
			c = (unsigned char)p->s[p->pos + 1];
			if (is_ctl(c) && c != '\t')
				return perr(p, "control character in address");
			p->pos += 2;
		} else if (c == '\r' || c == '\n') {
			if (!fold_at(p, p->pos, &next))
				return perr(p, "line break in address");
			p->pos = next;
		} else if (is_ctl(c) && c != '\t')
			return perr(p, "control character in address");
		else if (close == ']' && c == '[')
			return perr(p, "invalid domain literal");
		else
			p->pos++;
	}
	p->tok.type = close == '"' ? TOK_QSTR : TOK_DLIT;
	p->tok.p = p->s + start;
	p->tok.n = p->pos - start;
	return 0;
}

/* Reads the next token into p->tok. */
static int
advance(struct parser *p)
{
	size_t start;
	unsigned char c;

	if (skip_cfws(p) == -1)
		return -1;
	p->tok.p = p->s + p->pos;
	p->tok.n = 0;
	if (p->pos >= p->len) {
		p->tok.type = TOK_END;
		return 0;
	}
	c = (unsigned char)p->s[p->pos];
	switch (c) {
	case '"':
		return lex_delimited(p, '"', "unterminated quoted string");
	case '[':
		return lex_delimited(p, ']', "unterminated domain literal");
	case '<': case '>': case '@': case ',': case ';': case ':': case '.':
		p->tok.type = c;
		p->tok.n = 1;
		p->pos++;
		return 0;
	case ')':
		return perr(p, "unbalanced parenthesis");
	case ']':
		return perr(p, "unbalanced square bracket");
	case '\\':
		return perr(p, "backslash outside quoted string");
	}
	if (is_ctl(c))
		return perr(p, "control character in address");
	start = p->pos;
	while (p->pos < p->len) {
		c = (unsigned char)p->s[p->pos];
		if (is_ctl(c) || is_special(c))
			break;
		p->pos++;
	}
	p->tok.type = TOK_ATOM;
	p->tok.n = p->pos - start;
	return 0;
}

/*
 * Appends a token as written, minus the line endings of folding (RFC 5322
 * unfolding) and, in a domain literal, minus the whitespace too.
 */
static void
add_text(struct buf *b, const struct token *t)
{
	size_t i;
	char c;

	for (i = 0; i < t->n; i++) {
		c = t->p[i];
		if (c == '\\' && i + 1 < t->n) {
			buf_add(b, t->p + i, 2);
			i++;
		} else if (c == '\r' || c == '\n')
			continue;
		else if (t->type == TOK_DLIT && (c == ' ' || c == '\t'))
			continue;
		else
			buf_addch(b, c);
	}
}

/*
 * Collects a run of words and dots: a display name or a local part, which
 * one is known only from the token after it. The text goes to b in case
 * it is a local part. Domain literals are taken too, as real display names
 * hold things like "[Jenkins]"; check_local() refuses them.
 */
static int
collect_words(struct parser *p, struct buf *b, struct words *w)
{
	bool prev_word = false;

	memset(w, 0, sizeof(*w));
	for (;;) {
		switch (p->tok.type) {
		case TOK_DLIT:
			w->literal = true;
			/* FALLTHROUGH */
		case TOK_ATOM:
		case TOK_QSTR:
			if (prev_word)
				w->adjacent = true;
			add_text(b, &p->tok);
			prev_word = true;
			w->nwords++;
			p->local_end = (size_t)(p->tok.p - p->s) + p->tok.n;
			break;
		case '.':
			buf_addch(b, '.');
			prev_word = false;
			w->ndots++;
			break;
		default:
			return 0;
		}
		if (advance(p) == -1)
			return -1;
	}
}

/*
 * A local part is words joined by dots (obs-local-part). Empty, leading
 * and doubled dots are let through: such addresses exist in the wild.
 */
static int
check_local(struct parser *p, const struct words *w)
{
	if (w->nwords == 0)
		return perr(p, "missing local part before @");
	if (w->adjacent || w->literal)
		return perr(p, "invalid local part");
	return 0;
}

/* Parses a domain after '@' (obs-domain or domain-literal) into b. */
static int
parse_domain(struct parser *p, struct buf *b)
{
	if (p->tok.type == TOK_DLIT) {
		if (p->tok.n == 2)
			return perr(p, "empty domain literal");
		add_text(b, &p->tok);
		return advance(p);
	}
	if (p->tok.type != TOK_ATOM) {
		if (p->tok.type == TOK_END || p->tok.type == ',' ||
		    p->tok.type == ';' || p->tok.type == '>')
			return perr(p, "missing domain after @");
		return perr(p, "invalid domain");
	}
	for (;;) {
		add_text(b, &p->tok);
		if (advance(p) == -1)
			return -1;
		if (p->tok.type != '.')
			return 0;
		if (advance(p) == -1)
			return -1;
		if (p->tok.type != TOK_ATOM)
			return perr(p, "empty label in domain");
		buf_addch(b, '.');
	}
}

/* Skips an obs-route, "@a,,@b:", the lookahead being '@' or ','. */
static int
parse_route(struct parser *p)
{
	struct buf scratch = BUF_INIT;
	int rv = -1;

	for (;;) {
		while (p->tok.type == ',')
			if (advance(p) == -1)
				goto out;
		if (p->tok.type != '@') {
			perr(p, "invalid route in angle address");
			goto out;
		}
		if (advance(p) == -1 || parse_domain(p, &scratch) == -1)
			goto out;
		buf_reset(&scratch);
		if (p->tok.type == ':')
			break;
		if (p->tok.type != ',') {
			perr(p, "invalid route in angle address");
			goto out;
		}
	}
	rv = advance(p);
out:
	buf_free(&scratch);
	return rv;
}

/* Parses an angle address, the lookahead being the token after '<'. */
static int
parse_angle(struct parser *p)
{
	struct buf b = BUF_INIT;
	struct words w;
	bool route = false;
	size_t lend;
	int rv = -1;

	if (p->tok.type == '>')		/* "<>": the null address */
		return advance(p);
	if (p->tok.type == '@' || p->tok.type == ',') {
		if (parse_route(p) == -1)
			goto out;
		route = true;
	}
	if (collect_words(p, &b, &w) == -1)
		goto out;
	lend = p->local_end;
	if (route && w.nwords == 0 && w.ndots == 0 && p->tok.type == '>') {
		perr(p, "missing address after route");
		goto out;
	}
	switch (p->tok.type) {
	case '@':
		if (check_local(p, &w) == -1)
			goto out;
		buf_addch(&b, '@');
		if (advance(p) == -1 || parse_domain(p, &b) == -1)
			goto out;
		break;
	case '>':			/* "<root>": unqualified */
		if (check_local(p, &w) == -1)
			goto out;
		break;
	case TOK_END:
	case '<':
		perr(p, "unbalanced angle bracket");
		goto out;
	default:
		perr(p, "invalid angle address");
		goto out;
	}
	if (p->tok.type == TOK_END || p->tok.type == '<') {
		perr(p, "unbalanced angle bracket");
		goto out;
	}
	if (p->tok.type != '>') {
		perr(p, "unexpected text in angle address");
		goto out;
	}
	if (advance(p) == -1 || emit(p, &b, lend) == -1)
		goto out;
	rv = 0;
out:
	buf_free(&b);
	return rv;
}

/*
 * Parses a group's members, the lookahead being the token after ':'.
 * A missing ';' at the end of the input is forgiven.
 */
static int
parse_group(struct parser *p)
{
	for (;;) {
		switch (p->tok.type) {
		case TOK_END:
			return 0;
		case ';':
			return advance(p);
		case ',':
			if (advance(p) == -1)
				return -1;
			break;
		default:
			if (parse_address(p, true) == -1)
				return -1;
			break;
		}
	}
}

/*
 * Parses one address (mailbox or, outside a group, group) and checks what
 * follows it. An empty element consumes nothing.
 */
static int
parse_address(struct parser *p, bool ingroup)
{
	struct buf b = BUF_INIT;
	struct words w;
	size_t lend;
	int rv = -1;

	if (collect_words(p, &b, &w) == -1)
		goto out;
	lend = p->local_end;
	switch (p->tok.type) {
	case '<':
		if (advance(p) == -1 || parse_angle(p) == -1)
			goto out;
		break;
	case ':':
		if (ingroup) {
			perr(p, "nested group");
			goto out;
		}
		/*
		 * The group's ';' also separates it from what follows, as
		 * ';' does anywhere outside a group.
		 */
		rv = advance(p) == -1 ? -1 : parse_group(p);
		goto out;
	case '@':
		buf_addch(&b, '@');
		if (advance(p) == -1 || parse_domain(p, &b) == -1)
			goto out;
		/*
		 * "jd@x.org <jd@x.org>": software writes unquoted addresses
		 * as display names; the angle address is the real one. So
		 * the local part is checked only once no '<' follows.
		 */
		if (p->tok.type == '<') {
			if (advance(p) == -1 || parse_angle(p) == -1)
				goto out;
			break;
		}
		if (check_local(p, &w) == -1 || emit(p, &b, lend) == -1)
			goto out;
		break;
	case TOK_END:
	case ',':
	case ';':
		if (w.nwords == 0 && w.ndots == 0)
			break;		/* empty element */
		if (w.nwords == 0 || w.literal) {
			perr(p, "invalid address");
			goto out;
		}
		if (w.adjacent) {
			perr(p, "display name without angle address");
			goto out;
		}
		if (emit(p, &b, lend) == -1)	/* unqualified, "root" */
			goto out;
		break;
	case '>':
		perr(p, "unbalanced angle bracket");
		goto out;
	default:
		perr(p, "invalid address");
		goto out;
	}
	rv = parse_tail(p);
out:
	buf_free(&b);
	return rv;
}

/* After an address comes ',', ';' or the end. */
static int
parse_tail(struct parser *p)
{
	char msg[64];

	switch (p->tok.type) {
	case TOK_END:
	case ',':
	case ';':
		return 0;
	case '<':
	case '>':
		return perr(p, "unbalanced angle bracket");
	case TOK_ATOM:
	case TOK_QSTR:
	case TOK_DLIT:
		return perr(p, "unexpected text after address");
	default:
		(void)snprintf(msg, sizeof(msg),
		    "unexpected '%c' after address", p->tok.type);
		return perr(p, msg);
	}
}

/*
 * The list: addresses separated by ','. A ';' outside a group separates
 * too, as people copy lists out of Outlook.
 */
static int
parse_list(struct parser *p)
{
	if (advance(p) == -1)
		return -1;
	for (;;) {
		switch (p->tok.type) {
		case TOK_END:
			return 0;
		case ',':
		case ';':
			if (advance(p) == -1)
				return -1;
			break;
		default:
			if (parse_address(p, false) == -1)
				return -1;
			break;
		}
	}
}

/*
 * Stores the address in b (b is reset). The control-character check is
 * the last line of defence: nothing unsafe leaves this module, even if
 * the lexer were wrong. It also refuses HT, legal in a quoted local part.
 */
static int
emit(struct parser *p, struct buf *b, size_t local_end)
{
	size_t i;

	if (b->len == 0)
		return perr(p, "invalid address");
	for (i = 0; i < b->len; i++)
		if (is_ctl((unsigned char)b->data[i]))
			return perr(p, "control character in address");
	if (p->ends != NULL) {
		if (p->nends >= ADDR_ENDS_MAX)
			return perr(p, "too many addresses");
		p->ends[p->nends++] = local_end;
	}
	addrlist_push(p->out, buf_detach(b, NULL));
	return 0;
}

int
addr_parse_list(const char *s, size_t len, struct addrlist *out, char *err,
    size_t errlen)
{
	return addr_parse_list_ends(s, len, out, NULL, err, errlen);
}

int
addr_parse_list_ends(const char *s, size_t len, struct addrlist *out,
    size_t *ends, char *err, size_t errlen)
{
	struct parser p;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.len = len;
	p.eol_ok = true;
	p.out = out;
	p.ends = ends;
	p.err = err;
	p.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return parse_list(&p);
}

int
addr_parse_arg(const char *arg, struct addrlist *out, char *err,
    size_t errlen)
{
	struct parser p;
	size_t i, len;

	memset(&p, 0, sizeof(p));
	p.err = err;
	p.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/*
	 * An argument cannot fold, so any control character is refused
	 * before parsing, even inside a display name or comment: "a@b\r\n
	 * Bcc: x@y" must never get near a header or the envelope.
	 */
	len = strlen(arg);
	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)arg[i]))
			return perr(&p, "address contains a control character");
	p.s = arg;
	p.len = len;
	p.eol_ok = false;
	p.out = out;
	return parse_list(&p);
}

/*
 * Finds the '@' before the domain: the last one outside quoted strings
 * and domain literals (a literal may hold '@'). Addresses from this
 * module never have an unquoted '@' in the local part.
 */
static bool
split_addr(const char *a, size_t *at)
{
	bool quoted = false, literal = false, found = false;
	size_t i;

	for (i = 0; a[i] != '\0'; i++) {
		if (quoted) {
			if (a[i] == '\\' && a[i + 1] != '\0')
				i++;
			else if (a[i] == '"')
				quoted = false;
		} else if (literal) {
			if (a[i] == '\\' && a[i + 1] != '\0')
				i++;
			else if (a[i] == ']')
				literal = false;
		} else if (a[i] == '"')
			quoted = true;
		else if (a[i] == '[')
			literal = true;
		else if (a[i] == '@') {
			*at = i;
			found = true;
		}
	}
	return found;
}

bool
addr_is_qualified(const char *addr)
{
	size_t at;

	return split_addr(addr, &at) && addr[at + 1] != '\0';
}

char *
addr_qualify(const char *addr, const char *domain)
{
	struct buf b = BUF_INIT;

	if (addr_is_qualified(addr))
		return xstrdup(addr);
	buf_addstr(&b, addr);
	buf_addch(&b, '@');
	buf_addstr(&b, domain);
	return buf_detach(&b, NULL);
}

bool
addr_equal(const char *a, const char *b)
{
	size_t ai, bi, i;
	bool aq, bq;
	unsigned char ca, cb;

	aq = split_addr(a, &ai);
	bq = split_addr(b, &bi);
	if (aq != bq)
		return false;
	if (!aq)
		return strcmp(a, b) == 0;
	if (ai != bi || memcmp(a, b, ai) != 0)
		return false;
	for (i = ai + 1;; i++) {
		ca = (unsigned char)a[i];
		cb = (unsigned char)b[i];
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return false;
		if (ca == '\0')
			return true;
	}
}

static void
addrlist_push(struct addrlist *l, char *owned)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = owned;
}

void
addrlist_add(struct addrlist *l, const char *addr)
{
	addrlist_push(l, xstrdup(addr));
}

void
addrlist_add_unique(struct addrlist *l, const char *addr)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (addr_equal(l->v[i], addr))
			return;
	addrlist_add(l, addr);
}

void
addrlist_free(struct addrlist *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
