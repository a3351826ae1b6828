/* job.c - encoding, decoding and checking the worker protocol (job.h).
 *
 * Owns nothing beyond the structs it allocates; job_free() and
 * job_reply_free() free every string.  Decoders treat the input as hostile
 * (a worker is a process that parsed attacker data): every length is
 * checked against what is left, strings may not hold NUL, trailing bytes
 * are an error.  job_reply_check() is the milter's last word on whether a
 * reply can be applied; it logs nothing, the caller logs the phrase.
 */
#include "worker/job.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sanitize/pipeline.h"
#include "sanitize/verdict.h"
#include "store/store.h"

#define FRAME_SEND_STALL_MS 10000

job *job_new(void)
{
	job *j = g_new0(job, 1);
	j->rcpt = g_ptr_array_new_with_free_func(g_free);
	return j;
}

job *job_free(job *j)
{
	if (!j)
		return NULL;
	g_free(j->queue_id);
	g_free(j->env_from);
	g_free(j->client);
	g_free(j->quarantine_id);
	g_free(j->test_fault);
	g_ptr_array_unref(j->rcpt);
	g_free(j);
	return NULL;
}

job_reply *job_reply_new(void)
{
	return g_new0(job_reply, 1);
}

job_reply *job_reply_free(job_reply *r)
{
	if (!r)
		return NULL;
	g_free(r->verdict_reason);
	g_free(r->status);
	g_free(r->subject_out);
	g_free(r->quarantine_id);
	g_free(r->record);
	g_free(r);
	return NULL;
}

job_reply *job_reply_from_result(uint64_t seq, const mugai_result *res, bool has_output)
{
	job_reply *rep = job_reply_new();
	rep->seq = seq;
	rep->verdict = res->verdict;
	rep->verdict_reason = g_strdup(res->verdict_reason);
	rep->quarantine_id = g_strdup(res->quarantine_id);
	rep->removed = result_count_action(res, PART_REMOVED);
	rep->size = res->size;
	rep->elapsed_ms = (uint64_t)(res->elapsed_ms > 0 ? res->elapsed_ms : 0);
	if (has_output) {
		rep->has_output = true;
		rep->status = g_strdup(res->status);
		rep->subject_out = g_strdup(res->subject_out);
		rep->subject_added = res->subject_added;
		rep->body_offset = res->body_offset;
	}
	rep->record = audit_record_json(res);
	return rep;
}

/* ---- writing ---- */

static void put_u32(GByteArray *b, uint32_t v)
{
	uint8_t x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
	g_byte_array_append(b, x, 4);
}

static void put_u64(GByteArray *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void put_str(GByteArray *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	put_u32(b, (uint32_t)n);
	if (n)
		g_byte_array_append(b, (const guint8 *)s, (guint)n);
}

static GByteArray *frame_start(uint32_t magic)
{
	GByteArray *b = g_byte_array_new();
	put_u32(b, magic);
	put_u32(b, 0);   /* length, patched by frame_end() */
	return b;
}

static GByteArray *frame_end(GByteArray *b)
{
	uint32_t n = b->len - 8;
	uint8_t x[4] = { n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >> 24 };
	memcpy(b->data + 4, x, 4);
	return b;
}

GByteArray *job_encode(const job *j)
{
	GByteArray *b = frame_start(JOB_MAGIC_JOB);
	put_u64(b, j->seq);
	put_str(b, j->queue_id);
	put_str(b, j->env_from);
	put_str(b, j->client);
	put_str(b, j->quarantine_id);
	put_u32(b, j->rcpt->len);
	for (guint i = 0; i < j->rcpt->len; i++)
		put_str(b, g_ptr_array_index(j->rcpt, i));
	put_str(b, j->test_fault);
	return frame_end(b);
}

GByteArray *job_reply_encode(const job_reply *r)
{
	GByteArray *b = frame_start(JOB_MAGIC_REPLY);
	put_u64(b, r->seq);
	put_u32(b, (uint32_t)r->verdict);
	put_u32(b, (r->subject_added ? 1u : 0u) | (r->has_output ? 2u : 0u));
	put_u64(b, r->body_offset);
	put_u32(b, r->removed);
	put_u64(b, r->size);
	put_u64(b, r->elapsed_ms);
	put_str(b, r->verdict_reason);
	put_str(b, r->status);
	put_str(b, r->subject_out);
	put_str(b, r->quarantine_id);
	put_str(b, r->record);
	return frame_end(b);
}

GByteArray *job_hello_encode(void)
{
	GByteArray *b = frame_start(JOB_MAGIC_HELLO);
	put_u32(b, JOB_PROTOCOL);
	return frame_end(b);
}

/* ---- reading ---- */

typedef struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
} cursor;

