/* quarantine.c - the quarantine store: IDs, storing an entry, reading a record.
 *
 * Owns the on-disk layout of DIR: for entry ID, DIR/ID.eml holds the
 * original bytes exactly as received and DIR/ID.json the audit record
 * (audit.c, plus the text the recipient got) and a newline.  Both are
 * written under hidden temp names (".ID.eml.tmp", ".ID.json.tmp"),
 * fsync'ed, renamed without replacing and the directory fsync'ed.  The .eml
 * goes first, so a .json always has its .eml: the .json is what makes an
 * entry exist.  The administrator commands (qcmd.c) add DIR/ID.state.json
 * (qstate.c) and the list index DIR/.index.sqlite (qindex.c).
 *
 * Quarantine IDs are always minted here (quarantine_new_id); the record ID
 * of the milter (Postfix queue ID) never names a file.  So
 * quarantine_id_valid() checks the exact shape, which also rules out '/',
 * "..", leading dots and anything else a path could be built from.
 */
#include "util/fdio.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

char *quarantine_id_prefix(GDateTime *utc)
{
	char *s = g_date_time_format(utc, "%Y%m%d-%H%M%S");
	char *p = g_strdup_printf("%s%03d", s, g_date_time_get_microsecond(utc) / 1000);
	g_free(s);
	return p;
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
	if (!fd_is_unnamed_file(src, len))
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

	store_dir sd;
	int rc = store_dir_open(dir, true, &sd, NULL, 0);
	if (rc < 0)
		return rc;
	int dfd = sd.fd;

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
	store_dir_close(&sd);
	g_free(jbuf);
	g_free(eml);
	g_free(json);
	g_free(eml_tmp);
	g_free(json_tmp);
	return rc;
}

/* ---- reading records ---------------------------------------------------- */

/* FD (a regular file) parsed as one JSON object of at most MAX bytes. */
static int json_read_fd(int fd, size_t max, json_object **out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	char *buf = g_malloc((size_t)st.st_size + 1);
	ssize_t n = fd_pread_full(fd, buf, (size_t)st.st_size, 0);
	int rc = n < 0 ? (int)n : 0;
	if (rc == 0) {
		size_t got = (size_t)n;
		buf[got] = '\0';
		json_tokener *tok = json_tokener_new();
		json_object *o = json_tokener_parse_ex(tok, buf, (int)got);
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		size_t used = json_tokener_get_parse_end(tok);
		json_tokener_free(tok);
		while (used < got && g_ascii_isspace(buf[used]))
			used++;
		if (!o || jerr != json_tokener_success || used != got || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			rc = -EBADMSG;
		} else {
			*out = o;
		}
	}
	g_free(buf);
	return rc;
}

int quarantine_read_json(const char *dir, const char *id, const char *suffix, size_t max,
                          json_object **out)
{
	*out = NULL;
	if (!quarantine_id_valid(id))
		return -EINVAL;
	store_dir sd;
	int rc = store_dir_open(dir, false, &sd, NULL, 0);
	if (rc < 0)
		return rc;
	rc = quarantine_read_json_at(sd.fd, id, suffix, max, out);
	store_dir_close(&sd);
	return rc;
}

/* The file ID+SUFFIX of one entry in the store open on DFD, for reading. */
static int entry_openat(int dfd, const char *id, const char *suffix)
{
	char *name = g_strconcat(id, suffix, NULL);
	int fd = safe_openat(dfd, name, O_RDONLY, 0);
	g_free(name);
	return fd;
}

int quarantine_read_json_at(int dfd, const char *id, const char *suffix, size_t max, json_object **out)
{
	*out = NULL;
	if (!quarantine_id_valid(id))
		return -EINVAL;
	int fd = entry_openat(dfd, id, suffix);
	if (fd < 0)
		return fd == -EINVAL ? -EBADMSG : fd;   /* a FIFO, a second name: not a record */
	int rc = json_read_fd(fd, max, out);
	close(fd);
	return rc;
}

int quarantine_read_record(const char *dir, const char *id, json_object **out)
{
	return quarantine_read_json(dir, id, ".json", RECORD_MAX, out);
}

int quarantine_read_record_at(int dfd, const char *id, json_object **out)
{
	return quarantine_read_json_at(dfd, id, ".json", RECORD_MAX, out);
}

