/* rawlook.c - the raw bytes against GMime's tree (see rawlook.h).
 *
 * Two steps.  GMime's view first: the boundary of every multipart (what it
 * split on), the byte range of every leaf's content in the original, the
 * headers of every object.  Then one pass over the original, line by line
 * -- LF, CRLF and a lone CR all end a line, since some clients (and
 * Python's email) take a lone CR as one -- looking only at what a lenient
 * parser acts on: lines that start with "--", Content-* header lines
 * inside bodies, and "boundary=" declarations anywhere outside base64
 * bodies.  Boundaries sit in a trie of their lower-case bytes, so a line
 * costs its length whatever the number of boundaries, and the pass is
 * linear in the message: no quadratic case with many boundaries, long
 * lines or many parts.  What a hostile message can make it keep is capped
 * (TRIE_MAX, DECL_MAX, VALUE_MAX); going past a cap is a finding itself.
 *
 * Findings (verdict.c has the rows):
 *   boundary-mismatch  a line a lenient client takes as a boundary and GMime
 *                      did not split on (other case, junk or blanks after
 *                      it, "-- B", a declared boundary GMime did not use, a
 *                      used one inside a body), a boundary reused by a
 *                      nested multipart, an empty or RFC 2231 boundary, a
 *                      multipart GMime never split;
 *   mime-in-body       Content-* header lines in a body where a client that
 *                      resynchronises on them starts a part (see body_header);
 *   folded-header      a Content-* header inside another header's value
 *                      (a folded line, or after a lone CR);
 *   unknown-encoding   a Content-Transfer-Encoding GMime does not know,
 *                      whose bytes it therefore took undecoded;
 *   parse-warning:crit-conflicting-header on a leaf with two different
 *                      Content-Type, -Transfer-Encoding or -Disposition
 *                      (GMime reported it for the message; this marks the leaf).
 * It never builds parts.  The original is read into memory only when it
 * was not mapped, and only for the pass; rawlook_free() releases the rest.
 */
#include "sanitize/rawlook.h"
#include "sanitize/result.h"
#include "util/fdio.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define TRIE_MAX 65536   /* nodes: 64 KiB of distinct boundary text, far beyond real mail */
#define DECL_MAX 4096    /* "boundary=" declarations looked at (real mail: a handful) */
#define VALUE_MAX 256    /* bytes of a declared value kept (RFC 2046: 70) */

enum { T_DECLARED = 1, T_USED = 2 };

typedef struct leaf {
	uint64_t start, end;     /* content bytes in the original */
	GMimeObject *obj;        /* borrowed from the message */
	bool base64;             /* no declaration is looked for in it: '=' is only padding */
	bool header_body;        /* text/rfc822-headers and message types: header lines by design */
} leaf;

typedef struct span {
	char *p;
	size_t n;
} span;

struct rawlook {
	GPtrArray *reasons;      /* the message's, borrowed */
	GArray *leaves;          /* leaf, sorted by start */
	GHashTable *used;        /* span * (owned) -> itself: the boundaries GMime split on */
	GHashTable *marks;       /* GMimeObject * -> GPtrArray * of reasons */
	GHashTable *edges;       /* trie: ((node << 8) | byte) + 1 -> child node */
	GByteArray *term;        /* trie: T_* of each node; node 0 is the root */
	bool trie_full;
	unsigned declared;       /* "boundary=" declarations seen */
	bool decl_full;          /* more than DECL_MAX of them */
};

/* ---- reasons ---- */

static void mark(rawlook *rl, GMimeObject *leaf, const char *reason, bool message)
{
	if (message)
		result_add_reason(rl->reasons, reason);
	if (!leaf)
		return;
	GPtrArray *a = g_hash_table_lookup(rl->marks, leaf);
	if (!a) {
		a = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(rl->marks, leaf, a);
	}
	result_add_reason(a, reason);
}

