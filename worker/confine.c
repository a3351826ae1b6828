/* confine.c - a child process for parsing hostile bytes from the CLI.
 *
 * Owns the life of that child (confine.h): fork, become nobody when root,
 * a private temporary directory made by that account (and removed after
 * it), the workers' limits and sandbox, the result over a pipe, and a
 * deadline after which it is killed.  The CLI is single-threaded, so the child may run library
 * code after fork().
 */
#include "worker/confine.h"
#include "store/qstate.h"
#include "util/safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* AddressSanitizer reserves terabytes of address space for its shadow
 * memory: RLIMIT_AS would kill a sanitizer build on its first malloc. */
#if defined(__SANITIZE_ADDRESS__)
#define CONFINE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONFINE_ASAN 1
#endif
#endif
#ifndef CONFINE_ASAN
#define CONFINE_ASAN 0
#endif

#define GRACE_S 5   /* beyond [limits] time: start-up, sandbox, exit */

static int limit(int resource, int64_t value)
{
	struct rlimit rl = { (rlim_t)value, (rlim_t)value };
	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

static const sandbox_mode modes[] = {
	[MUGAI_SANDBOX_AUTO] = SANDBOX_AUTO, [MUGAI_SANDBOX_LANDLOCK] = SANDBOX_LANDLOCK,
	[MUGAI_SANDBOX_NAMESPACES] = SANDBOX_NAMESPACES, [MUGAI_SANDBOX_OFF] = SANDBOX_OFF,
};

void confine_spec_init(confine_spec *cs, const mugai_config *cfg, const char *tmp_dir)
{
	memset(cs, 0, sizeof *cs);
	/* what a parsing process must not read: other messages, the logs, the
	 * administrators' state */
	char *qdir = g_canonicalize_filename(cfg->quarantine_dir, NULL);
	cs->owned[0] = qstate_dir(qdir, cfg->quarantine_review_dir);
	cs->owned[1] = g_path_get_dirname(cfg->audit_log);
	cs->owned[2] = g_path_get_dirname(cfg->audit_admin_log);
	cs->owned[3] = qdir;
	/* a directory made later is still out of reach: the review state is
	 * root's 0700, and Landlock (auto, landlock) reads nothing outside the
	 * system's files; only namespaces alone could not hide it */
	size_t n = 0;
	struct stat st;
	for (int i = 0; i < 4; i++)
		if (stat(cs->owned[i], &st) == 0 && S_ISDIR(st.st_mode))
			cs->hide[n++] = cs->owned[i];
	if (strcmp(cfg->milter_spool_dir, tmp_dir) != 0 && stat(cfg->milter_spool_dir, &st) == 0)
		cs->hide[n++] = cfg->milter_spool_dir;
	cs->hide[n] = NULL;
	cs->spec.mode = modes[cfg->worker_sandbox];
	cs->spec.tmp_dir = tmp_dir;
	cs->spec.tmp_size = (uint64_t)cfg->max_decoded_size;
	cs->spec.hide = cs->hide;
	const char *clamd = cfg->clamd_socket && *cfg->clamd_socket ? cfg->clamd_socket : NULL;
	if (clamd && (clamd[0] == '/' || g_str_has_prefix(clamd, "unix:"))) {
		cs->spec.clamd_unix = clamd[0] == '/' ? clamd : clamd + 5;
	} else if (clamd) {
		const char *colon = strrchr(clamd, ':');
		cs->host = clamd[0] == '[' ? g_strndup(clamd + 1, (gsize)(strchr(clamd, ']') - clamd - 1))
		                           : g_strndup(clamd, (gsize)(colon - clamd));
		cs->spec.clamd_tcp_host = cs->host;
		cs->spec.clamd_tcp_port = atoi(colon + 1);
	}
}

void confine_spec_clear(confine_spec *cs)
{
	for (int i = 0; i < 4; i++)
		g_free(cs->owned[i]);
	g_free(cs->host);
	memset(cs, 0, sizeof *cs);
}

/* Everything but the work itself, in the child; 0 or a negative errno
 * with WHY filled. */
static int confine_self(const mugai_config *cfg, uid_t uid, gid_t gid, char *tmp, char *why, size_t whylen)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int rc = 0;
	if (geteuid() == 0 && (rc = drop_privileges_to(uid, gid, NULL)) < 0) {
		snprintf(why, whylen, "cannot become uid %u: %s", (unsigned)uid, g_strerror(-rc));
		return rc;
	}
	/* spill files of the parse: a directory of its own, made by the
	 * account it runs as (only that account can reach its files) */
	if (mkdir(tmp, 0700) < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot make a temporary directory: %s", g_strerror(errno));
		return rc;
	}
	g_setenv("TMPDIR", tmp, TRUE);
	if (limit(RLIMIT_CORE, 0) < 0 || limit(RLIMIT_FSIZE, cfg->milter_worker_file_size) < 0 ||
	    limit(RLIMIT_NOFILE, cfg->milter_worker_files) < 0 || limit(RLIMIT_CPU, cfg->max_time + 1) < 0 ||
	    (!CONFINE_ASAN && limit(RLIMIT_AS, cfg->milter_worker_memory) < 0)) {
		rc = -errno;
		snprintf(why, whylen, "setrlimit: %s", g_strerror(errno));
		return rc;
	}
	confine_spec cs;
	confine_spec_init(&cs, cfg, tmp);
	char desc[256];
	rc = sandbox_apply(&cs.spec, desc, sizeof desc);
	if (rc < 0)
		snprintf(why, whylen, "sandbox: %s", desc);
	confine_spec_clear(&cs);
	return rc;
}

