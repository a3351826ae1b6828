/* archive.c - walk an archive with libarchive: names, types, encryption,
 * nesting and bombs.
 *
 * Reads zip, 7z, rar (4 and 5), tar, cab, lha, cpio, ar, xar, ISO 9660 and
 * the gzip/bzip2/xz/lzma/lzip/zstd/lz4/compress filters from FD through
 * pread callbacks with seeking, so zip is read from its central directory
 * as Windows and 7-Zip read it.  Every entry's name goes through the name
 * rules, its first bytes through libmagic and the type rules; an entry that
 * is itself a container is spilled to an unlinked temporary file and
 * inspected the same way, one nesting level deeper.  Every byte of every
 * entry is decompressed and counted (headers can lie about sizes), against
 * the limits on depth, entries, total expansion and this archive's ratio;
 * hitting one stops all further reading ("archive-bomb").  Encrypted entries
 * are never read ("encrypted"); a header or data error is
 * "archive-unreadable".  Zip entries also go through office.c's part rules,
 * since an OOXML or ODF document is a zip.
 *
 * Not registered, on purpose: archive_read_support_filter_all() adds
 * lrzip, lzop and grzip, which libarchive runs as external programs (a
 * fork in a worker); format mtree names files on the local disk that the
 * reader then opens; format raw (a file that is no archive at all) is
 * registered only for the compression filters, where it is the one entry.
 */
#include "util/fdio.h"
#include "sanitize/inspect-private.h"
#include "sanitize/detect.h"
#include "sanitize/result.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ARCHIVE_BUF (64 * 1024)

typedef struct source {
	int fd;
	int64_t size, pos;
	int err;                 /* negative errno from pread */
	unsigned char buf[ARCHIVE_BUF];
} source;

static la_ssize_t source_read(struct archive *a, void *data, const void **out)
{
	source *s = data;
	*out = s->buf;
	if (s->pos >= s->size)
		return 0;
	size_t want = (size_t)MIN((int64_t)sizeof s->buf, s->size - s->pos);
	ssize_t n;
	do
		n = pread(s->fd, s->buf, want, (off_t)s->pos);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		s->err = -errno;
		archive_set_error(a, errno, "read failed");
		return ARCHIVE_FATAL;
	}
	s->pos += n;
	return n;
}

static la_int64_t source_seek(struct archive *a, void *data, la_int64_t off, int whence)
{
	(void)a;
	source *s = data;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->pos : s->size;
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return ARCHIVE_FATAL;
	s->pos = MIN(base + off, s->size);
	return s->pos;
}

static la_int64_t source_skip(struct archive *a, void *data, la_int64_t n)
{
	(void)a;
	source *s = data;
	int64_t left = s->size - s->pos;
	if (n > left)
		n = left;
	if (n < 0)
		n = 0;
	s->pos += n;
	return n;
}

/* Names in a UTF-8 zip are lost in the C locale ("cannot be converted to
 * current locale"), so the walk runs under C.UTF-8 on this thread only;
 * names stored in CP932 without the UTF-8 flag come back as their bytes
 * and inspect_name_utf8 decodes them. */
static locale_t utf8_locale(void)
{
	static gsize once;
	static locale_t loc;
	if (g_once_init_enter(&once)) {
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
		g_once_init_leave(&once, 1);
	}
	return loc;
}

typedef struct walk {
	inspect_ctx *c;
	struct archive *a;
	source *src;
	GPtrArray *reasons;      /* the archive's */
	int64_t expanded;        /* this archive's */
	bool zip;
	bool package;            /* a zip seen to be an OOXML or ODF package */
	int err;                 /* negative errno: stop, tempfail */
	unsigned char *buf;      /* ARCHIVE_BUF */
} walk;

static bool mentions_encryption(const char *msg)
{
	return msg && (strstr(msg, "ncrypt") || strstr(msg, "assphrase") || strstr(msg, "password"));
}

/* Count N more expanded bytes; false (and a bomb) when a limit is passed. */
static bool account(walk *w, int64_t n)
{
	inspect_ctx *c = w->c;
	w->expanded += n;
	c->expanded += n;
	char detail[96];
	if (c->expanded > c->lim.archive_expanded) {
		snprintf(detail, sizeof detail, "expands to more than %" G_GINT64_FORMAT " bytes",
		         c->lim.archive_expanded);
		inspect_bomb(c, w->reasons, detail);
		return false;
	}
	if (w->expanded > c->lim.archive_ratio_floor &&
	    w->expanded / c->lim.archive_ratio > MAX(w->src->size, 1)) {
		snprintf(detail, sizeof detail, "expands more than %" G_GINT64_FORMAT " times",
		         c->lim.archive_ratio);
		inspect_bomb(c, w->reasons, detail);
		return false;
	}
	return true;
}

