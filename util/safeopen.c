/* safeopen.c - trusted directories, link-free opens, acting as an owner.
 *
 * Owns the rules by which mugai opens a path another account could
 * change: a walk from "/" that never follows a link and checks who may
 * change each directory, opens relative to a directory descriptor that
 * accept only a regular file with one name, and the switch of root's
 * file-system identity to a directory's owner (setfsuid).  Nothing here
 * logs; callers turn the errno (and WHY) into their message.
 */
#include "util/safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

G_GNUC_PRINTF(3, 4)
static void say(char *why, size_t len, const char *fmt, ...)
{
	if (!why || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* Root's, or ours, and only its owner may change what it holds (a sticky
 * directory lets others add names but not replace ours). */
static int check_trusted(int fd, const char *shown, char *why, size_t whylen)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		say(why, whylen, "%s belongs to uid %u, not to root", shown, (unsigned)st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		say(why, whylen, "%s may be changed by group or others (mode %04o)", shown,
		    (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int safe_open_dir(const char *path, bool last_trusted, char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (!path || path[0] != '/')
		return -EINVAL;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = check_trusted(fd, "/", why, whylen);
	char **parts = g_strsplit(path, "/", -1);
	GString *shown = g_string_new(NULL);
	int n = 0;
	for (char **p = parts; *p; p++)
		if (**p && strcmp(*p, ".") != 0)
			n++;
	for (char **p = parts; *p && rc == 0; p++) {
		if (!**p || strcmp(*p, ".") == 0)
			continue;
		if (strcmp(*p, "..") == 0) {
			say(why, whylen, "%s: \"..\" in the path", path);
			rc = -EINVAL;
			break;
		}
		bool last = --n == 0;
		g_string_append_printf(shown, "/%s", *p);
		/* the last one is the descriptor we hand out: a real one, not O_PATH */
		int nfd = openat(fd, *p, (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			rc = -errno;
			struct stat lst;
			if (rc == -ENOTDIR && fstatat(fd, *p, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
				rc = -ELOOP;
			if (rc == -ELOOP)
				say(why, whylen, "%s is a symbolic link", shown->str);
			break;
		}
		close(fd);
		fd = nfd;
		if (!last || last_trusted)
			rc = check_trusted(fd, shown->str, why, whylen);
	}
	g_strfreev(parts);
	g_string_free(shown, TRUE);
	if (rc == 0 && n != 0)
		rc = -EINVAL;   /* not reached: every component was walked */
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (strcmp(path, "/") == 0 || strspn(path, "/.") == strlen(path)) {
		/* "/" itself: reopen readable */
		int rfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		return rfd < 0 ? -errno : rfd;
	}
	return fd;
}

int safe_openat(int dfd, const char *name, int flags, mode_t mode)
{
	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	/* O_TRUNC would act before the checks below: truncate after them */
	bool trunc = flags & O_TRUNC;
	int fd;
	do
		fd = openat(dfd, name, (flags & ~O_TRUNC) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return -EINVAL;
	}
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (trunc && ftruncate(fd, 0) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

char *safe_split(const char *path, char **base)
{
	*base = NULL;
	if (!path || path[0] != '/')
		return NULL;
	size_t n = strlen(path);
	if (path[n - 1] == '/')
		return NULL;
	const char *slash = strrchr(path, '/');
	const char *b = slash + 1;
	if (strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
		return NULL;
	*base = g_strdup(b);
	return slash == path ? g_strdup("/") : g_strndup(path, (gsize)(slash - path));
}

int safe_open_file(const char *path, int flags, mode_t mode, char *why, size_t whylen)
{
	char *base;
	char *dir = safe_split(path, &base);
	if (!dir) {
		say(why, whylen, "%s is not an absolute path to a file", path ? path : "(null)");
		return -EINVAL;
	}
	int dfd = safe_open_dir(dir, true, why, whylen);
	int fd = dfd;
	if (dfd >= 0) {
		fd = safe_openat(dfd, base, flags, mode);
		if (fd == -ELOOP)
			say(why, whylen, "%s is a symbolic link", path);
		else if (fd == -EINVAL)
			say(why, whylen, "%s is not a regular file with one link", path);
		close(dfd);
	}
	g_free(dir);
	g_free(base);
	return fd;
}

/* ---- identities ------------------------------------------------------------ */

int fs_identity_enter(int dfd, fs_identity *id)
{
	id->switched = false;
	if (geteuid() != 0)
		return 0;
	struct stat st;
	if (fstat(dfd, &st) < 0)
		return -errno;
	if (st.st_uid == 0)
		return 0;
	id->prev_uid = (uid_t)setfsuid((uid_t)-1);
	id->prev_gid = (gid_t)setfsgid((gid_t)-1);
	setfsgid(st.st_gid);
	setfsuid(st.st_uid);
	/* setfsuid() reports no error: ask what it is now */
	if ((uid_t)setfsuid((uid_t)-1) != st.st_uid || (gid_t)setfsgid((gid_t)-1) != st.st_gid) {
		setfsuid(id->prev_uid);
		setfsgid(id->prev_gid);
		return -EPERM;
	}
	id->uid = st.st_uid;
	id->gid = st.st_gid;
	id->switched = true;
	return 0;
}

void fs_identity_leave(fs_identity *id)
{
	if (!id->switched)
		return;
	/* root again first: only root may set the group back */
	setfsuid(id->prev_uid);
	setfsgid(id->prev_gid);
	id->switched = false;
}

int drop_privileges_to(uid_t uid, gid_t gid, const char *name)
{
	struct passwd *pw = name ? getpwnam(name) : NULL;
	/* the groups of NAME only when NAME is that account */
	if (pw && pw->pw_uid == uid) {
		if (initgroups(name, gid) < 0)
			return -errno;
	} else if (setgroups(0, NULL) < 0 && errno != EPERM) {
		return -errno;
	} else if (geteuid() == 0 && getgroups(0, NULL) != 0) {
		return -EPERM;
	}
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	uid_t r, e, s;
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid)
		return -EPERM;
	if (uid != 0 && setuid(0) == 0)
		return -EPERM;
	return 0;
}
