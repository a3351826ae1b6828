/* sandbox.c - the confinement of a worker process (sandbox.h).
 *
 * Owns the layers and their order: no new privileges; user, mount, IPC and
 * net namespaces (every mount read-only, hidden dirs covered by empty tmpfs,
 * a private tmpfs for spills); Landlock (file system, TCP ports, scopes);
 * every capability dropped; not dumpable; last a seccomp deny-list for what
 * the others leave open (other processes of the same uid, kernel
 * interfaces, socket families).  Landlock's and mount_setattr's UAPI are
 * spelled out here because the installed kernel headers may be older than
 * the running kernel.
 */
#include "worker/sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* AddressSanitizer's leak check stops the process with ptrace from a
 * helper task it clones, so sanitizer builds let ptrace name the own pid. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif
#ifndef SANDBOX_ASAN
#define SANDBOX_ASAN 0
#endif

/* ---- Landlock UAPI, up to ABI 7 ---- */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_ABI1 ((1ULL << 13) - 1)   /* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER (1ULL << 13)        /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)     /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)    /* ABI 5 */
#define LL_FS_FILE_RIGHTS (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
#define LL_NET_BIND_TCP (1ULL << 0)     /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)   /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)
#define LL_KNOWN_ABI 7   /* the newest ABI whose rights are listed above */

struct ll_ruleset_attr {
	uint64_t handled_fs, handled_net, scoped;
};
struct ll_path_beneath {
	uint64_t allowed;
	int32_t parent_fd;
} __attribute__((packed));
struct ll_net_port {
	uint64_t allowed, port;
};

/* ---- mount_setattr(2) ---- */
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#endif
struct sbx_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* What is being applied, and what was. */
typedef struct plan {
	const sandbox_spec *s;
	char *desc;
	size_t desclen;
	bool tcp;          /* clamd over TCP: the network stays shared */
	bool userns;       /* user + mount namespaces in place */
	bool netns;        /* a new net namespace in place */
	int abi;           /* Landlock applied at this ABI; 0 = none */
	char note[160];    /* AUTO: why the namespaces were left out */
} plan;

static int fail(plan *p, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(plan *p, int err, const char *fmt, ...)
{
	if (p->desclen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->desc, p->desclen, fmt, ap);
		va_end(ap);
	}
	return -err;
}

/* True when PATH is DIR or lies beneath it (both canonical). */
static bool beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* ---------------------------------------------------------------- checks */

/* Numeric address only: a name would need DNS, which the sandbox refuses. */
static bool numeric_host(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int check_spec(plan *p)
{
	const sandbox_spec *s = p->s;
	if ((int)s->mode < (int)SANDBOX_AUTO || (int)s->mode > (int)SANDBOX_OFF)
		return fail(p, EINVAL, "sandbox: unknown mode %d", (int)s->mode);
	if (s->tmp_dir && s->tmp_dir[0] != '/')
		return fail(p, EINVAL, "sandbox: tmp_dir %s is not absolute", s->tmp_dir);
	for (const char *const *h = s->hide; h && *h; h++)
		if ((*h)[0] != '/')
			return fail(p, EINVAL, "sandbox: hidden dir %s is not absolute", *h);
	if (s->clamd_unix && s->clamd_unix[0] != '/')
		return fail(p, EINVAL, "sandbox: clamd socket %s is not absolute", s->clamd_unix);
	if (s->clamd_tcp_host && (!numeric_host(s->clamd_tcp_host) || s->clamd_tcp_port < 1 || s->clamd_tcp_port > 65535))
		return fail(p, EINVAL, "sandbox: clamd over TCP needs a numeric address and a port (got %s:%d)",
		            s->clamd_tcp_host, s->clamd_tcp_port);
	if (!s->clamd_tcp_host && s->clamd_tcp_port)
		return fail(p, EINVAL, "sandbox: clamd port %d without an address", s->clamd_tcp_port);
	if (s->mode == SANDBOX_NAMESPACES && p->tcp)
		return fail(p, EPERM, "sandbox: namespaces mode cannot confine the network with clamd over TCP "
		            "(a new net namespace would cut clamd off); use auto or landlock (Landlock ABI >= 4)");
	return 0;
}

/* The hidden dirs, the tmp dir and clamd's socket must not overlap: a tmpfs
 * over a hidden dir would hide the other two as well. */
static int check_overlaps(plan *p)
{
	const sandbox_spec *s = p->s;
	char h[PATH_MAX], o[PATH_MAX];
	for (const char *const *hp = s->hide; hp && *hp; hp++) {
		if (!realpath(*hp, h))
			continue;
		if (s->tmp_dir && realpath(s->tmp_dir, o) && (beneath(o, h) || beneath(h, o)))
			return fail(p, EINVAL, "sandbox: tmp_dir %s and hidden dir %s overlap", s->tmp_dir, *hp);
		if (s->clamd_unix && realpath(s->clamd_unix, o) && beneath(o, h))
			return fail(p, EINVAL, "sandbox: clamd socket %s lies in hidden dir %s", s->clamd_unix, *hp);
	}
	if (s->clamd_unix && s->tmp_dir && realpath(s->clamd_unix, o) && realpath(s->tmp_dir, h) && beneath(o, h))
		return fail(p, EINVAL, "sandbox: clamd socket %s lies in tmp_dir %s", s->clamd_unix, s->tmp_dir);
	return 0;
}

/* ------------------------------------------------------------ namespaces */

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int r = n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return r;
}

