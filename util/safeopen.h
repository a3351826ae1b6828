/* safeopen.h - opening paths that another account could change or swap.
 *
 * Every file mugai opens in a directory that is not only root's (the
 * quarantine belongs to the mugai account, so do its logs and spool) goes
 * through these: the directories on the way are checked to be trusted,
 * the last name is opened relative to its directory without following a
 * link, and what was opened is checked to be a regular file with one name
 * before anything is read from it or written to it.
 */
#ifndef MUGAI_SAFEOPEN_H
#define MUGAI_SAFEOPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Open directory PATH (absolute) one component at a time from "/", none
 * of them followed if it is a link.  Every directory before the last must
 * be trusted: owned by root or by the effective user, and not writable by
 * group or others unless it is sticky (then only a name's owner may
 * replace it, and the next directory must itself be trusted).  The last
 * one must be trusted too when LAST_TRUSTED; else it may belong to anyone
 * (the quarantine belongs to mugai) but is still not followed.  Returns an
 * O_DIRECTORY descriptor, or a negative errno: -ELOOP (a link on the way),
 * -ENOTDIR, -EPERM (not trusted: WHY says which directory and why), or
 * what open(2) said.  WHY may be NULL. */
int safe_open_dir(const char *path, bool last_trusted, char *why, size_t whylen);

/* NAME (one component, no '/') in DFD, opened with FLAGS plus O_NOFOLLOW,
 * O_NONBLOCK (a FIFO planted there cannot hang us; cleared again after),
 * O_CLOEXEC and O_NOCTTY.  It must be a regular file with exactly one
 * link (a second name would be a way to change it from elsewhere):
 * -EINVAL when it is not.  The descriptor, or a negative errno. */
int safe_openat(int dfd, const char *name, int flags, mode_t mode);

/* PATH's directory through safe_open_dir(..., true, ...), then its last
 * component through safe_openat().  A file that must not be changed by
 * anyone but root (the configuration through sudo, the administrators'
 * audit log) is opened this way. */
int safe_open_file(const char *path, int flags, mode_t mode, char *why, size_t whylen);

/* The directory part and the last component of PATH (g_malloc'ed): NULL
 * when PATH is not absolute or ends in "/", ".", "..". */
char *safe_split(const char *path, char **base);

/* ---- acting as a directory's owner ---------------------------------------
 * Root works in a directory another account owns (the quarantine, the
 * message audit log) with that account's file-system identity: what it
 * opens there is checked with that account's rights, what it creates is
 * that account's, and a link the account planted leads nowhere it could
 * not go itself.  setfsuid(2) also drops the file-system capabilities
 * while it is not root.  Per thread; the CLI is single-threaded. */
typedef struct fs_identity {
	uid_t uid, prev_uid;
	gid_t gid, prev_gid;
	bool switched;
} fs_identity;

/* Take the identity of DFD's owner when running as root and the owner is
 * not root; otherwise nothing changes.  Nests: leaving restores what was
 * before.  0 or a negative errno (-EPERM when the kernel did not take it). */
int fs_identity_enter(int dfd, fs_identity *id);
void fs_identity_leave(fs_identity *id);

/* Become UID/GID entirely (real, effective and saved IDs), for a process
 * that must keep nothing of root: with the supplementary groups of user
 * NAME when given (the caller of sudo writing a file), else none.  0 or a
 * negative errno; afterwards the process cannot get root back (checked). */
int drop_privileges_to(uid_t uid, gid_t gid, const char *name);

#endif
