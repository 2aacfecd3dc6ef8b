/* confwatch.c: the configuration as a running kvd serves it, rebuilt when
 * the file changes
 *
 * A change rebuilds everything the file feeds, in a FastCGI process that
 * goes on serving, rather than ending the process for the web server to
 * start a fresh one: the request in hand when an idle process notices the
 * change must already be served with the new file, which needs the new
 * state in this process anyway; and an ending process would lose the
 * connections already queued on its socket under lighttpd and mod_fcgid
 * (one socket per process), and count as a crash to multiwatch and to
 * mod_fcgid's spawn limits. The old store is left before the new one is
 * joined: one process holds one lock on the store's lock file. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confwatch.h"
#include "util.h"

/* How often a process looks at the file: at most once a second, so that a
 * change is seen within a second of the next request after it. */
#define LOOK_INTERVAL_US 1000000

/* The operator's message names the file first, "PATH:LINE: why" or "PATH:
 * why"; the client's is "line LINE: why" or "why", never the path. */
static void client_error(struct error *out, const char *path, const char *message)
{
	size_t len = strlen(path);
	const char *why = message;
	unsigned long line = 0;
	char *end;

	if (strncmp(message, path, len) == 0 && message[len] == ':') {
		why = message + len + 1;
		if (isdigit((unsigned char)why[0])) {
			line = strtoul(why, &end, 10);
			if (end[0] == ':')
				why = end + 1;
			else
				line = 0;
		}
		while (*why == ' ')
			why++;
	}
	if (line != 0)
		error_set(out, 500, "configuration", "line %lu: %s", line, why);
	else
		error_set(out, 500, "configuration", "%s", why);
}

static void drop(struct confwatch *cw)
{
	store_free(cw->st);
	rl_free(cw->rl);
	config_free(&cw->cfg);
	cw->st = NULL;
	cw->rl = NULL;
	cw->ok = false;
}

/* Reads the file and builds the store and the rate limiter from it, all or
 * nothing. */
static void build(struct confwatch *cw)
{
	struct error err;

	cw->retry = false;
	if (!config_locate(&cw->cfg, NULL, &err)) {
		util_log("configuration: %s", err.message);
		client_error(&cw->err, cw->path, err.message);
		config_free(&cw->cfg);
		return;
	}
	cw->st = store_new(&cw->cfg);
	cw->rl = rl_new(&cw->cfg);
	if (cw->st == NULL || cw->rl == NULL) {
		util_log("out of memory");
		error_set(&cw->err, 500, "internal", "out of memory");
		drop(cw);
		cw->retry = true;
		return;
	}
	if (cw->fastcgi)
		store_watch_start(cw->st);
	cw->ok = true;
}

/* The file's identity now; *stat_errno is 0 when it has one. */
static void look(const struct confwatch *cw, struct stat *now, int *stat_errno)
{
	*stat_errno = stat(cw->path, now) == 0 ? 0 : errno;
	if (*stat_errno != 0)
		memset(now, 0, sizeof(*now));
}

/* An edit in place changes the size or the times, a replacement by rename
 * the inode, chmod the change time; nanoseconds tell apart two edits
 * within a second. */
static bool changed(const struct confwatch *cw, const struct stat *now, int stat_errno)
{
	const struct stat *was = &cw->seen;

	if (stat_errno != cw->stat_errno)
		return true;
	if (stat_errno != 0)
		return false;
	return now->st_dev != was->st_dev || now->st_ino != was->st_ino ||
	       now->st_size != was->st_size ||
	       now->st_mtim.tv_sec != was->st_mtim.tv_sec ||
	       now->st_mtim.tv_nsec != was->st_mtim.tv_nsec ||
	       now->st_ctim.tv_sec != was->st_ctim.tv_sec ||
	       now->st_ctim.tv_nsec != was->st_ctim.tv_nsec;
}

void confwatch_init(struct confwatch *cw, bool fastcgi)
{
	bool required;

	memset(cw, 0, sizeof(*cw));
	cw->fastcgi = fastcgi;
	cw->path = config_path(NULL, &required);
	/* The identity is taken before the file is read: an edit between
	 * the two is seen at the next look. */
	look(cw, &cw->seen, &cw->stat_errno);
	cw->looked_us = util_monotonic_us();
	build(cw);
}

bool confwatch_check(struct confwatch *cw)
{
	int64_t now_us = util_monotonic_us();
	struct stat now;
	int stat_errno;

	if (now_us - cw->looked_us < LOOK_INTERVAL_US)
		return false;
	cw->looked_us = now_us;
	look(cw, &now, &stat_errno);
	if (!changed(cw, &now, stat_errno) && !cw->retry)
		return false;
	cw->seen = now;
	cw->stat_errno = stat_errno;
	drop(cw);
	build(cw);
	if (cw->ok)
		util_log("configuration %s changed: now in effect", cw->path);
	return true;
}

bool confwatch_changed(const struct confwatch *cw)
{
	struct stat now;
	int stat_errno;

	look(cw, &now, &stat_errno);
	return changed(cw, &now, stat_errno);
}

void confwatch_free(struct confwatch *cw)
{
	drop(cw);
}
