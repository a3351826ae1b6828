/* qstate.h - what administrators did with a quarantine entry: approvals and
 * releases, in DIR/ID.state.json.
 *
 * {"approvals":[{"user":IDENTITY,"by":USER,"sudo_user":S|null,"at":TS,
 *   "reason":R}, ...],
 *  "releases":[{"user":...,"by":...,"sudo_user":...,"at":...,"reason":...,
 *   "to":[ADDR...],"smtp_reply":TEXT}, ...]}
 * An entry without the file has done nothing yet.  Changes are made under
 * an exclusive lock (flock on DIR/ID.eml, which every entry has) and
 * written atomically: temp file, fsync, rename, directory fsync.
 */
#ifndef MUGAI_QSTATE_H
#define MUGAI_QSTATE_H

#include <glib.h>
#include <json-c/json.h>

/* Lock entry ID for a read-modify-write: the locked fd (close it to
 * unlock), or a negative errno (-ENOENT: no such entry). */
int qstate_lock(const char *dir, const char *id);

/* DIR/ID.state.json, or an empty state when there is none: 0, -EBADMSG
 * (not a state object), -errno.  *OUT is a new object. */
int qstate_load(const char *dir, const char *id, json_object **out);

/* Write STATE as DIR/ID.state.json, atomically.  0 or -errno. */
int qstate_save(const char *dir, const char *id, json_object *state);

/* Append ITEM (ownership taken) to the list KEY ("approvals", "releases"). */
void qstate_add(json_object *state, const char *key, json_object *item);

/* The list KEY of STATE (never NULL for a loaded state). */
json_object *qstate_list(json_object *state, const char *key);

/* Distinct identities that approved, other than EXCEPT (may be NULL), in
 * the order of their first approval; the strings belong to STATE. */
GPtrArray *qstate_approvers(json_object *state, const char *except);

#endif
