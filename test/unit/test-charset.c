/* test-charset.c - sanitize/charset.c: alias table, strict decoding with
 * counted U+FFFD, ISO-2022-JP with CP5022x extensions, detection, RFC 2047
 * headers (GMime #133), RFC 2231 / raw parameters, printable names. */
#include "sanitize/charset.h"
#include "test/unit/tap.h"

#include <glib.h>
#include <stdlib.h>

#define ESC "\x1b"
#define FFFD "\xEF\xBF\xBD"

/* ---------------------------------------------------------------- */
static const struct {
	const char *what;
	const char *label;     /* NULL = no label */
	const char *in;
	size_t len;            /* 0 = strlen(in) */
	const char *want;
	size_t invalid;
	const char *used;      /* prefix match; NULL = don't check */
	bool guessed;
	bool unknown;
} dec[] = {
	{ "ISO-2022-JP NEC row 13 (1) and (kabu)", "ISO-2022-JP",
	  ESC "$B\x2d\x21\x2d\x6a" ESC "(B", 0, "①㈱", 0, "ISO-2022-JP", false, false },
	{ "ISO-2022-JP NEC row 13 unit (milli)", "iso-2022-jp",
	  ESC "$B\x2d\x40" ESC "(B", 0, "㍉", 0, "ISO-2022-JP", false, false },
	{ "ISO-2022-JP sentence", "ISO-2022-JP",
	  "Re: " ESC "$B@A5a=q$N$4AwIU" ESC "(B (2024)", 0, "Re: 請求書のご送付 (2024)", 0,
	  "ISO-2022-JP", false, false },
	{ "ISO-2022-JP ESC $ @ and no final ESC ( B", "csISO2022JP",
	  ESC "$@$\"$$", 0, "あい", 0, "ISO-2022-JP", false, false },
	{ "ISO-2022-JP JIS-Roman yen", "ISO-2022-JP",
	  ESC "(J\\100" ESC "(B\\", 0, "¥100\\", 0, "ISO-2022-JP", false, false },
	{ "ISO-2022-JP ESC ( I katakana", "ISO-2022-JP",
	  ESC "(I\x31\x32" ESC "(B", 0, "ｱｲ", 0, "ISO-2022-JP", false, false },
	{ "ISO-2022-JP SO/SI katakana (CP50221)", "ISO-2022-JP",
	  "a\x0e\x31\x0f" "b", 0, "aｱb", 0, "ISO-2022-JP", false, false },
	{ "ISO-2022-JP JIS X 0212", "ISO-2022-JP",
	  ESC "$(D\x22\x2f" ESC "(B", 0, "˘", 0, "ISO-2022-JP", false, false },
	{ "ISO-2022-JP unassigned cell", "ISO-2022-JP",
	  ESC "$B\x22\x2f" ESC "(Bx", 0, FFFD "x", 1, "ISO-2022-JP", false, false },
	{ "ISO-2022-JP odd byte at end", "ISO-2022-JP",
	  ESC "$B$\"\x30", 0, "あ" FFFD, 1, "ISO-2022-JP", false, false },
	{ "ISO-2022-JP unknown escape and 8-bit", "ISO-2022-JP",
	  ESC "$Aa\xa4", 0, FFFD "$Aa" FFFD, 2, "ISO-2022-JP", false, false },
	{ "Shift_JIS label is CP932 (1, U+FF5E)", "Shift_JIS",
	  "\x87\x40\x81\x60", 0, "①～", 0, "CP932", false, false },
	{ "windows-31j", "windows-31j",
	  "\x87\x40\x81\x60", 0, "①～", 0, "CP932", false, false },
	{ "Korean under its WHATWG label ks_c_5601-1987", "ks_c_5601-1987",
	  "\xbd\xba\xc6\xbc", 0, "스티", 0, "CP949", false, false },
	{ "x-sjis", "x-sjis",
	  "\x90\xbf\x8b\x81\x8f\x91.pdf", 0, "請求書.pdf", 0, "CP932", false, false },
	{ "CP932 unmapped pair keeps the ASCII trail", "shift_jis",
	  "\x85\x40x", 0, FFFD "@x", 1, "CP932", false, false },
	{ "CP932 truncated at end", "sjis",
	  "\x82\xa0\x82", 0, "あ" FFFD, 1, "CP932", false, false },
	{ "EUC-JP", "EUC-JP",
	  "\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce\xa5\xc6\xa5\xad\xa5\xb9\xa5\xc8", 0,
	  "日本語のテキスト", 0, "EUC-JP", false, false },
	{ "UTF-8", "utf-8", "日本語 ok", 0, "日本語 ok", 0, "UTF-8", false, false },
	{ "UTF-8 invalid byte", "UTF-8", "abc\xff" "def", 0, "abc" FFFD "def", 1,
	  "UTF-8", false, false },
	{ "UTF-8 truncated at end (one U+FFFD)", "UTF8", "ab\xe3\x81", 0, "ab" FFFD, 1,
	  "UTF-8", false, false },
	{ "UTF-8 surrogate", "UTF-8", "\xed\xa0\x80z", 0, FFFD FFFD FFFD "z", 3,
	  "UTF-8", false, false },
	{ "NUL byte (UTF-8)", "UTF-8", "a\0b", 3, "a" FFFD "b", 1, "UTF-8", false, false },
	{ "NUL byte (CP932)", "cp932", "\x82\xa0\0", 3, "あ" FFFD, 1, "CP932", false, false },
	{ "NUL byte (ISO-2022-JP)", "iso-2022-jp", "a\0", 2, "a" FFFD, 1,
	  "ISO-2022-JP", false, false },
	{ "unknown label x-foo with SJIS", "x-foo",
	  "\x90\xbf\x8b\x81\x8f\x91.pdf", 0, "請求書.pdf", 0, "CP932", true, true },
	{ "//IGNORE never reaches iconv", "UTF-8//IGNORE", "a\xff", 0, "a" FFFD, 1,
	  "UTF-8", true, true },
	{ "no label, ISO-2022-JP escapes", NULL,
	  ESC "$B@A5a=q" ESC "(B", 0, "請求書", 0, "ISO-2022-JP", true, false },
	{ "no label, EUC-JP", NULL,
	  "\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce\xa5\xc6\xa5\xad\xa5\xb9\xa5\xc8\xa4\xc7\xa4\xb9\xa1\xa3", 0,
	  "日本語のテキストです。", 0, "EUC-JP", true, false },
	{ "no label, EUC-JP short name", "",
	  "\xc0\xc1\xb5\xe1\xbd\xf1.pdf", 0, "請求書.pdf", 0, "EUC-JP", true, false },
	{ "no label, CP932", NULL,
	  "\x82\xb2\x91\x97\x95\x74\x82\xb5\x82\xdc\x82\xb7", 0, "ご送付します", 0, "CP932", true, false },
	{ "no label, UTF-8", NULL, "請求書", 0, "請求書", 0, "UTF-8", true, false },
	{ "no label, damaged UTF-8", NULL,
	  "請求書のご送付について\xff", 0, "請求書のご送付について" FFFD, 1, "UTF-8", true, false },
	{ "us-ascii, 7-bit", "us-ascii", "hello", 0, "hello", 0, "US-ASCII", false, false },
	{ "us-ascii with SJIS bytes: detected", "US-ASCII",
	  "\x90\xbf\x8b\x81\x8f\x91", 0, "請求書", 0, "CP932", true, false },
	{ "us-ascii with ISO-2022-JP: detected", "us-ascii",
	  ESC "$B@A5a=q" ESC "(B", 0, "請求書", 0, "ISO-2022-JP", true, false },
	{ "latin1 is windows-1252", "ISO-8859-1",
	  "caf\xe9 \x80 \x81", 0, "café € \xc2\x81", 0, "WINDOWS-1252", false, false },
	{ "other iconv label", "iso-8859-15", "\xa4", 0, "€", 0, "ISO-8859-15", false, false },
	{ "KOI8-R", "koi8-r", "\xf0\xd2\xc9", 0, "При", 0, "KOI8-R", false, false },
	{ "empty input", "UTF-8", "", 0, "", 0, "UTF-8", false, false },
};

