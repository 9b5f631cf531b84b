/*
 * queue.c: read envelopes and list the queue (see queue.h).
 *
 * Listing reads only the head of each queue file, never a message body
 * beyond the first 4 KiB, so mailq stays fast with a large queue: state/
 * is listed once, and a message of under 4 KiB without a state file costs
 * an openat, one pread and a close (the short read gives its size); the
 * entries are sorted by small keys, and the listing is written 64 KiB at
 * a time (bench/scale.sh measures it against that floor).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "conf.h"
#include "envelope.h"
#include "queue.h"
#include "util.h"

#define HEAD_CHUNK	4096
#define LOCK_POLL_MS	50
#define PRINT_INDENT	50		/* mailq: the column of recipients */
#define PRINT_FLUSH	(64 * 1024)	/* mailq: bytes per write */

/* whether state/QID exists, as far as the caller knows */
enum state_hint {
	STATE_UNKNOWN,
	STATE_ABSENT,
	STATE_PRESENT,
};

/* what the listing is sorted by, apart from the entries */
struct sortkey {
	time_t		 arrival;
	uint64_t	 q0, q1;	/* the queue ID's bytes 0-7 and 8-14,
					   big-endian: compared as numbers */
	size_t		 idx;		/* index of the entry */
};

/* queue IDs, open-addressed; an empty slot starts with NUL */
struct qidset {
	char	(*slot)[QID_LEN + 1];
	size_t	  mask;
};

static int	read_head(int, struct buf *, bool *);
static int	read_entry(struct spool *, const char *, int, enum state_hint,
		    struct buf *, struct buf *, struct envelope *, char *,
		    size_t);
static uint64_t	qid_hash(const char *);
static int	qidset_load(struct qidset *, int);
static bool	qidset_has(const struct qidset *, const char *);
static int	read_all(int, struct buf *, size_t);
static int	cmp_key(const void *, const void *);
static void	sort_entries(struct qentry *, struct sortkey *, size_t);
static uint64_t	be64(const char *);
static int	cmp_name(const void *, const void *);
static void	add_printable(struct buf *, const char *);
static void	add_padded(struct buf *, const char *, size_t, size_t, bool);
static size_t	fmt_ll(char *, long long);
static void	add_note(struct buf *, const char *, const char *);
static void	json_str(struct buf *, const char *);
static void	json_time(struct buf *, time_t);

/*
 * Reads from offset 0 until the head's empty line is in b (or EOF / the
 * cap). *eofp says whether the end of the file was reached: a regular
 * file returns fewer bytes than asked only at its end, so b->len is then
 * its size and the caller needs no fstat() (a queue file of a small
 * message is read whole by the first pread).
 */
static int
read_head(int fd, struct buf *b, bool *eofp)
{
	ssize_t n;
	size_t from = 0;

	*eofp = false;
	for (;;) {
		buf_grow(b, HEAD_CHUNK);
		n = pread(fd, b->data + b->len, HEAD_CHUNK, (off_t)b->len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		if (n < HEAD_CHUNK) {
			*eofp = true;
			return 0;
		}
		if (memmem(b->data + from, b->len - from, "\n\n", 2) != NULL ||
		    b->len >= ENVELOPE_MAX)
			return 0;
		from = b->len - 1;
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
		/* a regular file returns less than asked only at its end */
		if (n < HEAD_CHUNK)
			return 0;
	}
}

enum queue_lock
queue_lock(struct spool *s, const char *qid, int wait_ms, int *fdp)
{
	struct timespec pause = { 0, LOCK_POLL_MS * 1000000L };
	struct stat st;
	int fd, waited = 0, saved;

	*fdp = -1;
	fd = openat(s->queuefd, qid, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? QUEUE_GONE : QUEUE_ERROR;
	/*
	 * Polled rather than a blocking flock() under alarm(): no signal
	 * handling, and a holder that never lets go costs wait_ms at most.
	 */
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			saved = errno;
			close(fd);
			errno = saved;
			return QUEUE_ERROR;
		}
		if (waited >= wait_ms) {
			close(fd);
			return QUEUE_BUSY;
		}
		nanosleep(&pause, NULL);
		waited += LOCK_POLL_MS;
	}
	/* finished and removed by the holder we waited for */
	if (fstat(fd, &st) == -1 || st.st_nlink == 0) {
		close(fd);
		return QUEUE_GONE;
	}
	*fdp = fd;
	return QUEUE_LOCKED;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
queue_names(struct spool *s, char ***namesp, size_t *np)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d;
	int dfd, saved;

	*namesp = NULL;
	*np = 0;
	if ((dfd = dup(s->queuefd)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		saved = errno;
		close(dfd);
		errno = saved;
		return -1;
	}
	/* a dup()ed descriptor shares the offset of the last reader */
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!qid_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	/* queue IDs sort by arrival */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);
	*namesp = names;
	*np = n;
	return 0;
}

