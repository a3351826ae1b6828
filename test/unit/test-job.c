/* test-job.c - the milter <-> worker protocol: encoding round trips, the
 * decoders on hostile input, the reply check, the record a reply carries,
 * and frames on a socketpair. */
#include "tap.h"
#include "worker/job.h"
#include "sanitize/pipeline.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- jobs ---- */

static const struct {
	const char *name;
	const char *queue_id, *from, *client, *qid;
	const char *rcpt[4];
} job_cases[] = {
	{ "everything", "4B1C2D3E4F", "sato@example.co.jp", "192.0.2.7", "20261122-021948191-YYS6X43R92",
	  { "a@city.example.lg.jp", "b@city.example.lg.jp", NULL } },
	{ "no queue ID, null sender", NULL, "<>", "local", "20261122-021948191-AAAAAAAAAA", { "a@x", NULL } },
	{ "no recipients", "Q1", "s@x", "unknown", "", { NULL } },
	{ "empty strings are none", "", "", "", "", { "", NULL } },
	{ "UTF-8 address", "Q2", "佐藤@example.jp", "2001:db8::1", "20261122-021948191-BBBBBBBBBB", { "田中@example.jp", NULL } },
};

static job *make_job(size_t i)
{
	job *j = job_new();
	j->seq = 1000 + i;
	j->queue_id = job_cases[i].queue_id && *job_cases[i].queue_id ? g_strdup(job_cases[i].queue_id) : NULL;
	j->env_from = *job_cases[i].from ? g_strdup(job_cases[i].from) : NULL;
	j->client = *job_cases[i].client ? g_strdup(job_cases[i].client) : NULL;
	j->quarantine_id = *job_cases[i].qid ? g_strdup(job_cases[i].qid) : NULL;
	for (int k = 0; job_cases[i].rcpt[k]; k++)
		g_ptr_array_add(j->rcpt, g_strdup(job_cases[i].rcpt[k]));
	return j;
}

