/*
 * json.c: a minimal JSON reader (see json.h).
 *
 * It validates the whole document against RFC 8259's grammar, but keeps
 * only the top-level members the caller names. Nested objects and arrays
 * are walked by a loop with an explicit stack of JSON_DEPTH_MAX brackets,
 * never by recursion, so hostile input can only fail, not exhaust the C
 * stack. Every read is checked against the end of the input: the input
 * need not be NUL-terminated.
 *
 * A string is measured before it is decoded and its buffer grown once to
 * that size: a value that is a token is never copied by a realloc into
 * memory that is freed without being wiped. String bytes other than
 * escapes are kept as they are (UTF-8 is not validated: the caller
 * checks what it uses).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "json.h"

struct jp {
	const char	*start;
	const char	*p;
	const char	*end;
	char		*err;
	size_t		 errlen;
};

static int	jerr(struct jp *, const char *);
static void	skip_ws(struct jp *);
static int	hex4(struct jp *, unsigned *);
static void	put_utf8(struct buf *, unsigned);
static int	string(struct jp *, struct buf *);
static int	number(struct jp *, struct buf *);
static int	literal(struct jp *, const char *);
static int	value(struct jp *, enum json_type *, struct buf *);

static int
jerr(struct jp *j, const char *why)
{
	util_errf(j->err, j->errlen, "at offset %zu: %s",
	    (size_t)(j->p - j->start), why);
	return -1;
}

static void
skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
hex4(struct jp *j, unsigned *v)
{
	int i, c;

	*v = 0;
	if (j->end - j->p < 4)
		return jerr(j, "truncated \\u escape");
	for (i = 0; i < 4; i++, j->p++) {
		c = (unsigned char)*j->p;
		if (c >= '0' && c <= '9')
			*v = *v * 16 + (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = *v * 16 + (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v = *v * 16 + (unsigned)(c - 'A' + 10);
		else
			return jerr(j, "bad \\u escape");
	}
	return 0;
}

static void
put_utf8(struct buf *b, unsigned cp)
{
	if (cp < 0x80)
		buf_addch(b, (int)cp);
	else if (cp < 0x800) {
		buf_addch(b, (int)(0xc0 | cp >> 6));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addch(b, (int)(0xe0 | cp >> 12));
		buf_addch(b, (int)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	} else {
		buf_addch(b, (int)(0xf0 | cp >> 18));
		buf_addch(b, (int)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addch(b, (int)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	}
}

/* A string at j->p (on its quote), decoded into out unless NULL. */
static int
string(struct jp *j, struct buf *out)
{
	const char *q;
	unsigned cp, lo;
	int c;

	/* Its raw length bounds its decoded length: one allocation. */
	for (q = j->p + 1; q < j->end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < j->end)
			q++;
	if (out != NULL) {
		buf_reset(out);
		buf_grow(out, (size_t)(q - j->p));
	}
	j->p++;
	for (;;) {
		if (j->p >= j->end)
			return jerr(j, "unterminated string");
		c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return jerr(j, "control character in a string");
		if (c != '\\') {
			if (out != NULL)
				buf_addch(out, c);
			j->p++;
			continue;
		}
		if (++j->p >= j->end)
			return jerr(j, "unterminated string");
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u':
			if (hex4(j, &cp) == -1)
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return jerr(j, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 2 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return jerr(j, "lone high surrogate");
				j->p += 2;
				if (hex4(j, &lo) == -1)
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return jerr(j, "bad surrogate pair");
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			if (out != NULL)
				put_utf8(out, cp);
			continue;
		default:
			j->p--;
			return jerr(j, "bad escape");
		}
		if (out != NULL)
			buf_addch(out, c);
	}
}

static int
number(struct jp *j, struct buf *out)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return jerr(j, "bad number");
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return jerr(j, "bad number");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return jerr(j, "bad number");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (out != NULL) {
		buf_reset(out);
		buf_add(out, s, (size_t)(j->p - s));
	}
	return 0;
}

static int
literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return jerr(j, "unexpected character");
	j->p += n;
	return 0;
}

/*
 * One value at j->p (whitespace skipped): a scalar is stored into out
 * (unless NULL); an object or array is checked and skipped.
 */
