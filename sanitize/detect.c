/* detect.c - libmagic wrapper: one cookie per thread.
 *
 * Cookies live in thread-local storage and are never freed before the
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
static _Thread_local magic_t cookie;

static magic_t get_cookie(void)
{
	if (cookie)
		return cookie;
	pthread_mutex_lock(&load_lock);
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	if (m && magic_load(m, NULL) != 0) {
		magic_close(m);
		m = NULL;
	}
	pthread_mutex_unlock(&load_lock);
	cookie = m;
	return m;
}

char *detect_mime_type(const void *buf, size_t len)
{
	magic_t m = get_cookie();
	if (!m)
		return NULL;
	if (len > DETECT_HEAD_BYTES)
		len = DETECT_HEAD_BYTES;
	const char *t = magic_buffer(m, buf, len);
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
	if (strcmp(mime, "application/octet-stream") != 0)
		return false;
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
