/* qstate.c - the state of a quarantine entry: approvals and releases.
 *
 * Owns DIR/ID.state.json (format in qstate.h).  The file is small and
 * rewritten whole: read under the entry's lock (flock on DIR/ID.eml; no
 * extra lock file), changed, written to the hidden temp name
 * ".ID.state.json.tmp" (safe to reuse: only the lock holder writes it),
 * fsync'ed, renamed over the old one, and the directory fsync'ed, so a crash
 * leaves the old state or the new one.  When root writes it in a directory
 * owned by another user (the mugai account), the file is given to that
 * owner, like the entry's other files.
 */
#include "store/qstate.h"
#include "store/store.h"
#include "util/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAX (16 * 1024 * 1024)

int qstate_lock(const char *dir, const char *id)
{
	int fd = quarantine_open_original(dir, id);
	if (fd < 0)
		return fd;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	return fd;
}

static json_object *empty_state(void)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "approvals", json_object_new_array());
	json_object_object_add(o, "releases", json_object_new_array());
	return o;
}

json_object *qstate_list(json_object *state, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(state, key, &v) || !json_object_is_type(v, json_type_array)) {
		v = json_object_new_array();
		json_object_object_add(state, key, v);
	}
	return v;
}

int qstate_load(const char *dir, const char *id, json_object **out)
{
	int rc = quarantine_read_json(dir, id, ".state.json", STATE_MAX, out);
	if (rc == -ENOENT) {
		*out = empty_state();
		return 0;
	}
	if (rc == -EFBIG)
		rc = -EBADMSG;
	if (rc < 0)
		return rc;
	qstate_list(*out, "approvals");
	qstate_list(*out, "releases");
	return 0;
}

int qstate_save(const char *dir, const char *id, json_object *state)
{
	if (!quarantine_id_valid(id))
		return -EINVAL;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	char *tmp = g_strconcat(".", id, ".state.json.tmp", NULL);
	char *final = g_strconcat(id, ".state.json", NULL);
	char *text = audit_json_string(state);
	char *line = g_strconcat(text, "\n", NULL);
	int rc = 0;
	int fd = openat(dfd, tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	struct stat ds;
	if (geteuid() == 0 && fstat(dfd, &ds) == 0 && ds.st_uid != 0 &&
	    fchown(fd, ds.st_uid, ds.st_gid) < 0) {
		/* root can still read it; the mugai account cannot, which only
		 * matters to commands run as mugai */
	}
	rc = fd_write_all(fd, line, strlen(line));
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0 && errno != EINTR)
		rc = -errno;
	if (rc == 0 && renameat(dfd, tmp, dfd, final) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(dfd, tmp, 0);
	else if (fsync(dfd) < 0)
		rc = -errno;
out:
	close(dfd);
	g_free(line);
	g_free(text);
	g_free(tmp);
	g_free(final);
	return rc;
}

void qstate_add(json_object *state, const char *key, json_object *item)
{
	json_object_array_add(qstate_list(state, key), item);
}

GPtrArray *qstate_approvers(json_object *state, const char *except)
{
	GPtrArray *who = g_ptr_array_new();
	json_object *l = qstate_list(state, "approvals");
	size_t n = json_object_array_length(l);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(l, i), *v;
		if (!json_object_object_get_ex(a, "user", &v) || !json_object_is_type(v, json_type_string))
			continue;
		const char *u = json_object_get_string(v);
		if (except && strcmp(u, except) == 0)
			continue;
		bool seen = false;
		for (guint k = 0; k < who->len && !seen; k++)
			seen = strcmp(g_ptr_array_index(who, k), u) == 0;
		if (!seen)
			g_ptr_array_add(who, (gpointer)u);
	}
	return who;
}
