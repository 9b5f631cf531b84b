/*
 * fuzz_base64: the strict base64 decoder and the encoder (base64.c).
 *
 * Properties: decoding arbitrary text either fails and leaves the output
 * as it was, or succeeds and re-encodes to exactly the same text (each
 * input has one decoding, each decoding one input); encoding arbitrary
 * bytes decodes back to them.
 */
#include "config.h"

#include "buf.h"
#include "psasl.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf dec = BUF_INIT, enc = BUF_INIT, back = BUF_INIT;

	buf_addstr(&dec, "kept");
	if (base64_decode((const char *)data, size, &dec) == 0) {
		FUZZ_CHECK(dec.len >= 4 && memcmp(dec.data, "kept", 4) == 0);
		FUZZ_CHECK(dec.data[dec.len] == '\0');
		base64_encode((unsigned char *)dec.data + 4, dec.len - 4, &enc);
		FUZZ_CHECK(enc.len == size && memcmp(enc.data, data, size) == 0);
	} else {
		FUZZ_CHECK(dec.len == 4 && strcmp(dec.data, "kept") == 0);
	}
	buf_reset(&enc);

	base64_encode(data, size, &enc);
	FUZZ_CHECK(enc.len == (size + 2) / 3 * 4);
	FUZZ_CHECK(enc.data[enc.len] == '\0');
	FUZZ_CHECK(base64_decode(enc.data, enc.len, &back) == 0);
	FUZZ_CHECK(back.len == size && memcmp(back.data, data, size) == 0);

	buf_free(&dec);
	buf_free(&enc);
	buf_free(&back);
	return 0;
}
