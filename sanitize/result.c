/* result.c - the per-message result record: allocation, reasons, names.
 *
 * Owns every string in mugai_result and mugai_part; result_free() releases
 * all of it.  Reasons are kept in insertion order without duplicates.
 */
#include "sanitize/result.h"
#include <string.h>

static void part_free(gpointer p)
{
	mugai_part *part = p;
	if (!part)
		return;
	g_free(part->path);
	g_free(part->content_type);
	g_free(part->detected_type);
	g_free(part->filename);
	g_free(part->name_param);
	g_ptr_array_unref(part->reasons);
	g_ptr_array_unref(part->findings);
	g_free(part);
}

mugai_result *result_new(void)
{
	mugai_result *r = g_new0(mugai_result, 1);
	r->rcpt = g_ptr_array_new_with_free_func(g_free);
	r->reasons = g_ptr_array_new_with_free_func(g_free);
	r->parts = g_ptr_array_new_with_free_func(part_free);
	return r;
}

mugai_result *result_free(mugai_result *r)
{
	if (!r)
		return NULL;
	g_free(r->id);
	g_free(r->ts);
	g_free(r->message_id);
	g_free(r->from);
	g_free(r->header_from);
	g_free(r->subject);
	g_free(r->client);
	g_free(r->verdict_reason);
	g_free(r->quarantine_id);
	g_free(r->status);
	g_free(r->subject_out);
	g_free(r->text);
	g_ptr_array_unref(r->rcpt);
	g_ptr_array_unref(r->reasons);
	g_ptr_array_unref(r->parts);
	g_free(r);
	return NULL;
}

mugai_part *result_add_part(mugai_result *r, const char *path)
{
	mugai_part *p = g_new0(mugai_part, 1);
	p->path = g_strdup(path);
	p->reasons = g_ptr_array_new_with_free_func(g_free);
	p->findings = g_ptr_array_new_with_free_func(g_free);
	p->action = PART_REMOVED;
	g_ptr_array_add(r->parts, p);
	return p;
}

bool result_has_reason(const GPtrArray *reasons, const char *reason)
{
	for (guint i = 0; i < reasons->len; i++)
		if (strcmp(g_ptr_array_index(reasons, i), reason) == 0)
			return true;
	return false;
}

void result_add_reason(GPtrArray *reasons, const char *reason)
{
	if (!result_has_reason(reasons, reason))
		g_ptr_array_add(reasons, g_strdup(reason));
}

unsigned result_count_action(const mugai_result *r, enum part_action a)
{
	unsigned n = 0;
	for (guint i = 0; i < r->parts->len; i++)
		if (((mugai_part *)g_ptr_array_index(r->parts, i))->action == a)
			n++;
	return n;
}

char *result_rfc3339(GDateTime *utc)
{
	char *base = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%S");
	char *ts = g_strdup_printf("%s.%03dZ", base, g_date_time_get_microsecond(utc) / 1000);
	g_free(base);
	return ts;
}

char *result_now_rfc3339(void)
{
	GDateTime *t = g_date_time_new_now_utc();
	char *ts = result_rfc3339(t);
	g_date_time_unref(t);
	return ts;
}

const char *verdict_name(enum verdict v)
{
	static const char *const names[] = {
		[VERDICT_CLEAN] = "clean", [VERDICT_SANITIZED] = "sanitized",
		[VERDICT_SUSPECT] = "suspect", [VERDICT_DISCARDED] = "discarded", [VERDICT_REJECTED] = "rejected",
		[VERDICT_TEMPFAIL] = "tempfail",
	};
	return (unsigned)v < G_N_ELEMENTS(names) ? names[v] : "tempfail";
}

const char *part_action_name(enum part_action a)
{
	static const char *const names[] = {
		[PART_KEPT] = "kept", [PART_CONVERTED] = "converted", [PART_REMOVED] = "removed",
	};
	return (unsigned)a < G_N_ELEMENTS(names) ? names[a] : "removed";
}
