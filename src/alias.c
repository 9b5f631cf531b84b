/*
 * alias.c: local recipients through the alias file (see alias.h).
 *
 * The file is read into a table of entries, each a lower-case name and
 * its targets, found through a small open-addressing hash, so a long file
 * costs one pass to read and nothing per lookup. postern keeps no compiled
 * database: the text file is read each time a message has a local
 * recipient, and newaliases only checks it.
 *
 * One reader serves two masters. alias_load is strict: the first error
 * ends the load with "FILE:LINE: reason", because half an alias file
 * would silently send mail where the administrator did not mean it to go.
 * alias_check reports every problem and goes on. Targets postern cannot
 * honour on a relay (pipes, files, :include:, error:) are kept as such:
 * the check names them, an expansion skips them with a warning, and an
 * alias left with nothing but those counts as absent, so the mail still
 * reaches the administrator or name@domain instead of vanishing.
 *
 * Expansion is a depth-first walk with a state per entry: "on the path"
 * breaks loops the way Sendmail does (a name met again inside its own
 * expansion is the local name itself, so "root: root, a@x" keeps root),
 * "done" makes each name expand once per recipient, which bounds the
 * work by the size of the file; the path is at most ALIAS_MAXDEPTH long.
 *
 * Promises: bounded lines and entries; every byte of a name or target that
 * reaches a message is made printable and truncated; no control character
 * ever reaches an address (addr.c refuses them, and the reader refuses
 * them before it). Nothing here runs a program or opens a file but the
 * alias file itself.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "alias.h"
#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "log.h"
#include "util.h"

#define QUOTE_TEXT	48	/* bytes of a name or target in a message */
#define QUOTE_PATH	1024	/* bytes of the file name in a message */
#define MSGMAX		1024

enum target_kind {
	T_ADDR,		/* an address, expanded further when local */
	T_LOCAL,	/* "\name": the local name, never expanded */
	T_PIPE,		/* |command */
	T_FILE,		/* /path */
	T_INCLUDE,	/* :include:/path */
	T_ERROR,	/* error:code text */
};

/* What a message calls each unsupported kind. */
static const char *const kind_names[] = {
	[T_ADDR] = "an address",
	[T_LOCAL] = "a local name",
	[T_PIPE] = "a pipe to a command",
	[T_FILE] = "delivery to a file",
	[T_INCLUDE] = "an :include: file",
	[T_ERROR] = "an error: target",
};

struct target {
	enum target_kind kind;
	char		*text;		/* an addr-spec, or the target as written */
	unsigned long	 line;
};

struct entry {
	char		*name;		/* lower case, unquoted */
	unsigned long	 line;
	struct target	*t;
	size_t		 nt;
	bool		 usable;	/* some target is an address */
};

struct aliases {
	char		 qpath[QUOTE_PATH];	/* the file, printable */
	struct entry	*v;
	size_t		 n;
	size_t		 vcap;		/* room in v */
	size_t		*hash;		/* entry index + 1; 0: empty slot */
	size_t		 hcap;		/* a power of two, > 2 * n */
	void		(*warn)(void *, const char *);
	void		*warnarg;
};

/* Where problems go while reading and walking. */
struct diag {
	const char	*qpath;
	bool		 strict;	/* stop at the first error, drop warnings */
	FILE		*report;	/* !strict: every problem, one a line */
	char		*err;		/* strict: the error */
	size_t		 errlen;
	size_t		 nerrors;
};

/* The entry being collected from a line and its continuations. */
struct pending {
	struct buf	 text;		/* tabs made spaces, lines joined by ' ' */
	unsigned long	 line;		/* of its first line; 0: none */
	bool		 skip;		/* a bad line: ignore its continuations */
	size_t		*segoff;	/* where each physical line starts */
	unsigned long	*segline;	/* and its number */
	size_t		 nseg;
	size_t		 segcap;	/* room in segoff and segline */
};

enum walk_state {
	W_NEW,
	W_PATH,		/* being expanded: meeting it again is a loop */
	W_DONE,
};

struct walk {
	const struct aliases *al;
	const struct conf *c;
	unsigned char	*state;		/* enum walk_state per entry */
	size_t		 path[ALIAS_MAXDEPTH];
	size_t		 depth;
	struct addrlist	*out;		/* NULL: check only */
	struct diag	*check;		/* non-NULL: report loops, not warn */
	char		*err;
	size_t		 errlen;
};

