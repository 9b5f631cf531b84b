/*
 * fuzz_alias: the alias file parser and expansion (alias.c) on arbitrary
 * file text, as /etc/aliases may hold it (it is written by hand, and
 * other mailers' tools write it too).
 *
 * The text reaches the parser as a file through a memfd. It is checked
 * as newaliases does (every name expanded, every problem reported), then
 * loaded, and the first names of its lines, and root, are resolved as
 * recipients. Pipe, file and :include: targets are never acted on.
 *
 * Checks alias.h's promises: reports and errors are lines without
 * control bytes; every resolved address is qualified, without control
 * bytes; a file that newaliases accepts also loads.
 */
#include "config.h"

#include <stdbool.h>

#include "addr.h"
#include "alias.h"
#include "conf.h"
#include "fuzz.h"

static void
nowarn(void *arg, const char *text)
{
	(void)arg;
	FUZZ_CHECK(!fuzz_has_ctl(text, strlen(text)));
}

static void
resolve(const struct aliases *al, const struct conf *c, const char *name)
{
	struct addrlist out = ADDRLIST_INIT;
	char err[512];
	size_t i;

	if (alias_resolve(al, c, name, &out, err, sizeof(err)) == -1)
		FUZZ_CHECK(err[0] != '\0' && !fuzz_has_ctl(err, strlen(err)));
	for (i = 0; i < out.n; i++) {
		FUZZ_CHECK(addr_is_qualified(out.v[i]));
		FUZZ_CHECK(!fuzz_has_ctl(out.v[i], strlen(out.v[i])));
	}
	addrlist_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *locals[] = { "localhost", "example.org" };
	struct addrlist l = ADDRLIST_INIT;
	struct aliases *al;
	struct conf c;
	const char *path;
	char err[512], name[64], *rep = NULL, *text;
	size_t replen = 0, off, k, n, i;
	FILE *fp;
	int checked;

	if (size > 64 * 1024)
		return 0;
	memset(&c, 0, sizeof(c));
	c.domain = "example.org";
	c.local_domains = locals;
	c.nlocal_domains = 2;
	path = fuzz_path(data, size);

	fp = open_memstream(&rep, &replen);
	FUZZ_CHECK(fp != NULL);
	checked = alias_check(path, 0, &c, fp);
	fclose(fp);
	for (off = 0; off < replen; off += k + 1) {
		k = strcspn(rep + off, "\n");
		FUZZ_CHECK(!fuzz_has_ctl(rep + off, k));
	}
	free(rep);

	if ((al = alias_load(path, 0, err, sizeof(err))) == NULL) {
		FUZZ_CHECK(checked == -1);
		FUZZ_CHECK(err[0] != '\0' && !fuzz_has_ctl(err, strlen(err)));
		return 0;
	}
	alias_set_warn(al, nowarn, NULL);
	resolve(al, &c, "root");
	resolve(al, &c, "Postmaster@localhost");
	/*
	 * The names the first lines define, as recipients: through the
	 * address parser, as every recipient reaches the aliases.
	 */
	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	for (off = 0, n = 0; off < size && n < 8; n++) {
		k = strcspn(text + off, ":\n");
		if (k > 0 && k < sizeof(name)) {
			memcpy(name, text + off, k);
			name[k] = '\0';
			if (addr_parse_arg(name, &l, err, sizeof(err)) == 0)
				for (i = 0; i < l.n; i++)
					resolve(al, &c, l.v[i]);
			addrlist_free(&l);
		}
		off += strcspn(text + off, "\n") + 1;
	}
	free(text);
	alias_free(al);
	return 0;
}
