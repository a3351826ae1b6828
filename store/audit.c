/* audit.c - the audit record (one JSON object) and the audit log (JSON Lines).
 *
 * Owns how a mugai_result is serialized: the public audit format of
 * DESIGN.md, with a fixed field order so that lines diff well and tests can
 * compare them byte for byte.  The quarantine stores the same JSON beside
 * the original (quarantine.c).  Also owns the durable append of one line,
 * the opening of the administrators' log, and the one syslog line.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <json-c/json.h>

/* Keys are string literals: json-c may keep the pointer instead of a copy. */
static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add_ex(o, key, v,
	                          JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}

/* A JSON string, or null for NULL.  The strings come from attacker-written
 * headers and are meant to be UTF-8; json-c copies bytes >= 0x80 through
 * unchanged, so an invalid sequence would make the whole line unreadable
 * for strict readers (jq, Python).  Repair such strings to U+FFFD. */
static json_object *jstr(const char *s)
{
	if (!s)
		return NULL;
	if (g_utf8_validate(s, -1, NULL))
		return json_object_new_string(s);
	char *v = g_utf8_make_valid(s, -1);
	json_object *o = json_object_new_string(v);
	g_free(v);
	return o;
}

/* "" means "not computed" in the struct; say so with null, not "". */
static json_object *jhash(const char *hex)
{
	return hex[0] ? json_object_new_string(hex) : NULL;
}

static json_object *jstrv(const GPtrArray *a)
{
	json_object *arr = json_object_new_array();
	for (guint i = 0; a && i < a->len; i++)
		json_object_array_add(arr, jstr(g_ptr_array_index(a, i)));
	return arr;
}

static json_object *part_json(const mugai_part *p)
{
	json_object *o = json_object_new_object();
	add(o, "path", jstr(p->path));
	add(o, "content_type", jstr(p->content_type));
	add(o, "detected_type", jstr(p->detected_type));
	add(o, "filename", jstr(p->filename));
	if (p->name_param)
		add(o, "name_param", jstr(p->name_param));
	add(o, "size", json_object_new_uint64(p->size));
	add(o, "sha256", jhash(p->sha256));
	add(o, "action", json_object_new_string(part_action_name(p->action)));
	add(o, "reasons", jstrv(p->reasons));
	if (p->findings && p->findings->len)
		add(o, "findings", jstrv(p->findings));
	return o;
}

/* json-c escapes U+0000..U+001F but passes DEL, the C1 controls
 * (U+0080..U+009F), the bidi controls and the line separators raw.  All
 * are legal JSON, yet a C1 CSI in a log line is a terminal escape for
 * whoever runs `tail -f`, a bidi override makes `list --json` or a log
 * viewer show the text in another order than it is stored, and U+2028
 * ends a line for some readers.  These bytes occur only inside JSON
 * strings, so escaping them after serialization is safe.  Returns how many
 * bytes at P form such a character (0: none). */
static int unsafe_len(const unsigned char *p)
{
	if (p[0] == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	if (p[0] == 0xd8 && p[1] == 0x9c)   /* U+061C arabic letter mark */
		return 2;
	if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x8e && p[2] <= 0x8f) || (p[2] >= 0xa8 && p[2] <= 0xae)))
		return 3;   /* U+200E-F, U+2028-9, U+202A-E */
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3;   /* U+2066-9 */
	return 0;
}

static char *escape_unsafe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	/* the lead bytes of what unsafe_len() knows: a quick scan first */
	for (; *p; p++)
		if ((*p == 0x7f || *p == 0xc2 || *p == 0xd8 || *p == 0xe2) && unsafe_len(p))
			break;
	if (!*p)
		return g_strdup(s);
	GString *g = g_string_sized_new(strlen(s) + 16);
	g_string_append_len(g, s, (gssize)((const char *)p - s));
	while (*p) {
		int n = *p == 0x7f || *p == 0xc2 || *p == 0xd8 || *p == 0xe2 ? unsafe_len(p) : 0;
		if (n == 0) {
			g_string_append_c(g, (char)*p++);
			continue;
		}
		gunichar c = n == 1 ? 0x7f : g_utf8_get_char((const char *)p);
		g_string_append_printf(g, "\\u%04x", (unsigned)c);
		p += n;
	}
	return g_string_free(g, FALSE);
}

