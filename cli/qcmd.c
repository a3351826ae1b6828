/* qcmd.c - the `mugai quarantine` commands: list, show, export, approve,
 * release, delete, purge.
 *
 * Owns what an administrator sees and what every act leaves behind.  list
 * answers from the index (qindex.c); show reads one record and its review
 * state; the acts open the administrators' audit log before they do
 * anything, then append one record to it (fields in README.md,
 * "Administrator records") whatever the outcome: done ("ok"), refused by
 * mugai's own rules ("denied"), refused by the SMTP server ("refused"), or
 * not possible ("failed").  Approvals and releases change the review state
 * under its lock (qstate.c), in root's directory; the quarantine itself is
 * only read, and entries removed, as its owner (store/).  Names from a
 * mail never reach a path: IDs are checked by quarantine_id_valid() and
 * part paths are digits and dots.  Messages for people go through TR()
 * (i18n.c); JSON and audit records do not.
 */
#include "cli/qcmd.h"
#include "worker/confine.h"
#include "cli/i18n.h"
#include "cli/outfile.h"
#include "cli/qview.h"
#include "cli/release.h"
#include "sanitize/pipeline.h"
#include "store/qstate.h"
#include "store/store.h"
#include "util/fdio.h"
#include "util/safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#define COPY_BUF (64 * 1024)
#define EXIT_OK 0
#define EXIT_REFUSED 1
#define EXIT_TEMPFAIL 75

/* ---- record fields -------------------------------------------------------- */

static const char *jget_str(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static uint64_t jget_u64(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_uint64(v);
}

static json_object *jget_array(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* Exit code once OUT has been written: a full disk or closed pipe is I/O trouble. */
static int finish_out(FILE *out, FILE *err, int code)
{
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(err, TR("mugai: quarantine: writing output: %s\n"), g_strerror(errno));
		return EXIT_TEMPFAIL;
	}
	return code;
}

static bool check_id(const char *id, FILE *err)
{
	if (quarantine_id_valid(id))
		return true;
	char *p = qview_printable(id);
	fprintf(err, TR("mugai: quarantine: not a quarantine ID: %s\n"), p);
	g_free(p);
	return false;
}

/* Load the record of ID, reporting on ERR.  Returns 0 or the exit code. */
static int load_for_cmd(const char *dir, const char *id, json_object **rec, FILE *err)
{
	*rec = NULL;
	if (!check_id(id, err))
		return EXIT_REFUSED;
	int rc = quarantine_read_record(dir, id, rec);
	if (rc == -ENOENT) {
		fprintf(err, TR("mugai: quarantine: no such entry: %s\n"), id);
		return EXIT_REFUSED;
	}
	if (rc < 0) {
		fprintf(err, "mugai: quarantine: %s: %s\n", id, g_strerror(-rc));
		return EXIT_TEMPFAIL;
	}
	return 0;
}

/* ---- list ------------------------------------------------------------------ */

typedef struct list_row {
	char *id, *time, *verdict, *size, *sender, *subject;
} list_row;

static void list_row_free(gpointer p)
{
	list_row *r = p;
	g_free(r->id);
	g_free(r->time);
	g_free(r->verdict);
	g_free(r->size);
	g_free(r->sender);
	g_free(r->subject);
	g_free(r);
}

static int collect_row(const qindex_row *row, void *user)
{
	list_row *r = g_new0(list_row, 1);
	r->id = g_strdup(row->id);
	r->time = qview_local_time(row->ts, false);
	if (!r->time)
		r->time = g_strdup("-");
	r->verdict = qview_printable(row->verdict);
	r->size = qview_size(row->size);
	r->sender = qview_printable(row->sender);
	r->subject = qview_printable(row->subject);
	g_ptr_array_add(user, r);
	return 0;
}

struct json_out {
	FILE *out;
	bool first;
};

static int print_json_row(const qindex_row *row, void *user)
{
	struct json_out *j = user;
	if (!j->first)
		fputs(",\n", j->out);
	fputs(row->json ? row->json : "null", j->out);
	j->first = false;
	return 0;
}

#define SEP "  "
#define W_ID 29
#define W_TIME 16
#define W_VERDICT 9
#define W_SIZE 9
#define W_FROM_MAX 30
#define W_FROM_MIN 12
#define W_SUBJECT_MIN 20

static void put_line(FILE *out, GString *g)
{
	while (g->len && g->str[g->len - 1] == ' ')
		g_string_truncate(g, g->len - 1);
	fprintf(out, "%s\n", g->str);
	g_string_truncate(g, 0);
}

static void print_table(FILE *out, GPtrArray *rows)
{
	const char *h_id = TR("ID"), *h_time = TR("TIME"), *h_verdict = TR("VERDICT"),
	           *h_size = TR("SIZE"), *h_from = TR("FROM"), *h_subject = TR("SUBJECT");
	int w_from = qview_width(h_from);
	for (guint i = 0; i < rows->len; i++) {
		list_row *r = g_ptr_array_index(rows, i);
		int w = qview_width(r->sender);
		if (w > w_from)
			w_from = w;
	}
	if (w_from > W_FROM_MAX)
		w_from = W_FROM_MAX;
	/* The subject gets what the other columns leave of the width; the
	 * sender gives some of its room when that is too little.  A window
	 * narrower than that gets longer lines rather than no subject. */
	int columns = qview_columns(out);
	int fixed = W_ID + W_TIME + W_VERDICT + W_SIZE + 5 * (int)strlen(SEP);
	if (columns - fixed - w_from < W_SUBJECT_MIN)
		w_from = MAX(W_FROM_MIN, MIN(w_from, columns - fixed - W_SUBJECT_MIN));
	int w_subject = MAX(W_SUBJECT_MIN, columns - fixed - w_from);

	GString *g = g_string_sized_new(256);
	const char *cells[6] = { h_id, h_time, h_verdict, h_size, h_from, h_subject };
	for (guint i = 0; i <= rows->len; i++) {
		if (i > 0) {
			list_row *r = g_ptr_array_index(rows, i - 1);
			cells[0] = r->id;
			cells[1] = r->time;
			cells[2] = r->verdict;
			cells[3] = r->size;
			cells[4] = r->sender;
			cells[5] = r->subject;
		}
		qview_cell(g, cells[0], W_ID, false, false);
		g_string_append(g, SEP);
		qview_cell(g, cells[1], W_TIME, false, false);
		g_string_append(g, SEP);
		qview_cell(g, cells[2], W_VERDICT, false, false);
		g_string_append(g, SEP);
		qview_cell(g, cells[3], W_SIZE, false, true);
		g_string_append(g, SEP);
		qview_cell(g, cells[4], w_from, true, false);
		g_string_append(g, SEP);
		qview_cell(g, cells[5], w_subject, true, false);
		put_line(out, g);
	}
	g_string_free(g, TRUE);
}

int quarantine_cmd_list(const char *dir, const qindex_filter *f, bool json, FILE *out, FILE *err)
{
	qindex_stats st;
	int rc;
	if (json) {
		struct json_out j = { out, true };
		fputs("[", out);
		rc = qindex_query(dir, f, true, print_json_row, &j, &st, err);
		fputs("]\n", out);
	} else {
		GPtrArray *rows = g_ptr_array_new_with_free_func(list_row_free);
		rc = qindex_query(dir, f, false, collect_row, rows, &st, err);
		if (rc == 0)
			print_table(out, rows);
		g_ptr_array_unref(rows);
	}
	if (rc < 0) {
		fprintf(err, "mugai: quarantine: %s: %s\n", dir, g_strerror(-rc));
		return finish_out(out, err, EXIT_TEMPFAIL);
	}
	return finish_out(out, err, st.unreadable ? EXIT_TEMPFAIL : EXIT_OK);
}

/* ---- show ------------------------------------------------------------------ */

/* Labels of `show`, for the width of the label column. */
static const char *const show_labels[] = {
	"ID", "Time", "Verdict", "Verdict reason", "Record ID", "Envelope from", "Recipients",
	"Client", "Header From", "Subject", "Message-ID", "Size", "SHA-256", "Reasons", "Parts",
	"Type", "Detected", "Filename", "Name param", "Findings", "Approvals", "Releases",
};

static int label_width(void)
{
	int w = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(show_labels); i++) {
		int lw = qview_width(TR(show_labels[i])) + 2;   /* indent of part labels */
		if (lw > w)
			w = lw;
	}
	return w + 2;   /* ":" and one blank at least */
}

