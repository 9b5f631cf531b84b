/* strlcat: append with truncation; returns the length it tried to create. */
#include "config.h"

#include <string.h>

#include "compat.h"

size_t
strlcat(char *dst, const char *src, size_t size)
{
	size_t dl = strnlen(dst, size);

	if (dl == size)
		return size + strlen(src);
	return dl + strlcpy(dst + dl, src, size - dl);
}
