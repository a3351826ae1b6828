/* config.c - the one table of configuration keys, and everything made from it.
 *
 * Owns: the key table (section, key, type, default, bounds or validator,
 * offset into mugai_config, doc), the INI loader, `check-config` output
 * (config_dump) and the annotated default file (config_write_default).
 * Defaults go through the same parser as the file, so a bad default is a bug
 * caught at startup.  A config is built whole and never changed afterwards;
 * config_free() frees it and every string in it (all g_malloc'd).
 *
 * Parsing is inih's; our line reader adds what Debian's build of it lacks.
 * It counts lines (built without INI_HANDLER_LINENO), strips leading blanks
 * (so an indented line is never a continuation of the previous value), rejects
 * lines over INI_MAX_LINE (inih would split them silently) and rejects unknown
 * [section] headers (inih only reports keys).  Inline comments stay as inih
 * builds them: ';' after a blank starts a comment, even inside quotes.  Errors
 * read "FILE:LINE: [section] key: problem"; the first one stops the load.
 */
#include "config/config.h"
#include "util/safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <openssl/evp.h>

#include <glib.h>

enum key_type { T_STRING, T_PATH, T_INT, T_SIZE, T_DURATION, T_BOOL, T_ENUM };

/* A validator returns NULL if VALUE is fine, else a phrase that completes
 * "'VALUE' ...". */
typedef const char *key_check(const char *value);

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	const char *def;            /* as it would be written in the file */
	int64_t min, max;           /* T_INT, T_SIZE, T_DURATION */
	const char *const *names;   /* T_ENUM: NULL-terminated, index = enum value */
	key_check *check;           /* T_STRING: extra validation, or NULL */
	size_t offset;
	const char *doc;            /* one line, no trailing period */
};

#define KiB ((int64_t)1 << 10)
#define MiB ((int64_t)1 << 20)
#define GiB ((int64_t)1 << 30)

/* Enum fields are stored through an int. */
_Static_assert(sizeof(enum mugai_links) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mugai_cte) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mugai_on_suspect) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mugai_sandbox) == sizeof(int), "enum size");

static const char *const links_names[] = {
	[MUGAI_LINKS_SHOW] = "show", [MUGAI_LINKS_DEFANG] = "defang",
	[MUGAI_LINKS_REMOVE] = "remove", NULL,
};
static const char *const cte_names[] = {
	[MUGAI_CTE_BASE64] = "base64", [MUGAI_CTE_QP] = "quoted-printable", NULL,
};

static const char *const on_suspect_names[] = {
	[MUGAI_SUSPECT_DELIVER] = "deliver", [MUGAI_SUSPECT_REJECT] = "reject",
	[MUGAI_SUSPECT_DISCARD] = "discard", NULL,
};

static const char *const sandbox_names[] = {
	[MUGAI_SANDBOX_AUTO] = "auto", [MUGAI_SANDBOX_LANDLOCK] = "landlock",
	[MUGAI_SANDBOX_NAMESPACES] = "namespaces", [MUGAI_SANDBOX_OFF] = "off", NULL,
};

static key_check check_socket, check_hostport, check_clamd, check_addr_list, check_opt_path, check_release;

#define OFF(field) offsetof(mugai_config, field)
#define STR(sec, key, def, check, field, doc) \
	{ sec, key, T_STRING, def, 0, 0, NULL, check, OFF(field), doc }
#define PATH(sec, key, def, field, doc) \
	{ sec, key, T_PATH, def, 0, 0, NULL, NULL, OFF(field), doc }
#define NUM(sec, key, type, def, min, max, field, doc) \
	{ sec, key, type, def, min, max, NULL, NULL, OFF(field), doc }
#define BOOL(sec, key, def, field, doc) \
	{ sec, key, T_BOOL, def, 0, 0, NULL, NULL, OFF(field), doc }
#define ENUM(sec, key, def, names, field, doc) \
	{ sec, key, T_ENUM, def, 0, 0, names, NULL, OFF(field), doc }

/* The table.  Order is the order of check-config output and of mugai.conf;
 * rows of one section stay together. */
