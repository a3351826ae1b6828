/* charset.c - every text to UTF-8 through our own alias table.
 *
 * This file owns: the MIME charset label → converter mapping (GMime's
 * g_mime_charset_iconv_name() gets windows-31j/x-sjis wrong and picks the
 * strict SHIFT_JIS), strict iconv decoding with counted U+FFFD replacement
 * (GMime's charset filter silently eats invalid bytes), our own ISO-2022-JP
 * decoder with the CP50220/50221 extensions glibc lacks (NEC row 13), charset
 * detection for unlabelled Japanese text, RFC 2047 header decoding (GMime
 * 3.2.13 #133 loses words after a padded B word), RFC 2231 / raw 8-bit
 * parameter extraction (GMime decodes raw params with the locale charset),
 * and the printable form of untrusted names for notices and logs.
 * Plain glib + iconv only: no GMime here, so the module stays independent.
 *
 * Mapping choices (see pitfalls doc §3.5):
 *  - Every Shift_JIS label decodes as CP932, ISO-2022-JP goes through a JIS
 *    row/cell → CP932 table and EUC-JP through EUC-JP-MS, so all Japanese
 *    charsets share Microsoft's mappings (0x2141 → U+FF5E, not U+301C).
 *  - ISO-8859-1/latin1 decode as WHATWG windows-1252 (undefined bytes become
 *    the C1 control of the same value, never an error).
 *  - US-ASCII decodes strictly when the text really is 7-bit ASCII.  8-bit
 *    bytes or ISO-2022-JP escapes in "us-ascii" text are a common mislabel
 *    (old Japanese MUAs), so such text is detected instead: guessed = true,
 *    unknown_label = false.
 *  - An unknown label is detected too: unknown_label = guessed = true.
 */
#include "sanitize/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#define CS_UTF8    "UTF-8"
#define CS_ASCII   "US-ASCII"
#define CS_CP932   "CP932"
#define CS_ISO2022 "ISO-2022-JP"
#define CS_1252    "WINDOWS-1252"

#define REPL "\xEF\xBF\xBD"   /* U+FFFD */

/* ------------------------------------------------------------------ */
/* Tables built once: JIS X 0208 / 0212 row-cell → Unicode.            */

static gunichar jis0208[94 * 94];   /* via CP932: NEC row 13, NEC-selected IBM rows 89-92 */
static gunichar jis0212[94 * 94];   /* via EUC-JP(-MS) 0x8F xx xx */
static const char *euc_name = "EUC-JP";

static gunichar iconv_one(iconv_t cd, const unsigned char *in, size_t n)
{
	char ob[16];
	char *ip = (char *)in, *op = ob;
	size_t il = n, ol = sizeof ob;

	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0)
		return 0;
	if (op == ob || !g_utf8_validate(ob, op - ob, NULL))
		return 0;
	/* exactly one character expected */
	if (g_utf8_next_char(ob) != op)
		return 0;
	return g_utf8_get_char(ob);
}

static void tables_init(void)
{
	static gsize done = 0;

	if (!g_once_init_enter(&done))
		return;

	iconv_t t = iconv_open("UTF-8", "EUC-JP-MS");
	if (t != (iconv_t)-1) {
		iconv_close(t);
		euc_name = "EUC-JP-MS";
	}

	iconv_t cd = iconv_open("UTF-8", CS_CP932);
	if (cd != (iconv_t)-1) {
		for (unsigned j1 = 0x21; j1 <= 0x7E; j1++) {
			for (unsigned j2 = 0x21; j2 <= 0x7E; j2++) {
				/* standard JIS → Shift_JIS arithmetic */
				unsigned char s[2];
				s[0] = (unsigned char)(((j1 + 1) >> 1) + (j1 <= 0x5E ? 0x70 : 0xB0));
				s[1] = (unsigned char)(j2 + ((j1 & 1) ? (j2 >= 0x60 ? 0x20 : 0x1F) : 0x7E));
				jis0208[(j1 - 0x21) * 94 + (j2 - 0x21)] = iconv_one(cd, s, 2);
			}
		}
		iconv_close(cd);
	}
	cd = iconv_open("UTF-8", euc_name);
	if (cd != (iconv_t)-1) {
		for (unsigned j1 = 0x21; j1 <= 0x7E; j1++) {
			for (unsigned j2 = 0x21; j2 <= 0x7E; j2++) {
				unsigned char e[3] = { 0x8F, (unsigned char)(j1 | 0x80), (unsigned char)(j2 | 0x80) };
				jis0212[(j1 - 0x21) * 94 + (j2 - 0x21)] = iconv_one(cd, e, 3);
			}
		}
		iconv_close(cd);
	}
	g_once_init_leave(&done, 1);
}

/* ------------------------------------------------------------------ */
/* Output helpers.                                                      */

static void put_bad(GString *out, size_t *inv)
{
	g_string_append_len(out, REPL, 3);
	(*inv)++;
}

/* Append converter output; a NUL (U+0000) becomes U+FFFD and counts, so the
 * result can be used as a C string. */