/* "LABEL: VALUE" with VALUE already printable; INDENT for part lines. */
static void put_field(FILE *out, int lw, bool indent, const char *label, const char *value)
{
	GString *g = g_string_new(indent ? "  " : "");
	if (*label) {   /* "": a continuation line of the field above */
		g_string_append(g, TR(label));
		g_string_append_c(g, ':');
	}
	char *l = g_string_free(g, FALSE);
	GString *line = g_string_new(NULL);
	qview_cell(line, l, lw, false, false);
	g_string_append(line, value);
	put_line(out, line);
	g_string_free(line, TRUE);
	g_free(l);
}

static void put_str(FILE *out, int lw, bool indent, const char *label, const char *raw)
{
	char *v = qview_printable(raw);
	put_field(out, lw, indent, label, v);
	g_free(v);
}

/* Strings of ARR joined with ", ", each made printable; "-" when empty. */
static char *join_printable(json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	if (n == 0)
		return g_strdup("-");
	GString *g = g_string_new(NULL);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		char *s = qview_printable(json_object_is_type(v, json_type_string) ?
		                          json_object_get_string(v) : NULL);
		if (i)
			g_string_append(g, ", ");
		g_string_append(g, s);
		g_free(s);
	}
	return g_string_free(g, FALSE);
}

static void put_list(FILE *out, int lw, bool indent, const char *label, json_object *arr)
{
	char *v = join_printable(arr);
	put_field(out, lw, indent, label, v);
	g_free(v);
}

static void put_size(FILE *out, int lw, bool indent, uint64_t size)
{
	char *h = qview_size(size);
	char *v = size < 1024 ? g_strdup_printf(TR("%" PRIu64 " bytes"), size) :
	                        g_strdup_printf(TR("%s (%" PRIu64 " bytes)"), h, size);
	put_field(out, lw, indent, "Size", v);
	g_free(v);
	g_free(h);
}

/* One line per act: "IDENTITY (USER) TIME to RCPTS: REASON", then for a
 * release the server's reply, for an approval what became of it. */
