/* fuzz-inspect.c - libFuzzer target: any bytes as a removed file through
 * inspect_file().
 *
 * The first byte picks the file name (.zip, .docm, .pdf, .doc, .rtf,
 * .txt, .eml), the rest is the file, in a memfd.  Archives, OLE2, OOXML parts,
 * PDF and RTF are all reached by content; the name matters for the type
 * rules and for a PDF without its header.  inspect_file must return 0 (a
 * negative errno here would be a bug: the memfd and $TMPDIR work), every
 * reason must be unique and every finding printable UTF-8; a crash, a
 * sanitizer report or a hang is a finding.  Seeds: test-inspect writes its
 * samples with INSPECT_SEED_DIR=dir.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sanitize/inspect.h"
#include <gmime/gmime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const names[] = { "a.zip", "a.docm", "a.pdf", "a.doc", "a.rtf", "a.txt", "a.eml" };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	g_mime_init();  /* for attached messages (eml.c) */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *name = names[data[0] % G_N_ELEMENTS(names)];
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	inspect_limits lim;
	inspect_limits_default(&lim);
	lim.archive_expanded = 64 << 20;  /* keeps one input under a second */
	GPtrArray *reasons = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *findings = g_ptr_array_new_with_free_func(g_free);
	if (inspect_file(name, NULL, NULL, NULL, fd, size - 1, &lim, reasons, findings) != 0)
		abort();
	for (guint i = 0; i < reasons->len; i++)
		for (guint j = i + 1; j < reasons->len; j++)
			if (strcmp(g_ptr_array_index(reasons, i), g_ptr_array_index(reasons, j)) == 0)
				abort();
	for (guint i = 0; i < findings->len; i++) {
		const char *f = g_ptr_array_index(findings, i);
		if (!g_utf8_validate(f, -1, NULL))
			abort();
		for (const char *p = f; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	}
	g_ptr_array_unref(reasons);
	g_ptr_array_unref(findings);
	close(fd);
	return 0;
}
