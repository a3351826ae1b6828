/* decode.c - content-transfer decoding of one MIME part, in chunks.
 *
 * Owns the base64 decoder (chunked-base64 aware, see decode.h) and wraps
 * GMime's QP/uuencode steppers.  7bit/8bit/binary/unknown encodings are the
 * identity: an unknown CTE is inspected as raw bytes, as GMime does.
 */
#include "sanitize/decode.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

static const signed char b64_rank[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7,
	['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13,
	['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19,
	['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25,
	['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31,
	['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
	['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55,
	['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61,
	['9'] = 62, ['+'] = 63, ['/'] = 64,
};  /* rank - 1 is the sextet value; 0 = not in the alphabet */

/* b64_quad[k][c]: character C as the K-th sextet of a quantum, in place in
 * the 24-bit group; a character outside the alphabet sets bit 24 instead,
 * so one OR of four lookups decodes a quantum and says whether it may. */
static uint32_t b64_quad[4][256];

static void b64_tables(void)
{
	for (unsigned c = 0; c < 256; c++)
		for (unsigned k = 0; k < 4; k++)
			b64_quad[k][c] = b64_rank[c] ? (uint32_t)(b64_rank[c] - 1) << (18 - 6 * k) : 1u << 24;
}

void decode_init(part_decoder *d, GMimeContentEncoding enc)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (enc == GMIME_CONTENT_ENCODING_BASE64)
		pthread_once(&once, b64_tables);
	memset(d, 0, sizeof *d);
	d->enc = enc;
	if (enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
		g_mime_encoding_init_decode(&d->gm, enc);
	else if (enc == GMIME_CONTENT_ENCODING_UUENCODE)
		d->uu = g_mime_filter_basic_new(enc, FALSE);
}

void decode_clear(part_decoder *d)
{
	if (d->uu)
		g_object_unref(d->uu);
	d->uu = NULL;
}

/* GMime's filter owns its output buffer; copy it out. */
static size_t uu_run(part_decoder *d, const char *in, size_t len, char *out, bool last)
{
	char *o = NULL;
	size_t olen = 0, pre = 0;
	if (last)
		g_mime_filter_complete(d->uu, (char *)in, len, 0, &o, &olen, &pre);
	else
		g_mime_filter_filter(d->uu, (char *)in, len, 0, &o, &olen, &pre);
	if (olen)
		memcpy(out, o, olen);
	return olen;
}

size_t decode_outlen(const part_decoder *d, size_t inlen)
{
	if (d->enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
		return g_mime_encoding_outlen((GMimeEncoding *)&d->gm, inlen) + 8;
	return inlen + 8;
}

/* Emit the bytes of a quantum ended by padding or by the end of input. */
static size_t b64_flush_partial(part_decoder *d, char *out)
{
	size_t n = 0;
	if (d->nsextets == 2) {
		out[n++] = (char)(d->acc >> 4);
	} else if (d->nsextets == 3) {
		out[n++] = (char)(d->acc >> 10);
		out[n++] = (char)(d->acc >> 2);
	} else if (d->nsextets == 1) {
		d->flags |= DECODE_B64_TRUNCATED;
	}
	d->acc = 0;
	d->nsextets = 0;
	return n;
}

static size_t b64_step(part_decoder *d, const unsigned char *in, size_t len, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		/* fast path: runs of four alphabet characters at a quantum boundary */
		if (d->nsextets == 0 && !d->pad && !d->ended && i + 4 <= len) {
			size_t i0 = i;
			while (i + 4 <= len) {
				uint32_t v = b64_quad[0][in[i]] | b64_quad[1][in[i + 1]] |
				             b64_quad[2][in[i + 2]] | b64_quad[3][in[i + 3]];
				if (v >> 24)
					break;
				out[n] = (char)(v >> 16);
				out[n + 1] = (char)(v >> 8);
				out[n + 2] = (char)v;
				n += 3;
				i += 4;
			}
			if (i > i0) {
				i--;   /* the loop's i++ */
				continue;
			}
		}
		unsigned c = in[i];
		int r = b64_rank[c];
		if (r) {
			if (d->pad || d->ended) {
				/* a new quantum after padding: chunked base64 */
				d->flags |= DECODE_B64_AFTER_PAD;
				d->pad = 0;
				d->ended = 0;
			}
			d->acc = (d->acc << 6) | (unsigned)(r - 1);
			if (++d->nsextets == 4) {
				out[n++] = (char)(d->acc >> 16);
				out[n++] = (char)(d->acc >> 8);
				out[n++] = (char)d->acc;
				d->acc = 0;
				d->nsextets = 0;
			}
		} else if (c == '=') {
			if (d->nsextets >= 2) {
				n += b64_flush_partial(d, out + n);
				d->pad = 1;
				d->ended = 1;
			} else if (d->nsextets == 1) {
				n += b64_flush_partial(d, out + n);
				d->ended = 1;
			} else if (!d->pad && !d->ended) {
				d->flags |= DECODE_B64_BAD_CHAR;  /* '=' at a quantum start */
			}
		} else if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
			continue;
		} else {
			d->flags |= DECODE_B64_BAD_CHAR;
		}
	}
	return n;
}

size_t decode_step(part_decoder *d, const char *in, size_t inlen, char *out)
{
	switch (d->enc) {
	case GMIME_CONTENT_ENCODING_BASE64:
		return b64_step(d, (const unsigned char *)in, inlen, out);
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
		return g_mime_encoding_step(&d->gm, in, inlen, out);
	case GMIME_CONTENT_ENCODING_UUENCODE:
		return uu_run(d, in, inlen, out, false);
	default:
		memcpy(out, in, inlen);
		return inlen;
	}
}

int decode_part_content(GMimePart *part, decode_put put, void *ctx, unsigned *flags)
{
	enum { CHUNK = 65536 };
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *src = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	if (!src)
		return 0;
	if (g_mime_stream_reset(src) < 0)
		return -EIO;
	part_decoder d;
	decode_init(&d, g_mime_data_wrapper_get_encoding(dw));
	char *in = g_malloc(CHUNK);
	char *out = g_malloc(decode_outlen(&d, CHUNK));
	int rc = 0;
	for (;;) {
		/* GMime's bounded fs streams answer -1, not 0, once at their end */
		ssize_t n = g_mime_stream_eos(src) ? 0 : g_mime_stream_read(src, in, CHUNK);
		if (n < 0) {
			rc = -EIO;
			break;
		}
		size_t m = n > 0 ? decode_step(&d, in, (size_t)n, out) : decode_finish(&d, out);
		if ((rc = put(ctx, out, m)) != 0 || n == 0)
			break;
	}
	*flags |= d.flags;
	decode_clear(&d);
	g_free(in);
	g_free(out);
	return rc;
}

size_t decode_finish(part_decoder *d, char *out)
{
	switch (d->enc) {
	case GMIME_CONTENT_ENCODING_BASE64:
		return b64_flush_partial(d, out);
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
		return g_mime_encoding_flush(&d->gm, "", 0, out);
	case GMIME_CONTENT_ENCODING_UUENCODE:
		return uu_run(d, "", 0, out, true);
	default:
		return 0;
	}
}
