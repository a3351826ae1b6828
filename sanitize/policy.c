/* policy.c - the action for suspect mail (policy.h).
 *
 * Owns nothing: the exception lists are the config's strings, split on
 * commas and blanks at each call (a handful of entries; a message is
 * decided once).  Their syntax was checked when the config was loaded.
 */
#include "sanitize/policy.h"
#include <glib.h>
#include <string.h>

bool policy_address_matches(const char *pattern, const char *addr)
{
	if (!pattern || !*pattern || !addr || !*addr)
		return false;
	const char *at = strrchr(addr, '@');
	if (strchr(pattern, '@'))
		return g_ascii_strcasecmp(pattern, addr) == 0;
	if (!at || !at[1])
		return false;
	const char *domain = at + 1;
	if (pattern[0] == '.') {
		/* subdomains only: "x.example.jp" for ".example.jp" */
		size_t n = strlen(domain), p = strlen(pattern);
		return n > p && g_ascii_strcasecmp(domain + n - p, pattern) == 0;
	}
	return g_ascii_strcasecmp(pattern, domain) == 0;
}

/* The first pattern of LIST that matches one of ADDRS, or NULL. */
static char *first_match(const char *list, const char *const *addrs)
{
	if (!list || !*list)
		return NULL;
	char **items = g_strsplit_set(list, ", \t", -1);
	char *hit = NULL;
	for (char **it = items; *it && !hit; it++)
		for (const char *const *a = addrs; **it && a && *a && !hit; a++)
			if (policy_address_matches(*it, *a))
				hit = g_strdup(*it);
	g_strfreev(items);
	return hit;
}

enum mugai_on_suspect policy_on_suspect(const mugai_config *cfg, const char *from,
                                        const char *const *rcpt, char **rule)
{
	const char *const senders[] = { from, NULL };
	/* strictest first: an exception never loosens another one */
	const struct {
		enum mugai_on_suspect action;
		const char *key;
		const char *list;
		const char *const *addrs;
	} rules[] = {
		{ MUGAI_SUSPECT_REJECT, "reject_suspect_from", cfg->reject_suspect_from, senders },
		{ MUGAI_SUSPECT_REJECT, "reject_suspect_to", cfg->reject_suspect_to, rcpt },
		{ MUGAI_SUSPECT_DISCARD, "discard_suspect_from", cfg->discard_suspect_from, senders },
		{ MUGAI_SUSPECT_DISCARD, "discard_suspect_to", cfg->discard_suspect_to, rcpt },
		{ MUGAI_SUSPECT_DELIVER, "deliver_suspect_from", cfg->deliver_suspect_from, senders },
		{ MUGAI_SUSPECT_DELIVER, "deliver_suspect_to", cfg->deliver_suspect_to, rcpt },
	};
	if (rule)
		*rule = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(rules); i++) {
		char *hit = from || rules[i].addrs != senders ? first_match(rules[i].list, rules[i].addrs) : NULL;
		if (hit) {
			if (rule)
				*rule = g_strdup_printf("%s = %s", rules[i].key, hit);
			g_free(hit);
			return rules[i].action;
		}
	}
	return cfg->on_suspect;
}