int quarantine_open_original(const char *dir, const char *id)
{
	if (!quarantine_id_valid(id))
		return -EINVAL;
	store_dir sd;
	int rc = store_dir_open(dir, false, &sd, NULL, 0);
	if (rc < 0)
		return rc;
	int fd = entry_openat(sd.fd, id, ".eml");
	store_dir_close(&sd);
	return fd;
}

/* ---- removing ------------------------------------------------------------ */

/* The files of one entry, in the order they are removed: the record first,
 * so that the entry stops existing before its original goes. */
static const char *const entry_suffixes[] = { ".json", ".state.json", ".eml" };

int quarantine_remove(const char *dir, const char *id)
{
	if (!quarantine_id_valid(id))
		return -EINVAL;
	store_dir sd;
	int rc = store_dir_open(dir, false, &sd, NULL, 0);
	if (rc < 0)
		return rc;
	int dfd = sd.fd;
	for (size_t i = 0; i < G_N_ELEMENTS(entry_suffixes); i++) {
		char *name = g_strconcat(id, entry_suffixes[i], NULL);
		if (unlinkat(dfd, name, 0) < 0 && (errno != ENOENT || i == 0) && rc == 0)
			rc = -errno;
		g_free(name);
		if (rc == -ENOENT)
			break;   /* no record: not an entry, leave whatever else is there */
	}
	if (rc != -ENOENT && fsync(dfd) < 0 && rc == 0)
		rc = -errno;
	store_dir_close(&sd);
	return rc;
}

/* The ID a file of the quarantine belongs to ("ID.eml", "ID.json",
 * "ID.state.json", or a temp name ".ID.*.tmp"), copied into ID; false for
 * anything else (the index, foreign files). */
static bool entry_file_id(const char *name, char id[QID_LEN + 1])
{
	const char *p = name[0] == '.' ? name + 1 : name;
	if (strlen(p) <= QID_LEN)
		return false;
	memcpy(id, p, QID_LEN);
	id[QID_LEN] = '\0';
	if (!quarantine_id_valid(id))
		return false;
	const char *rest = p + QID_LEN;
	if (name[0] == '.')
		return g_str_has_suffix(rest, ".tmp");
	for (size_t i = 0; i < G_N_ELEMENTS(entry_suffixes); i++)
		if (strcmp(rest, entry_suffixes[i]) == 0)
			return true;
	return false;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int quarantine_purge(const char *dir, const char *before, GPtrArray *removed)
{
	store_dir sd;
	int rc = store_dir_open(dir, false, &sd, NULL, 0);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	int lfd = fcntl(sd.fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = lfd < 0 ? NULL : fdopendir(lfd);
	if (!d) {
		rc = -errno;
		if (lfd >= 0)
			close(lfd);
		store_dir_close(&sd);
		return rc;
	}
	/* Names first, removals after: unlinking while readdir walks the
	 * directory may make it skip or repeat names. */
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		char id[QID_LEN + 1];
		/* The ID's time prefix decides, not the file's mtime: copying
		 * or restoring the store does not make old mail young. */
		if (entry_file_id(de->d_name, id) && strncmp(id, before, strlen(before)) < 0)
			g_ptr_array_add(names, g_strdup(de->d_name));
		errno = 0;
	}
	if (errno)
		rc = -errno;
	int dfd = dirfd(d);
	g_ptr_array_sort(names, cmp_str);
	/* Records in a first pass, the rest after, so that no entry is ever
	 * listed without its original. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (guint i = 0; i < names->len; i++) {
			const char *n = g_ptr_array_index(names, i);
			bool is_record = n[0] != '.' && strcmp(n + QID_LEN, ".json") == 0;
			if (is_record != (pass == 0))
				continue;
			if (unlinkat(dfd, n, 0) < 0 && errno != ENOENT) {
				rc = -errno;
				break;
			}
			if (is_record && removed)
				g_ptr_array_add(removed, g_strndup(n, QID_LEN));
		}
	}
	if (names->len && fsync(dfd) < 0 && rc == 0)
		rc = -errno;
	g_ptr_array_unref(names);
	closedir(d);
	store_dir_close(&sd);
	return rc;
}
