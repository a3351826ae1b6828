/* html2text.c - HTML mail body to plain text for the LGWAN side.
 *
 * Owns: the libxml2 HTML push parser (SAX mode, never a tree, never the
 * network); the input path in front of it (UTF-8 repair, a pre-tokenizer
 * that removes comments and <script>/<style> content, a few bytes of
 * hold-back at chunk ends), which works around libxml2 2.9.14 push-parser
 * quirks; the element stack and line builder that turn SAX events into
 * text; the link / hidden-text / script / form policy.  Also the helpers
 * html2text_defang_url() and html2text_sniff_charset().  All per-message
 * state is in struct html2text, so a document fed whole, byte by byte or
 * in any chunks gives identical output.  main() calls xmlInitParser().
 * html2text_finish() returns NULL only after a parser failure (feed
 * returned -1); callers treat that as "could not convert".
 */
#include "sanitize/html2text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/xmlerror.h>

/* Elements deeper than this are still converted (text, <br>, <img>, line
 * breaks of blocks, dropping of hidden/script subtrees, which is tracked by
 * depth alone) but not pushed, so their quote/list/pre/table state is not
 * applied.  Bounds the struct without limiting the parser. */
#define H2T_MAX_STACK   256
/* Quote markers and list indentation shown at most this deep, so that output
 * stays proportional to input even for 10,000 nested <blockquote>s. */
#define H2T_MAX_QUOTE   8
#define H2T_MAX_LIST    8
/* Input is handed to libxml2 in slices of at most this many bytes. */
#define H2T_SLICE       16384
/* A chunk given to libxml2 never ends less than this many bytes after its
 * last '<' (see feed_parser()). */
#define H2T_HOLD        10
#define H2T_NONE        SIZE_MAX

enum kind {
	K_OTHER, K_DROP, K_SCRIPT, K_BLOCK, K_PARA, K_BR, K_HR, K_UL, K_OL,
	K_LI, K_TABLE, K_TR, K_CELL, K_QUOTE, K_PRE, K_A, K_IMG, K_FORM,
	K_INPUT, K_FORMCTL,
	K_VOID,   /* void in HTML5 but a container for libxml2: never hidden */
};

/* Effects applied at a start tag that the end tag must undo. */
#define FX_LINE   0x01u
#define FX_BLANK  0x02u
#define FX_QUOTE  0x04u
#define FX_LIST   0x08u
#define FX_PRE    0x10u
#define FX_LI     0x20u

struct frame {
	unsigned char kind;
	unsigned char fx;
	unsigned count;          /* <ol> item number, <tr>/<table> cell count */
};

struct html2text {
	enum mugai_links links;
	size_t max_bytes, fed, out_limit;
	unsigned flags;
	bool finished, failed, stopped, seen_input;
	htmlParserCtxtPtr ctxt;

	/* input side: UTF-8 repair state and bytes not yet given to libxml2 */
	unsigned char u8seq[4];
	unsigned u8len, u8need;
	unsigned char u8lo, u8hi;
	/* pre-tokenizer (see pretok()) */
	unsigned pt_state, pt_raw, pt_len, pt_dashes;
	char pt_quote;
	bool pt_eq, pt_bang;
	char pt_buf[12];
	GString *repaired, *hold;

	/* element tracking */
	size_t depth, drop_depth;
	bool drop_hidden;
	struct frame stack[H2T_MAX_STACK];
	unsigned quote_depth, list_depth, pre_depth;

	/* output side */
	GString *out, *line, *pending_ws, *scratch;
	size_t line_prefix_len;
	unsigned long line_gen;
	bool line_started, pending_space, pending_sep, want_blank;
	unsigned blank_quote;
	bool have_bullet, pre_skip_nl, pre_cr;
	unsigned bullet_indent;
	char bullet[24];

	/* the open <a href>: its cleaned URL, element depth, where its text
	 * starts in the current line (H2T_NONE: no text yet) */
	char *link_href;
	size_t link_depth, link_off;
	unsigned long link_gen;
};

/* ---------------------------------------------------------------- tables */

struct tagkind { const char *name; unsigned char kind; };

/* Sorted for bsearch.  "head" is deliberately absent: libxml2 2.9.14 keeps
 * <head> open around unknown elements ("<head><foo>text"), where browsers
 * move the text to <body>; dropping head would drop visible text.  Its
 * invisible children (title, style, script, ...) are dropped one by one. */
static const struct tagkind tagkinds[] = {
	{ "a", K_A }, { "address", K_BLOCK }, { "applet", K_DROP },
	{ "article", K_BLOCK }, { "aside", K_BLOCK }, { "blockquote", K_QUOTE },
	{ "br", K_BR }, { "caption", K_BLOCK }, { "center", K_BLOCK },
	{ "dd", K_BLOCK }, { "details", K_BLOCK }, { "dir", K_UL },
	{ "div", K_BLOCK }, { "dl", K_PARA }, { "dt", K_BLOCK },
	{ "embed", K_VOID }, { "fieldset", K_BLOCK }, { "figcaption", K_BLOCK },
	{ "figure", K_BLOCK }, { "footer", K_BLOCK }, { "form", K_FORM },
	{ "frame", K_DROP }, { "frameset", K_DROP }, { "h1", K_PARA },
	{ "h2", K_PARA }, { "h3", K_PARA }, { "h4", K_PARA }, { "h5", K_PARA },
	{ "h6", K_PARA }, { "header", K_BLOCK }, { "hgroup", K_BLOCK },
	{ "hr", K_HR }, { "iframe", K_DROP }, { "img", K_IMG },
	{ "input", K_INPUT }, { "legend", K_BLOCK }, { "li", K_LI },
	{ "listing", K_PRE }, { "main", K_BLOCK }, { "math", K_DROP },
	{ "menu", K_UL }, { "nav", K_BLOCK }, { "noembed", K_DROP },
	{ "noscript", K_DROP }, { "object", K_DROP }, { "ol", K_OL },
	{ "p", K_PARA }, { "plaintext", K_PRE }, { "pre", K_PRE },
	{ "script", K_SCRIPT }, { "section", K_BLOCK }, { "select", K_FORMCTL },
	{ "style", K_DROP }, { "summary", K_BLOCK }, { "svg", K_DROP },
	{ "table", K_TABLE }, { "td", K_CELL }, { "template", K_DROP },
	{ "textarea", K_FORMCTL }, { "th", K_CELL }, { "title", K_DROP },
	{ "tr", K_TR }, { "track", K_VOID }, { "ul", K_UL }, { "wbr", K_VOID },
	{ "xml", K_DROP },   /* Office XML data islands */
	{ "xmp", K_PRE },
};

static int tagkind_cmp(const void *key, const void *elem)
{
	return g_ascii_strcasecmp(key, ((const struct tagkind *)elem)->name);
}

