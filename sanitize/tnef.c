/* tnef.c - Outlook's TNEF (winmail.dat, application/ms-tnef): the files it
 * carries and its RTF body, read with libytnef.
 *
 * A TNEF is walked like an archive: each attachment is an entry, named by
 * its long filename (PR_ATTACH_LONG_FILENAME) with the 8.3 title as second
 * name, counted against the archive limits, spilled to an unlinked
 * temporary file and inspected one nesting level deeper (an embedded
 * message is a TNEF stream of its own, an OLE attachment an OLE2 file).
 * An attachment by reference, a path Outlook opens from a share, is
 * "external-reference".  The compressed RTF body goes through the RTF
 * rules.  "tnef" (informational) lists the files; what cannot be read is
 * "tnef-unreadable".
 *
 * libytnef 2.0 (Debian 12) is not handed the stream as it came:
 * - it trusts the attribute lengths (a short read passes for a whole one,
 *   its int result being compared as unsigned), so the framing is checked
 *   here first: signature, lengths, checksums, nothing left over;
 * - one damaged or oversized property (it refuses values over 512 KiB and
 *   titles over 100 bytes) fails the whole parse, a repeated attribute
 *   leaks its first copy, and it walks its attachment list once per
 *   attribute: so each attachment is parsed alone, from a small stream of
 *   just the attributes read here, and a repeated one is "tnef-unreadable";
 * - it refuses a MAPI subject over 100 bytes unless the message already has
 *   one, so every small stream starts with a one-byte attSubject;
 * - it prints its complaints with printf, which would land in `mugai
 *   sanitize`'s output: stdout drops everything while it runs.
 * Logs nothing.
 */
#include "sanitize/inspect-private.h"
#include "sanitize/result.h"
#include "util/fdio.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ytnef.h>

#define TNEF_SIGNATURE 0x223e9f78u
#define ATTR_HEAD 9       /* level u8, id u32, length u32; then the data and a u16 checksum */
#define TITLE_MAX 100     /* the longest attAttachTitle libytnef 2.0 takes */

/* The attributes read, in the order each small stream gets them. */
enum { A_REND, A_TITLE, A_DATA, A_PROPS, A_N };

typedef struct tnef_att {
	const unsigned char *attr[A_N];   /* a whole attribute, or NULL */
	size_t len[A_N];
	bool repeated;
} tnef_att;

typedef struct tnef_walk {
	inspect_ctx *c;
	const unsigned char *m;   /* the stream */
	GPtrArray *reasons;       /* the TNEF's */
	GString *list;            /* names of the files, for the "tnef" finding */
	unsigned files;
	int err;                  /* negative errno: stop, tempfail */
} tnef_walk;

/* ---------- libytnef's printf ---------- */

static ssize_t drop(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	(void)buf;
	return (ssize_t)n;
}

static GMutex mute_lock;
static FILE *mute_file;

/* glibc lets a program assign stdout; the lock keeps two threads from
 * swapping it at once (a thread printing to stdout meanwhile loses it). */
static FILE *mute(void)
{
	static gsize once;
	if (g_once_init_enter(&once)) {
		mute_file = fopencookie(NULL, "w", (cookie_io_functions_t){ .write = drop });
		g_once_init_leave(&once, 1);
	}
	g_mutex_lock(&mute_lock);
	FILE *saved = stdout;
	if (mute_file)
		stdout = mute_file;
	return saved;
}

static void unmute(FILE *saved)
{
	if (mute_file)
		fflush(mute_file);
	stdout = saved;
	g_mutex_unlock(&mute_lock);
}

/* ---------- framing ---------- */

/* Check the attributes after the signature and key, to the end, sorting
 * those read here into ATTS (one per attachment, at most MAX: the walk
 * stops there) and MSG.  NULL, or why the stream cannot be read; the
 * attachments before the damage are kept. */
