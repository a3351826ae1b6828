/* mugai.c - the `mugai` command: sanitize, quarantine, check-config.
 *
 * A thin front end: option parsing, the configuration, and exit codes as
 * DESIGN.md fixes them.  `mugai sanitize` runs the same pipeline_run() as
 * the milter, in a confined child (cli/sanitize.c); nothing here decides
 * what to keep.
 * Exit codes: 0 ok, 1 rejected / not found, 2 usage or configuration,
 * 75 temporary failure (EX_TEMPFAIL).
 */
#include "config/config.h"
#include "sanitize/pipeline.h"
#include "sanitize/verdict.h"
#include "store/qstate.h"
#include "store/store.h"
#include "cli/i18n.h"
#include "cli/qcmd.h"
#include "cli/sanitize.h"
#include "util/fdio.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_REJECT 1
#define EXIT_USAGE 2
#define EXIT_TEMPFAIL 75

/* The synopsis is the same in every language; the words around it are
 * translated (store/i18n.c). */
static const char usage_cmds[] =
	"  mugai sanitize [--config FILE] [--quarantine-dir DIR] [--audit-log FILE]\n"
	"                 [--id ID] [--explain] [INPUT]\n"
	"  mugai quarantine list [--json] [--since T] [--until T] [--from S] [--rcpt S]\n"
	"                 [--subject S] [--verdict V] [--reason R]\n"
	"  mugai quarantine show ID\n"
	"  mugai quarantine export ID [--part PATH] [-o FILE] [--reason TEXT]\n"
	"  mugai quarantine approve ID --reason TEXT [--to ADDR]...\n"
	"  mugai quarantine release ID --reason TEXT [--to ADDR]... [--force]\n"
	"  mugai quarantine delete ID --reason TEXT\n"
	"  mugai quarantine purge [--older-than DAYS] [--reason TEXT]\n"
	"  mugai check-config [--config FILE] [--print-default]\n";

static void print_usage(FILE *f)
{
	fprintf(f, "%s\n%s%s\n%s\n", TR("usage:"), usage_cmds,
	        TR("(the quarantine commands also take [--config FILE] [--quarantine-dir DIR] [--audit-log FILE])"),
	        TR("exit: 0 ok, 1 rejected, refused or not found, 2 usage or configuration, 75 temporary failure"));
}

static int usage(void)
{
	print_usage(stderr);
	return EXIT_USAGE;
}

struct common {
	const char *config;
	const char *qdir;
	const char *audit;
};

enum {
	OPT_CONFIG = 1000, OPT_QDIR, OPT_AUDIT, OPT_ID, OPT_EXPLAIN, OPT_JSON, OPT_PART, OPT_PRINT_DEFAULT,
	OPT_SINCE, OPT_UNTIL, OPT_FROM, OPT_RCPT, OPT_SUBJECT, OPT_VERDICT, OPT_REASON, OPT_TO,
	OPT_FORCE, OPT_OLDER_THAN,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "quarantine-dir", required_argument, NULL, OPT_QDIR },
	{ "audit-log", required_argument, NULL, OPT_AUDIT },
	{ "id", required_argument, NULL, OPT_ID },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "part", required_argument, NULL, OPT_PART },
	{ "print-default", no_argument, NULL, OPT_PRINT_DEFAULT },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "rcpt", required_argument, NULL, OPT_RCPT },
	{ "subject", required_argument, NULL, OPT_SUBJECT },
	{ "verdict", required_argument, NULL, OPT_VERDICT },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ "to", required_argument, NULL, OPT_TO },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The options every subcommand takes; 1 when OPT was one of them. */
static int common_opt(int opt, struct common *c)
{
	switch (opt) {
	case OPT_CONFIG: c->config = optarg; return 1;
	case OPT_QDIR: c->qdir = optarg; return 1;
	case OPT_AUDIT: c->audit = optarg; return 1;
	default: return 0;
	}
}

static mugai_config *load_config(const struct common *c)
{
	char err[1024];
	mugai_config *cfg = NULL;
	if (config_load_cli(c->config, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "mugai: %s\n", err);
		return NULL;
	}
	if (c->qdir) {
		g_free(cfg->quarantine_dir);
		cfg->quarantine_dir = g_strdup(c->qdir);
	}
	if (c->audit) {
		g_free(cfg->audit_log);
		cfg->audit_log = g_strdup(c->audit);
	}
	return cfg;
}

