/* quarantine.c - the quarantine store and the `mugai quarantine` read commands.
 *
 * Owns the on-disk layout of DIR: for entry ID, DIR/ID.eml holds the
 * original bytes exactly as received and DIR/ID.json the audit record
 * (audit.c) plus a newline.  Both are written under hidden temp names
 * (".ID.eml.tmp", ".ID.json.tmp"), fsync'ed, renamed without replacing and
 * the directory fsync'ed.  The .eml goes first, so a .json always has its
 * .eml: the .json is what makes an entry exist for list/show/export.
 *
 * Quarantine IDs are always minted here (quarantine_new_id); the record ID
 * of the milter (Postfix queue ID) never names a file.  So
 * quarantine_id_valid() checks the exact shape, which also rules out '/',
 * "..", leading dots and anything else a path could be built from.
 */
#include "util/fdio.h"
#include "store/store.h"
#include "sanitize/pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

/* "YYYYMMDD-HHMMSSmmm-XXXXXXXXXX" */
#define QID_LEN 29
#define QID_RAND 10
#define COPY_BUF (64 * 1024)
#define RECORD_MAX (64 * 1024 * 1024)   /* a record is a few KiB; refuse absurd files */

/* Crockford base32: no I, L, O, U, so an ID read over the phone survives. */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* ---- IDs ---------------------------------------------------------------- */

