/*
 * fuzz_psasl: the SMTP AUTH client mechanisms (psasl.c) against the
 * challenges of a hostile server.
 *
 * Every mechanism of psasl_mechs[] is run, so one added to the table is
 * fuzzed without a change here: the initial response when it has one,
 * then each challenge in turn through psasl_respond until the mechanism
 * refuses one. The first input byte picks how the rest is cut into
 * challenges: even, lines of base64 text as the server sends them (the
 * decoder is fuzzed too); odd, records of one length byte and that many
 * raw bytes, which are base64-encoded first (so the fuzzer reaches the
 * mechanisms' own parsing, e.g. a SCRAM server-first message).
 *
 * Checks psasl.h's promises: each response is valid base64; no error
 * text holds the password; a refused challenge has a reason.
 */
#include "config.h"

#include <stdbool.h>

#include "buf.h"
#include "psasl.h"
#include "fuzz.h"

#define USER	"user@example.org"
#define PASS	"s3cret-Pa55"
#define MAXCHAL	16

static void
check_out(const struct buf *b64, bool empty_ok)
{
	struct buf raw = BUF_INIT;

	if (b64->len == 1 && b64->data[0] == '=' && empty_ok)
		return;
	FUZZ_CHECK(base64_decode(b64->data, b64->len, &raw) == 0);
	psasl_wipe(&raw);
}

static void
check_err(const char *err, size_t errlen)
{
	FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
	FUZZ_CHECK(strstr(err, PASS) == NULL);
}

/* Splits the input into at most MAXCHAL base64 challenges. */
static size_t
challenges(const uint8_t *data, size_t size, struct buf *chal)
{
	size_t n = 0, off = 1, len;
	const uint8_t *nl;

	if (size == 0)
		return 0;
	while (off < size && n < MAXCHAL) {
		buf_init(&chal[n]);
		if ((data[0] & 1) == 0) {
			nl = memchr(data + off, '\n', size - off);
			len = nl != NULL ? (size_t)(nl - (data + off)) :
			    size - off;
			buf_add(&chal[n], data + off, len);
			off += len + 1;
		} else {
			len = data[off++];
			if (len > size - off)
				len = size - off;
			base64_encode(data + off, len, &chal[n]);
			off += len;
		}
		n++;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf chal[MAXCHAL], out = BUF_INIT;
	struct psasl s;
	char err[256];
	size_t m, i, n;
	int rc;

	if (size > 16 * 1024)
		return 0;
	n = challenges(data, size, chal);
	for (m = 0; psasl_mechs[m] != NULL; m++) {
		psasl_init(&s, psasl_mechs[m], USER, PASS);
		buf_reset(&out);
		rc = psasl_initial(&s, &out, err, sizeof(err));
		check_err(err, sizeof(err));
		if (rc == 1)
			check_out(&out, true);
		else if (rc == -1)
			continue;
		for (i = 0; i < n; i++) {
			buf_reset(&out);
			rc = psasl_respond(&s, chal[i].data, chal[i].len, &out,
			    err, sizeof(err));
			check_err(err, sizeof(err));
			if (rc == -1) {
				FUZZ_CHECK(err[0] != '\0');
				break;
			}
			check_out(&out, false);
		}
	}
	psasl_wipe(&out);
	for (i = 0; i < n; i++)
		buf_free(&chal[i]);
	return 0;
}
