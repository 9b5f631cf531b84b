/* reallocarray: realloc(p, n * sz) that fails on multiplication overflow. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "compat.h"

void *
reallocarray(void *p, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * sz);
}
