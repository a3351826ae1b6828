/* pipeline.c - one message through the whole pipeline.
 *
 * Order matters and is the contract: limits, parse, walk, verdict, build
 * and re-check the output.  Any failure along the way becomes a reason and
 * the verdict table turns it into tempfail.  The caller owns the output and
 * the result, and makes them durable (store_commit) before it answers:
 * the process that parses the mail never writes the quarantine or a log.
 */
#include "sanitize/pipeline.h"
#include "sanitize/charset.h"
#include "sanitize/policy.h"
#include "sanitize/rawlook.h"
#include "sanitize/verdict.h"
#include "sanitize/walk.h"
#include "store/store.h"
#include "util/fdio.h"
#include <errno.h>
#include <gmime/gmime.h>
#include <libxml/parser.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void pipeline_global_init(void)
{
	g_mime_init();
	xmlInitParser();
}

void pipeline_global_shutdown(void)
{
	g_mime_shutdown();
	xmlCleanupParser();
}

bool pipeline_header_replaced(const char *name)
{
	size_t n = strlen(name), lead = strspn(name, " \t");
	while (n > lead && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	name += lead;
	n -= lead;
	return (n >= 8 && g_ascii_strncasecmp(name, "content-", 8) == 0) ||
	       (n == 12 && g_ascii_strncasecmp(name, "mime-version", 12) == 0) ||
	       (n == 14 && g_ascii_strncasecmp(name, "x-mugai-status", 14) == 0) ||
	       /* only `mugai quarantine release` adds it, past the milter */
	       (n == 16 && g_ascii_strncasecmp(name, "x-mugai-released", 16) == 0);
}

/* Originals up to this size are read into memory (a buffer each thread
 * keeps for the next message); larger ones are mapped or read as a file.
 * On this kind of machine (a paravirtualised VM) faulting a fresh mapping
 * in and unmapping it cost as much as hashing the bytes twice. */
#define ORIGINAL_READ_MAX (8u << 20)

static _Thread_local GByteArray *original_buf;

/* A stream over the original for the parser, and the original's bytes in
 * *BYTES for the hash and the raw look (NULL when there is no such view:
 * they then pread FD).  Small originals are read whole; a larger one is
 * mapped read-only when nobody else can change it under us, an unnamed file
 * (the milter's spool, a memfd, the CLI's copy of stdin): a named file could
 * be truncated by its owner meanwhile, and reading a mapping past the new
 * end is SIGBUS, so those are read through a file stream.  PFD, the
 * caller's duplicate, is consumed.  *BYTES is valid until
 * release_original(). */
static GMimeStream *open_original(int pfd, uint64_t size, const unsigned char **bytes)
{
	*bytes = NULL;
	if (size > 0 && size <= ORIGINAL_READ_MAX) {
		if (!original_buf)
			original_buf = g_byte_array_new();
		g_byte_array_set_size(original_buf, (guint)size);
		if (fd_pread_full(pfd, original_buf->data, (size_t)size, 0) == (ssize_t)size) {
			close(pfd);
			GMimeStream *s = g_mime_stream_mem_new();
			g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(s), original_buf);   /* not owned */
			*bytes = original_buf->data;
			return s;
		}
		g_byte_array_set_size(original_buf, 0);   /* changed under us: read as a file */
	} else if (size > 0 && size <= SIZE_MAX && fd_is_unnamed_file(pfd, size)) {
		GMimeStream *s = g_mime_stream_mmap_new(pfd, PROT_READ, MAP_PRIVATE);
		if (s) {
			*bytes = (const unsigned char *)GMIME_STREAM_MMAP(s)->map;
			madvise((void *)*bytes, (size_t)size, MADV_SEQUENTIAL);
			return s;
		}
	}
	return g_mime_stream_fs_new(pfd);
}

/* After the last use of the bytes: a buffer grown past half the read limit
 * (a big message) is not kept for the next one. */
static void release_original(GMimeStream *stream)
{
	if (stream)
		g_object_unref(stream);   /* a mapping goes with its last reference */
	if (original_buf && original_buf->len > ORIGINAL_READ_MAX / 2) {
		g_byte_array_unref(original_buf);
		original_buf = NULL;
	}
}

/* SHA-256 of the original bytes, from MAP or else read with pread (so the
 * offset is untouched). */
