/* filter.c - the libmilter callbacks: contexts, spooling, the job, the edits.
 *
 * Two contexts with two lifetimes: a connection (client address, HELO, the
 * configuration snapshot it pinned) from negotiate/connect to close, and a
 * message (envelope, spool, the top-level headers to delete) that ends only
 * through msg_reset(), called from envfrom, eom, abort and close.
 * libmilter may run one connection's callbacks on different threads, one
 * at a time, so all state hangs off smfi_getpriv().
 * Nothing before end of data answers anything but "continue": a failure is
 * recorded (the spool keeps its first error) and reported at EOM.  At EOM
 * the message goes to a worker (pool.c), whose reply is trusted with
 * nothing: its output must have the one shape mugai builds (outverify.c),
 * its audit record is checked and completed with the envelope the milter
 * knows; then the quarantine entry and the audit record are made durable
 * (store_commit), the edits are sent (delete the replaced headers, set
 * Subject, add the new headers, replace the body), and only then is the
 * answer given.  Edits the MTA refuses take the entry out again and add a
 * tempfail record: nothing may say "delivered" for a 451.
 * answer() is the one place a reply code is chosen, from the verdict
 * table.  One syslog line per message, here, at EOM.
 */
#include "milter/filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "milter/snapshot.h"
#include "milter/spool.h"
#include "milter/testhooks.h"
#include "sanitize/outverify.h"
#include "sanitize/pipeline.h"
#include "sanitize/verdict.h"
#include "store/store.h"

#define REQUIRED_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY)
/* The steps before end of message only record: none can fail (an error
 * sticks in the message context and EOM answers it), so the MTA need not
 * wait for a reply to each header and body chunk (pitfalls 1.1).  Each of
 * those callbacks returns SMFIS_NOREPLY; libmilter fakes the reply for an
 * MTA that lacks the feature.  Saves a round trip per header and per 64 KB. */
#define NO_REPLY_FLAGS (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
                        SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_HDR)
#define BODY_CHUNK 65536   /* one smfi_replacebody() call; libmilter splits at 65535 */

/* A top-level header the output replaces: deleted at EOM by name and index. */
typedef struct replaced_hdr {
	char *name;     /* as the MTA spelled it */
	int index;      /* 1-based among headers of that name, as smfi_chgheader counts */
	char *value;    /* NULL: delete it; else its new value (a kept header made safe) */
} replaced_hdr;

typedef struct msg_ctx {
	spool *spool;
	char *env_from;
	GPtrArray *rcpt;        /* char * */
	GArray *replaced;       /* replaced_hdr to delete, arrival order */
	GArray *rewritten;      /* replaced_hdr to change (value set), arrival order */
	GHashTable *counts;     /* lower-case name -> headers of that name so far */
} msg_ctx;

typedef struct conn_ctx {
	snapshot *snap;         /* pinned at connection start; reloads do not touch it */
	char *client;           /* address, "local" or "unknown" */
	char *helo;
	bool leadspc;           /* SMFIP_HDR_LEADSPC: values come with their blanks */
	msg_ctx *msg;
} conn_ctx;

static pool *workers;
static size_t body_chunk = BODY_CHUNK;
static uint64_t job_seq;    /* atomic */
static pthread_mutex_t flight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flight_done = PTHREAD_COND_INITIALIZER;
static unsigned in_flight;

/* ---- contexts ---- */

static void msg_reset(conn_ctx *c)
{
	msg_ctx *m = c->msg;
	if (!m)
		return;
	spool_free(m->spool);
	g_free(m->env_from);
	g_ptr_array_unref(m->rcpt);
	for (guint i = 0; i < m->replaced->len; i++)
		g_free(g_array_index(m->replaced, replaced_hdr, i).name);
	g_array_unref(m->replaced);
	for (guint i = 0; i < m->rewritten->len; i++) {
		g_free(g_array_index(m->rewritten, replaced_hdr, i).name);
		g_free(g_array_index(m->rewritten, replaced_hdr, i).value);
	}
	g_array_unref(m->rewritten);
	g_hash_table_unref(m->counts);
	g_free(m);
	c->msg = NULL;
}

