/* fdio.c - whole-buffer writes and reads on descriptors, and the check
 * for a file without a name.
 *
 * One write loop for the CLI's stdout, the milter's spool, the quarantine,
 * the part spill files and archive entries, one pread loop for the readers
 * of originals and parts: EINTR is retried, a short transfer continues, and
 * the caller gets a count or a negative errno.
 */
#include "util/fdio.h"
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

int fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t fd_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

bool fd_is_unnamed_file(int fd, uint64_t len)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0 &&
	       (uint64_t)st.st_size == len;
}
