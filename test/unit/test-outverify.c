/* test-outverify.c - what a worker may hand back: every output the
 * pipeline builds passes, and each way a compromised worker could bend it
 * (another part, another encoding, a header mugai's own, a body that is
 * not exactly the encoder's) is refused. */
#include "tap.h"
#include "sanitize/outverify.h"
#include "sanitize/pipeline.h"
#include <gmime/gmime.h>
#include <glib.h>

#define STATUS "sanitized; removed=1; suspect=0; id=20261208-000000000-AAAAAAAAAA"
#define HEAD "From: a@example.jp\nSubject: =?utf-8?b?6KaL56mN?=\n"
#define OURS(cte) "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n" \
                  "Content-Transfer-Encoding: " cte "\nX-Mugai-Status: " STATUS "\n\n"

/* What output.c writes for TEXT: the encoder's bytes and a final newline. */
static char *encode(const char *text, bool qp)
{
	GMimeEncoding e;
	g_mime_encoding_init_encode(&e, qp ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE : GMIME_CONTENT_ENCODING_BASE64);
	size_t n = strlen(text);
	char *out = g_malloc(g_mime_encoding_outlen(&e, n) + 16);
	size_t len = g_mime_encoding_flush(&e, text, n, out);
	if (len && out[len - 1] != '\n')
		out[len++] = '\n';
	out[len] = '\0';
	return out;
}

static int check(const char *out, const char *status, bool *qp, char **text, const char **why)
{
	const char *sep = strstr(out, "\n\n");
	uint64_t off = sep ? (uint64_t)(sep - out) + 2 : 0;
	return outverify_check((const uint8_t *)out, strlen(out), off, status, qp, text, why);
}

