/* snapshot.c - configuration snapshots for the milter (snapshot.h).
 *
 * Owns the installed snapshot pointer (under one mutex) and each
 * snapshot's config and memfd, freed with the last reference.  Loading
 * checks that the text given to workers loads back to the same
 * configuration, so a worker can never start with something the milter did
 * not check.  Logs nothing: the caller reports errors.
 */
#include "milter/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static snapshot *current;
static unsigned last_gen;

static char *dump(const mugai_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	config_dump(f, cfg);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	char *s = g_strdup(buf);
	free(buf);
	return s;
}

static int memfd_with(const char *text)
{
	int fd = memfd_create("mugai-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text), off = 0;
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			return -e;
		}
		off += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int snapshot_load(const char *path, snapshot **out, char *err, size_t errlen)
{
	mugai_config *cfg = NULL, *back = NULL;
	*out = NULL;
	/* Started as root, the milter takes its socket path, user and group from
	 * this file: only root may have written it. */
	int r = geteuid() == 0 ? config_load_trusted(path ? path : MUGAI_DEFAULT_CONFIG, path == NULL, &cfg, err, errlen)
	                       : config_load_cli(path, &cfg, err, errlen);
	if (r < 0)
		return -1;
	char *text = dump(cfg), *text2 = NULL;
	int fd = text ? memfd_with(text) : -ENOMEM;
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot pass the configuration to workers: %s",
		         cfg->source, strerror(-fd));
		goto fail;
	}
	char err2[512];
	if (lseek(fd, 0, SEEK_SET) < 0 || config_load_fd(fd, "(workers' copy)", &back, err2, sizeof err2) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0 || !(text2 = dump(back)) || strcmp(text, text2) != 0) {
		snprintf(err, errlen, "%s: the configuration does not survive being passed to workers%s%s",
		         cfg->source, back ? "" : ": ", back ? "" : err2);
		close(fd);
		goto fail;
	}
	config_free(back);
	g_free(text);
	g_free(text2);
	snapshot *s = g_new0(snapshot, 1);
	s->cfg = cfg;
	s->config_fd = fd;
	s->refs = 1;
	pthread_mutex_lock(&current_lock);
	s->gen = ++last_gen;
	pthread_mutex_unlock(&current_lock);
	*out = s;
	return 0;
fail:
	config_free(back);
	config_free(cfg);
	g_free(text);
	g_free(text2);
	return -1;
}

snapshot *snapshot_ref(snapshot *s)
{
	g_atomic_int_inc(&s->refs);
	return s;
}

snapshot *snapshot_unref(snapshot *s)
{
	if (s && g_atomic_int_dec_and_test(&s->refs)) {
		config_free(s->cfg);
		close(s->config_fd);
		g_free(s);
	}
	return NULL;
}

snapshot *snapshot_current(void)
{
	pthread_mutex_lock(&current_lock);
	snapshot *s = current ? snapshot_ref(current) : NULL;
	pthread_mutex_unlock(&current_lock);
	return s;
}

void snapshot_install(snapshot *s)
{
	pthread_mutex_lock(&current_lock);
	snapshot *old = current;
	current = s;
	pthread_mutex_unlock(&current_lock);
	snapshot_unref(old);
}
