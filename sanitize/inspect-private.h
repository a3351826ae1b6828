/* inspect-private.h - what inspect.c, archive.c, office.c, pdf.c, tnef.c
 * and eml.c share.
 *
 * Not for callers outside these six files: they use inspect.h.  One
 * inspect_ctx lives for one inspect_file() call and carries the limits, the
 * totals summed over every nesting level, and the path of the file being
 * looked at (for findings).  The reasons a detector adds always go to the
 * array it is given, which is the reasons of the file it looks at; what an
 * entry inside a container was found to be reaches the container through
 * inspect_fold().
 */
#ifndef MUGAI_INSPECT_PRIVATE_H
#define MUGAI_INSPECT_PRIVATE_H

#include "sanitize/inspect.h"
#include <stddef.h>
#include <stdint.h>

/* Little-endian fields of the binary formats the detectors read (zip,
 * OLE2, PowerPoint and BIFF records, TNEF). */
static inline uint16_t inspect_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t inspect_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum inspect_kind {
	INSPECT_KIND_NONE,
	INSPECT_KIND_ARCHIVE,     /* zip (and so OOXML, ODF, jar), 7z, rar, tar, cab, lha, cpio, ar, xar, iso */
	INSPECT_KIND_COMPRESSED,  /* one gzip, bzip2, xz, lzma, lzip, zstd, lz4 or compress stream (maybe a tar) */
	INSPECT_KIND_OLE,         /* OLE2 / Compound File Binary: doc, xls, ppt, msg, encrypted OOXML */
	INSPECT_KIND_PDF,
	INSPECT_KIND_RTF,
	INSPECT_KIND_MESSAGE,     /* an .eml, or a message/rfc822 part with a transfer encoding */
	INSPECT_KIND_TNEF,        /* Outlook's winmail.dat */
};

typedef struct inspect_ctx {
	inspect_limits lim;   /* every field > 0 */
	int64_t depth;        /* archives (and .msg files) open around the current file */
	int64_t entries;      /* archive entries seen, all levels */
	int64_t expanded;     /* bytes expanded from archives, all levels */
	int64_t nfindings;
	bool bomb;            /* an archive limit was hit: nothing more is opened or read */
	GPtrArray *findings;  /* may be NULL */
	const char *path;     /* printable path of the file looked at; "" for the attachment itself */
} inspect_ctx;

/* Add "PATH: REASON (DETAIL)" (or without PATH for the attachment, without
 * the parentheses when DETAIL is NULL) to the findings.  DETAIL is made
 * printable and shortened here. */
void inspect_finding(inspect_ctx *c, const char *reason, const char *detail);

/* The path of ENTRY (raw UTF-8) inside the file being looked at, printable,
 * g_malloc'ed: "entry" at the top, "outer > entry" below. */
char *inspect_entry_path(const inspect_ctx *c, const char *entry);

/* UTF-8 for a name stored as bytes of unknown charset (archive entries,
 * .msg attachments): as is when valid UTF-8, else decoded as Japanese text
 * is (charset_to_utf8 guessing CP932/EUC-JP).  g_malloc'ed. */
char *inspect_name_utf8(const char *raw, size_t len);

/* The last path component of NAME ('/' or '\\' separated). */
const char *inspect_basename(const char *name);

/* True when NAME (after the same folding as inspect_name) ends in a
 * macro-enabled Office extension: docm, xlsm, pptm, dotm, xlam, ... */
bool inspect_name_macro(const char *name);

/* Type rules on the first bytes of a file: executable, script, onenote,
 * disk-image, html-attachment, type-mismatch (extension of NAME or NAME2,
 * or DECLARED, against DETECTED). */
void inspect_type(const char *name, const char *name2, const char *declared, const char *detected,
                  const unsigned char *head, size_t hlen, GPtrArray *reasons);

/* Which container module, if any, reads this file. */
enum inspect_kind inspect_classify(const char *name, const char *declared, const char *detected,
                                   const unsigned char *head, size_t hlen);

/* Name rules, type rules and container modules for a whole file in FD;
 * NAME may be NULL.  Returns 0 or a negative errno. */
int inspect_content(inspect_ctx *c, const char *name, const char *name2, const char *declared,
                    const char *detected, int fd, uint64_t size, GPtrArray *reasons);

/* eml.c: the files of a mail message in FD. */
int inspect_message(inspect_ctx *c, int fd, uint64_t size, GPtrArray *reasons);

