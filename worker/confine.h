/* confine.h - parsing hostile bytes in a child that can harm nothing else.
 *
 * `mugai sanitize` and `export --part`, run as root, would otherwise parse
 * a mail with root's rights and no limits.  The child they use instead
 * holds only the descriptors it was handed, runs as nobody when started
 * as root, under the workers' resource limits ([milter] worker_memory,
 * worker_file_size, worker_files, a CPU limit from [limits] time) and in
 * the workers' sandbox ([milter] worker_sandbox), and is killed when it
 * outlives [limits] time.
 */
#ifndef MUGAI_CONFINE_H
#define MUGAI_CONFINE_H

#include <stddef.h>
#include "config/config.h"
#include "worker/sandbox.h"

/* The sandbox of a parsing process as the configuration has it: mode
 * [milter] worker_sandbox, TMP_DIR writable (spill files), the quarantine,
 * the review state, the logs' directories and the spool hidden, clamd
 * reachable when [detect] clamd_socket names it. */
typedef struct confine_spec {
	sandbox_spec spec;
	const char *hide[6];
	char *owned[4];
	char *host;
} confine_spec;
void confine_spec_init(confine_spec *cs, const mugai_config *cfg, const char *tmp_dir);
void confine_spec_clear(confine_spec *cs);

/* Run FN(ARG) in such a child.  FN's return value (an int; negative
 * errno for its failures) comes back in *RESULT.  0 when the child
 * reported, or a negative errno: -ETIMEDOUT (killed at the deadline),
 * -ECHILD (it died or could not be confined: WHY says how). */
int confine_run(const mugai_config *cfg, int (*fn)(void *arg), void *arg, int *result,
                char *why, size_t whylen);

#endif