/* ---- boundaries: the exact set GMime used, and a case-folded trie ---- */

static guint span_hash(gconstpointer k)
{
	const span *s = k;
	guint32 h = 2166136261u;
	for (size_t i = 0; i < s->n; i++)
		h = (h ^ (unsigned char)s->p[i]) * 16777619u;
	return h;
}

static gboolean span_equal(gconstpointer a, gconstpointer b)
{
	const span *x = a, *y = b;
	return x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
}

static void span_free(gpointer k)
{
	span *s = k;
	g_free(s->p);
	g_free(s);
}

static bool is_used(const rawlook *rl, const unsigned char *s, size_t n)
{
	span key = { (char *)s, n };
	return g_hash_table_contains(rl->used, &key);
}

static void trie_add(rawlook *rl, const char *b, size_t n, guint8 flag)
{
	guint node = 0;
	if (n == 0 || rl->trie_full)
		return;
	for (size_t i = 0; i < n; i++) {
		gpointer key = GUINT_TO_POINTER(((node << 8) | (guint8)g_ascii_tolower(b[i])) + 1);
		gpointer child = g_hash_table_lookup(rl->edges, key);
		if (!child) {
			if (rl->term->len >= TRIE_MAX) {
				rl->trie_full = true;
				return;
			}
			guint8 zero = 0;
			g_byte_array_append(rl->term, &zero, 1);
			child = GUINT_TO_POINTER(rl->term->len - 1);
			g_hash_table_insert(rl->edges, key, child);
		}
		node = GPOINTER_TO_UINT(child);
	}
	rl->term->data[node] |= flag;
}

/* Is some boundary, in any case, a prefix of S (or S itself)? */
static bool trie_prefix(const rawlook *rl, const unsigned char *s, size_t n)
{
	guint node = 0;
	for (size_t i = 0; i < n; i++) {
		gpointer child = g_hash_table_lookup(rl->edges,
		                                     GUINT_TO_POINTER(((node << 8) | (guint8)g_ascii_tolower(s[i])) + 1));
		if (!child)
			return false;
		node = GPOINTER_TO_UINT(child);
		if (rl->term->data[node])
			return true;
	}
	return false;
}

static void add_used(rawlook *rl, const char *b)
{
	span *s = g_new(span, 1);
	s->n = strlen(b);
	s->p = g_strndup(b, s->n);
	g_hash_table_add(rl->used, s);   /* a second one replaces the first */
	trie_add(rl, b, strlen(b), T_USED);
}

/* ---- headers ---- */

static bool mime_name(const unsigned char *s, size_t n)
{
	static const char *const names[] = { "content-type", "content-transfer-encoding", "content-disposition" };
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (n == strlen(names[i]) && g_ascii_strncasecmp((const char *)s, names[i], n) == 0)
			return true;
	return false;
}

/* Does a Content-* header start S (NUL-terminated): the name, blanks, a
 * colon and a value of that header's kind?  The value matters: a folded
 * DKIM or ARC "h=" list reads "Content-Type:Content-Transfer-Encoding:...",
 * which no parser takes for a type. */
static bool mime_header_at(const char *s)
{
	size_t n = strcspn(s, ": \t\r\n");
	const char *c = s + n;
	while (*c == ' ' || *c == '\t')
		c++;
	if (*c != ':' || !mime_name((const unsigned char *)s, n))
		return false;
	c++;
	while (*c == ' ' || *c == '\t')
		c++;
	size_t t = strcspn(c, " \t\r\n;/:\"(");
	if (n == strlen("content-type"))   /* a type/subtype */
		return t > 0 && c[t] == '/';
	if (t == 0 || c[t] == ':' || c[t] == '/')
		return false;
	static const char *const values[] = { "base64", "quoted-printable", "7bit", "8bit", "binary", "uuencode",
	                                      "x-uuencode", "x-uue", "inline", "attachment" };
	for (size_t i = 0; i < G_N_ELEMENTS(values); i++)
		if (t == strlen(values[i]) && g_ascii_strncasecmp(c, values[i], t) == 0)
			return true;
	return false;
}

