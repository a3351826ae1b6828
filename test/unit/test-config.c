/* test-config.c - the config loader: every type, every error, exact messages.
 *
 * Each case is written to a temp file and loaded.  A good case lists lines
 * that must appear in config_dump output (which prints values canonically:
 * sizes with the largest exact suffix, durations in seconds).  A bad case
 * gives the whole error message after the file name.  Also checked: the
 * defaults, missing files, and that config/mugai.conf is exactly
 * config_write_default output and loads to the defaults.
 */
#include "test/unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "config/config.h"

#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X184 X100 X10 X10 X10 X10 X10 X10 X10 X10 "xxxx"   /* "subject_tag = " + 184 = 198 */

static const struct tcase {
	const char *name;
	const char *ini;
	bool ok;
	const char *want;   /* ok: dump lines, '\n'-separated; else: error after FILE */
} cases[] = {
	/* defaults and layout */
	{ "empty file", "", true,
	  "socket = unix:/var/spool/postfix/mugai/mugai.sock\nworkers = 4\nlinks = defang\nsyslog = yes" },
	{ "comments and bare sections", "# c\n; c\n[milter]\n\n[audit]\n", true, "workers = 4" },
	{ "section given twice", "[milter]\nworkers = 3\n[limits]\nparts = 9\n[milter]\ngroup = mail\n", true,
	  "workers = 3\nparts = 9\ngroup = mail" },
	{ "indented keys are keys, not continuations", "[milter]\n  workers = 3\n\tgroup = mail\n", true,
	  "workers = 3\ngroup = mail" },
	{ "CRLF line ends", "[milter]\r\nworkers = 5\r\n", true, "workers = 5" },
	{ "UTF-8 BOM", "\xEF\xBB\xBF[milter]\nworkers = 6\n", true, "workers = 6" },
	{ "UTF-8 BOM, unknown section", "\xEF\xBB\xBF[detektor]\n", false, ":1: [detektor]: unknown section" },
	{ "no newline at end", "[milter]\nworkers = 7", true, "workers = 7" },
	{ "no blanks around =", "[milter]\nworkers=8\n", true, "workers = 8" },

	/* int64 */
	{ "int min", "[milter]\nworkers = 1\n", true, "workers = 1" },
	{ "int max", "[milter]\nworkers = 64\n", true, "workers = 64" },
	{ "int plus sign", "[limits]\nparts = +100000\n", true, "parts = 100000" },
	{ "int bad", "[milter]\nworkers = two\n", false, ":2: [milter] workers: 'two' is not an integer" },
	{ "int trailing #", "[milter]\nworkers = 4 # four\n", false,
	  ":2: [milter] workers: '4 # four' is not an integer" },
	{ "int empty", "[milter]\nworkers =\n", false, ":2: [milter] workers: '' is not an integer" },
	{ "int over max", "[milter]\nworkers = 65\n", false, ":2: [milter] workers: '65' is out of range 1..64" },
	{ "int under min", "[milter]\nworkers = 0\n", false, ":2: [milter] workers: '0' is out of range 1..64" },
	{ "int negative", "[milter]\nworkers = -1\n", false, ":2: [milter] workers: '-1' is out of range 1..64" },
	{ "int overflow", "[milter]\nworkers = 99999999999999999999\n", false,
	  ":2: [milter] workers: '99999999999999999999' is out of range 1..64" },

	/* size */
	{ "size bytes", "[limits]\nmessage_size = 1048576\n", true, "message_size = 1M" },
	{ "size odd bytes", "[limits]\nheader_bytes = 1536\n", true, "header_bytes = 1536" },
	{ "size K lower case", "[limits]\nheader_bytes = 3k\n", true, "header_bytes = 3K" },
	{ "size 1024K is 1M", "[limits]\ntext_size = 1024K\n", true, "text_size = 1M" },
	{ "size G", "[limits]\ndecoded_size = 16G\n", true, "decoded_size = 16G" },
	{ "size zero", "[milter]\nspool_memory = 0\n", true, "spool_memory = 0" },
	{ "size bounds", "[limits]\nmessage_size = 2G\nheader_bytes = 1K\n", true,
	  "message_size = 2G\nheader_bytes = 1K" },
	{ "size bad unit", "[limits]\nmessage_size = 10X\n", false,
	  ":2: [limits] message_size: '10X' is not a size (bytes, or a number with K, M or G)" },
	{ "size MB", "[limits]\nmessage_size = 10MB\n", false,
	  ":2: [limits] message_size: '10MB' is not a size (bytes, or a number with K, M or G)" },
	{ "size unit only", "[limits]\nmessage_size = M\n", false,
	  ":2: [limits] message_size: 'M' is not a size (bytes, or a number with K, M or G)" },
	{ "size negative", "[limits]\nmessage_size = -1\n", false,
	  ":2: [limits] message_size: '-1' is not a size (bytes, or a number with K, M or G)" },
	{ "size over max", "[limits]\nmessage_size = 3G\n", false,
	  ":2: [limits] message_size: '3G' is out of range 1K..2G" },
	{ "size under min", "[limits]\nmessage_size = 1023\n", false,
	  ":2: [limits] message_size: '1023' is out of range 1K..2G" },
	{ "size overflow by unit", "[limits]\nmessage_size = 8589934592G\n", false,
	  ":2: [limits] message_size: '8589934592G' is out of range 1K..2G" },

	/* duration */
	{ "duration plain", "[limits]\ntime = 30\n", true, "time = 30" },
	{ "duration s m h", "[milter]\nmessage_timeout = 1h\n[limits]\ntime = 2m\n", true,
	  "message_timeout = 3600\ntime = 120" },
	{ "duration s", "[limits]\ntime = 45S\n", true, "time = 45" },
	{ "duration bad unit", "[limits]\ntime = 5d\n", false,
	  ":2: [limits] time: '5d' is not a duration (seconds, or a number with s, m or h)" },
	{ "duration over max", "[limits]\ntime = 2h\n", false, ":2: [limits] time: '2h' is out of range 1..3600" },
	{ "duration under min", "[milter]\nmessage_timeout = 4s\n", false,
	  ":2: [milter] message_timeout: '4s' is out of range 5..3600" },

	/* bool */
	{ "bool no", "[audit]\nsyslog = no\n", true, "syslog = no" },
	{ "bool OFF", "[audit]\nsyslog = OFF\n", true, "syslog = no" },
	{ "bool false", "[audit]\nsyslog = false\n", true, "syslog = no" },
	{ "bool 0", "[audit]\nsyslog = 0\n", true, "syslog = no" },
	{ "bool on", "[audit]\nsyslog = on\n", true, "syslog = yes" },
	{ "bool True", "[audit]\nsyslog = True\n", true, "syslog = yes" },
	{ "bool 1", "[audit]\nsyslog = 1\n", true, "syslog = yes" },
	{ "bool bad", "[audit]\nsyslog = maybe\n", false,
	  ":2: [audit] syslog: 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0)" },

	/* enum */
	{ "enum show", "[sanitize]\nlinks = show\n", true, "links = show" },
	{ "enum remove", "[sanitize]\nlinks = remove\n", true, "links = remove" },
	{ "enum case", "[sanitize]\nlinks = Defang\n", true, "links = defang" },
	{ "enum qp", "[sanitize]\ntransfer_encoding = quoted-printable\n", true,
	  "transfer_encoding = quoted-printable" },
	{ "enum bad", "[sanitize]\nlinks = strip\n", false,
	  ":2: [sanitize] links: 'strip' is not one of show, defang, remove" },
	{ "enum bad cte", "[sanitize]\ntransfer_encoding = 8bit\n", false,
	  ":2: [sanitize] transfer_encoding: '8bit' is not one of base64, quoted-printable" },

	/* strings, quotes, UTF-8, comments */
	{ "quoted string", "[sanitize]\nsubject_tag = \"[SANITIZED]\"\n", true, "subject_tag = [SANITIZED]" },
	{ "quotes keep outer blank", "[sanitize]\nsubject_tag = \"[外部] \"\n", true, "subject_tag = \"[外部] \"" },
	{ "only one pair stripped", "[sanitize]\nsubject_tag = \"\"x\"\"\n", true, "subject_tag = \"\"x\"\"" },
	{ "empty quoted", "[milter]\nuser = \"\"\n", true, "user = \"\"" },
	{ "empty unquoted", "[milter]\ngroup =\n", true, "group = \"\"" },
	{ "quoted int", "[milter]\nworkers = \"9\"\n", true, "workers = 9" },
	{ "Japanese value", "[sanitize]\nnotice_contact = 総務部 情報政策課（内線 1234）\n", true,
	  "notice_contact = 総務部 情報政策課（内線 1234）" },
	{ "Japanese quoted", "[sanitize]\nnotice_contact = \"情報システム課\"\n", true,
	  "notice_contact = 情報システム課" },
	{ "inline comment", "[milter]\nworkers = 4 ; four workers\n", true, "workers = 4" },
	{ "; without blank is data", "[sanitize]\nsubject_tag = [外部;注意]\n", true,
	  "subject_tag = [外部;注意]" },
	{ "; after blank cuts a quoted value", "[sanitize]\nnotice_contact = \"総務課 ; 内線 100\"\n", false,
	  ":2: [sanitize] notice_contact: unterminated quote (a ';' after a blank starts a comment)" },
	{ "lone quote", "[sanitize]\nsubject_tag = \"\n", false,
	  ":2: [sanitize] subject_tag: unterminated quote (a ';' after a blank starts a comment)" },
	{ "Shift_JIS value", "[sanitize]\nnotice_contact = \x91\x8d\x96\xb1\n", false,
	  ":2: [sanitize] notice_contact: value is not valid UTF-8 (save the file as UTF-8)" },
	{ "control character", "[sanitize]\nsubject_tag = a\tb\n", false,
	  ":2: [sanitize] subject_tag: value contains a control character" },
	{ "longest line", "[sanitize]\nsubject_tag = " X184 "\n", true, "subject_tag = " X184 },
	{ "line too long", "[sanitize]\nsubject_tag = " X184 "x\n", false, ":2: line too long (limit 198 bytes)" },

	/* paths */
	{ "path", "[quarantine]\ndir = /srv/mugai/q\n", true, "dir = /srv/mugai/q" },
	{ "path relative", "[quarantine]\ndir = var/q\n", false, ":2: [quarantine] dir: 'var/q' is not an absolute path" },
	{ "path empty", "[audit]\nlog = \"\"\n", false, ":2: [audit] log: '' is not an absolute path" },

	/* validators */
	{ "socket inet", "[milter]\nsocket = inet:10025@127.0.0.1\n", true, "socket = inet:10025@127.0.0.1" },
	{ "socket inet no host: every interface, refused", "[milter]\nsocket = inet:10025\n", false,
	  ":2: [milter] socket: 'inet:10025' listens beyond loopback, where anyone who reaches the port could use "
	  "the milter: name a loopback host (inet:PORT@127.0.0.1) or set allow_remote = yes" },
	{ "socket inet, another host: refused", "[milter]\nworkers = 2\nsocket = inet:10025@192.0.2.1\n", false,
	  ":3: [milter] socket: 'inet:10025@192.0.2.1' listens beyond loopback, where anyone who reaches the port "
	  "could use the milter: name a loopback host (inet:PORT@127.0.0.1) or set allow_remote = yes" },
	{ "socket inet 127.0.0.2", "[milter]\nsocket = inet:10025@127.0.0.2\n", true, "socket = inet:10025@127.0.0.2" },
	{ "socket inet localhost", "[milter]\nsocket = inet:10025@localhost\n", true, "socket = inet:10025@localhost" },
	{ "socket inet 128.0.0.1 is not loopback", "[milter]\nsocket = inet:10025@128.0.0.1\n", false,
	  ":2: [milter] socket: 'inet:10025@128.0.0.1' listens beyond loopback, where anyone who reaches the port "
	  "could use the milter: name a loopback host (inet:PORT@127.0.0.1) or set allow_remote = yes" },
	{ "socket inet no host with allow_remote", "[milter]\nsocket = inet:10025\nallow_remote = yes\n", true,
	  "socket = inet:10025\nallow_remote = yes" },
	{ "socket inet6", "[milter]\nsocket = inet6:10025@::1\n", true, "socket = inet6:10025@::1" },
	{ "worker_sandbox", "[milter]\nworker_sandbox = namespaces\n", true, "worker_sandbox = namespaces" },
	{ "worker_sandbox bad", "[milter]\nworker_sandbox = chroot\n", false,
	  ":2: [milter] worker_sandbox: 'chroot' is not one of auto, landlock, namespaces, off" },
	{ "review_dir relative", "[quarantine]\nreview_dir = review\n", false,
	  ":2: [quarantine] review_dir: 'review' is not an absolute path" },
	{ "approval_expiry", "[quarantine]\napproval_expiry = 2h\n", true, "approval_expiry = 7200" },
	{ "socket bare path", "[milter]\nsocket = /run/mugai.sock\n", false,
	  ":2: [milter] socket: '/run/mugai.sock' is not unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST" },
	{ "socket unix relative", "[milter]\nsocket = unix:mugai.sock\n", false,
	  ":2: [milter] socket: 'unix:mugai.sock' is not unix:/ABSOLUTE/PATH" },
	{ "socket port 0", "[milter]\nsocket = inet:0@localhost\n", false,
	  ":2: [milter] socket: 'inet:0@localhost' has no port 1..65535 (inet:PORT@HOST)" },
	{ "socket empty host", "[milter]\nsocket = inet:25@\n", false,
	  ":2: [milter] socket: 'inet:25@' has no valid host after '@'" },
	{ "smtp host name", "[release]\nsmtp = relay.city.example.lg.jp:25\n", true,
	  "smtp = relay.city.example.lg.jp:25" },
	{ "smtp IPv6", "[release]\nsmtp = [::1]:10026\n", true, "smtp = [::1]:10026" },
	{ "smtp no port", "[release]\nsmtp = localhost\n", false, ":2: [release] smtp: 'localhost' is not HOST:PORT" },
	{ "smtp port range", "[release]\nsmtp = 127.0.0.1:70000\n", false,
	  ":2: [release] smtp: '127.0.0.1:70000' has no port 1..65535" },
	{ "smtp bare IPv6", "[release]\nsmtp = ::1:25\n", false,
	  ":2: [release] smtp: '::1:25' has an IPv6 address without brackets ([IPV6]:PORT)" },
	{ "smtp bad brackets", "[release]\nsmtp = [::1]25\n", false, ":2: [release] smtp: '[::1]25' is not [IPV6]:PORT" },

	/* structure errors */
	{ "unknown section", "[detektor]\nclamd = unix:/run/clamd.sock\n", false, ":1: [detektor]: unknown section" },
	{ "unknown empty section", "[milter]\nworkers = 2\n[santize]\n", false, ":3: [santize]: unknown section" },
	{ "unknown key", "[milter]\nworkerz = 2\n", false, ":2: [milter] workerz: unknown key" },
	{ "key in wrong section", "[limits]\nworkers = 2\n", false, ":2: [limits] workers: unknown key" },
	{ "key case matters", "[milter]\nWorkers = 2\n", false, ":2: [milter] Workers: unknown key" },
	{ "key before section", "workers = 2\n", false, ":1: workers: key before any [section]" },
	{ "duplicate key", "[milter]\nworkers = 2\n\nworkers = 3\n", false,
	  ":4: [milter] workers: duplicate key (first set on line 2)" },
	{ "duplicate across sections", "[milter]\nworkers = 2\n[audit]\nsyslog = no\n[milter]\nworkers = 3\n", false,
	  ":6: [milter] workers: duplicate key (first set on line 2)" },
	{ "indented line is not a continuation", "[milter]\nworkers = 2\n  workers = 3\n", false,
	  ":3: [milter] workers: duplicate key (first set on line 2)" },
	{ "on_suspect discard", "[policy]\non_suspect = discard\n", true, "on_suspect = discard" },
	{ "exception lists", "[policy]\ndeliver_suspect_from = partner.example.co.jp, .lg.jp tanaka@example.com\n", true,
	  "deliver_suspect_from = partner.example.co.jp, .lg.jp tanaka@example.com" },
	{ "exception list empty entries", "[policy]\nreject_suspect_to = ,a.example,,\n", true, "reject_suspect_to = ,a.example,," },
	{ "exception list bad char", "[policy]\nreject_suspect_from = exa_mple.jp\n", false,
	  ":2: [policy] reject_suspect_from: 'exa_mple.jp' has an entry with a character a domain cannot hold" },
	{ "exception list two @", "[policy]\ndiscard_suspect_to = a@b@c.jp\n", false,
	  ":2: [policy] discard_suspect_to: 'a@b@c.jp' has an entry that is not user@domain, domain or .domain" },
	{ "exception list no local part", "[policy]\ndiscard_suspect_from = @c.jp\n", false,
	  ":2: [policy] discard_suspect_from: '@c.jp' has an entry that is not user@domain, domain or .domain" },
	{ "exception list empty label", "[policy]\ndeliver_suspect_to = a..jp\n", false,
	  ":2: [policy] deliver_suspect_to: 'a..jp' has an entry with an empty domain label" },
	{ "exception list trailing dot", "[policy]\ndeliver_suspect_to = x@a.jp.\n", false,
	  ":2: [policy] deliver_suspect_to: 'x@a.jp.' has an entry with an empty domain" },
	{ "exception list hyphen first", "[policy]\ndeliver_suspect_to = -a.jp\n", false,
	  ":2: [policy] deliver_suspect_to: '-a.jp' has an entry with a character a domain cannot hold" },
	{ "syntax error", "[milter]\nworkers\n", false, ":2: syntax error (expected [section] or key = value)" },
	{ "unclosed section", "[milter\nworkers = 2\n", false, ":1: syntax error (expected [section] or key = value)" },
	{ "first error wins: syntax", "[milter]\nbogus line\nworkerz = 1\n", false,
	  ":2: syntax error (expected [section] or key = value)" },
	{ "first error wins: key", "[milter]\nworkerz = 1\nbogus line\n", false, ":2: [milter] workerz: unknown key" },
};