static uint32_t get_u32(cursor *c)
{
	if (c->bad || c->left < 4) {
		c->bad = true;
		return 0;
	}
	uint32_t v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
	c->p += 4;
	c->left -= 4;
	return v;
}

static uint64_t get_u64(cursor *c)
{
	uint64_t lo = get_u32(c);
	return lo | (uint64_t)get_u32(c) << 32;
}

/* NULL for an empty string (and on error; check c->bad). */
static char *get_str(cursor *c)
{
	uint32_t n = get_u32(c);
	if (c->bad || n > c->left || memchr(c->p, 0, n)) {
		c->bad = true;
		return NULL;
	}
	char *s = n ? g_strndup((const char *)c->p, n) : NULL;
	c->p += n;
	c->left -= n;
	return s;
}

/* A count of items each at least MIN_SIZE bytes long: bounded by what is left. */
static uint32_t get_count(cursor *c, size_t min_size)
{
	uint32_t n = get_u32(c);
	if (!c->bad && n > c->left / min_size)
		c->bad = true;
	return c->bad ? 0 : n;
}

static bool finish(cursor *c)
{
	return !c->bad && c->left == 0;
}

int job_decode(const uint8_t *p, size_t len, job **out)
{
	cursor c = { p, len, false };
	job *j = job_new();
	j->seq = get_u64(&c);
	j->queue_id = get_str(&c);
	j->env_from = get_str(&c);
	j->client = get_str(&c);
	j->quarantine_id = get_str(&c);
	uint32_t n = get_count(&c, 4);
	for (uint32_t i = 0; i < n && !c.bad; i++) {
		char *r = get_str(&c);
		g_ptr_array_add(j->rcpt, r ? r : g_strdup(""));
	}
	j->test_fault = get_str(&c);
	if (!finish(&c)) {
		*out = job_free(j);
		return -EBADMSG;
	}
	*out = j;
	return 0;
}

int job_reply_decode(const uint8_t *p, size_t len, job_reply **out)
{
	cursor c = { p, len, false };
	job_reply *r = job_reply_new();
	r->seq = get_u64(&c);
	uint32_t v = get_u32(&c);
	uint32_t flags = get_u32(&c);
	r->body_offset = get_u64(&c);
	r->removed = get_u32(&c);
	r->size = get_u64(&c);
	r->elapsed_ms = get_u64(&c);
	r->verdict_reason = get_str(&c);
	r->status = get_str(&c);
	r->subject_out = get_str(&c);
	r->quarantine_id = get_str(&c);
	r->record = get_str(&c);
	if (v > VERDICT_TEMPFAIL || (flags & ~3u))
		c.bad = true;
	r->verdict = (enum verdict)v;
	r->subject_added = flags & 1u;
	r->has_output = flags & 2u;
	if (!finish(&c)) {
		*out = job_reply_free(r);
		return -EBADMSG;
	}
	*out = r;
	return 0;
}

int job_hello_decode(const uint8_t *p, size_t len)
{
	cursor c = { p, len, false };
	uint32_t v = get_u32(&c);
	return finish(&c) && v == JOB_PROTOCOL ? 0 : -EBADMSG;
}

/* ---- checks ---- */

bool job_header_value_ok(const char *v)
{
	size_t col = 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '\n') {
			if (p[1] != ' ' && p[1] != '\t')
				return false;   /* a bare LF would start a new header */
			col = 0;
			continue;
		}
		if ((*p < 0x20 && *p != '\t') || *p > 0x7e)
			return false;
		if (++col >= 998)
			return false;
	}
	return true;
}

#define FAIL(phrase) do { *why = phrase; return -EBADMSG; } while (0)

int job_reply_check(const job_reply *r, uint64_t seq, const char *qid, uint64_t out_size, const char **why)
{
	if (r->seq != seq)
		FAIL("reply for another job");
	if (r->quarantine_id && (!qid || strcmp(r->quarantine_id, qid) != 0))
		FAIL("a quarantine ID the milter did not give");
	if (!r->record)
		FAIL("no audit record");
	if (r->verdict > VERDICT_SUSPECT) {
		if (r->has_output)
			FAIL("output with a verdict that delivers nothing");
		if (!r->verdict_reason || verdict_lookup(r->verdict_reason)->verdict != r->verdict)
			FAIL("verdict does not match its reason");
		return 0;
	}
	if (!r->has_output)
		FAIL("deliverable verdict without output");
	if (r->body_offset == 0 || r->body_offset > out_size)
		FAIL("body offset outside the output");
	if (!r->status || !job_header_value_ok(r->status))
		FAIL("bad status value");
	if (r->subject_out && !job_header_value_ok(r->subject_out))
		FAIL("bad Subject value");
	if (r->subject_added && !r->subject_out)
		FAIL("Subject added without a value");
	return 0;
}

