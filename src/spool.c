/*
 * spool.c: durable enqueue (see spool.h and spool/README.md).
 *
 * Why the order matters: the queue file is written under tmp/, its size
 * field patched and the whole file fsync()ed before it is renamed into
 * queue/. Delivery only ever looks in queue/, so it never sees a message
 * that could still change or be incomplete. The rename is made durable by
 * an fsync() of queue/ before success is reported, so "exit 0" means the
 * message survives a power loss. The writer holds an flock() on its
 * temporary file; spool_purge() removes only unlocked, old ones.
 *
 * The size field is a fixed-width number written as zeros first: the
 * reader checks that the file holds exactly head + size bytes, which makes
 * a torn file detectable even if a file system broke the ordering above.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "envelope.h"
#include "spool.h"
#include "util.h"

#define WBUF_SIZE	(128 * 1024)
#define QID_TRIES	100
#define WAKE_PREFIX	".wake."

static const char qid_chars[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The file being written, for spool_abort_signal(). */
static volatile sig_atomic_t active_tmpfd = -1;
static char active_name[QID_LEN + 1];

static int	open_sub(struct spool *, const char *, bool, int *);
static int	flush_wbuf(struct spool_file *);
static int	rename_noreplace(int, const char *, int, const char *);
static void	encode(char *, unsigned long long, int);

/*
 * Each directory is opened first and made only when missing: the usual
 * case, an existing spool, costs one system call per directory.
 */
static int
open_sub(struct spool *s, const char *name, bool create, int *fdp)
{
	*fdp = openat(s->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fdp == -1 && errno == ENOENT && create) {
		if (mkdirat(s->dirfd, name, 0700) == -1 && errno != EEXIST)
			return -1;
		*fdp = openat(s->dirfd, name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
	}
	/*
	 * The submission group may add to tmp/ but not list it (3730):
	 * a path descriptor is all that creating, renaming and removing
	 * a file by name needs.
	 */
	if (*fdp == -1 && errno == EACCES && strcmp(name, "tmp") == 0)
		*fdp = openat(s->dirfd, name, O_PATH | O_DIRECTORY |
		    O_CLOEXEC);
	return *fdp == -1 ? -1 : 0;
}

int
spool_open(struct spool *s, const char *dir, bool create, char *err,
    size_t errlen)
{
	static const char *const subs[] = { "tmp", "queue", "state" };
	int *fds[] = { &s->tmpfd, &s->queuefd, &s->statefd };
	struct stat st;
	size_t i;

	s->dir = NULL;
	s->dirfd = s->tmpfd = s->queuefd = s->statefd = -1;
	s->fmode = 0600;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd == -1 && errno == ENOENT && create) {
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create spool directory "
			    "%s: %s", dir, strerror(errno));
			return -1;
		}
		s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (s->dirfd == -1) {
		snprintf(err, errlen, "spool directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	/* a spool its group may read is shared with it: see spool.h */
	if (fstat(s->dirfd, &st) == 0 && (st.st_mode & S_IRGRP) != 0)
		s->fmode = 0640;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (open_sub(s, subs[i], create, fds[i]) == -1) {
			snprintf(err, errlen, "spool directory %s/%s: %s", dir,
			    subs[i], strerror(errno));
			spool_close(s);
			return -1;
		}
	}
	s->dir = xstrdup(dir);
	return 0;
}

void
spool_close(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->dirfd != -1)
		close(s->dirfd);
	if (s->tmpfd != -1)
		close(s->tmpfd);
	if (s->queuefd != -1)
		close(s->queuefd);
	if (s->statefd != -1)
		close(s->statefd);
	free(s->dir);
	s->dir = NULL;
	s->dirfd = s->tmpfd = s->queuefd = s->statefd = -1;
}

static void
encode(char *out, unsigned long long v, int nchars)
{
	int i;

	for (i = nchars - 1; i >= 0; i--) {
		out[i] = qid_chars[v & 31];
		v >>= 5;
	}
}

/*
 * 7 characters of seconds (35 bits), 4 of microseconds (20 bits), 4 of
 * randomness (20 bits): unique in practice, and creation-ordered, so a
 * directory listing sorted by name is sorted by arrival.
 */
