/* fdio.h - the write loop every writer of this project needs. */
#ifndef MUGAI_FDIO_H
#define MUGAI_FDIO_H

#include <stddef.h>

/* Write all LEN bytes of BUF to FD, retrying after EINTR and short writes.
 * 0, or a negative errno (-EIO when write() made no progress). */
int fd_write_all(int fd, const void *buf, size_t len);

#endif
