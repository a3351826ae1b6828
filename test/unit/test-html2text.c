/* test-html2text.c - HTML to text: a table of documents with their exact
 * text and flags.  Every case is converted whole, one byte at a time and in
 * random chunk sizes (several fixed seeds); all must agree. */
#include "sanitize/html2text.h"
#include "test/unit/tap.h"

#include <glib.h>
#include <libxml/parser.h>

#define SHOW    MUGAI_LINKS_SHOW
#define DEFANG  MUGAI_LINKS_DEFANG
#define REMOVE  MUGAI_LINKS_REMOVE
#define HID     HTML2TEXT_HIDDEN_TEXT
#define TRUNC   HTML2TEXT_TRUNCATED
#define FORM    HTML2TEXT_HAS_FORM
#define SCRIPT  HTML2TEXT_HAS_SCRIPT

struct tcase {
	const char *name;
	const char *html;
	enum mugai_links links;
	const char *want;
	unsigned flags;
	size_t max;           /* input cap, 0 = none */
	size_t len;           /* 0 = strlen(html) */
	const char *forbid;   /* must never appear in any output */
};

static const struct tcase cases[] = {
	{ "paragraphs", "<p>First paragraph.</p><p>Second\nparagraph.</p>", SHOW,
	  "First paragraph.\n\nSecond paragraph.\n", 0, 0, 0, NULL },
	{ "br, at most one blank line", "line1<br>line2<br/>line3<br><br><br><br>line4", SHOW,
	  "line1\nline2\nline3\n\nline4\n", 0, 0, 0, NULL },
	{ "empty paragraphs collapse", "a<br><br><br>b<p></p><p> </p><p>c</p>", SHOW,
	  "a\n\nb\n\nc\n", 0, 0, 0, NULL },
	{ "headings", "<h1>Title</h1><p>body</p><h2>Sub</h2>text", SHOW,
	  "Title\n\nbody\n\nSub\n\ntext\n", 0, 0, 0, NULL },
	{ "nested lists",
	  "<ul><li>one<li>two<ul><li>two-a<li>two-b</ul><li>three</ul>"
	  "<ol><li>first<li>second<ol><li>inner</ol></ol>after", SHOW,
	  "・ one\n・ two\n  ・ two-a\n  ・ two-b\n・ three\n\n1. first\n2. second\n  1. inner\n\nafter\n",
	  0, 0, 0, NULL },
	{ "list item continuation", "<ul><li>a<br>more<ul><li>b</ul>c</li></ul>", SHOW,
	  "・ a\n  more\n  ・ b\n  c\n", 0, 0, 0, NULL },
	{ "table rows",
	  "<table><tr><th>Name</th><th>Qty</th><th>Price</th></tr>\n"
	  "<tr><td>Apple</td>\n<td>3</td><td>&yen;300</td></tr></table>", SHOW,
	  "Name | Qty | Price\nApple | 3 | ¥300\n", 0, 0, 0, NULL },
	{ "table empty cell skipped", "<table><tr><td>a</td><td> </td><td>c</td></tr></table>", SHOW,
	  "a | c\n", 0, 0, 0, NULL },
	{ "br inside table cell", "<table><tr><td>a<br>b</td><td>c</td></tr></table>", SHOW,
	  "a\nb | c\n", 0, 0, 0, NULL },
	{ "entities",
	  "<p>A &amp; B&nbsp;&nbsp;C &#x3042;&#12356; &yen;100 &lt;tag&gt; &quot;q&quot;</p>", SHOW,
	  "A & B C あい ¥100 <tag> \"q\"\n", 0, 0, 0, NULL },
	{ "whitespace collapse",
	  "  <div>  lots   of\n\n\tspace  </div>\n\n  <div>  next </div>  ", SHOW,
	  "lots of space\nnext\n", 0, 0, 0, NULL },
	{ "pre keeps whitespace",
	  "<p>before</p><pre>\n  indented\n\tx  y\n\n\n\nend  </pre><p>after</p>", SHOW,
	  "before\n\n  indented\n\tx  y\n\nend\n\nafter\n", 0, 0, 0, NULL },
	{ "pre CRLF", "<pre>a\r\nb\rc</pre>", SHOW, "a\nb\nc\n", 0, 0, 0, NULL },
	{ "script dropped",
	  "<p>a</p><script>alert('evil'); document.write('<p>x</p>')</script><p>b</p>", SHOW,
	  "a\n\nb\n", SCRIPT, 0, 0, "alert" },
	{ "script with end tag inside a string",
	  "<script>var s = '</div>'; alert(1);</script>after", SHOW,
	  "after\n", SCRIPT, 0, 0, "alert" },
	{ "script unterminated", "<p>x</p><script>evil()", SHOW, "x\n", SCRIPT, 0, 0, "evil" },
	{ "script and style upper case", "<STYLE>p{color:red}</STYLE><SCRIPT>bad()</SCRIPT>ok", SHOW,
	  "ok\n", SCRIPT, 0, 0, "bad" },
	{ "style with comment", "<style><!-- .x{display:none} --></style>ok", SHOW,
	  "ok\n", 0, 0, 0, "display" },
	{ "head, title, style, comments",
	  "<html><head><title>Secret title</title><style>body{color:red}</style></head>"
	  "<body><!-- hidden comment --><p>visible</p><!-- x --></body></html>", SHOW,
	  "visible\n", 0, 0, 0, "Secret" },
	{ "other dropped elements",
	  "<noscript>ns</noscript><iframe>if</iframe><object>ob</object><svg><text>sv</text></svg>"
	  "<template>tp</template><math>m</math><embed src=x>o<wbr style=\"display:none\">k", SHOW,
	  "ok\n", 0, 0, 0, NULL },
	{ "conditional comments",
	  "<!--[if mso]><p>mso only</p><![endif]--><!--[if !mso]><!--><p>others</p><!--<![endif]-->", SHOW,
	  "others\n", 0, 0, 0, "mso only" },
	{ "empty comment <!-->", "a<!-->b<!--->c", SHOW, "abc\n", 0, 0, 0, NULL },
	{ "hidden display:none",
	  "<p>Hello<span style=\"display: none !important\">HIDDEN</span> world</p>", SHOW,
	  "Hello world\n", HID, 0, 0, "HIDDEN" },
	{ "hidden font-size:0 (zero font)",
	  "Micro<font style=\"font-size:0px\">xyz</font>soft <span style='FONT-SIZE: 0pt'>abc</span>ok", SHOW,
	  "Microsoft ok\n", HID, 0, 0, "xyz" },
	{ "hidden font shorthand", "<span style=\"color:red;font:0/0 a\">X</span>Y", SHOW,
	  "Y\n", HID, 0, 0, "X" },
	{ "hidden attribute", "<div hidden>secret</div><div>shown</div>", SHOW,
	  "shown\n", HID, 0, 0, "secret" },
	{ "hidden visibility", "<p style=\"visibility:hidden\">secret</p>shown", SHOW,
	  "shown\n", HID, 0, 0, "secret" },
	{ "hidden nested block", "<div style=\"display:none\"><p>a</p><table><tr><td>b</td></tr></table></div>c", SHOW,
	  "c\n", HID, 0, 0, NULL },
	{ "hidden empty spacer gives no flag", "<div style=\"display:none\"> </div>text", SHOW,
	  "text\n", 0, 0, 0, NULL },
	{ "not hidden: font-size 0.5em", "<span style=\"font-size:0.5em\">small</span>", SHOW,
	  "small\n", 0, 0, 0, NULL },
	{ "link show",
	  "<p>詳細は<a href=\"https://www.example.co.jp/quote?a=b.c\">こちら</a>をご覧ください。</p>", SHOW,
	  "詳細はこちら <https://www.example.co.jp/quote?a=b.c> をご覧ください。\n", 0, 0, 0, NULL },
	{ "link defang",
	  "<p>詳細は<a href=\"https://www.example.co.jp/quote?a=b.c\">こちら</a>をご覧ください。</p>", DEFANG,
	  "詳細はこちら <hxxps://www[.]example[.]co[.]jp/quote?a=b.c> をご覧ください。\n", 0, 0, 0, NULL },
	{ "link remove",
	  "<p>詳細は<a href=\"https://www.example.co.jp/quote?a=b.c\">こちら</a>をご覧ください。</p>", REMOVE,
	  "詳細はこちらをご覧ください。\n", 0, 0, 0, "example" },
	{ "link text equals URL, show", "<a href=\"https://example.jp/\">https://example.jp</a>", SHOW,
	  "https://example.jp/\n", 0, 0, 0, NULL },
	{ "link text equals URL, defang", "<a href=\"https://example.jp/\">https://example.jp</a>", DEFANG,
	  "hxxps://example[.]jp/\n", 0, 0, 0, NULL },
	{ "link text equals URL, remove", "<a href=\"https://example.jp/\">https://example.jp</a>", REMOVE,
	  "hxxps://example[.]jp/\n", 0, 0, 0, NULL },
	{ "link text equals URL without scheme", "<a href=\"http://www.example.jp\"> www.example.jp </a>.", DEFANG,
	  "hxxp://www[.]example[.]jp .\n", 0, 0, 0, NULL },
	{ "link text is another URL, show",
	  "<a href=\"http://evil.example.net/login\">https://bank.example.jp/</a>", SHOW,
	  "https://bank.example.jp/ <http://evil.example.net/login>\n", 0, 0, 0, NULL },
	{ "link text is another URL, defang",
	  "<a href=\"http://evil.example.net/login\">https://bank.example.jp/</a>", DEFANG,
	  "hxxps://bank[.]example[.]jp/ <hxxp://evil[.]example[.]net/login>\n", 0, 0, 0, NULL },
	{ "link text is another URL, remove",
	  "<a href=\"http://evil.example.net/login\">https://bank.example.jp/</a>", REMOVE,
	  "hxxps://bank[.]example[.]jp/\n", 0, 0, 0, "evil" },
	{ "mailto defang", "<a href=\"mailto:info@example.jp\">問い合わせ</a>", DEFANG,
	  "問い合わせ <mailto:info@example[.]jp>\n", 0, 0, 0, NULL },
	{ "ftp defang", "<a href=\"FTP://ftp.example.jp/a.txt\">file</a>", DEFANG,
	  "file <FXP://ftp[.]example[.]jp/a.txt>\n", 0, 0, 0, NULL },
	{ "href entities and spaces",
	  "<a href=\" https://example.jp/a b?x=1&amp;y=2\n\">x</a>", SHOW,
	  "x <https://example.jp/a%20b?x=1&y=2>\n", 0, 0, 0, NULL },
	{ "href bidi control removed", "<a href=\"https://exa&#x202E;mple.jp\">x</a>", SHOW,
	  "x <https://example.jp>\n", 0, 0, 0, NULL },
	{ "javascript, anchor, relative, data links",
	  "<a href=\"javascript:alert(1)\">click</a> <a href=\"#top\">top</a> "
	  "<a href=\"/rel\">rel</a> <a href=\"data:text/html,x\">data</a> <a href=\" JaVa&#x09;Script:x\">j2</a>", SHOW,
	  "click top rel data j2\n", SCRIPT, 0, 0, "alert" },
	{ "link around a block", "<a href=\"https://example.jp\"><div>Click here</div></a>after", SHOW,
	  "Click here\n<https://example.jp> after\n", 0, 0, 0, NULL },
	{ "nested links", "<a href=\"https://a.jp\">A<a href=\"https://b.jp\">B</a></a>", SHOW,
	  "A <https://a.jp> B <https://b.jp>\n", 0, 0, 0, NULL },
	{ "link without text", "<a href=\"https://example.jp\"><img src=x.gif></a>", DEFANG,
	  "<hxxps://example[.]jp>\n", 0, 0, 0, NULL },
	{ "unclosed link", "<p><a href=\"https://example.jp\">open", SHOW,
	  "open <https://example.jp>\n", 0, 0, 0, NULL },
	{ "bare URLs in text, defang", "see http://example.com/a.b and www.example.org or HTTPS://x.example.jp?q=a.b", DEFANG,
	  "see hxxp://example[.]com/a.b and www[.]example[.]org or HXXPS://x[.]example[.]jp?q=a.b\n", 0, 0, 0, NULL },
	{ "URL inside a redirector's URL, defang",
	  "<a href=\"https://r.example/go?u=https://evil.example/p&amp;v=www.evil2.example\">t</a> "
	  "https://b.example/x?next=HTTP://c.example.com/", DEFANG,
	  "t <hxxps://r[.]example/go?u=hxxps://evil[.]example/p&v=www[.]evil2[.]example> "
	  "hxxps://b[.]example/x?next=HXXP://c[.]example[.]com/\n", 0, 0, 0, NULL },
	{ "URL run into another URL's host, defang", "x https://a.example=https://b.example/c", DEFANG,
	  "x hxxps://a[.]example=hxxps://b[.]example/c\n", 0, 0, 0, NULL },
	{ "bare URLs in text split by markup, defang", "<b>http</b>://exa<i>mple</i>.com/", DEFANG,
	  "hxxp://example[.]com/\n", 0, 0, 0, NULL },
	{ "bare URLs in text, show", "see http://example.com/a.b and www.example.org", SHOW,
	  "see http://example.com/a.b and www.example.org\n", 0, 0, 0, NULL },
	{ "image alt",
	  "<img src=\"logo.png\" alt=\"会社ロゴ\"><img src=\"https://t.example/p.gif\" width=1 height=1>"
	  "<img alt=\"\"><img alt=\" \">text", SHOW, "[画像: 会社ロゴ]text\n", 0, 0, 0, "p.gif" },
	{ "image in link", "<a href=\"https://example.jp\"><img alt=\"バナー\"></a>", SHOW,
	  "[画像: バナー] <https://example.jp>\n", 0, 0, 0, NULL },
	{ "japanese text",
	  "<p>お世話になっております。<br>株式会社サンプルの山田です。</p><p>よろしくお願いいたします。</p>", SHOW,
	  "お世話になっております。\n株式会社サンプルの山田です。\n\nよろしくお願いいたします。\n", 0, 0, 0, NULL },
	{ "unclosed tags", "<p>a<p>b<div>c", SHOW, "a\n\nb\n\nc\n", 0, 0, 0, NULL },
	{ "unclosed list and table", "<ul><li>x<li>y</ul><table><tr><td>1<td>2<tr><td>3<td>4", SHOW,
	  "・ x\n・ y\n\n1 | 2\n3 | 4\n", 0, 0, 0, NULL },
	{ "zero-width and bidi removed",
	  "pay\xe2\x80\x8bpal \xe2\x80\xaegnp.exe\xe2\x80\xac &#x200B;x&#xFEFF;y \xe2\x81\xa6z\xe2\x81\xa9 so&shy;ft", SHOW,
	  "paypal gnp.exe xy z soft\n", 0, 0, 0, NULL },
	{ "blockquote",
	  "<p>On Mon, A wrote:</p><blockquote><p>line 1</p><p>line 2</p>"
	  "<blockquote>nested</blockquote></blockquote><p>reply</p>", SHOW,
	  "On Mon, A wrote:\n\n> line 1\n>\n> line 2\n>\n> > nested\n\nreply\n", 0, 0, 0, NULL },
	{ "list in blockquote", "<blockquote><ul><li>a<li>b</ul></blockquote>", SHOW,
	  "> ・ a\n> ・ b\n", 0, 0, 0, NULL },
	{ "hr", "a<hr>b", SHOW, "a\n----\nb\n", 0, 0, 0, NULL },
	{ "dl", "<dl><dt>term</dt><dd>definition</dd></dl>x", SHOW, "term\ndefinition\n\nx\n", 0, 0, 0, NULL },
	{ "form",
	  "<form action=\"https://evil.example/\"><label>ID</label><input name=id><button>送信</button></form>", SHOW,
	  "ID 送信\n", FORM, 0, 0, "evil" },
	{ "textarea", "<textarea>t</textarea>", SHOW, "t\n", FORM, 0, 0, NULL },
	{ "on* attribute", "<p onclick=\"x()\">t</p><img alt=a onerror=y()>", SHOW,
	  "t\n\n[画像: a]\n", SCRIPT, 0, 0, NULL },
	{ "empty document", "", SHOW, "", 0, 0, 0, NULL },
	{ "only whitespace and empty blocks", " <p> </p><div>\n</div> ", SHOW, "", 0, 0, 0, NULL },
	{ "content after </html>",
	  "<html><body><p>body</p></body></html>\n<p>footer</p>", SHOW, "body\n\nfooter\n", 0, 0, 0, NULL },
	{ "stray end tag first", "</div></html>text", SHOW, "text\n", 0, 0, 0, NULL },
	{ "doctype and html attributes",
	  "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"shift_jis\"></head><body>日本語</body></html>", SHOW,
	  "日本語\n", 0, 0, 0, NULL },
	{ "head keeps unknown elements", "<head><o:p>text</o:p></head>", SHOW, "text\n", 0, 0, 0, NULL },
	{ "utf-8 BOM", "\xef\xbb\xbf<p>x</p>", SHOW, "x\n", 0, 0, 0, NULL },
	{ "invalid utf-8 repaired", "\xff日本 a\xc0\xaf" "b\xe3\x81", SHOW,
	  "\xef\xbf\xbd日本 a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd\n", 0, 0, 0, NULL },
	{ "NUL removed", "a\0b", SHOW, "ab\n", 0, 0, 3, NULL },
	{ "controls removed", "a\x1b[31mb\x7f" "c", SHOW, "a[31mbc\n", 0, 0, 0, "\x1b" },
	{ "truncated inside a character", "<p>段落</p>", SHOW, "", TRUNC, 5, 0, NULL },
	{ "truncated after a character", "<p>段落</p>", SHOW, "段\n", TRUNC, 6, 0, NULL },
	{ "not truncated at exactly max", "<p>段落</p>", SHOW, "段落\n", 0, 13, 0, NULL },
	{ "tag split at every byte", "<scr" "ipt>x</scr" "ipt><sty" "le>y</st" "yle>z", SHOW,
	  "z\n", SCRIPT, 0, 0, NULL },
};