static const char *tnef_frame(const unsigned char *m, size_t size, GArray *atts, guint max, tnef_att *msg)
{
	gssize cur = -1;
	for (size_t off = 6; off < size;) {
		if (size - off < ATTR_HEAD + 2)
			return "truncated";
		uint32_t id = inspect_le32(m + off + 1), len = inspect_le32(m + off + 5);
		if (len > size - off - ATTR_HEAD - 2)
			return "truncated";
		if (len == 0)
			return "an attribute of length 0";
		const unsigned char *d = m + off + ATTR_HEAD;
		unsigned sum = 0;
		for (uint32_t i = 0; i < len; i++)
			sum += d[i];
		if ((sum & 0xffff) != inspect_le16(d + len))
			return "checksum mismatch";
		int slot = id == attAttachRenddata ? A_REND : id == attAttachTitle ? A_TITLE :
		           id == attAttachData ? A_DATA : id == attAttachment ? A_PROPS : -1;
		tnef_att *t = NULL;
		if (slot >= 0) {
			/* attAttachRenddata starts an attachment; libytnef keeps
			 * attachment attributes before the first one aside, read
			 * here as one more attachment */
			if (slot == A_REND || cur < 0) {
				if (atts->len == max)
					return NULL;
				g_array_set_size(atts, atts->len + 1);
				cur = atts->len - 1;
			}
			t = &g_array_index(atts, tnef_att, cur);
		} else if (id == attMAPIProps) {
			slot = A_PROPS;
			t = msg;
		}
		if (t) {
			t->repeated |= t->attr[slot] != NULL;
			t->attr[slot] = m + off;
			t->len[slot] = ATTR_HEAD + (size_t)len + 2;
		}
		off += ATTR_HEAD + (size_t)len + 2;
	}
	return NULL;
}

/* Parse a stream of the SLOTS attributes of A with libytnef into T (to be
 * freed with tnef_free whatever the result).  0 or libytnef's error. */
static int tnef_parse(const tnef_walk *w, const tnef_att *a, unsigned slots, TNEFStruct *t)
{
	static const unsigned char subject[] = { 1, 0x04, 0x80, 0x01, 0, 1, 0, 0, 0, 'x', 'x', 0 };
	GByteArray *s = g_byte_array_new();
	g_byte_array_append(s, w->m, 6);   /* signature, key */
	g_byte_array_append(s, subject, sizeof subject);
	size_t longest = 0;
	for (int i = 0; i < A_N; i++)
		if (a->attr[i] && (slots & 1u << i)) {
			g_byte_array_append(s, a->attr[i], (guint)a->len[i]);
			longest = MAX(longest, a->len[i]);
		}
	/* TNEFInitialize leaves Debug as it finds it, and at 3 a parse prints
	 * every property, reading past the end of a decompressed RTF body */
	memset(t, 0, sizeof *t);
	TNEFInitialize(t);
	/* it refuses an attribute over attachmentSize MiB (50 by default) */
	t->attachmentSize = (int)MIN(longest >> 20, (size_t)2046) + 1;
	FILE *saved = mute();
	int r = TNEFParseMemory(s->data, (long)s->len, t);
	unmute(saved);
	g_byte_array_unref(s);
	return r;
}

static void tnef_free(TNEFStruct *t)
{
	TNEFFree(t);
	/* where attributes before any attAttachRenddata went: TNEFFree leaves it */
	TNEFFreeAttachment(&t->starting_attach);
}

/* ---------- properties ---------- */

/* A string property: libytnef's UTF-8 from PT_UNICODE, or PT_STRING8 in
 * the sender's code page.  g_malloc'ed UTF-8, NULL when absent or empty. */
static char *prop_string(MAPIProps *p, unsigned id)
{
	variableLength *v = MAPIFindProperty(p, PROP_TAG(PT_UNICODE, id));
	/* its UTF-8 of UTF-16 takes up to 3/2 the size, NUL-terminated */
	size_t max = v != MAPI_UNDEFINED && v->size > 0 ? (size_t)v->size / 2 * 3 + 1 : 0;
	if (v == MAPI_UNDEFINED) {
		v = MAPIFindProperty(p, PROP_TAG(PT_STRING8, id));
		max = v != MAPI_UNDEFINED && v->size > 0 ? (size_t)v->size : 0;
	}
	size_t n = max && v->data ? strnlen((const char *)v->data, max) : 0;
	return n ? inspect_name_utf8((const char *)v->data, n) : NULL;
}

