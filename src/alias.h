/*
 * alias.h: local recipients and the alias file (/etc/aliases format).
 *
 * A recipient is "local" when it has no domain (root, www-data) or its
 * domain names this host: one of local_domains, by default "localhost"
 * and the host's fully qualified name (see alias_is_local). A local
 * recipient is looked up in the alias file, recursively; a local name
 * with no alias ends at admin_address when that is set, else it is
 * qualified with the configured domain. Every other recipient passes
 * unchanged. No recipient is ever delivered on this host: postern only
 * relays, so pipe (|command), file (/path), :include: and error: targets
 * cannot be honoured; they are skipped with a warning.
 *
 * The file format (Sendmail's and Postfix's aliases(5)):
 *	# a comment: a line whose first non-blank byte is '#'
 *	name: target, target, ...
 *	    a line starting with a blank continues the previous one
 *	"quoted name": ...
 *	root: \root, admin@example.org	('\': the local name, not expanded)
 * Names are compared without regard to ASCII case. The rules are in
 * postern.conf(5) and newaliases(8).
 *
 * Errors are one line, "FILE:LINE: reason", quoting names and targets
 * only as printable, truncated text.
 */
#ifndef PST_ALIAS_H
#define PST_ALIAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct addrlist;
struct conf;
struct aliases;			/* opaque: a loaded alias file */

/* Bounds; going past one is an error naming the line. */
#define ALIAS_LINEMAX	16384	/* bytes in a physical line, without its end */
#define ALIAS_ENTRYMAX	(256 * 1024) /* bytes in an entry with continuations */
#define ALIAS_NAMEMAX	64	/* bytes in a name: RFC 5321 local-part */
#define ALIAS_MAXDEPTH	20	/* aliases nested in one expansion */

/* alias_load and alias_expand flags */
#define ALIAS_MISSING_OK 0x1	/* alias_load: a missing file is no aliases */
#define ALIAS_NOEXPAND	0x2	/* alias_expand: do not read aliases (-n) */

/*
 * True if addr (an addr-spec as addr.h returns them) is local: it has no
 * domain, or its domain (ASCII case ignored) is one of c->local_domains,
 * or, when none are configured, "localhost" or util_fqdn().
 */
bool	 alias_is_local(const struct conf *c, const char *addr);

/*
 * The whole job of the front-end, in one call: each address of in
 * (addr-specs from addr.h, qualified or not) is resolved and the final,
 * qualified addresses are appended to out without duplicates (with
 * addrlist_add_unique, so out may already hold some). The alias file of c
 * is read only when some address in "in" is local and ALIAS_NOEXPAND is
 * not given, so a broken alias file never stops mail to remote recipients.
 * Skipped targets are reported with log_warnx(). Returns 0, or -1 with
 * "FILE:LINE: reason" (or "FILE: reason") in err: the alias file cannot
 * be read, has a syntax error, or nests deeper than ALIAS_MAXDEPTH; the
 * caller exits EX_CONFIG. On error out may hold part of the result.
 */
int	 alias_expand(const struct conf *c, const struct addrlist *in,
	    int flags, struct addrlist *out, char *err, size_t errlen);

/*
 * Reads an alias file. Returns a table (caller frees with alias_free),
 * or NULL with the first problem in err, "FILE:LINE: reason". With
 * ALIAS_MISSING_OK a file that does not exist yields an empty table.
 * Unsupported targets are not errors: they are kept and reported when an
 * expansion meets them.
 */
struct aliases	*alias_load(const char *path, int flags, char *err,
		    size_t errlen);

/*
 * alias_load for c: NULL in *out, and 0, when c->alias_file is NULL
 * ("none"); the default file (c->alias_file_optional) may be missing.
 */
int	 alias_load_conf(const struct conf *c, struct aliases **out,
	    char *err, size_t errlen);

/* NULL-safe. */
void	 alias_free(struct aliases *);

/* The number of aliases in the table (0 for NULL). */
size_t	 alias_count(const struct aliases *);

/*
 * Where warnings of alias_resolve go: fn(arg, "FILE:LINE: text"). The
 * default, and fn NULL, is log_warnx("%s", text).
 */
void	 alias_set_warn(struct aliases *, void (*fn)(void *, const char *),
	    void *arg);

/*
 * Resolves one address: a non-local one is appended as it is; a local
 * one is looked up in al (which may be NULL: no aliases) and expanded
 * recursively; a local name without an alias, or one met again inside
 * its own expansion (a loop: "root: root, admin@x" keeps root), becomes
 * c->admin_address when set, else name@util_domain(c). Appends with
 * addrlist_add_unique. Returns 0, or -1 with "FILE:LINE: reason" in err
 * when the expansion nests deeper than ALIAS_MAXDEPTH.
 */
int	 alias_resolve(const struct aliases *al, const struct conf *c,
	    const char *addr, struct addrlist *out, char *err, size_t errlen);

/*
 * newaliases: checks the alias file of c and writes every problem to
 * report, one line each, "PROGNAME: FILE:LINE: reason", warnings as
 * "PROGNAME: FILE:LINE: warning: reason". Errors: the file cannot be
 * read (a missing default file is fine), a line that does not parse, a
 * duplicate name, nesting deeper than ALIAS_MAXDEPTH. Warnings: pipe,
 * file, :include: and error: targets, and alias loops other than a name
 * that lists itself. Returns 0 when there was no error (warnings
 * allowed), -1 otherwise; the caller exits 0 or EX_CONFIG.
 */
int	 alias_check_conf(const struct conf *c, FILE *report);

/* The same for the file at path (flags: ALIAS_MISSING_OK). */
int	 alias_check(const char *path, int flags, const struct conf *c,
	    FILE *report);

#endif
