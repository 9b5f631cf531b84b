/*
 * psasl.c: the SMTP AUTH (RFC 4954) client mechanisms and the choice
 * between them (see psasl.h).
 *
 * Each mechanism is one step function over raw bytes, answering by step
 * number: PLAIN (RFC 4616) sends "\0user\0pass" once; LOGIN (the de-facto
 * mechanism of draft-murchison-sasl-login) sends the user name, then the
 * password, whatever its challenges say; CRAM-MD5 (RFC 2195) answers the
 * one challenge with "user hex(HMAC-MD5(pass, challenge))". A challenge
 * beyond a mechanism's last step is an error.
 *
 * SCRAM (RFC 5802; SHA-256 per RFC 7677) takes three steps: the
 * client-first message with a random nonce, the client-final message
 * with the proof, computed from the server-first message (whose nonce
 * must extend ours and whose iteration count must lie within
 * PSASL_SCRAM_ITER_MIN..MAX), and an empty answer to the server-final
 * message once its signature verified. The expected signature is the
 * only state kept between steps; psasl_finish refuses a 235 that came
 * without a verified signature, so a server that does not know the
 * password (or a man in the middle) fails the attempt. SASLprep (RFC
 * 4013) is implemented for its ASCII subset only, where it is the
 * identity on printable characters: a user name or password with other
 * bytes is refused with a clear error rather than sent unprepared.
 *
 * OAUTHBEARER (RFC 7628) and XOAUTH2 send the access token in their
 * initial response. A server that refuses it answers with a 334 error
 * challenge (a JSON status); the client answers that with the empty
 * response the mechanism defines (XOAUTH2 an empty line, OAUTHBEARER
 * one ^A, RFC 7628 3.2.3), keeps the status for the error message, and
 * the server then fails the exchange.
 *
 * The base64 layer (base64.c) and the step counter live in the two
 * wrappers, psasl_initial and psasl_respond.
 *
 * Secrets: the password or token is read from the caller's string and
 * written only into a raw response buffer, sized before it is written (so
 * no realloc leaves a copy behind), wiped with explicit_bzero once
 * encoded; every derived key (HMAC digests, SCRAM's salted password and
 * keys) is wiped before its step returns. Error messages are fixed texts
 * or server text: no password, token, response or key is ever put into
 * err.
 *
 * Needs libcrypto (HMAC, EVP digests, PBKDF2), so it must not be linked
 * into the sendmail front-end.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "log.h"
#include "psasl.h"
#include "util.h"

static int	step_plain(struct psasl *, const unsigned char *, size_t,
		    struct buf *, char *, size_t);
static int	step_login(struct psasl *, const unsigned char *, size_t,
		    struct buf *, char *, size_t);
static int	step_cram_md5(struct psasl *, const unsigned char *, size_t,
		    struct buf *, char *, size_t);
static int	step_scram_sha256(struct psasl *, const unsigned char *,
		    size_t, struct buf *, char *, size_t);
static int	step_scram_sha1(struct psasl *, const unsigned char *,
		    size_t, struct buf *, char *, size_t);
static int	step_xoauth2(struct psasl *, const unsigned char *, size_t,
		    struct buf *, char *, size_t);
static int	step_oauthbearer(struct psasl *, const unsigned char *,
		    size_t, struct buf *, char *, size_t);
static int	scram_step(struct psasl *, const EVP_MD *,
		    const unsigned char *, size_t, struct buf *, char *,
		    size_t);
static int	scram_first(struct psasl *, struct buf *, char *, size_t);
static int	scram_final(struct psasl *, const EVP_MD *,
		    const unsigned char *, size_t, struct buf *, char *,
		    size_t);
static int	scram_verify(struct psasl *, const unsigned char *, size_t,
		    char *, size_t);
static void	scram_bare(const struct psasl *, struct buf *);
static const char *scram_attr(const unsigned char *, size_t, size_t *,
		    size_t *, char *);
static bool	nonce_ok(const char *, size_t);
static bool	saslprep_ascii(const char *);
static void	add_saslname(struct buf *, const char *);
static int	oauth_check(const struct psasl *, char *, size_t);
static void	oauth_refused(struct psasl *, const unsigned char *, size_t);
static int	check_creds(const struct psasl *, char *, size_t);
static void	wipe(void *, size_t);

/*
 * Strengths leave room between entries. A token is preferred whenever
 * one is configured (it exists only for servers that want it); SCRAM-SHA-1
 * comes only when the server offers no SCRAM-SHA-256.
 */
