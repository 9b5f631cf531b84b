/*
 * queue.c: read envelopes and list the queue (see queue.h).
 *
 * Listing reads only the head of each queue file (a few hundred bytes),
 * never a message body, so mailq stays fast with a large queue.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "envelope.h"
#include "queue.h"
#include "util.h"

#define HEAD_CHUNK	4096

static int	read_head(int, struct buf *);
static int	read_all(int, struct buf *, size_t);
static int	cmp_entry(const void *, const void *);

/* Reads until the head's empty line is in b (or EOF / the cap). */
static int
read_head(int fd, struct buf *b)
{
	ssize_t n;
	size_t scanned = 0;

	for (;;) {
		if (b->len > 0 && memmem(b->data + (scanned ? scanned - 1 : 0),
		    b->len - (scanned ? scanned - 1 : 0), "\n\n", 2) != NULL)
			return 0;
		scanned = b->len;
		if (b->len >= ENVELOPE_MAX)
			return 0;
		buf_grow(b, HEAD_CHUNK);
		n = pread(fd, b->data + b->len, HEAD_CHUNK, (off_t)b->len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
}

static int
read_all(int fd, struct buf *b, size_t max)
{
	ssize_t n;

	for (;;) {
		buf_grow(b, HEAD_CHUNK);
		n = read(fd, b->data + b->len, HEAD_CHUNK);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		if (b->len > max) {
			errno = EFBIG;
			return -1;
		}
	}
}

int
queue_read(struct spool *s, const char *qid, int fd, struct envelope *e,
    char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	struct stat st;
	int ownfd = -1, sfd, saved;

	memset(e, 0, sizeof(*e));
	if (fd < 0) {
		ownfd = openat(s->queuefd, qid,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (ownfd == -1) {
			saved = errno;
			snprintf(err, errlen, "%s", strerror(errno));
			errno = saved;
			return -1;
		}
		fd = ownfd;
	}
	if (fstat(fd, &st) == -1 || read_head(fd, &b) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	if (envelope_parse_head(e, b.data, b.len, err, errlen) == -1)
		goto fail;
	if (st.st_size != e->body_offset + e->size) {
		snprintf(err, errlen, "size mismatch: file has %lld bytes, "
		    "envelope says %lld", (long long)st.st_size,
		    (long long)(e->body_offset + e->size));
		envelope_free(e);
		goto fail;
	}
	buf_reset(&b);
	sfd = openat(s->statefd, qid, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd == -1 && errno != ENOENT) {
		snprintf(err, errlen, "state file: %s", strerror(errno));
		envelope_free(e);
		goto fail;
	}
	if (sfd != -1) {
		if (read_all(sfd, &b, ENVELOPE_MAX) == -1) {
			snprintf(err, errlen, "state file: %s",
			    strerror(errno));
			close(sfd);
			envelope_free(e);
			goto fail;
		}
		close(sfd);
		if (envelope_parse_state(e, b.data, b.len, err, errlen) == -1) {
			envelope_free(e);
			goto fail;
		}
	}
	buf_free(&b);
	if (ownfd != -1)
		close(ownfd);
	return 0;
fail:
	buf_free(&b);
	if (ownfd != -1)
		close(ownfd);
	errno = EINVAL;
	return -1;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct qentry *x = a, *y = b;

	if (x->env.arrival != y->env.arrival)
		return x->env.arrival < y->env.arrival ? -1 : 1;
	return strcmp(x->qid, y->qid);
}

int
queue_scan(struct spool *s, struct qentry **entries, size_t *np)
{
	struct qentry *v = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0;
	char err[256];
	DIR *d;
	int dfd;

	if ((dfd = dup(s->queuefd)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!qid_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		memcpy(v[n].qid, de->d_name, QID_LEN + 1);
		if (queue_read(s, de->d_name, -1, &v[n].env, err,
		    sizeof(err)) == -1) {
			if (errno == ENOENT)
				continue;	/* delivered meanwhile */
			v[n].damaged = xstrdup(err);
			v[n].env.arrival = qid_time(de->d_name);
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_entry);
	*entries = v;
	*np = n;
	return 0;
}

void
queue_entries_free(struct qentry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		envelope_free(&v[i].env);
		free(v[i].damaged);
	}
	free(v);
}

void
queue_status_read(struct spool *s, struct qstatus *st)
{
	struct buf b = BUF_INIT;
	const char *p, *end, *nl;
	long long v;
	char *e;
	int fd;

	memset(st, 0, sizeof(*st));
	if ((fd = openat(s->dirfd, "status", O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if (read_all(fd, &b, 8192) == -1 || b.len < 20 ||
	    memcmp(b.data, "postern-status 1\n", 17) != 0 ||
	    memmem(b.data, b.len, "\nend\n", 5) == NULL) {
		close(fd);
		buf_free(&b);
		return;
	}
	close(fd);
	end = b.data + b.len;
	for (p = b.data + 17; p < end && (nl = memchr(p, '\n', (size_t)(end -
	    p))) != NULL; p = nl + 1) {
		size_t n = (size_t)(nl - p);

		if (n > 5 && memcmp(p, "time ", 5) == 0) {
			v = strtoll(p + 5, &e, 10);
			if (e == nl && v > 0)
				st->time = (time_t)v;
		} else if (n > 9 && memcmp(p, "failures ", 9) == 0) {
			v = strtoll(p + 9, &e, 10);
			if (e == nl && v >= 0 && v < 1000000)
				st->failures = (unsigned)v;
		} else if (n > 6 && memcmp(p, "class ", 6) == 0 &&
		    n - 6 < sizeof(st->class)) {
			memcpy(st->class, p + 6, n - 6);
			st->class[n - 6] = '\0';
		} else if (n > 6 && memcmp(p, "error ", 6) == 0) {
			n -= 6;
			if (n >= sizeof(st->error))
				n = sizeof(st->error) - 1;
			memcpy(st->error, p + 6, n);
			st->error[n] = '\0';
		}
	}
	if (util_has_ctl(st->error, strlen(st->error)) ||
	    util_has_ctl(st->class, strlen(st->class)))
		memset(st, 0, sizeof(*st));
	buf_free(&b);
}

int
queue_status_write(struct spool *s, const struct qstatus *st)
{
	struct buf b = BUF_INIT;
	char tmp[64];
	int fd, rv = -1;

	buf_printf(&b, "postern-status 1\ntime %lld\nfailures %u\n",
	    (long long)st->time, st->failures);
	if (st->class[0] != '\0') {
		buf_addstr(&b, "class ");
		util_printable(&b, st->class, strlen(st->class));
		buf_addch(&b, '\n');
	}
	if (st->error[0] != '\0') {
		buf_addstr(&b, "error ");
		util_printable(&b, st->error, strlen(st->error));
		buf_addch(&b, '\n');
	}
	buf_addstr(&b, "end\n");
	snprintf(tmp, sizeof(tmp), "status.%ld", (long)getpid());
	fd = openat(s->tmpfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd != -1) {
		if (util_write_all(fd, b.data, b.len) == 0 &&
		    renameat(s->tmpfd, tmp, s->dirfd, "status") == 0)
			rv = 0;
		else
			unlinkat(s->tmpfd, tmp, 0);
		close(fd);
	}
	buf_free(&b);
	return rv;
}

int
queue_write_state(struct spool *s, const char *qid, const struct envelope *e)
{
	struct buf b = BUF_INIT;
	char tmp[QID_LEN + 8];
	int fd, saved;

	envelope_format_state(e, &b);
	/* only the holder of the message's lock writes its state */
	snprintf(tmp, sizeof(tmp), "%s.st", qid);
	fd = openat(s->tmpfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		goto fail;
	if (util_write_all(fd, b.data, b.len) == -1 || fsync(fd) == -1 ||
	    renameat(s->tmpfd, tmp, s->statefd, qid) == -1) {
		saved = errno;
		close(fd);
		unlinkat(s->tmpfd, tmp, 0);
		errno = saved;
		goto fail;
	}
	close(fd);
	buf_free(&b);
	return fsync(s->statefd);
fail:
	saved = errno;
	buf_free(&b);
	errno = saved;
	return -1;
}

int
queue_remove(struct spool *s, const char *qid)
{
	if (unlinkat(s->queuefd, qid, 0) == -1 && errno != ENOENT)
		return -1;
	if (unlinkat(s->statefd, qid, 0) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

void
queue_print(FILE *fp, const struct qentry *v, size_t n,
    const struct qstatus *st)
{
	struct buf b = BUF_INIT;
	const char *err;
	unsigned long long total = 0;
	char when[32];
	struct tm tm;
	size_t i, k;

	if (n == 0) {
		fprintf(fp, "Mail queue is empty\n");
		return;
	}
	fprintf(fp, "%-16s %10s %-20s  %s\n", "-Queue ID-", "--Size--",
	    "----Arrival Time----", "-Sender/Recipient-------");
	for (i = 0; i < n; i++) {
		const struct envelope *e = &v[i].env;

		if (localtime_r(&e->arrival, &tm) == NULL ||
		    strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm) == 0)
			when[0] = '\0';
		if (v[i].damaged != NULL) {
			buf_reset(&b);
			util_printable(&b, v[i].damaged, strlen(v[i].damaged));
			fprintf(fp, "%-16s %10s %-20s  %s\n", v[i].qid, "?",
			    when, "(damaged queue file)");
			fprintf(fp, "%50s(%s)\n\n", "", b.data);
			continue;
		}
		total += (unsigned long long)e->size;
		buf_reset(&b);
		util_printable(&b, e->sender[0] ? e->sender : "<>",
		    strlen(e->sender[0] ? e->sender : "<>"));
		fprintf(fp, "%-16s %10lld %-20s  %s\n", v[i].qid,
		    (long long)e->size, when, b.data);
		/*
		 * The newer of the message's own last error and the last
		 * failed session (which may never have reached the message).
		 */
		err = e->error;
		if (st != NULL && st->error[0] != '\0' &&
		    st->time >= e->arrival &&
		    (err == NULL || st->time > e->last_attempt))
			err = st->error;
		if (err != NULL) {
			buf_reset(&b);
			util_printable(&b, err, strlen(err));
			fprintf(fp, "%50s(%s)\n", "", b.data);
		}
		for (k = 0; k < e->nrcpts; k++) {
			if (e->rcpts[k].state != RCPT_PENDING)
				continue;
			buf_reset(&b);
			util_printable(&b, e->rcpts[k].addr,
			    strlen(e->rcpts[k].addr));
			fprintf(fp, "%50s%s\n", "", b.data);
			if (e->rcpts[k].reason != NULL) {
				buf_reset(&b);
				util_printable(&b, e->rcpts[k].reason,
				    strlen(e->rcpts[k].reason));
				fprintf(fp, "%50s(%s)\n", "", b.data);
			}
		}
		fputc('\n', fp);
	}
	fprintf(fp, "-- %llu Kbytes in %zu Request%s.\n",
	    (total + 1023) / 1024, n, n == 1 ? "" : "s");
	buf_free(&b);
}
