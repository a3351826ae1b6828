/* test-spool.c - memory first, then an unlinked file: the bytes read back
 * are the bytes written, whatever the pieces and wherever they were kept. */
#include "tap.h"
#include "milter/spool.h"
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	uint64_t mem_limit;
	uint64_t max_size;  /* 0: none */
	size_t total;       /* bytes written */
	size_t piece;       /* in pieces of this size (0 = random 1..300) */
	bool bad_dir;
	bool want_file;
	int want_error;
} cases[] = {
	{ "small, in memory", 1 << 20, 0, 1000, 100, false, false, 0 },
	{ "exactly the limit stays in memory", 1000, 0, 1000, 10, false, false, 0 },
	{ "one byte over spills", 1000, 0, 1001, 10, false, true, 0 },
	{ "random pieces across the spill", 4096, 0, 20000, 0, false, true, 0 },
	{ "one-byte pieces across the spill", 64, 0, 300, 1, false, true, 0 },
	{ "limit 0: a file from the first byte", 0, 0, 500, 500, false, true, 0 },
	{ "nothing written", 100, 0, 0, 1, false, false, 0 },
	{ "spool directory missing: error sticks", 100, 0, 1000, 50, true, false, -ENOENT },
	{ "missing directory never needed", 1 << 20, 0, 1000, 50, true, false, 0 },
	{ "exactly the size limit is kept", 100, 1000, 1000, 10, false, true, 0 },
	{ "one byte over the size limit: -EFBIG sticks", 100, 1000, 1001, 10, false, true, -EFBIG },
	{ "over the size limit in memory: -EFBIG", 1 << 20, 500, 600, 100, false, false, -EFBIG },
};

static char *read_all(int fd, size_t *len)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	off_t off = 0;
	while ((n = pread(fd, buf, sizeof buf, off)) > 0) {
		g_string_append_len(s, buf, n);
		off += n;
	}
	*len = s->len;
	return g_string_free(s, FALSE);
}

int main(void)
{
	char tmpl[] = "/tmp/test-spool-XXXXXX";
	const char *dir = g_mkdtemp(tmpl);
	TAP_OK(dir != NULL, "temp dir");
	GRand *rnd = g_rand_new_with_seed(42);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint8 *data = g_malloc(cases[i].total + 1);
		for (size_t k = 0; k < cases[i].total; k++)
			data[k] = (guint8)g_rand_int(rnd);
		spool *s = spool_new(cases[i].mem_limit, cases[i].max_size, cases[i].bad_dir ? "/nonexistent/spool" : dir);
		int first_error = 0;
		for (size_t off = 0; off < cases[i].total;) {
			size_t n = cases[i].piece ? cases[i].piece : (size_t)g_rand_int_range(rnd, 1, 301);
			if (n > cases[i].total - off)
				n = cases[i].total - off;
			int r = spool_write(s, data + off, n);
			if (r < 0 && !first_error)
				first_error = r;
			off += n;
		}
		TAP_OK(first_error == cases[i].want_error && spool_error(s) == cases[i].want_error,
		       "%s: error %d", cases[i].name, spool_error(s));
		TAP_OK(spool_in_file(s) == cases[i].want_file, "%s: %s", cases[i].name, cases[i].want_file ? "in a file" : "in memory");
		TAP_OK(spool_size(s) == cases[i].total, "%s: every byte offered is counted", cases[i].name);
		int fd = spool_export_fd(s);
		if (cases[i].want_error) {
			TAP_OK(fd == cases[i].want_error, "%s: no descriptor to export", cases[i].name);
		} else {
			size_t len = 0;
			char *back = fd >= 0 ? read_all(fd, &len) : NULL;
			TAP_OK(spool_size(s) == cases[i].total, "%s: size counted", cases[i].name);
			TAP_OK(back && len == cases[i].total && memcmp(back, data, len) == 0, "%s: bytes read back intact", cases[i].name);
			TAP_OK(fd >= 0 && write(fd, "x", 1) < 0, "%s: the exported descriptor cannot write", cases[i].name);
			TAP_OK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "%s: exported descriptor is close-on-exec", cases[i].name);
			/* an unnamed file in the spool directory (the quarantine can
			 * link it), a memfd only when that directory refuses */
			struct stat fst, dst;
			bool same_fs = fd >= 0 && fstat(fd, &fst) == 0 && stat(dir, &dst) == 0 &&
			               S_ISREG(fst.st_mode) && fst.st_nlink == 0 && fst.st_dev == dst.st_dev;
			TAP_OK(same_fs == !cases[i].bad_dir, "%s: exported as %s", cases[i].name,
			       cases[i].bad_dir ? "a memfd" : "an unnamed file in the spool directory");
			g_free(back);
			if (fd >= 0)
				close(fd);
		}
		spool_free(s);
		g_free(data);
	}
	/* nothing is left in the spool directory: the files had no names */
	GDir *d = g_dir_open(dir, 0, NULL);
	TAP_OK(d && g_dir_read_name(d) == NULL, "spool directory empty afterwards");
	if (d)
		g_dir_close(d);
	g_rmdir(dir);
	g_rand_free(rnd);
	return tap_done();
}
