/*
 * conf.h: the configuration file.
 *
 * Lines of "key value"; "#" at the start of a line or after a blank starts a
 * comment that runs to the end of the line;
 * blank lines are ignored. Every key of CONTRACT.md is known; an unknown
 * key, a key without a value, a bad value, a repeated single-valued key,
 * or an auth_password_file that group or others may access is an error
 * "FILE:LINE: message". Checks across keys run after the whole file.
 *
 * An "account NAME" line starts a section for another smarthost account:
 * the per-account keys after it (smarthost, tls*, auth_*, oauth_*,
 * rewrite_*, senders) fill that account until the next account line; a
 * global key there is an error. See struct conf and postern.conf(5).
 *
 * The front-end (sendmail) reads this file too, so loading it never reads
 * the password file's contents: it only stat()s it (and the OAuth client
 * secret and refresh token files); and it never runs
 * auth_password_command or auth_token_command nor asks the OAuth token
 * endpoint: only the delivery worker does (deliver.c).
 */
#ifndef PST_CONF_H
#define PST_CONF_H

#include <stdbool.h>
#include <stddef.h>

enum conf_tls {
	CONF_TLS_STARTTLS,
	CONF_TLS_SMTPS,
	CONF_TLS_NONE,
};

enum conf_scope {
	CONF_SCOPE_LOCAL,	/* local senders only */
	CONF_SCOPE_ALL,		/* every sender */
};

enum conf_log_level {
	CONF_LOG_INFO,		/* one line per event */
	CONF_LOG_DEBUG,		/* also the SMTP dialogue, at LOG_DEBUG */
};

struct hostport {
	char		*host;		/* name, IPv4 or IPv6 text, no brackets */
	unsigned	 port;		/* 0: the default for the tls mode */
};

/*
 * One struct conf is one account: the top level (the keys before the
 * first "account NAME" line) is the default account and holds the named
 * ones in accounts[]. A named account has its own copy of every global
 * key (spool_dir, domain, timeouts...), so any struct conf can be handed
 * to delivery or rewriting alone; the per-account keys it does not set
 * have their compiled-in defaults, never the top level's values.
 */
struct conf {
	char		*path;		/* file read; NULL if none was */
	char		*account;	/* NULL: the default account */
	char		**senders;	/* routing patterns: "a@b", "*@b" */
	size_t		 nsenders;
	struct conf	*accounts;	/* the top level only: named accounts, */
	size_t		 naccounts;	/* in the order of the file */

	struct hostport	*smarthosts;	/* failover order */
	size_t		 nsmarthosts;
	enum conf_tls	 tls;
	bool		 tls_verify;
	char		*tls_ca_file;	/* NULL: the system store */
	char		*auth_user;	/* NULL: no AUTH */
	char		*auth_password_file;
	char		*auth_password_command;	/* sh -c; first line: password */
	char		*auth_token_command;	/* sh -c; first line: token */
	/*
	 * The built-in OAuth 2.0 token client (oauth.h), the alternative to
	 * auth_token_command: set when oauth_token_url is. With a refresh
	 * token file, the refresh-token grant; without, client credentials.
	 */
	char		*oauth_token_url;	/* https://... */
	char		*oauth_client_id;
	char		*oauth_client_secret_file; /* NULL: a public client */
	char		*oauth_refresh_token_file;
	char		*oauth_scope;	/* blank-separated, one space */
	/*
	 * The authorities for the token endpoint: NULL, those of the
	 * smarthost (tls_ca_file); "" ("system"), the system store.
	 */
	char		*oauth_ca_file;
	char		**auth_mechanisms; /* upper case, preference order */
	size_t		 nauth_mechanisms; /* 0: the built-in preference */
	char		*spool_dir;	/* never NULL after conf_load */
	char		*helo_name;	/* NULL: the host's FQDN */
	char		*domain;	/* NULL: /etc/mailname, else the FQDN */
	/* local recipients (alias.h) */
	char		*alias_file;	/* NULL: none */
	bool		 alias_file_optional; /* the default: may be missing */
	char		*admin_address;	/* NULL: qualify with the domain */
	char		**local_domains; /* lower case */
	size_t		 nlocal_domains; /* 0: localhost and the FQDN */
	/* sender rewriting (rewrite.h) */
	char		*rewrite_sender; /* NULL: none */
	enum conf_scope	 rewrite_scope;
	bool		 rewrite_from;	/* From: too, not only the envelope */
	/* delivery limits, in seconds */
	unsigned	 connect_timeout;	/* TCP connect, TLS handshake */
	unsigned	 command_timeout;	/* each reply, each body write */
	unsigned	 data_timeout;		/* the reply to the final dot */
	unsigned	 queue_lifetime;	/* then undelivered mail bounces */
	enum conf_log_level log_level;
	bool		 secrets_later;	/* conf_load's CONF_SECRETS_LATER */
};

