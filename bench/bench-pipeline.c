/* bench-pipeline.c - throughput and memory of the sanitize pipeline.
 *
 * Generates a deterministic corpus (mail of 10 KB to 2 MB, most with
 * base64 attachments, some HTML and Japanese text) into temp files, runs
 * pipeline_run() over it and prints messages/s, MB/s and peak RSS; then runs
 * one large message (default 100 MB) in a child process and prints its peak
 * RSS above the idle RSS.  With --store DIR the quarantine and audit writes
 * (with their fsyncs) are included; without it they are skipped.  With
 * --corpus DIR the messages are DIR's *.eml files instead (e.g. the corpus
 * of bench/postfix, so the pipeline alone is measured on the same mail),
 * copied into unnamed temp files as the milter's spool would hold them.
 *
 *   bench-pipeline [--count N] [--rounds R] [--big MB] [--store DIR] [--corpus DIR]
 */
#include "config/config.h"
#include "sanitize/pipeline.h"
#include "store/store.h"
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char JA[] = "いつもお世話になっております。見積書を添付いたしますのでご確認ください。\n";

/* BYTES of random data after MAGIC (a file signature), base64 in 76-column lines. */
static void b64_lines(GString *s, GRand *r, size_t bytes, const char *magic)
{
	guchar *raw = g_malloc(bytes);
	for (size_t i = 0; i < bytes; i += 4) {
		guint32 v = g_rand_int(r);
		memcpy(raw + i, &v, MIN(4, bytes - i));
	}
	memcpy(raw, magic, MIN(strlen(magic), bytes));
	char *b = g_base64_encode(raw, bytes);
	size_t n = strlen(b);
	for (size_t i = 0; i < n; i += 76) {
		g_string_append_len(s, b + i, (gssize)MIN(76, n - i));
		g_string_append_c(s, '\n');
	}
	g_free(b);
	g_free(raw);
}

static GString *make_message(GRand *r, int k, size_t target)
{
	GString *s = g_string_new(NULL);
	g_string_append_printf(s, "From: sender%d@example.co.jp\nTo: staff@city.example.lg.jp\n"
	                          "Subject: =?UTF-8?B?6KaL56mN5pu444Gu44GU6YCB5LuY?= %d\n"
	                          "Message-ID: <bench%d@example.co.jp>\nDate: Sun, 22 Nov 2026 10:00:00 +0900\n"
	                          "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n", k, k, k, k);
	g_string_append_printf(s, "--b%d\nContent-Type: multipart/alternative; boundary=\"a%d\"\n\n--a%d\n"
	                          "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n", k, k, k);
	for (int i = 0; i < 20; i++)
		g_string_append(s, JA);
	g_string_append_printf(s, "--a%d\nContent-Type: text/html; charset=utf-8\n\n<html><body>", k);
	for (int i = 0; i < 20; i++)
		g_string_append_printf(s, "<p>%s<a href=\"https://www.example.co.jp/%d\">link</a></p>", JA, i);
	g_string_append_printf(s, "</body></html>\n--a%d--\n", k);
	int natt = (k % 5 == 0) ? 0 : 1 + k % 3;  /* four in five carry attachments */
	size_t left = target > s->len ? target - s->len : 0;
	for (int a = 0; a < natt; a++) {
		size_t raw = (left / (size_t)(natt - a)) * 3 / 4;
		g_string_append_printf(s, "--b%d\nContent-Type: application/pdf; name=\"file%d.pdf\"\n"
		                          "Content-Disposition: attachment; filename=\"file%d.pdf\"\n"
		                          "Content-Transfer-Encoding: base64\n\n", k, a, a);
		size_t before = s->len;
		b64_lines(s, r, raw > 64 ? raw : 64, "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n");
		left = left > s->len - before ? left - (s->len - before) : 0;
	}
	g_string_append_printf(s, "--b%d--\n", k);
	return s;
}

static int write_temp(const GString *s)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	if (fd < 0 || write(fd, s->str, s->len) != (ssize_t)s->len) {
		perror("temp file");
		exit(1);
	}
	return fd;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* What the milter does after its worker: the quarantine entry and the
 * audit record, fsync'ed. */
