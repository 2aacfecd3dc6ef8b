/* store_env.c: joining the store's Berkeley DB environment */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

const char STORE_COUNTER_KEY[1] = { '\0' };

int store_env_put_record(DB *primary, DB_TXN *txn, const char *key, size_t key_len,
			 const struct record *rec)
{
	size_t size = RECORD_HEADER + rec->value_len;
	unsigned char *buf = malloc(size);
	DBT k, d;
	int ret;

	if (buf == NULL)
		return ENOMEM;
	record_pack(rec, buf);
	memset(&k, 0, sizeof(k));
	k.data = (void *)key;
	k.size = (u_int32_t)key_len;
	memset(&d, 0, sizeof(d));
	d.data = buf;
	d.size = (u_int32_t)size;
	ret = primary->put(primary, txn, &k, &d, 0);
	free(buf);
	return ret;
}

int store_env_purge_expired(DB *expiry, DB_TXN *txn, int64_t now, unsigned max,
			    unsigned *removed)
{
	unsigned char when[8];
	DBC *cursor = NULL;
	DBT skey, data;
	int ret, closed;

	*removed = 0;
	if ((ret = expiry->cursor(expiry, txn, &cursor, 0)) != 0)
		goto out;
	while (*removed < max) {
		memset(&skey, 0, sizeof(skey));
		skey.data = when;
		skey.ulen = sizeof(when);
		skey.flags = DB_DBT_USERMEM;
		memset(&data, 0, sizeof(data));
		data.flags = DB_DBT_PARTIAL;	/* the record itself is not needed */
		ret = cursor->get(cursor, &skey, &data, DB_NEXT | DB_RMW);
		if (ret == DB_NOTFOUND) {
			ret = 0;
			break;
		}
		if (ret != 0)
			goto out;
		if (skey.size != sizeof(when) || (int64_t)util_get_be64(when) > now)
			break;
		if ((ret = cursor->del(cursor, 0)) != 0)
			goto out;
		++*removed;
	}
out:
	if (cursor != NULL && (closed = cursor->close(cursor)) != 0 && ret == 0)
		ret = closed;
	return ret;
}

int store_env_configure(DB_ENV *env, uint64_t cache)
{
	int ret;

	/* failchk needs the thread table, sized before the region exists. */
	if ((ret = env->set_thread_count(env, STORE_THREADS)) != 0)
		goto out;
	if ((ret = env->set_isalive(env, is_alive)) != 0)
		goto out;
	/* For the lock waits that remain (the service's transactions do not
	 * wait: see store.c): run the deadlock detector whenever a lock
	 * request blocks, and report a timed-out wait as NOTGRANTED so that
	 * it can be told from a deadlock. */
	if ((ret = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0)
		goto out;
	if ((ret = env->set_timeout(env, STORE_LOCK_TIMEOUT_US, DB_SET_LOCK_TIMEOUT)) != 0)
		goto out;
	if ((ret = env->set_flags(env, DB_TIME_NOTGRANTED, 1)) != 0)
		goto out;
	/* The shared regions are files mapped into memory. Written out in
	 * full when created, they never need a block from a full disk later,
	 * where touching a page of a sparse file kills the process with
	 * SIGBUS in the middle of a transaction. */
	if ((ret = env->set_flags(env, DB_REGION_INIT, 1)) != 0)
		goto out;
	if ((ret = env->set_cachesize(env, (u_int32_t)(cache >> 30),
				      (u_int32_t)(cache & ((1u << 30) - 1)), 1)) != 0)
		goto out;
	ret = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
out:
	return ret;
}

/* Allocates the disk blocks of a region file up to size. */
static int region_reserve(const char *dir, const char *file, uintmax_t size)
{
	char path[4096];
	int fd, ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ret = posix_fallocate(fd, 0, (off_t)size);
	close(fd);
	return ret;
}

int store_env_reserve(DB_ENV *env, const char *dir)
{
	DB_MUTEX_STAT *mutex = NULL;
	DB_MPOOL_STAT *pool = NULL;
	int ret;

	if ((ret = env->mutex_stat(env, &mutex, 0)) != 0)
		goto out;
	if ((ret = env->memp_stat(env, &pool, NULL, 0)) != 0)
		goto out;
	/* Region files are named after their region's id: __db.002 holds
	 * the mutexes and __db.003 the cache. */
	if ((ret = region_reserve(dir, "__db.002", mutex->st_regmax)) != 0)
		goto out;
	ret = region_reserve(dir, "__db.003", pool->st_regmax);
out:
	free(mutex);
	free(pool);
	if (ret != 0)
		util_log("cannot reserve disk space for the store's shared memory: %s", db_strerror(ret));
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
	if ((ret = db->set_pagesize(db, STORE_PAGESIZE)) != 0)
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
