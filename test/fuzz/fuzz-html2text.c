/* fuzz-html2text.c - libFuzzer target: any bytes as an HTML body through
 * html2text (libxml2's HTML push parser in SAX mode, our text builder).
 *
 * The first byte picks the links mode and a chunk size; the rest, made
 * valid UTF-8 as the pipeline would, is converted whole (as the pipeline
 * does) and again fed in chunks.  Each text must be valid UTF-8 without NUL
 * and show every URL defanged unless the mode is "show"; a crash, a
 * sanitizer report or a hang is a finding.  The two texts are not compared:
 * on malformed markup libxml2 2.9.14's push parser itself reports different
 * SAX events at different chunk boundaries (the fuzzer's first finding,
 * reproduced with libxml2 alone), which is why the pipeline never feeds in
 * pieces; test-html2text checks that well-formed input gives one text.
 */
#include "sanitize/html2text.h"
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum mugai_links links = (enum mugai_links)(data[0] % 3);
	size_t chunk = 1 + (data[0] >> 2);
	char *html = g_utf8_make_valid((const char *)data + 1, (gssize)size - 1);
	size_t len = strlen(html);   /* the pipeline's converter stops at a NUL too */

	unsigned f1 = 0, f2 = 0;
	char *whole = html2text_convert(html, len, links, 0, &f1);
	html2text *h = html2text_new(links, 0);
	int rc = 0;
	for (size_t off = 0; off < len && rc == 0; off += chunk)
		rc = html2text_feed(h, html + off, MIN(chunk, len - off));
	size_t tlen = 0;
	char *pieces = rc == 0 ? html2text_finish(h, &tlen, &f2) : NULL;
	html2text_free(h);

	const char *texts[] = { whole, pieces };
	for (int i = 0; i < 2; i++) {
		const char *t = texts[i];
		if (!t)
			continue;
		if (!g_utf8_validate(t, -1, NULL) || (i == 1 && strlen(t) != tlen))
			abort();
		if (links != MUGAI_LINKS_SHOW && (strstr(t, "http://") || strstr(t, "https://")))
			abort();
	}
	(void)f1;
	(void)f2;
	g_free(whole);
	g_free(pieces);
	g_free(html);
	return 0;
}