static int fill_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int quarantine_new_id(char *buf, size_t len)
{
	if (!buf || len < QID_LEN + 1)
		return -EINVAL;
	struct timespec ts;
	struct tm tm;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -errno;
	if (!gmtime_r(&ts.tv_sec, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -EOVERFLOW;

	/* Time first so that IDs (and file names) sort in time order; 50
	 * random bits after it so that an ID cannot be guessed from another. */
	unsigned char rnd[8];
	int rc = fill_random(rnd, sizeof rnd);
	if (rc < 0)
		return rc;
	uint64_t bits = 0;
	for (size_t i = 0; i < sizeof rnd; i++)
		bits = bits << 8 | rnd[i];
	char rs[QID_RAND + 1];
	for (int i = 0; i < QID_RAND; i++)
		rs[i] = crockford[(bits >> (5 * i)) & 31];
	rs[QID_RAND] = '\0';

	snprintf(buf, len, "%04d%02d%02d-%02d%02d%02d%03ld-%s",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, rs);
	return 0;
}

/* Strict: exactly the shape quarantine_new_id() produces (upper case). */
bool quarantine_id_valid(const char *id)
{
	if (!id || strlen(id) != QID_LEN)
		return false;
	for (int i = 0; i < QID_LEN; i++) {
		char c = id[i];
		if (i == 8 || i == 18) {
			if (c != '-')
				return false;
		} else if (i < 18) {
			if (c < '0' || c > '9')
				return false;
		} else if (c == '\0' || !strchr(crockford, c)) {
			return false;
		}
	}
	return true;
}

/* ---- storing ------------------------------------------------------------- */

/* LEN bytes of SRC from offset 0 to DST's current position.  SRC's own
 * offset is not touched (the spool may still be read by someone else). */
static int copy_from_start(int src, int dst, uint64_t len)
{
	uint64_t done = 0;
	off_t in_off = 0;

	/* copy_file_range lets the filesystem share or copy extents without
	 * the bytes crossing into user space; it refuses some pairs (across
	 * filesystems, memfd, pipes), then the plain loop takes over. */
	while (done < len) {
		size_t chunk = len - done > (1u << 30) ? (1u << 30) : (size_t)(len - done);
		ssize_t n = copy_file_range(src, &in_off, dst, NULL, chunk, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			    errno == EOPNOTSUPP || errno == ETXTBSY)
				break;
			return -errno;
		}
		if (n == 0)
			return -EIO;   /* source shorter than the caller said */
		done += (uint64_t)n;
	}
	if (done == len)
		return 0;

	char *buf = g_malloc(COPY_BUF);
	int rc = 0;
	while (done < len) {
		size_t chunk = len - done > COPY_BUF ? COPY_BUF : (size_t)(len - done);
		ssize_t n = pread(src, buf, chunk, (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0) {
			rc = -EIO;
			break;
		}
		if ((rc = fd_write_all(dst, buf, (size_t)n)) < 0)
			break;
		done += (uint64_t)n;
	}
	g_free(buf);
	return rc;
}

/* Rename that fails with EEXIST instead of replacing. */
static int rename_noreplace(int dfd, const char *from, const char *to)
{
	if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	/* Filesystems without RENAME_NOREPLACE (NFS, some FUSE): link(2)
	 * never replaces either.  If the temp name cannot be removed after
	 * that, the entry is still complete; the hidden name is only litter. */
	if (linkat(dfd, from, dfd, to, 0) < 0)
		return -errno;
	unlinkat(dfd, from, 0);
	return 0;
}

/* SRC as TMP in DFD without copying, when SRC is a file that has no name
 * yet (the milter's spool: O_TMPFILE, never written again) on the same file
 * system: 0 when linked (and fsync'ed), 1 when the caller must copy.  A
 * file that has a name is never linked: its owner could change it later. */
static int link_unnamed(int dfd, const char *tmp, int src, uint64_t len)
{
	struct stat st;
	if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 0 ||
	    (uint64_t)st.st_size != len)
		return 1;
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", src);
	if (linkat(AT_FDCWD, path, dfd, tmp, AT_SYMLINK_FOLLOW) < 0)
		return errno == EEXIST ? -EEXIST : 1;   /* EXDEV, no /proc, ...: copy */
	if (fsync(src) < 0) {
		int e = errno;
		unlinkat(dfd, tmp, 0);
		return -e;
	}
	return 0;
}

/* Write TMP in DFD (from SRC_FD, or DATA when SRC_FD < 0), fsync, rename
 * to FINAL.  On failure TMP is gone. */
static int write_entry_file(int dfd, const char *tmp, const char *final,
                            int src_fd, uint64_t len, const char *data, size_t dlen)
{
	int fd, rc;
	if (src_fd >= 0 && (rc = link_unnamed(dfd, tmp, src_fd, len)) <= 0) {
		if (rc == 0 && (rc = rename_noreplace(dfd, tmp, final)) < 0)
			unlinkat(dfd, tmp, 0);
		return rc;
	}
	do
		fd = openat(dfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;

	if (src_fd >= 0)
		rc = copy_from_start(src_fd, fd, len);
	else
		rc = fd_write_all(fd, data, dlen);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0 && errno != EINTR)
		rc = -errno;
	if (rc == 0)
		rc = rename_noreplace(dfd, tmp, final);
	if (rc < 0)
		unlinkat(dfd, tmp, 0);
	return rc;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* mkdir DIR (last component only).  A new directory is only durable once
 * its parent is fsync'ed.  Whether an existing DIR is a directory is left to
 * the O_DIRECTORY open that follows. */
static int ensure_dir(const char *dir)
{
	if (mkdir(dir, 0700) < 0)
		return errno == EEXIST ? 0 : -errno;

	char *copy = g_strdup(dir);
	size_t n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char *parent = g_path_get_dirname(copy);
	int rc = fsync_dir(parent);
	g_free(parent);
	g_free(copy);
	return rc;
}

static int exists_at(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	return errno == ENOENT ? 0 : -errno;
}

int quarantine_store(const char *dir, const char *id, int fd, uint64_t len,
                     const char *record_json)
{
	if (!dir || !*dir || !id || fd < 0 || !record_json)
		return -EINVAL;
	if (!quarantine_id_valid(id))
		return -EINVAL;
	if (len > (uint64_t)INT64_MAX)
		return -EFBIG;
	size_t jlen = strlen(record_json);

	int rc = ensure_dir(dir);
	if (rc < 0)
		return rc;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;

	char *eml = g_strconcat(id, ".eml", NULL);
	char *json = g_strconcat(id, ".json", NULL);
	char *eml_tmp = g_strconcat(".", id, ".eml.tmp", NULL);
	char *json_tmp = g_strconcat(".", id, ".json.tmp", NULL);
	char *jbuf = NULL;
	bool eml_done = false, json_done = false;

	/* Cheap early refusal; the no-replace renames are what guarantee it. */
	if ((rc = exists_at(dfd, eml)) < 0 || (rc = exists_at(dfd, json)) < 0)
		goto out;

	if ((rc = write_entry_file(dfd, eml_tmp, eml, fd, len, NULL, 0)) < 0)
		goto out;
	eml_done = true;

	jbuf = g_malloc(jlen + 1);
	memcpy(jbuf, record_json, jlen);
	jbuf[jlen] = '\n';
	if ((rc = write_entry_file(dfd, json_tmp, json, -1, 0, jbuf, jlen + 1)) < 0)
		goto out;
	json_done = true;

	if (fsync(dfd) < 0)
		rc = -errno;
out:
	/* A failed store leaves nothing: the caller tempfails, Postfix retries
	 * and the retry gets a fresh ID.  The finals we remove are ours, since
	 * the renames never replace. */
	if (rc < 0) {
		if (json_done)
			unlinkat(dfd, json, 0);
		if (eml_done) {
			unlinkat(dfd, eml, 0);
			fsync(dfd);
		}
	}
	close(dfd);
	g_free(jbuf);
	g_free(eml);
	g_free(json);
	g_free(eml_tmp);
	g_free(json_tmp);
	return rc;
}

/* ---- reading records ---------------------------------------------------- */

/* DIR/ID.json parsed: 0, -ENOENT, -EBADMSG (not a JSON object), -errno. */
static int read_record(const char *dir, const char *id, json_object **out)
{
	*out = NULL;
	char *name = g_strconcat(id, ".json", NULL);
	char *path = g_build_filename(dir, name, NULL);
	g_free(name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	g_free(path);
	if (fd < 0)
		return -errno;

	int rc = 0;
	char *buf = NULL;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EBADMSG;
		goto out;
	}
	if (st.st_size > RECORD_MAX) {
		rc = -EFBIG;
		goto out;
	}
	size_t cap = (size_t)st.st_size, got = 0;
	buf = g_malloc(cap + 1);
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';

	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, buf, (int)got);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (used < got && g_ascii_isspace(buf[used]))
		used++;
	if (!o || jerr != json_tokener_success || used != got ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		rc = -EBADMSG;
		goto out;
	}
	*out = o;
out:
	g_free(buf);
	close(fd);
	return rc;
}

static const char *jget_str(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static uint64_t jget_u64(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_uint64(v);
}

static json_object *jget_array(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* ---- showing untrusted text ---------------------------------------------- */

static bool unsafe_char(gunichar c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||   /* C0, DEL, C1 */
	       c == 0x061c || c == 0x200e || c == 0x200f ||          /* ALM, LRM, RLM */
	       c == 0x2028 || c == 0x2029 ||                         /* line/paragraph separators */
	       (c >= 0x202a && c <= 0x202e) ||                       /* bidi embeddings, overrides */
	       (c >= 0x2066 && c <= 0x2069);                         /* bidi isolates */
}

/* Subjects and file names are written by the sender: a terminal escape or
 * a right-to-left override ("invoice<U+202E>fdp.exe" shows as
 * "invoiceexe.pdf") must be visible to the administrator, not obeyed.
 * NULL becomes "-".  Returns a g_malloc'ed string. */
static char *printable(const char *s)
{
	if (!s)
		return g_strdup("-");
	GString *g = g_string_sized_new(strlen(s));
	const char *p = s;
	while (*p) {
		gunichar c = g_utf8_get_char_validated(p, -1);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append_printf(g, "<0x%02X>", (unsigned char)*p);
			p++;
			continue;
		}
		const char *next = g_utf8_next_char(p);
		if (unsafe_char(c))
			g_string_append_printf(g, "<U+%04X>", c);
		else
			g_string_append_len(g, p, next - p);
		p = next;
	}
	return g_string_free(g, FALSE);
}

static void print_field(FILE *out, const char *label, const char *value)
{
	char *v = printable(value);
	fprintf(out, "%-14s %s\n", label, v);
	g_free(v);
}

/* Array of strings joined with ", ", each made printable; "-" when empty. */
static char *join_printable(json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	if (n == 0)
		return g_strdup("-");
	GString *g = g_string_new(NULL);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		char *s = printable(json_object_is_type(v, json_type_string) ?
		                    json_object_get_string(v) : NULL);
		if (i)
			g_string_append(g, ", ");
		g_string_append(g, s);
		g_free(s);
	}
	return g_string_free(g, FALSE);
}

static void print_list_field(FILE *out, const char *label, json_object *arr)
{
	char *v = join_printable(arr);
	fprintf(out, "%-14s %s\n", label, v);
	g_free(v);
}

static unsigned count_removed(json_object *rec)
{
	json_object *parts = jget_array(rec, "parts");
	size_t n = parts ? json_object_array_length(parts) : 0;
	unsigned removed = 0;
	for (size_t i = 0; i < n; i++) {
		const char *a = jget_str(json_object_array_get_idx(parts, i), "action");
		if (a && strcmp(a, "removed") == 0)
			removed++;
	}
	return removed;
}

/* Exit code once OUT has been written: a full disk or closed pipe is I/O trouble. */
static int finish_out(FILE *out, FILE *err, int code)
{
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(err, "mugai: quarantine: writing output: %s\n", g_strerror(errno));
		return 75;
	}
	return code;
}