static void put_acts(FILE *out, int lw, const char *label, json_object *list, bool releases, const char *now)
{
	size_t n = list ? json_object_array_length(list) : 0;
	if (n == 0) {
		put_field(out, lw, false, label, TR("(none)"));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(list, i);
		GString *g = g_string_new(NULL);
		char *who = qview_printable(jget_str(a, "user"));
		char *by = qview_printable(jget_str(a, "by"));
		char *at = qview_local_time(jget_str(a, "at"), true);
		char *why = qview_printable(jget_str(a, "reason"));
		char *to = join_printable(jget_array(a, "to"));
		g_string_append(g, who);
		if (strcmp(who, by) != 0)
			g_string_append_printf(g, " (%s)", by);
		g_string_append_printf(g, " %s", at ? at : "-");
		g_string_append_printf(g, TR(" to %s"), to);
		g_string_append_printf(g, ": %s", why);
		if (releases) {
			char *reply = qview_printable(jget_str(a, "smtp_reply"));
			g_string_append_printf(g, " [%s]", reply);
			g_free(reply);
		} else {
			const char *used = jget_str(a, "used");
			char *t = qview_local_time(used ? used : jget_str(a, "expires"), true);
			if (used)
				g_string_append_printf(g, TR(" [used by the release at %s]"), t ? t : "-");
			else if (qstate_approval_live(a, now, NULL))
				g_string_append_printf(g, TR(" [valid until %s]"), t ? t : "-");
			else
				g_string_append_printf(g, TR(" [expired %s]"), t ? t : "-");
			g_free(t);
		}
		put_field(out, lw, false, i == 0 ? label : "", g->str);
		g_string_free(g, TRUE);
		g_free(who);
		g_free(by);
		g_free(at);
		g_free(why);
		g_free(to);
	}
}

static unsigned count_removed(json_object *parts)
{
	size_t n = parts ? json_object_array_length(parts) : 0;
	unsigned removed = 0;
	for (size_t i = 0; i < n; i++) {
		const char *a = jget_str(json_object_array_get_idx(parts, i), "action");
		if (a && strcmp(a, "removed") == 0)
			removed++;
	}
	return removed;
}

int quarantine_cmd_show(quarantine_admin *a, const char *id)
{
	FILE *out = a->out, *err = a->err;
	json_object *rec;
	int code = load_for_cmd(a->dir, id, &rec, err);
	if (code)
		return code;
	json_object *state = NULL;
	int src = qstate_load(a->review_dir, id, &state);
	if (src < 0)
		fprintf(err, TR("mugai: quarantine: %s: review state: %s\n"), id, g_strerror(-src));
	char *now = result_now_rfc3339();

	int lw = label_width();
	put_field(out, lw, false, "ID", id);
	char *local = qview_local_time(jget_str(rec, "ts"), true);
	char *ts = qview_printable(jget_str(rec, "ts"));
	char *t = local ? g_strdup_printf("%s (%s)", local, ts) : g_strdup(ts);
	put_field(out, lw, false, "Time", t);
	g_free(t);
	g_free(ts);
	g_free(local);
	put_str(out, lw, false, "Verdict", jget_str(rec, "verdict"));
	if (jget_str(rec, "verdict_reason"))
		put_str(out, lw, false, "Verdict reason", jget_str(rec, "verdict_reason"));
	put_str(out, lw, false, "Record ID", jget_str(rec, "id"));
	put_str(out, lw, false, "Envelope from", jget_str(rec, "from"));
	put_list(out, lw, false, "Recipients", jget_array(rec, "rcpt"));
	put_str(out, lw, false, "Client", jget_str(rec, "client"));
	put_str(out, lw, false, "Header From", jget_str(rec, "header_from"));
	put_str(out, lw, false, "Subject", jget_str(rec, "subject"));
	put_str(out, lw, false, "Message-ID", jget_str(rec, "message_id"));
	put_size(out, lw, false, jget_u64(rec, "size"));
	put_str(out, lw, false, "SHA-256", jget_str(rec, "sha256"));
	put_list(out, lw, false, "Reasons", jget_array(rec, "reasons"));

	json_object *parts = jget_array(rec, "parts");
	size_t n = parts ? json_object_array_length(parts) : 0;
	char *pc = g_strdup_printf(TR("%zu (%u removed)"), n, count_removed(parts));
	put_field(out, lw, false, "Parts", pc);
	g_free(pc);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(parts, i);
		char *path = qview_printable(jget_str(p, "path"));
		char *action = qview_printable(jget_str(p, "action"));
		fputc('\n', out);
		fprintf(out, TR("Part %s: %s\n"), path, action);
		g_free(path);
		g_free(action);
		put_str(out, lw, true, "Type", jget_str(p, "content_type"));
		put_str(out, lw, true, "Detected", jget_str(p, "detected_type"));
		put_str(out, lw, true, "Filename", jget_str(p, "filename"));
		if (jget_str(p, "name_param"))
			put_str(out, lw, true, "Name param", jget_str(p, "name_param"));
		put_size(out, lw, true, jget_u64(p, "size"));
		put_str(out, lw, true, "SHA-256", jget_str(p, "sha256"));
		put_list(out, lw, true, "Reasons", jget_array(p, "reasons"));
		json_object *findings = jget_array(p, "findings");
		for (size_t k = 0; findings && k < json_object_array_length(findings); k++) {
			json_object *f = json_object_array_get_idx(findings, k);
			put_str(out, lw, true, k == 0 ? "Findings" : "",
			        json_object_is_type(f, json_type_string) ? json_object_get_string(f) : NULL);
		}
	}

	fputc('\n', out);
	put_acts(out, lw, "Approvals", state ? qstate_list(state, "approvals") : NULL, false, now);
	put_acts(out, lw, "Releases", state ? qstate_list(state, "releases") : NULL, true, now);
	g_free(now);

	fprintf(out, "\n%s\n", TR("--- Text the recipient received ---"));
	const char *text = jget_str(rec, "delivered_text");
	if (text) {
		char *v = qview_printable_text(text);
		fputs(v, out);
		if (*v && v[strlen(v) - 1] != '\n')
			fputc('\n', out);
		g_free(v);
	} else {
		fprintf(out, "%s\n", TR("(not recorded: nothing was delivered, or the entry predates this record)"));
	}
	json_object_put(state);
	json_object_put(rec);
	return finish_out(out, err, EXIT_OK);
}

