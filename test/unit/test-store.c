/* test-store.c - unit tests for store/: the audit record and log, quarantine
 * IDs, the quarantine store and the list/show/export commands.
 *
 * `export --part` is not tested here: it runs the real pipeline
 * (pipeline_export_part), which has its own tests.
 */
#include "store/store.h"
#include "cli/i18n.h"
#include "cli/qcmd.h"
#include "test/unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#define RLO "\xe2\x80\xae"   /* U+202E RIGHT-TO-LEFT OVERRIDE */

static char *tmpdir;

static mugai_result *sample_result(const char *qid)
{
	mugai_result *r = result_new();
	r->id = g_strdup("4XyZ1a2B3c");
	r->ts = g_strdup("2025-03-04T05:06:07.089Z");
	r->message_id = g_strdup("<abc/123@example.co.jp>");
	r->from = g_strdup("sender@example.co.jp");
	/* a quote, a C0 control and a C1 control (U+009B, 8-bit CSI) */
	r->header_from = g_strdup("\"田中 太郎\x01\xc2\x9b\" <sender@example.co.jp>");
	r->subject = g_strdup("見積書の送付について\t(再送)");
	g_ptr_array_add(r->rcpt, g_strdup("staff@city.example.lg.jp"));
	g_ptr_array_add(r->rcpt, g_strdup("soumu@city.example.lg.jp"));
	r->size = 1234;
	memset(r->sha256, 'a', 64);
	r->verdict = VERDICT_SUSPECT;
	r->quarantine_id = g_strdup(qid);
	r->elapsed_ms = 12;
	result_add_reason(r->reasons, "html-converted");

	mugai_part *p = result_add_part(r, "1");
	p->content_type = g_strdup("text/html");
	p->detected_type = g_strdup("text/html");
	p->size = 300;
	p->action = PART_CONVERTED;
	result_add_reason(p->reasons, "html-converted");

	p = result_add_part(r, "2");
	p->content_type = g_strdup("application/pdf");
	p->detected_type = g_strdup("application/x-dosexec");
	p->filename = g_strdup("invoice" RLO "fdp.exe");
	p->name_param = g_strdup("invoice.pdf");
	p->size = 48213;
	memset(p->sha256, 'c', 64);
	p->action = PART_REMOVED;
	result_add_reason(p->reasons, "attachment");
	result_add_reason(p->reasons, "type-mismatch");
	result_add_reason(p->reasons, "executable");
	return r;
}

static const char expected_json[] =
	"{\"ts\":\"2025-03-04T05:06:07.089Z\",\"id\":\"4XyZ1a2B3c\","
	"\"message_id\":\"<abc/123@example.co.jp>\",\"from\":\"sender@example.co.jp\","
	"\"header_from\":\"\\\"田中 太郎\\u0001\\u009b\\\" <sender@example.co.jp>\","
	"\"subject\":\"見積書の送付について\\t(再送)\","
	"\"rcpt\":[\"staff@city.example.lg.jp\",\"soumu@city.example.lg.jp\"],"
	"\"client\":null,\"size\":1234,"
	"\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	"\"verdict\":\"suspect\",\"verdict_reason\":null,"
	"\"quarantine_id\":\"20250304-050607089-7Q4KX2ABCD\",\"elapsed_ms\":12,"
	"\"reasons\":[\"html-converted\"],"
	"\"parts\":["
	"{\"path\":\"1\",\"content_type\":\"text/html\",\"detected_type\":\"text/html\","
	"\"filename\":null,\"size\":300,\"sha256\":null,\"action\":\"converted\","
	"\"reasons\":[\"html-converted\"]},"
	"{\"path\":\"2\",\"content_type\":\"application/pdf\","
	"\"detected_type\":\"application/x-dosexec\",\"filename\":\"invoice\\u202efdp.exe\","
	"\"name_param\":\"invoice.pdf\",\"size\":48213,"
	"\"sha256\":\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\","
	"\"action\":\"removed\",\"reasons\":[\"attachment\",\"type-mismatch\",\"executable\"]}"
	"]}";

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(const char *dir, const char *name)
{
	return g_build_filename(dir, name, NULL);
}