static void put_checked(GString *out, const char *p, size_t n, size_t *inv)
{
	while (n > 0) {
		const char *z = memchr(p, 0, n);
		size_t k = z ? (size_t)(z - p) : n;
		g_string_append_len(out, p, k);
		if (!z)
			break;
		put_bad(out, inv);
		p += k + 1;
		n -= k + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Decoders.  Each appends to OUT and adds to *INV.                      */

/* UTF-8 with one U+FFFD per maximal invalid subpart (Unicode 3.9 practice).
 * *MB counts valid multibyte sequences (a detection signal). */
static void decode_utf8(const unsigned char *b, size_t len, GString *out,
                        size_t *inv, size_t *mb)
{
	size_t i = 0;

	while (i < len) {
		const char *end;
		/* fast path over a valid run */
		if (g_utf8_validate_len((const char *)b + i, len - i, &end)) {
			end = (const char *)b + len;
		}
		size_t k = (size_t)((const unsigned char *)end - (b + i));
		if (mb) {
			for (size_t j = i; j < i + k; j++)
				if (b[j] >= 0xC0)
					(*mb)++;
		}
		g_string_append_len(out, (const char *)b + i, k);
		i += k;
		if (i >= len)
			break;

		/* b[i] starts an invalid sequence (or is NUL) */
		unsigned char c = b[i];
		size_t need;
		unsigned char lo = 0x80, hi = 0xBF;
		if (c == 0 || c < 0xC2 || c > 0xF4) {
			put_bad(out, inv);
			i++;
			continue;
		}
		if (c < 0xE0) need = 1;
		else if (c < 0xF0) need = 2;
		else need = 3;
		if (c == 0xE0) lo = 0xA0;
		else if (c == 0xED) hi = 0x9F;
		else if (c == 0xF0) lo = 0x90;
		else if (c == 0xF4) hi = 0x8F;
		size_t j = i + 1;
		if (j < len && b[j] >= lo && b[j] <= hi) {
			j++;
			while (j < len && j < i + 1 + need && b[j] >= 0x80 && b[j] <= 0xBF)
				j++;
		}
		put_bad(out, inv);
		i = j;
	}
}

/* Strict 7-bit ASCII (only used when the text is known to be 7-bit). */
static void decode_ascii(const unsigned char *b, size_t len, GString *out, size_t *inv)
{
	for (size_t i = 0; i < len; i++) {
		if (b[i] == 0 || b[i] >= 0x80)
			put_bad(out, inv);
		else
			g_string_append_c(out, (char)b[i]);
	}
}

/* WHATWG windows-1252: never fails; 0x81 0x8D 0x8F 0x90 0x9D map to C1. */
static void decode_1252(const unsigned char *b, size_t len, GString *out, size_t *inv)
{
	static const uint16_t hi[32] = {
		0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
		0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
		0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
		0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
	};
	for (size_t i = 0; i < len; i++) {
		unsigned char c = b[i];
		if (c == 0)
			put_bad(out, inv);
		else if (c < 0x80)
			g_string_append_c(out, (char)c);
		else if (c < 0xA0)
			g_string_append_unichar(out, hi[c - 0x80]);
		else
			g_string_append_unichar(out, c);
	}
}

enum badkind { BAD_ONE, BAD_SJIS, BAD_EUC };

static bool sjis_lead(unsigned char c)
{
	return (c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC);
}

static bool sjis_trail(unsigned char c)
{
	return (c >= 0x40 && c <= 0x7E) || (c >= 0x80 && c <= 0xFC);
}

/* Length of the invalid sequence to replace after EILSEQ.  Like WHATWG, a
 * lead byte with an ASCII trail only consumes the lead, so the ASCII byte
 * (which could be '.', '"', '\\') stays visible. */
static size_t bad_len(enum badkind k, const unsigned char *p, size_t left)
{
	if (k == BAD_SJIS && left >= 2 && sjis_lead(p[0]) && p[1] >= 0x80 && p[1] <= 0xFC)
		return 2;
	if (k == BAD_EUC && left >= 2) {
		if (p[0] == 0x8E && p[1] >= 0xA1 && p[1] <= 0xDF)
			return 2;
		if (p[0] == 0x8F && left >= 3 && p[1] >= 0xA1 && p[1] <= 0xFE &&
		    p[2] >= 0xA1 && p[2] <= 0xFE)
			return 3;
		if (p[0] >= 0xA1 && p[0] <= 0xFE && p[1] >= 0xA1 && p[1] <= 0xFE)
			return 2;
	}
	return 1;
}

/* Strict iconv: no //IGNORE, every EILSEQ is a counted U+FFFD, a truncated
 * sequence at the end (EINVAL) too.  Returns false if iconv_open fails. */
static bool decode_iconv(const char *from, const unsigned char *b, size_t len,
                         GString *out, size_t *inv)
{
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return false;

	enum badkind k = BAD_ONE;
	if (strcmp(from, CS_CP932) == 0)
		k = BAD_SJIS;
	else if (strncmp(from, "EUC-JP", 6) == 0)
		k = BAD_EUC;

	char ob[4096];
	char *ip = (char *)b;
	size_t il = len;

	while (il > 0) {
		char *op = ob;
		size_t ol = sizeof ob;
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		int e = errno;
		put_checked(out, ob, (size_t)(op - ob), inv);
		if (r != (size_t)-1)
			break;
		if (e == E2BIG)
			continue;
		if (e == EINVAL) {           /* incomplete sequence at the end */
			put_bad(out, inv);
			break;
		}
		/* EILSEQ (or anything unexpected): replace and resync */
		size_t n = bad_len(k, (const unsigned char *)ip, il);
		put_bad(out, inv);
		ip += n;
		il -= n;
	}
	/* flush shift state of stateful encodings */
	for (;;) {
		char *op = ob;
		size_t ol = sizeof ob;
		size_t r = iconv(cd, NULL, NULL, &op, &ol);
		put_checked(out, ob, (size_t)(op - ob), inv);
		if (r != (size_t)-1 || errno != E2BIG)
			break;
	}
	iconv_close(cd);
	return true;
}

/* ISO-2022-JP with the CP50220/50221 extensions.  glibc rejects NEC row 13
 * (ESC $ B 2D 21 = U+2460), which Windows senders put in "ISO-2022-JP". */
enum jmode { J_ASCII, J_ROMAN, J_KANA, J_0208, J_0212 };

static void decode_iso2022jp(const unsigned char *b, size_t len, GString *out, size_t *inv)
{
	tables_init();

	enum jmode m = J_ASCII;
	bool so = false;        /* SO/SI half-width katakana (CP50221) */
	size_t i = 0;

	while (i < len) {
		unsigned char c = b[i];

		if (c == 0x1B) {
			size_t rest = len - i;
			const unsigned char *p = b + i;
			if (rest >= 3 && p[1] == '(') {
				if (p[2] == 'B') { m = J_ASCII; i += 3; continue; }
				if (p[2] == 'J') { m = J_ROMAN; i += 3; continue; }
				if (p[2] == 'I') { m = J_KANA; i += 3; continue; }
			}
			if (rest >= 3 && p[1] == '$' && (p[2] == '@' || p[2] == 'B')) {
				m = J_0208; i += 3; continue;
			}
			if (rest >= 4 && p[1] == '$' && p[2] == '(') {
				if (p[3] == '@' || p[3] == 'B') { m = J_0208; i += 4; continue; }
				if (p[3] == 'D') { m = J_0212; i += 4; continue; }
			}
			if (rest >= 3 && p[1] == '&' && p[2] == '@') {
				i += 3;     /* JIS X 0208-1990 announcer: ignored */
				continue;
			}
			/* unknown or truncated escape: the ESC is the error */
			put_bad(out, inv);
			i++;
			continue;
		}
		if (c == 0x0E) { so = true; i++; continue; }
		if (c == 0x0F) { so = false; i++; continue; }
		if (c == 0) { put_bad(out, inv); i++; continue; }
		if (c >= 0x80) { put_bad(out, inv); i++; continue; }

		if (so || m == J_KANA) {
			if (c >= 0x21 && c <= 0x5F)
				g_string_append_unichar(out, 0xFF61 + (c - 0x21));
			else if (c < 0x21)
				g_string_append_c(out, (char)c);
			else
				put_bad(out, inv);
			i++;
			continue;
		}
		switch (m) {
		case J_ASCII:
			g_string_append_c(out, (char)c);
			i++;
			break;
		case J_ROMAN:   /* JIS X 0201 Roman, as WHATWG: yen sign, overline */
			if (c == 0x5C)
				g_string_append_unichar(out, 0x00A5);
			else if (c == 0x7E)
				g_string_append_unichar(out, 0x203E);
			else
				g_string_append_c(out, (char)c);
			i++;
			break;
		default:        /* J_0208 / J_0212 */
			if (c < 0x21) {
				/* controls and space inside a 2-byte run: real mail has
				 * them (line ends before ESC ( B); pass them through */
				g_string_append_c(out, (char)c);
				i++;
			} else if (c <= 0x7E && i + 1 < len && b[i + 1] >= 0x21 && b[i + 1] <= 0x7E) {
				const gunichar *t = m == J_0208 ? jis0208 : jis0212;
				gunichar u = t[(c - 0x21) * 94 + (b[i + 1] - 0x21)];
				if (u)
					g_string_append_unichar(out, u);
				else
					put_bad(out, inv);
				i += 2;
			} else {
				put_bad(out, inv);
				i++;
			}
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Labels.                                                              */

static const struct { const char *label; const char *canon; } aliases[] = {
	{ "shift_jis", CS_CP932 }, { "shift-jis", CS_CP932 }, { "sjis", CS_CP932 },
	{ "x-sjis", CS_CP932 }, { "windows-31j", CS_CP932 }, { "cswindows31j", CS_CP932 },
	{ "ms932", CS_CP932 }, { "cp932", CS_CP932 }, { "windows-932", CS_CP932 },
	{ "csshiftjis", CS_CP932 }, { "ms_kanji", CS_CP932 }, { "x-ms-cp932", CS_CP932 },
	{ "sjis-win", CS_CP932 }, { "sjis-open", CS_CP932 }, { "x-shift_jis", CS_CP932 },
	{ "iso-2022-jp", CS_ISO2022 }, { "csiso2022jp", CS_ISO2022 },
	{ "iso-2022-jp-1", CS_ISO2022 }, { "iso-2022-jp-ms", CS_ISO2022 },
	{ "cp50220", CS_ISO2022 }, { "cp50221", CS_ISO2022 }, { "cp50222", CS_ISO2022 },
	{ "utf-8", CS_UTF8 }, { "utf8", CS_UTF8 }, { "unicode-1-1-utf-8", CS_UTF8 },
	{ "unicode11utf8", CS_UTF8 }, { "unicode20utf8", CS_UTF8 }, { "x-unicode20utf8", CS_UTF8 },
	{ "us-ascii", CS_ASCII }, { "ascii", CS_ASCII }, { "ansi_x3.4-1968", CS_ASCII },
	{ "iso646-us", CS_ASCII }, { "csascii", CS_ASCII }, { "us", CS_ASCII },
	{ "iso-8859-1", CS_1252 }, { "iso8859-1", CS_1252 }, { "iso_8859-1", CS_1252 },
	{ "iso88591", CS_1252 }, { "iso_8859-1:1987", CS_1252 }, { "latin1", CS_1252 },
	{ "l1", CS_1252 }, { "cp819", CS_1252 }, { "ibm819", CS_1252 },
	{ "iso-ir-100", CS_1252 }, { "csisolatin1", CS_1252 }, { "cp1252", CS_1252 },
	{ "windows-1252", CS_1252 }, { "x-cp1252", CS_1252 },
	/* WHATWG labels glibc does not know by these names */
	{ "ks_c_5601-1987", "CP949" }, { "ks_c_5601-1989", "CP949" }, { "ksc5601", "CP949" },
	{ "ksc_5601", "CP949" }, { "csksc56011987", "CP949" }, { "iso-ir-149", "CP949" },
	{ "korean", "CP949" }, { "windows-949", "CP949" }, { "euc-kr", "CP949" }, { "cseuckr", "CP949" },
	{ "gb2312", "GBK" }, { "csgb2312", "GBK" }, { "chinese", "GBK" }, { "gb_2312", "GBK" },
	{ "gb_2312-80", "GBK" }, { "csiso58gb231280", "GBK" }, { "iso-ir-58", "GBK" }, { "x-gbk", "GBK" },
	{ "gbk", "GBK" }, { "cp936", "GBK" }, { "ms936", "GBK" }, { "windows-936", "GBK" },
	{ "big5", "BIG5-HKSCS" }, { "big5-hkscs", "BIG5-HKSCS" }, { "cn-big5", "BIG5-HKSCS" },
	{ "csbig5", "BIG5-HKSCS" }, { "x-x-big5", "BIG5-HKSCS" },
	{ "tis-620", "CP874" }, { "windows-874", "CP874" }, { "iso-8859-11", "CP874" },
	{ "x-mac-roman", "MACINTOSH" }, { "macintosh", "MACINTOSH" }, { "mac", "MACINTOSH" },
};

static const char *const euc_labels[] = {
	"euc-jp", "x-euc-jp", "cseucpkdfmtjapanese", "eucjp", "euc-jp-ms",
	"eucjp-ms", "eucjp-win", "eucjp-open",
};

const char *charset_canonical(const char *label)
{
	if (!label)
		return NULL;
	while (*label == ' ' || *label == '\t' || *label == '"')
		label++;
	size_t n = strlen(label);
	while (n > 0 && (label[n - 1] == ' ' || label[n - 1] == '\t' || label[n - 1] == '"'))
		n--;
	if (n == 0 || n > 48)
		return NULL;

	char low[49], up[49];
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)label[i];
		/* only name characters: "//IGNORE", "//TRANSLIT" and lists must
		 * never reach iconv_open */
		if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':' && c != '+')
			return NULL;
		low[i] = (char)g_ascii_tolower(c);
		up[i] = (char)g_ascii_toupper(c);
	}
	low[n] = up[n] = '\0';

	for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++)
		if (strcmp(low, aliases[i].label) == 0)
			return aliases[i].canon;
	for (size_t i = 0; i < G_N_ELEMENTS(euc_labels); i++) {
		if (strcmp(low, euc_labels[i]) == 0) {
			tables_init();
			return euc_name;
		}
	}

	iconv_t cd = iconv_open("UTF-8", up);
	if (cd == (iconv_t)-1)
		return NULL;
	iconv_close(cd);
	/* glibc knows a finite set of names, so interning is bounded */
	return g_intern_string(up);
}

/* ------------------------------------------------------------------ */
/* Detection.                                                           */

static bool has_jis_escape(const unsigned char *b, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++) {
		if (b[i] != 0x1B)
			continue;
		if (b[i + 1] == '$' && (b[i + 2] == 'B' || b[i + 2] == '@' || b[i + 2] == '('))
			return true;
		if (b[i + 1] == '(' && (b[i + 2] == 'J' || b[i + 2] == 'I'))
			return true;
	}
	return false;
}

