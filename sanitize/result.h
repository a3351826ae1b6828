/* result.h - what the pipeline found and decided about one message.
 *
 * Filled by the pipeline (sanitize/), serialized by the audit log and the
 * quarantine (store/).  Reasons are stable machine strings (see
 * sanitize/verdict.c for the table that turns them into a verdict).
 * All strings are UTF-8 and owned by the struct.
 */
#ifndef MUGAI_RESULT_H
#define MUGAI_RESULT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

enum part_action { PART_KEPT, PART_CONVERTED, PART_REMOVED };

enum verdict {
	VERDICT_CLEAN, VERDICT_SANITIZED, VERDICT_SUSPECT,
	VERDICT_DISCARDED,  /* suspect, and [policy] says accept without delivering */
	VERDICT_REJECTED, VERDICT_TEMPFAIL
};

typedef struct mugai_part {
	char *path;           /* "1", "2.1": GMimePartIter path, as `quarantine export --part` takes it */
	char *content_type;   /* declared, lower case "type/subtype" */
	char *detected_type;  /* libmagic MIME type of the decoded bytes; NULL if not inspected */
	char *filename;       /* decoded UTF-8 (Content-Disposition filename, else Content-Type name); NULL if none */
	char *name_param;     /* Content-Type name when it differs from filename; NULL otherwise */
	uint64_t size;        /* decoded bytes */
	char sha256[65];      /* hex of the decoded bytes; "" if not computed */
	enum part_action action;
	GPtrArray *reasons;   /* char *, stable codes */
	GPtrArray *findings;  /* char *, "entry: reason (detail)" from inside containers */
} mugai_part;

typedef struct mugai_result {
	char *id;             /* record ID: Postfix queue ID in the milter, --id or quarantine ID in the CLI */
	char *ts;             /* RFC 3339 UTC with milliseconds */
	char *message_id;
	char *from;           /* envelope sender if known, else header From address */
	char *header_from;    /* decoded From header, for display */
	char *subject;        /* decoded Subject */
	GPtrArray *rcpt;      /* char *: envelope recipients if known, else To/Cc addresses */
	char *client;         /* client address; NULL outside the milter */
	uint64_t size;        /* bytes of the original message */
	char sha256[65];      /* of the original message bytes */
	enum verdict verdict;
	char *verdict_reason; /* the reason that decided a discarded/rejected/tempfail verdict; NULL otherwise */
	char *quarantine_id;  /* NULL when clean */
	int64_t elapsed_ms;
	GPtrArray *reasons;   /* char *: message-level reasons (parse warnings, limits) */
	GPtrArray *parts;     /* mugai_part *, leaves in document order */

	/* What the milter needs to turn the original into the output by edits:
	 * set when an output was built. */
	char *status;         /* X-Mugai-Status value */
	char *subject_out;    /* new Subject value (tagged), LF-folded; NULL = unchanged */
	bool subject_added;   /* the original had no Subject: add subject_out */
	uint64_t body_offset; /* where the output's body starts */
	char *text;           /* the decoded text the recipient gets; NULL when nothing is delivered */
} mugai_result;

mugai_result *result_new(void);
mugai_result *result_free(mugai_result *r);   /* NULL-safe; returns NULL */
mugai_part *result_add_part(mugai_result *r, const char *path);
void result_add_reason(GPtrArray *reasons, const char *reason);  /* no duplicates */
bool result_has_reason(const GPtrArray *reasons, const char *reason);
unsigned result_count_action(const mugai_result *r, enum part_action a);

/* Now as RFC 3339 UTC with milliseconds ("2026-11-22T01:53:32.159Z"), g_malloc'ed. */
char *result_now_rfc3339(void);
/* The same for UTC (a GDateTime in UTC). */
char *result_rfc3339(GDateTime *utc);

const char *verdict_name(enum verdict v);    /* "clean", "sanitized", ... */
const char *part_action_name(enum part_action a);  /* "kept", "converted", "removed" */

#endif