static const struct key keys[] = {
	STR("milter", "socket", "unix:/var/spool/postfix/mugai/mugai.sock", check_socket, milter_socket,
	    "Socket Postfix connects to: unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST"),
	STR("milter", "user", "mugai", NULL, milter_user,
	    "Account to run as once the socket is open; empty = do not change"),
	STR("milter", "group", "postfix", NULL, milter_group,
	    "Group given the unix socket, Postfix's; empty = do not change"),
	NUM("milter", "workers", T_INT, "4", 1, 64, milter_workers,
	    "Pipeline processes started ahead; more than the CPUs, as each waits for fsync part of the time"),
	NUM("milter", "worker_messages", T_INT, "1000", 0, 1000000, milter_worker_messages,
	    "Messages a worker process handles before it is replaced by a fresh one (0 = never)"),
	NUM("milter", "message_timeout", T_DURATION, "240", 5, 3600, milter_timeout,
	    "Deadline of one message at end of data, worker wait included; below Postfix's milter_content_timeout"),
	NUM("milter", "spool_memory", T_SIZE, "1M", 0, GiB, milter_spool_memory,
	    "Bytes of a message kept in memory before spilling to a file"),
	PATH("milter", "spool_dir", "/var/spool/mugai", milter_spool_dir,
	     "Directory for the temporary files of spooled messages; on the same file system as [quarantine] dir, originals are linked into the quarantine instead of copied"),
	NUM("milter", "drain_timeout", T_DURATION, "60", 0, 3600, milter_drain_timeout,
	    "Time given to messages in progress to finish when the milter is stopped"),
	NUM("milter", "worker_memory", T_SIZE, "2G", 64 * MiB, 1024 * GiB, milter_worker_memory,
	    "Address space of a worker process (RLIMIT_AS)"),
	NUM("milter", "worker_file_size", T_SIZE, "8G", MiB, 1024 * GiB, milter_worker_file_size,
	    "Largest file a worker may write (RLIMIT_FSIZE); must exceed the audit log between rotations"),
	NUM("milter", "worker_files", T_INT, "64", 16, 65536, milter_worker_files,
	    "Open files of a worker process (RLIMIT_NOFILE)"),
	ENUM("milter", "worker_sandbox", "auto", sandbox_names, worker_sandbox,
	     "Worker confinement: auto (Landlock and namespaces; no worker starts unconfined), landlock, namespaces (one of the two only), off (none: debugging only)"),
	BOOL("milter", "allow_root", "no", milter_allow_root,
	     "Let the milter keep running as root when user is empty or root (tests only: its workers would parse mail as root)"),
	BOOL("milter", "allow_remote", "no", milter_allow_remote,
	     "Let socket = inet: listen on an address that is not loopback (the milter protocol has no authentication: whoever reaches the port can use it)"),

	NUM("limits", "message_size", T_SIZE, "50M", KiB, 2 * GiB, max_message_size,
	    "Largest message accepted; larger = rejected"),
	NUM("limits", "header_bytes", T_SIZE, "256K", KiB, 16 * MiB, max_header_bytes,
	    "Largest header block of a message or part; larger = rejected"),
	NUM("limits", "mime_depth", T_INT, "20", 1, 100, max_depth,
	    "Deepest nesting of multiparts and attached messages"),
	NUM("limits", "parts", T_INT, "500", 1, 100000, max_parts,
	    "Most MIME parts in one message"),
	NUM("limits", "decoded_size", T_SIZE, "200M", KiB, 16 * GiB, max_decoded_size,
	    "Most decoded bytes, summed over all parts of a message"),
	NUM("limits", "text_size", T_SIZE, "8M", KiB, 256 * MiB, max_text_size,
	    "Largest text body shown inline in the sanitized message"),
	NUM("limits", "time", T_DURATION, "60", 1, 3600, max_time,
	    "Time the sanitizing pipeline may spend on one message"),

	ENUM("sanitize", "links", "defang", links_names, links,
	     "What to do with links in the message text"),
	ENUM("sanitize", "transfer_encoding", "base64", cte_names, transfer_encoding,
	     "Content-Transfer-Encoding of rewritten text parts"),
	STR("sanitize", "subject_tag", "", NULL, subject_tag,
	    "Prefix added to the Subject of a changed message; empty = none"),
	STR("sanitize", "notice_contact", "システム管理者", NULL, notice_contact,
	    "Whom to ask for a release, in the Japanese notice"),
	STR("sanitize", "notice_contact_en", "your system administrator", NULL, notice_contact_en,
	    "Whom to ask for a release, in the English notice"),

	NUM("detect", "archive_depth", T_INT, "3", 1, 20, archive_depth,
	    "Archives opened inside archives (1 = only the attachment itself); deeper is archive-bomb"),
	NUM("detect", "archive_entries", T_INT, "1000", 1, 1000000, archive_entries,
	    "Archive entries looked at, all levels together; more is archive-bomb"),
	NUM("detect", "archive_expanded", T_SIZE, "500M", KiB, 64 * GiB, archive_expanded,
	    "Bytes expanded from archives, all levels together; more is archive-bomb"),
	NUM("detect", "archive_ratio", T_INT, "100", 2, 100000, archive_ratio,
	    "Expanded size / compressed size of one archive; more is archive-bomb"),
	NUM("detect", "archive_ratio_floor", T_SIZE, "1M", KiB, 1 * GiB, archive_ratio_floor,
	    "The ratio is checked once an archive has expanded this much"),
	NUM("detect", "xml_part_bytes", T_SIZE, "4M", KiB, 256 * MiB, xml_part_bytes,
	    "Largest OOXML [Content_Types].xml or .rels part parsed; larger is document-unreadable"),
	NUM("detect", "pdf_inflated", T_SIZE, "64M", KiB, 4 * GiB, pdf_inflated,
	    "Bytes inflated from one PDF's compressed streams; more is document-unreadable"),
	NUM("detect", "ole_entries", T_INT, "4096", 16, 1000000, ole_entries,
	    "Storages and streams walked in one OLE2 file; more is document-unreadable"),
	NUM("detect", "findings", T_INT, "50", 1, 10000, findings,
	    "Findings inside one container listed in the notice and the audit"),
	STR("detect", "clamd_socket", "", check_clamd, clamd_socket,
	    "clamd scanning every part not kept as text: unix:/PATH or /PATH, HOST:PORT or [IPV6]:PORT; empty = off; a hit is suspect (clamav:NAME), clamd down or failing a tempfail"),
	NUM("detect", "clamd_timeout", T_DURATION, "30", 1, 600, clamd_timeout,
	    "Time for one part's scan, connect to answer; longer is a tempfail (clamav-timeout)"),
	NUM("detect", "clamd_max_size", T_SIZE, "25M", KiB, 4 * GiB, clamd_max_size,
	    "Largest part sent to clamd, at most clamd's StreamMaxLength (25M by default); a larger part is not scanned and is suspect (clamav-too-large)"),

	ENUM("policy", "on_suspect", "deliver", on_suspect_names, on_suspect,
	     "Suspect mail: deliver the sanitized text with the notice, reject it (550 5.7.1), or discard it (accepted, not delivered); the original is kept in every case"),
	STR("policy", "reject_suspect_from", "", check_addr_list, reject_suspect_from,
	    "Exceptions to on_suspect, strictest first (reject, discard, deliver): suspect mail from these senders is rejected; a list of user@domain, domain (that domain) or .domain (its subdomains)"),
	STR("policy", "reject_suspect_to", "", check_addr_list, reject_suspect_to,
	    "Suspect mail to any of these recipients is rejected (same list syntax)"),
	STR("policy", "discard_suspect_from", "", check_addr_list, discard_suspect_from,
	    "Suspect mail from these senders is discarded (same list syntax)"),
	STR("policy", "discard_suspect_to", "", check_addr_list, discard_suspect_to,
	    "Suspect mail to any of these recipients is discarded (same list syntax)"),
	STR("policy", "deliver_suspect_from", "", check_addr_list, deliver_suspect_from,
	    "Suspect mail from these senders is delivered as sanitized text with the notice (same list syntax); nothing but text passes"),
	STR("policy", "deliver_suspect_to", "", check_addr_list, deliver_suspect_to,
	    "Suspect mail to any of these recipients is delivered as sanitized text with the notice (same list syntax)"),

	PATH("quarantine", "dir", "/var/lib/mugai/quarantine", quarantine_dir,
	     "Directory holding quarantined originals"),
	NUM("quarantine", "retention_days", T_INT, "90", 1, 3650, quarantine_retention_days,
	    "Days a quarantined original is kept"),
	NUM("quarantine", "release_approvals", T_INT, "1", 1, 10, quarantine_release_approvals,
	    "Administrators who must agree to release an entry that is not merely sanitized (suspect, rejected, discarded): the releaser plus approvals of others"),
	NUM("quarantine", "approval_expiry", T_DURATION, "24h", 60, 30 * 24 * 3600, quarantine_approval_expiry,
	    "Time an approval counts; it is also used up by the release it allowed, and holds only for the recipients it named"),
	STR("quarantine", "review_dir", "", check_opt_path, quarantine_review_dir,
	    "Directory of the administrators' approvals and releases, which only root may change; empty = review beside the quarantine directory"),

	PATH("audit", "log", "/var/log/mugai/audit.log", audit_log,
	     "Audit log file"),
	BOOL("audit", "syslog", "yes", audit_syslog,
	     "Also send audit records to syslog"),
	PATH("audit", "admin_log", "/var/log/mugai-admin.log", audit_admin_log,
	     "Audit log of the administrators' acts (export, approve, release, delete, purge): a file only root writes, in directories only root may change"),

	STR("release", "smtp", "unix:/var/spool/postfix/private/mugai-release", check_release, release_smtp,
	    "Milter-free smtpd that released mail is re-injected into: unix:/PATH (only root may reach Postfix's private/), HOST:PORT or [IPV6]:PORT"),
};
#define NKEYS G_N_ELEMENTS(keys)