static void test_decode(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(dec); i++) {
		charset_info ci;
		size_t n = 0, len = dec[i].len ? dec[i].len : strlen(dec[i].in);
		char *got = charset_to_utf8(dec[i].label, dec[i].in, len, &n, &ci);
		TAP_STREQ(got, dec[i].want, "decode: %s", dec[i].what);
		TAP_OK(n == strlen(got) && g_utf8_validate(got, -1, NULL), "decode: %s: valid, length", dec[i].what);
		TAP_OK(ci.invalid == dec[i].invalid, "decode: %s: invalid %zu (want %zu)",
		       dec[i].what, ci.invalid, dec[i].invalid);
		if (dec[i].used)
			TAP_OK(ci.used && strncmp(ci.used, dec[i].used, strlen(dec[i].used)) == 0,
			       "decode: %s: used %s", dec[i].what, ci.used ? ci.used : "(null)");
		TAP_OK(ci.guessed == dec[i].guessed && ci.unknown_label == dec[i].unknown,
		       "decode: %s: guessed=%d unknown=%d", dec[i].what, ci.guessed, ci.unknown_label);
		g_free(got);
	}
}

/* ---------------------------------------------------------------- */
static const struct {
	const char *label, *want;
} canon[] = {
	{ "Shift_JIS", "CP932" }, { "shift-jis", "CP932" }, { "SJIS", "CP932" },
	{ "x-sjis", "CP932" }, { "Windows-31J", "CP932" }, { "MS932", "CP932" },
	{ "cp932", "CP932" }, { "csShiftJIS", "CP932" }, { "MS_Kanji", "CP932" },
	{ "x-ms-cp932", "CP932" }, { "ISO-2022-JP", "ISO-2022-JP" },
	{ "csiso2022jp", "ISO-2022-JP" }, { "utf8", "UTF-8" }, { " \"UTF-8\" ", "UTF-8" },
	{ "latin1", "WINDOWS-1252" }, { "ansi_x3.4-1968", "US-ASCII" },
	{ "x-foo", NULL }, { "", NULL }, { "UTF-8//TRANSLIT", NULL }, { "UTF-8,UTF-16", NULL },
	{ "big5", "BIG5-HKSCS" }, { "ks_c_5601-1987", "CP949" }, { "gb2312", "GBK" },
};

