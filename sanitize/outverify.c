/* outverify.c - the one output shape accepted from a parsing process.
 *
 * Owns the check that a process which did not parse the mail makes on a
 * worker's output (outverify.h).  It parses nothing of the world: the
 * header block is split into lines and compared with the four lines
 * output.c writes last, and the body is decoded and encoded again with
 * GMime's own encoder, which must give back the same bytes.  Whatever a
 * compromised worker sends, a second part, an attachment in another
 * encoding, bytes a lenient reader would take for MIME, cannot pass.
 */
#include "sanitize/outverify.h"
#include "sanitize/pipeline.h"

#include <gmime/gmime.h>
#include <string.h>

#define FAIL(msg) do { *why = (msg); return -1; } while (0)

/* The header block [0, END) without its final blank line: the headers
 * before the last four must not be ones the output replaces; the last four
 * are ours, exactly. */
static int check_headers(const char *h, size_t end, const char *status, bool *qp, const char **why)
{
	if (memchr(h, '\r', end) || memchr(h, '\0', end))
		FAIL("CR or NUL in the header block");
	GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
	size_t i = 0;
	while (i < end) {
		const char *nl = memchr(h + i, '\n', end - i);
		size_t e = nl ? (size_t)(nl - h) : end;
		if (e == i) {
			g_ptr_array_unref(fields);
			FAIL("empty line inside the header block");
		}
		if (h[i] == ' ' || h[i] == '\t') {
			if (fields->len == 0) {
				g_ptr_array_unref(fields);
				FAIL("continuation line before any header");
			}
			char **last = (char **)&fields->pdata[fields->len - 1];
			char *joined = g_strdup_printf("%s\n%.*s", *last, (int)(e - i), h + i);
			g_free(*last);
			*last = joined;
		} else {
			g_ptr_array_add(fields, g_strndup(h + i, e - i));
		}
		i = e + 1;
	}
	int rc = -1;
	*why = "the output does not end its headers with mugai's four";
	if (fields->len < 4)
		goto out;
	for (guint k = 0; k < fields->len; k++) {
		const char *f = g_ptr_array_index(fields, k);
		const char *colon = strchr(f, ':');
		if (!colon) {
			*why = "a header line without a colon";
			goto out;
		}
		/* the original's own names are kept as they came (8-bit bytes and
		 * all); ours are compared whole below */
		char *name = g_strndup(f, (gsize)(colon - f));
		bool replaced = pipeline_header_replaced(name);   /* the names output.c drops */
		g_free(name);
		if (k + 4 < fields->len && replaced) {
			*why = "a Content-*, MIME-Version or X-Mugai-Status header besides mugai's own";
			goto out;
		}
	}
	const char *const *last = (const char *const *)fields->pdata + fields->len - 4;
	char *st = g_strconcat("X-Mugai-Status: ", status ? status : "", NULL);
	*qp = strcmp(last[2], "Content-Transfer-Encoding: quoted-printable") == 0;
	if (strcmp(last[0], "MIME-Version: 1.0") == 0 &&
	    strcmp(last[1], "Content-Type: text/plain; charset=utf-8") == 0 &&
	    (*qp || strcmp(last[2], "Content-Transfer-Encoding: base64") == 0) && strcmp(last[3], st) == 0)
		rc = 0;
	g_free(st);
out:
	g_ptr_array_unref(fields);
	return rc;
}

static char *code(GMimeContentEncoding enc, bool encode, const char *in, size_t len, size_t *outlen)
{
	GMimeEncoding e;
	if (encode)
		g_mime_encoding_init_encode(&e, enc);
	else
		g_mime_encoding_init_decode(&e, enc);
	char *out = g_malloc(g_mime_encoding_outlen(&e, len) + 16);
	*outlen = g_mime_encoding_flush(&e, in, len, out);
	return out;
}

int outverify_check(const uint8_t *out, size_t len, uint64_t body_offset, const char *status,
                    bool *qp, char **text, const char **why)
{
	if (text)
		*text = NULL;
	if (body_offset < 2 || body_offset > len || out[body_offset - 1] != '\n' || out[body_offset - 2] != '\n')
		FAIL("the body does not start after a blank line");
	const char *h = (const char *)out;
	size_t hend = (size_t)body_offset - 1;   /* up to the blank line */
	if (check_headers(h, hend, status, qp, why) < 0)
		return -1;

	const char *body = h + body_offset;
	size_t blen = len - (size_t)body_offset, dlen, elen;
	GMimeContentEncoding enc = *qp ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE : GMIME_CONTENT_ENCODING_BASE64;
	char *dec = code(enc, false, body, blen, &dlen);
	if (memchr(dec, '\0', dlen) || !g_utf8_validate(dec, (gssize)dlen, NULL)) {
		g_free(dec);
		FAIL("the body is not UTF-8 text");
	}
	/* what output.c writes: the encoder's bytes, and a newline if they lack one */
	char *enc_again = code(enc, true, dec, dlen, &elen);
	bool nl = elen > 0 && enc_again[elen - 1] != '\n';
	bool same = blen == elen + nl && memcmp(enc_again, body, elen) == 0 && (!nl || body[elen] == '\n');
	g_free(enc_again);
	if (!same) {
		g_free(dec);
		FAIL("the body is not what mugai's encoder makes of its text");
	}
	if (text) {
		*text = g_malloc(dlen + 1);
		memcpy(*text, dec, dlen);
		(*text)[dlen] = '\0';
	}
	g_free(dec);
	*why = NULL;
	return 0;
}
