/*
 * base64.c: RFC 4648 base64, standard alphabet, with padding (declared in
 * psasl.h, whose SMTP AUTH exchanges are its only user).
 *
 * The decoder is strict, as RFC 4648 section 3.3 allows: no whitespace or
 * line breaks, no characters outside the alphabet, a length that is a
 * multiple of four, padding only at the end, and the unused bits of the
 * last quantum zero (section 3.5), so each input has one decoding and
 * each decoding one input. On failure the output is left as it was
 * (and one that had no storage is left without any).
 *
 * Both functions size the output once before writing, so a secret being
 * encoded or decoded is not left behind in a buffer given up by realloc.
 * Neither needs libcrypto.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "psasl.h"

static int	b64val(unsigned char);

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
base64_encode(const unsigned char *p, size_t n, struct buf *out)
{
	unsigned long v;
	size_t i;
	char *o;

	buf_grow(out, (n / 3 + (n % 3 != 0)) * 4);
	o = out->data + out->len;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 |
		    p[i + 2];
		*o++ = b64chars[v >> 18 & 0x3f];
		*o++ = b64chars[v >> 12 & 0x3f];
		*o++ = b64chars[v >> 6 & 0x3f];
		*o++ = b64chars[v & 0x3f];
	}
	if (n - i == 1) {
		v = (unsigned long)p[i] << 16;
		*o++ = b64chars[v >> 18 & 0x3f];
		*o++ = b64chars[v >> 12 & 0x3f];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
		*o++ = b64chars[v >> 18 & 0x3f];
		*o++ = b64chars[v >> 12 & 0x3f];
		*o++ = b64chars[v >> 6 & 0x3f];
		*o++ = '=';
	}
	out->len = o - out->data;
	out->data[out->len] = '\0';
}

int
base64_decode(const char *s, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, olen = out->len, ocap = out->cap;
	unsigned long v;
	int a, b, c, d;
	char *o;

	if (n % 4 != 0)
		return -1;
	if (n == 0)
		return 0;
	buf_grow(out, n / 4 * 3);
	o = out->data + out->len;
	for (i = 0; i < n; i += 4) {
		a = b64val(u[i]);
		b = b64val(u[i + 1]);
		c = u[i + 2] == '=' ? -2 : b64val(u[i + 2]);
		d = u[i + 3] == '=' ? -2 : b64val(u[i + 3]);
		if (a < 0 || b < 0 || c == -1 || d == -1)
			goto bad;
		/* Padding only in the last quantum: "xx==" or "xxx=". */
		if ((c == -2 || d == -2) && i + 4 != n)
			goto bad;
		if (c == -2 && d != -2)
			goto bad;
		v = (unsigned long)a << 18 | (unsigned long)b << 12;
		if (c == -2) {
			if ((b & 0x0f) != 0)
				goto bad;
			*o++ = (char)(v >> 16);
			break;
		}
		v |= (unsigned long)c << 6;
		if (d == -2) {
			if ((c & 0x03) != 0)
				goto bad;
			*o++ = (char)(v >> 16);
			*o++ = (char)(v >> 8 & 0xff);
			break;
		}
		v |= (unsigned long)d;
		*o++ = (char)(v >> 16);
		*o++ = (char)(v >> 8 & 0xff);
		*o++ = (char)(v & 0xff);
	}
	out->len = o - out->data;
	out->data[out->len] = '\0';
	return 0;

 bad:
	/* Leave no partial decoding behind the terminator either. */
	memset(out->data + olen, 0, o - (out->data + olen));
	out->data[olen] = '\0';
	/*
	 * An output that held no storage holds none again, so a caller that
	 * gives up on a failure without freeing it leaks nothing.
	 */
	if (ocap == 0)
		buf_free(out);
	return -1;
}

/* The value of a base64 character, or -1 ('=' included). */
static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}