/*
 * The file to read: cmdline (-C) if not NULL, else $POSTERN_CONFIG if set
 * and not empty, else the compiled-in $(sysconfdir)/postern.conf.
 * *explicit is set when the file was named by -C or the environment.
 */
const char	*conf_path(const char *cmdline, bool *explicit);

/* conf_load flags */
#define CONF_MUST_EXIST		0x1	/* a missing file is an error */
/*
 * Leave the existence and mode of auth_password_file (and of the OAuth
 * client secret and refresh token files) to the delivery worker,
 * which refuses an unsafe file for the message (it stays queued with that
 * error) instead of refusing to run at all.
 */
#define CONF_SECRETS_LATER	0x2

/*
 * Fills c from the file at path. When the file does not exist and
 * CONF_MUST_EXIST is not in flags, c holds the defaults and 0 is returned
 * (a fresh install without a configuration can still queue mail).
 * Returns 0, or -1 with a one-line message "FILE:LINE: reason" (or
 * "FILE: reason") in err. On error c is left freed (conf_free is still
 * safe to call).
 */
int		 conf_load(struct conf *c, const char *path, int flags,
		    char *err, size_t errlen);

/* NULL-safe; frees every field and resets c to zero. */
void		 conf_free(struct conf *c);

/*
 * The account for a message from sender (an addr-spec, "" for <>): the
 * named account with sender as an exact pattern (case-insensitive), else
 * one with "*@" and the sender's domain, else top (the default account).
 */
const struct conf *conf_route(const struct conf *top, const char *sender);

/*
 * The account called name: top for NULL, "" or "default"; NULL when
 * there is none of that name.
 */
const struct conf *conf_account(const struct conf *top, const char *name);

/* "default" for the top level, else the account's name. */
const char	*conf_account_name(const struct conf *c);

/* The port to use for hp: its own, else 587/465/25 by tls mode. */
unsigned	 conf_port(const struct conf *c, const struct hostport *hp);

/*
 * Pure value parsers, unit-tested. Each returns 0, or -1 with a short
 * reason in err (no file or line; conf_load adds them).
 */
/* "host", "host:port", "[v6addr]", "[v6addr]:port", "1.2.3.4:25". */
int	 conf_parse_hostport(const char *s, struct hostport *out,
	    char *err, size_t errlen);	/* out->host: caller frees */
int	 conf_parse_bool(const char *s, bool *out, char *err, size_t errlen);
int	 conf_parse_tls(const char *s, enum conf_tls *out, char *err,
	    size_t errlen);
/*
 * A duration: a number of seconds, or a number followed by s, m, h or d;
 * from 1 second to 365 days.
 */
int	 conf_parse_duration(const char *s, unsigned *seconds, char *err,
	    size_t errlen);
/*
 * One address for admin_address and rewrite_sender: an addr-spec with a
 * domain, optionally in angle brackets or with a display name (dropped).
 * *out: the bare addr-spec; caller frees.
 */
int	 conf_parse_address(const char *s, char **out, char *err,
	    size_t errlen);
/*
 * An account name: 1 to 64 bytes of letters, digits, ".", "_" and "-",
 * starting with a letter or digit; "default" is taken.
 */
int	 conf_parse_account_name(const char *s, char *err, size_t errlen);
/*
 * A senders pattern: an addr-spec with a domain, or "*@domain". *out:
 * the pattern with its domain in lower case; caller frees.
 */
int	 conf_parse_sender_pattern(const char *s, char **out, char *err,
	    size_t errlen);
/* "info" or "debug". */
int	 conf_parse_log_level(const char *s, enum conf_log_level *out,
	    char *err, size_t errlen);
/* "local" or "all". */
int	 conf_parse_scope(const char *s, enum conf_scope *out, char *err,
	    size_t errlen);
/* True if name is a SASL mechanism postern implements (case-insensitive). */
bool	 conf_mechanism_known(const char *name);
/* True if name is a known mechanism that takes an OAuth 2.0 access token. */
bool	 conf_mechanism_token(const char *name);

#endif
