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
#include <stdbool.h>
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

static void	usage(const char *) __attribute__((noreturn));
static bool	open_spool(struct conf *, struct spool *, const char *);

static void
usage(const char *why)
{
	fatalx(EX_USAGE, "%s (usage: postern [-C config] list | purge | "
	    "flush | daemon)", why);
}

/* False when the spool was never created: it holds no mail. */
static bool
open_spool(struct conf *c, struct spool *s, const char *config)
{
	const char *path;
	char err[1024];
	bool must;

	path = conf_path(config, &must);
	if (conf_load(c, path, must, err, sizeof(err)) == -1)
		fatalx(EX_CONFIG, "%s", err);
	if (spool_open(s, c->spool_dir, false, err, sizeof(err)) == -1) {
		if (errno == ENOENT && access(c->spool_dir, F_OK) == -1 &&
		    errno == ENOENT)
			return false;
		fatalx(EX_TEMPFAIL, "%s", err);
	}
	return true;
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
	opterr = 0;
	while ((ch = getopt(argc, argv, "+:C:")) != -1) {
		switch (ch) {
		case 'C':
			config = optarg;
			break;
		case ':':
			usage("option -C requires an argument");
		default:
			usage("unknown option");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(argc == 0 ? "no command" : "one command only");
	cmd = argv[0];

	if (strcmp(cmd, "flush") == 0 || strcmp(cmd, "daemon") == 0)
		fatalx(EX_UNAVAILABLE, "%s is not implemented yet", cmd);
	if (strcmp(cmd, "list") == 0) {
		if (!open_spool(&c, &s, config)) {
			queue_print(stdout, NULL, 0);
			conf_free(&c);
			return EX_OK;
		}
		if (queue_scan(&s, &v, &n) == -1)
			fatal(EX_TEMPFAIL, "cannot read the queue");
		queue_print(stdout, v, n);
		queue_entries_free(v, n);
	} else if (strcmp(cmd, "purge") == 0) {
		if (!open_spool(&c, &s, config)) {
			printf("removed 0 stale files\n");
			conf_free(&c);
			return EX_OK;
		}
		if ((removed = spool_purge(&s, PURGE_MIN_AGE)) == -1)
			fatal(EX_TEMPFAIL, "cannot purge %s", c.spool_dir);
		printf("removed %d stale file%s\n", removed,
		    removed == 1 ? "" : "s");
	} else
		usage("unknown command");
	spool_close(&s);
	conf_free(&c);
	if (fflush(stdout) == EOF)
		fatal(EX_IOERR, "standard output");
	return EX_OK;
}
