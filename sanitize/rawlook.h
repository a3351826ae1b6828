/* rawlook.h - a strict second look at the raw bytes of a parsed message.
 *
 * GMime parsed the message; a lenient mail client may read the same bytes
 * differently.  rawlook_run() compares GMime's tree with the original and
 * reports every disagreement as a reason: on the message, and on the leaf
 * it lies in.  A leaf with reasons here must not be shown as text (the walk
 * removes it instead; the quarantine keeps the original).  It never builds
 * parts: it only finds lines and headers that GMime's view does not explain.
 */
#ifndef MUGAI_RAWLOOK_H
#define MUGAI_RAWLOOK_H

#include <gmime/gmime.h>
#include <stdint.h>

typedef struct rawlook rawlook;

/* Look at MSG, which GMime parsed from the SIZE bytes of FD (MAP, when not
 * NULL, maps them all; otherwise they are read with pread).  Message-level
 * reasons are added to REASONS.  0 and *OUT set, or -errno (*OUT NULL). */
int rawlook_run(GMimeMessage *msg, int fd, const unsigned char *map, uint64_t size,
                GPtrArray *reasons, rawlook **out);

/* The reasons found inside leaf PART (char *, stable codes), or NULL when
 * none: then GMime's view of PART is the only one there is. */
const GPtrArray *rawlook_part_reasons(const rawlook *rl, GMimeObject *part);

rawlook *rawlook_free(rawlook *rl);   /* NULL-safe; returns NULL */

#endif
