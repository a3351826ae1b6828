/* charset.h - every text to UTF-8 through our own alias table.
 *
 * Shift_JIS labels (shift_jis, sjis, x-sjis, windows-31j, ms932, csshiftjis,
 * ms_kanji, cp932) decode as CP932; ISO-2022-JP includes the CP50220/50221
 * extensions (NEC row 13 such as U+2460 and U+3231); EUC-JP; UTF-8; anything
 * else iconv knows.  Undecodable bytes become U+FFFD and are counted; they
 * are never dropped silently.  Results are g_malloc'ed, NUL-terminated UTF-8
 * with no NUL inside (a NUL byte in the input becomes U+FFFD and counts).
 */
#ifndef MUGAI_CHARSET_H
#define MUGAI_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct charset_info {
	const char *used;   /* canonical name actually used: "UTF-8", "CP932", "ISO-2022-JP", "EUC-JP", ...; static string */
	size_t invalid;     /* undecodable sequences replaced by U+FFFD */
	bool unknown_label; /* the declared label was not known; a guess was used */
	bool guessed;       /* no (usable) label: the charset was detected */
} charset_info;

/* Canonical iconv-able name for a MIME charset label, or NULL if unknown. */
const char *charset_canonical(const char *label);

/* Decode LEN bytes labelled CHARSET (NULL or "" = unknown: ISO-2022-JP if
 * ESC sequences are present, else strict UTF-8, else whichever Japanese
 * encoding decodes cleanly, else UTF-8 with replacements).  Never NULL. */
char *charset_to_utf8(const char *charset, const char *buf, size_t len,
                      size_t *out_len, charset_info *info);

/* RFC 2047 decode an unstructured header value (Subject, a display name).
 * Adjacent encoded words are joined (works around GMime 3.2.13 #133);
 * raw 8-bit bytes are decoded as by charset_to_utf8(NULL, ...).  Folding
 * (CRLF/LF + WSP) is unfolded.  *invalid (if non-NULL) gets the U+FFFD count. */
char *charset_decode_header(const char *raw, size_t *invalid);

/* Extract and decode parameter NAME (e.g. "filename", "name") from a raw
 * Content-Disposition / Content-Type header value: quoted strings, RFC 2231
 * continuations and charsets (pieces joined as bytes before decoding, so a
 * character split across pieces survives), RFC 2047 words inside quotes,
 * raw 8-bit values.  Returns NULL when the parameter is absent.  *dup is set
 * when the parameter occurs more than once (first occurrence returned). */
char *charset_header_param(const char *raw_value, const char *name, bool *dup,
                           size_t *invalid);

/* Printable form of untrusted text for notices and logs: control characters,
 * bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C), zero-width
 * characters and other Cf characters become "<U+XXXX>"; invalid UTF-8 becomes
 * U+FFFD.  Returns g_malloc'ed UTF-8. */
char *charset_printable(const char *utf8);

#endif