/* ---- administrator records ----------------------------------------------- */

char *quarantine_admin_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name && *pw->pw_name)
		return g_strdup(pw->pw_name);
	return g_strdup_printf("uid %u", (unsigned)getuid());
}

/* The person an approval or release is credited to: the sudo caller when
 * there is one (root is a shared account), else the user. */
static const char *identity(const quarantine_admin *a)
{
	return a->sudo_user && *a->sudo_user ? a->sudo_user : a->user;
}

static json_object *jnstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* The fields every administrator record starts with. */
static json_object *act_new(const quarantine_admin *a, const char *event, const char *qid,
                            const char *reason)
{
	json_object *o = json_object_new_object();
	char *ts = result_now_rfc3339();
	json_object_object_add(o, "ts", json_object_new_string(ts));
	g_free(ts);
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "user", jnstr(a->user));
	json_object_object_add(o, "sudo_user", jnstr(a->sudo_user && *a->sudo_user ? a->sudo_user : NULL));
	json_object_object_add(o, "config", jnstr(a->config));
	json_object_object_add(o, "config_sha256", jnstr(a->config_sha256 && *a->config_sha256 ? a->config_sha256 : NULL));
	json_object_object_add(o, "quarantine_id", jnstr(qid));
	json_object_object_add(o, "reason", jnstr(reason));
	return o;
}

/* The act needs its record: open the administrators' log before anything
 * is done, and refuse to start when it cannot take one. */
static int log_ready(quarantine_admin *a)
{
	if (a->admin_fd >= 0)
		return 0;
	char why[512] = "";
	int fd = audit_open_admin_log(a->admin_log, why, sizeof why);
	if (fd < 0) {
		fprintf(a->err, TR("mugai: quarantine: cannot write the audit log %s: %s; nothing done\n"),
		        a->admin_log, *why ? why : g_strerror(-fd));
		return EXIT_TEMPFAIL;
	}
	a->admin_fd = fd;
	return 0;
}

/* Add RESULT and ERROR, append REC (consumed) to the audit log.  Returns
 * CODE, or 75 when the record could not be written. */
static int act_finish(const quarantine_admin *a, json_object *rec, const char *result,
                      const char *error, int code)
{
	json_object_object_add(rec, "result", json_object_new_string(result));
	json_object_object_add(rec, "error", jnstr(error));
	char *line = audit_json_string(rec);
	json_object_put(rec);
	int rc = a->admin_fd >= 0 ? audit_append_fd(a->admin_fd, line) : -EBADF;
	g_free(line);
	if (rc < 0) {
		fprintf(a->err, TR("mugai: quarantine: cannot write the audit log %s: %s\n"),
		        a->admin_log, g_strerror(-rc));
		return EXIT_TEMPFAIL;
	}
	return code;
}

/* ---- export ---------------------------------------------------------------- */

