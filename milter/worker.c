/* worker.c - one pipeline process: receive a job, run pipeline_run(), reply.
 *
 * Runs as `mugai-milter --worker FD -c CONFIG`, exec'd by the milter's pool
 * (pool.c), so it starts single-threaded with a clean address space.  It
 * owns nothing the milter needs and writes nothing: the message arrives as
 * a descriptor, the output goes back as a sealed memfd and the audit
 * record in the reply, which the milter checks and makes durable.
 * Resource limits (address space, file size, open files; CPU per job) are
 * set after initialisation, then the process confines itself (sandbox.h);
 * the milter's wall-clock deadline and SIGKILL are the outer bound.  This
 * file logs only its own failures.
 */
#include "milter/worker.h"
#include "milter/testhooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <syslog.h>
#include <unistd.h>

#include "config/config.h"
#include "worker/confine.h"
#include "worker/job.h"
#include "sanitize/detect.h"
#include "sanitize/pipeline.h"
#include "store/store.h"

/* AddressSanitizer reserves terabytes of address space for its shadow
 * memory, so RLIMIT_AS would kill a sanitizer build on its first malloc. */
#if defined(__SANITIZE_ADDRESS__)
#define WORKER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_ASAN 1
#endif
#endif
#ifndef WORKER_ASAN
#define WORKER_ASAN 0
#endif

static int limit(int resource, const char *name, int64_t value)
{
	struct rlimit rl;
	if (getrlimit(resource, &rl) < 0)
		return -errno;
	rlim_t v = (rlim_t)value;
	if (rl.rlim_max != RLIM_INFINITY && v > rl.rlim_max)
		v = rl.rlim_max;   /* an unprivileged process cannot raise it */
	rl.rlim_cur = rl.rlim_max = v;
	if (setrlimit(resource, &rl) < 0) {
		int e = errno;
		syslog(LOG_ERR, "worker: setrlimit(%s, %lld): %s", name, (long long)value, strerror(e));
		return -e;
	}
	return 0;
}

/* The sandbox ([milter] worker_sandbox): from here on this process reads
 * only what it holds and the system's libraries, writes only unnamed
 * files in the spool directory, reaches only clamd.  A worker that cannot
 * be confined as configured does not start: the milter then refuses to
 * run, and says why. */
static int confine(const mugai_config *cfg)
{
	confine_spec cs;
	confine_spec_init(&cs, cfg, cfg->milter_spool_dir);
	char desc[256];
	int rc = sandbox_apply(&cs.spec, desc, sizeof desc);
	confine_spec_clear(&cs);
	if (rc < 0)
		syslog(LOG_ERR, "worker: cannot be confined ([milter] worker_sandbox = %s): %s",
		       cfg->worker_sandbox == MUGAI_SANDBOX_AUTO ? "auto" : cfg->worker_sandbox == MUGAI_SANDBOX_LANDLOCK ?
		       "landlock" : cfg->worker_sandbox == MUGAI_SANDBOX_NAMESPACES ? "namespaces" : "off", desc);
	else
		syslog(LOG_DEBUG, "worker confined: %s", desc);
	return rc;
}

static int set_limits(const mugai_config *cfg)
{
	int r = limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", cfg->milter_worker_file_size);
	if (r == 0)
		r = limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", cfg->milter_worker_files);
	if (r == 0 && !WORKER_ASAN)
		r = limit(RLIMIT_AS, "RLIMIT_AS", cfg->milter_worker_memory);
	return r;
}

/* RLIMIT_CPU counts the whole life of the process, so each job gets its
 * budget on top of what earlier jobs used; only the soft limit moves (the
 * hard one could not be raised again), and SIGXCPU kills at the soft one. */
static void set_cpu_budget(int64_t seconds)
{
	struct rusage ru;
	struct rlimit rl;
	if (getrusage(RUSAGE_SELF, &ru) < 0 || getrlimit(RLIMIT_CPU, &rl) < 0)
		return;
	rlim_t soft = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1 + seconds);
	if (rl.rlim_max != RLIM_INFINITY && soft > rl.rlim_max)
		soft = rl.rlim_max;
	rl.rlim_cur = soft;
	if (setrlimit(RLIMIT_CPU, &rl) < 0)
		syslog(LOG_WARNING, "worker: setrlimit(RLIMIT_CPU): %s", strerror(errno));
}

/* Close every descriptor the exec brought along but stdio and SOCK (the
 * configuration's is read by now), and put SOCK at 3, under any
 * RLIMIT_NOFILE.  Returns the new socket number. */
static int keep_only(int sock)
{
	closelog();   /* its socket, if open, goes too; the caller opens the log again */
	if (sock > 3)
		close_range(3, (unsigned)sock - 1, 0);
	close_range((unsigned)sock + 1, ~0u, 0);
	if (sock != 3 && dup2(sock, 3) == 3) {
		close(sock);
		sock = 3;
	}
	return sock;
}

