/* replica.c: this site's part in a replicated group, on Berkeley DB's
 * Replication Manager */
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replica.h"
#include "util.h"

/* Timeouts of the Replication Manager, in microseconds. A master that
 * stops sending (killed, or cut off by the network, where no connection
 * breaks) is noticed after HEARTBEAT_MONITOR; an election then takes at
 * most ELECTION_TIMEOUT and is tried again after ELECTION_RETRY; a lost
 * connection is tried again after CONNECTION_RETRY (the library waits 30 s
 * by default, which would keep a restarted site out for that long). */
#define HEARTBEAT_SEND_US (500 * 1000)
#define HEARTBEAT_MONITOR_US (2000 * 1000)
#define ELECTION_TIMEOUT_US (2000 * 1000)
#define ELECTION_RETRY_US (1000 * 1000)
#define CONNECTION_RETRY_US (1000 * 1000)

/* A replica missing a log record asks for it again after REQUEST_MIN_US,
 * doubling up to REQUEST_MAX_US. */
#define REQUEST_MIN_US 1000
#define REQUEST_MAX_US (32 * 1000)

uint32_t replica_open_flags(const struct config *cfg)
{
	/* The Replication Manager's own threads share the environment
	 * handle with the process's. */
	return cfg->replication ? DB_INIT_REP | DB_THREAD : 0;
}

static int site_add(DB_ENV *env, const struct config_site *s, uint32_t which, bool creator)
{
	DB_SITE *site = NULL;
	int ret;

	if ((ret = env->repmgr_site(env, s->host, s->port, &site, 0)) != 0)
		return ret;
	ret = site->set_config(site, which, 1);
	if (ret == 0 && creator)
		ret = site->set_config(site, DB_GROUP_CREATOR, 1);
	site->close(site);
	return ret;
}

static uint32_t ack_policy(enum config_ack ack)
{
	switch (ack) {
	case CONFIG_ACK_ALL:
		return DB_REPMGR_ACKS_ALL;
	case CONFIG_ACK_ONE:
		return DB_REPMGR_ACKS_ONE;
	case CONFIG_ACK_QUORUM:
		break;
	}
	return DB_REPMGR_ACKS_QUORUM;
}

static int timeouts_set(DB_ENV *env, const struct config *cfg)
{
	const struct { int which; uint32_t us; } t[] = {
		{ DB_REP_ACK_TIMEOUT, cfg->ack_timeout_ms * 1000u },
		{ DB_REP_HEARTBEAT_SEND, HEARTBEAT_SEND_US },
		{ DB_REP_HEARTBEAT_MONITOR, HEARTBEAT_MONITOR_US },
		{ DB_REP_ELECTION_TIMEOUT, ELECTION_TIMEOUT_US },
		{ DB_REP_ELECTION_RETRY, ELECTION_RETRY_US },
		{ DB_REP_CONNECTION_RETRY, CONNECTION_RETRY_US },
		/* A master's checkpoint would otherwise wait 30 s for the
		 * replicas' before it ends, holding every writer back. */
		{ DB_REP_CHECKPOINT_DELAY, 0 },
	};
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < sizeof(t) / sizeof(t[0]); i++)
		ret = env->rep_set_timeout(env, t[i].which, t[i].us);
	return ret;
}