#define FIELD(cfg, k, type) ((type *)(void *)((char *)(cfg) + (k)->offset))
#define CFIELD(cfg, k, type) ((const type *)(const void *)((const char *)(cfg) + (k)->offset))

/* ---- validators ---- */

/* LEN bytes of S are a port number 1..65535. */
static bool port_ok(const char *s, size_t len)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* libmilter's spec; we take the three forms Postfix can reach. */
static const char *check_socket(const char *v)
{
	const char *rest, *at;

	if (g_str_has_prefix(v, "unix:"))
		return v[5] == '/' ? NULL : "is not unix:/ABSOLUTE/PATH";
	if (g_str_has_prefix(v, "inet:"))
		rest = v + 5;
	else if (g_str_has_prefix(v, "inet6:"))
		rest = v + 6;
	else
		return "is not unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST";
	at = strchr(rest, '@');
	if (!port_ok(rest, at ? (size_t)(at - rest) : strlen(rest)))
		return "has no port 1..65535 (inet:PORT@HOST)";
	if (at && (!at[1] || strpbrk(at + 1, " \t")))
		return "has no valid host after '@'";
	return NULL;
}

static const char *check_hostport(const char *v)
{
	const char *port;

	if (strpbrk(v, " \t"))
		return "contains a blank";
	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (!close || close == v + 1 || close[1] != ':')
			return "is not [IPV6]:PORT";
		port = close + 2;
	} else {
		const char *colon = strrchr(v, ':');
		if (!colon || colon == v)
			return "is not HOST:PORT";
		if (memchr(v, ':', (size_t)(colon - v)))
			return "has an IPv6 address without brackets ([IPV6]:PORT)";
		port = colon + 1;
	}
	if (!port_ok(port, strlen(port)))
		return "has no port 1..65535";
	return NULL;
}

