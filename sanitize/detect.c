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

char *detect_mime_type(const void *buf, size_t len, enum detect_mode mode)
{
	bool full = mode == DETECT_FULL;
	magic_t m = get_cookie(full);
	if (!m)
		return NULL;
	size_t cap = full ? DETECT_TEXT_HEAD_BYTES : DETECT_HEAD_BYTES;
	if (len > cap)
		len = cap;
	const char *t = magic_buffer(m, buf, len);
	if (!full && t && strcmp(t, "application/octet-stream") == 0) {
		if (mode == DETECT_PLAIN_BODY) {
			/* no binary signature and text bytes: what the (five times
			 * dearer) text tests would call text/plain */
			if (text_bytes(buf, len))
				t = "text/plain";
		} else {
			/* nothing matched: the text tests tell scripts and text apart */
			magic_t mt = get_cookie(true);
			const char *tt = mt ? magic_buffer(mt, buf, MIN(len, (size_t)DETECT_TEXT_HEAD_BYTES)) : NULL;
			if (tt)
				t = tt;
		}
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
