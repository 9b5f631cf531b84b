/*
 * psasl.c: the SMTP AUTH (RFC 4954) client mechanisms and the choice
 * between them (see psasl.h).
 *
 * Each mechanism is one step function over raw bytes, answering by step
 * number: PLAIN (RFC 4616) sends "\0user\0pass" once; LOGIN (the de-facto
 * mechanism of draft-murchison-sasl-login) sends the user name, then the
 * password, whatever its challenges say; CRAM-MD5 (RFC 2195) answers the
 * one challenge with "user hex(HMAC-MD5(pass, challenge))". A challenge
 * beyond a mechanism's last step is an error. Adding a mechanism (SCRAM)
 * means one step function and one entry in psasl_mechs[].
 *
 * The base64 layer (base64.c) and the step counter live in the two
 * wrappers, psasl_initial and psasl_respond.
 *
 * Secrets: the password is read from the caller's string and written
 * only into a raw response buffer, sized before it is written (so no
 * realloc leaves a copy behind), wiped with explicit_bzero once encoded;
 * the HMAC digest is wiped likewise. Error messages are fixed texts: no
 * password, response or server text is ever put into err.
 *
 * Needs libcrypto (HMAC, EVP_md5), so it must not be linked into the
 * sendmail front-end.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "psasl.h"
#include "util.h"

static int	step_plain(struct psasl *, const unsigned char *, size_t,
		    struct buf *, char *, size_t);
static int	step_login(struct psasl *, const unsigned char *, size_t,
		    struct buf *, char *, size_t);
static int	step_cram_md5(struct psasl *, const unsigned char *, size_t,
		    struct buf *, char *, size_t);
static int	check_creds(const struct psasl *, char *, size_t);
static void	wipe(void *, size_t);

/*
 * Strengths leave room between entries: SCRAM-SHA-256 is to come in
 * above CRAM-MD5.
 */
static const struct psasl_mech mech_cram_md5 = {
	"CRAM-MD5", 30, false, step_cram_md5
};
static const struct psasl_mech mech_plain = {
	"PLAIN", 20, true, step_plain
};
static const struct psasl_mech mech_login = {
	"LOGIN", 10, false, step_login
};

const struct psasl_mech *const psasl_mechs[] = {
	&mech_cram_md5,
	&mech_plain,
	&mech_login,
	NULL
};

const struct psasl_mech *
psasl_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; psasl_mechs[i] != NULL; i++)
		if (strcasecmp(psasl_mechs[i]->name, name) == 0)
			return psasl_mechs[i];
	return NULL;
}

const struct psasl_mech *
psasl_choose(const char *const *conf, size_t nconf, const char *offered)
{
	const struct psasl_mech *m, *best = NULL;
	size_t i;

	if (offered == NULL)
		return NULL;
	if (nconf > 0) {
		for (i = 0; i < nconf; i++)
			if ((m = psasl_find(conf[i])) != NULL &&
			    util_word_in_list(offered, m->name, strlen(m->name)))
				return m;
		return NULL;
	}
	for (i = 0; psasl_mechs[i] != NULL; i++) {
		m = psasl_mechs[i];
		if (util_word_in_list(offered, m->name, strlen(m->name)) &&
		    (best == NULL || m->strength > best->strength))
			best = m;
	}
	return best;
}

void
psasl_init(struct psasl *s, const struct psasl_mech *mech, const char *user,
    const char *pass)
{
	s->mech = mech;
	s->user = user;
	s->pass = pass;
	s->stepno = 0;
}

int
psasl_initial(struct psasl *s, struct buf *b64out, char *err, size_t errlen)
{
	struct buf raw = BUF_INIT;

	util_errf(err, errlen, "%s", "");
	if (!s->mech->initial)
		return 0;
	if (s->stepno != 0) {
		util_errf(err, errlen, "%s initial response after the exchange "
		    "began", s->mech->name);
		return -1;
	}
	if (check_creds(s, err, errlen) == -1)
		return -1;
	if (s->mech->step(s, NULL, 0, &raw, err, errlen) == -1) {
		psasl_wipe(&raw);
		return -1;
	}
	s->stepno++;
	/* RFC 4954 4: "=" stands for an empty initial response. */
	if (raw.len == 0)
		buf_addch(b64out, '=');
	else
		base64_encode((unsigned char *)raw.data, raw.len, b64out);
	psasl_wipe(&raw);
	return 1;
}

int
psasl_respond(struct psasl *s, const char *b64challenge, size_t len,
    struct buf *b64out, char *err, size_t errlen)
{
	struct buf chal = BUF_INIT, raw = BUF_INIT;
	int rc;

