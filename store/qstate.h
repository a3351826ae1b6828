/* qstate.h - what administrators did with a quarantine entry: approvals and
 * releases, in REVIEW/ID.json.
 *
 * {"approvals":[{"user":IDENTITY,"by":USER,"sudo_user":S|null,"at":TS,
 *   "reason":R,"quarantine_id":ID,"to":[ADDR...],"expires":TS,
 *   "used":TS|null}, ...],
 *  "releases":[{"user":...,"by":...,"sudo_user":...,"at":...,"reason":...,
 *   "to":[ADDR...],"smtp_reply":TEXT,"approvals":[IDENTITY...]}, ...]}
 * REVIEW is a directory only root may change ([quarantine] review_dir,
 * beside the quarantine by default): the milter's account, which owns the
 * quarantine, can neither forge an approval nor remove a release.  An
 * entry without a file has done nothing yet.  Changes are made under an
 * exclusive lock (flock on REVIEW) and written atomically: a fresh temp
 * file (O_EXCL after removing any leftover), fsync, rename, directory
 * fsync.
 */
#ifndef MUGAI_QSTATE_H
#define MUGAI_QSTATE_H

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* The review directory: REVIEW_DIR when set, else "review" beside the
 * quarantine directory QDIR (g_malloc'ed). */
char *qstate_dir(const char *qdir, const char *review_dir);

/* Lock the review state of every entry for a read-modify-write: REVIEW is
 * opened as a trusted directory (root's, util/safeopen.h) and made (0700)
 * when missing.  The locked fd (close it to unlock), or a negative errno;
 * WHY (may be NULL) says which directory is not trusted. */
int qstate_lock(const char *rdir, char *why, size_t whylen);

/* REVIEW/ID.json, or an empty state when there is none: 0, -EBADMSG (not a
 * state object), -errno.  *OUT is a new object. */
int qstate_load(const char *rdir, const char *id, json_object **out);

/* Write STATE as REVIEW/ID.json, atomically.  0 or -errno. */
int qstate_save(const char *rdir, const char *id, json_object *state);

/* Remove REVIEW/ID.json (a missing one is 0).  0 or -errno. */
int qstate_remove(const char *rdir, const char *id);

/* Append ITEM (ownership taken) to the list KEY ("approvals", "releases"). */
void qstate_add(json_object *state, const char *key, json_object *item);

/* The list KEY of STATE (never NULL for a loaded state). */
json_object *qstate_list(json_object *state, const char *key);

/* An approval that counts at time NOW (RFC 3339 UTC, as result_now_rfc3339):
 * not used, not expired, and naming every address of TO (NULL: any). */
bool qstate_approval_live(json_object *approval, const char *now, GPtrArray *to);

/* The approvals that count for a release to TO at NOW: one per identity
 * other than EXCEPT (may be NULL), the first live one of each, in the
 * order given.  The objects belong to STATE. */
GPtrArray *qstate_live_approvals(json_object *state, const char *except, const char *now, GPtrArray *to);

/* The identity of an approval (its "user"), or NULL. */
const char *qstate_approval_user(json_object *approval);

#endif