/* Feed in chunks: step 0 = whole, 1 = byte by byte, else random sizes. */
static char *run(const struct tcase *c, size_t len, unsigned step, guint32 seed, unsigned *flags)
{
	html2text *h = html2text_new(c->links, c->max);
	GRand *r = g_rand_new_with_seed(seed);
	size_t i = 0;
	char *out;

	while (i < len) {
		size_t n = step == 0 ? len - i : step == 1 ? 1 : (size_t)g_rand_int_range(r, 1, 40);
		n = MIN(n, len - i);
		if (html2text_feed(h, c->html + i, n) != 0)
			break;
		i += n;
	}
	out = html2text_finish(h, NULL, flags);
	html2text_free(h);
	g_rand_free(r);
	return out;
}

static void check_case(const struct tcase *c)
{
	static const guint32 seeds[] = { 1, 2, 3, 42, 4711 };
	size_t len = c->len ? c->len : strlen(c->html), i;
	unsigned fw = 0, fb = 0, fr = 0;
	char *whole = run(c, len, 0, 0, &fw);
	char *bytes = run(c, len, 1, 0, &fb);
	bool same = true, clean = true;

	TAP_STREQ(whole, c->want, "%s: text", c->name);
	TAP_OK(fw == c->flags, "%s: flags %#x (want %#x)", c->name, fw, c->flags);
	TAP_STREQ(bytes, whole, "%s: byte by byte = whole", c->name);
	TAP_OK(fb == fw, "%s: byte by byte flags", c->name);
	for (i = 0; i < G_N_ELEMENTS(seeds); i++) {
		char *rnd = run(c, len, 2, seeds[i], &fr);
		if (!rnd || !whole || strcmp(rnd, whole) != 0 || fr != fw) {
			same = false;
			printf("#   seed %u: [%s] flags %#x\n", seeds[i], rnd ? rnd : "(null)", fr);
		}
		if (c->forbid && rnd && strstr(rnd, c->forbid))
			clean = false;
		g_free(rnd);
	}
	TAP_OK(same, "%s: random chunks = whole", c->name);
	if (c->forbid) {
		clean = clean && whole && bytes && !strstr(whole, c->forbid) && !strstr(bytes, c->forbid);
		TAP_OK(clean, "%s: \"%s\" never in the output", c->name, c->forbid);
	}
	g_free(whole);
	g_free(bytes);
}