/* A raw header value hiding a Content-* header: on a folded line, or after
 * a lone CR (a line end to some parsers, part of the value to GMime). */
static bool hides_mime_header(const char *v)
{
	for (const char *p = v; (p = strpbrk(p, "\r\n")); p++) {
		if (p[0] == '\r' && p[1] == '\n')
			continue;   /* the '\n' decides */
		const char *q = p + 1;
		if (*p == '\n' && *q != ' ' && *q != '\t')
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (mime_header_at(q))
			return true;
	}
	return false;
}

/* Headers of OBJ.  A Content-* header hidden in a value marks TARGET (the
 * leaf whose reading it would change) or only the message.  With CHECK_DUP,
 * OBJ is a leaf: two different values of one Content-* header mark it. */
static void look_headers(rawlook *rl, GMimeObject *obj, GMimeObject *target, bool check_dup)
{
	static const char *const names[] = { "Content-Type", "Content-Transfer-Encoding", "Content-Disposition" };
	const char *first[G_N_ELEMENTS(names)] = { NULL };
	GMimeHeaderList *l = g_mime_object_get_header_list(obj);
	int n = l ? g_mime_header_list_get_count(l) : 0;
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(l, i);
		const char *name = g_mime_header_get_name(h), *raw = g_mime_header_get_raw_value(h);
		if (!raw)
			raw = "";
		if (hides_mime_header(raw))
			mark(rl, target, "folded-header", true);
		for (size_t k = 0; check_dup && name && k < G_N_ELEMENTS(names); k++) {
			if (g_ascii_strcasecmp(name, names[k]) != 0)
				continue;
			if (!first[k])
				first[k] = raw;
			else if (strcmp(first[k], raw) != 0)  /* GMime's own test for crit-conflicting-header */
				mark(rl, obj, "parse-warning:crit-conflicting-header", true);
		}
	}
}

/* ---- GMime's view ---- */

static int add_leaf(rawlook *rl, GMimePart *part, uint64_t size)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	look_headers(rl, obj, obj, true);

	/* A Content-Transfer-Encoding GMime does not know is taken as raw bytes;
	 * a lenient client may still decode them (as "base64;" or "base-64"). */
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *cte = hl ? g_mime_header_list_get_header(hl, "Content-Transfer-Encoding") : NULL;
	const char *cv = cte ? g_mime_header_get_raw_value(cte) : NULL;
	GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
	if (cv && cv[strspn(cv, " \t\r\n")] && enc == GMIME_CONTENT_ENCODING_DEFAULT)
		mark(rl, obj, "unknown-encoding", false);

	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *s = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	if (!s)
		return 0;   /* no content: nothing can hide in it */
	/* The parser persists content as substreams of the original, so their
	 * bounds are offsets in it; anything else would misplace every finding. */
	gint64 len = g_mime_stream_length(s);
	if (!s->super_stream || g_mime_stream_reset(s) < 0)
		return -EIO;
	gint64 start = g_mime_stream_tell(s);
	if (start < 0 || len < 0 || (uint64_t)start > size || (uint64_t)len > size - (uint64_t)start)
		return -EIO;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	leaf lf = {
		.start = (uint64_t)start, .end = (uint64_t)(start + len), .obj = obj,
		.base64 = enc == GMIME_CONTENT_ENCODING_BASE64,
		.header_body = ct && (g_mime_content_type_is_type(ct, "message", "*") ||
		                      g_mime_content_type_is_type(ct, "text", "rfc822-headers")),
	};
	g_array_append_val(rl->leaves, lf);
	return 0;
}

static int look_object(rawlook *rl, GMimeObject *obj, GHashTable *open, uint64_t size);