static msg_ctx *msg_get(conn_ctx *c)
{
	if (!c->msg) {
		msg_ctx *m = g_new0(msg_ctx, 1);
		const mugai_config *cfg = c->snap->cfg;
		m->spool = spool_new((uint64_t)cfg->milter_spool_memory, (uint64_t)cfg->max_message_size,
		                     cfg->milter_spool_dir);
		m->rcpt = g_ptr_array_new_with_free_func(g_free);
		m->replaced = g_array_new(FALSE, FALSE, sizeof(replaced_hdr));
		m->rewritten = g_array_new(FALSE, FALSE, sizeof(replaced_hdr));
		m->counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		c->msg = m;
	}
	return c->msg;
}

static conn_ctx *conn_get(SMFICTX *ctx)
{
	conn_ctx *c = smfi_getpriv(ctx);
	if (!c) {
		c = g_new0(conn_ctx, 1);
		c->snap = snapshot_current();
		smfi_setpriv(ctx, c);
	}
	return c;
}

static void conn_free(SMFICTX *ctx)
{
	conn_ctx *c = smfi_getpriv(ctx);
	if (!c)
		return;   /* close without connect */
	msg_reset(c);
	snapshot_unref(c->snap);
	g_free(c->client);
	g_free(c->helo);
	g_free(c);
	smfi_setpriv(ctx, NULL);
}

/* "<a@b>" -> "a@b"; the null sender stays "<>" so the record shows it. */
static char *address(const char *arg)
{
	size_t n = strlen(arg);
	if (n > 2 && arg[0] == '<' && arg[n - 1] == '>')
		return g_strndup(arg + 1, n - 2);
	return g_strdup(arg);
}

/* Postfix queue IDs are letters and digits; anything else is not one. */
static const char *queue_id(SMFICTX *ctx)
{
	const char *id = smfi_getsymval(ctx, "i");
	if (!id)
		id = smfi_getsymval(ctx, "{i}");
	if (!id || !*id || strlen(id) > 32)
		return NULL;
	for (const char *p = id; *p; p++)
		if (!g_ascii_isalnum(*p))
			return NULL;
	return id;
}

/* ---- callbacks before end of data: record, never decide ---- */

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3, unsigned long *pf0,
                             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	if ((f0 & REQUIRED_ACTIONS) != REQUIRED_ACTIONS) {
		/* A session that could not replace the body must never start:
		 * the MTA then applies milter_default_action (tempfail). */
		syslog(LOG_ERR, "MTA offers actions 0x%lx, mugai needs 0x%lx (add and change headers, "
		       "replace body): session refused", f0, (unsigned long)REQUIRED_ACTIONS);
		return SMFIS_REJECT;
	}
	*pf0 = REQUIRED_ACTIONS;
	/* *pf1 arrives holding libmilter's "do not send" bits for the
	 * callbacks we leave out; keep them, take the exact header values
	 * when offered, and "no reply" for the recording steps. */
	*pf1 = *pf1 | (f1 & SMFIP_HDR_LEADSPC) | NO_REPLY_FLAGS;
	*pf2 = 0;
	*pf3 = 0;
	conn_get(ctx)->leadspc = (f1 & SMFIP_HDR_LEADSPC) != 0;
	return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	conn_ctx *c = conn_get(ctx);
	char buf[INET6_ADDRSTRLEN] = "unknown";
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, buf, sizeof buf);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, buf, sizeof buf);
	else if (sa && sa->sa_family == AF_UNIX)
		g_strlcpy(buf, "local", sizeof buf);
	g_free(c->client);
	c->client = g_strdup(buf);
	return SMFIS_NOREPLY;
}

static sfsistat on_helo(SMFICTX *ctx, char *name)
{
	conn_ctx *c = conn_get(ctx);
	g_free(c->helo);
	c->helo = g_strdup(name);
	return SMFIS_NOREPLY;
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	conn_ctx *c = conn_get(ctx);
	msg_reset(c);   /* a new MAIL FROM ends whatever came before */
	msg_get(c)->env_from = address(argv[0] ? argv[0] : "<>");
	return SMFIS_NOREPLY;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
	if (argv[0])
		g_ptr_array_add(msg_get(conn_get(ctx))->rcpt, address(argv[0]));
	return SMFIS_NOREPLY;
}

