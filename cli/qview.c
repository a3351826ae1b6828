/* qview.c - text for people: untrusted strings made visible, display widths,
 * sizes and local times.
 *
 * Owns how the `mugai quarantine` commands show what a sender wrote: control
 * and bidi characters become <U+XXXX>, invalid bytes <0xNN>, and column
 * widths count East Asian wide characters as two columns (GLib's Unicode
 * tables: g_unichar_iswide, g_unichar_iszerowidth), so a table of Japanese
 * subjects stays aligned.  Ambiguous-width characters count as one column,
 * as in a UTF-8 terminal outside CJK legacy mode.
 */
#include "cli/qview.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static bool unsafe_char(gunichar c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||   /* C0, DEL, C1 */
	       c == 0x061c || c == 0x200e || c == 0x200f ||          /* ALM, LRM, RLM */
	       c == 0x2028 || c == 0x2029 ||                         /* line/paragraph separators */
	       (c >= 0x202a && c <= 0x202e) ||                       /* bidi embeddings, overrides */
	       (c >= 0x2066 && c <= 0x2069);                         /* bidi isolates */
}

static char *printable(const char *s, bool text)
{
	if (!s)
		return g_strdup("-");
	GString *g = g_string_sized_new(strlen(s));
	const char *p = s;
	while (*p) {
		gunichar c = g_utf8_get_char_validated(p, -1);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append_printf(g, "<0x%02X>", (unsigned char)*p);
			p++;
			continue;
		}
		const char *next = g_utf8_next_char(p);
		if (unsafe_char(c) && !(text && (c == '\n' || c == '\t')))
			g_string_append_printf(g, "<U+%04X>", c);
		else
			g_string_append_len(g, p, next - p);
		p = next;
	}
	return g_string_free(g, FALSE);
}

char *qview_printable(const char *s)
{
	return printable(s, false);
}

char *qview_printable_text(const char *s)
{
	return printable(s, true);
}

static int char_width(gunichar c)
{
	/* Latin-1 and the letters after it, before the combining marks at
	 * U+0300, are one column (controls were made visible before): the
	 * common case of addresses, spared GLib's table lookups. */
	if (c < 0x300)
		return 1;
	if (g_unichar_iszerowidth(c))
		return 0;
	return g_unichar_iswide(c) ? 2 : 1;
}

int qview_width(const char *s)
{
	int w = 0;
	for (const char *p = s; p && *p; p = g_utf8_next_char(p))
		w += char_width(g_utf8_get_char(p));
	return w;
}

void qview_cell(GString *g, const char *s, int width, bool cut, bool right)
{
	int w = qview_width(s);
	if (w <= width || !cut) {
		if (right)
			for (int i = w; i < width; i++)
				g_string_append_c(g, ' ');
		g_string_append(g, s);
		if (!right)
			for (int i = w; i < width; i++)
				g_string_append_c(g, ' ');
		return;
	}
	/* Keep what fits in WIDTH - 1 columns, then the ellipsis. */
	int used = 0;
	const char *p = s;
	for (; *p; p = g_utf8_next_char(p)) {
		int cw = char_width(g_utf8_get_char(p));
		if (used + cw > width - 1)
			break;
		used += cw;
	}
	gsize start = g->len;
	g_string_append_len(g, s, p - s);
	if (width >= 1) {
		g_string_append(g, "\xe2\x80\xa6");   /* U+2026 */
		used++;
	} else {
		g_string_truncate(g, start);
		used = 0;
	}
	for (; used < width; used++)
		g_string_append_c(g, ' ');
}

char *qview_size(uint64_t n)
{
	static const char *const units[] = { "KB", "MB", "GB", "TB" };
	if (n < 1024)
		return g_strdup_printf("%u B", (unsigned)n);
	double v = (double)n / 1024;
	size_t u = 0;
	/* Switch unit before the rounded figure would read "1024.0". */
	while (v >= 1023.95 && u + 1 < G_N_ELEMENTS(units)) {
		v /= 1024;
		u++;
	}
	return g_strdup_printf("%.1f %s", v, units[u]);
}

char *qview_local_time(const char *ts, bool seconds)
{
	if (!ts)
		return NULL;
	/* The records' own form, "YYYY-MM-DDTHH:MM:SS[.mmm]Z", through libc:
	 * GLib's local time zone re-reads /etc/localtime on every conversion,
	 * which made a table of 100,000 entries twice as slow. */
	struct tm tm = { 0 };
	const char *rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest && *rest == '.')
		rest += 1 + strspn(rest + 1, "0123456789");
	time_t t;
	char buf[32];
	if (rest && strcmp(rest, "Z") == 0 && (t = timegm(&tm)) != (time_t)-1 &&
	    localtime_r(&t, &tm) &&
	    strftime(buf, sizeof buf, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm) > 0)
		return g_strdup(buf);
	/* any other RFC 3339 form */
	GDateTime *d = g_date_time_new_from_iso8601(ts, NULL);
	if (!d)
		return NULL;
	GDateTime *l = g_date_time_to_local(d);
	char *s = l ? g_date_time_format(l, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M") : NULL;
	if (l)
		g_date_time_unref(l);
	g_date_time_unref(d);
	return s;
}

int qview_columns(FILE *out)
{
	struct winsize ws;
	if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	if (c && *c) {
		char *end;
		long v = strtol(c, &end, 10);
		if (*end == '\0' && v > 0 && v < 10000)
			return (int)v;
	}
	return 120;
}