int replica_configure(DB_ENV *env, const struct config *cfg)
{
	int ret;

	if (!cfg->replication)
		return 0;
	if ((ret = site_add(env, &cfg->site, DB_LOCAL_SITE, cfg->group_creator)) != 0)
		return ret;
	for (size_t i = 0; i < cfg->peers.n; i++)
		if ((ret = site_add(env, &cfg->peers.v[i], DB_BOOTSTRAP_HELPER, false)) != 0)
			return ret;
	if ((ret = env->repmgr_set_ack_policy(env, (int)ack_policy(cfg->ack))) != 0)
		return ret;
	if ((ret = env->rep_set_priority(env, cfg->priority)) != 0)
		return ret;
	/* Each process of the master sends its own commits on connections of
	 * its own, so a replica often gets a record before the one it
	 * follows; the library waits 40 ms by default before it asks for
	 * what seems missing, and a write waits for that. */
	if ((ret = env->rep_set_request(env, REQUEST_MIN_US, REQUEST_MAX_US)) != 0)
		return ret;
	/* A replica writes what it receives as the master commits: to the
	 * operating system with sync = off (a crashed process loses none of
	 * it), flushed to disk before it acknowledges with sync = on. */
	if ((ret = env->set_flags(env, DB_TXN_WRITE_NOSYNC, !cfg->sync)) != 0)
		return ret;
	/* A transaction's log records leave in one message at its commit,
	 * not one each: each message after the first would wait on the
	 * connection for the acknowledgement of the one before. */
	if ((ret = env->rep_set_config(env, DB_REP_CONF_BULK, 1)) != 0)
		return ret;
	return timeouts_set(env, cfg);
}

int replica_start(DB_ENV *env, int threads, bool *listener)
{
	int ret = env->repmgr_start(env, threads, DB_REP_ELECTION);

	*listener = ret == 0;
	return ret == DB_REP_IGNORE ? 0 : ret;
}

void replica_tcp_nodelay(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr), tlen;
		int fd, type = 0, one = 1;
		char *end;

		fd = (int)strtol(e->d_name, &end, 10);
		if (*end != '\0' || fd == dirfd(d))
			continue;
		tlen = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM)
			continue;
		if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0 ||
		    (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
			continue;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	closedir(d);
}

/* The connections to other sites a write needs for its acknowledgements. */
static unsigned connections_needed(const struct config *cfg)
{
	size_t others = cfg->peers.n;

	switch (cfg->ack) {
	case CONFIG_ACK_ALL:
		return (unsigned)others;
	case CONFIG_ACK_ONE:
		return others > 0 ? 1 : 0;
	case CONFIG_ACK_QUORUM:
		break;
	}
	/* A majority of the group, this site being one of it. */
	return (unsigned)((others + 1) / 2);
}

static unsigned connections(DB_ENV *env)
{
	DB_REPMGR_SITE *list = NULL;
	unsigned n = 0;
	u_int count = 0;

	if (env->repmgr_site_list(env, &count, &list) != 0)
		return 0;
	for (u_int i = 0; i < count; i++)
		if (list[i].status == DB_REPMGR_CONNECTED)
			n++;
	free(list);
	return n;
}

void replica_await_connections(DB_ENV *env, const struct config *cfg, unsigned wait_ms)
{
	int64_t deadline = util_monotonic_us() + (int64_t)wait_ms * 1000;
	unsigned needed = connections_needed(cfg);

	while (connections(env) < needed && util_monotonic_us() < deadline)
		usleep(5000);
}

/* The configured site at host:port: this one, a peer, or NULL. */
static const struct config_site *configured(const struct config *cfg, const char *host,
					    unsigned port)
{
	if (cfg->site.host != NULL && cfg->site.port == port && strcmp(cfg->site.host, host) == 0)
		return &cfg->site;
	for (size_t i = 0; i < cfg->peers.n; i++)
		if (cfg->peers.v[i].port == port && strcmp(cfg->peers.v[i].host, host) == 0)
			return &cfg->peers.v[i];
	return NULL;
}

/* The master's entry in cfg, when this process is connected to it: a
 * replica whose master went away (killed, cut off) knows no master to
 * send a client to until an election gives it one. */
static const struct config_site *reachable_master(DB_ENV *env, const struct config *cfg, int eid)
{
	const struct config_site *found = NULL;
	DB_REPMGR_SITE *list = NULL;
	u_int count = 0;

	if (env->repmgr_site_list(env, &count, &list) != 0)
		return NULL;
	for (u_int i = 0; i < count; i++)
		if (list[i].eid == eid && list[i].status == DB_REPMGR_CONNECTED)
			found = configured(cfg, list[i].host, list[i].port);
	free(list);
	return found;
}