static int look_message(rawlook *rl, GMimeMessage *m, GHashTable *open, uint64_t size)
{
	/* a Content-* header hidden in, say, the Subject changes how a client
	 * reads the body when that body is a single leaf */
	GMimeObject *body = m->mime_part;
	look_headers(rl, GMIME_OBJECT(m), body && GMIME_IS_PART(body) ? body : NULL, false);
	return body ? look_object(rl, body, open, size) : 0;
}

static int look_object(rawlook *rl, GMimeObject *obj, GHashTable *open, uint64_t size)
{
	if (GMIME_IS_MESSAGE_PART(obj)) {
		look_headers(rl, obj, NULL, false);
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		return m ? look_message(rl, m, open, size) : 0;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		look_headers(rl, obj, NULL, false);
		const char *b = g_mime_object_get_content_type_parameter(obj, "boundary");
		if (!b)
			return 0;   /* crit-multipart-without-boundary: all of it is prologue */
		int count = g_mime_multipart_get_count(mp);
		/* an empty boundary makes every "--" line one; one an enclosing
		 * multipart already uses is read differently by parsers that check
		 * the innermost or the outermost first; a multipart without a
		 * single part never saw its boundary */
		guint outer = GPOINTER_TO_UINT(g_hash_table_lookup(open, b));
		if (!*b || outer || count == 0)
			mark(rl, NULL, "boundary-mismatch", true);
		add_used(rl, b);
		g_hash_table_insert(open, (gpointer)b, GUINT_TO_POINTER(outer + 1));
		int rc = 0;
		for (int i = 0; i < count && rc == 0; i++)
			rc = look_object(rl, g_mime_multipart_get_part(mp, i), open, size);
		if (outer)
			g_hash_table_insert(open, (gpointer)b, GUINT_TO_POINTER(outer));
		else
			g_hash_table_remove(open, b);
		return rc;
	}
	if (GMIME_IS_PART(obj))
		return add_leaf(rl, GMIME_PART(obj), size);
	return 0;
}

/* ---- the pass over the raw bytes ---- */

/* A line starting with "--", S what follows it (N bytes, line end
 * excluded), IN the leaf it lies in or NULL. */
static void dash_line(rawlook *rl, const unsigned char *s, size_t n, GMimeObject *in)
{
	size_t t = n;
	while (t > 0 && (s[t - 1] == ' ' || s[t - 1] == '\t'))
		t--;
	if (is_used(rl, s, t) || (t >= 2 && s[t - 2] == '-' && s[t - 1] == '-' && is_used(rl, s, t - 2))) {
		/* GMime splits on it wherever it is an enclosing boundary, so inside
		 * a leaf it is one GMime did not take; blanks after it are a
		 * boundary to GMime and Python and not to stricter parsers */
		if (in || t != n)
			mark(rl, in, "boundary-mismatch", true);
		return;
	}
	/* another case, junk after it, or a declared boundary GMime never used;
	 * "-- B" too, for parsers that skip the blanks */
	size_t b = 0;
	while (b < t && (s[b] == ' ' || s[b] == '\t'))
		b++;
	if (trie_prefix(rl, s + b, t - b) || (b && is_used(rl, s + b, t - b)))
		mark(rl, in, "boundary-mismatch", true);
}

/* A header line (NAME: ... or a folded continuation)?  *MIME when it is a
 * Content-Type, -Transfer-Encoding or -Disposition field. */
static bool header_line(const unsigned char *s, size_t n, bool *mime)
{
	*mime = false;
	if (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
		for (size_t i = 1; i < n; i++)
			if (s[i] != ' ' && s[i] != '\t')
				return true;
		return false;
	}
	if (!memchr(s, ':', n))   /* most lines, base64 ones all: no field at all */
		return false;
	size_t i = 0;
	while (i < n && s[i] > ' ' && s[i] < 0x7f && s[i] != ':')
		i++;
	size_t name = i;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (name == 0 || i >= n || s[i] != ':')
		return false;
	*mime = mime_name(s, name);
	return true;
}

