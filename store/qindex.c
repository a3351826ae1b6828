/* qindex.c - the quarantine list index (sqlite3), a cache of the records.
 *
 * Owns DIR/.index.sqlite and its schema: table `entries` (the columns the
 * filters and the table need, with case-folded copies for substring
 * matches) and table `records` (the `list --json` entry, ready to print),
 * kept apart so that a filter scan does not read the JSON.  IDs sort in
 * time order, so time filters are ranges of the primary key and "newest
 * first" is a backwards walk of it.
 *
 * The index is a cache and nothing else: any sqlite error while using the
 * file (corrupt, not a database, another schema version) deletes it and
 * builds it again; a file that cannot be written gives way to an in-memory
 * index for this query.  Durability does not matter (synchronous = OFF); the
 * rollback journal keeps a crash from leaving a half-written file.
 * The file lives in a directory the milter's account owns and may be
 * written by it, so it is read as an untrusted database: root works there
 * as that account (store_dir_open: the file is that account's, no chown
 * by name), SQLite is opened defensively (no schema-defined functions,
 * triggers or views, cell sizes checked, no memory mapping), and what
 * `list --json` prints is parsed and serialized again, never the stored
 * bytes.  Nothing is logged; unreadable records are reported on ERR.
 */
#include "store/qindex.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCHEMA_VERSION 2
#define QID_LEN 29
#define TIME_PREFIX 18   /* "YYYYMMDD-HHMMSSmmm" */

static const char schema[] =
	"CREATE TABLE entries("
	" id TEXT PRIMARY KEY,"
	" ts TEXT, verdict TEXT, size INTEGER, removed INTEGER,"
	" sender TEXT, subject TEXT,"
	" from_key TEXT, rcpt_key TEXT, subject_key TEXT,"
	" reasons TEXT);"                  /* "\nreason\nreason\n" */
	/* keyed by the entry's rowid: a WITHOUT ROWID table of kilobyte rows
	 * took three times the space */
	"CREATE TABLE records(entry INTEGER PRIMARY KEY, json TEXT);"
	"PRAGMA user_version = " G_STRINGIFY(SCHEMA_VERSION) ";";

/* ---- filters ------------------------------------------------------------- */

void qindex_filter_clear(qindex_filter *f)
{
	g_free(f->since);
	g_free(f->until);
	g_free(f->from);
	g_free(f->rcpt);
	g_free(f->subject);
	g_free(f->verdict);
	g_free(f->reason);
	memset(f, 0, sizeof *f);
}

static bool is_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !g_ascii_isdigit(s[i]))
			return false;
	return true;
}

int qindex_time_bound(const char *arg, bool until, char **out)
{
	*out = NULL;
	if (!arg)
		return -EINVAL;
	GDateTime *t;
	if (is_date(arg)) {
		int y = atoi(arg), m = atoi(arg + 5), d = atoi(arg + 8);
		t = g_date_time_new_local(y, m, d, 0, 0, 0);
		/* GLib normalises 02-30 to 03-02; a date that moved was not a date */
		if (t && (g_date_time_get_year(t) != y || g_date_time_get_month(t) != m ||
		          g_date_time_get_day_of_month(t) != d)) {
			g_date_time_unref(t);
			t = NULL;
		}
		if (t && until) {
			GDateTime *n = g_date_time_add_days(t, 1);
			g_date_time_unref(t);
			t = n;
		}
	} else {
		GTimeZone *local = g_time_zone_new_local();
		t = g_date_time_new_from_iso8601(arg, local);
		g_time_zone_unref(local);
		if (t && until) {
			/* IDs have milliseconds: "until T" takes T's millisecond in */
			int us = g_date_time_get_microsecond(t);
			GDateTime *n = g_date_time_add(t, 1000 - us % 1000);
			g_date_time_unref(t);
			t = n;
		}
	}
	if (!t)
		return -EINVAL;
	GDateTime *u = g_date_time_to_utc(t);
	g_date_time_unref(t);
	if (!u)
		return -EINVAL;
	int year = g_date_time_get_year(u);
	if (year < 1 || year > 9999) {
		g_date_time_unref(u);
		return -EINVAL;
	}
	*out = quarantine_id_prefix(u);
	g_date_time_unref(u);
	return 0;
}