/* Where clamd listens: the forms sanitize/clamav.c connects to.  A unix
 * path must fit in sockaddr_un. */
static const char *check_clamd(const char *v)
{
	const char *path = g_str_has_prefix(v, "unix:") ? v + 5 : v;

	if (!*v)
		return NULL;
	if (path[0] == '/')
		return strlen(path) < sizeof ((struct sockaddr_un *)0)->sun_path ? NULL : "is a unix socket path over 107 bytes";
	if (path != v)
		return "is not unix:/ABSOLUTE/PATH";
	return check_hostport(v);
}

/* libmilter's inet host names a loopback address: inet:PORT@127.0.0.1,
 * @localhost, inet6:PORT@::1.  No host at all is every interface. */
static bool socket_local(const char *v)
{
	if (g_str_has_prefix(v, "unix:"))
		return true;
	const char *at = strchr(v, '@');
	if (!at)
		return false;
	const char *h = at + 1;
	if (strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 || strcmp(h, "[::1]") == 0)
		return true;
	unsigned a, b, c, d;
	char end;
	return sscanf(h, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4 && a == 127 && b < 256 && c < 256 && d < 256;
}

/* unix:/PATH (in sockaddr_un) or HOST:PORT. */
static const char *check_release(const char *v)
{
	if (!g_str_has_prefix(v, "unix:"))
		return check_hostport(v);
	if (v[5] != '/')
		return "is not unix:/ABSOLUTE/PATH";
	return strlen(v + 5) < sizeof ((struct sockaddr_un *)0)->sun_path ? NULL : "is a unix socket path over 107 bytes";
}

/* Empty, or an absolute path. */
static const char *check_opt_path(const char *v)
{
	return !*v || v[0] == '/' ? NULL : "is not an absolute path";
}

/* Exception lists: entries separated by commas or blanks, each
 * "user@domain", "domain" or ".domain"; a domain of dot-separated labels of
 * letters, digits and hyphens.  A message never names its own path here, so
 * this is about catching typos that would silently match nothing. */
static const char *check_addr_list(const char *v)
{
	char **items = g_strsplit_set(v, ", \t", -1);
	const char *why = NULL;
	for (char **it = items; *it && !why; it++) {
		const char *e = *it;
		if (!*e)
			continue;
		const char *at = strrchr(e, '@');
		if (at && (at == e || strchr(e, '@') != at))
			why = "has an entry that is not user@domain, domain or .domain";
		const char *d = at ? at + 1 : e[0] == '.' ? e + 1 : e;
		bool label_start = true;
		if (!why && (!*d || d[strlen(d) - 1] == '.'))
			why = "has an entry with an empty domain";
		for (const char *p = d; *p && !why; p++) {
			if (*p == '.') {
				if (label_start)
					why = "has an entry with an empty domain label";
				label_start = true;
			} else if (g_ascii_isalnum(*p) || (*p == '-' && !label_start)) {
				label_start = false;
			} else {
				why = "has an entry with a character a domain cannot hold";
			}
		}
	}
	g_strfreev(items);
	return why;
}

/* ---- values ---- */

/* Leading decimal digits of S into *OUT.  Returns digits used (0 = none);
 * *OVER is set if the number does not fit. */
static size_t parse_digits(const char *s, int64_t *out, bool *over)
{
	int64_t v = 0;
	size_t i;

	*over = false;
	for (i = 0; g_ascii_isdigit(s[i]); i++) {
		int d = s[i] - '0';
		if (v > (INT64_MAX - d) / 10)
			*over = true;
		else
			v = v * 10 + d;
	}
	*out = v;
	return i;
}

/* 1M rather than 1048576, when exact. */
static void format_size(char *buf, size_t len, int64_t v)
{
	if (v != 0 && v % GiB == 0)
		snprintf(buf, len, "%" PRId64 "G", v / GiB);
	else if (v != 0 && v % MiB == 0)
		snprintf(buf, len, "%" PRId64 "M", v / MiB);
	else if (v != 0 && v % KiB == 0)
		snprintf(buf, len, "%" PRId64 "K", v / KiB);
	else
		snprintf(buf, len, "%" PRId64, v);
}

static void format_range(char *buf, size_t len, const struct key *k)
{
	char lo[24], hi[24];   /* INT64_MIN and a suffix fit */

	if (k->type == T_SIZE) {
		format_size(lo, sizeof lo, k->min);
		format_size(hi, sizeof hi, k->max);
		snprintf(buf, len, "%s..%s", lo, hi);
	} else {
		snprintf(buf, len, "%" PRId64 "..%" PRId64, k->min, k->max);
	}
}

/* Number with an optional one-letter unit from UNITS (matched ignoring case),
 * each worth the multiplier at the same index in MULT. */
static const char *parse_scaled(const char *s, const char *units, const int64_t *mult,
				int64_t *out, bool *range)
{
	int64_t v, m = 1;
	bool over;
	size_t n = parse_digits(s, &v, &over);
	const char *u;

	if (n == 0)
		return "no number";
	if (s[n]) {
		if (s[n + 1] || !(u = strchr(units, g_ascii_toupper(s[n]))))
			return "bad unit";
		m = mult[u - units];
	}
	if (over || v > INT64_MAX / m)
		*range = true;
	else
		*out = v * m;
	return NULL;
}

/* Parse VALUE (one pair of quotes already stripped) for K into CFG; on error
 * write "'VALUE' problem" into WHY and return -1. */
static int key_set(const struct key *k, mugai_config *cfg, const char *value,
		   char *why, size_t whylen)
{
	static const int64_t size_mult[] = { KiB, MiB, GiB };
	static const int64_t time_mult[] = { 1, 60, 3600 };
	int64_t v = 0;
	bool range = false;
	char r[64];

	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, whylen, "value contains a control character");
			return -1;
		}
	}

	switch (k->type) {
	case T_PATH:
		if (value[0] != '/') {
			snprintf(why, whylen, "'%s' is not an absolute path", value);
			return -1;
		}
		/* fall through */
	case T_STRING:
		if (k->check) {
			const char *bad = k->check(value);
			if (bad) {
				snprintf(why, whylen, "'%s' %s", value, bad);
				return -1;
			}
		}
		g_free(*FIELD(cfg, k, char *));
		*FIELD(cfg, k, char *) = g_strdup(value);
		return 0;

	case T_INT: {
		bool neg = value[0] == '-', over;
		const char *s = value + (neg || value[0] == '+');
		size_t n = parse_digits(s, &v, &over);
		if (n == 0 || s[n]) {
			snprintf(why, whylen, "'%s' is not an integer", value);
			return -1;
		}
		range = over;
		if (neg)
			v = -v;
		break;
	}
	case T_SIZE:
		if (parse_scaled(value, "KMG", size_mult, &v, &range)) {
			snprintf(why, whylen, "'%s' is not a size (bytes, or a number with K, M or G)", value);
			return -1;
		}
		break;
	case T_DURATION:
		if (parse_scaled(value, "SMH", time_mult, &v, &range)) {
			snprintf(why, whylen, "'%s' is not a duration (seconds, or a number with s, m or h)", value);
			return -1;
		}
		break;

	case T_BOOL: {
		static const char *const yes[] = { "yes", "true", "on", "1" };
		static const char *const no[] = { "no", "false", "off", "0" };
		for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
			if (g_ascii_strcasecmp(value, yes[i]) == 0 || g_ascii_strcasecmp(value, no[i]) == 0) {
				*FIELD(cfg, k, bool) = g_ascii_strcasecmp(value, yes[i]) == 0;
				return 0;
			}
		}
		snprintf(why, whylen, "'%s' is not a boolean (yes/no, true/false, on/off, 1/0)", value);
		return -1;
	}
	case T_ENUM: {
		char *list;
		for (int i = 0; k->names[i]; i++) {
			if (g_ascii_strcasecmp(value, k->names[i]) == 0) {
				*FIELD(cfg, k, int) = i;
				return 0;
			}
		}
		list = g_strjoinv(", ", (char **)k->names);
		snprintf(why, whylen, "'%s' is not one of %s", value, list);
		g_free(list);
		return -1;
	}
	}

	if (range || v < k->min || v > k->max) {
		format_range(r, sizeof r, k);
		snprintf(why, whylen, "'%s' is out of range %s", value, r);
		return -1;
	}
	*FIELD(cfg, k, int64_t) = v;
	return 0;
}