/* Generated documents: too big for the table. */
static void check_generated(void)
{
	GString *in = g_string_new(NULL), *want = g_string_new(NULL);
	struct tcase c = { 0 };
	char *w, *b, *r;
	unsigned fw, fb, fr;
	int i;

	/* A huge input over max_bytes: 64 KiB of complete "<p>段落</p>" (13
	 * bytes) is 5041 paragraphs plus "<p>" of the next one. */
	for (i = 0; in->len < 1024 * 1024; i++)
		g_string_append(in, "<p>段落</p>");
	for (i = 0; i < 5041; i++)
		g_string_append(want, i ? "\n段落\n" : "段落\n");
	c.name = "huge input over max_bytes";
	c.html = in->str;
	c.links = SHOW;
	c.max = 64 * 1024;
	w = run(&c, in->len, 0, 0, &fw);
	b = run(&c, in->len, 1, 0, &fb);
	r = run(&c, in->len, 2, 7, &fr);
	TAP_STREQ(w, want->str, "%s: text", c.name);
	TAP_OK(fw == TRUNC, "%s: TRUNCATED flag", c.name);
	TAP_OK(w && b && r && strcmp(w, b) == 0 && strcmp(w, r) == 0 && fw == fb && fw == fr,
	       "%s: byte by byte and random chunks = whole", c.name);
	g_free(w); g_free(b); g_free(r);

	/* Deeper than the element stack (256): dropping hidden subtrees and
	 * the line breaks of blocks still work; quote markers are capped. */
	g_string_truncate(in, 0);
	for (i = 0; i < 300; i++)
		g_string_append(in, "<div>");
	g_string_append(in, "a<span style=\"display:none\">secret<b>x</b></span>b<div>c</div>d<script>e</script>f");
	c.name = "deeper than the element stack";
	c.html = in->str;
	c.max = 0;
	w = run(&c, in->len, 0, 0, &fw);
	b = run(&c, in->len, 1, 0, &fb);
	TAP_STREQ(w, "ab\nc\ndf\n", "%s: text", c.name);
	TAP_OK(fw == (HID | SCRIPT), "%s: flags %#x", c.name, fw);
	TAP_OK(w && b && strcmp(w, b) == 0, "%s: byte by byte = whole", c.name);
	g_free(w); g_free(b);

	g_string_truncate(in, 0);
	for (i = 0; i < 20; i++)
		g_string_append(in, "<blockquote>");
	g_string_append(in, "deep");
	c.name = "deep blockquote capped at 8 levels";
	c.html = in->str;
	w = run(&c, in->len, 0, 0, &fw);
	TAP_STREQ(w, "> > > > > > > > deep\n", "%s", c.name);
	g_free(w);

	g_string_free(in, TRUE);
	g_string_free(want, TRUE);
}

