/* spool.h - one message's bytes as the milter receives them.
 *
 * Bytes are kept in memory up to a bound, then moved to an unlinked temp
 * file (O_TMPFILE) in the spool directory; the caller never sees which.
 * A write error is sticky: later writes are dropped and spool_error()
 * returns it, so the milter can answer tempfail at end of message rather
 * than in the middle.  Not thread-safe (one message, one thread at a time).
 */
#ifndef MUGAI_SPOOL_H
#define MUGAI_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct spool spool;

/* MEM_LIMIT bytes in memory before spilling to a file in DIR; no more
 * than MAX_SIZE bytes at all (0: no limit): a write past it fails with
 * -EFBIG, and that error sticks. */
spool *spool_new(uint64_t mem_limit, uint64_t max_size, const char *dir);
spool *spool_free(spool *s);   /* NULL-safe; returns NULL */

/* Append LEN bytes.  0, or the sticky negative errno. */
int spool_write(spool *s, const void *buf, size_t len);

uint64_t spool_size(const spool *s);   /* bytes written to it, kept or not */
int spool_error(const spool *s);    /* 0 or the first negative errno */
int spool_in_file(const spool *s);  /* 1 once spilled to a file */

/* A read-only view to hand to another process: a new descriptor (the
 * caller closes it) holding exactly the bytes written.  It is an unlinked
 * file in DIR (a message still in memory is written there first, so the
 * quarantine can link it), or a sealed memfd when DIR refuses.  Nothing
 * may be written after.  Negative errno on failure. */
int spool_export_fd(spool *s);

#endif