char *audit_record_json(const mugai_result *r)
{
	json_object *o = json_object_new_object();
	add(o, "ts", jstr(r->ts));
	add(o, "id", jstr(r->id));
	add(o, "message_id", jstr(r->message_id));
	add(o, "from", jstr(r->from));
	add(o, "header_from", jstr(r->header_from));
	add(o, "subject", jstr(r->subject));
	add(o, "rcpt", jstrv(r->rcpt));
	add(o, "client", jstr(r->client));
	add(o, "size", json_object_new_uint64(r->size));
	add(o, "sha256", jhash(r->sha256));
	add(o, "verdict", json_object_new_string(verdict_name(r->verdict)));
	add(o, "verdict_reason", jstr(r->verdict_reason));
	add(o, "quarantine_id", jstr(r->quarantine_id));
	add(o, "elapsed_ms", json_object_new_int64(r->elapsed_ms));
	add(o, "reasons", jstrv(r->reasons));
	json_object *parts = json_object_new_array();
	for (guint i = 0; r->parts && i < r->parts->len; i++)
		json_object_array_add(parts, part_json(g_ptr_array_index(r->parts, i)));
	add(o, "parts", parts);

	char *s = audit_json_string(o);
	json_object_put(o);
	return s;
}

char *audit_json_string(json_object *o)
{
	/* PLAIN: no spaces or newlines, so one record is one line. */
	return escape_unsafe(json_object_to_json_string_ext(o,
	                 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

char *audit_record_with_text(const char *audit_json, const char *delivered_text)
{
	size_t n = strlen(audit_json);
	if (!delivered_text || n < 2 || audit_json[n - 1] != '}')
		return g_strdup(audit_json);
	/* Spliced in rather than serializing the record a second time: the
	 * worker builds both strings for every quarantined message. */
	json_object *t = jstr(delivered_text);
	char *v = audit_json_string(t);
	json_object_put(t);
	char *s = g_strdup_printf("%.*s,\"delivered_text\":%s}", (int)(n - 1), audit_json, v);
	g_free(v);
	return s;
}

int audit_append(const char *path, const char *record_json)
{
	if (!path || !record_json)
		return -EINVAL;
	int fd = store_open_log(path, 0600, NULL, 0);
	if (fd < 0)
		return fd;
	int ret = audit_append_fd(fd, record_json);
	/* close() after EINTR must not be retried on Linux: the fd is gone. */
	if (close(fd) < 0 && ret == 0 && errno != EINTR)
		ret = -errno;
	return ret;
}

int audit_open_admin_log(const char *path, char *why, size_t whylen)
{
	char *abs = g_canonicalize_filename(path, NULL);
	int fd = safe_open_file(abs, O_WRONLY | O_APPEND | O_CREAT, 0600, why, whylen);
	g_free(abs);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid != geteuid()) {
		snprintf(why, whylen, "%s belongs to uid %u: only %s may write this log", path, (unsigned)st.st_uid,
		         geteuid() == 0 ? "root" : "its owner");
		close(fd);
		return -EPERM;
	}
	if (fd == -EINVAL && why && !*why)
		snprintf(why, whylen, "not a regular file with one link");
	return fd;
}

int audit_append_fd(int fd, const char *record_json)
{
	size_t n = strlen(record_json);
	/* A newline inside would split the record into two broken lines. */
	if (memchr(record_json, '\n', n))
		return -EINVAL;

	/* One buffer, one write(2): with O_APPEND the kernel places the whole
	 * line at the end, so concurrent writers (the milter's threads, a CLI
	 * run) never interleave inside a line. */
	char *line = g_malloc(n + 1);
	memcpy(line, record_json, n);
	line[n] = '\n';
	int ret = 0;
	ssize_t w;
	do
		w = write(fd, line, n + 1);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		ret = -errno;
	else if ((size_t)w != n + 1)
		ret = -EIO;   /* a torn line; retrying would append a second fragment */
	else if (fsync(fd) < 0)
		ret = -errno;
	g_free(line);
	return ret;
}

void audit_syslog_line(const char *id, const char *verdict, const char *reason, unsigned removed,
                       const char *qid, uint64_t size, int64_t elapsed_ms)
{
	syslog(LOG_MAIL | (strcmp(verdict, "tempfail") == 0 ? LOG_ERR : LOG_INFO),
	       "%s: mugai: verdict=%s%s%s removed=%u quarantine=%s size=%" PRIu64 " elapsed=%" PRId64 "ms",
	       id ? id : "NOQUEUE", verdict, reason ? " reason=" : "", reason ? reason : "", removed,
	       qid ? qid : "-", size, elapsed_ms);
}
