/* mimewalk.c - walk the MIME tree and decide every leaf.
 *
 * Walks with GMimePartIter (it descends into attached messages, which
 * g_mime_*_foreach does not), builds a tree from the iterator's paths, and
 * decides each leaf: inline text/plain is kept, inline text/html converted,
 * everything else removed.  Each leaf is decoded once, in 64 KiB chunks,
 * into SHA-256, its size, the head libmagic looks at and (for bodies up to
 * [limits] text_size) the text itself: attachments are never held whole in
 * memory.  Problems become reasons on the part or on the message; the
 * verdict is decided elsewhere (verdict.c).
 */
#include "sanitize/walk.h"
#include "sanitize/charset.h"
#include "sanitize/clamav.h"
#include "sanitize/decode.h"
#include "sanitize/detect.h"
#include "sanitize/html2text.h"
#include "sanitize/inspect.h"
#include "util/fdio.h"
#include <fcntl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

typedef struct wnode {
	GMimeObject *obj;       /* borrowed from the message */
	char *path;
	int depth;
	bool too_deep;
	GPtrArray *children;    /* wnode * */
} wnode;

static wnode *wnode_new(GMimeObject *obj, const char *path, int depth)
{
	wnode *n = g_new0(wnode, 1);
	n->obj = obj;
	n->path = g_strdup(path);
	n->depth = depth;
	n->children = g_ptr_array_new();
	return n;
}

static void wnode_free(wnode *n)
{
	if (!n)
		return;
	for (guint i = 0; i < n->children->len; i++)
		wnode_free(g_ptr_array_index(n->children, i));
	g_ptr_array_free(n->children, TRUE);
	g_free(n->path);
	g_free(n);
}

static void block_free(gpointer p)
{
	walk_block *b = p;
	g_free(b->text);
	g_free(b);
}

void walk_init(walk_ctx *w, const mugai_config *cfg, mugai_result *res, FILE *explain)
{
	memset(w, 0, sizeof *w);
	w->cfg = cfg;
	w->res = res;
	w->explain = explain;
	w->blocks = g_ptr_array_new_with_free_func(block_free);
	w->deadline = g_get_monotonic_time() + cfg->max_time * G_USEC_PER_SEC;
}

void walk_clear(walk_ctx *w)
{
	if (w->blocks)
		g_ptr_array_unref(w->blocks);
	w->blocks = NULL;
}

/* ---- parser warnings ---- */

static const char *warning_name(GMimeParserWarning code)
{
	switch (code) {
	case GMIME_WARN_DUPLICATED_HEADER: return "duplicated-header";
	case GMIME_WARN_DUPLICATED_PARAMETER: return "duplicated-parameter";
	case GMIME_WARN_UNENCODED_8BIT_HEADER: return "unencoded-8bit-header";
	case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid-content-type";
	case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE: return "invalid-rfc2047-header-value";
	case GMIME_WARN_MALFORMED_MULTIPART: return "malformed-multipart";
	case GMIME_WARN_TRUNCATED_MESSAGE: return "truncated-message";
	case GMIME_WARN_MALFORMED_MESSAGE: return "malformed-message";
	case GMIME_CRIT_INVALID_HEADER_NAME: return "crit-invalid-header-name";
	case GMIME_CRIT_CONFLICTING_HEADER: return "crit-conflicting-header";
	case GMIME_CRIT_CONFLICTING_PARAMETER: return "crit-conflicting-parameter";
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "crit-multipart-without-boundary";
	case GMIME_WARN_INVALID_PARAMETER: return "invalid-parameter";
	case GMIME_WARN_INVALID_ADDRESS_LIST: return "invalid-address-list";
	case GMIME_CRIT_NESTING_OVERFLOW: return "crit-nesting-overflow";
	case GMIME_WARN_PART_WITHOUT_CONTENT: return "part-without-content";
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "crit-part-without-headers-or-content";
	default: return NULL;
	}
}

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	mugai_result *r = data;
	(void)offset;
	const char *name = warning_name(code);
	/* A duplicate Subject or a strange non-MIME header name cannot change
	 * which parts a client sees: recorded, but not critical.  The same on a
	 * Content-* header (or with no name given) stays critical. */
	if (code == GMIME_CRIT_CONFLICTING_HEADER || code == GMIME_CRIT_INVALID_HEADER_NAME) {
		char *h = item ? g_strstrip(g_strdup(item)) : NULL;
		bool mime = !h || g_ascii_strncasecmp(h, "content-", 8) == 0 || g_ascii_strcasecmp(h, "mime-version") == 0;
		g_free(h);
		if (!mime)
			name = code == GMIME_CRIT_CONFLICTING_HEADER ? "conflicting-header" : "invalid-header-name";
	}
	char *reason = name ? g_strconcat("parse-warning:", name, NULL)
	                    : g_strdup_printf("parse-warning:%d", (int)code);
	result_add_reason(r->reasons, reason);
	g_free(reason);
}

GMimeParserOptions *walk_parser_options(mugai_result *r)
{
	GMimeParserOptions *o = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(o, on_warning, r);
	return o;
}

/* ---- helpers ---- */

