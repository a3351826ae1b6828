/* test-verdict.c - the reason table: one verdict per set of reasons. */
#include "tap.h"
#include "sanitize/policy.h"
#include "sanitize/verdict.h"
#include <unistd.h>

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
	{ "policy discards suspect", { "policy:suspect-discarded", NULL }, { { PART_REMOVED, { "macro", NULL } } }, VERDICT_DISCARDED, "policy:suspect-discarded" },
	{ "reject beats discard", { "policy:suspect-discarded", "malformed-message", NULL }, { { PART_KEPT, { NULL } } }, VERDICT_REJECTED, "malformed-message" },
	{ "tempfail beats discard", { "policy:suspect-discarded", "audit-failed", NULL }, { { PART_KEPT, { NULL } } }, VERDICT_TEMPFAIL, "audit-failed" },
	{ "winmail.dat of harmless files: removed like any file", { NULL }, { { PART_REMOVED, { "attachment", "tnef", NULL } } }, VERDICT_SANITIZED, NULL },
	{ "winmail.dat not read in full is suspect", { NULL }, { { PART_REMOVED, { "tnef", "tnef-unreadable", NULL } } }, VERDICT_SUSPECT, NULL },
	{ "exception delivers: still suspect", { "policy:suspect-delivered", NULL }, { { PART_REMOVED, { "executable", NULL } } }, VERDICT_SUSPECT, NULL },
};

/* [policy]: which exception decides, strictest first. */
static const struct {
	const char *name;
	const char *conf;
	const char *from;
	const char *rcpt[3];
	enum mugai_on_suspect want;
	const char *want_rule;
} policy_cases[] = {
	{ "no exceptions: on_suspect", "on_suspect = reject\n", "a@x.jp", { "b@y.jp" }, MUGAI_SUSPECT_REJECT, NULL },
	{ "sender domain delivers", "on_suspect = reject\ndeliver_suspect_from = x.jp\n", "A@X.JP", { "b@y.jp" },
	  MUGAI_SUSPECT_DELIVER, "deliver_suspect_from = x.jp" },
	{ "domain is not its subdomains", "on_suspect = reject\ndeliver_suspect_from = x.jp\n", "a@sub.x.jp", { "b@y.jp" },
	  MUGAI_SUSPECT_REJECT, NULL },
	{ "dot domain: subdomains", "on_suspect = reject\ndeliver_suspect_from = .x.jp\n", "a@sub.x.jp", { "b@y.jp" },
	  MUGAI_SUSPECT_DELIVER, "deliver_suspect_from = .x.jp" },
	{ "dot domain: not the domain itself", "on_suspect = reject\ndeliver_suspect_from = .x.jp\n", "a@x.jp", { "b@y.jp" },
	  MUGAI_SUSPECT_REJECT, NULL },
	{ "dot domain: not a longer name", "on_suspect = reject\ndeliver_suspect_from = .x.jp\n", "a@evilx.jp", { "b@y.jp" },
	  MUGAI_SUSPECT_REJECT, NULL },
	{ "address exact", "discard_suspect_to = soumu@city.example.lg.jp\n", "a@x.jp", { "b@y.jp", "Soumu@City.Example.LG.JP" },
	  MUGAI_SUSPECT_DISCARD, "discard_suspect_to = soumu@city.example.lg.jp" },
	{ "address not its domain", "discard_suspect_to = soumu@city.example.lg.jp\n", "a@x.jp", { "kikaku@city.example.lg.jp" },
	  MUGAI_SUSPECT_DELIVER, NULL },
	{ "reject beats deliver", "deliver_suspect_from = x.jp\nreject_suspect_to = y.jp\n", "a@x.jp", { "b@y.jp" },
	  MUGAI_SUSPECT_REJECT, "reject_suspect_to = y.jp" },
	{ "discard beats deliver", "on_suspect = reject\ndeliver_suspect_to = y.jp\ndiscard_suspect_from = x.jp\n", "a@x.jp", { "b@y.jp" },
	  MUGAI_SUSPECT_DISCARD, "discard_suspect_from = x.jp" },
	{ "no sender: sender lists skipped", "on_suspect = discard\ndeliver_suspect_from = x.jp\n", NULL, { "b@y.jp" },
	  MUGAI_SUSPECT_DISCARD, NULL },
	{ "null sender <> matches nothing", "on_suspect = discard\ndeliver_suspect_from = x.jp\n", "", { "b@y.jp" },
	  MUGAI_SUSPECT_DISCARD, NULL },
	{ "no recipients", "on_suspect = reject\ndeliver_suspect_to = y.jp\n", "a@x.jp", { NULL }, MUGAI_SUSPECT_REJECT, NULL },
};

static void policy_tests(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(policy_cases); i++) {
		char *text = g_strconcat("[policy]\n", policy_cases[i].conf, NULL);
		char *path = NULL;
		int fd = g_file_open_tmp("mugai-test-policy-XXXXXX.conf", &path, NULL);
		mugai_config *cfg = NULL;
		char err[256] = "";
		bool wrote = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
		if (fd >= 0)
			close(fd);
		int rc = wrote ? config_load(path, &cfg, err, sizeof err) : -1;
		TAP_OK(rc == 0, "%s: config loads %s", policy_cases[i].name, err);
		if (rc == 0) {
			char *rule = NULL;
			enum mugai_on_suspect a = policy_on_suspect(cfg, policy_cases[i].from, policy_cases[i].rcpt, &rule);
			TAP_OK(a == policy_cases[i].want, "%s: action %d", policy_cases[i].name, (int)a);
			TAP_STREQ(rule, policy_cases[i].want_rule, "%s: rule", policy_cases[i].name);
			g_free(rule);
			config_free(cfg);
		}
		if (path)
			unlink(path);
		g_free(path);
		g_free(text);
	}
}

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
	policy_tests();
	return tap_done();
}
