/* sanitize.h - `mugai sanitize`, after its options are read. */
#ifndef MUGAI_CLI_SANITIZE_H
#define MUGAI_CLI_SANITIZE_H

#include <stdbool.h>
#include "config/config.h"

/* The message in FD (seekable, read from its start) through the pipeline in
 * a confined child; its quarantine entry and audit record made durable
 * here; the output on stdout, or the refusal on stderr (with EXPLAIN, the
 * child's decisions too).  ID is the record's ID (NULL: the quarantine
 * ID).  Returns the exit code: 0, 1 rejected or discarded, 75 tempfail. */
int sanitize_run(const mugai_config *cfg, const char *id, bool explain, int fd);

#endif
