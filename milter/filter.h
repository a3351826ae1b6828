/* filter.h - the libmilter callbacks of mugai-milter.
 *
 * filter_register() hands libmilter the callback table; messages are run
 * on POOL's workers.  filter_drain() is for shutdown: it waits for the
 * messages whose end of data is being processed.
 */
#ifndef MUGAI_FILTER_H
#define MUGAI_FILTER_H

#include <stdint.h>
#include "milter/pool.h"

/* smfi_register() with our callbacks and required actions.  0 or -1. */
int filter_register(pool *workers);

/* Wait until no message is at end of data, or until DEADLINE
 * (g_get_monotonic_time() microseconds).  Returns how many are left. */
unsigned filter_drain(int64_t deadline);

#endif
