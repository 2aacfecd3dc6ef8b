/* error.h: the one shape in which a module reports a failure to its caller
 *
 * A client's error carries the HTTP status and the contract's code
 * (docs/API.md) and is answered as {"error": {"status", "code", "message"}}
 * by reply_error_send(). An operator's error (a configuration line, a kvctl
 * command) has status 0 and no code, and its message is printed as it is.
 * Store calls return enum store_status (store.h); this type is for what a
 * person reads. */
#ifndef KV_ERROR_H
#define KV_ERROR_H

#include <stdbool.h>

struct error {
	int status;		/* HTTP status; 0 for an operator's error */
	const char *code;	/* a static contract code; NULL for an operator's error */
	/* One line for people; for a client never a path or a library's
	 * words. Room for a quoted keypath (2048 bytes) and the sentence
	 * around it, as in "no such key: ...". */
	char message[2304];
};

/* Fills err (which may be NULL) and returns false, so that a parser can
 * end with `return error_set(err, 400, "invalid_body", "...")`. */
bool error_set(struct error *err, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* An operator's error: error_set(err, 0, NULL, fmt, ...). */
bool error_operator(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
