/* remote.h: kvctl's client of the service's backup routes, over HTTP
 *
 * kvctl --url URL dump and load talk to GET URL/?backup=true and
 * POST URL/?load=true through libcurl, for a store that kvctl cannot open
 * (on another machine, or owned by the web server's user). The token, when
 * there is one, goes in an Authorization header and nowhere else: never in
 * a message. Each returns true on success, else false with err filled
 * (error_operator) with one line for the user. */
#ifndef KV_REMOTE_H
#define KV_REMOTE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

struct remote {
	const char *url;	/* the service's mount point: https://host/kv */
	const char *token;	/* NULL for none */
};

/* Writes the backup's lines to out as they arrive. */
bool remote_dump(const struct remote *r, FILE *out, struct error *err);

struct remote_loaded {
	uint64_t loaded, skipped;
	char versionstamp[32];
};

/* Sends the lines read from in (whole, as one request body) to be loaded. */
bool remote_load(const struct remote *r, FILE *in, struct remote_loaded *done,
		 struct error *err);

/* A site's health check (GET URL/), as kvctl replication shows it. */
struct remote_health {
	char role[16];			/* "master", "replica"; "" when not replicated */
	char master_url[512];		/* the master the site names; "" for none */
	char versionstamp[32];		/* what it has applied */
};

bool remote_health(const struct remote *r, struct remote_health *out, struct error *err);

#endif