/* The own ids, and only them, inside the new user namespace; setgroups is
 * denied first, as an unprivileged gid_map requires.  The files belong to
 * root while the process is not dumpable (after a setuid() without exec),
 * so it is made dumpable for the writes; sandbox_apply() ends with it off. */
static int map_ids(uid_t uid, gid_t gid)
{
	char map[64];
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return -errno;
	int r = write_proc("/proc/self/setgroups", "deny");
	if (r < 0 && r != -ENOENT)
		return r;
	snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if ((r = write_proc("/proc/self/uid_map", map)) < 0)
		return r;
	snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return write_proc("/proc/self/gid_map", map);
}

/* Every mount read-only (and nosuid), without propagation back out. */
static int mounts_readonly(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	struct sbx_mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID };
	if (syscall(__NR_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &a, sizeof a) < 0)
		return -errno;
	return 0;
}

/* True when another hidden dir already covers DIR. */
static bool covered(const sandbox_spec *s, const char *dir)
{
	for (const char *const *h = s->hide; *h; h++)
		if (strcmp(*h, dir) != 0 && beneath(dir, *h))
			return true;
	return false;
}

/* An empty, read-only, mode 000 tmpfs over each hidden dir.  A missing dir
 * is an error unless Landlock (which denies it anyway) comes next: the
 * milter could create it later, and it would be readable. */
static int hide_dirs(plan *p, bool landlock_next)
{
	const sandbox_spec *s = p->s;
	for (const char *const *h = s->hide; h && *h; h++) {
		if (covered(s, *h))
			continue;
		if (mount("mugai-hidden", *h, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		          "mode=000,size=4k,nr_inodes=2") == 0)
			continue;
		int e = errno;
		if (e == ENOENT && landlock_next)
			continue;
		return fail(p, e, "sandbox: cannot hide %s: %s", *h, strerror(e));
	}
	return 0;
}

static int private_tmp(plan *p)
{
	const sandbox_spec *s = p->s;
	char opt[64] = "mode=0700";
	if (s->tmp_size)
		snprintf(opt, sizeof opt, "mode=0700,size=%llu", (unsigned long long)s->tmp_size);
	if (mount("mugai-tmp", s->tmp_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opt) < 0)
		return fail(p, errno, "sandbox: tmpfs at %s: %s", s->tmp_dir, strerror(errno));
	return 0;
}

/* unshare() failing leaves the process as it was; in AUTO mode that only
 * means no namespaces.  Any later failure is fatal. */
