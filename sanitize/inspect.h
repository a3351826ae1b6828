/* inspect.h - what is inside a removed file, and whether it is suspect.
 *
 * Every removed part is already in the quarantine; these detectors decide
 * which ones an administrator must look at before anything is released.
 * They read the decoded bytes from a seekable fd (never the whole file in
 * memory), add stable reason codes, and never fail open: a detector that
 * cannot finish says so with a reason (e.g. "archive-unreadable"), which the
 * verdict table treats as suspect.
 */
#ifndef MUGAI_INSPECT_H
#define MUGAI_INSPECT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Every field <= 0 takes its default (inspect_limits_default), so a caller
 * that sets only some fields never gets a zero limit by accident.  Hitting
 * an archive_* limit is "archive-bomb"; the others are "document-unreadable"
 * (the detector could not finish), except findings, which only shortens
 * the list. */
typedef struct inspect_limits {
	int64_t archive_depth;     /* nested archives opened, 1 = only the attachment itself (3) */
	int64_t archive_entries;   /* entries summed over all levels (1000) */
	int64_t archive_expanded;  /* bytes expanded summed over all levels (500 MiB) */
	int64_t archive_ratio;     /* expanded / compressed, per archive (100) */
	int64_t archive_ratio_floor; /* the ratio is checked once an archive expanded this much (1 MiB) */
	int64_t xml_part_bytes;    /* largest OOXML [Content_Types].xml or .rels part parsed (4 MiB) */
	int64_t pdf_inflated;      /* bytes inflated from one PDF's object streams (64 MiB) */
	int64_t ole_entries;       /* storages and streams walked in one OLE2 file (4096) */
	int64_t findings;          /* findings listed per file (50) */
} inspect_limits;

/* Fill LIM with the defaults above. */
void inspect_limits_default(inspect_limits *lim);

/* One removed file.  NAME and NAME2: the Content-Disposition filename and
 * the Content-Type name (either may be NULL), UTF-8.  DECLARED: the
 * declared MIME type; DETECTED: libmagic's (NULL: detected here).  FD holds
 * SIZE decoded bytes (read with pread or mapped; the offset is not used);
 * nested containers are spilled to unlinked files in $TMPDIR (else /tmp),
 * at most lim->archive_expanded bytes in all.  Thread-safe once g_mime_init()
 * has run (attached messages are parsed with GMime).  Reasons go to REASONS (no
 * duplicates, see result_add_reason); names of suspicious entries inside
 * containers go to FINDINGS as "entry-path: reason" strings for the notice
 * (may be NULL): "entry-path: reason, reason" for an entry, "entry-path:
 * reason (detail)" where a detector has more to say (the PDF keys, an
 * external target), and "reason (detail)" for details about the file
 * itself.  Entry paths inside nested containers are joined with " > "
 * ("inner.zip > a/evil.exe"); every string is printable (charset_printable).
 * Returns 0, or a negative errno when reading FD or writing a temporary
 * file failed (the caller tempfails). */
int inspect_file(const char *name, const char *name2, const char *declared,
                 const char *detected, int fd, uint64_t size,
                 const inspect_limits *lim, GPtrArray *reasons, GPtrArray *findings);

/* Bytes at the start of a file that the type rules and the choice of a
 * container module look at: libmagic reads the first 16 KiB
 * (DETECT_HEAD_BYTES); ISO 9660 and UDF put their signature at 32 KiB + 1. */
#define INSPECT_HEAD_BYTES (36 * 1024)

/* Bytes at the end of a file that show a zip appended to it: the 22-byte
 * end-of-central-directory record and its comment of up to 64 KiB. */
#define INSPECT_TAIL_BYTES (65535 + 22)

/* True when TAIL, the last TLEN bytes of a file of SIZE bytes, ends with a
 * zip's end-of-central-directory record (a "polyglot": a zip appended to a
 * picture or document, which archivers open).  A caller of inspect_head()
 * that holds only the head must then pass an fd with every byte. */
bool inspect_tail_has_zip(const unsigned char *tail, size_t tlen, uint64_t size);

/* True when a container module (archive, Office, PDF, RTF) would read the
 * whole file: the caller of inspect_head() must then hold every byte in an
 * fd.  HEAD: the first min(size, INSPECT_HEAD_BYTES) bytes; the other
 * arguments as for inspect_file(), DETECTED not NULL. */
bool inspect_wants_file(const char *name, const char *name2, const char *declared,
                        const char *detected, const unsigned char *head, size_t hlen);

/* inspect_file() for a caller that already holds HEAD, the first
 * min(size, INSPECT_HEAD_BYTES) bytes: FD is read only when
 * inspect_wants_file() says so and may be -1 otherwise (-EINVAL if it was
 * needed). */
int inspect_head(const char *name, const char *name2, const char *declared, const char *detected,
                 const unsigned char *head, size_t hlen, int fd, uint64_t size,
                 const inspect_limits *lim, GPtrArray *reasons, GPtrArray *findings);

/* Name rules alone (used by inspect_file and for archive entries): NFKC
 * folding of full-width forms, trailing dots/spaces, double extensions,
 * executable/script/disk-image/OneNote/HTML/SVG extensions, control and
 * bidi characters.  Adds reasons to REASONS. */
void inspect_name(const char *name, GPtrArray *reasons);

/* Encoded files hidden in a text body: uuencode ("begin 644 name" ...
 * "end"), yEnc ("=ybegin" ... "=yend") and BinHex ("(This file must be
 * converted with BinHex").  Each block found is one range of TEXT. */
typedef struct textenc_block {
	size_t start, end;   /* byte offsets in the text: [start, end) covers the whole block, lines included */
	const char *kind;    /* "uuencode", "yenc", "binhex" (static) */
	char *name;          /* the file name the block declares, UTF-8, or NULL */
} textenc_block;

/* Blocks found in TEXT (LF line ends), in order, as a GArray of
 * textenc_block; free with textenc_free(). */
GArray *textenc_scan(const char *text, size_t len);
void textenc_free(GArray *blocks);

#endif
