/* test-qadmin.c - unit tests for the administrator side of the quarantine:
 * text for people (qview), the list index and its filters (qindex), entry
 * state (qstate), removing and purging entries, and the translation table.
 *
 * The commands themselves (exact tables, audit records, release over SMTP)
 * are tested through the real binary in test/quarantine.py.
 */
#include "store/store.h"
#include "cli/i18n.h"
#include "store/qindex.h"
#include "store/qstate.h"
#include "cli/qview.h"
#include "test/unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *tmpdir;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static gint cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in DIR, sorted, joined by spaces. */
static char *dir_names(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	const char *n;
	while (d && (n = g_dir_read_name(d)))
		g_ptr_array_add(a, g_strdup(n));
	if (d)
		g_dir_close(d);
	g_ptr_array_sort(a, cmp_names);
	g_ptr_array_add(a, NULL);
	char *s = g_strjoinv(" ", (char **)a->pdata);
	g_ptr_array_unref(a);
	return s;
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char *p = g_build_filename(dir, name, NULL);
	g_file_set_contents(p, text, -1, NULL);
	chmod(p, 0600);
	g_free(p);
}

/* ---- qview ----------------------------------------------------------------- */

static void test_view(void)
{
	static const struct { const char *in, *out, *text; } pr[] = {
		{ NULL, "-", "-" },
		{ "plain", "plain", "plain" },
		{ "a\tb\nc", "a<U+0009>b<U+000A>c", "a\tb\nc" },
		{ "invoice\xe2\x80\xae" "fdp.exe", "invoice<U+202E>fdp.exe", "invoice<U+202E>fdp.exe" },
		{ "esc\x1b[31m", "esc<U+001B>[31m", "esc<U+001B>[31m" },
		{ "bad\xff!", "bad<0xFF>!", "bad<0xFF>!" },
		{ "見積書", "見積書", "見積書" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(pr); i++) {
		char *a = qview_printable(pr[i].in), *b = qview_printable_text(pr[i].in);
		TAP_STREQ(a, pr[i].out, "printable %zu", i);
		TAP_STREQ(b, pr[i].text, "printable_text %zu", i);
		g_free(a);
		g_free(b);
	}

	static const struct { const char *s; int w; } wd[] = {
		{ "", 0 }, { "abc", 3 }, { "見積書", 6 }, { "ｾﾐﾅｰ", 4 }, { "Ａｂ", 4 },
		{ "e\xcc\x81", 1 },          /* e + combining acute */
		{ "a\xe2\x80\x8b" "b", 2 },  /* zero width space */
		{ "\xe2\x80\xa6", 1 },       /* ellipsis: ambiguous, one column */
		{ "Re: 会議", 8 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(wd); i++)
		TAP_OK(qview_width(wd[i].s) == wd[i].w, "width(\"%s\") == %d (got %d)", wd[i].s, wd[i].w,
		       qview_width(wd[i].s));

	static const struct { const char *s; int w; bool cut, right; const char *out; } cell[] = {
		{ "abc", 5, true, false, "abc  " },
		{ "abc", 5, true, true, "  abc" },
		{ "abcdef", 4, true, false, "abc\xe2\x80\xa6" },
		{ "abcdef", 4, false, false, "abcdef" },
		{ "見積書の送付", 7, true, false, "見積書\xe2\x80\xa6" },
		{ "見積書の送付", 8, true, false, "見積書\xe2\x80\xa6 " },   /* 「の」 does not fit */
		{ "見積書", 6, true, false, "見積書" },
		{ "見積書", 9, true, true, "   見積書" },
		{ "ab", 1, true, false, "\xe2\x80\xa6" },
		{ "ab", 0, true, false, "" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cell); i++) {
		GString *g = g_string_new(NULL);
		qview_cell(g, cell[i].s, cell[i].w, cell[i].cut, cell[i].right);
		TAP_STREQ(g->str, cell[i].out, "cell(\"%s\", %d, cut %d, right %d)", cell[i].s, cell[i].w,
		          cell[i].cut, cell[i].right);
		g_string_free(g, TRUE);
	}

	static const struct { uint64_t n; const char *out; } sz[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.0 KB" }, { 1536, "1.5 KB" },
		{ 48213, "47.1 KB" }, { 1048575, "1.0 MB" }, { 5u << 20, "5.0 MB" },
		{ 3ull << 30, "3.0 GB" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(sz); i++) {
		char *s = qview_size(sz[i].n);
		TAP_STREQ(s, sz[i].out, "size %llu", (unsigned long long)sz[i].n);
		g_free(s);
	}

	/* TZ=Asia/Tokyo (main) */
	static const struct { const char *ts; bool sec; const char *out; } lt[] = {
		{ "2025-03-04T05:06:07.089Z", false, "2025-03-04 14:06" },
		{ "2025-03-04T05:06:07.089Z", true, "2025-03-04 14:06:07" },
		{ "2025-03-04T20:06:07Z", false, "2025-03-05 05:06" },
		{ "2025-03-04T05:06:07+09:00", false, "2025-03-04 05:06" },
		{ "yesterday", false, NULL },
		{ NULL, false, NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(lt); i++) {
		char *s = qview_local_time(lt[i].ts, lt[i].sec);
		TAP_STREQ(s, lt[i].out, "local time of %s", lt[i].ts ? lt[i].ts : "NULL");
		g_free(s);
	}
}

/* ---- qindex ------------------------------------------------------------------ */

static void test_bounds(void)
{
	static const struct { const char *arg; bool until; const char *out; } tb[] = {
		{ "2025-03-04", false, "20250303-150000000" },   /* JST midnight */
		{ "2025-03-04", true, "20250304-150000000" },    /* the next midnight */
		{ "2025-03-04T05:06:07Z", false, "20250304-050607000" },
		{ "2025-03-04T05:06:07Z", true, "20250304-050607001" },
		{ "2025-03-04T05:06:07.089+09:00", true, "20250303-200607090" },
		{ "2025-03-04T05:06:07.0895Z", true, "20250304-050607090" },
		{ "2024-12-31T23:59:59.999Z", true, "20250101-000000000" },
		{ "2025-02-30", false, NULL },
		{ "2025-3-4", false, NULL },
		{ "yesterday", false, NULL },
		{ "", false, NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(tb); i++) {
		char *out = NULL;
		int rc = qindex_time_bound(tb[i].arg, tb[i].until, &out);
		TAP_OK(tb[i].out ? rc == 0 : rc == -EINVAL, "time bound \"%s\" %s: rc %d", tb[i].arg,
		       tb[i].until ? "until" : "since", rc);
		TAP_STREQ(out, tb[i].out, "time bound \"%s\" %s", tb[i].arg, tb[i].until ? "until" : "since");
		g_free(out);
	}
	static const struct { const char *in, *out; } fold[] = {
		{ NULL, "" }, { "ＡＢＣ Mail", "abc mail" }, { "ｾﾐﾅｰ", "セミナー" }, { "Straße", "strasse" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(fold); i++) {
		char *f = qindex_fold(fold[i].in);
		TAP_STREQ(f, fold[i].out, "fold %zu", i);
		g_free(f);
	}
}

/* Entries A..F, oldest first. */
static const struct entry {
	const char *id, *verdict, *from, *hfrom, *subject, *rcpt, *reason, *part_reason;
} entries[] = {
	{ "20250101-000000000-AAAAAAAAAA", "sanitized", "a@example.jp", "Aさん <a@example.jp>",
	  "見積書の送付について", "staff@city.example.lg.jp", "html-converted", "attachment" },
	{ "20250102-120000000-BBBBBBBBBB", "suspect", "b@Example.COM", NULL,
	  "ＩＮＶＯＩＣＥ March", "soumu@city.example.lg.jp", NULL, "executable" },
	{ "20250103-235959999-CCCCCCCCCC", "rejected", NULL, "c@example.net",
	  "ｾﾐﾅｰのご案内", "staff@city.example.lg.jp", "limit:parts", "macro" },
	{ "20250104-000000000-DDDDDDDDDD", "sanitized", "d@example.jp", NULL,
	  NULL, "kikaku@city.example.lg.jp", NULL, "attachment" },
	{ "20250105-000000000-EEEEEEEEEE", "suspect", "e@example.jp", NULL,
	  "Re: 見積書", "staff@city.example.lg.jp", NULL, "pdf-active" },
};

static void write_entry(const char *qdir, const struct entry *e)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ts", json_object_new_string("2025-01-01T00:00:00.000Z"));
	json_object_object_add(o, "id", json_object_new_string("QUEUEID"));
	json_object_object_add(o, "from", e->from ? json_object_new_string(e->from) : NULL);
	json_object_object_add(o, "header_from", e->hfrom ? json_object_new_string(e->hfrom) : NULL);
	json_object_object_add(o, "subject", e->subject ? json_object_new_string(e->subject) : NULL);
	json_object *r = json_object_new_array();
	json_object_array_add(r, json_object_new_string(e->rcpt));
	json_object_object_add(o, "rcpt", r);
	json_object_object_add(o, "size", json_object_new_int64(1000));
	json_object_object_add(o, "verdict", json_object_new_string(e->verdict));
	json_object *reasons = json_object_new_array();
	if (e->reason)
		json_object_array_add(reasons, json_object_new_string(e->reason));
	json_object_object_add(o, "reasons", reasons);
	json_object *parts = json_object_new_array(), *p = json_object_new_object();
	json_object_object_add(p, "path", json_object_new_string("2"));
	json_object_object_add(p, "action", json_object_new_string("removed"));
	json_object *pr = json_object_new_array();
	json_object_array_add(pr, json_object_new_string(e->part_reason));
	json_object_object_add(p, "reasons", pr);
	json_object_array_add(parts, p);
	json_object_object_add(o, "parts", parts);
	json_object_object_add(o, "delivered_text", json_object_new_string("本文"));
	char *name = g_strconcat(e->id, ".json", NULL);
	put_file(qdir, name, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	g_free(name);
	name = g_strconcat(e->id, ".eml", NULL);
	put_file(qdir, name, "Subject: x\r\n\r\nbody\r\n");
	g_free(name);
	json_object_put(o);
}

static int add_id(const qindex_row *row, void *user)
{
	GString *g = user;
	g_string_append_printf(g, "%s%c", g->len ? " " : "", row->id[27]);   /* the letter */
	return 0;
}

/* The letters of the matching entries, newest first: "E C A". */
static char *query(const char *qdir, const qindex_filter *f, qindex_stats *st, char **errtext)
{
	GString *g = g_string_new(NULL);
	size_t elen;
	char *ebuf = NULL;
	FILE *err = open_memstream(&ebuf, &elen);
	int rc = qindex_query(qdir, f, false, add_id, g, st, err);
	fclose(err);
	if (errtext)
		*errtext = ebuf;
	else
		free(ebuf);
	if (rc < 0)
		g_string_printf(g, "error %d", rc);
	return g_string_free(g, FALSE);
}

static void test_index(void)
{
	char *qdir = g_build_filename(tmpdir, "q", NULL);
	mkdir(qdir, 0700);
	for (size_t i = 0; i < G_N_ELEMENTS(entries); i++)
		write_entry(qdir, &entries[i]);
	/* not entries: foreign, temp and state files, a bad ID */
	put_file(qdir, "notes.json", "{}");
	put_file(qdir, ".20250101-000000000-AAAAAAAAAA.json.tmp", "{}");
	put_file(qdir, "20250101-000000000-AAAAAAAAAA.state.json", "{}");
	put_file(qdir, "20250101-000000000-AAAAAAAAAI.json", "{}");

	qindex_stats st;
	char *got = query(qdir, NULL, &st, NULL);
	TAP_STREQ(got, "E D C B A", "index: every entry, newest first");
	TAP_OK(st.added == 5 && st.dropped == 0 && !st.in_memory && !st.rebuilt,
	       "index: first query reads 5 records (added %u)", st.added);
	g_free(got);
	got = query(qdir, NULL, &st, NULL);
	TAP_OK(st.added == 0 && st.dropped == 0, "index: second query reads none (added %u)", st.added);
	g_free(got);

	struct { const char *what; qindex_filter f; const char *want; } cases[] = {
		{ "--verdict suspect", { .verdict = "suspect" }, "E B" },
		{ "--subject 見積書", { .subject = "見積書" }, "E A" },
		{ "--subject invoice (full-width in the mail)", { .subject = "invoice" }, "B" },
		{ "--subject セミナー (half-width in the mail)", { .subject = "セミナー" }, "C" },
		{ "--from example.com (case)", { .from = "example.com" }, "B" },
		{ "--from aさん (header From)", { .from = "aさん" }, "A" },
		{ "--from c@ (header From when no envelope)", { .from = "c@" }, "C" },
		{ "--rcpt staff@", { .rcpt = "staff@" }, "E C A" },
		{ "--reason attachment (part)", { .reason = "attachment" }, "D A" },
		{ "--reason limit:parts (message)", { .reason = "limit:parts" }, "C" },
		{ "--reason limit (exact only)", { .reason = "limit" }, "" },
		{ "--since 2025-01-03", { .since = "20250103-000000000" }, "E D C" },
		{ "--until 2025-01-03 (next midnight)", { .until = "20250104-000000000" }, "C B A" },
		{ "since and until", { .since = "20250102-000000000", .until = "20250104-000000000" }, "C B" },
		{ "until before the first", { .until = "20241231-000000000" }, "" },
		{ "verdict and rcpt", { .verdict = "suspect", .rcpt = "staff" }, "E" },
		{ "a quote in a filter", { .subject = "'" }, "" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		got = query(qdir, &cases[i].f, NULL, NULL);
		TAP_STREQ(got, cases[i].want, "filter %s", cases[i].what);
		g_free(got);
	}

	/* --json rows come from the index, with the record's own id as record_id */
	char *path = g_build_filename(qdir, ".index.sqlite", NULL);
	TAP_OK(access(path, F_OK) == 0, "index file %s exists", QINDEX_NAME);

	/* an entry whose record is gone is dropped */
	char *gone = g_build_filename(qdir, "20250104-000000000-DDDDDDDDDD.json", NULL);
	unlink(gone);
	got = query(qdir, NULL, &st, NULL);
	TAP_STREQ(got, "E C B A", "index: deleted record dropped");
	TAP_OK(st.dropped == 1 && st.added == 0, "index: dropped 1 (got %u)", st.dropped);
	g_free(got);
	g_free(gone);

	/* an unreadable record: reported, left out, retried next time */
	put_file(qdir, "20250106-000000000-FFFFFFFFFF.json", "{not json");
	char *errtext = NULL;
	got = query(qdir, NULL, &st, &errtext);
	TAP_STREQ(got, "E C B A", "index: unreadable record left out");
	TAP_OK(st.unreadable == 1, "index: one unreadable");
	TAP_STREQ(errtext, "mugai: quarantine: 20250106-000000000-FFFFFFFFFF: Bad message\n",
	          "index: unreadable record reported");
	free(errtext);
	g_free(got);
	write_entry(qdir, &(struct entry){ "20250106-000000000-FFFFFFFFFF", "sanitized", "f@x", NULL,
	                                   "fixed", "r@x", NULL, "attachment" });
	got = query(qdir, NULL, &st, NULL);
	TAP_STREQ(got, "F E C B A", "index: the repaired record is read");
	TAP_OK(st.added == 1, "index: added 1");
	g_free(got);

	/* a corrupt index is rebuilt without a word */
	put_file(qdir, ".index.sqlite", "this is not an SQLite database, not even close; 0123456789abcdef");
	got = query(qdir, NULL, &st, &errtext);
	TAP_STREQ(got, "F E C B A", "corrupt index: same answer");
	TAP_OK(st.rebuilt && !st.in_memory && st.added == 5, "corrupt index: rebuilt (added %u)", st.added);
	TAP_STREQ(errtext, "", "corrupt index: nothing on stderr");
	free(errtext);
	g_free(got);

	/* an index of another schema version is rebuilt too */
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	got = query(qdir, NULL, &st, NULL);
	TAP_STREQ(got, "F E C B A", "other schema: same answer");
	TAP_OK(st.rebuilt && st.added == 5, "other schema: rebuilt");
	g_free(got);

	/* an index that cannot be written: in memory for this query */
	unlink(path);
	mkdir(path, 0700);
	got = query(qdir, &(qindex_filter){ .verdict = "suspect" }, &st, &errtext);
	TAP_STREQ(got, "E B", "index not writable: same answer");
	TAP_OK(st.in_memory && st.added == 5, "index not writable: built in memory");
	TAP_STREQ(errtext, "", "index not writable: nothing on stderr");
	free(errtext);
	g_free(got);
	rmdir(path);

	/* a missing quarantine is empty, and is not created */
	char *missing = g_build_filename(tmpdir, "missing", NULL);
	got = query(missing, NULL, &st, NULL);
	TAP_STREQ(got, "", "missing quarantine: empty");
	TAP_OK(access(missing, F_OK) < 0, "missing quarantine: not created");
	g_free(got);
	g_free(missing);

	g_free(path);
	g_free(qdir);
}

/* ---- qstate ------------------------------------------------------------------ */

static json_object *approval(const char *user, const char *expires, const char *used, const char *to)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "user", json_object_new_string(user));
	json_object_object_add(o, "reason", json_object_new_string("ok"));
	json_object *rc = json_object_new_array();
	char **addrs = g_strsplit(to, ",", -1);
	for (char **a = addrs; *a; a++)
		json_object_array_add(rc, json_object_new_string(*a));
	g_strfreev(addrs);
	json_object_object_add(o, "to", rc);
	json_object_object_add(o, "expires", json_object_new_string(expires));
	json_object_object_add(o, "used", used ? json_object_new_string(used) : NULL);
	return o;
}

static char *live_users(json_object *s, const char *except, const char *now, const char *to)
{
	GPtrArray *rc = NULL;
	if (to) {
		rc = g_ptr_array_new_with_free_func(g_free);
		char **addrs = g_strsplit(to, ",", -1);
		for (char **a = addrs; *a; a++)
			g_ptr_array_add(rc, g_strdup(*a));
		g_strfreev(addrs);
	}
	GPtrArray *live = qstate_live_approvals(s, except, now, rc);
	GString *g = g_string_new(NULL);
	for (guint i = 0; i < live->len; i++)
		g_string_append_printf(g, "%s%s", i ? " " : "", qstate_approval_user(g_ptr_array_index(live, i)));
	g_ptr_array_unref(live);
	if (rc)
		g_ptr_array_unref(rc);
	return g_string_free(g, FALSE);
}

static void test_state(void)
{
	char *rdir = g_build_filename(tmpdir, "review", NULL);   /* made by the first lock */
	const char *id = "20250101-000000000-AAAAAAAAAA";
	char *d = qstate_dir("/var/lib/mugai/quarantine/", "");
	TAP_STREQ(d, "/var/lib/mugai/review", "state: the review directory is beside the quarantine");
	g_free(d);
	d = qstate_dir("/var/lib/mugai/quarantine", "/srv/review");
	TAP_STREQ(d, "/srv/review", "state: or [quarantine] review_dir");
	g_free(d);

	json_object *s;
	int rc = qstate_load(rdir, id, &s);
	TAP_OK(rc == 0, "state: no directory yet is an empty state");
	TAP_STREQ(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN),
	          "{\"approvals\":[],\"releases\":[]}", "state: empty state");
	const char *now = "2025-06-01T00:00:00.000Z";
	qstate_add(s, "approvals", approval("alice", "2025-06-02T00:00:00.000Z", NULL, "a@x.jp,b@x.jp"));
	qstate_add(s, "approvals", approval("bob", "2025-06-02T00:00:00.000Z", NULL, "a@x.jp"));
	qstate_add(s, "approvals", approval("alice", "2025-06-02T00:00:00.000Z", NULL, "a@x.jp,b@x.jp"));
	qstate_add(s, "approvals", approval("carol", "2025-05-31T23:59:59.999Z", NULL, "a@x.jp"));
	qstate_add(s, "approvals", approval("dave", "2025-06-02T00:00:00.000Z", "2025-05-31T00:00:00.000Z", "a@x.jp"));
	qstate_add(s, "approvals", approval("erin", now, NULL, "a@x.jp"));
	char *who = live_users(s, NULL, now, "a@x.jp");
	TAP_STREQ(who, "alice bob", "state: live approvals for a@x.jp: one per person; expired (carol, erin at the "
	          "very time) and used (dave) do not count");
	g_free(who);
	who = live_users(s, NULL, now, "a@x.jp,b@x.jp");
	TAP_STREQ(who, "alice", "state: for a@x.jp and b@x.jp only alice's approval names both");
	g_free(who);
	who = live_users(s, NULL, now, "c@x.jp");
	TAP_STREQ(who, "", "state: nobody approved c@x.jp");
	g_free(who);
	who = live_users(s, "alice", now, "a@x.jp");
	TAP_STREQ(who, "bob", "state: others than alice: bob");
	g_free(who);
	who = live_users(s, NULL, "2025-06-03T00:00:00.000Z", NULL);
	TAP_STREQ(who, "", "state: a day later every approval has expired");
	g_free(who);

	char why[256] = "";
	int lock = qstate_lock(rdir, why, sizeof why);
	TAP_OK(lock >= 0, "state: lock (the directory is made) %s", why);
	struct stat sb;
	TAP_OK(stat(rdir, &sb) == 0 && (sb.st_mode & 07777) == 0700, "state: review directory mode 0700");
	put_file(rdir, ".20250101-000000000-AAAAAAAAAA.json.tmp", "planted");
	rc = qstate_save(rdir, id, s);
	TAP_OK(rc == 0, "state: saved");
	close(lock);
	char *path = g_build_filename(rdir, "20250101-000000000-AAAAAAAAAA.json", NULL);
	TAP_OK(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600, "state: mode 0600");
	char *names = dir_names(rdir);
	TAP_STREQ(names, "20250101-000000000-AAAAAAAAAA.json", "state: no temp file left (the planted one replaced)");
	g_free(names);
	json_object *back;
	rc = qstate_load(rdir, id, &back);
	TAP_OK(rc == 0 && json_object_equal(back, s), "state: loads back equal");
	json_object_put(back);
	json_object_put(s);

	put_file(rdir, "20250101-000000000-AAAAAAAAAA.json", "[1,2]");
	rc = qstate_load(rdir, id, &s);
	TAP_OK(rc == -EBADMSG && s == NULL, "state: not an object: -EBADMSG");
	unlink(path);
	char *fifo = g_build_filename(rdir, "20250101-000000000-AAAAAAAAAA.json", NULL);
	mkfifo(fifo, 0600);
	rc = qstate_load(rdir, id, &s);
	TAP_OK(rc == -EBADMSG && s == NULL, "state: a FIFO is not read (and does not hang): -EBADMSG");
	rc = qstate_remove(rdir, id);
	TAP_OK(rc == 0 && access(fifo, F_OK) != 0, "state: removed");
	TAP_OK(qstate_remove(rdir, id) == 0, "state: removing a missing state is fine");
	rc = qstate_load(rdir, "../../x", &s);
	TAP_OK(rc == -EINVAL, "state: a bad ID: -EINVAL");
	chmod(rdir, 0777);
	rc = qstate_lock(rdir, why, sizeof why);
	TAP_OK(rc == -EPERM, "state: a review directory others may write is refused (%s)", why);
	chmod(rdir, 0700);
	g_free(fifo);
	g_free(path);
	g_free(rdir);
}

/* ---- removing and purging ------------------------------------------------ */

static void test_remove_purge(void)
{
	char *qdir = g_build_filename(tmpdir, "p", NULL);
	mkdir(qdir, 0700);
	const char *files[] = {
		"20240101-000000000-AAAAAAAAAA.eml", "20240101-000000000-AAAAAAAAAA.json",
		"20240101-000000000-AAAAAAAAAA.state.json",
		"20240601-000000000-BBBBBBBBBB.eml",                 /* orphan original */
		".20240601-000000000-CCCCCCCCCC.json.tmp",           /* leftover temp file */
		"20250101-000000000-DDDDDDDDDD.eml", "20250101-000000000-DDDDDDDDDD.json",
		"20250102-000000000-EEEEEEEEEE.eml", "20250102-000000000-EEEEEEEEEE.json",
		".index.sqlite", "README", "20240101-000000000-AAAAAAAAAI.eml",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
		put_file(qdir, files[i], "x");

	int rc = quarantine_remove(qdir, "20250102-000000000-EEEEEEEEEE");
	TAP_OK(rc == 0, "remove: done");
	rc = quarantine_remove(qdir, "20250102-000000000-EEEEEEEEEE");
	TAP_OK(rc == -ENOENT, "remove again: -ENOENT");
	rc = quarantine_remove(qdir, "20240601-000000000-BBBBBBBBBB");
	TAP_OK(rc == -ENOENT, "remove without a record: -ENOENT, original left");
	rc = quarantine_remove(qdir, "../p/20250101-000000000-DDDDDDDDDD");
	TAP_OK(rc == -EINVAL, "remove with a path: -EINVAL");

	GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
	rc = quarantine_purge(qdir, "20250101-000000000", removed);
	TAP_OK(rc == 0, "purge: done");
	g_ptr_array_add(removed, NULL);
	char *ids = g_strjoinv(" ", (char **)removed->pdata);
	TAP_STREQ(ids, "20240101-000000000-AAAAAAAAAA", "purge: the old entry reported");
	char *names = dir_names(qdir);
	TAP_STREQ(names, ".index.sqlite 20240101-000000000-AAAAAAAAAI.eml 20250101-000000000-DDDDDDDDDD.eml "
	          "20250101-000000000-DDDDDDDDDD.json README",
	          "purge: every file of old IDs gone, the rest kept");
	g_free(names);
	g_free(ids);
	g_ptr_array_unref(removed);

	char *missing = g_build_filename(tmpdir, "nope", NULL);
	TAP_OK(quarantine_purge(missing, "20250101-000000000", NULL) == 0, "purge of a missing dir: 0");
	g_free(missing);
	g_free(qdir);
}

/* ---- translations -------------------------------------------------------- */

/* The printf conversions of S, in order ("%s%d"). */
static char *conversions(const char *s)
{
	GString *g = g_string_new(NULL);
	for (const char *p = s; *p; p++) {
		if (*p != '%')
			continue;
		const char *q = p + 1;
		if (*q == '%') {
			p = q;
			continue;
		}
		q += strspn(q, "-+ #0123456789.*hlzjtL");
		g_string_append_len(g, p, q - p + 1);
		p = q;
	}
	return g_string_free(g, FALSE);
}

static void test_i18n(void)
{
	int bad = 0;
	for (size_t i = 0; i < i18n_count(); i++) {
		const char *en, *ja;
		i18n_pair(i, &en, &ja);
		char *a = conversions(en), *b = conversions(ja);
		if (strcmp(a, b) != 0) {
			printf("# conversions differ: [%s] %s / [%s] %s\n", en, a, ja, b);
			bad++;
		}
		size_t ne = strlen(en), nj = strlen(ja);
		if ((ne && en[ne - 1] == '\n') != (nj && ja[nj - 1] == '\n')) {
			printf("# newline differs: [%s]\n", en);
			bad++;
		}
		if (!g_utf8_validate(ja, -1, NULL))
			bad++;
		g_free(a);
		g_free(b);
	}
	TAP_OK(bad == 0 && i18n_count() > 40, "i18n: %zu pairs, same conversions and newlines", i18n_count());

	static const struct { const char *all, *messages, *lang; bool ja; } env[] = {
		{ NULL, NULL, "ja_JP.UTF-8", true },
		{ NULL, NULL, "en_US.UTF-8", false },
		{ NULL, NULL, NULL, false },
		{ "C", NULL, "ja_JP.UTF-8", false },
		{ NULL, "ja_JP.eucJP", "C", true },
		{ "", "", "ja", true },            /* empty counts as unset */
		{ "ja_JP.UTF-8", "C", "C", true },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(env); i++) {
		const char *vals[] = { env[i].all, env[i].messages, env[i].lang };
		const char *names[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
		for (int k = 0; k < 3; k++) {
			if (vals[k])
				setenv(names[k], vals[k], 1);
			else
				unsetenv(names[k]);
		}
		i18n_force(-1);
		TAP_OK(i18n_japanese() == env[i].ja, "i18n: LC_ALL=%s LC_MESSAGES=%s LANG=%s -> %s",
		       vals[0] ? vals[0] : "(unset)", vals[1] ? vals[1] : "(unset)",
		       vals[2] ? vals[2] : "(unset)", env[i].ja ? "Japanese" : "English");
	}
	i18n_force(1);
	TAP_STREQ(TR("SUBJECT"), "件名", "i18n: a Japanese text");
	TAP_STREQ(TR("no such text"), "no such text", "i18n: untranslated text stays English");
	i18n_force(0);
	TAP_STREQ(TR("SUBJECT"), "SUBJECT", "i18n: English");
}

int main(void)
{
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	tmpdir = g_dir_make_tmp("mugai-test-qadmin-XXXXXX", NULL);
	if (!tmpdir) {
		printf("Bail out! cannot make a temp dir\n");
		return 1;
	}
	test_view();
	test_bounds();
	test_index();
	test_state();
	test_remove_purge();
	test_i18n();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	g_free(tmpdir);
	return tap_done();
}
