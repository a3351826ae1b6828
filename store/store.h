/* store.h - the quarantine store and the audit logs.
 *
 * Quarantine: for every verdict but clean, the original bytes exactly as
 * received go to DIR/ID.eml (written to a temp name, fsync'ed, renamed,
 * directory fsync'ed, mode 0600) with the audit record beside it as
 * DIR/ID.json.  IDs sort by time and are not guessable.
 * Audit: JSON Lines, one write(2) per record on an O_APPEND descriptor,
 * fsync'ed before the verdict is returned.  Message records go to
 * [audit] log, which the milter's account owns; administrator acts on the
 * quarantine are records of their own (with an "event" field) in
 * [audit] admin_log, which only root writes.
 * store/ is the only code that opens these paths, always through
 * util/safeopen.h: the directories above the store trusted, no link
 * followed, regular files with one name only, and root acting as the
 * owner of a directory it does not own (store_dir_open).
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
#include "util/safeopen.h"

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

/* O serialized as audit.c writes records: one line, UTF-8 as is; DEL, the
 * C1 controls, the bidi controls (U+202A-E, U+2066-9, U+200E-F, U+061C)
 * and the line and paragraph separators (U+2028-9) escaped as \uXXXX, so
 * a log viewer shows the text in the order it is stored (g_malloc'ed). */
char *audit_json_string(json_object *o);

/* ---- one message -------------------------------------------------------- */

/* Make one message's traces durable, in this order: when the record REC
 * (an audit record object, audit_record_json's fields) names a quarantine
 * ID, the original (SIZE bytes of FD) and REC plus "delivered_text" (TEXT,
 * when not NULL) go to QDIR; then REC goes to AUDIT_LOG.  NULL when both
 * are done.  Else the reason ("quarantine-failed", "audit-failed"): REC
 * has become a tempfail record (store_record_tempfail) and no entry is
 * left in the quarantine. */
const char *store_commit(const char *qdir, const char *audit_log, json_object *rec, int fd, uint64_t size,
                         const char *text);

/* Turn REC into the record of a tempfail for REASON: verdict, its reason,
 * REASON among the reasons, no quarantine ID. */
void store_record_tempfail(json_object *rec, const char *reason);

/* The one syslog line of a message (facility mail), Postfix style:
 * "QUEUEID: mugai: verdict=V [reason=R] removed=N quarantine=ID size=N
 * elapsed=Nms"; errors for a tempfail, info otherwise. */
void audit_syslog_line(const char *id, const char *verdict, const char *reason, unsigned removed,
                       const char *qid, uint64_t size, int64_t elapsed_ms);

/* ---- directories ---------------------------------------------------------- */

/* DIR (absolute) open for work in it: every directory above it trusted
 * (root's or ours, not writable by others), DIR itself not followed if a
 * link, and, when running as root in a DIR another account owns, root's
 * file-system identity that account's until store_dir_close(): whatever
 * that account planted there reaches nothing it could not reach itself,
 * and what is created there is its own.  CREATE: a missing DIR is made
 * (0700) and its parent fsync'ed.  0 or a negative errno; WHY (may be
 * NULL) says which directory is not trusted. */
typedef struct store_dir {
	int fd;
	fs_identity as;
} store_dir;
int store_dir_open(const char *dir, bool create, store_dir *d, char *why, size_t whylen);
void store_dir_close(store_dir *d);

/* The file PATH opened for appending through store_dir_open(PATH's
 * directory) and safe_openat(): created with MODE when missing, refused
 * when it is a link, a FIFO or has a second name.  The descriptor, or a
 * negative errno. */
int store_open_log(const char *path, mode_t mode, char *why, size_t whylen);

/* Store the original: LEN bytes read from FD starting at offset 0 (pread),
 * plus the record JSON.  Creates DIR (0700) if missing. */
int quarantine_store(const char *dir, const char *id, int fd, uint64_t len,
                     const char *record_json);

/* Append one record line (json + "\n") with a single write(2) on an O_APPEND
 * descriptor (store_open_log, 0600 when it has to be created) and fsync it. */
int audit_append(const char *path, const char *record_json);

/* The same on a descriptor the caller opened (the administrators' log,
 * opened once per command). */
int audit_append_fd(int fd, const char *record_json);

/* The administrators' log PATH (made absolute), opened for appending: it
 * is the caller's own (root's, run as root), reached through directories
 * only root (or the caller) may change, never a link, a FIFO or a file with
 * a second name; created 0600 when missing.  The descriptor, or a negative
 * errno with WHY saying what is wrong. */
int audit_open_admin_log(const char *path, char *why, size_t whylen);

/* DIR/ID+SUFFIX parsed as one JSON object of at most MAX bytes: 0,
 * -EINVAL (not an ID), -ENOENT, -EFBIG, -EBADMSG (not a JSON object, or
 * not a regular file with one link), -errno.  A symlink is not followed. */
int quarantine_read_json(const char *dir, const char *id, const char *suffix, size_t max,
                         json_object **out);

/* DIR/ID.json, the record: as quarantine_read_json. */
int quarantine_read_record(const char *dir, const char *id, json_object **out);

/* The same in a directory already open (store_dir_open). */
int quarantine_read_json_at(int dfd, const char *id, const char *suffix, size_t max, json_object **out);
int quarantine_read_record_at(int dfd, const char *id, json_object **out);

/* DIR/ID.eml opened read-only: the fd, or -EINVAL (not an ID, or not a
 * regular file with one link), -errno. */
int quarantine_open_original(const char *dir, const char *id);

/* Remove entry ID: its .json first (the entry stops existing), then
 * ID.eml (and an ID.state.json of earlier versions), then fsync DIR.  0,
 * -ENOENT when there is no record, -errno. */
int quarantine_remove(const char *dir, const char *id);

/* Remove every file of every entry whose ID time ("YYYYMMDD-HHMMSSmmm")
 * sorts before BEFORE: records first, then originals, states and leftover
 * temp files.  The IDs whose record went are added to REMOVED (g_malloc'ed
 * strings; may be NULL).  A missing DIR is 0. */
int quarantine_purge(const char *dir, const char *before, GPtrArray *removed);

#endif