static int apply_namespaces(plan *p, bool required, bool landlock_next)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | (p->tcp ? 0 : CLONE_NEWNET);
	if (unshare(flags) < 0) {
		int e = errno;
		if (required)
			return fail(p, e, "sandbox: unshare(user, mount, ipc%s): %s", p->tcp ? "" : ", net", strerror(e));
		snprintf(p->note, sizeof p->note, "no namespaces (unshare: %s)", strerror(e));
		return 0;
	}
	int r = map_ids(uid, gid);
	if (r < 0)
		return fail(p, -r, "sandbox: uid/gid map: %s", strerror(-r));
	if ((r = mounts_readonly()) < 0)
		return fail(p, -r, "sandbox: read-only mounts: %s", strerror(-r));
	if ((r = hide_dirs(p, landlock_next)) < 0)
		return r;
	if (p->s->tmp_dir && (r = private_tmp(p)) < 0)
		return r;
	if (chdir("/") < 0)   /* a cwd inside a hidden dir would outlive the tmpfs over it */
		return fail(p, errno, "sandbox: chdir /: %s", strerror(errno));
	p->userns = true;
	p->netns = !p->tcp;
	return 0;
}

bool sandbox_userns_ok(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		bool ok = unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET) == 0 &&
		          map_ids(uid, gid) == 0 && mounts_readonly() == 0;
		_exit(ok ? 0 : 1);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* -------------------------------------------------------------- Landlock */

int sandbox_landlock_abi(void)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return abi > 0 ? (int)abi : 0;
}

static uint64_t ll_fs_rights(int abi)
{
	uint64_t r = LL_FS_ABI1;
	if (abi >= 2)
		r |= LL_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= LL_FS_IOCTL_DEV;
	return r;
}

#define LL_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
/* What libraries read after initialisation (traced over the test mail):
 * iconv's gconv modules and their libJIS, libKSC, libGB, loaded at a
 * charset's first use, with gconv-modules.cache; locale files, GLib's
 * charset.alias, libmagic's database, /etc/localtime, ld.so.cache.  The
 * sanitizers' leak check reads /proc/PID/task and maps; GMime and GLib
 * read the random devices, libraries fall back on /dev/null. */
static const struct {
	const char *path;
	uint64_t access;
} ll_readable[] = {
	{ "/usr", LL_READ },
	{ "/etc", LL_READ },
	{ "/lib", LL_READ },   /* on a merged /usr these are links into it */
	{ "/lib64", LL_READ },
	{ "/lib32", LL_READ },
	{ "/libx32", LL_READ },
	{ "/proc/self", LL_READ },
	{ "/dev/null", LL_FS_READ_FILE | LL_FS_WRITE_FILE },
	{ "/dev/urandom", LL_FS_READ_FILE },
	{ "/dev/random", LL_FS_READ_FILE },
};

/* The Landlock rule for /proc/self is tied to the inode of this process's
 * /proc/PID, which proc makes anew when its dentry is dropped: an open
 * descriptor keeps the dentry, and so the rule, for the process's life. */
static int proc_self_fd = -1;