static const struct psasl_mech mech_oauthbearer = {
	"OAUTHBEARER", 70, true, PSASL_TOKEN, step_oauthbearer
};
static const struct psasl_mech mech_xoauth2 = {
	"XOAUTH2", 60, true, PSASL_TOKEN, step_xoauth2
};
static const struct psasl_mech mech_scram_sha256 = {
	"SCRAM-SHA-256", 50, true, PSASL_PASSWORD, step_scram_sha256
};
static const struct psasl_mech mech_scram_sha1 = {
	"SCRAM-SHA-1", 40, true, PSASL_PASSWORD, step_scram_sha1
};
static const struct psasl_mech mech_cram_md5 = {
	"CRAM-MD5", 30, false, PSASL_PASSWORD, step_cram_md5
};
static const struct psasl_mech mech_plain = {
	"PLAIN", 20, true, PSASL_PASSWORD, step_plain
};
static const struct psasl_mech mech_login = {
	"LOGIN", 10, false, PSASL_PASSWORD, step_login
};

const struct psasl_mech *const psasl_mechs[] = {
	&mech_oauthbearer,
	&mech_xoauth2,
	&mech_scram_sha256,
	&mech_scram_sha1,
	&mech_cram_md5,
	&mech_plain,
	&mech_login,
	NULL
};

/* The secret a mechanism needs, as a PSASL_HAVE_* bit. */
#define HAVE_BIT(m)	((m)->secret == PSASL_TOKEN ? PSASL_HAVE_TOKEN : \
			    PSASL_HAVE_PASSWORD)

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
psasl_choose(const char *const *conf, size_t nconf, const char *offered,
    unsigned have)
{
	const struct psasl_mech *m, *best = NULL;
	size_t i;

	if (offered == NULL)
		return NULL;
	if (nconf > 0) {
		for (i = 0; i < nconf; i++)
			if ((m = psasl_find(conf[i])) != NULL &&
			    (have & HAVE_BIT(m)) != 0 &&
			    util_word_in_list(offered, m->name,
			    strlen(m->name)))
				return m;
		return NULL;
	}
	for (i = 0; psasl_mechs[i] != NULL; i++) {
		m = psasl_mechs[i];
		if ((have & HAVE_BIT(m)) != 0 &&
		    util_word_in_list(offered, m->name, strlen(m->name)) &&
		    (best == NULL || m->strength > best->strength))
			best = m;
	}
	return best;
}

void
psasl_init(struct psasl *s, const struct psasl_mech *mech, const char *user,
    const char *pass)
{
	wipe(s, sizeof(*s));
	s->mech = mech;
	s->user = user;
	s->pass = pass;
	s->host = NULL;
	s->port = 0;
	s->stepno = 0;
}

void
psasl_set_server(struct psasl *s, const char *host, unsigned port)
{
	s->host = host;
	s->port = port;
}

int
psasl_set_nonce(struct psasl *s, const char *nonce)
{
	size_t n = nonce != NULL ? strlen(nonce) : 0;

	if (n == 0 || n > PSASL_NONCE_MAX || !nonce_ok(nonce, n))
		return -1;
	memcpy(s->nonce, nonce, n + 1);
	return 0;
}

int
psasl_finish(struct psasl *s, const char *b64data, size_t len, char *err,
    size_t errlen)
{
	struct buf raw = BUF_INIT;
	int rv;

	util_errf(err, errlen, "%s", "");
	if (s->mech == NULL || (s->mech->step != step_scram_sha256 &&
	    s->mech->step != step_scram_sha1) || s->verified)
		return 0;
	/* A server-final message in the 235 text: verify it all the same. */
	if (s->server_sig_len > 0 && len > 0 &&
	    base64_decode(b64data, len, &raw) == 0 && raw.len > 2 &&
	    memcmp(raw.data, "v=", 2) == 0) {
		rv = scram_verify(s, (unsigned char *)raw.data, raw.len, err,
		    errlen);
		buf_free(&raw);
		return rv;
	}
	buf_free(&raw);
	util_errf(err, errlen, "%s: the server accepted without proving that "
	    "it knows the password (no server signature)", s->mech->name);
	return -1;
}

