/* main.c - mugai-milter: start up, run libmilter, shut down.
 *
 * Order is the point: configuration, signals blocked (before any thread),
 * socket opened under a closed umask and handed to Postfix's group, then
 * privileges dropped (fatal if that fails), then daemonised, then workers
 * started and libmilter run.  Our own signal thread takes SIGUSR1 (reload
 * the configuration), SIGCHLD (reap workers) and SIGUSR2 (main() telling it
 * to end); libmilter's takes SIGHUP,
 * SIGTERM and SIGINT and makes smfi_main() return, after which messages in
 * progress get up to [milter] drain_timeout to finish.
 * `--worker FD` (hidden, used by the pool) runs a worker process instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config/config.h"
#include "milter/filter.h"
#include "milter/pool.h"
#include "milter/snapshot.h"
#include "milter/worker.h"

#define EXIT_CONFIG 2

static const char usage_text[] =
	"usage: mugai-milter [-c FILE] [-f] [-t]\n"
	"  -c FILE  configuration (default " MUGAI_DEFAULT_CONFIG " if it exists)\n"
	"  -f       stay in the foreground and log to stderr as well (unless\n"
	"           stderr is the systemd journal, which has the syslog lines)\n"
	"  -t       check the configuration and exit (0 good, 2 bad)\n";

struct args {
	const char *config;
	bool foreground;
	bool test;
	int worker_fd;   /* -1 unless --worker */
};