	util_errf(err, errlen, "%s", "");
	if (check_creds(s, err, errlen) == -1)
		return -1;
	if (base64_decode(b64challenge, len, &chal) == -1) {
		util_errf(err, errlen, "%s challenge is not valid base64",
		    s->mech->name);
		return -1;
	}
	rc = s->mech->step(s, (unsigned char *)chal.data, chal.len, &raw,
	    err, errlen);
	buf_free(&chal);
	if (rc == -1) {
		psasl_wipe(&raw);
		return -1;
	}
	s->stepno++;
	/* An empty response to a challenge is an empty line. */
	base64_encode((unsigned char *)raw.data, raw.len, b64out);
	psasl_wipe(&raw);
	return 0;
}

void
psasl_wipe(struct buf *b)
{
	if (b == NULL)
		return;
	/* cap == 0: data is the shared static "", which holds nothing. */
	if (b->cap > 0)
		wipe(b->data, b->cap);
	buf_free(b);
}

/* RFC 4616: message = [authzid] UTF8NUL authcid UTF8NUL passwd. */
static int
step_plain(struct psasl *s, const unsigned char *chal, size_t len,
    struct buf *out, char *err, size_t errlen)
{
	size_t ulen = strlen(s->user), plen = strlen(s->pass);

	(void)chal;
	(void)len;
	if (s->stepno > 0) {
		util_errf(err, errlen, "unexpected challenge after PLAIN response");
		return -1;
	}
	/* The server's empty challenge (no initial response) is step 0. */
	buf_grow(out, ulen + plen + 2);
	buf_addch(out, '\0');
	buf_add(out, s->user, ulen);
	buf_addch(out, '\0');
	buf_add(out, s->pass, plen);
	return 0;
}

/*
 * The challenges are normally "Username:" and "Password:", but servers
 * vary the wording, so the step number alone decides the answer.
 */
static int
step_login(struct psasl *s, const unsigned char *chal, size_t len,
    struct buf *out, char *err, size_t errlen)
{
	size_t n;

	(void)chal;
	(void)len;
	switch (s->stepno) {
	case 0:
		buf_addstr(out, s->user);
		return 0;
	case 1:
		n = strlen(s->pass);
		buf_grow(out, n);
		buf_add(out, s->pass, n);
		return 0;
	default:
		util_errf(err, errlen, "unexpected challenge after LOGIN password");
		return -1;
	}
}

/* RFC 2195: "user SP digest", the digest in lowercase hex. */
static int
step_cram_md5(struct psasl *s, const unsigned char *chal, size_t len,
    struct buf *out, char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	size_t plen = strlen(s->pass);
	int rc = -1;

	if (s->stepno > 0) {
		util_errf(err, errlen,
		    "unexpected challenge after CRAM-MD5 response");
		return -1;
	}
	if (chal == NULL || len == 0) {
		util_errf(err, errlen, "empty CRAM-MD5 challenge");
		return -1;
	}
	if (plen > INT_MAX) {
		util_errf(err, errlen, "CRAM-MD5 password too long");
		return -1;
	}
	if (HMAC(EVP_md5(), s->pass, (int)plen, chal, len, md,
	    &mdlen) == NULL || mdlen == 0) {
		util_errf(err, errlen, "CRAM-MD5: HMAC-MD5 failed");
		goto done;
	}
	buf_grow(out, strlen(s->user) + 1 + 2 * (size_t)mdlen);
	buf_addstr(out, s->user);
	buf_addch(out, ' ');
	for (i = 0; i < mdlen; i++) {
		buf_addch(out, hex[md[i] >> 4]);
		buf_addch(out, hex[md[i] & 0x0f]);
	}
	rc = 0;
 done:
	wipe(md, sizeof(md));
	return rc;
}

static int
check_creds(const struct psasl *s, char *err, size_t errlen)
{
	if (s->mech == NULL) {
		util_errf(err, errlen, "no SASL mechanism");
		return -1;
	}
	if (s->user == NULL || s->user[0] == '\0') {
		util_errf(err, errlen, "%s: no user name", s->mech->name);
		return -1;
	}
	if (s->pass == NULL || s->pass[0] == '\0') {
		util_errf(err, errlen, "%s: no password", s->mech->name);
		return -1;
	}
	return 0;
}

/* Zeroes p[0..n) in a way the compiler may not drop as a dead store. */
static void
wipe(void *p, size_t n)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
#endif
}

