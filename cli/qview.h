/* qview.h - text for people: untrusted strings made visible, display widths,
 * sizes and times, for the `mugai quarantine` table and `show`.
 *
 * All functions take UTF-8 (invalid bytes are shown as <0xNN>) and return
 * g_malloc'ed strings or append to a GString.
 */
#ifndef MUGAI_QVIEW_H
#define MUGAI_QVIEW_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* S with every control, bidi and separator character shown as <U+XXXX>
 * (a sender-written subject must not move the cursor or reverse the line);
 * NULL becomes "-".  qview_printable_text() keeps newlines and tabs. */
char *qview_printable(const char *s);
char *qview_printable_text(const char *s);

/* Terminal columns of S: 2 for East Asian wide and full-width characters,
 * 0 for combining and zero-width ones, 1 otherwise. */
int qview_width(const char *s);

/* Append S to G in exactly WIDTH columns: cut with "…" when wider (when
 * CUT; else S whole), padded with blanks on the right (or the left when
 * RIGHT).  A wide character that does not fit before the cut is replaced
 * by blanks, so the columns after it stay aligned. */
void qview_cell(GString *g, const char *s, int width, bool cut, bool right);

/* "812 B", "47.1 KB", "3.0 MB", "1.2 GB" (1 KB = 1024 bytes). */
char *qview_size(uint64_t bytes);

/* RFC 3339 TS as local time "YYYY-MM-DD HH:MM" (or with ":SS" when
 * SECONDS); NULL when TS does not parse. */
char *qview_local_time(const char *ts, bool seconds);

/* Width to fit the table in: the terminal's when OUT is one, else $COLUMNS,
 * else 120. */
int qview_columns(FILE *out);

#endif