int main(void)
{
	g_mime_init();
	static const char *const texts[] = {
		"田中様\n\nいつもお世話になっております。\n", "", "a\n", "line without newline",
		"=== equals and trailing blanks   \n\ttab\n", "very long line " "0123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789012345678901234567890123456789\n",
	};
	/* an original's odd header names are its own: kept, not a reason to refuse */
	{
		char *body = encode("x\n", false);
		char *out = g_strconcat("Subj\xe9" "ct: 8-bit name\nX Odd: blank in the name\n:To: no name\n", OURS("base64"),
		                        body, NULL);
		bool qp;
		const char *why = NULL;
		TAP_OK(check(out, STATUS, &qp, NULL, &why) == 0, "an original header with 8-bit bytes, a blank or nothing "
		       "in its name is kept (%s)", why ? why : "-");
		g_free(out);
		g_free(body);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		for (int qp = 0; qp < 2; qp++) {
			char *body = encode(texts[i], qp);
			char *out = g_strconcat(HEAD, qp ? OURS("quoted-printable") : OURS("base64"), body, NULL);
			bool got_qp = !qp;
			char *text = NULL;
			const char *why = NULL;
			int rc = check(out, STATUS, &got_qp, &text, &why);
			TAP_OK(rc == 0 && got_qp == (bool)qp, "text %zu in %s: accepted (%s)", i, qp ? "QP" : "base64", why ? why : "-");
			/* output.c ends the body with a newline, which QP makes part of the text */
			size_t n = strlen(texts[i]);
			char *want = g_strconcat(texts[i], qp && n && texts[i][n - 1] != '\n' ? "\n" : "", NULL);
			TAP_STREQ(text, want, "text %zu in %s: the decoded text", i, qp ? "QP" : "base64");
			g_free(want);
			g_free(text);
			g_free(out);
			g_free(body);
		}
	}

	char *good = encode("本文です。\n", false);
	char *exe = g_strdup("TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\n");
	const struct {
		const char *name, *out, *status;
	} bad[] = {
		{ "a multipart instead of the text part", g_strconcat(HEAD, "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
		  "boundary=b\nContent-Transfer-Encoding: base64\nX-Mugai-Status: " STATUS "\n\n--b\n\n", good, "--b--\n", NULL),
		  STATUS },
		{ "another status than the reply's", g_strconcat(HEAD, OURS("base64"), good, NULL), "clean; removed=0; suspect=0" },
		{ "a Content-Type among the kept headers", g_strconcat("Content-Type: application/x-msdownload\n", HEAD,
		  OURS("base64"), good, NULL), STATUS },
		{ "an X-Mugai-Released among the kept headers", g_strconcat("X-Mugai-Released: by=x\n", HEAD, OURS("base64"),
		  good, NULL), STATUS },
		{ "a folded Content-Disposition among the kept headers", g_strconcat(HEAD, "Content-Disposition:\n attachment\n",
		  OURS("base64"), good, NULL), STATUS },
		{ "our headers in another order", g_strconcat(HEAD, "Content-Type: text/plain; charset=utf-8\nMIME-Version: 1.0\n"
		  "Content-Transfer-Encoding: base64\nX-Mugai-Status: " STATUS "\n\n", good, NULL), STATUS },
		{ "a charset other than utf-8", g_strconcat(HEAD, "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-2022-jp\n"
		  "Content-Transfer-Encoding: base64\nX-Mugai-Status: " STATUS "\n\n", good, NULL), STATUS },
		{ "a parameter added to Content-Type", g_strconcat(HEAD, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8; "
		  "name=setup.exe\nContent-Transfer-Encoding: base64\nX-Mugai-Status: " STATUS "\n\n", good, NULL), STATUS },
		{ "uuencode as the encoding", g_strconcat(HEAD, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
		  "Content-Transfer-Encoding: x-uuencode\nX-Mugai-Status: " STATUS "\n\n", good, NULL), STATUS },
		{ "a body that decodes to an executable", g_strconcat(HEAD, OURS("base64"), exe, NULL), STATUS },
		{ "base64 with a junk character", g_strconcat(HEAD, OURS("base64"), "5pys5paH44Gn44GZ44CC!Cg==\n", NULL), STATUS },
		{ "base64 folded differently", g_strconcat(HEAD, OURS("base64"), "5pys5paH\n44Gn44GZ44CCCg==\n", NULL), STATUS },
		{ "text after the base64", g_strconcat(HEAD, OURS("base64"), good, "--b\nContent-Type: application/zip\n\nPK\n", NULL),
		  STATUS },
		{ "QP hiding bytes that are not UTF-8", g_strconcat(HEAD, OURS("quoted-printable"), "=FF=FE\n", NULL), STATUS },
		{ "a NUL in the text", g_strconcat(HEAD, OURS("base64"), "YQBi\n", NULL), STATUS },
		{ "a CR in the headers", g_strconcat("From: a\r\n", OURS("base64"), good, NULL), STATUS },
		{ "no blank line before the body", g_strconcat(HEAD, "MIME-Version: 1.0\n", NULL), STATUS },
		{ "a header line without a colon", g_strconcat(HEAD, "Content-Type application/zip\n", OURS("base64"), good, NULL),
		  STATUS },
		{ "a Content-Type with a blank before the colon", g_strconcat(HEAD, "Content-Type : application/zip\n",
		  OURS("base64"), good, NULL), STATUS },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		bool qp;
		char *text = NULL;
		const char *why = NULL;
		int rc = check(bad[i].out, bad[i].status, &qp, &text, &why);
		TAP_OK(rc == -1 && text == NULL && why, "refused: %s (%s)", bad[i].name, why ? why : "accepted");
		g_free(text);
		g_free((char *)bad[i].out);
	}
	/* the body offset the reply gives must be the blank line's end */
	char *out = g_strconcat(HEAD, OURS("base64"), good, NULL);
	bool qp;
	const char *why;
	uint64_t off = (uint64_t)(strstr(out, "\n\n") - out) + 2;
	TAP_OK(outverify_check((const uint8_t *)out, strlen(out), off + 1, STATUS, &qp, NULL, &why) == -1,
	       "refused: a body offset past the blank line");
	TAP_OK(outverify_check((const uint8_t *)out, strlen(out), strlen(out) + 1, STATUS, &qp, NULL, &why) == -1,
	       "refused: a body offset past the end");
	TAP_OK(outverify_check((const uint8_t *)out, strlen(out), off, STATUS, &qp, NULL, &why) == 0,
	       "accepted without asking for the text");
	g_free(out);
	g_free(good);
	g_free(exe);
	g_mime_shutdown();
	return tap_done();
}