static int file_mode(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static bool file_equals(const char *path, const void *data, size_t len)
{
	char *got;
	gsize glen;
	if (!g_file_get_contents(path, &got, &glen, NULL))
		return false;
	bool eq = glen == len && memcmp(got, data, len) == 0;
	g_free(got);
	return eq;
}

static gint cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in DIR, sorted, joined by spaces ("" when empty). */
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
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < a->len; i++) {
		const char *name = g_ptr_array_index(a, i);
		g_string_append_printf(s, "%s%s", i ? " " : "", name);
	}
	g_ptr_array_unref(a);
	return g_string_free(s, FALSE);
}

static bool has_hidden(const char *dir)
{
	char *names = dir_names(dir);
	bool hidden = names[0] == '.' || strstr(names, " .") != NULL;
	g_free(names);
	return hidden;
}

/* A message with CRLF, NUL and high bytes; BIG spans several copy chunks. */
static GByteArray *sample_message(size_t body)
{
	static const char head[] =
		"From: sender@example.co.jp\r\nSubject: =?UTF-8?B?6KaL56mN5pu4?=\r\n"
		"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n";
	GByteArray *m = g_byte_array_new();
	g_byte_array_append(m, (const guint8 *)head, sizeof head - 1);
	for (size_t i = 0; i < body; i++) {
		guint8 c = (guint8)(i * 7 + i / 251);
		if (i % 77 == 75) c = '\r';
		if (i % 77 == 76) c = '\n';
		if (i % 1000 == 3) c = '\0';
		g_byte_array_append(m, &c, 1);
	}
	return m;
}

/* ---- audit -------------------------------------------------------------- */

static void test_audit_json(void)
{
	mugai_result *r = sample_result("20250304-050607089-7Q4KX2ABCD");
	char *j = audit_record_json(r);
	TAP_STREQ(j, expected_json, "audit_record_json: exact output");
	json_object *o = json_tokener_parse(j);
	TAP_OK(o != NULL, "audit record parses back");
	json_object *v;
	TAP_OK(o && json_object_object_get_ex(o, "subject", &v) &&
	       strcmp(json_object_get_string(v), "見積書の送付について\t(再送)") == 0,
	       "subject round-trips");
	json_object_put(o);
	g_free(j);

	/* Invalid UTF-8 from a broken header must not poison the line. */
	g_free(r->subject);
	r->subject = g_strdup("bad \xff\xfe end");
	j = audit_record_json(r);
	TAP_OK(g_utf8_validate(j, -1, NULL), "invalid UTF-8 repaired in the record");
	TAP_OK(strstr(j, "\"subject\":\"bad \xef\xbf\xbd\xef\xbf\xbd end\"") != NULL,
	       "invalid bytes become U+FFFD");
	g_free(j);
	result_free(r);

	/* Empty result: arrays stay arrays, strings null. */
	r = result_new();
	j = audit_record_json(r);
	TAP_STREQ(j, "{\"ts\":null,\"id\":null,\"message_id\":null,\"from\":null,"
	          "\"header_from\":null,\"subject\":null,\"rcpt\":[],\"client\":null,"
	          "\"size\":0,\"sha256\":null,\"verdict\":\"clean\",\"verdict_reason\":null,"
	          "\"quarantine_id\":null,\"elapsed_ms\":0,\"reasons\":[],\"parts\":[]}",
	          "audit_record_json: empty result");
	g_free(j);
	result_free(r);
}

