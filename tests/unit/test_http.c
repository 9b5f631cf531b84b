/*
 * test_http.c: the pure parts of the OAuth token client: URL parsing,
 * form encoding and response parsing (Content-Length, chunked, end of
 * connection, limits) in http.c, and the JSON reader in json.c.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "json.h"
#include "t.h"

static void	test_url(void);
static void	test_form(void);
static int	parse(const char *, size_t, bool, struct http_response *,
		    char *, size_t);
static void	test_response(void);
static void	test_chunked(void);
static void	test_limits(void);
static void	test_json(void);
static void	test_json_garbage(void);

static void
test_url(void)
{
	static const struct {
		const char	*url;
		const char	*host;
		unsigned	 port;
		const char	*path;
	} good[] = {
		{ "https://oauth2.googleapis.com/token", "oauth2.googleapis.com",
		    443, "/token" },
		{ "HTTPS://login.example:8443/a/b?x=1&y=2", "login.example",
		    8443, "/a/b?x=1&y=2" },
		{ "https://127.0.0.1:1", "127.0.0.1", 1, "/" },
		{ "https://[::1]:65535/t", "::1", 65535, "/t" },
		{ "https://h?q", "h", 443, "/?q" },
	};
	static const char *bad[] = {
		"http://127.0.0.1/token", "ftp://h/", "https://", "https:///x",
		"https://h:/x", "https://h:0/", "https://h:65536/",
		"https://h:123456/", "https://h:1a/", "https://user:pw@h/",
		"https://h/x#frag", "https://h/a b", "https://h/\x01",
		"https://[::1/x", "https://[nonsense]/", "https://h_x/",
		"https://h\xc3\xa9/", "token",
	};
	struct http_url u;
	char err[256], name[64];
	size_t i;

	T_GROUP("url");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(name, sizeof(name), "good %zu", i);
		if (http_url_parse(good[i].url, &u, err, sizeof(err)) == -1) {
			T_OK(0, name);
			continue;
		}
		T_OK(strcmp(u.host, good[i].host) == 0 &&
		    u.port == good[i].port && strcmp(u.path, good[i].path) == 0,
		    name);
		http_url_free(&u);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "bad %zu", i);
		err[0] = '\0';
		T_OK(http_url_parse(bad[i], &u, err, sizeof(err)) == -1 &&
		    strncmp(err, "URL: ", 5) == 0 && u.host == NULL, name);
	}
	http_url_parse("http://127.0.0.1/", &u, err, sizeof(err));
	T_STREQ(err, "URL: plain http is not allowed, use https", "http text");
	http_url_parse("https://a:b@h/", &u, err, sizeof(err));
	T_OK(strstr(err, "b@") == NULL, "user information not echoed");
}

static void
test_form(void)
{
	struct buf b = BUF_INIT;

	T_GROUP("form");
	http_form_add(&b, "grant_type", "refresh_token");
	T_STREQ(b.data, "grant_type=refresh_token", "first pair");
	http_form_add(&b, "x", "a b&c=d+e/f%~_.-\xc3\xa9");
	T_STREQ(b.data, "grant_type=refresh_token&x=a+b%26c%3Dd%2Be%2Ff%25~_.-"
	    "%C3%A9", "escaping");
	buf_reset(&b);
	http_form_add(&b, "k", "");
	T_STREQ(b.data, "k=", "empty value");
	buf_free(&b);
}

static int
parse(const char *s, size_t n, bool eof, struct http_response *r, char *err,
    size_t errlen)
{
	err[0] = '\0';
	return http_response_parse(s, n, eof, r, err, errlen);
}

static void
test_response(void)
{
	struct http_response r;
	char err[256];
	const char *s;
	size_t i;
	int rv, complete_at = -1;

	T_GROUP("response");
	http_response_init(&r);
	s = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: 7\r\n\r\n{\"a\":1}";
	T_INTEQ(parse(s, strlen(s), false, &r, err, sizeof(err)), 1,
	    "content-length complete");
	T_INTEQ(r.status, 200, "status");
	T_STREQ(r.reason, "OK", "reason");
	T_STREQ(r.ctype, "application/json", "content type");
	T_STREQ(r.body.data, "{\"a\":1}", "body");
	/* Byte by byte: incomplete until the last byte, never an error. */
	for (i = 0; i < strlen(s); i++) {
		rv = parse(s, i, false, &r, err, sizeof(err));
		if (rv != 0) {
			complete_at = (int)i;
			break;
		}
	}
	T_INTEQ(complete_at, -1, "incomplete prefixes need more");
	T_INTEQ(parse(s, strlen(s) - 1, true, &r, err, sizeof(err)), -1,
	    "truncated body at eof");
	T_STREQ(err, "connection closed after 6 of 7 body bytes",
	    "truncated body text");
	T_INTEQ(parse(s, 20, true, &r, err, sizeof(err)), -1,
	    "eof in headers");
	T_INTEQ(parse("", 0, true, &r, err, sizeof(err)), -1, "empty");
	T_STREQ(err, "empty response", "empty text");

	s = "HTTP/1.0 400 Bad Request\nContent-Length: 2\n\n{}extra";
	T_INTEQ(parse(s, strlen(s), false, &r, err, sizeof(err)), 1,
	    "bare LF, extra bytes ignored");
	T_INTEQ(r.status, 400, "status 400");
	T_STREQ(r.body.data, "{}", "body of 2");

	s = "HTTP/1.1 500 Internal Server Error\r\n\r\n<html>oops";
	T_INTEQ(parse(s, strlen(s), false, &r, err, sizeof(err)), 0,
	    "no length: until eof");
	T_INTEQ(parse(s, strlen(s), true, &r, err, sizeof(err)), 1,
	    "no length: complete at eof");
	T_STREQ(r.body.data, "<html>oops", "body to eof");
	T_STREQ(r.reason, "Internal Server Error", "long reason");

	s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
	    "content-length: 1\r\n\r\nx";
	T_INTEQ(parse(s, strlen(s), false, &r, err, sizeof(err)), 1,
	    "interim 100 skipped");
	T_INTEQ(r.status, 200, "final status after 100");

	s = "HTTP/1.1 204 No Content\r\n\r\n";
	T_INTEQ(parse(s, strlen(s), false, &r, err, sizeof(err)), 1,
	    "204 has no body");

	static const char *bad[] = {
		"garbage\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.1 999 Odd\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
		    "\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n",
		"HTTP/1.1 101 Switching\r\n\r\n",
	};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "bad %zu", i);
		T_INTEQ(parse(bad[i], strlen(bad[i]), true, &r, err,
		    sizeof(err)), -1, name);
	}
	http_response_free(&r);
}

