/* store.h - the quarantine store and the audit log.
 *
 * Quarantine: for every verdict but clean, the original bytes exactly as
 * received go to DIR/ID.eml (written to a temp name, fsync'ed, renamed,
 * directory fsync'ed, mode 0600) with the audit record beside it as
 * DIR/ID.json.  IDs sort by time and are not guessable.
 * Audit: JSON Lines, one write(2) per record on an O_APPEND descriptor,
 * fsync'ed before the verdict is returned.
 * Functions return 0 on success or a negative errno; they log nothing, the
 * caller turns a failure into a reason.
 */
#ifndef MUGAI_STORE_H
#define MUGAI_STORE_H

#include <stdio.h>
#include <stdbool.h>
#include "sanitize/result.h"

#define QUARANTINE_ID_MAX 40

/* New ID "YYYYMMDD-HHMMSSmmm-XXXXXXXXXX" (UTC time, 10 random base32 chars
 * from getrandom).  buf must hold QUARANTINE_ID_MAX bytes. */
int quarantine_new_id(char *buf, size_t len);
bool quarantine_id_valid(const char *id);   /* shape check: no '/', no '..' */

/* The audit record of R as one JSON object without newline (g_malloc'ed). */
char *audit_record_json(const mugai_result *r);

/* Store the original: LEN bytes read from FD starting at offset 0 (pread),
 * plus the record JSON.  Creates DIR (0700) if missing. */
int quarantine_store(const char *dir, const char *id, int fd, uint64_t len,
                     const char *record_json);

/* Append one record line (json + "\n") with a single write(2) on an O_APPEND
 * descriptor opened 0600 and fsync it.  Creates the file if missing. */
int audit_append(const char *path, const char *record_json);

/* Commands behind `mugai quarantine ...`; they print to OUT/ERR and return
 * the process exit code (0 ok, 1 not found, 2 usage, 75 I/O trouble). */
int quarantine_cmd_list(const char *dir, bool json, FILE *out, FILE *err);
int quarantine_cmd_show(const char *dir, const char *id, FILE *out, FILE *err);
/* Original bytes to OUT_FD; with PART non-NULL, the decoded bytes of that
 * MIME part (via pipeline_export_part). */
int quarantine_cmd_export(const char *dir, const char *id, const char *part,
                          int out_fd, FILE *err);

#endif