static bool lone_cr(const char *v)
{
	for (const char *p = strchr(v, '\r'); p; p = strchr(p + 1, '\r'))
		if (p[1] != '\n')
			return true;
	return false;
}

/* The header as the message had it: "name:" value with CRLF line ends (the
 * MTA joins folded lines with a bare LF); without HDR_LEADSPC the MTA ate
 * the one blank after the colon, so it is put back. */
static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	conn_ctx *c = conn_get(ctx);
	msg_ctx *m = msg_get(c);
	/* every name is counted: smfi_chgheader addresses a header by name and
	 * its index among the headers of that name */
	char *key = g_ascii_strdown(name, -1);
	int n = GPOINTER_TO_INT(g_hash_table_lookup(m->counts, key)) + 1;
	g_hash_table_replace(m->counts, key, GINT_TO_POINTER(n));
	if (pipeline_header_replaced(name)) {
		replaced_hdr h = { g_strdup(name), n, NULL };
		g_array_append_val(m->replaced, h);
	} else if (lone_cr(value)) {
		/* A lone CR ends a line for some clients, which would then read
		 * what follows as a header of its own (a hidden Content-Type over
		 * our text part): the output has a blank there (output.c), and so
		 * must the header the MTA keeps. */
		char *v = g_strdup(value);
		for (char *p = v; *p; p++)
			if (*p == '\r' && p[1] != '\n')
				*p = ' ';
		replaced_hdr h = { g_strdup(name), n, v };
		g_array_append_val(m->rewritten, h);
	}
	GString *line = g_string_new(name);
	g_string_append(line, c->leadspc ? ":" : ": ");
	for (const char *p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			g_string_append_c(line, '\r');
		g_string_append_c(line, *p);
	}
	g_string_append(line, "\r\n");
	spool_write(m->spool, line->str, line->len);   /* an error sticks; EOM reports it */
	g_string_free(line, TRUE);
	return SMFIS_NOREPLY;
}

static sfsistat on_eoh(SMFICTX *ctx)
{
	spool_write(msg_get(conn_get(ctx))->spool, "\r\n", 2);
	return SMFIS_NOREPLY;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	spool_write(msg_get(conn_get(ctx))->spool, chunk, len);   /* CRLF already */
	return SMFIS_NOREPLY;
}

/* ---- end of data ---- */

/* The one place a message's SMFIS_* code and SMTP reply are chosen: the
 * verdict table's row for REASON (verdict_lookup) gives code and text.
 * Delivering verdicts continue, which at end of message is acceptance. */