static enum kind classify(const xmlChar *name)
{
	const struct tagkind *t;

	if (name == NULL)
		return K_OTHER;
	t = bsearch(name, tagkinds, G_N_ELEMENTS(tagkinds), sizeof tagkinds[0],
	            tagkind_cmp);
	return t ? (enum kind)t->kind : K_OTHER;
}

/* -------------------------------------------------------------- UTF-8 */

/* Invisible or control characters that never reach the output: zero-width
 * and bidi controls (spoofing, keyword splitting), soft hyphen, C0/C1
 * controls except the HTML whitespace ones. */
static bool cp_drop(uint32_t c)
{
	if (c < 0x20)
		return !(c == '\t' || c == '\n' || c == '\r' || c == '\f');
	return c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0xad ||
	       c == 0x61c || c == 0x180e ||
	       (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) ||
	       c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
}

static bool cp_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == 0xa0;
}

/* Decode one character of (libxml2-produced, hence valid) UTF-8; a stray
 * byte decodes as a C1 control of length 1 so that it gets dropped. */
static uint32_t u8_next(const unsigned char *s, size_t n, size_t *len)
{
	unsigned need, i;
	uint32_t c = s[0];

	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1; c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2; c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3; c &= 0x07;
	} else {
		return 0x80;
	}
	if (n < need + 1)
		return 0x80;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0x80;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*len = need + 1;
	return c;
}

/* Copy s without the characters cp_drop() rejects. */
static void append_visible(GString *dst, const char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		uint32_t c = u8_next((const unsigned char *)s + i, n - i, &len);
		if (!cp_drop(c))
			g_string_append_len(dst, s + i, (gssize)len);
		i += len;
	}
}

/* Input repair: strict UTF-8 (overlongs, surrogates, > U+10FFFF and stray
 * bytes become U+FFFD), NUL and a leading BOM removed, and sequences never
 * split between chunks.  libxml2 2.9.14 switches the whole rest of the
 * document to ISO-8859-1 at the first bad (or chunk-split) sequence, so it
 * must only ever see whole, valid characters. */
static void u8_repair(html2text *h, const unsigned char *p, size_t n, GString *dst)
{
	static const char fffd[] = "\xef\xbf\xbd";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char b = p[i];
again:
		if (h->u8need == 0) {
			h->u8len = 0;
			if (b < 0x80) {
				if (b != 0)
					g_string_append_c(dst, (char)b);
				h->seen_input = true;
				continue;
			}
			if (b >= 0xc2 && b <= 0xdf) {
				h->u8need = 1; h->u8lo = 0x80; h->u8hi = 0xbf;
			} else if (b == 0xe0) {
				h->u8need = 2; h->u8lo = 0xa0; h->u8hi = 0xbf;
			} else if (b == 0xed) {
				h->u8need = 2; h->u8lo = 0x80; h->u8hi = 0x9f;
			} else if (b >= 0xe1 && b <= 0xef) {
				h->u8need = 2; h->u8lo = 0x80; h->u8hi = 0xbf;
			} else if (b == 0xf0) {
				h->u8need = 3; h->u8lo = 0x90; h->u8hi = 0xbf;
			} else if (b >= 0xf1 && b <= 0xf3) {
				h->u8need = 3; h->u8lo = 0x80; h->u8hi = 0xbf;
			} else if (b == 0xf4) {
				h->u8need = 3; h->u8lo = 0x80; h->u8hi = 0x8f;
			} else {
				g_string_append(dst, fffd);
				h->seen_input = true;
				continue;
			}
			h->u8seq[h->u8len++] = b;
			continue;
		}
		if (b < h->u8lo || b > h->u8hi) {
			g_string_append(dst, fffd);
			h->seen_input = true;
			h->u8need = 0;
			goto again;
		}
		h->u8seq[h->u8len++] = b;
		h->u8lo = 0x80; h->u8hi = 0xbf;
		if (--h->u8need == 0) {
			bool bom = h->u8len == 3 && h->u8seq[0] == 0xef &&
			           h->u8seq[1] == 0xbb && h->u8seq[2] == 0xbf;
			if (!(bom && !h->seen_input))
				g_string_append_len(dst, (const char *)h->u8seq,
				                    (gssize)h->u8len);
			h->seen_input = true;
		}
	}
}

/* ------------------------------------------------------------- defanging */

static bool host_end(char c)
{
	return c == '/' || c == '?' || c == '#' || c == '\\';
}

/* Append url[0..n) defanged: scheme letters t->x (http->hxxp, ftp->fxp),
 * dots of the host part as "[.]" (an existing "[.]" is left alone), for
 * mailto: the dots of the domains after '@'.  Without a scheme the part
 * before the first '/' is taken as the host ("www.example.jp/x"). */
/* Where in URL[from..n) another URL starts: "http://", "https://" or
 * "ftp://" anywhere (a redirector's "?u=https://..." is as clickable to a
 * lenient linkifier as the outer one), or "www." after '=', '&' or '?';
 * N when none. */
static size_t embedded_url(const char *url, size_t from, size_t n)
{
	for (size_t j = from; j < n; j++) {
		size_t rest = n - j;
		char c = url[j] | 0x20;
		if ((c == 'h' && ((rest >= 7 && g_ascii_strncasecmp(url + j, "http://", 7) == 0) ||
		                  (rest >= 8 && g_ascii_strncasecmp(url + j, "https://", 8) == 0))) ||
		    (c == 'f' && rest >= 6 && g_ascii_strncasecmp(url + j, "ftp://", 6) == 0) ||
		    (c == 'w' && j > from && strchr("=&?", url[j - 1]) && rest >= 4 &&
		     g_ascii_strncasecmp(url + j, "www.", 4) == 0))
			return j;
	}
	return n;
}

static void defang_append(GString *dst, const char *url, size_t n)
{
	for (;;) {
		size_t i = 0, s;
		bool in_domain = false;

		for (s = 0; s < n && (g_ascii_isalnum(url[s]) || url[s] == '+' ||
		                      url[s] == '-' || url[s] == '.'); s++)
			;
		if (s > 0 && s < n && url[s] == ':' && g_ascii_isalpha(url[0])) {
			if (s == 6 && g_ascii_strncasecmp(url, "mailto", 6) == 0) {
				g_string_append_len(dst, url, 7);
				for (i = 7; i < n && url[i] != '?'; i++) {
					if (url[i] == '@')
						in_domain = true;
					else if (url[i] == ',')
						in_domain = false;
					if (url[i] == '.' && in_domain &&
					    !(i > 0 && url[i - 1] == '[' && i + 1 < n && url[i + 1] == ']'))
						g_string_append(dst, "[.]");
					else
						g_string_append_c(dst, url[i]);
				}
				g_string_append_len(dst, url + i, (gssize)(n - i));
				return;
			}
			for (i = 0; i < s; i++) {
				char c = url[i];
				g_string_append_c(dst, c == 't' ? 'x' : c == 'T' ? 'X' : c);
			}
			g_string_append_c(dst, ':');
			i = s + 1;
			while (i < n && (url[i] == '/' || url[i] == '\\'))
				g_string_append_c(dst, url[i++]);
		}
		/* the host, then the rest verbatim, up to a URL inside either,
		 * which is defanged in turn (a loop, not recursion: hostile text
		 * may nest thousands) */
		size_t j = embedded_url(url, MAX(i, (size_t)1), n);
		for (; i < j && !host_end(url[i]); i++) {
			if (url[i] == '.' &&
			    !(i > 0 && url[i - 1] == '[' && i + 1 < n && url[i + 1] == ']'))
				g_string_append(dst, "[.]");
			else
				g_string_append_c(dst, url[i]);
		}
		g_string_append_len(dst, url + i, (gssize)(j - i));
		if (j == n)
			return;
		url += j;
		n -= j;
	}
}