void
queue_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * Reads queue/QID's envelope (on fd, or opened here when fd < 0) with
 * the buffers hb and sb, which the caller reuses from one message to the
 * next. state says whether state/QID exists, when the caller listed
 * state/ (STATE_UNKNOWN: try to open it).
 */
static int
read_entry(struct spool *s, const char *qid, int fd, enum state_hint state,
    struct buf *hb, struct buf *sb, struct envelope *e, char *err,
    size_t errlen)
{
	struct stat st;
	off_t fsize;
	bool eof;
	int ownfd = -1, sfd, saved;

	memset(e, 0, sizeof(*e));
	buf_reset(hb);
	buf_reset(sb);
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
	if (read_head(fd, hb, &eof) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	if (eof)
		fsize = (off_t)hb->len;
	else if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	} else
		fsize = st.st_size;
	if (envelope_parse_head(e, hb->data, hb->len, err, errlen) == -1)
		goto fail;
	if (fsize != e->body_offset + e->size) {
		snprintf(err, errlen, "size mismatch: file has %lld bytes, "
		    "envelope says %lld", (long long)fsize,
		    (long long)(e->body_offset + e->size));
		envelope_free(e);
		goto fail;
	}
	if (state == STATE_ABSENT)
		goto done;
	sfd = openat(s->statefd, qid, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd == -1 && errno == ENOENT && state == STATE_PRESENT) {
		/*
		 * Listed a moment ago: a state file goes only after its
		 * message (queue_remove), so the message is finished.
		 */
		envelope_free(e);
		if (ownfd != -1)
			close(ownfd);
		snprintf(err, errlen, "%s", strerror(ENOENT));
		errno = ENOENT;
		return -1;
	}
	if (sfd == -1 && errno != ENOENT) {
		snprintf(err, errlen, "state file: %s", strerror(errno));
		envelope_free(e);
		goto fail;
	}
	if (sfd != -1) {
		if (read_all(sfd, sb, ENVELOPE_MAX) == -1) {
			snprintf(err, errlen, "state file: %s",
			    strerror(errno));
			close(sfd);
			envelope_free(e);
			goto fail;
		}
		close(sfd);
		if (envelope_parse_state(e, sb->data, sb->len, err,
		    errlen) == -1) {
			envelope_free(e);
			goto fail;
		}
	}
done:
	if (ownfd != -1)
		close(ownfd);
	return 0;
fail:
	if (ownfd != -1)
		close(ownfd);
	errno = EINVAL;
	return -1;
}

int
queue_read(struct spool *s, const char *qid, int fd, struct envelope *e,
    char *err, size_t errlen)
{
	struct buf hb = BUF_INIT, sb = BUF_INIT;
	int rv, saved;

	rv = read_entry(s, qid, fd, STATE_UNKNOWN, &hb, &sb, e, err, errlen);
	saved = errno;
	buf_free(&hb);
	buf_free(&sb);
	errno = saved;
	return rv;
}

