/* worker.h - the pipeline process behind the milter.
 *
 * `mugai-milter --worker FD -c CONFIG [-f]` runs worker_main(): it loads the
 * configuration, initialises the pipeline, sets its resource limits,
 * confines itself (sandbox.h), says hello on FD and then answers one job
 * at a time (job.h) until FD closes.  It writes nothing but its replies.
 */
#ifndef MUGAI_WORKER_H
#define MUGAI_WORKER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* The process's exit code: 0 when the milter closed the socket. */
int worker_main(int sock, const char *config_path, bool log_stderr);

#endif
