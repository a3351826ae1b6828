/* job.h - the protocol between a parsing process and its parent: framing, encoding, checks.
 *
 * Both directions use the same frame on a SOCK_STREAM socketpair:
 *   u32 magic, u32 payload length (little-endian), payload.
 * At most one descriptor rides on the 8 header bytes (SCM_RIGHTS).
 *   hello  (worker -> milter, once, after init)   payload: u32 protocol version
 *   job    (milter -> worker)  fd: the message     payload: see job
 *   reply  (worker -> milter)  fd: the output message (memfd), only when
 *                                  the verdict delivers  payload: see job_reply
 * The worker writes nothing itself: its reply carries the audit record,
 * which the milter checks, completes with what it knows itself (the
 * envelope, the size), and makes durable with the quarantine entry.
 * Payload fields are u32 / u64 little-endian or strings (u32 length, bytes,
 * no NUL); an empty string stands for "none".  Decoders reject anything
 * short, long, trailing or containing NUL: a worker is not trusted.
 */
#ifndef MUGAI_JOB_H
#define MUGAI_JOB_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "sanitize/result.h"

#define JOB_MAGIC_HELLO 0x3148474du   /* "MGH1" */
#define JOB_MAGIC_JOB   0x314a474du   /* "MGJ1" */
#define JOB_MAGIC_REPLY 0x3152474du   /* "MGR1" */
#define JOB_PROTOCOL 2
#define JOB_MAX_PAYLOAD (16u << 20)   /* recipients, or the record of 100,000 parts */

typedef struct job {
	uint64_t seq;          /* echoed in the reply */
	char *queue_id;        /* NULL when unknown */
	char *env_from;
	char *client;
	char *quarantine_id;   /* minted by the milter: the worker's entry, if any, has this ID */
	GPtrArray *rcpt;       /* char * */
	char *test_fault;      /* a fault a test build injects (milter/testhooks.h); ignored otherwise */
} job;

typedef struct job_reply {
	uint64_t seq;
	enum verdict verdict;
	char *verdict_reason;  /* rejected / tempfail only */
	char *status;          /* X-Mugai-Status value */
	char *subject_out;     /* NULL = Subject unchanged */
	bool subject_added;
	bool has_output;       /* a descriptor with the output message came along */
	uint64_t body_offset;  /* where the output's body starts */
	char *quarantine_id;
	uint32_t removed;      /* parts removed */
	uint64_t size;         /* bytes of the original */
	uint64_t elapsed_ms;   /* pipeline time in the worker */
	char *record;          /* the audit record (JSON object), for every verdict */
} job_reply;

job *job_new(void);
job *job_free(job *j);                    /* NULL-safe; returns NULL */
job_reply *job_reply_new(void);
job_reply *job_reply_free(job_reply *r);  /* NULL-safe; returns NULL */

/* The reply to job SEQ for the pipeline's result RES; HAS_OUTPUT: its
 * output goes along (the status, Subject and body offset are then set). */
job_reply *job_reply_from_result(uint64_t seq, const mugai_result *res, bool has_output);

/* Whole frames (header and payload), ready for frame_send(). */
GByteArray *job_encode(const job *j);
GByteArray *job_reply_encode(const job_reply *r);
GByteArray *job_hello_encode(void);

/* Payload decoders: 0, or -EBADMSG with *out NULL. */
int job_decode(const uint8_t *p, size_t len, job **out);
int job_reply_decode(const uint8_t *p, size_t len, job_reply **out);
int job_hello_decode(const uint8_t *p, size_t len);

/* Is R a reply the milter may act on, for job SEQ whose quarantine ID is
 * QID, with an output of OUT_SIZE bytes?  0, or -EBADMSG with *why set to
 * a static phrase. */
int job_reply_check(const job_reply *r, uint64_t seq, const char *qid, uint64_t out_size, const char **why);

/* R's record as an object whose verdict and quarantine ID are R's: 0 and
 * *OUT (a new object), or -EBADMSG with *why set. */
int job_reply_record(const job_reply *r, json_object **out, const char **why);

/* A header value we may hand to libmilter: printable ASCII and TAB, lines
 * joined by LF + blank, no CR, no NUL, each line under 998 octets. */
bool job_header_value_ok(const char *v);

/* ---- frames on a socket ---- */

/* Send FRAME with FD attached (-1 = none); blocking, no SIGPIPE.  0 or -errno. */
int frame_send(int sock, const GByteArray *frame, int fd);

/* Incremental reader: works on blocking and non-blocking sockets. */
typedef struct frame_reader {
	uint32_t want_magic;
	uint8_t head[8];
	size_t got;            /* bytes of head, then of payload */
	uint32_t len;          /* payload length once the head is in */
	uint8_t *payload;
	int fd;                /* received descriptor or -1 */
} frame_reader;

void frame_reader_init(frame_reader *fr, uint32_t want_magic);
void frame_reader_clear(frame_reader *fr);   /* frees payload, closes fd */
/* 1 frame complete, 0 would block, -ECONNRESET at end of stream,
 * -EBADMSG for a bad frame (wrong magic, too long, stray descriptors),
 * other -errno from recvmsg. */
int frame_read(frame_reader *fr, int sock);

#endif