/* A seekable fd holding the input: the file itself when it is a regular
 * file, else a copy in an unlinked temp file (stdin, pipes). */
static int open_input(const char *path, int *tempfail)
{
	int fd = path && strcmp(path, "-") != 0 ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0) {
		fprintf(stderr, "mugai: %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return fd;
	const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int tfd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (tfd < 0) {
		fprintf(stderr, "mugai: cannot create a temp file in %s: %s\n", tmpdir, strerror(errno));
		close(fd);
		*tempfail = 1;
		return -1;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "mugai: reading input: %s\n", strerror(errno));
			close(fd);
			close(tfd);
			*tempfail = 1;
			return -1;
		}
		if (n == 0)
			break;
		int w = fd_write_all(tfd, buf, (size_t)n);
		if (w < 0) {
			fprintf(stderr, "mugai: writing temp file: %s\n", strerror(-w));
			close(fd);
			close(tfd);
			*tempfail = 1;
			return -1;
		}
	}
	close(fd);
	return tfd;
}

static int cmd_sanitize(int argc, char **argv)
{
	struct common c = { 0 };
	pipeline_env env = { 0 };
	int opt;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (common_opt(opt, &c))
			continue;
		switch (opt) {
		case OPT_ID: env.id = optarg; break;
		case OPT_EXPLAIN: env.explain = stderr; break;
		default: return usage();
		}
	}
	if (argc - optind > 1)
		return usage();
	mugai_config *cfg = load_config(&c);
	if (!cfg)
		return EXIT_USAGE;
	int tempfail = 0;
	int fd = open_input(optind < argc ? argv[optind] : NULL, &tempfail);
	if (fd < 0) {
		config_free(cfg);
		return tempfail ? EXIT_TEMPFAIL : EXIT_USAGE;
	}
	/* what the store gets from us is private */
	umask(077);
	int rc = sanitize_run(cfg, env.id, env.explain != NULL, fd);
	close(fd);
	config_free(cfg);
	return rc;
}

/* The subcommands of `mugai quarantine` and the options each takes. */
enum {
	Q_JSON = 1 << 0, Q_FILTER = 1 << 1, Q_PART = 1 << 2, Q_OUTPUT = 1 << 3, Q_REASON = 1 << 4,
	Q_TO = 1 << 5, Q_FORCE = 1 << 6, Q_OLDER = 1 << 7,
};

static const struct qsub {
	const char *name;
	int args;          /* ID arguments */
	unsigned opts;
	bool need_reason;
} qsubs[] = {
	{ "list", 0, Q_JSON | Q_FILTER | Q_REASON, false },
	{ "show", 1, 0, false },
	{ "export", 1, Q_PART | Q_OUTPUT | Q_REASON, false },
	{ "approve", 1, Q_REASON | Q_TO, true },
	{ "release", 1, Q_REASON | Q_TO | Q_FORCE, true },
	{ "delete", 1, Q_REASON, true },
	{ "purge", 0, Q_OLDER | Q_REASON, false },
};

static unsigned opt_class(int opt)
{
	switch (opt) {
	case OPT_JSON: return Q_JSON;
	case OPT_SINCE: case OPT_UNTIL: case OPT_FROM: case OPT_RCPT:
	case OPT_SUBJECT: case OPT_VERDICT: return Q_FILTER;
	case OPT_PART: return Q_PART;
	case 'o': return Q_OUTPUT;
	case OPT_REASON: return Q_REASON;
	case OPT_TO: return Q_TO;
	case OPT_FORCE: return Q_FORCE;
	case OPT_OLDER_THAN: return Q_OLDER;
	default: return 0;
	}
}

static int bad_value(const char *opt, const char *why, const char *value)
{
	fprintf(stderr, TR("mugai: %s: %s: %s\n"), opt, TR(why), value);
	return EXIT_USAGE;
}

static bool verdict_ok(const char *v)
{
	for (int i = VERDICT_CLEAN; i <= VERDICT_TEMPFAIL; i++)
		if (strcmp(v, verdict_name((enum verdict)i)) == 0)
			return true;
	return false;
}

