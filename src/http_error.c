/* http_error.c: the HTTP answer to a store call that did not succeed */
#include <stddef.h>

#include "http_error.h"

const char *http_error_from_store(enum store_status status, const char *key, const char *undone,
				  struct error *err)
{
	if (key == NULL)
		key = "";
	switch (status) {
	case STORE_NOTFOUND:
		error_set(err, 404, "not_found", "no such key: %s", key);
		return NULL;
	case STORE_PRECONDITION:
		error_set(err, 412, "precondition_failed",
			  "the condition on %s does not hold; nothing was %s", key, undone);
		return NULL;
	case STORE_CHECK_FAILED:
		error_set(err, 409, "check_failed",
			  "the check on %s does not hold; nothing was written", key);
		return NULL;
	case STORE_TYPE_MISMATCH:
		error_set(err, 409, "type_mismatch",
			  "%s does not hold an integer; nothing was written", key);
		return NULL;
	case STORE_OVERFLOW:
		error_set(err, 409, "overflow",
			  "the result for %s leaves the signed 64-bit range; nothing was written", key);
		return NULL;
	case STORE_BUSY:
		error_set(err, 503, "unavailable", "the store is busy; try again");
		return "Retry-After: 1\r\n";
	case STORE_UNAVAILABLE:
		error_set(err, 503, "unavailable", "the store is unavailable; try again later");
		return "Retry-After: 5\r\n";
	case STORE_FULL:
		error_set(err, 503, "unavailable", "the store is out of disk space; nothing was written");
		return "Retry-After: 30\r\n";
	case STORE_TOO_MANY:
		error_set(err, 413, "too_many_keys",
			  "more keys lie under %s than one request may delete; nothing was deleted",
			  key);
		return NULL;
	case STORE_PERMISSION:
		/* Permanent: no Retry-After. The log names the file and the user. */
		error_set(err, 500, "store_permission",
			  "the service may not read or write the store's files; "
			  "its log says which file and how to fix it");
		return NULL;
	case STORE_GONE:
		error_set(err, 410, "changes_expired",
			  "the store no longer keeps the changes after that versionstamp; "
			  "list again and follow the feed from the list's versionstamp");
		return NULL;
	case STORE_AHEAD:
		error_set(err, 400, "invalid_query", "since is ahead of the store's versionstamp");
		return NULL;
	case STORE_NOT_MASTER:
	case STORE_NO_MASTER:
		/* Answered by redirect_send() where a request can go elsewhere. */
		error_set(err, 503, "unavailable", "this site is not the master; try again");
		return "Retry-After: 1\r\n";
	case STORE_UNCERTAIN:
		error_set(err, 503, "outcome_unknown",
			  "the write was committed at the master but the group did not acknowledge "
			  "it in time: it may or may not survive a failover; read it back, or try "
			  "again if it is safe to repeat");
		return "Retry-After: 1\r\n";
	case STORE_INVALID:
		error_set(err, 400, "invalid_header", "a header's value is not valid");
		return NULL;
	case STORE_OK:
	case STORE_ERROR:
		break;
	}
	error_set(err, 500, "internal", "internal error");
	return NULL;
}