static void
test_chunked(void)
{
	struct http_response r;
	char err[256];
	const char *s;
	size_t i;
	int rv, early = 0;

	T_GROUP("chunked");
	http_response_init(&r);
	s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
	    "4\r\n{\"a\"\r\n3;ext=1\r\n:12\r\n2 \r\n}\n\n0\r\nX-T: 1\r\n\r\n";
	T_INTEQ(parse(s, strlen(s), false, &r, err, sizeof(err)), 1,
	    "complete");
	T_OK(r.chunked, "flag set");
	T_STREQ(r.body.data, "{\"a\":12}\n", "decoded body");
	for (i = 0; i < strlen(s); i++) {
		rv = parse(s, i, false, &r, err, sizeof(err));
		if (rv != 0)
			early++;
	}
	T_INTEQ(early, 0, "every prefix needs more");
	T_INTEQ(parse(s, strlen(s) - 2, true, &r, err, sizeof(err)), -1,
	    "eof before the last CRLF");
	T_STREQ(err, "connection closed inside the chunked body", "eof text");

	static const char *bad[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "x\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "2\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "fffffff\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "10001\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "1 x\r\na\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "bad %zu", i);
		T_INTEQ(parse(bad[i], strlen(bad[i]), false, &r, err,
		    sizeof(err)), -1, name);
	}
	http_response_free(&r);
}

