/* ratelimit.h: a token bucket per client, shared by every process of a store
 *
 * The buckets live in one small file in the store directory, mapped shared
 * by each process, so a client cannot multiply its budget by landing on
 * several FastCGI processes (or plain CGI runs). */
#ifndef KV_RATELIMIT_H
#define KV_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The file in the store directory; the name carries the table's layout
 * (RL_VERSION in ratelimit_table.h). */
#define RL_FILE "kv-ratelimit.2"

struct ratelimit;

enum rl_status {
	RL_ALLOW,
	RL_DENY,		/* the budget is spent: 429 */
	RL_UNAVAILABLE,		/* the shared table cannot be opened; logged */
	RL_UNCHECKED,		/* the table's lock is held too long: the request
				 * passes uncounted (fail open); logged */
	RL_PERMISSION,		/* this process's user may not use the table or
				 * the store directory: permanent; logged */
};

/* What the RateLimit-* and Retry-After headers say. */
struct rl_verdict {
	uint32_t limit;		/* the burst */
	uint32_t remaining;	/* requests left right now */
	uint32_t reset_s;	/* seconds until the bucket is full again */
	uint32_t retry_after_s;	/* RL_DENY: seconds until one more request fits */
};

/* A process's handle on the table of cfg's store, which it opens on first
 * use (the store directory may not exist yet at start-up). cfg must outlive
 * it. NULL only when out of memory. */
struct ratelimit *rl_new(const struct config *cfg);
void rl_free(struct ratelimit *rl);

/* Takes one request from the bucket named client (len bytes; a longer name
 * than the table holds is cut). Fills v either way. The shared file is
 * checked first: one removed or replaced is followed, a damaged one
 * rebuilt (the limiter resets; logged). */
enum rl_status rl_take(struct ratelimit *rl, const char *client, size_t len,
		       struct rl_verdict *v);

/* The bucket name of a client without a token, from its REMOTE_ADDR: "a:"
 * and the IPv4 address, or the /64 prefix of an IPv6 address ("a:2001:db8::/64":
 * one host commonly has a whole /64 to pick addresses from), written
 * canonically. An IPv4-mapped IPv6 address is its IPv4 address; text that
 * is neither is used as it is. Returns the length written to out (which is
 * always terminated; size > 0). */
size_t rl_address_key(const char *addr, char *out, size_t size);

/* The arithmetic of one bucket, apart from the table so that it can be
 * tested alone: generic cell rate, where a bucket is the time *tat at which
 * it would be full again. interval_ns is the time one request earns back,
 * burst the bucket's size. Updates *tat when it allows. */
bool rl_bucket_take(int64_t *tat, int64_t now, int64_t interval_ns, uint32_t burst,
		    struct rl_verdict *v);

#endif
