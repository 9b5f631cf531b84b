/*
 * fuzz_addr: the RFC 5322 address parser (addr.c) on arbitrary bytes, as
 * it meets them in To:/Cc:/Bcc: bodies (addr_parse_list, NUL bytes
 * included) and in command-line arguments and -f (addr_parse_arg).
 *
 * Checks addr.h's promises: no returned address holds a control byte or
 * is empty; each equals itself under addr_equal; addr_qualify yields a
 * qualified address.
 */
#include "config.h"

#include <stdbool.h>

#include "addr.h"
#include "fuzz.h"

static void
check_list(const struct addrlist *l)
{
	char *q;
	size_t i, n;

	for (i = 0; i < l->n; i++) {
		n = strlen(l->v[i]);
		FUZZ_CHECK(n > 0);
		FUZZ_CHECK(!fuzz_has_ctl(l->v[i], n));
		FUZZ_CHECK(addr_equal(l->v[i], l->v[i]));
		q = addr_qualify(l->v[i], "example.org");
		FUZZ_CHECK(addr_is_qualified(q));
		free(q);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addrlist l = ADDRLIST_INIT, u = ADDRLIST_INIT;
	char err[256], *arg;
	size_t i;

	if (addr_parse_list((const char *)data, size, &l, err,
	    sizeof(err)) == -1)
		FUZZ_CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
	check_list(&l);
	for (i = 0; i < l.n; i++)
		addrlist_add_unique(&u, l.v[i]);
	FUZZ_CHECK(u.n <= l.n);
	addrlist_free(&u);
	addrlist_free(&l);

	/* A command-line argument is a C string. */
	arg = malloc(size + 1);
	FUZZ_CHECK(arg != NULL);
	memcpy(arg, data, size);
	arg[size] = '\0';
	if (addr_parse_arg(arg, &l, err, sizeof(err)) == 0) {
		FUZZ_CHECK(!fuzz_has_ctl(arg, strlen(arg)));
		check_list(&l);
	}
	addrlist_free(&l);
	free(arg);
	return 0;
}
