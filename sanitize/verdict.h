/* verdict.h - reasons in, one verdict out, from one ordered table.
 *
 * Every reason the pipeline can record has a row (matched exactly, or by
 * prefix for rows ending in ':' or '-') giving its class and, for rejects
 * and temporary failures, the SMTP reply.  The most severe class present
 * wins.  No other code decides accept / reject / tempfail.
 */
#ifndef MUGAI_VERDICT_H
#define MUGAI_VERDICT_H

#include "sanitize/result.h"

typedef struct verdict_row {
	const char *reason;      /* code, or prefix when it ends in ':' */
	enum verdict verdict;    /* class: CLEAN = informational only */
	const char *smtp;        /* "550", "451", ... for REJECTED / TEMPFAIL rows */
	const char *dsn;         /* "5.3.4", ... */
	const char *text_en;     /* reply text / short explanation */
	const char *text_ja;     /* explanation for the notice */
} verdict_row;

/* The row for REASON; unknown reasons get a SUSPECT row (fail safe). */
const verdict_row *verdict_lookup(const char *reason);

/* Fold every message and part reason, plus "any part removed or converted"
 * (=> at least sanitized), into r->verdict.  Sets r->verdict_reason to the
 * reason that decided a rejected/tempfail verdict.  Returns the verdict. */
enum verdict verdict_decide(mugai_result *r);

/* True when this part carries a reason of class SUSPECT or worse. */
bool verdict_part_suspect(const mugai_part *p);

/* The whole table, for documentation and tests (terminated by a NULL reason). */
extern const verdict_row verdict_table[];

#endif
