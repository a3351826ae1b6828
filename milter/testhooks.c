/* testhooks.c - the faults test/milter.py and test/security.py inject
 * (testhooks.h); built only with meson -Dtest_hooks=true.
 *
 * The milter claims a fault and sends it with the job, so that the worker
 * needs no file access of its own to learn it: a confined worker could
 * not reach the file.  "attack" is a compromised worker: it tries, from
 * inside its sandbox, everything the trust model forbids, and says what
 * happened to each try.
 */
#include "milter/testhooks.h"
#include "store/qstate.h"
#include "util/fdio.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

const char *testhooks_claim_fault(void)
{
	const char *path = getenv("MUGAI_TEST_FAULT");
	if (!path || !*path)
		return NULL;
	char claimed[PATH_MAX], word[16] = "";
	snprintf(claimed, sizeof claimed, "%s.%ld", path, (long)gettid());
	if (rename(path, claimed) < 0)
		return NULL;
	FILE *f = fopen(claimed, "r");
	if (f) {
		if (fscanf(f, "%15s", word) != 1)
			word[0] = 0;
		fclose(f);
	}
	unlink(claimed);
	static const char *const faults[] = { "crash", "hang", "garbage", "attack" };
	for (size_t i = 0; i < G_N_ELEMENTS(faults); i++)
		if (strcmp(word, faults[i]) == 0)
			return faults[i];
	return NULL;
}

size_t testhooks_body_chunk(size_t def)
{
	const char *chunk = getenv("MUGAI_TEST_BODY_CHUNK");
	if (chunk && atoi(chunk) >= 64 && (size_t)atoi(chunk) <= def)
		return (size_t)atoi(chunk);
	return def;
}

/* ---- the compromised worker ---- */

static void outcome(const char *what, int rc)
{
	if (rc >= 0)
		fprintf(stderr, "mugai-attack: %s: ALLOWED\n", what);
	else
		fprintf(stderr, "mugai-attack: %s: blocked (%s)\n", what, strerror(-rc));
	fflush(stderr);
}

/* open(2), closing and removing what it made: 0 or -errno */
static int try_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(path);
	return 0;
}

static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* a directory listing with anything in it */
static int try_list(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n ? 0 : -ENOENT;
}

static int try_tcp(const char *host, int port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, host, &a.sin_addr);
	int rc = connect(s, (struct sockaddr *)&a, sizeof a) < 0 ? -errno : 0;
	close(s);
	return rc;
}

static int try_unix(const char *path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	g_strlcpy(a.sun_path, path, sizeof a.sun_path);
	int rc = connect(s, (struct sockaddr *)&a, sizeof a) < 0 ? -errno : 0;
	close(s);
	return rc;
}

static void attack(const mugai_config *cfg)
{
	char path[PATH_MAX];
	pid_t ppid = getppid();
	snprintf(path, sizeof path, "%s/20991231-000000000-FRGDFRGDFR.json", cfg->quarantine_dir);
	outcome("write a record into the quarantine", try_create(path));
	outcome("list the quarantine", try_list(cfg->quarantine_dir));
	outcome("append to the audit log", try_open(cfg->audit_log, O_WRONLY | O_APPEND));
	char *qdir = g_canonicalize_filename(cfg->quarantine_dir, NULL);
	char *rdir = qstate_dir(qdir, cfg->quarantine_review_dir);
	snprintf(path, sizeof path, "%s/20991231-000000000-FRGDFRGDFR.json", rdir);
	outcome("forge an approval in the review state", try_create(path));
	g_free(rdir);
	g_free(qdir);
	snprintf(path, sizeof path, "/tmp/mugai-attack-%ld", (long)getpid());
	outcome("create a file in /tmp", try_create(path));
	snprintf(path, sizeof path, "/proc/%ld/fd", (long)ppid);
	outcome("list the milter's open files (other messages)", try_list(path));
	snprintf(path, sizeof path, "/proc/%ld/mem", (long)ppid);
	outcome("read the milter's memory", try_open(path, O_RDONLY));
	outcome("signal the milter", kill(ppid, 0) < 0 ? -errno : 0);
	outcome("trace the milter", ptrace(PTRACE_ATTACH, ppid, NULL, NULL) < 0 ? -errno : 0);
	const char *port = getenv("MUGAI_TEST_ATTACK_PORT");
	if (port)
		outcome("connect to 127.0.0.1 over TCP", try_tcp("127.0.0.1", atoi(port)));
	if (g_str_has_prefix(cfg->release_smtp, "unix:"))
		outcome("connect to the release smtpd", try_unix(cfg->release_smtp + 5));
	else
		outcome("connect to the release smtpd", try_tcp("127.0.0.1", atoi(strrchr(cfg->release_smtp, ':') + 1)));
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
	outcome("open a netlink socket", s < 0 ? -errno : 0);
	if (s >= 0)
		close(s);
}

/* A reply a compromised worker would like the milter to believe: a clean
 * verdict over an output that smuggles an attachment past the text. */
static int forged_reply(int sock, const job *j)
{
	static const char out[] =
		"From: x@example.net\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n"
		"X-Mugai-Status: clean; removed=0; suspect=0\n\n--b\nContent-Type: text/plain\n\nhello\n"
		"--b\nContent-Type: application/x-msdownload; name=setup.exe\nContent-Transfer-Encoding: base64\n\n"
		"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\n--b--\n";
	int fd = memfd_create("forged", MFD_CLOEXEC);
	if (fd < 0 || fd_write_all(fd, out, sizeof out - 1) < 0)
		return -EIO;
	job_reply *r = job_reply_new();
	r->seq = j->seq;
	r->verdict = VERDICT_CLEAN;
	r->has_output = true;
	r->status = g_strdup("clean; removed=0; suspect=0");
	r->body_offset = (uint64_t)(strstr(out, "\n\n") - out + 2);
	r->record = g_strdup("{\"verdict\":\"clean\",\"quarantine_id\":null,\"parts\":[]}");
	GByteArray *frame = job_reply_encode(r);
	int rc = frame_send(sock, frame, fd);
	g_byte_array_unref(frame);
	job_reply_free(r);
	close(fd);
	return rc;
}

int testhooks_worker_fault(const mugai_config *cfg, int sock, const job *j)
{
	const char *fault = j->test_fault;
	if (!fault)
		return 0;
	if (strcmp(fault, "crash") == 0)
		abort();
	if (strcmp(fault, "hang") == 0)
		for (;;)
			pause();
	if (strcmp(fault, "garbage") == 0) {
		static const char junk[] = "this is not a reply frame at all";
		return write(sock, junk, sizeof junk) < 0 ? -errno : 1;
	}
	if (strcmp(fault, "attack") == 0) {
		attack(cfg);
		int rc = forged_reply(sock, j);
		return rc < 0 ? rc : 1;
	}
	return 0;
}
