/* test-inspect.c - the suspect-file detectors on real samples built here.
 *
 * Every sample is made by the test itself: zips (plain, ZipCrypto, AES,
 * bombs, nested) with libarchive's writer, OLE2 files with libgsf's
 * writer, PDFs and RTF as byte strings, object streams with zlib, TNEF
 * (winmail.dat) with a writer of its framing and MAPI properties here.
 * Each case asserts the exact set of reasons, and a false-positive set of
 * ordinary files must get none; TNEF cases also the exact findings.
 * textenc cases assert exact ranges.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sanitize/detect.h"
#include "sanitize/inspect.h"
#include "test/unit/tap.h"
#include <archive.h>
#include <gmime/gmime.h>
#include <archive_entry.h>
#include <gsf/gsf.h>
#include <qpdf/qpdf-c.h>
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

/* ---------- helpers ---------- */

static GByteArray *bytes(const void *p, size_t n)
{
	GByteArray *b = g_byte_array_sized_new((guint)n);
	g_byte_array_append(b, p, (guint)n);
	return b;
}

static GByteArray *str(const char *s)
{
	return bytes(s, strlen(s));
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *set_of(const GPtrArray *reasons)
{
	char **v = g_new0(char *, reasons->len + 1);
	for (guint i = 0; i < reasons->len; i++)
		v[i] = g_ptr_array_index(reasons, i);
	qsort(v, reasons->len, sizeof *v, cmp_strp);
	char *s = g_strjoinv(",", v);
	g_free(v);
	return s;
}

static char *want_set(const char *want)
{
	char **v = g_strsplit(want, ",", -1);
	if (!*want) {
		g_strfreev(v);
		return g_strdup("");
	}
	qsort(v, g_strv_length(v), sizeof *v, cmp_strp);
	char *s = g_strjoinv(",", v);
	g_strfreev(v);
	return s;
}

/* ---------- samples: plain bytes ---------- */

static const unsigned char pe_bytes[512] = {
	[0] = 'M', [1] = 'Z', [0x3c] = 0x80,
	[0x80] = 'P', [0x81] = 'E', [0x84] = 0x4c, [0x85] = 0x01,
	[0x94] = 0xe0, [0x96] = 0x02, [0x97] = 0x01, [0x98] = 0x0b, [0x99] = 0x01,
};
static const unsigned char png_bytes[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
	0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde,
};
static const unsigned char jpeg_bytes[] = {
	0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
};
static const unsigned char lnk_bytes[76] = {
	'L', 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46,
};
static const unsigned char elf_bytes[128] = {
	0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0,
};
static const unsigned char onenote_bytes[64] = {
	0xe4, 0x52, 0x5c, 0x7b, 0x8c, 0xd8, 0xa7, 0x4d, 0xae, 0xb1, 0x53, 0x78, 0xd0, 0x29, 0x96, 0xd3,
};

static GByteArray *s_pe(void) { return bytes(pe_bytes, sizeof pe_bytes); }
static GByteArray *s_png(void) { return bytes(png_bytes, sizeof png_bytes); }
static GByteArray *s_jpeg(void) { return bytes(jpeg_bytes, sizeof jpeg_bytes); }
static GByteArray *s_lnk(void) { return bytes(lnk_bytes, sizeof lnk_bytes); }
static GByteArray *s_elf(void) { return bytes(elf_bytes, sizeof elf_bytes); }
static GByteArray *s_onenote(void) { return bytes(onenote_bytes, sizeof onenote_bytes); }
static GByteArray *s_text(void) { return str("お世話になっております。\n資料を送付します。\n"); }
static GByteArray *s_prose(void)
{
	return str("Note: begin 644 is a mode you give uuencode.\nbegin 644 is a mode\nthat's all\nend\n");
}
static GByteArray *s_csv(void) { return str("name,amount\n\"Tanaka\",1200\n\"Sato\",3400\n"); }
static GByteArray *s_shell(void) { return str("#!/bin/sh\nrm -rf /tmp/x\n"); }
static GByteArray *s_svg(void)
{
	return str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">"
	           "<script>location='https://example.com/'</script></svg>\n");
}
static GByteArray *s_xml_data(void)
{
	return str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<invoice><no>123</no><amount>1200</amount></invoice>\n");
}
static GByteArray *s_html(void) { return str("<!DOCTYPE html>\n<html><head><title>x</title></head><body><script>location='x'</script></body></html>\n"); }

/* ---------- samples: PDF ---------- */

/* A PDF from its objects: header, objects, a trailer (no xref needed by
 * the scan, and readers rebuild it). */
static GByteArray *pdf_of(const char *objects, const char *trailer)
{
	GString *s = g_string_new("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
	g_string_append(s, objects);
	g_string_append_printf(s, "trailer\n%s\nstartxref\n0\n%%%%EOF\n", trailer ? trailer : "<< /Root 1 0 R /Size 4 >>");
	GByteArray *b = bytes(s->str, s->len);
	g_string_free(s, TRUE);
	return b;
}

#define PDF_PAGES \
	"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n" \
	"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n" \
	"4 0 obj\n<< /Length 44 >>\nstream\nBT /F1 24 Tf 100 700 Td (Hello /JS) Tj ET\nendstream\nendobj\n"

static GByteArray *s_pdf_clean(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" PDF_PAGES, NULL);
}
static GByteArray *s_pdf_open_dest(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>\nendobj\n" PDF_PAGES, NULL);
}
static GByteArray *s_pdf_open_goto_ref(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>\nendobj\n" PDF_PAGES
	              "5 0 obj\n<< /S /GoTo /D [3 0 R /XYZ 0 792 0] >>\nendobj\n", NULL);
}
static GByteArray *s_pdf_js(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>\nendobj\n"
	              PDF_PAGES, NULL);
}
static GByteArray *s_pdf_hex(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Names << /#4aavaScr#69pt 5 0 R >> >>\nendobj\n" PDF_PAGES
	              "5 0 obj\n<< /Names [(a) 6 0 R] >>\nendobj\n", NULL);
}
static GByteArray *s_pdf_launch(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>\nendobj\n" PDF_PAGES
	              "5 0 obj\n<< /S /Launch /F (cmd.exe) >>\nendobj\n", NULL);
}
static GByteArray *s_pdf_embedded(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 5 0 R >> >>\nendobj\n" PDF_PAGES
	              "5 0 obj\n<< /Names [(a.exe) 6 0 R] >>\nendobj\n", NULL);
}
static GByteArray *s_pdf_encrypted(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" PDF_PAGES
	              "9 0 obj\n<< /Filter /Standard /V 2 /R 3 /O (x) /U (y) /P -4 >>\nendobj\n",
	              "<< /Root 1 0 R /Size 10 /Encrypt 9 0 R /ID [<00><00>] >>");
}
/* The catalog with /OpenAction and the JavaScript action inside a
 * FlateDecode object stream, so nothing shows in the raw bytes. */
static GByteArray *s_pdf_objstm(void)
{
	const char *objs = "1 0 5 67 "
	                   "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>              \n"
	                   "<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>";
	uLongf zlen = compressBound(strlen(objs));
	unsigned char *z = g_malloc(zlen);
	compress(z, &zlen, (const Bytef *)objs, strlen(objs));
	GString *s = g_string_new("%PDF-1.7\n");
	g_string_append(s, PDF_PAGES);
	g_string_append_printf(s, "7 0 obj\n<< /Type /ObjStm /N 2 /First 9 /Filter /FlateDecode /Length %lu >>\nstream\n", (unsigned long)zlen);
	g_string_append_len(s, (const char *)z, (gssize)zlen);
	g_string_append(s, "\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
	g_free(z);
	GByteArray *b = bytes(s->str, s->len);
	g_string_free(s, TRUE);
	return b;
}
/* MAKE's PDF written by qpdf with AES-256 (R6) encryption, USER and OWNER
 * passwords, objects packed into (encrypted) object streams: then no name
 * of an object inside them shows in the raw bytes. */
static GByteArray *pdf_encrypt(GByteArray *(*make)(void), const char *user, const char *owner)
{
	GByteArray *in = make();
	qpdf_data q = qpdf_init();
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if (qpdf_read_memory(q, "sample", (const char *)in->data, in->len, "") & QPDF_ERRORS) {
		fprintf(stderr, "qpdf: %s\n", qpdf_get_error_full_text(q, qpdf_get_error(q)));
		abort();
	}
	qpdf_init_write_memory(q);
	qpdf_set_object_stream_mode(q, qpdf_o_generate);
	qpdf_set_r6_encryption_parameters2(q, user, owner, QPDF_TRUE, QPDF_TRUE, QPDF_FALSE, QPDF_FALSE,
	                                   QPDF_FALSE, QPDF_FALSE, qpdf_r3p_low, QPDF_TRUE);
	if (qpdf_write(q) & QPDF_ERRORS) {
		fprintf(stderr, "qpdf: %s\n", qpdf_get_error_full_text(q, qpdf_get_error(q)));
		abort();
	}
	GByteArray *out = bytes(qpdf_get_buffer(q), qpdf_get_buffer_length(q));
	qpdf_cleanup(&q);
	g_byte_array_unref(in);
	if (memmem(out->data, out->len, "JavaScript", 10))
		abort();   /* the sample would not need decrypting */
	return out;
}
static GByteArray *s_pdf_owner_only(void) { return pdf_encrypt(s_pdf_clean, "", "hanko"); }
/* document JavaScript in a name tree: objects qpdf packs into streams */
static GByteArray *s_pdf_names_js(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Names 5 0 R >>\nendobj\n" PDF_PAGES
	              "5 0 obj\n<< /JavaScript 6 0 R >>\nendobj\n6 0 obj\n<< /Names [(a) 7 0 R] >>\nendobj\n"
	              "7 0 obj\n<< /S /JavaScript /JS (app.alert\\(1\\)) >>\nendobj\n", "<< /Root 1 0 R /Size 8 >>");
}
static GByteArray *s_pdf_owner_only_js(void) { return pdf_encrypt(s_pdf_names_js, "", "hanko"); }
static GByteArray *s_pdf_user_password(void) { return pdf_encrypt(s_pdf_names_js, "himitsu", "hanko"); }
/* A string saying ">> stream" must not make the scan skip the objects
 * after it as stream data. */
static GByteArray *s_pdf_fake_stream(void)
{
	return pdf_of("1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Title (>> stream\n) /OpenAction << /S /JavaScript /JS 6 0 R >> /Length 5 >>\nstream\nhello\nendstream\nendobj\n"
	              PDF_PAGES, NULL);
}

/* ---------- samples: RTF ---------- */

static GByteArray *s_rtf_clean(void) { return str("{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 MS Mincho;}}\\f0 Hello \\par}\n"); }
static GByteArray *s_rtf_object(void)
{
	return str("{\\rtf1\\ansi {\\object\\objemb\\objw100\\objh100 {\\*\\objclass Equation.3}{\\*\\objdata 01050000020000000b000000}}}\n");
}
static GByteArray *s_rtf_template(void)
{
	return str("{\\rtf1\\ansi {\\*\\template http://198.51.100.7/t.doc}Hello}\n");
}
static GByteArray *s_rtf_local_template(void)
{
	return str("{\\rtf1\\ansi {\\*\\template C:\\\\Users\\\\tanaka\\\\Normal.dotm}Hello}\n");
}

/* DDE fields: Word starts the program the instruction names */
static GByteArray *s_rtf_dde(void)
{
	return str("{\\rtf1\\ansi {\\field{\\*\\fldinst {\\rtlch\\fcs1 DDEAUTO} c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc.exe\"}{\\fldrslt x}}}\n");
}
/* the letters as \u escapes and split over groups */
static GByteArray *s_rtf_dde_escaped(void)
{
	return str("{\\rtf1\\ansi {\\field{\\*\\fldinst {\\u68?}{\\'44}E{\\b auto} cmd.exe}{\\fldrslt x}}}\n");
}
static GByteArray *s_rtf_page_field(void)
{
	return str("{\\rtf1\\ansi Page {\\field{\\*\\fldinst PAGE \\\\* MERGEFORMAT}{\\fldrslt 1}} of DDE notes\\par}\n");
}