static int hash_fd(int fd, const unsigned char *map, uint64_t size, char hex[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	char *buf = map ? NULL : g_malloc(1 << 16);
	uint64_t off = 0;
	int rc = 0;
	if (map)
		EVP_DigestUpdate(md, map, (size_t)size);
	while (!map && off < size) {
		ssize_t n = pread(fd, buf, 1 << 16, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		EVP_DigestUpdate(md, buf, (size_t)n);
		off += (uint64_t)n;
	}
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	if (rc == 0) {
		EVP_DigestFinal_ex(md, dg, &dl);
		for (unsigned i = 0; i < 32 && i < dl; i++)
			snprintf(hex + 2 * i, 3, "%02x", dg[i]);
	}
	g_free(buf);
	EVP_MD_CTX_free(md);
	return rc;
}

static uint64_t header_bytes(GMimeObject *obj)
{
	uint64_t n = 0;
	GMimeHeaderList *l = obj ? g_mime_object_get_header_list(obj) : NULL;
	int count = l ? g_mime_header_list_get_count(l) : 0;
	for (int i = 0; i < count; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(l, i);
		const char *name = g_mime_header_get_name(h), *raw = g_mime_header_get_raw_value(h);
		n += (name ? strlen(name) : 0) + 1 + (raw ? strlen(raw) : 0);
	}
	return n;
}

static char *decoded_header(GMimeMessage *msg, const char *name)
{
	GMimeHeaderList *l = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	GMimeHeader *h = g_mime_header_list_get_header(l, name);
	if (!h || !g_mime_header_get_raw_value(h))
		return NULL;
	char *v = charset_decode_header(g_mime_header_get_raw_value(h), NULL);
	return g_strstrip(v);
}

static void add_addresses(GPtrArray *to, InternetAddressList *list, bool first_only)
{
	int n = list ? internet_address_list_length(list) : 0;
	for (int i = 0; i < n; i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
			g_ptr_array_add(to, g_strdup(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a))));
		} else if (INTERNET_ADDRESS_IS_GROUP(a)) {
			add_addresses(to, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), first_only);
		}
		if (first_only && to->len)
			return;
	}
}

static void describe_message(mugai_result *r, const pipeline_env *env, GMimeMessage *msg)
{
	/* the raw value: GMime would decode encoded words in it, and a
	 * Message-ID is an identifier, not text */
	GMimeHeader *h = g_mime_header_list_get_header(g_mime_object_get_header_list(GMIME_OBJECT(msg)), "Message-ID");
	const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
	if (raw) {
		char *v = g_strstrip(g_strdup(raw));
		size_t n = strlen(v);
		if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
			memmove(v, v + 1, n - 2);
			v[n - 2] = '\0';
		}
		char *pv = charset_printable(v);  /* no controls in the audit's identifier */
		r->message_id = *pv ? pv : (g_free(pv), NULL);
		g_free(v);
	}
	r->subject = decoded_header(msg, "Subject");
	r->header_from = decoded_header(msg, "From");
	if (!env->env_from) {
		GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
		add_addresses(a, g_mime_message_get_from(msg), true);
		r->from = a->len ? g_strdup(g_ptr_array_index(a, 0)) : NULL;
		g_ptr_array_unref(a);
	}
	if (!env->rcpt) {
		add_addresses(r->rcpt, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), false);
		add_addresses(r->rcpt, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), false);
	}
}

static void explain_verdict(const pipeline_env *env, const mugai_result *r)
{
	if (!env->explain)
		return;
	fprintf(env->explain, "verdict %s", verdict_name(r->verdict));
	if (r->verdict_reason)
		fprintf(env->explain, " (%s)", r->verdict_reason);
	for (guint i = 0; i < r->reasons->len; i++)
		fprintf(env->explain, "%s%s", i ? ", " : " message reasons: ", (char *)g_ptr_array_index(r->reasons, i));
	if (r->quarantine_id)
		fprintf(env->explain, " quarantine=%s", r->quarantine_id);
	fputc('\n', env->explain);
}

/* [policy] for a suspect message: its exceptions or on_suspect.  These are
 * policy, not findings: the original is quarantined whatever they say, and
 * nothing but the rebuilt text can be delivered. */
static void apply_suspect_policy(const mugai_config *cfg, const pipeline_env *env, mugai_result *r)
{
	g_ptr_array_add(r->rcpt, NULL);
	char *rule = NULL;
	enum mugai_on_suspect a = policy_on_suspect(cfg, r->from, (const char *const *)r->rcpt->pdata, &rule);
	g_ptr_array_remove_index(r->rcpt, r->rcpt->len - 1);
	if (a == MUGAI_SUSPECT_REJECT)
		result_add_reason(r->reasons, "policy:suspect-rejected");
	else if (a == MUGAI_SUSPECT_DISCARD)
		result_add_reason(r->reasons, "policy:suspect-discarded");
	else if (cfg->on_suspect != MUGAI_SUSPECT_DELIVER)
		result_add_reason(r->reasons, "policy:suspect-delivered");  /* an exception did it */
	if (env->explain && rule)
		fprintf(env->explain, "policy: %s\n", rule);
	g_free(rule);
	verdict_decide(r);
}