static const struct { const char *in, *want; } defang_cases[] = {
	{ "https://www.example.co.jp/quote?a=b.c", "hxxps://www[.]example[.]co[.]jp/quote?a=b.c" },
	{ "http://example.com", "hxxp://example[.]com" },
	{ "HTTP://Example.COM/a.html", "HXXP://Example[.]COM/a.html" },
	{ "ftp://ftp.example.jp/pub/file.tar.gz", "fxp://ftp[.]example[.]jp/pub/file.tar.gz" },
	{ "mailto:user.name@example.com?subject=a.b", "mailto:user.name@example[.]com?subject=a.b" },
	{ "http://user:pw@host.example.jp:8080/x.y#f.g", "hxxp://user:pw@host[.]example[.]jp:8080/x.y#f.g" },
	{ "https://bank.example.jp@evil.example.net/", "hxxps://bank[.]example[.]jp@evil[.]example[.]net/" },
	{ "www.example.jp/a.b", "www[.]example[.]jp/a.b" },
	{ "hxxps://www[.]example[.]jp/", "hxxps://www[.]example[.]jp/" },
	{ "http://[::1]:80/", "hxxp://[::1]:80/" },
	{ "https://例え.テスト/パス", "hxxps://例え[.]テスト/パス" },
	{ "", "" },
};