static int ll_allow(plan *p, int rs, const char *path, uint64_t access, uint64_t handled, bool required)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !required)
			return 0;
		return fail(p, errno, "sandbox: landlock: %s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LL_FS_FILE_RIGHTS;
	struct ll_path_beneath pb = { .allowed = access & handled, .parent_fd = fd };
	if (syscall(__NR_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0) {
		int e = errno;
		close(fd);
		return fail(p, e, "sandbox: landlock rule for %s: %s", path, strerror(e));
	}
	if (strcmp(path, "/proc/self") == 0 && proc_self_fd < 0)
		proc_self_fd = fd;
	else
		close(fd);
	return 0;
}

/* Without a private tmpfs the rules are all Landlock has: a hidden dir
 * beneath a readable one would stay readable, and files already in tmp_dir
 * could be read and written (O_TMPFILE needs READ_FILE and WRITE_FILE there;
 * what no rule grants is making a name, so none can be added). */
static int ll_check_shared_fs(plan *p)
{
	const sandbox_spec *s = p->s;
	char h[PATH_MAX], r[PATH_MAX];
	for (const char *const *hp = s->hide; hp && *hp; hp++) {
		if (!realpath(*hp, h))
			continue;
		for (size_t i = 0; i < sizeof ll_readable / sizeof ll_readable[0]; i++)
			if (realpath(ll_readable[i].path, r) && beneath(h, r))
				return fail(p, EINVAL, "sandbox: hidden dir %s lies beneath readable %s", *hp, ll_readable[i].path);
	}
	if (!s->tmp_dir)
		return 0;
	DIR *d = opendir(s->tmp_dir);
	if (!d)
		return fail(p, errno, "sandbox: tmp_dir %s: %s", s->tmp_dir, strerror(errno));
	const struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	if (n)
		return fail(p, ENOTEMPTY, "sandbox: tmp_dir %s is not empty: under Landlock alone its files "
		            "would be readable and writable", s->tmp_dir);
	return 0;
}

static int ll_rules(plan *p, int rs, const struct ll_ruleset_attr *a)
{
	const sandbox_spec *s = p->s;
	int r = 0;
	for (size_t i = 0; r == 0 && i < sizeof ll_readable / sizeof ll_readable[0]; i++)
		r = ll_allow(p, rs, ll_readable[i].path, ll_readable[i].access, a->handled_fs, false);
	/* O_TMPFILE | O_RDWR needs READ_FILE and WRITE_FILE on the dir, not
	 * MAKE_REG; ftruncate() of the spill needs TRUNCATE. */
	if (r == 0 && s->tmp_dir)
		r = ll_allow(p, rs, s->tmp_dir, LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE, a->handled_fs, true);
	if (r == 0 && p->tcp && a->handled_net) {
		struct ll_net_port np = { .allowed = LL_NET_CONNECT_TCP, .port = (uint64_t)s->clamd_tcp_port };
		if (syscall(__NR_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0) < 0)
			r = fail(p, errno, "sandbox: landlock rule for TCP port %d: %s", s->clamd_tcp_port, strerror(errno));
	}
	return r;
}

static int apply_landlock(plan *p, int abi)
{
	if (!p->userns) {
		int r = ll_check_shared_fs(p);
		if (r < 0)
			return r;
	}
	int known = abi > LL_KNOWN_ABI ? LL_KNOWN_ABI : abi;
	struct ll_ruleset_attr a = { .handled_fs = ll_fs_rights(known) };
	if (known >= 4)
		a.handled_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (known >= 6)
		a.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	int rs = (int)syscall(__NR_landlock_create_ruleset, &a, sizeof a, 0);
	if (rs < 0)
		return fail(p, errno, "sandbox: landlock ruleset (abi %d): %s", abi, strerror(errno));
	int r = ll_rules(p, rs, &a);
	if (r == 0 && syscall(__NR_landlock_restrict_self, rs, 0) < 0)
		r = fail(p, errno, "sandbox: landlock_restrict_self: %s", strerror(errno));
	close(rs);
	if (r == 0)
		p->abi = abi;
	return r;
}

/* --------------------------------------------------------------- seccomp */

/* The denials of one syscall NR with ERR; EXTRA, when given, is one more
 * comparison (on another argument) every rule carries. */
typedef struct rule_set {
	scmp_filter_ctx ctx;
	int nr;
	int err;
	const struct scmp_arg_cmp *extra;
} rule_set;

static int add_cmp(const rule_set *rs, struct scmp_arg_cmp c)
{
	struct scmp_arg_cmp cmp[2] = { c };
	unsigned n = 1;
	if (rs->extra)
		cmp[n++] = *rs->extra;
	return seccomp_rule_add_array(rs->ctx, SCMP_ACT_ERRNO(rs->err), rs->nr, n, cmp);
}

static int deny_range(const rule_set *rs, unsigned arg, unsigned shift, uint64_t fmax, uint64_t lo, uint64_t hi)
{
	bool whole = fmax == UINT64_MAX && shift == 0;
	if (whole && lo == 0)
		return add_cmp(rs, (struct scmp_arg_cmp){ arg, SCMP_CMP_LT, hi + 1, 0 });
	if (whole && hi == UINT64_MAX)
		return add_cmp(rs, (struct scmp_arg_cmp){ arg, SCMP_CMP_GT, lo - 1, 0 });
	while (lo <= hi) {
		uint64_t size = lo ? (lo & -lo) : (1ULL << 63);
		while (size - 1 > hi - lo)
			size >>= 1;
		uint64_t mask = (fmax & ~(size - 1)) << shift;
		int r = add_cmp(rs, (struct scmp_arg_cmp){ arg, SCMP_CMP_MASKED_EQ, mask, lo << shift });
		if (r < 0)
			return r;
		if (hi - lo < size)
			break;
		lo += size;
	}
	return 0;
}

/* Deny when the ARGth argument's field (arg >> SHIFT, at most FMAX;
 * UINT64_MAX with SHIFT 0 = the whole argument) is outside the ascending
 * set ALLOWED.  libseccomp compares an argument once per rule, so the
 * complement is spelled out as aligned blocks, "<" and ">" at the ends of
 * a whole argument; upper bits the kernel would ignore deny too. */
static int deny_outside(const rule_set *rs, unsigned arg, unsigned shift, uint64_t fmax,
                        const uint64_t *allowed, size_t n)
{
	uint64_t next = 0;
	for (size_t i = 0; i < n; i++) {
		if (allowed[i] > next) {
			int r = deny_range(rs, arg, shift, fmax, next, allowed[i] - 1);
			if (r < 0)
				return r;
		}
		if (allowed[i] == fmax)
			return 0;
		next = allowed[i] + 1;
	}
	return deny_range(rs, arg, shift, fmax, next, fmax);
}

static int resolve(const char *name, int *nr)
{
	*nr = seccomp_syscall_resolve_name(name);
	return *nr == __NR_SCMP_ERROR ? -ENOSYS : 0;
}

/* Kernel interfaces a worker never needs and an attacker would want: other
 * processes' memory and descriptors, mounts (after ours are set up), kernel
 * objects with their own attack surface, identity changes. */
static const char *const deny_always[] = {
	"process_vm_readv", "process_vm_writev", "pidfd_getfd", "pidfd_open", "pidfd_send_signal",
	"kcmp", "process_madvise",
	"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount",
	"fsconfig", "fspick", "mount_setattr", "setns",
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"acct", "swapon", "swapoff", "reboot", "syslog", "open_by_handle_at", "name_to_handle_at",
	"fanotify_init", "quotactl",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
	"setgroups", "iopl", "ioperm",
};

/* Signals and scheduling aimed at a pid: only the own (first argument). */
static const char *const own_pid_only[] = {
	"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
};
/* The own pid or 0 (= self) in the first argument. */
static const char *const self_or_zero[] = {
	"prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr",
	"migrate_pages", "move_pages",
};

static int deny_list(scmp_filter_ctx ctx, const char *const *names, size_t n, const char **bad)
{
	for (size_t i = 0; i < n; i++) {
		int nr, r = resolve(names[i], &nr);
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0) {
			*bad = names[i];
			return r;
		}
	}
	return 0;
}