static void test_audit_append(void)
{
	char *log = path_in(tmpdir, "audit.log");
	mugai_result *r = sample_result("20250304-050607089-7Q4KX2ABCD");
	char *j = audit_record_json(r);
	/* TAP_OK evaluates its condition twice: no side effects inside. */
	int rc = audit_append(log, j);
	TAP_OK(rc == 0, "audit_append first record");
	rc = audit_append(log, j);
	TAP_OK(rc == 0, "audit_append second record");
	TAP_OK(file_mode(log) == 0600, "audit log mode 0600");

	char *data = NULL;
	gsize len = 0;
	g_file_get_contents(log, &data, &len, NULL);
	char **lines = g_strsplit(data ? data : "", "\n", -1);
	TAP_OK(g_strv_length(lines) == 3 && lines[2][0] == '\0',
	       "audit log has exactly two newline-terminated lines");
	int parsed = 0;
	for (int i = 0; lines[i] && lines[i][0]; i++) {
		json_object *o = json_tokener_parse(lines[i]);
		if (o && json_object_is_type(o, json_type_object) && strcmp(lines[i], j) == 0)
			parsed++;
		json_object_put(o);
	}
	TAP_OK(parsed == 2, "both lines parse back and equal the record");
	g_strfreev(lines);
	g_free(data);

	rc = audit_append(log, "{\"a\":1}\n{}");
	TAP_OK(rc == -EINVAL, "record with a newline refused");

	char *missing = path_in(tmpdir, "no-such-dir/audit.log");
	rc = audit_append(missing, j);
	TAP_OK(rc == -ENOENT, "audit_append into a missing directory: -ENOENT (got %d)", rc);
	TAP_OK(!g_file_test(missing, G_FILE_TEST_EXISTS), "missing directory not created");
	g_free(missing);
	g_free(j);
	g_free(log);
	result_free(r);
}

/* ---- IDs ---------------------------------------------------------------- */

