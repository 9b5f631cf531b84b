/*
 * fuzz_rfc5322: a message as sendmail -t reads it: the reader (intake.c)
 * normalises line ends and finds the end of the header section, the
 * header functions (rfc5322.c) keep the fields, the recipients come from
 * To:, Cc:, Bcc: or their Resent- forms through the address parser
 * (addr.c), Bcc: is removed, and sender rewriting and header address
 * qualification (rewrite.c) edit the fields.
 *
 * Input: one byte of settings (bit 0: -i; bit 1: SMTP DATA mode as for
 * -bs; bit 2: rewrite_sender set; bit 3: rewrite_scope all), then the
 * message.
 *
 * Checks: every field stays a field (its first line starts "Name:" and
 * each further line with a blank, so no edit can add a field or start
 * the body early); the header byte count is right; addresses carry no
 * control bytes; a display name made from any header text is one line.
 */
#include "config.h"

#include <stdbool.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "intake.h"
#include "rewrite.h"
#include "rfc5322.h"
#include "fuzz.h"

static void
check_headers(const struct headers *h)
{
	size_t i, j, sum = 0;
	const struct header *f;

	for (i = 0; i < h->n; i++) {
		f = &h->v[i];
		sum += f->rawlen;
		FUZZ_CHECK(f->raw[f->rawlen] == '\0');
		FUZZ_CHECK(f->namelen > 0 && f->namelen < f->valoff);
		FUZZ_CHECK(f->valoff <= f->rawlen);
		FUZZ_CHECK(rfc5322_field_start(f->raw, f->rawlen) ==
		    f->namelen);
		for (j = 0; j + 1 < f->rawlen; j++)
			if (f->raw[j] == '\n')
				FUZZ_CHECK(f->raw[j + 1] == ' ' ||
				    f->raw[j + 1] == '\t');
	}
	FUZZ_CHECK(sum == h->bytes);
}

static void
recipients(const struct headers *h)
{
	static const char *const names[] = { "To", "Cc", "Bcc", "Resent-To",
	    "Resent-Cc", "Resent-Bcc", NULL };
	struct addrlist l = ADDRLIST_INIT;
	struct buf v = BUF_INIT;
	char err[256];
	size_t i, k;

	for (i = 0; i < h->n; i++) {
		for (k = 0; names[k] != NULL; k++)
			if (header_is(&h->v[i], names[k]))
				break;
		if (names[k] == NULL)
			continue;
		buf_reset(&v);
		header_unfold(&h->v[i], &v);
		FUZZ_CHECK(v.data[v.len] == '\0');
		if (addr_parse_list(v.data, v.len, &l, err, sizeof(err)) == -1)
			FUZZ_CHECK(err[0] != '\0');
	}
	for (i = 0; i < l.n; i++)
		FUZZ_CHECK(!fuzz_has_ctl(l.v[i], strlen(l.v[i])));
	addrlist_free(&l);
	buf_free(&v);
}

static void
display_name(const struct headers *h)
{
	const struct header *f;
	struct buf v = BUF_INIT, d = BUF_INIT;

	if ((f = headers_find(h, "Subject")) == NULL)
		return;
	header_unfold(f, &v);
	/* A name from -F or GECOS: a C string without control bytes. */
	if (!fuzz_has_ctl(v.data, v.len) && strlen(v.data) == v.len) {
		rfc5322_display_name(&d, v.data);
		FUZZ_CHECK(!fuzz_has_ctl(d.data, d.len));
	}
	buf_free(&v);
	buf_free(&d);
}

static int
sink(void *arg, const void *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *locals[] = { "localhost", "example.org" };
	struct headers h = HEADERS_INIT;
	struct buf body = BUF_INIT;
	struct reader r;
	struct conf c;
	unsigned flags;

	if (size < 1 || size > 256 * 1024)
		return 0;
	flags = data[0];
	reader_init(&r, fuzz_fd(data + 1, size - 1), (flags & 1) == 0);
	if (flags & 2)
		reader_smtp_data(&r);
	if (intake_headers(&r, &h, &body) == INTAKE_OK) {
		check_headers(&h);
		recipients(&h);
		display_name(&h);
		headers_remove(&h, "Bcc");
		headers_remove(&h, "Resent-Bcc");
		FUZZ_CHECK(headers_find(&h, "bcc") == NULL);
		check_headers(&h);

		memset(&c, 0, sizeof(c));
		c.domain = "example.org";
		c.local_domains = locals;
		c.nlocal_domains = 2;
		c.rewrite_sender = (flags & 4) ? "relay@example.org" : NULL;
		c.rewrite_scope = (flags & 8) ? CONF_SCOPE_ALL :
		    CONF_SCOPE_LOCAL;
		c.rewrite_from = true;
		(void)rewrite_headers(&c, &h);
		check_headers(&h);
		(void)intake_body(&r, sink, NULL);
	}
	headers_free(&h);
	buf_free(&body);
	reader_free(&r);
	return 0;
}