static uint32_t prop_long(MAPIProps *p, unsigned id)
{
	variableLength *v = MAPIFindProperty(p, PROP_TAG(PT_LONG, id));
	uint32_t x = 0;
	if (v != MAPI_UNDEFINED && v->data && v->size >= 4)
		memcpy(&x, v->data, sizeof x);   /* stored in host order */
	return x;
}

/* ---------- entries ---------- */

static void unreadable(tnef_walk *w, const char *path, const char *detail)
{
	inspect_ctx *c = w->c;
	result_add_reason(w->reasons, "tnef-unreadable");
	const char *saved = c->path;
	if (path)
		c->path = path;
	inspect_finding(c, "tnef-unreadable", detail);
	c->path = saved;
}

/* The bytes of an attachment, as a file one level deeper. */
static void tnef_spill(tnef_walk *w, const char *name, const char *name2, const char *path,
                       const unsigned char *data, size_t len, GPtrArray *child)
{
	inspect_ctx *c = w->c;
	if (!inspect_count_expanded(c, w->reasons, len))
		return;
	int fd = inspect_tmpfile();
	int r = fd < 0 ? fd : fd_write_all(fd, data, len);
	if (r == 0) {
		const char *saved = c->path;
		c->path = path;
		r = inspect_content(c, name, name2, NULL, NULL, fd, len, child);
		c->path = saved;
	}
	if (r < 0)
		w->err = r;
	if (fd >= 0)
		close(fd);
}

static void tnef_entry(tnef_walk *w, const tnef_att *a)
{
	inspect_ctx *c = w->c;
	size_t tlen = a->attr[A_TITLE] ? a->len[A_TITLE] - ATTR_HEAD - 2 : 0;
	unsigned slots = 1u << A_REND | 1u << A_DATA | 1u << A_PROPS | (tlen <= TITLE_MAX ? 1u << A_TITLE : 0);
	TNEFStruct t;
	int r = tnef_parse(w, a, slots, &t);
	bool props_lost = false;
	if (r != 0 && a->attr[A_PROPS]) {
		/* still the name and data from the attributes of their own */
		tnef_free(&t);
		r = tnef_parse(w, a, slots & ~(1u << A_PROPS), &t);
		props_lost = true;
	}
	Attachment *p = t.starting_attach.next ? t.starting_attach.next : &t.starting_attach;
	/* a title too long for libytnef is the bytes of a name all the same */
	const char *traw = tlen > TITLE_MAX ? (const char *)a->attr[A_TITLE] + ATTR_HEAD : (const char *)p->Title.data;
	size_t tn = traw ? strnlen(traw, tlen > TITLE_MAX ? tlen : (size_t)MAX(p->Title.size, 0)) : 0;
	char *title = tn ? inspect_name_utf8(traw, tn) : NULL;
	char *lname = prop_string(&p->MAPI, PR_ATTACH_LONG_FILENAME);
	if (!lname)
		lname = prop_string(&p->MAPI, PR_ATTACH_FILENAME);
	const char *name = lname ? lname : title;
	const char *name2 = lname && title && strcmp(lname, title) != 0 ? title : NULL;
	uint32_t method = prop_long(&p->MAPI, PR_ATTACH_METHOD);
	char *shown = name ? NULL : prop_string(&p->MAPI, PR_DISPLAY_NAME);
	const char *label = name ? name : shown ? shown
	                    : method == 5 ? "(embedded message)" : "(attachment)";   /* ATTACH_EMBEDDED_MSG */
	char *path = inspect_entry_path(c, label);
	g_string_append_printf(w->list, "%s%s", w->files++ ? ", " : "", label);

	GPtrArray *child = g_ptr_array_new_with_free_func(g_free);
	inspect_name(name, child);
	inspect_name(name2, child);
	if (inspect_name_macro(name) || inspect_name_macro(name2))
		result_add_reason(child, "macro");
	if (a->repeated)
		unreadable(w, path, "an attribute is repeated");
	if (r != 0)
		unreadable(w, path, "attachment cannot be read");
	else if (props_lost)
		unreadable(w, path, "attachment properties cannot be read");
	/* ATTACH_BY_REFERENCE, _BY_REF_RESOLVE, _BY_REF_ONLY: Outlook opens a
	 * file from the path, a share anywhere */
	if (method >= 2 && method <= 4) {
		char *target = prop_string(&p->MAPI, PR_ATTACH_LONG_PATHNAME);
		if (!target)
			target = prop_string(&p->MAPI, PR_ATTACH_PATHNAME);
		result_add_reason(child, "external-reference");
		const char *saved = c->path;
		c->path = path;
		inspect_finding(c, "external-reference", target ? target : "attachment by reference");
		c->path = saved;
		g_free(target);
	}
	/* an embedded message or OLE object (PT_OBJECT) starts with its
	 * interface ID; by-value data is attAttachData */
	variableLength *obj = MAPIFindProperty(&p->MAPI, PROP_TAG(PT_OBJECT, PR_ATTACH_DATA_OBJ));
	variableLength *bin = MAPIFindProperty(&p->MAPI, PROP_TAG(PT_BINARY, PR_ATTACH_DATA_OBJ));
	if (r == 0 && obj != MAPI_UNDEFINED && obj->data && obj->size > 16)
		tnef_spill(w, name, name2, path, obj->data + 16, (size_t)obj->size - 16, child);
	else if (r == 0 && p->FileData.data && p->FileData.size > 0)
		tnef_spill(w, name, name2, path, p->FileData.data, (size_t)p->FileData.size, child);
	else if (r == 0 && bin != MAPI_UNDEFINED && bin->data && bin->size > 0)
		tnef_spill(w, name, name2, path, bin->data, (size_t)bin->size, child);
	inspect_fold(c, path, child, w->reasons);
	g_ptr_array_unref(child);
	g_free(path);
	g_free(shown);
	g_free(lname);
	g_free(title);
	tnef_free(&t);
}