/* The value as it would be written back: loading it gives the same value. */
static char *format_value(const struct key *k, const mugai_config *cfg)
{
	char buf[32];

	switch (k->type) {
	case T_STRING:
	case T_PATH: {
		const char *s = *CFIELD(cfg, k, char *);
		size_t n = strlen(s);
		if (n == 0 || s[0] == '"' || g_ascii_isspace(s[0]) || g_ascii_isspace(s[n - 1]))
			return g_strdup_printf("\"%s\"", s);
		return g_strdup(s);
	}
	case T_INT:
	case T_DURATION:
		return g_strdup_printf("%" PRId64, *CFIELD(cfg, k, int64_t));
	case T_SIZE:
		format_size(buf, sizeof buf, *CFIELD(cfg, k, int64_t));
		return g_strdup(buf);
	case T_BOOL:
		return g_strdup(*CFIELD(cfg, k, bool) ? "yes" : "no");
	case T_ENUM:
		return g_strdup(k->names[*CFIELD(cfg, k, int)]);
	}
	g_assert_not_reached();
}

/* ---- lookup ---- */

static const struct key *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool section_known(const char *section, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(keys[i].section) == len && memcmp(keys[i].section, section, len) == 0)
			return true;
	return false;
}

/* ---- loading ---- */