/* Write all of P to FD; a failure is kept in *ERR (negative errno). */
static bool write_all(int fd, const unsigned char *p, size_t n, int *err)
{
	int r = fd_write_all(fd, p, n);
	if (r < 0)
		*err = r;
	return r == 0;
}

/* A data error on the current entry: encrypted or unreadable. */
static void data_error(walk *w, struct archive_entry *e, const char *path, GPtrArray *child)
{
	const char *msg = archive_error_string(w->a);
	if (archive_entry_is_encrypted(e) || mentions_encryption(msg)) {
		result_add_reason(child, "encrypted");
	} else {
		result_add_reason(w->reasons, "archive-unreadable");
		inspect_ctx *c = w->c;
		const char *saved = c->path;
		c->path = path;
		inspect_finding(c, "archive-unreadable", msg ? msg : "data error");
		c->path = saved;
	}
}

/* Read the rest of the current entry: into SPILL (fd, or -1 to discard) and
 * into XML (or NULL) up to the part limit.  Returns false when the walk must
 * stop (bomb or I/O error) or the entry failed (*failed). */
static bool drain(walk *w, int spill, GByteArray *xml, bool *xml_over, office_fields *fields, GByteArray *tail,
                  bool *failed)
{
	for (;;) {
		la_ssize_t n = archive_read_data(w->a, w->buf, ARCHIVE_BUF);
		if (n == 0)
			return true;
		if (n < 0) {
			*failed = true;
			return true;
		}
		if (!account(w, n))
			return false;
		if (spill >= 0 && !write_all(spill, w->buf, (size_t)n, &w->err))
			return false;
		office_fields_feed(fields, w->buf, (size_t)n);
		if (tail) {
			g_byte_array_append(tail, w->buf, (guint)n);
			if (tail->len > 2 * INSPECT_TAIL_BYTES)
				g_byte_array_remove_range(tail, 0, tail->len - INSPECT_TAIL_BYTES);
		}
		if (xml && !*xml_over) {
			if ((int64_t)(xml->len + (size_t)n) > w->c->lim.xml_part_bytes)
				*xml_over = true;
			else
				g_byte_array_append(xml, w->buf, (guint)n);
		}
	}
}