static char *write_tmp(const char *text)
{
	GError *gerr = NULL;
	char *path = NULL;
	int fd = g_file_open_tmp("mugai-test-config-XXXXXX.conf", &path, &gerr);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		fprintf(stderr, "cannot write temp file: %s\n", gerr ? gerr->message : g_strerror(errno));
		exit(99);
	}
	close(fd);
	return path;
}

static char *dump_str(const mugai_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	config_dump(fp, cfg);
	fclose(fp);
	return buf;
}

/* Every '\n'-separated line of WANT is a whole line of DUMP. */
static bool dump_has(const char *dump, const char *want, char **missing)
{
	char *hay = g_strconcat("\n", dump, NULL);
	char **lines = g_strsplit(want, "\n", -1);
	bool ok = true;

	for (char **l = lines; *l && ok; l++) {
		char *needle = g_strconcat("\n", *l, "\n", NULL);
		if (!strstr(hay, needle)) {
			ok = false;
			*missing = g_strdup(*l);
		}
		g_free(needle);
	}
	g_strfreev(lines);
	g_free(hay);
	return ok;
}

static void test_cases(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct tcase *c = &cases[i];
		char *path = write_tmp(c->ini);
		mugai_config *cfg = (mugai_config *)1;
		char err[512] = "";
		int r = config_load(path, &cfg, err, sizeof err);

		if (c->ok) {
			char *missing = NULL, *dump = NULL;
			TAP_OK(r == 0 && cfg, "%s: loads%s%s", c->name, *err ? ": " : "", err);
			if (r == 0 && cfg) {
				dump = dump_str(cfg);
				bool has = dump_has(dump, c->want, &missing);
			TAP_OK(has, "%s: dump has %s", c->name, missing ? missing : "every wanted line");
				TAP_STREQ(cfg->source, path, "%s: source is the file", c->name);
			}
			g_free(missing);
			free(dump);
		} else {
			char *want = g_strconcat(path, c->want, NULL);
			TAP_OK(r == -1 && cfg == NULL, "%s: rejected", c->name);
			TAP_STREQ(err, want, "%s: message", c->name);
			g_free(want);
		}
		cfg = config_free(r == 0 ? cfg : NULL);
		unlink(path);
		g_free(path);
	}
}