/* ---------- samples: archives (libarchive's writer) ---------- */

typedef struct ent {
	const char *name;
	const void *data;   /* NULL with len > 0: that many zero bytes */
	size_t len;
	GByteArray *owned;  /* data from another builder, freed after */
} ent;

static la_ssize_t sink_write(struct archive *a, void *d, const void *buf, size_t n)
{
	(void)a;
	g_byte_array_append(d, buf, (guint)n);
	return (la_ssize_t)n;
}

enum afmt { A_ZIP, A_7Z, A_TARGZ, A_GZ, A_ISO };

static GByteArray *archive_of(enum afmt fmt, const char *options, const ent *e, size_t n)
{
	static const unsigned char zeros[1 << 16];
	/* names are UTF-8: write them under a UTF-8 locale, as a Japanese
	 * Windows zip tool would store them with the UTF-8 flag */
	locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), old = uselocale(loc);
	GByteArray *out = g_byte_array_new();
	struct archive *a = archive_write_new();
	switch (fmt) {
	case A_ZIP: archive_write_set_format_zip(a); break;
	case A_7Z: archive_write_set_format_7zip(a); break;
	case A_TARGZ: archive_write_set_format_pax_restricted(a); archive_write_add_filter_gzip(a); break;
	case A_GZ: archive_write_set_format_raw(a); archive_write_add_filter_gzip(a); break;
	case A_ISO: archive_write_set_format_iso9660(a); break;
	}
	if (options) {
		int r = archive_write_set_options(a, options);
		if (r != ARCHIVE_OK)
			fprintf(stderr, "# options %s: %s\n", options, archive_error_string(a));
		archive_write_set_passphrase(a, "himitsu");
	}
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open(a, out, NULL, sink_write, NULL);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname_utf8(ae, e[i].name);
		size_t len = e[i].owned ? e[i].owned->len : e[i].len;
		const void *data = e[i].owned ? e[i].owned->data : e[i].data;
		bool dir = g_str_has_suffix(e[i].name, "/");
		archive_entry_set_filetype(ae, dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(ae, dir ? 0755 : 0644);
		archive_entry_set_size(ae, (la_int64_t)len);
		archive_entry_set_mtime(ae, 1700000000, 0);
		archive_write_header(a, ae);
		for (size_t off = 0; off < len;) {
			size_t k = data ? len - off : MIN(len - off, sizeof zeros);
			archive_write_data(a, data ? (const char *)data + off : (const void *)zeros, k);
			off += k;
		}
		archive_entry_free(ae);
		if (e[i].owned)
			g_byte_array_unref(e[i].owned);
	}
	archive_write_close(a);
	archive_write_free(a);
	uselocale(old);
	freelocale(loc);
	return out;
}
#define ZIP(...) archive_of(A_ZIP, NULL, (ent[]){ __VA_ARGS__ }, sizeof((ent[]){ __VA_ARGS__ }) / sizeof(ent))
#define ARCH(fmt, opt, ...) archive_of(fmt, opt, (ent[]){ __VA_ARGS__ }, sizeof((ent[]){ __VA_ARGS__ }) / sizeof(ent))
#define S(name, s) { name, s, sizeof s - 1, NULL }
#define B(name, builder) { name, NULL, 0, builder() }

static const char ct_docx[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	"<Default Extension=\"png\" ContentType=\"image/png\"/>"
	"<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
	"<Override PartName=\"/word/settings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml\"/>"
	"</Types>";
static const char ct_docm[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	"<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
	"<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/>"
	"</Types>";
static const char ct_xlsx[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	"<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
	"<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
	"</Types>";
static const char rels_root_docx[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>"
	"</Relationships>";
static const char rels_root_xlsx[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>"
	"</Relationships>";
/* a web hyperlink and a local template: both ordinary */
static const char rels_doc_ordinary[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings\" Target=\"settings.xml\"/>"
	"<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink\" Target=\"https://www.city.example.lg.jp/\" TargetMode=\"External\"/>"
	"<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/image\" Target=\"media/image1.png\"/>"
	"</Relationships>";
static const char rels_settings_local[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate\" Target=\"file:///C:\\Users\\tanaka\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm\" TargetMode=\"External\"/>"
	"</Relationships>";
/* remote template injection, with TargetMode written as character references */
static const char rels_settings_remote[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id='rId1' Type='http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate' Target='http://198.51.100.7/t.dotm' TargetMode='&#69;xternal'/>"
	"</Relationships>";
static const char doc_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>議事録</w:t></w:r></w:p></w:body></w:document>";
static const char settings_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<w:settings xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"/>";
static const char wb_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\"/></sheets></workbook>";
static const char sheet_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c></row></sheetData></worksheet>";

static GByteArray *s_pdf_clean2(void) { return s_pdf_clean(); }
static GByteArray *s_ole_package(void);

static GByteArray *s_docx(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx),
	           S("word/document.xml", doc_xml), S("word/settings.xml", settings_xml),
	           S("word/_rels/document.xml.rels", rels_doc_ordinary),
	           S("word/_rels/settings.xml.rels", rels_settings_local), B("word/media/image1.png", s_png));
}
static GByteArray *s_xlsx(void)
{
	return ZIP(S("[Content_Types].xml", ct_xlsx), S("_rels/.rels", rels_root_xlsx),
	           S("xl/workbook.xml", wb_xml), S("xl/worksheets/sheet1.xml", sheet_xml));
}
static GByteArray *s_docx_remote(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx),
	           S("word/document.xml", doc_xml), S("word/settings.xml", settings_xml),
	           S("word/_rels/settings.xml.rels", rels_settings_remote));
}
static GByteArray *s_docx_ole(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx),
	           S("word/document.xml", doc_xml), B("word/embeddings/oleObject1.bin", s_ole_package));
}
#define W_DOC(body) "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n" \
	"<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p>" body "</w:p></w:body></w:document>"
/* the instruction split over runs, as Word writes it after an edit */
static const char doc_xml_dde[] = W_DOC(
	"<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText xml:space=\"preserve\"> DDE</w:instrText></w:r>"
	"<w:r><w:instrText>AUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc.exe\"</w:instrText></w:r>"
	"<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r><w:r><w:t>x</w:t></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r>");
static const char doc_xml_dde_simple[] = W_DOC("<w:fldSimple w:instr=\"&#68;DE cmd &quot;/c calc&quot; x\"><w:r><w:t>x</w:t></w:r></w:fldSimple>");
static const char doc_xml_fields[] = W_DOC(
	"<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r>"
	"<w:fldSimple w:instr=\" HYPERLINK &quot;https://www.city.example.lg.jp/&quot; \"><w:r><w:t>DDE</w:t></w:r></w:fldSimple>"
	"<w:r><w:t>DDEAUTO is a field name</w:t></w:r>");
static GByteArray *s_docx_dde(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx), S("word/document.xml", doc_xml_dde));
}
static GByteArray *s_docx_dde_footer(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx), S("word/document.xml", doc_xml),
	           S("word/footer1.xml", doc_xml_dde_simple));
}
static GByteArray *s_docx_fields(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx), S("word/document.xml", doc_xml_fields));
}
/* a document.xml longer than the head archive.c reads first (36 KiB),
 * the field at its end */
static GByteArray *s_docx_dde_late(void)
{
	GString *x = g_string_new(NULL);
	for (int i = 0; i < 3000; i++)
		g_string_append(x, "<w:r><w:t>議事録の本文です。</w:t></w:r>");
	g_string_append(x, "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>DDEAUTO cmd \"/c calc\"</w:instrText></w:r>"
	                   "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r>");
	char *d = g_strdup_printf(W_DOC("%s"), x->str);
	g_string_free(x, TRUE);
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx),
	           { "word/document.xml", NULL, 0, g_byte_array_new_take((guint8 *)d, strlen(d)) });
}
static GByteArray *s_xlsx_ddelink(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx), S("xl/workbook.xml", wb_xml),
	           S("xl/externalLinks/externalLink1.xml",
	             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<externalLink xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
	             "<ddeLink ddeService=\"cmd\" ddeTopic=\"/c calc\"><ddeItems><ddeItem name=\"A0\" advise=\"1\"/></ddeItems></ddeLink></externalLink>"));
}
static GByteArray *s_docx_badxml(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", "<Relationships><Relationship"),
	           S("word/document.xml", doc_xml));
}
/* libmagic calls a zip whose first entries are not OOXML-ish plain zip */
static GByteArray *s_docm(void)
{
	return ZIP(S("_rels/.rels", rels_root_docx), S("word/document.xml", doc_xml),
	           S("[Content_Types].xml", ct_docm), S("word/vbaProject.bin", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 VBA"));
}
static GByteArray *s_xlsm_sheet(void)
{
	return ZIP(S("[Content_Types].xml", ct_xlsx), S("_rels/.rels", rels_root_xlsx),
	           S("xl/workbook.xml", wb_xml), S("xl/macrosheets/sheet1.xml", sheet_xml));
}
static GByteArray *s_odt_basic(void)
{
	return ZIP(S("mimetype", "application/vnd.oasis.opendocument.text"),
	           S("content.xml", "<office:document-content/>"),
	           S("Basic/script-lc.xml", "<library:libraries/>"),
	           S("Basic/Standard/Module1.xml", "<script:module>Sub Main\nShell \"calc\"\nEnd Sub</script:module>"));
}
/* Package XML parts skip libmagic's text tests only while they are text
 * that starts with a tag; anything else is detected as any entry is. */
static GByteArray *s_xml_part(void) { return str("\xef\xbb\xbf\r\n<w:document>0123456789abcdef</w:document>"); }
static GByteArray *s_docx_pe_part(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx), B("word/document.xml", s_pe));
}
static GByteArray *s_docx_script_part(void)
{
	return ZIP(S("[Content_Types].xml", ct_docx), S("_rels/.rels", rels_root_docx),
	           S("word/document.xml", "#!/bin/sh\nrm -rf /tmp/x\n"));
}
static GByteArray *s_zip_pdfs(void)
{
	return ZIP(B("見積書.pdf", s_pdf_clean), B("請求書.pdf", s_pdf_clean2), S("資料/", ""));
}
static GByteArray *s_zip_exe(void) { return ZIP(B("資料/setup.exe", s_pe)); }
static GByteArray *s_zip_double(void) { return ZIP(B("invoice.pdf.exe", s_png)); }
static GByteArray *s_zip_fullwidth(void) { return ZIP(S("請求書．ｊｓ", "WScript.Echo(1)\n")); }
static GByteArray *s_zip_pdf_js(void) { return ZIP(B("a.pdf", s_pdf_js)); }
static GByteArray *s_zip_docm(void) { return ZIP(B("会議資料.docm", s_docm)); }
static GByteArray *s_zip_exe_as_pdf(void) { return ZIP(B("invoice.pdf", s_pe)); }
static GByteArray *s_zipcrypt(void)
{
	return ARCH(A_ZIP, "zip:encryption=zipcrypt", B("見積書.pdf", s_pdf_clean));
}
static GByteArray *s_zipcrypt_exe(void)
{
	return ARCH(A_ZIP, "zip:encryption=zipcrypt", B("見積書.pdf", s_pdf_clean), B("見積書.exe", s_pe));
}
static GByteArray *s_zipaes(void)
{
	return ARCH(A_ZIP, "zip:encryption=aes256", B("見積書.xlsx", s_xlsx));
}
static GByteArray *s_zip_bomb(void)
{
	return ZIP({ "zeros.bin", NULL, 50u << 20, NULL });
}
/* 2 MiB that do not compress */
static GByteArray *s_zip_random(void)
{
	GByteArray *r = g_byte_array_sized_new(2u << 20);
	guint32 x = 2463534242u;
	for (unsigned i = 0; i < (2u << 20); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;  /* xorshift32 */
		g_byte_array_append(r, (const guint8 *)&x, 1);
	}
	return archive_of(A_ZIP, NULL, (ent[]){ { "noise.bin", NULL, 0, r } }, 1);
}
/* compresses a thousand times, but is small: an ordinary blank sheet */
static GByteArray *s_zip_small_zeros(void) { return ZIP({ "blank.csv", NULL, 900u << 10, NULL }); }
static GByteArray *s_zip_nest2(void) { return ZIP(B("inner.zip", s_zip_exe)); }
static GByteArray *s_zip_nest3(void) { return ZIP(B("inner2.zip", s_zip_nest2)); }
static GByteArray *s_zip_nest4(void) { return ZIP(B("inner3.zip", s_zip_nest3)); }
static GByteArray *s_zip_many(void)
{
	ent e[12];
	char names[12][16];
	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof names[i], "f%02d.txt", i);
		e[i] = (ent){ names[i], "x", 1, NULL };
	}
	return archive_of(A_ZIP, NULL, e, 12);
}
static GByteArray *s_zip_truncated(void)
{
	GByteArray *b = s_zip_pdfs();
	g_byte_array_set_size(b, b->len / 2);
	return b;
}
static GByteArray *s_zip_rlo(void) { return ZIP(S("report\xe2\x80\xae" "fdp.scr", "MZ")); }
static GByteArray *s_targz_exe(void) { return ARCH(A_TARGZ, NULL, B("a/b/tool.exe", s_pe), S("a/readme.txt", "hello\n")); }
static GByteArray *s_7z_js(void) { return ARCH(A_7Z, NULL, S("invoice.js", "var s = new ActiveXObject('WScript.Shell');\n")); }
static GByteArray *s_gz_pe(void) { return ARCH(A_GZ, NULL, B("data", s_pe)); }
static GByteArray *s_iso_exe(void) { return ARCH(A_ISO, NULL, B("SETUP.EXE", s_pe), S("README.TXT", "hello\n")); }
static GByteArray *s_targz_clean(void) { return ARCH(A_TARGZ, NULL, B("docs/a.pdf", s_pdf_clean), S("docs/readme.txt", "hello\n")); }
/* polyglots: a zip appended to a picture or a PDF */
static GByteArray *cat(GByteArray *(*a)(void), size_t pad, GByteArray *(*b)(void))
{
	GByteArray *x = a(), *y = b();
	for (size_t i = 0; i < pad; i++)
		g_byte_array_append(x, (const guint8 *)"\xa5", 1);
	g_byte_array_append(x, y->data, y->len);
	g_byte_array_unref(y);
	return x;
}
static GByteArray *s_empty(void) { return g_byte_array_new(); }
static GByteArray *s_jpeg_zip_exe(void) { return cat(s_jpeg, 0, s_zip_exe); }
static GByteArray *s_jpeg_big_zip_exe(void) { return cat(s_jpeg, 60000, s_zip_exe); }
static GByteArray *s_pdf_zip_exe(void) { return cat(s_pdf_clean, 0, s_zip_exe); }
static GByteArray *s_zip_jpeg_zip(void) { return ZIP(B("写真.jpg", s_jpeg_zip_exe)); }
static GByteArray *s_zip_big_jpeg_zip(void) { return ZIP(B("写真.jpg", s_jpeg_big_zip_exe)); }
static GByteArray *s_zip_pdf_zip(void) { return ZIP(B("見積書.pdf", s_pdf_zip_exe)); }
/* the signature by chance, with a comment length that does not reach the end */
static GByteArray *s_png_pk_bytes(void)
{
	GByteArray *b = s_png();
	static const guint8 eocd[22] = { 'P', 'K', 5, 6, 0, 0, 0, 0, 1, 0, 1, 0, 10, 0, 0, 0, 0, 0, 0, 0, 9, 0 };
	g_byte_array_append(b, eocd, sizeof eocd);
	g_byte_array_append(b, (const guint8 *)"1234", 4);
	return b;
}

