/*
 * psasl.h: SMTP AUTH (RFC 4954) client mechanisms behind one table.
 *
 * Each mechanism is an entry with a name, a strength (higher is better),
 * the kind of secret it needs (a password, or an OAuth 2.0 access token)
 * and one step function: given the server's decoded challenge, produce the
 * raw (not yet base64) response. psasl_choose picks the mechanism to use
 * from the configured preference list, the secrets at hand and what the
 * server offers.
 *
 * The mechanisms: SCRAM-SHA-256 and SCRAM-SHA-1 (RFC 7677, RFC 5802;
 * the server must prove that it knows the password, see psasl_finish),
 * CRAM-MD5 (RFC 2195), PLAIN (RFC 4616), LOGIN, and with an access token
 * OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's and Microsoft's format).
 *
 * Secrets: the password or token is borrowed, never copied into anything
 * but the response buffer, which the caller must psasl_wipe() after
 * sending; keys derived from it live on the stack and are wiped before a
 * step returns; psasl_clear() wipes what a SCRAM exchange keeps (the
 * expected server signature). No function here logs or puts a secret
 * into err.
 */
#ifndef PST_PSASL_H
#define PST_PSASL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct psasl;

/* What a mechanism takes as its secret (struct psasl's pass). */
enum psasl_secret {
	PSASL_PASSWORD,
	PSASL_TOKEN,		/* an OAuth 2.0 bearer access token */
};

/* psasl_choose's have: the secrets that are configured. */
#define PSASL_HAVE_PASSWORD	0x1
#define PSASL_HAVE_TOKEN	0x2

/* SCRAM iteration counts accepted from a server (RFC 7677 4: >= 4096). */
#define PSASL_SCRAM_ITER_MIN	4096
#define PSASL_SCRAM_ITER_MAX	1000000
#define PSASL_NONCE_MAX		64	/* bytes of a SCRAM client nonce */
#define PSASL_SIG_MAX		64	/* bytes of a SCRAM server signature */

struct psasl_mech {
	const char	*name;		/* "CRAM-MD5" */
	int		 strength;
	bool		 initial;	/* may send an initial response with
					   the AUTH command (RFC 4954 4) */
	enum psasl_secret secret;
	/*
	 * step 0 is the initial response (challenge NULL, len 0), only
	 * called when initial is true; later steps answer the server's
	 * 334 challenges. Returns 0 with the raw response appended to out,
	 * or -1 with a reason in err (e.g. an unexpected extra challenge).
	 */
	int		(*step)(struct psasl *, const unsigned char *challenge,
			    size_t len, struct buf *out, char *err,
			    size_t errlen);
};

struct psasl {
	const struct psasl_mech	*mech;
	const char		*user;	/* borrowed */
	const char		*pass;	/* borrowed; a secret: the password,
					   or the token for PSASL_TOKEN */
	const char		*host;	/* OAUTHBEARER host=; NULL: none */
	unsigned		 port;	/* OAUTHBEARER port=; 0: none */
	int			 stepno; /* steps taken so far */
	/* SCRAM */
	char			 nonce[PSASL_NONCE_MAX + 1]; /* "": random */
	unsigned char		 server_sig[PSASL_SIG_MAX]; /* expected */
	size_t			 server_sig_len; /* 0: not computed yet */
	bool			 verified; /* the server signature matched */
	/* OAUTHBEARER, XOAUTH2 */
	bool			 refused; /* an error challenge came */
	char			 detail[160]; /* its status, printable */
};

/* The mechanisms, strongest first; NULL-terminated. */
extern const struct psasl_mech *const psasl_mechs[];

/* The mechanism called name (case-insensitive), or NULL. */
const struct psasl_mech *psasl_find(const char *name);

/*
 * The mechanism to use: with nconf > 0, the first of conf[] (names in
 * preference order) that the server offers; with nconf == 0, the
 * strongest implemented one that the server offers: OAUTHBEARER,
 * XOAUTH2, SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN. Either
 * way only mechanisms whose secret is in have (PSASL_HAVE_*) count.
 * offered is the server's space-separated list (struct smtp_ext.auth).
 * NULL if none.
 */
const struct psasl_mech *psasl_choose(const char *const *conf, size_t nconf,
	    const char *offered, unsigned have);

/* pass: the password, or the access token for a PSASL_TOKEN mechanism. */
void	psasl_init(struct psasl *, const struct psasl_mech *,
	    const char *user, const char *pass);
/* The server's name and port for OAUTHBEARER (borrowed). */
void	psasl_set_server(struct psasl *, const char *host, unsigned port);
/*
 * Fixes the SCRAM client nonce instead of a random one: for test vectors
 * only. The nonce must be 1..PSASL_NONCE_MAX printable ASCII characters
 * other than ','. 0 or -1.
 */
int	psasl_set_nonce(struct psasl *, const char *nonce);

/*
 * The initial response for "AUTH MECH <base64>" into b64out (base64; "="
 * for an empty response, RFC 4954 4). Returns 1 if there is one, 0 if
 * the mechanism waits for a challenge first, -1 on error.
 */
int	psasl_initial(struct psasl *, struct buf *b64out, char *err,
	    size_t errlen);

/*
 * Answers one 334 challenge: b64challenge is the reply text (base64,
 * possibly empty); the base64 response goes to b64out. 0 or -1.
 */
int	psasl_respond(struct psasl *, const char *b64challenge, size_t len,
	    struct buf *b64out, char *err, size_t errlen);

/*
 * The server said 235: is the exchange complete on our side? 0 if so;
 * -1 with a reason in err if the server has not proved itself: a SCRAM
 * exchange must have verified the server signature. RFC 4954 has no
 * "additional data with success" (the server-final message comes as a
 * 334 challenge, answered with an empty line), but a server-final sent
 * as the base64 text of the 235 reply (b64data) is verified too.
 */
int	psasl_finish(struct psasl *, const char *b64data, size_t len,
	    char *err, size_t errlen);

/* Wipes the exchange's state (struct psasl entirely). NULL-safe. */
void	psasl_clear(struct psasl *);

/* Overwrites a buffer that held a secret, then frees it. NULL-safe. */
void	psasl_wipe(struct buf *);

/* base64 (RFC 4648, standard alphabet, padded). */
void	base64_encode(const unsigned char *, size_t, struct buf *out);
/*
 * Decodes, refusing characters outside the alphabet, bad padding and
 * bad lengths (whitespace is not allowed). 0 or -1.
 */
int	base64_decode(const char *, size_t, struct buf *out);

#endif
