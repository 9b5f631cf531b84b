/*
 * fuzz_smtpd: the sendmail -bs server (smtpd.c) and the message reader
 * under it (intake.c) on an arbitrary client session.
 *
 * The input is the client's whole byte stream, read from a memfd; the
 * replies go to a second memfd. Each message is read to its end with the
 * reader in SMTP DATA mode and answered 250, or 452 when its first byte
 * is '4'.
 *
 * Checks smtpd.h's promises: every transaction handed over has a sender
 * and 1 to SMTPD_MAX_RCPTS recipients without control bytes or
 * duplicates; every reply line is "DDD" then ' ' or '-' then text, with
 * CR LF only at its end.
 */
#include "config.h"

#include <stdbool.h>

#include "addr.h"
#include "intake.h"
#include "smtpd.h"
#include "fuzz.h"

static int
sink(void *arg, const void *p, size_t n)
{
	size_t *total = arg;

	(void)p;
	*total += n;
	return 0;
}

static void
submit(void *arg, const struct smtpd_txn *t, struct reader *r, char *reply)
{
	size_t i, k, total = 0;
	char first[4];

	(void)arg;
	FUZZ_CHECK(t->sender != NULL);
	FUZZ_CHECK(!fuzz_has_ctl(t->sender, strlen(t->sender)));
	FUZZ_CHECK(t->nrcpts >= 1 && t->nrcpts <= SMTPD_MAX_RCPTS);
	for (i = 0; i < t->nrcpts; i++) {
		FUZZ_CHECK(t->rcpts[i][0] != '\0');
		FUZZ_CHECK(!fuzz_has_ctl(t->rcpts[i], strlen(t->rcpts[i])));
		for (k = 0; k < i && t->nrcpts <= 16; k++)
			FUZZ_CHECK(!addr_equal(t->rcpts[i], t->rcpts[k]));
	}
	if (reader_read(r, first, sizeof(first)) > 0 && first[0] == '4') {
		snprintf(reply, SMTPD_REPLY_MAX, "452 4.3.1 as you wish");
		return;
	}
	if (intake_body(r, sink, &total) == -1)
		return;
	snprintf(reply, SMTPD_REPLY_MAX, "250 2.0.0 queued as %zu", total);
}

static int
out_fd(void)
{
	static int fd = -1;

	if (fd == -1 && (fd = memfd_create("fuzz-out", 0)) == -1)
		abort();
	if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		abort();
	return fd;
}

static void
check_replies(int fd)
{
	char *p, *line, *end;
	off_t len;

	if ((len = lseek(fd, 0, SEEK_END)) <= 0)
		return;
	p = malloc((size_t)len + 1);
	FUZZ_CHECK(p != NULL);
	FUZZ_CHECK(pread(fd, p, (size_t)len, 0) == len);
	p[len] = '\0';
	FUZZ_CHECK(memchr(p, '\0', (size_t)len) == NULL);
	for (line = p; *line != '\0'; line = end + 2) {
		end = strstr(line, "\r\n");
		FUZZ_CHECK(end != NULL);
		FUZZ_CHECK(end - line >= 3);
		FUZZ_CHECK(line[0] >= '2' && line[0] <= '5');
		FUZZ_CHECK(line[1] >= '0' && line[1] <= '9');
		FUZZ_CHECK(line[2] >= '0' && line[2] <= '9');
		FUZZ_CHECK(end - line == 3 || line[3] == ' ' || line[3] == '-');
		FUZZ_CHECK(!fuzz_has_ctl(line, (size_t)(end - line)));
	}
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtpd_params sp;
	int error;

	if (size > 256 * 1024)
		return 0;
	memset(&sp, 0, sizeof(sp));
	sp.infd = fuzz_fd(data, size);
	sp.outfd = out_fd();
	sp.hostname = "host.example.org";
	sp.domain = "example.org";
	sp.submit = submit;
	(void)smtpd_run(&sp, &error);
	check_replies(sp.outfd);
	return 0;
}
