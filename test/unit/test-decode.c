/* test-decode.c - content-transfer decoding, whole / byte by byte / random chunks. */
#include "tap.h"
#include "sanitize/decode.h"
#include <glib.h>
#include <stdbool.h>
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
	/* The quantum-at-a-time path against the character-at-a-time one: fed
	 * one byte at a time the decoder never has four characters in hand, so
	 * that run is the reference.  Random base64 with line breaks, and every
	 * fifth text spiked with a stray byte or an early '='. */
	GRand *rnd = g_rand_new_with_seed(20261205);
	int same = 0, texts = 400, clean_ok = 0, clean = 0;
	for (int t = 0; t < texts; t++) {
		guint8 raw[1500];
		size_t rl = (size_t)g_rand_int_range(rnd, 0, (gint32)sizeof raw);
		for (size_t k = 0; k < rl; k++)
			raw[k] = (guint8)g_rand_int_range(rnd, 0, 256);
		char *enc = g_base64_encode(raw, rl);
		GString *in = g_string_new(NULL);
		size_t line = (size_t)g_rand_int_range(rnd, 1, 90);
		for (size_t k = 0; enc[k]; k++) {
			g_string_append_c(in, enc[k]);
			if ((k + 1) % line == 0)
				g_string_append(in, g_rand_boolean(rnd) ? "\r\n" : "\n");
		}
		bool spiked = t % 5 == 4 && in->len > 0;
		if (spiked) {
			static const char junk[] = "=!*-\x80=";
			in->str[g_rand_int_range(rnd, 0, (gint32)in->len)] = junk[g_rand_int_range(rnd, 0, (gint32)sizeof junk - 1)];
		}
		unsigned f0 = 0, f1 = 0;
		GByteArray *a = run(GMIME_CONTENT_ENCODING_BASE64, in->str, 0, &f0);
		GByteArray *b = run(GMIME_CONTENT_ENCODING_BASE64, in->str, 1, &f1);
		same += a->len == b->len && memcmp(a->data, b->data, a->len) == 0 && f0 == f1;
		if (!spiked) {
			clean++;
			clean_ok += a->len == rl && memcmp(a->data, raw, rl) == 0 && f0 == 0;
		}
		g_byte_array_unref(a);
		g_byte_array_unref(b);
		g_string_free(in, TRUE);
		g_free(enc);
	}
	g_rand_free(rnd);
	TAP_OK(same == texts, "base64: whole input and byte by byte agree on %d of %d texts", same, texts);
	TAP_OK(clean_ok == clean, "base64: %d of %d clean texts decode to their bytes", clean_ok, clean);
	return tap_done();
}