static int commit(const mugai_config *cfg, const mugai_result *res, int fd)
{
	char *json = audit_record_json(res);
	json_object *rec = json_tokener_parse(json);
	const char *failed = rec ? store_commit(cfg->quarantine_dir, cfg->audit_log, rec, fd, res->size, res->text)
	                         : "record";
	if (failed)
		fprintf(stderr, "store: %s\n", failed);
	json_object_put(rec);
	g_free(json);
	return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
	int count = 300, rounds = 5, big_mb = 100;
	const char *store = NULL, *corpus = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc) count = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--big") && i + 1 < argc) big_mb = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--store") && i + 1 < argc) store = argv[++i];
		else if (!strcmp(argv[i], "--corpus") && i + 1 < argc) corpus = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--count N] [--rounds R] [--big MB] [--store DIR] [--corpus DIR]\n", argv[0]);
			return 2;
		}
	}
	pipeline_global_init();
	mugai_config *cfg = config_defaults();
	if (store) {
		g_free(cfg->quarantine_dir);
		cfg->quarantine_dir = g_build_filename(store, "quarantine", NULL);
		g_free(cfg->audit_log);
		cfg->audit_log = g_build_filename(store, "audit.log", NULL);
	}
	pipeline_env env = { 0 };

	GRand *r = g_rand_new_with_seed(42);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	if (corpus) {
		GDir *d = g_dir_open(corpus, 0, NULL);
		for (const char *n; d && (n = g_dir_read_name(d));)
			if (g_str_has_suffix(n, ".eml"))
				g_ptr_array_add(files, g_build_filename(corpus, n, NULL));
		if (d)
			g_dir_close(d);
		if (!files->len) {
			fprintf(stderr, "%s: no *.eml files\n", corpus);
			return 2;
		}
		count = (int)files->len;
	}
	int *fds = g_new(int, count);
	uint64_t total = 0;
	for (int k = 0; k < count && corpus; k++) {
		/* copied into unnamed temp files, as the milter hands messages over */
		gchar *data = NULL;
		gsize len = 0;
		if (!g_file_get_contents(g_ptr_array_index(files, k), &data, &len, NULL)) {
			fprintf(stderr, "%s: cannot read\n", (char *)g_ptr_array_index(files, k));
			return 1;
		}
		GString gs = { .str = data, .len = len, .allocated_len = len + 1 };
		fds[k] = write_temp(&gs);
		total += len;
		g_free(data);
	}
	for (int k = 0; k < count && !corpus; k++) {
		/* sizes spread log-uniformly over 10 KB .. 2 MB */
		double f = g_rand_double(r);
		size_t target = (size_t)(10240.0 * pow(200.0, f));
		GString *s = make_message(r, k, target);
		total += s->len;
		fds[k] = write_temp(s);
		g_string_free(s, TRUE);
	}
	printf("corpus: %d messages, %.1f MB, mean %.0f KB; store: %s\n", count, total / 1e6,
	       total / 1024.0 / count, store ? "quarantine + audit with fsync" : "off");
	double *mbs = g_new0(double, rounds);
	for (int round = 0; round < rounds; round++) {
		struct rusage ru0, ru1;
		getrusage(RUSAGE_SELF, &ru0);
		gint64 t0 = g_get_monotonic_time();
		for (int k = 0; k < count; k++) {
			GByteArray *out = NULL;
			mugai_result *res = NULL;
			enum verdict v = pipeline_run(cfg, &env, fds[k], &out, &res);
			if (v >= VERDICT_REJECTED) {
				fprintf(stderr, "message %d: %s (%s)\n", k, verdict_name(v), res->verdict_reason);
				return 1;
			}
			if (store && commit(cfg, res, fds[k]) < 0)
				return 1;
			g_byte_array_unref(out);
			result_free(res);
		}
		double secs = (g_get_monotonic_time() - t0) / 1e6;
		getrusage(RUSAGE_SELF, &ru1);
		double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
		             (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
		printf("round %d: %.1f messages/s, %.1f MB/s wall, %.1f MB/s per CPU second\n", round + 1,
		       count / secs, total / 1e6 / secs, total / 1e6 / cpu);
		mbs[round] = total / 1e6 / secs;
	}
	/* the median round: this machine's speed wanders by a fifth between runs */
	for (int i = 1; i < rounds; i++)
		for (int j = i; j > 0 && mbs[j - 1] > mbs[j]; j--) {
			double t = mbs[j];
			mbs[j] = mbs[j - 1];
			mbs[j - 1] = t;
		}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("median of %d rounds: %.1f MB/s, %.1f messages/s (one core); peak RSS %.1f MB\n", rounds,
	       mbs[rounds / 2], mbs[rounds / 2] * 1e6 / ((double)total / count), ru.ru_maxrss / 1024.0);
	g_free(mbs);
	for (int k = 0; k < count; k++)
		close(fds[k]);
	g_free(fds);

	if (big_mb > 0) {
		/* One large message: an attachment of big_mb MB in base64. */
		GString *s = make_message(r, 1, (size_t)big_mb * 1000 * 1000);
		int fd = write_temp(s);
		size_t len = s->len;
		g_string_free(s, TRUE);
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			malloc_trim(0);
			long idle = rss_kb();
			gint64 t0 = g_get_monotonic_time();
			GByteArray *out = NULL;
			mugai_result *res = NULL;
			cfg->max_message_size = (int64_t)len + 1;
			mugai_config *c2 = cfg;
			enum verdict v = pipeline_run(c2, &env, fd, &out, &res);
			double secs = (g_get_monotonic_time() - t0) / 1e6;
			struct rusage cr;
			getrusage(RUSAGE_SELF, &cr);
			printf("large message: %.1f MB, verdict %s, %.2f s (%.1f MB/s); idle RSS %.1f MB, peak RSS %.1f MB, "
			       "peak above idle %.1f MB\n", len / 1e6, verdict_name(v), secs, len / 1e6 / secs,
			       idle / 1024.0, cr.ru_maxrss / 1024.0, (cr.ru_maxrss - idle) / 1024.0);
			fflush(stdout);
			_exit(v >= VERDICT_REJECTED);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		close(fd);
	}
	config_free(cfg);
	g_rand_free(r);
	return 0;
}
