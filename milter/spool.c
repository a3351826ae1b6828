/* spool.c - memory first, then an unlinked temp file.
 *
 * Owns the message buffer and the temp file descriptor; spool_free()
 * releases both (the file has no name, so nothing is left on disk even
 * after a crash).  Memory use per message is bounded by mem_limit: on the
 * write that would pass it, the buffer is copied to a new O_TMPFILE file
 * in the spool directory and freed.  A message is never kept beyond its
 * size limit: the write that would pass it fails with -EFBIG, which
 * sticks.  The first error sticks and is reported by spool_error();
 * nothing is logged here.
 */
#include "util/fdio.h"
#include "milter/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct spool {
	uint64_t mem_limit;
	uint64_t max_size; /* 0: no limit */
	char *dir;
	GByteArray *mem;   /* NULL once spilled */
	int fd;            /* -1 while in memory */
	uint64_t size;     /* bytes kept */
	uint64_t seen;     /* bytes offered, kept or not */
	int error;
};

spool *spool_new(uint64_t mem_limit, uint64_t max_size, const char *dir)
{
	spool *s = g_new0(spool, 1);
	s->mem_limit = mem_limit;
	s->max_size = max_size;
	s->dir = g_strdup(dir);
	s->mem = g_byte_array_new();
	s->fd = -1;
	return s;
}

spool *spool_free(spool *s)
{
	if (!s)
		return NULL;
	if (s->mem)
		g_byte_array_unref(s->mem);
	if (s->fd >= 0)
		close(s->fd);
	g_free(s->dir);
	g_free(s);
	return NULL;
}

static int spill(spool *s)
{
	int fd = open(s->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = fd_write_all(fd, s->mem->data, s->mem->len);
	if (r < 0) {
		close(fd);
		return r;
	}
	g_byte_array_unref(s->mem);
	s->mem = NULL;
	s->fd = fd;
	return 0;
}

int spool_write(spool *s, const void *buf, size_t len)
{
	s->seen += len;
	if (s->error)
		return s->error;
	if (s->max_size && s->size + len > s->max_size) {
		s->error = -EFBIG;
		return s->error;
	}
	int r = 0;
	if (s->mem && s->size + len > s->mem_limit)
		r = spill(s);
	if (r == 0 && s->mem)
		g_byte_array_append(s->mem, buf, (guint)len);
	else if (r == 0)
		r = fd_write_all(s->fd, buf, len);
	if (r < 0) {
		s->error = r;
		return r;
	}
	s->size += len;
	return 0;
}

uint64_t spool_size(const spool *s)
{
	return s->seen;
}

int spool_error(const spool *s)
{
	return s->error;
}

int spool_in_file(const spool *s)
{
	return s->fd >= 0;
}

/* A read-only descriptor of the open file FD (through /proc, so the reader
 * cannot write); a plain duplicate where /proc is not there. */
static int reopen_read_only(int fd)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int r = open(path, O_RDONLY | O_CLOEXEC);
	if (r < 0)
		r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return r < 0 ? -errno : r;
}

/* The in-memory message as a sealed memfd: nobody can change it after. */
static int export_memfd(const GByteArray *mem)
{
	int fd = memfd_create("mugai-spool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	int r = fd_write_all(fd, mem->data, mem->len);
	if (r == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int spool_export_fd(spool *s)
{
	if (s->error)
		return s->error;
	if (s->fd < 0) {
		/* An unlinked file in the spool directory rather than a memfd: when
		 * the spool shares a file system with the quarantine, the store
		 * links this inode instead of copying the bytes (quarantine_store).
		 * The writable descriptor is kept by the spool and never written
		 * again.  A spool directory that refuses falls back to memory. */
		int fd = open(s->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0)
			return export_memfd(s->mem);
		int r = fd_write_all(fd, s->mem->data, s->mem->len);
		if (r < 0) {
			close(fd);
			return export_memfd(s->mem);
		}
		g_byte_array_unref(s->mem);
		s->mem = NULL;
		s->fd = fd;
	}
	return reopen_read_only(s->fd);
}
