/* test-outfile.c - export -o's file: named only when whole, never over
 * another file or through a link, nothing left after a failure, and made
 * by the caller's own process when run for another user. */
#include "tap.h"
#include "cli/outfile.h"
#include "util/fdio.h"
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char *at(const char *dir, const char *name)
{
	return g_build_filename(dir, name, NULL);
}

static int write_and_close(outfile *o, const char *text, bool commit)
{
	if (fd_write_all(o->fd, text, strlen(text)) < 0)
		return -EIO;
	return outfile_close(o, commit);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *names(const char *dir)
{
	GString *g = g_string_new(NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *a = g_ptr_array_new();
	for (const char *n; d && (n = g_dir_read_name(d));)
		g_ptr_array_add(a, g_strdup(n));
	g_ptr_array_sort(a, by_name);
	for (guint i = 0; i < a->len; i++) {
		g_string_append_printf(g, "%s%s", i ? " " : "", *(char **)&a->pdata[i]);
		g_free(a->pdata[i]);
	}
	g_ptr_array_free(a, TRUE);
	if (d)
		g_dir_close(d);
	return g_string_free(g, FALSE);
}

static void cases(const char *dir, long uid, const char *who)
{
	outfile o;
	char *a = at(dir, "a.eml"), *b = at(dir, "b.eml"), *l = at(dir, "link.eml"), *c = at(dir, "c.eml");
	char *target = at(dir, "target");
	int rc = outfile_open(&o, a, uid, uid, NULL);
	TAP_OK(rc == 0, "%s: opened", who);
	if (rc == 0)
		rc = write_and_close(&o, "whole\n", true);
	char *text = NULL;
	struct stat st;
	TAP_OK(rc == 0 && g_file_get_contents(a, &text, NULL, NULL) && strcmp(text, "whole\n") == 0 &&
	       stat(a, &st) == 0 && (st.st_mode & 07777) == 0600, "%s: named once whole, 0600", who);
	g_free(text);
	rc = outfile_open(&o, b, uid, uid, NULL);
	if (rc == 0)
		rc = write_and_close(&o, "half", false);
	TAP_OK(rc == 0 && access(b, F_OK) != 0, "%s: dropped, nothing left", who);
	TAP_OK(outfile_open(&o, a, uid, uid, NULL) == -EEXIST, "%s: an existing file is refused", who);
	if (symlink(target, l) < 0)
		exit(99);
	TAP_OK(outfile_open(&o, l, uid, uid, NULL) == -EEXIST && access(target, F_OK) != 0,
	       "%s: a link there is refused, nothing made where it points", who);
	rc = outfile_open(&o, c, uid, uid, NULL);
	g_file_set_contents(c, "someone else's\n", -1, NULL);
	if (rc == 0)
		rc = write_and_close(&o, "mine\n", true);
	text = NULL;
	TAP_OK(rc == -EEXIST && g_file_get_contents(c, &text, NULL, NULL) && strcmp(text, "someone else's\n") == 0,
	       "%s: a file that appeared meanwhile is not replaced", who);
	g_free(text);
	char *n = names(dir);
	TAP_STREQ(n, "a.eml c.eml link.eml", "%s: no temp file left anywhere", who);
	g_free(n);
	unlink(a);
	unlink(c);
	unlink(l);
	g_free(a);
	g_free(b);
	g_free(c);
	g_free(l);
	g_free(target);
}

int main(void)
{
	char tmpl[] = "/tmp/test-outfile-XXXXXX";
	const char *dir = g_mkdtemp(tmpl);
	cases(dir, -1, "in this process");
	if (geteuid() == 0) {
		chmod(dir, 0777);
		cases(dir, 65534, "as uid 65534");
		outfile o;
		char *f = at(dir, "owned.eml");
		int rc = outfile_open(&o, f, 65534, 65534, NULL);
		if (rc == 0)
			rc = write_and_close(&o, "x", true);
		struct stat st;
		TAP_OK(rc == 0 && stat(f, &st) == 0 && st.st_uid == 65534 && st.st_gid == 65534,
		       "as uid 65534: the file is that user's");
		unlink(f);
		g_free(f);
		chmod(dir, 0700);
		char *g = at(dir, "denied.eml");
		TAP_OK(outfile_open(&o, g, 65534, 65534, NULL) == -EACCES && access(g, F_OK) != 0,
		       "as uid 65534: where that user may not write, EACCES and nothing made");
		g_free(g);
	} else {
		outfile o;
		char *g = at(dir, "x.eml");
		TAP_OK(outfile_open(&o, g, 65534, 65534, NULL) == -EPERM, "not root: becoming another user is refused");
		g_free(g);
	}
	g_rmdir(dir);
	return tap_done();
}
