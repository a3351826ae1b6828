/* pdf.c - active content and encryption in a PDF, by a keyword scan.
 *
 * Why a scan and not qpdf: qpdf's C API (qpdf-c.h, 11.3 in Debian 12)
 * reaches objects only through the trailer, the pages or an object number,
 * and has nothing that lists every object; and a parser that repairs a
 * broken file the way qpdf does still differs from Acrobat's and pdf.js's
 * repairs, which is where hidden objects live.  A scan in the manner of
 * pdfid sees every name in the file, reachable or not, so what it misses is
 * only what no reader can see either.
 *
 * What it does: every name token (/Name, with #XX escapes decoded, so
 * /J#61vaScript is /JavaScript) in the raw bytes is compared with the keys
 * /JavaScript, /JS, /OpenAction, /AA, /Launch, /EmbeddedFile(s), /EF,
 * /RichMedia and /XFA ("pdf-active", the keys listed in the finding) and
 * /Encrypt ("encrypted").  Stream data is skipped (compressed bytes and
 * images would match keys by chance), except object streams, which hold
 * objects: a stream whose object has /ObjStm or /First is inflated (zlib,
 * bounded by lim.pdf_inflated for the whole file) and scanned in turn.  A
 * "stream" keyword whose data would hold "endobj" or another ">> stream" is
 * not taken as a stream (a string that says "stream" must not hide the
 * objects after it).  An object stream that does not inflate is
 * "document-unreadable" unless the file is encrypted anyway.
 *
 * /OpenAction is common and harmless as a destination ("open at page 1,
 * fit width"): an array, a GoTo action, or a reference to either is not
 * counted; any other value is.
 *
 * /Encrypt with an empty user password (an "owner password" that only
 * restricts printing or editing, common in Japanese public documents) is
 * no secret: every reader opens it.  qpdf, asked only to decrypt, writes
 * the file out without encryption and without object streams, and the
 * scan runs again over that ("pdf-owner-password", informational).  Any
 * other encryption stays "encrypted": what it holds cannot be inspected.
 */
#include "sanitize/inspect-private.h"
#include <qpdf/qpdf-c.h>
#include "sanitize/result.h"
#include <stdio.h>
#include <string.h>
#include <zlib.h>

enum pdf_key {
	K_JAVASCRIPT, K_JS, K_OPENACTION, K_AA, K_LAUNCH, K_EMBEDDEDFILE, K_RICHMEDIA, K_XFA, K_COUNT
};
static const char *const key_shown[K_COUNT] = {
	"/JavaScript", "/JS", "/OpenAction", "/AA", "/Launch", "/EmbeddedFile", "/RichMedia", "/XFA",
};

#define MAX_REFS 16

typedef struct objref {
	int64_t num, gen;
} objref;

typedef struct objloc {
	int64_t num;
	guint buf;     /* index in objstms */
	size_t off;
} objloc;

typedef struct pdf {
	inspect_ctx *c;
	const unsigned char *raw;
	size_t rawlen;
	unsigned found;          /* 1 << key */
	bool encrypted;
	const char *unreadable;  /* why an object stream could not be read */
	int64_t inflated;
	GPtrArray *objstms;      /* GByteArray *: inflated object streams */
	GArray *objtab;          /* objloc, from object stream headers */
	GArray *refs;            /* objref: /OpenAction values to resolve */
	unsigned open_actions;   /* /OpenAction values looked at */
} pdf;

/* Per object, in the raw bytes: what its dictionary said so far. */
typedef struct objstate {
	bool objstm;
	int64_t first;
	int64_t n;
} objstate;

static bool is_ws(unsigned char ch)
{
	return ch == 0 || ch == '\t' || ch == '\n' || ch == '\f' || ch == '\r' || ch == ' ';
}

static bool is_delim(unsigned char ch)
{
	return is_ws(ch) || ch == '(' || ch == ')' || ch == '<' || ch == '>' || ch == '[' ||
	       ch == ']' || ch == '{' || ch == '}' || ch == '/' || ch == '%';
}

static int hexval(unsigned char ch)
{
	return g_ascii_xdigit_value((char)ch);
}

/* The name whose first character is at P[I] (after the '/'), #XX decoded,
 * into OUT (NUL-terminated, *too_long when cut).  Returns its end. */