static bool name_char(unsigned char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
}

/* A declared value, its first VALUE_MAX bytes: a longer one matches as a
 * prefix, which is a finding anyway. */
static void declare(rawlook *rl, const unsigned char *v, size_t n)
{
	trie_add(rl, (const char *)v, MIN(n, VALUE_MAX), T_DECLARED);
}

/* %XX-decoded, for RFC 2231 values. */
static void declare_pct(rawlook *rl, const unsigned char *v, size_t n)
{
	n = MIN(n, 3 * VALUE_MAX);
	GString *d = g_string_sized_new(n);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '%' && i + 2 < n && g_ascii_isxdigit(v[i + 1]) && g_ascii_isxdigit(v[i + 2])) {
			g_string_append_c(d, (char)(g_ascii_xdigit_value(v[i + 1]) * 16 + g_ascii_xdigit_value(v[i + 2])));
			i += 2;
		} else {
			g_string_append_c(d, (char)v[i]);
		}
	}
	declare(rl, (const unsigned char *)d->str, d->len);
	g_string_free(d, TRUE);
}

/* Every "boundary=" parameter on the line S, in each reading a parser may
 * give it: quoted (unescaped and as written), a token up to a blank or
 * ';', everything up to ';'; RFC 2231 forms ("boundary*=", "boundary*0*=")
 * are a finding themselves and their value is declared %-decoded too. */
static void declarations(rawlook *rl, const unsigned char *s, size_t n)
{
	const unsigned char *end = s + n, *semi = s;
	for (const unsigned char *e = s; !rl->decl_full && (e = memchr(e, '=', (size_t)(end - e))); e++) {
		const unsigned char *k = e;
		while (k > s && (k[-1] == ' ' || k[-1] == '\t'))
			k--;
		/* RFC 2231: "boundary*=" and "boundary*0*=" (%-encoded), "boundary*0=" */
		bool ext = false, section = false;
		if (k > s && k[-1] == '*') {
			k--;
			ext = true;
		}
		const unsigned char *d = k;
		while (k > s && g_ascii_isdigit(k[-1]))
			k--;
		if (k != d) {
			if (!(k > s && k[-1] == '*'))
				continue;   /* "boundary0=": another parameter */
			k--;
			section = true;
		}
		if (k - s < 8 || g_ascii_strncasecmp((const char *)k - 8, "boundary", 8) != 0 ||
		    (k - 8 > s && name_char(k[-9])))
			continue;
		if (++rl->declared > DECL_MAX) {
			/* real mail declares a handful; past this many, checking them all
			 * would cost more than the message is worth: a finding itself */
			rl->decl_full = true;
			mark(rl, NULL, "boundary-mismatch", true);
			return;
		}
		if (ext || section)
			mark(rl, NULL, "boundary-mismatch", true);
		const unsigned char *v = e + 1;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v < end && *v == '"') {
			GString *u = g_string_new(NULL);
			const unsigned char *q = v + 1;
			for (; q < end && *q != '"'; q++) {
				if (*q == '\\' && q + 1 < end)
					q++;
				if (u->len < VALUE_MAX)
					g_string_append_c(u, (char)*q);
			}
			declare(rl, (const unsigned char *)u->str, u->len);
			declare(rl, v + 1, (size_t)(q - v - 1));
			g_string_free(u, TRUE);
			if (q >= end)
				return;
			e = q;   /* on after the closing quote */
			continue;
		}
		const unsigned char *t = v;
		while (t < end && *t != ';' && *t != ' ' && *t != '\t')
			t++;
		if (semi && semi < v)   /* the next ';', found once for all the line's values */
			semi = memchr(v, ';', (size_t)(end - v));
		const unsigned char *all = semi ? semi : end;
		while (all > v && (all[-1] == ' ' || all[-1] == '\t'))
			all--;
		if (ext) {
			/* charset'language'value */
			const unsigned char *q1 = memchr(v, '\'', (size_t)(t - v));
			const unsigned char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(t - q1 - 1)) : NULL;
			if (q2)
				declare_pct(rl, q2 + 1, (size_t)(t - q2 - 1));
			declare_pct(rl, v, (size_t)(t - v));
		}
		declare(rl, v, (size_t)(t - v));
		if (all != t)
			declare(rl, v, (size_t)(all - v));
		if (t >= end)
			return;
		e = t;
	}
}