static void test_jobs(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(job_cases); i++) {
		job *j = make_job(i), *back = NULL;
		GByteArray *f = job_encode(j);
		uint32_t len = (uint32_t)f->data[4] | (uint32_t)f->data[5] << 8 | (uint32_t)f->data[6] << 16 | (uint32_t)f->data[7] << 24;
		TAP_OK(f->len >= 8 && memcmp(f->data, "MGJ1", 4) == 0 && len == f->len - 8, "job %s: frame head", job_cases[i].name);
		int r = job_decode(f->data + 8, f->len - 8, &back);
		TAP_OK(r == 0 && back, "job %s: decodes", job_cases[i].name);
		if (back) {
			TAP_OK(back->seq == j->seq, "job %s: seq", job_cases[i].name);
			TAP_STREQ(back->queue_id, j->queue_id, "job %s: queue ID", job_cases[i].name);
			TAP_STREQ(back->env_from, j->env_from, "job %s: sender", job_cases[i].name);
			TAP_STREQ(back->client, j->client, "job %s: client", job_cases[i].name);
			TAP_STREQ(back->quarantine_id, j->quarantine_id, "job %s: quarantine ID", job_cases[i].name);
			bool same = back->rcpt->len == j->rcpt->len;
			for (guint k = 0; same && k < j->rcpt->len; k++)
				same = strcmp(g_ptr_array_index(back->rcpt, k), g_ptr_array_index(j->rcpt, k)) == 0;
			TAP_OK(same, "job %s: recipients", job_cases[i].name);
		}
		/* every shorter payload and one trailing byte are refused */
		bool all_short_refused = true;
		for (size_t n = 0; n + 8 < f->len; n++) {
			job *x = NULL;
			if (job_decode(f->data + 8, n, &x) != -EBADMSG || x)
				all_short_refused = false;
			job_free(x);
		}
		TAP_OK(all_short_refused, "job %s: every truncation refused", job_cases[i].name);
		g_byte_array_append(f, (const guint8 *)"x", 1);
		job *x = NULL;
		TAP_OK(job_decode(f->data + 8, f->len - 8, &x) == -EBADMSG && !x, "job %s: trailing byte refused", job_cases[i].name);
		g_byte_array_unref(f);
		job_free(back);
		job_free(j);
	}
	/* hostile payloads made by hand */
	static const struct { const char *name; const char *bytes; size_t len; } bad[] = {
		{ "string with NUL", "\1\0\0\0\0\0\0\0" "\3\0\0\0a\0b" "\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "\0\0\0\0", 35 },
		{ "string longer than the rest", "\1\0\0\0\0\0\0\0" "\377\0\0\0abc", 15 },
		{ "recipient count past the end", "\1\0\0\0\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "\377\377\377\377", 28 },
		{ "empty", "", 0 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		job *x = NULL;
		TAP_OK(job_decode((const uint8_t *)bad[i].bytes, bad[i].len, &x) == -EBADMSG && !x, "job refused: %s", bad[i].name);
	}
}

/* ---- replies ---- */

static job_reply *good_reply(void)
{
	job_reply *r = job_reply_new();
	r->seq = 7;
	r->verdict = VERDICT_SANITIZED;
	r->status = g_strdup("sanitized; removed=1; suspect=0; id=20261122-021948191-YYS6X43R92");
	r->quarantine_id = g_strdup("20261122-021948191-YYS6X43R92");
	r->has_output = true;
	r->body_offset = 100;
	r->removed = 1;
	r->size = 2048;
	r->elapsed_ms = 12;
	r->record = g_strdup("{\"id\":\"Q1\",\"verdict\":\"sanitized\",\"quarantine_id\":\"20261122-021948191-YYS6X43R92\"}");
	return r;
}

static void set(char **field, const char *v)
{
	g_free(*field);
	*field = v ? g_strdup(v) : NULL;
}

enum mutation {
	M_NONE, M_SEQ, M_NO_OUTPUT, M_OFFSET_0, M_OFFSET_PAST, M_STATUS_CR, M_STATUS_BARE_LF,
	M_STATUS_FOLDED, M_SUBJECT_8BIT, M_SUBJECT_OK, M_ADDED_NO_VALUE, M_NO_RECORD,
	M_REJECT_OK, M_REJECT_WITH_OUTPUT, M_TEMPFAIL_WRONG_REASON, M_TEMPFAIL_OK,
	M_TEMPFAIL_NO_REASON, M_BAD_QID, M_OTHER_QID, M_NO_QID, M_LONG_LINE,
};

static const struct {
	const char *name;
	enum mutation m;
	bool ok;
} check_cases[] = {
	{ "a good sanitized reply", M_NONE, true },
	{ "reply for another job", M_SEQ, false },
	{ "deliverable without output", M_NO_OUTPUT, false },
	{ "body offset 0", M_OFFSET_0, false },
	{ "body offset past the output", M_OFFSET_PAST, false },
	{ "status with CR", M_STATUS_CR, false },
	{ "status with a bare LF", M_STATUS_BARE_LF, false },
	{ "status folded with LF + TAB", M_STATUS_FOLDED, true },
	{ "Subject with 8-bit bytes", M_SUBJECT_8BIT, false },
	{ "Subject tagged, ASCII", M_SUBJECT_OK, true },
	{ "Subject added without value", M_ADDED_NO_VALUE, false },
	{ "no audit record", M_NO_RECORD, false },
	{ "rejected with its reason", M_REJECT_OK, true },
	{ "rejected with an output", M_REJECT_WITH_OUTPUT, false },
	{ "tempfail with a sanitizing reason", M_TEMPFAIL_WRONG_REASON, false },
	{ "tempfail with an internal reason", M_TEMPFAIL_OK, true },
	{ "tempfail without reason", M_TEMPFAIL_NO_REASON, false },
	{ "quarantine ID with a slash", M_BAD_QID, false },
	{ "a quarantine ID the milter did not give", M_OTHER_QID, false },
	{ "no quarantine ID (a clean message)", M_NO_QID, true },
	{ "status line of 1000 octets", M_LONG_LINE, false },
};

static void mutate(job_reply *r, enum mutation m, uint64_t *seq, uint64_t *size)
{
	*seq = 7;
	*size = 4096;
	switch (m) {
	case M_NONE: break;
	case M_SEQ: *seq = 8; break;
	case M_NO_OUTPUT: r->has_output = false; break;
	case M_OFFSET_0: r->body_offset = 0; break;
	case M_OFFSET_PAST: r->body_offset = 4097; break;
	case M_STATUS_CR: set(&r->status, "sanitized\r\n\tx"); break;
	case M_STATUS_BARE_LF: set(&r->status, "sanitized\nBcc: x@y"); break;
	case M_STATUS_FOLDED: set(&r->status, "sanitized;\n\tremoved=1"); break;
	case M_SUBJECT_8BIT: set(&r->subject_out, "\xe8\xa6\x8b"); break;
	case M_SUBJECT_OK: set(&r->subject_out, "=?utf-8?b?W+WklumDqF0=?= hello"); break;
	case M_ADDED_NO_VALUE: r->subject_added = true; break;
	case M_NO_RECORD: set(&r->record, NULL); break;
	case M_REJECT_OK:
	case M_REJECT_WITH_OUTPUT:
		r->verdict = VERDICT_REJECTED;
		set(&r->verdict_reason, "limit:message-size");
		r->has_output = m == M_REJECT_WITH_OUTPUT;
		break;
	case M_TEMPFAIL_WRONG_REASON: r->verdict = VERDICT_TEMPFAIL; r->has_output = false; set(&r->verdict_reason, "attachment"); break;
	case M_TEMPFAIL_OK: r->verdict = VERDICT_TEMPFAIL; r->has_output = false; set(&r->verdict_reason, "internal:walk"); break;
	case M_TEMPFAIL_NO_REASON: r->verdict = VERDICT_TEMPFAIL; r->has_output = false; break;
	case M_BAD_QID: set(&r->quarantine_id, "../etc/passwd"); break;
	case M_OTHER_QID: set(&r->quarantine_id, "20261122-021948191-ZZZZZZZZZZ"); break;
	case M_NO_QID: set(&r->quarantine_id, NULL); break;
	case M_LONG_LINE: {
		char *v = g_strnfill(1000, 'a');
		set(&r->status, v);
		g_free(v);
		break;
	}
	}
}

static void test_replies(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(check_cases); i++) {
		job_reply *r = good_reply(), *back = NULL;
		uint64_t seq, size;
		mutate(r, check_cases[i].m, &seq, &size);
		GByteArray *f = job_reply_encode(r);
		int d = job_reply_decode(f->data + 8, f->len - 8, &back);
		TAP_OK(d == 0 && back, "reply %s: round trip decodes", check_cases[i].name);
		if (back) {
			TAP_OK(back->verdict == r->verdict && back->body_offset == r->body_offset && back->size == r->size &&
			       back->removed == r->removed && back->elapsed_ms == r->elapsed_ms &&
			       back->has_output == r->has_output && back->subject_added == r->subject_added,
			       "reply %s: fields survive", check_cases[i].name);
			TAP_STREQ(back->status, r->status, "reply %s: status survives", check_cases[i].name);
			TAP_STREQ(back->record, r->record, "reply %s: record survives", check_cases[i].name);
			const char *why = NULL;
			int c = job_reply_check(back, seq, "20261122-021948191-YYS6X43R92", size, &why);
			TAP_OK((c == 0) == check_cases[i].ok, "reply %s: %s (%s)", check_cases[i].name,
			       check_cases[i].ok ? "accepted" : "refused", why ? why : "-");
		}
		g_byte_array_unref(f);
		job_reply_free(back);
		job_reply_free(r);
	}
	/* decoder: bad verdict number and unknown flag bits */
	job_reply *r = good_reply();
	GByteArray *f = job_reply_encode(r);
	job_reply *x = NULL;
	f->data[8 + 8] = 9;   /* verdict */
	TAP_OK(job_reply_decode(f->data + 8, f->len - 8, &x) == -EBADMSG && !x, "reply with verdict 9 refused");
	f->data[8 + 8] = VERDICT_SANITIZED;
	f->data[8 + 12] |= 4;   /* flags */
	TAP_OK(job_reply_decode(f->data + 8, f->len - 8, &x) == -EBADMSG && !x, "reply with unknown flags refused");
	g_byte_array_unref(f);
	job_reply_free(r);
}

/* ---- header values ---- */

static const struct { const char *v; bool ok; } values[] = {
	{ "text/plain; charset=utf-8", true },
	{ "", true },
	{ "a\n\tb", true },
	{ "a\n b", true },
	{ "a\nb", false },
	{ "a\n", false },
	{ "a\rb", false },
	{ "caf\xc3\xa9", false },
	{ "tab\there", true },
	{ "bell\a", false },
	{ "del\x7f", false },
};

static void test_values(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		char *shown = g_strescape(values[i].v, NULL);
		TAP_OK(job_header_value_ok(values[i].v) == values[i].ok, "header value \"%s\" %s", shown,
		       values[i].ok ? "accepted" : "refused");
		g_free(shown);
	}
}

