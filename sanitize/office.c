/* office.c - macros, encryption, embedded objects, external references and
 * DDE fields in Office files: OLE2 (doc, xls, ppt, msg), the parts of OOXML
 * and ODF zips, and RTF.
 *
 * OLE2 is read with libgsf's GsfInfileMSOle over a read-only mapping of
 * the file (no hand-written CFB parser): a storage named VBA,
 * _VBA_PROJECT_CUR or Macros is "macro"; an Excel 4.0 macro sheet in the
 * Workbook stream's BOUNDSHEET records is "macro"; EncryptedPackage
 * (encrypted OOXML), Word's fEncrypted bit, Excel's FILEPASS record and
 * PowerPoint's encrypted CurrentUser token are "encrypted"; ObjectPool, MBD
 * storages, \001Ole10Native (Packager) and Equation Native are
 * "embedded-object"; in PowerPoint's record stream a VbaInfoAtom is
 * "macro" and the other ExOleObjStg records "embedded-object"; a field
 * beginning (0x13) followed by DDE or DDEAUTO in a WordDocument stream is
 * "dde".  A .msg's attachments are inspected as files one nesting level
 * deeper, like an archive's entries.
 *
 * OOXML and ODF parts come from archive.c, which walks every zip.  Part
 * names decide vbaProject.bin and macro sheets ("macro"), embeddings and
 * activeX ("embedded-object"), ODF Basic/ and Scripts/ ("macro").
 * [Content_Types].xml and *.rels are parsed with libxml2, not searched as
 * text: attribute values may use character references and either quote
 * (TargetMode="&#69;xternal" is External to Office), which a substring test
 * would miss.  The parser runs without network, DTD loading or entity
 * substitution, on parts bounded by lim.xml_part_bytes.  A macro-enabled
 * content type is "macro"; a relationship with TargetMode External whose
 * target is remote (a URL or UNC path, but not an http/https/mailto
 * hyperlink) is "external-reference" (remote template injection, Follina).
 * Word's own XML parts (word/...xml) go through a SAX push parser as they
 * are inflated, for DDE fields (office_fields_*); an Excel ddeLink in
 * xl/externalLinks is "dde" too.
 *
 * Side effect: the first OLE2 file installs a GLib log handler for the
 * "libgsf" and "libgsf:msole" domains (see gsf_log below).
 *
 * RTF has no library: a scan for control words is enough, since an object
 * needs \object/\objdata/\objocx and friends to exist.  Every control word
 * starting "obj" but \objattph is "embedded-object"; \template with a
 * remote target is "external-reference"; a \fldinst whose text starts with
 * DDE or DDEAUTO is "dde".
 */
#include "sanitize/inspect-private.h"
#include "sanitize/result.h"
#include <gsf/gsf.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* libgsf reports a damaged OLE2 file only through g_warning and
 * g_return_if_fail, and then goes on with what it could read: a directory
 * cut short may hide the very storage we look for.  Its complaints are
 * counted per thread (libgsf runs in the calling thread) and turn into
 * "document-unreadable"; they are not logged, as hostile input would fill
 * the log with them. */
static _Thread_local unsigned gsf_complaints;

static void gsf_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
	(void)domain;
	(void)level;
	(void)msg;
	(void)data;
	gsf_complaints++;
}

static void office_init(void)
{
	static gsize once;
	if (g_once_init_enter(&once)) {
		gsf_init();
		xmlInitParser();
		GLogLevelFlags all = G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION;
		g_log_set_handler("libgsf:msole", all, gsf_log, NULL);
		g_log_set_handler("libgsf", all, gsf_log, NULL);
		g_once_init_leave(&once, 1);
	}
}

/* Add REASON; the first time, also a finding saying where. */
static void note(inspect_ctx *c, GPtrArray *reasons, const char *reason, const char *detail)
{
	if (result_has_reason(reasons, reason))
		return;
	result_add_reason(reasons, reason);
	inspect_finding(c, reason, detail);
}

/* ---------- remote targets ---------- */

/* A URL or a UNC path, anything Office would fetch from another machine.
 * Local paths ("C:\...", "file:///C:/...", relative names) are not: Word
 * records the local template a document was made from in every file. */
