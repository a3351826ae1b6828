/* worker.h - the pipeline process behind the milter.
 *
 * `mugai-milter --worker FD -c CONFIG [-f]` runs worker_main(): it loads the
 * configuration, initialises the pipeline, sets its resource limits, says
 * hello on FD and then answers one job at a time (job.h) until FD closes.
 */
#ifndef MUGAI_WORKER_H
#define MUGAI_WORKER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* The process's exit code: 0 when the milter closed the socket. */
int worker_main(int sock, const char *config_path, bool log_stderr);

/* The headers in OUT[0, BODY_OFFSET) that replace the original's
 * (pipeline_header_replaced), in order: names, and values with the blank
 * after the colon removed and continuation lines kept as LF + blank. */
void worker_output_headers(const uint8_t *out, size_t body_offset,
                           GPtrArray *names, GPtrArray *values);

#endif
