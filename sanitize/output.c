/* output.c - the notice and the sanitized message, built fresh.
 *
 * The output is the original top-level headers minus Content-*,
 * MIME-Version and X-Mugai-Status, our own MIME headers and X-Mugai-Status,
 * and one text/plain UTF-8 part (base64 or quoted-printable, so 7-bit with
 * short lines): the kept and converted texts in document order, then the
 * notice in Japanese and English.  output_check() re-parses the result;
 * anything but the one part we built is a bug and the caller tempfails.
 */
#include "sanitize/walk.h"
#include "sanitize/pipeline.h"
#include "sanitize/charset.h"
#include "sanitize/verdict.h"
#include <string.h>

static const char RULE[] = "----------------------------------------------------------------------\n";

static void human_size(char *buf, size_t len, uint64_t n)
{
	if (n < 1024)
		snprintf(buf, len, "%" G_GUINT64_FORMAT " B", n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KB", n / 1024.0);
	else
		snprintf(buf, len, "%.1f MB", n / (1024.0 * 1024.0));
}

static bool listed(const mugai_part *p)
{
	return p->action == PART_REMOVED && !result_has_reason(p->reasons, "alternative-duplicate");
}

static char *part_name(const mugai_part *p, bool ja)
{
	if (p->filename)
		return charset_printable(p->filename);
	return g_strdup_printf(ja ? "（名前なし・パート %s）" : "(unnamed, part %s)", p->path);
}

/* Reasons that change something or need a look, in one language. */
static void append_reasons(GString *s, const GPtrArray *reasons, bool ja)
{
	bool first = true;
	for (guint i = 0; i < reasons->len; i++) {
		const char *code = g_ptr_array_index(reasons, i);
		if (strcmp(code, "html-converted") == 0 && reasons->len > 1)
			continue;  /* the line already says it was converted */
		const verdict_row *row = verdict_lookup(code);
		g_string_append_printf(s, "%s%s (%s)", first ? "" : (ja ? "、" : "; "),
		                       ja ? row->text_ja : row->text_en, code);
		first = false;
	}
}

/* The notice's wording, one row per language; the layout is shared. */
typedef struct notice_text {
	bool ja;
	const char *opening;
	const char *did_both, *did_removed, *did_converted, *did_nothing;
	const char *dup_html;
	const char *files;          /* %u */
	const char *item;           /* %u name size suspect-mark */
	const char *suspect_mark;
	const char *type_line;      /* declared, detected */
	const char *unknown;
	const char *reasons;
	const char *converted;      /* %s part path */
	const char *note;           /* %s text, %s code */
	const char *release;        /* %s id, %s what, %s contact */
	const char *what_file, *what_original;
} notice_text;

static const notice_text notice_ja = {
	true,
	"【無害化処理のお知らせ】\nこのメールはインターネットから届いたため、",
	"添付ファイルを取り除き、HTML の本文をテキストに変換しました。\n",
	"添付ファイルを取り除きました。\n",
	"HTML の本文をテキストに変換しました。\n",
	"内容を検査し、テキストとして組み直しました。\n",
	"HTML 版の本文はテキスト版と同じ内容のため、テキスト版のみを表示しています。\n",
	"取り除いたファイル（%u件）:\n",
	"  %u. %s（%s）%s\n", "※要確認",
	"     種類: %s（検出: %s）\n", "不明",
	"     理由: ",
	"変換した本文（パート %s）: ",
	"注意: %s (%s)\n",
	"原本は隔離ID %s で保管しています。%sが必要な場合は、隔離ID を添えて%sへご連絡ください。\n",
	"ファイル", "原本",
};

static const notice_text notice_en = {
	false,
	"[Sanitization notice] This message came from the internet: ",
	"its attachments were removed and its HTML body converted to plain text.\n",
	"its attachments were removed.\n",
	"its HTML body was converted to plain text.\n",
	"it was inspected and rebuilt as plain text.\n",
	"The HTML version of the body holds the same text as the plain one, so only the plain text is shown.\n",
	"Removed files (%u):\n",
	"  %u. %s (%s)%s\n", " SUSPECT: held for review",
	"     type: %s, detected: %s\n", "unknown",
	"     reasons: ",
	"Converted body (part %s): ",
	"Note: %s (%s)\n",
	"The original is kept under quarantine ID %s. To obtain %s, contact %s quoting this ID.\n",
	"a removed file", "the original",
};

static void notice(GString *s, const notice_text *t, const mugai_config *cfg, const mugai_result *r,
                   unsigned nremoved, unsigned nconverted, bool dup_html)
{
	g_string_append(s, t->opening);
	g_string_append(s, nremoved && nconverted ? t->did_both : nremoved ? t->did_removed
	                   : nconverted ? t->did_converted : t->did_nothing);
	if (dup_html)
		g_string_append(s, t->dup_html);
	if (nremoved)
		g_string_append_printf(s, t->files, nremoved);
	unsigned k = 0;
	for (guint i = 0; i < r->parts->len; i++) {
		const mugai_part *p = g_ptr_array_index(r->parts, i);
		if (!listed(p))
			continue;
		char sz[32], *name = part_name(p, t->ja);
		human_size(sz, sizeof sz, p->size);
		g_string_append_printf(s, t->item, ++k, name, sz, verdict_part_suspect(p) ? t->suspect_mark : "");
		g_string_append_printf(s, t->type_line, p->content_type, p->detected_type ? p->detected_type : t->unknown);
		if (p->sha256[0])
			g_string_append_printf(s, "     SHA-256: %s\n", p->sha256);
		g_string_append(s, t->reasons);
		append_reasons(s, p->reasons, t->ja);
		g_string_append_c(s, '\n');
		for (guint f = 0; f < p->findings->len; f++)  /* already printable */
			g_string_append_printf(s, "       - %s\n", (char *)g_ptr_array_index(p->findings, f));
		g_free(name);
	}
	for (guint i = 0; i < r->parts->len; i++) {
		const mugai_part *p = g_ptr_array_index(r->parts, i);
		if (p->action == PART_CONVERTED && p->reasons->len > 1) {
			g_string_append_printf(s, t->converted, p->path);
			append_reasons(s, p->reasons, t->ja);
			g_string_append_c(s, '\n');
		}
	}
	for (guint i = 0; i < r->reasons->len; i++) {
		const char *code = g_ptr_array_index(r->reasons, i);
		const verdict_row *row = verdict_lookup(code);
		if (row->verdict != VERDICT_CLEAN)
			g_string_append_printf(s, t->note, t->ja ? row->text_ja : row->text_en, code);
	}
	if (r->quarantine_id)
		g_string_append_printf(s, t->release, r->quarantine_id, nremoved ? t->what_file : t->what_original,
		                       t->ja ? cfg->notice_contact : cfg->notice_contact_en);
}

static char *build_body(const mugai_config *cfg, const mugai_result *r, GPtrArray *blocks)
{
	GString *s = g_string_new(NULL);
	int prev_quote = 0;
	for (guint i = 0; blocks && i < blocks->len; i++) {
		walk_block *b = g_ptr_array_index(blocks, i);
		if (!b->text || !*b->text)
			continue;
		if (s->len) {  /* a blank line between blocks, quoted when both are */
			for (int q = 0; q < MIN(prev_quote, b->quote); q++)
				g_string_append_c(s, '>');
			g_string_append_c(s, '\n');
		}
		prev_quote = b->quote;
		for (const char *line = b->text; *line;) {
			const char *nl = strchr(line, '\n');
			size_t n = nl ? (size_t)(nl - line) : strlen(line);
			for (int q = 0; q < b->quote; q++)
				g_string_append(s, n || q + 1 < b->quote ? "> " : ">");
			g_string_append_len(s, line, (gssize)n);
			g_string_append_c(s, '\n');
			line += n + (nl ? 1 : 0);
		}
	}
	if (r->verdict != VERDICT_CLEAN) {
		unsigned nremoved = 0, nconverted = 0;
		bool dup_html = false;
		for (guint i = 0; i < r->parts->len; i++) {
			const mugai_part *p = g_ptr_array_index(r->parts, i);
			nremoved += listed(p);
			bool dup = result_has_reason(p->reasons, "alternative-duplicate");
			nconverted += p->action == PART_CONVERTED || dup;  /* HTML mail, shown as text */
			dup_html |= dup;
		}
		if (s->len)
			g_string_append_c(s, '\n');
		g_string_append(s, RULE);
		notice(s, &notice_ja, cfg, r, nremoved, nconverted, dup_html);
		g_string_append_c(s, '\n');
		notice(s, &notice_en, cfg, r, nremoved, nconverted, dup_html);
		g_string_append(s, RULE);
	}
	return g_string_free(s, FALSE);
}

static bool dropped_header(const char *name)
{
	return pipeline_header_replaced(name);
}

/* Append a raw header value with LF line ends and a final newline.  A lone
 * CR is part of the value to GMime but a line end to some parsers: it
 * becomes a blank, so that what follows it (a hidden "Content-Type:",
 * rawlook.c's folded-header) cannot start a header of its own here. */
static void append_raw(GString *s, const char *raw)
{
	for (const char *p = raw; *p; p++) {
		if (*p == '\r') {
			if (p[1] != '\n')
				g_string_append_c(s, ' ');
			continue;
		}
		g_string_append_c(s, *p);
	}
	if (s->len == 0 || s->str[s->len - 1] != '\n')
		g_string_append_c(s, '\n');
}

/* Fold an RFC 2047 header value at its blanks so no line passes 76
 * octets; continuation lines are LF + space (what libmilter expects too). */
static char *fold_words(const char *v, size_t first)
{
	GString *o = g_string_new(NULL);
	size_t col = first;
	char **words = g_strsplit(v, " ", -1);
	for (char **w = words; *w; w++) {
		size_t n = strlen(*w);
		if (w != words) {
			if (col + 1 + n > 76) {
				g_string_append(o, "\n ");
				col = 1;
			} else {
				g_string_append_c(o, ' ');
				col++;
			}
		}
		g_string_append(o, *w);
		col += n;
	}
	g_strfreev(words);
	return g_string_free(o, FALSE);
}

/* The new Subject value, or NULL to keep the original's.  A Subject sent as
 * raw 8-bit or ISO-2022-JP bytes (old Japanese mailers do) would reach LGWAN
 * clients garbled: it is decoded like every other text and re-encoded as
 * RFC 2047 UTF-8.  ETAG, when set, is put in front. */
static char *subject_value(const char *raw, const char *etag)
{
	bool raw8 = false;
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
		raw8 |= *p >= 0x80 || *p == 0x1b;
	if (!raw8 && !etag)
		return NULL;
	GString *v = g_string_new(etag ? etag : "");
	if (raw8) {
		char *dec = charset_decode_header(raw, NULL);
		char *enc = g_mime_utils_header_encode_text(NULL, g_strstrip(dec), "utf-8");
		if (v->len && *enc)
			g_string_append_c(v, ' ');
		g_string_append(v, enc);
		g_free(enc);
		g_free(dec);
	} else {
		GString *t = g_string_new(NULL);
		append_raw(t, raw);
		while (t->len && t->str[t->len - 1] == '\n')
			g_string_truncate(t, t->len - 1);
		const char *start = t->str + strspn(t->str, " \t");
		if (*start)
			g_string_append_printf(v, " %s", start);
		g_string_free(t, TRUE);
		return g_string_free(v, FALSE);  /* the original's own folding is kept */
	}
	char *folded = fold_words(v->str, strlen("Subject: "));
	g_string_free(v, TRUE);
	return folded;
}

GByteArray *output_build(const mugai_config *cfg, GMimeMessage *msg,
                         mugai_result *r, GPtrArray *blocks, char **body_out)
{
	unsigned nremoved = result_count_action(r, PART_REMOVED), nsuspect = 0;
	for (guint i = 0; i < r->parts->len; i++)
		nsuspect += verdict_part_suspect(g_ptr_array_index(r->parts, i));
	GString *st = g_string_new(verdict_name(r->verdict));
	g_string_append_printf(st, "; removed=%u; suspect=%u", nremoved, nsuspect);
	if (r->quarantine_id)
		g_string_append_printf(st, "; id=%s", r->quarantine_id);
	g_free(r->status);
	r->status = g_string_free(st, FALSE);

	bool tag = cfg->subject_tag && *cfg->subject_tag && r->verdict != VERDICT_CLEAN;
	char *etag = tag ? g_mime_utils_header_encode_text(NULL, cfg->subject_tag, "utf-8") : NULL;
	GString *s = g_string_new(NULL);
	bool had_subject = false;
	GMimeHeaderList *l = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	int n = l ? g_mime_header_list_get_count(l) : 0;
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(l, i);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_raw_value(h);
		if (!name || dropped_header(name))
			continue;
		if (g_ascii_strcasecmp(name, "subject") == 0 && !had_subject) {
			had_subject = true;
			char *v = subject_value(raw ? raw : "", etag);
			if (v) {
				g_string_append_printf(s, "Subject: %s\n", v);
				g_free(r->subject_out);
				r->subject_out = v;
				continue;
			}
		}
		g_string_append(s, name);
		g_string_append_c(s, ':');
		append_raw(s, raw ? raw : "");
	}
	if (tag && !had_subject) {
		g_string_append_printf(s, "Subject: %s\n", etag);
		g_free(r->subject_out);
		r->subject_out = g_strdup(etag);
		r->subject_added = true;
	}
	g_free(etag);

	char *body = build_body(cfg, r, blocks);
	bool qp = cfg->transfer_encoding == MUGAI_CTE_QP;
	g_string_append(s, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n");
	g_string_append_printf(s, "Content-Transfer-Encoding: %s\n", qp ? "quoted-printable" : "base64");
	g_string_append_printf(s, "X-Mugai-Status: %s\n\n", r->status);
	r->body_offset = s->len;

	GMimeEncoding enc;
	g_mime_encoding_init_encode(&enc, qp ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE : GMIME_CONTENT_ENCODING_BASE64);
	size_t blen = strlen(body);
	char *encoded = g_malloc(g_mime_encoding_outlen(&enc, blen) + 16);
	size_t elen = g_mime_encoding_flush(&enc, body, blen, encoded);
	g_string_append_len(s, encoded, (gssize)elen);
	if (s->str[s->len - 1] != '\n')
		g_string_append_c(s, '\n');
	g_free(encoded);

	*body_out = body;
	gsize len = s->len;
	return g_byte_array_new_take((guint8 *)g_string_free(s, FALSE), len);
}

/* Critical warnings about the structure we built fail the check.  The
 * original's other headers are kept as they came, so a duplicate Subject or
 * an odd header name there (already a reason on the input) is not ours. */
static void check_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	(void)offset;
	bool crit = code == GMIME_CRIT_INVALID_HEADER_NAME || code == GMIME_CRIT_CONFLICTING_HEADER ||
	            code == GMIME_CRIT_CONFLICTING_PARAMETER || code == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY ||
	            code == GMIME_CRIT_NESTING_OVERFLOW || code == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT;
	bool ours = !item || g_ascii_strncasecmp(item, "content-", 8) == 0 ||
	            g_ascii_strcasecmp(item, "mime-version") == 0 || g_ascii_strcasecmp(item, "x-mugai-status") == 0;
	if (crit && (ours || (code != GMIME_CRIT_CONFLICTING_HEADER && code != GMIME_CRIT_INVALID_HEADER_NAME)))
		*(bool *)data = true;
}