static void test_canonical(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(canon); i++)
		TAP_STREQ(charset_canonical(canon[i].label), canon[i].want, "canonical: %s", canon[i].label);
	const char *e = charset_canonical("x-euc-jp");
	TAP_OK(e && strncmp(e, "EUC-JP", 6) == 0, "canonical: x-euc-jp → %s", e ? e : "(null)");
	e = charset_canonical("cseucpkdfmtjapanese");
	TAP_OK(e && strncmp(e, "EUC-JP", 6) == 0, "canonical: cseucpkdfmtjapanese → %s", e ? e : "(null)");
}

/* ---------------------------------------------------------------- */
static const struct {
	const char *what, *in, *want;
	size_t invalid;
} hdr[] = {
	{ "GMime #133: padded B word then another",
	  "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=", "Hello world", 0 },
	{ "folded adjacent words",
	  " =?UTF-8?B?SGVsbG8=?=\r\n =?UTF-8?B?IHdvcmxk?=\r\n", "Hello world", 0 },
	{ "ISO-2022-JP B subject",
	  "=?ISO-2022-JP?B?GyRCQEE1YT1xJE4kNEF3SVUbKEI=?=", "請求書のご送付", 0 },
	{ "ISO-2022-JP B with NEC row 13",
	  "=?iso-2022-jp?B?GyRCLSEtahsoQg==?=", "①㈱", 0 },
	{ "Q with underscores", "=?utf-8?q?caf=C3=A9_au_lait?=", "café au lait", 0 },
	{ "multibyte split over two B words",
	  "=?UTF-8?B?44GC4w==?= =?utf-8?B?gYQ=?=", "あい", 0 },
	{ "mixed literal and words",
	  "Re: =?UTF-8?B?5pel5pys?= test =?UTF-8?Q?x?=", "Re: 日本 test x", 0 },
	{ "word then literal keeps the space", "=?UTF-8?Q?a?= b", "a b", 0 },
	{ "different charsets adjacent", "=?UTF-8?Q?a?= =?ISO-8859-1?Q?=E9?=", "aé", 0 },
	{ "RFC 2231 language suffix", "=?UTF-8*ja?B?5pel5pys?=", "日本", 0 },
	{ "malformed word left literal", "=?UTF-8?X?abc?= tail", "=?UTF-8?X?abc?= tail", 0 },
	{ "bad base64 left literal", "=?UTF-8?B?***?=", "=?UTF-8?B?***?=", 0 },
	{ "unterminated word left literal", "=?UTF-8?B?5pel5pys", "=?UTF-8?B?5pel5pys", 0 },
	{ "invalid byte in a word", "=?UTF-8?B?/w==?=x", FFFD "x", 1 },
	{ "unknown charset in a word: detected", "=?x-unknown?B?kL+LgY+R?=", "請求書", 0 },
	{ "raw Shift_JIS subject", "\x90\xbf\x8b\x81\x8f\x91 re", "請求書 re", 0 },
	{ "raw UTF-8 subject", "請求書 re", "請求書 re", 0 },
	{ "raw ISO-2022-JP subject", ESC "$B@A5a=q" ESC "(B test", "請求書 test", 0 },
	{ "\"=?\" inside a JIS 2-byte run is a kanji", ESC "$B=?" ESC "(B?=", "戎?=", 0 },
	{ "raw ISO-2022-JP plus a word",
	  ESC "$B@A5a=q" ESC "(B =?UTF-8?B?5pel5pys?=", "請求書 日本", 0 },
	{ "plain ASCII", "  Hello,   world  ", "Hello,   world", 0 },
	{ "empty", "", "", 0 },
};