static bool has_8bit(const unsigned char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] >= 0x80)
			return true;
	return false;
}

/* How much decoded text looks like Japanese: hiragana and kanji count up,
 * half-width katakana, PUA and C1 controls (typical of EUC-JP read as CP932
 * and the reverse) count down. */
static long plausibility(const char *s, size_t len)
{
	long score = 0;
	const char *end = s + len;

	for (const char *p = s; p < end; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);
		if (u < 0x80)
			continue;
		if (u >= 0x3041 && u <= 0x309F) score += 2;        /* hiragana */
		else if (u >= 0x30A0 && u <= 0x30FF) score += 1;   /* katakana */
		else if (u >= 0x4E00 && u <= 0x9FFF) score += 1;   /* kanji */
		else if (u >= 0x3000 && u <= 0x303F) score += 1;   /* CJK punctuation */
		else if (u >= 0xFF61 && u <= 0xFF9F) score -= 1;   /* half-width kana */
		else if (u >= 0xE000 && u <= 0xF8FF) score -= 3;   /* PUA */
		else if (u >= 0x80 && u <= 0x9F) score -= 3;       /* C1 */
		else if (u == 0xFFFD) score -= 1;
	}
	return score;
}

struct cand {
	const char *name;
	GString *s;
	size_t inv;
	long score;
};

