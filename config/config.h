/* config.h - mugai configuration: one table of keys, loaded from an INI file.
 *
 * Every key lives in one table (config.c) with its section, name, type,
 * default, bounds or validator and a one-line doc.  The loader, `mugai
 * check-config` and the annotated default config/mugai.conf all come from
 * that table.  The struct below is the parsed result; it is immutable once
 * loaded (the milter swaps whole snapshots on reload).
 */
#ifndef MUGAI_CONFIG_H
#define MUGAI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MUGAI_DEFAULT_CONFIG "/etc/mugai/mugai.conf"

enum mugai_links { MUGAI_LINKS_SHOW, MUGAI_LINKS_DEFANG, MUGAI_LINKS_REMOVE };
enum mugai_cte { MUGAI_CTE_BASE64, MUGAI_CTE_QP };
enum mugai_on_suspect { MUGAI_SUSPECT_DELIVER, MUGAI_SUSPECT_REJECT, MUGAI_SUSPECT_DISCARD };
enum mugai_sandbox { MUGAI_SANDBOX_AUTO, MUGAI_SANDBOX_LANDLOCK, MUGAI_SANDBOX_NAMESPACES, MUGAI_SANDBOX_OFF };

typedef struct mugai_config {
	/* [milter] */
	char *milter_socket;        /* socket: libmilter spec */
	char *milter_user;          /* user: account after the socket is open; "" = keep */
	char *milter_group;         /* group: socket group (Postfix's); "" = keep */
	int64_t milter_workers;     /* workers: pipeline processes started ahead */
	int64_t milter_worker_messages; /* worker_messages: messages before a worker is replaced; 0 = never */
	int64_t milter_timeout;     /* message_timeout: seconds per message in a worker */
	int64_t milter_spool_memory;/* spool_memory: bytes kept in memory before a temp file */
	char *milter_spool_dir;     /* spool_dir */
	int64_t milter_drain_timeout; /* drain_timeout: seconds to finish in-flight messages on SIGTERM */
	int64_t milter_worker_memory; /* worker_memory: RLIMIT_AS of a worker, bytes */
	int64_t milter_worker_file_size; /* worker_file_size: RLIMIT_FSIZE of a worker, bytes */
	int64_t milter_worker_files;  /* worker_files: RLIMIT_NOFILE of a worker */
	enum mugai_sandbox worker_sandbox; /* worker_sandbox: how workers are confined */
	bool milter_allow_root;     /* allow_root: keep running as root (user empty or root) */
	bool milter_allow_remote;   /* allow_remote: an inet socket on a non-loopback address */

	/* [limits] */
	int64_t max_message_size;   /* message_size: bytes; over it = rejected */
	int64_t max_header_bytes;   /* header_bytes: bytes of one header block; over = rejected */
	int64_t max_depth;          /* mime_depth: nesting of multiparts and messages */
	int64_t max_parts;          /* parts: MIME parts in one message */
	int64_t max_decoded_size;   /* decoded_size: decoded bytes summed over all parts */
	int64_t max_text_size;      /* text_size: bytes of one text body shown inline */
	int64_t max_time;           /* time: seconds for the pipeline on one message */

	/* [sanitize] */
	enum mugai_links links;     /* links: show | defang | remove */
	enum mugai_cte transfer_encoding; /* transfer_encoding: base64 | quoted-printable */
	char *subject_tag;          /* subject_tag: prefix added to Subject when changed; "" = none */
	char *notice_contact;       /* notice_contact: who to ask for release (Japanese) */
	char *notice_contact_en;    /* notice_contact_en: same, in English */

	/* [detect] */
	int64_t archive_depth;      /* archive_depth: archives opened inside archives */
	int64_t archive_entries;    /* archive_entries: entries looked at, all levels */
	int64_t archive_expanded;   /* archive_expanded: bytes expanded, all levels */
	int64_t archive_ratio;      /* archive_ratio: expanded / compressed per archive */
	int64_t archive_ratio_floor;/* archive_ratio_floor: bytes before the ratio counts */
	int64_t xml_part_bytes;     /* xml_part_bytes: largest OOXML XML part parsed */
	int64_t pdf_inflated;       /* pdf_inflated: bytes inflated from one PDF */
	int64_t ole_entries;        /* ole_entries: entries walked in one OLE2 file */
	int64_t findings;           /* findings: listed per container */
	char *clamd_socket;         /* clamd_socket: unix:/PATH, /PATH, HOST:PORT or [IPV6]:PORT; "" = no ClamAV */
	int64_t clamd_timeout;      /* clamd_timeout: seconds for one part's scan, connect to answer */
	int64_t clamd_max_size;     /* clamd_max_size: largest part sent; larger = clamav-too-large */

	/* [policy] */
	enum mugai_on_suspect on_suspect; /* on_suspect: deliver | reject | discard */
	/* exceptions to on_suspect: lists of user@domain, domain, .domain */
	char *deliver_suspect_from, *deliver_suspect_to;
	char *reject_suspect_from, *reject_suspect_to;
	char *discard_suspect_from, *discard_suspect_to;

	/* [quarantine] */
	char *quarantine_dir;       /* dir */
	int64_t quarantine_retention_days; /* retention_days */
	int64_t quarantine_release_approvals; /* release_approvals: people needed for a suspect release */
	int64_t quarantine_approval_expiry; /* approval_expiry: seconds an approval counts */
	char *quarantine_review_dir; /* review_dir: approvals and releases (root's); "" = DIR/../review */

	/* [audit] */
	char *audit_log;            /* log */
	bool audit_syslog;          /* syslog */
	char *audit_admin_log;      /* admin_log: administrators' acts, a file only root writes */

	/* [release] */
	char *release_smtp;         /* smtp: HOST:PORT of the milter-free smtpd */

	char *source;               /* file it was read from, or "(defaults)" */
	char sha256[65];            /* SHA-256 of the bytes read from it, "" for the defaults */
} mugai_config;

/* Built-in defaults; never NULL (aborts on OOM). */
mugai_config *config_defaults(void);

/* Load PATH on top of the defaults.  Returns 0 and sets *out, or -1 and
 * writes "FILE:LINE: [section] key: problem" into err. */
int config_load(const char *path, mugai_config **out, char *err, size_t errlen);

/* The same from an open descriptor (read to its end), called NAME. */
int config_load_fd(int fd, const char *name, mugai_config **out, char *err, size_t errlen);

/* PATH when only root may change it: every directory on the way and the
 * file belong to root and no one else may write them, no link is
 * followed (util/safeopen.h).  The policy of root's processes comes from
 * here: through sudo, the administrators' /etc/mugai/mugai.conf.
 * MISSING_OK: a missing file means the defaults. */
int config_load_trusted(const char *path, bool missing_ok, mugai_config **out, char *err, size_t errlen);

/* The CLI rule: explicit path must exist and be valid; with path NULL the
 * default file is read if it exists (trusted, when run as root), else the
 * defaults apply.  The last component of a path is never followed if it
 * is a link; an error quotes the file's lines only when the person running
 * (SUDO_UID, else the real user) may read the file. */
int config_load_cli(const char *path_or_null, mugai_config **out, char *err, size_t errlen);

mugai_config *config_free(mugai_config *cfg);   /* NULL-safe; returns NULL */

/* Every key with its effective value, INI syntax ("[section]\nkey = value"). */
void config_dump(FILE *fp, const mugai_config *cfg);

/* The annotated default file: each key with its doc as a comment, commented
 * out at its default.  config/mugai.conf is exactly this output. */
void config_write_default(FILE *fp);

#endif