static sfsistat answer(SMFICTX *ctx, enum verdict v, const char *reason)
{
	if (v == VERDICT_CLEAN || v == VERDICT_SANITIZED || v == VERDICT_SUSPECT)
		return SMFIS_CONTINUE;
	if (v == VERDICT_DISCARDED)
		return SMFIS_DISCARD;   /* accepted, never delivered: the original is quarantined */
	const verdict_row *row = verdict_lookup(reason ? reason : "internal:");
	bool fails = (row->verdict == VERDICT_REJECTED || row->verdict == VERDICT_TEMPFAIL) && row->smtp;
	if (!fails || (v == VERDICT_TEMPFAIL && row->verdict != VERDICT_TEMPFAIL))
		row = verdict_lookup("internal:");   /* when in doubt: try again later */
	/* table text only, never message data; libmilter reads '%' as a format */
	char *text = strchr(row->text_en, '%') ? NULL : (char *)row->text_en;
	smfi_setreply(ctx, (char *)row->smtp, (char *)row->dsn, text);
	return row->verdict == VERDICT_REJECTED ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

static void progress(void *arg)
{
	smfi_progress(arg);
}

/* The output's body from OFFSET, LF turned into CRLF, handed over in
 * body_chunk pieces cut from one buffer.  0 or -1 (read error or libmilter
 * refused a piece). */
static int replace_body(SMFICTX *ctx, int fd, uint64_t offset)
{
	/* the output is read in pieces as big as those handed over */
	unsigned char *out = g_malloc(2 * (size_t)body_chunk), *in = out + body_chunk, prev = 0;
	size_t o = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = pread(fd, in, body_chunk, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		offset += (uint64_t)n;
		for (ssize_t i = 0; i < n && rc == 0; i++) {
			for (int k = in[i] == '\n' && prev != '\r' ? 0 : 1; k < 2 && rc == 0; k++) {
				out[o++] = k == 0 ? '\r' : in[i];
				if (o == body_chunk) {
					rc = smfi_replacebody(ctx, out, (int)o) == MI_SUCCESS ? 0 : -1;
					o = 0;
				}
			}
			prev = in[i];
		}
		if (rc < 0)
			break;
	}
	if (rc == 0 && o > 0 && smfi_replacebody(ctx, out, (int)o) != MI_SUCCESS)
		rc = -1;
	g_free(out);
	return rc;
}

/* Turn the original into the output by edits, in the order Postfix needs:
 * every header change first, then the body (never interleaved).  0 or -1
 * when libmilter refused one (the caller tempfails the whole message). */
static int apply(SMFICTX *ctx, const conn_ctx *c, const msg_ctx *m, const job_reply *rep, int out_fd, bool qp)
{
	const char *sp = c->leadspc ? " " : "";
	/* highest index first: deleting shifts the indexes of later same-name headers */
	for (guint i = m->replaced->len; i-- > 0;) {
		const replaced_hdr *h = &g_array_index(m->replaced, replaced_hdr, i);
		if (smfi_chgheader(ctx, h->name, h->index, NULL) != MI_SUCCESS)
			return -1;
	}
	for (guint i = 0; i < m->rewritten->len; i++) {
		/* the value as received: with its leading blank already when leadspc */
		const replaced_hdr *h = &g_array_index(m->rewritten, replaced_hdr, i);
		if (smfi_chgheader(ctx, h->name, h->index, h->value) != MI_SUCCESS)
			return -1;
	}
	int r = MI_SUCCESS;
	if (rep->subject_out) {
		char *v = g_strconcat(sp, rep->subject_out, NULL);
		r = rep->subject_added ? smfi_addheader(ctx, "Subject", v) : smfi_chgheader(ctx, "Subject", 1, v);
		g_free(v);
	}
	/* the four headers outverify_check() found at the end of the output */
	const char *const added[4][2] = {
		{ "MIME-Version", "1.0" }, { "Content-Type", "text/plain; charset=utf-8" },
		{ "Content-Transfer-Encoding", qp ? "quoted-printable" : "base64" }, { "X-Mugai-Status", rep->status },
	};
	for (int i = 0; i < 4 && r == MI_SUCCESS; i++) {
		char *v = g_strconcat(sp, added[i][1], NULL);
		r = smfi_addheader(ctx, (char *)added[i][0], v);
		g_free(v);
	}
	if (r != MI_SUCCESS)
		return -1;
	return replace_body(ctx, out_fd, rep->body_offset);
}

/* A record of the milter's own, for a message no worker answered for
 * (lost worker, spool trouble, the size limit): the envelope, the size,
 * the verdict and its reason. */
static json_object *own_record(const conn_ctx *c, const msg_ctx *m, const char *qid, enum verdict v,
                               const char *reason, int64_t elapsed_ms)
{
	mugai_result *r = result_new();
	r->ts = result_now_rfc3339();
	r->id = g_strdup(qid);
	r->client = g_strdup(c->client);
	if (m) {
		r->from = g_strdup(m->env_from);
		for (guint i = 0; i < m->rcpt->len; i++)
			g_ptr_array_add(r->rcpt, g_strdup(g_ptr_array_index(m->rcpt, i)));
		r->size = spool_size(m->spool);
	}
	r->verdict = v;
	r->verdict_reason = g_strdup(reason);
	result_add_reason(r->reasons, reason);
	r->elapsed_ms = elapsed_ms;
	char *json = audit_record_json(r);
	json_object *o = json_tokener_parse(json);
	g_free(json);
	result_free(r);
	return o;
}

/* What the milter knows better than any worker: the queue ID, the
 * envelope, the client, the size. */
static void own_fields(json_object *rec, const conn_ctx *c, const msg_ctx *m, const char *qid)
{
	json_object *rc = json_object_new_array();
	for (guint i = 0; i < m->rcpt->len; i++)
		json_object_array_add(rc, json_object_new_string(g_ptr_array_index(m->rcpt, i)));
	json_object_object_add(rec, "id", qid ? json_object_new_string(qid) : NULL);
	json_object_object_add(rec, "from", m->env_from ? json_object_new_string(m->env_from) : NULL);
	json_object_object_add(rec, "rcpt", rc);
	json_object_object_add(rec, "client", c->client ? json_object_new_string(c->client) : NULL);
	json_object_object_add(rec, "size", json_object_new_uint64(spool_size(m->spool)));
}

/* The output's bytes, checked: the text the recipient gets into *TEXT.
 * 0, or -1 with *WHY. */
static int verify_output(int fd, const job_reply *rep, bool *qp, char **text, const char **why)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		*why = "output unreadable";
		return -1;
	}
	/* a sealed memfd: nobody can change or shrink it under the mapping */
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		*why = "output cannot be mapped";
		return -1;
	}
	int rc = outverify_check(map, (size_t)st.st_size, rep->body_offset, rep->status, qp, text, why);
	munmap(map, (size_t)st.st_size);
	return rc;
}

