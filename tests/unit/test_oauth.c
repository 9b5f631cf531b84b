/*
 * test_oauth.c: oauth.c.
 *
 * Run alone, it checks the pure part, oauth_fresh() (when a cached token
 * is refreshed). Run as
 *
 *   test_oauth get [-fk] [-a CAFILE] [-c CACHE] [-r REFRESHFILE]
 *       [-s SECRETFILE] [-S SCOPE] [-t SECONDS] URL CLIENT_ID
 *
 * it is the driver of tests/integration/oauth.sh: one oauth_token() call
 * (-f: OAUTH_FORCE_REFRESH; -k: no certificate verification), the token
 * on stdout as "token TOKEN", a warning on stderr as "warning: TEXT",
 * exit 0; or the error on stderr as "error: TEXT", exit 1; 2 for usage.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "oauth.h"
#include "t.h"

static int	get(int, char **);
static void	test_fresh(void);

static int
get(int argc, char **argv)
{
	struct oauth_cfg cfg;
	struct buf token = BUF_INIT;
	char err[1024], *end;
	int ch, flags = 0, rv;

	memset(&cfg, 0, sizeof(cfg));
	cfg.verify = true;
	while ((ch = getopt(argc, argv, "a:c:fkr:s:S:t:")) != -1) {
		switch (ch) {
		case 'a':
			cfg.ca_file = optarg;
			break;
		case 'c':
			cfg.cache_path = optarg;
			break;
		case 'f':
			flags |= OAUTH_FORCE_REFRESH;
			break;
		case 'k':
			cfg.verify = false;
			break;
		case 'r':
			cfg.refresh_token_file = optarg;
			break;
		case 's':
			cfg.client_secret_file = optarg;
			break;
		case 'S':
			cfg.scope = optarg;
			break;
		case 't':
			cfg.timeout = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0')
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: test_oauth get [-fk] [-a CAFILE] "
		    "[-c CACHE] [-r FILE] [-s FILE] [-S SCOPE] [-t SECONDS] "
		    "URL CLIENT_ID\n");
		return 2;
	}
	cfg.token_url = argv[optind];
	cfg.client_id = argv[optind + 1];
	rv = oauth_token(&cfg, flags, &token, err, sizeof(err));
	if (rv == 0) {
		printf("token %s\n", token.data);
		if (err[0] != '\0')
			fprintf(stderr, "warning: %s\n", err);
	} else {
		fprintf(stderr, "error: %s\n", err);
		if (token.len != 0)
			fprintf(stderr, "error: a token came with the failure\n");
	}
	if (token.cap > 0)
		OPENSSL_cleanse(token.data, token.cap);
	buf_free(&token);
	return rv == 0 ? 0 : 1;
}

static void
test_fresh(void)
{
	time_t t = 1700000000;

	T_GROUP("fresh");
	/* An hour: refreshed in the last 300 s. */
	T_OK(oauth_fresh(t, t + 3600, t), "just obtained");
	T_OK(oauth_fresh(t, t + 3600, t + 3299), "301 s left");
	T_OK(!oauth_fresh(t, t + 3600, t + 3300), "300 s left");
	T_OK(!oauth_fresh(t, t + 3600, t + 4000), "expired");
	/* 100 s: a tenth, 10 s. */
	T_OK(oauth_fresh(t, t + 100, t + 89), "short: 11 s left");
	T_OK(!oauth_fresh(t, t + 100, t + 90), "short: 10 s left");
	/* Degenerate lifetimes are never fresh. */
	T_OK(!oauth_fresh(t, t, t), "zero lifetime");
	T_OK(!oauth_fresh(t, t - 10, t - 20), "negative lifetime");
	/* 2 s: a margin of 0, usable until it expires. */
	T_OK(oauth_fresh(t, t + 2, t + 1), "2 s token after 1 s");
	T_OK(!oauth_fresh(t, t + 2, t + 2), "2 s token after 2 s");
	/* A clock set back: a little is tolerated, much is not. */
	T_OK(oauth_fresh(t, t + 3600, t - 60), "clock back 60 s");
	T_OK(!oauth_fresh(t, t + 3600, t - 301), "clock back 301 s");
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "get") == 0)
		return get(argc - 1, argv + 1);
	if (argc > 1) {
		fprintf(stderr, "usage: test_oauth [get ...]\n");
		return 2;
	}
	test_fresh();
	return t_done();
}
