/* i18n.h - messages for people in Japanese or English.
 *
 * The administrator commands (`mugai quarantine ...`) print their errors,
 * table headers and labels through TR("English text"): the Japanese text of
 * the table in i18n.c when the locale is Japanese (the first non-empty of
 * LC_ALL, LC_MESSAGES, LANG starts with "ja"), else the English text itself.
 * Machine output (--json, audit records) never goes through here.
 */
#ifndef MUGAI_I18N_H
#define MUGAI_I18N_H

#include <stdbool.h>
#include <stddef.h>

/* True when messages are Japanese; read from the environment once. */
bool i18n_japanese(void);
/* Tests: force Japanese (1) or English (0), or read the environment again (-1). */
void i18n_force(int japanese);

/* EN translated, or EN itself when English or when it has no translation.
 * Translations keep the printf conversions of EN, in the same order. */
const char *i18n_text(const char *en);
#define TR(en) i18n_text(en)

/* The table, for the unit test that checks the conversions match. */
size_t i18n_count(void);
void i18n_pair(size_t i, const char **en, const char **ja);

#endif
