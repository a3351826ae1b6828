/* inspect.c - the front door of the suspect-file detectors: name rules,
 * type rules, the dispatch of containers to archive.c, office.c, pdf.c,
 * tnef.c and eml.c, and the zip appended to a file of another kind.
 *
 * Owns the per-call inspect_ctx (limits with their defaults, totals summed
 * over nesting levels, the path used in findings) and the folding of what
 * an entry inside a container was found to be into the container's reasons
 * (an executable inside a zip makes the zip "archive-executable").  Reads FD
 * with pread or a read-only mapping and never changes its offset; entries
 * that must be opened themselves are spilled by the modules to unlinked
 * temporary files (inspect_tmpfile) that live only while they are read.
 * Logs nothing: every outcome is a reason or a finding.
 */
#include "sanitize/inspect-private.h"
#include "sanitize/charset.h"
#include "sanitize/detect.h"
#include "sanitize/result.h"
#include "util/fdio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void inspect_limits_default(inspect_limits *lim)
{
	lim->archive_depth = 3;
	lim->archive_entries = 1000;
	lim->archive_expanded = 500 * (INT64_C(1) << 20);
	lim->archive_ratio = 100;
	/* below 1 MiB a high ratio is ordinary (a short CSV, a blank sheet) */
	lim->archive_ratio_floor = INT64_C(1) << 20;
	lim->xml_part_bytes = 4 * (INT64_C(1) << 20);
	lim->pdf_inflated = 64 * (INT64_C(1) << 20);
	lim->ole_entries = 4096;
	lim->findings = 50;
}

/* ---------- names ---------- */

/* Extensions after NFKC and case folding.  Executables and scripts are what
 * Windows (or a Mac, or a shell) runs or installs on a double click, Office
 * add-ins that load code (xll, wll) and files that make Office or Explorer
 * fetch and run something (iqy, slk, settingcontent-ms, url, library-ms). */
