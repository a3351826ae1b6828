/* qindex.h - the quarantine list index: a cache of the entries' records in
 * DIR/.index.sqlite, so that `mugai quarantine list` over 100,000 entries
 * answers in well under a second.
 *
 * The entry files stay the source of truth.  Every query first brings the
 * index up to date with a readdir of DIR: records of IDs it does not know
 * yet are read and added, IDs whose .json is gone are dropped.  A missing,
 * corrupt or outdated index is rebuilt; when it cannot be written (a
 * read-only user, a read-only file system) the same index is built in
 * memory for this one query.
 */
#ifndef MUGAI_QINDEX_H
#define MUGAI_QINDEX_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define QINDEX_NAME ".index.sqlite"

/* Filters of `list`; NULL fields do not filter.  Build the time bounds
 * with qindex_time_bound() and the substrings with qindex_fold(). */
typedef struct qindex_filter {
	char *since;     /* ID time prefix "YYYYMMDD-HHMMSSmmm": entries at or after */
	char *until;     /* ID time prefix: entries strictly before */
	char *from;      /* folded substring of the envelope sender or header From */
	char *rcpt;      /* folded substring of any recipient */
	char *subject;   /* folded substring of the decoded Subject */
	char *verdict;   /* exact verdict */
	char *reason;    /* exact reason of the message or of any part */
} qindex_filter;

void qindex_filter_clear(qindex_filter *f);

/* ARG ("YYYY-MM-DD" in local time, or RFC 3339) as an ID time prefix in
 * *OUT (g_malloc'ed).  A date alone is the whole day: for UNTIL the bound
 * is the next midnight; an RFC 3339 UNTIL includes that millisecond.
 * Returns 0, or -EINVAL when ARG is neither. */
int qindex_time_bound(const char *arg, bool until, char **out);

/* S normalised (NFKC: full-width letters match ASCII ones) and case-folded,
 * for case-insensitive substring filters.  NULL gives "". */
char *qindex_fold(const char *s);

/* One entry of the answer; the strings live until the callback returns. */
typedef struct qindex_row {
	const char *id;
	const char *ts;
	const char *verdict;
	const char *sender;    /* envelope sender, else header From; may be NULL */
	const char *subject;   /* may be NULL */
	const char *json;      /* the `list --json` entry, one line; NULL unless asked for */
	uint64_t size;
	unsigned removed;
} qindex_row;

/* Return nonzero to stop. */
typedef int qindex_row_fn(const qindex_row *row, void *user);

typedef struct qindex_stats {
	unsigned added;        /* records read into the index by this query */
	unsigned dropped;      /* IDs dropped because their files are gone */
	unsigned unreadable;   /* records that could not be read (reported on ERR) */
	bool in_memory;        /* the index file could not be written */
	bool rebuilt;          /* the index file was corrupt or outdated */
} qindex_stats;

/* Sync the index of DIR and call FN for each entry matching F, newest
 * first (WANT_JSON fills row->json).  Records that cannot be read are
 * reported on ERR and left out.  Returns 0, or a negative errno when DIR
 * cannot be read or the index cannot work at all.  ST may be NULL. */
int qindex_query(const char *dir, const qindex_filter *f, bool want_json,
                 qindex_row_fn *fn, void *user, qindex_stats *st, FILE *err);

/* The `list --json` entry of record REC of ID: the record's fields with
 * `id` = ID and the record's own `id` as `record_id` (new object). */
json_object *qindex_list_entry(const char *id, json_object *rec);

#endif