/* a format libarchive cannot open: what is inside was not looked at */
static GByteArray *s_binhex(void)
{
	return str("(This file must be converted with BinHex 4.0)\n:$f*TEQKPFRP0B@-ZFR0bB`\"bFh*M8P0&4!%!N!-S!*!%!!!\n");
}
static GByteArray *s_zip_svg_xml(void) { return ZIP(B("image.xml", s_svg)); }
static GByteArray *s_zip_iso_name(void) { return ZIP(S("disk.iso", "not really")); }

/* ---------- samples: mail messages (.eml, encoded message/rfc822) ---------- */

/* base64 of B: in 76-column lines, or CHUNKED in padded two-byte pieces
 * (GMime's own decoder stops at the first '='; clients decode them all). */
static void b64_append(GString *s, const GByteArray *b, bool chunked)
{
	if (chunked) {
		for (guint i = 0; i < b->len; i += 2) {
			char *e = g_base64_encode(b->data + i, MIN(2u, b->len - i));
			g_string_append(s, e);
			g_free(e);
			if ((i / 2) % 19 == 18)
				g_string_append_c(s, '\n');
		}
		g_string_append_c(s, '\n');
		return;
	}
	char *e = g_base64_encode(b->data, b->len);
	for (size_t i = 0, n = strlen(e); i < n; i += 76)
		g_string_append_printf(s, "%.*s\n", (int)MIN((size_t)76, n - i), e + i);
	g_free(e);
}

/* A message with a text body and, when FILE is set, one attachment NAME
 * of type TYPE holding FILE's bytes in base64. */
static GByteArray *eml_with(const char *name, const char *type, GByteArray *(*file)(void), bool chunked)
{
	GString *s = g_string_new("From: 山田 <yamada@example.co.jp>\nTo: staff@city.example.lg.jp\n"
	                          "Subject: fw\nMIME-Version: 1.0\n"
	                          "Content-Type: multipart/mixed; boundary=\"e\"\n\n"
	                          "--e\nContent-Type: text/plain; charset=utf-8\n\nご確認ください。\n"
	                          "--e\nContent-Type: text/html; charset=utf-8\n\n<p>ご確認<script>x()</script></p>\n");
	if (file) {
		GByteArray *b = file();
		g_string_append_printf(s, "--e\nContent-Type: %s; name=\"%s\"\nContent-Disposition: attachment\n"
		                          "Content-Transfer-Encoding: base64\n\n", type, name);
		b64_append(s, b, chunked);
		g_byte_array_unref(b);
	}
	g_string_append(s, "--e--\n");
	gsize len = s->len;
	return g_byte_array_new_take((guint8 *)g_string_free(s, FALSE), len);
}
static GByteArray *s_eml_pdf(void) { return eml_with("見積書.pdf", "application/pdf", s_pdf_clean, false); }
static GByteArray *s_eml_text(void) { return eml_with(NULL, NULL, NULL, false); }
static GByteArray *s_eml_exe(void) { return eml_with("請求書.exe", "application/octet-stream", s_pe, false); }
static GByteArray *s_eml_exe_chunked(void) { return eml_with("data.bin", "application/octet-stream", s_pe, true); }
static GByteArray *s_eml_zip_exe(void) { return eml_with("資料.zip", "application/zip", s_zip_exe, false); }
/* the message attached to another one, encoded (GMime does not look in) */
static GByteArray *s_eml_in_eml(void) { return eml_with("fw.eml", "message/rfc822", s_eml_exe, false); }
static GByteArray *s_eml_in_eml2(void) { return eml_with("fw2.eml", "message/rfc822", s_eml_in_eml, false); }
static GByteArray *s_eml_in_eml3(void) { return eml_with("fw3.eml", "message/rfc822", s_eml_in_eml2, false); }
static GByteArray *s_eml_many(void)
{
	GString *s = g_string_new("From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"e\"\n\n");
	for (int i = 0; i < 12; i++)
		g_string_append_printf(s, "--e\nContent-Type: text/plain; name=\"f%02d.txt\"\n\nx\n", i);
	g_string_append(s, "--e--\n");
	gsize len = s->len;
	return g_byte_array_new_take((guint8 *)g_string_free(s, FALSE), len);
}

/* ---------- samples: OLE2 (libgsf's writer) ---------- */

typedef struct oent {
	const char *path;   /* "Storage/Sub/stream"; storages are made as needed */
	const void *data;
	size_t len;
} oent;

static GByteArray *ole_of(const oent *e, size_t n)
{
	GsfOutput *mem = gsf_output_memory_new();
	GsfOutfile *root = gsf_outfile_msole_new(mem);
	GHashTable *dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *order = g_ptr_array_new();
	for (size_t i = 0; i < n; i++) {
		char **parts = g_strsplit(e[i].path, "/", -1);
		guint np = g_strv_length(parts);
		GsfOutfile *dir = root;
		GString *p = g_string_new(NULL);
		for (guint k = 0; k + 1 < np; k++) {
			g_string_append_printf(p, "/%s", parts[k]);
			GsfOutfile *d = g_hash_table_lookup(dirs, p->str);
			if (!d) {
				d = GSF_OUTFILE(gsf_outfile_new_child(dir, parts[k], TRUE));
				g_hash_table_insert(dirs, g_strdup(p->str), d);
				g_ptr_array_add(order, d);
			}
			dir = d;
		}
		if (*parts[np - 1]) {
			GsfOutput *s = gsf_outfile_new_child(dir, parts[np - 1], FALSE);
			gsf_output_write(s, e[i].len, e[i].data);
			gsf_output_close(s);
			g_object_unref(s);
		}
		g_string_free(p, TRUE);
		g_strfreev(parts);
	}
	for (guint i = order->len; i-- > 0;) {
		gsf_output_close(g_ptr_array_index(order, i));
		g_object_unref(g_ptr_array_index(order, i));
	}
	gsf_output_close(GSF_OUTPUT(root));
	GByteArray *b = bytes(gsf_output_memory_get_bytes(GSF_OUTPUT_MEMORY(mem)), (size_t)gsf_output_size(mem));
	g_object_unref(root);
	g_object_unref(mem);
	g_hash_table_unref(dirs);
	g_ptr_array_unref(order);
	return b;
}
#define OLE(...) ole_of((oent[]){ __VA_ARGS__ }, sizeof((oent[]){ __VA_ARGS__ }) / sizeof(oent))

static const unsigned char fib_plain[64] = { 0xec, 0xa5, 0xc1, 0x00 };
static const unsigned char fib_encrypted[64] = { 0xec, 0xa5, 0xc1, 0x00, [11] = 0x01 };
static const unsigned char compobj[] = { 1, 0, 0xfe, 0xff, 3, 0x0a, 0, 0 };
/* BIFF8 globals: BOF, BOUNDSHEET (type DT), EOF */
#define BIFF(dt) { 0x09, 0x08, 16, 0, 0, 6, 5, 0, [20] = 0x85, 0, 14, 0, 0, 0, 0, 0, 0, dt, 6, 0, 'S', 'h', 'e', 'e', 't', '1', 0x0a, 0, 0, 0 }
static const unsigned char biff_plain[] = BIFF(0);
static const unsigned char biff_xlm[] = BIFF(1);
static const unsigned char biff_filepass[] = { 0x09, 0x08, 16, 0, 0, 6, 5, 0, [20] = 0x2f, 0, 2, 0, 0, 0, 0x0a, 0, 0, 0 };
/* "請求書.exe" in UTF-16LE */
static const unsigned char att_name[] = { 0xcb, 0x8a, 0x42, 0x6c, 0xf8, 0x66, '.', 0, 'e', 0, 'x', 0, 'e', 0, 0, 0 };

