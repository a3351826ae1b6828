/* pool.h - the pre-started worker processes and how a message gets one.
 *
 * A fixed number of slots, each holding one worker (worker.c) started by
 * fork + exec of the milter's own binary and connected by a socketpair.
 * Any thread may run a job; a worker that crashes, breaks the protocol or
 * passes the deadline is killed and replaced, and the job fails with a
 * reason of the verdict table's `internal:` class.  Children are reaped
 * only by pool_reap() (the milter's signal thread calls it on SIGCHLD).
 */
#ifndef MUGAI_POOL_H
#define MUGAI_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include "worker/job.h"

typedef struct pool pool;

/* Called between waiting slices (every POOL_SLICE_MS at most) so the
 * caller can tell the MTA it is still working. */
typedef void pool_progress_fn(void *arg);
#define POOL_SLICE_MS 3000

/* EXE is what to exec ("/proc/self/exe"); LOG_STDERR is passed on as -f. */
pool *pool_new(const char *exe, unsigned size, bool log_stderr);
pool *pool_free(pool *p);   /* NULL-safe; stops the pool first; returns NULL */

/* Start every worker with the configuration read from CONFIG_FD (the pool
 * keeps its own duplicate); waits for each one's hello.  0, or -errno
 * after logging which worker failed. */
int pool_start(pool *p, int config_fd, unsigned generation);

/* Retire each worker after MAX_JOBS jobs (0 = never): it is replaced when
 * its last job is done, so a long-lived process cannot accumulate leaks. */
void pool_set_max_jobs(pool *p, unsigned max_jobs);

/* A new configuration: idle workers are replaced now, busy ones when their
 * job is done. */
void pool_reconfigure(pool *p, int config_fd, unsigned generation);

/* Run J on a worker with the message in MSG_FD, waiting at most until
 * DEADLINE (g_get_monotonic_time() microseconds), worker wait included.
 * 0: *reply is checked (job_reply_check) and *out_fd holds the output
 * (or -1 when the verdict delivers nothing).  Negative: *reason is one of
 * internal:worker-crashed, -timeout, -protocol, -busy, -spawn, -shutdown. */
int pool_run(pool *p, const job *j, int msg_fd, int64_t deadline,
             pool_progress_fn *progress, void *arg,
             job_reply **reply, int *out_fd, const char **reason);

/* Reap every child that has exited; logs the abnormal ends. */
void pool_reap(pool *p);

/* Kill every worker and refuse new jobs; running jobs fail. */
void pool_stop(pool *p);

#endif
