/*
 * compat.h: prototypes for BSD functions that the C library may lack;
 * the replacements live beside this file (AC_REPLACE_FUNCS).
 */
#ifndef PST_COMPAT_H
#define PST_COMPAT_H

#include <stddef.h>

#ifndef HAVE_STRLCPY
size_t	strlcpy(char *, const char *, size_t);
#endif
#ifndef HAVE_STRLCAT
size_t	strlcat(char *, const char *, size_t);
#endif
#ifndef HAVE_REALLOCARRAY
void	*reallocarray(void *, size_t, size_t);
#endif

#endif