static GByteArray *s_doc_clean(void)
{
	return OLE({ "\001CompObj", compobj, sizeof compobj }, { "WordDocument", fib_plain, sizeof fib_plain },
	           { "1Table", "\0\0\0\0", 4 });
}
static GByteArray *s_doc_vba(void)
{
	return OLE({ "\001CompObj", compobj, sizeof compobj }, { "WordDocument", fib_plain, sizeof fib_plain },
	           { "Macros/VBA/dir", "\x01\x00\x00", 3 }, { "Macros/VBA/ThisDocument", "Attribute", 9 },
	           { "Macros/PROJECT", "ID=\"{}\"", 7 });
}
/* Word 97-2003 text with a field: 0x13, instruction, 0x14, result, 0x15;
 * once as 8-bit text and once as UTF-16 */
static GByteArray *s_doc_dde(void)
{
	static const char text[] = "Dear customer\r\x13 DDEAUTO c:\\windows\\system32\\cmd.exe \"/k calc\"\x14x\x15\r";
	guint8 wd[64 + sizeof text] = { 0xec, 0xa5, 0xc1, 0x00 };
	memcpy(wd + 64, text, sizeof text);
	return OLE({ "WordDocument", wd, sizeof wd }, { "1Table", "\0\0\0\0", 4 });
}
static GByteArray *s_doc_dde_wide(void)
{
	static const char text[] = "\x13 ddeauto cmd \"/c calc\"\x14x\x15";
	guint8 wd[200] = { 0xec, 0xa5, 0xc1, 0x00 };
	for (size_t i = 0; i < sizeof text - 1; i++)
		wd[64 + 2 * i] = (guint8)text[i];
	return OLE({ "WordDocument", wd, sizeof wd }, { "1Table", "\0\0\0\0", 4 });
}
static GByteArray *s_doc_page_field(void)
{
	static const char text[] = "Page \x13 PAGE \x14 1\x15 - DDE notes\r";
	guint8 wd[64 + sizeof text] = { 0xec, 0xa5, 0xc1, 0x00 };
	memcpy(wd + 64, text, sizeof text);
	return OLE({ "WordDocument", wd, sizeof wd }, { "1Table", "\0\0\0\0", 4 });
}
/* PowerPoint 97-2003 records: 8-byte header (recVer/recInstance, recType,
 * recLen), containers have recVer 0xF and their children inside */
static void ppt_rec(GByteArray *b, unsigned ver, unsigned type, const void *data, guint32 len)
{
	guint8 h[8] = { (guint8)ver, 0, (guint8)type, (guint8)(type >> 8),
	                (guint8)len, (guint8)(len >> 8), (guint8)(len >> 16), (guint8)(len >> 24) };
	g_byte_array_append(b, h, 8);
	if (data)
		g_byte_array_append(b, data, len);
}
static GByteArray *ppt_of(bool vba, bool object)
{
	GByteArray *kids = g_byte_array_new();
	ppt_rec(kids, 0, 0x0fa0, "H\0i\0", 4);  /* TextCharsAtom */
	if (vba) {
		ppt_rec(kids, 0x0f, 0x03ff, NULL, 20);  /* VbaInfo { VbaInfoAtom } */
		ppt_rec(kids, 2, 0x0400, "\1\0\0\0\0\0\0\0\2\0\0\0", 12);
	}
	GByteArray *st = g_byte_array_new();
	ppt_rec(st, 0x0f, 0x03e8, NULL, kids->len);  /* Document { ... } */
	g_byte_array_append(st, kids->data, kids->len);
	if (vba)
		ppt_rec(st, 0, 0x1011, "VBA!", 4);  /* ExOleObjStg of the project */
	if (object)
		ppt_rec(st, 0, 0x1011, "OLE!", 4);
	static const guint8 cu[16] = { 0x14, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 0, 0, 0x5f, 0xc0, 0x91, 0xe3 };
	GByteArray *b = OLE({ "Current User", cu, sizeof cu }, { "PowerPoint Document", st->data, st->len });
	g_byte_array_unref(kids);
	g_byte_array_unref(st);
	return b;
}
static GByteArray *s_ppt_plain(void) { return ppt_of(false, false); }
static GByteArray *s_ppt_vba(void) { return ppt_of(true, false); }
static GByteArray *s_ppt_object(void) { return ppt_of(false, true); }
static GByteArray *s_ppt_vba_object(void) { return ppt_of(true, true); }
static GByteArray *s_doc_encrypted(void)
{
	return OLE({ "WordDocument", fib_encrypted, sizeof fib_encrypted }, { "1Table", "\0\0\0\0", 4 });
}
static GByteArray *s_doc_package(void)
{
	return OLE({ "WordDocument", fib_plain, sizeof fib_plain },
	           { "ObjectPool/_1234567890/\001Ole10Native", "\x10\0\0\0a.exe\0", 10 },
	           { "ObjectPool/_1234567890/\001CompObj", compobj, sizeof compobj });
}
static GByteArray *s_ole_package(void)
{
	return OLE({ "\001Ole10Native", "\x10\0\0\0a.exe\0", 10 }, { "\001CompObj", compobj, sizeof compobj });
}
/* The root entry given sibling links ([MS-CFB] forbids them; libgsf would
 * leak what it builds from them) */
static GByteArray *s_doc_root_siblings(void)
{
	GByteArray *b = s_doc_clean();
	unsigned shift = b->data[0x1e];
	guint32 sect = (guint32)b->data[0x30] | (guint32)b->data[0x31] << 8 | (guint32)b->data[0x32] << 16 |
	               (guint32)b->data[0x33] << 24;
	size_t root = ((size_t)sect + 1) << shift;
	g_assert(root + 0x4c <= b->len);
	memcpy(b->data + root + 0x44, "\x01\0\0\0\x02\0\0\0", 8);
	return b;
}
static GByteArray *s_xls_clean(void) { return OLE({ "Workbook", biff_plain, sizeof biff_plain }); }
static GByteArray *s_xls_xlm(void) { return OLE({ "Workbook", biff_xlm, sizeof biff_xlm }); }
static GByteArray *s_xls_vba(void)
{
	return OLE({ "Workbook", biff_plain, sizeof biff_plain }, { "_VBA_PROJECT_CUR/VBA/dir", "\x01", 1 });
}
static GByteArray *s_xls_filepass(void) { return OLE({ "Workbook", biff_filepass, sizeof biff_filepass }); }
static GByteArray *s_docx_encrypted(void)
{
	return OLE({ "EncryptionInfo", "\x04\x00\x04\x00\x40\x00\x00\x00", 8 },
	           { "EncryptedPackage", "\x10\0\0\0\0\0\0\0 0123456789abcdef", 24 });
}
static GByteArray *s_msg_exe(void)
{
	GByteArray *pe = s_pe();
	GByteArray *b = OLE({ "__substg1.0_0037001F", "S\0u\0b\0", 6 },
	                    { "__attach_version1.0_#00000000/__substg1.0_3707001F", att_name, sizeof att_name },
	                    { "__attach_version1.0_#00000000/__substg1.0_37010102", pe->data, pe->len });
	g_byte_array_unref(pe);
	return b;
}
static GByteArray *s_msg_pdf(void)
{
	GByteArray *pdf = s_pdf_clean();
	GByteArray *b = OLE({ "__substg1.0_0037001F", "S\0u\0b\0", 6 },
	                    { "__attach_version1.0_#00000000/__substg1.0_3707001F", "a\0.\0p\0d\0f\0", 10 },
	                    { "__attach_version1.0_#00000000/__substg1.0_37010102", pdf->data, pdf->len });
	g_byte_array_unref(pdf);
	return b;
}
static GByteArray *s_zip_doc_vba(void) { return ZIP(B("旧様式.doc", s_doc_vba)); }

/* ---------- samples: TNEF (a writer here: MS-OXTNEF framing, MAPI properties) ---------- */

static void put32(GByteArray *b, guint32 x)
{
	guint8 v[4] = { x & 0xff, x >> 8 & 0xff, x >> 16 & 0xff, x >> 24 };
	g_byte_array_append(b, v, 4);
}

/* One attribute: level, id, length, data, checksum (sum of the data bytes). */
static void tnef_attr(GByteArray *b, guint8 level, guint32 id, const void *data, size_t len)
{
	g_byte_array_append(b, &level, 1);
	put32(b, id);
	put32(b, (guint32)len);
	g_byte_array_append(b, data, (guint)len);
	unsigned sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += ((const guint8 *)data)[i];
	guint8 ck[2] = { sum & 0xff, sum >> 8 & 0xff };
	g_byte_array_append(b, ck, 2);
}

static GByteArray *tnef_new(void)
{
	GByteArray *b = g_byte_array_new();
	put32(b, 0x223e9f78);
	g_byte_array_append(b, (const guint8 *)"\x01\x00", 2);   /* key */
	tnef_attr(b, 1, 0x00089006, "\x00\x00\x01\x00", 4);     /* attTnefVersion */
	tnef_attr(b, 1, 0x00078008, "IPM.Microsoft Mail.Note", 24);   /* attMessageClass */
	return b;
}

/* MAPI properties, as attAttachment and attMAPIProps hold them: a count,
 * then each tag, and a value: PT_LONG 4 bytes, the variable types a value
 * count (1), a length and the bytes padded to 4. */
typedef struct mprop {
	guint32 tag;          /* the type in the low 16 bits: PT_LONG (3) takes VAL, others DATA and LEN */
	const void *data;
	size_t len;
	guint32 val;
	GByteArray *owned;    /* instead of DATA and LEN: a builder's bytes, freed after */
} mprop;

static GByteArray *mapi_of(const mprop *p, size_t n)
{
	GByteArray *b = g_byte_array_new();
	put32(b, (guint32)n);
	for (size_t i = 0; i < n; i++) {
		put32(b, p[i].tag);
		const void *data = p[i].owned ? p[i].owned->data : p[i].data;
		size_t len = p[i].owned ? p[i].owned->len : p[i].len;
		if ((p[i].tag & 0xffff) == 0x0003) {
			put32(b, p[i].val);
			continue;
		}
		put32(b, 1);
		put32(b, (guint32)len);
		g_byte_array_append(b, data, (guint)len);
		static const guint8 zero[4];
		g_byte_array_append(b, zero, (guint)((4 - len % 4) % 4));
		if (p[i].owned)
			g_byte_array_unref(p[i].owned);
	}
	return b;
}
#define MAPI(...) mapi_of((mprop[]){ __VA_ARGS__ }, sizeof((mprop[]){ __VA_ARGS__ }) / sizeof(mprop))
#define PT_STR8(id, s) { (id) << 16 | 0x001e, s, sizeof s, 0, NULL }
#define PT_LONG(id, v) { (id) << 16 | 0x0003, NULL, 0, v, NULL }

/* An attachment: attAttachRenddata, then attAttachTitle (TITLE, without
 * its NUL), attAttachData and attAttachment (PROPS) for those given. */
static void tnef_file(GByteArray *b, const char *title, GByteArray *data, GByteArray *props)
{
	static const guint8 rend[14] = { 1, 0, 0xff, 0xff, 0xff, 0xff };
	tnef_attr(b, 2, 0x00069002, rend, sizeof rend);
	if (title)
		tnef_attr(b, 2, 0x00018010, title, strlen(title) + 1);
	if (data) {
		tnef_attr(b, 2, 0x0006800f, data->data, data->len);
		g_byte_array_unref(data);
	}
	if (props) {
		tnef_attr(b, 2, 0x00069005, props->data, props->len);
		g_byte_array_unref(props);
	}
}

/* Compressed RTF (MS-OXRTFCP) of literals only: a zero flag byte before
 * every 8 bytes, which any LZFu reader takes. */
