/* snapshot.h - the configuration as the milter runs it: refcounted, swapped whole.
 *
 * A snapshot is an immutable mugai_config plus a sealed memfd holding the
 * same configuration as text (config_dump), which is what workers load:
 * they run exactly what the milter validated, not whatever the file says
 * by the time they start.  Each connection holds a reference to the
 * snapshot current when it opened; a reload installs a new one and the old
 * one goes away with its last connection.
 */
#ifndef MUGAI_SNAPSHOT_H
#define MUGAI_SNAPSHOT_H

#include <stddef.h>
#include "config/config.h"

typedef struct snapshot {
	mugai_config *cfg;   /* never changed once built */
	int config_fd;       /* sealed memfd with config_dump(cfg) */
	unsigned gen;        /* 1, 2, ... in load order */
	int refs;            /* atomic */
} snapshot;

/* Load PATH (NULL = the default file, config_load_cli() rules) into a new
 * snapshot with one reference.  0, or -1 with a message in ERR. */
int snapshot_load(const char *path, snapshot **out, char *err, size_t errlen);

snapshot *snapshot_ref(snapshot *s);
snapshot *snapshot_unref(snapshot *s);   /* NULL-safe; returns NULL */

/* The installed snapshot with a new reference for the caller. */
snapshot *snapshot_current(void);

/* Install S, taking over the caller's reference; the previous one loses
 * the reference the installation held. */
void snapshot_install(snapshot *s);

#endif