static const char *const exec_ext[] = {
	"exe", "dll", "scr", "com", "pif", "cpl", "msi", "msp", "mst", "lnk",
	"js", "jse", "vbs", "vbe", "vb", "wsf", "wsh", "wsc", "ws", "hta", "sct",
	"ps1", "ps1xml", "ps2", "ps2xml", "psc1", "psc2", "psm1", "psd1",
	"msh", "msh1", "msh2", "mshxml", "msh1xml", "msh2xml",
	"bat", "cmd", "jar", "jnlp", "reg", "inf", "ins", "isp", "chm", "hlp",
	"application", "appref-ms", "gadget", "msc", "appx", "appxbundle", "msix",
	"msixbundle", "appinstaller", "url", "website", "scf", "shb", "shs", "xll",
	"wll", "iqy", "slk", "settingcontent-ms", "library-ms", "searchconnector-ms",
	"ocx", "sys", "drv", "xbap", "vsto", "vsix", "mde", "ade", "adp", "accde",
	"mam", "maq", "mar", "mas", "mat", "mav", "maw", "its", "ops", "pcd", "prf",
	"prg", "sh", "bash", "csh", "ksh", "command", "py", "pyw", "pyc", "pyo",
	"pl", "rb", "apk", NULL,
};
static const char *const disk_ext[] = { "iso", "img", "vhd", "vhdx", "dmg", NULL };
static const char *const onenote_ext[] = { "one", "onepkg", "onetoc2", NULL };
static const char *const html_ext[] = {
	"html", "htm", "xhtml", "xht", "shtml", "shtm", "svg", "svgz", "mht", "mhtml", NULL,
};
static const char *const macro_ext[] = {
	"docm", "dotm", "xlsm", "xltm", "xlam", "xla", "pptm", "potm", "ppsm", "ppam", "sldm", NULL,
};
/* What the part before a dangerous extension pretends to be. */
static const char *const doc_ext[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt", "csv",
	"jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "jtd", "jtdc", "odt",
	"ods", "odp", "zip", "lzh", "7z", "rar", "htm", "html", "mp3", "mp4",
	"wav", "avi", "mov", "docm", "xlsm", "msg", "eml", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static bool is_control(gunichar ch)
{
	switch (g_unichar_type(ch)) {
	case G_UNICODE_CONTROL:
	case G_UNICODE_FORMAT:
	case G_UNICODE_LINE_SEPARATOR:
	case G_UNICODE_PARAGRAPH_SEPARATOR:
		return true;
	default:
		return false;
	}
}

/* NAME as Windows will see it for choosing a program: NFKC (full-width
 * "．ｅｘｅ" is ".exe"), case folded, format characters dropped (a
 * zero-width space does not hide an extension from us), then trailing
 * dots, spaces and "::$DATA" stripped as Windows strips them. */
static char *fold_name(const char *name)
{
	char *valid = g_utf8_make_valid(name, -1);
	char *nfkc = g_utf8_normalize(valid, -1, G_NORMALIZE_NFKC);
	char *fold = g_utf8_casefold(nfkc ? nfkc : valid, -1);
	g_free(nfkc);
	g_free(valid);
	GString *s = g_string_sized_new(strlen(fold));
	for (const char *p = fold; *p; p = g_utf8_next_char(p)) {
		gunichar ch = g_utf8_get_char(p);
		if (!is_control(ch))
			g_string_append_unichar(s, ch);
	}
	g_free(fold);
	for (;;) {
		if (s->len > 0 && (s->str[s->len - 1] == '.' || s->str[s->len - 1] == ' '))
			g_string_truncate(s, s->len - 1);
		else if (g_str_has_suffix(s->str, "::$data"))
			g_string_truncate(s, s->len - 7);
		else
			break;
	}
	return g_string_free(s, FALSE);
}

const char *inspect_basename(const char *name)
{
	const char *b = name;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return b;
}

/* The extension of a folded name ("" when none), and the component before
 * it with surrounding spaces trimmed (in PREV, "" when none). */
static const char *split_ext(const char *folded, char *prev, size_t prevsz)
{
	const char *base = inspect_basename(folded);
	const char *dot = strrchr(base, '.');
	prev[0] = '\0';
	if (!dot)
		return "";
	const char *pdot = NULL;
	for (const char *p = base; p < dot; p++)
		if (*p == '.')
			pdot = p;
	if (pdot) {
		const char *a = pdot + 1, *b = dot;
		while (a < b && g_ascii_isspace(*a))
			a++;
		while (b > a && g_ascii_isspace(b[-1]))
			b--;
		size_t n = (size_t)(b - a);
		if (n < prevsz) {
			memcpy(prev, a, n);
			prev[n] = '\0';
		}
	}
	return dot + 1;
}

/* "{3050f4d8-98b5-11cf-bb82-00aa00bdce0b}": a CLSID as extension makes
 * Explorer open the file with that COM class and hides the real type. */
static bool clsid_ext(const char *ext)
{
	size_t n = strlen(ext);
	return n >= 3 && ext[0] == '{' && ext[n - 1] == '}';
}

static bool exec_name_ext(const char *ext)
{
	return in_list(exec_ext, ext) || clsid_ext(ext);
}

void inspect_name(const char *name, GPtrArray *reasons)
{
	if (!name || !*name)
		return;
	char *valid = g_utf8_make_valid(name, -1);
	for (const char *p = valid; *p; p = g_utf8_next_char(p))
		if (is_control(g_utf8_get_char(p))) {
			result_add_reason(reasons, "filename-control-chars");
			break;
		}
	g_free(valid);

	char *folded = fold_name(name);
	char prev[64];
	const char *ext = split_ext(folded, prev, sizeof prev);
	bool dangerous = true;
	if (exec_name_ext(ext))
		result_add_reason(reasons, "executable-name");
	else if (in_list(disk_ext, ext))
		result_add_reason(reasons, "disk-image");
	else if (in_list(onenote_ext, ext))
		result_add_reason(reasons, "onenote");
	else if (in_list(html_ext, ext))
		result_add_reason(reasons, "html-attachment");
	else
		dangerous = false;
	if (dangerous && prev[0] && in_list(doc_ext, prev))
		result_add_reason(reasons, "double-extension");
	g_free(folded);
}

bool inspect_name_macro(const char *name)
{
	if (!name)
		return false;
	char *folded = fold_name(name);
	char prev[8];
	bool r = in_list(macro_ext, split_ext(folded, prev, sizeof prev));
	g_free(folded);
	return r;
}

char *inspect_name_utf8(const char *raw, size_t len)
{
	if (g_utf8_validate(raw, (gssize)len, NULL))
		return g_strndup(raw, len);
	size_t out = 0;
	return charset_to_utf8(NULL, raw, len, &out, NULL);
}

/* ---------- types ---------- */

enum family {
	F_UNKNOWN = 1 << 0,  /* octet-stream, empty, or no answer: says nothing */
	F_PDF = 1 << 1,
	F_OLE = 1 << 2,
	F_OOXML = 1 << 3,
	F_ODF = 1 << 4,
	F_RTF = 1 << 5,
	F_TEXT = 1 << 6,
	F_HTML = 1 << 7,
	F_IMAGE = 1 << 8,
	F_ARCHIVE = 1 << 9,
	F_EXEC = 1 << 10,
	F_OTHER = 1 << 11,
};

/* libmagic 5.44 names (and the newer ones, for when file is upgraded). */
static const char *const exec_types[] = {
	"application/x-dosexec", "application/vnd.microsoft.portable-executable",
	"application/x-executable", "application/x-pie-executable", "application/x-sharedlib",
	"application/x-mach-binary", "application/x-msi", "application/x-ms-installer",
	"application/x-ms-shortcut", "application/java-archive", "application/x-java-archive",
	"application/x-java-applet", "application/vnd.android.package-archive",
	"application/x-ms-ne-executable", "application/x-ms-w3-executable",
	"application/x-ms-w4-executable", "application/x-lx-executable", "application/x-dosdriver",
	"application/vnd.ms-htmlhelp", "application/winhelp", "application/x-winhelp",
	"application/x-bytecode.python", "application/x-elf", NULL,
};
static const char *const script_types[] = {
	"text/x-shellscript", "text/x-msdos-batch", "application/x-bat", "application/javascript",
	"text/javascript", "application/x-javascript", "text/x-script.python", "text/x-python",
	"text/x-perl", "application/x-perl", "text/x-php", "text/x-ruby", "text/x-tcl", "text/x-lua",
	"text/x-awk", "text/x-gawk", "text/x-nawk", "text/x-ms-regedit", "text/x-ms-scf",
	"application/x-setupscript", "text/vbscript", "text/x-vbscript", "application/x-powershell",
	NULL,
};
static const char *const archive_types[] = {
	"application/zip", "application/x-zip", "application/x-zip-compressed",
	"application/x-7z-compressed", "application/x-rar", "application/vnd.rar",
	"application/x-rar-compressed", "application/x-tar", "application/x-gtar", "application/x-ustar",
	"application/vnd.ms-cab-compressed", "application/x-lzh-compressed", "application/x-lha",
	"application/x-cpio", "application/x-archive", "application/x-xar",
	"application/x-iso9660-image", "application/vnd.debian.binary-package",
	"application/epub+zip",
	/* containers libarchive cannot open: "archive-unreadable", since what
	 * is inside them was not looked at */
	"application/x-arj", "application/x-ms-compress-szdd", "application/mac-binhex40",
	"application/x-ace-compressed", "application/x-stuffit", "application/x-stuffitx",
	"application/x-alz-compressed", "application/vnd.symbian.install", NULL,
};
static const char *const compressed_types[] = {
	"application/gzip", "application/x-gzip", "application/x-bzip2", "application/x-bzip",
	"application/x-xz", "application/x-lzma", "application/x-lzip", "application/zstd",
	"application/x-compress", "application/x-lz4", NULL,
};
static const char *const ole_types[] = {
	"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
	"application/vnd.ms-outlook", "application/x-ole-storage", "application/x-cdf",
	"application/encrypted", "application/vnd.ms-office", "application/vnd.ms-publisher",
	"application/vnd.ms-project", "application/vnd.visio", "application/x-ichitaro4",
	"application/x-ichitaro5", "application/x-ichitaro6", NULL,
};
static const char *const disk_types[] = {
	"application/x-iso9660-image", "application/x-apple-diskimage", "application/x-virtualbox-vhd",
	"application/x-vhd", "application/x-virtualbox-vhdx", "application/x-qemu-disk",
	"application/x-raw-disk-image", NULL,
};

static bool ooxml_type(const char *t)
{
	return g_str_has_prefix(t, "application/vnd.openxmlformats-officedocument.") ||
	       (g_str_has_prefix(t, "application/vnd.ms-") &&
	        (strstr(t, "macroenabled") || strstr(t, "macroEnabled")));
}

static unsigned family_of(const char *t)
{
	if (!t || !*t || strcmp(t, "application/octet-stream") == 0 ||
	    strcmp(t, "application/x-empty") == 0 || strcmp(t, "inode/x-empty") == 0)
		return F_UNKNOWN;
	if (in_list(exec_types, t) || in_list(script_types, t))
		return F_EXEC;
	if (strcmp(t, "application/pdf") == 0)
		return F_PDF;
	if (in_list(ole_types, t) || g_str_has_prefix(t, "application/CDFV2"))
		return F_OLE;
	if (ooxml_type(t))
		return F_OOXML;
	if (g_str_has_prefix(t, "application/vnd.oasis.opendocument."))
		return F_ODF;
	if (strcmp(t, "text/rtf") == 0 || strcmp(t, "application/rtf") == 0)
		return F_RTF;
	if (strcmp(t, "text/html") == 0 || strcmp(t, "application/xhtml+xml") == 0 ||
	    strcmp(t, "image/svg+xml") == 0)
		return F_HTML;
	if (g_str_has_prefix(t, "text/") || g_str_has_prefix(t, "message/") ||
	    strcmp(t, "application/json") == 0 || strcmp(t, "application/xml") == 0)
		return F_TEXT;
	if (g_str_has_prefix(t, "image/"))
		return F_IMAGE;
	if (in_list(archive_types, t) || in_list(compressed_types, t))
		return F_ARCHIVE;
	return F_OTHER;
}

/* What an extension may hold.  Generous where real senders are sloppy:
 * .doc may be RTF, text or HTML (Word opens all three; the content rules
 * still look inside), .xls may be HTML, SpreadsheetML or CSV exported by
 * business systems, a docx whose entries are not in the usual order is
 * plain "application/zip" to libmagic. */
static const struct ext_family {
	const char *ext;
	unsigned accepts;
} ext_families[] = {
	{ "pdf", F_PDF },
	{ "doc", F_OLE | F_RTF | F_OOXML | F_ARCHIVE | F_TEXT | F_HTML },
	{ "dot", F_OLE | F_RTF | F_OOXML | F_ARCHIVE | F_TEXT | F_HTML },
	{ "xls", F_OLE | F_OOXML | F_ARCHIVE | F_TEXT | F_HTML },
	{ "xlt", F_OLE | F_OOXML | F_ARCHIVE | F_TEXT | F_HTML },
	{ "ppt", F_OLE | F_OOXML | F_ARCHIVE },
	{ "pps", F_OLE | F_OOXML | F_ARCHIVE },
	{ "pot", F_OLE | F_OOXML | F_ARCHIVE },
	{ "msg", F_OLE },
	{ "jtd", F_OLE },
	{ "jtdc", F_OLE },
	{ "docx", F_OOXML | F_ARCHIVE | F_OLE }, { "docm", F_OOXML | F_ARCHIVE | F_OLE },
	{ "dotx", F_OOXML | F_ARCHIVE | F_OLE }, { "dotm", F_OOXML | F_ARCHIVE | F_OLE },
	{ "xlsx", F_OOXML | F_ARCHIVE | F_OLE }, { "xlsm", F_OOXML | F_ARCHIVE | F_OLE },
	{ "xltx", F_OOXML | F_ARCHIVE | F_OLE }, { "xltm", F_OOXML | F_ARCHIVE | F_OLE },
	{ "xlsb", F_OOXML | F_ARCHIVE | F_OLE }, { "xlam", F_OOXML | F_ARCHIVE | F_OLE },
	{ "pptx", F_OOXML | F_ARCHIVE | F_OLE }, { "pptm", F_OOXML | F_ARCHIVE | F_OLE },
	{ "ppsx", F_OOXML | F_ARCHIVE | F_OLE }, { "ppsm", F_OOXML | F_ARCHIVE | F_OLE },
	{ "potx", F_OOXML | F_ARCHIVE | F_OLE }, { "potm", F_OOXML | F_ARCHIVE | F_OLE },
	{ "odt", F_ODF | F_ARCHIVE }, { "ods", F_ODF | F_ARCHIVE },
	{ "odp", F_ODF | F_ARCHIVE }, { "odg", F_ODF | F_ARCHIVE },
	{ "rtf", F_RTF | F_TEXT },
	{ "txt", F_TEXT | F_HTML }, { "csv", F_TEXT | F_HTML }, { "tsv", F_TEXT | F_HTML },
	{ "log", F_TEXT | F_HTML }, { "xml", F_TEXT | F_HTML }, { "eml", F_TEXT },
	{ "htm", F_HTML | F_TEXT }, { "html", F_HTML | F_TEXT },
	{ "jpg", F_IMAGE }, { "jpeg", F_IMAGE }, { "jpe", F_IMAGE }, { "jfif", F_IMAGE },
	{ "png", F_IMAGE }, { "gif", F_IMAGE }, { "bmp", F_IMAGE }, { "tif", F_IMAGE },
	{ "tiff", F_IMAGE }, { "webp", F_IMAGE }, { "heic", F_IMAGE }, { "ico", F_IMAGE },
	{ "zip", F_ARCHIVE | F_OOXML | F_ODF },
	{ "7z", F_ARCHIVE }, { "rar", F_ARCHIVE }, { "lzh", F_ARCHIVE }, { "lha", F_ARCHIVE },
	{ "gz", F_ARCHIVE }, { "tgz", F_ARCHIVE }, { "tar", F_ARCHIVE }, { "bz2", F_ARCHIVE },
	{ "xz", F_ARCHIVE }, { "cab", F_ARCHIVE },
	{ NULL, 0 },
};

/* Declared types that senders get right often enough to compare with. */
static unsigned declared_accepts(const char *declared)
{
	static const struct { const char *type, *as_ext; } map[] = {
		{ "application/pdf", "pdf" }, { "application/msword", "doc" },
		{ "application/vnd.ms-excel", "xls" }, { "application/vnd.ms-powerpoint", "ppt" },
		{ "application/zip", "zip" }, { "application/x-zip-compressed", "zip" },
		{ "application/x-zip", "zip" }, { "text/plain", "txt" }, { "text/html", "html" },
		{ "application/rtf", "rtf" }, { "text/rtf", "rtf" }, { NULL, NULL },
	};
	if (!declared)
		return 0;
	if (g_str_has_prefix(declared, "image/"))
		return F_IMAGE;
	if (g_str_has_prefix(declared, "application/vnd.openxmlformats-officedocument."))
		return F_OOXML | F_ARCHIVE | F_OLE;
	for (unsigned i = 0; map[i].type; i++)
		if (g_ascii_strcasecmp(declared, map[i].type) == 0)
			for (const struct ext_family *e = ext_families; e->ext; e++)
				if (strcmp(e->ext, map[i].as_ext) == 0)
					return e->accepts;
	return 0;
}

/* What the extension of NAME may hold; 0 when the extension says nothing. */
static unsigned ext_accepts(const char *name)
{
	if (!name)
		return 0;
	char *folded = fold_name(name);
	char prev[8];
	const char *ext = split_ext(folded, prev, sizeof prev);
	unsigned r = 0;
	for (const struct ext_family *e = ext_families; e->ext && !r; e++)
		if (strcmp(e->ext, ext) == 0)
			r = e->accepts;
	g_free(folded);
	return r;
}

static bool has_ext_in(const char *name, unsigned fam)
{
	return (ext_accepts(name) & fam) != 0;
}

/* NAME's extension (folded as for the name rules) is EXT. */
static bool has_ext(const char *name, const char *ext)
{
	if (!name)
		return false;
	char *folded = fold_name(name);
	char prev[8];
	bool r = strcmp(split_ext(folded, prev, sizeof prev), ext) == 0;
	g_free(folded);
	return r;
}

static bool head_has(const unsigned char *head, size_t hlen, size_t off, const char *sig, size_t n)
{
	return hlen >= off + n && memcmp(head + off, sig, n) == 0;
}

static const char ole_sig[8] = { '\xd0', '\xcf', '\x11', '\xe0', '\xa1', '\xb1', '\x1a', '\xe1' };
/* {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3}: the OneNote section file header */
static const char onenote_sig[16] = {
	'\xe4', '\x52', '\x5c', '\x7b', '\x8c', '\xd8', '\xa7', '\x4d',
	'\xae', '\xb1', '\x53', '\x78', '\xd0', '\x29', '\x96', '\xd3',
};

static bool disk_image_head(const unsigned char *head, size_t hlen)
{
	return head_has(head, hlen, 0x8001, "CD001", 5) ||   /* ISO 9660 */
	       head_has(head, hlen, 0x8001, "BEA01", 5) ||   /* UDF */
	       head_has(head, hlen, 0, "vhdxfile", 8) ||
	       head_has(head, hlen, 0, "conectix", 8) ||     /* dynamic VHD */
	       head_has(head, hlen, 0, "KDMV", 4) ||         /* VMDK */
	       head_has(head, hlen, 0, "QFI\xfb", 4) ||      /* qcow */
	       /* a FAT or NTFS volume boot sector: a raw .img */
	       (head_has(head, hlen, 510, "\x55\xaa", 2) &&
	        (head_has(head, hlen, 54, "FAT1", 4) || head_has(head, hlen, 82, "FAT32", 5) ||
	         head_has(head, hlen, 3, "NTFS    ", 8) || head_has(head, hlen, 3, "EXFAT   ", 8)));
}

void inspect_type(const char *name, const char *name2, const char *declared, const char *detected,
                  const unsigned char *head, size_t hlen, GPtrArray *reasons)
{
	/* libmagic's "DOS executable (COM)" is a guess from the first bytes
	 * and fires on about one random or compressed blob in 500; a COM file
	 * has no header to find, so only its name (.com) can tell.  An MZ
	 * header is what makes x-dosexec real. */
	if (detected && strcmp(detected, "application/x-dosexec") == 0 &&
	    !head_has(head, hlen, 0, "MZ", 2) && !head_has(head, hlen, 0, "ZM", 2))
		detected = NULL;
	unsigned fam = family_of(detected);
	if (detected && in_list(exec_types, detected))
		result_add_reason(reasons, "executable");
	else if (detected && in_list(script_types, detected))
		result_add_reason(reasons, "script");
	if (head_has(head, hlen, 0, onenote_sig, sizeof onenote_sig) ||
	    (detected && strcmp(detected, "application/msonenote") == 0))
		result_add_reason(reasons, "onenote");
	if (disk_image_head(head, hlen) || (detected && in_list(disk_types, detected)))
		result_add_reason(reasons, "disk-image");

	if (fam & F_UNKNOWN)
		return;
	unsigned a1 = ext_accepts(name), a2 = ext_accepts(name2), ad = declared_accepts(declared);
	if ((a1 && !(a1 & fam)) || (a2 && !(a2 & fam)) || (ad && !(ad & fam)))
		result_add_reason(reasons, "type-mismatch");
	/* HTML or SVG under no known extension: a browser renders it (HTML
	 * smuggling); under a known one that does not allow HTML it is a
	 * mismatch already, and .txt/.xls/.doc holding HTML is ordinary. */
	if (fam == F_HTML && !a1 && !a2)
		result_add_reason(reasons, "html-attachment");
	/* ...except SVG, and HTML named .xml: Windows opens .xml in the
	 * browser, which renders a namespaced <svg> or <html> root as a page,
	 * scripts and all. */
	else if (fam == F_HTML && (strcmp(detected, "image/svg+xml") == 0 || has_ext(name, "xml") ||
	                           has_ext(name2, "xml")))
		result_add_reason(reasons, "html-attachment");
}

enum inspect_kind inspect_classify(const char *name, const char *declared, const char *detected,
                                   const unsigned char *head, size_t hlen)
{
	if (head_has(head, hlen, 0, ole_sig, sizeof ole_sig))
		return INSPECT_KIND_OLE;
	if (head_has(head, hlen, 0, "\x78\x9f\x3e\x22", 4))
		return INSPECT_KIND_TNEF;
	if (head_has(head, hlen, 0, "PK\x03\x04", 4) || head_has(head, hlen, 0, "PK\x05\x06", 4) ||
	    head_has(head, hlen, 0, "PK\x07\x08", 4) ||
	    (detected && (ooxml_type(detected) || g_str_has_prefix(detected, "application/vnd.oasis.opendocument."))))
		return INSPECT_KIND_ARCHIVE;
	/* Acrobat looks for %PDF in the first 1024 bytes */
	if (hlen >= 5 && memmem(head, MIN(hlen, (size_t)1024), "%PDF", 4))
		return INSPECT_KIND_PDF;
	/* Word opens anything starting "{\rt" as RTF */
	if (head_has(head, hlen, 0, "{\\rt", 4))
		return INSPECT_KIND_RTF;
	if (detected && in_list(compressed_types, detected))
		return INSPECT_KIND_COMPRESSED;
	if ((detected && in_list(archive_types, detected)) || head_has(head, hlen, 0x8001, "CD001", 5))
		return INSPECT_KIND_ARCHIVE;
	/* named or declared a PDF but with junk in front: readers that search
	 * further than Acrobat still open it, so look for active content */
	if (has_ext_in(name, F_PDF) || (declared && g_ascii_strcasecmp(declared, "application/pdf") == 0))
		return INSPECT_KIND_PDF;
	/* declared TNEF without the signature: a mail client tries to decode
	 * it all the same, and tnef.c says it cannot */
	if (declared && (g_ascii_strcasecmp(declared, "application/ms-tnef") == 0 ||
	                 g_ascii_strcasecmp(declared, "application/vnd.ms-tnef") == 0))
		return INSPECT_KIND_TNEF;
	/* a mail client opens these as messages and offers their files */
	if ((declared && (g_ascii_strcasecmp(declared, "message/rfc822") == 0 ||
	                  g_ascii_strcasecmp(declared, "message/global") == 0)) ||
	    (detected && strcmp(detected, "message/rfc822") == 0) || has_ext(name, "eml"))
		return INSPECT_KIND_MESSAGE;
	return INSPECT_KIND_NONE;
}

/* ---------- findings ---------- */

void inspect_finding(inspect_ctx *c, const char *reason, const char *detail)
{
	if (!c->findings)
		return;
	if (c->nfindings >= c->lim.findings) {
		if (c->nfindings++ == c->lim.findings)
			g_ptr_array_add(c->findings, g_strdup("(more findings not listed)"));
		return;
	}
	c->nfindings++;
	GString *s = g_string_new(NULL);
	if (c->path && *c->path)
		g_string_append_printf(s, "%s: ", c->path);
	g_string_append(s, reason);
	if (detail) {
		char *d = charset_printable(detail);
		if (g_utf8_strlen(d, -1) > 120) {
			char *cut = g_utf8_substring(d, 0, 120);
			g_free(d);
			d = g_strconcat(cut, "...", NULL);
			g_free(cut);
		}
		g_string_append_printf(s, " (%s)", d);
		g_free(d);
	}
	g_ptr_array_add(c->findings, g_string_free(s, FALSE));
}

char *inspect_entry_path(const inspect_ctx *c, const char *entry)
{
	char *p = charset_printable(entry);
	if (g_utf8_strlen(p, -1) > 200) {
		/* zip allows 64 KiB names: keep the notice readable */
		char *cut = g_utf8_substring(p, 0, 200);
		g_free(p);
		p = g_strconcat(cut, "...", NULL);
		g_free(cut);
	}
	if (c->path && *c->path) {
		char *j = g_strconcat(c->path, " > ", p, NULL);
		g_free(p);
		p = j;
	}
	return p;
}

static const char *fold_reason(const char *r)
{
	if (strcmp(r, "executable") == 0 || strcmp(r, "script") == 0 || strcmp(r, "executable-name") == 0)
		return "archive-executable";
	if (strcmp(r, "macro") == 0)
		return "archive-macro";
	return r;
}

void inspect_fold(inspect_ctx *c, const char *path, const GPtrArray *child, GPtrArray *reasons)
{
	GString *list = g_string_new(NULL);
	size_t plen = strlen(path);
	for (guint i = 0; i < child->len; i++) {
		const char *r = g_ptr_array_index(child, i);
		result_add_reason(reasons, fold_reason(r));
		/* already explained by a finding "PATH: R (...)" of its own? */
		bool told = false;
		for (guint j = 0; c->findings && j < c->findings->len && !told; j++) {
			const char *f = g_ptr_array_index(c->findings, j);
			size_t rl = strlen(r);
			told = strncmp(f, path, plen) == 0 && strncmp(f + plen, ": ", 2) == 0 &&
			       strncmp(f + plen + 2, r, rl) == 0 && (f[plen + 2 + rl] == '\0' || f[plen + 2 + rl] == ' ');
		}
		if (!told)
			g_string_append_printf(list, "%s%s", list->len ? ", " : "", r);
	}
	if (list->len && c->findings) {
		const char *saved = c->path;
		c->path = path;
		inspect_finding(c, list->str, NULL);
		c->path = saved;
	}
	g_string_free(list, TRUE);
}

void inspect_bomb(inspect_ctx *c, GPtrArray *reasons, const char *detail)
{
	result_add_reason(reasons, "archive-bomb");
	if (!c->bomb)
		inspect_finding(c, "archive-bomb", detail);
	c->bomb = true;
}

bool inspect_count_entry(inspect_ctx *c, GPtrArray *reasons)
{
	if (++c->entries <= c->lim.archive_entries)
		return true;
	char detail[64];
	snprintf(detail, sizeof detail, "more than %" G_GINT64_FORMAT " entries", c->lim.archive_entries);
	inspect_bomb(c, reasons, detail);
	return false;
}

bool inspect_count_expanded(inspect_ctx *c, GPtrArray *reasons, uint64_t n)
{
	c->expanded += (int64_t)MIN(n, (uint64_t)INT64_MAX / 2);
	if (c->expanded <= c->lim.archive_expanded)
		return true;
	char detail[64];
	snprintf(detail, sizeof detail, "expands to more than %" G_GINT64_FORMAT " bytes", c->lim.archive_expanded);
	inspect_bomb(c, reasons, detail);
	return false;
}

bool inspect_depth_ok(inspect_ctx *c, GPtrArray *reasons, const char *what)
{
	if (c->depth < c->lim.archive_depth)
		return true;
	char detail[96];
	snprintf(detail, sizeof detail, "%s nested deeper than %" G_GINT64_FORMAT, what, c->lim.archive_depth);
	inspect_bomb(c, reasons, detail);
	return false;
}

/* ---------- files ---------- */

int inspect_tmpfile(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* file systems without O_TMPFILE: create and unlink at once */
	char *tmpl = g_build_filename(dir, "mugai-inspect-XXXXXX", NULL);
	fd = mkostemp(tmpl, O_CLOEXEC);
	int err = errno;
	if (fd >= 0)
		unlink(tmpl);
	g_free(tmpl);
	return fd >= 0 ? fd : -err;
}

const unsigned char *inspect_map(int fd, uint64_t *size, int *err)
{
	struct stat st;
	*err = 0;
	if (fstat(fd, &st) != 0) {
		*err = -errno;
		return NULL;
	}
	/* never map past the end: touching such a page is SIGBUS */
	if ((uint64_t)st.st_size < *size)
		*size = (uint64_t)st.st_size;
	if (*size == 0)
		return NULL;
	if (*size > SIZE_MAX) {
		*err = -EFBIG;
		return NULL;
	}
	void *m = mmap(NULL, (size_t)*size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	return m;
}

void inspect_unmap(const unsigned char *map, uint64_t size)
{
	if (map)
		munmap((void *)map, (size_t)size);
}

/* ---------- dispatch ---------- */

int inspect_container(inspect_ctx *c, enum inspect_kind kind, int fd, uint64_t size,
                      GPtrArray *reasons)
{
	switch (kind) {
	case INSPECT_KIND_ARCHIVE:
	case INSPECT_KIND_COMPRESSED:
		return archive_scan(c, fd, size, kind, reasons);
	case INSPECT_KIND_OLE:
		return office_scan_ole(c, fd, size, reasons);
	case INSPECT_KIND_TNEF:
		return inspect_tnef(c, fd, size, reasons);
	case INSPECT_KIND_PDF:
	case INSPECT_KIND_RTF: {
		int err = 0;
		const unsigned char *m = inspect_map(fd, &size, &err);
		if (!m)
			return err;
		if (kind == INSPECT_KIND_PDF)
			pdf_scan(c, m, (size_t)size, reasons);
		else
			office_scan_rtf(c, m, (size_t)size, reasons);
		inspect_unmap(m, size);
		return 0;
	}
	case INSPECT_KIND_MESSAGE:
		return inspect_message(c, fd, size, reasons);
	case INSPECT_KIND_NONE:
		break;
	}
	return 0;
}

/* The container module for a file, by NAME, else by NAME2. */
static enum inspect_kind classify_names(const char *name, const char *name2, const char *declared,
                                        const char *detected, const unsigned char *head, size_t hlen)
{
	enum inspect_kind kind = inspect_classify(name ? name : name2, declared, detected, head, hlen);
	if (kind == INSPECT_KIND_NONE && name2 && name)
		kind = inspect_classify(name2, declared, detected, head, hlen);
	return kind;
}

bool inspect_wants_file(const char *name, const char *name2, const char *declared,
                        const char *detected, const unsigned char *head, size_t hlen)
{
	return classify_names(name, name2, declared, detected, head, hlen) != INSPECT_KIND_NONE;
}

bool inspect_tail_has_zip(const unsigned char *tail, size_t tlen, uint64_t size)
{
	/* the end-of-central-directory record: 22 bytes and a comment that
	 * runs exactly to the end of the file, a central directory that fits
	 * in front of it */
	if (tlen < 22 || size < tlen)
		return false;
	for (size_t i = tlen - 22 + 1; i-- > 0;) {
		const unsigned char *e = tail + i;
		if (memcmp(e, "PK\x05\x06", 4) != 0)
			continue;
		size_t comment = inspect_le16(e + 20);
		uint64_t at = size - tlen + i;
		if (i + 22 + comment == tlen && inspect_le32(e + 12) > 0 && inspect_le32(e + 12) <= at)
			return true;
	}
	return false;
}

/* A zip appended to a file of another kind (a picture, a PDF, a
 * document): archivers and Windows' own zip folders open it from its end.
 * Its entries are inspected like any archive's. */
int inspect_appended_zip(inspect_ctx *c, const unsigned char *head, size_t hlen, const unsigned char *tail,
                         size_t tlen, int fd, uint64_t size, GPtrArray *reasons)
{
	if (size < 22 || !head)
		return 0;  /* no room for an end-of-central-directory record */
	bool whole = (uint64_t)hlen == size;
	unsigned char *own_tail = NULL;
	if (!tail || whole) {
		tlen = (size_t)MIN(size, (uint64_t)INSPECT_TAIL_BYTES);
		tail = head + hlen - MIN(hlen, tlen);
		if (!whole) {
			if (fd < 0)
				return 0;  /* the caller found none with inspect_tail_has_zip */
			own_tail = g_malloc(tlen);
			ssize_t n = fd_pread_full(fd, own_tail, tlen, (off_t)(size - tlen));
			if (n < 0) {
				g_free(own_tail);
				return (int)n;
			}
			tail = own_tail;
		}
	}
	bool zip = inspect_tail_has_zip(tail, tlen, size);
	g_free(own_tail);
	if (!zip)
		return 0;
	result_add_reason(reasons, "polyglot");
	if (fd < 0 && !whole) {
		/* an archive entry read once, not kept: named, not opened */
		inspect_finding(c, "polyglot", "a zip archive appended to the file, not opened");
		return 0;
	}
	inspect_finding(c, "polyglot", "a zip archive appended to the file");
	int own = -1, r = 0;
	if (fd < 0) {
		if ((own = fd = inspect_tmpfile()) < 0)
			return fd;
		r = fd_write_all(fd, head, hlen);
	}
	if (r == 0)
		r = archive_scan(c, fd, size, INSPECT_KIND_ARCHIVE, reasons);
	if (own >= 0)
		close(own);
	return r;
}

/* Type rules on HEAD, then the container module on FD. */
static int content_head(inspect_ctx *c, const char *name, const char *name2, const char *declared,
                        const char *detected, const unsigned char *head, size_t hlen, int fd,
                        uint64_t size, GPtrArray *reasons)
{
	char *own = NULL;
	if (!detected)
		detected = own = detect_mime_type(head, hlen, DETECT_FILE);
	inspect_type(name, name2, declared, detected, head, hlen, reasons);
	enum inspect_kind kind = classify_names(name, name2, declared, detected, head, hlen);
	g_free(own);
	if (kind != INSPECT_KIND_NONE && fd < 0)
		return -EINVAL;
	int r = inspect_container(c, kind, fd, size, reasons);
	if (r == 0 && kind != INSPECT_KIND_ARCHIVE && kind != INSPECT_KIND_COMPRESSED && !c->bomb)
		r = inspect_appended_zip(c, head, hlen, NULL, 0, fd, size, reasons);
	return r;
}

int inspect_content(inspect_ctx *c, const char *name, const char *name2, const char *declared,
                    const char *detected, int fd, uint64_t size, GPtrArray *reasons)
{
	unsigned char *head = g_malloc(INSPECT_HEAD_BYTES);
	ssize_t hlen = fd_pread_full(fd, head, (size_t)MIN(size, (uint64_t)INSPECT_HEAD_BYTES), 0);
	int r = hlen < 0 ? (int)hlen
	                 : content_head(c, name, name2, declared, detected, head, (size_t)hlen, fd, size, reasons);
	g_free(head);
	return r;
}

int inspect_head(const char *name, const char *name2, const char *declared, const char *detected,
                 const unsigned char *head, size_t hlen, int fd, uint64_t size,
                 const inspect_limits *lim, GPtrArray *reasons, GPtrArray *findings)
{
	inspect_ctx c = { .findings = findings, .path = "" };
	inspect_limits_default(&c.lim);
	if (lim) {
		/* a field left at zero keeps its default rather than forbidding everything */
#define TAKE(f) if (lim->f > 0) c.lim.f = lim->f
		TAKE(archive_depth);
		TAKE(archive_entries);
		TAKE(archive_expanded);
		TAKE(archive_ratio);
		TAKE(archive_ratio_floor);
		TAKE(xml_part_bytes);
		TAKE(pdf_inflated);
		TAKE(ole_entries);
		TAKE(findings);
#undef TAKE
	}
	inspect_name(name, reasons);
	if (name2 && (!name || strcmp(name, name2) != 0))
		inspect_name(name2, reasons);
	return content_head(&c, name, name2, declared, detected, head, hlen, fd, size, reasons);
}

int inspect_file(const char *name, const char *name2, const char *declared,
                 const char *detected, int fd, uint64_t size,
                 const inspect_limits *lim, GPtrArray *reasons, GPtrArray *findings)
{
	unsigned char *head = g_malloc(INSPECT_HEAD_BYTES);
	ssize_t hlen = fd_pread_full(fd, head, (size_t)MIN(size, (uint64_t)INSPECT_HEAD_BYTES), 0);
	int r = hlen < 0 ? (int)hlen
	                 : inspect_head(name, name2, declared, detected, head, (size_t)hlen, fd, size, lim,
	                                reasons, findings);
	g_free(head);
	return r;
}