enum rl {
	RL_LINE,
	RL_EOF,
	RL_LONG,
	RL_NUL,
	RL_ERROR,
};

static void	 quote(struct buf *, const char *, size_t);
static int	 problem(struct diag *, unsigned long, bool, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static uint64_t	 hash_name(const char *, size_t);
static void	 hash_insert(struct aliases *, size_t);
static ssize_t	 lookup(const struct aliases *, const char *, size_t);
static bool	 split_addr(const char *, size_t *);
static bool	 local_key(const char *, char *, size_t, size_t *);
static enum rl	 read_line(FILE *, struct buf *);
static unsigned long seg_line(const struct pending *, size_t);
static void	 pending_reset(struct pending *);
static void	 pending_free(struct pending *);
static void	 pending_seg(struct pending *, unsigned long);
static int	 parse_name(struct diag *, const char *, size_t, unsigned long,
		    char **, size_t *);
static int	 parse_target(struct diag *, struct entry *, const char *,
		    size_t, unsigned long);
static int	 parse_entry(struct aliases *, struct diag *,
		    struct pending *);
static int	 read_file(struct aliases *, FILE *, struct diag *);
static struct aliases *load(const char *, int, struct diag *, bool *);
static void	 entry_free(struct entry *);
static void	 emit(struct walk *, const char *);
static void	 final(struct walk *, const char *);
static void	 warn(const struct aliases *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 warn_target(struct walk *, const struct entry *,
		    const struct target *);
static void	 path_text(struct walk *, struct buf *, ssize_t);
static void	 loop(struct walk *, size_t);
static int	 expand(struct walk *, const char *);
static int	 expand_entry(struct walk *, size_t, const char *);

/*
 * Appends s[0..len) as printable text, at most QUOTE_TEXT bytes of it,
 * ending in "..." when cut: a message names what it read without letting
 * it break the line or run on.
 */
static void
quote(struct buf *b, const char *s, size_t len)
{
	if (len <= QUOTE_TEXT) {
		util_printable(b, s, len);
		return;
	}
	util_printable(b, s, QUOTE_TEXT - 3);
	buf_addstr(b, "...");
}

/*
 * One problem at line (0: the file as a whole). Returns -1 when the
 * reading must stop (strict mode and an error), else 0.
 */
static int
problem(struct diag *d, unsigned long line, bool error, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (d->strict && !error)
		return 0;
	if (error)
		d->nerrors++;
	if (line != 0)
		buf_printf(&b, "%s:%lu: ", d->qpath, line);
	else
		buf_printf(&b, "%s: ", d->qpath);
	if (!error)
		buf_addstr(&b, "warning: ");
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (d->strict) {
		util_errf(d->err, d->errlen, "%s", b.data);
		buf_free(&b);
		return -1;
	}
	if (d->report != NULL)
		fprintf(d->report, "%s: %s\n", log_progname(), b.data);
	buf_free(&b);
	return 0;
}

/* FNV-1a, 64 bits: names are short and the table is private. */
static uint64_t
hash_name(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Adds entry i (its name is new) to the hash, growing it as needed. */
static void
hash_insert(struct aliases *al, size_t i)
{
	size_t *old = al->hash, oldcap = al->hcap, j, k, slot;

	if (2 * (al->n + 1) >= al->hcap) {
		al->hcap = al->hcap == 0 ? 64 : al->hcap * 2;
		al->hash = xcalloc(al->hcap, sizeof(*al->hash));
		for (j = 0; j < oldcap; j++) {
			if (old[j] == 0)
				continue;
			k = old[j] - 1;
			slot = hash_name(al->v[k].name, strlen(al->v[k].name)) &
			    (al->hcap - 1);
			while (al->hash[slot] != 0)
				slot = (slot + 1) & (al->hcap - 1);
			al->hash[slot] = k + 1;
		}
		free(old);
	}
	slot = hash_name(al->v[i].name, strlen(al->v[i].name)) &
	    (al->hcap - 1);
	while (al->hash[slot] != 0)
		slot = (slot + 1) & (al->hcap - 1);
	al->hash[slot] = i + 1;
}

/* The entry named key[0..len) (lower case), or -1. */
static ssize_t
lookup(const struct aliases *al, const char *key, size_t len)
{
	size_t slot, k;

	if (al == NULL || al->hcap == 0)
		return -1;
	slot = hash_name(key, len) & (al->hcap - 1);
	while ((k = al->hash[slot]) != 0) {
		if (strlen(al->v[k - 1].name) == len &&
		    memcmp(al->v[k - 1].name, key, len) == 0)
			return (ssize_t)(k - 1);
		slot = (slot + 1) & (al->hcap - 1);
	}
	return -1;
}

/*
 * The '@' before the domain: the last one outside quoted strings and
 * domain literals, as addr.c places it.
 */
static bool
split_addr(const char *a, size_t *at)
{
	bool quoted = false, literal = false, found = false;
	size_t i;

	for (i = 0; a[i] != '\0'; i++) {
		if ((quoted || literal) && a[i] == '\\' && a[i + 1] != '\0')
			i++;
		else if (quoted && a[i] == '"')
			quoted = false;
		else if (literal && a[i] == ']')
			literal = false;
		else if (quoted || literal)
			continue;
		else if (a[i] == '"')
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

/*
 * The lookup key of a local address: its local part, unquoted
 * ("\"root\"" is root) and in lower case, into key[0..keylen). False if it
 * cannot name an alias (too long, or empty).
 */
static bool
local_key(const char *addr, char *key, size_t keylen, size_t *lenp)
{
	size_t at, end, i, n = 0;
	unsigned char ch;

	end = split_addr(addr, &at) ? at : strlen(addr);
	i = 0;
	if (end >= 2 && addr[0] == '"' && addr[end - 1] == '"') {
		i = 1;
		end--;
	}
	for (; i < end; i++) {
		ch = (unsigned char)addr[i];
		if (ch == '\\' && addr[0] == '"' && i + 1 < end)
			ch = (unsigned char)addr[++i];
		if (n + 1 >= keylen)
			return false;
		key[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	key[n] = '\0';
	*lenp = n;
	return n > 0;
}

bool
alias_is_local(const struct conf *c, const char *addr)
{
	const char *dom;
	size_t at, i;

	if (!split_addr(addr, &at))
		return true;
	dom = addr + at + 1;
	if (c != NULL && c->nlocal_domains > 0) {
		for (i = 0; i < c->nlocal_domains; i++)
			if (strcasecmp(dom, c->local_domains[i]) == 0)
				return true;
		return false;
	}
	return strcasecmp(dom, "localhost") == 0 ||
	    strcasecmp(dom, util_fqdn()) == 0;
}

/*
 * One physical line into b, without its LF or CRLF. A line that is too
 * long, or holds a NUL byte, is read to its end and reported as such, so
 * the next call starts on the next line; its bytes are not kept.
 */
static enum rl
read_line(FILE *fp, struct buf *b)
{
	enum rl r = RL_LINE;
	int ch;

	buf_reset(b);
	while ((ch = getc(fp)) != EOF && ch != '\n') {
		if (r != RL_LINE)
			continue;
		if (ch == '\0')
			r = RL_NUL;
		else if (b->len > ALIAS_LINEMAX)	/* may be a CR */
			r = RL_LONG;
		else
			buf_addch(b, ch);
	}
	if (ch == EOF) {
		if (ferror(fp))
			return RL_ERROR;
		if (b->len == 0 && r == RL_LINE)
			return RL_EOF;
	}
	if (r != RL_LINE)
		return r;
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		buf_truncate(b, b->len - 1);
	return b->len > ALIAS_LINEMAX ? RL_LONG : RL_LINE;
}

/* The file line holding byte off of the pending entry. */
static unsigned long
seg_line(const struct pending *p, size_t off)
{
	size_t i = p->nseg;

	while (i > 1 && p->segoff[i - 1] > off)
		i--;
	return p->segline[i - 1];
}

static void
pending_reset(struct pending *p)
{
	buf_reset(&p->text);
	p->line = 0;
	p->nseg = 0;
}

static void
pending_free(struct pending *p)
{
	buf_free(&p->text);
	free(p->segoff);
	free(p->segline);
}

/* The next bytes of the pending entry come from line. */
static void
pending_seg(struct pending *p, unsigned long line)
{
	if (p->nseg == p->segcap) {
		p->segcap = p->segcap == 0 ? 16 : p->segcap * 2;
		p->segoff = xreallocarray(p->segoff, p->segcap,
		    sizeof(*p->segoff));
		p->segline = xreallocarray(p->segline, p->segcap,
		    sizeof(*p->segline));
	}
	p->segoff[p->nseg] = p->text.len;
	p->segline[p->nseg] = line;
	p->nseg++;
}

/*
 * The name of an entry, s[0..len) being the whole entry. Sets *name
 * (lower case; caller frees) and *valoff, just past the ':'. Returns 0,
 * 1 for a bad name (reported), -1 to stop.
 */
static int
parse_name(struct diag *d, const char *s, size_t len, unsigned long line,
    char **name, size_t *valoff)
{
	struct buf n = BUF_INIT, q = BUF_INIT;
	size_t i = 0, end;
	unsigned char ch;
	bool quoted = s[0] == '"';
	int rc = 1;

	*name = NULL;
	if (quoted) {
		for (i = 1; i < len && s[i] != '"'; i++) {
			if (s[i] == '\\' && i + 1 < len)
				i++;
			buf_addch(&n, s[i]);
		}
		if (i == len) {
			rc = problem(d, line, true, "unterminated quoted alias "
			    "name");
			goto out;
		}
		end = ++i;
	} else {
		while (i < len && s[i] != ':' && s[i] != ' ')
			i++;
		end = i;
		buf_add(&n, s, end);
	}
	while (i < len && s[i] == ' ')
		i++;
	quote(&q, n.data, n.len);
	if (i == len || s[i] != ':') {
		rc = problem(d, line, true, "missing ':' after the alias name "
		    "'%s'", q.data);
		goto out;
	}
	*valoff = i + 1;
	if (n.len == 0) {
		rc = problem(d, line, true, "empty alias name");
		goto out;
	}
	if (n.len > ALIAS_NAMEMAX) {
		rc = problem(d, line, true, "alias name '%s' longer than %d "
		    "bytes", q.data, ALIAS_NAMEMAX);
		goto out;
	}
	for (i = 0; i < n.len; i++) {
		ch = (unsigned char)n.data[i];
		if (ch >= 0x80 || (!quoted && strchr("()<>[]:;@\\,\" ",
		    ch) != NULL)) {
			if (ch == '@')
				rc = problem(d, line, true, "alias name '%s' "
				    "has a domain: alias names are local",
				    q.data);
			else if (ch >= 0x80)
				rc = problem(d, line, true, "byte 0x%02x in "
				    "alias name '%s'", ch, q.data);
			else
				rc = problem(d, line, true, "'%c' in alias "
				    "name '%s' (quote the name)", ch, q.data);
			goto out;
		}
		if (ch >= 'A' && ch <= 'Z')
			n.data[i] = (char)(ch - 'A' + 'a');
	}
	*name = buf_detach(&n, NULL);
	rc = 0;

 out:
	if (rc == 0 && *name == NULL)
		rc = 1;		/* reported, and the reading goes on */
	buf_free(&n);
	buf_free(&q);
	return rc;
}

/*
 * One element of the value, s[0..len), trimmed and not empty, into e.
 * Returns 0, 1 for a bad element (reported), -1 to stop.
 */
static int
parse_target(struct diag *d, struct entry *e, const char *s, size_t len,
    unsigned long line)
{
	struct addrlist l = ADDRLIST_INIT;
	struct buf q = BUF_INIT;
	char reason[256], *text;
	enum target_kind kind = T_ADDR;
	const char *p;
	size_t i;
	bool local = false;
	int rc = 0;

	text = xstrndup(s, len);
	p = text;
	quote(&q, text, len);
	if (*p == '\\') {	/* "\root": deliver to the name itself */
		local = true;
		p++;
	}
	if (p[0] == '|' || (p[0] == '"' && p[1] == '|'))
		kind = T_PIPE;
	else if (p[0] == '/' || (p[0] == '"' && p[1] == '/'))
		kind = T_FILE;
	else if (strncasecmp(p, ":include:", 9) == 0)
		kind = T_INCLUDE;
	else if (strncasecmp(p, "error:", 6) == 0)
		kind = T_ERROR;
	if (kind != T_ADDR) {
		e->t = xreallocarray(e->t, e->nt + 1, sizeof(*e->t));
		e->t[e->nt].kind = kind;
		e->t[e->nt].text = text;
		e->t[e->nt].line = line;
		e->nt++;
		text = NULL;
		rc = problem(d, line, false, "alias '%s': %s is not supported "
		    "by postern: '%s' (skipped)", e->name, kind_names[kind],
		    q.data);
		goto out;
	}
	if (addr_parse_arg(p, &l, reason, sizeof(reason)) == -1 || l.n == 0) {
		rc = problem(d, line, true, "alias '%s': bad address '%s': %s%s",
		    e->name, q.data, l.n == 0 && reason[0] == '\0' ?
		    "no address" : reason, strchr(text, '#') != NULL ?
		    " (a comment must be on a line of its own)" : "");
		if (rc == 0)
			rc = 1;
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		e->t = xreallocarray(e->t, e->nt + 1, sizeof(*e->t));
		e->t[e->nt].kind = local ? T_LOCAL : T_ADDR;
		e->t[e->nt].text = l.v[i];
		e->t[e->nt].line = line;
		e->nt++;
		l.v[i] = NULL;
	}
	e->usable = true;

 out:
	addrlist_free(&l);
	buf_free(&q);
	free(text);
	return rc;
}

/*
 * The pending entry, complete: its name, then its value split at the
 * commas that are outside quoted strings, comments and angle brackets.
 * A good entry joins the table; a bad one is reported and dropped.
 * Returns -1 to stop, else 0.
 */
static int
parse_entry(struct aliases *al, struct diag *d, struct pending *p)
{
	struct entry e;
	const char *s = p->text.data;
	size_t len = p->text.len, i, start = 0, a, b;
	ssize_t dup;
	int depth = 0, rc;
	bool quoted = false, angle = false;

	memset(&e, 0, sizeof(e));
	e.line = p->line;
	if ((rc = parse_name(d, s, len, p->line, &e.name, &start)) != 0)
		return rc == -1 ? -1 : 0;
	if ((dup = lookup(al, e.name, strlen(e.name))) != -1) {
		rc = problem(d, p->line, true, "duplicate alias '%s' (first on "
		    "line %lu)", e.name, al->v[dup].line);
		goto drop;
	}
	for (i = start; i <= len; i++) {
		if (i < len) {
			if ((quoted || depth > 0) && s[i] == '\\' &&
			    i + 1 < len) {
				i++;
				continue;
			}
			if (quoted) {
				if (s[i] == '"')
					quoted = false;
				continue;
			}
			if (s[i] == '"')
				quoted = true;
			else if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && depth > 0)
				depth--;
			else if (depth == 0 && s[i] == '<')
				angle = true;
			else if (depth == 0 && s[i] == '>')
				angle = false;
			if (s[i] != ',' || depth > 0 || angle)
				continue;
		} else if (quoted) {
			rc = problem(d, seg_line(p, len - 1), true, "alias '%s': "
			    "unterminated quoted string", e.name);
			goto drop;
		}
		a = start;
		b = i;
		start = i + 1;
		while (a < b && s[a] == ' ')
			a++;
		while (b > a && s[b - 1] == ' ')
			b--;
		if (a == b)
			continue;	/* "a,,b" and a trailing comma */
		if ((rc = parse_target(d, &e, s + a, b - a,
		    seg_line(p, a))) != 0)
			goto drop;
	}
	if (e.nt == 0) {
		rc = problem(d, p->line, true, "alias '%s' has no address",
		    e.name);
		goto drop;
	}
	/* Doubling: growing by one entry made a long file quadratic. */
	if (al->n == al->vcap) {
		al->vcap = al->vcap == 0 ? 64 : al->vcap * 2;
		al->v = xreallocarray(al->v, al->vcap, sizeof(*al->v));
	}
	al->v[al->n] = e;
	hash_insert(al, al->n);
	al->n++;
	return 0;

 drop:
	entry_free(&e);
	return rc == -1 ? -1 : 0;
}

/*
 * Reads the whole file into al. Returns -1 when the reading had to stop
 * (strict mode, or a read error), else 0; d counts the errors.
 */
static int
read_file(struct aliases *al, FILE *fp, struct diag *d)
{
	struct pending p;
	struct buf line = BUF_INIT;
	unsigned long lineno = 0;
	size_t i, n;
	enum rl r;
	int rc = -1;
	unsigned char ch;

	memset(&p, 0, sizeof(p));
	buf_init(&p.text);
	while ((r = read_line(fp, &line)) != RL_EOF) {
		lineno++;
		if (r == RL_ERROR) {
			(void)problem(d, 0, true, "%s", strerror(errno));
			goto out;
		}
		for (i = 0; r == RL_LINE && i < line.len; i++) {
			ch = (unsigned char)line.data[i];
			if (ch == '\t')
				line.data[i] = ' ';
			else if (ch < 0x20 || ch == 0x7f)
				break;
		}
		if (r != RL_LINE || i < line.len) {
			/*
			 * The entry this line belongs to is dropped; one that
			 * it ends is complete, and is checked first.
			 */
			if (line.len > 0 && line.data[0] != ' ' &&
			    line.data[0] != '\t' && p.line != 0 && !p.skip &&
			    parse_entry(al, d, &p) == -1)
				goto out;
			if ((r == RL_NUL ? problem(d, lineno, true, "NUL byte") :
			    r == RL_LONG ? problem(d, lineno, true, "line longer "
			    "than %d bytes", ALIAS_LINEMAX) : problem(d, lineno,
			    true, "control character 0x%02x",
			    (unsigned char)line.data[i])) == -1)
				goto out;
			pending_reset(&p);
			p.skip = true;
			continue;
		}
		for (n = 0; n < line.len && line.data[n] == ' '; n++)
			;
		if (n == line.len || line.data[n] == '#')
			continue;	/* blank or comment: not an entry's end */
		if (n > 0) {
			if (p.skip)
				continue;
			if (p.line == 0) {
				if (problem(d, lineno, true, "continuation line "
				    "without an alias before it") == -1)
					goto out;
				continue;
			}
			if (p.text.len + 1 + line.len - n > ALIAS_ENTRYMAX) {
				if (problem(d, lineno, true, "alias longer than %d "
				    "bytes", ALIAS_ENTRYMAX) == -1)
					goto out;
				pending_reset(&p);
				p.skip = true;
				continue;
			}
			buf_addch(&p.text, ' ');
			pending_seg(&p, lineno);
			buf_add(&p.text, line.data + n, line.len - n);
			continue;
		}
		if (p.line != 0 && parse_entry(al, d, &p) == -1)
			goto out;
		pending_reset(&p);
		p.skip = false;
		p.line = lineno;
		pending_seg(&p, lineno);
		buf_add(&p.text, line.data, line.len);
	}
	if (p.line != 0 && parse_entry(al, d, &p) == -1)
		goto out;
	rc = 0;

 out:
	buf_free(&line);
	pending_free(&p);
	return rc;
}

/*
 * Opens and reads path. *missing is set when it does not exist and
 * ALIAS_MISSING_OK allowed that (an empty table is returned). NULL when
 * the file cannot be read, or (strict) on the first error.
 */
static struct aliases *
load(const char *path, int flags, struct diag *d, bool *missing)
{
	struct aliases *al;
	struct buf q = BUF_INIT;
	struct stat st;
	FILE *fp = NULL;
	int fd;

	*missing = false;
	al = xcalloc(1, sizeof(*al));
	util_printable(&q, path, strlen(path) < QUOTE_PATH - 4 ? strlen(path) :
	    QUOTE_PATH - 4);
	strlcpy(al->qpath, q.data, sizeof(al->qpath));
	buf_free(&q);
	d->qpath = al->qpath;

	/* O_NONBLOCK: a FIFO must not hang open(); it is refused below. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && (flags & ALIAS_MISSING_OK)) {
			*missing = true;
			return al;
		}
		(void)problem(d, 0, true, "%s", strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		(void)problem(d, 0, true, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)problem(d, 0, true, "%s", S_ISDIR(st.st_mode) ?
		    strerror(EISDIR) : "not a regular file");
		goto fail;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		(void)problem(d, 0, true, "%s", strerror(errno));
		goto fail;
	}
	fd = -1;
	if (read_file(al, fp, d) == -1)
		goto fail;
	fclose(fp);
	return al;

 fail:
	if (fp != NULL)
		fclose(fp);
	if (fd != -1)
		close(fd);
	alias_free(al);
	return NULL;
}

struct aliases *
alias_load(const char *path, int flags, char *err, size_t errlen)
{
	struct diag d;
	bool missing;

	memset(&d, 0, sizeof(d));
	d.strict = true;
	d.err = err;
	d.errlen = errlen;
	util_errf(err, errlen, "%s", "");
	if (path == NULL) {
		util_errf(err, errlen, "no alias file given");
		return NULL;
	}
	return load(path, flags, &d, &missing);
}

int
alias_load_conf(const struct conf *c, struct aliases **out, char *err,
    size_t errlen)
{
	*out = NULL;
	if (c->alias_file == NULL)
		return 0;
	*out = alias_load(c->alias_file, c->alias_file_optional ?
	    ALIAS_MISSING_OK : 0, err, errlen);
	return *out == NULL ? -1 : 0;
}

static void
entry_free(struct entry *e)
{
	size_t i;

	free(e->name);
	for (i = 0; i < e->nt; i++)
		free(e->t[i].text);
	free(e->t);
}

void
alias_free(struct aliases *al)
{
	size_t i;

	if (al == NULL)
		return;
	for (i = 0; i < al->n; i++)
		entry_free(&al->v[i]);
	free(al->v);
	free(al->hash);
	free(al);
}

size_t
alias_count(const struct aliases *al)
{
	return al == NULL ? 0 : al->n;
}

void
alias_set_warn(struct aliases *al, void (*fn)(void *, const char *),
    void *arg)
{
	al->warn = fn;
	al->warnarg = arg;
}

static void
warn(const struct aliases *al, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (al->warn != NULL)
		al->warn(al->warnarg, b.data);
	else
		log_warnx("%s", b.data);
	buf_free(&b);
}

static void
emit(struct walk *w, const char *addr)
{
	if (w->out != NULL)
		addrlist_add_unique(w->out, addr);
}

/* A local name that no alias takes further: the administrator or name@domain. */
static void
final(struct walk *w, const char *addr)
{
	struct buf b = BUF_INIT;
	size_t at;

	if (w->out == NULL)
		return;
	if (w->c != NULL && w->c->admin_address != NULL) {
		emit(w, w->c->admin_address);
		return;
	}
	if (split_addr(addr, &at))
		buf_add(&b, addr, at);
	else
		buf_addstr(&b, addr);
	buf_printf(&b, "@%s", util_domain(w->c));
	emit(w, b.data);
	buf_free(&b);
}

static void
warn_target(struct walk *w, const struct entry *e, const struct target *t)
{
	struct buf q = BUF_INIT;

	if (w->check != NULL)
		return;		/* the check named it while reading */
	quote(&q, t->text, strlen(t->text));
	warn(w->al, "%s:%lu: alias '%s': %s is not supported by postern: "
	    "'%s' (skipped)", w->al->qpath, t->line, e->name,
	    kind_names[t->kind], q.data);
	buf_free(&q);
}

/* "a -> b -> c", the path, then the entry last (if not -1). */
static void
path_text(struct walk *w, struct buf *b, ssize_t last)
{
	size_t i;

	for (i = 0; i < w->depth; i++) {
		if (i > 0)
			buf_addstr(b, " -> ");
		buf_addstr(b, w->al->v[w->path[i]].name);
	}
	if (last != -1)
		buf_printf(b, " -> %s", w->al->v[last].name);
}

/*
 * Entry k is met again inside its own expansion. A name that lists
 * itself is the usual way to keep the local name and says nothing; any
 * other loop is a warning of the check, once per loop: from its first
 * name in the file, when the walk started there.
 */
static void
loop(struct walk *w, size_t k)
{
	struct buf b = BUF_INIT;
	size_t i;

	if (w->check == NULL || w->path[w->depth - 1] == k || w->path[0] != k)
		return;
	for (i = 1; i < w->depth; i++)
		if (w->path[i] < k)
			return;
	path_text(w, &b, (ssize_t)k);
	(void)problem(w->check, w->al->v[k].line, false, "alias loop %s: "
	    "'%s' is not expanded again", b.data, w->al->v[k].name);
	buf_free(&b);
}

static int
expand(struct walk *w, const char *addr)
{
	char key[ALIAS_NAMEMAX + 1];
	size_t keylen;
	ssize_t k;

	if (!alias_is_local(w->c, addr)) {
		emit(w, addr);
		return 0;
	}
	if (!local_key(addr, key, sizeof(key), &keylen) ||
	    (k = lookup(w->al, key, keylen)) == -1) {
		final(w, addr);
		return 0;
	}
	return expand_entry(w, (size_t)k, addr);
}

/* Entry k, which addr named. */
static int
expand_entry(struct walk *w, size_t k, const char *addr)
{
	const struct entry *e = &w->al->v[k];
	const struct target *t;
	struct buf b = BUF_INIT;
	size_t i;

	switch (w->state[k]) {
	case W_PATH:
		loop(w, k);
		final(w, addr);
		return 0;
	case W_DONE:
		return 0;
	default:
		break;
	}
	if (w->depth == ALIAS_MAXDEPTH) {
		path_text(w, &b, (ssize_t)k);
		if (w->check != NULL)
			(void)problem(w->check, w->al->v[w->path[0]].line, true,
			    "aliases nest more than %d deep: %s",
			    ALIAS_MAXDEPTH, b.data);
		else
			util_errf(w->err, w->errlen, "%s:%lu: aliases nest more "
			    "than %d deep: %s", w->al->qpath,
			    w->al->v[w->path[0]].line, ALIAS_MAXDEPTH, b.data);
		buf_free(&b);
		return -1;
	}
	w->state[k] = W_PATH;
	w->path[w->depth++] = k;
	for (i = 0; i < e->nt; i++) {
		t = &e->t[i];
		switch (t->kind) {
		case T_ADDR:
			if (expand(w, t->text) == -1)
				return -1;
			break;
		case T_LOCAL:
			if (alias_is_local(w->c, t->text))
				final(w, t->text);
			else
				emit(w, t->text);
			break;
		case T_PIPE:
		case T_FILE:
		case T_INCLUDE:
		case T_ERROR:
			warn_target(w, e, t);
			break;
		}
	}
	/* Nothing but skipped targets: as if there were no alias. */
	if (!e->usable)
		final(w, addr);
	w->depth--;
	w->state[k] = W_DONE;
	return 0;
}

int
alias_resolve(const struct aliases *al, const struct conf *c,
    const char *addr, struct addrlist *out, char *err, size_t errlen)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.al = al;
	w.c = c;
	w.out = out;
	w.err = err;
	w.errlen = errlen;
	if (al != NULL && al->n > 0)
		w.state = xcalloc(al->n, 1);
	else
		w.al = NULL;
	rc = expand(&w, addr);
	free(w.state);
	return rc;
}

int
alias_expand(const struct conf *c, const struct addrlist *in, int flags,
    struct addrlist *out, char *err, size_t errlen)
{
	struct aliases *al = NULL;
	size_t i;
	int rc = 0;

	util_errf(err, errlen, "%s", "");
	if (!(flags & ALIAS_NOEXPAND)) {
		for (i = 0; i < in->n; i++)
			if (alias_is_local(c, in->v[i]))
				break;
		if (i < in->n && alias_load_conf(c, &al, err, errlen) == -1)
			return -1;
	}
	for (i = 0; i < in->n && rc == 0; i++)
		rc = alias_resolve(al, c, in->v[i], out, err, errlen);
	alias_free(al);
	return rc;
}

int
alias_check(const char *path, int flags, const struct conf *c, FILE *report)
{
	struct aliases *al;
	struct diag d;
	struct walk w;
	bool missing;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.report = report;
	if ((al = load(path, flags, &d, &missing)) == NULL)
		return -1;
	/* Every name in turn, as a recipient of its own would expand it. */
	memset(&w, 0, sizeof(w));
	w.al = al;
	w.c = c;
	w.check = &d;
	if (al->n > 0)
		w.state = xcalloc(al->n, 1);
	for (i = 0; i < al->n; i++) {
		memset(w.state, W_NEW, al->n);
		w.depth = 0;
		(void)expand_entry(&w, i, al->v[i].name);
	}
	free(w.state);
	alias_free(al);
	return d.nerrors > 0 ? -1 : 0;
}

int
alias_check_conf(const struct conf *c, FILE *report)
{
	if (c->alias_file == NULL)
		return 0;
	return alias_check(c->alias_file, c->alias_file_optional ?
	    ALIAS_MISSING_OK : 0, c, report);
}
