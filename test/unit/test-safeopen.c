/* test-safeopen.c - the trusted walk, link-free opens and owner identity:
 * what an account that owns a directory can plant there (links, FIFOs, a
 * second name, another directory) never gets through. */
#include "tap.h"
#include "util/safeopen.h"
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *at(const char *dir, const char *name)
{
	return g_build_filename(dir, name, NULL);
}

static void must(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "setup: %s: %s\n", what, g_strerror(errno));
		exit(99);
	}
}

static void test_split(void)
{
	static const struct {
		const char *path, *dir, *base;
	} cases[] = {
		{ "/var/log/mugai-admin.log", "/var/log", "mugai-admin.log" },
		{ "/a", "/", "a" },
		{ "relative/x", NULL, NULL },
		{ "/var/log/", NULL, NULL },
		{ "/var/log/..", NULL, NULL },
		{ "/var/log/.", NULL, NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *base, *dir = safe_split(cases[i].path, &base);
		TAP_STREQ(dir, cases[i].dir, "split %s: directory", cases[i].path);
		TAP_STREQ(base, cases[i].base, "split %s: name", cases[i].path);
		g_free(dir);
		g_free(base);
	}
}

static void test_openat(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	char *f = at(dir, "file"), *l = at(dir, "link"), *h = at(dir, "hard"), *p = at(dir, "fifo"),
	     *d = at(dir, "sub");
	must(g_file_set_contents(f, "data", 4, NULL) ? 0 : -1, "file");
	must(symlink(f, l), "symlink");
	must(mkfifo(p, 0600), "mkfifo");
	must(mkdir(d, 0700), "mkdir");

	int fd = safe_openat(dfd, "file", O_RDONLY, 0);
	TAP_OK(fd >= 0, "openat: a regular file with one link opens");
	if (fd >= 0)
		close(fd);
	TAP_OK(safe_openat(dfd, "link", O_RDONLY, 0) == -ELOOP, "openat: a symbolic link is not followed (ELOOP)");
	TAP_OK(safe_openat(dfd, "link", O_WRONLY | O_APPEND | O_CREAT, 0600) == -ELOOP,
	       "openat: not even to create or append");
	TAP_OK(safe_openat(dfd, "fifo", O_RDONLY, 0) == -EINVAL, "openat: a FIFO is refused, without waiting for a writer");
	TAP_OK(safe_openat(dfd, "fifo", O_WRONLY | O_APPEND, 0) < 0, "openat: a FIFO is refused for writing too");
	TAP_OK(safe_openat(dfd, "sub", O_RDONLY, 0) == -EINVAL, "openat: a directory is refused");
	TAP_OK(safe_openat(dfd, "../x", O_RDONLY, 0) == -EINVAL && safe_openat(dfd, "..", O_RDONLY, 0) == -EINVAL,
	       "openat: a name with a slash, or '..', is refused");
	must(link(f, h), "link");
	char data[8] = "";
	TAP_OK(safe_openat(dfd, "file", O_WRONLY | O_TRUNC, 0) == -EINVAL, "openat: a file with a second name is refused");
	int rfd = open(f, O_RDONLY);
	TAP_OK(rfd >= 0 && pread(rfd, data, 4, 0) == 4 && memcmp(data, "data", 4) == 0,
	       "openat: O_TRUNC did not act before the refusal");
	if (rfd >= 0)
		close(rfd);
	unlink(h);
	fd = safe_openat(dfd, "file", O_WRONLY | O_TRUNC, 0);
	struct stat st;
	TAP_OK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "openat: O_TRUNC truncates a file that passed");
	if (fd >= 0)
		close(fd);
	close(dfd);
	unlink(f);
	unlink(l);
	unlink(p);
	rmdir(d);
	g_free(f);
	g_free(l);
	g_free(h);
	g_free(p);
	g_free(d);
}