char *html2text_defang_url(const char *url)
{
	GString *s;

	if (url == NULL)
		return NULL;
	s = g_string_sized_new(strlen(url) + 16);
	defang_append(s, url, strlen(url));
	return g_string_free(s, FALSE);
}

/* Characters that end a URL written as plain text. */
static bool text_url_end(unsigned char c)
{
	return c <= ' ' || c >= 0x80 || c == '<' || c == '>' || c == '"' ||
	       c == '\'' || c == '`' || c == 0x7f;
}

static size_t prefix_ci(const char *s, size_t n, const char *p)
{
	size_t l = strlen(p);
	return n >= l && g_ascii_strncasecmp(s, p, l) == 0 ? l : 0;
}

/* Defang URLs written as text in line[from..]: "http://", "https://",
 * "ftp://" anywhere, "www." at the start of a word (mail clients link
 * those by themselves).  Runs on whole lines, so a URL split over several
 * SAX callbacks or inline elements is still found. */
static void defang_text(GString *line, size_t from, GString *tmp)
{
	const char *s = line->str;
	size_t n = line->len, i, copied = from;
	bool any = false;

	g_string_truncate(tmp, 0);
	for (i = from; i < n; ) {
		size_t rest = n - i, j;
		bool hit = false;
		char c = s[i];

		if (c == 'h' || c == 'H')
			hit = prefix_ci(s + i, rest, "http://") || prefix_ci(s + i, rest, "https://");
		else if (c == 'f' || c == 'F')
			hit = prefix_ci(s + i, rest, "ftp://") > 0;
		else if ((c == 'w' || c == 'W') && prefix_ci(s + i, rest, "www.") &&
		         (i == from || !(g_ascii_isalnum(s[i - 1]) ||
		                         (s[i - 1] && strchr(".-_/@:[", s[i - 1])))))
			hit = true;
		if (!hit) {
			i++;
			continue;
		}
		for (j = i; j < n && !text_url_end((unsigned char)s[j]); j++)
			;
		if (!any)
			g_string_append_len(tmp, s, (gssize)from);
		any = true;
		g_string_append_len(tmp, s + copied, (gssize)(i - copied));
		defang_append(tmp, s + i, j - i);
		copied = i = j;
	}
	if (!any)
		return;
	g_string_append_len(tmp, s + copied, (gssize)(n - copied));
	g_string_truncate(line, 0);
	g_string_append_len(line, tmp->str, (gssize)tmp->len);
}

char *html2text_defang_text(const char *utf8)
{
	GString *out = g_string_sized_new(strlen(utf8) + 16), *line = g_string_new(NULL), *tmp = g_string_new(NULL);
	for (const char *p = utf8; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		g_string_assign(line, "");
		g_string_append_len(line, p, (gssize)n);
		defang_text(line, 0, tmp);
		g_string_append_len(out, line->str, (gssize)line->len);
		if (nl)
			g_string_append_c(out, '\n');
		p += n + (nl ? 1 : 0);
	}
	g_string_free(line, TRUE);
	g_string_free(tmp, TRUE);
	return g_string_free(out, FALSE);
}

/* ---------------------------------------------------------- line builder */

static void check_limit(html2text *h)
{
	if (h->out_limit && h->out->len + h->line->len > h->out_limit) {
		h->stopped = true;
		h->flags |= HTML2TEXT_TRUNCATED;
	}
}

static void append_quote_prefix(GString *s, unsigned depth)
{
	unsigned i;

	for (i = 0; i < depth && i < H2T_MAX_QUOTE; i++)
		g_string_append(s, "> ");
}

static void end_line(html2text *h)
{
	if (h->line_started) {
		GString *l = h->line;
		while (l->len > h->line_prefix_len &&
		       (l->str[l->len - 1] == ' ' || l->str[l->len - 1] == '\t'))
			g_string_truncate(l, l->len - 1);
		if (h->links != MUGAI_LINKS_SHOW)
			defang_text(l, h->line_prefix_len, h->scratch);
		if (!h->stopped) {
			g_string_append_len(h->out, l->str, (gssize)l->len);
			g_string_append_c(h->out, '\n');
		}
		g_string_truncate(l, 0);
		h->line_started = false;
		h->line_gen++;
		check_limit(h);
	}
	h->pending_space = h->pending_sep = false;
	g_string_truncate(h->pending_ws, 0);
}

/* Ask for a blank line before the next text (blank lines are only ever
 * written in front of text, so there are no leading or trailing ones and
 * never two in a row). */
static void want_blank(html2text *h)
{
	if (!h->want_blank || h->quote_depth < h->blank_quote)
		h->blank_quote = h->quote_depth;
	h->want_blank = true;
}

static void start_line(html2text *h)
{
	GString *l = h->line;
	unsigned lv;

	if (h->want_blank && h->out->len > 0) {
		size_t before = h->out->len;
		append_quote_prefix(h->out, MIN(h->blank_quote, h->quote_depth));
		while (h->out->len > before && h->out->str[h->out->len - 1] == ' ')
			g_string_truncate(h->out, h->out->len - 1);
		g_string_append_c(h->out, '\n');
	}
	h->want_blank = false;
	g_string_truncate(l, 0);
	append_quote_prefix(l, h->quote_depth);
	lv = MIN(h->list_depth, H2T_MAX_LIST);
	if (h->have_bullet) {
		g_string_append_printf(l, "%*s%s", (int)h->bullet_indent, "", h->bullet);
		h->have_bullet = false;
	} else if (lv > 0) {
		g_string_append_printf(l, "%*s", (int)(2 * lv), "");
	}
	h->line_prefix_len = l->len;
	h->line_started = true;
}

