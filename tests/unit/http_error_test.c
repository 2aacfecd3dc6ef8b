/* http_error_test.c: what each store status is in HTTP (src/http_error.c) */
#include "http_error.h"
#include "unit.h"

static void check(enum store_status status, const char *key, const char *undone, int http,
		  const char *code, const char *message, const char *headers)
{
	struct error err = { 0 };
	const char *h = http_error_from_store(status, key, undone, &err);

	CHECK(err.status == http && err.code != NULL && strcmp(err.code, code) == 0);
	CHECK(strcmp(err.message, message) == 0);
	CHECK(headers == NULL ? h == NULL : h != NULL && strcmp(h, headers) == 0);
}

int main(void)
{
	check(STORE_NOTFOUND, "a.b", NULL, 404, "not_found", "no such key: a.b", NULL);
	check(STORE_PRECONDITION, "a", "written", 412, "precondition_failed",
	      "the condition on a does not hold; nothing was written", NULL);
	check(STORE_PRECONDITION, "a", "deleted", 412, "precondition_failed",
	      "the condition on a does not hold; nothing was deleted", NULL);
	check(STORE_CHECK_FAILED, "c", "written", 409, "check_failed",
	      "the check on c does not hold; nothing was written", NULL);
	check(STORE_TYPE_MISMATCH, "n", "written", 409, "type_mismatch",
	      "n does not hold an integer; nothing was written", NULL);
	check(STORE_OVERFLOW, "n", "written", 409, "overflow",
	      "the result for n leaves the signed 64-bit range; nothing was written", NULL);
	check(STORE_BUSY, NULL, NULL, 503, "unavailable", "the store is busy; try again",
	      "Retry-After: 1\r\n");
	check(STORE_UNAVAILABLE, "a", NULL, 503, "unavailable",
	      "the store is unavailable; try again later", "Retry-After: 5\r\n");
	check(STORE_FULL, "a", "written", 503, "unavailable",
	      "the store is out of disk space; nothing was written", "Retry-After: 30\r\n");
	/* Permanent: no Retry-After, and no path or user in the message. */
	check(STORE_PERMISSION, "a", "written", 500, "store_permission",
	      "the service may not read or write the store's files; its log says which file "
	      "and how to fix it", NULL);
	check(STORE_TOO_MANY, "users", "deleted", 413, "too_many_keys",
	      "more keys lie under users than one request may delete; nothing was deleted", NULL);
	check(STORE_ERROR, "a", NULL, 500, "internal", "internal error", NULL);
	return UNIT_DONE();
}