struct parse {
	FILE *fp;
	mugai_config *cfg;
	int line;               /* line the reader last returned */
	int read_errno;         /* errno of a failed read, 0 if none */
	int err_line;           /* first error found by us, 0 if none */
	char msg[512];          /* its text, after "FILE:LINE: " */
	int seen[NKEYS];        /* line each key was set on, 0 if not yet */
};

G_GNUC_PRINTF(2, 3)
static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err_line == 0) {
		va_start(ap, fmt);
		vsnprintf(p->msg, sizeof p->msg, fmt, ap);
		va_end(ap);
		p->err_line = p->line;
	}
	return 0;
}

/* inih's line source: see the top of the file for what it adds. */
static char *reader(char *buf, int num, void *user)
{
	struct parse *p = user;
	size_t len, skip;

	if (p->err_line)
		return NULL;    /* stop at our first error */
	errno = 0;
	if (!fgets(buf, num, p->fp)) {
		if (ferror(p->fp))
			p->read_errno = errno ? errno : EIO;
		return NULL;
	}
	p->line++;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] != '\n' && len == (size_t)num - 1) {
		int c = getc(p->fp);
		if (c != EOF) {
			fail(p, "line too long (limit %d bytes)", num - 2);
			return NULL;
		}
	}
	skip = p->line == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;  /* UTF-8 BOM */
	skip += strspn(buf + skip, " \t");
	memmove(buf, buf + skip, len - skip + 1);
	if (buf[0] == '[') {
		const char *end = strchr(buf, ']');
		if (end && !section_known(buf + 1, (size_t)(end - buf - 1))) {
			fail(p, "%.*s: unknown section", (int)(end - buf + 1), buf);
			return NULL;
		}
	}
	return buf;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	const struct key *k;
	char why[384];
	char *v;
	size_t n, i;
	int r;

	if (!*section)
		return fail(p, "%s: key before any [section]", name);
	if (!section_known(section, strlen(section)))
		return fail(p, "[%s] %s: unknown section", section, name);
	k = key_find(section, name);
	if (!k)
		return fail(p, "[%s] %s: unknown key", section, name);
	i = (size_t)(k - keys);
	if (p->seen[i])
		return fail(p, "[%s] %s: duplicate key (first set on line %d)", section, name, p->seen[i]);
	p->seen[i] = p->line;

	if (!g_utf8_validate(value, -1, NULL))
		return fail(p, "[%s] %s: value is not valid UTF-8 (save the file as UTF-8)", section, name);
	n = strlen(value);
	if (value[0] == '"') {
		if (n < 2 || value[n - 1] != '"')
			return fail(p, "[%s] %s: unterminated quote (a ';' after a blank starts a comment)",
				    section, name);
		v = g_strndup(value + 1, n - 2);
	} else {
		v = g_strdup(value);
	}
	r = key_set(k, p->cfg, v, why, sizeof why);
	g_free(v);
	if (r < 0)
		return fail(p, "[%s] %s: %s", section, name, why);
	return 1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#define CONFIG_MAX (1 << 20)   /* a configuration is a few KiB; refuse absurd files */

