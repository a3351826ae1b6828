/* pool.c - worker processes: start, lend, replace, reap.
 *
 * Owns the slots, their sockets, the child processes and a duplicate of
 * the configuration descriptor the workers read.  One mutex guards all of
 * it; fork, the hello wait and the job itself run outside the lock with
 * the slot marked busy.  A process ID is signalled only while it is known
 * unreaped (in a slot, or in `graves` after being killed or retired), and
 * only pool_reap() reaps, each known ID by waitpid(): a reused PID can
 * never be hit.  Workers are exec'd, never merely forked, because the
 * milter is multithreaded (locks held by other threads at fork time would
 * stay locked in a forked child).  Logs worker starts and abnormal ends.
 */
#include "milter/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SPAWN_TIMEOUT_US (30 * G_USEC_PER_SEC)  /* hello after exec; sanitizer builds start slowly */

enum slot_state { SLOT_IDLE, SLOT_BUSY, SLOT_DEAD };

struct slot {
	pid_t pid;          /* 0: none, or reaped */
	int sock;           /* -1: none */
	unsigned gen;       /* configuration generation it was started with */
	unsigned jobs;      /* jobs done since it started */
	enum slot_state state;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t changed;   /* a slot became idle or dead, or the pool stops */
	char *exe;
	bool log_stderr;
	unsigned size;
	struct slot *slots;
	int config_fd;
	unsigned gen;
	unsigned max_jobs;        /* retire a worker after this many jobs; 0 = never */
	GArray *graves;           /* pid_t: killed or retired, not reaped yet */
	bool stopping;
};

pool *pool_new(const char *exe, unsigned size, bool log_stderr)
{
	pool *p = g_new0(pool, 1);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->changed, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&p->lock, NULL);
	p->exe = g_strdup(exe);
	p->log_stderr = log_stderr;
	p->size = size;
	p->slots = g_new0(struct slot, size);
	for (unsigned i = 0; i < size; i++) {
		p->slots[i].sock = -1;
		p->slots[i].state = SLOT_DEAD;
	}
	p->config_fd = -1;
	p->graves = g_array_new(FALSE, FALSE, sizeof(pid_t));
	return p;
}

/* Under the lock: end S's worker (SIGKILL when it misbehaved, SIGTERM when
 * it is merely retired) and forget its socket.  The PID waits in graves. */
static void bury(pool *p, struct slot *s, bool kill_hard)
{
	if (s->pid > 0) {
		kill(s->pid, kill_hard ? SIGKILL : SIGTERM);
		g_array_append_val(p->graves, s->pid);
		s->pid = 0;
	}
	if (s->sock >= 0) {
		close(s->sock);
		s->sock = -1;
	}
}

/* Read one frame from the non-blocking SOCK before DEADLINE, calling
 * PROGRESS between slices.  1, or a negative errno (-ETIMEDOUT). */
static int wait_frame(int sock, frame_reader *fr, int64_t deadline,
                      pool_progress_fn *progress, void *arg)
{
	for (;;) {
		int r = frame_read(fr, sock);
		if (r != 0)
			return r;
		int64_t now = g_get_monotonic_time();
		if (now >= deadline)
			return -ETIMEDOUT;
		int64_t ms = (deadline - now + 999) / 1000;
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		int n = poll(&pfd, 1, (int)(ms < POOL_SLICE_MS ? ms : POOL_SLICE_MS));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0 && progress)
			progress(arg);
	}
}

