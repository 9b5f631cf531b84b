/*
 * fuzz_envelope: the spool's envelope records (envelope.c) on arbitrary
 * bytes: a queue file head and a state file, as a damaged, truncated or
 * foreign file in the spool may hold them.
 *
 * Checks envelope.h's promises: a parsed head has a sender and
 * recipients without control bytes and a body offset inside the input; a
 * state file that fails to parse leaves the envelope unchanged; what
 * parses formats back into text that parses to the same envelope.
 */
#include "config.h"

#include <stdbool.h>

#include "buf.h"
#include "envelope.h"
#include "fuzz.h"

static void
check_env(const struct envelope *e)
{
	size_t i;

	FUZZ_CHECK(e->sender != NULL);
	FUZZ_CHECK(!fuzz_has_ctl(e->sender, strlen(e->sender)));
	for (i = 0; i < e->nrcpts; i++) {
		FUZZ_CHECK(e->rcpts[i].addr != NULL);
		FUZZ_CHECK(!fuzz_has_ctl(e->rcpts[i].addr,
		    strlen(e->rcpts[i].addr)));
		FUZZ_CHECK(e->rcpts[i].state == RCPT_PENDING ||
		    e->rcpts[i].state == RCPT_SENT ||
		    e->rcpts[i].state == RCPT_FAILED);
	}
	(void)envelope_pending(e);
	(void)envelope_age(e, 1764135352);
}

static bool
same_rcpts(const struct envelope *a, const struct envelope *b)
{
	size_t i;

	if (a->nrcpts != b->nrcpts)
		return false;
	for (i = 0; i < a->nrcpts; i++)
		if (strcmp(a->rcpts[i].addr, b->rcpts[i].addr) != 0 ||
		    a->rcpts[i].state != b->rcpts[i].state)
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope e, f;
	struct buf b = BUF_INIT;
	char err[256];
	size_t so, bo, nr;
	const char *p = (const char *)data;

	memset(&e, 0, sizeof(e));
	if (envelope_parse_head(&e, p, size, err, sizeof(err)) == 0) {
		check_env(&e);
		FUZZ_CHECK(e.body_offset >= 0 && (size_t)e.body_offset <= size);
		envelope_format_head(&e, &b, &so, &bo);
		FUZZ_CHECK(so < b.len && bo < b.len);
		memset(&f, 0, sizeof(f));
		FUZZ_CHECK(envelope_parse_head(&f, b.data, b.len, err,
		    sizeof(err)) == 0);
		FUZZ_CHECK(strcmp(e.sender, f.sender) == 0);
		FUZZ_CHECK(same_rcpts(&e, &f));
		envelope_free(&f);

		/* The same input as a state file over this envelope. */
		nr = e.nrcpts;
		if (envelope_parse_state(&e, p, size, err, sizeof(err)) == -1)
			FUZZ_CHECK(e.nrcpts == nr);
		check_env(&e);
	} else {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(e.sender == NULL && e.nrcpts == 0);
		envelope_free(&e);
		memset(&e, 0, sizeof(e));
		e.sender = strdup("s@example.org");
		FUZZ_CHECK(e.sender != NULL);
		if (envelope_parse_state(&e, p, size, err, sizeof(err)) == 0) {
			check_env(&e);
			buf_reset(&b);
			envelope_format_state(&e, &b);
			memset(&f, 0, sizeof(f));
			f.sender = strdup("s@example.org");
			FUZZ_CHECK(f.sender != NULL);
			FUZZ_CHECK(envelope_parse_state(&f, b.data, b.len, err,
			    sizeof(err)) == 0);
			FUZZ_CHECK(same_rcpts(&e, &f));
			FUZZ_CHECK(e.attempts == f.attempts);
			envelope_free(&f);
		} else
			FUZZ_CHECK(e.nrcpts == 0);
	}
	envelope_free(&e);
	buf_free(&b);
	return 0;
}