/* ---- frames on a socket ---- */

/* After a refused frame the rest of it is still in the (non-blocking) socket. */
static void drain(int sock)
{
	char buf[64];
	while (read(sock, buf, sizeof buf) > 0)
		;
}

/* A frame with two descriptors on its head, which no sender of ours makes. */
static int send_two_fds(int sock, const GByteArray *frame, int fd)
{
	int fds[2] = { fd, fd };
	struct iovec iov = { frame->data, frame->len };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof fds)];
	} cm;
	memset(&cm, 0, sizeof cm);
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
	struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(h), fds, sizeof fds);
	return sendmsg(sock, &mh, 0) == (ssize_t)frame->len ? 0 : -1;
}

static void test_frames(void)
{
	int sv[2];
	TAP_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	job *j = make_job(0);
	GByteArray *f = job_encode(j);
	int pass = open("/dev/null", O_RDONLY | O_CLOEXEC);

	TAP_OK(frame_send(sv[0], f, pass) == 0, "frame with a descriptor sent");
	frame_reader fr;
	frame_reader_init(&fr, JOB_MAGIC_JOB);
	TAP_OK(frame_read(&fr, sv[1]) == 1, "frame read whole");
	TAP_OK(fr.fd >= 0 && fr.fd != pass, "descriptor received");
	TAP_OK(fr.fd >= 0 && (fcntl(fr.fd, F_GETFD) & FD_CLOEXEC), "received descriptor is close-on-exec");
	TAP_OK(fr.len == f->len - 8 && memcmp(fr.payload, f->data + 8, fr.len) == 0, "payload intact");
	frame_reader_clear(&fr);

	/* one byte at a time on a non-blocking socket: the reader keeps its place */
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	frame_reader_init(&fr, JOB_MAGIC_JOB);
	int r = 0, would_block = 0;
	for (guint i = 0; i < f->len; i++) {
		if (write(sv[0], f->data + i, 1) != 1)
			break;
		r = frame_read(&fr, sv[1]);
		if (r == 0)
			would_block++;
		if (r != 0)
			break;
	}
	TAP_OK(r == 1 && would_block == (int)f->len - 1, "byte by byte: complete only at the last byte");
	TAP_OK(fr.len == f->len - 8 && memcmp(fr.payload, f->data + 8, fr.len) == 0 && fr.fd < 0, "byte by byte: payload intact, no descriptor");
	frame_reader_clear(&fr);

	/* wrong magic, length past the limit, two descriptors, end of stream */
	GByteArray *hello = job_hello_encode();
	frame_send(sv[0], hello, -1);
	frame_reader_init(&fr, JOB_MAGIC_REPLY);
	TAP_OK(frame_read(&fr, sv[1]) == -EBADMSG, "frame with the wrong magic refused");
	frame_reader_clear(&fr);
	drain(sv[1]);
	uint8_t huge[8] = { 'M', 'G', 'R', '1', 0xff, 0xff, 0xff, 0x7f };
	TAP_OK(write(sv[0], huge, 8) == 8, "oversized frame head written");
	frame_reader_init(&fr, JOB_MAGIC_REPLY);
	TAP_OK(frame_read(&fr, sv[1]) == -EBADMSG, "frame longer than JOB_MAX_PAYLOAD refused");
	frame_reader_clear(&fr);
	drain(sv[1]);
	frame_send(sv[0], hello, -1);
	frame_reader_init(&fr, JOB_MAGIC_HELLO);
	TAP_OK(frame_read(&fr, sv[1]) == 1 && job_hello_decode(fr.payload, fr.len) == 0, "hello decodes");
	frame_reader_clear(&fr);
	TAP_OK(send_two_fds(sv[0], hello, pass) == 0, "frame with two descriptors sent");
	frame_reader_init(&fr, JOB_MAGIC_HELLO);
	TAP_OK(frame_read(&fr, sv[1]) == -EBADMSG, "frame with two descriptors refused");
	frame_reader_clear(&fr);
	drain(sv[1]);
	close(sv[0]);
	frame_reader_init(&fr, JOB_MAGIC_HELLO);
	fcntl(sv[1], F_SETFL, 0);
	TAP_OK(frame_read(&fr, sv[1]) == -ECONNRESET, "end of stream reported");
	frame_reader_clear(&fr);
	close(sv[1]);
	close(pass);
	g_byte_array_unref(hello);
	g_byte_array_unref(f);
	job_free(j);
}