char *walk_mime_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *t = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
	char *l = g_ascii_strdown(t, -1);
	g_free(t);
	return l;
}

const char *walk_raw_header(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *l = g_mime_object_get_header_list(obj);
	GMimeHeader *h = l ? g_mime_header_list_get_header(l, name) : NULL;
	return h ? g_mime_header_get_raw_value(h) : NULL;
}

static bool has_control_chars(const char *utf8)
{
	for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		GUnicodeType t = g_unichar_type(c);
		if (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT)
			return true;
	}
	return false;
}

/* CRLF and lone CR to LF; ensure a final newline unless empty. */
static char *normalize_newlines(char *s)
{
	GString *o = g_string_sized_new(strlen(s) + 1);
	for (const char *p = s; *p; p++) {
		if (*p == '\r') {
			g_string_append_c(o, '\n');
			if (p[1] == '\n')
				p++;
		} else {
			g_string_append_c(o, *p);
		}
	}
	while (o->len > 0 && o->str[o->len - 1] == '\n')
		g_string_truncate(o, o->len - 1);
	if (o->len > 0)
		g_string_append_c(o, '\n');
	g_free(s);
	return g_string_free(o, FALSE);
}

static bool past_deadline(walk_ctx *w)
{
	if (g_get_monotonic_time() > w->deadline) {
		result_add_reason(w->res->reasons, "limit:time");
		w->stop = true;
		return true;
	}
	return false;
}

/* ---- ClamAV ---- */

/* With [detect] clamd_socket set, the decoded bytes of every part not kept
 * as text (removed files, text bodies removed or converted, blocks cut out
 * of a text) are scanned: from FD when it is >= 0, else the SIZE bytes at
 * BUF.  A hit is "clamav:NAME" on the part and on the message: suspect.  A
 * part over clamd_max_size is not sent: "clamav-too-large", suspect (an
 * administrator looks; retrying would not change it, so no tempfail); clamd
 * answering that the stream passed its StreamMaxLength is the same.  clamd
 * unreachable, silent past clamd_timeout or answering an error is a
 * message reason that tempfails (fail closed), and what failed is a finding
 * of the part for the audit record; the walk stops there. */
static void clamav_part(walk_ctx *w, mugai_part *p, int fd, const char *buf, uint64_t size)
{
	const mugai_config *cfg = w->cfg;
	if (!cfg->clamd_socket[0] || w->stop)
		return;
	if (size > (uint64_t)cfg->clamd_max_size) {
		result_add_reason(p->reasons, "clamav-too-large");
		return;
	}
	gint64 deadline = MIN(g_get_monotonic_time() + cfg->clamd_timeout * G_USEC_PER_SEC, w->deadline);
	char *name = NULL, *detail = NULL;
	int r = fd >= 0 ? clamav_scan_fd(cfg->clamd_socket, fd, size, deadline, &name, &detail)
	                : clamav_scan_buf(cfg->clamd_socket, buf, (size_t)size, deadline, &name, &detail);
	if (r == CLAMAV_FOUND) {
		char *reason = g_strconcat("clamav:", name, NULL);
		result_add_reason(p->reasons, reason);
		result_add_reason(w->res->reasons, reason);
		g_free(reason);
	} else if (r == CLAMAV_TOO_LARGE) {
		result_add_reason(p->reasons, "clamav-too-large");
	} else if (r < 0) {
		/* the walk's own deadline ran out first: that is limit:time */
		const char *reason = r == -ETIMEDOUT && past_deadline(w) ? "limit:time"
		                   : r == -ETIMEDOUT ? "clamav-timeout" : r == -EPROTO ? "clamav-error"
		                   : r == -EIO ? "internal:clamav-read" : "clamav-unavailable";
		result_add_reason(w->res->reasons, reason);
		g_ptr_array_add(p->findings, g_strdup_printf("%s (%s)", reason, detail ? detail : "?"));
		w->stop = true;
	}
	g_free(name);
	g_free(detail);
}

/* ---- decoding one leaf ---- */

typedef struct sink {
	EVP_MD_CTX *md;
	uint64_t size;
	GByteArray *head;     /* first INSPECT_HEAD_BYTES */
	GByteArray *text;     /* whole content while <= limit, for bodies */
	uint64_t text_limit;
	bool text_overflow;
	int spill;            /* every byte, for the detectors or clamd; -1 = none (yet) */
	int spill_error;
	/* A file is spilled only when its head shows that a container module
	 * will read it whole (most images and executables are decided by their
	 * head): WANT is asked once, when the head is full and more follows. */
	bool (*want)(void *ctx, const unsigned char *head, size_t hlen);
	void *want_ctx;
	bool asked;
	/* When WANT said no: the last INSPECT_TAIL_BYTES at least, where a
	 * zip appended to the file would show (inspect_tail_has_zip). */
	GByteArray *tail;
} sink;

/* An unlinked file for one part's decoded bytes: the detectors read
 * archives and documents from it, so no part is held whole in memory. */