char *qindex_fold(const char *s)
{
	if (!s)
		return g_strdup("");
	char *valid = g_utf8_make_valid(s, -1);
	char *norm = g_utf8_normalize(valid, -1, G_NORMALIZE_ALL);
	char *fold = g_utf8_casefold(norm ? norm : valid, -1);
	g_free(norm);
	g_free(valid);
	return fold;
}

/* ---- records --------------------------------------------------------------- */

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *jarr(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

json_object *qindex_list_entry(const char *id, json_object *rec)
{
	static const char *const keys[] = {
		"ts", "message_id", "from", "header_from", "rcpt", "subject", "client",
		"size", "sha256", "verdict", "verdict_reason", "elapsed_ms", "reasons", "parts",
	};
	json_object *o = json_object_new_object();
	json_object *v;
	json_object_object_add(o, "id", json_object_new_string(id));
	if (json_object_object_get_ex(rec, "id", &v))
		json_object_object_add(o, "record_id", json_object_get(v));
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (json_object_object_get_ex(rec, keys[i], &v))
			json_object_object_add(o, keys[i], json_object_get(v));
	return o;
}

/* "\n" + each string of ARR + "\n" into G. */
static void add_lines(GString *g, json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		if (json_object_is_type(v, json_type_string))
			g_string_append_printf(g, "%s\n", json_object_get_string(v));
	}
}

/* ---- the database -------------------------------------------------------- */

typedef struct qdb {
	sqlite3 *db;
	char *path;            /* NULL for the in-memory index */
} qdb;

static void index_close(qdb *ix)
{
	if (ix->db)
		sqlite3_close(ix->db);
	ix->db = NULL;
}

/* SQLITE_CORRUPT and friends: the file is not a usable index. */
static bool broken(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB || rc == SQLITE_SCHEMA ||
	       rc == SQLITE_FORMAT || rc == SQLITE_MISMATCH || rc == SQLITE_ERROR;
}

/* SQLITE_READONLY and friends: we may not write the file. */
static bool unwritable(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM ||
	       rc == SQLITE_AUTH || rc == SQLITE_IOERR || rc == SQLITE_FULL;
}

static void remove_index(int dfd)
{
	unlinkat(dfd, QINDEX_NAME, 0);
	unlinkat(dfd, QINDEX_NAME "-journal", 0);
}

/* The settings for a database file someone else may have written. */
static int harden(sqlite3 *db)
{
	static const int off[] = {
		SQLITE_DBCONFIG_TRUSTED_SCHEMA, SQLITE_DBCONFIG_ENABLE_TRIGGER, SQLITE_DBCONFIG_ENABLE_VIEW,
		SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, SQLITE_DBCONFIG_DQS_DDL, SQLITE_DBCONFIG_DQS_DML,
	};
	int rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < G_N_ELEMENTS(off); i++)
		rc = sqlite3_db_config(db, off[i], 0, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA cell_size_check = ON; PRAGMA mmap_size = 0; "
		                  "PRAGMA trusted_schema = OFF;", NULL, NULL, NULL);
	return rc;
}

/* Schema in place: 0, or the sqlite error. */
static int ensure_schema(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	int version = -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc;
	if (version == SCHEMA_VERSION)
		return SQLITE_OK;
	if (version != 0)
		return SQLITE_SCHEMA;   /* another layout: the file is made anew, not migrated */
	return sqlite3_exec(db, schema, NULL, NULL, NULL);
}

static int open_db(qdb *ix)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
	            SQLITE_OPEN_NOMUTEX;
	const char *name = ix->path ? ix->path : ":memory:";
	/* the file and its journal are private to the store's owner */
	mode_t old = umask(077);
	int rc = sqlite3_open_v2(name, &ix->db, flags, NULL);
	umask(old);   /* SQLite gives its journal the mode of the file */
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_busy_timeout(ix->db, 5000);
	rc = harden(ix->db);
	/* A cache: a crash may lose the last additions, never corrupt the
	 * file (the journal stays), and no fsync slows a list down. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(ix->db, "PRAGMA synchronous = OFF;", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = ensure_schema(ix->db);
	return rc;
}

/* ---- sync ------------------------------------------------------------------ */

