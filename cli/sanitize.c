/* sanitize.c - `mugai sanitize`: the pipeline in a confined child, the
 * checks, the store step and the answer in this process.
 *
 * The same division as in the milter: the child (worker/confine.c) parses
 * the mail and hands back a reply frame and the output (worker/job.h) in
 * two memfds made here before it started; this process takes nothing from
 * it unchecked (job_reply_check, job_reply_record, outverify_check), then
 * makes the quarantine entry and the audit record durable (store_commit)
 * and only then writes the output, or the refusal, for the caller.
 */
#include "cli/sanitize.h"
#include "sanitize/outverify.h"
#include "sanitize/pipeline.h"
#include "sanitize/verdict.h"
#include "store/store.h"
#include "util/fdio.h"
#include "worker/confine.h"
#include "worker/job.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_REJECT 1
#define EXIT_TEMPFAIL 75
#define SEQ 1

struct child {
	const mugai_config *cfg;
	const char *id, *qid;
	bool explain;
	int in, reply, out;
};

/* In the confined child: the pipeline, and what it found into the two
 * memfds.  Returns 0, or a negative errno when they could not be written. */
static int child_main(void *arg)
{
	struct child *c = arg;
	pipeline_global_init();
	pipeline_env env = { .id = c->id, .quarantine_id = c->qid, .explain = c->explain ? stderr : NULL };
	GByteArray *out = NULL;
	mugai_result *res = NULL;
	pipeline_run(c->cfg, &env, c->in, &out, &res);
	job_reply *rep = job_reply_from_result(SEQ, res, out != NULL);
	GByteArray *frame = job_reply_encode(rep);
	int rc = fd_write_all(c->reply, frame->data, frame->len);
	if (rc == 0 && out)
		rc = fd_write_all(c->out, out->data, out->len);
	g_byte_array_unref(frame);
	job_reply_free(rep);
	if (out)
		g_byte_array_unref(out);
	result_free(res);
	return rc;
}

/* All of memfd FD, from its start. */
static GByteArray *read_back(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size < 0 || st.st_size > (1LL << 32))
		return NULL;
	GByteArray *b = g_byte_array_sized_new((guint)st.st_size);
	g_byte_array_set_size(b, (guint)st.st_size);
	if (fd_pread_full(fd, b->data, b->len, 0) != (ssize_t)b->len) {
		g_byte_array_unref(b);
		return NULL;
	}
	return b;
}

/* The reply frame in BUF: 0 and *REP, or -1. */
static int take_reply(const GByteArray *buf, job_reply **rep)
{
	*rep = NULL;
	if (!buf || buf->len < 8)
		return -1;
	const uint8_t *p = buf->data;
	uint32_t magic = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	uint32_t len = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	if (magic != JOB_MAGIC_REPLY || len != buf->len - 8 || len > JOB_MAX_PAYLOAD)
		return -1;
	return job_reply_decode(p + 8, len, rep) < 0 ? -1 : 0;
}

/* A record of this process's own, when the child gave none it could use. */
static json_object *own_record(const char *id, uint64_t size, const char *reason)
{
	mugai_result *r = result_new();
	r->ts = result_now_rfc3339();
	r->id = g_strdup(id);
	r->size = size;
	r->verdict = VERDICT_TEMPFAIL;
	r->verdict_reason = g_strdup(reason);
	result_add_reason(r->reasons, reason);
	char *json = audit_record_json(r);
	json_object *o = json_tokener_parse(json);
	g_free(json);
	result_free(r);
	return o;
}

static void say_refusal(enum verdict v, const char *reason)
{
	const verdict_row *row = verdict_lookup(reason ? reason : "internal:");
	if (v == VERDICT_TEMPFAIL && row->verdict != VERDICT_TEMPFAIL)
		row = verdict_lookup("internal:");   /* when in doubt: try again later */
	if (row->smtp)
		fprintf(stderr, "mugai: %s: %s %s %s (%s)\n", verdict_name(v), row->smtp, row->dsn, row->text_en,
		        reason ? reason : "unknown");
	else   /* discarded: no SMTP reply of its own */
		fprintf(stderr, "mugai: %s: %s (%s)\n", verdict_name(v), row->text_en, reason ? reason : "unknown");
}