static int spill_open(void)
{
	return open(g_get_tmp_dir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

static void spill_write(sink *s, const void *buf, size_t n)
{
	int r = s->spill_error ? 0 : fd_write_all(s->spill, buf, n);
	if (r < 0)
		s->spill_error = -r;
}

/* Ask WANT (once) and open the spill with the head in it if it says so. */
static void sink_decide(sink *s)
{
	s->asked = true;
	if (!s->want(s->want_ctx, s->head->data, s->head->len)) {
		s->tail = g_byte_array_new();
		g_byte_array_append(s->tail, s->head->data, s->head->len);
		return;
	}
	if ((s->spill = spill_open()) < 0)
		s->spill_error = errno;
	else
		spill_write(s, s->head->data, s->head->len);
}

static void sink_put(sink *s, const char *buf, size_t n)
{
	if (!n)
		return;
	EVP_DigestUpdate(s->md, buf, n);
	s->size += n;
	size_t take = 0;
	if (s->head->len < INSPECT_HEAD_BYTES) {
		take = MIN(n, INSPECT_HEAD_BYTES - s->head->len);
		g_byte_array_append(s->head, (const guint8 *)buf, take);
	}
	if (s->text && !s->text_overflow) {
		if (s->text->len + n > s->text_limit)
			s->text_overflow = true;
		else
			g_byte_array_append(s->text, (const guint8 *)buf, n);
	}
	if (s->want && !s->asked && take < n) {
		sink_decide(s);   /* writes the head, which holds this chunk's first TAKE bytes */
		buf += take;
		n -= take;
	}
	if (s->spill >= 0)
		spill_write(s, buf, n);
	else if (s->tail) {
		g_byte_array_append(s->tail, (const guint8 *)buf, (guint)n);
		if (s->tail->len > 2 * INSPECT_TAIL_BYTES)
			g_byte_array_remove_range(s->tail, 0, s->tail->len - INSPECT_TAIL_BYTES);
	}
}

/* The sink's question for a file: its type from the head, then whether a
 * container module reads it whole. */
typedef struct want_ctx {
	mugai_part *p;
	char *detected;   /* DETECT_FILE on the head, for the part once decoded */
} want_ctx;

static bool want_spill(void *ctx, const unsigned char *head, size_t hlen)
{
	want_ctx *wc = ctx;
	mugai_part *p = wc->p;
	wc->detected = detect_mime_type(head, hlen, DETECT_FILE);
	return !wc->detected ||
	       inspect_wants_file(p->filename, p->name_param, p->content_type, wc->detected, head, hlen);
}

/* Where decode_part's pieces go. */
typedef struct put_ctx {
	walk_ctx *w;   /* decoded_size is counted when set */
	sink *s;
	int out_fd;
} put_ctx;

static int walk_put(void *ctx, const char *buf, size_t n)
{
	put_ctx *pc = ctx;
	if (pc->w) {
		pc->w->decoded_total += n;
		if (pc->w->decoded_total > (uint64_t)pc->w->cfg->max_decoded_size)
			return 1;
	}
	if (pc->s)
		sink_put(pc->s, buf, n);
	return pc->out_fd >= 0 && n > 0 ? fd_write_all(pc->out_fd, buf, n) : 0;
}

/* Decode the content of PART through S.  Returns 0, 1 when the decoded-size
 * limit stopped it, or -errno. */
static int decode_part(walk_ctx *w, GMimePart *part, sink *s, mugai_part *rec, int out_fd)
{
	put_ctx pc = { .w = w, .s = s, .out_fd = out_fd };
	unsigned flags = 0;
	int rc = decode_part_content(part, walk_put, &pc, &flags);
	if (rec) {
		if (flags & DECODE_B64_AFTER_PAD)
			result_add_reason(rec->reasons, "base64-after-padding");
		if (flags & DECODE_B64_BAD_CHAR)
			result_add_reason(rec->reasons, "base64-bad-char");
		if (flags & DECODE_B64_TRUNCATED)
			result_add_reason(rec->reasons, "base64-truncated");
	}
	return rc;
}

static void add_block(walk_ctx *w, char *text, int quote, mugai_part *part, bool is_html)
{
	walk_block *b = g_new0(walk_block, 1);
	b->text = text;
	b->quote = quote;
	b->part = part;
	b->is_html = is_html;
	g_ptr_array_add(w->blocks, b);
}

static void explain_part(walk_ctx *w, const mugai_part *p)
{
	if (!w->explain)
		return;
	GString *s = g_string_new(NULL);
	g_string_append_printf(s, "part %s %s", p->path, p->content_type);
	if (p->detected_type)
		g_string_append_printf(s, " detected=%s", p->detected_type);
	if (p->filename) {
		char *name = charset_printable(p->filename);
		g_string_append_printf(s, " name=\"%s\"", name);
		g_free(name);
	}
	g_string_append_printf(s, " size=%" G_GUINT64_FORMAT " -> %s (", p->size, part_action_name(p->action));
	for (guint i = 0; i < p->reasons->len; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", (char *)g_ptr_array_index(p->reasons, i));
	g_string_append(s, ")\n");
	fputs(s->str, w->explain);
	g_string_free(s, TRUE);
}

/* Types whose mere presence is a finding: bodies that cannot be inspected
 * (S/MIME and PGP encryption) and signatures (removed: the rebuilt message
 * no longer matches them).  TNEF is a file like any other: inspect.c
 * expands it. */
static void special_type_reasons(mugai_part *p)
{
	static const struct { const char *type, *reason; } rows[] = {
		{ "application/pkcs7-mime", "encrypted" }, { "application/x-pkcs7-mime", "encrypted" },
		{ "application/pgp-encrypted", "encrypted" }, { "application/octet-stream+pgp", "encrypted" },
		{ "application/pkcs7-signature", "signature" }, { "application/x-pkcs7-signature", "signature" },
		{ "application/pgp-signature", "signature" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		if (strcmp(p->content_type, rows[i].type) == 0)
			result_add_reason(p->reasons, rows[i].reason);
}

/* A message/rfc822 or message/global leaf: GMime leaves an attached
 * message opaque when it carries a transfer encoding (RFC 2046 allows
 * none), but mail clients decode and open it.  inspect_head() looks
 * inside; its presence alone is a finding. */
static void encoded_message_reason(GMimeObject *obj, mugai_part *p)
{
	if (!GMIME_IS_PART(obj) || (strcmp(p->content_type, "message/rfc822") != 0 &&
	                            strcmp(p->content_type, "message/global") != 0))
		return;
	switch (g_mime_part_get_content_encoding(GMIME_PART(obj))) {
	case GMIME_CONTENT_ENCODING_DEFAULT:
	case GMIME_CONTENT_ENCODING_7BIT:
	case GMIME_CONTENT_ENCODING_8BIT:
	case GMIME_CONTENT_ENCODING_BINARY:
		break;
	default:
		result_add_reason(p->reasons, "message-encoded");
	}
}

/* uuencode, yEnc and BinHex blocks inside a text body are files a mail
 * client may decode and offer: each is cut out of the shown text (a marker
 * line says where it was) and listed as a removed part of its own, path
 * "PATH.textN", with the SHA-256 of its encoded lines.  The original,
 * blocks included, is in the quarantine.  Takes TEXT, returns the new one. */
static char *cut_encoded_blocks(walk_ctx *w, mugai_part *body, char *text)
{
	GArray *blocks = textenc_scan(text, strlen(text));
	if (!blocks || blocks->len == 0) {
		textenc_free(blocks);
		return text;
	}
	GString *out = g_string_new(NULL);
	size_t at = 0;
	for (guint i = 0; i < blocks->len; i++) {
		textenc_block *b = &g_array_index(blocks, textenc_block, i);
		char *path = g_strdup_printf("%s.text%u", body->path, i + 1);
		mugai_part *p = result_add_part(w->res, path);
		p->content_type = g_strdup(strcmp(b->kind, "uuencode") == 0 ? "application/x-uuencode"
		                           : strcmp(b->kind, "yenc") == 0 ? "application/x-yenc" : "application/mac-binhex40");
		p->filename = b->name ? g_strdup(b->name) : NULL;
		p->size = b->end - b->start;
		unsigned char dg[32];
		unsigned dl = 0;
		EVP_Digest(text + b->start, b->end - b->start, dg, &dl, EVP_sha256(), NULL);
		for (unsigned k = 0; k < dl && k < 32; k++)
			snprintf(p->sha256 + 2 * k, 3, "%02x", dg[k]);
		p->action = PART_REMOVED;
		result_add_reason(p->reasons, "encoded-in-text");
		if (p->filename)
			inspect_name(p->filename, p->reasons);
		clamav_part(w, p, -1, text + b->start, p->size);
		result_add_reason(body->reasons, "encoded-in-text");
		char *name = p->filename ? charset_printable(p->filename) : g_strdup("?");
		g_string_append_len(out, text + at, (gssize)(b->start - at));
		g_string_append_printf(out, "[符号化されたファイルを取り除きました / encoded file removed: %s (%s, part %s)]\n",
		                       name, b->kind, path);
		at = b->end;
		explain_part(w, p);
		g_free(name);
		g_free(path);
	}
	g_string_append(out, text + at);
	textenc_free(blocks);
	g_free(text);
	return g_string_free(out, FALSE);
}

/* Decide one leaf; adds its part record and, for bodies, a text block. */
static void process_leaf(walk_ctx *w, wnode *node, int quote)
{
	GMimeObject *obj = node->obj;
	mugai_part *p = result_add_part(w->res, node->path);
	p->content_type = walk_mime_type(obj);

	bool dup1 = false, dup2 = false;
	size_t inv = 0;
	char *filename = charset_header_param(walk_raw_header(obj, "Content-Disposition"), "filename", &dup1, &inv);
	char *name = charset_header_param(walk_raw_header(obj, "Content-Type"), "name", &dup2, &inv);
	if (filename && name && strcmp(filename, name) != 0) {
		p->name_param = name;
		name = NULL;
		result_add_reason(p->reasons, "filename-ambiguous");
	}
	p->filename = filename ? filename : name;
	if (filename)
		g_free(name);
	if (dup1 || dup2)
		result_add_reason(p->reasons, "duplicate-parameter");
	if ((p->filename && has_control_chars(p->filename)) ||
	    (p->name_param && has_control_chars(p->name_param)))
		result_add_reason(p->reasons, "filename-control-chars");

	/* Where the raw bytes say more than GMime saw (rawlook.c), a lenient
	 * client may find a part in this leaf: it is not shown as text. */
	const GPtrArray *raw = rawlook_part_reasons(w->raw, obj);
	for (guint i = 0; raw && i < raw->len; i++)
		result_add_reason(p->reasons, g_ptr_array_index(raw, i));

	if (node->too_deep) {
		p->action = PART_REMOVED;
		result_add_reason(p->reasons, "limit:mime-depth");
		explain_part(w, p);
		return;
	}

	const char *disp = g_mime_object_get_disposition(obj);
	bool attached = disp && g_ascii_strcasecmp(disp, "inline") != 0;
	bool is_plain = strcmp(p->content_type, "text/plain") == 0;
	bool is_html = strcmp(p->content_type, "text/html") == 0;
	bool body = (is_plain || is_html) && !attached && !p->filename && !p->name_param;
	bool withheld = body && raw;
	if (withheld)
		body = false;

	if (GMIME_IS_MESSAGE_PARTIAL(obj))
		result_add_reason(p->reasons, "message-partial");
	else if (strcmp(p->content_type, "message/external-body") == 0)
		result_add_reason(p->reasons, "message-external-body");
	else
		special_type_reasons(p);
	encoded_message_reason(obj, p);

	sink s = { 0 };
	s.md = EVP_MD_CTX_new();
	s.head = g_byte_array_new();
	s.spill = -1;
	if (body) {
		s.text = g_byte_array_new();
		s.text_limit = (uint64_t)w->cfg->max_text_size;
	}
	/* With ClamAV every part is spilled from the start (one that ends up
	 * removed or converted is scanned whole, even past text_size); without,
	 * a file only when the detectors will read it whole. */
	want_ctx wc = { .p = p };
	if (w->cfg->clamd_socket[0] && GMIME_IS_PART(obj) && (s.spill = spill_open()) < 0) {
		result_add_reason(w->res->reasons, "internal:spill");
		w->stop = true;
	} else if (!body && !w->cfg->clamd_socket[0]) {
		s.want = want_spill;
		s.want_ctx = &wc;
	}
	int rc = -ENOMEM;
	if (s.md && EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) == 1)
		rc = GMIME_IS_PART(obj) ? decode_part(w, GMIME_PART(obj), &s, p, -1) : 0;
	if (rc == 0 && s.want && !s.asked && GMIME_IS_PART(obj))
		sink_decide(&s);  /* all of it is in the head */
	if (rc == 0 && s.tail && s.size > s.head->len) {
		size_t tl = MIN((size_t)s.tail->len, (size_t)INSPECT_TAIL_BYTES);
		if (inspect_tail_has_zip(s.tail->data + s.tail->len - tl, tl, s.size)) {
			/* a zip at its end: decoded again, whole, for the detectors */
			if ((s.spill = spill_open()) < 0 || decode_part(NULL, GMIME_PART(obj), NULL, NULL, s.spill) != 0)
				s.spill_error = EIO;
		}
	}
	p->size = s.size;
	if (rc == 0) {
		unsigned char dg[EVP_MAX_MD_SIZE];
		unsigned dl = 0;
		EVP_DigestFinal_ex(s.md, dg, &dl);
		for (unsigned i = 0; i < dl && i < 32; i++)
			snprintf(p->sha256 + 2 * i, 3, "%02x", dg[i]);
	}
	EVP_MD_CTX_free(s.md);
	if (rc == 0 && s.spill_error)
		rc = -s.spill_error;
	if (rc < 0) {
		result_add_reason(w->res->reasons, s.spill_error ? "internal:spill" : "internal:decode");
		w->stop = true;
	} else if (rc == 1) {
		result_add_reason(p->reasons, "limit:decoded-size");
		result_add_reason(w->res->reasons, "limit:decoded-size");
		w->stop = true;
	}
	if (rc == 0)
		p->detected_type = wc.detected ? g_steal_pointer(&wc.detected)
		                 : detect_mime_type(s.head->data, s.head->len,
		                                    !body ? DETECT_FILE : is_plain ? DETECT_PLAIN_BODY : DETECT_HTML_BODY);
	g_free(wc.detected);

	p->action = PART_REMOVED;
	if (rc != 0) {
		/* not fully decoded: removed, the reasons say why */
	} else if (withheld) {
		/* a body kept out of the text: its reasons say why; one that is not
		 * text at all is a type mismatch, as for any body */
		if (!detect_is_textual(p->detected_type, s.head->data, s.head->len))
			result_add_reason(p->reasons, "type-mismatch");
	} else if (!body) {
		result_add_reason(p->reasons, "attachment");
		inspect_limits lim = {
			.archive_depth = w->cfg->archive_depth, .archive_entries = w->cfg->archive_entries,
			.archive_expanded = w->cfg->archive_expanded, .archive_ratio = w->cfg->archive_ratio,
			.archive_ratio_floor = w->cfg->archive_ratio_floor, .xml_part_bytes = w->cfg->xml_part_bytes,
			.pdf_inflated = w->cfg->pdf_inflated, .ole_entries = w->cfg->ole_entries,
			.findings = w->cfg->findings,
		};
		if (GMIME_IS_PART(obj) &&
		    inspect_head(p->filename, p->name_param, p->content_type, p->detected_type, s.head->data,
		                 s.head->len, s.spill, p->size, &lim, p->reasons, p->findings) < 0) {
			result_add_reason(w->res->reasons, "internal:inspect");
			w->stop = true;
		}
	} else if (s.text_overflow) {
		result_add_reason(p->reasons, "text-too-large");
	} else if (!detect_is_textual(p->detected_type, s.head->data, s.head->len)) {
		result_add_reason(p->reasons, "type-mismatch");
	} else {
		const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
		char *sniffed = NULL;
		if (is_html && (!cs || !*cs))
			cs = sniffed = html2text_sniff_charset((const char *)s.text->data, s.text->len);
		charset_info ci = { 0 };
		size_t ulen = 0;
		char *utf8 = charset_to_utf8(cs, (const char *)s.text->data, s.text->len, &ulen, &ci);
		g_free(sniffed);
		if (ci.invalid)
			result_add_reason(p->reasons, "charset-invalid");
		bool ascii = true;  /* unlabelled ASCII is RFC 2045's default, nothing guessed */
		for (guint i = 0; i < s.text->len && ascii; i++)
			ascii = s.text->data[i] < 0x80;
		if (ci.unknown_label)
			result_add_reason(p->reasons, "charset-unknown");
		else if (ci.guessed && !ascii)
			result_add_reason(p->reasons, "charset-guessed");
		if (is_plain) {
			p->action = PART_KEPT;
			char *text = normalize_newlines(utf8);  /* takes utf8 */
			utf8 = NULL;
			text = cut_encoded_blocks(w, p, text);
			if (w->cfg->links != MUGAI_LINKS_SHOW) {
				/* a URL typed in a text body is as clickable as a link */
				char *d = html2text_defang_text(text);
				g_free(text);
				text = d;
			}
			add_block(w, text, quote, p, false);
		} else {
			unsigned flags = 0;
			char *text = html2text_convert(utf8, ulen, w->cfg->links, 0, &flags);
			if (!text) {  /* the parser gave up: the body stays in the quarantine */
				result_add_reason(p->reasons, "html-conversion-failed");
				g_free(utf8);
				goto done;
			}
			p->action = PART_CONVERTED;
			result_add_reason(p->reasons, "html-converted");
			if (flags & HTML2TEXT_HIDDEN_TEXT)
				result_add_reason(p->reasons, "html-hidden-text");
			if (flags & HTML2TEXT_HAS_SCRIPT)
				result_add_reason(p->reasons, "html-script");
			if (flags & HTML2TEXT_HAS_FORM)
				result_add_reason(p->reasons, "html-form");
			add_block(w, normalize_newlines(text), quote, p, true);
		}
		g_free(utf8);
	}
done:
	if (rc == 0 && p->action != PART_KEPT && s.spill >= 0)
		clamav_part(w, p, s.spill, NULL, p->size);
	if (s.spill >= 0)
		close(s.spill);
	g_byte_array_unref(s.head);
	if (s.text)
		g_byte_array_unref(s.text);
	if (s.tail)
		g_byte_array_unref(s.tail);
	explain_part(w, p);
}

/* ---- multipart/alternative: nothing lost, nothing shown twice ---- */

/* Letters and digits only, NFKC, case-folded: what a reader would call the
 * same text, whatever the line breaks, markup or punctuation. */
/* The letters and digits of S, ASCII in lower case, the rest as written. */
static char *raw_words(const char *s)
{
	GString *o = g_string_new(NULL);
	for (const char *p = s; *p;) {
		if ((unsigned char)*p < 0x80) {
			if (g_ascii_isalnum(*p))
				g_string_append_c(o, g_ascii_tolower(*p));
			p++;
			continue;
		}
		gunichar c = g_utf8_get_char(p);
		const char *next = g_utf8_next_char(p);
		if (g_unichar_isalnum(c))
			g_string_append_len(o, p, next - p);
		p = next;
	}
	return g_string_free(o, FALSE);
}

/* Is every character of S one that NFKC and case folding leave alone, or
 * turn into something raw_words drops anyway?  ASCII, the ideographic space
 * and CJK punctuation, kana, CJK ideographs and full-width punctuation: most
 * Japanese and English mail.  Then raw_words(S) is norm_words(S). */
static bool fold_stable(const char *s)
{
	for (const char *p = s; *p;) {
		if ((unsigned char)*p < 0x80) {
			p++;
			continue;
		}
		gunichar c = g_utf8_get_char(p);
		if (!((c >= 0x3000 && c <= 0x3035) || (c >= 0x3041 && c <= 0x3096) ||
		      (c >= 0x30a1 && c <= 0x30fe) || (c >= 0x4e00 && c <= 0x9fff) ||
		      (c >= 0xff01 && c <= 0xff0f) || (c >= 0xff1a && c <= 0xff20) ||
		      (c >= 0xff3b && c <= 0xff40) || (c >= 0xff5b && c <= 0xff5e)))
			return false;
		p = g_utf8_next_char(p);
	}
	return true;
}

/* The same after NFKC and case folding: full-width letters, ligatures and
 * the like compare equal to what they stand for. */
static char *norm_words(const char *s)
{
	char *nf = g_utf8_normalize(s, -1, G_NORMALIZE_NFKC);
	char *cf = g_utf8_casefold(nf ? nf : "", -1);
	char *w = raw_words(cf);
	g_free(nf);
	g_free(cf);
	return w;
}

/* The converted HTML without the "<URL>" tokens and image markers that the
 * conversion adds (a plain alternative rarely has them), in *STRIPPED (the
 * caller frees it); returns *STRIPPED.  Any scheme, so that defanged ones
 * ("hxxps:") go too. */
static const char *html_words(const char *converted, char **stripped)
{
	static GRegex *re;
	if (g_once_init_enter(&re)) {
		GRegex *r = g_regex_new(" ?<[A-Za-z][A-Za-z0-9+.-]*:[^>\\s]*>|\\[画像: [^\\]\\n]*\\]",
		                        G_REGEX_OPTIMIZE, 0, NULL);
		g_once_init_leave(&re, r);
	}
	*stripped = re ? g_regex_replace_literal(re, converted, -1, 0, "", 0, NULL) : NULL;
	if (!*stripped)
		*stripped = g_strdup(converted);
	return *stripped;
}

/* Is NEEDLE a subsequence of HAY (UTF-8 code points, in order)? */
static bool subsequence(const char *needle, const char *hay)
{
	const char *h = hay;
	for (const char *n = needle; *n; n = g_utf8_next_char(n)) {
		gunichar c = g_utf8_get_char(n);
		for (;;) {
			if (!*h)
				return false;
			gunichar d = g_utf8_get_char(h);
			h = g_utf8_next_char(h);
			if (c == d)
				break;
		}
	}
	return true;
}

static void dedupe_alternative(walk_ctx *w, guint start, int quote)
{
	walk_block *plain = NULL, *html = NULL;
	guint html_at = 0;
	for (guint i = start; i < w->blocks->len; i++) {
		walk_block *b = g_ptr_array_index(w->blocks, i);
		if (b->quote != quote || !b->part)
			continue;
		if (b->is_html && !html) {
			html = b;
			html_at = i;
		} else if (!b->is_html && !plain) {
			plain = b;
		}
	}
	if (!plain || !html)
		return;
	char *stripped;
	/* The plain part holds every word of the HTML one: show it alone.  An
	 * empty or stub plain part fails this, and then both are shown.  The
	 * words as written first (alternatives made from one text agree), and
	 * when they differ, again after Unicode normalisation unless that could
	 * not change them. */
	char *pw = raw_words(plain->text), *hw = raw_words(html_words(html->text, &stripped));
	bool dup = *pw && subsequence(hw, pw);
	if (!dup && !(fold_stable(plain->text) && fold_stable(stripped))) {
		g_free(pw);
		g_free(hw);
		pw = norm_words(plain->text);
		hw = norm_words(stripped);
		dup = *pw && subsequence(hw, pw);
	}
	g_free(stripped);
	g_free(pw);
	g_free(hw);
	if (!dup)
		return;
	mugai_part *p = html->part;
	p->action = PART_REMOVED;
	for (guint i = 0; i < p->reasons->len; i++)  /* html-converted: it is not shown */
		if (strcmp(g_ptr_array_index(p->reasons, i), "html-converted") == 0)
			g_ptr_array_remove_index(p->reasons, i--);
	result_add_reason(p->reasons, "alternative-duplicate");
	if (w->explain)
		fprintf(w->explain, "part %s -> removed (alternative-duplicate: text/plain alternative holds the same text)\n", p->path);
	g_ptr_array_remove_index(w->blocks, html_at);
}

/* ---- embedded messages ---- */

static void message_heading(walk_ctx *w, GMimeMessage *inner, int quote)
{
	GString *s = g_string_new("---------- 添付されたメール / Attached message ----------\n");
	static const char *const names[] = { "From", "To", "Cc", "Date", "Subject" };
	GMimeHeaderList *l = g_mime_object_get_header_list(GMIME_OBJECT(inner));
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		GMimeHeader *h = g_mime_header_list_get_header(l, names[i]);
		if (!h)
			continue;
		char *v = charset_decode_header(g_mime_header_get_raw_value(h), NULL);
		char *pv = charset_printable(g_strstrip(v));
		g_string_append_printf(s, "%s: %s\n", names[i], pv);
		g_free(v);
		g_free(pv);
	}
	add_block(w, g_string_free(s, FALSE), quote, NULL, false);
}

static void render(walk_ctx *w, wnode *node, int quote, bool is_root);

/* Text before the first or after the last boundary is never shown.  A
 * lenient client may still read a part there (a boundary line or MIME
 * headers in it): that ambiguity is recorded, and the message is suspect. */
static bool looks_like_part(const char *text)
{
	if (!text)
		return false;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		if ((n > 2 && line[0] == '-' && line[1] == '-' && !g_ascii_isspace(line[2])) ||
		    (n >= 13 && g_ascii_strncasecmp(line, "content-type:", 13) == 0) ||
		    (n >= 26 && g_ascii_strncasecmp(line, "content-transfer-encoding:", 26) == 0))
			return true;
		line += n + (nl ? 1 : 0);
	}
	return false;
}

static void render_children(walk_ctx *w, wnode *node, GMimeObject *container, int quote)
{
	guint start = w->blocks->len;
	if (container && GMIME_IS_MULTIPART(container) &&
	    (looks_like_part(g_mime_multipart_get_prologue(GMIME_MULTIPART(container))) ||
	     looks_like_part(g_mime_multipart_get_epilogue(GMIME_MULTIPART(container)))))
		result_add_reason(w->res->reasons, "mime-in-preamble");
	for (guint i = 0; i < node->children->len && !w->stop; i++)
		render(w, g_ptr_array_index(node->children, i), quote, false);
	if (container && GMIME_IS_MULTIPART(container)) {
		char *t = walk_mime_type(container);
		if (strcmp(t, "multipart/alternative") == 0)
			dedupe_alternative(w, start, quote);
		g_free(t);
	}
}

static void render(walk_ctx *w, wnode *node, int quote, bool is_root)
{
	if (w->stop || past_deadline(w))
		return;
	GMimeObject *obj = node->obj;
	if (GMIME_IS_MESSAGE_PART(obj) && !node->too_deep) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (inner) {
			message_heading(w, inner, quote + 1);
			render_children(w, node, inner->mime_part, quote + 1);
			return;
		}
	}
	if (GMIME_IS_MULTIPART(obj) && !node->too_deep) {
		render_children(w, node, obj, quote);
		return;
	}
	if (is_root) {
		render_children(w, node, NULL, quote);
		return;
	}
	process_leaf(w, node, quote);
}

static int path_depth(const char *path)
{
	int d = 1;
	for (const char *p = path; *p; p++)
		if (*p == '.')
			d++;
	return d;
}

/* The iterator calls the single body of a non-multipart message "0"; the
 * audit and `quarantine export --part` call it "1", as IMAP does. */
static char *iter_path(GMimePartIter *it)
{
	char *p = g_mime_part_iter_get_path(it);
	if (p && strcmp(p, "0") == 0) {
		g_free(p);
		p = g_strdup("1");
	}
	return p;
}

static wnode *build_tree(walk_ctx *w, GMimeMessage *msg)
{
	wnode *root = wnode_new(msg->mime_part, "", 0);
	if (!msg->mime_part)
		return root;
	GHashTable *by_path = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTable *skipped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_hash_table_insert(by_path, root->path, root);
	GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(msg));
	long count = 0;
	if (g_mime_part_iter_is_valid(it)) {
		do {
			if (++count > w->cfg->max_parts) {
				result_add_reason(w->res->reasons, "limit:parts");
				break;
			}
			char *path = iter_path(it);
			if (!path)
				continue;
			char *dot = strrchr(path, '.');
			char *ppath = dot ? g_strndup(path, (gsize)(dot - path)) : g_strdup("");
			if (g_hash_table_contains(skipped, ppath)) {
				g_hash_table_add(skipped, path);
				g_free(ppath);
				continue;
			}
			wnode *parent = g_hash_table_lookup(by_path, ppath);
			g_free(ppath);
			if (!parent)
				parent = root;
			wnode *n = wnode_new(g_mime_part_iter_get_current(it), path, path_depth(path));
			if (n->depth > w->cfg->max_depth) {
				n->too_deep = true;
				result_add_reason(w->res->reasons, "limit:mime-depth");
				g_hash_table_add(skipped, g_strdup(path));
			}
			g_ptr_array_add(parent->children, n);
			g_hash_table_insert(by_path, n->path, n);
			g_free(path);
		} while (g_mime_part_iter_next(it));
	}
	g_mime_part_iter_free(it);
	g_hash_table_unref(by_path);
	g_hash_table_unref(skipped);
	return root;
}

int walk_message(walk_ctx *w, GMimeMessage *msg)
{
	wnode *root = build_tree(w, msg);
	if (msg->mime_part)
		render(w, root, 0, true);
	wnode_free(root);
	return 0;
}

int walk_export_part(GMimeMessage *msg, const char *path, int out_fd)
{
	GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(msg));
	int rc = 1;
	if (g_mime_part_iter_is_valid(it)) {
		do {
			char *p = iter_path(it);
			bool match = p && strcmp(p, path) == 0;
			g_free(p);
			if (!match)
				continue;
			GMimeObject *obj = g_mime_part_iter_get_current(it);
			if (GMIME_IS_PART(obj))
				rc = decode_part(NULL, GMIME_PART(obj), NULL, NULL, out_fd);
			else if (GMIME_IS_MESSAGE_PART(obj)) {
				GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
				GMimeStream *fs = g_mime_stream_fs_new(dup(out_fd));
				rc = (m && g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, fs) >= 0) ? 0 : -EIO;
				g_mime_stream_flush(fs);
				g_object_unref(fs);
			} else {
				rc = 1;  /* a container has no bytes of its own */
			}
			break;
		} while (g_mime_part_iter_next(it));
	}
	g_mime_part_iter_free(it);
	return rc;
}
