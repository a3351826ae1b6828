/* test-verdict.c - the reason table: one verdict per set of reasons. */
#include "tap.h"
#include "sanitize/verdict.h"

static const struct {
	const char *name;
	const char *msg_reasons[4];
	struct { enum part_action action; const char *reasons[3]; } parts[3];
	enum verdict want;
	const char *want_reason;
} cases[] = {
	{ "text only", { NULL }, { { PART_KEPT, { NULL } } }, VERDICT_CLEAN, NULL },
	{ "informational warning stays clean", { "parse-warning:truncated-message", NULL }, { { PART_KEPT, { "charset-guessed", NULL } } }, VERDICT_CLEAN, NULL },
	{ "html converted", { NULL }, { { PART_CONVERTED, { "html-converted", NULL } } }, VERDICT_SANITIZED, NULL },
	{ "attachment removed", { NULL }, { { PART_KEPT, { NULL } }, { PART_REMOVED, { "attachment", NULL } } }, VERDICT_SANITIZED, NULL },
	{ "removed without reason still sanitized", { NULL }, { { PART_REMOVED, { NULL } } }, VERDICT_SANITIZED, NULL },
	{ "conflicting header is suspect", { "parse-warning:crit-conflicting-header", NULL }, { { PART_KEPT, { NULL } } }, VERDICT_SUSPECT, NULL },
	{ "chunked base64 is suspect", { NULL }, { { PART_REMOVED, { "attachment", "base64-after-padding", NULL } } }, VERDICT_SUSPECT, NULL },
	{ "unknown reason is suspect", { "brand-new-detector", NULL }, { { PART_KEPT, { NULL } } }, VERDICT_SUSPECT, NULL },
	{ "size limit rejects", { "limit:message-size", NULL }, { { PART_KEPT, { NULL } } }, VERDICT_REJECTED, "limit:message-size" },
	{ "tempfail beats reject", { "limit:header-bytes", "quarantine-failed", NULL }, { { PART_KEPT, { NULL } } }, VERDICT_TEMPFAIL, "quarantine-failed" },
	{ "internal error tempfails", { NULL }, { { PART_REMOVED, { "internal:decode", NULL } } }, VERDICT_TEMPFAIL, "internal:decode" },
	{ "time limit tempfails", { "limit:time", "limit:parts", NULL }, { { PART_KEPT, { NULL } } }, VERDICT_TEMPFAIL, "limit:time" },
	{ "depth limit is suspect", { "limit:mime-depth", NULL }, { { PART_REMOVED, { "limit:mime-depth", NULL } } }, VERDICT_SUSPECT, NULL },
};

int main(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		mugai_result *r = result_new();
		for (int k = 0; cases[i].msg_reasons[k]; k++)
			result_add_reason(r->reasons, cases[i].msg_reasons[k]);
		for (int j = 0; j < 3 && (cases[i].parts[j].reasons[0] || j == 0 || cases[i].parts[j].action != PART_KEPT); j++) {
			if (j > 0 && !cases[i].parts[j].reasons[0] && cases[i].parts[j].action == PART_KEPT)
				break;
			mugai_part *p = result_add_part(r, "1");
			p->action = cases[i].parts[j].action;
			for (int k = 0; cases[i].parts[j].reasons[k]; k++)
				result_add_reason(p->reasons, cases[i].parts[j].reasons[k]);
		}
		enum verdict v = verdict_decide(r);
		TAP_OK(v == cases[i].want, "%s: %s", cases[i].name, verdict_name(v));
		TAP_STREQ(r->verdict_reason, cases[i].want_reason, "%s: deciding reason", cases[i].name);
		result_free(r);
	}
	/* every row's prefix/exact match finds itself */
	for (const verdict_row *row = verdict_table; row->reason; row++)
		TAP_OK(verdict_lookup(row->reason) == row, "table row %s found", row->reason);
	TAP_OK(verdict_lookup("parse-warning:crit-nesting-overflow")->verdict == VERDICT_SUSPECT, "crit prefix beats warning prefix");
	return tap_done();
}
