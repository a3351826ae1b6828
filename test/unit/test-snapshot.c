/* test-snapshot.c - configuration snapshots: what workers are handed is
 * what the milter loaded, reload failures leave no trace, references count. */
#include "tap.h"
#include "milter/snapshot.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

static const struct {
	const char *name;
	const char *text;        /* NULL: no such file */
	bool ok;
	const char *want;        /* ok: a line of the workers' text; else: part of the error */
} cases[] = {
	{ "defaults from an empty file", "", true, "workers = 4" },
	{ "a value set", "[milter]\nworkers = 3\n", true, "workers = 3" },
	{ "Japanese and quotes survive", "[sanitize]\nnotice_contact = \"情報政策課（内線 1234）\"\nsubject_tag = [外部]\n", true,
	  "notice_contact = 情報政策課（内線 1234）" },
	{ "empty strings survive", "[milter]\nuser = \"\"\n", true, "user = \"\"" },
	{ "a bad value names file, line, key", "[limits]\nparts = lots\n", false, ":2: [limits] parts" },
	{ "a missing file named on the command line", NULL, false, "No such file" },
};

static char *read_fd(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	off_t off = 0;
	while ((n = pread(fd, buf, sizeof buf, off)) > 0) {
		g_string_append_len(s, buf, n);
		off += n;
	}
	return g_string_free(s, FALSE);
}

int main(void)
{
	char tmpl[] = "/tmp/test-snapshot-XXXXXX";
	const char *dir = g_mkdtemp(tmpl);
	unsigned last_gen = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = g_strdup_printf("%s/%zu.conf", dir, i);
		if (cases[i].text)
			g_file_set_contents(path, cases[i].text, -1, NULL);
		snapshot *s = NULL;
		char err[512] = "";
		int r = snapshot_load(path, &s, err, sizeof err);
		TAP_OK((r == 0) == cases[i].ok && (s != NULL) == cases[i].ok, "%s: %s", cases[i].name, r == 0 ? "loaded" : err);
		if (s) {
			char *text = read_fd(s->config_fd);
			TAP_OK(strstr(text, cases[i].want) != NULL, "%s: workers get '%s'", cases[i].name, cases[i].want);
			TAP_OK(write(s->config_fd, "x", 1) < 0, "%s: the workers' copy is sealed", cases[i].name);
			TAP_OK(s->gen > last_gen, "%s: a new generation", cases[i].name);
			last_gen = s->gen;
			g_free(text);
		} else {
			TAP_OK(strstr(err, cases[i].want) != NULL, "%s: error says '%s'", cases[i].name, cases[i].want);
		}
		snapshot_unref(s);
		g_unlink(path);
		g_free(path);
	}

	/* install, pin, replace: a pinned snapshot outlives its replacement */
	char *path = g_strdup_printf("%s/pin.conf", dir);
	g_file_set_contents(path, "[milter]\nworkers = 5\n", -1, NULL);
	snapshot *a = NULL, *b = NULL;
	char err[512];
	TAP_OK(snapshot_current() == NULL, "nothing installed yet");
	TAP_OK(snapshot_load(path, &a, err, sizeof err) == 0, "first snapshot");
	snapshot_install(a);
	snapshot *pinned = snapshot_current();
	TAP_OK(pinned == a && g_atomic_int_get(&a->refs) == 2, "a connection pins the installed snapshot");
	g_file_set_contents(path, "[milter]\nworkers = 6\n", -1, NULL);
	TAP_OK(snapshot_load(path, &b, err, sizeof err) == 0, "second snapshot");
	snapshot_install(b);
	TAP_OK(g_atomic_int_get(&a->refs) == 1 && pinned->cfg->milter_workers == 5, "the pinned one lives on, unchanged");
	snapshot *now = snapshot_current();
	TAP_OK(now == b && now->cfg->milter_workers == 6, "new connections get the new one");
	snapshot_unref(now);
	snapshot_unref(pinned);
	snapshot_install(NULL);
	TAP_OK(snapshot_current() == NULL, "uninstalled");
	g_unlink(path);
	g_free(path);
	g_rmdir(dir);
	return tap_done();
}
