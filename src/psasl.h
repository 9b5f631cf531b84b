/*
 * psasl.h: SMTP AUTH (RFC 4954) client mechanisms behind one table.
 *
 * Each mechanism is an entry with a name, a strength (higher is better)
 * and one step function: given the server's decoded challenge, produce the
 * raw (not yet base64) response. psasl_choose picks the mechanism to use
 * from the configured preference list and what the server offers.
 *
 * Secrets: the password is borrowed, never copied into anything but the
 * response buffer, which the caller must psasl_wipe() after sending; no
 * function here logs or puts a secret into err.
 */
#ifndef PST_PSASL_H
#define PST_PSASL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct psasl;

struct psasl_mech {
	const char	*name;		/* "CRAM-MD5" */
	int		 strength;
	bool		 initial;	/* may send an initial response with
					   the AUTH command (RFC 4954 4) */
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
	const char		*pass;	/* borrowed; a secret */
	int			 stepno; /* steps taken so far */
};

/* The mechanisms, strongest first; NULL-terminated. */
extern const struct psasl_mech *const psasl_mechs[];

/* The mechanism called name (case-insensitive), or NULL. */
const struct psasl_mech *psasl_find(const char *name);

/*
 * The mechanism to use: with nconf > 0, the first of conf[] (names in
 * preference order) that the server offers; with nconf == 0, the
 * strongest implemented one that the server offers. offered is the
 * server's space-separated list (struct smtp_ext.auth). NULL if none.
 */
const struct psasl_mech *psasl_choose(const char *const *conf, size_t nconf,
	    const char *offered);

void	psasl_init(struct psasl *, const struct psasl_mech *,
	    const char *user, const char *pass);

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
