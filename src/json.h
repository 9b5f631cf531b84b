/*
 * json.h: a minimal JSON (RFC 8259) reader for flat responses such as an
 * OAuth 2.0 token response: it checks a whole document and returns the
 * members of its top-level object that the caller asks for.
 *
 * No recursion: nested values are checked and skipped with a depth
 * counter, at most JSON_DEPTH_MAX deep. Errors never quote the document
 * (it may hold tokens): they give a reason and a byte offset.
 */
#ifndef PST_JSON_H
#define PST_JSON_H

#include <stddef.h>

#include "buf.h"

#define JSON_DEPTH_MAX	32

enum json_type {
	JSON_NONE,		/* the member is absent */
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
	JSON_OBJECT,
	JSON_ARRAY
};

struct json_field {
	const char	*name;	/* in: the member's name (borrowed) */
	enum json_type	 type;	/* out */
	struct buf	 value;	/* out: a string unescaped (UTF-8), a
				 * number as written; else empty. The
				 * caller frees (and wipes, for secrets). */
};

/*
 * Checks that p[0..n) is one JSON object (whitespace around it allowed)
 * and fills in each field whose name is a top-level member; the others
 * get JSON_NONE. A wanted member that appears twice is an error. 0, or
 * -1 with err ("at offset N: reason").
 */
int	json_object_get(const char *p, size_t n, struct json_field *fields,
	    size_t nfields, char *err, size_t errlen);

#endif