/* The message's compressed RTF body (PR_RTF_COMPRESSED, MS-OXRTFCP): an
 * object in it is as live as in an .rtf file. */
static void tnef_body(tnef_walk *w, const tnef_att *msg)
{
	inspect_ctx *c = w->c;
	if (msg->repeated)
		unreadable(w, NULL, "message properties repeated");
	TNEFStruct t;
	int r = tnef_parse(w, msg, 1u << A_PROPS, &t);
	variableLength *v = r == 0 ? MAPIFindProperty(&t.MapiProperties, PROP_TAG(PT_BINARY, PR_RTF_COMPRESSED))
	                           : MAPI_UNDEFINED;
	const unsigned char *rtf = NULL;
	unsigned char *out = NULL;
	size_t rlen = 0;
	const char *bad = r != 0 ? "message properties cannot be read" : NULL;
	if (v != MAPI_UNDEFINED && v->data && v->size > 0) {
		/* header: size of what follows this field, raw size, magic, CRC */
		size_t size = (size_t)v->size;
		uint32_t raw = 0, magic = 0;
		if (size >= 16) {
			raw = inspect_le32(v->data + 4);
			magic = inspect_le32(v->data + 8);
		}
		if (size < 16 || inspect_le32(v->data) != size - 4) {
			bad = "RTF body damaged";
		} else if (raw > 9 * (uint64_t)size + 4096) {
			bad = "RTF body larger than its data can hold";   /* LZFu expands at most 8.5 times */
		} else if ((int64_t)raw > c->lim.archive_expanded - c->expanded) {
			char detail[64];
			snprintf(detail, sizeof detail, "an RTF body of %u bytes", (unsigned)raw);
			inspect_bomb(c, w->reasons, detail);
		} else if (magic == 0x414c454d) {   /* "MELA": stored as it is */
			rtf = v->data + 16;
			rlen = MIN((size_t)raw, size - 16);
		} else if (magic == 0x75465a4c && size + (size_t)raw / 8 * 9 + 64 > INT_MAX) {
			bad = "RTF body too large";
		} else if (magic == 0x75465a4c) {   /* "LZFu" */
			/* Zeros after the data: a stream that ends early would take
			 * libytnef's error path, which leaks both its buffers, and a
			 * reference cut off at the end reads 2 bytes past it.  With
			 * them it goes on as literal zeros (8 bytes out for 9 in)
			 * to the raw size. */
			size_t padded = size + (size_t)raw / 8 * 9 + 64;
			unsigned char *pad = g_malloc0(padded + 2);
			memcpy(pad, v->data, size);
			for (int i = 0; i < 4; i++)
				pad[i] = (unsigned char)((padded - 4) >> 8 * i);
			variableLength in = { pad, (int)padded };
			int n = 0;
			FILE *saved = mute();
			out = DecompressRTF(&in, &n);
			unmute(saved);
			g_free(pad);
			rtf = out;
			rlen = out ? (size_t)n : 0;
			if (!out)
				bad = "RTF body cannot be decompressed";
		} else {
			bad = "RTF body in an unknown compression";
		}
	}
	if (bad)
		unreadable(w, NULL, bad);
	if (rtf) {
		c->expanded += (int64_t)rlen;
		char *path = inspect_entry_path(c, "(message body, RTF)");
		GPtrArray *child = g_ptr_array_new_with_free_func(g_free);
		const char *saved = c->path;
		c->path = path;
		office_scan_rtf(c, rtf, rlen, child);
		c->path = saved;
		inspect_fold(c, path, child, w->reasons);
		g_ptr_array_unref(child);
		g_free(path);
	}
	free(out);
	tnef_free(&t);
}

