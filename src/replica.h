/* replica.h: this site's part in a replicated group, on Berkeley DB's
 * Replication Manager
 *
 * A replicated store is one Berkeley DB environment per site, opened with
 * DB_INIT_REP and DB_THREAD by every process that uses it. Every process
 * starts the Replication Manager after joining (replica_start): the first
 * one to do so at a site (normally the long-lived kvd --replicate) opens
 * the listening socket and runs the group's messages and elections, the
 * others are its subordinates, which send their own commits to the group.
 * The library decides who is master; this module only asks it, and maps
 * its answers to what the service tells clients. Part of the database
 * core: only kvdb.c and kvctl's administration include it. */
#ifndef KV_REPLICA_H
#define KV_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <db.h>

#include "config.h"

/* A commit token as text: two hex digits per byte of DB_TXN_TOKEN. */
#define REPLICA_TOKEN_TEXT (2 * DB_TXN_TOKEN_SIZE)

/* The environment flags a replicated store adds to every open. */
uint32_t replica_open_flags(const struct config *cfg);

/* Before DB_ENV->open: this site, the others, the acknowledgement policy,
 * its timeout and the election priority. */
int replica_configure(DB_ENV *env, const struct config *cfg);

/* After DB_ENV->open: starts the Replication Manager in this process.
 * *listener tells whether this process became the site's replication
 * process. DB_REP_UNAVAIL: a new site found no master to join yet. */
int replica_start(DB_ENV *env, int threads, bool *listener);

/* After replica_start: waits up to wait_ms until this process is
 * connected to as many other sites as a write's acknowledgements need
 * (one for ack = one or quorum in a group of three, every other site for
 * all). A process that commits before its connections are up has its
 * commit refused as unacknowledged at once. */
void replica_await_connections(DB_ENV *env, const struct config *cfg, unsigned wait_ms);

/* Sets TCP_NODELAY on every TCP socket of the process: the Replication
 * Manager's connections, which it opens without. A small message (an
 * acknowledgement, a commit's records) sent while the one before is not
 * yet acknowledged by TCP would otherwise wait for that acknowledgement,
 * which the other side delays by 40 ms; a write waits for both. Called
 * after the connections are made and every so often for new ones. */
void replica_tcp_nodelay(void);

enum replica_role {
	REPLICA_MASTER,
	REPLICA_CLIENT,		/* a replica that knows its master */
	REPLICA_NO_MASTER,	/* a replica during an election, or cut off */
};

/* What this site is now, and the master's entry in cfg (the site itself,
 * one of the peers, or NULL when none is known or it is not configured). */
struct replica_state {
	enum replica_role role;
	const struct config_site *master;
	bool quorum;	/* a master connected to as many sites as its writes
			 * need: no other master can have been elected */
};

int replica_state(DB_ENV *env, const struct config *cfg, struct replica_state *out);

/* A token as text and back; false for text that is not one. */
void replica_token_format(const DB_TXN_TOKEN *token, char out[REPLICA_TOKEN_TEXT + 1]);
bool replica_token_parse(const char *text, DB_TXN_TOKEN *token);

/* One line per site of the group as this site sees it, for kvctl:
 * address, whether connected, and which one is master. */
struct replica_site {
	char address[300];
	bool self;
	bool connected;
	bool master;
	const struct config_site *configured;	/* its line in cfg, or NULL */
};

/* Fills up to max entries; *n is how many. */
int replica_sites(DB_ENV *env, const struct config *cfg, struct replica_site *sites,
		  size_t max, size_t *n);

/* Removes the site at host:port from the group's membership (asking the
 * master when this site is not it). */
int replica_remove_site(DB_ENV *env, const char *host, unsigned port);

/* Names an event of the Replication Manager worth a line in the log, or
 * NULL for one that is not. */
const char *replica_event_text(uint32_t event);

#endif
