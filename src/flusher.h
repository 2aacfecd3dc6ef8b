/* flusher.h: a FastCGI process's thread that writes the store's cache out
 * before a checkpoint
 *
 * A checkpoint must write every page dirty when it starts and hand the
 * data files to the disk, and it does so holding the versionstamp
 * counter's lock, so every writer of the store waits for it (kvdb.c,
 * "checkpoints"). The work before it, writing the dirty pages of the
 * shared cache to the files (DB_ENV->memp_trickle) and flushing the files
 * (fdatasync), holds no lock; done between two requests it held the
 * requests the web server queued at the process meanwhile, tens to
 * hundreds of milliseconds every checkpoint.
 *
 * The flusher does that work on a thread of its own while the process goes
 * on serving: the main thread asks it when a checkpoint is due, and runs
 * the short locked part once it has finished. The environment handle it
 * uses must be free-threaded (DB_THREAD). Plain CGI, which makes one
 * request, has no flusher and does the work itself. */
#ifndef KV_FLUSHER_H
#define KV_FLUSHER_H

#include <stdbool.h>

#include <db.h>

struct flusher;

/* A flusher for the store in dir, its thread started; NULL when the thread
 * or memory could not be had (the caller then does the work itself). */
struct flusher *flusher_new(const char *dir);

/* Asks for the cache of env to be written out and the data files flushed,
 * unless that is under way; never waits for the thread. True when a flush
 * asked for before has finished since (the locked part may run now); the
 * next call then asks again. */
bool flusher_ready(struct flusher *f, DB_ENV *env);

/* True when a flush finished that flusher_ready has not yet reported; a
 * look without waiting, for the end of each request. */
bool flusher_finished(struct flusher *f);

/* Forgets env before it is closed: waits for a flush under way to end,
 * at most wait_seconds. False when it did not end: the thread is stuck
 * inside the store (on a mutex of a process that died in it), and env
 * must not be closed under it. */
bool flusher_forget(struct flusher *f, unsigned wait_seconds);

/* Ends the thread (after the flush under way) and frees f. */
void flusher_free(struct flusher *f);

#endif