static sfsistat on_eom(SMFICTX *ctx)
{
	int64_t t0 = g_get_monotonic_time();
	pthread_mutex_lock(&flight_lock);
	in_flight++;
	pthread_mutex_unlock(&flight_lock);

	conn_ctx *c = conn_get(ctx);
	msg_ctx *m = c->msg;
	const mugai_config *cfg = c->snap->cfg;
	const char *qid = queue_id(ctx);
	enum verdict v = VERDICT_TEMPFAIL;
	const char *reason = NULL, *why = NULL;
	job_reply *rep = NULL;
	json_object *rec = NULL;   /* the worker's record, once checked */
	char *text = NULL;
	bool qp = false;
	int out_fd = -1, msg_fd = -1;
	char mint[QUARANTINE_ID_MAX] = "";

	if (!m) {
		reason = "internal:no-message";
	} else if (spool_error(m->spool) == -EFBIG) {
		/* never spooled whole, never parsed: refused at the size limit */
		v = VERDICT_REJECTED;
		reason = "limit:message-size";
	} else if (spool_error(m->spool) || (msg_fd = spool_export_fd(m->spool)) < 0) {
		int e = spool_error(m->spool) ? spool_error(m->spool) : msg_fd;
		/* the message's own line follows; this one is about the spool */
		syslog(LOG_ERR, "[milter] spool_dir %s: %s", cfg->milter_spool_dir, strerror(-e));
		reason = "internal:spool";
	} else if (quarantine_new_id(mint, sizeof mint) < 0) {
		reason = "internal:random";
	} else {
		job *j = job_new();
		j->seq = __atomic_add_fetch(&job_seq, 1, __ATOMIC_RELAXED);
		j->queue_id = g_strdup(qid);
		j->env_from = g_strdup(m->env_from);
		j->client = g_strdup(c->client);
		j->quarantine_id = g_strdup(mint);
#ifdef MUGAI_TEST_HOOKS
		j->test_fault = g_strdup(testhooks_claim_fault());
#endif
		for (guint i = 0; i < m->rcpt->len; i++)
			g_ptr_array_add(j->rcpt, g_strdup(g_ptr_array_index(m->rcpt, i)));
		int64_t deadline = t0 + cfg->milter_timeout * G_USEC_PER_SEC;
		if (pool_run(workers, j, msg_fd, deadline, progress, ctx, &rep, &out_fd, &reason) == 0) {
			v = rep->verdict;
			reason = rep->verdict_reason;
			if (job_reply_record(rep, &rec, &why) < 0) {
				v = VERDICT_TEMPFAIL;
				reason = "internal:worker-protocol";
			} else if (out_fd >= 0 && verify_output(out_fd, rep, &qp, &text, &why) < 0) {
				v = VERDICT_TEMPFAIL;
				reason = "internal:worker-output";
			}
			if (why)
				syslog(LOG_ERR, "%s: worker's reply refused: %s", qid ? qid : "NOQUEUE", why);
		}
		job_free(j);
	}
	int64_t elapsed = (g_get_monotonic_time() - t0) / 1000;
	if (rec && v == VERDICT_TEMPFAIL && rep->verdict != VERDICT_TEMPFAIL) {
		/* refused here: nothing of the worker's is kept, not even its record */
		json_object_put(rec);
		rec = NULL;
	}
	if (rec)
		own_fields(rec, c, m, qid);
	else
		rec = own_record(c, m, qid, v, reason ? reason : "internal:", elapsed);
	/* the original and the record, durable before the answer */
	const char *failed = rec ? store_commit(cfg->quarantine_dir, cfg->audit_log, rec, msg_fd,
	                                        m ? spool_size(m->spool) : 0, text) : "internal:record";
	if (failed) {
		v = VERDICT_TEMPFAIL;
		reason = failed;
		syslog(LOG_ERR, "%s: %s: %s", qid ? qid : "NOQUEUE", failed,
		       strcmp(failed, "audit-failed") == 0 ? cfg->audit_log : cfg->quarantine_dir);
	}
	json_object *q;
	char *stored = rec && json_object_object_get_ex(rec, "quarantine_id", &q) &&
	               json_object_is_type(q, json_type_string) ? g_strdup(json_object_get_string(q)) : NULL;
	if (!failed && v <= VERDICT_SUSPECT && apply(ctx, c, m, rep, out_fd, qp) < 0) {
		/* the MTA would not take the edits: the message is not accepted, so
		 * neither the entry nor the record may say it was delivered */
		v = VERDICT_TEMPFAIL;
		reason = "internal:milter-edit";
		if (stored)
			quarantine_remove(cfg->quarantine_dir, stored);
		g_free(stored);
		stored = NULL;
		store_record_tempfail(rec, reason);
		char *line = audit_json_string(rec);
		if (audit_append(cfg->audit_log, line) < 0)
			syslog(LOG_ERR, "%s: audit-failed: %s", qid ? qid : "NOQUEUE", cfg->audit_log);
		g_free(line);
	}
	sfsistat rc = answer(ctx, v, reason);

	/* info lines follow [audit] syslog; failures are always logged */
	if (v == VERDICT_TEMPFAIL || cfg->audit_syslog)
		audit_syslog_line(qid, verdict_name(v), reason, rep && v != VERDICT_TEMPFAIL ? rep->removed : 0, stored,
		                  m ? spool_size(m->spool) : 0, elapsed);

	json_object_put(rec);
	g_free(stored);
	g_free(text);
	if (msg_fd >= 0)
		close(msg_fd);
	if (out_fd >= 0)
		close(out_fd);
	job_reply_free(rep);
	msg_reset(c);
	pthread_mutex_lock(&flight_lock);
	in_flight--;
	pthread_cond_broadcast(&flight_done);
	pthread_mutex_unlock(&flight_lock);
	return rc;
}