/* "1", "2.1": digits separated by single dots. */
static bool part_path_valid(const char *s)
{
	if (!s || !*s)
		return false;
	bool digit = false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digit = true;
		else if (*s == '.' && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

static int copy_fd(int in, int out)
{
	char *buf = g_malloc(COPY_BUF);
	int rc = 0;
	for (;;) {
		ssize_t n = read(in, buf, COPY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		if ((rc = fd_write_all(out, buf, (size_t)n)) < 0)
			break;
	}
	g_free(buf);
	return rc;
}

/* What the confined child of export --part does. */
struct part_job {
	int in, out;
	const char *path;
};

static int export_part(void *arg)
{
	struct part_job *j = arg;
	pipeline_global_init();
	int rc = pipeline_export_part(j->in, j->path, j->out);
	return rc;
}

int quarantine_cmd_export(quarantine_admin *a, const char *id, const char *part,
                          const char *output, const char *reason, int out_fd)
{
	FILE *err = a->err;
	if (!check_id(id, err))
		return EXIT_REFUSED;
	int fd = quarantine_open_original(a->dir, id);
	if (fd < 0) {
		if (fd == -ENOENT) {
			fprintf(err, TR("mugai: quarantine: no such entry: %s\n"), id);
			return EXIT_REFUSED;
		}
		fprintf(err, "mugai: quarantine: %s: %s\n", id, g_strerror(-fd));
		return EXIT_TEMPFAIL;
	}
	if (part && !part_path_valid(part)) {
		char *p = qview_printable(part);
		fprintf(err, TR("mugai: quarantine: %s: no such part: %s\n"), id, p);
		g_free(p);
		close(fd);
		return EXIT_REFUSED;
	}
	int code = log_ready(a);
	if (code) {
		close(fd);
		return code;
	}
	json_object *rec = act_new(a, "export", id, reason);
	json_object_object_add(rec, "part", jnstr(part));
	json_object_object_add(rec, "output", json_object_new_string(output ? output : "-"));

	/* a reader that went away is an error to report, not a signal to die of */
	signal(SIGPIPE, SIG_IGN);
	outfile of = { .fd = -1, .pid = -1, .ctl = -1, .dfd = -1 };
	int ofd = out_fd;
	if (output) {
		int rc = outfile_open(&of, output, a->sudo_uid > 0 ? a->sudo_uid : -1,
		                      a->sudo_gid >= 0 ? a->sudo_gid : a->sudo_uid, a->sudo_user);
		if (rc == -EPERM && a->sudo_uid > 0) {
			close(fd);
			fprintf(err, TR("mugai: quarantine: -o cannot be used through sudo -u; redirect the output instead\n"));
			return act_finish(a, rec, "denied", "-o through sudo -u", EXIT_REFUSED);
		}
		if (rc < 0) {
			close(fd);
			if (rc == -EEXIST) {
				fprintf(err, TR("mugai: quarantine: %s: exists; not overwritten\n"), output);
				return act_finish(a, rec, "denied", "output exists", EXIT_REFUSED);
			}
			fprintf(err, "mugai: quarantine: %s: %s\n", output, g_strerror(-rc));
			return act_finish(a, rec, "failed", g_strerror(-rc), EXIT_TEMPFAIL);
		}
		ofd = of.fd;
	}
	const char *result = "ok";
	char *error = NULL;
	if (part) {
		/* the original is a stranger's mail: parsed in a confined child */
		struct part_job j = { fd, ofd, part };
		char why[512];
		int prc = 0;
		int rc = confine_run(a->cfg, export_part, &j, &prc, why, sizeof why);
		if (rc < 0) {
			fprintf(err, TR("mugai: quarantine: %s: part export: %s\n"), id, why);
			result = "failed";
			error = g_strdup(why);
			code = EXIT_TEMPFAIL;
		} else if (prc == 1) {
			char *p = qview_printable(part);
			fprintf(err, TR("mugai: quarantine: %s: no such part: %s\n"), id, p);
			g_free(p);
			result = "denied";
			error = g_strdup("no such part");
			code = EXIT_REFUSED;
		} else if (prc < 0) {
			fprintf(err, TR("mugai: quarantine: %s: part export: %s\n"), id, g_strerror(-prc));
			result = "failed";
			error = g_strdup(g_strerror(-prc));
			code = EXIT_TEMPFAIL;
		}
	} else {
		int rc = copy_fd(fd, ofd);
		if (rc < 0) {
			fprintf(err, TR("mugai: quarantine: writing output: %s\n"), g_strerror(-rc));
			result = "failed";
			error = g_strdup(g_strerror(-rc));
			code = EXIT_TEMPFAIL;
		}
	}
	if (output) {
		/* named only when whole: a failure leaves nothing to remove */
		int rc = outfile_close(&of, code == 0);
		if (code == 0 && rc == -EEXIST) {
			fprintf(err, TR("mugai: quarantine: %s: exists; not overwritten\n"), output);
			result = "denied";
			error = g_strdup("output exists");
			code = EXIT_REFUSED;
		} else if (code == 0 && rc < 0) {
			fprintf(err, TR("mugai: quarantine: writing output: %s\n"), g_strerror(-rc));
			result = "failed";
			error = g_strdup(g_strerror(-rc));
			code = EXIT_TEMPFAIL;
		}
	}
	close(fd);
	code = act_finish(a, rec, result, error, code);
	g_free(error);
	return code;
}

/* ---- approve and release ------------------------------------------------- */

/* The identity as a header parameter: a sudo user name could hold anything
 * a shell lets through; keep it one token. */
static char *header_token(const char *s)
{
	char *t = g_strdup(s ? s : "unknown");
	for (char *p = t; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == ';' || *p == '"')
			*p = '_';
	return t;
}

static json_object *strv_json(GPtrArray *a)
{
	json_object *arr = json_object_new_array();
	for (guint i = 0; a && i < a->len; i++)
		json_object_array_add(arr, json_object_new_string(g_ptr_array_index(a, i)));
	return arr;
}

static char *strv_join(GPtrArray *a)
{
	GString *g = g_string_new(NULL);
	for (guint i = 0; i < a->len; i++) {
		char *p = qview_printable(g_ptr_array_index(a, i));
		g_string_append_printf(g, "%s%s", i ? ", " : "", p);
		g_free(p);
	}
	return g_string_free(g, FALSE);
}

/* An approval or release as the review state keeps it. */
static json_object *state_item(const quarantine_admin *a, const char *reason, const char *ts)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "user", json_object_new_string(identity(a)));
	json_object_object_add(o, "by", jnstr(a->user));
	json_object_object_add(o, "sudo_user", jnstr(a->sudo_user && *a->sudo_user ? a->sudo_user : NULL));
	json_object_object_add(o, "at", json_object_new_string(ts));
	json_object_object_add(o, "reason", jnstr(reason));
	return o;
}

/* Lock the review state and load ID's, reporting on ERR: 0, or the exit code. */
static int lock_state(const quarantine_admin *a, const char *id, int *lock, json_object **state)
{
	*state = NULL;
	char why[512] = "";
	*lock = qstate_lock(a->review_dir, why, sizeof why);
	if (*lock < 0) {
		fprintf(a->err, TR("mugai: quarantine: review state %s: %s\n"), a->review_dir,
		        *why ? why : g_strerror(-*lock));
		return EXIT_TEMPFAIL;
	}
	int rc = qstate_load(a->review_dir, id, state);
	if (rc < 0) {
		fprintf(a->err, TR("mugai: quarantine: %s: review state: %s\n"), id, g_strerror(-rc));
		close(*lock);
		*lock = -1;
		return EXIT_TEMPFAIL;
	}
	return 0;
}

/* The recipients an act is about: TO when given, else the record's.  NULL
 * (reported on ERR) when a recorded one cannot go on the wire. */
static GPtrArray *act_recipients(const quarantine_admin *a, const char *id, json_object *rec,
                                 const char *const *to)
{
	GPtrArray *rcpt = g_ptr_array_new_with_free_func(g_free);
	if (to) {
		for (const char *const *t = to; *t; t++)
			g_ptr_array_add(rcpt, g_strdup(*t));
		return rcpt;
	}
	json_object *arr = jget_array(rec, "rcpt");
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		const char *r = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		if (!r || !quarantine_address_ok(r)) {
			char *p = qview_printable(r);
			fprintf(a->err, TR("mugai: quarantine: %s: the recorded recipient %s cannot be used; give --to\n"),
			        id, p);
			g_free(p);
			g_ptr_array_unref(rcpt);
			return NULL;
		}
		g_ptr_array_add(rcpt, g_strdup(r));
	}
	if (rcpt->len == 0) {
		fprintf(a->err, TR("mugai: quarantine: %s: no recipients recorded; give --to\n"), id);
		g_ptr_array_unref(rcpt);
		return NULL;
	}
	return rcpt;
}

