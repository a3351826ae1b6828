/* qstate.c - the review state of quarantine entries: approvals, releases.
 *
 * Owns REVIEW/ID.json (format in qstate.h) and the rule of which approvals
 * count.  REVIEW is root's: it is opened through the trusted walk, so the
 * account that owns the quarantine cannot swap it or plant files the next
 * release would believe.  The file is small and rewritten whole under the
 * lock: a leftover temp name is removed first, the new one created with
 * O_EXCL (never a file someone put there), fsync'ed, renamed over the old
 * one, the directory fsync'ed, so a crash leaves the old state or the new.
 */
#include "store/qstate.h"
#include "store/store.h"
#include "util/fdio.h"
#include "util/safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAX (16 * 1024 * 1024)

char *qstate_dir(const char *qdir, const char *review_dir)
{
	if (review_dir && *review_dir)
		return g_strdup(review_dir);
	char *trimmed = g_strdup(qdir);
	size_t n = strlen(trimmed);
	while (n > 1 && trimmed[n - 1] == '/')
		trimmed[--n] = '\0';
	char *parent = g_path_get_dirname(trimmed);
	char *r = g_build_filename(parent, "review", NULL);
	g_free(parent);
	g_free(trimmed);
	return r;
}

/* REVIEW as a trusted directory, made when missing (0700). */
static int open_review(const char *rdir, bool create, char *why, size_t whylen)
{
	int fd = safe_open_dir(rdir, true, why, whylen);
	if (fd != -ENOENT || !create)
		return fd;
	char *base, *parent = safe_split(rdir, &base);
	if (!parent)
		return -EINVAL;
	int pfd = safe_open_dir(parent, true, why, whylen);
	if (pfd >= 0) {
		if (mkdirat(pfd, base, 0700) == 0)
			fsync(pfd);
		close(pfd);
		fd = safe_open_dir(rdir, true, why, whylen);
	} else {
		fd = pfd;
	}
	g_free(parent);
	g_free(base);
	return fd;
}

int qstate_lock(const char *rdir, char *why, size_t whylen)
{
	int fd = open_review(rdir, true, why, whylen);
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

int qstate_load(const char *rdir, const char *id, json_object **out)
{
	*out = NULL;
	if (!quarantine_id_valid(id))
		return -EINVAL;
	int dfd = open_review(rdir, false, NULL, 0);
	int rc = dfd < 0 ? dfd : quarantine_read_json_at(dfd, id, ".json", STATE_MAX, out);
	if (dfd >= 0)
		close(dfd);
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

int qstate_save(const char *rdir, const char *id, json_object *state)
{
	if (!quarantine_id_valid(id))
		return -EINVAL;
	int dfd = open_review(rdir, true, NULL, 0);
	if (dfd < 0)
		return dfd;
	char *tmp = g_strconcat(".", id, ".json.tmp", NULL);
	char *final = g_strconcat(id, ".json", NULL);
	char *text = audit_json_string(state);
	char *line = g_strconcat(text, "\n", NULL);
	int rc = 0;
	/* a leftover of a crash goes first: the file written is always new */
	if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	int fd = openat(dfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
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

int qstate_remove(const char *rdir, const char *id)
{
	if (!quarantine_id_valid(id))
		return -EINVAL;
	int dfd = open_review(rdir, false, NULL, 0);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	char *name = g_strconcat(id, ".json", NULL);
	int rc = unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (rc == 0 && fsync(dfd) < 0)
		rc = -errno;
	g_free(name);
	close(dfd);
	return rc;
}

void qstate_add(json_object *state, const char *key, json_object *item)
{
	json_object_array_add(qstate_list(state, key), item);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *qstate_approval_user(json_object *approval)
{
	return jstr(approval, "user");
}

/* Does the array ARR hold the string S? */
static bool has_string(json_object *arr, const char *s)
{
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), s) == 0)
			return true;
	}
	return false;
}

bool qstate_approval_live(json_object *a, const char *now, GPtrArray *to)
{
	json_object *used, *rcpt;
	if (!jstr(a, "user"))
		return false;
	if (json_object_object_get_ex(a, "used", &used) && !json_object_is_type(used, json_type_null))
		return false;
	/* RFC 3339 in UTC with milliseconds, one format: the strings sort as times */
	const char *exp = jstr(a, "expires");
	if (!exp || strcmp(exp, now) <= 0)
		return false;
	if (!to)
		return true;
	if (!json_object_object_get_ex(a, "to", &rcpt))
		return false;
	for (guint i = 0; i < to->len; i++)
		if (!has_string(rcpt, g_ptr_array_index(to, i)))
			return false;
	return true;
}

GPtrArray *qstate_live_approvals(json_object *state, const char *except, const char *now, GPtrArray *to)
{
	GPtrArray *live = g_ptr_array_new();
	json_object *l = qstate_list(state, "approvals");
	size_t n = json_object_array_length(l);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(l, i);
		const char *u = jstr(a, "user");
		if (!u || (except && strcmp(u, except) == 0) || !qstate_approval_live(a, now, to))
			continue;
		bool seen = false;
		for (guint k = 0; k < live->len && !seen; k++)
			seen = strcmp(jstr(g_ptr_array_index(live, k), "user"), u) == 0;
		if (!seen)
			g_ptr_array_add(live, a);
	}
	return live;
}