static GByteArray *lzfu_of(const char *rtf)
{
	size_t n = strlen(rtf);
	GByteArray *body = g_byte_array_new();
	for (size_t i = 0; i < n; i += 8) {
		g_byte_array_append(body, (const guint8 *)"", 1);
		g_byte_array_append(body, (const guint8 *)rtf + i, (guint)MIN((size_t)8, n - i));
	}
	GByteArray *b = g_byte_array_new();
	put32(b, body->len + 12);
	put32(b, (guint32)n);
	put32(b, 0x75465a4c);   /* "LZFu" */
	put32(b, 0);            /* CRC, not checked by readers of this kind */
	g_byte_array_append(b, body->data, body->len);
	g_byte_array_unref(body);
	return b;
}

/* A message with Z as its compressed RTF body, and SUBJECT if given. */
static GByteArray *tnef_with_body(GByteArray *z, const char *subject)
{
	GByteArray *b = tnef_new();
	GByteArray *props = subject ? MAPI({ 0x0037001e, subject, strlen(subject) + 1, 0, NULL }, { 0x10090102, NULL, 0, 0, z })
	                            : MAPI({ 0x10090102, NULL, 0, 0, z });
	tnef_attr(b, 1, 0x00069003, props->data, props->len);   /* attMAPIProps */
	g_byte_array_unref(props);
	return b;
}

static GByteArray *s_tnef_text(void)
{
	GByteArray *b = tnef_new();
	tnef_file(b, "memo.txt", s_text(), NULL);
	return b;
}
static GByteArray *s_tnef_exe(void)
{
	GByteArray *b = tnef_new();
	tnef_file(b, "memo.txt", s_text(), NULL);
	tnef_file(b, "INVOIC~1.EXE", s_pe(), MAPI(PT_STR8(0x3707, "invoice.exe"), PT_LONG(0x3705, 1)));
	return b;
}
/* Outlook shows the long filename; the 8.3 title is a second name */
static GByteArray *s_tnef_long_name(void)
{
	GByteArray *b = tnef_new();
	tnef_file(b, "INVOIC~1.PDF", s_png(), MAPI(PT_STR8(0x3707, "請求書.pdf.exe")));
	return b;
}
static GByteArray *s_tnef_title_exe(void)
{
	GByteArray *b = tnef_new();
	tnef_file(b, "setup.exe", s_text(), MAPI(PT_STR8(0x3707, "setup.txt")));
	return b;
}
static GByteArray *s_tnef_zip_exe(void)
{
	GByteArray *b = tnef_new();
	tnef_file(b, "資料.zip", s_zip_exe(), NULL);
	return b;
}
static GByteArray *s_zip_tnef_exe(void) { return ZIP(B("winmail.dat", s_tnef_exe)); }
/* a forwarded message: an embedded TNEF stream behind its interface ID */
static GByteArray *s_tnef_embedded(void)
{
	GByteArray *inner = s_tnef_exe();
	GByteArray *obj = g_byte_array_new();
	g_byte_array_append(obj, (const guint8 *)"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46", 16);
	g_byte_array_append(obj, inner->data, inner->len);
	g_byte_array_unref(inner);
	GByteArray *b = tnef_new();
	tnef_file(b, NULL, NULL, MAPI(PT_STR8(0x3001, "Fwd: 請求書"), PT_LONG(0x3705, 5), { 0x3701000d, NULL, 0, 0, obj }));
	return b;
}
static GByteArray *s_tnef_by_reference(void)
{
	GByteArray *b = tnef_new();
	tnef_file(b, "a.pdf", NULL, MAPI(PT_STR8(0x3707, "a.pdf"), PT_LONG(0x3705, 2),
	                                 PT_STR8(0x370d, "\\\\198.51.100.7\\share\\a.pdf")));
	return b;
}
static GByteArray *s_tnef_rtf_object(void)
{
	return tnef_with_body(lzfu_of("{\\rtf1\\ansi Hello {\\object\\objemb{\\*\\objdata 0105000002000000}}}"), NULL);
}
/* a stream that ends on a flag byte, short of the raw size: libytnef's
 * error path (which leaks) unless the rest is read as zeros */
static GByteArray *s_tnef_rtf_short(void)
{
	const char *rtf = "{\\rtf1\\ansi Hi {\\object\\objemb}}";   /* 8 literals to a flag byte */
	GByteArray *z = lzfu_of(rtf);
	g_byte_array_append(z, (const guint8 *)"", 1);
	guint32 comp = z->len - 4, raw = (guint32)strlen(rtf) + 3000;
	for (int i = 0; i < 4; i++) {
		z->data[i] = comp >> 8 * i & 0xff;
		z->data[4 + i] = raw >> 8 * i & 0xff;
	}
	return tnef_with_body(z, NULL);
}
/* Outlook's placeholder for an attachment, and a subject longer than the
 * 100 bytes libytnef takes on its own */
static GByteArray *s_tnef_rtf_clean(void)
{
	GByteArray *b = tnef_with_body(lzfu_of("{\\rtf1\\ansi Hello {\\*\\objattph  }\\par}"),
	                               "令和7年度 第3四半期 業務委託契約に係る請求書の送付について（ご確認のお願い）");
	tnef_file(b, "memo.txt", s_text(), NULL);
	return b;
}
static GByteArray *s_tnef_rtf_object_long_subject(void)
{
	return tnef_with_body(lzfu_of("{\\rtf1\\ansi {\\object\\objocx}}"),
	                      "令和7年度 第3四半期 業務委託契約に係る請求書の送付について（ご確認のお願い）");
}
static GByteArray *s_tnef_truncated(void)
{
	GByteArray *b = s_tnef_exe();
	g_byte_array_set_size(b, b->len - 200);   /* inside the exe's data */
	return b;
}
static GByteArray *s_tnef_bad_checksum(void)
{
	GByteArray *b = s_tnef_text();
	b->data[b->len - 1] ^= 0x55;
	return b;
}
static GByteArray *s_tnef_repeated(void)
{
	GByteArray *b = tnef_new();
	tnef_file(b, "a.txt", s_text(), NULL);
	GByteArray *pe = s_pe();
	tnef_attr(b, 2, 0x0006800f, pe->data, pe->len);
	g_byte_array_unref(pe);
	return b;
}
static GByteArray *s_tnef_many(void)
{
	GByteArray *b = tnef_new();
	for (int i = 0; i < 12; i++) {
		char name[16];
		snprintf(name, sizeof name, "f%02d.txt", i);
		tnef_file(b, name, str("x"), NULL);
	}
	return b;
}
/* a title of 120 bytes, over libytnef's 100 */
static GByteArray *s_tnef_long_title(void)
{
	GByteArray *b = tnef_new();
	tnef_file(b, "a-very-long-name-for-a-file-a-very-long-name-for-a-file-a-very-long-name-for-a-file-a-very-long-name-for-a-file-12.exe",
	          s_pe(), NULL);
	return b;
}
/* a property over the 512 KiB libytnef takes: the name and data are read all the same */
static GByteArray *s_tnef_big_property(void)
{
	GByteArray *big = g_byte_array_new();
	g_byte_array_set_size(big, 600 * 1024);
	memset(big->data, 'x', big->len);
	GByteArray *b = tnef_new();
	tnef_file(b, "tool.exe", s_pe(), MAPI({ 0x37090102, NULL, 0, 0, big }));
	return b;
}
static GByteArray *s_tnef_big_file(void)
{
	GByteArray *b = tnef_new();
	GByteArray *zeros = g_byte_array_new();
	g_byte_array_set_size(zeros, 2u << 20);
	memset(zeros->data, 0, zeros->len);
	tnef_file(b, "zeros.bin", zeros, NULL);
	return b;
}
static GByteArray *s_not_tnef(void) { return str("this is not what it says it is\n"); }

/* ---------- the cases ---------- */

typedef struct fcase {
	const char *label;
	GByteArray *(*build)(void);
	const char *name, *name2, *declared;
	const char *want;      /* reasons, any order, "" for none */
	const char *finding;   /* a substring one finding must hold, or NULL */
	int limits;            /* 0: defaults; 1: archive_entries 10; 2: archive_expanded 1 MiB; 3: archive_depth 1 */
} fcase;

