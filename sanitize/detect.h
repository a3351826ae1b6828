/* detect.h - true file type of decoded bytes with libmagic.
 *
 * One magic cookie per thread (libmagic cookies are not thread-safe),
 * created lazily under a mutex because concurrent magic_load() has been
 * seen to corrupt the heap.
 */
#ifndef MUGAI_DETECT_H
#define MUGAI_DETECT_H

#include <stddef.h>
#include <stdbool.h>

/* How many leading bytes of a part libmagic looks at: bodies (whose text
 * encoding matters) and files (where the text tests are skipped, which
 * costs a third as much; archives are opened with libarchive anyway). */
#define DETECT_HEAD_BYTES (16 * 1024)       /* files; also what callers keep */
#define DETECT_TEXT_HEAD_BYTES (8 * 1024)   /* bodies, with the text tests */

enum detect_mode {
	DETECT_FILE,        /* text bytes: everything; else binary signatures, the text tests if none matched */
	DETECT_FULL,        /* with the text tests */
	DETECT_PLAIN_BODY,  /* "text/plain" for text bytes; else binary signatures */
	DETECT_HTML_BODY,   /* "text/html" for text bytes; else as DETECT_FULL */
	DETECT_PACKAGE_XML, /* an XML part of an Office/ODF package: "text/xml" for text bytes starting '<' */
};

/* MIME type ("application/pdf") of BUF, g_malloc'ed; NULL if libmagic fails.
 * libmagic's binary signatures cost 0.1-0.4 ms a call when none matches;
 * its text tests (regular expressions) 0.7-2.5 ms on text that matches
 * none, so they run only where their answer is needed. */
char *detect_mime_type(const void *buf, size_t len, enum detect_mode mode);

/* True when a detected type can be shown as text (text/..., message/...,
 * empty, JSON/XML), or is "application/octet-stream" but the bytes hold no
 * NUL or control characters other than those text uses (TAB, LF, CR, FF,
 * ESC/SO/SI for ISO-2022-JP). */
bool detect_is_textual(const char *mime, const void *buf, size_t len);

#endif