int inspect_tnef(inspect_ctx *c, int fd, uint64_t size, GPtrArray *reasons)
{
	if (c->bomb)
		return 0;
	if (!inspect_depth_ok(c, reasons, "attachments"))
		return 0;
	int err = 0;
	const unsigned char *m = inspect_map(fd, &size, &err);
	if (err)
		return err;
	tnef_walk w = { .c = c, .m = m, .reasons = reasons };
	if (!m || size < 6 || inspect_le32(m) != TNEF_SIGNATURE) {
		unreadable(&w, NULL, "not a TNEF stream");
		inspect_unmap(m, size);
		return 0;
	}
	c->depth++;
	result_add_reason(reasons, "tnef");
	guint first = c->findings ? c->findings->len : 0;
	w.list = g_string_new(NULL);
	GArray *atts = g_array_new(FALSE, TRUE, sizeof(tnef_att));
	tnef_att msg = { 0 };
	/* one past the entries left, to see the limit hit */
	int64_t left = MAX(c->lim.archive_entries - c->entries, 0);
	const char *bad = tnef_frame(m, (size_t)size, atts, (guint)MIN(left + 1, (int64_t)G_MAXINT), &msg);
	if (bad)
		unreadable(&w, NULL, bad);
	for (guint i = 0; i < atts->len && !c->bomb && !w.err; i++) {
		if (!inspect_count_entry(c, reasons))
			break;
		tnef_entry(&w, &g_array_index(atts, tnef_att, i));
	}
	if (msg.attr[A_PROPS] && !c->bomb && !w.err)
		tnef_body(&w, &msg);

	/* what the recipient would have found in the winmail.dat, first */
	char count[32];
	snprintf(count, sizeof count, "%u file%s: ", w.files, w.files == 1 ? "" : "s");
	if (w.files)
		g_string_prepend(w.list, count);
	else
		g_string_assign(w.list, "no files");
	guint before = c->findings ? c->findings->len : 0;
	inspect_finding(c, "tnef", w.list->str);
	if (c->findings && c->findings->len == before + 1 && c->nfindings <= c->lim.findings)
		g_ptr_array_insert(c->findings, (gint)first, g_ptr_array_steal_index(c->findings, before));
	g_string_free(w.list, TRUE);
	g_array_unref(atts);
	inspect_unmap(m, size);
	c->depth--;
	return w.err;
}
