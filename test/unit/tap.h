/* tap.h - the smallest test harness: TAP lines, a failure count, exit code.
 * Each test file keeps a static table of cases and loops over it. */
#ifndef MUGAI_TAP_H
#define MUGAI_TAP_H
#undef NDEBUG
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, ...) do { \
	int ok_ = (cond) ? 1 : 0; /* evaluated once */ \
	tap_n++; \
	if (ok_) { printf("ok %d - ", tap_n); } \
	else { tap_failed++; printf("not ok %d - ", tap_n); } \
	printf(__VA_ARGS__); printf("\n"); \
	if (!ok_) printf("#   at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
} while (0)

/* Compare strings, printing both on mismatch. */
#define TAP_STREQ(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int eq_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0); \
	TAP_OK(eq_, __VA_ARGS__); \
	if (!eq_) printf("#   got:  [%s]\n#   want: [%s]\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

static inline int tap_done(void) {
	printf("1..%d\n", tap_n);
	if (tap_failed) printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}
#endif
