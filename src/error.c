/* error.c: filling the one error type */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

static void error_vset(struct error *err, int status, const char *code, const char *fmt,
		       va_list ap)
{
	err->status = status;
	err->code = code;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

bool error_set(struct error *err, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return false;
	va_start(ap, fmt);
	error_vset(err, status, code, fmt, ap);
	va_end(ap);
	return false;
}

bool error_operator(struct error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return false;
	va_start(ap, fmt);
	error_vset(err, 0, NULL, fmt, ap);
	va_end(ap);
	return false;
}