static int deny_pid_args(scmp_filter_ctx ctx, uint64_t pid, const char **bad)
{
	const uint64_t own[] = { pid }, self[] = { 0, pid };
	rule_set rs = { .ctx = ctx, .err = EPERM };
	for (size_t i = 0; i < sizeof own_pid_only / sizeof own_pid_only[0]; i++) {
		int r = resolve(*bad = own_pid_only[i], &rs.nr);
		if (r < 0 || (r = deny_outside(&rs, 0, 0, UINT64_MAX, own, 1)) < 0)
			return r;
	}
	for (size_t i = 0; i < sizeof self_or_zero / sizeof self_or_zero[0]; i++) {
		int r = resolve(*bad = self_or_zero[i], &rs.nr);
		if (r < 0 || (r = deny_outside(&rs, 0, 0, UINT64_MAX, self, 2)) < 0)
			return r;
	}
	/* setpriority(PRIO_PROCESS, self) and ioprio_set(IOPRIO_WHO_PROCESS, self) */
	static const struct {
		const char *name;
		uint64_t which;
	} prio[] = { { "setpriority", 0 }, { "ioprio_set", 1 } };
	for (size_t i = 0; i < 2; i++) {
		uint64_t which[] = { prio[i].which };
		int r = resolve(*bad = prio[i].name, &rs.nr);
		if (r < 0 || (r = deny_outside(&rs, 0, 0, UINT64_MAX, which, 1)) < 0 ||
		    (r = deny_outside(&rs, 1, 0, UINT64_MAX, self, 2)) < 0)
			return r;
	}
	/* ptrace: none; a sanitizer build's leak check attaches to the own pid */
	*bad = "ptrace";
	int nr = SCMP_SYS(ptrace);
	if (!SANDBOX_ASAN)
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	rs.nr = nr;
	return deny_outside(&rs, 1, 0, UINT64_MAX, own, 1);
}