static void test_defaults(void)
{
	mugai_config *d = config_defaults();

	TAP_STREQ(d->milter_socket, "unix:/var/spool/postfix/mugai/mugai.sock", "default socket");
	TAP_STREQ(d->milter_user, "mugai", "default user");
	TAP_STREQ(d->milter_group, "postfix", "default group");
	TAP_OK(d->worker_sandbox == MUGAI_SANDBOX_AUTO, "default worker_sandbox");
	TAP_OK(!d->milter_allow_root && !d->milter_allow_remote, "default: neither root nor a remote socket");
	TAP_STREQ(d->quarantine_review_dir, "", "default review_dir: beside the quarantine");
	TAP_OK(d->quarantine_approval_expiry == 24 * 3600, "default approval_expiry");
	TAP_STREQ(d->audit_admin_log, "/var/log/mugai-admin.log", "default admin_log");
	TAP_OK(d->milter_workers == 4, "default workers");
	TAP_OK(d->milter_timeout == 240, "default message_timeout");
	TAP_OK(d->milter_spool_memory == 1 << 20, "default spool_memory");
	TAP_STREQ(d->milter_spool_dir, "/var/spool/mugai", "default spool_dir");
	TAP_OK(d->max_message_size == 50 << 20, "default message_size");
	TAP_OK(d->max_header_bytes == 256 << 10, "default header_bytes");
	TAP_OK(d->max_depth == 20, "default mime_depth");
	TAP_OK(d->max_parts == 500, "default parts");
	TAP_OK(d->max_decoded_size == 200 << 20, "default decoded_size");
	TAP_OK(d->max_text_size == 8 << 20, "default text_size");
	TAP_OK(d->max_time == 60, "default time");
	TAP_OK(d->links == MUGAI_LINKS_DEFANG, "default links");
	TAP_OK(d->transfer_encoding == MUGAI_CTE_BASE64, "default transfer_encoding");
	TAP_STREQ(d->subject_tag, "", "default subject_tag");
	TAP_STREQ(d->notice_contact, "システム管理者", "default notice_contact");
	TAP_STREQ(d->notice_contact_en, "your system administrator", "default notice_contact_en");
	TAP_STREQ(d->quarantine_dir, "/var/lib/mugai/quarantine", "default quarantine dir");
	TAP_OK(d->quarantine_retention_days == 90, "default retention_days");
	TAP_STREQ(d->audit_log, "/var/log/mugai/audit.log", "default audit log");
	TAP_OK(d->audit_syslog, "default syslog");
	TAP_STREQ(d->release_smtp, "unix:/var/spool/postfix/private/mugai-release", "default release smtp");
	TAP_STREQ(d->source, "(defaults)", "default source");
	d = config_free(d);
	TAP_OK(d == NULL, "config_free returns NULL");
	d = config_free(NULL);
	TAP_OK(d == NULL, "config_free(NULL)");
}

