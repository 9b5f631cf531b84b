/*
 * fuzz_conf: the configuration parser (conf.c) on arbitrary file text.
 *
 * The text is handed to conf_load as a file through a memfd, never as a
 * file on disk. conf_load never opens any other file (it only stat()s
 * the paths of tls_ca_file and auth_password_file) and never runs
 * anything, so a fuzzed file cannot do harm; it is loaded with and
 * without CONF_SECRETS_LATER, which skips those stat()s.
 *
 * Checks conf.h's promises: an error is one line "FILE:LINE: reason" or
 * "FILE: reason"; a loaded configuration has a spool directory and
 * smarthosts with names and ports in range; on error c is left freed.
 */
#include "config.h"

#include <stdbool.h>

#include "conf.h"
#include "fuzz.h"

static void
check_conf(const struct conf *c)
{
	size_t i;

	FUZZ_CHECK(c->spool_dir != NULL);
	for (i = 0; i < c->nsmarthosts; i++) {
		FUZZ_CHECK(c->smarthosts[i].host != NULL &&
		    c->smarthosts[i].host[0] != '\0');
		FUZZ_CHECK(c->smarthosts[i].port <= 65535);
		FUZZ_CHECK(conf_port(c, &c->smarthosts[i]) > 0);
	}
	for (i = 0; i < c->nauth_mechanisms; i++)
		FUZZ_CHECK(conf_mechanism_known(c->auth_mechanisms[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int flags[] = { CONF_MUST_EXIST | CONF_SECRETS_LATER,
	    CONF_MUST_EXIST };
	struct conf c;
	const char *path;
	char err[1024];
	size_t i;

	if (size > 64 * 1024)
		return 0;
	path = fuzz_path(data, size);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (conf_load(&c, path, flags[i], err, sizeof(err)) == 0)
			check_conf(&c);
		else {
			FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
			FUZZ_CHECK(!fuzz_has_ctl(err, strlen(err)));
			FUZZ_CHECK(c.spool_dir == NULL && c.nsmarthosts == 0);
		}
		conf_free(&c);
	}
	return 0;
}