/* ---- the record a reply carries ---- */

static const struct {
	const char *name;
	const char *record, *qid;
	enum verdict verdict;
	bool ok;
} record_cases[] = {
	{ "the reply's verdict and ID", "{\"verdict\":\"suspect\",\"quarantine_id\":\"20261122-021948191-YYS6X43R92\"}",
	  "20261122-021948191-YYS6X43R92", VERDICT_SUSPECT, true },
	{ "clean: no ID on either", "{\"verdict\":\"clean\",\"quarantine_id\":null}", NULL, VERDICT_CLEAN, true },
	{ "a verdict that is not the reply's", "{\"verdict\":\"clean\",\"quarantine_id\":null}", NULL, VERDICT_SUSPECT, false },
	{ "an ID that is not the reply's", "{\"verdict\":\"suspect\",\"quarantine_id\":\"20261122-021948191-ZZZZZZZZZZ\"}",
	  "20261122-021948191-YYS6X43R92", VERDICT_SUSPECT, false },
	{ "an ID where the reply has none", "{\"verdict\":\"clean\",\"quarantine_id\":\"20261122-021948191-YYS6X43R92\"}",
	  NULL, VERDICT_CLEAN, false },
	{ "no ID field", "{\"verdict\":\"clean\"}", NULL, VERDICT_CLEAN, false },
	{ "an array", "[{\"verdict\":\"clean\",\"quarantine_id\":null}]", NULL, VERDICT_CLEAN, false },
	{ "two objects", "{\"verdict\":\"clean\",\"quarantine_id\":null}{}", NULL, VERDICT_CLEAN, false },
	{ "not JSON", "verdict=clean", NULL, VERDICT_CLEAN, false },
	{ "none", NULL, NULL, VERDICT_CLEAN, false },
};