static void test_walk(const char *dir)
{
	char why[256];
	char *sub = at(dir, "sub"), *link = at(dir, "via-link"), *deep = at(sub, "deep"), *file = at(deep, "f");
	must(mkdir(sub, 0755), "mkdir sub");
	must(mkdir(deep, 0755), "mkdir deep");
	must(symlink(sub, link), "symlink");
	must(g_file_set_contents(file, "x", 1, NULL) ? 0 : -1, "file");

	int fd = safe_open_dir(deep, true, why, sizeof why);
	TAP_OK(fd >= 0, "walk: trusted directories open (%s)", why);
	if (fd >= 0)
		close(fd);
	char *through = g_strconcat(link, "/deep", NULL);
	TAP_OK(safe_open_dir(through, true, why, sizeof why) == -ELOOP, "walk: a link on the way is refused");
	char *want = g_strdup_printf("%s is a symbolic link", link);
	TAP_STREQ(why, want, "walk: the link is named");
	g_free(want);
	TAP_OK(safe_open_dir("relative", true, NULL, 0) == -EINVAL, "walk: a relative path is refused");
	char *dots = g_strconcat(sub, "/../sub", NULL);
	TAP_OK(safe_open_dir(dots, true, NULL, 0) == -EINVAL, "walk: '..' is refused");
	fd = safe_open_file(file, O_RDONLY, 0, why, sizeof why);
	TAP_OK(fd >= 0, "walk: a file in trusted directories opens");
	if (fd >= 0)
		close(fd);
	fd = safe_open_dir("/", true, why, sizeof why);
	TAP_OK(fd >= 0, "walk: / itself");
	if (fd >= 0)
		close(fd);

	/* others may write a directory on the way: refused, named */
	must(chmod(sub, 0777), "chmod");
	TAP_OK(safe_open_dir(deep, true, why, sizeof why) == -EPERM, "walk: a directory others may write is refused");
	want = g_strdup_printf("%s may be changed by group or others (mode 0777)", sub);
	TAP_STREQ(why, want, "walk: that directory and its mode are named");
	g_free(want);
	TAP_OK(safe_open_file(file, O_RDONLY, 0, why, sizeof why) == -EPERM, "walk: so is a file below it");
	/* sticky like /tmp: others may add names, not replace ours */
	must(chmod(sub, 01777), "chmod sticky");
	fd = safe_open_dir(deep, true, why, sizeof why);
	TAP_OK(fd >= 0, "walk: a sticky directory with a trusted directory in it passes");
	if (fd >= 0)
		close(fd);
	must(chmod(sub, 0755), "chmod back");

	if (geteuid() == 0) {
		must(chown(deep, 65534, 65534), "chown");
		TAP_OK(safe_open_dir(deep, true, why, sizeof why) == -EPERM, "walk: another user's directory is not trusted");
		want = g_strdup_printf("%s belongs to uid 65534, not to root", deep);
		TAP_STREQ(why, want, "walk: its owner is named");
		g_free(want);
		must(chmod(file, 0600), "chmod file");
		fd = safe_open_dir(deep, false, why, sizeof why);
		TAP_OK(fd >= 0, "walk: as the last directory, another user's is opened (not followed)");
		/* root acting there as its owner */
		fs_identity id;
		int rc = fd >= 0 ? fs_identity_enter(fd, &id) : -1;
		TAP_OK(rc == 0 && id.switched && setfsuid((uid_t)-1) == 65534, "identity: root takes the owner's");
		int nf = rc == 0 ? openat(fd, "new", O_WRONLY | O_CREAT | O_EXCL, 0600) : -1;
		struct stat st;
		TAP_OK(nf >= 0 && fstat(nf, &st) == 0 && st.st_uid == 65534 && st.st_gid == 65534,
		       "identity: a file created there is the owner's, with no chown");
		if (nf >= 0)
			close(nf);
		int rf = rc == 0 ? openat(fd, "f", O_RDONLY) : 0;
		TAP_OK(rf < 0 && errno == EACCES, "identity: root's own file there is out of reach while acting as the owner");
		if (rf >= 0)
			close(rf);
		if (rc == 0)
			fs_identity_leave(&id);
		TAP_OK(setfsuid((uid_t)-1) == 0, "identity: root again after leaving");
		rf = fd >= 0 ? openat(fd, "f", O_RDONLY) : -1;
		TAP_OK(rf >= 0, "identity: root's rights are back");
		if (rf >= 0)
			close(rf);
		if (fd >= 0)
			close(fd);
		char *nn = at(deep, "new");
		unlink(nn);
		g_free(nn);

		/* a process that becomes another user cannot come back */
		pid_t pid = fork();
		if (pid == 0)
			_exit(drop_privileges_to(65534, 65534, NULL) == 0 && getuid() == 65534 && geteuid() == 65534 &&
			      getgroups(0, NULL) == 0 && setuid(0) < 0 ? 0 : 1);
		int status = 0;
		waitpid(pid, &status, 0);
		TAP_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "drop: all IDs, no groups, no way back");
	} else {
		for (int i = 0; i < 11; i++)
			TAP_OK(1, "# SKIP identities need root");
	}
	unlink(file);
	unlink(link);
	rmdir(deep);
	rmdir(sub);
	g_free(sub);
	g_free(link);
	g_free(deep);
	g_free(file);
	g_free(through);
	g_free(dots);
}

int main(void)
{
	char tmpl[] = "/tmp/test-safeopen-XXXXXX";
	const char *dir = g_mkdtemp(tmpl);
	if (!dir)
		return 99;
	test_split();
	test_openat(dir);
	test_walk(dir);
	rmdir(dir);
	return tap_done();
}
