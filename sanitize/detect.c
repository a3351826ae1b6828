/* detect.c - libmagic wrapper: one cookie per thread.
 *
 * Two cookies (with and without the text tests) live in thread-local storage and are never freed before the
 * thread exits (a worker process reuses its cookie for every message).
 * Compressed files are not looked into (MAGIC_NO_CHECK_COMPRESS would fork
 * decompressors otherwise); archives are opened with libarchive instead.
 */
#include "sanitize/detect.h"
#include <glib.h>
#include <magic.h>
#include <pthread.h>
#include <string.h>

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local magic_t cookies[2];  /* [0] files, [1] bodies */

static magic_t get_cookie(bool text)
{
	if (cookies[text])
		return cookies[text];
	pthread_mutex_lock(&load_lock);
	/* CSV and JSON sniffing parse the whole buffer and say nothing a gateway needs */
	int flags = MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_JSON | MAGIC_ERROR;
	if (!text)
		flags |= MAGIC_NO_CHECK_TEXT | MAGIC_NO_CHECK_ENCODING;
	magic_t m = magic_open(flags);
	if (m && magic_load(m, NULL) != 0) {
		magic_close(m);
		m = NULL;
	}
	pthread_mutex_unlock(&load_lock);
	cookies[text] = m;
	return m;
}

/* No NUL and no control characters but those text uses (TAB, LF, CR, FF,
 * and ESC/SO/SI for ISO-2022-JP). */
static bool text_bytes(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	if (len > DETECT_HEAD_BYTES)
		len = DETECT_HEAD_BYTES;
	for (size_t i = 0; i < len; i++) {
		unsigned c = p[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
		    c != 0x1b && c != 0x0e && c != 0x0f)
			return false;
	}
	return true;
}

/* BUF (text bytes) starts with '<' after an optional UTF-8 BOM and blanks. */
static bool starts_with_tag(const unsigned char *p, size_t len)
{
	size_t i = len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf ? 3 : 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < len && p[i] == '<';
}

char *detect_mime_type(const void *buf, size_t len, enum detect_mode mode)
{
	bool text = text_bytes(buf, len);
	if ((mode == DETECT_PLAIN_BODY || mode == DETECT_HTML_BODY) && text) {
		/* A body kept as text: whatever signature its text bytes might
		 * carry, it is shown as text (and only as text) in the output.  An
		 * HTML body goes through the HTML parser whatever libmagic would
		 * call it, so its text tests (milliseconds) would decide nothing. */
		return g_strdup(mode == DETECT_PLAIN_BODY ? "text/plain" : "text/html");
	}
	if (mode == DETECT_HTML_BODY)
		mode = DETECT_FULL;  /* UTF-16 HTML, say: the text tests know it */
	if (mode == DETECT_PACKAGE_XML) {
		/* Office and LibreOffice read these parts as XML and nothing else;
		 * the text tests would spend milliseconds on their long lines. */
		if (text && starts_with_tag(buf, MIN(len, (size_t)DETECT_HEAD_BYTES)))
			return g_strdup("text/xml");
		mode = DETECT_FILE;
	}
	/* Text bytes under DETECT_FILE: the text cookie alone, since it tries
	 * the binary signatures first anyway (one pass instead of two). */
	bool full = mode == DETECT_FULL || (mode == DETECT_FILE && text);
	magic_t m = get_cookie(full);
	if (!m)
		return NULL;
	size_t cap = full ? DETECT_TEXT_HEAD_BYTES : DETECT_HEAD_BYTES;
	if (len > cap)
		len = cap;
	const char *t = magic_buffer(m, buf, len);
	if (!full && mode == DETECT_FILE && t && strcmp(t, "application/octet-stream") == 0) {
		/* nothing matched: the text tests tell scripts and text apart
		 * (UTF-16 and text with stray control bytes fail text_bytes) */
		magic_t mt = get_cookie(true);
		const char *tt = mt ? magic_buffer(mt, buf, MIN(len, (size_t)DETECT_TEXT_HEAD_BYTES)) : NULL;
		if (tt)
			t = tt;
	}
	return t ? g_strdup(t) : NULL;
}

bool detect_is_textual(const char *mime, const void *buf, size_t len)
{
	if (!mime)
		return false;
	if (g_str_has_prefix(mime, "text/") || g_str_has_prefix(mime, "message/") ||
	    strcmp(mime, "application/x-empty") == 0 || strcmp(mime, "inode/x-empty") == 0 ||
	    strcmp(mime, "application/json") == 0 || strcmp(mime, "application/xml") == 0)
		return true;
	return strcmp(mime, "application/octet-stream") == 0 && text_bytes(buf, len);
}