/* Signals by proxy: a descriptor's owner gets SIGIO (or any signal
 * F_SETSIG names) on I/O, so the owner may be the process itself only
 * (F_SETOWN_EX and the ioctls pass it in memory: denied); and no typing
 * into a terminal the process inherited. */
static int deny_owner_and_tty(scmp_filter_ctx ctx, uint64_t pid, const char **bad)
{
	const uint64_t self[] = { 0, pid };
	struct scmp_arg_cmp setown = { 1, SCMP_CMP_MASKED_EQ, 0xffffffffu, F_SETOWN };
	rule_set rs = { .ctx = ctx, .nr = SCMP_SYS(fcntl), .err = EPERM, .extra = &setown };
	*bad = "fcntl";
	int r = deny_outside(&rs, 2, 0, UINT64_MAX, self, 2);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fcntl), 1,
		                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, F_SETOWN_EX));
	static const uint64_t ioctls[] = { FIOSETOWN, SIOCSPGRP, TIOCSTI, TIOCLINUX };
	*bad = "ioctl";
	for (size_t i = 0; r == 0 && i < sizeof ioctls / sizeof ioctls[0]; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
		                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, ioctls[i]));
	return r;
}

/* AF_UNIX only; with clamd over TCP also AF_INET and AF_INET6, as
 * SOCK_STREAM with protocol 0 or TCP (not SCTP or MPTCP, which Landlock's
 * TCP rules do not see). */
static int deny_sockets(scmp_filter_ctx ctx, bool tcp, const char **bad)
{
	const uint64_t unix_only[] = { AF_UNIX }, with_ip[] = { AF_UNIX, AF_INET, AF_INET6 };
	const uint64_t stream[] = { SOCK_STREAM }, proto[] = { 0, IPPROTO_TCP };
	rule_set rs = { .ctx = ctx, .err = EPERM };
	*bad = "socketpair";
	rs.nr = SCMP_SYS(socketpair);
	int r = deny_outside(&rs, 0, 0, UINT64_MAX, unix_only, 1);
	*bad = "socket";
	rs.nr = SCMP_SYS(socket);
	if (r < 0 || (r = deny_outside(&rs, 0, 0, UINT64_MAX, tcp ? with_ip : unix_only, tcp ? 3 : 1)) < 0 || !tcp)
		return r;
	const int fams[] = { AF_INET, AF_INET6 };
	for (size_t i = 0; i < 2; i++) {
		struct scmp_arg_cmp fam = { 0, SCMP_CMP_EQ, (uint64_t)fams[i], 0 };
		rs.extra = &fam;
		if ((r = deny_outside(&rs, 1, 0, 0xf, stream, 1)) < 0 ||
		    (r = deny_outside(&rs, 2, 0, UINT64_MAX, proto, 2)) < 0)
			return r;
	}
	return 0;
}