/* Could the person behind this run read FD's file by its mode?  Errors
 * quote the file's lines only then: run as root (through sudo, or a
 * service) mugai can open files its caller may not read, and an error
 * must not hand their first line over (/etc/shadow's user names). */
static bool person_may_read(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return false;
	const char *su = getenv("SUDO_UID");
	uid_t person = getuid();
	if (su && *su)
		person = (uid_t)strtoul(su, NULL, 10);
	if (person == 0)
		return true;
	if (st.st_uid == person)
		return (st.st_mode & S_IRUSR) != 0;
	return (st.st_mode & S_IROTH) != 0;
}

/* All of FD (at most CONFIG_MAX bytes) into *BUF, its SHA-256 into HEX. */
static int slurp(int fd, char **buf, size_t *len, char hex[65])
{
	GString *g = g_string_new(NULL);
	char chunk[8192];
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		if (g->len + (size_t)n > CONFIG_MAX) {
			rc = -EFBIG;
			break;
		}
		g_string_append_len(g, chunk, n);
	}
	if (rc < 0) {
		g_string_free(g, TRUE);
		return rc;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (EVP_Digest(g->str, g->len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		g_string_free(g, TRUE);
		return -EIO;
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	*len = g->len;
	*buf = g_string_free(g, FALSE);
	return 0;
}

/* Parse the file open on FD, called NAME in messages, over the defaults. */
static int load_fd(int fd, const char *name, mugai_config **out, char *err, size_t errlen)
{
	struct parse p = { 0 };
	char *buf = NULL, hex[65];
	size_t len = 0;
	int r;

	*out = NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "%s: %s", name, g_strerror(S_ISDIR(st.st_mode) ? EISDIR : errno));
		return -1;
	}
	if ((r = slurp(fd, &buf, &len, hex)) < 0) {
		set_err(err, errlen, "%s: %s", name, r == -EFBIG ? "larger than 1 MiB: not a configuration" : g_strerror(-r));
		return -1;
	}
	bool quote = person_may_read(fd);
	p.cfg = config_defaults();
	r = 0;
	if (len > 0) {   /* fmemopen refuses an empty buffer; an empty file is the defaults */
		p.fp = fmemopen(buf, len, "r");
		if (!p.fp) {
			set_err(err, errlen, "%s: %s", name, g_strerror(errno));
			g_free(buf);
			config_free(p.cfg);
			return -1;
		}
		r = ini_parse_stream(reader, &p, on_pair, &p);
		fclose(p.fp);
	}
	g_free(buf);

	int line = 0;
	const struct key *sock = key_find("milter", "socket");
	if (r == 0 && !p.err_line && !p.read_errno && !p.cfg->milter_allow_remote &&
	    !socket_local(p.cfg->milter_socket)) {
		p.line = p.seen[sock - keys];
		fail(&p, "[milter] socket: '%s' listens beyond loopback, where anyone who reaches the port "
		     "could use the milter: name a loopback host (inet:PORT@127.0.0.1) or set allow_remote = yes",
		     p.cfg->milter_socket);
	}
	if (p.read_errno)
		set_err(err, errlen, "%s: %s", name, g_strerror(p.read_errno));
	else if (r > 0 && (p.err_line == 0 || r < p.err_line))
		set_err(err, errlen, "%s:%d: syntax error (expected [section] or key = value)", name, line = r);
	else if (p.err_line)
		set_err(err, errlen, "%s:%d: %s", name, line = p.err_line, p.msg);
	else if (r < 0)
		set_err(err, errlen, "%s: out of memory", name);
	else {
		g_free(p.cfg->source);
		p.cfg->source = g_strdup(name);
		memcpy(p.cfg->sha256, hex, sizeof hex);
		*out = p.cfg;
		return 0;
	}
	if (line && !quote)
		set_err(err, errlen, "%s:%d: not a line of a mugai configuration (the line is not shown: "
		        "you may not read %s)", name, line, name);
	config_free(p.cfg);
	return -1;
}

int config_load_fd(int fd, const char *name, mugai_config **out, char *err, size_t errlen)
{
	return load_fd(fd, name, out, err, errlen);
}

/* Load PATH over the defaults, its last component never followed if it is
 * a link.  TRUSTED: the directories on the way and the file itself may be
 * changed by root only.  MISSING_OK: a missing file means defaults. */
