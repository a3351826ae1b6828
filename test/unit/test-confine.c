/* test-confine.c - the child the CLI parses mail in: its answer comes back,
 * it runs as nobody when started as root, it cannot read the quarantine or
 * write outside its own temporary directory, a crash or a hang is reported
 * and ends it. */
#include "tap.h"
#include "worker/confine.h"
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *qfile;

static int answer_42(void *arg)
{
	(void)arg;
	return 42;
}

static int answer_errno(void *arg)
{
	(void)arg;
	return -ENOSPC;
}

static int crash(void *arg)
{
	(void)arg;
	abort();
}

static int hang(void *arg)
{
	(void)arg;
	while (pause() < 0 || arg == NULL)
		;
	return 0;
}

static int who(void *arg)
{
	(void)arg;
	return (int)getuid();
}

/* 1 when the quarantine's file could be opened */
static int read_quarantine(void *arg)
{
	(void)arg;
	int fd = open(qfile, O_RDONLY);
	return fd >= 0;
}

/* 0 when a spill file can be made and written in $TMPDIR, and a file
 * outside it cannot */
static int spill(void *arg)
{
	const char *outside = arg;
	int fd = open(g_getenv("TMPDIR"), O_TMPFILE | O_RDWR, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1)
		return -1;
	close(fd);
	fd = open(outside, O_WRONLY | O_CREAT, 0600);
	return fd < 0 ? 0 : -2;
}

int main(void)
{
	char tmpl[] = "/tmp/test-confine-XXXXXX";
	const char *dir = g_mkdtemp(tmpl);
	chmod(dir, 0755);
	mugai_config *cfg = config_defaults();
	char *q = g_build_filename(dir, "q", NULL), *logdir = g_build_filename(dir, "log", NULL);
	g_mkdir(q, 0755);
	g_mkdir(logdir, 0755);
	char *qf = g_build_filename(q, "entry.eml", NULL);
	g_file_set_contents(qf, "secret", -1, NULL);
	chmod(qf, 0644);   /* readable by anyone: only the sandbox keeps it out of reach */
	qfile = qf;
	g_free(cfg->quarantine_dir);
	cfg->quarantine_dir = g_strdup(q);
	g_free(cfg->audit_log);
	cfg->audit_log = g_build_filename(logdir, "audit.log", NULL);
	g_free(cfg->audit_admin_log);
	cfg->audit_admin_log = g_build_filename(logdir, "admin.log", NULL);
	g_free(cfg->milter_spool_dir);
	cfg->milter_spool_dir = g_build_filename(dir, "spool", NULL);
	cfg->max_time = 1;
	char *tmpbase = g_build_filename(dir, "tmp", NULL);
	g_mkdir(tmpbase, 01777);
	chmod(tmpbase, 01777);
	g_setenv("TMPDIR", tmpbase, TRUE);

	char why[512];
	int result = 0;
	int rc = confine_run(cfg, answer_42, NULL, &result, why, sizeof why);
	TAP_OK(rc == 0 && result == 42, "the child's answer comes back (%s)", rc ? why : "-");
	rc = confine_run(cfg, answer_errno, NULL, &result, why, sizeof why);
	TAP_OK(rc == 0 && result == -ENOSPC, "an error it reports comes back as such");
	rc = confine_run(cfg, crash, NULL, &result, why, sizeof why);
	TAP_OK(rc == -ECHILD, "a crash: -ECHILD");
	TAP_STREQ(why, "the parsing process was killed by signal 6", "a crash: said so");
	gint64 t0 = g_get_monotonic_time();
	rc = confine_run(cfg, hang, NULL, &result, why, sizeof why);
	double secs = (g_get_monotonic_time() - t0) / 1e6;
	TAP_OK(rc == -ETIMEDOUT && secs < 10, "a hang: killed after [limits] time and a grace (%.1f s)", secs);
	TAP_STREQ(why, "the parsing process took longer than [limits] time (1 s)", "a hang: said so");
	rc = confine_run(cfg, who, NULL, &result, why, sizeof why);
	TAP_OK(rc == 0 && result == (geteuid() == 0 ? 65534 : (int)getuid()),
	       "it runs as nobody when started as root (uid %d)", result);
	if (cfg->worker_sandbox != MUGAI_SANDBOX_OFF) {
		rc = confine_run(cfg, read_quarantine, NULL, &result, why, sizeof why);
		TAP_OK(rc == 0 && result == 0, "it cannot read the quarantine, even a file anyone may read (%s)",
		       rc ? why : "-");
		char *outside = g_build_filename(dir, "outside", NULL);
		rc = confine_run(cfg, spill, outside, &result, why, sizeof why);
		TAP_OK(rc == 0 && result == 0 && access(outside, F_OK) != 0,
		       "it writes unnamed files in its own temporary directory, nothing elsewhere (%d)", result);
		g_free(outside);
	}
	GDir *d = g_dir_open(tmpbase, 0, NULL);
	int left = 0;
	while (d && g_dir_read_name(d))
		left++;
	if (d)
		g_dir_close(d);
	TAP_OK(left == 0, "its temporary directories go with it, the crashed and killed ones too (%d left)", left);
	g_rmdir(tmpbase);
	g_free(tmpbase);
	unlink(qf);
	g_rmdir(q);
	g_rmdir(logdir);
	g_rmdir(dir);
	g_free(qf);
	g_free(q);
	g_free(logdir);
	config_free(cfg);
	return tap_done();
}
