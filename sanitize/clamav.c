/* clamav.c - a small clamd client: one INSTREAM scan per connection.
 *
 * Owns nothing between calls.  Each scan connects to clamd, sends
 * "zINSTREAM\0", the bytes as chunks of <4-byte big-endian length><data>,
 * a zero-length chunk, reads one NUL-terminated reply and closes.  One
 * connection per part rather than an IDSESSION: a session broken midway
 * cannot hand one part's answer to the next, and a connect costs little
 * next to a scan.  The socket is non-blocking and every connect, send and
 * receive is polled against the caller's one deadline, so a clamd that
 * accepts and never answers costs at most that much time.  A host name in
 * the spec is resolved by getaddrinfo(), which no deadline bounds: give
 * clamd_socket an address.  clamd answers "INSTREAM size limit exceeded"
 * and closes as soon as a stream passes its StreamMaxLength; the sender
 * watches for that answer while sending, so it is read, not lost to a
 * broken pipe.  Sends use MSG_NOSIGNAL: a clamd that hangs up must not
 * kill the worker with SIGPIPE.  Nothing is logged.
 */
#include "sanitize/clamav.h"
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CHUNK 65536
#define REPLY_MAX 1024   /* a reply is a signature name and a few words */
#define NAME_MAX_LEN 128

/* Printable ASCII copy of LEN bytes of S, at most MAX bytes: clamd's words
 * go into reasons, the notice and the audit record. */