int quarantine_cmd_approve(quarantine_admin *a, const char *id, const char *reason, const char *const *to)
{
	json_object *rec, *state;
	int lock, code = load_for_cmd(a->dir, id, &rec, a->err);
	if (code)
		return code;
	GPtrArray *rcpt = act_recipients(a, id, rec, to);
	json_object_put(rec);
	if (!rcpt)
		return EXIT_REFUSED;
	if ((code = log_ready(a)) || (code = lock_state(a, id, &lock, &state))) {
		g_ptr_array_unref(rcpt);
		return code;
	}
	char *now = result_now_rfc3339();
	GDateTime *t = g_date_time_new_now_utc(), *te = g_date_time_add_seconds(t, (gdouble)a->approval_expiry);
	char *expires = result_rfc3339(te);
	g_date_time_unref(t);
	g_date_time_unref(te);
	json_object *act = act_new(a, "approve", id, reason);
	json_object_object_add(act, "to", strv_json(rcpt));
	json_object_object_add(act, "expires", json_object_new_string(expires));
	const char *who = identity(a);
	json_object *l = qstate_list(state, "approvals");
	bool again = false;
	for (size_t i = 0; i < json_object_array_length(l) && !again; i++) {
		json_object *ap = json_object_array_get_idx(l, i);
		const char *u = qstate_approval_user(ap);
		again = u && strcmp(u, who) == 0 && qstate_approval_live(ap, now, NULL);
	}
	if (again) {
		fprintf(a->err, TR("mugai: quarantine: %s: %s has approved it already\n"), id, who);
		code = act_finish(a, act, "denied", "already approved by this user", EXIT_REFUSED);
	} else {
		json_object *item = state_item(a, reason, now);
		json_object_object_add(item, "quarantine_id", json_object_new_string(id));
		json_object_object_add(item, "to", strv_json(rcpt));
		json_object_object_add(item, "expires", json_object_new_string(expires));
		json_object_object_add(item, "used", NULL);
		qstate_add(state, "approvals", item);
		int rc = qstate_save(a->review_dir, id, state);
		if (rc < 0) {
			fprintf(a->err, TR("mugai: quarantine: %s: review state: %s\n"), id, g_strerror(-rc));
			code = act_finish(a, act, "failed", g_strerror(-rc), EXIT_TEMPFAIL);
		} else {
			fprintf(a->out, TR("%s: approved by %s\n"), id, who);
			code = act_finish(a, act, "ok", NULL, finish_out(a->out, a->err, EXIT_OK));
		}
	}
	g_free(expires);
	g_free(now);
	json_object_put(state);
	close(lock);
	g_ptr_array_unref(rcpt);
	return code;
}