/* A run of non-space text (or a generated token such as "<URL>"). */
static void emit_word(html2text *h, const char *s, size_t n)
{
	if (h->stopped || n == 0)
		return;
	if (!h->line_started)
		start_line(h);
	else if (h->pending_sep)
		g_string_append(h->line, " | ");
	else if (h->pending_space)
		g_string_append_c(h->line, ' ');
	h->pending_sep = h->pending_space = false;
	if (h->pending_ws->len) {
		g_string_append_len(h->line, h->pending_ws->str, (gssize)h->pending_ws->len);
		g_string_truncate(h->pending_ws, 0);
	}
	if (h->link_href && h->link_off == H2T_NONE) {
		h->link_off = h->line->len;
		h->link_gen = h->line_gen;
	}
	g_string_append_len(h->line, s, (gssize)n);
	check_limit(h);
}

static void line_break(html2text *h)
{
	if (h->line_started)
		end_line(h);
	else
		want_blank(h);
}

/* Text from the parser (or generated, like image alt text): drops
 * invisible characters, collapses whitespace outside <pre>, keeps it
 * verbatim inside (CRLF/CR -> one line end). */
static void text_in(html2text *h, const char *s, size_t n)
{
	const char *word = NULL;
	size_t i = 0, len;

	while (i < n) {
		uint32_t c = u8_next((const unsigned char *)s + i, n - i, &len);
		bool skip_nl = h->pre_skip_nl, cr = h->pre_cr;

		h->pre_skip_nl = h->pre_cr = false;
		if (cp_drop(c) || cp_space(c)) {
			if (word)
				emit_word(h, word, (size_t)(s + i - word));
			word = NULL;
		}
		if (cp_drop(c)) {
			h->pre_skip_nl = skip_nl;   /* invisible: not "the first char" */
			h->pre_cr = cr;
		} else if (cp_space(c) && h->pre_depth == 0) {
			h->pending_space = true;
		} else if (c == '\n' || c == '\r') {
			if (c == '\r')
				h->pre_cr = true;
			if (!(c == '\n' && cr) && !skip_nl)
				line_break(h);
		} else if (cp_space(c)) {
			g_string_append_c(h->pending_ws, c == '\t' ? '\t' : ' ');
		} else if (word == NULL) {
			word = s + i;
		}
		i += len;
	}
	if (word)
		emit_word(h, word, (size_t)(s + n - word));
}

/* ----------------------------------------------------------------- links */

/* Cleaned href: invisible/control characters and embedded tabs/newlines
 * removed (browsers ignore them too), surrounding spaces trimmed, and the
 * characters that would break "<URL>" in the text percent-encoded. */
static char *clean_href(const char *v)
{
	GString *t = g_string_new(NULL), *u;
	size_t a, b, i;

	append_visible(t, v, strlen(v));
	for (a = 0; a < t->len && (unsigned char)t->str[a] <= ' '; a++)
		;
	for (b = t->len; b > a && (unsigned char)t->str[b - 1] <= ' '; b--)
		;
	u = g_string_sized_new(b - a + 8);
	for (i = a; i < b; i++) {
		unsigned char c = (unsigned char)t->str[i];
		if (c == '\t' || c == '\n' || c == '\r' || c == '\f')
			continue;
		if (c == ' ' || c == '<' || c == '>' || c == '"')
			g_string_append_printf(u, "%%%02X", c);
		else
			g_string_append_c(u, (char)c);
	}
	g_string_free(t, TRUE);
	if (u->len == 0) {
		g_string_free(u, TRUE);
		return NULL;
	}
	return g_string_free(u, FALSE);
}

/* 1: show (http, https, ftp with "//", mailto), 0: drop, 2: drop, script. */
static int href_class(const char *u)
{
	size_t s;

	for (s = 0; u[s] && (g_ascii_isalnum(u[s]) || u[s] == '+' || u[s] == '-' ||
	                     u[s] == '.'); s++)
		;
	if (s == 0 || u[s] != ':' || !g_ascii_isalpha(u[0]))
		return 0;   /* relative, "#anchor", "//host" */
	if ((s == 4 && g_ascii_strncasecmp(u, "http", 4) == 0) ||
	    (s == 5 && g_ascii_strncasecmp(u, "https", 5) == 0) ||
	    (s == 3 && g_ascii_strncasecmp(u, "ftp", 3) == 0))
		return strncmp(u + s, "://", 3) == 0 && u[s + 3] ? 1 : 0;
	if (s == 6 && g_ascii_strncasecmp(u, "mailto", 6) == 0)
		return u[s + 1] ? 1 : 0;
	if ((s == 10 && g_ascii_strncasecmp(u, "javascript", 10) == 0) ||
	    (s == 8 && g_ascii_strncasecmp(u, "vbscript", 8) == 0))
		return 2;
	return 0;
}

/* Link text and URL count as the same when they differ only by the scheme,
 * surrounding spaces or one trailing '/'; the href is then shown once. */
static void url_norm(const char *s, size_t n, const char **os, size_t *on)
{
	static const char *const schemes[] = { "https://", "http://", "ftp://", "mailto:" };
	size_t k, l;

	while (n > 0 && g_ascii_isspace(*s)) { s++; n--; }
	while (n > 0 && g_ascii_isspace(s[n - 1])) n--;
	for (k = 0; k < G_N_ELEMENTS(schemes); k++) {
		if ((l = prefix_ci(s, n, schemes[k])) > 0) {
			s += l; n -= l;
			break;
		}
	}
	if (n > 0 && s[n - 1] == '/')
		n--;
	*os = s;
	*on = n;
}

static bool url_same(const char *text, size_t tn, const char *href)
{
	const char *a, *b;
	size_t an, bn;

	url_norm(text, tn, &a, &an);
	url_norm(href, strlen(href), &b, &bn);
	return an > 0 && an == bn && g_ascii_strncasecmp(a, b, an) == 0;
}

static char *link_display(html2text *h, const char *href)
{
	return h->links == MUGAI_LINKS_SHOW ? g_strdup(href) : html2text_defang_url(href);
}

/* At </a> (or when a new <a> opens first, or at the end): the text is
 * already in the line; add " <URL>", or replace a text that is the URL by
 * the URL itself (defanged unless SHOW, also in REMOVE mode so that it is
 * not clickable). */
static void link_finish(html2text *h)
{
	char *href = h->link_href, *disp;
	bool same = false;

	h->link_href = NULL;
	if (href == NULL)
		return;
	if (h->link_off != H2T_NONE && h->link_gen == h->line_gen && h->line_started)
		same = url_same(h->line->str + h->link_off, h->line->len - h->link_off, href);
	if (same) {
		disp = link_display(h, href);
		g_string_truncate(h->line, h->link_off);
		g_string_append(h->line, disp);
		g_free(disp);
		check_limit(h);
	} else if (h->links != MUGAI_LINKS_REMOVE) {
		GString *tok = g_string_new("<");
		disp = link_display(h, href);
		g_string_append(tok, disp);
		g_string_append_c(tok, '>');
		if (h->line_started && h->pending_ws->len == 0)
			h->pending_space = true;
		emit_word(h, tok->str, tok->len);
		h->pending_space = true;   /* "<URL>" never runs into the next word */
		g_string_free(tok, TRUE);
		g_free(disp);
	}
	g_free(href);
}