/* Namespaces: no new ones after ours (clone, unshare), and clone3, whose
 * flags sit in memory seccomp cannot read, answers ENOSYS so that glibc
 * falls back to clone.  Device nodes: mknod of regular files and fifos only.
 * personality: the query (0xffffffff) and PER_LINUX (0) only. */
static int deny_args_misc(scmp_filter_ctx ctx, const char **bad)
{
	static const uint64_t ns_flags[] = { CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	                                     CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME };
	int r = 0;
	for (size_t i = 0; r == 0 && i < sizeof ns_flags / sizeof ns_flags[0]; i++) {
		uint64_t f = ns_flags[i];
		*bad = "unshare";
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		if (r == 0 && f != CLONE_NEWTIME) {   /* 0x80 is part of clone's exit signal */
			*bad = "clone";
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		}
	}
	*bad = "clone3";
	if (r < 0 || (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0)
		return r;
	const uint64_t node_types[] = { 0, S_IFIFO >> 12, S_IFREG >> 12 };
	rule_set rs = { .ctx = ctx, .err = EPERM };
	*bad = "mknod";
	rs.nr = SCMP_SYS(mknod);
	if ((r = deny_outside(&rs, 1, 12, 0xf, node_types, 3)) < 0)
		return r;
	*bad = "mknodat";
	rs.nr = SCMP_SYS(mknodat);
	if ((r = deny_outside(&rs, 2, 12, 0xf, node_types, 3)) < 0)
		return r;
	/* Outside {0, 0xffffffff} a value's low 32 bits are not all equal:
	 * round the 32 bits, some bit i is set and bit i + 1 clear.  32 rules,
	 * half as many as aligned blocks would take, and above 32 bits ">". */
	*bad = "personality";
	rs.nr = SCMP_SYS(personality);
	r = add_cmp(&rs, (struct scmp_arg_cmp){ 0, SCMP_CMP_GT, 0xffffffffu, 0 });
	for (unsigned i = 0; r == 0 && i < 32; i++) {
		uint64_t set = 1ULL << i, clear = 1ULL << ((i + 1) % 32);
		r = add_cmp(&rs, (struct scmp_arg_cmp){ 0, SCMP_CMP_MASKED_EQ, set | clear, set });
	}
	return r;
}

/* Default allow, then the denials: an allow-list would break on the rare
 * path of some library.  Syscalls of another ABI (i386, x32) kill. */
static int apply_seccomp(plan *p)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return fail(p, ENOMEM, "sandbox: seccomp_init failed");
	const char *bad = "attributes";
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);   /* a binary tree of syscalls */
	if (r == 0)
		r = deny_list(ctx, deny_always, sizeof deny_always / sizeof deny_always[0], &bad);
	if (r == 0)
		r = deny_pid_args(ctx, (uint64_t)getpid(), &bad);
	if (r == 0)
		r = deny_owner_and_tty(ctx, (uint64_t)getpid(), &bad);
	if (r == 0)
		r = deny_sockets(ctx, p->tcp, &bad);
	if (r == 0)
		r = deny_args_misc(ctx, &bad);
	if (r < 0)
		r = fail(p, -r, "sandbox: seccomp rule for %s: %s", bad, strerror(-r));
	else if ((r = seccomp_load(ctx)) < 0)
		r = fail(p, -r, "sandbox: seccomp_load: %s", strerror(-r));
	seccomp_release(ctx);
	return r;
}

/* ---------------------------------------------------------- capabilities */

/* None left, in any namespace: the user namespace hands out a full set,
 * and root (in tests) would get its own back from the bounding set at
 * execve().  The bounding set needs CAP_SETPCAP; without it there is
 * nothing to lose. */