static char *printable(const char *s, size_t len, size_t max)
{
	GString *o = g_string_sized_new(MIN(len, max) + 1);
	for (size_t i = 0; i < len && o->len < max; i++) {
		unsigned char c = (unsigned char)s[i];
		g_string_append_c(o, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	return g_string_free(o, FALSE);
}

static void set_detail(char **detail, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void set_detail(char **detail, const char *fmt, ...)
{
	if (!detail)
		return;
	va_list ap;
	va_start(ap, fmt);
	g_free(*detail);
	*detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/* Milliseconds to DEADLINE, rounded up so poll() never wakes early; 0 once
 * it has passed. */
static int remaining_ms(gint64 deadline)
{
	gint64 left = deadline - g_get_monotonic_time();
	if (left <= 0)
		return 0;
	return (int)MIN((left + 999) / 1000, (gint64)INT_MAX);
}

/* Wait for EVENTS on FD: the revents, 0 once DEADLINE passed, or -errno. */
static int wait_fd(int fd, short events, gint64 deadline)
{
	for (;;) {
		int ms = remaining_ms(deadline);
		if (ms == 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			return p.revents;
	}
}

/* connect() on a non-blocking socket, finished within DEADLINE. */
static int connect_wait(int fd, const struct sockaddr *sa, socklen_t salen, gint64 deadline)
{
	for (;;) {
		if (connect(fd, sa, salen) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* a unix socket whose listen queue is full: clamd is busy */
			int ms = remaining_ms(deadline);
			if (ms == 0)
				return -ETIMEDOUT;
			poll(NULL, 0, MIN(ms, 10));
			continue;
		}
		if (errno != EINPROGRESS)
			return -errno;
		int ev = wait_fd(fd, POLLOUT, deadline);
		if (ev < 0)
			return ev;
		if (ev == 0)
			return -ETIMEDOUT;
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			return -errno;
		return err ? -err : 0;
	}
}

static int connect_unix(const char *path, gint64 deadline, char **detail)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		set_detail(detail, "connect %s: path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int r = -errno;
		set_detail(detail, "socket: %s", g_strerror(-r));
		return r;
	}
	int r = connect_wait(fd, (const struct sockaddr *)&sa, sizeof sa, deadline);
	if (r < 0) {
		set_detail(detail, "connect unix:%s: %s", path, g_strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* HOST:PORT or [IPV6]:PORT (the config validator checked the form); each
 * address in turn, all within DEADLINE. */
static int connect_tcp(const char *spec, gint64 deadline, char **detail)
{
	char *host, *port;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':') {
			set_detail(detail, "%s: not HOST:PORT", spec);
			return -EINVAL;
		}
		host = g_strndup(spec + 1, (gsize)(close - spec - 1));
		port = g_strdup(close + 2);
	} else {
		const char *colon = strrchr(spec, ':');
		if (!colon) {
			set_detail(detail, "%s: not HOST:PORT", spec);
			return -EINVAL;
		}
		host = g_strndup(spec, (gsize)(colon - spec));
		port = g_strdup(colon + 1);
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int gr = getaddrinfo(host, port, &hints, &res);
	int fd = -EHOSTUNREACH;
	if (gr != 0) {
		set_detail(detail, "resolve %s: %s", host, gai_strerror(gr));
		fd = -EHOSTUNREACH;
	}
	for (struct addrinfo *a = gr == 0 ? res : NULL; a; a = a->ai_next) {
		int s = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (s < 0) {
			fd = -errno;
			set_detail(detail, "socket: %s", g_strerror(errno));
			continue;
		}
		int r = connect_wait(s, a->ai_addr, a->ai_addrlen, deadline);
		if (r == 0) {
			/* the last small chunk must not wait for a delayed ACK */
			int one = 1;
			setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			fd = s;
			break;
		}
		close(s);
		fd = r;
		set_detail(detail, "connect %s: %s", spec, g_strerror(-r));
		if (r == -ETIMEDOUT)
			break;
	}
	if (res)
		freeaddrinfo(res);
	g_free(host);
	g_free(port);
	return fd;
}

static int clamd_connect(const char *spec, gint64 deadline, char **detail)
{
	if (g_str_has_prefix(spec, "unix:"))
		return connect_unix(spec + 5, deadline, detail);
	if (spec[0] == '/')
		return connect_unix(spec, deadline, detail);
	return connect_tcp(spec, deadline, detail);
}

/* Send LEN bytes.  0 when all went, 1 when clamd answered or hung up
 * first (its reply, if any, says why), negative errno otherwise. */
static int send_all(int fd, const char *buf, size_t len, gint64 deadline)
{
	while (len > 0) {
		int ev = wait_fd(fd, POLLOUT | POLLIN, deadline);
		if (ev < 0)
			return ev;
		if (ev == 0)
			return -ETIMEDOUT;
		if (ev & (POLLIN | POLLHUP | POLLERR))
			return 1;
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return 1;
			return errno == EIO ? -ECONNRESET : -errno;  /* -EIO means our read */
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one reply: up to its NUL, or to EOF.  The byte count, or -errno. */
static ssize_t read_reply(int fd, char *buf, size_t cap, gint64 deadline)
{
	size_t len = 0;
	while (len < cap) {
		int ev = wait_fd(fd, POLLIN, deadline);
		if (ev < 0)
			return ev;
		if (ev == 0)
			return -ETIMEDOUT;
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n == 0)
			return (ssize_t)len;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return errno == EIO ? -ECONNRESET : -errno;
		}
		if (memchr(buf + len, '\0', (size_t)n))
			return (ssize_t)(len + (size_t)n);
		len += (size_t)n;
	}
	return -EMSGSIZE;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* One reply to zINSTREAM: "stream: OK", "stream: NAME FOUND" (with
 * ExtendedDetectionInfo "stream: NAME(md5:size) FOUND"), "INSTREAM size
 * limit exceeded. ERROR"; anything else, including other errors, is
 * -EPROTO. */
static int parse_reply(const char *reply, size_t len, char **name)
{
	const char *nul = memchr(reply, '\0', len);
	if (nul)
		len = (size_t)(nul - reply);
	while (len > 0 && (reply[len - 1] == '\n' || reply[len - 1] == '\r'))
		len--;
	static const char stream[] = "stream: ";
	size_t sl = sizeof stream - 1;
	if (len == sl + 2 && memcmp(reply, "stream: OK", len) == 0)
		return 0;
	if (len > sl && memcmp(reply, stream, sl) == 0 && ends_with(reply, len, " FOUND")) {
		const char *n = reply + sl;
		size_t nl = len - sl - 6;
		if (nl > 0 && n[nl - 1] == ')') {
			const char *open = memrchr(n, '(', nl);
			if (open)
				nl = (size_t)(open - n);
		}
		while (nl > 0 && n[nl - 1] == ' ')
			nl--;
		if (nl == 0)
			return -EPROTO;
		if (name) {
			g_free(*name);
			*name = printable(n, nl, NAME_MAX_LEN);
		}
		return CLAMAV_FOUND;
	}
	if (ends_with(reply, len, " ERROR") && g_strstr_len(reply, (gssize)len, "size limit exceeded"))
		return CLAMAV_TOO_LARGE;
	return -EPROTO;
}

/* The scan, from FD (pread) when FD >= 0, else from BUF. */
static int scan(const char *spec, int in_fd, const char *buf, uint64_t size, gint64 deadline,
                char **name, char **detail)
{
	int fd = clamd_connect(spec, deadline, detail);
	if (fd < 0)
		return fd;
	int rc = send_all(fd, "zINSTREAM", sizeof "zINSTREAM", deadline);  /* with its NUL */
	char *chunk = g_malloc(4 + CHUNK);
	uint64_t off = 0;
	while (rc == 0) {
		size_t n = (size_t)MIN((uint64_t)CHUNK, size - off);
		if (n > 0 && in_fd >= 0) {
			ssize_t got = pread(in_fd, chunk + 4, n, (off_t)off);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				set_detail(detail, "read part: %s", got < 0 ? g_strerror(errno) : "unexpected end of file");
				rc = -EIO;
				break;
			}
			n = (size_t)got;
		} else if (n > 0) {
			memcpy(chunk + 4, buf + off, n);
		}
		chunk[0] = (char)(n >> 24);
		chunk[1] = (char)(n >> 16);
		chunk[2] = (char)(n >> 8);
		chunk[3] = (char)n;
		rc = send_all(fd, chunk, 4 + n, deadline);
		off += n;
		if (n == 0)
			break;   /* the zero-length chunk ends the stream */
	}
	g_free(chunk);
	if (rc < 0 && rc != -EIO)
		set_detail(detail, "send to %s: %s", spec,
		           rc == -ETIMEDOUT ? "timed out: clamd took no more data" : g_strerror(-rc));
	if (rc >= 0) {
		char reply[REPLY_MAX];
		ssize_t n = read_reply(fd, reply, sizeof reply, deadline);
		if (n < 0) {
			rc = (int)n;
			set_detail(detail, "reply from %s: %s", spec,
			           rc == -ETIMEDOUT ? "timed out waiting for the answer"
			           : rc == -EMSGSIZE ? "answer too long" : g_strerror(-rc));
			if (rc == -EMSGSIZE)
				rc = -EPROTO;
		} else if (n == 0) {
			rc = -EPROTO;
			set_detail(detail, "reply from %s: connection closed without an answer", spec);
		} else {
			rc = parse_reply(reply, (size_t)n, name);
			if (rc == -EPROTO) {
				const char *nul = memchr(reply, '\0', (size_t)n);
				char *p = printable(reply, nul ? (size_t)(nul - reply) : (size_t)n, 200);
				set_detail(detail, "clamd answered: %s", p);
				g_free(p);
			}
		}
	}
	close(fd);
	return rc;
}

int clamav_scan_fd(const char *spec, int fd, uint64_t size, gint64 deadline,
                   char **name, char **detail)
{
	return scan(spec, fd, NULL, size, deadline, name, detail);
}

int clamav_scan_buf(const char *spec, const void *buf, size_t len, gint64 deadline,
                    char **name, char **detail)
{
	return scan(spec, -1, buf, len, deadline, name, detail);
}
