/* eml.c - a mail message inside a removed file: an attached .eml, or a
 * message/rfc822 part with a transfer encoding (RFC 2046 allows none, so
 * GMime keeps it an opaque leaf while mail clients decode and open it).
 *
 * The message is parsed with GMime and each of its files is looked at as an
 * archive entry is: name rules, type rules and container modules, one
 * nesting level deeper (messages inside count against archive_depth, files
 * against archive_entries and archive_expanded).  Text and HTML bodies are
 * not files and are not flagged; they are not delivered either, since the
 * whole message stays removed.  Decoding uses our own decoder (decode.c),
 * not GMime's, for the reason decode.h gives.
 */
#include "sanitize/inspect-private.h"
#include "sanitize/charset.h"
#include "sanitize/decode.h"
#include "sanitize/result.h"
#include "sanitize/walk.h"
#include "util/fdio.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The file name a client would show: Content-Disposition's filename, else
 * Content-Type's name, decoded by charset_header_param (GMime #133). */
static char *part_name(GMimeObject *obj)
{
	bool dup = false;
	size_t inv = 0;
	char *n = charset_header_param(walk_raw_header(obj, "Content-Disposition"), "filename", &dup, &inv);
	if (!n)
		n = charset_header_param(walk_raw_header(obj, "Content-Type"), "name", &dup, &inv);
	return n;
}

/* Where spill_part's pieces go. */
typedef struct eml_put_ctx {
	inspect_ctx *c;
	GPtrArray *reasons;
	int fd;
	uint64_t size;
	bool bomb;
} eml_put_ctx;

static int eml_put(void *ctx, const char *buf, size_t n)
{
	eml_put_ctx *e = ctx;
	if (!inspect_count_expanded(e->c, e->reasons, n)) {
		e->bomb = true;
		return 1;
	}
	e->size += n;
	return n ? fd_write_all(e->fd, buf, n) : 0;
}

/* Decode PART into a new temporary file; its size in *SIZE.  Returns the
 * fd, or -errno; 0 with *BOMB set when archive_expanded ran out. */
static int spill_part(inspect_ctx *c, GMimePart *part, uint64_t *size, bool *bomb, GPtrArray *reasons)
{
	eml_put_ctx e = { .c = c, .reasons = reasons, .fd = inspect_tmpfile() };
	*size = 0;
	*bomb = false;
	if (e.fd < 0)
		return e.fd;
	unsigned flags = 0;
	int rc = decode_part_content(part, eml_put, &e, &flags);
	*size = e.size;
	*bomb = e.bomb;
	if (rc != 0) {
		close(e.fd);
		return rc < 0 ? rc : 0;
	}
	return e.fd;
}

/* A body a reader sees as text rather than a file to open. */
static bool is_body(GMimeObject *obj, const char *type, const char *name)
{
	const char *disp = g_mime_object_get_disposition(obj);
	bool attached = disp && g_ascii_strcasecmp(disp, "inline") != 0;
	return !attached && !name && (strcmp(type, "text/plain") == 0 || strcmp(type, "text/html") == 0);
}

/* One file of the message, like an archive entry.  Returns 0 or -errno. */
static int eml_file(inspect_ctx *c, GMimePart *part, const char *ipath, GPtrArray *reasons)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	char *type = walk_mime_type(obj);
	char *name = part_name(obj);
	int r = 0;
	if (is_body(obj, type, name))
		goto out;
	if (!inspect_count_entry(c, reasons))
		goto out;
	char *label = name ? g_strdup(name) : g_strdup_printf("(part %s)", ipath);
	char *path = inspect_entry_path(c, label);
	GPtrArray *child = g_ptr_array_new_with_free_func(g_free);
	inspect_name(name, child);
	if (inspect_name_macro(name))
		result_add_reason(child, "macro");
	uint64_t size = 0;
	bool bomb = false;
	int fd = spill_part(c, part, &size, &bomb, reasons);
	if (!bomb && fd >= 0) {
		const char *saved = c->path;
		c->path = path;
		c->depth++;
		r = inspect_content(c, name, NULL, type, NULL, fd, size, child);
		c->depth--;
		c->path = saved;
		close(fd);
	} else if (fd < 0) {
		r = fd;
	}
	inspect_fold(c, path, child, reasons);
	g_ptr_array_unref(child);
	g_free(path);
	g_free(label);
out:
	g_free(name);
	g_free(type);
	return r;
}

int inspect_message(inspect_ctx *c, int fd, uint64_t size, GPtrArray *reasons)
{
	if (!inspect_depth_ok(c, reasons, "messages"))
		return 0;
	int pfd = dup(fd);
	if (pfd < 0)
		return -errno;
	/* bounded: the parser seeks by itself and leaves FD's offset alone */
	GMimeStream *stream = g_mime_stream_fs_new_with_bounds(pfd, 0, (gint64)size);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	GMimeParserOptions *opts = g_mime_parser_options_new();
	GMimeMessage *msg = g_mime_parser_construct_message(parser, opts);
	int r = 0;
	if (!msg || !msg->mime_part) {
		result_add_reason(reasons, "message-unreadable");
		inspect_finding(c, "message-unreadable", "no message in it");
	} else {
		GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(msg));
		if (g_mime_part_iter_is_valid(it)) {
			do {
				GMimeObject *obj = g_mime_part_iter_get_current(it);
				if (!GMIME_IS_PART(obj))
					continue;  /* multiparts and messages: their parts come next */
				char *ipath = g_mime_part_iter_get_path(it);
				r = eml_file(c, GMIME_PART(obj), ipath ? ipath : "?", reasons);
				g_free(ipath);
			} while (r == 0 && !c->bomb && g_mime_part_iter_next(it));
		}
		g_mime_part_iter_free(it);
	}
	if (msg)
		g_object_unref(msg);
	g_object_unref(parser);
	g_mime_parser_options_free(opts);
	return r;
}
