/* outfile.c - export -o: an unnamed file named only once it is whole,
 * made by the caller's own process when run through sudo (outfile.h).
 *
 * The child speaks over a socketpair: it answers once it has the unnamed
 * file (0 or an errno), reads the bytes from a pipe until its end, then
 * waits for one byte, 'C' to commit or anything else (or the socket's
 * end) to drop the file, and answers with the result.  The child was made
 * by fork() in a single-threaded process and only does file I/O.
 */
#include "cli/outfile.h"
#include "util/fdio.h"
#include "util/safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The directory of PATH (relative to the working directory) and its last
 * component: the directory fd, or a negative errno. */
static int open_parent(const char *path, char **base)
{
	char *dir = g_path_get_dirname(path);
	*base = g_path_get_basename(path);
	int fd = -EINVAL;
	if (strcmp(*base, "/") != 0 && strcmp(*base, ".") != 0 && strcmp(*base, "..") != 0 &&
	    path[strlen(path) - 1] != '/') {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	g_free(dir);
	if (fd < 0) {
		g_free(*base);
		*base = NULL;
	}
	return fd;
}

/* An unnamed file in DFD, after checking nothing is at BASE yet. */
static int start_file(int dfd, const char *base)
{
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	if (errno != ENOENT)
		return -errno;
	int fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

/* Sync FD and name it BASE in DFD; linkat never replaces. */
static int name_file(int fd, int dfd, const char *base)
{
	if (fsync(fd) < 0)
		return -errno;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dfd, base, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return fsync(dfd) < 0 && errno != EINVAL ? -errno : 0;
}

static void answer(int ctl, int rc)
{
	int32_t v = rc;
	if (write(ctl, &v, sizeof v) < 0)
		_exit(3);
}

static int ask(int ctl)
{
	int32_t v;
	ssize_t n;
	do
		n = read(ctl, &v, sizeof v);
	while (n < 0 && errno == EINTR);
	return n == sizeof v ? v : -EIO;
}

/* The child: everything as the caller. */
static G_GNUC_NORETURN void writer(int ctl, int in, const char *path, long uid, long gid, const char *name)
{
	char *base = NULL;
	int rc = drop_privileges_to((uid_t)uid, (gid_t)gid, name);
	int dfd = rc < 0 ? rc : open_parent(path, &base);
	int fd = dfd < 0 ? dfd : start_file(dfd, base);
	answer(ctl, fd < 0 ? fd : 0);
	if (fd < 0)
		_exit(1);
	char buf[65536];
	int werr = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				werr = -errno;
			break;
		}
		if (!werr)
			werr = fd_write_all(fd, buf, (size_t)n);   /* keep reading: the parent must not block */
	}
	char cmd = 0;
	while (read(ctl, &cmd, 1) < 0 && errno == EINTR)
		;
	answer(ctl, cmd != 'C' ? 0 : werr ? werr : name_file(fd, dfd, base));
	_exit(0);
}

int outfile_open(outfile *o, const char *path, long as_uid, long as_gid, const char *name)
{
	memset(o, 0, sizeof *o);
	o->fd = o->ctl = o->dfd = -1;
	o->pid = -1;
	if (as_uid < 0) {
		o->dfd = open_parent(path, &o->base);
		if (o->dfd < 0)
			return o->dfd;
		o->fd = start_file(o->dfd, o->base);
		if (o->fd < 0) {
			int rc = o->fd;
			outfile_close(o, false);
			return rc;
		}
		return 0;
	}
	if (geteuid() != 0)
		return -EPERM;
	int sv[2], pp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (pipe2(pp, O_CLOEXEC) < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		close(pp[1]);
		writer(sv[1], pp[0], path, as_uid, as_gid, name);
	}
	int e = errno;
	close(sv[1]);
	close(pp[0]);
	if (pid < 0) {
		close(sv[0]);
		close(pp[1]);
		return -e;
	}
	o->pid = pid;
	o->ctl = sv[0];
	o->fd = pp[1];
	int rc = ask(o->ctl);
	if (rc < 0) {
		outfile_close(o, false);
		return rc;
	}
	return 0;
}

int outfile_close(outfile *o, bool commit)
{
	int rc = 0;
	if (o->pid > 0) {
		if (o->fd >= 0)
			close(o->fd);   /* the end of the bytes */
		char cmd = commit ? 'C' : 'A';
		/* the child may be gone already (it refused at the start) */
		if (send(o->ctl, &cmd, 1, MSG_NOSIGNAL) != 1)
			rc = -EIO;
		int r = rc == 0 ? ask(o->ctl) : rc;
		if (rc == 0)
			rc = r;
		close(o->ctl);
		int status;
		while (waitpid(o->pid, &status, 0) < 0 && errno == EINTR)
			;
	} else if (o->fd >= 0) {
		if (commit)
			rc = name_file(o->fd, o->dfd, o->base);
		close(o->fd);
	}
	if (o->dfd >= 0)
		close(o->dfd);
	g_free(o->base);
	memset(o, 0, sizeof *o);
	o->fd = o->ctl = o->dfd = -1;
	o->pid = -1;
	return rc;
}