static size_t read_name(const unsigned char *p, size_t len, size_t i, char *out, size_t outsz, bool *too_long)
{
	size_t k = 0;
	*too_long = false;
	while (i < len && !is_delim(p[i])) {
		unsigned char ch = p[i];
		if (ch == '#' && i + 2 < len && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
			ch = (unsigned char)(hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
			i += 3;
		} else {
			i++;
		}
		if (k + 1 < outsz)
			out[k++] = (char)ch;
		else
			*too_long = true;
	}
	out[k] = '\0';
	return i;
}

static size_t skip_ws(const unsigned char *p, size_t len, size_t i)
{
	while (i < len) {
		if (is_ws(p[i])) {
			i++;
		} else if (p[i] == '%') {
			while (i < len && p[i] != '\n' && p[i] != '\r')
				i++;
		} else {
			break;
		}
	}
	return i;
}

/* A non-negative integer at P[I]; its end, or I when none. */
static size_t read_int(const unsigned char *p, size_t len, size_t i, int64_t *v)
{
	size_t j = i;
	int64_t x = 0;
	while (j < len && g_ascii_isdigit(p[j]) && j - i < 18)
		x = x * 10 + (p[j++] - '0');
	*v = x;
	return (j < len && g_ascii_isdigit(p[j])) ? i : j;
}

/* KW at P[I] as a keyword: delimiters (or the ends) on both sides. */
static bool keyword_at(const unsigned char *p, size_t len, size_t i, const char *kw)
{
	size_t n = strlen(kw);
	return i + n <= len && memcmp(p + i, kw, n) == 0 && (i == 0 || is_delim(p[i - 1])) &&
	       (i + n == len || is_delim(p[i + n]));
}

enum value { V_BENIGN, V_ACTIVE, V_REF };

/* Skip the literal string whose '(' is at P[I]; its end. */
static size_t skip_string(const unsigned char *p, size_t len, size_t i)
{
	int depth = 0;
	for (; i < len; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

/* What the /OpenAction value at P[I] does: a destination array or a GoTo
 * action is benign, a reference is resolved later, the rest is active. */
static enum value action_value(const unsigned char *p, size_t len, size_t i, objref *ref)
{
	i = skip_ws(p, len, i);
	if (i >= len)
		return V_ACTIVE;
	if (p[i] == '[')
		return V_BENIGN;
	if (g_ascii_isdigit(p[i])) {
		size_t j = read_int(p, len, i, &ref->num);
		size_t k = skip_ws(p, len, j);
		size_t l = read_int(p, len, k, &ref->gen);
		size_t m = skip_ws(p, len, l);
		if (j > i && k > j && l > k && m > l && m < len && p[m] == 'R')
			return V_REF;
		return V_ACTIVE;
	}
	if (p[i] != '<' || i + 1 >= len || p[i + 1] != '<')
		return V_ACTIVE;
	/* a dictionary: look for /S at its own level, for 64 KiB at most */
	size_t end = MIN(len, i + 65536);
	int depth = 0;
	bool goto_action = false, other = false;
	for (size_t j = i; j < end;) {
		if (p[j] == '<' && j + 1 < end && p[j + 1] == '<') {
			depth++;
			j += 2;
		} else if (p[j] == '>' && j + 1 < end && p[j + 1] == '>') {
			j += 2;
			if (--depth == 0)
				break;
		} else if (p[j] == '(') {
			j = skip_string(p, end, j);
		} else if (p[j] == '/' && depth == 1) {
			char nm[32];
			bool lng;
			size_t e = read_name(p, end, j + 1, nm, sizeof nm, &lng);
			if (!lng && strcmp(nm, "S") == 0) {
				size_t v = skip_ws(p, end, e);
				char val[32];
				if (v < end && p[v] == '/') {
					e = read_name(p, end, v + 1, val, sizeof val, &lng);
					if (strcmp(val, "GoTo") == 0)
						goto_action = true;
					else
						other = true;
				} else {
					other = true;
				}
			}
			j = MAX(e, j + 1);
		} else {
			j++;
		}
	}
	return goto_action && !other ? V_BENIGN : V_ACTIVE;
}

static void found_key(pdf *d, enum pdf_key k)
{
	d->found |= 1u << k;
}

/* One name token seen at P[END] (just after it). */
static void on_name(pdf *d, objstate *st, const char *nm, const unsigned char *p, size_t len, size_t end)
{
	static const struct { const char *name; enum pdf_key key; } keys[] = {
		{ "JavaScript", K_JAVASCRIPT }, { "JS", K_JS }, { "AA", K_AA }, { "Launch", K_LAUNCH },
		{ "EmbeddedFile", K_EMBEDDEDFILE }, { "EmbeddedFiles", K_EMBEDDEDFILE },
		{ "EF", K_EMBEDDEDFILE }, { "RichMedia", K_RICHMEDIA }, { "XFA", K_XFA },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++)
		if (strcmp(nm, keys[i].name) == 0) {
			found_key(d, keys[i].key);
			return;
		}
	if (strcmp(nm, "Encrypt") == 0) {
		d->encrypted = true;
	} else if (strcmp(nm, "OpenAction") == 0) {
		/* a document has one catalog: more than a few values are no
		 * accident, and each may cost a 64 KiB look ahead */
		if (d->found & (1u << K_OPENACTION))
			return;
		if (++d->open_actions > MAX_REFS) {
			found_key(d, K_OPENACTION);
			return;
		}
		objref ref = { 0, 0 };
		enum value v = action_value(p, len, end, &ref);
		if (v == V_ACTIVE)
			found_key(d, K_OPENACTION);
		else if (v == V_REF && d->refs->len < MAX_REFS)
			g_array_append_val(d->refs, ref);
		else if (v == V_REF)
			found_key(d, K_OPENACTION);
	} else if (st && (strcmp(nm, "ObjStm") == 0 || strcmp(nm, "First") == 0)) {
		st->objstm = true;
		if (strcmp(nm, "First") == 0)
			read_int(p, len, skip_ws(p, len, end), &st->first);
	} else if (st && strcmp(nm, "N") == 0) {
		read_int(p, len, skip_ws(p, len, end), &st->n);
	}
}

/* Memoised "first occurrence of NEEDLE at or after POS" for positions that
 * only grow, so a file full of "stream" keywords stays linear. */
typedef struct finder {
	const unsigned char *p;
	size_t len;
	const char *needle;
	size_t from, at;
	bool valid;
} finder;

static size_t find_from(finder *f, size_t pos)
{
	if (f->valid && pos >= f->from && pos <= f->at)
		return f->at;
	const unsigned char *q = pos < f->len ? memmem(f->p + pos, f->len - pos, f->needle, strlen(f->needle)) : NULL;
	f->from = pos;
	f->at = q ? (size_t)(q - f->p) : f->len;
	f->valid = true;
	return f->at;
}

/* First "stream" keyword at or after POS that follows ">>", as a stream
 * dictionary's end does; memoised like find_from, so that a run of
 * "stream" words that follow no ">>" is walked once, not once per
 * candidate. */
typedef struct dict_finder {
	finder words;
	size_t from, at;
	bool valid;
} dict_finder;

static size_t find_dict_stream(dict_finder *f, size_t pos)
{
	if (f->valid && pos >= f->from && pos <= f->at)
		return f->at;
	f->from = pos;
	f->valid = true;
	const unsigned char *p = f->words.p;
	for (;;) {
		size_t at = find_from(&f->words, pos);
		if (at >= f->words.len)
			return f->at = at;
		size_t k = at;
		while (k > 0 && is_ws(p[k - 1]))
			k--;
		if (k >= 2 && p[k - 1] == '>' && p[k - 2] == '>')
			return f->at = at;
		pos = at + 1;
	}
}

static void scan(pdf *d, const unsigned char *p, size_t len, bool raw);

/* Inflate an object stream's data and scan the objects in it. */
static void object_stream(pdf *d, const objstate *st, const unsigned char *data, size_t len)
{
	int64_t budget = d->c->lim.pdf_inflated - d->inflated;
	if (budget <= 0) {
		d->unreadable = "object streams inflate beyond the limit";
		return;
	}
	GByteArray *out = g_byte_array_new();
	unsigned char buf[16384];
	bool over = false;
	/* a zlib stream; some writers emit bare deflate data, which readers accept */
	for (int attempt = 0; attempt < 2 && out->len == 0; attempt++) {
		z_stream z = { 0 };
		if (inflateInit2(&z, attempt == 0 ? 15 : -15) != Z_OK)
			break;
		z.next_in = (Bytef *)data;
		z.avail_in = (uInt)MIN(len, (size_t)UINT32_MAX);
		int r;
		do {
			z.next_out = buf;
			z.avail_out = sizeof buf;
			r = inflate(&z, Z_NO_FLUSH);
			size_t got = sizeof buf - z.avail_out;
			if ((int64_t)(out->len + got) > budget) {
				got = (size_t)(budget - out->len);
				over = true;
			}
			g_byte_array_append(out, buf, (guint)got);
		} while (r == Z_OK && !over && z.avail_out == 0);
		/* Z_BUF_ERROR with output space left: input ended early.
		 * What inflated before an error is kept, as readers keep it. */
		inflateEnd(&z);
	}
	d->inflated += out->len;
	if (over)
		d->unreadable = "object streams inflate beyond the limit";
	if (out->len == 0) {
		if (!d->unreadable)
			d->unreadable = "an object stream cannot be inflated";
		g_byte_array_unref(out);
		return;
	}
	/* the header: N pairs "object-number offset", offsets from /First */
	guint idx = d->objstms->len;
	g_ptr_array_add(d->objstms, out);
	size_t i = 0;
	for (int64_t k = 0; k < MIN(st->n, (int64_t)100000); k++) {
		objloc loc = { .buf = idx };
		int64_t off;
		i = skip_ws(out->data, out->len, i);
		size_t j = read_int(out->data, out->len, i, &loc.num);
		size_t l = skip_ws(out->data, out->len, j);
		size_t m = read_int(out->data, out->len, l, &off);
		if (j == i || m == l)
			break;
		i = m;
		if (st->first >= 0 && off >= 0 && st->first + off < (int64_t)out->len) {
			loc.off = (size_t)(st->first + off);
			g_array_append_val(d->objtab, loc);
		}
	}
	scan(d, out->data, out->len, false);
}

static void scan(pdf *d, const unsigned char *p, size_t len, bool raw)
{
	objstate st = { .first = -1 };
	finder endstream = { .p = p, .len = len, .needle = "endstream" };
	finder endobj = { .p = p, .len = len, .needle = "endobj" };
	dict_finder stream = { .words = { .p = p, .len = len, .needle = "stream" } };
	for (size_t i = 0; i < len;) {
		unsigned char ch = p[i];
		if (ch == '/') {
			char nm[64];
			bool lng;
			size_t end = read_name(p, len, i + 1, nm, sizeof nm, &lng);
			if (!lng)
				on_name(d, raw ? &st : NULL, nm, p, len, end);
			i = MAX(end, i + 1);
		} else if (raw && ch == 's' && keyword_at(p, len, i, "stream")) {
			size_t j = i + 6;
			if (j < len && p[j] == '\r')
				j++;
			if (j < len && p[j] == '\n')
				j++;
			size_t end = find_from(&endstream, j);
			if (find_from(&endobj, j) < end || find_dict_stream(&stream, j) < end) {
				i += 6;  /* no stream: whatever follows is objects */
				continue;
			}
			if (st.objstm)
				object_stream(d, &st, p + j, end - j);
			st = (objstate){ .first = -1 };
			i = end + 9;
		} else if (raw && (ch == 'o' || ch == 'e') && (keyword_at(p, len, i, "obj") || keyword_at(p, len, i, "endobj"))) {
			st = (objstate){ .first = -1 };
			i += ch == 'o' ? 3 : 6;
		} else {
			i++;
		}
	}
}

/* Does object REF, wherever it is defined, open benignly? */
static bool ref_benign(pdf *d, const objref *ref)
{
	bool seen = false;
	objref dummy;
	/* definitions in the raw bytes: "num gen obj" */
	const unsigned char *p = d->raw;
	size_t len = d->rawlen;
	for (size_t i = 0; i + 3 <= len;) {
		const unsigned char *q = memmem(p + i, len - i, "obj", 3);
		if (!q)
			break;
		size_t at = (size_t)(q - p);
		i = at + 3;
		if (!keyword_at(p, len, at, "obj"))
			continue;
		/* walk back over "gen" and "num" */
		size_t k = at;
		while (k > 0 && is_ws(p[k - 1]))
			k--;
		size_t ge = k;
		while (k > 0 && g_ascii_isdigit(p[k - 1]))
			k--;
		size_t gs = k;
		while (k > 0 && is_ws(p[k - 1]))
			k--;
		size_t ne = k;
		while (k > 0 && g_ascii_isdigit(p[k - 1]))
			k--;
		int64_t num, gen;
		if (gs == ge || k == ne || ne == gs || read_int(p, len, k, &num) != ne ||
		    read_int(p, len, gs, &gen) != ge || num != ref->num || gen != ref->gen)
			continue;
		seen = true;
		if (action_value(p, len, at + 3, &dummy) != V_BENIGN)
			return false;
	}
	/* definitions in object streams (generation 0) */
	for (guint i = 0; ref->gen == 0 && i < d->objtab->len; i++) {
		objloc *loc = &g_array_index(d->objtab, objloc, i);
		if (loc->num != ref->num)
			continue;
		GByteArray *b = g_ptr_array_index(d->objstms, loc->buf);
		seen = true;
		if (action_value(b->data, b->len, loc->off, &dummy) != V_BENIGN)
			return false;
	}
	return seen;
}

/* The scan of DATA into *D (which the caller clears with pdf_clear). */
static void pdf_run(pdf *d, inspect_ctx *c, const unsigned char *data, size_t len)
{
	*d = (pdf){
		.c = c, .raw = data, .rawlen = len,
		.objstms = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref),
		.objtab = g_array_new(FALSE, FALSE, sizeof(objloc)),
		.refs = g_array_new(FALSE, FALSE, sizeof(objref)),
	};
	scan(d, data, len, true);
	for (guint i = 0; i < d->refs->len && !(d->found & (1u << K_OPENACTION)); i++)
		if (!ref_benign(d, &g_array_index(d->refs, objref, i)))
			found_key(d, K_OPENACTION);
}

static void pdf_clear(pdf *d)
{
	g_ptr_array_unref(d->objstms);
	g_array_unref(d->objtab);
	g_array_unref(d->refs);
}

/* DATA decrypted by qpdf when it opens with the empty user password, its
 * objects out of object streams; NULL (and *WHY) when it needs a password,
 * qpdf cannot read it, or it is larger than LIMIT. */
static GByteArray *decrypt_owner_only(const unsigned char *data, size_t len, int64_t limit,
                                      const char **why)
{
	if ((int64_t)len > limit) {
		*why = "larger than [detect] pdf_inflated";
		return NULL;
	}
	qpdf_data q = qpdf_init();
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	GByteArray *out = NULL;
	if (qpdf_read_memory(q, "attachment", (const char *)data, len, "") & QPDF_ERRORS) {
		qpdf_error e = qpdf_get_error(q);
		*why = e && qpdf_get_error_code(q, e) == qpdf_e_password ? "a password is needed to open it"
		                                                          : "qpdf cannot read it";
	} else {
		qpdf_init_write_memory(q);
		qpdf_set_preserve_encryption(q, QPDF_FALSE);
		qpdf_set_object_stream_mode(q, qpdf_o_disable);
		qpdf_set_stream_data_mode(q, qpdf_s_preserve);
		if (qpdf_write(q) & QPDF_ERRORS) {
			*why = "qpdf cannot decrypt it";
		} else {
			size_t n = qpdf_get_buffer_length(q);
			out = g_byte_array_sized_new((guint)n);
			g_byte_array_append(out, qpdf_get_buffer(q), (guint)n);
		}
	}
	qpdf_cleanup(&q);
	return out;
}

void pdf_scan(inspect_ctx *c, const unsigned char *data, size_t len, GPtrArray *reasons)
{
	pdf d;
	pdf_run(&d, c, data, len);
	GByteArray *plain = NULL;
	const char *why = NULL;
	if (d.encrypted && (plain = decrypt_owner_only(data, len, c->lim.pdf_inflated, &why))) {
		/* what every reader shows: the keys found in the raw bytes stay */
		pdf p;
		pdf_run(&p, c, plain->data, plain->len);
		d.found |= p.found;
		d.encrypted = p.encrypted;
		d.unreadable = p.unreadable;
		pdf_clear(&p);
		result_add_reason(reasons, "pdf-owner-password");
		inspect_finding(c, "pdf-owner-password", "opens without a password; inspected decrypted");
	} else if (d.encrypted && why) {
		inspect_finding(c, "encrypted", why);
	}
	if (d.found) {
		GString *keys = g_string_new(NULL);
		for (int k = 0; k < K_COUNT; k++)
			if (d.found & (1u << k))
				g_string_append_printf(keys, "%s%s", keys->len ? " " : "", key_shown[k]);
		result_add_reason(reasons, "pdf-active");
		inspect_finding(c, "pdf-active", keys->str);
		g_string_free(keys, TRUE);
	}
	if (d.encrypted) {
		result_add_reason(reasons, "encrypted");
	} else if (d.unreadable) {
		/* encrypted object streams do not inflate: that is the
		 * encryption, said already */
		result_add_reason(reasons, "document-unreadable");
		inspect_finding(c, "document-unreadable", d.unreadable);
	}
	pdf_clear(&d);
	if (plain)
		g_byte_array_unref(plain);
}