/* One regular file inside the archive. */
static void walk_file(walk *w, struct archive_entry *e, const char *name, const char *path,
                      GPtrArray *child)
{
	inspect_ctx *c = w->c;
	const char *base = inspect_basename(name);
	inspect_name(base, child);
	if (inspect_name_macro(base))
		result_add_reason(child, "macro");
	bool explained = false;
	if (w->zip) {
		const char *saved = c->path;
		c->path = path;
		explained = office_part_name(c, name, w->reasons);
		c->path = saved;
	}
	if (archive_entry_is_encrypted(e)) {
		result_add_reason(child, "encrypted");
		return;  /* libarchive skips the data at the next header */
	}
	/* a size in the header beyond what is left: no need to inflate it */
	if (archive_entry_size_is_set(e) &&
	    archive_entry_size(e) > c->lim.archive_expanded - c->expanded) {
		char detail[96];
		snprintf(detail, sizeof detail, "an entry of %" G_GINT64_FORMAT " bytes", (int64_t)archive_entry_size(e));
		inspect_bomb(c, w->reasons, detail);
		return;
	}

	unsigned char *head = g_malloc(INSPECT_HEAD_BYTES);
	size_t hlen = 0;
	bool failed = false, ok = true;
	while (hlen < INSPECT_HEAD_BYTES) {
		la_ssize_t n = archive_read_data(w->a, head + hlen, INSPECT_HEAD_BYTES - hlen);
		if (n == 0)
			break;
		if (n < 0) {
			failed = true;
			break;
		}
		hlen += (size_t)n;
		if (!account(w, n)) {
			ok = false;
			break;
		}
	}
	char *detected = NULL;
	enum inspect_kind kind = INSPECT_KIND_NONE;
	if (w->zip && (g_ascii_strcasecmp(name, "[Content_Types].xml") == 0 ||
	               (strcmp(name, "mimetype") == 0 && hlen >= 35 &&
	                memcmp(head, "application/vnd.oasis.opendocument.", 35) == 0)))
		w->package = true;   /* Office writes [Content_Types].xml first, ODF its mimetype */
	if (ok && !failed) {
		size_t nl = strlen(name);
		bool xml_part = w->package && ((nl > 4 && g_ascii_strcasecmp(name + nl - 4, ".xml") == 0) ||
		                               (nl > 5 && g_ascii_strcasecmp(name + nl - 5, ".rels") == 0));
		detected = detect_mime_type(head, hlen, xml_part ? DETECT_PACKAGE_XML : DETECT_FILE);
		inspect_type(base, NULL, NULL, detected, head, hlen, child);
		kind = explained ? INSPECT_KIND_NONE : inspect_classify(base, NULL, detected, head, hlen);
	}
	GByteArray *xml = NULL;
	bool xml_over = false;
	if (ok && !failed && w->zip && office_part_wanted(name)) {
		xml = g_byte_array_new();
		g_byte_array_append(xml, head, (guint)MIN(hlen, (size_t)c->lim.xml_part_bytes));
		xml_over = (int64_t)hlen > c->lim.xml_part_bytes;
	}
	int spill = -1;
	if (ok && !failed && kind != INSPECT_KIND_NONE) {
		spill = inspect_tmpfile();
		if (spill < 0) {
			w->err = spill;
			ok = false;
		} else if (!write_all(spill, head, hlen, &w->err)) {
			ok = false;
		}
	}
	/* Word's document, headers, footers, notes: their field codes */
	office_fields *fields = ok && !failed && w->package ? office_fields_new(name) : NULL;
	office_fields_feed(fields, head, hlen);
	/* the last bytes of an entry that is not kept, for an appended zip */
	GByteArray *tail = NULL;
	bool plain = kind != INSPECT_KIND_ARCHIVE && kind != INSPECT_KIND_COMPRESSED && !explained;
	if (ok && !failed && plain && spill < 0 && hlen == INSPECT_HEAD_BYTES) {
		tail = g_byte_array_new();
		g_byte_array_append(tail, head, (guint)hlen);
	}
	int64_t size = (int64_t)hlen;
	if (ok && !failed && hlen == INSPECT_HEAD_BYTES) {
		int64_t before = w->expanded;
		ok = drain(w, spill, xml, &xml_over, fields, tail, &failed);
		size += w->expanded - before;
	}
	if (fields) {
		const char *saved = c->path;
		c->path = path;
		office_fields_end(c, fields, ok && !failed, w->reasons);
		c->path = saved;
	}

	if (failed)
		data_error(w, e, path, child);
	else if (ok && xml) {
		const char *saved = c->path;
		c->path = path;
		if (xml_over) {
			result_add_reason(w->reasons, "document-unreadable");
			inspect_finding(c, "document-unreadable", "part larger than the XML limit");
		} else {
			office_part_xml(c, name, xml->data, xml->len, w->reasons);
		}
		c->path = saved;
	}
	if (ok && !failed && (spill >= 0 || plain)) {
		const char *saved = c->path;
		c->path = path;
		int r = spill >= 0 ? inspect_container(c, kind, spill, (uint64_t)size, child) : 0;
		if (r == 0 && plain && !c->bomb) {
			size_t tl = tail ? MIN((size_t)tail->len, (size_t)INSPECT_TAIL_BYTES) : 0;
			r = inspect_appended_zip(c, head, hlen, tail ? tail->data + tail->len - tl : NULL, tl, spill,
			                         (uint64_t)size, child);
		}
		c->path = saved;
		if (r < 0)
			w->err = r;
	}
	g_free(head);
	if (tail)
		g_byte_array_unref(tail);
	if (spill >= 0)
		close(spill);
	if (xml)
		g_byte_array_unref(xml);
	g_free(detected);
}