static uint64_t
qid_hash(const char *qid)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < QID_LEN; i++) {
		h ^= (unsigned char)qid[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * Lists state/ into set: one readdir instead of one failed open per
 * message that was never tried. 0, or -1 with errno.
 */
static int
qidset_load(struct qidset *set, int statefd)
{
	struct dirent *de;
	char (*names)[QID_LEN + 1] = NULL;
	size_t n = 0, cap = 0, i, size, h;
	DIR *d;
	int dfd, saved;

	memset(set, 0, sizeof(*set));
	if ((dfd = dup(statefd)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		saved = errno;
		close(dfd);
		errno = saved;
		return -1;
	}
	rewinddir(d);	/* the dup()ed descriptor shares its offset */
	while ((de = readdir(d)) != NULL) {
		if (!qid_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		memcpy(names[n++], de->d_name, QID_LEN + 1);
	}
	closedir(d);
	/* at most half full, so every probe sequence ends at an empty slot */
	for (size = 16; size < 2 * n; size *= 2)
		;
	set->slot = xcalloc(size, sizeof(*set->slot));
	set->mask = size - 1;
	for (i = 0; i < n; i++) {
		for (h = qid_hash(names[i]) & set->mask; set->slot[h][0] != '\0';
		    h = (h + 1) & set->mask)
			;
		memcpy(set->slot[h], names[i], QID_LEN + 1);
	}
	free(names);
	return 0;
}

static bool
qidset_has(const struct qidset *set, const char *qid)
{
	size_t h;

	for (h = qid_hash(qid) & set->mask; set->slot[h][0] != '\0';
	    h = (h + 1) & set->mask)
		if (memcmp(set->slot[h], qid, QID_LEN) == 0)
			return true;
	return false;
}

/* 8 bytes as a big-endian number: numbers compare as memcmp would. */
static uint64_t
be64(const char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | (unsigned char)p[i];
	return v;
}

static int
cmp_key(const void *a, const void *b)
{
	const struct sortkey *x = a, *y = b;

	if (x->arrival != y->arrival)
		return x->arrival < y->arrival ? -1 : 1;
	if (x->q0 != y->q0)
		return x->q0 < y->q0 ? -1 : 1;
	if (x->q1 != y->q1)
		return x->q1 < y->q1 ? -1 : 1;
	return 0;
}

/*
 * Sorts v by arrival (queue ID as tie-break) with k, the key of each
 * entry (made while the entry was being read): the keys are sorted apart,
 * 32 bytes each and side by side, then each entry is moved once to its
 * place. With 100,000 entries, comparing the entries themselves, spread
 * over megabytes, cost a cache miss per comparison.
 */
static void
sort_entries(struct qentry *v, struct sortkey *k, size_t n)
{
	struct qentry tmp;
	size_t i, j, from;

	if (n < 2)
		return;
	qsort(k, n, sizeof(*k), cmp_key);
	/* k[i].idx is where the entry that belongs at i is now: follow
	   each cycle of the permutation; a place done gets idx = itself */
	for (i = 0; i < n; i++) {
		if (k[i].idx == i)
			continue;
		tmp = v[i];
		for (j = i; k[j].idx != i; j = from) {
			from = k[j].idx;
			v[j] = v[from];
			k[j].idx = j;
		}
		v[j] = tmp;
		k[j].idx = j;
	}
}

int
queue_scan(struct spool *s, struct qentry **entries, size_t *np)
{
	struct buf hb = BUF_INIT, sb = BUF_INIT;
	struct qentry *v = NULL;
	struct sortkey *k = NULL;
	struct qidset states;
	struct dirent *de;
	enum state_hint hint;
	size_t n = 0, cap = 0;
	bool listed;
	char err[256];
	DIR *d;
	int dfd, saved;

	*entries = NULL;
	*np = 0;
	/*
	 * state/ before queue/: a state file that appears after this
	 * listing is missed, and the message shown as it was a moment ago,
	 * which is what a reader that takes no lock may show anyway.
	 */
	listed = qidset_load(&states, s->statefd) == 0;
	if ((dfd = dup(s->queuefd)) == -1)
		goto fail;
	if ((d = fdopendir(dfd)) == NULL) {
		saved = errno;
		close(dfd);
		errno = saved;
		goto fail;
	}
	rewinddir(d);
	/* in directory order, as the floor reads them: sorted at the end */
	while ((de = readdir(d)) != NULL) {
		if (!qid_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xreallocarray(v, cap, sizeof(*v));
			k = xreallocarray(k, cap, sizeof(*k));
		}
		memset(&v[n], 0, sizeof(v[n]));
		memcpy(v[n].qid, de->d_name, QID_LEN + 1);
		if (!listed)
			hint = STATE_UNKNOWN;
		else
			hint = qidset_has(&states, de->d_name) ? STATE_PRESENT :
			    STATE_ABSENT;
		if (read_entry(s, de->d_name, -1, hint, &hb, &sb, &v[n].env,
		    err, sizeof(err)) == -1) {
			if (errno == ENOENT)
				continue;	/* delivered meanwhile */
			v[n].damaged = xstrdup(err);
			v[n].env.arrival = qid_time(de->d_name);
		}
		k[n].arrival = v[n].env.arrival;
		k[n].q0 = be64(v[n].qid);
		k[n].q1 = be64(v[n].qid + 8);	/* with its NUL */
		k[n].idx = n;
		n++;
	}
	closedir(d);
	free(states.slot);	/* NULL when not listed */
	buf_free(&hb);
	buf_free(&sb);
	sort_entries(v, k, n);
	free(k);
	*entries = v;
	*np = n;
	return 0;
fail:
	saved = errno;
	free(states.slot);
	errno = saved;
	return -1;
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

/* "status", or "status-NAME" for a named account */
static void
status_name(const char *account, char *name, size_t len)
{
	if (account == NULL)
		strlcpy(name, "status", len);
	else
		snprintf(name, len, "status-%s", account);
}

void
queue_status_read(struct spool *s, const char *account, struct qstatus *st)
{
	struct buf b = BUF_INIT;
	const char *p, *end, *nl;
	char name[STATUS_NAMEMAX];
	long long v;
	char *e;
	int fd;

	memset(st, 0, sizeof(*st));
	status_name(account, name, sizeof(name));
	if ((fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW |
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
queue_status_write(struct spool *s, const char *account,
    const struct qstatus *st)
{
	struct buf b = BUF_INIT;
	char tmp[64], name[STATUS_NAMEMAX];
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
	    O_NOFOLLOW, s->fmode);
	if (fd != -1) {
		if (util_write_all(fd, b.data, b.len) == 0 &&
		    (status_name(account, name, sizeof(name)),
		    renameat(s->tmpfd, tmp, s->dirfd, name) == 0))
			rv = 0;
		else
			unlinkat(s->tmpfd, tmp, 0);
		close(fd);
	}
	buf_free(&b);
	return rv;
}

void
queue_statuses_read(struct spool *s, const struct conf *top,
    struct qstatuses *q)
{
	size_t i;

	q->n = 1 + (top != NULL ? top->naccounts : 0);
	q->names = xreallocarray(NULL, q->n, sizeof(*q->names));
	q->v = xreallocarray(NULL, q->n, sizeof(*q->v));
	for (i = 0; i < q->n; i++) {
		q->names[i] = i == 0 ? NULL : top->accounts[i - 1].account;
		queue_status_read(s, q->names[i], &q->v[i]);
	}
}

const struct qstatus *
queue_statuses_find(const struct qstatuses *q, const char *account)
{
	size_t i;

	if (q == NULL || q->n == 0)
		return NULL;
	if (account == NULL)
		return &q->v[0];
	for (i = 1; i < q->n; i++)
		if (strcmp(q->names[i], account) == 0)
			return &q->v[i];
	return NULL;
}

void
queue_statuses_free(struct qstatuses *q)
{
	free(q->names);
	free(q->v);
	memset(q, 0, sizeof(*q));
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
	    O_NOFOLLOW, s->fmode);
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

int
queue_remove_finished(struct spool *s)
{
	struct envelope e;
	char **names, err[256];
	size_t n, i;
	int fd, removed = 0;

	if (queue_names(s, &names, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (queue_lock(s, names[i], 0, &fd) != QUEUE_LOCKED)
			continue;
		if (queue_read(s, names[i], fd, &e, err, sizeof(err)) == 0) {
			if (envelope_pending(&e) == 0 &&
			    queue_remove(s, names[i]) == 0)
				removed++;
			envelope_free(&e);
		}
		close(fd);
	}
	queue_names_free(names, n);
	if (removed > 0)
		fsync(s->queuefd);
	return removed;
}

const char *
queue_last_error(const struct envelope *e, const struct qstatus *st)
{
	if (st != NULL && st->error[0] != '\0' && st->time >= e->arrival &&
	    (e->error == NULL || st->time > e->last_attempt))
		return st->error;
	return e->error;
}

int
queue_read_header(int fd, const struct envelope *e, struct buf *b,
    size_t max, bool *truncated)
{
	char chunk[HEAD_CHUNK];
	off_t off = e->body_offset, end = e->body_offset + e->size;
	size_t start = b->len, i, scan;
	ssize_t n;

	*truncated = false;
	scan = start;
	while (off < end) {
		n = pread(fd, chunk, (size_t)(end - off < (off_t)sizeof(chunk) ?
		    end - off : (off_t)sizeof(chunk)), off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		off += n;
		buf_add(b, chunk, (size_t)n);
		/* the header section ends at its first empty line */
		for (i = scan; i < b->len; i++) {
			if (b->data[i] != '\n')
				continue;
			if (i == start || b->data[i - 1] == '\n') {
				buf_truncate(b, i);
				return 0;
			}
		}
		scan = b->len;
		if (b->len - start > max) {
			/* keep whole lines */
			i = start + max;
			while (i > start && b->data[i - 1] != '\n')
				i--;
			buf_truncate(b, i);
			*truncated = true;
			return 0;
		}
	}
	/* no body: the whole message is header; end its last line */
	if (b->len > start && b->data[b->len - 1] != '\n')
		buf_addch(b, '\n');
	return 0;
}

/* s made printable as util_printable() does, printable ASCII at once */
static void
add_printable(struct buf *b, const char *s)
{
	size_t len = strlen(s), i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			break;
	if (i == len)
		buf_add(b, s, len);
	else
		util_printable(b, s, len);
}

/* s padded with blanks to width, as printf's %-*s (left) or %*s does */
static void
add_padded(struct buf *b, const char *s, size_t len, size_t width,
    bool left)
{
	size_t pad = len < width ? width - len : 0;

	buf_grow(b, len + pad);
	if (!left) {
		memset(b->data + b->len, ' ', pad);
		b->len += pad;
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	if (left) {
		memset(b->data + b->len, ' ', pad);
		b->len += pad;
	}
	b->data[b->len] = '\0';
}

/* "%lld" of v into out (at least 21 bytes, not NUL-terminated); length */
static size_t
fmt_ll(char *out, long long v)
{
	unsigned long long u;
	char tmp[24];
	size_t n = 0, i = 0;

	u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		out[i++] = '-';
	while (n > 0)
		out[i++] = tmp[--n];
	return i;
}

/* a line "%50s(%s)\n": text in parentheses under the sender column */
static void
add_note(struct buf *b, const char *prefix, const char *text)
{
	add_padded(b, "", 0, PRINT_INDENT, false);
	buf_addch(b, '(');
	if (prefix != NULL) {
		buf_addstr(b, prefix);
		buf_addstr(b, ": ");
	}
	add_printable(b, text);
	buf_addstr(b, ")\n");
}

/*
 * The listing is made in a buffer written out every PRINT_FLUSH bytes:
 * no printf per field, one write(2) per 64 KiB, the same bytes as
 * "%-16s %10lld %-20s  %s\n" and "%50s%s\n" lines would give.
 */
void
queue_print(FILE *fp, const struct qentry *v, size_t n,
    const struct qstatuses *sts)
{
	const struct qstatus *st;
	struct buf b = BUF_INIT;
	const char *err;
	unsigned long long total = 0;
	char when[32], num[24], id[QID_LEN + 2];
	time_t shown = 0;
	bool have_when = false;
	struct tm tm;
	size_t i, k, wlen = 0, len;

	if (n == 0) {
		fprintf(fp, "Mail queue is empty\n");
		return;
	}
	fprintf(fp, "%-16s %10s %-20s  %s\n", "-Queue ID-", "--Size--",
	    "----Arrival Time----", "-Sender/Recipient-------");
	for (i = 0; i < n; i++) {
		const struct envelope *e = &v[i].env;

		/* sorted by arrival: a burst shares one conversion */
		if (!have_when || e->arrival != shown) {
			if (localtime_r(&e->arrival, &tm) == NULL ||
			    (wlen = strftime(when, sizeof(when),
			    "%a %b %e %H:%M:%S", &tm)) == 0) {
				when[0] = '\0';
				wlen = 0;
			}
			shown = e->arrival;
			have_when = true;
		}
		/* Postfix's mark of a message on hold */
		len = strlen(v[i].qid);
		memcpy(id, v[i].qid, len);
		if (v[i].damaged == NULL && e->hold_since != 0)
			id[len++] = '!';
		add_padded(&b, id, len, 16, true);
		buf_addch(&b, ' ');
		if (v[i].damaged != NULL) {
			add_padded(&b, "?", 1, 10, false);
			buf_addch(&b, ' ');
			add_padded(&b, when, wlen, 20, true);
			buf_addstr(&b, "  (damaged queue file)\n");
			add_note(&b, NULL, v[i].damaged);
			buf_addch(&b, '\n');
			goto next;
		}
		total += (unsigned long long)e->size;
		len = fmt_ll(num, (long long)e->size);
		add_padded(&b, num, len, 10, false);
		buf_addch(&b, ' ');
		add_padded(&b, when, wlen, 20, true);
		buf_addstr(&b, "  ");
		add_printable(&b, e->sender[0] ? e->sender : "<>");
		buf_addch(&b, '\n');
		if (e->account != NULL)
			add_note(&b, "account", e->account);
		st = queue_statuses_find(sts, e->account);
		if ((err = queue_last_error(e, st)) != NULL)
			/* a failed session is shown with its class (contract) */
			add_note(&b, st != NULL && err == st->error &&
			    st->class[0] ? st->class : NULL, err);
		for (k = 0; k < e->nrcpts; k++) {
			if (e->rcpts[k].state != RCPT_PENDING)
				continue;
			add_padded(&b, "", 0, PRINT_INDENT, false);
			add_printable(&b, e->rcpts[k].addr);
			buf_addch(&b, '\n');
			if (e->rcpts[k].reason != NULL)
				add_note(&b, NULL, e->rcpts[k].reason);
		}
		buf_addch(&b, '\n');
next:
		if (b.len >= PRINT_FLUSH) {
			fwrite(b.data, 1, b.len, fp);
			buf_reset(&b);
		}
	}
	if (b.len > 0)
		fwrite(b.data, 1, b.len, fp);
	fprintf(fp, "-- %llu Kbytes in %zu Request%s.\n",
	    (total + 1023) / 1024, n, n == 1 ? "" : "s");
	buf_free(&b);
}

/*
 * A JSON string of s, in ASCII only: '"', '\' and control characters
 * escaped, other code points as \uXXXX (surrogate pairs above U+FFFF).
 * UTF-8 is decoded strictly (no overlong forms, no surrogates, nothing
 * above U+10FFFF); each byte that does not start a valid sequence
 * becomes U+FFFD.
 */
static void
json_str(struct buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	unsigned char lo, hi;
	size_t need, k;

	buf_addch(b, '"');
	while (*u != '\0') {
		if (*u < 0x80) {
			if (*u == '"' || *u == '\\') {
				buf_addch(b, '\\');
				buf_addch(b, (char)*u);
			} else if (*u == '\n')
				buf_addstr(b, "\\n");
			else if (*u == '\t')
				buf_addstr(b, "\\t");
			else if (*u == '\r')
				buf_addstr(b, "\\r");
			else if (*u < 0x20 || *u == 0x7f)
				buf_printf(b, "\\u%04x", *u);
			else
				buf_addch(b, (char)*u);
			u++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (*u >= 0xc2 && *u <= 0xdf) {
			need = 1;
			cp = *u & 0x1f;
		} else if (*u >= 0xe0 && *u <= 0xef) {
			need = 2;
			cp = *u & 0x0f;
			if (*u == 0xe0)
				lo = 0xa0;	/* no overlong forms */
			else if (*u == 0xed)
				hi = 0x9f;	/* no surrogates */
		} else if (*u >= 0xf0 && *u <= 0xf4) {
			need = 3;
			cp = *u & 0x07;
			if (*u == 0xf0)
				lo = 0x90;
			else if (*u == 0xf4)
				hi = 0x8f;	/* nothing above U+10FFFF */
		} else
			goto bad;
		for (k = 1; k <= need; k++) {
			if (u[k] < (k == 1 ? lo : 0x80) ||
			    u[k] > (k == 1 ? hi : 0xbf))
				goto bad;
			cp = (cp << 6) | (u[k] & 0x3f);
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			buf_printf(b, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10),
			    0xdc00 + (cp & 0x3ff));
		} else
			buf_printf(b, "\\u%04lx", cp);
		u += need + 1;
		continue;
bad:
		/* a NUL ends s, so u[k] above never reads past it */
		buf_addstr(b, "\\ufffd");
		u++;
	}
	buf_addch(b, '"');
}

/* "2026-11-26T05:45:43Z" */
static void
json_time(struct buf *b, time_t t)
{
	char when[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		buf_addstr(b, "null");
		return;
	}
	buf_printf(b, "\"%s\"", when);
}

int
queue_print_json(FILE *fp, const struct qentry *v, size_t n,
    const struct qstatuses *sts)
{
	const struct qstatus *st;
	struct buf b = BUF_INIT;
	const char *err;
	size_t i, k;
	int rv = 0;

	fputc('[', fp);
	for (i = 0; i < n; i++) {
		const struct envelope *e = &v[i].env;
		bool damaged = v[i].damaged != NULL;

		buf_reset(&b);
		buf_addstr(&b, i == 0 ? "\n{\"id\":" : ",\n{\"id\":");
		json_str(&b, v[i].qid);
		buf_addstr(&b, ",\"damaged\":");
		if (damaged)
			json_str(&b, v[i].damaged);
		else
			buf_addstr(&b, "null");
		if (damaged)
			buf_addstr(&b, ",\"size\":null");
		else
			buf_printf(&b, ",\"size\":%lld", (long long)e->size);
		buf_printf(&b, ",\"arrival\":%lld,\"arrival_iso\":",
		    (long long)e->arrival);
		json_time(&b, e->arrival);
		buf_addstr(&b, ",\"sender\":");
		if (damaged)
			buf_addstr(&b, "null");
		else
			json_str(&b, e->sender);
		buf_addstr(&b, ",\"account\":");
		if (damaged)
			buf_addstr(&b, "null");
		else
			json_str(&b, e->account != NULL ? e->account :
			    "default");
		buf_printf(&b, ",\"held\":%s,\"hold_since\":%lld",
		    e->hold_since != 0 ? "true" : "false",
		    (long long)e->hold_since);
		buf_printf(&b, ",\"attempts\":%u,\"last_attempt\":%lld,"
		    "\"next_attempt\":%lld,\"error\":", e->attempts,
		    (long long)e->last_attempt, (long long)e->next_attempt);
		st = queue_statuses_find(sts, e->account);
		if (!damaged && (err = queue_last_error(e, st)) != NULL)
			json_str(&b, err);
		else
			buf_addstr(&b, "null");
		buf_addstr(&b, ",\"recipients\":[");
		for (k = 0; k < e->nrcpts; k++) {
			const struct rcpt *r = &e->rcpts[k];

			buf_addstr(&b, k == 0 ? "{\"address\":" :
			    ",{\"address\":");
			json_str(&b, r->addr);
			buf_printf(&b, ",\"state\":\"%s\",\"reason\":",
			    envelope_rcpt_state_names[r->state]);
			if (r->reason != NULL)
				json_str(&b, r->reason);
			else
				buf_addstr(&b, "null");
			buf_addch(&b, '}');
		}
		buf_addstr(&b, "]}");
		if (fwrite(b.data, 1, b.len, fp) != b.len)
			rv = -1;
	}
	fputs(n > 0 ? "\n]\n" : "]\n", fp);
	buf_free(&b);
	if (ferror(fp))
		rv = -1;
	return rv;
}