static void test_files(void)
{
	static const char missing[] = "/nonexistent/mugai-test.conf";
	mugai_config *cfg = (mugai_config *)1;
	char err[512] = "", small[16];
	int r;

	/* TAP_OK evaluates its condition twice: no calls inside it. */
	r = config_load(missing, &cfg, err, sizeof err);
	TAP_OK(r == -1 && cfg == NULL, "missing file rejected");
	TAP_STREQ(err, "/nonexistent/mugai-test.conf: No such file or directory", "missing file message");
	cfg = (mugai_config *)1;
	r = config_load_cli(missing, &cfg, err, sizeof err);
	TAP_OK(r == -1 && cfg == NULL, "missing explicit file rejected by the CLI rule");
	TAP_STREQ(err, "/nonexistent/mugai-test.conf: No such file or directory", "CLI missing file message");
	r = config_load("/", &cfg, err, sizeof err);
	TAP_OK(r == -1 && cfg == NULL, "directory rejected");
	TAP_STREQ(err, "/: Is a directory", "directory message");
	r = config_load(missing, &cfg, small, sizeof small);
	TAP_OK(r == -1 && strlen(small) == sizeof small - 1, "message truncated to the buffer");
	r = config_load(missing, &cfg, NULL, 0);
	TAP_OK(r == -1, "NULL err buffer");

	if (access(MUGAI_DEFAULT_CONFIG, F_OK) != 0 && errno == ENOENT) {
		r = config_load_cli(NULL, &cfg, err, sizeof err);
		TAP_OK(r == 0 && cfg, "no default file: defaults");
		TAP_STREQ(cfg ? cfg->source : NULL, "(defaults)", "no default file: source");
		cfg = config_free(cfg);
	} else {
		TAP_OK(1, "# SKIP %s exists", MUGAI_DEFAULT_CONFIG);
	}
}

