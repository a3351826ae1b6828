/* textenc.c - files hidden in a text body as uuencode, yEnc or BinHex.
 *
 * A mail client that meets "begin 644 name" in a plain text body may show
 * the decoded file as an attachment although MIME says there is none, so
 * the pipeline cuts such blocks out and quarantines them.  The scan is
 * conservative, because prose quotes these markers too: a uuencode block
 * needs a "begin MODE NAME" line, at least one well-formed data line, and
 * an "end" line after nothing but well-formed lines; yEnc needs "=ybegin"
 * with name= and an "=yend" line; BinHex needs its "(This file must be
 * converted with BinHex" line followed by a ':'-framed run of BinHex
 * characters.  A block that does not close is not a block.  Lines end in LF
 * (a CR before it is tolerated).  Owns the returned array and the names in
 * it (textenc_free).
 */
#include "sanitize/inspect.h"
#include "sanitize/charset.h"
#include <string.h>

typedef struct line {
	const char *s;   /* start */
	size_t len;      /* without the LF (and a CR before it) */
	size_t next;     /* offset of the next line */
} line;

static bool get_line(const char *text, size_t len, size_t off, line *l)
{
	if (off >= len)
		return false;
	const char *nl = memchr(text + off, '\n', len - off);
	size_t end = nl ? (size_t)(nl - text) : len;
	l->s = text + off;
	l->next = nl ? end + 1 : len;
	if (end > off && text[end - 1] == '\r')
		end--;
	l->len = end - off;
	return true;
}

static bool line_is(const line *l, const char *word)
{
	size_t n = strlen(word), k = l->len;
	while (k > n && (l->s[k - 1] == ' ' || l->s[k - 1] == '\t'))
		k--;
	return k == n && memcmp(l->s, word, n) == 0;
}

static char *block_name(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n == 0 || memchr(s, '\0', n))
		return NULL;
	if (g_utf8_validate(s, (gssize)n, NULL))
		return g_strndup(s, n);
	size_t out = 0;  /* a name in Shift_JIS or EUC-JP, as Japanese mail has them */
	return charset_to_utf8(NULL, s, n, &out, NULL);
}

/* ---------- uuencode ---------- */

/* "begin 644 name": mode of 3 or 4 octal digits, then a name. */
static bool uu_begin(const line *l, size_t *name_at)
{
	if (l->len < 10 || memcmp(l->s, "begin ", 6) != 0)
		return false;
	size_t i = 6, d = 0;
	while (i < l->len && l->s[i] >= '0' && l->s[i] <= '7') {
		i++;
		d++;
	}
	if (d < 3 || d > 4 || i >= l->len || l->s[i] != ' ')
		return false;
	while (i < l->len && l->s[i] == ' ')
		i++;
	*name_at = i;
	return i < l->len;
}

/* A data line: a length character, then enough characters of the uu
 * alphabet (space to '`') for that many bytes; encoders may drop trailing
 * spaces or add one checksum character.  *n gets the byte count. */
static bool uu_data(const line *l, unsigned *n)
{
	if (l->len == 0)
		return false;
	for (size_t i = 0; i < l->len; i++)
		if ((unsigned char)l->s[i] < 0x20 || (unsigned char)l->s[i] > 0x60)
			return false;
	*n = ((unsigned char)l->s[0] - 0x20) & 0x3f;
	size_t need = (*n * 4 + 2) / 3, full = (*n + 2) / 3 * 4;
	size_t have = l->len - 1;
	return have >= need && have <= full + 2;
}

static bool uu_block(const char *text, size_t len, const line *first, size_t start, textenc_block *b)
{
	size_t name_at;
	if (!uu_begin(first, &name_at))
		return false;
	unsigned data_lines = 0;
	line l;
	for (size_t off = first->next; get_line(text, len, off, &l); off = l.next) {
		unsigned n;
		if (line_is(&l, "end")) {
			if (data_lines == 0)
				return false;
			b->start = start;
			b->end = l.next;
			b->kind = "uuencode";
			b->name = block_name(first->s + name_at, first->len - name_at);
			return true;
		}
		if (!uu_data(&l, &n))
			return false;
		if (n > 0)
			data_lines++;
	}
	return false;
}

/* ---------- yEnc ---------- */

/* The value of KEY= on a yEnc header line; name= runs to the end. */
static const char *y_param(const line *l, const char *key, size_t *vlen)
{
	size_t kn = strlen(key);
	for (size_t i = 0; i + kn <= l->len; i++) {
		if ((i == 0 || l->s[i - 1] == ' ') && memcmp(l->s + i, key, kn) == 0) {
			size_t v = i + kn, e = v;
			if (strcmp(key, "name=") == 0)
				e = l->len;
			else
				while (e < l->len && l->s[e] != ' ')
					e++;
			*vlen = e - v;
			return l->s + v;
		}
	}
	return NULL;
}

