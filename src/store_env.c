/* store_env.c: joining the store's Berkeley DB environment */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>

#include "record.h"
#include "store_env.h"
#include "util.h"

/* Whether a process that joined the environment still runs; failchk uses
 * it to release what a killed process left behind. */
static int is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

int store_env_configure(DB_ENV *env, uint64_t cache)
{
	int ret;

	/* failchk needs the thread table, sized before the region exists. */
	if ((ret = env->set_thread_count(env, STORE_THREADS)) != 0)
		goto out;
	if ((ret = env->set_isalive(env, is_alive)) != 0)
		goto out;
	/* Run the deadlock detector whenever a lock request blocks; lock
	 * timeouts are only checked then, and come back as NOTGRANTED so
	 * that they can be told from deadlocks. */
	if ((ret = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0)
		goto out;
	if ((ret = env->set_timeout(env, STORE_LOCK_TIMEOUT_US, DB_SET_LOCK_TIMEOUT)) != 0)
		goto out;
	if ((ret = env->set_flags(env, DB_TIME_NOTGRANTED, 1)) != 0)
		goto out;
	if ((ret = env->set_cachesize(env, (u_int32_t)(cache >> 30),
				      (u_int32_t)(cache & ((1u << 30) - 1)), 1)) != 0)
		goto out;
	ret = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
out:
	return ret;
}

int store_env_db_open(DB_ENV *env, DB **out, const char *file, uint32_t db_flags)
{
	DB *db = NULL;
	int ret;

	if ((ret = db_create(&db, env, 0)) != 0)
		goto out;
	if (db_flags != 0 && (ret = db->set_flags(db, db_flags)) != 0)
		goto out;
	/* DB_AUTO_COMMIT: a handle opened outside a transaction can never
	 * join one later. */
	if ((ret = db->open(db, NULL, file, NULL, DB_BTREE,
			    DB_CREATE | DB_AUTO_COMMIT, 0660)) != 0)
		goto out;
	*out = db;
	db = NULL;
out:
	if (db != NULL)
		db->close(db, 0);
	return ret;
}

int store_env_expiry_of(DB *secondary, const DBT *key, const DBT *data, DBT *skey)
{
	const unsigned char *rec = data->data;

	if (data->size < RECORD_HEADER || util_get_be64(rec + RECORD_EXPIRY_OFFSET) == 0)
		return DB_DONOTINDEX;
	memset(skey, 0, sizeof(*skey));
	skey->data = (void *)(rec + RECORD_EXPIRY_OFFSET);
	skey->size = 8;
	return 0;
}