int confine_run(const mugai_config *cfg, int (*fn)(void *arg), void *arg, int *result,
                char *why, size_t whylen)
{
	*result = 0;
	if (why && whylen)
		why[0] = '\0';
	struct passwd *pw = getpwnam("nobody");
	uid_t uid = pw ? pw->pw_uid : 65534;
	gid_t gid = pw ? pw->pw_gid : 65534;
	const char *tmpbase = getenv("TMPDIR") && *getenv("TMPDIR") == '/' ? getenv("TMPDIR") : "/tmp";
	/* named here, made by the child (as the account it runs as), removed
	 * here once the child is gone, whatever became of it */
	char *name = g_strdup_printf("mugai-confined-%08x%08x", g_random_int(), g_random_int());
	char *tmp = g_build_filename(tmpbase, name, NULL);
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) < 0) {
		g_free(tmp);
		g_free(name);
		return -errno;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(pp[0]);
		char cwhy[512] = "";
		int rc = confine_self(cfg, uid, gid, tmp, cwhy, sizeof cwhy);
		int32_t msg[1] = { 0 };
		if (rc < 0) {
			/* why it could not be confined, for the parent's message */
			fprintf(stderr, "mugai: %s\n", cwhy);
			_exit(120);
		}
		msg[0] = fn(arg);
		_exit(write(pp[1], msg, sizeof msg) == sizeof msg ? 0 : 121);
	}
	int e = errno;
	close(pp[1]);
	g_free(tmp);
	if (pid < 0) {
		close(pp[0]);
		g_free(name);
		return -e;
	}
	/* the deadline: [limits] time and a grace; a child still there is killed */
	int64_t deadline = g_get_monotonic_time() + (cfg->max_time + GRACE_S) * G_USEC_PER_SEC;
	int status = 0, rc = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (g_get_monotonic_time() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			rc = -ETIMEDOUT;
			break;
		}
		g_usleep(5000);
	}
	int32_t msg[1];
	ssize_t n = read(pp[0], msg, sizeof msg);
	close(pp[0]);
	/* an empty directory only: a link put there instead is not followed,
	 * a directory with something in it stays */
	int bfd = open(tmpbase, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd >= 0) {
		unlinkat(bfd, name, AT_REMOVEDIR);
		close(bfd);
	}
	g_free(name);
	if (rc == 0 && (n != sizeof msg || !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		rc = -ECHILD;
		if (why && whylen) {
			if (WIFSIGNALED(status))
				snprintf(why, whylen, "the parsing process was killed by signal %d", WTERMSIG(status));
			else if (WIFEXITED(status) && WEXITSTATUS(status) == 120)
				snprintf(why, whylen, "the parsing process could not be confined");
			else
				snprintf(why, whylen, "the parsing process failed (exit %d)",
				         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		}
	}
	if (rc == -ETIMEDOUT && why && whylen)
		snprintf(why, whylen, "the parsing process took longer than [limits] time (%" G_GINT64_FORMAT " s)",
		         cfg->max_time);
	if (rc == 0)
		*result = msg[0];
	return rc;
}
