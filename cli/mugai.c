/* mugai.c - the `mugai` command: sanitize, quarantine, check-config.
 *
 * A thin front end: option parsing, the configuration, and exit codes as
 * DESIGN.md fixes them.  `mugai sanitize` calls the same pipeline_run() as
 * the milter; nothing here decides what to keep.
 * Exit codes: 0 ok, 1 rejected / not found, 2 usage or configuration,
 * 75 temporary failure (EX_TEMPFAIL).
 */
#include "config/config.h"
#include "sanitize/pipeline.h"
#include "sanitize/verdict.h"
#include "store/store.h"
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

static const char usage_text[] =
	"usage: mugai sanitize [--config FILE] [--quarantine-dir DIR] [--audit-log FILE]\n"
	"                      [--id ID] [--explain] [INPUT]\n"
	"       mugai quarantine list [--json] | show ID | export ID [--part PATH]\n"
	"                      [--config FILE] [--quarantine-dir DIR]\n"
	"       mugai check-config [--config FILE] [--print-default]\n"
	"exit: 0 ok, 1 rejected or not found, 2 usage or configuration, 75 temporary failure\n";

static int usage(void)
{
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

struct common {
	const char *config;
	const char *qdir;
	const char *audit;
};

enum { OPT_CONFIG = 1000, OPT_QDIR, OPT_AUDIT, OPT_ID, OPT_EXPLAIN, OPT_JSON, OPT_PART, OPT_PRINT_DEFAULT };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "quarantine-dir", required_argument, NULL, OPT_QDIR },
	{ "audit-log", required_argument, NULL, OPT_AUDIT },
	{ "id", required_argument, NULL, OPT_ID },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "part", required_argument, NULL, OPT_PART },
	{ "print-default", no_argument, NULL, OPT_PRINT_DEFAULT },
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
	pipeline_global_init();
	GByteArray *out = NULL;
	mugai_result *res = NULL;
	enum verdict v = pipeline_run(cfg, &env, fd, &out, &res);
	int rc = 0;
	if (v > VERDICT_SUSPECT) {   /* discarded, rejected, tempfail: nothing to write */
		const verdict_row *row = verdict_lookup(res->verdict_reason ? res->verdict_reason : "internal:");
		if (row->smtp)
			fprintf(stderr, "mugai: %s: %s %s %s (%s)\n", verdict_name(v), row->smtp, row->dsn,
			        row->text_en, res->verdict_reason ? res->verdict_reason : "unknown");
		else   /* discarded: no SMTP reply of its own */
			fprintf(stderr, "mugai: %s: %s (%s)\n", verdict_name(v), row->text_en,
			        res->verdict_reason ? res->verdict_reason : "unknown");
		rc = v == VERDICT_TEMPFAIL ? EXIT_TEMPFAIL : EXIT_REJECT;
	} else {
		int w = out ? fd_write_all(1, out->data, out->len) : -EIO;
		if (w < 0) {
			fprintf(stderr, "mugai: writing output: %s\n", strerror(-w));
			rc = EXIT_TEMPFAIL;
		}
	}
	if (out)
		g_byte_array_unref(out);
	result_free(res);
	close(fd);
	config_free(cfg);
	pipeline_global_shutdown();
	return rc;
}

static int cmd_quarantine(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *sub = argv[1];
	struct common c = { 0 };
	bool json = false;
	const char *part = NULL;
	int opt;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (common_opt(opt, &c))
			continue;
		switch (opt) {
		case OPT_JSON: json = true; break;
		case OPT_PART: part = optarg; break;
		default: return usage();
		}
	}
	mugai_config *cfg = load_config(&c);
	if (!cfg)
		return EXIT_USAGE;
	int rc;
	int nargs = argc - optind;
	if (strcmp(sub, "list") == 0 && nargs == 0) {
		rc = quarantine_cmd_list(cfg->quarantine_dir, json, stdout, stderr);
	} else if (strcmp(sub, "show") == 0 && nargs == 1) {
		rc = quarantine_cmd_show(cfg->quarantine_dir, argv[optind], stdout, stderr);
	} else if (strcmp(sub, "export") == 0 && nargs == 1) {
		pipeline_global_init();
		rc = quarantine_cmd_export(cfg->quarantine_dir, argv[optind], part, 1, stderr);
		pipeline_global_shutdown();
	} else {
		rc = usage();
	}
	fflush(stdout);
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
		fputs(usage_text, stdout);
		return 0;
	}
	return usage();
}