static bool remote_target(const char *t)
{
	if (!t)
		return false;
	while (g_ascii_isspace(*t))
		t++;
	if ((t[0] == '\\' || t[0] == '/') && (t[1] == '\\' || t[1] == '/'))
		return true;
	size_t n = 0;
	while (g_ascii_isalnum(t[n]) || t[n] == '+' || t[n] == '-' || t[n] == '.')
		n++;
	if (t[n] != ':' || n < 2)
		return false;  /* no scheme, or a drive letter */
	if (n == 4 && g_ascii_strncasecmp(t, "file", 4) == 0) {
		const char *p = t + 5;
		while (*p == '/' || *p == '\\')
			p++;
		return !(g_ascii_isalpha(p[0]) && (p[1] == ':' || p[1] == '|'));
	}
	return true;
}

static bool web_link(const char *t)
{
	while (g_ascii_isspace(*t))
		t++;
	return g_ascii_strncasecmp(t, "http://", 7) == 0 || g_ascii_strncasecmp(t, "https://", 8) == 0 ||
	       g_ascii_strncasecmp(t, "mailto:", 7) == 0;
}

/* ---------- OLE2 ---------- */

typedef struct ole_walk {
	inspect_ctx *c;
	GPtrArray *reasons;
	int64_t seen;
	bool stop;
	int err;
} ole_walk;

static bool ci_eq(const char *a, const char *b)
{
	return g_ascii_strcasecmp(a, b) == 0;
}

/* Read up to N bytes from the start of stream IN into BUF; bytes read. */
static size_t ole_read(GsfInput *in, guint8 *buf, size_t n)
{
	gsf_off_t size = gsf_input_size(in);
	if (size <= 0)
		return 0;
	if ((gsf_off_t)n > size)
		n = (size_t)size;
	if (gsf_input_seek(in, 0, G_SEEK_SET) || !gsf_input_read(in, n, buf))
		return 0;
	return n;
}

/* ---------- DDE fields ---------- */

/* A Word field instruction that starts a program through DDE ("DDEAUTO
 * c:\\windows\\system32\\cmd.exe ..."): Word field names are not case
 * sensitive and may follow blanks. */
static bool dde_instruction(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == '"'))
		i++;
	if (n - i < 3 || g_ascii_strncasecmp(s + i, "dde", 3) != 0)
		return false;
	i += 3;
	if (n - i >= 4 && g_ascii_strncasecmp(s + i, "auto", 4) == 0)
		i += 4;
	return i == n || !g_ascii_isalnum(s[i]);
}

/* The instruction as a finding's detail: its first line, shortened. */
static void note_dde(inspect_ctx *c, GPtrArray *reasons, const char *s, size_t n)
{
	char *d = g_strndup(s, MIN(n, (size_t)120));
	for (char *t = d; *t; t++)
		if ((unsigned char)*t < 0x20)
			*t = ' ';
	note(c, reasons, "dde", g_strstrip(d));
	g_free(d);
}

/* Word 97-2003: a field begins with the character 0x13, in 8-bit text
 * pieces as one byte and in UTF-16 pieces as 13 00; its instruction
 * follows.  The WordDocument stream is read in chunks, each scan starting
 * where the last one could no longer see a whole "DDEAUTO". */
static void doc_fields(ole_walk *w, GsfInput *in)
{
	gsf_off_t size = gsf_input_size(in), pos = 0;
	if (size <= 0 || gsf_input_seek(in, 0, G_SEEK_SET))
		return;
	enum { CHUNK = 65536, KEEP = 32 };
	guint8 *buf = g_malloc(CHUNK + KEEP);
	size_t have = 0;
	while (pos < size) {
		size_t n = (size_t)MIN((gsf_off_t)CHUNK, size - pos);
		if (!gsf_input_read(in, n, buf + have))
			break;
		pos += (gsf_off_t)n;
		have += n;
		bool last = pos >= size;
		size_t end = last ? have : have - KEEP;
		for (size_t i = 0; i < end; i++) {
			if (buf[i] != 0x13)
				continue;
			/* the instruction as ASCII, from 8-bit or UTF-16LE text */
			bool wide = i + 1 < have && buf[i + 1] == 0;
			char ins[16];
			size_t k = 0;
			for (size_t j = i + (wide ? 2 : 1); j < have && k < sizeof ins; j += wide ? 2 : 1) {
				if (wide && (j + 1 >= have || buf[j + 1] != 0))
					break;
				ins[k++] = (char)buf[j];
			}
			if (dde_instruction(ins, k)) {
				note_dde(w->c, w->reasons, ins, k);
				g_free(buf);
				return;
			}
		}
		memmove(buf, buf + end, have - end);
		have -= end;
	}
	g_free(buf);
}

