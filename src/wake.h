/* wake.h: telling waiting feeds that something committed, across processes
 *
 * Every process that commits a write touches the file kv-wake in the
 * store directory (one pwrite); a process holding waiting feeds watches
 * that file with inotify, so that it wakes the moment any process of the
 * store commits, with no thread, no shared memory to damage and no
 * polling. Where inotify cannot be had (fs.inotify.max_user_instances,
 * 128 per user by default, when hundreds of CGI processes wait at once),
 * the waiter looks again every WAKE_FALLBACK_MS instead. The file's
 * content means nothing; a removed or replaced file is noticed within a
 * second by writers and waiters alike, which then use the new one.
 *
 * The file kv-watchers bounds the waiting feeds of a site (watch_max):
 * each waiting feed holds a lock on one byte of it (an open file
 * description lock), which the kernel lets go when the process ends, so a
 * killed process never leaves a slot taken. */
#ifndef KV_WAKE_H
#define KV_WAKE_H

#include <stdbool.h>
#include <sys/types.h>

#define WAKE_FILE "kv-wake"
#define WAKE_SLOTS_FILE "kv-watchers"

/* How often a waiter without inotify looks whether anything committed. */
#define WAKE_FALLBACK_MS 20

struct wake;

/* A handle for the store directory dir; files are made with mode when
 * first needed. NULL when out of memory. */
struct wake *wake_new(const char *dir, mode_t mode);
void wake_free(struct wake *w);

/* Tells every waiter of the store that a write committed. Quiet on any
 * failure: a waiter also looks on its own every second. */
void wake_bump(struct wake *w);

/* The descriptor a waiter polls for input: readable once a write has
 * committed since the last wake_drain(). -1 when there is none; poll
 * with a timeout of wake_timeout_ms() then. */
int wake_fd(struct wake *w);

/* Reads what made the descriptor readable, and once a second makes sure
 * the watched file is still the store's. */
void wake_drain(struct wake *w);

/* The longest a waiter may sleep before it must look on its own. */
int wake_timeout_ms(struct wake *w);

/* Takes one of max waiting-feed slots for this process; false when all
 * are held (or the file cannot be used, which is logged). */
bool wake_claim(struct wake *w, unsigned max, unsigned *slot);
void wake_release(struct wake *w, unsigned slot);

#endif
