/* fuzz-textenc.c - libFuzzer target: any bytes as a text body through
 * textenc_scan().
 *
 * The blocks must come in order, not overlap, lie inside the text, start
 * at a line start, have one of the three kinds, and carry a valid UTF-8
 * name or none; a crash, a sanitizer report or a hang is a finding.
 */
#include "sanitize/inspect.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	GArray *blocks = textenc_scan(text, size);
	size_t prev = 0;
	for (guint i = 0; i < blocks->len; i++) {
		textenc_block *b = &g_array_index(blocks, textenc_block, i);
		if (b->start < prev || b->start >= b->end || b->end > size)
			abort();
		if (b->start > 0 && text[b->start - 1] != '\n')
			abort();
		if (strcmp(b->kind, "uuencode") != 0 && strcmp(b->kind, "yenc") != 0 && strcmp(b->kind, "binhex") != 0)
			abort();
		if (b->name && !g_utf8_validate(b->name, -1, NULL))
			abort();
		prev = b->end;
	}
	textenc_free(blocks);
	return 0;
}