static const fcase cases[] = {
	/* false positives: ordinary mail must not be flagged */
	{ "clean pdf", s_pdf_clean, "見積書.pdf", NULL, "application/pdf", "", NULL, 0 },
	{ "pdf opening at a page", s_pdf_open_dest, "a.pdf", NULL, NULL, "", NULL, 0 },
	{ "pdf opening via a GoTo object", s_pdf_open_goto_ref, "a.pdf", NULL, NULL, "", NULL, 0 },
	{ "docx", s_docx, "議事録.docx", NULL, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "", NULL, 0 },
	{ "xlsx", s_xlsx, "集計.xlsx", NULL, NULL, "", NULL, 0 },
	{ "png", s_png, "写真.png", NULL, "image/png", "", NULL, 0 },
	{ "jpeg", s_jpeg, "photo.JPG", NULL, "image/jpeg", "", NULL, 0 },
	{ "zip of pdfs", s_zip_pdfs, "資料.zip", NULL, "application/zip", "", NULL, 0 },
	{ "text", s_text, "memo.txt", NULL, "text/plain", "", NULL, 0 },
	{ "prose about begin 644", s_prose, "readme.txt", NULL, NULL, "", NULL, 0 },
	{ "csv declared as excel", s_csv, "一覧.csv", NULL, "application/vnd.ms-excel", "", NULL, 0 },
	{ "doc", s_doc_clean, "文書.doc", NULL, "application/msword", "", NULL, 0 },
	{ "xls", s_xls_clean, "表.xls", NULL, NULL, "", NULL, 0 },
	{ "rtf", s_rtf_clean, "a.rtf", NULL, NULL, "", NULL, 0 },
	{ "rtf with a local template", s_rtf_local_template, "a.rtf", NULL, NULL, "", NULL, 0 },
	{ "msg with a pdf", s_msg_pdf, "転送.msg", NULL, NULL, "", NULL, 0 },
	{ "tar.gz of documents", s_targz_clean, "docs.tar.gz", NULL, "application/gzip", "", NULL, 0 },
	{ "no name", s_pdf_clean, NULL, NULL, NULL, "", NULL, 0 },

	/* names */
	{ "rlo name", s_png, "report\xe2\x80\xae" "gpj.exe", NULL, NULL, "executable-name,filename-control-chars", NULL, 0 },
	{ "pdf.exe", s_pe, "invoice.pdf.exe", NULL, NULL, "double-extension,executable,executable-name", NULL, 0 },
	{ "spaces before .exe", s_pe, "a.pdf        .exe", NULL, NULL, "double-extension,executable,executable-name", NULL, 0 },
	{ "full-width .exe", s_text, "請求書．ｅｘｅ", NULL, NULL, "executable-name", NULL, 0 },
	{ "trailing dots", s_text, "run.bat. . .", NULL, NULL, "executable-name", NULL, 0 },
	{ "name2 only", s_text, "memo.txt", "memo.hta", NULL, "executable-name", NULL, 0 },
	{ "iso name", s_text, "disk.ISO", NULL, NULL, "disk-image", NULL, 0 },
	{ "onenote name", s_text, "note.one", NULL, NULL, "onenote", NULL, 0 },
	{ "html name", s_html, "請求書.html", NULL, "text/html", "html-attachment", NULL, 0 },
	{ "svg name", s_text, "a.svg", NULL, NULL, "html-attachment", NULL, 0 },
	{ "empty file (fuzz finding: no head at all)", s_empty, "a.jpg", NULL, NULL, "", NULL, 0 },
	{ "jpeg with a zip appended", s_jpeg_zip_exe, "写真.jpg", NULL, "image/jpeg", "archive-executable,polyglot", "資料/setup.exe: executable-name, executable", 0 },
	{ "jpeg with a zip appended after 60 KB", s_jpeg_big_zip_exe, "写真.jpg", NULL, "image/jpeg", "archive-executable,polyglot", "polyglot (a zip archive appended to the file)", 0 },
	{ "pdf with a zip appended", s_pdf_zip_exe, "見積書.pdf", NULL, NULL, "archive-executable,polyglot", NULL, 0 },
	{ "zip with a jpeg with a zip appended", s_zip_jpeg_zip, "a.zip", NULL, NULL, "archive-executable,polyglot", "写真.jpg > 資料/setup.exe: executable-name, executable", 0 },
	{ "zip with a pdf with a zip appended", s_zip_pdf_zip, "a.zip", NULL, NULL, "archive-executable,polyglot", "見積書.pdf: polyglot (a zip archive appended to the file)", 0 },
	{ "zip with a 60 KB jpeg with a zip appended", s_zip_big_jpeg_zip, "a.zip", NULL, NULL, "polyglot", "写真.jpg: polyglot (a zip archive appended to the file, not opened)", 0 },
	{ "png with PK 05 06 bytes by chance", s_png_pk_bytes, "a.png", NULL, NULL, "", NULL, 0 },
	{ "binhex (not opened)", s_binhex, "setup.hqx", NULL, NULL, "archive-unreadable", "archive-unreadable (Unrecognized archive format)", 0 },
	{ "svg named .xml", s_svg, "data.xml", NULL, "text/xml", "html-attachment", NULL, 0 },
	{ "svg named .txt", s_svg, "memo.txt", NULL, NULL, "html-attachment", NULL, 0 },
	{ "html named .xml", s_html, "data.xml", NULL, NULL, "html-attachment", NULL, 0 },
	{ "xml data named .xml", s_xml_data, "請求.xml", NULL, "text/xml", "", NULL, 0 },
	{ "zip with svg named .xml", s_zip_svg_xml, "a.zip", NULL, NULL, "html-attachment", "image.xml: html-attachment", 0 },
	{ "pdf.html", s_html, "invoice.pdf.html", NULL, NULL, "double-extension,html-attachment", NULL, 0 },

	/* types */
	{ "pe as pdf", s_pe, "report.pdf", NULL, "application/pdf", "executable,type-mismatch", NULL, 0 },
	{ "pe as txt", s_pe, "memo.txt", NULL, NULL, "executable,type-mismatch", NULL, 0 },
	{ "zip as pdf", s_zip_pdfs, "report.pdf", NULL, NULL, "type-mismatch", NULL, 0 },
	{ "pe declared pdf", s_pe, "file.bin", NULL, "application/pdf", "executable,type-mismatch", NULL, 0 },
	{ "lnk", s_lnk, "a.dat", NULL, NULL, "executable", NULL, 0 },
	{ "elf", s_elf, "a", NULL, NULL, "executable", NULL, 0 },
	{ "shell script", s_shell, "a.dat", NULL, NULL, "script", NULL, 0 },
	{ "onenote bytes", s_onenote, "a.dat", NULL, NULL, "onenote", NULL, 0 },
	{ "html without extension", s_html, "page", NULL, NULL, "html-attachment", NULL, 0 },

	/* archives */
	{ "zip with exe", s_zip_exe, "資料.zip", NULL, NULL, "archive-executable", "資料/setup.exe: executable-name, executable", 0 },
	{ "zip with pdf.exe", s_zip_double, "a.zip", NULL, NULL, "archive-executable,double-extension", "invoice.pdf.exe: executable-name, double-extension", 0 },
	{ "zip with full-width js", s_zip_fullwidth, "a.zip", NULL, NULL, "archive-executable", NULL, 0 },
	{ "zip with rlo name", s_zip_rlo, "a.zip", NULL, NULL, "archive-executable,filename-control-chars", "<U+202E>", 0 },
	{ "zip with exe named pdf", s_zip_exe_as_pdf, "a.zip", NULL, NULL, "archive-executable,type-mismatch", NULL, 0 },
	{ "zip with iso name", s_zip_iso_name, "a.zip", NULL, NULL, "disk-image", NULL, 0 },
	{ "zip with js pdf", s_zip_pdf_js, "a.zip", NULL, NULL, "pdf-active", "a.pdf: pdf-active (/JavaScript /JS /OpenAction)", 0 },
	{ "zip with docm", s_zip_docm, "a.zip", NULL, NULL, "archive-macro", "会議資料.docm", 0 },
	{ "zip with vba doc", s_zip_doc_vba, "a.zip", NULL, NULL, "archive-macro", NULL, 0 },
	{ "zipcrypto", s_zipcrypt, "見積書.zip", NULL, NULL, "encrypted", "見積書.pdf: encrypted", 0 },
	{ "zipcrypto with exe", s_zipcrypt_exe, "見積書.zip", NULL, NULL, "archive-executable,encrypted", NULL, 0 },
	{ "aes zip", s_zipaes, "見積書.zip", NULL, NULL, "encrypted", NULL, 0 },
	{ "zip bomb", s_zip_bomb, "a.zip", NULL, NULL, "archive-bomb", "archive-bomb (expands more than 100 times)", 0 },
	{ "zip nested 2 with exe", s_zip_nest2, "a.zip", NULL, NULL, "archive-executable", "inner.zip > 資料/setup.exe: executable-name, executable", 0 },
	{ "zip nested 3 with exe", s_zip_nest3, "a.zip", NULL, NULL, "archive-executable", NULL, 0 },
	{ "zip nested 4", s_zip_nest4, "a.zip", NULL, NULL, "archive-bomb", "archives nested deeper than 3", 0 },
	{ "zip over the expanded limit", s_zip_random, "a.zip", NULL, NULL, "archive-bomb", "an entry of 2097152 bytes", 2 },
	{ "zip under the expanded limit", s_zip_random, "a.zip", NULL, NULL, "", NULL, 0 },
	{ "small zip of zeros", s_zip_small_zeros, "a.zip", NULL, NULL, "", NULL, 0 },
	{ "zip in zip at depth 1", s_zip_nest2, "a.zip", NULL, NULL, "archive-bomb", "archives nested deeper than 1", 3 },
	{ "docx at depth 1", s_docx, "a.docx", NULL, NULL, "", NULL, 3 },
	{ "zip with many entries", s_zip_many, "a.zip", NULL, NULL, "archive-bomb", "more than 10 entries", 1 },
	{ "truncated zip", s_zip_truncated, "a.zip", NULL, NULL, "archive-unreadable", NULL, 0 },
	{ "tar.gz with exe", s_targz_exe, "a.tar.gz", NULL, NULL, "archive-executable", "a/b/tool.exe", 0 },
	{ "7z with js", s_7z_js, "a.7z", NULL, NULL, "archive-executable", NULL, 0 },
	{ "iso image with exe, named .dat", s_iso_exe, "photos.dat", NULL, NULL, "archive-executable,disk-image", "SETUP.EXE", 0 },
	{ "gzip of a pe", s_gz_pe, "a.gz", NULL, NULL, "archive-executable", NULL, 0 },

	/* office */
	{ "docm", s_docm, "議事録.docm", NULL, NULL, "macro", "macro (application/vnd.ms-office.vbaProject)", 0 },
	{ "docm named docx", s_docm, "議事録.docx", NULL, NULL, "macro", NULL, 0 },
	{ "xlsx with macro sheet", s_xlsm_sheet, "a.xlsm", NULL, NULL, "macro", NULL, 0 },
	{ "odt with basic", s_odt_basic, "a.odt", NULL, NULL, "macro", NULL, 0 },
	{ "docx remote template", s_docx_remote, "a.docx", NULL, NULL, "external-reference", "attachedTemplate http://198.51.100.7/t.dotm", 0 },
	{ "docx with ole object", s_docx_ole, "a.docx", NULL, NULL, "embedded-object", NULL, 0 },
	{ "docx with a pe as a part", s_docx_pe_part, "a.docx", NULL, NULL, "archive-executable,document-unreadable,type-mismatch", "word/document.xml: executable, type-mismatch", 0 },
	{ "docx with a script as a part", s_docx_script_part, "a.docx", NULL, NULL, "archive-executable,document-unreadable,type-mismatch", "word/document.xml: script, type-mismatch", 0 },
	{ "docx with broken rels", s_docx_badxml, "a.docx", NULL, NULL, "document-unreadable", NULL, 0 },
	{ "doc with a DDEAUTO field", s_doc_dde, "a.doc", NULL, NULL, "dde", "dde (DDEAUTO c:", 0 },
	{ "doc with a DDEAUTO field in UTF-16 text", s_doc_dde_wide, "a.doc", NULL, NULL, "dde", "dde (ddeauto cmd", 0 },
	{ "doc with a PAGE field, DDE in its text", s_doc_page_field, "a.doc", NULL, NULL, "", NULL, 0 },
	{ "docx with a DDEAUTO field split over runs", s_docx_dde, "a.docx", NULL, NULL, "dde", "word/document.xml: dde (DDEAUTO c:", 0 },
	{ "docx with DDE in a footer's fldSimple, by character reference", s_docx_dde_footer, "a.docx", NULL, NULL, "dde", "word/footer1.xml: dde (DDE cmd", 0 },
	{ "docx with a DDEAUTO field after 36 KiB", s_docx_dde_late, "a.docx", NULL, NULL, "dde", "dde (DDEAUTO cmd", 0 },
	{ "docx with PAGE and HYPERLINK fields, DDE in its text", s_docx_fields, "a.docx", NULL, NULL, "", NULL, 0 },
	{ "xlsx with a ddeLink", s_xlsx_ddelink, "a.xlsx", NULL, NULL, "dde", "dde (cmd|/c calc)", 0 },
	{ "rtf with a DDEAUTO field", s_rtf_dde, "a.rtf", NULL, NULL, "dde", "dde (DDEAUTO c:", 0 },
	{ "rtf with DDEAUTO escaped and split", s_rtf_dde_escaped, "a.rtf", NULL, NULL, "dde", "dde (DDEauto", 0 },
	{ "rtf with a PAGE field, DDE in its text", s_rtf_page_field, "a.rtf", NULL, NULL, "", NULL, 0 },
	{ "ppt", s_ppt_plain, "会議.ppt", NULL, NULL, "", NULL, 0 },
	{ "ppt with vba", s_ppt_vba, "a.ppt", NULL, NULL, "macro", "macro (PowerPoint VBA project)", 0 },
	{ "ppt with an OLE object", s_ppt_object, "a.ppt", NULL, NULL, "embedded-object", "embedded-object (PowerPoint OLE object)", 0 },
	{ "ppt with vba and an OLE object", s_ppt_vba_object, "a.pps", NULL, NULL, "embedded-object,macro", NULL, 0 },
	{ "doc with vba", s_doc_vba, "a.doc", NULL, NULL, "macro", "macro (Macros)", 0 },
	{ "doc encrypted", s_doc_encrypted, "a.doc", NULL, NULL, "encrypted", NULL, 0 },
	{ "doc with package", s_doc_package, "a.doc", NULL, NULL, "embedded-object", NULL, 0 },
	{ "xls with xlm", s_xls_xlm, "a.xls", NULL, NULL, "macro", "Excel 4.0 macro sheet", 0 },
	{ "xls with vba", s_xls_vba, "a.xls", NULL, NULL, "macro", NULL, 0 },
	{ "doc whose root entry has siblings", s_doc_root_siblings, "文書.doc", NULL, NULL, "document-unreadable",
	  "document-unreadable (damaged OLE2 structure (the root entry has siblings))", 0 },
	{ "xls encrypted", s_xls_filepass, "a.xls", NULL, NULL, "encrypted", NULL, 0 },
	{ "encrypted docx", s_docx_encrypted, "秘密.docx", NULL, NULL, "encrypted", NULL, 0 },
	{ "eml with a pdf", s_eml_pdf, "転送.eml", NULL, NULL, "", NULL, 0 },
	{ "eml with text and HTML bodies only", s_eml_text, NULL, NULL, "message/rfc822", "", NULL, 0 },
	{ "eml with exe", s_eml_exe, "fw.eml", NULL, "message/rfc822", "archive-executable", "請求書.exe: executable-name, executable", 0 },
	{ "eml with exe in chunked base64", s_eml_exe_chunked, NULL, NULL, "message/rfc822", "archive-executable", "data.bin: executable", 0 },
	{ "eml with a zip with exe", s_eml_zip_exe, "fw.eml", NULL, NULL, "archive-executable", "資料.zip > 資料/setup.exe: executable-name, executable", 0 },
	{ "eml in eml with exe", s_eml_in_eml, "fw.eml", NULL, NULL, "archive-executable", "fw.eml > 請求書.exe: executable-name, executable", 0 },
	{ "eml 3 deep with exe (limit 3)", s_eml_in_eml3, "fw.eml", NULL, NULL, "archive-bomb", "fw3.eml > fw2.eml > fw.eml: archive-bomb (messages nested deeper than 3)", 0 },
	{ "eml with 12 files (entries 10)", s_eml_many, "fw.eml", NULL, NULL, "archive-bomb", "archive-bomb (more than 10 entries)", 1 },
	{ "msg with exe", s_msg_exe, "fw.msg", NULL, NULL, "archive-executable", "請求書.exe: executable-name, executable", 0 },
	{ "rtf object", s_rtf_object, "a.doc", NULL, NULL, "embedded-object", "\\object", 0 },
	{ "rtf remote template", s_rtf_template, "a.rtf", NULL, NULL, "external-reference", NULL, 0 },

	/* pdf */
	{ "pdf javascript", s_pdf_js, "a.pdf", NULL, NULL, "pdf-active", "pdf-active (/JavaScript /JS /OpenAction)", 0 },
	{ "pdf hex-escaped name", s_pdf_hex, "a.pdf", NULL, NULL, "pdf-active", "pdf-active (/JavaScript)", 0 },
	{ "pdf launch", s_pdf_launch, "a.pdf", NULL, NULL, "pdf-active", "/OpenAction /Launch", 0 },
	{ "pdf embedded file", s_pdf_embedded, "a.pdf", NULL, NULL, "pdf-active", "/EmbeddedFile", 0 },
	{ "pdf encrypted", s_pdf_encrypted, "a.pdf", NULL, NULL, "encrypted", NULL, 0 },
	{ "pdf with an owner password only", s_pdf_owner_only, "規則.pdf", NULL, NULL, "pdf-owner-password",
	  "pdf-owner-password (opens without a password; inspected decrypted)", 0 },
	{ "pdf with an owner password only, javascript inside", s_pdf_owner_only_js, "a.pdf", NULL, NULL,
	  "pdf-active,pdf-owner-password", "pdf-active (/JavaScript /JS)", 0 },
	{ "pdf with a user password", s_pdf_user_password, "a.pdf", NULL, NULL, "encrypted",
	  "encrypted (a password is needed to open it)", 0 },
	{ "pdf object stream", s_pdf_objstm, "a.pdf", NULL, NULL, "pdf-active", "pdf-active (/JavaScript /JS /OpenAction)", 0 },
	{ "pdf fake stream in a string", s_pdf_fake_stream, "a.pdf", NULL, NULL, "pdf-active", NULL, 0 },
};