/* Under systemd (the unit runs -f) stderr is a journal stream, and the
 * journal also receives syslog: a copy of each line on stderr would log
 * it twice.  systemd names that stream in JOURNAL_STREAM ("DEV:INODE"). */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longs[] = {
		{ "worker", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	a->worker_fd = -1;
	while ((opt = getopt_long(argc, argv, "c:fth", longs, NULL)) != -1) {
		switch (opt) {
		case 'c': a->config = optarg; break;
		case 'f': a->foreground = true; break;
		case 't': a->test = true; break;
		case 'W': {
			char *end;
			long fd = strtol(optarg, &end, 10);
			if (*end || fd < 0 || fd > 65535)
				return -1;
			a->worker_fd = (int)fd;
			break;
		}
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* ---- socket and privileges ---- */

struct account {
	uid_t uid;
	gid_t gid;
	bool set;
};

static int lookup_user(const char *name, struct account *u)
{
	u->set = false;
	if (!*name)
		return 0;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		fprintf(stderr, "mugai-milter: [milter] user: no such user '%s'\n", name);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->set = true;
	return 0;
}

static int lookup_group(const char *name, gid_t *gid, bool *set)
{
	*set = false;
	if (!*name)
		return 0;
	struct group *gr = getgrnam(name);
	if (!gr) {
		fprintf(stderr, "mugai-milter: [milter] group: no such group '%s'\n", name);
		return -1;
	}
	*gid = gr->gr_gid;
	*set = true;
	return 0;
}

/* Open the milter socket.  A unix socket is created under umask 0117 (no
 * moment where others could connect), its directory made if missing
 * (0750), then given to USER and GROUP unless it is theirs already (the
 * packaged directory is setgid postfix: the daemon, running as mugai,
 * needs no chown) and made 0660, so that Postfix's group can connect and
 * nobody else can. */
static int open_socket(const mugai_config *cfg, const struct account *u, gid_t gid, bool gid_set,
                       struct stat *sock_st)
{
	const char *spec = cfg->milter_socket;
	bool is_unix = strncmp(spec, "unix:", 5) == 0;
	const char *path = is_unix ? spec + 5 : NULL;
	uid_t owner = u->set ? u->uid : (uid_t)-1;
	gid_t group = gid_set ? gid : (gid_t)-1;

	if (is_unix) {
		char *dir = g_path_get_dirname(path);
		if (mkdir(dir, 0750) == 0) {
			if (chown(dir, owner, group) < 0)
				fprintf(stderr, "mugai-milter: chown %s: %s\n", dir, strerror(errno));
		} else if (errno != EEXIST) {
			fprintf(stderr, "mugai-milter: mkdir %s: %s\n", dir, strerror(errno));
			g_free(dir);
			return -1;
		}
		g_free(dir);
	}
	if (smfi_setconn((char *)spec) != MI_SUCCESS) {
		fprintf(stderr, "mugai-milter: bad socket %s\n", spec);
		return -1;
	}
	mode_t old = umask(0117);
	int r = smfi_opensocket(true);
	umask(old);
	if (r != MI_SUCCESS) {
		fprintf(stderr, "mugai-milter: cannot open socket %s (see syslog)\n", spec);
		return -1;
	}
	struct stat st;
	if (is_unix && lstat(path, &st) == 0 && (owner == (uid_t)-1 || st.st_uid == owner) &&
	    (group == (gid_t)-1 || st.st_gid == group))
		owner = group = (uid_t)-1;   /* as it should be: nothing to change */
	if (is_unix) {
		if ((owner != (uid_t)-1 || group != (gid_t)-1) && lchown(path, owner, group) < 0) {
			fprintf(stderr, "mugai-milter: chown %s: %s%s\n", path, strerror(errno),
			        geteuid() ? " (the socket's directory should be setgid [milter] group, as"
			                    " packaging/mugai.tmpfiles makes /var/spool/postfix/mugai)" : "");
			return -1;
		}
		if (chmod(path, 0660) < 0 || stat(path, sock_st) < 0) {
			fprintf(stderr, "mugai-milter: %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int drop_privileges(const char *name, const struct account *u)
{
	if (!u->set || (geteuid() == u->uid && getegid() == u->gid))
		return 0;
	if (setgid(u->gid) < 0 || initgroups(name, u->gid) < 0 || setuid(u->uid) < 0) {
		fprintf(stderr, "mugai-milter: cannot become %s: %s\n", name, strerror(errno));
		return -1;
	}
	if (u->uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		fprintf(stderr, "mugai-milter: still root after becoming %s\n", name);
		return -1;
	}
	return 0;
}

/* Root after the drop (user empty or root) only when asked for: the
 * workers would parse every message as root. */
static int refuse_root(const mugai_config *cfg)
{
	if (geteuid() != 0 || cfg->milter_allow_root)
		return 0;
	fprintf(stderr, "mugai-milter: [milter] user is %s: the milter and its workers would run as root; "
	        "name an account (user = mugai) or set allow_root = yes\n", *cfg->milter_user ? "root" : "empty");
	return -1;
}

/* ---- signals ---- */

struct sigctx {
	const char *config;
	pool *workers;
};

/* SIGUSR1.  The audit log needs no reopening after logrotate: every record
 * is appended through a fresh open(2). */
static void reload(const struct sigctx *sc)
{
	char err[1024];
	snapshot *s = NULL;
	if (snapshot_load(sc->config, &s, err, sizeof err) < 0) {
		syslog(LOG_ERR, "reload: %s; keeping the running configuration", err);
		return;
	}
	snapshot *old = snapshot_current();
	const mugai_config *a = old->cfg, *b = s->cfg;
	if (strcmp(a->milter_socket, b->milter_socket) || strcmp(a->milter_user, b->milter_user) ||
	    strcmp(a->milter_group, b->milter_group) || a->milter_workers != b->milter_workers)
		syslog(LOG_WARNING, "reload: [milter] socket, user, group and workers take effect at restart");
	snapshot_unref(old);
	unsigned gen = s->gen;
	int fd = s->config_fd;
	snapshot_install(snapshot_ref(s));
	pool_set_max_jobs(sc->workers, (unsigned)b->milter_worker_messages);
	pool_reconfigure(sc->workers, fd, gen);
	snapshot_unref(s);
	syslog(LOG_INFO, "reload: configuration %s loaded (generation %u)", sc->config ? sc->config : MUGAI_DEFAULT_CONFIG, gen);
}

static void *signal_thread(void *arg)
{
	const struct sigctx *sc = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		int sig;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR2)   /* main() is shutting down */
			break;
		if (sig == SIGCHLD)
			pool_reap(sc->workers);
		else if (sig == SIGUSR1)
			reload(sc);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	if (parse_args(argc, argv, &a) < 0) {
		fputs(usage_text, stderr);
		return EXIT_CONFIG;
	}
	if (a.worker_fd >= 0) {
		if (!a.config) {
			fputs("mugai-milter: --worker needs -c\n", stderr);
			return EXIT_CONFIG;
		}
		return worker_main(a.worker_fd, a.config, a.foreground);
	}

	/* daemon() moves to "/": a relative -c must still name the file at reload */
	g_autofree char *config_abs = a.config ? g_canonicalize_filename(a.config, NULL) : NULL;
	a.config = config_abs;
	char err[1024];
	snapshot *snap = NULL;
	if (snapshot_load(a.config, &snap, err, sizeof err) < 0) {
		fprintf(stderr, "mugai-milter: %s\n", err);
		return EXIT_CONFIG;
	}
	const mugai_config *cfg = snap->cfg;
	struct account user = { 0 };
	gid_t gid = 0;
	bool gid_set;
	if (lookup_user(cfg->milter_user, &user) < 0 || lookup_group(cfg->milter_group, &gid, &gid_set) < 0) {
		snapshot_unref(snap);
		return EXIT_CONFIG;
	}
	bool root_stays = user.set ? user.uid == 0 : geteuid() == 0;
	if (root_stays && !cfg->milter_allow_root) {
		fprintf(stderr, "mugai-milter: [milter] user is %s: the milter and its workers would run as root; "
		        "name an account (user = mugai) or set allow_root = yes\n", user.set ? "root" : "empty");
		snapshot_unref(snap);
		return EXIT_CONFIG;
	}
	if (a.test) {
		printf("mugai-milter: configuration %s is valid\n", cfg->source);
		snapshot_unref(snap);
		return 0;
	}

	bool log_stderr = a.foreground && !stderr_is_journal();
	openlog("mugai", LOG_PID | (log_stderr ? LOG_PERROR : 0), LOG_MAIL);
	/* Threads inherit the mask: block before libmilter or we start any. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* libmilter starts a thread whenever none is idle and ends one when two
	 * are, all with default attributes: a stack the size of RLIMIT_STACK
	 * (8 MiB), of which glibc keeps four or five for reuse, so under load
	 * stacks are mapped, faulted in and unmapped again all the time.
	 * Nothing in this process recurses deeply (the parsers run in the
	 * workers): 1 MiB stacks, some forty of which glibc keeps. */
	pthread_attr_t ta;
	if (pthread_attr_init(&ta) == 0) {
		pthread_attr_setstacksize(&ta, 1 << 20);
		pthread_setattr_default_np(&ta);
		pthread_attr_destroy(&ta);
	}

	pool *workers = pool_new("/proc/self/exe", (unsigned)cfg->milter_workers, log_stderr);
	pool_set_max_jobs(workers, (unsigned)cfg->milter_worker_messages);
	struct stat sock_st = { 0 };
	if (filter_register(workers) < 0 || open_socket(cfg, &user, gid, gid_set, &sock_st) < 0 ||
	    drop_privileges(cfg->milter_user, &user) < 0 || refuse_root(cfg) < 0) {
		pool_free(workers);
		snapshot_unref(snap);
		return 1;
	}
	if (!a.foreground && daemon(0, 0) < 0) {
		fprintf(stderr, "mugai-milter: daemon: %s\n", strerror(errno));
		return 1;
	}
	int spool_probe = open(cfg->milter_spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (spool_probe < 0)
		syslog(LOG_WARNING, "[milter] spool_dir %s: %s: messages over spool_memory will get a temporary failure",
		       cfg->milter_spool_dir, strerror(errno));
	else
		close(spool_probe);
	int64_t drain = cfg->milter_drain_timeout;
	char *sock_path = strncmp(cfg->milter_socket, "unix:", 5) == 0 ? g_strdup(cfg->milter_socket + 5) : NULL;
	snapshot_install(snap);   /* the installation holds our reference now */
	if (pool_start(workers, snap->config_fd, snap->gen) < 0) {
		syslog(LOG_ERR, "workers could not be started; exiting");
		pool_free(workers);
		return 1;
	}
	struct sigctx sc = { a.config, workers };
	pthread_t tid;
	if (pthread_create(&tid, NULL, signal_thread, &sc) != 0) {
		syslog(LOG_ERR, "cannot start the signal thread");
		pool_free(workers);
		return 1;
	}
	syslog(LOG_INFO, "started on %s with %u workers", cfg->milter_socket, (unsigned)cfg->milter_workers);
	/* The socket listens (connections wait in its backlog until smfi_main
	 * takes them) and the workers run: under the unit (Type=notify) systemd
	 * counts the service started only now, so Postfix, ordered after it,
	 * does not meet a missing socket, and a start that fails is reported as
	 * failed.  Without NOTIFY_SOCKET this does nothing. */
	sd_notifyf(0, "READY=1\nSTATUS=serving on %s with %u workers", cfg->milter_socket,
	           (unsigned)cfg->milter_workers);

	int r = smfi_main();
	sd_notify(0, "STOPPING=1\nSTATUS=finishing the messages in progress");

	/* libmilter stops reading new commands; messages already at end of
	 * data finish, up to the drain deadline, then their workers are killed
	 * (Postfix answers those with milter_default_action = tempfail). */
	unsigned left = filter_drain(g_get_monotonic_time() + drain * G_USEC_PER_SEC);
	if (left)
		syslog(LOG_WARNING, "stopping with %u message(s) unfinished: they get a temporary failure", left);
	/* A message leaves the in-flight count when its end-of-message callback
	 * returns, but libmilter writes the reply just after that, on the
	 * callback's thread: give those replies time to leave before exit. */
	g_usleep(G_USEC_PER_SEC / 2);
	pool_stop(workers);
	filter_drain(g_get_monotonic_time() + G_USEC_PER_SEC);
	struct stat st;
	if (sock_path && stat(sock_path, &st) == 0 && st.st_ino == sock_st.st_ino && st.st_dev == sock_st.st_dev)
		unlink(sock_path);   /* ours, not a successor's */
	pthread_kill(tid, SIGUSR2);
	pthread_join(tid, NULL);
	syslog(LOG_INFO, "stopped");
	g_free(sock_path);
	if (filter_drain(0) == 0)
		pool_free(workers);   /* else a callback still holds it: the exit frees all */
	snapshot_install(NULL);
	closelog();
	return r == MI_SUCCESS ? 0 : 1;
}
