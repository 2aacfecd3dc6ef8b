/* flusher.c: see flusher.h */
#include "flusher.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "changelog.h"
#include "kvdb.h"
#include "util.h"

/* Rounds of writing the cache and flushing the files: pages that writers
 * dirty during a round are written by the next, so the checkpoint's locked
 * part finds only what the last round's flush gave them time for. */
#define FLUSH_ROUNDS 2

static const char *const data_files[] = { KVDB_PRIMARY_FILE, KVDB_EXPIRY_FILE, CHANGELOG_FILE };
#define DATA_FILES (sizeof(data_files) / sizeof(data_files[0]))

struct flusher {
	pthread_t thread;
	/* Held by the thread while it flushes; everything below is under it. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	DB_ENV *env;		/* to flush, or NULL once forgotten */
	bool asked;
	bool done;		/* a flush finished since the last ready answer */
	atomic_bool finished;	/* done, for a look without the mutex */
	bool stopping;
	char *paths[DATA_FILES];
};

/* Hands a data file's pages that the operating system holds to the disk.
 * Any descriptor of the file will do, so the thread opens its own rather
 * than borrow one of the database handles, which the main thread may close
 * meanwhile. A file that cannot be opened is left to the checkpoint. */
static void file_flush(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)fdatasync(fd);
	close(fd);
}

static void flush(struct flusher *f)
{
	int wrote;

	for (int round = 0; round < FLUSH_ROUNDS; round++) {
		/* A trickle skips the pages a writer holds rather than wait. */
		(void)f->env->memp_trickle(f->env, 100, &wrote);
		for (size_t i = 0; i < DATA_FILES; i++)
			file_flush(f->paths[i]);
	}
}

static void *flusher_main(void *arg)
{
	struct flusher *f = arg;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->asked && !f->stopping)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stopping)
			break;
		f->asked = false;
		if (f->env != NULL) {
			flush(f);
			f->done = true;
			atomic_store(&f->finished, true);
		}
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static void paths_free(struct flusher *f)
{
	for (size_t i = 0; i < DATA_FILES; i++)
		free(f->paths[i]);
}

struct flusher *flusher_new(const char *dir)
{
	struct flusher *f = calloc(1, sizeof(*f));
	sigset_t all, old;
	int ret;

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < DATA_FILES; i++)
		if ((f->paths[i] = util_path_join(dir, data_files[i])) == NULL)
			goto fail;
	if (pthread_mutex_init(&f->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&f->cv, NULL) != 0) {
		pthread_mutex_destroy(&f->mu);
		goto fail;
	}
	/* Signals stay with the main thread: libfcgi's SIGTERM, the watchdog. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&f->thread, NULL, flusher_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret == 0)
		return f;
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
fail:
	paths_free(f);
	free(f);
	return NULL;
}

bool flusher_ready(struct flusher *f, DB_ENV *env)
{
	bool ready = false;

	/* Busy: the thread is flushing now. */
	if (pthread_mutex_trylock(&f->mu) != 0)
		return false;
	if (f->done && f->env == env) {
		ready = true;
		f->done = false;
		atomic_store(&f->finished, false);
	} else if (!f->asked) {
		f->env = env;
		f->done = false;
		atomic_store(&f->finished, false);
		f->asked = true;
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return ready;
}

bool flusher_forget(struct flusher *f, unsigned wait_seconds)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_seconds;
	if (pthread_mutex_timedlock(&f->mu, &until) != 0)
		return false;
	f->env = NULL;
	f->asked = false;
	f->done = false;
	atomic_store(&f->finished, false);
	pthread_mutex_unlock(&f->mu);
	return true;
}

bool flusher_finished(struct flusher *f)
{
	return atomic_load(&f->finished);
}

void flusher_free(struct flusher *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stopping = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	paths_free(f);
	free(f);
}
