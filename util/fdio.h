/* fdio.h - descriptor loops and checks shared by the whole project. */
#ifndef MUGAI_FDIO_H
#define MUGAI_FDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write all LEN bytes of BUF to FD, retrying after EINTR and short writes.
 * 0, or a negative errno (-EIO when write() made no progress). */
int fd_write_all(int fd, const void *buf, size_t len);

/* Read up to LEN bytes at offset OFF with pread, retrying after EINTR and
 * short reads: the bytes read (fewer only at end of file), or a negative
 * errno.  FD's own offset is not touched. */
ssize_t fd_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* Is FD a regular file of exactly LEN bytes that has no name (O_TMPFILE,
 * memfd, an unlinked file)?  Then nobody can open it to truncate or change
 * it: it is safe to map and to link into the quarantine. */
bool fd_is_unnamed_file(int fd, uint64_t len);

#endif
