/* test-commit.c - the store step of one message: the entry, then the
 * record; either failure a tempfail with no entry left behind. */
#include "tap.h"
#include "store/store.h"
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define QID "20261208-010203004-CMMTCMMTCM"

static const char original[] = "From: a@example.jp\r\nSubject: x\r\n\r\nbody\r\n";

static int memfd_with_original(void)
{
	int fd = memfd_create("original", MFD_CLOEXEC);
	if (fd < 0 || write(fd, original, sizeof original - 1) != (ssize_t)(sizeof original - 1))
		exit(99);
	return fd;
}

static json_object *record(const char *qid)
{
	char *s = g_strdup_printf("{\"id\":\"Q1\",\"verdict\":\"sanitized\",\"verdict_reason\":null,"
	                          "\"quarantine_id\":%s%s%s,\"reasons\":[\"attachment\"]}",
	                          qid ? "\"" : "", qid ? qid : "null", qid ? "\"" : "");
	json_object *o = json_tokener_parse(s);
	g_free(s);
	return o;
}

static char *slurp(const char *path)
{
	char *s = NULL;
	return g_file_get_contents(path, &s, NULL, NULL) ? s : NULL;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *names(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	for (const char *n; d && (n = g_dir_read_name(d));)
		g_ptr_array_add(a, g_strdup(n));
	if (d)
		g_dir_close(d);
	g_ptr_array_sort(a, by_name);
	GString *g = g_string_new(NULL);
	for (guint i = 0; i < a->len; i++)
		g_string_append_printf(g, "%s%s", i ? " " : "", *(char **)&a->pdata[i]);
	g_ptr_array_unref(a);
	return g_string_free(g, FALSE);
}

int main(void)
{
	char tmpl[] = "/tmp/test-commit-XXXXXX";
	const char *dir = g_mkdtemp(tmpl);
	char *q = g_build_filename(dir, "q", NULL), *logdir = g_build_filename(dir, "log", NULL);
	char *log = g_build_filename(logdir, "audit.log", NULL);
	g_mkdir(logdir, 0700);
	int fd = memfd_with_original();

	/* both written: the entry with the text, the log line without */
	json_object *rec = record(QID);
	const char *why = store_commit(q, log, rec, fd, sizeof original - 1, "本文です。\n");
	TAP_OK(why == NULL, "committed");
	char *eml = g_build_filename(q, QID ".eml", NULL), *js = g_build_filename(q, QID ".json", NULL);
	char *got = slurp(eml);
	TAP_STREQ(got, original, "the original is in the quarantine, byte for byte");
	g_free(got);
	got = slurp(js);
	TAP_STREQ(got, "{\"id\":\"Q1\",\"verdict\":\"sanitized\",\"verdict_reason\":null,\"quarantine_id\":\"" QID "\","
	          "\"reasons\":[\"attachment\"],\"delivered_text\":\"本文です。\\n\"}\n",
	          "the entry's record carries the delivered text");
	g_free(got);
	got = slurp(log);
	TAP_STREQ(got, "{\"id\":\"Q1\",\"verdict\":\"sanitized\",\"verdict_reason\":null,\"quarantine_id\":\"" QID "\","
	          "\"reasons\":[\"attachment\"]}\n", "the audit line is the record alone");
	g_free(got);
	json_object_put(rec);

	/* the audit log cannot take it: the entry goes again, the record is a tempfail */
	const char *qid2 = "20261208-010203004-CMMTCMMTC2";
	char *missing = g_build_filename(dir, "nowhere", "audit.log", NULL);
	rec = record(qid2);
	why = store_commit(q, missing, rec, fd, sizeof original - 1, NULL);
	TAP_STREQ(why, "audit-failed", "audit log unwritable: audit-failed");
	char *n = names(q);
	TAP_STREQ(n, QID ".eml " QID ".json", "audit log unwritable: the new entry was taken out again");
	g_free(n);
	TAP_STREQ(json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN),
	          "{\"id\":\"Q1\",\"verdict\":\"tempfail\",\"verdict_reason\":\"audit-failed\",\"quarantine_id\":null,"
	          "\"reasons\":[\"attachment\",\"audit-failed\"]}", "audit log unwritable: the record says tempfail");
	json_object_put(rec);

	/* the quarantine cannot take it: the log gets the tempfail */
	char *blocker = g_build_filename(dir, "blocker", NULL);
	g_file_set_contents(blocker, "not a directory", -1, NULL);
	rec = record(qid2);
	why = store_commit(blocker, log, rec, fd, sizeof original - 1, NULL);
	TAP_STREQ(why, "quarantine-failed", "quarantine unusable: quarantine-failed");
	got = slurp(log);
	TAP_OK(got && g_str_has_suffix(got, "{\"id\":\"Q1\",\"verdict\":\"tempfail\",\"verdict_reason\":\"quarantine-failed\","
	       "\"quarantine_id\":null,\"reasons\":[\"attachment\",\"quarantine-failed\"]}\n"),
	       "quarantine unusable: the audit log says tempfail, no entry named");
	g_free(got);
	json_object_put(rec);

	/* no quarantine ID: the record only */
	rec = record(NULL);
	why = store_commit(q, log, rec, fd, sizeof original - 1, "text");
	n = names(q);
	TAP_OK(why == NULL, "clean: committed");
	TAP_STREQ(n, QID ".eml " QID ".json", "clean: nothing in the quarantine");
	g_free(n);
	store_record_tempfail(rec, "internal:x");
	store_record_tempfail(rec, "internal:x");
	TAP_STREQ(json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN),
	          "{\"id\":\"Q1\",\"verdict\":\"tempfail\",\"verdict_reason\":\"internal:x\",\"quarantine_id\":null,"
	          "\"reasons\":[\"attachment\",\"internal:x\"]}", "a tempfail record names its reason once");
	json_object_put(rec);

	/* a link planted as the audit log is not followed */
	char *target = g_build_filename(dir, "target", NULL), *link = g_build_filename(logdir, "linked.log", NULL);
	if (symlink(target, link) < 0)
		return 99;
	rec = record(NULL);
	why = store_commit(q, link, rec, fd, sizeof original - 1, NULL);
	TAP_OK(why && strcmp(why, "audit-failed") == 0 && access(target, F_OK) != 0,
	       "an audit log that is a link: audit-failed, nothing made where it points");
	json_object_put(rec);

	close(fd);
	unlink(link);
	unlink(log);
	unlink(blocker);
	unlink(eml);
	unlink(js);
	g_rmdir(q);
	g_rmdir(logdir);
	g_rmdir(dir);
	g_free(q);
	g_free(logdir);
	g_free(log);
	g_free(missing);
	g_free(blocker);
	g_free(eml);
	g_free(js);
	g_free(target);
	g_free(link);
	return tap_done();
}