/* Word: FIB base, wIdent 0xA5EC, fEncrypted is bit 8 of the flags at 10. */
static void ole_word(ole_walk *w, GsfInput *in)
{
	guint8 fib[12];
	if (ole_read(in, fib, sizeof fib) == sizeof fib && fib[0] == 0xec && fib[1] == 0xa5 && (fib[11] & 0x01))
		note(w->c, w->reasons, "encrypted", "Word document encryption");
	else
		doc_fields(w, in);
}

/* PowerPoint: CurrentUserAtom headerToken 0xF3D1C4DF means encrypted. */
static void ole_ppt(ole_walk *w, GsfInput *in)
{
	guint8 cu[16];
	if (ole_read(in, cu, sizeof cu) == sizeof cu && cu[12] == 0xdf && cu[13] == 0xc4 && cu[14] == 0xd1 && cu[15] == 0xf3)
		note(w->c, w->reasons, "encrypted", "PowerPoint encryption");
}

/* PowerPoint 97-2003: the "PowerPoint Document" stream is a tree of
 * records (8-byte headers; recVer 0xF marks a container, whose children
 * follow it).  A VbaInfoAtom (0x0400) points at the VBA project: "macro";
 * an ExOleObjStg (0x1011) holds an embedded OLE object, one of them the
 * VBA project when there is one: "embedded-object" for the others. */
static void ole_ppt_doc(ole_walk *w, GsfInput *in)
{
	gsf_off_t size = gsf_input_size(in), pos = 0;
	unsigned vba = 0, stores = 0;
	while (pos + 8 <= size) {
		guint8 h[8];
		if (gsf_input_seek(in, pos, G_SEEK_SET) || !gsf_input_read(in, 8, h))
			break;
		unsigned ver = h[0] & 0x0f, type = inspect_le16(h + 2);
		guint32 len = inspect_le32(h + 4);
		if (type == 0x0400)
			vba++;
		else if (type == 0x1011)
			stores++;
		pos += ver == 0x0f ? 8 : 8 + (gsf_off_t)len;
	}
	if (vba)
		note(w->c, w->reasons, "macro", "PowerPoint VBA project");
	if (stores > (vba ? 1u : 0u))
		note(w->c, w->reasons, "embedded-object", "PowerPoint OLE object");
}

/* Excel BIFF5/8 globals substream: FILEPASS (0x2F) is encryption, and a
 * BOUNDSHEET (0x85) of type 1 is an Excel 4.0 macro sheet (XLM, a macro
 * language malware still uses), of type 6 a VBA module sheet. */
static void ole_biff(ole_walk *w, GsfInput *in)
{
	gsf_off_t size = gsf_input_size(in), pos = 0;
	if (gsf_input_seek(in, 0, G_SEEK_SET))
		return;
	while (pos + 4 <= size) {
		guint8 h[6];
		if (!gsf_input_read(in, 4, h))
			return;
		unsigned type = inspect_le16(h), len = inspect_le16(h + 2);
		pos += 4;
		if (type == 0x002f) {
			note(w->c, w->reasons, "encrypted", "Excel workbook encryption");
			return;  /* the records after it are encrypted */
		}
		if (type == 0x000a)
			return;  /* EOF: end of the globals */
		if (type == 0x0085 && len >= 6 && pos + 6 <= size) {
			if (!gsf_input_read(in, 6, h))
				return;
			if (h[5] == 0x01)
				note(w->c, w->reasons, "macro", "Excel 4.0 macro sheet");
			else if (h[5] == 0x06)
				note(w->c, w->reasons, "macro", "VBA module sheet");
			if (gsf_input_seek(in, pos + len, G_SEEK_SET))
				return;
		} else if (gsf_input_seek(in, pos + len, G_SEEK_SET)) {
			return;
		}
		pos += len;
	}
}

/* A string property of a .msg attachment: PT_UNICODE (001F, UTF-16LE) or
 * PT_STRING8 (001E, the sender's code page). */