static void test_header(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(hdr); i++) {
		size_t inv = 99;
		char *got = charset_decode_header(hdr[i].in, &inv);
		TAP_STREQ(got, hdr[i].want, "header: %s", hdr[i].what);
		TAP_OK(inv == hdr[i].invalid, "header: %s: invalid %zu", hdr[i].what, inv);
		g_free(got);
	}
	char *n = charset_decode_header(NULL, NULL);
	TAP_STREQ(n, "", "header: NULL input");
	g_free(n);
}

/* ---------------------------------------------------------------- */
static const struct {
	const char *what, *raw, *name, *want;   /* want NULL = absent */
	bool dup;
	size_t invalid;
} prm[] = {
	{ "#133 bypass: invoice + .exe in two B words",
	  "application/octet-stream; name=\"=?UTF-8?B?aW52b2ljZQ==?= =?UTF-8?B?LmV4ZQ==?=\"",
	  "name", "invoice.exe", false, 0 },
	{ "RFC 2231 continuation splits a UTF-8 character",
	  "attachment; filename*0*=UTF-8''%E8%AB; filename*1*=%8B%E6%B1%82.pdf",
	  "filename", "請求.pdf", false, 0 },
	{ "RFC 2231 continuations out of order, mixed plain piece (CVE-2024-39929)",
	  "attachment; filename*1=f.exe;\r\n filename*0*=iso-8859-1''invoice.pd",
	  "filename", "invoice.pdf.exe", false, 0 },
	{ "RFC 2231 single extended value",
	  "attachment; filename*=UTF-8'ja'%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf",
	  "filename", "請求書.pdf", false, 0 },
	{ "RFC 2231 preferred over plain",
	  "attachment; filename=\"fallback.pdf\"; filename*=UTF-8''real.exe",
	  "filename", "real.exe", false, 0 },
	{ "RFC 2231 invalid byte counted",
	  "attachment; filename*=UTF-8''%FF.pdf", "filename", FFFD ".pdf", false, 1 },
	{ "RFC 2231 plain continuations with 2047 words",
	  "attachment; filename*0=\"=?UTF-8?B?aW52b2ljZQ==?=\"; filename*1=\".exe\"",
	  "filename", "invoice.exe", false, 0 },
	{ "ISO-2022-JP word in quotes",
	  "application/pdf; name=\"=?ISO-2022-JP?B?GyRCQEE1YT1xJE4kNEF3SVUbKEI=?=.pdf\"",
	  "name", "請求書のご送付.pdf", false, 0 },
	{ "unquoted encoded word",
	  "application/pdf; name==?UTF-8?B?5pel5pys?=.pdf", "name", "日本.pdf", false, 0 },
	{ "raw Shift_JIS filename",
	  "attachment; filename=\"\x90\xbf\x8b\x81\x8f\x91.pdf\"", "filename", "請求書.pdf", false, 0 },
	{ "raw Shift_JIS with 0x5C trail bytes (予定表)",
	  "attachment; filename=\"\x97\x5c\x92\xe8\x95\x5c\"; size=10", "filename", "予定表", false, 0 },
	{ "raw Shift_JIS 0x5C trail, then other params",
	  "attachment; filename=\"\x97\x5c\x92\xe8\x95\x5c.xls\"; x=\"y\"", "filename", "予定表.xls", false, 0 },
	{ "raw EUC-JP filename",
	  "attachment; filename=\"\xc0\xc1\xb5\xe1\xbd\xf1.pdf\"", "filename", "請求書.pdf", false, 0 },
	{ "raw UTF-8 filename", "attachment; filename=\"請求書.pdf\"", "filename", "請求書.pdf", false, 0 },
	{ "duplicate filename",
	  "attachment; filename=\"a.pdf\"; filename=\"b.exe\"", "filename", "a.pdf", true, 0 },
	{ "duplicate continuation index",
	  "attachment; filename*0=a; filename*0=b; filename*1=.txt", "filename", "a.txt", true, 0 },
	{ "empty extended initial value (fuzz finding)", "attachment; filename*0*=; filename*1=x.pdf",
	  "filename", "x.pdf", false, 0 },
	{ "empty extended value", "attachment; filename*=", "filename", "", false, 0 },
	{ "empty encoded continuation (fuzz finding)", "attachment; filename*0*=UTF-8''a; filename*1*=; filename*2=b",
	  "filename", "ab", false, 0 },
	{ "absent", "attachment; size=3", "filename", NULL, false, 0 },
	{ "prefix is not a match", "attachment; xfilename=\"a\"; filename2=\"b\"",
	  "filename", NULL, false, 0 },
	{ "quoted with backslash", "attachment; filename=\"a\\\"b\\\\c.txt\"",
	  "filename", "a\"b\\c.txt", false, 0 },
	{ "case-insensitive name", "ATTACHMENT; FileName=\"x.pdf\"", "filename", "x.pdf", false, 0 },
	{ "folded inside quotes", "attachment;\r\n\tfilename=\"x\r\n y.pdf\"",
	  "filename", "x y.pdf", false, 0 },
	{ "unquoted token", "attachment; filename=report.pdf ; size=3", "filename", "report.pdf", false, 0 },
	{ "semicolon inside quotes", "attachment; filename=\"a;b.exe\"; name=c",
	  "filename", "a;b.exe", false, 0 },
	{ "empty value", "attachment; filename=\"\"", "filename", "", false, 0 },
};

