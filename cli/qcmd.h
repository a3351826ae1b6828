/* qcmd.h - the `mugai quarantine` commands.
 *
 * Each command prints to OUT/ERR (messages for people through TR(), see
 * i18n.h) and returns the process exit code: 0 done, 1 refused (no such
 * entry, policy, the SMTP server said no, the file exists), 2 usage,
 * 75 temporary trouble (I/O, the SMTP server unreachable or 4xx).
 */
#ifndef MUGAI_QCMD_H
#define MUGAI_QCMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "config/config.h"
#include "store/qindex.h"

/* Who acts, and where.  Every act (export, approve, release, delete,
 * purge) appends an administrator record to ADMIN_LOG, refused ones too;
 * when the log cannot be written the act is not done (75). */
typedef struct quarantine_admin {
	const mugai_config *cfg;    /* limits and sandbox of the parsing child */
	const char *dir;            /* [quarantine] dir */
	const char *review_dir;     /* approvals and releases: root's */
	const char *admin_log;      /* [audit] admin_log, or --audit-log */
	int admin_fd;               /* the admin log once opened, else -1 */
	const char *release_smtp;   /* [release] smtp */
	int release_approvals;      /* [quarantine] release_approvals */
	int64_t approval_expiry;    /* [quarantine] approval_expiry, seconds */
	const char *config;         /* the configuration file, named in every record */
	const char *config_sha256;  /* its SHA-256, or NULL for the defaults */
	const char *user;           /* the invoking user */
	const char *sudo_user;      /* $SUDO_USER when run through sudo, else NULL */
	long sudo_uid, sudo_gid;    /* $SUDO_UID, $SUDO_GID, or -1: who export -o writes as */
	FILE *out, *err;
} quarantine_admin;

/* S can go into MAIL FROM:<S> or RCPT TO:<S> as it is: UTF-8, 1..320
 * bytes, no controls, blanks or angle brackets.  For --to, and for the
 * envelope of a record, whose strings came with the mail. */
bool quarantine_address_ok(const char *s);

/* The name of the invoking (real) user, or "uid N" (g_malloc'ed). */
char *quarantine_admin_user(void);

int quarantine_cmd_list(const char *dir, const qindex_filter *f, bool json, FILE *out, FILE *err);
int quarantine_cmd_show(quarantine_admin *a, const char *id);
/* Original bytes (or, with PART, the decoded bytes of that MIME part,
 * parsed in a confined child) to OUTPUT, a new file created by the caller
 * (never one that exists), or to OUT_FD when OUTPUT is NULL.  REASON (may
 * be NULL) goes into the audit record. */
int quarantine_cmd_export(quarantine_admin *a, const char *id, const char *part,
                          const char *output, const char *reason, int out_fd);
/* Record an approval of ID by the identity of A (SUDO_USER, else the
 * user) for the recipients TO (NULL-terminated; NULL: the record's), for
 * approval_expiry; one live approval per person. */
int quarantine_cmd_approve(quarantine_admin *a, const char *id, const char *reason, const char *const *to);
/* Re-inject the original of ID through A->release_smtp, to TO (NULL-
 * terminated) or else the record's recipients.  Entries with any verdict
 * but sanitized (suspect, rejected, discarded) need FORCE and
 * A->release_approvals people: the releaser and others whose approvals are
 * live and name every recipient; the release uses those approvals up.  A
 * release the server refuses changes nothing. */
int quarantine_cmd_release(quarantine_admin *a, const char *id, const char *reason,
                           const char *const *to, bool force);
int quarantine_cmd_delete(quarantine_admin *a, const char *id, const char *reason);
/* Remove the entries whose ID time is more than DAYS days ago, and their
 * review state. */
int quarantine_cmd_purge(quarantine_admin *a, int64_t days, const char *reason);

#endif