static void link_start(html2text *h, const char *href)
{
	char *u;
	int cls;

	if (h->link_href)
		link_finish(h);
	if (href == NULL || (u = clean_href(href)) == NULL)
		return;
	cls = href_class(u);
	if (cls == 2)
		h->flags |= HTML2TEXT_HAS_SCRIPT;
	if (cls != 1) {
		g_free(u);
		return;
	}
	h->link_href = u;
	h->link_depth = h->depth;
	h->link_off = H2T_NONE;
}

/* ------------------------------------------------------- hidden by style */

static bool zero_length(const char *v)
{
	bool digit = false;

	if (*v == '+' || *v == '-')
		v++;
	for (; *v == '0' || *v == '.'; v++)
		digit |= *v == '0';
	if (!digit || g_ascii_isdigit(*v))
		return false;
	while (g_ascii_isalpha(*v) || *v == '%')
		v++;
	return *v == '\0';
}

static bool decl_hides(const char *prop, char *val)
{
	char *bang = strchr(val, '!');

	if (bang)
		*bang = '\0';
	g_strstrip(val);
	if (strcmp(prop, "display") == 0)
		return strcmp(val, "none") == 0;
	if (strcmp(prop, "visibility") == 0)
		return strcmp(val, "hidden") == 0 || strcmp(val, "collapse") == 0;
	if (strcmp(prop, "font-size") == 0 || strcmp(prop, "opacity") == 0)
		return zero_length(val);
	if (strcmp(prop, "font") == 0) {   /* "font: 0/0 a" */
		char **tok = g_strsplit_set(val, " \t\n\r\f", -1), **t;
		bool hit = false;
		for (t = tok; *t && !hit; t++) {
			char *slash = strchr(*t, '/');
			if (slash)
				*slash = '\0';
			hit = **t && zero_length(*t);
		}
		g_strfreev(tok);
		return hit;
	}
	return false;
}

/* Inline style that makes an element invisible: display:none,
 * visibility:hidden|collapse, font-size:0 (any unit, also via the font
 * shorthand), opacity:0.  CSS comments are ignored. */
static bool style_hides(const char *style)
{
	GString *s = g_string_sized_new(strlen(style));
	const char *p = style;
	char **decls, **d;
	bool hide = false;

	while (*p) {
		if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
			g_string_append_c(s, ' ');
			continue;
		}
		g_string_append_c(s, g_ascii_tolower(*p++));
	}
	decls = g_strsplit(s->str, ";", -1);
	for (d = decls; *d && !hide; d++) {
		char *colon = strchr(*d, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		hide = decl_hides(g_strstrip(*d), colon + 1);
	}
	g_strfreev(decls);
	g_string_free(s, TRUE);
	return hide;
}

/* ------------------------------------------------------------ SAX events */

static struct frame *find_frame(html2text *h, unsigned char k1, unsigned char k2,
                                unsigned char need_fx)
{
	size_t i = MIN(h->depth, (size_t)H2T_MAX_STACK);

	while (i-- > 0) {
		struct frame *f = &h->stack[i];
		if ((f->kind == k1 || f->kind == k2) && (f->fx & need_fx) == need_fx)
			return f;
	}
	return NULL;
}

static void do_image(html2text *h, const char *alt)
{
	GString *a, *t;
	size_t i;
	bool any = false;

	if (alt == NULL)
		return;   /* no alt: tracking pixel or decoration */
	a = g_string_new(NULL);
	append_visible(a, alt, strlen(alt));
	for (i = 0; i < a->len && !any; i++)
		any = !g_ascii_isspace(a->str[i]);
	if (any) {
		t = g_string_new("[画像: ");
		g_string_append_len(t, a->str, (gssize)a->len);
		g_string_append_c(t, ']');
		text_in(h, t->str, t->len);
		g_string_free(t, TRUE);
	}
	g_string_free(a, TRUE);
}

static void sax_start(void *ud, const xmlChar *name, const xmlChar **atts)
{
	html2text *h = ud;
	enum kind kind = classify(name);
	struct frame *f = NULL;
	const char *href = NULL, *alt = NULL;
	bool hidden = false;
	size_t i;

	h->depth++;
	h->pre_skip_nl = false;
	if (h->depth <= H2T_MAX_STACK) {
		f = &h->stack[h->depth - 1];
		f->kind = (unsigned char)kind;
		f->fx = 0;
		f->count = 0;
	}
	for (i = 0; atts && atts[i]; i += 2) {
		const char *an = (const char *)atts[i];
		const char *av = (const char *)atts[i + 1];
		if (g_ascii_strncasecmp(an, "on", 2) == 0 && an[2])
			h->flags |= HTML2TEXT_HAS_SCRIPT;
		else if (g_ascii_strcasecmp(an, "hidden") == 0)
			hidden = true;
		else if (av && g_ascii_strcasecmp(an, "style") == 0 && !hidden)
			hidden = style_hides(av);
		else if (av && g_ascii_strcasecmp(an, "href") == 0 && !href)
			href = av;
		else if (av && g_ascii_strcasecmp(an, "alt") == 0 && !alt)
			alt = av;
	}
	if (kind == K_SCRIPT)
		h->flags |= HTML2TEXT_HAS_SCRIPT;
	if (kind == K_FORM || kind == K_INPUT || kind == K_FORMCTL)
		h->flags |= HTML2TEXT_HAS_FORM;
	if (h->drop_depth)
		return;
	if (kind == K_VOID)
		hidden = false;   /* would hide its following siblings */
	if (kind == K_DROP || kind == K_SCRIPT || hidden) {
		/* Depth alone marks where the subtree ends, so this works
		 * beyond H2T_MAX_STACK too. */
		h->drop_depth = h->depth;
		h->drop_hidden = hidden;
		return;
	}
	switch (kind) {
	case K_BLOCK: case K_FORM: case K_TABLE: case K_TR:
		end_line(h);
		if (f) f->fx = FX_LINE;
		break;
	case K_PARA:
		end_line(h);
		want_blank(h);
		if (f) f->fx = FX_LINE | FX_BLANK;
		break;
	case K_QUOTE:
		end_line(h);
		want_blank(h);
		if (f) {
			f->fx = FX_LINE | FX_BLANK | FX_QUOTE;
			h->quote_depth++;
		}
		break;
	case K_PRE:
		end_line(h);
		want_blank(h);
		if (f) {
			f->fx = FX_LINE | FX_BLANK | FX_PRE;
			h->pre_depth++;
			h->pre_skip_nl = true;   /* like browsers: first newline ignored */
		}
		break;
	case K_UL: case K_OL:
		end_line(h);
		if (h->list_depth == 0)
			want_blank(h);
		if (f) {
			f->fx = FX_LINE | FX_LIST | (h->list_depth == 0 ? FX_BLANK : 0);
			h->list_depth++;
		}
		break;
	case K_LI: {
		struct frame *l = find_frame(h, K_UL, K_OL, FX_LIST);
		unsigned lv = MAX(1u, MIN(h->list_depth, (unsigned)H2T_MAX_LIST));
		end_line(h);
		if (l && l->kind == K_OL)
			g_snprintf(h->bullet, sizeof h->bullet, "%u. ", ++l->count);
		else
			g_strlcpy(h->bullet, "・ ", sizeof h->bullet);
		h->have_bullet = true;
		h->bullet_indent = 2 * (lv - 1);
		if (f) f->fx = FX_LINE | FX_LI;
		break;
	}
	case K_CELL: {
		struct frame *r = find_frame(h, K_TR, K_TABLE, 0);
		if (r && ++r->count > 1 && h->line_started)
			h->pending_sep = true;
		break;
	}
	case K_BR:
		line_break(h);
		break;
	case K_HR:
		end_line(h);
		emit_word(h, "----", 4);
		end_line(h);
		break;
	case K_IMG:
		do_image(h, alt);
		break;
	case K_A:
		link_start(h, href);
		break;
	case K_INPUT:
		h->pending_space = true;   /* "ID<input>PW" -> "ID PW" */
		break;
	default:
		break;
	}
}