static void test_shipped_conf(void)
{
	const char *srcdir = getenv("MUGAI_SRCDIR") ? getenv("MUGAI_SRCDIR") : ".";
	char *path = g_build_filename(srcdir, "config", "mugai.conf", NULL);
	char *want = NULL, *got = NULL, *dump = NULL, *ddump;
	size_t gotlen = 0;
	FILE *fp = open_memstream(&got, &gotlen);
	mugai_config *cfg = NULL, *def = config_defaults();
	char err[512] = "";

	config_write_default(fp);
	fclose(fp);
	bool read_ok = g_file_get_contents(path, &want, NULL, NULL);
	int r;

	TAP_OK(read_ok, "read %s", path);
	TAP_STREQ(got, want, "config/mugai.conf is config_write_default output");

	r = config_load(path, &cfg, err, sizeof err);
	TAP_OK(r == 0, "config/mugai.conf loads%s%s", *err ? ": " : "", err);
	ddump = dump_str(def);
	if (cfg)
		dump = dump_str(cfg);
	TAP_STREQ(dump, ddump, "config/mugai.conf gives the defaults");

	/* The dump is itself a config file giving the same values. */
	{
		char *tmp = write_tmp(ddump);
		mugai_config *again = NULL;
		char *redump = NULL;
		r = config_load(tmp, &again, err, sizeof err);
		TAP_OK(r == 0, "dump output loads");
		if (again)
			redump = dump_str(again);
		TAP_STREQ(redump, ddump, "dump output round-trips");
		free(redump);
		config_free(again);
		unlink(tmp);
		g_free(tmp);
	}

	free(dump);
	free(ddump);
	free(got);
	g_free(want);
	g_free(path);
	config_free(cfg);
	config_free(def);
}

