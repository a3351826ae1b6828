/* test-decode.c - content-transfer decoding, whole / byte by byte / random chunks. */
#include "tap.h"
#include "sanitize/decode.h"
#include <glib.h>
#include <stdlib.h>

static const struct {
	const char *name;
	GMimeContentEncoding enc;
	const char *in;
	const char *want;
	size_t want_len;
	unsigned want_flags;
} cases[] = {
	{ "plain base64", GMIME_CONTENT_ENCODING_BASE64, "SGVsbG8gd29ybGQ=\n", "Hello world", 11, 0 },
	{ "base64 with CRLF lines", GMIME_CONTENT_ENCODING_BASE64, "SGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n", "Hello world", 11, 0 },
	{ "chunked base64 (GMime #150)", GMIME_CONTENT_ENCODING_BASE64, "Vkk=UlU=Uw==ISE=", "VIRUS!!", 7, DECODE_B64_AFTER_PAD },
	{ "base64 two pads", GMIME_CONTENT_ENCODING_BASE64, "YQ==", "a", 1, 0 },
	{ "base64 no padding", GMIME_CONTENT_ENCODING_BASE64, "YWI", "ab", 2, 0 },
	{ "base64 bad chars ignored", GMIME_CONTENT_ENCODING_BASE64, "YW!Jj", "abc", 3, DECODE_B64_BAD_CHAR },
	{ "base64 lone sextet", GMIME_CONTENT_ENCODING_BASE64, "YWJjZ", "abc", 3, DECODE_B64_TRUNCATED },
	{ "base64 binary", GMIME_CONTENT_ENCODING_BASE64, "AAEC/w==", "\x00\x01\x02\xff", 4, 0 },
	{ "quoted-printable", GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "caf=C3=A9 soft=\nbreak\n", "caf\xc3\xa9 softbreak\n", 16, 0 },
	{ "8bit identity", GMIME_CONTENT_ENCODING_8BIT, "raw \xe3\x81\x82\n", "raw \xe3\x81\x82\n", 8, 0 },
	{ "uuencode", GMIME_CONTENT_ENCODING_UUENCODE, "begin 644 x\n#86)C\n`\nend\n", "abc", 3, 0 },
};

/* Decode IN split at the chunk sizes chosen by MODE: 0 whole, 1 one byte, 2+ random (seed). */
static GByteArray *run(GMimeContentEncoding enc, const char *in, int mode, unsigned *flags)
{
	part_decoder d;
	decode_init(&d, enc);
	GByteArray *o = g_byte_array_new();
	size_t len = strlen(in), off = 0;
	GRand *rnd = g_rand_new_with_seed((guint32)mode);
	char *buf = g_malloc(decode_outlen(&d, len + 1) + 64);
	while (off < len) {
		size_t n = mode == 0 ? len : mode == 1 ? 1 : (size_t)g_rand_int_range(rnd, 1, 6);
		if (n > len - off)
			n = len - off;
		size_t m = decode_step(&d, in + off, n, buf);
		g_byte_array_append(o, (guint8 *)buf, (guint)m);
		off += n;
	}
	size_t m = decode_finish(&d, buf);
	g_byte_array_append(o, (guint8 *)buf, (guint)m);
	decode_clear(&d);
	g_free(buf);
	g_rand_free(rnd);
	*flags = d.flags;
	return o;
}

int main(void)
{
	g_mime_init();
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		for (int mode = 0; mode < 6; mode++) {
			unsigned flags = 0;
			GByteArray *o = run(cases[i].enc, cases[i].in, mode, &flags);
			TAP_OK(o->len == cases[i].want_len && memcmp(o->data, cases[i].want, o->len) == 0,
			       "%s: bytes (chunking %d)", cases[i].name, mode);
			TAP_OK(flags == cases[i].want_flags, "%s: flags %u (chunking %d)", cases[i].name, flags, mode);
			g_byte_array_unref(o);
		}
	}
	return tap_done();
}