int output_check(const GByteArray *out, const char *body, const char **why)
{
	bool crit = false;
	int rc = -1;
	GMimeParserOptions *o = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(o, check_warning, &crit);
	GMimeStream *ms = g_mime_stream_mem_new_with_buffer((const char *)out->data, out->len);
	GMimeParser *p = g_mime_parser_new_with_stream(ms);
	GMimeMessage *m = g_mime_parser_construct_message(p, o);
	*why = "output does not parse";
	if (!m)
		goto done;
	*why = "critical parser warning on the output";
	if (crit)
		goto done;
	*why = "output is not a single text part";
	if (!GMIME_IS_TEXT_PART(m->mime_part))
		goto done;
	GMimeContentType *ct = g_mime_object_get_content_type(m->mime_part);
	const char *cs = g_mime_content_type_get_parameter(ct, "charset");
	*why = "output part is not text/plain; charset=utf-8";
	if (!g_mime_content_type_is_type(ct, "text", "plain") || !cs || g_ascii_strcasecmp(cs, "utf-8") != 0)
		goto done;
	GMimeHeaderList *hl = g_mime_object_get_header_list(m->mime_part);
	int nct = 0;
	for (int i = 0; i < g_mime_header_list_get_count(hl); i++)
		if (g_ascii_strcasecmp(g_mime_header_get_name(g_mime_header_list_get_header_at(hl, i)), "Content-Type") == 0)
			nct++;
	*why = "output has more than one Content-Type";
	if (nct != 1)
		goto done;
	char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(m->mime_part));
	*why = "output text differs from what was built";
	if (text && strcmp(text, body) == 0)
		rc = 0;
	g_free(text);
done:
	if (rc == 0)
		*why = NULL;
	if (m)
		g_object_unref(m);
	g_object_unref(p);
	g_object_unref(ms);
	g_mime_parser_options_free(o);
	return rc;
}