static sfsistat on_abort(SMFICTX *ctx)
{
	conn_ctx *c = smfi_getpriv(ctx);
	if (c)
		msg_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
	conn_free(ctx);
	return SMFIS_CONTINUE;
}

int filter_register(pool *p)
{
	workers = p;
#ifdef MUGAI_TEST_HOOKS
	body_chunk = testhooks_body_chunk(BODY_CHUNK);
#endif
	struct smfiDesc desc = {
		.xxfi_name = "mugai",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = REQUIRED_ACTIONS,
		.xxfi_connect = on_connect,
		.xxfi_helo = on_helo,
		.xxfi_envfrom = on_envfrom,
		.xxfi_envrcpt = on_envrcpt,
		.xxfi_header = on_header,
		.xxfi_eoh = on_eoh,
		.xxfi_body = on_body,
		.xxfi_eom = on_eom,
		.xxfi_abort = on_abort,
		.xxfi_close = on_close,
		.xxfi_negotiate = on_negotiate,
	};
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}

unsigned filter_drain(int64_t deadline)
{
	pthread_mutex_lock(&flight_lock);
	while (in_flight > 0) {
		int64_t now = g_get_monotonic_time();
		if (now >= deadline)
			break;
		gint64 wait = deadline - now < G_USEC_PER_SEC ? deadline - now : G_USEC_PER_SEC;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + wait * 1000;
		ts.tv_sec += (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		pthread_cond_timedwait(&flight_done, &flight_lock, &ts);
	}
	unsigned left = in_flight;
	pthread_mutex_unlock(&flight_lock);
	return left;
}