/* Start a worker in S, which the caller has marked busy.  0 or -errno. */
static int spawn(pool *p, struct slot *s)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = errno;
		syslog(LOG_ERR, "worker: socketpair: %s", strerror(e));
		return -e;
	}
	pthread_mutex_lock(&p->lock);
	int cfd = fcntl(p->config_fd, F_DUPFD_CLOEXEC, 0);
	unsigned gen = p->gen;
	pthread_mutex_unlock(&p->lock);
	if (cfd < 0) {
		int e = errno;
		syslog(LOG_ERR, "worker: configuration descriptor: %s", strerror(e));
		close(sv[0]);
		close(sv[1]);
		return -e;
	}

	/* Everything the child needs is made before fork: after it, only
	 * async-signal-safe calls until exec. */
	char sockarg[16], cfgpath[48];
	snprintf(sockarg, sizeof sockarg, "%d", sv[1]);
	snprintf(cfgpath, sizeof cfgpath, "/proc/self/fd/%d", cfd);
	char *argv[] = { "mugai-milter", "--worker", sockarg, "-c", cfgpath, p->log_stderr ? "-f" : NULL, NULL };
	sigset_t none;
	sigemptyset(&none);
	pid_t pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		fcntl(sv[1], F_SETFD, 0);
		fcntl(cfd, F_SETFD, 0);
		execv(p->exe, argv);
		_exit(127);
	}
	int e = errno;
	close(sv[1]);
	close(cfd);
	if (pid < 0) {
		syslog(LOG_ERR, "worker: fork: %s", strerror(e));
		close(sv[0]);
		return -e;
	}
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	pthread_mutex_lock(&p->lock);
	s->pid = pid;
	s->sock = sv[0];
	s->gen = gen;
	s->jobs = 0;
	pthread_mutex_unlock(&p->lock);

	frame_reader fr;
	frame_reader_init(&fr, JOB_MAGIC_HELLO);
	int r = wait_frame(sv[0], &fr, g_get_monotonic_time() + SPAWN_TIMEOUT_US, NULL, NULL);
	if (r == 1 && (fr.fd >= 0 || job_hello_decode(fr.payload, fr.len) < 0))
		r = -EBADMSG;
	frame_reader_clear(&fr);
	if (r != 1) {
		syslog(LOG_ERR, "worker %ld did not start: %s", (long)pid,
		       r == -ECONNRESET ? "it exited" : strerror(-r));
		pthread_mutex_lock(&p->lock);
		bury(p, s, true);
		pthread_mutex_unlock(&p->lock);
		return r < 0 ? r : -EIO;
	}
	syslog(LOG_INFO, "worker %ld started", (long)pid);
	return 0;
}

int pool_start(pool *p, int config_fd, unsigned generation)
{
	p->config_fd = fcntl(config_fd, F_DUPFD_CLOEXEC, 0);
	if (p->config_fd < 0)
		return -errno;
	p->gen = generation;
	for (unsigned i = 0; i < p->size; i++) {
		struct slot *s = &p->slots[i];
		s->state = SLOT_BUSY;
		int r = spawn(p, s);
		pthread_mutex_lock(&p->lock);
		s->state = r == 0 ? SLOT_IDLE : SLOT_DEAD;
		pthread_mutex_unlock(&p->lock);
		if (r < 0)
			return r;
	}
	return 0;
}

void pool_set_max_jobs(pool *p, unsigned max_jobs)
{
	pthread_mutex_lock(&p->lock);
	p->max_jobs = max_jobs;
	pthread_mutex_unlock(&p->lock);
}

/* Give S back.  A worker that failed, runs an old configuration or has done
 * its share of jobs (whatever a long life leaks or fragments is gone with
 * it) is replaced first (outside the lock, S still marked busy). */