void
qid_new(char out[QID_LEN + 1])
{
	struct timeval tv;
	unsigned int r;

	gettimeofday(&tv, NULL);
	util_random(&r, sizeof(r));
	encode(out, (unsigned long long)tv.tv_sec, 7);
	encode(out + 7, (unsigned long long)tv.tv_usec, 4);
	encode(out + 11, r & 0xfffff, 4);
	out[QID_LEN] = '\0';
}

bool
qid_valid(const char *s)
{
	size_t i;

	for (i = 0; i < QID_LEN; i++)
		if (s[i] == '\0' || strchr(qid_chars, s[i]) == NULL)
			return false;
	return s[QID_LEN] == '\0';
}

time_t
qid_time(const char *qid)
{
	unsigned long long v = 0;
	int i;

	for (i = 0; i < 7; i++)
		v = (v << 5) | (unsigned long long)(strchr(qid_chars,
		    qid[i]) - qid_chars);
	return (time_t)v;
}

int
spool_create(struct spool *s, struct spool_file *f,
    const struct envelope *e)
{
	struct buf head = BUF_INIT;
	size_t off;
	int tries, saved;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	for (tries = 0; tries < QID_TRIES; tries++) {
		qid_new(f->qid);
		f->fd = openat(s->tmpfd, f->qid, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, s->fmode);
		if (f->fd != -1 || errno != EEXIST)
			break;
	}
	if (f->fd == -1)
		return -1;
	memcpy(f->tmpname, f->qid, sizeof(f->tmpname));
	memcpy(active_name, f->qid, sizeof(active_name));
	active_tmpfd = s->tmpfd;
	/* Our lock tells spool_purge() that this writer is alive. */
	if (flock(f->fd, LOCK_EX | LOCK_NB) == -1)
		goto fail;
	/* the caller's umask must not hide the message from the group */
	if (s->fmode != 0600 && fchmod(f->fd, s->fmode) == -1)
		goto fail;
	f->wbuf = xmalloc(WBUF_SIZE);
	envelope_format_head(e, &head, &off, &f->body_off);
	f->size_off = off;
	f->head_len = (off_t)head.len;
	/* buffered with the message: spool_commit patches it in place */
	if (head.len <= WBUF_SIZE) {
		memcpy(f->wbuf, head.data, head.len);
		f->wlen = head.len;
		f->head_buffered = true;
	} else if (util_write_all(f->fd, head.data, head.len) == -1)
		goto fail;
	buf_free(&head);
	return 0;
fail:
	saved = errno;
	buf_free(&head);
	spool_abort(s, f);
	errno = saved;
	return -1;
}

static int
flush_wbuf(struct spool_file *f)
{
	if (f->wlen == 0)
		return 0;
	if (util_write_all(f->fd, f->wbuf, f->wlen) == -1)
		return -1;
	f->wlen = 0;
	f->head_buffered = false;
	return 0;
}

int
spool_write(struct spool_file *f, const void *p, size_t n)
{
	const char *c = p;
	size_t i;

	if (!f->eightbit)
		for (i = 0; i < n; i++)
			if ((unsigned char)c[i] & 0x80) {
				f->eightbit = true;
				break;
			}
	f->body_len += (off_t)n;
	if (f->wlen + n <= WBUF_SIZE) {
		memcpy(f->wbuf + f->wlen, c, n);
		f->wlen += n;
		return 0;
	}
	if (flush_wbuf(f) == -1)
		return -1;
	if (n >= WBUF_SIZE)
		return util_write_all(f->fd, c, n);
	memcpy(f->wbuf, c, n);
	f->wlen = n;
	return 0;
}

/*
 * rename() would silently replace a message that happened to have the
 * same name; RENAME_NOREPLACE (or link+unlink where the file system lacks
 * it) fails with EEXIST instead.
 */
