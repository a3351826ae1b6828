/* worker.c - one pipeline process: receive a job, run pipeline_run(), reply.
 *
 * Runs as `mugai-milter --worker FD -c CONFIG`, exec'd by the milter's pool
 * (pool.c), so it starts single-threaded with a clean address space.  It
 * owns nothing the milter needs: the message arrives as a descriptor, the
 * output goes back as a sealed memfd, and the quarantine and audit records
 * are written here by the pipeline before the reply is sent.  Resource
 * limits (address space, file size, open files; CPU per job) are set after
 * initialisation; the milter's wall-clock deadline and SIGKILL are the
 * outer bound.  The per-message syslog line is the milter's, so the
 * pipeline's own is turned off here; this file logs only its own failures.
 */
#include "milter/worker.h"

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
#include "milter/job.h"
#include "sanitize/detect.h"
#include "sanitize/pipeline.h"

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

/* TEST ONLY -- the fault tests of test/milter.py.  When MUGAI_TEST_FAULT
 * names a file, the first worker that claims it (by renaming it away) acts
 * on its first word before running its job: "crash" aborts, "hang" sleeps
 * forever, "garbage" answers with bytes that are no frame.  One file, one
 * fault, whichever worker takes the job; without the variable this is a
 * getenv() per job and nothing else. */
static const char *test_fault(void)
{
	const char *path = getenv("MUGAI_TEST_FAULT");
	if (!path || !*path)
		return NULL;
	char claimed[PATH_MAX], word[16] = "";
	snprintf(claimed, sizeof claimed, "%s.%ld", path, (long)getpid());
	if (rename(path, claimed) < 0)
		return NULL;
	FILE *f = fopen(claimed, "r");
	if (f) {
		if (fscanf(f, "%15s", word) != 1)
			word[0] = 0;
		fclose(f);
	}
	unlink(claimed);
	static const char *const faults[] = { "crash", "hang", "garbage" };
	for (size_t i = 0; i < G_N_ELEMENTS(faults); i++)
		if (strcmp(word, faults[i]) == 0)
			return faults[i];
	return NULL;
}

void worker_output_headers(const uint8_t *out, size_t body_offset,
                           GPtrArray *names, GPtrArray *values)
{
	char *name = NULL;
	GString *value = NULL;
	size_t i = 0;
	for (;;) {
		size_t e = i;
		while (e < body_offset && out[e] != '\n')
			e++;
		size_t n = e - i;
		const char *line = (const char *)out + i;
		if (n && line[n - 1] == '\r')
			n--;
		bool more = i < body_offset && n > 0;
		bool cont = more && (line[0] == ' ' || line[0] == '\t');
		if (cont && value) {
			g_string_append_c(value, '\n');
			g_string_append_len(value, line, (gssize)n);
		}
		if (!cont && name) {   /* the previous header is complete */
			if (pipeline_header_replaced(name)) {
				g_ptr_array_add(names, name);
				g_ptr_array_add(values, g_string_free(value, FALSE));
			} else {
				g_free(name);
				g_string_free(value, TRUE);
			}
			name = NULL;
			value = NULL;
		}
		if (!more)
			break;
		if (!cont) {
			const char *colon = memchr(line, ':', n);
			if (colon) {
				name = g_strndup(line, (gsize)(colon - line));
				const char *v = colon + 1, *end = line + n;
				while (v < end && (*v == ' ' || *v == '\t'))
					v++;
				value = g_string_new_len(v, end - v);
			}
		}
		i = e + 1;
	}
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
	const char *fault = test_fault();
	if (fault && strcmp(fault, "crash") == 0)
		abort();
	if (fault && strcmp(fault, "hang") == 0)
		for (;;)
			pause();
	if (fault && strcmp(fault, "garbage") == 0) {
		static const char junk[] = "this is not a reply frame at all";
		return write(sock, junk, sizeof junk) < 0 ? -errno : 0;
	}

	set_cpu_budget(cfg->milter_timeout * 2);
	g_ptr_array_add(j->rcpt, NULL);
	pipeline_env env = {
		.id = j->queue_id, .env_from = j->env_from, .client = j->client,
		.rcpt = j->rcpt->len > 1 ? (const char *const *)j->rcpt->pdata : NULL,
	};
	GByteArray *out = NULL;
	mugai_result *res = NULL;
	pipeline_run(cfg, &env, msg_fd, &out, &res);
	g_ptr_array_remove_index(j->rcpt, j->rcpt->len - 1);

	job_reply *rep = job_reply_new();
	rep->seq = j->seq;
	rep->verdict = res->verdict;
	rep->verdict_reason = g_strdup(res->verdict_reason);
	rep->quarantine_id = g_strdup(res->quarantine_id);
	rep->removed = result_count_action(res, PART_REMOVED);
	rep->size = res->size;
	rep->elapsed_ms = (uint64_t)(res->elapsed_ms > 0 ? res->elapsed_ms : 0);
	int ofd = -1;
	if (out) {
		ofd = output_fd(out);
		if (ofd < 0) {
			/* The records already say delivered; the milter will say tempfail
			 * and log why, and the sender retries. */
			syslog(LOG_ERR, "%s: worker: cannot pass the output back: %s",
			       j->queue_id ? j->queue_id : "NOQUEUE", strerror(-ofd));
			rep->verdict = VERDICT_TEMPFAIL;
			g_free(rep->verdict_reason);
			rep->verdict_reason = g_strdup("internal:worker-output");
		} else {
			rep->has_output = true;
			rep->status = g_strdup(res->status);
			rep->subject_out = g_strdup(res->subject_out);
			rep->subject_added = res->subject_added;
			rep->body_offset = res->body_offset;
			worker_output_headers(out->data, (size_t)res->body_offset, rep->hdr_names, rep->hdr_values);
		}
		g_byte_array_unref(out);
	}
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
	cfg->audit_syslog = false;   /* the milter logs the one line per message */
	sock = keep_only(sock);
	openlog("mugai", LOG_PID | (log_stderr ? LOG_PERROR : 0), LOG_MAIL);
	pipeline_global_init();
	/* load libmagic's database now, not on the first message's clock */
	g_free(detect_mime_type("mugai", 5, DETECT_FULL));
	g_free(detect_mime_type("mugai", 5, DETECT_FILE));
	int rc = set_limits(cfg) < 0 ? 2 : 0;

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