static void test_records(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(record_cases); i++) {
		job_reply *r = job_reply_new();
		r->verdict = record_cases[i].verdict;
		r->record = g_strdup(record_cases[i].record);
		r->quarantine_id = g_strdup(record_cases[i].qid);
		json_object *o = NULL;
		const char *why = NULL;
		int rc = job_reply_record(r, &o, &why);
		TAP_OK((rc == 0 && o) == record_cases[i].ok && (rc == 0 || !o), "record %s: %s (%s)", record_cases[i].name,
		       record_cases[i].ok ? "taken" : "refused", why ? why : "-");
		json_object_put(o);
		job_reply_free(r);
	}
}

/* ---- which headers the output replaces (the milter deletes these) ---- */

static const struct { const char *name; bool replaced; } names[] = {
	{ "Content-Type", true }, { "content-transfer-encoding", true }, { "CONTENT-DISPOSITION", true },
	{ "Content-", true }, { "MIME-Version", true }, { "mime-version", true }, { "X-Mugai-Status", true },
	{ "x-mugai-status", true }, { "Content-Type ", true }, { " MIME-Version", true },
	{ "Subject", false }, { "Content", false }, { "X-Mugai-Status-Old", false }, { "MIME-Versions", false },
	{ "X-Content-Type", false }, { "Received", false }, { "", false },
};

static void test_replaced_names(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		TAP_OK(pipeline_header_replaced(names[i].name) == names[i].replaced, "'%s' %s", names[i].name,
		       names[i].replaced ? "is replaced" : "is kept");
}

int main(void)
{
	test_replaced_names();
	test_jobs();
	test_replies();
	test_values();
	test_frames();
	test_records();
	return tap_done();
}