static int drop_capabilities(plan *p)
{
	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EPERM)
			return fail(p, errno, "sandbox: drop capability %d from the bounding set: %s", c, strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return fail(p, errno, "sandbox: clear ambient capabilities: %s", strerror(errno));
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof d);
	/* none to drop (a service without capabilities, whose filter may
	 * refuse capset itself): done */
	struct __user_cap_data_struct now[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, now) == 0 && memcmp(now, d, sizeof d) == 0)
		return 0;
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &h, d) < 0)
		return fail(p, errno, "sandbox: capset: %s", strerror(errno));
	return 0;
}

/* ----------------------------------------------------------------- modes */

static int apply_auto(plan *p)
{
	int abi = sandbox_landlock_abi();
	int r = apply_namespaces(p, false, abi > 0);
	if (r < 0)
		return r;
	if (!p->userns && abi == 0)
		return fail(p, ENOSYS, "sandbox: no file-system confinement: Landlock unavailable and %s", p->note);
	/* Without clamd over TCP seccomp allows AF_UNIX sockets only. */
	if (p->tcp && abi < 4)
		return fail(p, ENOSYS, "sandbox: no network confinement: clamd is over TCP, so no net namespace, "
		            "and Landlock %s", abi ? "ABI < 4 has no TCP rules" : "is unavailable");
	return abi > 0 ? apply_landlock(p, abi) : 0;
}

static int apply_landlock_mode(plan *p)
{
	int abi = sandbox_landlock_abi();
	if (abi == 0)
		return fail(p, ENOSYS, "sandbox: Landlock unavailable (not built, or not in the kernel's lsm= list)");
	if (p->tcp && abi < 4)
		return fail(p, ENOSYS, "sandbox: clamd over TCP needs Landlock ABI 4 (Linux 6.7) for TCP rules; "
		            "this kernel has ABI %d", abi);
	return apply_landlock(p, abi);
}

static void describe(plan *p)
{
	const sandbox_mode m = p->s->mode;
	if (m == SANDBOX_OFF) {
		snprintf(p->desc, p->desclen, "off (seccomp only)");
		return;
	}
	char ll[160] = "", ns[64] = "";
	if (p->abi >= 6)
		snprintf(ll, sizeof ll, "landlock abi %d (fs, tcp, scope), ", p->abi);
	else if (p->abi)
		snprintf(ll, sizeof ll, "landlock abi %d (fs%s; no scopes: signals left to seccomp%s), ", p->abi,
		         p->abi >= 4 ? ", tcp" : "; no tcp rules", p->netns ? "" : ", abstract unix sockets reachable");
	if (p->userns)
		snprintf(ns, sizeof ns, "user+mount+ipc%s namespaces, ", p->netns ? "+net" : "");
	snprintf(p->desc, p->desclen, "%s%sseccomp%s%s", ll, ns, p->note[0] ? "; " : "", p->note);
}

int sandbox_apply(const sandbox_spec *s, char *desc, size_t desclen)
{
	plan p = { .s = s, .desc = desc, .desclen = desclen, .tcp = s->clamd_tcp_host != NULL };
	if (desclen)
		desc[0] = 0;
	int r = check_spec(&p);
	if (r == 0)
		r = check_overlaps(&p);
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = fail(&p, errno, "sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (r == 0 && s->mode == SANDBOX_AUTO)
		r = apply_auto(&p);
	else if (r == 0 && s->mode == SANDBOX_LANDLOCK)
		r = apply_landlock_mode(&p);
	else if (r == 0 && s->mode == SANDBOX_NAMESPACES)
		r = apply_namespaces(&p, true, false);
	if (r == 0)
		r = drop_capabilities(&p);
	/* after the uid map is written: a process that is not dumpable has its
	 * /proc/self files owned by root */
	if (r == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		r = fail(&p, errno, "sandbox: PR_SET_DUMPABLE: %s", strerror(errno));
	if (r == 0)
		r = apply_seccomp(&p);
	if (r == 0)
		describe(&p);
	return r;
}