/* How a file is opened: never through a link, never a FIFO, its bytes
 * hashed, the trusted rule for root's policy file, and no line of a file
 * the person may not read in an error. */
static void test_open_rules(void)
{
	char tmpl[] = "/tmp/mugai-test-config-open-XXXXXX";
	const char *dir = g_mkdtemp(tmpl);
	char err[512] = "";
	mugai_config *cfg = NULL;
	int r;
	char *conf = g_build_filename(dir, "a.conf", NULL);
	char *link = g_build_filename(dir, "link.conf", NULL);
	char *fifo = g_build_filename(dir, "fifo.conf", NULL);
	static const char text[] = "[milter]\nworkers = 3\n";
	g_file_set_contents(conf, text, -1, NULL);
	if (symlink(conf, link) < 0 || mkfifo(fifo, 0600) < 0) {
		fprintf(stderr, "cannot set up %s\n", dir);
		exit(99);
	}

	r = config_load(conf, &cfg, err, sizeof err);
	TAP_OK(r == 0 && cfg && cfg->milter_workers == 3, "a file loads");
	char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
	TAP_STREQ(cfg ? cfg->sha256 : NULL, sum, "its SHA-256 is of the bytes read");
	g_free(sum);
	cfg = config_free(cfg);
	r = config_load(link, &cfg, err, sizeof err);
	char *want = g_strdup_printf("%s: is a symbolic link (name the file itself)", link);
	TAP_OK(r == -1 && !cfg, "a symbolic link is not followed");
	TAP_STREQ(err, want, "symbolic link: message");
	g_free(want);
	r = config_load(fifo, &cfg, err, sizeof err);   /* would hang without O_NONBLOCK */
	want = g_strdup_printf("%s: not a regular file", fifo);
	TAP_OK(r == -1 && !cfg, "a FIFO is refused, at once");
	TAP_STREQ(err, want, "FIFO: message");
	g_free(want);
	int fd = open(conf, O_RDONLY);
	r = config_load_fd(fd, "(fd)", &cfg, err, sizeof err);
	close(fd);
	TAP_OK(r == 0 && cfg && cfg->milter_workers == 3 && strcmp(cfg->source, "(fd)") == 0, "config_load_fd");
	cfg = config_free(cfg);
	char *empty = g_build_filename(dir, "empty.conf", NULL);
	g_file_set_contents(empty, "", 0, NULL);
	r = config_load(empty, &cfg, err, sizeof err);
	TAP_OK(r == 0 && cfg && cfg->quarantine_release_approvals == 1, "an empty file gives the defaults");
	TAP_STREQ(cfg ? cfg->sha256 : NULL, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	          "an empty file's SHA-256");
	cfg = config_free(cfg);

	/* root's policy file: trusted directories, root's file, no one else may write */
	if (geteuid() == 0) {
		r = config_load_trusted(conf, false, &cfg, err, sizeof err);
		TAP_OK(r == 0 && cfg, "trusted: root's file in root's directories loads%s%s", *err ? ": " : "", err);
		cfg = config_free(cfg);
		r = config_load_trusted(link, false, &cfg, err, sizeof err);
		TAP_OK(r == -1 && !cfg && strstr(err, "symbolic link"), "trusted: a link refused (%s)", err);
		chmod(conf, 0620);
		r = config_load_trusted(conf, false, &cfg, err, sizeof err);
		want = g_strdup_printf("%s: must belong to root and be writable by root only", conf);
		TAP_OK(r == -1 && !cfg, "trusted: a group-writable file is refused");
		TAP_STREQ(err, want, "trusted: group-writable message");
		g_free(want);
		chmod(conf, 0600);
		if (chown(conf, 65534, 65534) == 0) {
			r = config_load_trusted(conf, false, &cfg, err, sizeof err);
			TAP_OK(r == -1 && !cfg && strstr(err, "must belong to root"), "trusted: another user's file is refused");
			if (chown(conf, 0, 0) < 0)
				exit(99);
		}
		chmod(dir, 0777);
		r = config_load_trusted(conf, false, &cfg, err, sizeof err);
		want = g_strdup_printf("%s: %s may be changed by group or others (mode 0777)", conf, dir);
		TAP_OK(r == -1 && !cfg, "trusted: a file in a directory others may write is refused");
		TAP_STREQ(err, want, "trusted: the directory is named");
		g_free(want);
		chmod(dir, 0700);
		char *none = g_build_filename(dir, "none.conf", NULL);
		r = config_load_trusted(none, true, &cfg, err, sizeof err);
		TAP_OK(r == 0 && cfg && strcmp(cfg->source, "(defaults)") == 0, "trusted, missing allowed: defaults");
		cfg = config_free(cfg);
		g_free(none);

		/* a file the person may not read: its line is not quoted */
		char *secret = g_build_filename(dir, "shadow", NULL);
		g_file_set_contents(secret, "root:$y$j9T$secret:19000:0:99999:7:::\n", -1, NULL);
		chmod(secret, 0600);
		g_setenv("SUDO_UID", "65534", TRUE);
		r = config_load(secret, &cfg, err, sizeof err);
		want = g_strdup_printf("%s:1: not a line of a mugai configuration (the line is not shown: you may not read %s)",
		                       secret, secret);
		TAP_OK(r == -1 && !strstr(err, "root:") && !strstr(err, "secret:") && !strstr(err, "$y$"),
		       "an unreadable file's line is not in the error");
		TAP_STREQ(err, want, "unreadable file: message");
		g_free(want);
		g_unsetenv("SUDO_UID");
		r = config_load(secret, &cfg, err, sizeof err);
		want = g_strdup_printf("%s:1: root: key before any [section]", secret);
		TAP_STREQ(err, want, "root itself is shown the line's key");
		g_free(want);
		unlink(secret);
		g_free(secret);
	} else {
		for (int i = 0; i < 12; i++)
			TAP_OK(1, "# SKIP trusted rules need root");
	}
	unlink(conf);
	unlink(link);
	unlink(fifo);
	unlink(empty);
	rmdir(dir);
	g_free(conf);
	g_free(link);
	g_free(fifo);
	g_free(empty);
}

int main(void)
{
	test_defaults();
	test_cases();
	test_files();
	test_open_rules();
	test_shipped_conf();
	return tap_done();
}
