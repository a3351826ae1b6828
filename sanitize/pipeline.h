/* pipeline.h - the one sanitize pipeline shared by the milter and the CLI.
 *
 * Input: a seekable fd holding the original message (read from offset 0,
 * never modified).  Output: the sanitized message (LF line ends) in a
 * GByteArray and a filled mugai_result.  Nothing is written anywhere: the
 * caller that did not parse the mail makes the quarantine entry and the
 * audit record durable (store_commit) before it answers.  Knows nothing of
 * libmilter.
 */
#ifndef MUGAI_PIPELINE_H
#define MUGAI_PIPELINE_H

#include <glib.h>
#include <stdio.h>
#include "config/config.h"
#include "sanitize/result.h"

typedef struct pipeline_env {
	const char *id;          /* record ID (queue ID); NULL = the quarantine ID is used */
	const char *env_from;    /* envelope sender, NULL outside the milter */
	const char *const *rcpt; /* envelope recipients, NULL-terminated, or NULL */
	const char *client;      /* client address or NULL */
	const char *quarantine_id; /* the entry's ID, minted by the caller; NULL = minted here */
	FILE *explain;           /* when non-NULL, each part's decision is printed here */
} pipeline_env;

/* Process-wide initialisation: g_mime_init, xmlInitParser.  Call once from main(). */
void pipeline_global_init(void);
void pipeline_global_shutdown(void);

/* Run the pipeline.  Returns the verdict (also in (*res)->verdict).  On
 * clean/sanitized/suspect *out holds the message to deliver; on rejected or
 * tempfail *out is NULL and (*res)->verdict_reason says why. */
enum verdict pipeline_run(const mugai_config *cfg, const pipeline_env *env,
                          int fd, GByteArray **out, mugai_result **res);

/* True for the top-level header names the output does not take from the
 * original: Content-*, MIME-Version and X-Mugai-Status (replaced by its
 * own), X-Mugai-Released (only a release adds it, past the milter; a
 * sender's own would claim an administrator let the message through),
 * ignoring case and blanks around the name.  The milter deletes exactly
 * these from the original. */
bool pipeline_header_replaced(const char *name);

/* Decoded bytes of the part at PATH (as in the audit record) of the
 * message in FD, written to OUT_FD.  0 ok, 1 no such part, negative errno. */
int pipeline_export_part(int fd, const char *path, int out_fd);

#endif