static void walk_entries(walk *w, enum inspect_kind kind)
{
	inspect_ctx *c = w->c;
	struct archive_entry *e;
	bool first = true;
	for (;;) {
		int r = archive_read_next_header(w->a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (w->src->err) {
			w->err = w->src->err;
			break;
		}
		if (r < ARCHIVE_WARN) {
			const char *msg = archive_error_string(w->a);
			if (archive_read_has_encrypted_entries(w->a) > 0 || mentions_encryption(msg)) {
				result_add_reason(w->reasons, "encrypted");
				inspect_finding(c, "encrypted", msg);
			} else {
				result_add_reason(w->reasons, "archive-unreadable");
				inspect_finding(c, "archive-unreadable", msg ? msg : "bad header");
			}
			/* ARCHIVE_FAILED could go on to the next entry, but a
			 * damaged header may fail the same way every time, and
			 * the archive is suspect already */
			break;
		}
		if (!inspect_count_entry(c, w->reasons))
			break;
		if (first) {
			first = false;
			w->zip = (archive_format(w->a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
			/* raw without a decompressing filter: the bytes were no
			 * compressed stream at all */
			if (kind == INSPECT_KIND_COMPRESSED && archive_format(w->a) == ARCHIVE_FORMAT_RAW &&
			    archive_filter_code(w->a, 0) == ARCHIVE_FILTER_NONE) {
				result_add_reason(w->reasons, "archive-unreadable");
				inspect_finding(c, "archive-unreadable", "not a compressed stream");
				break;
			}
		}

		const char *raw = archive_entry_pathname(e);
		if (!raw)
			raw = archive_entry_pathname_utf8(e);
		char *name = inspect_name_utf8(raw ? raw : "", raw ? strlen(raw) : 0);
		char *path = inspect_entry_path(c, *name ? name : "(no name)");
		GPtrArray *child = g_ptr_array_new_with_free_func(g_free);
		if (!raw) {
			result_add_reason(w->reasons, "archive-unreadable");
			const char *saved = c->path;
			c->path = path;
			inspect_finding(c, "archive-unreadable", "entry name cannot be decoded");
			c->path = saved;
		}
		mode_t type = archive_entry_filetype(e);
		if (type == AE_IFREG || type == 0) {
			walk_file(w, e, name, path, child);
		} else if (type == AE_IFDIR) {
			/* a directory runs nothing, but its name is shown */
			GPtrArray *tmp = g_ptr_array_new_with_free_func(g_free);
			inspect_name(name, tmp);
			if (result_has_reason(tmp, "filename-control-chars"))
				result_add_reason(child, "filename-control-chars");
			g_ptr_array_unref(tmp);
		} else {
			inspect_name(inspect_basename(name), child);
		}
		inspect_fold(c, path, child, w->reasons);
		g_ptr_array_unref(child);
		g_free(path);
		g_free(name);
		if (c->bomb || w->err)
			break;
	}
}

int archive_scan(inspect_ctx *c, int fd, uint64_t size, enum inspect_kind kind, GPtrArray *reasons)
{
	if (c->bomb)
		return 0;
	if (!inspect_depth_ok(c, reasons, "archives"))
		return 0;
	if (size > INT64_MAX)
		return -EFBIG;
	c->depth++;
	locale_t loc = utf8_locale(), old = (locale_t)0;
	if (loc)
		old = uselocale(loc);

	source *src = g_new0(source, 1);
	src->fd = fd;
	src->size = (int64_t)size;
	walk w = { .c = c, .src = src, .reasons = reasons, .buf = g_malloc(ARCHIVE_BUF) };
	struct archive *a = w.a = archive_read_new();
	archive_read_support_format_7zip(a);
	archive_read_support_format_ar(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_xar(a);
	archive_read_support_format_zip(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
	if (kind == INSPECT_KIND_COMPRESSED)
		archive_read_support_format_raw(a);
	archive_read_set_callback_data(a, src);
	archive_read_set_read_callback(a, source_read);
	archive_read_set_seek_callback(a, source_seek);
	archive_read_set_skip_callback(a, source_skip);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		if (src->err) {
			w.err = src->err;
		} else {
			const char *msg = archive_error_string(a);
			if (mentions_encryption(msg)) {
				result_add_reason(reasons, "encrypted");
				inspect_finding(c, "encrypted", msg);
			} else {
				result_add_reason(reasons, "archive-unreadable");
				inspect_finding(c, "archive-unreadable", msg ? msg : "not an archive");
			}
		}
	} else {
		walk_entries(&w, kind);
		if (!w.err && src->err)
			w.err = src->err;
	}
	archive_read_free(a);
	g_free(w.buf);
	g_free(src);
	if (loc)
		uselocale(old);
	c->depth--;
	return w.err;
}
