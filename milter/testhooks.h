/* testhooks.h - faults the milter's tests inject; compiled only into a
 * test build (meson -Dtest_hooks=true defines MUGAI_TEST_HOOKS).
 *
 * A production binary has none of this: no environment variable it reads
 * for tests, no code that breaks on purpose.
 */
#ifndef MUGAI_TESTHOOKS_H
#define MUGAI_TESTHOOKS_H

#ifdef MUGAI_TEST_HOOKS
#include <stddef.h>
#include "config/config.h"
#include "worker/job.h"

/* In the milter: when MUGAI_TEST_FAULT names a file, claim it (rename it
 * away: one file, one fault, whichever message comes next) and return its
 * first word ("crash", "hang", "garbage", "attack"), else NULL. */
const char *testhooks_claim_fault(void);

/* In the milter: MUGAI_TEST_BODY_CHUNK, the size of the body pieces handed
 * to libmilter (Debian's miltertest crashes on long end-of-message
 * requests), or DEF. */
size_t testhooks_body_chunk(size_t def);

/* In a worker, before job J runs: act on J's fault.  "crash" aborts,
 * "hang" sleeps forever, "garbage" answers SOCK with bytes that are no
 * frame, "attack" does what a compromised worker would try (write the
 * quarantine, the logs and the review state, read other messages, reach
 * the network and the release smtpd, signal or trace the milter),
 * printing each outcome on stderr as "mugai-attack: WHAT: blocked (...)"
 * or "mugai-attack: WHAT: ALLOWED", then answers with a forged reply (a
 * clean verdict over a two-part output).  Returns 1 when the job was
 * answered here, 0 to run it as usual, or a negative errno. */
int testhooks_worker_fault(const mugai_config *cfg, int sock, const job *j);
#endif

#endif
