/*
 * admin.c: postern(8), queue administration and delivery.
 *
 *	postern [-C FILE] list		the queue, as mailq shows it
 *	postern [-C FILE] purge		remove stale temporary files
 *	postern [-C FILE] flush		deliver the queue now (relay issue)
 *	postern [-C FILE] daemon	the delivery daemon (relay issue)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "queue.h"
#include "spool.h"

/* Temporary files younger than this may still be written by a live writer. */
#define PURGE_MIN_AGE	60

static void	usage(void) __attribute__((noreturn));
static void	open_spool(struct conf *, struct spool *, const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: postern [-C config] list | purge | flush | "
	    "daemon\n");
	exit(EX_USAGE);
}

static void
open_spool(struct conf *c, struct spool *s, const char *config)
{
	const char *path;
	char err[1024];
	bool must;

	path = conf_path(config, &must);
	if (conf_load(c, path, must, err, sizeof(err)) == -1)
		fatalx(EX_CONFIG, "%s", err);
	if (spool_open(s, c->spool_dir, false, err, sizeof(err)) == -1)
		fatalx(EX_TEMPFAIL, "%s", err);
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *cmd;
	struct conf c;
	struct spool s;
	struct qentry *v;
	size_t n;
	int ch, removed;

	log_init("postern");
	while ((ch = getopt(argc, argv, "+C:")) != -1) {
		switch (ch) {
		case 'C':
			config = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	cmd = argv[0];

	if (strcmp(cmd, "flush") == 0 || strcmp(cmd, "daemon") == 0)
		fatalx(EX_UNAVAILABLE, "%s is not implemented yet", cmd);
	if (strcmp(cmd, "list") == 0) {
		open_spool(&c, &s, config);
		if (queue_scan(&s, &v, &n) == -1)
			fatal(EX_TEMPFAIL, "cannot read the queue");
		queue_print(stdout, v, n);
		queue_entries_free(v, n);
	} else if (strcmp(cmd, "purge") == 0) {
		open_spool(&c, &s, config);
		if ((removed = spool_purge(&s, PURGE_MIN_AGE)) == -1)
			fatal(EX_TEMPFAIL, "cannot purge %s", c.spool_dir);
		printf("removed %d stale file%s\n", removed,
		    removed == 1 ? "" : "s");
	} else {
		log_warnx("unknown command '%s'", cmd);
		usage();
	}
	spool_close(&s);
	conf_free(&c);
	if (fflush(stdout) == EOF)
		fatal(EX_IOERR, "standard output");
	return EX_OK;
}