static void release(pool *p, struct slot *s, bool ok)
{
	pthread_mutex_lock(&p->lock);
	if (ok && s->gen == p->gen && !p->stopping && (p->max_jobs == 0 || s->jobs < p->max_jobs)) {
		s->state = SLOT_IDLE;
		/* One slot for one waiter: a broadcast would wake every message
		 * waiting for a worker (a dozen at concurrency 16) to find it
		 * taken.  Waiters also look again every POOL_SLICE_MS. */
		pthread_cond_signal(&p->changed);
		pthread_mutex_unlock(&p->lock);
		return;
	}
	bury(p, s, !ok);
	bool stopping = p->stopping;
	pthread_mutex_unlock(&p->lock);
	int r = stopping ? -ECANCELED : spawn(p, s);
	pthread_mutex_lock(&p->lock);
	s->state = r == 0 ? SLOT_IDLE : SLOT_DEAD;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

void pool_reconfigure(pool *p, int config_fd, unsigned generation)
{
	int fd = fcntl(config_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		syslog(LOG_ERR, "worker: configuration descriptor: %s", strerror(errno));
		return;
	}
	GPtrArray *stale = g_ptr_array_new();
	pthread_mutex_lock(&p->lock);
	if (p->config_fd >= 0)
		close(p->config_fd);
	p->config_fd = fd;
	p->gen = generation;
	for (unsigned i = 0; i < p->size; i++) {
		struct slot *s = &p->slots[i];
		if (s->state == SLOT_IDLE && s->gen != generation) {
			s->state = SLOT_BUSY;
			g_ptr_array_add(stale, s);
		}
	}
	pthread_mutex_unlock(&p->lock);
	for (guint i = 0; i < stale->len; i++)
		release(p, g_ptr_array_index(stale, i), true);
	g_ptr_array_free(stale, TRUE);
}

/* A free worker before DEADLINE, or NULL with *reason set. */
static struct slot *acquire(pool *p, int64_t deadline, pool_progress_fn *progress,
                            void *arg, const char **reason)
{
	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->stopping) {
			*reason = "internal:shutdown";
			break;
		}
		struct slot *dead = NULL;
		for (unsigned i = 0; i < p->size; i++) {
			struct slot *s = &p->slots[i];
			if (s->state == SLOT_IDLE) {
				s->state = SLOT_BUSY;
				pthread_mutex_unlock(&p->lock);
				return s;
			}
			if (s->state == SLOT_DEAD && !dead)
				dead = s;
		}
		if (dead) {   /* an earlier replacement failed: try again now */
			dead->state = SLOT_BUSY;
			pthread_mutex_unlock(&p->lock);
			if (spawn(p, dead) == 0)
				return dead;
			pthread_mutex_lock(&p->lock);
			dead->state = SLOT_DEAD;
			*reason = "internal:worker-spawn";
			break;
		}
		int64_t now = g_get_monotonic_time();
		if (now >= deadline) {
			*reason = "internal:worker-busy";
			break;
		}
		int64_t wake = deadline < now + POOL_SLICE_MS * 1000 ? deadline : now + POOL_SLICE_MS * 1000;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t ns = (int64_t)ts.tv_nsec + (wake - now) * 1000;
		ts.tv_sec += (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		if (pthread_cond_timedwait(&p->changed, &p->lock, &ts) == ETIMEDOUT && progress) {
			pthread_mutex_unlock(&p->lock);
			progress(arg);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* An idle worker has nothing to say: bytes or end of stream waiting on its
 * socket mean it died or misbehaved since its last job. */
static bool idle_worker_spoke(const struct slot *s)
{
	struct pollfd pfd = { .fd = s->sock, .events = POLLIN };
	return poll(&pfd, 1, 0) != 0;
}

int pool_run(pool *p, const job *j, int msg_fd, int64_t deadline,
             pool_progress_fn *progress, void *arg,
             job_reply **reply, int *out_fd, const char **reason)
{
	*reply = NULL;
	*out_fd = -1;
	struct slot *s;
	for (int attempt = 0;; attempt++) {
		s = acquire(p, deadline, progress, arg, reason);
		if (!s)
			return -EAGAIN;
		if (!idle_worker_spoke(s))
			break;
		syslog(LOG_WARNING, "worker in slot %ld exited or wrote while idle; replaced", (long)(s - p->slots));
		release(p, s, false);
		if (attempt == 1) {
			*reason = "internal:worker-crashed";
			return -EIO;
		}
	}
	pthread_mutex_lock(&p->lock);
	pid_t pid = s->pid;   /* for the log lines; the reaper may clear s->pid */
	pthread_mutex_unlock(&p->lock);

	GByteArray *frame = job_encode(j);
	int r = frame_send(s->sock, frame, msg_fd);
	g_byte_array_unref(frame);
	frame_reader fr;
	frame_reader_init(&fr, JOB_MAGIC_REPLY);
	if (r == 0)
		r = wait_frame(s->sock, &fr, deadline, progress, arg);
	else
		r = -ECONNRESET;   /* could not even hand the job over */

	job_reply *rep = NULL;
	const char *why = NULL;
	if (r == 1) {
		struct stat st;
		if (job_reply_decode(fr.payload, fr.len, &rep) < 0)
			why = "undecodable reply";
		else if (rep->has_output != (fr.fd >= 0))
			why = "output descriptor does not match the reply";
		else if (fr.fd >= 0 && fstat(fr.fd, &st) < 0)
			why = "output descriptor unusable";
		else
			job_reply_check(rep, j->seq, j->quarantine_id, fr.fd >= 0 ? (uint64_t)st.st_size : 0, &why);
	}
	if (r == 1 && !why) {
		s->jobs++;   /* the slot is ours (busy) until release */
		release(p, s, true);
		*reply = rep;
		*out_fd = fr.fd;
		fr.fd = -1;
		frame_reader_clear(&fr);
		return 0;
	}

	if (r == -ETIMEDOUT) {
		*reason = "internal:worker-timeout";
		syslog(LOG_ERR, "worker %ld killed: message deadline passed", (long)pid);
	} else if (r == -EBADMSG || why) {
		*reason = "internal:worker-protocol";
		syslog(LOG_ERR, "worker %ld killed: protocol error: %s", (long)pid, why ? why : "bad frame");
	} else {
		*reason = "internal:worker-crashed";
		syslog(LOG_ERR, "worker %ld died during a job (%s)", (long)pid,
		       r == -ECONNRESET ? "end of stream" : strerror(-r));
	}
	job_reply_free(rep);
	frame_reader_clear(&fr);
	release(p, s, false);
	return -EIO;
}

static void log_end(pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		syslog(LOG_ERR, "worker %ld ended by signal %d%s", (long)pid, WTERMSIG(status),
		       WCOREDUMP(status) ? " (core dumped)" : "");
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		syslog(LOG_ERR, "worker %ld exited with status %d", (long)pid, WEXITSTATUS(status));
}

void pool_reap(pool *p)
{
	GPtrArray *lost = g_ptr_array_new();   /* idle workers that died: replaced below */
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->size; i++) {
		struct slot *s = &p->slots[i];
		int status;
		if (s->pid <= 0 || waitpid(s->pid, &status, WNOHANG) != s->pid)
			continue;
		log_end(s->pid, status);
		s->pid = 0;
		if (s->state == SLOT_IDLE && !p->stopping) {   /* busy ones: their job's thread */
			s->state = SLOT_BUSY;
			g_ptr_array_add(lost, s);
		}
	}
	for (guint i = 0; i < p->graves->len;) {
		pid_t pid = g_array_index(p->graves, pid_t, i);
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			g_array_remove_index_fast(p->graves, i);   /* we killed it: no news */
		else
			i++;
	}
	pthread_mutex_unlock(&p->lock);
	for (guint i = 0; i < lost->len; i++)
		release(p, g_ptr_array_index(lost, i), false);
	g_ptr_array_free(lost, TRUE);
}

void pool_stop(pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	for (unsigned i = 0; i < p->size; i++) {
		struct slot *s = &p->slots[i];
		if (s->state == SLOT_BUSY) {
			/* its job's thread sees end of stream and cleans up */
			if (s->pid > 0)
				kill(s->pid, SIGKILL);
			continue;
		}
		bury(p, s, true);
		s->state = SLOT_DEAD;
	}
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

pool *pool_free(pool *p)
{
	if (!p)
		return NULL;
	pool_stop(p);
	/* SIGKILL is quick; give the kernel a moment, then let init reap the rest */
	for (int i = 0; i < 100; i++) {
		pool_reap(p);
		pthread_mutex_lock(&p->lock);
		bool left = p->graves->len > 0;
		for (unsigned k = 0; k < p->size; k++)
			left |= p->slots[k].pid > 0;
		pthread_mutex_unlock(&p->lock);
		if (!left)
			break;
		g_usleep(10000);
	}
	if (p->config_fd >= 0)
		close(p->config_fd);
	g_array_unref(p->graves);
	g_free(p->slots);
	g_free(p->exe);
	pthread_cond_destroy(&p->changed);
	pthread_mutex_destroy(&p->lock);
	g_free(p);
	return NULL;
}
