/* strlcpy: copy with truncation, always NUL-terminated; returns strlen(src). */
#include "config.h"

#include <string.h>

#include "compat.h"

size_t
strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size != 0) {
		size_t c = n >= size ? size - 1 : n;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}