static void test_param(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(prm); i++) {
		bool dup = !prm[i].dup;
		size_t inv = 99;
		char *got = charset_header_param(prm[i].raw, prm[i].name, &dup, &inv);
		TAP_STREQ(got, prm[i].want, "param: %s", prm[i].what);
		TAP_OK(dup == prm[i].dup, "param: %s: dup=%d", prm[i].what, dup);
		TAP_OK(inv == prm[i].invalid, "param: %s: invalid %zu", prm[i].what, inv);
		g_free(got);
	}
	char *got = charset_header_param("attachment; filename=a", "filename", NULL, NULL);
	TAP_STREQ(got, "a", "param: NULL out-pointers accepted");
	g_free(got);
}

/* ---------------------------------------------------------------- */
static const struct {
	const char *what, *in, *want;
} prn[] = {
	{ "RLO", "invoice\xE2\x80\xAE" "fdp.exe", "invoice<U+202E>fdp.exe" },
	{ "tab and newline", "a\tb\nc", "a<U+0009>b<U+000A>c" },
	{ "zero-width space", "zero\xE2\x80\x8Bwidth", "zero<U+200B>width" },
	{ "BOM, LRI, ALM", "\xEF\xBB\xBF" "a\xE2\x81\xA6" "b\xD8\x9C", "<U+FEFF>a<U+2066>b<U+061C>" },
	{ "C1 and DEL", "\xC2\x85x\x7F", "<U+0085>x<U+007F>" },
	{ "tag character (5 digits)", "a\xF3\xA0\x81\x81", "a<U+E0041>" },
	{ "invalid UTF-8", "a\xff" "b", "a" FFFD "b" },
	{ "Japanese unchanged", "請求書 ①㈱.pdf", "請求書 ①㈱.pdf" },
};