int replica_state(DB_ENV *env, const struct config *cfg, struct replica_state *out)
{
	DB_REP_STAT *sp = NULL;
	int ret;

	out->role = REPLICA_NO_MASTER;
	out->master = NULL;
	out->quorum = false;
	if ((ret = env->rep_stat(env, &sp, 0)) != 0)
		return ret;
	if (sp->st_status == DB_REP_MASTER) {
		out->role = REPLICA_MASTER;
		out->master = &cfg->site;
		out->quorum = connections(env) >= connections_needed(cfg);
	} else if (sp->st_master != DB_EID_INVALID &&
		   (out->master = reachable_master(env, cfg, sp->st_master)) != NULL) {
		out->role = REPLICA_CLIENT;
	}
	free(sp);
	return 0;
}

void replica_token_format(const DB_TXN_TOKEN *token, char out[REPLICA_TOKEN_TEXT + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < DB_TXN_TOKEN_SIZE; i++) {
		out[2 * i] = hex[token->buf[i] >> 4];
		out[2 * i + 1] = hex[token->buf[i] & 15];
	}
	out[REPLICA_TOKEN_TEXT] = '\0';
}

bool replica_token_parse(const char *text, DB_TXN_TOKEN *token)
{
	if (strlen(text) != REPLICA_TOKEN_TEXT)
		return false;
	return util_hex_decode(text, REPLICA_TOKEN_TEXT, token->buf);
}

int replica_sites(DB_ENV *env, const struct config *cfg, struct replica_site *sites,
		  size_t max, size_t *n)
{
	struct replica_state state;
	DB_REPMGR_SITE *list = NULL;
	u_int count = 0;
	int ret;

	*n = 0;
	if ((ret = replica_state(env, cfg, &state)) != 0)
		return ret;
	if ((ret = env->repmgr_site_list(env, &count, &list)) != 0)
		return ret;
	if (max > 0) {
		struct replica_site *self = &sites[(*n)++];

		memset(self, 0, sizeof(*self));
		snprintf(self->address, sizeof(self->address), "%s:%u", cfg->site.host,
			 (unsigned)cfg->site.port);
		self->self = true;
		self->connected = true;
		self->master = state.role == REPLICA_MASTER;
		self->configured = &cfg->site;
	}
	for (u_int i = 0; i < count && *n < max; i++) {
		struct replica_site *s = &sites[(*n)++];

		memset(s, 0, sizeof(*s));
		snprintf(s->address, sizeof(s->address), "%s:%u", list[i].host, list[i].port);
		s->connected = list[i].status == DB_REPMGR_CONNECTED;
		s->configured = configured(cfg, list[i].host, list[i].port);
		s->master = state.role == REPLICA_CLIENT && state.master != NULL &&
			    state.master == s->configured;
	}
	free(list);
	return 0;
}

int replica_remove_site(DB_ENV *env, const char *host, unsigned port)
{
	DB_SITE *site = NULL;
	int ret;

	if ((ret = env->repmgr_site(env, host, port, &site, 0)) != 0)
		return ret;
	/* remove() frees the handle, whatever it returns. */
	return site->remove(site);
}

const char *replica_event_text(uint32_t event)
{
	switch (event) {
	case DB_EVENT_REP_MASTER:
		return "replication: this site is now the master";
	case DB_EVENT_REP_CLIENT:
		return "replication: this site is now a replica";
	case DB_EVENT_REP_NEWMASTER:
		return "replication: the group has a new master";
	case DB_EVENT_REP_DUPMASTER:
		return "replication: another master was found; this site steps down";
	case DB_EVENT_REP_ELECTION_FAILED:
		return "replication: an election failed; it will be tried again";
	case DB_EVENT_REP_STARTUPDONE:
		return "replication: this replica has caught up with the master";
	case DB_EVENT_REP_JOIN_FAILURE:
		return "replication: this site could not join its group";
	case DB_EVENT_REP_LOCAL_SITE_REMOVED:
		return "replication: this site was removed from the group";
	case DB_EVENT_REP_SITE_ADDED:
		return "replication: a site joined the group";
	case DB_EVENT_REP_SITE_REMOVED:
		return "replication: a site left the group";
	default:
		return NULL;
	}
}