static void test_ids(void)
{
	char buf[QUARANTINE_ID_MAX];
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int bad = 0;
	for (int i = 0; i < 1000; i++) {
		if (quarantine_new_id(buf, sizeof buf) != 0 || !quarantine_id_valid(buf) ||
		    strlen(buf) != 29)
			bad++;
		g_hash_table_add(seen, g_strdup(buf));
	}
	TAP_OK(bad == 0, "1000 new IDs have the valid shape (last %s)", buf);
	TAP_OK(g_hash_table_size(seen) == 1000, "1000 new IDs are unique");
	g_hash_table_unref(seen);

	/* The time part is today's UTC date. */
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char date[16];
	strftime(date, sizeof date, "%Y%m%d-", &tm);
	TAP_OK(strncmp(buf, date, 9) == 0, "ID starts with the UTC date %s", date);

	char a[QUARANTINE_ID_MAX], b[QUARANTINE_ID_MAX];
	quarantine_new_id(a, sizeof a);
	nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	quarantine_new_id(b, sizeof b);
	TAP_OK(strcmp(a, b) < 0, "IDs 2 ms apart sort in time order (%s < %s)", a, b);

	char small[29];
	int rc = quarantine_new_id(small, sizeof small);
	TAP_OK(rc == -EINVAL, "too small a buffer refused");

	static const struct { const char *id; bool ok; } cases[] = {
		{ "20250304-050607089-7Q4KX2ABCD", true },
		{ "20250304-050607089-0123456789", true },
		{ "20250304-050607089-7q4kx2abcd", false },   /* ours are upper case */
		{ "20250304-050607089-7Q4KX2ABCI", false },   /* I is not Crockford */
		{ "20250304-050607089-7Q4KX2ABCU", false },
		{ "20250304-050607089-7Q4KX2ABC", false },
		{ "20250304-050607089-7Q4KX2ABCDE", false },
		{ "20250304_050607089-7Q4KX2ABCD", false },
		{ "2025030X-050607089-7Q4KX2ABCD", false },
		{ "../../../../etc/passwd-AAAAAA", false },
		{ ".0250304-050607089-7Q4KX2ABCD", false },
		{ "4XyZ1a2B3c", false },
		{ "", false },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		TAP_OK(quarantine_id_valid(cases[i].id) == cases[i].ok,
		       "quarantine_id_valid(\"%s\") == %d", cases[i].id, cases[i].ok);
	TAP_OK(!quarantine_id_valid(NULL), "quarantine_id_valid(NULL) is false");
}

/* ---- store and commands ------------------------------------------------- */

static void capture(FILE **f, size_t *len, char **buf)
{
	*buf = NULL;
	*f = open_memstream(buf, len);
}

static void test_store_and_commands(void)
{
	char *qdir = path_in(tmpdir, "q");   /* created by quarantine_store */
	char id1[QUARANTINE_ID_MAX], id2[QUARANTINE_ID_MAX];
	quarantine_new_id(id1, sizeof id1);
	nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	quarantine_new_id(id2, sizeof id2);

	/* Entry 1: a 200 KiB message from a regular file whose offset is at
	 * its end (store must read from 0 with pread). */
	GByteArray *big = sample_message(200 * 1024);
	char *src_path = path_in(tmpdir, "src.eml");
	g_file_set_contents(src_path, (const char *)big->data, big->len, NULL);
	int src = open(src_path, O_RDONLY);
	lseek(src, 0, SEEK_END);

	mugai_result *r1 = sample_result(id1);
	r1->size = big->len;
	char *sha1 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, big->data, big->len);
	memcpy(r1->sha256, sha1, 65);
	char *j1 = audit_record_json(r1);

	int rc = quarantine_store(qdir, id1, src, big->len, j1);
	TAP_OK(rc == 0, "quarantine_store from a regular file (rc %d)", rc);
	TAP_OK(lseek(src, 0, SEEK_CUR) == (off_t)big->len, "source offset untouched");
	char *eml1 = g_strdup_printf("%s/%s.eml", qdir, id1);
	char *json1 = g_strdup_printf("%s/%s.json", qdir, id1);
	TAP_OK(file_equals(eml1, big->data, big->len), ".eml is byte-identical (%u bytes)", big->len);
	char *j1nl = g_strconcat(j1, "\n", NULL);
	TAP_OK(file_equals(json1, j1nl, strlen(j1nl)), ".json is the record plus a newline");
	TAP_OK(file_mode(eml1) == 0600 && file_mode(json1) == 0600, "entry files mode 0600");
	TAP_OK(file_mode(qdir) == 0700, "quarantine dir created with mode 0700");
	struct stat s_src, s_eml;
	TAP_OK(fstat(src, &s_src) == 0 && stat(eml1, &s_eml) == 0 && s_src.st_ino != s_eml.st_ino,
	       "a named source file is copied, never linked");

	/* Entry 2: a small message from a memfd (copy_file_range across
	 * filesystems is refused, so the pread loop runs). */
	GByteArray *small = sample_message(3000);
	int mfd = memfd_create("msg", MFD_CLOEXEC);
	ssize_t wr = mfd >= 0 ? write(mfd, small->data, small->len) : -1;
	TAP_OK(wr == (ssize_t)small->len, "memfd source ready");
	mugai_result *r2 = sample_result(id2);
	r2->verdict = VERDICT_SANITIZED;
	r2->size = small->len;
	g_free(r2->subject);
	r2->subject = g_strdup("Re: 会議資料");
	char *sha2 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, small->data, small->len);
	memcpy(r2->sha256, sha2, 65);
	char *j2 = audit_record_json(r2);
	rc = quarantine_store(qdir, id2, mfd, small->len, j2);
	TAP_OK(rc == 0, "quarantine_store from a memfd (rc %d)", rc);
	char *eml2 = g_strdup_printf("%s/%s.eml", qdir, id2);
	TAP_OK(file_equals(eml2, small->data, small->len), "memfd .eml is byte-identical");
	TAP_OK(!has_hidden(qdir), "no temp files left");

	/* Entry 4: an unnamed file on the quarantine's file system (how the
	 * milter's spool hands a message over): linked, not copied.  In a
	 * quarantine of its own, so the listings below see entries 1 and 2. */
	char *qdir4 = path_in(tmpdir, "q-linked");
	char id4[QUARANTINE_ID_MAX];
	nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	quarantine_new_id(id4, sizeof id4);
	int tfd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	TAP_OK(tfd >= 0 && write(tfd, small->data, small->len) == (ssize_t)small->len, "unnamed source file ready");
	rc = quarantine_store(qdir4, id4, tfd, small->len, j2);
	TAP_OK(rc == 0, "quarantine_store from an unnamed file (rc %d)", rc);
	char *eml4 = g_strdup_printf("%s/%s.eml", qdir4, id4);
	struct stat s_tmp;
	TAP_OK(fstat(tfd, &s_tmp) == 0 && stat(eml4, &s_eml) == 0 && s_tmp.st_ino == s_eml.st_ino &&
	       s_eml.st_nlink == 1, "unnamed file linked into the quarantine (same inode)");
	TAP_OK(file_equals(eml4, small->data, small->len) && file_mode(eml4) == 0600,
	       "linked .eml byte-identical, mode 0600");
	TAP_OK(!has_hidden(qdir4), "no temp files left after linking");
	rc = quarantine_store(qdir4, id4, tfd, small->len, j2);
	TAP_OK(rc == -EEXIST, "unnamed file, duplicate ID: -EEXIST (got %d)", rc);
	close(tfd);
	g_free(eml4);
	g_free(qdir4);

	/* Duplicate ID: refused, the entry unchanged. */
	rc = quarantine_store(qdir, id1, mfd, small->len, j2);
	TAP_OK(rc == -EEXIST, "duplicate ID: -EEXIST (got %d)", rc);
	TAP_OK(file_equals(eml1, big->data, big->len), "existing entry untouched");

	/* Source shorter than LEN: error, nothing left. */
	char id3[QUARANTINE_ID_MAX];
	quarantine_new_id(id3, sizeof id3);
	char *before = dir_names(qdir);
	rc = quarantine_store(qdir, id3, mfd, small->len + 10, j2);
	char *after = dir_names(qdir);
	TAP_OK(rc < 0, "short source: error (got %d)", rc);
	TAP_STREQ(after, before, "short source: nothing left behind");
	g_free(before);
	g_free(after);

	rc = quarantine_store(qdir, "../evil", mfd, small->len, j2);
	TAP_OK(rc == -EINVAL, "invalid ID refused");

	/* A directory we cannot write.  root ignores mode bits, so then use
	 * a path under a regular file instead. */
	if (geteuid() == 0) {
		char *plain = path_in(tmpdir, "plain");
		g_file_set_contents(plain, "", 0, NULL);
		char *under = path_in(plain, "q");
		rc = quarantine_store(under, id3, mfd, small->len, j2);
		TAP_OK(rc == -ENOTDIR, "store under a regular file: -ENOTDIR (got %d)", rc);
		struct stat st;
		TAP_OK(stat(plain, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0,
		       "nothing created (running as root: 0500 test replaced)");
		g_free(under);
		g_free(plain);
	} else {
		char *ro = path_in(tmpdir, "ro");
		mkdir(ro, 0700);
		chmod(ro, 0500);
		rc = quarantine_store(ro, id3, mfd, small->len, j2);
		chmod(ro, 0700);
		TAP_OK(rc == -EACCES, "store into a 0500 dir: -EACCES (got %d)", rc);
		char *names = dir_names(ro);
		TAP_STREQ(names, "", "nothing left in the 0500 dir");
		g_free(names);
		g_free(ro);
	}

	/* list, text */
	FILE *out, *err;
	char *obuf = NULL, *ebuf = NULL;
	size_t olen, elen;
	capture(&out, &olen, &obuf);
	capture(&err, &elen, &ebuf);
	rc = quarantine_cmd_list(qdir, NULL, false, out, err);
	fclose(out);
	fclose(err);
	TAP_OK(rc == 0, "list: exit 0");
	/* newest first; TZ=UTC and COLUMNS=200 (main); the subject column is
	 * the rest of the 200 columns and is not cut here */
	char *want = g_strdup_printf(
		"ID                             TIME              VERDICT         SIZE  FROM                  SUBJECT\n"
		"%s  2025-03-04 05:06  sanitized     3.0 KB  sender@example.co.jp  Re: 会議資料\n"
		"%s  2025-03-04 05:06  suspect     200.1 KB  sender@example.co.jp  見積書の送付について<U+0009>(再送)\n",
		id2, id1);
	TAP_STREQ(obuf, want, "list: exact table, newest first, tab shown as <U+0009>");
	TAP_OK(g_strcmp0(ebuf, "") == 0, "list: nothing on stderr");
	char *index = path_in(qdir, ".index.sqlite");
	TAP_OK(file_mode(index) == 0600, "list: the index is created, mode 0600");
	g_free(index);
	g_free(want);
	free(obuf);
	free(ebuf);

	/* list, JSON */
	capture(&out, &olen, &obuf);
	capture(&err, &elen, &ebuf);
	rc = quarantine_cmd_list(qdir, NULL, true, out, err);
	fclose(out);
	fclose(err);
	TAP_OK(rc == 0, "list --json: exit 0");
	TAP_OK(strstr(obuf, "太郎\\u0001\\u009b") != NULL && strstr(obuf, "\xc2\x9b") == NULL,
	       "list --json: C0 and C1 controls escaped");
	TAP_OK(strstr(obuf, "invoice\\u202efdp.exe") != NULL && strstr(obuf, RLO) == NULL,
	       "list --json: a bidi override escaped");
	json_object *arr = json_tokener_parse(obuf);
	TAP_OK(arr && json_object_is_type(arr, json_type_array) &&
	       json_object_array_length(arr) == 2, "list --json: array of 2");
	if (arr && json_object_is_type(arr, json_type_array) && json_object_array_length(arr) == 2) {
		/* newest first: entry 1 is the second */
		json_object *e = json_object_array_get_idx(arr, 1), *v;
#define JS(obj, key) (json_object_object_get_ex(obj, key, &v) ? json_object_get_string(v) : "(missing)")
		TAP_STREQ(JS(e, "id"), id1, "list --json: id");
		TAP_STREQ(JS(e, "ts"), "2025-03-04T05:06:07.089Z", "list --json: ts");
		TAP_STREQ(JS(e, "sha256"), sha1, "list --json: sha256 of the original");
		TAP_OK(json_object_object_get_ex(e, "size", &v) &&
		       json_object_get_uint64(v) == big->len, "list --json: size");
		TAP_STREQ(JS(e, "verdict"), "suspect", "list --json: verdict");
		TAP_STREQ(JS(e, "from"), "sender@example.co.jp", "list --json: from");
		TAP_STREQ(JS(e, "subject"), "見積書の送付について\t(再送)", "list --json: subject");
		TAP_STREQ(JS(e, "record_id"), "4XyZ1a2B3c", "list --json: record_id");
		TAP_OK(json_object_object_get_ex(e, "rcpt", &v) && json_object_array_length(v) == 2 &&
		       strcmp(json_object_get_string(json_object_array_get_idx(v, 1)),
		              "soumu@city.example.lg.jp") == 0, "list --json: rcpt");
		json_object *parts = NULL;
		json_object_object_get_ex(e, "parts", &parts);
		TAP_OK(parts && json_object_array_length(parts) == 2, "list --json: 2 parts");
		if (parts && json_object_array_length(parts) == 2) {
			json_object *pt = json_object_array_get_idx(parts, 1);
			TAP_STREQ(JS(pt, "filename"), "invoice" RLO "fdp.exe", "list --json: part filename");
			TAP_STREQ(JS(pt, "action"), "removed", "list --json: part action");
		}
		e = json_object_array_get_idx(arr, 0);
		TAP_STREQ(JS(e, "id"), id2, "list --json: newest first");
		TAP_STREQ(JS(e, "sha256"), sha2, "list --json: its sha256");
#undef JS
	}
	json_object_put(arr);
	free(obuf);
	free(ebuf);

	/* list on an empty and on a missing directory */
	char *empty = path_in(tmpdir, "empty");
	mkdir(empty, 0700);
	char *missing = path_in(tmpdir, "missing");
	const char *dirs[] = { empty, missing };
	for (int i = 0; i < 2; i++) {
		capture(&out, &olen, &obuf);
		capture(&err, &elen, &ebuf);
		rc = quarantine_cmd_list(dirs[i], NULL, true, out, err);
		fclose(out);
		fclose(err);
		TAP_OK(rc == 0 && strcmp(obuf, "[]\n") == 0, "list --json on %s dir: [] and exit 0",
		       i ? "a missing" : "an empty");
		free(obuf);
		free(ebuf);
		capture(&out, &olen, &obuf);
		capture(&err, &elen, &ebuf);
		rc = quarantine_cmd_list(dirs[i], NULL, false, out, err);
		fclose(out);
		fclose(err);
		TAP_OK(rc == 0 && strchr(obuf, '\n') == obuf + strlen(obuf) - 1,
		       "list on %s dir: header only, exit 0", i ? "a missing" : "an empty");
		free(obuf);
		free(ebuf);
	}
	g_free(empty);
	g_free(missing);

	/* show */
	char *rdir = path_in(tmpdir, "review");
#define SHOWER(o, e) (&(quarantine_admin){ .dir = qdir, .review_dir = rdir, .admin_fd = -1, .out = (o), .err = (e) })
	capture(&out, &olen, &obuf);
	capture(&err, &elen, &ebuf);
	rc = quarantine_cmd_show(SHOWER(out, err), id1);
	fclose(out);
	fclose(err);
	TAP_OK(rc == 0, "show: exit 0");
	TAP_OK(strstr(obuf, id1) && strstr(obuf, sha1), "show: id and sha256");
	TAP_OK(strstr(obuf, "invoice<U+202E>fdp.exe") != NULL, "show: RLO made visible");
	TAP_OK(strstr(obuf, RLO) == NULL && strchr(obuf, '\x01') == NULL &&
	       strstr(obuf, "\xc2\x9b") == NULL, "show: no raw bidi or control characters");
	TAP_OK(strstr(obuf, "田中 太郎<U+0001><U+009B>") != NULL, "show: header From escaped");
	TAP_OK(strstr(obuf, "staff@city.example.lg.jp, soumu@city.example.lg.jp") != NULL,
	       "show: recipients");
	TAP_OK(strstr(obuf, "attachment, type-mismatch, executable") != NULL, "show: part reasons");
	TAP_OK(strstr(obuf, "application/x-dosexec") && strstr(obuf, "invoice.pdf"),
	       "show: detected type and name param");
	TAP_OK(strstr(obuf, "Part 2: removed") && strstr(obuf, "Part 1: converted"),
	       "show: part paths and actions");
	free(obuf);
	free(ebuf);

	char unknown[QUARANTINE_ID_MAX];
	quarantine_new_id(unknown, sizeof unknown);
	const char *bad_ids[] = { unknown, "../src", "" };
	for (int i = 0; i < 3; i++) {
		capture(&out, &olen, &obuf);
		capture(&err, &elen, &ebuf);
		rc = quarantine_cmd_show(SHOWER(out, err), bad_ids[i]);
		fclose(out);
		fclose(err);
		TAP_OK(rc == 1 && olen == 0 && elen > 0, "show \"%s\": exit 1, message on stderr",
		       bad_ids[i]);
		free(obuf);
		free(ebuf);
	}

	/* export to a file and to a pipe; each export is an audit record */
	char *alog = path_in(tmpdir, "export-audit.log");
#undef SHOWER
	g_free(rdir);
#define ADMIN(e) (&(quarantine_admin){ .dir = qdir, .admin_log = alog, .admin_fd = -1, .user = "tester", .err = (e) })
	char *exp = path_in(tmpdir, "export.eml");
	int efd = open(exp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	err = open_memstream(&ebuf, &elen);
	rc = quarantine_cmd_export(ADMIN(err), id1, NULL, NULL, NULL, efd);
	fclose(err);
	close(efd);
	TAP_OK(rc == 0 && elen == 0, "export to a file: exit 0");
	TAP_OK(file_equals(exp, big->data, big->len), "export to a file: byte-identical");
	free(ebuf);

	int pfd[2];
	rc = pipe(pfd);
	TAP_OK(rc == 0, "pipe");
	err = open_memstream(&ebuf, &elen);
	rc = quarantine_cmd_export(ADMIN(err), id2, NULL, NULL, NULL, pfd[1]);   /* fits the pipe buffer */
	fclose(err);
	close(pfd[1]);
	GByteArray *got = g_byte_array_new();
	guint8 buf[4096];
	ssize_t n;
	while ((n = read(pfd[0], buf, sizeof buf)) > 0)
		g_byte_array_append(got, buf, (guint)n);
	close(pfd[0]);
	TAP_OK(rc == 0 && got->len == small->len && memcmp(got->data, small->data, small->len) == 0,
	       "export to a pipe: byte-identical (%u bytes)", got->len);
	g_byte_array_unref(got);
	free(ebuf);

	for (int i = 0; i < 2; i++) {
		efd = open(exp, O_WRONLY | O_TRUNC);
		err = open_memstream(&ebuf, &elen);
		rc = quarantine_cmd_export(ADMIN(err), bad_ids[i], NULL, NULL, NULL, efd);
		fclose(err);
		close(efd);
		TAP_OK(rc == 1 && elen > 0 && file_mode(exp) == 0600 && file_equals(exp, "", 0),
		       "export \"%s\": exit 1, nothing written", bad_ids[i]);
		free(ebuf);
	}
	/* A malformed part path never reaches the pipeline. */
	efd = open(exp, O_WRONLY | O_TRUNC);
	err = open_memstream(&ebuf, &elen);
	rc = quarantine_cmd_export(ADMIN(err), id1, "1/../2", NULL, NULL, efd);
	fclose(err);
	close(efd);
	TAP_OK(rc == 1 && strstr(ebuf, "no such part"), "export --part with a bad path: exit 1");
	free(ebuf);

	/* the two exports that were done, and the bad part path's refusal
	 * before anything was done (no record) */
	char *alines = NULL;
	g_file_get_contents(alog, &alines, NULL, NULL);
	int nrec = 0;
	for (char *c = alines; c && *c; c++)
		nrec += *c == '\n';
	TAP_OK(nrec == 2 && strstr(alines, "\"event\":\"export\",\"user\":\"tester\",\"sudo_user\":null,"
	                               "\"config\":null,\"config_sha256\":null,") != NULL,
	       "export: one audit record per export (%d)", nrec);
	g_free(alines);
#undef ADMIN
	g_free(alog);
	g_free(exp);
	close(mfd);
	close(src);
	g_free(src_path);
	g_free(eml1);
	g_free(eml2);
	g_free(json1);
	g_free(j1nl);
	g_free(j1);
	g_free(j2);
	g_free(sha1);
	g_free(sha2);
	result_free(r1);
	result_free(r2);
	g_byte_array_unref(big);
	g_byte_array_unref(small);
	g_free(qdir);
}

int main(void)
{
	/* the table's times are local, its width follows $COLUMNS */
	setenv("TZ", "UTC", 1);
	setenv("COLUMNS", "200", 1);
	i18n_force(0);
	tmpdir = g_dir_make_tmp("mugai-test-store-XXXXXX", NULL);
	if (!tmpdir) {
		printf("Bail out! cannot make a temp dir\n");
		return 1;
	}
	test_audit_json();
	test_audit_append();
	test_ids();
	test_store_and_commands();
	rm_rf(tmpdir);
	g_free(tmpdir);
	return tap_done();
}