static void sax_end(void *ud, const xmlChar *name)
{
	html2text *h = ud;
	size_t d = h->depth;
	struct frame *f;

	if (d == 0)
		return;
	h->depth--;
	h->pre_skip_nl = false;
	if (h->drop_depth) {
		if (d == h->drop_depth) {
			h->drop_depth = 0;
			h->drop_hidden = false;
		}
		return;
	}
	if (h->link_href && d == h->link_depth)
		link_finish(h);
	if (d > H2T_MAX_STACK) {
		/* Not pushed: only the line breaks its name implies. */
		switch (classify(name)) {
		case K_PARA: case K_QUOTE: case K_PRE:
			end_line(h);
			want_blank(h);
			break;
		case K_BLOCK: case K_FORM: case K_TABLE: case K_TR: case K_UL:
		case K_OL: case K_LI:
			end_line(h);
			break;
		default:
			break;
		}
		return;
	}
	f = &h->stack[d - 1];
	if (f->fx & FX_LINE)
		end_line(h);
	if (f->fx & FX_QUOTE)
		h->quote_depth--;
	if (f->fx & FX_LIST)
		h->list_depth--;
	if (f->fx & FX_PRE)
		h->pre_depth--;
	if (f->fx & FX_LI)
		h->have_bullet = false;
	if (f->fx & FX_BLANK)
		want_blank(h);
}

static void sax_characters(void *ud, const xmlChar *ch, int len)
{
	html2text *h = ud;

	if (len <= 0)
		return;
	if (h->drop_depth) {
		/* Report hidden text only when there was some: a hidden empty
		 * spacer or tracking image is not worth a flag. */
		int i;
		for (i = 0; h->drop_hidden && i < len; i++) {
			if (!g_ascii_isspace(ch[i])) {
				h->flags |= HTML2TEXT_HIDDEN_TEXT;
				break;
			}
		}
		return;
	}
	text_in(h, (const char *)ch, (size_t)len);
}

/* <script>/<style> content: libxml2 hands it here when the handler is set
 * (to characters otherwise).  It is never text. */
static void sax_cdata(void *ud, const xmlChar *ch, int len)
{
	(void)ud; (void)ch; (void)len;
}

static void sax_error_quiet(void *ud, xmlErrorPtr err)
{
	(void)ud; (void)err;
}

static void generic_error_quiet(void *ud, const char *msg, ...)
{
	(void)ud; (void)msg;
}

/* --------------------------------------------------------------- feeding */

/* A small pre-tokenizer between the UTF-8 repair and libxml2.  It takes
 * out what never becomes text and what libxml2 2.9.14's push parser handles
 * differently depending on where chunks end:
 *  - comments.  libxml2 finds a comment's end with one scan (which takes
 *    "<!-->" as complete) and parses it with another (which does not, and
 *    then eats the rest of the current buffer).  Rules here as in HTML5: a
 *    comment ends at the first "-->" or "--!>", "<!-->" and "<!--->" are
 *    empty, an unterminated one runs to the end.
 *  - the content of <script> and <style> (up to "</script" or "</style"
 *    followed by space, '/' or '>'; unterminated: to the end).  libxml2
 *    only ever sees "<script ...></script>", so it can neither leak nor, in
 *    recovery mode, take a chunk-split end tag for content and swallow the
 *    rest of the document (it does that for "<script>x</scr" + "ipt>").
 *  - "</html": renamed "</x-html", an unknown end tag that is ignored.
 *    After an end tag leaves no element open, libxml2 silently drops
 *    everything that follows (browsers show it; list footers live there).
 * Tags are not parsed beyond quotes in <script>/<style> start tags, so a
 * "<!--" or "<script" inside another tag's attribute value is taken
 * literally: the worst case is less text, never leaked script. */
enum { PT_DATA, PT_LT, PT_TAG, PT_RAW, PT_COMMENT };

static const char *const pt_pats[] = { "<!--", "<script", "<style", "</html" };

static bool name_char(char c)
{
	return g_ascii_isalnum(c) || c == ':' || c == '_' || c == '.' || c == '-';
}