/* IDs of the directory DFD that have a record (ID.json), as a set. */
static int scan_dir(int dfd, GHashTable **out)
{
	*out = NULL;
	int lfd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = lfd < 0 ? NULL : fdopendir(lfd);
	if (!d) {
		int e = errno;
		if (lfd >= 0)
			close(lfd);
		return -e;
	}
	GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		/* temp files (".ID.json.tmp"), state files (ID.state.json) and
		 * anything foreign are not entries */
		if (strlen(de->d_name) != QID_LEN + 5 || strcmp(de->d_name + QID_LEN, ".json") != 0) {
			errno = 0;
			continue;
		}
		char *id = g_strndup(de->d_name, QID_LEN);
		if (quarantine_id_valid(id))
			g_hash_table_add(ids, id);
		else
			g_free(id);
		errno = 0;
	}
	int e = errno;
	closedir(d);
	if (e) {
		g_hash_table_unref(ids);
		return -e;
	}
	*out = ids;
	return 0;
}

static int insert_record(sqlite3_stmt *ins_e, sqlite3_stmt *ins_r, const char *id, json_object *rec)
{
	const char *from = jstr(rec, "from"), *hfrom = jstr(rec, "header_from");
	json_object *parts = jarr(rec, "parts");
	size_t np = parts ? json_object_array_length(parts) : 0;
	unsigned removed = 0;
	GString *reasons = g_string_new("\n");
	add_lines(reasons, jarr(rec, "reasons"));
	for (size_t i = 0; i < np; i++) {
		json_object *p = json_object_array_get_idx(parts, i);
		const char *a = jstr(p, "action");
		if (a && strcmp(a, "removed") == 0)
			removed++;
		add_lines(reasons, jarr(p, "reasons"));
	}
	GString *rc_s = g_string_new(NULL);
	add_lines(rc_s, jarr(rec, "rcpt"));
	char *from_both = g_strconcat(from ? from : "", "\n", hfrom ? hfrom : "", NULL);
	char *from_key = qindex_fold(from_both);
	char *rcpt_key = qindex_fold(rc_s->str);
	char *subject_key = qindex_fold(jstr(rec, "subject"));
	json_object *v;
	int64_t size = json_object_object_get_ex(rec, "size", &v) ? json_object_get_int64(v) : 0;

	json_object *entry = qindex_list_entry(id, rec);
	char *ej = audit_json_string(entry);
	json_object_put(entry);

	sqlite3_bind_text(ins_e, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins_e, 2, jstr(rec, "ts"), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins_e, 3, jstr(rec, "verdict"), -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins_e, 4, size);
	sqlite3_bind_int64(ins_e, 5, removed);
	sqlite3_bind_text(ins_e, 6, from ? from : hfrom, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins_e, 7, jstr(rec, "subject"), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins_e, 8, from_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins_e, 9, rcpt_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins_e, 10, subject_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins_e, 11, reasons->str, -1, SQLITE_STATIC);
	int rc = sqlite3_step(ins_e);
	sqlite3_reset(ins_e);
	sqlite3_clear_bindings(ins_e);
	if (rc == SQLITE_DONE) {
		sqlite3_bind_text(ins_r, 1, ej, -1, SQLITE_STATIC);
		rc = sqlite3_step(ins_r);
		sqlite3_reset(ins_r);
		sqlite3_clear_bindings(ins_r);
	}
	g_free(ej);
	g_free(from_both);
	g_free(from_key);
	g_free(rcpt_key);
	g_free(subject_key);
	g_string_free(rc_s, TRUE);
	g_string_free(reasons, TRUE);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Bring IX in line with the IDs of DIR (the set ON_DISK).  Returns the
 * sqlite error, or SQLITE_READONLY when changes are due and IX cannot
 * take them. */
static int sync_index(qdb *ix, int dfd, GHashTable *on_disk, qindex_stats *st, FILE *err)
{
	GHashTable *fresh = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, on_disk);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_hash_table_add(fresh, key);

	GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
	sqlite3_stmt *sel;
	int rc = sqlite3_prepare_v2(ix->db, "SELECT id FROM entries", -1, &sel, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(sel, 0);
		if (!id || !g_hash_table_remove(fresh, id))
			g_ptr_array_add(gone, g_strdup(id ? id : ""));
		rc = SQLITE_OK;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(sel);
	if (rc != SQLITE_OK || (gone->len == 0 && g_hash_table_size(fresh) == 0))
		goto out;
	if (sqlite3_db_readonly(ix->db, "main") == 1) {
		rc = SQLITE_READONLY;
		goto out;
	}

	sqlite3_stmt *del_e = NULL, *del_r = NULL, *ins_e = NULL, *ins_r = NULL;
	rc = sqlite3_exec(ix->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(ix->db, "DELETE FROM entries WHERE id = ?", -1, &del_e, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(ix->db, "DELETE FROM records WHERE entry = "
		                        "(SELECT rowid FROM entries WHERE id = ?)", -1, &del_r, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(ix->db, "INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?)",
		                        -1, &ins_e, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(ix->db, "INSERT INTO records VALUES (last_insert_rowid(), ?)",
		                        -1, &ins_r, NULL);
	for (guint i = 0; rc == SQLITE_OK && i < gone->len; i++) {
		sqlite3_stmt *dels[] = { del_r, del_e };   /* records first: they find the entry */
		for (int k = 0; k < 2 && rc == SQLITE_OK; k++) {
			sqlite3_bind_text(dels[k], 1, g_ptr_array_index(gone, i), -1, SQLITE_STATIC);
			rc = sqlite3_step(dels[k]) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(ix->db);
			sqlite3_reset(dels[k]);
		}
		if (rc == SQLITE_OK && st)
			st->dropped++;
	}
	/* Sorted: the table's pages fill in key order, and errors come out
	 * in a stable order. */
	GPtrArray *add = g_ptr_array_new();
	g_hash_table_iter_init(&it, fresh);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(add, key);
	g_ptr_array_sort(add, cmp_str);
	for (guint i = 0; rc == SQLITE_OK && i < add->len; i++) {
		const char *id = g_ptr_array_index(add, i);
		json_object *rec;
		int r = quarantine_read_record_at(dfd, id, &rec);
		if (r == -ENOENT)
			continue;   /* deleted since readdir */
		if (r < 0) {
			fprintf(err, "mugai: quarantine: %s: %s\n", id, g_strerror(-r));
			if (st)
				st->unreadable++;
			continue;
		}
		rc = insert_record(ins_e, ins_r, id, rec);
		json_object_put(rec);
		if (rc == SQLITE_OK && st)
			st->added++;
	}
	g_ptr_array_unref(add);
	sqlite3_finalize(del_e);
	sqlite3_finalize(del_r);
	sqlite3_finalize(ins_e);
	sqlite3_finalize(ins_r);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
		if (st) {
			st->added = 0;
			st->dropped = 0;
		}
	}
out:
	g_ptr_array_unref(gone);
	g_hash_table_unref(fresh);
	return rc;
}

/* ---- query ----------------------------------------------------------------- */

/* A stored `list --json` entry parsed and serialized again: the bytes
 * printed are json-c's, whatever the file held.  NULL when it is not a
 * JSON object. */
static char *reserialize(const char *stored)
{
	if (!stored)
		return NULL;
	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, stored, (int)strlen(stored));
	bool ok = o && json_tokener_get_error(tok) == json_tokener_success &&
	          json_tokener_get_parse_end(tok) == strlen(stored) && json_object_is_type(o, json_type_object);
	json_tokener_free(tok);
	char *s = ok ? audit_json_string(o) : NULL;
	json_object_put(o);
	return s;
}

static int run_query(qdb *ix, const qindex_filter *f, bool want_json,
                     qindex_row_fn *fn, void *user)
{
	GString *sql = g_string_new("SELECT e.id, e.ts, e.verdict, e.size, e.removed, e.sender, e.subject");
	g_string_append(sql, want_json ? ", r.json FROM entries e JOIN records r ON r.entry = e.rowid"
	                               : " FROM entries e");
	g_string_append(sql, " WHERE 1");
	const char *binds[8];
	char *reason = NULL;
	int nb = 0;
	if (f && f->since) {
		g_string_append(sql, " AND e.id >= ?");
		binds[nb++] = f->since;
	}
	if (f && f->until) {
		g_string_append(sql, " AND e.id < ?");
		binds[nb++] = f->until;
	}
	if (f && f->from) {
		g_string_append(sql, " AND instr(e.from_key, ?) > 0");
		binds[nb++] = f->from;
	}
	if (f && f->rcpt) {
		g_string_append(sql, " AND instr(e.rcpt_key, ?) > 0");
		binds[nb++] = f->rcpt;
	}
	if (f && f->subject) {
		g_string_append(sql, " AND instr(e.subject_key, ?) > 0");
		binds[nb++] = f->subject;
	}
	if (f && f->verdict) {
		g_string_append(sql, " AND e.verdict = ?");
		binds[nb++] = f->verdict;
	}
	if (f && f->reason) {
		g_string_append(sql, " AND instr(e.reasons, ?) > 0");
		reason = g_strconcat("\n", f->reason, "\n", NULL);
		binds[nb++] = reason;
	}
	g_string_append(sql, " ORDER BY e.id DESC");

	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(ix->db, sql->str, -1, &st, NULL);
	for (int i = 0; rc == SQLITE_OK && i < nb; i++)
		rc = sqlite3_bind_text(st, i + 1, binds[i], -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *json = want_json ? reserialize((const char *)sqlite3_column_text(st, 7)) : NULL;
		if (want_json && !json) {
			rc = SQLITE_CORRUPT;   /* not what this code stored: rebuild */
			break;
		}
		qindex_row row = {
			.id = (const char *)sqlite3_column_text(st, 0),
			.ts = (const char *)sqlite3_column_text(st, 1),
			.verdict = (const char *)sqlite3_column_text(st, 2),
			.size = (uint64_t)sqlite3_column_int64(st, 3),
			.removed = (unsigned)sqlite3_column_int64(st, 4),
			.sender = (const char *)sqlite3_column_text(st, 5),
			.subject = (const char *)sqlite3_column_text(st, 6),
			.json = json,
		};
		rc = SQLITE_OK;
		int stop = fn(&row, user);
		g_free(json);
		if (stop)
			break;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	g_free(reason);
	g_string_free(sql, TRUE);
	return rc;
}

int qindex_query(const char *dir, const qindex_filter *f, bool want_json,
                 qindex_row_fn *fn, void *user, qindex_stats *st, FILE *err)
{
	if (st)
		memset(st, 0, sizeof *st);
	store_dir sd;
	int e = store_dir_open(dir, false, &sd, NULL, 0);
	if (e == -ENOENT)
		return 0;   /* no quarantine yet: nothing to list, nothing to create */
	if (e < 0)
		return e;
	GHashTable *on_disk;
	e = scan_dir(sd.fd, &on_disk);
	if (e < 0) {
		store_dir_close(&sd);
		return e;
	}

	qdb ix = { .db = NULL, .path = g_build_filename(dir, QINDEX_NAME, NULL) };
	bool rebuilt = false;
	int rc = SQLITE_OK;
	/* attempt 0: the file as it is; 1: the file made anew; 2: memory */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (attempt == 2) {
			g_free(ix.path);
			ix.path = NULL;
			if (st)
				st->in_memory = true;
		}
		rc = open_db(&ix);
		if (rc == SQLITE_OK)
			rc = sync_index(&ix, sd.fd, on_disk, st, err);
		if (rc == SQLITE_OK)
			break;
		index_close(&ix);
		if (!ix.path)
			break;
		if (attempt == 0 && broken(rc) && !unwritable(rc)) {
			remove_index(sd.fd);
			rebuilt = true;
		} else {
			attempt = 1;   /* next: memory */
		}
	}
	if (rc == SQLITE_OK)
		rc = run_query(&ix, f, want_json, fn, user);
	index_close(&ix);
	g_free(ix.path);
	g_hash_table_unref(on_disk);
	store_dir_close(&sd);
	if (st)
		st->rebuilt = rebuilt;
	return rc == SQLITE_OK ? 0 : -EIO;
}
