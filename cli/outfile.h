/* outfile.h - the file `export -o` writes: new, and created by the person
 * who asked for it.
 *
 * The bytes go to an unnamed file (O_TMPFILE) in the target's directory;
 * only when all of them are written and synced does it get its name, with
 * linkat(2), which never replaces a file or follows a link.  A failure
 * leaves nothing behind, so nothing is ever removed.  Through sudo the
 * file is made by a child process that has fully become the caller
 * (user, group, supplementary groups): it can create a file only where
 * the caller could, and it is the caller's.
 */
#ifndef MUGAI_OUTFILE_H
#define MUGAI_OUTFILE_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct outfile {
	int fd;          /* write the bytes here */
	pid_t pid;       /* the child that is the caller, or -1 */
	int ctl;         /* its control socket, or -1 */
	int dfd;         /* in this process: the target's directory */
	char *base;      /* the target's last component */
} outfile;

/* Start writing PATH (mode 0600).  AS_UID >= 0: the file is made by a
 * child that becomes AS_UID and AS_GID with the groups of NAME (when NAME
 * is that user); only root can do that (-EPERM otherwise).  0, or a
 * negative errno: -EEXIST when PATH exists (a link there too). */
int outfile_open(outfile *o, const char *path, long as_uid, long as_gid, const char *name);

/* COMMIT: sync the file and give it its name; else drop it.  0, or a
 * negative errno (-EEXIST: a file appeared at PATH meanwhile).  Always
 * releases O. */
int outfile_close(outfile *o, bool commit);

#endif
