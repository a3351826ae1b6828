/* commit.c - the store step of one message.
 *
 * Owns the order in which a message's traces become durable: the original
 * and its record in the quarantine first (when the message has a
 * quarantine ID), then the audit record; only then may the caller answer.
 * When a write fails the record is turned into a tempfail before it is
 * logged, and an entry already in the quarantine is taken out again, so
 * the quarantine never says "delivered" for a message the sender was told
 * to send again.  Called by the process that did not parse the mail: the
 * milter for its workers' messages, the CLI for its confined child's.
 */
#include "store/store.h"

#include <errno.h>
#include <string.h>

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

void store_record_tempfail(json_object *rec, const char *reason)
{
	json_object_object_add(rec, "verdict", json_object_new_string("tempfail"));
	json_object_object_add(rec, "verdict_reason", json_object_new_string(reason));
	json_object_object_add(rec, "quarantine_id", NULL);
	json_object *reasons;
	if (!json_object_object_get_ex(rec, "reasons", &reasons) || !json_object_is_type(reasons, json_type_array)) {
		reasons = json_object_new_array();
		json_object_object_add(rec, "reasons", reasons);
	}
	for (size_t i = 0; i < json_object_array_length(reasons); i++) {
		json_object *v = json_object_array_get_idx(reasons, i);
		if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), reason) == 0)
			return;
	}
	json_object_array_add(reasons, json_object_new_string(reason));
}

const char *store_commit(const char *qdir, const char *audit_log, json_object *rec, int fd, uint64_t size,
                         const char *text)
{
	const char *reason = NULL;
	const char *qid = jstr(rec, "quarantine_id");
	char *stored = NULL;
	char *line = audit_json_string(rec);
	if (qid) {
		/* the quarantine's copy carries the text the recipient got, spliced
		 * onto the line rather than serialized a second time */
		char *qjson = audit_record_with_text(line, text);
		stored = g_strdup(qid);
		if (quarantine_store(qdir, stored, fd, size, qjson) < 0) {
			reason = "quarantine-failed";
			g_free(stored);
			stored = NULL;
		}
		g_free(qjson);
	}
	if (reason) {
		store_record_tempfail(rec, reason);
		g_free(line);
		line = audit_json_string(rec);
	}
	if (audit_append(audit_log, line) < 0) {
		/* the sender is told to try again: no entry may say otherwise */
		if (stored)
			quarantine_remove(qdir, stored);
		reason = "audit-failed";
		store_record_tempfail(rec, reason);
	}
	g_free(line);
	g_free(stored);
	return reason;
}