static int load(const char *path, bool trusted, bool missing_ok, mugai_config **out, char *err, size_t errlen)
{
	char why[512] = "";
	int fd;
	*out = NULL;
	if (trusted) {
		char *abs = g_canonicalize_filename(path, NULL);
		fd = safe_open_file(abs, O_RDONLY, 0, why, sizeof why);
		g_free(abs);
	} else {
		do
			fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		while (fd < 0 && errno == EINTR);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0) {
		if (missing_ok && fd == -ENOENT) {
			*out = config_defaults();
			return 0;
		}
		if (fd == -ELOOP)
			set_err(err, errlen, "%s: is a symbolic link (name the file itself)", path);
		else
			set_err(err, errlen, "%s: %s", path, why[0] ? why : g_strerror(-fd));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (trusted && (st.st_uid != 0 || (st.st_mode & 022))) {
		set_err(err, errlen, "%s: must belong to root and be writable by root only", path);
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	int r = load_fd(fd, path, out, err, errlen);
	close(fd);
	return r;
}

mugai_config *config_defaults(void)
{
	mugai_config *cfg = g_new0(mugai_config, 1);
	char why[384];

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		if (key_set(k, cfg, k->def, why, sizeof why) < 0)
			g_error("config: bad built-in default [%s] %s: %s", k->section, k->name, why);
	}
	cfg->source = g_strdup("(defaults)");
	return cfg;
}

int config_load(const char *path, mugai_config **out, char *err, size_t errlen)
{
	return load(path, false, false, out, err, errlen);
}

int config_load_trusted(const char *path, bool missing_ok, mugai_config **out, char *err, size_t errlen)
{
	return load(path, true, missing_ok, out, err, errlen);
}

int config_load_cli(const char *path_or_null, mugai_config **out, char *err, size_t errlen)
{
	if (path_or_null)
		return load(path_or_null, false, false, out, err, errlen);
	/* the administrators' file: root's, whoever runs this */
	return load(MUGAI_DEFAULT_CONFIG, geteuid() == 0, true, out, err, errlen);
}

mugai_config *config_free(mugai_config *cfg)
{
	if (!cfg)
		return NULL;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == T_STRING || keys[i].type == T_PATH)
			g_free(*FIELD(cfg, &keys[i], char *));
	g_free(cfg->source);
	g_free(cfg);
	return NULL;
}

/* ---- output ---- */

void config_dump(FILE *fp, const mugai_config *cfg)
{
	const char *section = NULL;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		char *v = format_value(k, cfg);
		if (!section || strcmp(section, k->section) != 0) {
			fprintf(fp, "%s[%s]\n", section ? "\n" : "", k->section);
			section = k->section;
		}
		fprintf(fp, "%s = %s\n", k->name, v);
		g_free(v);
	}
}

/* What the type accepts, for the doc comment; NULL if the doc says it all. */
static char *type_hint(const struct key *k)
{
	char r[64];

	format_range(r, sizeof r, k);
	switch (k->type) {
	case T_STRING:
		return NULL;
	case T_PATH:
		return g_strdup("absolute path");
	case T_INT:
		return g_strdup(r);
	case T_SIZE:
		return g_strdup_printf("size %s", r);
	case T_DURATION:
		return g_strdup_printf("seconds %s", r);
	case T_BOOL:
		return g_strdup("yes or no");
	case T_ENUM:
		return g_strjoinv(" | ", (char **)k->names);
	}
	g_assert_not_reached();
}

void config_write_default(FILE *fp)
{
	mugai_config *def = config_defaults();
	const char *section = NULL;

	fprintf(fp,
		"# mugai.conf - configuration of the mugai mail-sanitizing milter.\n"
		"#\n"
		"# Every key is listed below, commented out at its built-in default; remove\n"
		"# the '#' to change one.  An unknown section or key, a value of the wrong\n"
		"# type or out of range, or a key given twice is an error naming the file,\n"
		"# line and key, and mugai will not start.  Check with: mugai check-config\n"
		"#\n"
		"# Syntax: '[section]' lines, then 'key = value' lines.  A line starting with\n"
		"# '#' or ';' is a comment.  A ';' after a blank also starts a comment, even\n"
		"# inside quotes, so a value cannot contain \" ;\".  '#' after a value is not a\n"
		"# comment.  A value may be enclosed in one pair of double quotes, which are\n"
		"# removed (write \"\" for an empty value, quotes to keep outer blanks).  The\n"
		"# file is UTF-8; a line may be at most %d bytes.  Sizes are bytes or a number\n"
		"# with K, M or G (1K = 1024); times are seconds or a number with s, m or h.\n",
		INI_MAX_LINE - 2);

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		char *v = format_value(k, def);
		char *hint = type_hint(k);
		if (!section || strcmp(section, k->section) != 0) {
			fprintf(fp, "\n[%s]\n", k->section);
			section = k->section;
		} else {
			fputc('\n', fp);
		}
		if (hint)
			fprintf(fp, "# %s (%s)\n", k->doc, hint);
		else
			fprintf(fp, "# %s\n", k->doc);
		fprintf(fp, "#%s = %s\n", k->name, v);
		g_free(hint);
		g_free(v);
	}
	config_free(def);
}
