/* walk.h - internal interface between the pipeline's stages (sanitize/ only).
 *
 * mimewalk.c walks the parsed message and fills the result's parts and the
 * list of text blocks to show; output.c turns blocks plus result into the
 * new message; pipeline.c runs the stages and the store.
 */
#ifndef MUGAI_WALK_H
#define MUGAI_WALK_H

#include <gmime/gmime.h>
#include <stdio.h>
#include "config/config.h"
#include "sanitize/rawlook.h"
#include "sanitize/result.h"

typedef struct walk_block {
	char *text;          /* UTF-8, LF line ends, ends in "\n" */
	int quote;           /* "> " prefix depth (embedded messages) */
	mugai_part *part;    /* the part it came from; NULL for headings */
	bool is_html;
} walk_block;

typedef struct walk_ctx {
	const mugai_config *cfg;
	mugai_result *res;
	GPtrArray *blocks;      /* walk_block *, document order */
	FILE *explain;
	gint64 deadline;        /* g_get_monotonic_time() limit */
	uint64_t decoded_total;
	bool stop;              /* a limit ended the walk */
	const rawlook *raw;     /* the raw look's findings per leaf; NULL = none */
} walk_ctx;

void walk_init(walk_ctx *w, const mugai_config *cfg, mugai_result *res, FILE *explain);
void walk_clear(walk_ctx *w);

/* OBJ's MIME type in lower case ("text/plain" when it has none), g_malloc'ed. */
char *walk_mime_type(GMimeObject *obj);
/* A header of OBJ as it came, undecoded (GMime #133: decode it with
 * charset_header_param); NULL when absent. */
const char *walk_raw_header(GMimeObject *obj, const char *name);

/* GMime parser options for one message, warnings recorded as reasons of R. */
GMimeParserOptions *walk_parser_options(mugai_result *r);

/* Walk MSG: fill w->res->parts, w->res->reasons and w->blocks.  0 or -errno. */
int walk_message(walk_ctx *w, GMimeMessage *msg);

/* Decoded bytes of the part at PATH to OUT_FD: 0, 1 = no such part, -errno. */
int walk_export_part(GMimeMessage *msg, const char *path, int out_fd);

/* Build the sanitized message (LF line ends); also sets res->status,
 * subject_out, subject_added and body_offset.  Never NULL. */
GByteArray *output_build(const mugai_config *cfg, GMimeMessage *msg,
                         mugai_result *res, GPtrArray *blocks, char **body_out);

/* Re-parse OUT: 0 if it is exactly one text/plain UTF-8 part whose text is
 * BODY, else -1 with *why set (static string). */
int output_check(const GByteArray *out, const char *body, const char **why);

#endif