/* ---- list --------------------------------------------------------------- */

/* Serialize like audit.c does: one line, UTF-8 raw, and DEL and the C1
 * controls escaped (json-c passes them raw; parsing the stored record
 * turned audit.c's escapes back into raw bytes). */
static void print_json(FILE *out, json_object *o)
{
	const unsigned char *p = (const unsigned char *)json_object_to_json_string_ext(o,
	                         JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	for (; *p; p++) {
		if (*p == 0x7f) {
			fputs("\\u007f", out);
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fprintf(out, "\\u%04x", p[1]);
			p++;
		} else {
			putc(*p, out);
		}
	}
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The list entry: the stored record with `id` = the quarantine ID (the
 * record's own `id`, the queue ID, moves to `record_id`). */
static json_object *list_entry(const char *id, json_object *rec)
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

int quarantine_cmd_list(const char *dir, bool json, FILE *out, FILE *err)
{
	DIR *d = opendir(dir);
	if (!d && errno != ENOENT) {
		fprintf(err, "mugai: quarantine: %s: %s\n", dir, g_strerror(errno));
		return 75;
	}

	/* Every DIR/ID.json with a valid ID; temp files (".ID.json.tmp") and
	 * foreign files are not entries.  IDs sort in time order. */
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	int code = 0;
	if (d) {
		struct dirent *de;
		errno = 0;
		while ((de = readdir(d)) != NULL) {
			size_t n = strlen(de->d_name);
			if (n != QID_LEN + 5 || strcmp(de->d_name + QID_LEN, ".json") != 0)
				continue;
			char *id = g_strndup(de->d_name, QID_LEN);
			if (quarantine_id_valid(id))
				g_ptr_array_add(ids, id);
			else
				g_free(id);
			errno = 0;
		}
		if (errno != 0) {
			fprintf(err, "mugai: quarantine: %s: %s\n", dir, g_strerror(errno));
			code = 75;
		}
		closedir(d);
	}
	g_ptr_array_sort(ids, cmp_str);

	if (json)
		fputs("[", out);
	else
		fprintf(out, "%-29s  %-24s  %-9s  %10s  %7s  %s  %s\n",
		        "ID", "TIME", "VERDICT", "SIZE", "REMOVED", "FROM", "SUBJECT");

	/* Streamed entry by entry: the store may hold many thousands. */
	bool first = true;
	for (guint i = 0; i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		json_object *rec;
		int rc = read_record(dir, id, &rec);
		if (rc == -ENOENT)
			continue;   /* deleted since readdir */
		if (rc < 0) {
			fprintf(err, "mugai: quarantine: %s: %s\n", id, g_strerror(-rc));
			code = 75;
			continue;
		}
		if (json) {
			json_object *e = list_entry(id, rec);
			if (!first)
				fputs(",\n", out);
			print_json(out, e);
			json_object_put(e);
		} else {
			char *ts = printable(jget_str(rec, "ts"));
			char *verdict = printable(jget_str(rec, "verdict"));
			char *from = printable(jget_str(rec, "from"));
			char *subject = printable(jget_str(rec, "subject"));
			fprintf(out, "%-29s  %-24s  %-9s  %10" PRIu64 "  %7u  %s  %s\n",
			        id, ts, verdict, jget_u64(rec, "size"), count_removed(rec),
			        from, subject);
			g_free(ts);
			g_free(verdict);
			g_free(from);
			g_free(subject);
		}
		first = false;
		json_object_put(rec);
	}
	if (json)
		fputs("]\n", out);
	g_ptr_array_unref(ids);
	return finish_out(out, err, code);
}

/* ---- show --------------------------------------------------------------- */

/* Load the record of ID, reporting on ERR.  Returns 0 or the exit code. */
static int load_for_cmd(const char *dir, const char *id, json_object **rec, FILE *err)
{
	*rec = NULL;
	if (!quarantine_id_valid(id)) {
		char *p = printable(id);
		fprintf(err, "mugai: quarantine: not a quarantine ID: %s\n", p);
		g_free(p);
		return 1;
	}
	int rc = read_record(dir, id, rec);
	if (rc == -ENOENT) {
		fprintf(err, "mugai: quarantine: no such entry: %s\n", id);
		return 1;
	}
	if (rc < 0) {
		fprintf(err, "mugai: quarantine: %s: %s\n", id, g_strerror(-rc));
		return 75;
	}
	return 0;
}

int quarantine_cmd_show(const char *dir, const char *id, FILE *out, FILE *err)
{
	json_object *rec;
	int code = load_for_cmd(dir, id, &rec, err);
	if (code)
		return code;

	fprintf(out, "%-14s %s\n", "ID:", id);
	print_field(out, "Time:", jget_str(rec, "ts"));
	print_field(out, "Verdict:", jget_str(rec, "verdict"));
	if (jget_str(rec, "verdict_reason"))
		print_field(out, "Verdict why:", jget_str(rec, "verdict_reason"));
	print_field(out, "Record ID:", jget_str(rec, "id"));
	print_field(out, "Message-ID:", jget_str(rec, "message_id"));
	print_field(out, "From:", jget_str(rec, "from"));
	print_field(out, "Header From:", jget_str(rec, "header_from"));
	print_list_field(out, "Recipients:", jget_array(rec, "rcpt"));
	print_field(out, "Subject:", jget_str(rec, "subject"));
	print_field(out, "Client:", jget_str(rec, "client"));
	fprintf(out, "%-14s %" PRIu64 " bytes\n", "Size:", jget_u64(rec, "size"));
	print_field(out, "SHA-256:", jget_str(rec, "sha256"));
	print_list_field(out, "Reasons:", jget_array(rec, "reasons"));

	json_object *parts = jget_array(rec, "parts");
	size_t n = parts ? json_object_array_length(parts) : 0;
	fprintf(out, "%-14s %zu (%u removed)\n", "Parts:", n, count_removed(rec));
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(parts, i);
		char *path = printable(jget_str(p, "path"));
		char *action = printable(jget_str(p, "action"));
		fprintf(out, "\nPart %s: %s\n", path, action);
		g_free(path);
		g_free(action);
		print_field(out, "  Type:", jget_str(p, "content_type"));
		print_field(out, "  Detected:", jget_str(p, "detected_type"));
		print_field(out, "  Filename:", jget_str(p, "filename"));
		if (jget_str(p, "name_param"))
			print_field(out, "  Name param:", jget_str(p, "name_param"));
		fprintf(out, "%-14s %" PRIu64 " bytes\n", "  Size:", jget_u64(p, "size"));
		print_field(out, "  SHA-256:", jget_str(p, "sha256"));
		print_list_field(out, "  Reasons:", jget_array(p, "reasons"));
	}
	json_object_put(rec);
	return finish_out(out, err, 0);
}

/* ---- export ------------------------------------------------------------- */

/* "1", "2.1": digits separated by single dots. */
static bool part_path_valid(const char *s)
{
	if (!s || !*s)
		return false;
	bool digit = false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digit = true;
		else if (*s == '.' && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

int quarantine_cmd_export(const char *dir, const char *id, const char *part,
                          int out_fd, FILE *err)
{
	if (!quarantine_id_valid(id)) {
		char *p = printable(id);
		fprintf(err, "mugai: quarantine: not a quarantine ID: %s\n", p);
		g_free(p);
		return 1;
	}
	char *name = g_strconcat(id, ".eml", NULL);
	char *path = g_build_filename(dir, name, NULL);
	g_free(name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	g_free(path);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT) {
			fprintf(err, "mugai: quarantine: no such entry: %s\n", id);
			return 1;
		}
		fprintf(err, "mugai: quarantine: %s: %s\n", id, g_strerror(e));
		return 75;
	}

	int code = 0;
	if (part) {
		int rc = part_path_valid(part) ? pipeline_export_part(fd, part, out_fd) : 1;
		if (rc == 1) {
			char *p = printable(part);
			fprintf(err, "mugai: quarantine: %s: no such part: %s\n", id, p);
			g_free(p);
			code = 1;
		} else if (rc < 0) {
			fprintf(err, "mugai: quarantine: %s: part export: %s\n", id, g_strerror(-rc));
			code = 75;
		}
	} else {
		/* Byte for byte: out_fd may be a pipe or a terminal, so a plain
		 * loop rather than copy_file_range. */
		char *buf = g_malloc(COPY_BUF);
		for (;;) {
			ssize_t n = read(fd, buf, COPY_BUF);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fprintf(err, "mugai: quarantine: %s: %s\n", id, g_strerror(errno));
				code = 75;
				break;
			}
			if (n == 0)
				break;
			int rc = fd_write_all(out_fd, buf, (size_t)n);
			if (rc < 0) {
				fprintf(err, "mugai: quarantine: %s: writing output: %s\n",
				        id, g_strerror(-rc));
				code = 75;
				break;
			}
		}
		g_free(buf);
	}
	close(fd);
	return code;
}
