/* outverify.h - the output shape a parsing process may hand back.
 *
 * The processes that parse mail (milter workers, the CLI's confined
 * child) are not trusted with what is delivered: their parent checks that
 * the output is exactly what output.c builds before any of it reaches
 * Postfix or stdout.
 */
#ifndef MUGAI_OUTVERIFY_H
#define MUGAI_OUTVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* OUT (LEN bytes, LF line ends) must be: header lines (none of them a
 * header the output replaces, pipeline_header_replaced(): Content-*,
 * MIME-Version, X-Mugai-Status, X-Mugai-Released; no CR or NUL), then exactly "MIME-Version: 1.0", "Content-Type: text/plain;
 * charset=utf-8", "Content-Transfer-Encoding: base64" or
 * "quoted-printable", "X-Mugai-Status: STATUS", a blank line ending at
 * BODY_OFFSET, and a body that is byte for byte what GMime's encoder makes
 * of valid UTF-8 text without NUL.  0 with *QP (the body's encoding) and
 * *TEXT (the decoded body, g_malloc'ed; may be NULL) set, or -1 with *WHY
 * a static phrase. */
int outverify_check(const uint8_t *out, size_t len, uint64_t body_offset, const char *status,
                    bool *qp, char **text, const char **why);

#endif
