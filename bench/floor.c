/*
 * bench/floor.c: the floors of issue 5's enqueue benchmark, and the
 * driver that feeds postern's sendmail, so that both are measured by the
 * same code.
 *
 *   floor fsync DIR N SIZE K
 *	The durable-enqueue floor: K worker processes together write N
 *	files; per file: open(O_CREAT|O_EXCL) in DIR/tmp, write SIZE bytes,
 *	fsync, rename into DIR/queue, fsync DIR/queue. Exactly what a spool
 *	must do at least to keep a message across a crash.
 *
 *   floor spawn N K MSGFILE PROG [ARG...]
 *	K worker processes together run PROG N times, one after another in
 *	each worker: posix_spawn with stdin a pipe, the contents of MSGFILE
 *	written into it, the pipe closed, the child waited for. stdout and
 *	stderr go to /dev/null. With PROG /bin/true this is the spawn floor;
 *	with postern's sendmail it is the enqueue benchmark.
 *
 *   floor scan DIR
 *	The queue-listing floor: read the names in DIR, then per file
 *	openat, one pread of 4 KB (a queue file's head) and close. The least
 *	a listing of every message's sender and recipients has to do.
 *
 * Prints one line: "SECONDS N" (wall time of the whole batch, from before
 * the first worker starts to after the last one ends). Exits 1 if any
 * operation or child failed (the line is then not printed). Every loop is
 * bounded by N and by a 600 s deadline (alarm).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DEADLINE 600

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	_exit(1);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One worker of "fsync": files w<ID>-<i> for i in [0, n). */
static int
fsync_worker(const char *dir, int id, long n, size_t size)
{
	char tmp[4096], dst[8192], qdir[4096];
	char *buf;
	int qfd;
	long i;

	if ((buf = malloc(size)) == NULL)
		die("malloc");
	for (size_t j = 0; j < size; j++)
		buf[j] = (j % 64 == 63) ? '\n' : (char)('a' + j % 26);
	snprintf(qdir, sizeof(qdir), "%s/queue", dir);
	if ((qfd = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(qdir);
	for (i = 0; i < n; i++) {
		int fd;

		snprintf(tmp, sizeof(tmp), "%s/tmp/w%d-%ld", dir, id, i);
		snprintf(dst, sizeof(dst), "%s/w%d-%ld", qdir, id, i);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die(tmp);
		if (write_all(fd, buf, size) < 0)
			die("write");
		if (fsync(fd) < 0)
			die("fsync");
		if (close(fd) < 0)
			die("close");
		if (rename(tmp, dst) < 0)
			die("rename");
		if (fsync(qfd) < 0)
			die("fsync dir");
	}
	close(qfd);
	free(buf);
	return 0;
}

/* One worker of "spawn": n runs of argv, each fed msg. */
static int
spawn_worker(long n, const char *msg, size_t msglen, char **argv)
{
	posix_spawn_file_actions_t fa;
	long i;

	for (i = 0; i < n; i++) {
		int p[2], st;
		pid_t pid;
		int err;

		if (pipe2(p, O_CLOEXEC) < 0)
			die("pipe");
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[0], 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (err != 0) {
			errno = err;
			die(argv[0]);
		}
		close(p[0]);
		/* A child that exits without reading (/bin/true) gives EPIPE:
		 * SIGPIPE is ignored and that is not a failure. */
		if (write_all(p[1], msg, msglen) < 0 && errno != EPIPE)
			die("write to child");
		close(p[1]);
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "floor: %s: run %ld: status 0x%x\n",
			    argv[0], i, st);
			return 1;
		}
	}
	return 0;
}

/* "scan": the names first (as a lister that sorts them must), then the heads. */
static long
scan(const char *dir)
{
	char head[4096], **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;
	int dfd;

	if ((d = opendir(dir)) == NULL)
		die(dir);
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL && n < 10000000) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((names = realloc(names, cap * sizeof(*names))) == NULL)
				die("realloc");
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			die("strdup");
	}
	for (i = 0; i < n; i++) {
		int fd = openat(dfd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0 || pread(fd, head, sizeof(head), 0) < 0)
			die(names[i]);
		close(fd);
		free(names[i]);
	}
	free(names);
	closedir(d);
	return (long)n;
}

static char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &sb) < 0)
		die(path);
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		die("malloc");
	*len = 0;
	while (*len < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + *len, (size_t)sb.st_size - *len);

		if (r <= 0)
			die(path);
		*len += (size_t)r;
	}
	close(fd);
	return buf;
}

static void
usage(void)
{
	fprintf(stderr, "usage: floor fsync DIR N SIZE K\n"
	    "       floor spawn N K MSGFILE PROG [ARG...]\n"
	    "       floor scan DIR\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long n, per, extra;
	int k, w, bad = 0;
	pid_t *kids;
	double t0, t1;
	char *msg = NULL;
	size_t msglen = 0, size = 0;
	int isfsync;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "scan") == 0 && argc == 3) {
		alarm(DEADLINE);
		t0 = now();
		n = scan(argv[2]);
		printf("%.6f %ld\n", now() - t0, n);
		return 0;
	}
	isfsync = strcmp(argv[1], "fsync") == 0;
	if (isfsync && argc == 6) {
		n = atol(argv[3]);
		size = (size_t)atol(argv[4]);
		k = atoi(argv[5]);
	} else if (strcmp(argv[1], "spawn") == 0 && argc >= 6) {
		n = atol(argv[2]);
		k = atoi(argv[3]);
		msg = slurp(argv[4], &msglen);
	} else
		usage();
	if (n < 1 || k < 1 || k > 64 || n > 10000000)
		usage();
	signal(SIGPIPE, SIG_IGN);
	alarm(DEADLINE);	/* inherited by the workers: nothing runs on */
	if ((kids = calloc((size_t)k, sizeof(*kids))) == NULL)
		die("calloc");
	per = n / k;
	extra = n % k;
	t0 = now();
	for (w = 0; w < k; w++) {
		long mine = per + (w < extra);

		if ((kids[w] = fork()) < 0)
			die("fork");
		if (kids[w] == 0)
			_exit(isfsync ? fsync_worker(argv[2], w, mine, size)
			    : spawn_worker(mine, msg, msglen, argv + 5));
	}
	for (w = 0; w < k; w++) {
		int st;

		while (waitpid(kids[w], &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	}
	t1 = now();
	if (bad)
		return 1;
	printf("%.6f %ld\n", t1 - t0, n);
	return 0;
}
