/* fuzz-pipeline.c - libFuzzer target: any bytes through the whole pipeline.
 *
 * Each input is written to a memfd and run through pipeline_run() (which
 * writes nothing anywhere).  The pipeline must return a verdict, and any
 * output must be what its parent accepts from a worker (outverify_check),
 * with the text it reports; a crash, a sanitizer report or a hang is a
 * finding.  Built and run by test/fuzz/run.sh.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "config/config.h"
#include "sanitize/outverify.h"
#include "sanitize/pipeline.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static mugai_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pipeline_global_init();
	cfg = config_defaults();
	cfg->max_time = 10;
	cfg->audit_syslog = false;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	pipeline_env env = { 0 };
	GByteArray *out = NULL;
	mugai_result *res = NULL;
	enum verdict v = pipeline_run(cfg, &env, fd, &out, &res);
	if (v <= VERDICT_SUSPECT && !out)
		abort();  /* a deliverable verdict always comes with a message */
	bool qp;
	char *text = NULL;
	const char *why;
	/* what the worker builds, its parent must take: the one output shape */
	if (out && (outverify_check(out->data, out->len, res->body_offset, res->status, &qp, &text, &why) < 0 ||
	            strcmp(text, res->text) != 0))
		abort();
	g_free(text);
	if (out)
		g_byte_array_unref(out);
	result_free(res);
	close(fd);
	return 0;
}