bool quarantine_address_ok(const char *s)
{
	if (!*s || strlen(s) > 320 || !g_utf8_validate(s, -1, NULL))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

int quarantine_cmd_release(quarantine_admin *a, const char *id, const char *reason,
                           const char *const *to, bool force)
{
	json_object *rec, *state = NULL;
	int lock = -1, ofd = -1, code = load_for_cmd(a->dir, id, &rec, a->err);
	if (code)
		return code;
	GPtrArray *rcpt = act_recipients(a, id, rec, to), *approvals = NULL;
	/* the milter records the null sender as "<>": MAIL FROM:<> */
	const char *from = jget_str(rec, "from");
	if (from && (!*from || strcmp(from, "<>") == 0))
		from = NULL;
	char *now = NULL;
	if (!rcpt) {
		code = EXIT_REFUSED;
		goto out;
	}
	if (from && !quarantine_address_ok(from)) {
		char *p = qview_printable(from);
		fprintf(a->err, TR("mugai: quarantine: %s: the recorded sender %s cannot be used\n"), id, p);
		g_free(p);
		code = EXIT_REFUSED;
		goto out;
	}
	if ((code = log_ready(a)) || (code = lock_state(a, id, &lock, &state)))
		goto out;

	/* Held until the end: an approval or a delete waits for the release. */
	json_object *act = act_new(a, "release", id, reason);
	json_object_object_add(act, "from", jnstr(from));
	json_object_object_add(act, "to", strv_json(rcpt));
	json_object_object_add(act, "force", json_object_new_boolean(force));
	now = result_now_rfc3339();
	approvals = qstate_live_approvals(state, identity(a), now, rcpt);
	GPtrArray *names = g_ptr_array_new();
	for (guint i = 0; i < approvals->len; i++)
		g_ptr_array_add(names, (gpointer)qstate_approval_user(g_ptr_array_index(approvals, i)));
	json_object_object_add(act, "approvals", strv_json(names));
	json_object_object_add(act, "smtp_reply", NULL);

	/* Only what was merely sanitized goes out without --force: suspect,
	 * rejected and discarded mail (and a record without a verdict) do not. */
	const char *verdict = jget_str(rec, "verdict");
	bool risky = !verdict || strcmp(verdict, "sanitized") != 0;
	int have = 1 + (int)approvals->len;
	if (risky && !force) {
		fprintf(a->err, TR("mugai: quarantine: %s: verdict %s: releasing it needs --force\n"),
		        id, verdict ? verdict : "-");
		code = act_finish(a, act, "denied", "needs --force", EXIT_REFUSED);
		g_ptr_array_unref(names);
		goto out;
	}
	if (risky && have < a->release_approvals) {
		fprintf(a->err, TR("mugai: quarantine: %s: needs %d administrators (the releaser and approvals of others), has %d\n"),
		        id, a->release_approvals, have);
		char *why = g_strdup_printf("needs %d administrators, has %d", a->release_approvals, have);
		code = act_finish(a, act, "denied", why, EXIT_REFUSED);
		g_free(why);
		g_ptr_array_unref(names);
		goto out;
	}
	/* approvals are used up only by a release they were needed for */
	if (!risky)
		g_ptr_array_set_size(approvals, 0);
	else
		g_ptr_array_set_size(approvals, MIN(approvals->len, (guint)(a->release_approvals - 1)));

	ofd = quarantine_open_original(a->dir, id);
	if (ofd < 0) {
		fprintf(a->err, "mugai: quarantine: %s: %s\n", id, g_strerror(-ofd));
		code = act_finish(a, act, "failed", g_strerror(-ofd), EXIT_TEMPFAIL);
		g_ptr_array_unref(names);
		goto out;
	}
	char *by = header_token(identity(a));
	char *header = g_strdup_printf("X-Mugai-Released: by=%s; at=%s; id=%s", by, now, id);
	GPtrArray *wire = g_ptr_array_new();
	for (guint i = 0; i < rcpt->len; i++)
		g_ptr_array_add(wire, g_ptr_array_index(rcpt, i));
	g_ptr_array_add(wire, NULL);
	char *reply = NULL, *error = NULL;
	enum release_result rr = release_send(a->release_smtp, from, (const char *const *)wire->pdata, header, ofd,
	                                      &reply, &error);
	g_ptr_array_unref(wire);
	json_object_object_add(act, "smtp_reply", jnstr(reply));
	char *shown = qview_printable(reply ? reply : error);
	if (rr == RELEASE_SENT) {
		json_object *item = state_item(a, reason, now);
		json_object_object_add(item, "to", strv_json(rcpt));
		json_object_object_add(item, "smtp_reply", jnstr(reply));
		GPtrArray *used = g_ptr_array_new();
		for (guint i = 0; i < approvals->len; i++) {
			json_object *ap = g_ptr_array_index(approvals, i);
			json_object_object_add(ap, "used", json_object_new_string(now));
			g_ptr_array_add(used, (gpointer)qstate_approval_user(ap));
		}
		json_object_object_add(item, "approvals", strv_json(used));
		g_ptr_array_unref(used);
		qstate_add(state, "releases", item);
		int rc = qstate_save(a->review_dir, id, state);
		char *list = strv_join(rcpt);
		fprintf(a->out, TR("%s: released to %s: %s\n"), id, list, shown);
		g_free(list);
		if (rc < 0) {
			fprintf(a->err, TR("mugai: quarantine: %s: released, but the state file could not be written: %s\n"),
			        id, g_strerror(-rc));
			char *why = g_strdup_printf("state not saved: %s", g_strerror(-rc));
			code = act_finish(a, act, "ok", why, EXIT_TEMPFAIL);
			g_free(why);
		} else {
			code = act_finish(a, act, "ok", NULL, finish_out(a->out, a->err, EXIT_OK));
		}
	} else if (rr == RELEASE_REFUSED) {
		fprintf(a->err, TR("mugai: quarantine: %s: the SMTP server refused the release: %s\n"), id, shown);
		code = act_finish(a, act, "refused", error, EXIT_REFUSED);
	} else {
		fprintf(a->err, TR("mugai: quarantine: %s: release failed, nothing sent (try again later): %s\n"),
		        id, shown);
		code = act_finish(a, act, "failed", error ? error : "not sent", EXIT_TEMPFAIL);
	}
	g_ptr_array_unref(names);
	g_free(shown);
	g_free(reply);
	g_free(error);
	g_free(header);
	g_free(by);
out:
	if (ofd >= 0)
		close(ofd);
	if (lock >= 0)
		close(lock);
	if (approvals)
		g_ptr_array_unref(approvals);
	g_free(now);
	json_object_put(state);
	if (rcpt)
		g_ptr_array_unref(rcpt);
	json_object_put(rec);
	return code;
}

/* ---- delete and purge ---------------------------------------------------- */

int quarantine_cmd_delete(quarantine_admin *a, const char *id, const char *reason)
{
	json_object *rec;
	int code = load_for_cmd(a->dir, id, &rec, a->err);
	if (code)
		return code;
	json_object *act = act_new(a, "delete", id, reason);
	json_object_object_add(act, "sha256", jnstr(jget_str(rec, "sha256")));
	json_object_put(rec);
	if ((code = log_ready(a))) {
		json_object_put(act);
		return code;
	}
	/* wait for a release or approval in progress */
	char why[512] = "";
	int lock = qstate_lock(a->review_dir, why, sizeof why);
	int rc = quarantine_remove(a->dir, id);
	int src = rc == 0 && lock >= 0 ? qstate_remove(a->review_dir, id) : 0;
	if (lock >= 0)
		close(lock);
	if (rc == -ENOENT) {
		fprintf(a->err, TR("mugai: quarantine: no such entry: %s\n"), id);
		return act_finish(a, act, "denied", "no such entry", EXIT_REFUSED);
	}
	if (rc < 0) {
		fprintf(a->err, "mugai: quarantine: %s: %s\n", id, g_strerror(-rc));
		return act_finish(a, act, "failed", g_strerror(-rc), EXIT_TEMPFAIL);
	}
	fprintf(a->out, TR("%s: deleted\n"), id);
	if (lock < 0 || src < 0) {
		/* the entry is gone; what administrators did with it stays for now */
		fprintf(a->err, TR("mugai: quarantine: %s: review state not removed: %s\n"), id,
		        lock < 0 ? (*why ? why : g_strerror(-lock)) : g_strerror(-src));
		return act_finish(a, act, "ok", "review state not removed", EXIT_TEMPFAIL);
	}
	return act_finish(a, act, "ok", NULL, finish_out(a->out, a->err, EXIT_OK));
}

int quarantine_cmd_purge(quarantine_admin *a, int64_t days, const char *reason)
{
	GDateTime *now = g_date_time_new_now_utc();
	GDateTime *cut = g_date_time_add_days(now, -(gint)days);
	g_date_time_unref(now);
	char *prefix = quarantine_id_prefix(cut);
	char *before = result_rfc3339(cut);
	g_date_time_unref(cut);

	int code = log_ready(a);
	if (code)
		goto out;
	json_object *act = act_new(a, "purge", NULL, reason);
	json_object_object_add(act, "older_than_days", json_object_new_int64(days));
	json_object_object_add(act, "before", json_object_new_string(before));
	GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
	char why[512] = "";
	int lock = qstate_lock(a->review_dir, why, sizeof why);
	int rc = quarantine_purge(a->dir, prefix, removed);
	int src = lock < 0 ? lock : 0;
	for (guint i = 0; src == 0 && i < removed->len; i++)
		src = qstate_remove(a->review_dir, g_ptr_array_index(removed, i));
	if (lock >= 0)
		close(lock);
	json_object_object_add(act, "quarantine_ids", strv_json(removed));
	fprintf(a->out, TR("purged %u entries from before %s\n"), removed->len, before);
	if (rc < 0) {
		fprintf(a->err, "mugai: quarantine: %s: %s\n", a->dir, g_strerror(-rc));
		code = act_finish(a, act, "failed", g_strerror(-rc), EXIT_TEMPFAIL);
	} else if (src < 0) {
		fprintf(a->err, TR("mugai: quarantine: review state not removed: %s\n"),
		        *why ? why : g_strerror(-src));
		code = act_finish(a, act, "ok", "review state not removed", EXIT_TEMPFAIL);
	} else {
		code = act_finish(a, act, "ok", NULL, finish_out(a->out, a->err, EXIT_OK));
	}
	g_ptr_array_unref(removed);
out:
	g_free(prefix);
	g_free(before);
	return code;
}
