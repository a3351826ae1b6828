/* release.h - re-inject a quarantined original over SMTP (libcurl).
 *
 * The message goes to the milter-free smtpd of [release] smtp (unix:/PATH
 * or HOST:PORT) as
 * HEADER_LINE + CRLF + the original bytes, with line ends made CRLF (bare
 * LF becomes CRLF, the original's CRLF stay) and dot-stuffed by libcurl.
 * One transaction: any RCPT refused aborts it before DATA, so a release is
 * delivered to every recipient or to none.
 */
#ifndef MUGAI_RELEASE_H
#define MUGAI_RELEASE_H

enum release_result {
	RELEASE_SENT = 0,      /* the server answered 2xx to the end of data */
	RELEASE_REFUSED = 1,   /* a 5xx answer */
	RELEASE_TEMPFAIL = 2,  /* a 4xx answer, or no answer (cannot connect, time-out) */
};

/* Send.  FROM NULL or "" is the null sender <>; RCPT is NULL-terminated.
 * *REPLY gets the server's reply that decided (multi-line replies joined
 * with " / ", g_malloc'ed) or NULL when there was none; *ERROR libcurl's
 * description of a failure, or NULL. */
enum release_result release_send(const char *hostport, const char *from,
                                 const char *const *rcpt, const char *header_line,
                                 int fd, char **reply, char **error);

#endif