static char *msg_string(GsfInfile *att, const char *tag)
{
	char name[32];
	guint8 buf[1024];
	snprintf(name, sizeof name, "__substg1.0_%s001F", tag);
	GsfInput *in = gsf_infile_child_by_name(att, name);
	if (in) {
		size_t n = ole_read(in, buf, sizeof buf) & ~(size_t)1;
		g_object_unref(in);
		gunichar2 u[sizeof buf / 2];
		size_t k = 0;
		for (size_t i = 0; i + 1 < n; i += 2) {
			u[k] = inspect_le16(buf + i);
			if (!u[k])
				break;
			k++;
		}
		char *s = g_utf16_to_utf8(u, (glong)k, NULL, NULL, NULL);
		if (s && *s)
			return s;
		g_free(s);
	}
	snprintf(name, sizeof name, "__substg1.0_%s001E", tag);
	in = gsf_infile_child_by_name(att, name);
	if (in) {
		size_t n = ole_read(in, buf, sizeof buf);
		g_object_unref(in);
		size_t k = 0;
		while (k < n && buf[k])
			k++;
		if (k)
			return inspect_name_utf8((const char *)buf, k);
	}
	return NULL;
}

/* One attachment of a .msg: a file inside a container, like an archive
 * entry.  By-value data is spilled and inspected one level deeper. */
static void msg_attachment(ole_walk *w, GsfInfile *att)
{
	inspect_ctx *c = w->c;
	char *name = msg_string(att, "3707");     /* PR_ATTACH_LONG_FILENAME */
	if (!name)
		name = msg_string(att, "3704");   /* PR_ATTACH_FILENAME */
	if (!name)
		name = msg_string(att, "3001");   /* PR_DISPLAY_NAME */
	char *path = inspect_entry_path(c, name ? name : "(attachment)");
	GPtrArray *child = g_ptr_array_new_with_free_func(g_free);
	inspect_name(name, child);
	if (inspect_name_macro(name))
		result_add_reason(child, "macro");

	GsfInput *data = gsf_infile_child_by_name(att, "__substg1.0_37010102");
	if (data && inspect_count_entry(c, w->reasons) && inspect_depth_ok(c, w->reasons, "attachments")) {
		int fd = inspect_tmpfile();
		gsf_off_t size = gsf_input_size(data), done = 0;
		bool ok = fd >= 0 && size >= 0 && !gsf_input_seek(data, 0, G_SEEK_SET);
		if (fd < 0)
			w->err = fd;
		guint8 buf[16384];
		while (ok && done < size) {
			size_t n = (size_t)MIN((gsf_off_t)sizeof buf, size - done);
			ok = gsf_input_read(data, n, buf) != NULL;
			for (size_t off = 0; ok && off < n;) {
				ssize_t k = write(fd, buf + off, n - off);
				if (k < 0) {
					w->err = -errno;
					ok = false;
				} else {
					off += (size_t)k;
				}
			}
			done += (gsf_off_t)n;
		}
		if (ok) {
			const char *saved = c->path;
			c->path = path;
			c->depth++;
			int r = inspect_content(c, name, NULL, NULL, NULL, fd, (uint64_t)size, child);
			c->depth--;
			c->path = saved;
			if (r < 0)
				w->err = r;
		} else if (!w->err) {
			note(c, w->reasons, "document-unreadable", "attachment data cannot be read");
		}
		if (fd >= 0)
			close(fd);
	}
	if (data)
		g_object_unref(data);
	inspect_fold(c, path, child, w->reasons);
	g_ptr_array_unref(child);
	g_free(path);
	g_free(name);
}

