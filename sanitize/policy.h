/* policy.h - what happens to suspect mail: [policy] on_suspect and its
 * exceptions per sender, recipient or domain.
 *
 * Exceptions only choose among deliver (the sanitized text), reject and
 * discard; none of them lets anything but the rebuilt text through.
 */
#ifndef MUGAI_POLICY_H
#define MUGAI_POLICY_H

#include <stdbool.h>
#include "config/config.h"

/* The action for a suspect message from FROM (may be NULL) to RCPT (a
 * NULL-terminated list, may be NULL): the strictest of the exception lists
 * that match (reject, then discard, then deliver), else on_suspect.  A
 * recipient list matches when any recipient does.  When RULE is not NULL,
 * *RULE gets "KEY = PATTERN" of the exception that decided (the caller
 * frees it), or NULL when on_suspect decided. */
enum mugai_on_suspect policy_on_suspect(const mugai_config *cfg, const char *from,
                                        const char *const *rcpt, char **rule);

/* Does ADDR (user@domain, any case) match PATTERN: "user@domain" exactly,
 * "domain" (that domain) or ".domain" (its subdomains)? */
bool policy_address_matches(const char *pattern, const char *addr);

#endif