static void pretok(html2text *h, const char *p, size_t n, GString *dst)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];
again:
		switch (h->pt_state) {
		case PT_DATA:
			if (c == '<') {
				h->pt_buf[0] = c;
				h->pt_len = 1;
				h->pt_state = PT_LT;
			} else {
				g_string_append_c(dst, c);
			}
			break;
		case PT_LT: {
			/* pt_buf holds a proper prefix of some pattern */
			size_t k, l = h->pt_len;
			bool prefix = false;
			for (k = 0; k < G_N_ELEMENTS(pt_pats); k++) {
				const char *pat = pt_pats[k];
				size_t pl = strlen(pat);
				if (l == pl) {
					if (g_ascii_strncasecmp(h->pt_buf, pat, pl) != 0)
						continue;
					if (k == 1 || k == 2) {
						if (!(g_ascii_isspace(c) || c == '/' || c == '>'))
							continue;
						g_string_append_len(dst, h->pt_buf, (gssize)l);
						h->pt_raw = (unsigned)k;
						h->pt_quote = 0;
						h->pt_eq = false;
						h->pt_state = PT_TAG;
						goto again;
					}
					if (k == 3) {
						if (name_char(c))
							continue;
						g_string_append(dst, "</x-html");
						h->pt_state = PT_DATA;
						goto again;
					}
				} else if (l < pl && g_ascii_strncasecmp(h->pt_buf, pat, l) == 0 &&
				           g_ascii_tolower(c) == pat[l]) {
					prefix = true;
				}
			}
			if (prefix) {
				h->pt_buf[h->pt_len++] = c;
				if (h->pt_len == 4 && memcmp(h->pt_buf, "<!--", 4) == 0) {
					h->pt_state = PT_COMMENT;
					h->pt_dashes = 2;   /* "<!-->" ends at once */
					h->pt_bang = false;
				}
				break;
			}
			g_string_append_len(dst, h->pt_buf, (gssize)l);
			h->pt_state = PT_DATA;
			goto again;
		}
		case PT_TAG:
			g_string_append_c(dst, c);
			if (h->pt_quote) {
				if (c == h->pt_quote)
					h->pt_quote = 0;
			} else if (c == '>') {
				h->pt_state = PT_RAW;
				h->pt_len = 0;
			} else if (c == '=') {
				h->pt_eq = true;
			} else if (h->pt_eq && (c == '"' || c == '\'')) {
				h->pt_quote = c;
				h->pt_eq = false;
			} else if (h->pt_eq && !g_ascii_isspace(c)) {
				h->pt_eq = false;
			}
			break;
		case PT_RAW: {
			/* pt_buf: a prefix of "</script" or "</style" */
			const char *end = h->pt_raw == 1 ? "</script" : "</style";
			size_t el = strlen(end);
			if (h->pt_len == el) {
				h->pt_len = 0;
				if (g_ascii_isspace(c) || c == '/' || c == '>') {
					g_string_append(dst, end);
					h->pt_state = PT_DATA;
				}
				goto again;
			}
			if (g_ascii_tolower(c) == end[h->pt_len]) {
				h->pt_buf[h->pt_len++] = c;
			} else if (h->pt_len) {
				h->pt_len = 0;
				goto again;
			}
			break;
		}
		case PT_COMMENT:
			if (c == '-') {
				h->pt_dashes = MIN(h->pt_dashes + 1, 2u);
				h->pt_bang = false;
			} else if (c == '!' && h->pt_dashes >= 2 && !h->pt_bang) {
				h->pt_bang = true;
			} else if (c == '>' && h->pt_dashes >= 2) {
				h->pt_state = PT_DATA;
			} else {
				h->pt_dashes = 0;
				h->pt_bang = false;
			}
			break;
		}
	}
}

/* End of input for the pre-tokenizer. */
static void pretok_finish(html2text *h, GString *dst)
{
	if (h->pt_state == PT_LT) {
		if (h->pt_len == 6 && g_ascii_strncasecmp(h->pt_buf, "</html", 6) == 0)
			g_string_append(dst, "</x-html");
		else
			g_string_append_len(dst, h->pt_buf, (gssize)h->pt_len);
	}
	h->pt_state = PT_DATA;
	h->pt_len = 0;
}

/* Give h->hold to libxml2, except a short tail.  libxml2 2.9.14's push
 * parser decides too early at some chunk ends (reads past the data it has):
 * a chunk ending in "<script></scr" makes it take the end tag for script
 * text and swallow the rest of the document; "<!DOCTY" + "PE html>" in the
 * middle of a document comes out as text.  Never ending a chunk within
 * H2T_HOLD bytes after a '<' avoids all cases the differential test
 * (whole vs. byte by byte vs. random chunks) found. */
static int feed_parser(html2text *h, bool final)
{
	size_t n;
	const char *lt;

	n = h->hold->len;
	if (!final) {
		const char *b = h->hold->str;
		lt = memrchr(b, '<', n);
		if (lt && (size_t)(b + n - lt) < H2T_HOLD)
			n = (size_t)(lt - b);
		/* Defensive (pretok() already removes comments): libxml2's
		 * comment end lookup skips a "--" whose next character has
		 * not arrived, for good.  Never end on "--" or "--!". */
		if (n >= 3 && b[n - 1] == '!' && b[n - 2] == '-' && b[n - 3] == '-')
			n -= 2;
		else if (n >= 1 && b[n - 1] == '-')
			n -= 1;
	}
	if (n > 0 || final) {
		htmlParseChunk(h->ctxt, h->hold->str, (int)n, final ? 1 : 0);
		g_string_erase(h->hold, 0, (gssize)n);
	}
	if (h->ctxt->errNo == XML_ERR_NO_MEMORY ||
	    (!final && h->ctxt->instate == XML_PARSER_EOF)) {
		h->failed = true;
		return -1;
	}
	return 0;
}