/* Does the header line S hold a "name" or "filename" parameter? */
static bool names_a_file(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++) {
		if (g_ascii_strncasecmp((const char *)s + i, "name", 4) != 0)
			continue;
		size_t j = i + 4;
		while (j < n && (s[j] == '*' || g_ascii_isdigit(s[j]) || s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < n && s[j] == '=')
			return true;
	}
	return false;
}

/* A Content-Transfer-Encoding line whose value turns text into other bytes
 * (anything but 7bit, 8bit, binary). */
static bool encodes_bytes(const unsigned char *s, size_t n)
{
	const unsigned char *c = memchr(s, ':', n), *end = s + n;
	if (!c)
		return false;
	for (c++; c < end && (*c == ' ' || *c == '\t'); c++)
		;
	size_t t = 0;
	while (c + t < end && c[t] != ' ' && c[t] != '\t' && c[t] != ';')
		t++;
	static const char *const plain[] = { "7bit", "8bit", "7-bit", "8-bit", "binary" };
	for (size_t i = 0; i < G_N_ELEMENTS(plain); i++)
		if (t == strlen(plain[i]) && g_ascii_strncasecmp((const char *)c, plain[i], t) == 0)
			return false;
	return true;
}

typedef struct scan_state {
	guint leaf;        /* index of the leaf of the previous line, or G_MAXUINT */
	bool part_start;   /* header lines here start a part: the body's first lines, or after "--X" */
	bool file_header;  /* the header line being continued is a Content-Type or -Disposition */
} scan_state;

/* Header lines inside a leaf.  A client that resynchronises on them (ripmime
 * does on any Content-* line) starts a part there: at the body's start or
 * right after a "--" line any Content-* header is a finding; anywhere else
 * one that makes a file (a name or filename) or decodes bytes (a
 * Content-Transfer-Encoding other than 7bit, 8bit, binary) -- a plain
 * "Content-Type: text/html" quoted in a text hides nothing. */
static void body_header(rawlook *rl, const leaf *in, const unsigned char *s, size_t n, scan_state *st)
{
	bool mime;
	if (!header_line(s, n, &mime)) {
		st->part_start = st->file_header = false;
		return;
	}
	if (s[0] == ' ' || s[0] == '\t') {   /* a folded line of the header before */
		if (st->file_header && !in->header_body && names_a_file(s, n))
			mark(rl, in->obj, "mime-in-body", true);
		return;
	}
	st->file_header = false;
	if (!mime)
		return;
	size_t name = 0;
	while (name < n && s[name] != ':' && s[name] != ' ' && s[name] != '\t')
		name++;
	bool cte = name == strlen("content-transfer-encoding");
	st->file_header = !cte;
	if (st->part_start || (!in->header_body && (cte ? encodes_bytes(s, n) : names_a_file(s, n))))
		mark(rl, in->obj, "mime-in-body", true);
}