static const struct { const char *in; size_t len; const char *want; } sniff_cases[] = {
	{ "<html><head><meta charset=\"Shift_JIS\"></head>", 0, "Shift_JIS" },
	{ "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-2022-jp\">", 0, "iso-2022-jp" },
	{ "<meta content='text/html;charset=EUC-JP' http-equiv=content-type>", 0, "EUC-JP" },
	{ "<meta charset=utf-8>", 0, "utf-8" },
	{ "<meta charset = 'windows-31j' />", 0, "windows-31j" },
	{ "<meta name=\"description\" content=\"charset=bogus\"><meta charset=utf-8>", 0, "utf-8" },
	{ "<!-- <meta charset=koi8-r> --><meta charset=utf-8>", 0, "utf-8" },
	{ "<metadata charset=x><p>no meta</p>", 0, NULL },
	{ "<meta charset=\"x;<script>\">", 0, NULL },
	{ "<p>no meta at all</p>", 0, NULL },
	{ "<meta charset=utf-8>", 12, NULL },
	{ "", 0, NULL },
};

int main(void)
{
	size_t i;
	GString *far;
	char *got;

	xmlInitParser();
	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		check_case(&cases[i]);
	check_generated();

	for (i = 0; i < G_N_ELEMENTS(defang_cases); i++) {
		got = html2text_defang_url(defang_cases[i].in);
		TAP_STREQ(got, defang_cases[i].want, "defang %s", defang_cases[i].in);
		g_free(got);
	}
	TAP_OK(html2text_defang_url(NULL) == NULL, "defang NULL");

	for (i = 0; i < G_N_ELEMENTS(sniff_cases); i++) {
		const char *in = sniff_cases[i].in;
		got = html2text_sniff_charset(in, sniff_cases[i].len ? sniff_cases[i].len : strlen(in));
		TAP_STREQ(got, sniff_cases[i].want, "sniff %s", in);
		g_free(got);
	}
	far = g_string_new(NULL);
	while (far->len < 4096)
		g_string_append(far, "<p>padding</p>\n");
	g_string_append(far, "<meta charset=euc-jp>");
	got = html2text_sniff_charset(far->str, far->len);
	TAP_OK(got == NULL, "sniff: meta after the first 4096 bytes is not seen");
	g_free(got);
	g_string_free(far, TRUE);

	xmlCleanupParser();
	return tap_done();
}