static int memfile(const GByteArray *b)
{
	int fd = memfd_create("sample", MFD_CLOEXEC);
	if (fd < 0 || write(fd, b->data, b->len) != (ssize_t)b->len)
		abort();
	return fd;
}

/* With INSPECT_SEED_DIR set, each sample is also written there as a seed
 * for test/fuzz/fuzz-inspect.c: one byte choosing the name, then the file. */
static void write_seed(const char *tag, unsigned idx, const char *name, const GByteArray *b)
{
	const char *dir = getenv("INSPECT_SEED_DIR");
	if (!dir || b->len > (1u << 20))
		return;
	/* the names of fuzz-inspect.c, in its order; 5 (".txt") for the rest */
	static const char *const ext[] = { ".zip", ".docm", ".pdf", ".doc", ".rtf", NULL, ".eml" };
	unsigned char sel = 5;
	for (unsigned char i = 0; i < G_N_ELEMENTS(ext); i++)
		if (name && ext[i] && g_str_has_suffix(name, ext[i]))
			sel = i;
	char *path = g_strdup_printf("%s/seed-%s%03u", dir, tag, idx);
	GByteArray *seed = g_byte_array_new();
	g_byte_array_append(seed, &sel, 1);
	g_byte_array_append(seed, b->data, b->len);
	g_file_set_contents(path, (const char *)seed->data, seed->len, NULL);
	g_byte_array_unref(seed);
	g_free(path);
}

static void limits_of(int which, inspect_limits *lim)
{
	inspect_limits_default(lim);
	if (which == 1)
		lim->archive_entries = 10;
	else if (which == 2)
		lim->archive_expanded = 1 << 20;
	else if (which == 3)
		lim->archive_depth = 1;
}

static void run_case(const fcase *t)
{
	GByteArray *b = t->build();
	write_seed("", (unsigned)(t - cases), t->name, b);
	int fd = memfile(b);
	inspect_limits lim = { 0 };
	limits_of(t->limits, &lim);
	GPtrArray *reasons = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *findings = g_ptr_array_new_with_free_func(g_free);
	int rc = inspect_file(t->name, t->name2, t->declared, NULL, fd, b->len, &lim, reasons, findings);
	TAP_OK(rc == 0, "%s: returns 0", t->label);
	char *got = set_of(reasons), *want = want_set(t->want);
	TAP_STREQ(got, want, "%s: reasons", t->label);
	if (getenv("VERBOSE"))
		for (guint i = 0; i < findings->len; i++)
			printf("#   %s finding: %s\n", t->label, (char *)g_ptr_array_index(findings, i));
	if (t->finding) {
		bool hit = false;
		for (guint i = 0; i < findings->len && !hit; i++)
			hit = strstr(g_ptr_array_index(findings, i), t->finding) != NULL;
		TAP_OK(hit, "%s: finding \"%s\"", t->label, t->finding);
		if (!hit)
			for (guint i = 0; i < findings->len; i++)
				printf("#   finding: %s\n", (char *)g_ptr_array_index(findings, i));
	}

	/* The walk's way in: the head in memory, the fd only where a container
	 * module asks for it.  Same reasons, and a container without its fd is
	 * an error, never a file passed over. */
	size_t hlen = MIN((size_t)b->len, (size_t)INSPECT_HEAD_BYTES);
	char *detected = detect_mime_type(b->data, hlen, DETECT_FILE);
	size_t tl = MIN((size_t)b->len, (size_t)INSPECT_TAIL_BYTES);
	bool container = inspect_wants_file(t->name, t->name2, t->declared, detected, b->data, hlen);
	bool wants = container || (b->len > hlen && inspect_tail_has_zip(b->data + b->len - tl, tl, b->len));
	GPtrArray *r2 = g_ptr_array_new_with_free_func(g_free);
	rc = inspect_head(t->name, t->name2, t->declared, detected, b->data, hlen, wants ? fd : -1, b->len,
	                  &lim, r2, NULL);
	char *got2 = set_of(r2);
	TAP_OK(rc == 0 && strcmp(got2, got) == 0, "%s: from the head (fd %s): same reasons (%s)", t->label,
	       wants ? "read" : "not read", got2);
	if (container) {
		GPtrArray *r3 = g_ptr_array_new_with_free_func(g_free);
		rc = inspect_head(t->name, t->name2, t->declared, detected, b->data, hlen, -1, b->len, &lim, r3, NULL);
		TAP_OK(rc == -EINVAL, "%s: a container without its fd is an error (%d)", t->label, rc);
		g_ptr_array_unref(r3);
	}
	g_free(got2);
	g_ptr_array_unref(r2);
	g_free(detected);
	g_free(got);
	g_free(want);
	g_ptr_array_unref(reasons);
	g_ptr_array_unref(findings);
	close(fd);
	g_byte_array_unref(b);
}

/* ---------- TNEF: reasons and every finding, in order ---------- */

#define LONG_TITLE "a-very-long-name-for-a-file-a-very-long-name-for-a-file-a-very-long-name-for-a-file-a-very-long-name-for-a-file-12.exe"

static const struct tcase {
	const char *label;
	GByteArray *(*build)(void);
	const char *name, *declared;
	const char *want;            /* reasons, any order */
	const char *findings[5];     /* all of them, in order */
	int limits;                  /* as fcase */
} tcases[] = {
	{ "tnef with a text file", s_tnef_text, "winmail.dat", "application/ms-tnef", "tnef",
	  { "tnef (1 file: memo.txt)" }, 0 },
	{ "tnef with an exe", s_tnef_exe, "winmail.dat", "application/ms-tnef", "archive-executable,tnef",
	  { "tnef (2 files: memo.txt, invoice.exe)", "invoice.exe: executable-name, executable" }, 0 },
	{ "tnef: the long filename, the title as second name", s_tnef_long_name, "winmail.dat", NULL,
	  "archive-executable,double-extension,tnef,type-mismatch",
	  { "tnef (1 file: 請求書.pdf.exe)", "請求書.pdf.exe: executable-name, double-extension, type-mismatch" }, 0 },
	{ "tnef: an exe title behind a harmless long filename", s_tnef_title_exe, "winmail.dat", NULL, "archive-executable,tnef",
	  { "tnef (1 file: setup.txt)", "setup.txt: executable-name" }, 0 },
	{ "tnef with a zip with an exe", s_tnef_zip_exe, "winmail.dat", NULL, "archive-executable,tnef",
	  { "tnef (1 file: 資料.zip)", "資料.zip > 資料/setup.exe: executable-name, executable", "資料.zip: archive-executable" }, 0 },
	{ "zip with a winmail.dat with an exe", s_zip_tnef_exe, "a.zip", NULL, "archive-executable,tnef",
	  { "winmail.dat: tnef (2 files: memo.txt, invoice.exe)", "winmail.dat > invoice.exe: executable-name, executable",
	    "winmail.dat: archive-executable" }, 0 },
	{ "tnef in a zip at depth 1", s_zip_tnef_exe, "a.zip", NULL, "archive-bomb",
	  { "winmail.dat: archive-bomb (attachments nested deeper than 1)" }, 3 },
	{ "tnef with an embedded message with an exe", s_tnef_embedded, "winmail.dat", NULL, "archive-executable,tnef",
	  { "tnef (1 file: Fwd: 請求書)", "Fwd: 請求書: tnef (2 files: memo.txt, invoice.exe)",
	    "Fwd: 請求書 > invoice.exe: executable-name, executable", "Fwd: 請求書: archive-executable" }, 0 },
	{ "tnef attachment by reference", s_tnef_by_reference, "winmail.dat", NULL, "external-reference,tnef",
	  { "tnef (1 file: a.pdf)", "a.pdf: external-reference (\\\\198.51.100.7\\share\\a.pdf)" }, 0 },
	{ "tnef rtf body with an object", s_tnef_rtf_object, "winmail.dat", NULL, "embedded-object,tnef",
	  { "tnef (no files)", "(message body, RTF): embedded-object (\\object)" }, 0 },
	{ "tnef rtf body cut short", s_tnef_rtf_short, "winmail.dat", NULL, "embedded-object,tnef",
	  { "tnef (no files)", "(message body, RTF): embedded-object (\\object)" }, 0 },
	{ "tnef rtf body with an object, long subject", s_tnef_rtf_object_long_subject, "winmail.dat", NULL,
	  "embedded-object,tnef", { "tnef (no files)", "(message body, RTF): embedded-object (\\object)" }, 0 },
	{ "tnef rtf body with an attachment placeholder, long subject", s_tnef_rtf_clean, "winmail.dat", NULL, "tnef",
	  { "tnef (1 file: memo.txt)" }, 0 },
	{ "tnef truncated", s_tnef_truncated, "winmail.dat", NULL, "archive-executable,tnef,tnef-unreadable",
	  { "tnef (2 files: memo.txt, INVOIC~1.EXE)", "tnef-unreadable (truncated)", "INVOIC~1.EXE: executable-name" }, 0 },
	{ "tnef with a bad checksum", s_tnef_bad_checksum, "winmail.dat", NULL, "tnef,tnef-unreadable",
	  { "tnef (1 file: memo.txt)", "tnef-unreadable (checksum mismatch)" }, 0 },
	{ "declared tnef that is not", s_not_tnef, "winmail.dat", "application/ms-tnef", "tnef-unreadable",
	  { "tnef-unreadable (not a TNEF stream)" }, 0 },
	{ "tnef with a repeated attribute", s_tnef_repeated, "winmail.dat", NULL,
	  "archive-executable,tnef,tnef-unreadable,type-mismatch",
	  { "tnef (1 file: a.txt)", "a.txt: tnef-unreadable (an attribute is repeated)", "a.txt: executable, type-mismatch" }, 0 },
	{ "tnef with more files than archive_entries", s_tnef_many, "winmail.dat", NULL, "archive-bomb,tnef",
	  { "tnef (10 files: f00.txt, f01.txt, f02.txt, f03.txt, f04.txt, f05.txt, f06.txt, f07.txt, f08.txt, f09.txt)",
	    "archive-bomb (more than 10 entries)" }, 1 },
	{ "tnef over archive_expanded", s_tnef_big_file, "winmail.dat", NULL, "archive-bomb,tnef",
	  { "tnef (1 file: zeros.bin)", "archive-bomb (expands to more than 1048576 bytes)" }, 2 },
	{ "tnef with a title over 100 bytes", s_tnef_long_title, "winmail.dat", NULL, "archive-executable,tnef",
	  { "tnef (1 file: a-very-long-name-for-a-file-a-very-long-name-for-a-file-a-very-long-name-for-a-file-a-very-long-name-for-a-file-...)",
	    LONG_TITLE ": executable-name, executable" }, 0 },
	{ "tnef with a property over 512 KiB", s_tnef_big_property, "winmail.dat", NULL,
	  "archive-executable,tnef,tnef-unreadable",
	  { "tnef (1 file: tool.exe)", "tool.exe: tnef-unreadable (attachment properties cannot be read)",
	    "tool.exe: executable-name, executable" }, 0 },
	{ "tnef named pdf", s_tnef_text, "invoice.pdf", NULL, "tnef,type-mismatch", { "tnef (1 file: memo.txt)" }, 0 },
};

