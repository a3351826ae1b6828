/* release.c - re-injecting a quarantined original over SMTP with libcurl.
 *
 * Owns the SMTP transaction of `mugai quarantine release`: libcurl's SMTP
 * client (MAIL FROM, RCPT TO, DATA, dot-stuffing of CRLF "." lines, the
 * final dot), fed by a read callback that prepends the release header and
 * turns bare LF into CRLF on the way (carry-over state in struct upload:
 * the callback sees the file in pieces and its buffer may end between CR
 * and LF).  The server's reply lines are taken from libcurl's debug
 * callback (CURLINFO_HEADER_IN), so a refusal is reported in the server's
 * own words.  No TLS, no authentication, no proxy: the server is the
 * milter-free smtpd of packaging/postfix-master.cf, on a unix socket in
 * Postfix's private/ directory (unix:/PATH), or HOST:PORT.  Logs nothing.
 */
#include "cli/release.h"

#include <curl/curl.h>
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_BUF (64 * 1024)

struct upload {
	const char *head;      /* header line + CRLF, sent first */
	size_t head_len, head_off;
	int fd;
	char buf[READ_BUF];    /* bytes read from FD not yet converted */
	size_t len, off;
	bool prev_cr;          /* the last byte handed out was CR */
	bool lf_pending;       /* a LF whose CR went out at the end of the last call */
	bool eof;
	int read_errno;
};

static size_t on_read(char *out, size_t size, size_t nitems, void *user)
{
	struct upload *u = user;
	size_t cap = size * nitems, n = 0;
	while (n < cap && u->head_off < u->head_len)
		out[n++] = u->head[u->head_off++];
	if (n < cap && u->lf_pending) {
		out[n++] = '\n';
		u->lf_pending = false;
		u->prev_cr = false;
	}
	while (n < cap) {
		if (u->off == u->len) {
			if (u->eof)
				break;
			ssize_t r = read(u->fd, u->buf, sizeof u->buf);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				u->read_errno = errno;
				return CURL_READFUNC_ABORT;
			}
			if (r == 0) {
				u->eof = true;
				break;
			}
			u->len = (size_t)r;
			u->off = 0;
		}
		char c = u->buf[u->off++];
		if (c == '\n' && !u->prev_cr) {
			out[n++] = '\r';
			if (n == cap) {
				u->lf_pending = true;
				break;
			}
		}
		out[n++] = c;
		u->prev_cr = c == '\r';
	}
	return n;
}

/* The server's replies as libcurl sees them, one line at a time. */
struct talk {
	GString *current;      /* lines of the reply being read */
	char *last;            /* the last complete reply before QUIT */
	bool quit;
};

static void reply_line(struct talk *t, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len == 0)
		return;
	if (t->current->len)
		g_string_append(t->current, " / ");
	g_string_append_len(t->current, line, (gssize)len);
	/* "250-..." continues, "250 ..." (or a bare code) ends a reply */
	if (len < 4 || line[3] != '-') {
		g_free(t->last);
		t->last = g_strdup(t->current->str);
		g_string_truncate(t->current, 0);
	}
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *user)
{
	(void)h;
	struct talk *t = user;
	if (type == CURLINFO_HEADER_OUT && size >= 4 && g_ascii_strncasecmp(data, "QUIT", 4) == 0)
		t->quit = true;   /* "221 Bye" is not the answer to the release */
	if (type != CURLINFO_HEADER_IN || t->quit)
		return 0;
	const char *p = data, *end = data + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
		reply_line(t, p, len);
		p += len;
	}
	return 0;
}

enum release_result release_send(const char *hostport, const char *from,
                                 const char *const *rcpt, const char *header_line,
                                 int fd, char **reply, char **error)
{
	*reply = NULL;
	*error = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*error = g_strdup("curl_global_init failed");
		return RELEASE_TEMPFAIL;
	}
	CURL *h = curl_easy_init();
	if (!h) {
		curl_global_cleanup();
		*error = g_strdup("curl_easy_init failed");
		return RELEASE_TEMPFAIL;
	}
	struct upload *u = g_new0(struct upload, 1);
	char *head = g_strconcat(header_line, "\r\n", NULL);
	u->head = head;
	u->head_len = strlen(head);
	u->fd = fd;
	struct talk t = { .current = g_string_new(NULL) };
	char errbuf[CURL_ERROR_SIZE] = "";
	/* unix:/PATH: Postfix's private/ socket, which only root and postfix
	 * may reach; the URL's path is the name said in EHLO */
	bool unix_sock = g_str_has_prefix(hostport, "unix:");
	char *url = unix_sock ? g_strdup("smtp://localhost/mugai-release") : g_strdup_printf("smtp://%s", hostport);
	char *mfrom = from && *from ? g_strdup_printf("<%s>", from) : NULL;
	struct curl_slist *to = NULL;
	for (const char *const *r = rcpt; r && *r; r++) {
		char *a = g_strdup_printf("<%s>", *r);
		to = curl_slist_append(to, a);
		g_free(a);
	}

	curl_easy_setopt(h, CURLOPT_URL, url);
	if (unix_sock)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, hostport + 5);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp");
	curl_easy_setopt(h, CURLOPT_PROXY, "");          /* never through $all_proxy */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 600L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (mfrom)
		curl_easy_setopt(h, CURLOPT_MAIL_FROM, mfrom);   /* unset: MAIL FROM:<> */
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, u);
	/* the debug callback is only called in verbose mode; it prints nothing */
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, &t);

	CURLcode res = curl_easy_perform(h);
	long os_errno = 0;
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	/* QUIT happens here at the latest; its 221 is ignored */
	curl_easy_cleanup(h);

	int code = t.last && g_ascii_isdigit(t.last[0]) ? atoi(t.last) : 0;
	enum release_result rr;
	if (res == CURLE_OK && code >= 200 && code < 300)
		rr = RELEASE_SENT;
	else if (code >= 500 && code < 600)
		rr = RELEASE_REFUSED;
	else
		rr = RELEASE_TEMPFAIL;
	if (rr == RELEASE_TEMPFAIL && code < 400) {
		/* no answer to blame (connection lost after a 250): say what broke */
		g_free(t.last);
		t.last = NULL;
	}
	if (rr != RELEASE_SENT) {
		if (u->read_errno)
			*error = g_strdup_printf("reading the original: %s", g_strerror(u->read_errno));
		else if (res == CURLE_COULDNT_CONNECT && os_errno)   /* libcurl says the same for all of them */
			*error = g_strdup_printf("cannot connect to %s: %s", hostport, g_strerror((int)os_errno));
		else
			*error = g_strdup(errbuf[0] ? errbuf : curl_easy_strerror(res));
	}
	*reply = t.last;
	g_string_free(t.current, TRUE);
	curl_slist_free_all(to);
	g_free(mfrom);
	g_free(url);
	g_free(head);
	g_free(u);
	curl_global_cleanup();
	return rr;
}