static void one_line(rawlook *rl, const unsigned char *p, size_t ls, size_t le, guint *li, scan_state *st)
{
	const leaf *lv = (const leaf *)(void *)rl->leaves->data;
	guint nl = rl->leaves->len;
	while (*li < nl && lv[*li].end <= ls)
		(*li)++;
	const leaf *in = *li < nl && lv[*li].start <= ls ? &lv[*li] : NULL;
	guint idx = in ? *li : G_MAXUINT;
	if (idx != st->leaf) {
		/* a body that starts with header lines, unless it is made of them */
		st->part_start = in && !in->header_body;
		st->file_header = false;
		st->leaf = idx;
	}
	const unsigned char *s = p + ls;
	size_t n = le - ls;
	if (n >= 2 && s[0] == '-' && s[1] == '-') {
		dash_line(rl, s + 2, n - 2, in ? in->obj : NULL);
		size_t b = 2;
		while (b < n && (s[b] == ' ' || s[b] == '\t'))
			b++;
		st->part_start = in && b < n;   /* "--X": a part's headers may follow */
		st->file_header = false;
	} else if (in) {
		body_header(rl, in, s, n, st);
	}
	if (!in || !in->base64)
		declarations(rl, s, n);
}

/* The next CR or LF at or after I (N when none): the one scan of every byte. */
static size_t next_eol(const unsigned char *p, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	while (i < n && p[i] != '\r' && p[i] != '\n')
		i++;
	return i;
}

static void scan(rawlook *rl, const unsigned char *p, size_t size)
{
	scan_state st = { G_MAXUINT, false, false };
	guint li = 0;
	/* LF, CRLF and a lone CR each end a line */
	for (size_t ls = 0; ls < size;) {
		size_t le = next_eol(p, ls, size);
		one_line(rl, p, ls, le, &li, &st);
		ls = le + (le + 1 < size && p[le] == '\r' && p[le + 1] == '\n' ? 2 : 1);
	}
}

static gint leaf_cmp(gconstpointer a, gconstpointer b)
{
	const leaf *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int rawlook_run(GMimeMessage *msg, int fd, const unsigned char *map, uint64_t size,
                GPtrArray *reasons, rawlook **out)
{
	*out = NULL;
	if (size > SIZE_MAX)
		return -EFBIG;
	rawlook *rl = g_new0(rawlook, 1);
	rl->reasons = reasons;
	rl->leaves = g_array_new(FALSE, FALSE, sizeof(leaf));
	rl->used = g_hash_table_new_full(span_hash, span_equal, span_free, NULL);
	rl->marks = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
	rl->edges = g_hash_table_new(g_direct_hash, g_direct_equal);
	rl->term = g_byte_array_new();
	guint8 root = 0;
	g_byte_array_append(rl->term, &root, 1);

	GHashTable *open = g_hash_table_new(g_str_hash, g_str_equal);
	int rc = look_message(rl, msg, open, size);
	g_hash_table_unref(open);
	unsigned char *copy = NULL;
	if (rc == 0 && !map && size > 0) {
		copy = g_try_malloc((size_t)size);
		ssize_t n = copy ? fd_pread_full(fd, copy, (size_t)size, 0) : -ENOMEM;
		rc = n < 0 ? (int)n : (uint64_t)n == size ? 0 : -EIO;
	}
	if (rc < 0) {
		g_free(copy);
		rawlook_free(rl);
		return rc;
	}
	g_array_sort(rl->leaves, leaf_cmp);
	scan(rl, map ? map : copy, (size_t)size);
	g_free(copy);
	if (rl->trie_full)
		mark(rl, NULL, "boundary-mismatch", true);
	*out = rl;
	return 0;
}

const GPtrArray *rawlook_part_reasons(const rawlook *rl, GMimeObject *part)
{
	return rl ? g_hash_table_lookup(rl->marks, part) : NULL;
}

rawlook *rawlook_free(rawlook *rl)
{
	if (!rl)
		return NULL;
	g_array_unref(rl->leaves);
	g_hash_table_unref(rl->used);
	g_hash_table_unref(rl->marks);
	g_hash_table_unref(rl->edges);
	g_byte_array_unref(rl->term);
	g_free(rl);
	return NULL;
}