static void run_tnef_case(unsigned idx)
{
	const struct tcase *t = &tcases[idx];
	GByteArray *b = t->build();
	write_seed("tnef-", idx, t->name, b);
	int fd = memfile(b);
	inspect_limits lim;
	limits_of(t->limits, &lim);
	GPtrArray *reasons = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *findings = g_ptr_array_new_with_free_func(g_free);
	int rc = inspect_file(t->name, NULL, t->declared, NULL, fd, b->len, &lim, reasons, findings);
	TAP_OK(rc == 0, "%s: returns 0", t->label);
	char *got = set_of(reasons), *want = want_set(t->want);
	TAP_STREQ(got, want, "%s: reasons", t->label);
	g_ptr_array_add(findings, NULL);
	char *gotf = g_strjoinv("\n", (char **)findings->pdata);
	char *wantf = g_strjoinv("\n", (char **)t->findings);
	TAP_STREQ(gotf, wantf, "%s: findings", t->label);
	g_free(gotf);
	g_free(wantf);
	g_free(got);
	g_free(want);
	g_ptr_array_unref(reasons);
	g_ptr_array_unref(findings);
	close(fd);
	g_byte_array_unref(b);
}

/* ---------- inspect_name alone ---------- */

static const struct {
	const char *name, *want;
} name_cases[] = {
	{ "report.pdf", "" },
	{ "議事録.docx", "" },
	{ "EVIL.EXE", "executable-name" },
	{ "a.Scr", "executable-name" },
	{ "setup.msi", "executable-name" },
	{ "shortcut.lnk", "executable-name" },
	{ "x.ps1", "executable-name" },
	{ "x.vbe", "executable-name" },
	{ "x.wsf", "executable-name" },
	{ "x.jar", "executable-name" },
	{ "x.appx", "executable-name" },
	{ "link.url", "executable-name" },
	{ "file.{3050f4d8-98B5-11CF-BB82-00AA00BDCE0B}", "executable-name" },
	{ "evil.exe::$DATA", "executable-name" },
	{ "C:\\Users\\x\\evil.cmd", "executable-name" },
	{ "請求書．ｐｄｆ．ｅｘｅ", "double-extension,executable-name" },
	{ "a.pdf\xe3\x80\x80.exe", "double-extension,executable-name" },      /* U+3000 ideographic space */
	{ "a\xe2\x80\x8b.exe", "executable-name,filename-control-chars" },    /* zero-width space */
	{ "photo.jpg.scr", "double-extension,executable-name" },
	{ "x.vhdx", "disk-image" },
	{ "x.img", "disk-image" },
	{ "x.onepkg", "onenote" },
	{ "x.mht", "html-attachment" },
	{ "x.xhtml", "html-attachment" },
	{ "tab\there.txt", "filename-control-chars" },
	{ "archive.tar.gz", "" },
	{ "v1.2.pdf", "" },
	{ ".exe", "executable-name" },
	{ "", "" },
};

/* ---------- textenc ---------- */

typedef struct piece {
	const char *text;
	const char *kind;   /* NULL: not a block */
	const char *name;
} piece;

static const struct {
	const char *label;
	piece p[6];
} text_cases[] = {
	{ "uuencode", { { "hello\n\n", NULL, NULL }, { "begin 644 a.txt\n#86)C\n`\nend\n", "uuencode", "a.txt" }, { "bye\n", NULL, NULL } } },
	{ "uuencode crlf, mode 4 digits, no final newline",
	  { { "x\r\n", NULL, NULL }, { "begin 0644 請求書.exe\r\n#86)C\r\n`\r\nend", "uuencode", "請求書.exe" } } },
	{ "uuencode without end", { { "begin 644 a.txt\n#86)C\n`\nbye\n", NULL, NULL } } },
	{ "uuencode without data", { { "begin 644 a.txt\nend\n", NULL, NULL } } },
	{ "prose", { { "The mode is set with\nbegin 644 is a mode\nand then\nend\n", NULL, NULL } } },
	{ "yenc", { { "see below\n", NULL, NULL }, { "=ybegin line=128 size=3 name=x y.bin\n\x8b\x8c\x8d\n=yend size=3 crc32=00000000\n", "yenc", "x y.bin" }, { "thanks\n", NULL, NULL } } },
	{ "yenc without yend", { { "=ybegin line=128 size=3 name=x.bin\n\x8b\x8c\x8d\n", NULL, NULL } } },
	{ "yenc without name", { { "=ybegin line=128 size=3\nabc\n=yend size=3\n", NULL, NULL } } },
	/* the header of a file named "a.exe": 05 'a' '.' 'e' 'x' 'e' 00, in BinHex's 6-bit alphabet */
	{ "binhex", { { "hi\n", NULL, NULL }, { "(This file must be converted with BinHex 4.0)\n\n:\"@%ZCAKP!!!!!!!!!\n!!!!!!!!!!:\n", "binhex", "a.exe" } } },
	{ "binhex unterminated", { { "(This file must be converted with BinHex 4.0)\n:\"@%ZCAKP!!!!\n", NULL, NULL } } },
	{ "binhex marker only", { { "(This file must be converted with BinHex 4.0)\nplease decode\n", NULL, NULL } } },
	{ "two blocks", { { "begin 644 a\n!80``\n`\nend\n", "uuencode", "a" }, { "mid\n", NULL, NULL }, { "begin 600 b\n!80``\n end\nend\n", NULL, NULL } } },
};

static void run_text_case(unsigned idx)
{
	GString *text = g_string_new(NULL);
	struct want { size_t start, end; const char *kind, *name; } want[6];
	unsigned nwant = 0;
	for (unsigned i = 0; i < 6 && text_cases[idx].p[i].text; i++) {
		const piece *p = &text_cases[idx].p[i];
		if (p->kind)
			want[nwant++] = (struct want){ text->len, text->len + strlen(p->text), p->kind, p->name };
		g_string_append(text, p->text);
	}
	const char *label = text_cases[idx].label;
	const char *dir = getenv("TEXTENC_SEED_DIR");  /* seeds for test/fuzz/fuzz-textenc.c */
	if (dir) {
		char *path = g_strdup_printf("%s/seed-%02u", dir, idx);
		g_file_set_contents(path, text->str, (gssize)text->len, NULL);
		g_free(path);
	}
	GArray *got = textenc_scan(text->str, text->len);
	TAP_OK(got->len == nwant, "textenc %s: %u blocks (got %u)", label, nwant, got->len);
	for (unsigned i = 0; i < nwant && i < got->len; i++) {
		textenc_block *b = &g_array_index(got, textenc_block, i);
		TAP_OK(b->start == want[i].start && b->end == want[i].end, "textenc %s: block %u at [%zu, %zu) (got [%zu, %zu))",
		       label, i, want[i].start, want[i].end, b->start, b->end);
		TAP_STREQ(b->kind, want[i].kind, "textenc %s: block %u kind", label, i);
		TAP_STREQ(b->name, want[i].name, "textenc %s: block %u name", label, i);
	}
	textenc_free(got);
	g_string_free(text, TRUE);
}

/* The detection modes: which bytes get libmagic, which a fixed answer. */
static const struct {
	const char *label;
	GByteArray *(*make)(void);
	enum detect_mode mode;
	const char *want;
} detect_cases[] = {
	{ "plain body, text", s_text, DETECT_PLAIN_BODY, "text/plain" },
	{ "plain body, shell script text", s_shell, DETECT_PLAIN_BODY, "text/plain" },
	{ "plain body, pe", s_pe, DETECT_PLAIN_BODY, "application/vnd.microsoft.portable-executable" },
	{ "file, shell script", s_shell, DETECT_FILE, "text/x-shellscript" },
	{ "file, html", s_html, DETECT_FILE, "text/html" },
	{ "file, japanese text", s_text, DETECT_FILE, "text/plain" },
	{ "file, pe", s_pe, DETECT_FILE, "application/vnd.microsoft.portable-executable" },
	{ "file, png", s_png, DETECT_FILE, "image/png" },
	{ "package xml, xml", s_xml_part, DETECT_PACKAGE_XML, "text/xml" },
	{ "package xml, pe", s_pe, DETECT_PACKAGE_XML, "application/vnd.microsoft.portable-executable" },
	{ "package xml, shell script", s_shell, DETECT_PACKAGE_XML, "text/x-shellscript" },
};

int main(int argc, char **argv)
{
	/* one case by label substring: test-inspect "zip bomb" */
	const char *only = argc > 1 ? argv[1] : NULL;
	g_mime_init();  /* for attached messages (eml.c) */
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		if (!only || strstr(cases[i].label, only))
			run_case(&cases[i]);
	for (unsigned i = 0; i < G_N_ELEMENTS(tcases); i++)
		if (!only || strstr(tcases[i].label, only))
			run_tnef_case(i);
	for (size_t i = 0; i < G_N_ELEMENTS(detect_cases) && !only; i++) {
		GByteArray *b = detect_cases[i].make();
		char *got = detect_mime_type(b->data, b->len, detect_cases[i].mode);
		TAP_STREQ(got, detect_cases[i].want, "detect: %s", detect_cases[i].label);
		g_free(got);
		g_byte_array_unref(b);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(name_cases) && !only; i++) {
		GPtrArray *r = g_ptr_array_new_with_free_func(g_free);
		inspect_name(name_cases[i].name, r);
		char *got = set_of(r), *want = want_set(name_cases[i].want);
		TAP_STREQ(got, want, "name \"%s\"", name_cases[i].name);
		g_free(got);
		g_free(want);
		g_ptr_array_unref(r);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(text_cases) && !only; i++)
		run_text_case(i);
	return tap_done();
}
