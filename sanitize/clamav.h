/* clamav.h - a small clamd client: one INSTREAM scan per call.
 *
 * SPEC is what [detect] clamd_socket holds: "unix:/PATH" or "/PATH" for
 * clamd's LocalSocket, "HOST:PORT" or "[IPV6]:PORT" for its TCPSocket.
 * Every step (connect, each send, the reply) waits at most until DEADLINE
 * (g_get_monotonic_time() microseconds).  No libmilter, no logging: the
 * caller turns the outcome into reasons.
 */
#ifndef MUGAI_CLAMAV_H
#define MUGAI_CLAMAV_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* Outcomes besides 0 (clean). */
enum {
	CLAMAV_FOUND = 1,      /* clamd named a signature (*name) */
	CLAMAV_TOO_LARGE = 2,  /* clamd refused the stream: over its StreamMaxLength */
};

/* Scan SIZE bytes read from FD with pread from offset 0 (the offset is not
 * used), or the LEN bytes at BUF.  Returns 0 clean; CLAMAV_FOUND with *NAME
 * set (g_malloc'd, printable ASCII, at most 128 bytes); CLAMAV_TOO_LARGE;
 * -ETIMEDOUT when DEADLINE passed; -EPROTO when clamd answered with an error
 * or anything this client cannot read; -EIO when FD could not be read (ours,
 * not clamd's); any other negative errno when clamd could not be reached or
 * the connection broke.  On every negative return *DETAIL (g_malloc'd,
 * printable) says which step failed and why, for the audit record.  NAME
 * and DETAIL may be NULL. */
int clamav_scan_fd(const char *spec, int fd, uint64_t size, gint64 deadline,
                   char **name, char **detail);
int clamav_scan_buf(const char *spec, const void *buf, size_t len, gint64 deadline,
                    char **name, char **detail);

#endif