static void ole_dir(ole_walk *w, GsfInfile *dir, const char *dirpath, int level)
{
	inspect_ctx *c = w->c;
	int n = gsf_infile_num_children(dir);
	for (int i = 0; i < n && !w->stop && !w->err && !c->bomb; i++) {
		if (++w->seen > c->lim.ole_entries) {
			note(c, w->reasons, "document-unreadable", "too many OLE storages and streams");
			w->stop = true;
			return;
		}
		const char *name = gsf_infile_name_by_index(dir, i);
		GsfInput *in = gsf_infile_child_by_index(dir, i);
		if (!name || !in) {
			note(c, w->reasons, "document-unreadable", "an OLE stream cannot be read");
			if (in)
				g_object_unref(in);
			continue;
		}
		char *path = dirpath ? g_strconcat(dirpath, "/", name, NULL) : g_strdup(name);
		int kids = GSF_IS_INFILE(in) ? gsf_infile_num_children(GSF_INFILE(in)) : -1;
		if (kids >= 0) {
			if (ci_eq(name, "VBA") || ci_eq(name, "_VBA_PROJECT_CUR") || ci_eq(name, "Macros"))
				note(c, w->reasons, "macro", path);
			else if ((ci_eq(name, "ObjectPool") && kids > 0) || g_str_has_prefix(name, "MBD"))
				note(c, w->reasons, "embedded-object", path);
			if (g_str_has_prefix(name, "__attach_version1.0_#"))
				msg_attachment(w, GSF_INFILE(in));
			if (level < 16)
				ole_dir(w, GSF_INFILE(in), path, level + 1);
			else
				note(c, w->reasons, "document-unreadable", "OLE storages nested too deep");
		} else {
			if (strcmp(name, "\001Ole10Native") == 0 || ci_eq(name, "Equation Native"))
				note(c, w->reasons, "embedded-object", path);
			if (level == 0) {
				if (strcmp(name, "EncryptedPackage") == 0 || strcmp(name, "EncryptedSummary") == 0)
					note(c, w->reasons, "encrypted", name);
				else if (strcmp(name, "WordDocument") == 0)
					ole_word(w, in);
				else if (strcmp(name, "Workbook") == 0 || strcmp(name, "Book") == 0)
					ole_biff(w, in);
				else if (strcmp(name, "Current User") == 0)
					ole_ppt(w, in);
				else if (strcmp(name, "PowerPoint Document") == 0)
					ole_ppt_doc(w, in);
			}
		}
		g_free(path);
		g_object_unref(in);
	}
}

/* Whether the root directory entry of an OLE2 file has sibling links.
 * [MS-CFB] says they MUST be NOSTREAM; libgsf 1.14.50 follows them
 * anyway, with no parent, and never frees what it builds there (a leak per
 * such file, in a long-lived worker).  So such a file is refused before
 * libgsf opens it: two fields of the header and two of the root entry. */
static bool ole_root_has_siblings(const unsigned char *m, uint64_t size)
{
	if (size < 512)
		return false;
	unsigned shift = inspect_le16(m + 0x1e);
	if (shift != 9 && shift != 12)
		return false;   /* libgsf refuses other sector sizes itself */
	uint64_t sect = inspect_le32(m + 0x30);
	uint64_t root = (sect + 1) << shift;
	if (sect >= 0xfffffffa || root > size || size - root < 0x4c)
		return false;
	static const unsigned char nostream[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	return memcmp(m + root + 0x44, nostream, sizeof nostream) != 0;
}

int office_scan_ole(inspect_ctx *c, int fd, uint64_t size, GPtrArray *reasons)
{
	office_init();
	int err = 0;
	const unsigned char *m = inspect_map(fd, &size, &err);
	if (!m) {
		if (!err)
			note(c, reasons, "document-unreadable", "empty OLE file");
		return err;
	}
	if (ole_root_has_siblings(m, size)) {
		note(c, reasons, "document-unreadable", "damaged OLE2 structure (the root entry has siblings)");
		inspect_unmap(m, size);
		return 0;
	}
	unsigned complaints = gsf_complaints;
	GsfInput *in = gsf_input_memory_new(m, (gsf_off_t)size, FALSE);
	GError *gerr = NULL;
	GsfInfile *ole = in ? gsf_infile_msole_new(in, &gerr) : NULL;
	ole_walk w = { .c = c, .reasons = reasons };
	if (!ole)
		note(c, reasons, "document-unreadable", gerr ? gerr->message : "not an OLE2 file");
	else
		ole_dir(&w, ole, NULL, 0);
	/* (a damaged .msg attachment counts here too: it is folded in as
	 * "document-unreadable" anyway) */
	if (gsf_complaints != complaints)
		note(c, reasons, "document-unreadable", "damaged OLE2 structure");
	g_clear_error(&gerr);
	if (ole)
		g_object_unref(ole);
	if (in)
		g_object_unref(in);
	inspect_unmap(m, size);
	return w.err;
}

/* ---------- OOXML and ODF parts ---------- */

static bool package_ext(const char *lower_base)
{
	static const char *const ext[] = { ".docx", ".xlsx", ".pptx", ".xlsb", ".sldx", ".docm", ".xlsm", ".pptm", NULL };
	for (unsigned i = 0; ext[i]; i++)
		if (g_str_has_suffix(lower_base, ext[i]))
			return true;
	return false;
}

bool office_part_name(inspect_ctx *c, const char *part, GPtrArray *reasons)
{
	char *lower = g_ascii_strdown(part, -1);
	const char *base = inspect_basename(lower);
	bool explained = false;
	if (g_str_has_prefix(base, "vbaproject") && g_str_has_suffix(base, ".bin")) {
		note(c, reasons, "macro", NULL);
		explained = true;  /* a VBA project: no need to open it */
	} else if (strstr(lower, "macrosheets/")) {
		note(c, reasons, "macro", NULL);
	} else if (strstr(lower, "embeddings/")) {
		/* a chart's data is an embedded xlsx: opened as a zip, so
		 * its own content decides; OLE objects and packages are not */
		if (!package_ext(base))
			note(c, reasons, "embedded-object", NULL);
	} else if (strstr(lower, "activex/")) {
		note(c, reasons, "embedded-object", NULL);
	} else if ((g_str_has_prefix(lower, "basic/") || g_str_has_prefix(lower, "scripts/")) &&
	           strcmp(base, "script-lc.xml") != 0 && strcmp(base, "script-lb.xml") != 0 &&
	           strcmp(base, "dialog-lc.xml") != 0 && strcmp(base, "dialog-lb.xml") != 0 &&
	           lower[strlen(lower) - 1] != '/') {
		note(c, reasons, "macro", NULL);  /* ODF: LibreOffice Basic or scripts */
	}
	g_free(lower);
	return explained;
}

static bool external_link_part(const char *part)
{
	return g_ascii_strncasecmp(part, "xl/externalLinks/", 17) == 0 && g_str_has_suffix(part, ".xml");
}

bool office_part_wanted(const char *part)
{
	size_t n = strlen(part);
	return g_ascii_strcasecmp(part, "[Content_Types].xml") == 0 ||
	       (n >= 5 && g_ascii_strcasecmp(part + n - 5, ".rels") == 0) || external_link_part(part);
}

static char *prop(xmlNode *node, const char *name)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
	char *s = v ? g_strdup((const char *)v) : NULL;
	xmlFree(v);
	return s;
}