static bool y_block(const char *text, size_t len, const line *first, size_t start, textenc_block *b)
{
	if (first->len < 8 || memcmp(first->s, "=ybegin ", 8) != 0)
		return false;
	size_t nlen, slen;
	const char *name = y_param(first, "name=", &nlen);
	if (!name || !y_param(first, "size=", &slen))
		return false;
	line l;
	for (size_t off = first->next; get_line(text, len, off, &l); off = l.next) {
		if (l.len >= 6 && memcmp(l.s, "=yend", 5) == 0 && (l.len == 5 || l.s[5] == ' ')) {
			b->start = start;
			b->end = l.next;
			b->kind = "yenc";
			b->name = block_name(name, nlen);
			return true;
		}
		if (l.len >= 8 && memcmp(l.s, "=ybegin ", 8) == 0)
			return false;  /* a new block before this one ended */
	}
	return false;
}

/* ---------- BinHex 4.0 ---------- */

static const char hqx_alphabet[] = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

static int hqx_value(unsigned char ch)
{
	const char *p = ch ? strchr(hqx_alphabet, ch) : NULL;
	return p ? (int)(p - hqx_alphabet) : -1;
}

/* The file name from the start of the BinHex data: 6-bit decode, undo the
 * 0x90 run-length escapes, then a length byte and the name. */
static char *hqx_name(const char *data, size_t n)
{
	unsigned char raw[128], out[128];
	size_t rn = 0, on = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && rn < sizeof raw; i++) {
		int v = hqx_value((unsigned char)data[i]);
		if (v < 0)
			continue;  /* line breaks */
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[rn++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	for (size_t i = 0; i < rn && on < sizeof out; i++) {
		if (raw[i] == 0x90 && i + 1 < rn) {
			unsigned cnt = raw[++i];
			if (cnt == 0) {
				out[on++] = 0x90;
			} else if (on > 0) {
				for (unsigned k = 1; k < cnt && on < sizeof out; k++)
					out[on] = out[on - 1], on++;
			}
		} else {
			out[on++] = raw[i];
		}
	}
	if (on < 1 || out[0] == 0 || out[0] > on - 1 || out[0] > 63)
		return NULL;
	return block_name((const char *)out + 1, out[0]);
}

static bool hqx_block(const char *text, size_t len, const line *first, size_t start, textenc_block *b)
{
	static const char marker[] = "(This file must be converted with BinHex";
	size_t mn = sizeof marker - 1;
	if (first->len < mn || memcmp(first->s, marker, mn) != 0)
		return false;
	/* the data: ':' at the start of a line (blank lines before it allowed) */
	line l;
	size_t off = first->next;
	while (get_line(text, len, off, &l) && l.len == 0)
		off = l.next;
	if (off >= len || text[off] != ':')
		return false;
	size_t data = off + 1;
	for (size_t i = data; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == ':') {
			if (i == data)
				return false;  /* "::" holds nothing */
			const char *nl = memchr(text + i, '\n', len - i);
			b->start = start;
			b->end = nl ? (size_t)(nl - text) + 1 : len;
			b->kind = "binhex";
			b->name = hqx_name(text + data, i - data);
			return true;
		}
		if (ch != '\n' && ch != '\r' && hqx_value(ch) < 0)
			return false;
	}
	return false;
}

GArray *textenc_scan(const char *text, size_t len)
{
	GArray *blocks = g_array_new(FALSE, TRUE, sizeof(textenc_block));
	line l;
	for (size_t off = 0; get_line(text, len, off, &l);) {
		textenc_block b = { 0 };
		if ((l.len > 0 && l.s[0] == 'b' && uu_block(text, len, &l, off, &b)) ||
		    (l.len > 0 && l.s[0] == '=' && y_block(text, len, &l, off, &b)) ||
		    (l.len > 0 && l.s[0] == '(' && hqx_block(text, len, &l, off, &b))) {
			g_array_append_val(blocks, b);
			off = b.end;
		} else {
			off = l.next;
		}
	}
	return blocks;
}

void textenc_free(GArray *blocks)
{
	if (!blocks)
		return;
	for (guint i = 0; i < blocks->len; i++)
		g_free(g_array_index(blocks, textenc_block, i).name);
	g_array_unref(blocks);
}
