/*
 * addr.h: RFC 5322 address parsing for header fields and command lines.
 *
 * The parser reads an address-list as it appears in To:, Cc:, Bcc: (and
 * the Resent- set): display names (atoms, quoted strings, RFC 2047 words),
 * angle addresses, comments (nested, with quoted-pairs), quoted local
 * parts, domain literals, groups ("undisclosed-recipients:;", "team: a@x,
 * b@y;"), obsolete routes (<@a,@b:u@h>, the route is dropped), empty list
 * elements (obs-addr-list "a@x,,b@y") and folding whitespace, CR LF or LF.
 *
 * Each address found is returned as a bare addr-spec, "local@domain", or
 * "local" when unqualified: comments, display names and whitespace outside
 * quoted strings removed, a quoted local part kept quoted exactly as
 * written. "<>" yields nothing.
 *
 * No returned address ever contains CR, LF, NUL or another control
 * character: input containing one inside an address is a syntax error.
 */
#ifndef PST_ADDR_H
#define PST_ADDR_H

#include <stdbool.h>
#include <stddef.h>

struct addrlist {
	char	**v;		/* owned strings */
	size_t	  n;
};

#define ADDRLIST_INIT { NULL, 0 }

/*
 * Parses the body of an address header (the text after "Name:"), of length
 * len (it may contain NUL bytes, which are errors inside an address).
 * Appends every address found to out (duplicates are kept; see
 * addrlist_add_unique). Returns 0, or -1 with a one-line reason in err
 * (at most errlen bytes, NUL-terminated) on a syntax error; on error,
 * out may already hold the addresses before the bad one.
 */
int	 addr_parse_list(const char *s, size_t len, struct addrlist *out,
	    char *err, size_t errlen);

/*
 * As addr_parse_list, for at most ADDR_ENDS_MAX addresses (more is an
 * error), also storing in ends[i] the offset in s just past the local part
 * of the i-th address appended to out: where "@domain" goes when it is
 * unqualified. ends must have room for ADDR_ENDS_MAX entries.
 */
#define ADDR_ENDS_MAX	1024
int	 addr_parse_list_ends(const char *s, size_t len, struct addrlist *out,
	    size_t *ends, char *err, size_t errlen);

/*
 * Parses one command-line address argument (a recipient, or the value of
 * -f/-r). Accepts "user@host", "user", "<user@host>", "Name <user@host>",
 * and for recipients also a comma-separated list (as sendmail does).
 * "<>" and "" yield an empty list. CR, LF or any other control character
 * anywhere in arg is an error (header/envelope injection). Same return
 * convention as addr_parse_list.
 */
int	 addr_parse_arg(const char *arg, struct addrlist *out, char *err,
	    size_t errlen);

/* True if addr (an addr-spec from this module) has an "@domain" part. */
bool	 addr_is_qualified(const char *addr);

/* Returns addr@domain, or a copy of addr if already qualified. Caller frees. */
char	*addr_qualify(const char *addr, const char *domain);

/*
 * Equality for duplicate suppression: the local part compares exactly,
 * the domain without regard to ASCII case.
 */
bool	 addr_equal(const char *, const char *);

/* Appends a copy of addr. */
void	 addrlist_add(struct addrlist *, const char *addr);
/* Appends a copy unless an addr_equal() address is already there. */
void	 addrlist_add_unique(struct addrlist *, const char *addr);
/* NULL-safe; frees the strings and the array and resets the list. */
void	 addrlist_free(struct addrlist *);

#endif