static void content_types(inspect_ctx *c, xmlNode *root, GPtrArray *reasons)
{
	for (xmlNode *n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		char *ct = prop(n, "ContentType");
		if (ct) {
			char *lower = g_ascii_strdown(ct, -1);
			if (strstr(lower, "macroenabled") || strstr(lower, "vbaproject") || strstr(lower, "macrosheet"))
				note(c, reasons, "macro", ct);
			g_free(lower);
		}
		g_free(ct);
	}
}

static void relationships(inspect_ctx *c, xmlNode *root, GPtrArray *reasons)
{
	for (xmlNode *n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "Relationship") != 0)
			continue;
		char *mode = prop(n, "TargetMode");
		if (mode && g_ascii_strcasecmp(g_strstrip(mode), "External") == 0) {
			char *type = prop(n, "Type"), *target = prop(n, "Target");
			bool hyperlink = type && g_str_has_suffix(type, "/hyperlink");
			if (remote_target(target) && !(hyperlink && web_link(target))) {
				char *detail = g_strdup_printf("%s %s", type ? inspect_basename(type) : "?", target);
				note(c, reasons, "external-reference", detail);
				g_free(detail);
			}
			g_free(type);
			g_free(target);
		}
		g_free(mode);
	}
}

/* Excel keeps a DDE formula (=cmd|'/c calc'!A0) as an external link
 * holding a ddeLink element. */
static void external_link(inspect_ctx *c, xmlNode *n, GPtrArray *reasons)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, "ddeLink") == 0) {
			char *svc = prop(n, "ddeService"), *topic = prop(n, "ddeTopic");
			char *d = g_strdup_printf("%s|%s", svc ? svc : "?", topic ? topic : "?");
			note_dde(c, reasons, d, strlen(d));
			g_free(d);
			g_free(svc);
			g_free(topic);
			return;
		}
		external_link(c, n->children, reasons);
	}
}

void office_part_xml(inspect_ctx *c, const char *part, const unsigned char *data, size_t len,
                     GPtrArray *reasons)
{
	office_init();
	if (len > INT_MAX) {
		note(c, reasons, "document-unreadable", "XML part too large");
		return;
	}
	/* no XML_PARSE_NOENT (no entity substitution), no DTD loading, no network */
	xmlDoc *doc = xmlReadMemory((const char *)data, (int)len, NULL, NULL,
	                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		/* Office repairs what it can, and the repair may well honour
		 * what a strict parser rejects: not looked at is suspect */
		note(c, reasons, "document-unreadable", "XML part is not well-formed");
	} else if (g_ascii_strcasecmp(part, "[Content_Types].xml") == 0) {
		content_types(c, root, reasons);
	} else if (external_link_part(part)) {
		external_link(c, root, reasons);
	} else {
		relationships(c, root, reasons);
	}
	if (doc)
		xmlFreeDoc(doc);
}

