/* store.h - the quarantine store and the audit log.
 *
 * Quarantine: for every verdict but clean, the original bytes exactly as
 * received go to DIR/ID.eml (written to a temp name, fsync'ed, renamed,
 * directory fsync'ed, mode 0600) with the audit record beside it as
 * DIR/ID.json.  IDs sort by time and are not guessable.
 * Audit: JSON Lines, one write(2) per record on an O_APPEND descriptor,
 * fsync'ed before the verdict is returned; administrator acts on the
 * quarantine are records of their own (with an "event" field).
 * Functions return 0 on success or a negative errno; they log nothing, the
 * caller turns a failure into a reason.
 */
#ifndef MUGAI_STORE_H
#define MUGAI_STORE_H

#include <stdio.h>
#include <stdbool.h>
#include <json-c/json.h>
#include "sanitize/result.h"
#include "store/qindex.h"

#define QUARANTINE_ID_MAX 40

/* New ID "YYYYMMDD-HHMMSSmmm-XXXXXXXXXX" (UTC time, 10 random base32 chars
 * from getrandom).  buf must hold QUARANTINE_ID_MAX bytes. */
int quarantine_new_id(char *buf, size_t len);
bool quarantine_id_valid(const char *id);   /* shape check: no '/', no '..' */

/* The time part of the IDs made at UTC ("YYYYMMDD-HHMMSSmmm"): IDs sort in
 * time order, so IDs before it are the entries from before UTC. */
char *quarantine_id_prefix(GDateTime *utc);

/* The audit record of R as one JSON object without newline (g_malloc'ed). */
char *audit_record_json(const mugai_result *r);

/* The quarantine's copy of a record: AUDIT_JSON (from audit_record_json)
 * with "delivered_text" added last, the decoded text/plain body the
 * recipient got (NULL: the field is left out).  Only the .json beside the
 * original carries it; the audit log stays one short line per message. */
char *audit_record_with_text(const char *audit_json, const char *delivered_text);

/* O serialized as audit.c writes records: one line, UTF-8 as is, DEL and
 * C1 controls escaped (g_malloc'ed). */
char *audit_json_string(json_object *o);

/* Store the original: LEN bytes read from FD starting at offset 0 (pread),
 * plus the record JSON.  Creates DIR (0700) if missing. */
int quarantine_store(const char *dir, const char *id, int fd, uint64_t len,
                     const char *record_json);

/* Append one record line (json + "\n") with a single write(2) on an O_APPEND
 * descriptor opened 0600 and fsync it.  Creates the file if missing. */
int audit_append(const char *path, const char *record_json);

/* DIR/ID+SUFFIX parsed as one JSON object of at most MAX bytes: 0,
 * -EINVAL (not an ID), -ENOENT, -EFBIG, -EBADMSG (not a JSON object),
 * -errno.  A symlink is not followed. */
int quarantine_read_json(const char *dir, const char *id, const char *suffix, size_t max,
                         json_object **out);

/* DIR/ID.json, the record: as quarantine_read_json. */
int quarantine_read_record(const char *dir, const char *id, json_object **out);

/* DIR/ID.eml opened read-only: the fd, or -EINVAL (not an ID), -errno. */
int quarantine_open_original(const char *dir, const char *id);

/* Remove entry ID: its .json first (the entry stops existing), then
 * ID.state.json and ID.eml, then fsync DIR.  0, -ENOENT when there is no
 * record, -errno. */
int quarantine_remove(const char *dir, const char *id);

/* Remove every file of every entry whose ID time ("YYYYMMDD-HHMMSSmmm")
 * sorts before BEFORE: records first, then originals, states and leftover
 * temp files.  The IDs whose record went are added to REMOVED (g_malloc'ed
 * strings; may be NULL).  A missing DIR is 0. */
int quarantine_purge(const char *dir, const char *before, GPtrArray *removed);

/* ---- `mugai quarantine ...` ---------------------------------------------
 * Each command prints to OUT/ERR (messages for people through TR(), see
 * i18n.h) and returns the process exit code: 0 done, 1 refused (no such
 * entry, policy, the SMTP server said no, the file exists), 2 usage,
 * 75 temporary trouble (I/O, the SMTP server unreachable or 4xx). */

/* Who acts, and where.  Every act (export, approve, release, delete,
 * purge) appends an administrator record to AUDIT_LOG, refused ones too;
 * when the log cannot be written the act is not done (75). */
typedef struct quarantine_admin {
	const char *dir;            /* [quarantine] dir */
	const char *audit_log;      /* [audit] log */
	const char *release_smtp;   /* [release] smtp, HOST:PORT */
	int release_approvals;      /* [quarantine] release_approvals */
	const char *user;           /* the invoking user */
	const char *sudo_user;      /* $SUDO_USER when run through sudo, else NULL */
	long sudo_uid, sudo_gid;    /* $SUDO_UID, $SUDO_GID, or -1: whose rights export -o writes with */
	FILE *out, *err;
} quarantine_admin;

/* S can go into MAIL FROM:<S> or RCPT TO:<S> as it is: UTF-8, 1..320
 * bytes, no controls, blanks or angle brackets.  For --to, and for the
 * envelope of a record, whose strings came with the mail. */
bool quarantine_address_ok(const char *s);

/* The name of the invoking (real) user, or "uid N" (g_malloc'ed). */
char *quarantine_admin_user(void);

int quarantine_cmd_list(const char *dir, const qindex_filter *f, bool json, FILE *out, FILE *err);
int quarantine_cmd_show(const char *dir, const char *id, FILE *out, FILE *err);
/* Original bytes (or, with PART, the decoded bytes of that MIME part) to
 * OUTPUT, a new file (never one that exists), or to OUT_FD when OUTPUT is
 * NULL.  REASON (may be NULL) goes into the audit record. */
int quarantine_cmd_export(const quarantine_admin *a, const char *id, const char *part,
                          const char *output, const char *reason, int out_fd);
/* Record an approval of ID by the identity of A (SUDO_USER, else the
 * user); one per person. */
int quarantine_cmd_approve(const quarantine_admin *a, const char *id, const char *reason);
/* Re-inject the original of ID through A->release_smtp, to TO (NULL-
 * terminated) or else the record's recipients.  Entries with any verdict
 * but sanitized (suspect, rejected, discarded) need FORCE and
 * A->release_approvals people (the releaser and others who approved).  A release the server refuses changes nothing. */
int quarantine_cmd_release(const quarantine_admin *a, const char *id, const char *reason,
                           const char *const *to, bool force);
int quarantine_cmd_delete(const quarantine_admin *a, const char *id, const char *reason);
/* Remove the entries whose ID time is more than DAYS days ago. */
int quarantine_cmd_purge(const quarantine_admin *a, int64_t days, const char *reason);

#endif
