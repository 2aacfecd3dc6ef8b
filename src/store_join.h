/* store_join.h: joining the store's environment, and recovering it
 *
 * Many unrelated processes share one Berkeley DB environment: FastCGI
 * workers of any web server, plain CGI runs (one per request), kvctl.
 * Recovery removes the environment's regions and rebuilds them from the
 * log; run while another process still has the environment open, it pulls
 * the regions from under that process and a commit it writes meanwhile can
 * be overwritten: an acknowledged write lost. So recovery runs in exactly
 * one process, while no other is inside, and Berkeley DB's own registry
 * (DB_REGISTER) is not used: its recovery does not wait for the others.
 *
 * The lock file STORE_LOCK_FILE in the store directory arbitrates
 * (the Reference Guide's "sentinel file" for unrelated processes):
 *
 *   - a process holds a shared flock on it for as long as it has the
 *     environment open, and the kernel drops it when the process dies;
 *   - recovery runs under the exclusive flock, so with nobody inside;
 *   - the file's header says whether recovery is wanted and counts the
 *     recoveries (its generation): a process that has the environment open
 *     reads it at each request and leaves when it changed, and an idle
 *     FastCGI process's watcher thread does the same (kvdb.c), so the
 *     recovering process never waits for a request that may not come.
 *
 * A process asks for recovery when Berkeley DB says it is needed
 * (DB_RUNRECOVERY, a panic, failchk finding a process that died inside the
 * library), when its watchdog finds it stuck inside the library, in a
 * replicated store when a process died without leaving (store_join.c,
 * "slots"), and a
 * joiner does so when the regions are missing or the machine has booted
 * since the last recovery (the regions are files that outlive a boot, with
 * mutexes of processes that no longer exist).
 *
 * Waiting is polling with no lock held: a process that cannot get the lock
 * it needs holds none meanwhile, so the last one inside can always leave
 * and the recovery can always begin. */
#ifndef KV_STORE_JOIN_H
#define KV_STORE_JOIN_H

#include <stdbool.h>
#include <stdint.h>

#include <db.h>

/* The lock file; it holds no data and may be removed with the service
 * stopped (the next process to join then recovers the store). */
#define STORE_LOCK_FILE "kv.lock"

/* store_join_enter's answer when others are recovering the store, or still
 * inside it while a recovery waits, for longer than the caller would wait:
 * the request is answered 503 with Retry-After. Neither an errno value nor
 * Berkeley DB's (which are between -30999 and -30800). */
#define STORE_JOIN_BUSY (-30000)

struct store_join;

/* Applied to each new environment handle before it is opened: the error
 * callback, event notification and every setting of kvdb.c. */
typedef int (*store_join_configure_fn)(DB_ENV *env, void *arg);

/* A process's membership of the store in dir (copied), whose lock file and
 * Berkeley DB files are created with mode (less the umask); flags are
 * added to every DB_ENV->open (a replicated store's, replica.h). NULL when
 * out of memory. Nothing is opened yet. */
struct store_join *store_join_new(const char *dir, unsigned mode, uint32_t flags,
				  store_join_configure_fn configure, void *arg);

/* Leaves, then frees. */
void store_join_free(struct store_join *j);

/* Flags added to DB_ENV->open that the header does not record: they say
 * how this process uses its handle (DB_THREAD), not how the regions were
 * made, so processes that differ in them share the environment. */
void store_join_handle_flags(struct store_join *j, uint32_t flags);

/* Makes j hold the environment open, recovering it first when it needs
 * recovery and no other process is inside, waiting at most wait_ms for a
 * recovery others run. Returns 0 with *env set (j owns it), STORE_JOIN_BUSY,
 * or the errno or Berkeley DB error that stopped it (logged, except EACCES
 * and EPERM, which the caller explains). */
int store_join_enter(struct store_join *j, unsigned wait_ms, DB_ENV **env);

/* Makes every other process that holds the environment leave it and join
 * again, without a recovery: the generation in the lock file goes up by
 * one, and j keeps up with it. A replicated site's processes do so when
 * the group's membership changed (a process learns the other sites only
 * when it joins) and when a replica has caught up with its master (which
 * may have replaced its databases under older handles). */
void store_join_renew(struct store_join *j);

/* Closes the environment (its database handles must be closed first) and
 * drops the shared lock. */
void store_join_leave(struct store_join *j);

enum store_join_state {
	STORE_JOIN_CURRENT,	/* the environment j holds is the store's */
	STORE_JOIN_STALE,	/* a recovery is wanted or has run since: leave */
	STORE_JOIN_GONE,	/* the store's files were removed or replaced */
};

/* Whether the environment j holds is still the store's. The quick check,
 * at every request, reads the lock file's header and sees whether the file
 * was removed; the thorough one, before a write is acknowledged, also sees
 * whether the directory now holds another lock file (a store restored or
 * moved into place). */
enum store_join_state store_join_check(struct store_join *j, bool thorough);

/* Asks for recovery: marks the lock file and puts the environment j holds
 * in Berkeley DB's panic state, so that every process inside leaves at its
 * next call into it. */
void store_join_want_recovery(struct store_join *j);

/* The same, as far as a signal handler may go: marks the lock file of the
 * environment this process holds, if any. Async-signal-safe. */
void store_join_want_recovery_signal(void);

/* The one process of the store that runs a checkpoint: every process
 * finds one due at about the same moment, since the log's count of bytes
 * since the last one is reset only when that one ends. Claiming takes a
 * lock on one byte of the lock file past its header, without waiting;
 * true when this process holds it now. The kernel releases it when the
 * process dies or leaves the environment. */
bool store_join_checkpoint_claim(struct store_join *j);
void store_join_checkpoint_release(struct store_join *j);

/* DB_ENV->failchk on env, which j holds, in one process of the store at a
 * time: two at once both release the read locks of the same dead process,
 * and the lock table they share is left damaged (a locker freed with
 * locks, then a heap corrupted in a process that closes the environment).
 * Waits up to 2 s for another process's check to end; returns 0 without
 * checking when it does not, since that one checks, else failchk's answer
 * (DB_RUNRECOVERY when a process died inside the library). */
int store_join_failchk(struct store_join *j, DB_ENV *env);

#endif