void
psasl_clear(struct psasl *s)
{
	if (s != NULL)
		wipe(s, sizeof(*s));
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
		buf_free(&chal);
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
step_scram_sha256(struct psasl *s, const unsigned char *chal, size_t len,
    struct buf *out, char *err, size_t errlen)
{
	return scram_step(s, EVP_sha256(), chal, len, out, err, errlen);
}

static int
step_scram_sha1(struct psasl *s, const unsigned char *chal, size_t len,
    struct buf *out, char *err, size_t errlen)
{
	return scram_step(s, EVP_sha1(), chal, len, out, err, errlen);
}

/* RFC 5802 5: client-first, client-final, then "" to the server-final. */
static int
scram_step(struct psasl *s, const EVP_MD *md, const unsigned char *chal,
    size_t len, struct buf *out, char *err, size_t errlen)
{
	switch (s->stepno) {
	case 0:
		return scram_first(s, out, err, errlen);
	case 1:
		return scram_final(s, md, chal, len, out, err, errlen);
	case 2:
		if (scram_verify(s, chal, len, err, errlen) == -1)
			return -1;
		return 0;	/* the empty response (RFC 4954 4) */
	default:
		util_errf(err, errlen, "unexpected challenge after the %s "
		    "server-final message", s->mech->name);
		return -1;
	}
}

/* client-first-bare: "n=" saslname ",r=" c-nonce (RFC 5802 7). */
static void
scram_bare(const struct psasl *s, struct buf *b)
{
	buf_addstr(b, "n=");
	add_saslname(b, s->user);
	buf_addstr(b, ",r=");
	buf_addstr(b, s->nonce);
}

/* gs2-header "n,," (no channel binding, no authzid) and the bare part. */
static int
scram_first(struct psasl *s, struct buf *out, char *err, size_t errlen)
{
	unsigned char rnd[24];
	struct buf b = BUF_INIT;

	if (!saslprep_ascii(s->user) || !saslprep_ascii(s->pass)) {
		util_errf(err, errlen, "%s: the user name or password holds "
		    "non-ASCII or control characters, which postern cannot "
		    "SASLprep; choose another mechanism with auth_mechanisms",
		    s->mech->name);
		return -1;
	}
	if (s->nonce[0] == '\0') {
		/* 24 random bytes, base64: 32 printable characters, no ',' */
		util_random(rnd, sizeof(rnd));
		base64_encode(rnd, sizeof(rnd), &b);
		wipe(rnd, sizeof(rnd));
		if (b.len > PSASL_NONCE_MAX)
			bug("SCRAM nonce too long");
		memcpy(s->nonce, b.data, b.len + 1);
		buf_free(&b);
	}
	s->server_sig_len = 0;
	s->verified = false;
	buf_addstr(out, "n,,");
	scram_bare(s, out);
	return 0;
}

/*
 * The value of the attribute starting at p[*pos] (a single letter, '=',
 * the value up to ',' or the end): its letter in *name, the value's
 * length in *vlen, *pos past it and its ','. NULL at the end or when the
 * text is not an attribute.
 */
static const char *
scram_attr(const unsigned char *p, size_t len, size_t *pos, size_t *vlen,
    char *name)
{
	size_t i = *pos, start;

	if (i >= len || i + 2 > len || p[i + 1] != '=' ||
	    !((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
		return NULL;
	*name = (char)p[i];
	start = i + 2;
	for (i = start; i < len && p[i] != ','; i++)
		;
	*vlen = i - start;
	*pos = i < len ? i + 1 : i;
	return (const char *)p + start;
}

/*
 * server-first: [m=...,] r=nonce,s=salt,i=count[,ext]; answer with
 * client-final-without-proof ",p=" proof and remember the signature the
 * server must send.
 */
static int
scram_final(struct psasl *s, const EVP_MD *md, const unsigned char *chal,
    size_t len, struct buf *out, char *err, size_t errlen)
{
	unsigned char salted[EVP_MAX_MD_SIZE], ckey[EVP_MAX_MD_SIZE];
	unsigned char skey[EVP_MAX_MD_SIZE], stored[EVP_MAX_MD_SIZE];
	unsigned char csig[EVP_MAX_MD_SIZE], proof[EVP_MAX_MD_SIZE];
	struct buf salt = BUF_INIT, am = BUF_INIT, nonce = BUF_INIT;
	const char *name = s->mech->name, *v, *r = NULL, *sv = NULL, *iv = NULL;
	size_t pos = 0, vlen, rlen = 0, slen = 0, ilen = 0, nlen, i;
	unsigned int hlen = 0, mlen = 0;
	unsigned long iter = 0;
	size_t plen = strlen(s->pass);
	int mdlen = EVP_MD_size(md), rv = -1;
	char key;

	if (chal == NULL || len == 0 || memchr(chal, '\0', len) != NULL) {
		util_errf(err, errlen, "%s: empty or binary server-first "
		    "message", name);
		return -1;
	}
	if (len >= 2 && chal[0] == 'e' && chal[1] == '=') {
		util_errf(err, errlen, "%s: the server reports an error", name);
		return -1;
	}
	while ((v = scram_attr(chal, len, &pos, &vlen, &key)) != NULL) {
		if (key == 'm') {
			util_errf(err, errlen, "%s: the server requires an "
			    "extension postern does not know (m=)", name);
			return -1;
		}
		if (key == 'r' && r == NULL) {
			r = v;
			rlen = vlen;
		} else if (key == 's' && r != NULL && sv == NULL) {
			sv = v;
			slen = vlen;
		} else if (key == 'i' && sv != NULL && iv == NULL) {
			iv = v;
			ilen = vlen;
		} else if (iv == NULL) {
			break;		/* out of order: refused below */
		}
		/* attributes after i= are extensions, ignored */
	}
	if (r == NULL || sv == NULL || iv == NULL) {
		util_errf(err, errlen, "%s: malformed server-first message",
		    name);
		return -1;
	}
	nlen = strlen(s->nonce);
	if (rlen <= nlen || memcmp(r, s->nonce, nlen) != 0 ||
	    !nonce_ok(r, rlen)) {
		util_errf(err, errlen, "%s: the server nonce does not extend "
		    "ours", name);
		return -1;
	}
	for (i = 0; i < ilen && iv[i] >= '0' && iv[i] <= '9'; i++)
		if (iter <= PSASL_SCRAM_ITER_MAX)	/* no overflow */
			iter = iter * 10 + (unsigned long)(iv[i] - '0');
	if (ilen == 0 || i < ilen || iter < PSASL_SCRAM_ITER_MIN ||
	    iter > PSASL_SCRAM_ITER_MAX) {
		util_errf(err, errlen, "%s: iteration count %s (must be %d to "
		    "%d)", name, i < ilen || ilen == 0 ? "not a number" :
		    iter < PSASL_SCRAM_ITER_MIN ? "too low" : "too high",
		    PSASL_SCRAM_ITER_MIN, PSASL_SCRAM_ITER_MAX);
		return -1;
	}
	if (base64_decode(sv, slen, &salt) == -1 || salt.len == 0 ||
	    salt.len > INT_MAX) {
		util_errf(err, errlen, "%s: bad salt in the server-first "
		    "message", name);
		buf_free(&salt);
		return -1;
	}
	if (mdlen <= 0 || mdlen > PSASL_SIG_MAX || plen > INT_MAX) {
		util_errf(err, errlen, "%s: unusable digest", name);
		buf_free(&salt);
		return -1;
	}

	/* AuthMessage = client-first-bare "," server-first "," c-f-w-p */
	buf_add(&nonce, r, rlen);
	scram_bare(s, &am);
	buf_addch(&am, ',');
	buf_add(&am, (const char *)chal, len);
	buf_printf(&am, ",c=biws,r=%s", nonce.data);

	if (PKCS5_PBKDF2_HMAC(s->pass, (int)plen,
	    (unsigned char *)salt.data, (int)salt.len, (int)iter, md, mdlen,
	    salted) != 1 ||
	    HMAC(md, salted, mdlen, (const unsigned char *)"Client Key", 10,
	    ckey, &hlen) == NULL ||
	    EVP_Digest(ckey, (size_t)mdlen, stored, &mlen, md, NULL) != 1 ||
	    HMAC(md, stored, mdlen, (unsigned char *)am.data, am.len, csig,
	    &hlen) == NULL ||
	    HMAC(md, salted, mdlen, (const unsigned char *)"Server Key", 10,
	    skey, &hlen) == NULL ||
	    HMAC(md, skey, mdlen, (unsigned char *)am.data, am.len,
	    s->server_sig, &hlen) == NULL) {
		util_errf(err, errlen, "%s: key derivation failed", name);
		s->server_sig_len = 0;
		goto done;
	}
	s->server_sig_len = (size_t)mdlen;
	for (i = 0; i < (size_t)mdlen; i++)
		proof[i] = ckey[i] ^ csig[i];
	buf_printf(out, "c=biws,r=%s,p=", nonce.data);
	base64_encode(proof, (size_t)mdlen, out);
	rv = 0;
 done:
	wipe(salted, sizeof(salted));
	wipe(ckey, sizeof(ckey));
	wipe(skey, sizeof(skey));
	wipe(stored, sizeof(stored));
	wipe(csig, sizeof(csig));
	wipe(proof, sizeof(proof));
	buf_free(&salt);
	buf_free(&nonce);
	psasl_wipe(&am);
	return rv;
}

/* server-final: "v=" signature, or "e=" error (RFC 5802 7). */
static int
scram_verify(struct psasl *s, const unsigned char *chal, size_t len,
    char *err, size_t errlen)
{
	struct buf sig = BUF_INIT, why = BUF_INIT;
	const char *name = s->mech->name, *v;
	size_t pos = 0, vlen;
	char key;

	if (s->server_sig_len == 0) {
		util_errf(err, errlen, "%s: server-final message before the "
		    "proof", name);
		return -1;
	}
	v = chal != NULL ? scram_attr(chal, len, &pos, &vlen, &key) : NULL;
	if (v != NULL && key == 'e') {
		util_printable(&why, v, vlen < 100 ? vlen : 100);
		util_errf(err, errlen, "%s: the server refused: %s", name,
		    why.data);
		buf_free(&why);
		return -1;
	}
	if (v == NULL || key != 'v') {
		util_errf(err, errlen, "%s: no server signature in the "
		    "server-final message", name);
		return -1;
	}
	if (base64_decode(v, vlen, &sig) == -1 ||
	    sig.len != s->server_sig_len ||
	    CRYPTO_memcmp(sig.data, s->server_sig, sig.len) != 0) {
		buf_free(&sig);
		util_errf(err, errlen, "%s: the server signature does not "
		    "verify: the server does not know the password (or "
		    "someone is in the middle)", name);
		return -1;
	}
	buf_free(&sig);
	s->verified = true;
	wipe(s->server_sig, sizeof(s->server_sig));
	return 0;
}

/* RFC 5802 5.1 printable, without ',': %x21-2B / %x2D-7E. */
static bool
nonce_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	return true;
}

/*
 * SASLprep (RFC 4013) of printable ASCII is the identity (no mapping,
 * NFKC changes nothing, nothing is prohibited); anything else would need
 * the Unicode tables, so it is refused.
 */
static bool
saslprep_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* RFC 5802 7 saslname (and RFC 5801 for OAUTHBEARER): "," and "=" escaped. */
static void
add_saslname(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == ',')
			buf_addstr(b, "=2C");
		else if (*s == '=')
			buf_addstr(b, "=3D");
		else
			buf_addch(b, *s);
	}
}

/*
 * The user may hold no control character (^A separates the fields) and
 * the token must be an RFC 6750 b64token: what a token endpoint hands
 * out. A command printing something else is caught here, without the
 * text of the token in err.
 */
static int
oauth_check(const struct psasl *s, char *err, size_t errlen)
{
	const char *p;
	size_t i, n = strlen(s->pass);

	for (p = s->user; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			util_errf(err, errlen, "%s: control character in the "
			    "user name", s->mech->name);
			return -1;
		}
	for (i = 0; i < n; i++) {
		char ch = s->pass[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~+/", ch) != NULL)
			continue;
		break;
	}
	while (i > 0 && i < n && s->pass[i] == '=')
		i++;
	if (i == 0 || i < n) {
		util_errf(err, errlen, "%s: the access token is not an RFC "
		    "6750 b64token (wrong output from auth_token_command?)",
		    s->mech->name);
		return -1;
	}
	return 0;
}

/* An error challenge: keep its status (RFC 7628 3.2.2) for the log. */
static void
oauth_refused(struct psasl *s, const unsigned char *chal, size_t len)
{
	struct buf b = BUF_INIT;

	s->refused = true;
	util_printable(&b, (const char *)chal, len);
	snprintf(s->detail, sizeof(s->detail), "%s", b.data);
	if (b.len >= sizeof(s->detail) && sizeof(s->detail) > 4)
		memcpy(s->detail + sizeof(s->detail) - 4, "...", 4);
	buf_free(&b);
}

/* "user=" U ^A "auth=Bearer " T ^A ^A */
static int
step_xoauth2(struct psasl *s, const unsigned char *chal, size_t len,
    struct buf *out, char *err, size_t errlen)
{
	size_t tlen = strlen(s->pass);

	switch (s->stepno) {
	case 0:
		if (oauth_check(s, err, errlen) == -1)
			return -1;
		buf_grow(out, strlen(s->user) + tlen + 24);
		buf_addstr(out, "user=");
		buf_addstr(out, s->user);
		buf_addstr(out, "\001auth=Bearer ");
		buf_add(out, s->pass, tlen);
		buf_add(out, "\001\001", 2);
		return 0;
	case 1:
		/* the error challenge; an empty line ends the exchange */
		oauth_refused(s, chal, len);
		return 0;
	default:
		util_errf(err, errlen, "unexpected challenge after the XOAUTH2 "
		    "error challenge");
		return -1;
	}
}

/*
 * RFC 7628 3.1: gs2-header "n,a=" saslname "," then ^A host=H ^A port=P
 * ^A auth=Bearer T ^A ^A.
 */
static int
step_oauthbearer(struct psasl *s, const unsigned char *chal, size_t len,
    struct buf *out, char *err, size_t errlen)
{
	size_t tlen = strlen(s->pass);

	switch (s->stepno) {
	case 0:
		if (oauth_check(s, err, errlen) == -1)
			return -1;
		if (s->host != NULL && util_has_ctl(s->host,
		    strlen(s->host))) {
			util_errf(err, errlen, "OAUTHBEARER: bad host name");
			return -1;
		}
		buf_grow(out, 3 * strlen(s->user) + tlen + 64 +
		    (s->host != NULL ? strlen(s->host) : 0));
		buf_addstr(out, "n,a=");
		add_saslname(out, s->user);
		buf_addstr(out, ",\001");
		if (s->host != NULL && s->host[0] != '\0')
			buf_printf(out, "host=%s\001", s->host);
		if (s->port != 0)
			buf_printf(out, "port=%u\001", s->port);
		buf_addstr(out, "auth=Bearer ");
		buf_add(out, s->pass, tlen);
		buf_add(out, "\001\001", 2);
		return 0;
	case 1:
		/* RFC 7628 3.2.3: the client answers with a single ^A */
		oauth_refused(s, chal, len);
		buf_addch(out, '\001');
		return 0;
	default:
		util_errf(err, errlen, "unexpected challenge after the "
		    "OAUTHBEARER error challenge");
		return -1;
	}
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
		util_errf(err, errlen, "%s: no %s", s->mech->name,
		    s->mech->secret == PSASL_TOKEN ? "access token" :
		    "password");
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