/* ---------- Word fields in WordprocessingML parts ---------- */

/* A SAX push parser over one word/...xml part, fed as archive.c inflates
 * it, so no part is held whole: the text of w:instrText runs between
 * w:fldChar marks, and w:fldSimple's w:instr, are field instructions.
 * Character references are resolved by the parser, so "&#68;DEAUTO" is
 * seen as Word sees it. */
struct office_fields {
	xmlParserCtxtPtr ctx;
	bool in_instr;
	char instr[64];
	size_t ilen;
	char *hit;          /* the first DDE instruction */
};

static void fields_check(office_fields *f, const char *s, size_t n)
{
	if (!f->hit && dde_instruction(s, n))
		f->hit = g_strndup(s, n);
}

static void fields_start(void *ud, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
                         int nns, const xmlChar **ns, int nattr, int ndef, const xmlChar **attr)
{
	(void)prefix, (void)uri, (void)nns, (void)ns, (void)ndef;
	office_fields *f = ud;
	const char *l = (const char *)local;
	if (strcmp(l, "instrText") == 0) {
		f->in_instr = true;
		return;
	}
	bool fld = strcmp(l, "fldChar") == 0, simple = strcmp(l, "fldSimple") == 0;
	if (!fld && !simple)
		return;
	if (fld) {
		/* begin, separate, end: the instruction so far is complete */
		fields_check(f, f->instr, f->ilen);
		f->ilen = 0;
		return;
	}
	/* attributes: localname, prefix, URI, value, end (5 pointers each) */
	for (int i = 0; i < nattr; i++)
		if (strcmp((const char *)attr[5 * i], "instr") == 0)
			fields_check(f, (const char *)attr[5 * i + 3], (size_t)(attr[5 * i + 4] - attr[5 * i + 3]));
}

static void fields_end(void *ud, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	(void)prefix, (void)uri;
	office_fields *f = ud;
	if (strcmp((const char *)local, "instrText") == 0)
		f->in_instr = false;
}

static void fields_text(void *ud, const xmlChar *s, int n)
{
	office_fields *f = ud;
	if (!f->in_instr || n <= 0)
		return;
	size_t take = MIN((size_t)n, sizeof f->instr - f->ilen);
	memcpy(f->instr + f->ilen, s, take);
	f->ilen += take;
}