/* $NAME as a user or group ID, -1 when unset or not a number. */
static long sudo_id(const char *name)
{
	const char *v = getenv(name);
	char *end;
	if (!v || !*v)
		return -1;
	long id = strtol(v, &end, 10);
	return *end || id < 0 ? -1 : id;
}

/* Through sudo, the sudoers rule gives `mugai quarantine *` with any
 * arguments, yet the policy (approvals needed, the store, the logs, the
 * release server) must stay the administrators' one, or an act could be
 * judged by rules or recorded in a log of the caller's choosing.  So no
 * --config, --quarantine-dir or --audit-log: only /etc/mugai/mugai.conf,
 * opened once through root's directories without following a link. */
static bool sudo_paths_ok(const struct common *c)
{
	if (c->config || c->qdir || c->audit) {
		fprintf(stderr, TR("mugai: quarantine: --config, --quarantine-dir and --audit-log cannot be used through sudo\n"));
		return false;
	}
	return true;
}

static int cmd_quarantine(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *sub = argv[1];
	const struct qsub *q = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(qsubs); i++)
		if (strcmp(sub, qsubs[i].name) == 0)
			q = &qsubs[i];
	if (!q)
		return usage();

	struct common c = { 0 };
	bool json = false, force = false;
	const char *part = NULL, *output = NULL, *reason = NULL, *older = NULL;
	GPtrArray *to = g_ptr_array_new();
	qindex_filter f = { 0 };
	int rc = EXIT_USAGE, opt;
	mugai_config *cfg = NULL;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "ho:", long_opts, NULL)) != -1) {
		if (common_opt(opt, &c))
			continue;
		unsigned cls = opt_class(opt);
		if (!cls || !(q->opts & cls)) {
			usage();
			goto out;
		}
		switch (opt) {
		case OPT_JSON: json = true; break;
		case OPT_PART: part = optarg; break;
		case 'o': output = optarg; break;
		case OPT_REASON: reason = optarg; break;
		case OPT_TO: g_ptr_array_add(to, optarg); break;
		case OPT_FORCE: force = true; break;
		case OPT_OLDER_THAN: older = optarg; break;
		case OPT_SINCE:
		case OPT_UNTIL: {
			char **bound = opt == OPT_SINCE ? &f.since : &f.until;
			g_free(*bound);
			if (qindex_time_bound(optarg, opt == OPT_UNTIL, bound) < 0) {
				rc = bad_value(opt == OPT_SINCE ? "--since" : "--until",
				               "not a date (YYYY-MM-DD) or an RFC 3339 time", optarg);
				goto out;
			}
			break;
		}
		case OPT_FROM: g_free(f.from); f.from = qindex_fold(optarg); break;
		case OPT_RCPT: g_free(f.rcpt); f.rcpt = qindex_fold(optarg); break;
		case OPT_SUBJECT: g_free(f.subject); f.subject = qindex_fold(optarg); break;
		case OPT_VERDICT:
			if (!verdict_ok(optarg)) {
				rc = bad_value("--verdict", "not a verdict", optarg);
				goto out;
			}
			g_free(f.verdict);
			f.verdict = g_strdup(optarg);
			break;
		}
	}
	/* --reason filters the list; everywhere else it is the why of an act */
	if (reason && strcmp(q->name, "list") == 0) {
		f.reason = g_strdup(reason);
		reason = NULL;
	}
	if (argc - optind != q->args) {
		usage();
		goto out;
	}
	const char *id = q->args ? argv[optind] : NULL;
	if (reason && (strspn(reason, " \t\r\n") == strlen(reason) ||
	               !g_utf8_validate(reason, -1, NULL) || strlen(reason) > 1000)) {
		rc = bad_value("--reason", "give a reason (UTF-8 text, up to 1000 bytes)", reason);
		goto out;
	}
	if (q->need_reason && !reason) {
		fprintf(stderr, TR("mugai: quarantine %s: --reason TEXT is required (it goes into the audit log)\n"),
		        q->name);
		goto out;
	}
	for (guint i = 0; i < to->len; i++)
		if (!quarantine_address_ok(g_ptr_array_index(to, i))) {
			rc = bad_value("--to", "not a mail address", g_ptr_array_index(to, i));
			goto out;
		}
	long days = -1;
	if (older) {
		char *end;
		days = strtol(older, &end, 10);
		if (!*older || *end || days < 0 || days > 36500) {
			rc = bad_value("--older-than", "not a number of days (0..36500)", older);
			goto out;
		}
	}

	long sudo_uid = sudo_id("SUDO_UID"), sudo_gid = sudo_id("SUDO_GID");
	if (sudo_uid > 0 && !sudo_paths_ok(&c))
		goto out;
	/* what the store and the review state get from us is private */
	umask(077);
	if (sudo_uid > 0) {
		char err[1024];
		if (config_load_trusted(MUGAI_DEFAULT_CONFIG, true, &cfg, err, sizeof err) < 0)
			fprintf(stderr, "mugai: %s\n", err);
	} else {
		cfg = load_config(&c);
	}
	if (!cfg)
		goto out;
	char *user = quarantine_admin_user();
	/* --audit-log names the log this command's records go to */
	char *admin_log = g_canonicalize_filename(c.audit ? c.audit : cfg->audit_admin_log, NULL);
	char *qdir = g_canonicalize_filename(cfg->quarantine_dir, NULL);
	char *rdir = qstate_dir(qdir, cfg->quarantine_review_dir);
	quarantine_admin a = {
		.cfg = cfg, .dir = qdir, .review_dir = rdir, .admin_log = admin_log, .admin_fd = -1,
		.release_smtp = cfg->release_smtp, .release_approvals = (int)cfg->quarantine_release_approvals,
		.approval_expiry = cfg->quarantine_approval_expiry,
		.config = cfg->source, .config_sha256 = cfg->sha256,
		.user = user, .sudo_user = getenv("SUDO_USER"), .sudo_uid = sudo_uid, .sudo_gid = sudo_gid,
		.out = stdout, .err = stderr,
	};
	g_ptr_array_add(to, NULL);
	const char *const *tov = to->len > 1 ? (const char *const *)to->pdata : NULL;
	if (strcmp(q->name, "list") == 0) {
		rc = quarantine_cmd_list(a.dir, &f, json, stdout, stderr);
	} else if (strcmp(q->name, "show") == 0) {
		rc = quarantine_cmd_show(&a, id);
	} else if (strcmp(q->name, "export") == 0) {
		rc = quarantine_cmd_export(&a, id, part, output, reason, 1);
	} else if (strcmp(q->name, "approve") == 0) {
		rc = quarantine_cmd_approve(&a, id, reason, tov);
	} else if (strcmp(q->name, "release") == 0) {
		rc = quarantine_cmd_release(&a, id, reason, tov, force);
	} else if (strcmp(q->name, "delete") == 0) {
		rc = quarantine_cmd_delete(&a, id, reason);
	} else {
		rc = quarantine_cmd_purge(&a, days >= 0 ? days : cfg->quarantine_retention_days, reason);
	}
	if (a.admin_fd >= 0)
		close(a.admin_fd);
	g_free(admin_log);
	g_free(qdir);
	g_free(rdir);
	g_free(user);
	fflush(stdout);
out:
	qindex_filter_clear(&f);
	g_ptr_array_unref(to);
	config_free(cfg);
	return rc;
}

static int cmd_check_config(int argc, char **argv)
{
	struct common c = { 0 };
	bool print_default = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (common_opt(opt, &c))
			continue;
		switch (opt) {
		case OPT_PRINT_DEFAULT: print_default = true; break;
		default: return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (print_default) {
		config_write_default(stdout);
		return 0;
	}
	mugai_config *cfg = load_config(&c);
	if (!cfg)
		return EXIT_USAGE;
	printf("# configuration OK: %s\n", cfg->source);
	config_dump(stdout, cfg);
	config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "sanitize") == 0)
		return cmd_sanitize(argc - 1, argv + 1);
	if (strcmp(cmd, "quarantine") == 0)
		return cmd_quarantine(argc - 1, argv + 1);
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(argc - 1, argv + 1);
	if (strcmp(cmd, "--version") == 0) {
		puts("mugai 0.1.0");
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		print_usage(stdout);
		return 0;
	}
	return usage();
}
