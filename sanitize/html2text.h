/* html2text.h - HTML to readable plain text with libxml2's HTML push parser.
 *
 * Input is UTF-8 (the caller converts first); the parser runs with
 * HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC in SAX mode and never fetches
 * anything.  State lives in the struct, so feeding well-formed input whole,
 * one byte at a time or in random chunks gives identical output; on broken
 * markup libxml2's push parser (2.9.14) can itself report different events
 * at different chunk boundaries, so the pipeline converts whole buffers.
 */
#ifndef MUGAI_HTML2TEXT_H
#define MUGAI_HTML2TEXT_H

#include <stddef.h>
#include "config/config.h"

typedef struct html2text html2text;

/* Flags reported by html2text_finish(). */
#define HTML2TEXT_HIDDEN_TEXT  0x1u  /* display:none / visibility:hidden / font-size:0 content was dropped */
#define HTML2TEXT_TRUNCATED    0x2u  /* input exceeded max_bytes; the rest was not converted */
#define HTML2TEXT_HAS_FORM     0x4u  /* <form> or <input> seen */
#define HTML2TEXT_HAS_SCRIPT   0x8u  /* <script> or on* handlers seen (dropped) */

/* links: how <a href> targets are shown; max_bytes: input cap (0 = none). */
html2text *html2text_new(enum mugai_links links, size_t max_bytes);
int html2text_feed(html2text *h, const char *utf8, size_t len);  /* 0 ok, -1 error */
/* Finish and return the text (g_malloc'ed UTF-8, trailing newline trimmed
 * to exactly one "\n" unless empty).  *flags gets HTML2TEXT_*. */
char *html2text_finish(html2text *h, size_t *len, unsigned *flags);
html2text *html2text_free(html2text *h);  /* NULL-safe, returns NULL */

/* Convenience: whole buffer in one call. */
char *html2text_convert(const char *utf8, size_t len, enum mugai_links links,
                        size_t max_bytes, unsigned *flags);

/* Charset named by <meta charset=...> or <meta http-equiv content="...;
 * charset=..."> in the first 4096 bytes of raw HTML, g_malloc'ed, or NULL. */
char *html2text_sniff_charset(const char *raw, size_t len);

/* A URL made harmless for display: "https://www.example.co.jp/x" ->
 * "hxxps://www[.]example[.]co[.]jp/x" (scheme letters t->x, every dot in the host
 * bracketed).  g_malloc'ed. */
char *html2text_defang_url(const char *url);

/* URLs written as text (http://, https://, ftp://, www.) defanged, line by
 * line, the rest unchanged: for text/plain bodies.  g_malloc'ed. */
char *html2text_defang_text(const char *utf8);

#endif