office_fields *office_fields_new(const char *part)
{
	if (g_ascii_strncasecmp(part, "word/", 5) != 0 || !g_str_has_suffix(part, ".xml"))
		return NULL;
	office_init();
	static xmlSAXHandler sax;
	static gsize once;
	if (g_once_init_enter(&once)) {
		sax.initialized = XML_SAX2_MAGIC;
		sax.startElementNs = fields_start;
		sax.endElementNs = fields_end;
		sax.characters = fields_text;
		g_once_init_leave(&once, 1);
	}
	office_fields *f = g_new0(office_fields, 1);
	f->ctx = xmlCreatePushParserCtxt(&sax, f, NULL, 0, NULL);
	if (!f->ctx) {
		g_free(f);
		return NULL;
	}
	/* no network, no entity substitution, no DTD loading */
	xmlCtxtUseOptions(f->ctx, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	return f;
}

void office_fields_feed(office_fields *f, const unsigned char *data, size_t len)
{
	while (f && len > 0 && f->ctx->wellFormed) {
		int n = (int)MIN(len, (size_t)(1 << 20));
		xmlParseChunk(f->ctx, (const char *)data, n, 0);
		data += n;
		len -= (size_t)n;
	}
}

void office_fields_end(inspect_ctx *c, office_fields *f, bool complete, GPtrArray *reasons)
{
	if (!f)
		return;
	if (complete && f->ctx->wellFormed)
		xmlParseChunk(f->ctx, NULL, 0, 1);
	if (f->hit)
		note_dde(c, reasons, f->hit, strlen(f->hit));
	else if (complete && !f->ctx->wellFormed)
		/* Word repairs what it can; what was not looked at is suspect */
		note(c, reasons, "document-unreadable", "XML part is not well-formed");
	xmlFreeParserCtxt(f->ctx);
	g_free(f->hit);
	g_free(f);
}

/* ---------- RTF ---------- */

/* The first characters of the text of an RTF field instruction starting at
 * P[I] (after "\\fldinst"), as Word reads them: groups, control words and
 * "\\*" are skipped, "\\'hh" and "\\uN" (with its one fallback
 * character) give a character.  Into OUT, at most N bytes; returns the
 * count. */
static size_t rtf_field_text(const unsigned char *p, size_t len, size_t i, char *out, size_t n)
{
	size_t k = 0;
	int depth = 0;
	/* the delimiter space of \fldinst is not text */
	if (i < len && p[i] == ' ')
		i++;
	for (size_t steps = 0; i < len && k < n && steps < 4096; steps++) {
		unsigned char ch = p[i];
		if (ch == '{') {
			depth++;
			i++;
		} else if (ch == '}') {
			if (--depth < 0)
				break;  /* the end of the instruction's group */
			i++;
		} else if (ch == '\\' && i + 1 < len && g_ascii_isalpha(p[i + 1])) {
			size_t j = i + 1;
			while (j < len && g_ascii_isalpha(p[j]))
				j++;
			bool u = j - i == 2 && p[i + 1] == 'u';
			long v = 0;
			bool neg = j < len && p[j] == '-';
			if (neg)
				j++;
			while (j < len && g_ascii_isdigit(p[j]) && v < 0x110000)
				v = v * 10 + (p[j++] - '0');
			if (j < len && p[j] == ' ')
				j++;
			if (u && !neg && v > 0 && v < 0x80) {
				out[k++] = (char)v;
				if (j < len && p[j] != '\\' && p[j] != '{' && p[j] != '}')
					j++;  /* the fallback character */
			}
			i = j;
		} else if (ch == '\\' && i + 3 < len && p[i + 1] == '\'') {
			int hi = g_ascii_xdigit_value(p[i + 2]), lo = g_ascii_xdigit_value(p[i + 3]);
			if (hi >= 0 && lo >= 0)
				out[k++] = (char)(hi << 4 | lo);
			i += 4;
		} else if (ch == '\\' && i + 1 < len) {
			if (p[i + 1] != '*')
				out[k++] = (char)p[i + 1];  /* \\ \{ \} */
			i += 2;
		} else if (ch == '\r' || ch == '\n') {
			i++;
		} else {
			out[k++] = (char)ch;
			i++;
		}
	}
	return k;
}

void office_scan_rtf(inspect_ctx *c, const unsigned char *p, size_t len, GPtrArray *reasons)
{
	unsigned templates = 0;  /* a document has one; each costs a look ahead */
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] != '\\' || !g_ascii_isalpha(p[i + 1]))
			continue;
		char word[33];
		size_t j = i + 1, k = 0;
		while (j < len && g_ascii_isalpha(p[j])) {
			if (k < sizeof word - 1)
				word[k++] = g_ascii_tolower(p[j]);
			j++;
		}
		word[k] = '\0';
		/* \objattph only marks where Outlook draws an attachment of a
		 * TNEF, which is inspected as a file of its own */
		if (strncmp(word, "obj", 3) == 0 && strcmp(word, "objattph") != 0) {
			char detail[40];
			snprintf(detail, sizeof detail, "\\%s", word);
			note(c, reasons, "embedded-object", detail);
		} else if (strcmp(word, "fldinst") == 0) {
			char ins[16];
			size_t k = rtf_field_text(p, len, j, ins, sizeof ins);
			if (dde_instruction(ins, k))
				note_dde(c, reasons, ins, k);
		} else if (strcmp(word, "template") == 0 && templates++ < 16) {
			/* {\*\template path}: the template Word loads on open */
			size_t a = j, b;
			while (a < len && (p[a] == ' ' || p[a] == '\r' || p[a] == '\n'))
				a++;
			for (b = a; b < len && b - a < 1024 && p[b] != '}' && p[b] != '{'; b++)
				;
			char *target = g_strndup((const char *)p + a, b - a);
			for (char *t = target; *t; t++)
				if (*t == '\r' || *t == '\n')
					*t = ' ';
			/* RTF escapes a backslash as "\\" */
			GString *un = g_string_new(NULL);
			for (const char *t = target; *t; t++) {
				if (t[0] == '\\' && t[1] == '\\')
					t++;
				g_string_append_c(un, *t);
			}
			if (remote_target(un->str))
				note(c, reasons, "external-reference", un->str);
			g_string_free(un, TRUE);
			g_free(target);
		}
		i = j - 1;
	}
}