static void
test_limits(void)
{
	struct http_response r;
	struct buf b = BUF_INIT;
	char err[256];
	size_t i;

	T_GROUP("limits");
	http_response_init(&r);
	buf_addstr(&b, "HTTP/1.1 200 OK\r\n");
	while (b.len < HTTP_HEAD_MAX)
		buf_addstr(&b, "X-Pad: 0123456789012345678901234567890123\r\n");
	T_INTEQ(parse(b.data, b.len, false, &r, err, sizeof(err)), -1,
	    "headers over the limit without a blank line");
	buf_addstr(&b, "\r\n");
	T_INTEQ(parse(b.data, b.len, false, &r, err, sizeof(err)), -1,
	    "headers over the limit");
	T_STREQ(err, "headers over 16384 bytes", "headers text");

	buf_reset(&b);
	buf_printf(&b, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
	    HTTP_BODY_MAX + 1);
	T_INTEQ(parse(b.data, b.len, false, &r, err, sizeof(err)), -1,
	    "content-length over the limit");
	buf_reset(&b);
	buf_printf(&b, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
	    HTTP_BODY_MAX);
	for (i = 0; i < HTTP_BODY_MAX; i++)
		buf_addch(&b, 'a');
	T_INTEQ(parse(b.data, b.len, false, &r, err, sizeof(err)), 1,
	    "body of exactly the limit");
	T_INTEQ(r.body.len, HTTP_BODY_MAX, "its length");

	buf_reset(&b);
	buf_addstr(&b, "HTTP/1.1 200 OK\r\n\r\n");
	for (i = 0; i <= HTTP_BODY_MAX; i++)
		buf_addch(&b, 'a');
	T_INTEQ(parse(b.data, b.len, false, &r, err, sizeof(err)), -1,
	    "body to eof over the limit");

	buf_reset(&b);
	buf_addstr(&b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (i = 0; i < 17; i++) {
		buf_printf(&b, "1000\r\n");
		buf_grow(&b, 4096);
		memset(b.data + b.len, 'a', 4096);
		b.len += 4096;
		b.data[b.len] = '\0';
		buf_addstr(&b, "\r\n");
	}
	T_INTEQ(parse(b.data, b.len, false, &r, err, sizeof(err)), -1,
	    "chunked body over the limit");
	T_STREQ(err, "body over 65536 bytes", "body text");

	buf_reset(&b);
	buf_addstr(&b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1");
	for (i = 0; i < 2000; i++)
		buf_addch(&b, ' ');
	T_INTEQ(parse(b.data, b.len, false, &r, err, sizeof(err)), -1,
	    "over-long chunk line");
	T_INTEQ(parse(b.data, HTTP_RAW_MAX + 1, false, &r, err, sizeof(err)),
	    -1, "raw over the limit");
	http_response_free(&r);
	buf_free(&b);
}

static void
test_json(void)
{
	struct json_field f[] = {
		{ "access_token", JSON_NONE, BUF_INIT },
		{ "expires_in", JSON_NONE, BUF_INIT },
		{ "token_type", JSON_NONE, BUF_INIT },
		{ "refresh_token", JSON_NONE, BUF_INIT },
		{ "error", JSON_NONE, BUF_INIT },
	};
	const size_t nf = sizeof(f) / sizeof(f[0]);
	char err[128];
	const char *s;
	size_t i;

	T_GROUP("json");
	s = "\xef\xbb\xbf {\"access_token\" : \"ya29.a0-_~+/=\","
	    "\"expires_in\":3599, \"scope\":\"https://mail.google.com/\","
	    "\"token_type\":\"Bearer\",\"x\":{\"a\":[1,2,{\"b\":null}],"
	    "\"c\":[]},\"y\":[true,false,-1.5e+3,\"s\\\"\"],\"z\":{}}\n";
	T_INTEQ(json_object_get(s, strlen(s), f, nf, err, sizeof(err)), 0,
	    "token response");
	T_STREQ(f[0].value.data, "ya29.a0-_~+/=", "access_token");
	T_INTEQ(f[1].type, JSON_NUMBER, "expires_in is a number");
	T_STREQ(f[1].value.data, "3599", "expires_in");
	T_STREQ(f[2].value.data, "Bearer", "token_type");
	T_INTEQ(f[3].type, JSON_NONE, "refresh_token absent");
	T_INTEQ(f[4].type, JSON_NONE, "error absent");

	s = "{\"error\":\"invalid_grant\",\"access_token\":\"a\\u00e9\\ud83d"
	    "\\ude00\\n\\/\\\\\",\"expires_in\":\"3600\",\"refresh_token\":null}";
	T_INTEQ(json_object_get(s, strlen(s), f, nf, err, sizeof(err)), 0,
	    "escapes");
	T_STREQ(f[0].value.data, "a\xc3\xa9\xf0\x9f\x98\x80\n/\\",
	    "unicode escapes and surrogates");
	T_INTEQ(f[1].type, JSON_STRING, "expires_in as a string");
	T_INTEQ(f[3].type, JSON_NULL, "null");
	T_STREQ(f[4].value.data, "invalid_grant", "error");

	T_INTEQ(json_object_get("{}", 2, f, nf, err, sizeof(err)), 0,
	    "empty object");
	T_INTEQ(f[0].type, JSON_NONE, "fields reset");
	/* Not NUL-terminated: the reader stops at n. */
	T_INTEQ(json_object_get("{\"error\":\"x\"}garbage", 13, f, nf, err,
	    sizeof(err)), 0, "bounded by n");
	for (i = 0; i < nf; i++)
		buf_free(&f[i].value);
}

static void
test_json_garbage(void)
{
	static const char *bad[] = {
		"", " ", "[]", "\"s\"", "1", "null", "{", "{\"a\"", "{\"a\":",
		"{\"a\":}", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}",
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}",
		"{\"a\":1e}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
		"{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"a\nb\"}",
		"{\"a\":[1 2]}", "{\"a\":[1,]}", "{\"a\":{\"b\"}}",
		"{\"a\":[}", "{\"a\":{]}", "{\"a\":1}}", "{\"a\":1} x",
		"{\"access_token\":\"1\",\"access_token\":\"2\"}",
		"<html><body>Service Unavailable</body></html>",
		"{\"a\":\"unterminated",
	};
	struct json_field f[] = {
		{ "access_token", JSON_NONE, BUF_INIT },
		{ "a", JSON_NONE, BUF_INIT },
	};
	struct buf deep = BUF_INIT;
	char err[128], name[32];
	size_t i;

	T_GROUP("json garbage");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "bad %zu", i);
		err[0] = '\0';
		T_OK(json_object_get(bad[i], strlen(bad[i]), f, 2, err,
		    sizeof(err)) == -1 && strncmp(err, "at offset ", 10) == 0,
		    name);
	}
	/* Within the depth limit, and far beyond it. */
	buf_addstr(&deep, "{\"a\":");
	for (i = 0; i < JSON_DEPTH_MAX - 1; i++)
		buf_addch(&deep, '[');
	for (i = 0; i < JSON_DEPTH_MAX - 1; i++)
		buf_addch(&deep, ']');
	buf_addch(&deep, '}');
	T_INTEQ(json_object_get(deep.data, deep.len, f, 2, err, sizeof(err)),
	    0, "nested to the limit");
	T_INTEQ(f[1].type, JSON_ARRAY, "an array");
	buf_reset(&deep);
	buf_addstr(&deep, "{\"a\":");
	for (i = 0; i < 100000; i++)
		buf_addch(&deep, '[');
	T_INTEQ(json_object_get(deep.data, deep.len, f, 2, err, sizeof(err)),
	    -1, "nested 100000 deep");
	T_OK(strstr(err, "nested too deeply") != NULL, "depth error text");
	/* The error never quotes the input. */
	json_object_get("{\"access_token\":\"SECRET\" x}", 27, f, 2, err,
	    sizeof(err));
	T_OK(strstr(err, "SECRET") == NULL, "no input in the error");
	for (i = 0; i < 2; i++)
		buf_free(&f[i].value);
	buf_free(&deep);
}

int
main(void)
{
	test_url();
	test_form();
	test_response();
	test_chunked();
	test_limits();
	test_json();
	test_json_garbage();
	return t_done();
}