int job_reply_record(const job_reply *r, json_object **out, const char **why)
{
	*out = NULL;
	size_t n = r->record ? strlen(r->record) : 0;
	json_tokener *tok = json_tokener_new();
	json_object *o = n ? json_tokener_parse_ex(tok, r->record, (int)n) : NULL;
	bool whole = o && json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == n;
	json_tokener_free(tok);
	json_object *v, *q;
	const char *reason = NULL;
	if (!whole || !json_object_is_type(o, json_type_object))
		reason = "the record is not one JSON object";
	else if (!json_object_object_get_ex(o, "verdict", &v) || !json_object_is_type(v, json_type_string) ||
	         strcmp(json_object_get_string(v), verdict_name(r->verdict)) != 0)
		reason = "the record's verdict is not the reply's";
	else if (!json_object_object_get_ex(o, "quarantine_id", &q) ||
	         (r->quarantine_id ? !json_object_is_type(q, json_type_string) ||
	                             strcmp(json_object_get_string(q), r->quarantine_id) != 0
	                           : !json_object_is_type(q, json_type_null)))
		reason = "the record's quarantine ID is not the reply's";
	if (reason) {
		json_object_put(o);
		*why = reason;
		return -EBADMSG;
	}
	*out = o;
	return 0;
}

/* ---- frames ---- */

int frame_send(int sock, const GByteArray *frame, int fd)
{
	size_t off = 0;
	while (off < frame->len) {
		struct iovec iov = { frame->data + off, frame->len - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int))];
		} cm;
		if (off == 0 && fd >= 0) {
			memset(&cm, 0, sizeof cm);
			mh.msg_control = cm.buf;
			mh.msg_controllen = sizeof cm.buf;
			struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(h), &fd, sizeof fd);
		}
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* a non-blocking socket with a full buffer: the peer reads
			 * jobs as soon as it is idle, so a long stall means it is not */
			struct pollfd pfd = { .fd = sock, .events = POLLOUT };
			int k = poll(&pfd, 1, FRAME_SEND_STALL_MS);
			if (k == 0)
				return -ETIMEDOUT;
			if (k < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

void frame_reader_init(frame_reader *fr, uint32_t want_magic)
{
	memset(fr, 0, sizeof *fr);
	fr->want_magic = want_magic;
	fr->fd = -1;
}

void frame_reader_clear(frame_reader *fr)
{
	g_free(fr->payload);
	if (fr->fd >= 0)
		close(fr->fd);
	frame_reader_init(fr, fr->want_magic);
}

/* Take the descriptors that came with a read; more than one in a frame is an error. */
static int take_fds(frame_reader *fr, struct msghdr *mh)
{
	int bad = (mh->msg_flags & MSG_CTRUNC) ? -EBADMSG : 0;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(mh); h; h = CMSG_NXTHDR(mh, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
			if (fr->fd < 0 && fr->got == 0 && !bad) {
				fr->fd = fd;
			} else {
				close(fd);
				bad = -EBADMSG;
			}
		}
	}
	return bad;
}

int frame_read(frame_reader *fr, int sock)
{
	for (;;) {
		bool head = fr->got < 8;
		uint8_t *dst = head ? fr->head + fr->got : fr->payload + (fr->got - 8);
		size_t want = head ? 8 - fr->got : fr->len - (fr->got - 8);
		if (!head && want == 0)
			return 1;
		struct iovec iov = { dst, want };
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(4 * sizeof(int))];
		} cm;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
		                     .msg_controllen = sizeof cm.buf };
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		int bad = take_fds(fr, &mh);
		if (bad < 0)
			return bad;
		if (n == 0)
			return -ECONNRESET;
		fr->got += (size_t)n;
		if (head && fr->got == 8) {
			uint32_t magic = (uint32_t)fr->head[0] | (uint32_t)fr->head[1] << 8 |
			                 (uint32_t)fr->head[2] << 16 | (uint32_t)fr->head[3] << 24;
			fr->len = (uint32_t)fr->head[4] | (uint32_t)fr->head[5] << 8 |
			          (uint32_t)fr->head[6] << 16 | (uint32_t)fr->head[7] << 24;
			if (magic != fr->want_magic || fr->len > JOB_MAX_PAYLOAD)
				return -EBADMSG;
			fr->payload = g_malloc(fr->len ? fr->len : 1);
		}
	}
}