static int
rename_noreplace(int ofd, const char *oname, int nfd, const char *nname)
{
#if defined(HAVE_RENAMEAT2) && defined(RENAME_NOREPLACE)
	if (renameat2(ofd, oname, nfd, nname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	if (linkat(ofd, oname, nfd, nname, 0) == -1)
		return -1;
	unlinkat(ofd, oname, 0);
	return 0;
}

int
spool_commit(struct spool *s, struct spool_file *f)
{
	char digits[ENVELOPE_SIZE_DIGITS + 1];
	int tries, saved;

	snprintf(digits, sizeof(digits), "%0*lld", ENVELOPE_SIZE_DIGITS,
	    (long long)f->body_len);
	/*
	 * A message that fit in the buffer is written once, head patched;
	 * a longer one has its head patched on disk.
	 */
	if (f->head_buffered) {
		memcpy(f->wbuf + f->size_off, digits, ENVELOPE_SIZE_DIGITS);
		if (f->eightbit)
			memcpy(f->wbuf + f->body_off, "8bit", 4);
		if (flush_wbuf(f) == -1)
			goto fail;
	} else {
		if (flush_wbuf(f) == -1)
			goto fail;
		errno = 0;
		if (pwrite(f->fd, digits, ENVELOPE_SIZE_DIGITS,
		    (off_t)f->size_off) != ENVELOPE_SIZE_DIGITS) {
			if (errno == 0)
				errno = EIO;
			goto fail;
		}
		if (f->eightbit && pwrite(f->fd, "8bit", 4,
		    (off_t)f->body_off) != 4) {
			if (errno == 0)
				errno = EIO;
			goto fail;
		}
	}
	if (fsync(f->fd) == -1)
		goto fail;
	for (tries = 0; tries < QID_TRIES; tries++) {
		if (rename_noreplace(s->tmpfd, f->tmpname, s->queuefd,
		    f->qid) == 0)
			break;
		if (errno != EEXIST)
			goto fail;
		qid_new(f->qid);
	}
	if (tries == QID_TRIES)
		goto fail;
	active_tmpfd = -1;
	if (fsync(s->queuefd) == -1) {
		/*
		 * The rename may not survive a crash: report failure, and
		 * take the message back so the caller's retry cannot
		 * produce a duplicate.
		 */
		saved = errno;
		unlinkat(s->queuefd, f->qid, 0);
		close(f->fd);
		f->fd = -1;
		free(f->wbuf);
		f->wbuf = NULL;
		errno = saved;
		return -1;
	}
	close(f->fd);
	f->fd = -1;
	free(f->wbuf);
	f->wbuf = NULL;
	return 0;
fail:
	saved = errno;
	spool_abort(s, f);
	errno = saved;
	return -1;
}

void
spool_abort(struct spool *s, struct spool_file *f)
{
	if (f->tmpname[0] != '\0' && active_tmpfd != -1)
		unlinkat(s->tmpfd, f->tmpname, 0);
	active_tmpfd = -1;
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	free(f->wbuf);
	f->wbuf = NULL;
	f->tmpname[0] = '\0';
}

void
spool_abort_signal(void)
{
	int fd = active_tmpfd;

	if (fd != -1) {
		active_tmpfd = -1;
		unlinkat(fd, active_name, 0);
	}
}

int
spool_purge(struct spool *s, time_t min_age)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	time_t now = time(NULL);
	int n = 0, fd, dfd;

	if ((dfd = dup(s->tmpfd)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	rewinddir(d);	/* the dup()ed descriptor shares its offset */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(s->tmpfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || now - st.st_mtime < min_age)
			continue;
		fd = openat(s->tmpfd, de->d_name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd == -1)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    unlinkat(s->tmpfd, de->d_name, 0) == 0)
			n++;
		close(fd);
	}
	closedir(d);
	if ((dfd = dup(s->statefd)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	rewinddir(d);	/* the dup()ed descriptor shares its offset */
	while ((de = readdir(d)) != NULL) {
		if (!qid_valid(de->d_name))
			continue;
		if (fstatat(s->queuefd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT &&
		    unlinkat(s->statefd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	if ((dfd = dup(s->queuefd)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	rewinddir(d);	/* the dup()ed descriptor shares its offset */
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, WAKE_PREFIX, strlen(WAKE_PREFIX)) != 0)
			continue;
		if (fstatat(s->queuefd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime >= min_age &&
		    unlinkat(s->queuefd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

void
spool_wake(struct spool *s)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "%s%ld", WAKE_PREFIX, (long)getpid());
	fd = openat(s->queuefd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		return;
	close(fd);
	unlinkat(s->queuefd, name, 0);
}