static void test_printable(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(prn); i++) {
		char *got = charset_printable(prn[i].in);
		TAP_STREQ(got, prn[i].want, "printable: %s", prn[i].what);
		g_free(got);
	}
	char *got = charset_printable(NULL);
	TAP_STREQ(got, "", "printable: NULL");
	g_free(got);
}

/* ---------------------------------------------------------------- */
static void test_corpus(void)
{
	const char *src = getenv("MUGAI_SRCDIR");
	char *dir = g_build_filename(src ? src : ".", "..", "shared", "corpus", "gmime", "filters", NULL);
	char *fu = g_build_filename(dir, "japanese.utf-8.txt", NULL);
	char *fj = g_build_filename(dir, "japanese.iso-2022-jp.txt", NULL);
	char *fs = g_build_filename(dir, "japanese.shift-jis.txt", NULL);
	char *u = NULL, *j = NULL, *s = NULL;
	gsize ul, jl, sl;

	if (!g_file_get_contents(fu, &u, &ul, NULL) || !g_file_get_contents(fj, &j, &jl, NULL) ||
	    !g_file_get_contents(fs, &s, &sl, NULL)) {
		TAP_OK(1, "corpus # SKIP %s not found", dir);
	} else {
		struct { const char *label, *buf; size_t len, expect_used; } c[] = {
			{ "iso-2022-jp", j, jl, 0 }, { "shift_jis", s, sl, 0 },
			{ NULL, j, jl, 0 }, { NULL, s, sl, 0 },
		};
		for (size_t i = 0; i < G_N_ELEMENTS(c); i++) {
			charset_info ci;
			size_t n;
			char *got = charset_to_utf8(c[i].label, c[i].buf, c[i].len, &n, &ci);
			TAP_OK(n == ul && memcmp(got, u, ul) == 0 && ci.invalid == 0,
			       "corpus: gmime japanese sample labelled %s (used %s) equals the UTF-8 file",
			       c[i].label ? c[i].label : "(none)", ci.used);
			g_free(got);
		}
	}
	g_free(u); g_free(j); g_free(s);
	g_free(fu); g_free(fj); g_free(fs); g_free(dir);
}

static void test_long(void)
{
	static const char unit_in[] = ESC "$B@A5a=q$N$4AwIU-!-j" ESC "(B abc\r\n";
	static const char unit_out[] = "請求書のご送付①㈱ abc\r\n";
	GString *in = g_string_new(NULL), *want = g_string_new(NULL);
	while (in->len < 100 * 1024) {
		g_string_append(in, unit_in);
		g_string_append(want, unit_out);
	}
	gint64 t0 = g_get_monotonic_time();
	charset_info ci;
	size_t n;
	char *got = charset_to_utf8("ISO-2022-JP", in->str, in->len, &n, &ci);
	char *det = charset_to_utf8(NULL, in->str, in->len, NULL, NULL);
	gint64 ms = (g_get_monotonic_time() - t0) / 1000;
	TAP_OK(n == want->len && strcmp(got, want->str) == 0 && ci.invalid == 0,
	       "long: %zu bytes of ISO-2022-JP decode exactly", in->len);
	TAP_STREQ(det, want->str, "long: detected as ISO-2022-JP too");
	TAP_OK(ms < 2000, "long: took %lld ms", (long long)ms);
	g_free(got);
	g_free(det);
	g_string_free(in, TRUE);
	g_string_free(want, TRUE);
}

int main(void)
{
	test_canonical();
	test_decode();
	test_header();
	test_param();
	test_printable();
	test_corpus();
	test_long();
	return tap_done();
}