enum verdict pipeline_run(const mugai_config *cfg, const pipeline_env *env,
                          int fd, GByteArray **out, mugai_result **res)
{
	gint64 t0 = g_get_monotonic_time();
	mugai_result *r = result_new();
	GByteArray *output = NULL;
	GMimeMessage *msg = NULL;
	GMimeParser *parser = NULL;
	GMimeParserOptions *opts = NULL;
	rawlook *raw = NULL;
	walk_ctx w = { 0 };
	char qid[QUARANTINE_ID_MAX] = "";
	struct stat st;
	GMimeStream *stream = NULL;
	const unsigned char *map = NULL;   /* the original's bytes, when open_original has them */

	r->ts = result_now_rfc3339();
	r->from = g_strdup(env->env_from);
	r->client = g_strdup(env->client);
	for (const char *const *p = env->rcpt; p && *p; p++)
		g_ptr_array_add(r->rcpt, g_strdup(*p));
	if (env->quarantine_id && quarantine_id_valid(env->quarantine_id))
		g_strlcpy(qid, env->quarantine_id, sizeof qid);
	else if (quarantine_new_id(qid, sizeof qid) < 0) {
		result_add_reason(r->reasons, "internal:random");
		goto decide;
	}
	r->id = g_strdup(env->id ? env->id : qid);

	if (fstat(fd, &st) < 0) {
		result_add_reason(r->reasons, "internal:read");
		goto decide;
	}
	int pfd = dup(fd);
	if (pfd < 0 || lseek(pfd, 0, SEEK_SET) < 0) {
		if (pfd >= 0)
			close(pfd);
		result_add_reason(r->reasons, "internal:read");
		goto decide;
	}
	stream = open_original(pfd, (uint64_t)st.st_size, &map);
	if (hash_fd(fd, map, (uint64_t)st.st_size, r->sha256) < 0) {
		result_add_reason(r->reasons, "internal:read");
		goto decide;
	}
	r->size = (uint64_t)st.st_size;
	if (r->size > (uint64_t)cfg->max_message_size) {
		result_add_reason(r->reasons, "limit:message-size");
		goto decide;
	}

	parser = g_mime_parser_new_with_stream(stream);
	opts = walk_parser_options(r);
	msg = g_mime_parser_construct_message(parser, opts);
	if (!msg) {
		result_add_reason(r->reasons, "malformed-message");
		goto decide;
	}
	if (header_bytes(GMIME_OBJECT(msg)) + header_bytes(msg->mime_part) > (uint64_t)cfg->max_header_bytes) {
		result_add_reason(r->reasons, "limit:header-bytes");
		goto decide;
	}
	describe_message(r, env, msg);
	/* what a lenient client would read in the same bytes (rawlook.c) */
	if (rawlook_run(msg, fd, map, r->size, r->reasons, &raw) < 0) {
		result_add_reason(r->reasons, "internal:rawlook");
		goto decide;
	}
	walk_init(&w, cfg, r, env->explain);
	w.raw = raw;
	if (walk_message(&w, msg) < 0)
		result_add_reason(r->reasons, "internal:walk");

decide:
	if (verdict_decide(r) == VERDICT_SUSPECT)
		apply_suspect_policy(cfg, env, r);
	char *body = NULL;   /* the text the recipient gets, kept for the quarantine record */
	if (r->verdict <= VERDICT_SUSPECT && msg) {
		const char *why = NULL;
		if (r->verdict != VERDICT_CLEAN)
			r->quarantine_id = g_strdup(qid);
		output = output_build(cfg, msg, r, w.blocks, &body);
		if (output_check(output, body, &why) < 0) {
			result_add_reason(r->reasons, "output-check-failed");
			if (env->explain)
				fprintf(env->explain, "output check failed: %s\n", why);
			verdict_decide(r);
		}
	} else if (r->verdict == VERDICT_DISCARDED ||
	           (r->verdict == VERDICT_REJECTED && strcmp(r->verdict_reason, "limit:message-size") != 0)) {
		/* kept for the administrator: a refused message is still evidence */
		r->quarantine_id = g_strdup(qid);
	}
	if (r->verdict == VERDICT_TEMPFAIL) {
		g_free(r->quarantine_id);
		r->quarantine_id = NULL;
	}
	r->elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
	r->text = r->verdict <= VERDICT_SUSPECT ? body : (g_free(body), NULL);
	explain_verdict(env, r);

	if (r->verdict > VERDICT_SUSPECT && output) {
		g_byte_array_unref(output);
		output = NULL;
	}
	walk_clear(&w);
	raw = rawlook_free(raw);
	if (msg)
		g_object_unref(msg);
	if (parser)
		g_object_unref(parser);
	if (opts)
		g_mime_parser_options_free(opts);
	release_original(stream);
	*out = output;
	*res = r;
	return r->verdict;
}

int pipeline_export_part(int fd, const char *path, int out_fd)
{
	int pfd = dup(fd);
	if (pfd < 0)
		return -errno;
	if (lseek(pfd, 0, SEEK_SET) < 0) {
		close(pfd);
		return -errno;
	}
	GMimeStream *stream = g_mime_stream_fs_new(pfd);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	GMimeParserOptions *opts = g_mime_parser_options_new();
	GMimeMessage *msg = g_mime_parser_construct_message(parser, opts);
	int rc = msg ? walk_export_part(msg, path, out_fd) : 1;
	if (msg)
		g_object_unref(msg);
	g_object_unref(parser);
	g_mime_parser_options_free(opts);
	return rc;
}
