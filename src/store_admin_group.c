/* store_admin_group.c: kvctl's hand on a replicated group: removing a site */
#include "replica.h"
#include "store_admin_ops.h"

struct site_address {
	const char *host;
	unsigned port;
};

static int remove_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	const struct site_address *a = arg;

	return replica_remove_site(kvdb_env(db), a->host, a->port);
}

enum store_status store_admin_remove_site(struct store_admin *sa, const char *host,
					  unsigned port, struct error *err)
{
	struct site_address a = { host, port };
	enum store_status status;

	if (!sa->cfg->replication) {
		error_operator(err, "the configuration does not say replication = on");
		return STORE_ERROR;
	}
	status = kvdb_run(sa->db, false, remove_body, &a);
	return status == STORE_OK ? STORE_OK : store_admin_fail(sa->db, status, err);
}
