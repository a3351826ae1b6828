/* sandbox.h - confine a worker process after its initialisation.
 *
 * A worker parses hostile mail; once its libraries are loaded it calls
 * sandbox_apply() and from then on, even fully compromised, it can read only
 * the descriptors it already holds and the read-only system files libraries
 * load lazily, write only unnamed files in one directory, reach clamd and
 * nothing else on the network, and not signal, trace or read any other
 * process, though the milter and the other workers run as the same user.
 */
#ifndef MUGAI_SANDBOX_H
#define MUGAI_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sandbox_mode {
	SANDBOX_AUTO,       /* namespaces and Landlock, whichever the kernel allows; fails unless the
	                       file system and the network are both confined */
	SANDBOX_LANDLOCK,   /* Landlock alone (for a unit that forbids namespaces) */
	SANDBOX_NAMESPACES, /* user + mount (+ net) namespaces alone, no Landlock */
	SANDBOX_OFF,        /* only the process rules: no new privileges, not dumpable, seccomp */
} sandbox_mode;

typedef struct sandbox_spec {
	sandbox_mode mode;
	const char *tmp_dir;        /* the one writable directory (spill files via O_TMPFILE), or NULL for none;
	                               Landlock mode: must be empty, for files there would be readable */
	uint64_t tmp_size;          /* namespaces: size of the private tmpfs at tmp_dir (0 = tmpfs default) */
	const char *const *hide;    /* NULL-terminated dirs that must be unreadable (quarantine, spool, logs) */
	const char *clamd_unix;     /* clamd's unix socket path, or NULL */
	const char *clamd_tcp_host; /* clamd over TCP: numeric address, or NULL */
	int clamd_tcp_port;         /* with clamd_tcp_host */
} sandbox_spec;

/* Confine the calling (single-threaded) process for the rest of its life.
 * 0 on success, with a one-line description of what was applied in DESC
 * ("landlock abi 7 (fs, tcp, scope), user+mount+ipc+net namespaces, seccomp");
 * -errno on failure with the reason in DESC.  After a failure the process
 * may be half confined and must exit.  Call it after the process has
 * closed every descriptor it must not keep (an open directory outlives the
 * confinement) and before $TMPDIR is first read by g_get_tmp_dir(), which
 * must name tmp_dir.  Keeps one O_PATH descriptor on /proc/self open. */
int sandbox_apply(const sandbox_spec *s, char *desc, size_t desclen);

/* What this kernel offers, for the startup log and tests: the Landlock ABI
 * (0 = none), and whether unprivileged user + mount + net namespaces can be
 * created (tried in a forked child). */
int sandbox_landlock_abi(void);
bool sandbox_userns_ok(void);

#endif
