/* confwatch.h: the configuration as a running kvd serves it, and what is
 * built from it (the store, the rate limiter), rebuilt when the file changes
 *
 * A change to the configuration file takes effect within 2 seconds in every
 * process (docs/API.md): a FastCGI process looks at the file at most once a
 * second, before a request and after one, and when it changed builds the
 * whole state again from the new file, the store and the rate limiter
 * included, so that no request is served by a mix of the two files. A file
 * that cannot be read or has a bad line leaves no state: every request is
 * then answered 500 configuration, naming the line but never the path, until
 * the file is fixed. */
#ifndef KV_CONFWATCH_H
#define KV_CONFWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "config.h"
#include "error.h"
#include "ratelimit.h"
#include "store.h"

struct confwatch {
	/* Set together from one reading of the file, or not at all. */
	struct config cfg;
	struct store *st;
	struct ratelimit *rl;
	bool ok;
	/* When !ok: the client's 500 (configuration, or internal when out of
	 * memory). */
	struct error err;

	const char *path;	/* the file, as config_path() names it */
	bool fastcgi;		/* start the store's watcher thread */
	int stat_errno;		/* 0: seen describes the file read */
	struct stat seen;
	bool retry;		/* read again at the next look, changed or not */
	int64_t looked_us;	/* monotonic time of the last look */
};

/* Reads the configuration file and builds the state from it. Never fails:
 * a bad file leaves cw->ok false and cw->err set, logged. */
void confwatch_init(struct confwatch *cw, bool fastcgi);

/* At most once a second, looks whether the file changed (its inode,
 * size, modification or change time, or whether it exists) and, when it
 * did, builds the state again from it. Returns true when it did. */
bool confwatch_check(struct confwatch *cw);

/* Whether the file differs from the one in effect, without reading it:
 * for a plain CGI process that waits for a change feed, which ends then
 * (its answer would be the old file's). */
bool confwatch_changed(const struct confwatch *cw);

void confwatch_free(struct confwatch *cw);

#endif