html2text *html2text_new(enum mugai_links links, size_t max_bytes)
{
	htmlSAXHandler sax;
	html2text *h = g_new0(html2text, 1);

	memset(&sax, 0, sizeof sax);
	sax.startElement = sax_start;
	sax.endElement = sax_end;
	sax.characters = sax_characters;
	/* At a chunk end libxml2 may report a space as ignorable. */
	sax.ignorableWhitespace = sax_characters;
	sax.cdataBlock = sax_cdata;
	/* XML_SAX2_MAGIC makes libxml2 use serror, per context: nothing
	 * goes to stderr.  The HTML parser still calls startElement. */
	sax.initialized = XML_SAX2_MAGIC;
	sax.serror = sax_error_quiet;
	/* Errors raised without a context go to the (per-thread) generic
	 * handler; this process has no other libxml2 user. */
	xmlSetGenericErrorFunc(NULL, generic_error_quiet);

	h->links = links;
	h->max_bytes = max_bytes;
	h->out_limit = max_bytes ? 8 * max_bytes + 65536 : 0;
	h->hold = g_string_new(NULL);
	h->repaired = g_string_new(NULL);
	h->out = g_string_new(NULL);
	h->line = g_string_new(NULL);
	h->pending_ws = g_string_new(NULL);
	h->scratch = g_string_new(NULL);
	h->link_off = H2T_NONE;
	/* libxml2 2.9.14's push parser ends the document for good as soon as
	 * no element is open after an end tag: "</p>text" at the very start
	 * gives nothing at all.  An explicit <html> first keeps one element
	 * open (a later <html>, <body> or <!DOCTYPE> is merged or ignored,
	 * and "</html" is renamed, see pretok()).  <body> too, because text
	 * outside <body> gets an implied <p> (a blank line) and text inside
	 * does not: "a<hr>b" would depend on whether the mail has a <body>. */
	g_string_append(h->hold, "<html><body>");
	h->ctxt = htmlCreatePushParserCtxt(&sax, h, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
	if (h->ctxt == NULL)
		return html2text_free(h);
	htmlCtxtUseOptions(h->ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NONET |
	                   HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	                   HTML_PARSE_IGNORE_ENC);
	return h;
}

int html2text_feed(html2text *h, const char *utf8, size_t len)
{
	if (h == NULL || h->finished || h->failed)
		return -1;
	if (h->max_bytes && len > h->max_bytes - h->fed) {
		len = h->max_bytes - h->fed;
		h->flags |= HTML2TEXT_TRUNCATED;
	}
	while (len > 0) {
		size_t n = MIN(len, (size_t)H2T_SLICE);
		g_string_truncate(h->repaired, 0);
		u8_repair(h, (const unsigned char *)utf8, n, h->repaired);
		pretok(h, h->repaired->str, h->repaired->len, h->hold);
		h->fed += n;
		utf8 += n;
		len -= n;
		if (feed_parser(h, false) < 0)
			return -1;
	}
	return 0;
}

char *html2text_finish(html2text *h, size_t *len, unsigned *flags)
{
	char *res;

	if (len)
		*len = 0;
	if (flags)
		*flags = h ? h->flags : 0;
	if (h == NULL || h->finished || h->failed)
		return NULL;
	h->finished = true;
	/* An incomplete last character: cut by max_bytes, or broken. */
	if (h->u8need && !(h->flags & HTML2TEXT_TRUNCATED))
		pretok(h, "\xef\xbf\xbd", 3, h->hold);
	h->u8need = 0;
	pretok_finish(h, h->hold);
	if (feed_parser(h, true) < 0) {
		if (flags)
			*flags = h->flags;
		return NULL;
	}
	if (h->link_href)
		link_finish(h);
	end_line(h);
	while (h->out->len > 0 && h->out->str[h->out->len - 1] == '\n')
		g_string_truncate(h->out, h->out->len - 1);
	if (h->out->len > 0)
		g_string_append_c(h->out, '\n');
	if (len)
		*len = h->out->len;
	if (flags)
		*flags = h->flags;
	res = g_string_free(h->out, FALSE);
	h->out = NULL;
	return res;
}

html2text *html2text_free(html2text *h)
{
	if (h == NULL)
		return NULL;
	if (h->ctxt)
		htmlFreeParserCtxt(h->ctxt);
	if (h->hold) g_string_free(h->hold, TRUE);
	if (h->repaired) g_string_free(h->repaired, TRUE);
	if (h->out) g_string_free(h->out, TRUE);
	if (h->line) g_string_free(h->line, TRUE);
	if (h->pending_ws) g_string_free(h->pending_ws, TRUE);
	if (h->scratch) g_string_free(h->scratch, TRUE);
	g_free(h->link_href);
	g_free(h);
	return NULL;
}

char *html2text_convert(const char *utf8, size_t len, enum mugai_links links,
                        size_t max_bytes, unsigned *flags)
{
	html2text *h = html2text_new(links, max_bytes);
	char *res = NULL;

	if (flags)
		*flags = 0;
	if (h == NULL)
		return NULL;
	if (html2text_feed(h, utf8, len) == 0)
		res = html2text_finish(h, NULL, flags);
	else if (flags)
		*flags = h->flags;
	html2text_free(h);
	return res;
}

/* ------------------------------------------------------- charset sniffing */

/* Value of attribute `name` inside the tag text t[0..n), unquoted, or
 * NULL.  Crude but enough for <meta>: runs before decoding, on raw bytes. */
static char *tag_attr(const char *t, size_t n, const char *name)
{
	size_t i = 0, nl = strlen(name);

	while (i < n) {
		size_t a, e, v;
		bool match;

		while (i < n && (g_ascii_isspace(t[i]) || t[i] == '/'))
			i++;
		a = i;
		while (i < n && !g_ascii_isspace(t[i]) && t[i] != '=' && t[i] != '/')
			i++;
		e = i;
		match = e - a == nl && g_ascii_strncasecmp(t + a, name, nl) == 0;
		while (i < n && g_ascii_isspace(t[i]))
			i++;
		if (i >= n || t[i] != '=')
			continue;   /* attribute without a value */
		i++;
		while (i < n && g_ascii_isspace(t[i]))
			i++;
		if (i < n && (t[i] == '"' || t[i] == '\'')) {
			char q = t[i++];
			v = i;
			while (i < n && t[i] != q)
				i++;
			e = i++;
		} else {
			v = i;
			while (i < n && !g_ascii_isspace(t[i]))
				i++;
			e = i;
		}
		if (match)
			return g_strndup(t + v, MIN(e, n) - v);
	}
	return NULL;
}

/* A plausible charset label, trimmed, or NULL. */
static char *charset_label(const char *s, size_t n)
{
	size_t a = 0, b, i;

	while (a < n && (g_ascii_isspace(s[a]) || s[a] == '"' || s[a] == '\''))
		a++;
	for (b = a; b < n && (g_ascii_isalnum(s[b]) || strchr("-_.:+", s[b])); b++)
		;
	if (b == a || b - a > 40)
		return NULL;
	for (i = b; i < n; i++)
		if (!(g_ascii_isspace(s[i]) || s[i] == '"' || s[i] == '\'' || s[i] == ';'))
			return NULL;
	return g_strndup(s + a, b - a);
}

char *html2text_sniff_charset(const char *raw, size_t len)
{
	size_t n = MIN(len, (size_t)4096), i = 0;

	if (raw == NULL)
		return NULL;
	while (i + 5 < n) {
		const char *p = raw + i, *gt;
		size_t tl;
		char *v, *res = NULL;

		if (p[0] != '<') {
			i++;
			continue;
		}
		if (strncmp(p, "<!--", 4) == 0) {
			const char *e = g_strstr_len(p + 4, (gssize)(n - i - 4), "-->");
			if (e == NULL)
				return NULL;
			i = (size_t)(e - raw) + 3;
			continue;
		}
		if (g_ascii_strncasecmp(p + 1, "meta", 4) != 0 ||
		    !(g_ascii_isspace(p[5]) || p[5] == '/')) {
			i++;
			continue;
		}
		gt = memchr(p, '>', n - i);
		tl = gt ? (size_t)(gt - p) : n - i;
		if ((v = tag_attr(p + 5, tl - 5, "charset")) != NULL) {
			res = charset_label(v, strlen(v));
			g_free(v);
		} else if ((v = tag_attr(p + 5, tl - 5, "http-equiv")) != NULL) {
			bool ct = g_ascii_strcasecmp(g_strstrip(v), "content-type") == 0;
			g_free(v);
			if (ct && (v = tag_attr(p + 5, tl - 5, "content")) != NULL) {
				char *lc = g_ascii_strdown(v, -1), *cs = strstr(lc, "charset");
				if (cs) {
					cs += 7;
					while (g_ascii_isspace(*cs))
						cs++;
					if (*cs == '=') {
						char *end;
						cs++;
						end = cs + strcspn(cs, ";");
						res = charset_label(v + (cs - lc), (size_t)(end - cs));
					}
				}
				g_free(lc);
				g_free(v);
			}
		}
		if (res)
			return res;
		i += tl;
	}
	return NULL;
}