static int
value(struct jp *j, enum json_type *type, struct buf *out)
{
	char stack[JSON_DEPTH_MAX];
	size_t depth = 0;

	skip_ws(j);
	if (j->p >= j->end)
		return jerr(j, "missing value");
	switch (*j->p) {
	case '"':
		*type = JSON_STRING;
		return string(j, out);
	case 't':
		*type = JSON_TRUE;
		return literal(j, "true");
	case 'f':
		*type = JSON_FALSE;
		return literal(j, "false");
	case 'n':
		*type = JSON_NULL;
		return literal(j, "null");
	case '{':
	case '[':
		*type = *j->p == '{' ? JSON_OBJECT : JSON_ARRAY;
		break;
	default:
		*type = JSON_NUMBER;
		return number(j, out);
	}

	/* A container: a loop over its elements with a bracket stack. */
	stack[depth++] = *j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == (stack[0] == '{' ? '}' : ']')) {
		j->p++;
		return 0;
	}
	for (;;) {
		/* An element: "key": value in an object, a value in an array. */
		skip_ws(j);
		if (stack[depth - 1] == '{') {
			if (j->p >= j->end || *j->p != '"')
				return jerr(j, "expected a member name");
			if (string(j, NULL) == -1)
				return -1;
			skip_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return jerr(j, "expected ':'");
			j->p++;
			skip_ws(j);
		}
		if (j->p >= j->end)
			return jerr(j, "missing value");
		if (*j->p == '{' || *j->p == '[') {
			if (depth == JSON_DEPTH_MAX)
				return jerr(j, "nested too deeply");
			stack[depth++] = *j->p++;
			skip_ws(j);
			if (j->p >= j->end ||
			    *j->p != (stack[depth - 1] == '{' ? '}' : ']'))
				continue;
			j->p++;
			depth--;
		} else {
			enum json_type t;

			if (*j->p == '"') {
				if (string(j, NULL) == -1)
					return -1;
			} else if (value(j, &t, NULL) == -1)
				return -1;	/* a scalar: no recursion */
		}
		/* After an element: ',' or the closing bracket(s). */
		for (;;) {
			skip_ws(j);
			if (j->p >= j->end)
				return jerr(j, "unterminated object or array");
			if (*j->p == ',') {
				j->p++;
				break;
			}
			if (*j->p != (stack[depth - 1] == '{' ? '}' : ']'))
				return jerr(j, "expected ',' or a closing "
				    "bracket");
			j->p++;
			if (--depth == 0)
				return 0;
		}
	}
}

int
json_object_get(const char *p, size_t n, struct json_field *fields,
    size_t nfields, char *err, size_t errlen)
{
	struct jp j = { p, p, p + n, err, errlen };
	struct buf key = BUF_INIT;
	struct json_field *f;
	enum json_type t;
	size_t i;
	int rv = -1;

	for (i = 0; i < nfields; i++) {
		fields[i].type = JSON_NONE;
		buf_reset(&fields[i].value);
	}
	/* A UTF-8 byte order mark is tolerated (RFC 8259 section 8.1). */
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		j.p += 3;
	skip_ws(&j);
	if (j.p >= j.end || *j.p != '{') {
		jerr(&j, "not a JSON object");
		goto done;
	}
	j.p++;
	skip_ws(&j);
	if (j.p < j.end && *j.p == '}') {
		j.p++;
		goto end;
	}
	for (;;) {
		skip_ws(&j);
		if (j.p >= j.end || *j.p != '"') {
			jerr(&j, "expected a member name");
			goto done;
		}
		if (string(&j, &key) == -1)
			goto done;
		skip_ws(&j);
		if (j.p >= j.end || *j.p != ':') {
			jerr(&j, "expected ':'");
			goto done;
		}
		j.p++;
		f = NULL;
		for (i = 0; i < nfields; i++) {
			if (strlen(fields[i].name) == key.len &&
			    memcmp(fields[i].name, key.data, key.len) == 0) {
				f = &fields[i];
				break;
			}
		}
		if (f != NULL && f->type != JSON_NONE) {
			jerr(&j, "duplicate member");
			goto done;
		}
		if (value(&j, &t, f != NULL ? &f->value : NULL) == -1)
			goto done;
		if (f != NULL)
			f->type = t;
		skip_ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		if (j.p < j.end && *j.p == '}') {
			j.p++;
			break;
		}
		jerr(&j, "expected ',' or '}'");
		goto done;
	}
end:
	skip_ws(&j);
	if (j.p != j.end) {
		jerr(&j, "data after the object");
		goto done;
	}
	rv = 0;
done:
	buf_free(&key);
	return rv;
}
