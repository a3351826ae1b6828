/* decode.h - streaming content-transfer decoding of one part.
 *
 * base64 uses our own decoder: GMime 3.2.13 stops for good at the first '='
 * (upstream #150), so chunked base64 ("Vkk=UlU=Uw==ISE=") would be inspected
 * truncated while mail clients decode all of it.  Quoted-printable and
 * uuencode go through GMime (g_mime_encoding_step, GMimeFilterBasic).  State lives in the
 * struct; feeding input in any chunking gives the same output.
 */
#ifndef MUGAI_DECODE_H
#define MUGAI_DECODE_H

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stddef.h>

#define DECODE_B64_AFTER_PAD   0x1u  /* data after '=' padding (chunked base64) */
#define DECODE_B64_BAD_CHAR    0x2u  /* characters outside the base64 alphabet */
#define DECODE_B64_TRUNCATED   0x4u  /* a lone 6-bit group at the end */

typedef struct part_decoder {
	GMimeContentEncoding enc;
	GMimeEncoding gm;       /* QP state */
	GMimeFilter *uu;        /* uuencode: GMime's filter finds the begin line */
	unsigned acc;           /* base64: bits collected */
	int nsextets;           /* base64: sextets in acc (0-3) */
	int pad;                /* base64: '=' seen in the current quantum */
	int ended;              /* base64: a padded quantum ended */
	unsigned flags;         /* DECODE_* */
} part_decoder;

void decode_init(part_decoder *d, GMimeContentEncoding enc);
/* Worst-case output size for INLEN input bytes. */
size_t decode_outlen(const part_decoder *d, size_t inlen);
size_t decode_step(part_decoder *d, const char *in, size_t inlen, char *out);
size_t decode_finish(part_decoder *d, char *out);   /* out holds >= 8 bytes */
void decode_clear(part_decoder *d);                 /* frees the uuencode filter */

/* Decode the content of PART (its transfer encoding; base64 by the decoder
 * above) in pieces of up to 64 KiB, each handed to PUT, which returns 0 to
 * go on or a value to stop with.  Returns 0 (also for a part without
 * content), PUT's value, or -EIO when the stream fails; ORs the DECODE_*
 * flags into *FLAGS. */
typedef int (*decode_put)(void *ctx, const char *buf, size_t n);
int decode_part_content(GMimePart *part, decode_put put, void *ctx, unsigned *flags);

#endif