/* A zip appended to a file of SIZE bytes whose first HLEN bytes are HEAD:
 * "polyglot", and the zip's entries inspected from FD (every byte of the
 * file) or from HEAD when it holds them all.  The last bytes come from
 * TAIL (TLEN of them), or else from HEAD or FD; with neither FD nor the
 * whole file in HEAD, the zip is named in a finding, not opened.
 * Returns 0 or a negative errno. */
int inspect_appended_zip(inspect_ctx *c, const unsigned char *head, size_t hlen, const unsigned char *tail,
                         size_t tlen, int fd, uint64_t size, GPtrArray *reasons);

/* Run the module for KIND on FD.  Returns 0 or a negative errno. */
int inspect_container(inspect_ctx *c, enum inspect_kind kind, int fd, uint64_t size,
                      GPtrArray *reasons);

/* Fold the reasons CHILD of an entry at PATH (from inspect_entry_path) into
 * its container's REASONS: executables and scripts become
 * "archive-executable", macros "archive-macro", the rest keep their code;
 * one finding lists the entry's reasons not already explained by a
 * finding of its own. */
void inspect_fold(inspect_ctx *c, const char *path, const GPtrArray *child, GPtrArray *reasons);

/* A limit was hit while reading the current archive: add "archive-bomb"
 * with DETAIL as finding and stop opening anything. */
void inspect_bomb(inspect_ctx *c, GPtrArray *reasons, const char *detail);

/* One more file inside a container: false, with the bomb set, past
 * lim.archive_entries. */
bool inspect_count_entry(inspect_ctx *c, GPtrArray *reasons);

/* N more bytes taken out of a container: false, with the bomb set, past
 * lim.archive_expanded. */
bool inspect_count_expanded(inspect_ctx *c, GPtrArray *reasons, uint64_t n);

/* Whether another container may be opened inside the current one: false,
 * with the bomb set, at lim.archive_depth.  WHAT names them in the finding
 * ("archives nested deeper than 3"). */
bool inspect_depth_ok(inspect_ctx *c, GPtrArray *reasons, const char *what);

/* An unlinked read-write temporary file in $TMPDIR (else /tmp), or a
 * negative errno. */
int inspect_tmpfile(void);

/* Read-only mapping of SIZE bytes of FD (SIZE is cut to the file's size);
 * NULL with *err = negative errno on failure, or for an empty file with
 * *err = 0.  Release with inspect_unmap. */
const unsigned char *inspect_map(int fd, uint64_t *size, int *err);
void inspect_unmap(const unsigned char *map, uint64_t size);

/* The modules. */
int archive_scan(inspect_ctx *c, int fd, uint64_t size, enum inspect_kind kind, GPtrArray *reasons);
int office_scan_ole(inspect_ctx *c, int fd, uint64_t size, GPtrArray *reasons);
void office_scan_rtf(inspect_ctx *c, const unsigned char *data, size_t len, GPtrArray *reasons);
void pdf_scan(inspect_ctx *c, const unsigned char *data, size_t len, GPtrArray *reasons);
int inspect_tnef(inspect_ctx *c, int fd, uint64_t size, GPtrArray *reasons);

/* OOXML and ODF parts, called by archive.c for each entry of every zip (a
 * document is a zip, and the order of its entries proves nothing, so the
 * rules do not wait for [Content_Types].xml).  office_part_name: rules on
 * the part name (vbaProject.bin, embeddings, activeX, macro sheets, ODF
 * Basic/Scripts), adding to the zip's REASONS; returns true when the part is
 * fully explained and its content need not be opened (a VBA project is a
 * macro, whatever it holds).  office_part_wanted: whether office_part_xml
 * needs the part's whole content ([Content_Types].xml, *.rels), which
 * archive.c collects up to lim.xml_part_bytes. */
bool office_part_name(inspect_ctx *c, const char *part, GPtrArray *reasons);
bool office_part_wanted(const char *part);
void office_part_xml(inspect_ctx *c, const char *part, const unsigned char *data, size_t len,
                     GPtrArray *reasons);

/* Word field instructions of a WordprocessingML part (word/...xml), fed in
 * pieces as the zip is inflated: a DDE or DDEAUTO field is "dde".
 * office_fields_new returns NULL for other parts; office_fields_end adds
 * the reasons (COMPLETE: every byte of the part was fed) and frees F. */
typedef struct office_fields office_fields;
office_fields *office_fields_new(const char *part);
void office_fields_feed(office_fields *f, const unsigned char *data, size_t len);
void office_fields_end(inspect_ctx *c, office_fields *f, bool complete, GPtrArray *reasons);

#endif
