/*
 * fuzz.h: helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each target is one file fuzz_NAME.c defining LLVMFuzzerTestOneInput;
 * build.sh compiles it with clang -fsanitize=fuzzer,address,undefined
 * against the sources in src/. A target asserts the promises its module's
 * header makes (no control character in an address, a reply text without
 * CR or NUL, ...) with FUZZ_CHECK, which aborts, so a broken promise is a
 * crash like any sanitizer report.
 */
#ifndef PST_FUZZ_H
#define PST_FUZZ_H

#include <sys/types.h>
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * A descriptor, made once per process, that holds p[0..n) from offset 0
 * on each call: how the targets feed the readers that take a descriptor
 * (the message reader, the -bs session) or a path (the configuration and
 * alias files, through /proc/self/fd/N). Never a file anyone else reads.
 */
static inline int
fuzz_fd(const uint8_t *p, size_t n)
{
	static int fd = -1;

	if (fd == -1 && (fd = memfd_create("fuzz", 0)) == -1) {
		perror("memfd_create");
		abort();
	}
	if (ftruncate(fd, 0) == -1 ||
	    (n > 0 && pwrite(fd, p, n, 0) != (ssize_t)n) ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		perror("memfd");
		abort();
	}
	return fd;
}

/* The path of fuzz_fd's descriptor, valid for the process's life. */
static inline const char *
fuzz_path(const uint8_t *p, size_t n)
{
	static char path[64];
	int fd = fuzz_fd(p, n);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return path;
}

/* True if s[0..n) holds a byte < 0x20 or 0x7f. */
static inline int
fuzz_has_ctl(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

#endif