/* Detect and decode.  Returns the name used. */
static const char *detect_decode(const unsigned char *b, size_t len, GString *out, size_t *inv)
{
	bool esc = has_jis_escape(b, len);
	bool eight = has_8bit(b, len);

	if (esc && !eight) {
		decode_iso2022jp(b, len, out, inv);
		return CS_ISO2022;
	}

	size_t nuls = 0;
	for (size_t i = 0; i < len; i++)
		nuls += b[i] == 0;

	/* UTF-8 first: valid UTF-8 (NULs aside) is UTF-8; so is text with
	 * many valid multibyte sequences and a few damaged ones. */
	GString *u = g_string_sized_new(len + 16);
	size_t uinv = 0, umb = 0;
	decode_utf8(b, len, u, &uinv, &umb);
	if (uinv == nuls || (umb > 0 && umb >= 8 * (uinv - nuls))) {
		g_string_append_len(out, u->str, u->len);
		*inv += uinv;
		g_string_free(u, TRUE);
		return CS_UTF8;
	}

	tables_init();
	struct cand c[4];
	size_t nc = 0;
	c[nc++] = (struct cand){ CS_UTF8, u, uinv, 0 };
	if (esc) {
		c[nc] = (struct cand){ CS_ISO2022, g_string_sized_new(len + 16), 0, 0 };
		decode_iso2022jp(b, len, c[nc].s, &c[nc].inv);
		nc++;
	}
	c[nc] = (struct cand){ CS_CP932, g_string_sized_new(len * 3 / 2 + 16), 0, 0 };
	decode_iconv(CS_CP932, b, len, c[nc].s, &c[nc].inv);
	nc++;
	c[nc] = (struct cand){ euc_name, g_string_sized_new(len * 3 / 2 + 16), 0, 0 };
	decode_iconv(euc_name, b, len, c[nc].s, &c[nc].inv);
	nc++;

	/* fewest errors wins, then plausibility, then order (UTF-8 first) */
	size_t best = 0;
	for (size_t i = 0; i < nc; i++)
		c[i].score = plausibility(c[i].s->str, c[i].s->len);
	for (size_t i = 1; i < nc; i++) {
		if (c[i].inv < c[best].inv ||
		    (c[i].inv == c[best].inv && c[i].score > c[best].score))
			best = i;
	}
	g_string_append_len(out, c[best].s->str, c[best].s->len);
	*inv += c[best].inv;
	for (size_t i = 0; i < nc; i++)
		g_string_free(c[i].s, TRUE);
	return c[best].name;
}