int sanitize_run(const mugai_config *cfg, const char *id, bool explain, int fd)
{
	int64_t t0 = g_get_monotonic_time();
	struct stat st;
	uint64_t size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	char qid[QUARANTINE_ID_MAX] = "";
	int rfd = memfd_create("mugai-reply", MFD_CLOEXEC), ofd = memfd_create("mugai-output", MFD_CLOEXEC);
	enum verdict v = VERDICT_TEMPFAIL;
	const char *reason = NULL, *why = NULL;
	char cwhy[512] = "";
	job_reply *rep = NULL;
	json_object *rec = NULL;
	GByteArray *out = NULL;
	char *text = NULL;
	bool qp = false;

	if (rfd < 0 || ofd < 0) {
		reason = "internal:memfd";
	} else if (quarantine_new_id(qid, sizeof qid) < 0) {
		reason = "internal:random";
	} else {
		struct child c = { cfg, id, qid, explain, fd, rfd, ofd };
		int result = 0;
		int rc = confine_run(cfg, child_main, &c, &result, cwhy, sizeof cwhy);
		GByteArray *rb = rc == 0 && result == 0 ? read_back(rfd) : NULL;
		if (rc == -ETIMEDOUT) {
			reason = "limit:time";
		} else if (rc < 0 || result < 0) {
			reason = "internal:worker-crashed";
			why = *cwhy ? cwhy : "the parsing process reported an error";
		} else if (take_reply(rb, &rep) < 0) {
			reason = "internal:worker-protocol";
			why = "undecodable reply";
		} else if (!(out = read_back(ofd)) ||
		           job_reply_check(rep, SEQ, qid, rep->has_output ? out->len : 0, &why) < 0 ||
		           (!rep->has_output && out->len) || job_reply_record(rep, &rec, &why) < 0) {
			reason = "internal:worker-protocol";
		} else if (rep->has_output &&
		           outverify_check(out->data, out->len, rep->body_offset, rep->status, &qp, &text, &why) < 0) {
			reason = "internal:worker-output";
		} else {
			v = rep->verdict;
			reason = rep->verdict_reason;
		}
		if (rb)
			g_byte_array_unref(rb);
	}
	if (why)
		fprintf(stderr, "mugai: the parsing process's answer was refused: %s\n", why);
	if (rec && v == VERDICT_TEMPFAIL && rep->verdict != VERDICT_TEMPFAIL) {
		/* refused here: nothing of the child's is kept, not even its record */
		json_object_put(rec);
		rec = NULL;
	}
	if (!rec)
		rec = own_record(id ? id : qid, size, reason ? reason : "internal:");
	/* the original and the record, durable before the answer */
	const char *failed = rec ? store_commit(cfg->quarantine_dir, cfg->audit_log, rec, fd, size, text) : "internal:record";
	if (failed) {
		v = VERDICT_TEMPFAIL;
		reason = failed;
	}
	if (cfg->audit_syslog) {
		json_object *q;
		const char *stored = rec && json_object_object_get_ex(rec, "quarantine_id", &q) &&
		                     json_object_is_type(q, json_type_string) ? json_object_get_string(q) : NULL;
		audit_syslog_line(id ? id : qid, verdict_name(v), v > VERDICT_SUSPECT ? reason : NULL,
		                  rep && v != VERDICT_TEMPFAIL ? rep->removed : 0, stored, size,
		                  (g_get_monotonic_time() - t0) / 1000);
	}
	int code = 0;
	if (v > VERDICT_SUSPECT) {   /* discarded, rejected, tempfail: nothing to write */
		say_refusal(v, reason);
		code = v == VERDICT_TEMPFAIL ? EXIT_TEMPFAIL : EXIT_REJECT;
	} else {
		int w = fd_write_all(1, out->data, out->len);
		if (w < 0) {
			fprintf(stderr, "mugai: writing output: %s\n", strerror(-w));
			code = EXIT_TEMPFAIL;
		}
	}
	json_object_put(rec);
	job_reply_free(rep);
	if (out)
		g_byte_array_unref(out);
	g_free(text);
	if (rfd >= 0)
		close(rfd);
	if (ofd >= 0)
		close(ofd);
	return code;
}
