/* storedir.c - opening the store's directories and its logs.
 *
 * Owns the one way store/ reaches a directory or log it works in: the
 * directories above it checked to be trusted, the last component never
 * followed, and root's file-system identity switched to the directory's
 * owner while it works there (util/safeopen.h).  The quarantine and the
 * message audit log belong to the milter's account; whatever that account
 * (or a process running as it) plants there, root's commands meet it with
 * that account's rights only.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir DIR (its last component) in a trusted parent, and open it. */
static int make_dir(const char *dir, char *why, size_t whylen)
{
	char *base, *parent = safe_split(dir, &base);
	if (!parent)
		return -EINVAL;
	int pfd = safe_open_dir(parent, true, why, whylen), fd = pfd;
	if (pfd >= 0) {
		int made = mkdirat(pfd, base, 0700);
		if (made == 0)
			fsync(pfd);   /* a new directory is durable once its parent is synced */
		if (made < 0 && errno != EEXIST)
			fd = -errno;
		else if ((fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			fd = -errno;
		close(pfd);
	}
	g_free(parent);
	g_free(base);
	return fd;
}

int store_dir_open(const char *dir, bool create, store_dir *d, char *why, size_t whylen)
{
	d->fd = -1;
	d->as.switched = false;
	int fd = safe_open_dir(dir, false, why, whylen);
	if (fd == -ENOENT && create)
		fd = make_dir(dir, why, whylen);
	if (fd < 0)
		return fd;
	int rc = fs_identity_enter(fd, &d->as);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	d->fd = fd;
	return 0;
}

void store_dir_close(store_dir *d)
{
	fs_identity_leave(&d->as);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

int store_open_log(const char *path, mode_t mode, char *why, size_t whylen)
{
	char *base, *dir = safe_split(path, &base);
	if (!dir)
		return -EINVAL;
	store_dir d;
	int fd = store_dir_open(dir, false, &d, why, whylen);
	if (fd == 0) {
		fd = safe_openat(d.fd, base, O_WRONLY | O_APPEND | O_CREAT, mode);
		store_dir_close(&d);
	}
	g_free(dir);
	g_free(base);
	return fd;
}