/* The output as a sealed memfd: the milter reads it, nobody can change it. */
static int output_fd(const GByteArray *out)
{
	int fd = memfd_create("mugai-output", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < out->len) {
		ssize_t n = write(fd, out->data + off, out->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			return -e;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* One job: returns 0, or -errno when the reply could not be sent. */
static int run_job(const mugai_config *cfg, int sock, job *j, int msg_fd)
{
#ifdef MUGAI_TEST_HOOKS
	int f = testhooks_worker_fault(cfg, sock, j);
	if (f != 0)
		return f < 0 ? f : 0;
#endif
	set_cpu_budget(cfg->milter_timeout * 2);
	g_ptr_array_add(j->rcpt, NULL);
	pipeline_env env = {
		.id = j->queue_id, .env_from = j->env_from, .client = j->client,
		.rcpt = j->rcpt->len > 1 ? (const char *const *)j->rcpt->pdata : NULL,
		.quarantine_id = j->quarantine_id,
	};
	GByteArray *out = NULL;
	mugai_result *res = NULL;
	pipeline_run(cfg, &env, msg_fd, &out, &res);
	g_ptr_array_remove_index(j->rcpt, j->rcpt->len - 1);

	int ofd = out ? output_fd(out) : -1;
	if (out && ofd < 0) {
		/* the milter tempfails it and logs why; the sender retries */
		syslog(LOG_ERR, "%s: worker: cannot pass the output back: %s",
		       j->queue_id ? j->queue_id : "NOQUEUE", strerror(-ofd));
		res->verdict = VERDICT_TEMPFAIL;
		g_free(res->verdict_reason);
		res->verdict_reason = g_strdup("internal:worker-output");
		result_add_reason(res->reasons, "internal:worker-output");
		g_free(res->quarantine_id);
		res->quarantine_id = NULL;
	}
	if (out)
		g_byte_array_unref(out);
	job_reply *rep = job_reply_from_result(j->seq, res, ofd >= 0);
	GByteArray *frame = job_reply_encode(rep);
	int r = frame_send(sock, frame, ofd);
	g_byte_array_unref(frame);
	if (ofd >= 0)
		close(ofd);
	job_reply_free(rep);
	result_free(res);
	return r;
}

int worker_main(int sock, const char *config_path, bool log_stderr)
{
	prctl(PR_SET_NAME, "mugai-worker");   /* ps, top and perf say which process is which */
	/* Freed heap is kept for the next message instead of being handed back
	 * and faulted in again, page by page (15-20 minor faults a message with
	 * glibc's defaults, each microseconds on a paravirtualised VM): up to
	 * 32 MiB of free heap top stays, blocks of 16 MiB and more are mapped
	 * apart and returned when freed.  bench/bench-milter.py shows the faults. */
	mallopt(M_MMAP_THRESHOLD, 16 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	openlog("mugai", LOG_PID | (log_stderr ? LOG_PERROR : 0), LOG_MAIL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);   /* a write past RLIMIT_FSIZE fails with EFBIG: a reason, not a death */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	char err[1024];
	mugai_config *cfg = NULL;
	/* the milter's sealed copy, /proc/self/fd/N: a fresh open gives this
	 * process its own offset (the descriptor is shared with the others) */
	int cfd = open(config_path, O_RDONLY | O_CLOEXEC);
	if (cfd < 0 || config_load_fd(cfd, config_path, &cfg, err, sizeof err) < 0) {
		syslog(LOG_ERR, "worker: %s", cfd < 0 ? strerror(errno) : err);
		if (cfd >= 0)
			close(cfd);
		return 2;
	}
	close(cfd);
	sock = keep_only(sock);
	openlog("mugai", LOG_PID | LOG_NDELAY | (log_stderr ? LOG_PERROR : 0), LOG_MAIL);
	/* spill files go to the spool directory (the only one writable after
	 * confine()), before anything reads $TMPDIR */
	g_setenv("TMPDIR", cfg->milter_spool_dir, TRUE);
	pipeline_global_init();
	/* load libmagic's database now, not on the first message's clock */
	g_free(detect_mime_type("mugai", 5, DETECT_FULL));
	g_free(detect_mime_type("mugai", 5, DETECT_FILE));
	int rc = set_limits(cfg) < 0 ? 2 : 0;
	if (rc == 0 && confine(cfg) < 0)
		rc = 2;

	GByteArray *hello = job_hello_encode();
	if (rc == 0 && frame_send(sock, hello, -1) < 0)
		rc = 1;
	g_byte_array_unref(hello);

	while (rc == 0) {
		frame_reader fr;
		frame_reader_init(&fr, JOB_MAGIC_JOB);
		int r;
		while ((r = frame_read(&fr, sock)) == 0)
			;
		if (r == -ECONNRESET) {
			frame_reader_clear(&fr);
			break;   /* the milter closed our socket: done */
		}
		job *j = NULL;
		if (r < 0 || fr.fd < 0 || job_decode(fr.payload, fr.len, &j) < 0) {
			syslog(LOG_ERR, "worker: bad job from the milter: %s", r < 0 ? strerror(-r) : "malformed");
			frame_reader_clear(&fr);
			rc = 1;
			break;
		}
		if (run_job(cfg, sock, j, fr.fd) < 0)
			rc = 1;   /* the milter is gone */
		job_free(j);
		frame_reader_clear(&fr);
	}
	config_free(cfg);
	pipeline_global_shutdown();
	closelog();
	return rc;
}