/* Decode with a canonical name from charset_canonical().  Returns the name
 * used, NULL if the converter cannot be opened (nothing appended). */
static const char *decode_known(const char *canon, const unsigned char *b, size_t len,
                                GString *out, size_t *inv)
{
	if (strcmp(canon, CS_UTF8) == 0) {
		decode_utf8(b, len, out, inv, NULL);
		return CS_UTF8;
	}
	if (strcmp(canon, CS_ISO2022) == 0) {
		decode_iso2022jp(b, len, out, inv);
		return CS_ISO2022;
	}
	if (strcmp(canon, CS_1252) == 0) {
		decode_1252(b, len, out, inv);
		return CS_1252;
	}
	if (strcmp(canon, CS_ASCII) == 0) {
		decode_ascii(b, len, out, inv);
		return CS_ASCII;
	}
	return decode_iconv(canon, b, len, out, inv) ? canon : NULL;
}

char *charset_to_utf8(const char *charset, const char *buf, size_t len,
                      size_t *out_len, charset_info *info)
{
	const unsigned char *b = (const unsigned char *)(buf ? buf : "");
	charset_info dummy;
	if (!info)
		info = &dummy;
	memset(info, 0, sizeof *info);
	if (!buf)
		len = 0;

	GString *out = g_string_sized_new(len + 16);
	const char *canon = NULL;
	const char *used = NULL;

	if (charset && *charset) {
		canon = charset_canonical(charset);
		if (!canon)
			info->unknown_label = true;
	}
	if (canon && strcmp(canon, CS_ASCII) == 0 &&
	    (has_8bit(b, len) || has_jis_escape(b, len)))
		canon = NULL;  /* mislabelled 8-bit / ISO-2022-JP: detect (see top) */
	if (canon)
		used = decode_known(canon, b, len, out, &info->invalid);
	if (!used) {
		g_string_truncate(out, 0);
		info->invalid = 0;
		info->guessed = true;
		used = detect_decode(b, len, out, &info->invalid);
	}
	info->used = used;

	/* belt and braces: the converters above only produce valid UTF-8 */
	if (!g_utf8_validate(out->str, out->len, NULL)) {
		GString *fix = g_string_sized_new(out->len);
		decode_utf8((const unsigned char *)out->str, out->len, fix, &info->invalid, NULL);
		g_string_free(out, TRUE);
		out = fix;
	}
	if (out_len)
		*out_len = out->len;
	return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------------ */
/* RFC 2047.                                                            */

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

static bool b64_decode(const unsigned char *p, size_t n, GByteArray *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i = 0;

	for (; i < n && p[i] != '='; i++) {
		int v = b64val(p[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			guint8 byte = (guint8)(acc >> bits);
			g_byte_array_append(out, &byte, 1);
			acc &= (1u << bits) - 1;
		}
	}
	for (; i < n; i++)        /* only padding may follow padding */
		if (p[i] != '=')
			return false;
	return true;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void q_decode(const unsigned char *p, size_t n, GByteArray *out)
{
	for (size_t i = 0; i < n; i++) {
		guint8 c = p[i];
		if (c == '_') {
			c = ' ';
		} else if (c == '=' && i + 2 < n && hexval(p[i + 1]) >= 0 &&
		           hexval(p[i + 2]) >= 0) {
			c = (guint8)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			i += 2;
		}
		g_byte_array_append(out, &c, 1);
	}
}

typedef struct seg {
	bool word;
	const unsigned char *p;  /* literal */
	size_t n;
	char *charset;           /* word: label without RFC 2231 language */
	GByteArray *bytes;       /* word: decoded bytes */
} seg;

/* Parse one encoded word at P ("=?").  Returns bytes consumed, 0 if it is
 * not a well-formed encoded word (then it stays literal). */
static size_t parse_word(const unsigned char *p, const unsigned char *end, seg *w)
{
	const unsigned char *q = p + 2, *cs = q;

	while (q < end && *q != '?' && *q > 0x20 && *q < 0x7F)
		q++;
	if (q >= end || *q != '?' || q == cs || q - cs > 64)
		return 0;
	const unsigned char *cse = q;
	const unsigned char *star = memchr(cs, '*', (size_t)(cse - cs));
	if (star)
		cse = star;              /* =?charset*lang? (RFC 2231 §5) */
	if (cse == cs)
		return 0;
	q++;
	if (q + 1 >= end || q[1] != '?')
		return 0;
	char enc = (char)g_ascii_toupper(*q);
	if (enc != 'B' && enc != 'Q')
		return 0;
	q += 2;
	const unsigned char *t = q;
	while (q < end && *q != '?' && *q > 0x20 && *q < 0x7F)
		q++;
	if (q + 1 >= end || q[0] != '?' || q[1] != '=')
		return 0;

	GByteArray *bytes = g_byte_array_new();
	if (enc == 'B') {
		if (!b64_decode(t, (size_t)(q - t), bytes)) {
			g_byte_array_unref(bytes);
			return 0;
		}
	} else {
		q_decode(t, (size_t)(q - t), bytes);
	}
	w->word = true;
	w->charset = g_strndup((const char *)cs, (size_t)(cse - cs));
	w->bytes = bytes;
	return (size_t)(q + 2 - p);
}

static bool all_wsp(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* Decode the unfolded text [RAW, RAW+LEN) (no CR/LF folding handled here). */
static void decode_header_into(const unsigned char *raw, size_t len, GString *out, size_t *inv)
{
	GArray *segs = g_array_new(FALSE, TRUE, sizeof(seg));
	size_t lit = 0, i = 0;
	bool jis2 = false;   /* inside an ISO-2022-JP 2-byte run: "=?" is a kanji there */

	while (i < len) {
		unsigned char c = raw[i];
		if (c == 0x1B && i + 1 < len) {
			if (raw[i + 1] == '$')
				jis2 = true;
			else if (raw[i + 1] == '(')
				jis2 = false;
		}
		if (!jis2 && c == '=' && i + 1 < len && raw[i + 1] == '?') {
			seg w = { 0 };
			size_t n = parse_word(raw + i, raw + len, &w);
			if (n) {
				if (i > lit) {
					seg l = { .word = false, .p = raw + lit, .n = i - lit };
					g_array_append_val(segs, l);
				}
				g_array_append_val(segs, w);
				i += n;
				lit = i;
				continue;
			}
		}
		i++;
	}
	if (len > lit) {
		seg l = { .word = false, .p = raw + lit, .n = len - lit };
		g_array_append_val(segs, l);
	}

	/* one detection for all raw literal text, so short pieces agree */
	GByteArray *all = g_byte_array_new();
	for (guint k = 0; k < segs->len; k++) {
		seg *s = &g_array_index(segs, seg, k);
		if (!s->word)
			g_byte_array_append(all, s->p, (guint)s->n);
	}
	const char *litcs = NULL;
	if (has_8bit(all->data, all->len) || has_jis_escape(all->data, all->len)) {
		GString *scratch = g_string_new(NULL);
		size_t dummy = 0;
		litcs = detect_decode(all->data, all->len, scratch, &dummy);
		g_string_free(scratch, TRUE);
	}
	g_byte_array_unref(all);

	for (guint k = 0; k < segs->len; k++) {
		seg *s = &g_array_index(segs, seg, k);
		if (!s->word) {
			/* whitespace between two encoded words is dropped */
			if (k > 0 && k + 1 < segs->len && all_wsp(s->p, s->n) &&
			    g_array_index(segs, seg, k - 1).word && g_array_index(segs, seg, k + 1).word)
				continue;
			if (litcs)
				decode_known(litcs, s->p, s->n, out, inv);
			else
				decode_ascii(s->p, s->n, out, inv);
			continue;
		}
		/* join adjacent words of the same charset as raw bytes (#133, and a
		 * character split across words survives) */
		GByteArray *joined = g_byte_array_new();
		g_byte_array_append(joined, s->bytes->data, s->bytes->len);
		guint m = k + 1;
		while (m < segs->len) {
			seg *t = &g_array_index(segs, seg, m);
			guint nx = m;
			if (!t->word) {
				if (!all_wsp(t->p, t->n) || m + 1 >= segs->len)
					break;
				nx = m + 1;
				t = &g_array_index(segs, seg, nx);
				if (!t->word)
					break;
			}
			if (g_ascii_strcasecmp(t->charset, s->charset) != 0)
				break;
			g_byte_array_append(joined, t->bytes->data, t->bytes->len);
			k = nx;
			m = nx + 1;
		}
		charset_info ci;
		size_t n;
		char *d = charset_to_utf8(s->charset, (const char *)joined->data, joined->len, &n, &ci);
		g_string_append_len(out, d, n);
		*inv += ci.invalid;
		g_free(d);
		g_byte_array_unref(joined);
	}

	for (guint k = 0; k < segs->len; k++) {
		seg *s = &g_array_index(segs, seg, k);
		if (s->word) {
			g_free(s->charset);
			g_byte_array_unref(s->bytes);
		}
	}
	g_array_free(segs, TRUE);
}

char *charset_decode_header(const char *raw, size_t *invalid)
{
	size_t inv = 0;
	GString *out = g_string_new(NULL);

	if (raw) {
		/* unfold: CRLF/LF (+WSP) → the WSP; stray CR/LF are dropped too */
		size_t n = strlen(raw);
		GByteArray *u = g_byte_array_sized_new((guint)n);
		for (size_t i = 0; i < n; i++)
			if (raw[i] != '\r' && raw[i] != '\n')
				g_byte_array_append(u, (const guint8 *)raw + i, 1);
		/* header values come with the space after the colon: trim raw WSP */
		size_t a = 0, e = u->len;
		while (a < e && (u->data[a] == ' ' || u->data[a] == '\t'))
			a++;
		while (e > a && (u->data[e - 1] == ' ' || u->data[e - 1] == '\t'))
			e--;
		if (e > a)  /* an empty array has no data pointer */
			decode_header_into(u->data + a, e - a, out, &inv);
		g_byte_array_unref(u);
	}
	if (invalid)
		*invalid = inv;
	return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------------ */
/* Parameters.                                                          */

/* Quoted string body after the opening quote.  SJIS: treat a Shift_JIS
 * lead+trail pair as opaque, because raw SJIS names use 0x5C as a trail
 * byte (表 = 95 5C) and MUAs that send them never escape it. */
static const unsigned char *parse_quoted(const unsigned char *p, const unsigned char *end,
                                         bool sjis, GByteArray *out)
{
	while (p < end) {
		unsigned char c = *p;
		if (sjis && sjis_lead(c) && p + 1 < end && sjis_trail(p[1])) {
			g_byte_array_append(out, p, 2);
			p += 2;
			continue;
		}
		if (c == '\\' && p + 1 < end) {
			g_byte_array_append(out, p + 1, 1);
			p += 2;
			continue;
		}
		if (c == '"')
			return p + 1;
		g_byte_array_append(out, p, 1);
		p++;
	}
	return p;
}

static const unsigned char *parse_quoted_value(const unsigned char *p, const unsigned char *end,
                                               GByteArray *out)
{
	GByteArray *rfc = g_byte_array_new();
	const unsigned char *re = parse_quoted(p, end, false, rfc);

	if (has_8bit(rfc->data, rfc->len) && !g_utf8_validate((const char *)rfc->data, rfc->len, NULL)) {
		GByteArray *sj = g_byte_array_new();
		const unsigned char *se = parse_quoted(p, end, true, sj);
		bool differs = se != re || sj->len != rfc->len ||
		               memcmp(sj->data, rfc->data, rfc->len) != 0;
		if (differs) {
			GString *scratch = g_string_new(NULL);
			size_t inv = 0;
			decode_iconv(CS_CP932, sj->data, sj->len, scratch, &inv);
			g_string_free(scratch, TRUE);
			if (inv == 0) {
				g_byte_array_unref(rfc);
				g_byte_array_append(out, sj->data, sj->len);
				g_byte_array_unref(sj);
				return se;
			}
		}
		g_byte_array_unref(sj);
	}
	g_byte_array_append(out, rfc->data, rfc->len);
	g_byte_array_unref(rfc);
	return re;
}

static void pct_decode(const unsigned char *p, size_t n, GByteArray *out)
{
	for (size_t i = 0; i < n; i++) {
		guint8 c = p[i];
		if (c == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
			c = (guint8)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			i += 2;
		}
		g_byte_array_append(out, &c, 1);
	}
}

typedef struct piece {
	unsigned idx;
	bool enc;
	GByteArray *val;
} piece;

static int piece_cmp(const void *a, const void *b)
{
	const piece *x = a, *y = b;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Split an RFC 2231 initial value "charset'lang'data"; returns the charset
 * (g_malloc'ed, NULL if empty/absent) and where the data starts. */
static char *split_2231(const GByteArray *v, size_t *data_off)
{
	/* an empty value has no data pointer at all (memchr on NULL is UB) */
	const guint8 *q1 = v->len ? memchr(v->data, '\'', v->len) : NULL;
	const guint8 *q2 = q1 ? memchr(q1 + 1, '\'', v->len - (size_t)(q1 + 1 - v->data)) : NULL;
	if (!q2) {
		*data_off = 0;   /* lenient: no charset part, all data */
		return NULL;
	}
	*data_off = (size_t)(q2 + 1 - v->data);
	if (q1 == v->data)
		return NULL;
	return g_strndup((const char *)v->data, (size_t)(q1 - v->data));
}

static char *decode_bytes_cs(const char *cs, const guint8 *p, size_t n, size_t *inv)
{
	charset_info ci;
	char *d = charset_to_utf8(cs, (const char *)p, n, NULL, &ci);
	*inv += ci.invalid;
	return d;
}

#define MAX_PIECES 1000

char *charset_header_param(const char *raw_value, const char *name, bool *dup,
                           size_t *invalid)
{
	bool d = false;
	size_t inv = 0;
	char *result = NULL;

	if (dup)
		*dup = false;
	if (invalid)
		*invalid = 0;
	if (!raw_value || !name || !*name)
		return NULL;

	size_t nlen = strlen(name);
	size_t rlen = strlen(raw_value);
	if (rlen == 0)
		return NULL;  /* (an empty GByteArray has no data pointer to walk) */
	/* unfold: CR and LF go, the folding WSP stays */
	GByteArray *u = g_byte_array_sized_new((guint)rlen);
	for (size_t i = 0; i < rlen; i++)
		if (raw_value[i] != '\r' && raw_value[i] != '\n')
			g_byte_array_append(u, (const guint8 *)raw_value + i, 1);

	GByteArray *plain = NULL, *ext = NULL;
	unsigned nplain = 0, next = 0;
	GArray *pieces = g_array_new(FALSE, TRUE, sizeof(piece));

	const unsigned char *p = u->data, *end = u->data + u->len;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		if (p >= end)
			break;
		const unsigned char *a0 = p;
		while (p < end && *p != '=' && *p != ';')
			p++;
		if (p >= end || *p == ';')
			continue;            /* no '=': the type itself, or junk */
		const unsigned char *a1 = p;
		while (a1 > a0 && (a1[-1] == ' ' || a1[-1] == '\t'))
			a1--;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;

		GByteArray *val = g_byte_array_new();
		if (p < end && *p == '"') {
			p = parse_quoted_value(p + 1, end, val);
			while (p < end && *p != ';')   /* junk after the quote */
				p++;
		} else {
			const unsigned char *v0 = p;
			while (p < end && *p != ';')
				p++;
			const unsigned char *v1 = p;
			while (v1 > v0 && (v1[-1] == ' ' || v1[-1] == '\t'))
				v1--;
			g_byte_array_append(val, v0, (guint)(v1 - v0));
		}

		/* classify the attribute */
		size_t alen = (size_t)(a1 - a0);
		bool keep = false;
		if (alen >= nlen && g_ascii_strncasecmp((const char *)a0, name, nlen) == 0) {
			const unsigned char *s = a0 + nlen, *se = a1;
			if (s == se) {
				if (nplain++ == 0) { plain = val; keep = true; }
			} else if (*s == '*') {
				s++;
				if (s == se) {
					if (next++ == 0) { ext = val; keep = true; }
				} else if (g_ascii_isdigit(*s)) {
					unsigned idx = 0;
					bool ok = true;
					while (s < se && g_ascii_isdigit(*s)) {
						idx = idx * 10 + (unsigned)(*s - '0');
						if (idx >= MAX_PIECES)
							ok = false;
						s++;
					}
					bool enc = false;
					if (s < se && *s == '*') {
						enc = true;
						s++;
					}
					if (s != se)
						ok = false;
					if (ok) {
						bool seen = false;
						for (guint k = 0; k < pieces->len; k++)
							if (g_array_index(pieces, piece, k).idx == idx)
								seen = true;
						if (seen) {
							d = true;
						} else if (pieces->len < MAX_PIECES) {
							piece pc = { idx, enc, val };
							g_array_append_val(pieces, pc);
							keep = true;
						}
					}
				}
			}
		}
		if (!keep)
			g_byte_array_unref(val);
	}

	if (nplain > 1 || next > 1 || (ext && pieces->len > 0))
		d = true;

	if (ext) {
		/* name*=charset'lang'%XX */
		size_t off;
		char *cs = split_2231(ext, &off);
		GByteArray *bytes = g_byte_array_new();
		if (ext->len > off)   /* an empty value has no data pointer */
			pct_decode(ext->data + off, ext->len - off, bytes);
		result = decode_bytes_cs(cs, bytes->data, bytes->len, &inv);
		g_free(cs);
		g_byte_array_unref(bytes);
	} else if (pieces->len > 0) {
		/* continuations: order by index, join bytes, then decode once */
		g_array_sort(pieces, piece_cmp);
		GByteArray *bytes = g_byte_array_new();
		char *cs = NULL;
		bool any_enc = false;
		for (guint k = 0; k < pieces->len; k++) {
			piece *pc = &g_array_index(pieces, piece, k);
			if (pc->enc) {
				size_t off = 0;
				if (pc->idx == 0 && k == 0)
					cs = split_2231(pc->val, &off);
				any_enc = true;
				if (pc->val->len > off)   /* an empty piece has no data pointer */
					pct_decode(pc->val->data + off, pc->val->len - off, bytes);
			} else if (pc->val->len) {
				g_byte_array_append(bytes, pc->val->data, pc->val->len);
			}
		}
		if (any_enc) {
			result = decode_bytes_cs(cs, bytes->data, bytes->len, &inv);
		} else {
			/* plain pieces: RFC 2047 words or raw 8-bit, like a plain value */
			GString *out = g_string_new(NULL);
			decode_header_into(bytes->data, bytes->len, out, &inv);
			result = g_string_free(out, FALSE);
		}
		g_free(cs);
		g_byte_array_unref(bytes);
	} else if (plain) {
		GString *out = g_string_new(NULL);
		decode_header_into(plain->data, plain->len, out, &inv);
		result = g_string_free(out, FALSE);
	}

	if (plain)
		g_byte_array_unref(plain);
	if (ext)
		g_byte_array_unref(ext);
	for (guint k = 0; k < pieces->len; k++)
		g_byte_array_unref(g_array_index(pieces, piece, k).val);
	g_array_free(pieces, TRUE);
	g_byte_array_unref(u);

	if (dup)
		*dup = d;
	if (invalid)
		*invalid = inv;
	return result;
}

/* ------------------------------------------------------------------ */
/* Printable.                                                           */

static bool needs_escape(gunichar u)
{
	switch (g_unichar_type(u)) {
	case G_UNICODE_CONTROL:              /* C0, DEL, C1: tab and newline too */
	case G_UNICODE_FORMAT:               /* bidi, zero-width, soft hyphen, BOM, tags */
	case G_UNICODE_LINE_SEPARATOR:
	case G_UNICODE_PARAGRAPH_SEPARATOR:
	case G_UNICODE_SURROGATE:
		return true;
	default:
		break;
	}
	if ((u >= 0xFDD0 && u <= 0xFDEF) || (u & 0xFFFE) == 0xFFFE)
		return true;                 /* noncharacters */
	/* invisible but not Cf: combining grapheme joiner, Hangul fillers */
	return u == 0x034F || u == 0x115F || u == 0x1160 || u == 0x3164 || u == 0xFFA0 ||
	       u == 0x180E || u == 0x061C || (u >= 0x200B && u <= 0x200F) ||
	       (u >= 0x202A && u <= 0x202E) || (u >= 0x2066 && u <= 0x2069);
}

char *charset_printable(const char *utf8)
{
	if (!utf8)
		return g_strdup("");

	size_t n = strlen(utf8);
	GString *clean = g_string_sized_new(n);
	size_t inv = 0;
	decode_utf8((const unsigned char *)utf8, n, clean, &inv, NULL);

	GString *out = g_string_sized_new(clean->len + 16);
	for (const char *p = clean->str; *p; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);
		if (needs_escape(u))
			g_string_append_printf(out, "<U+%04X>", (unsigned)u);
		else
			g_string_append_unichar(out, u);
	}
	g_string_free(clean, TRUE);
	return g_string_free(out, FALSE);
}
