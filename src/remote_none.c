/* remote_none.c: the --url client of a kvctl built without libcurl
 *
 * The static kvctl of the upload kit cannot link libcurl: Debian ships no
 * static archives of several libraries it needs. That kvctl works on the
 * store's files like any other, and says so when asked for --url. */
#include "remote.h"

static bool remote_unavailable(struct error *err)
{
	return error_operator(err, "this kvctl was built without --url (the static one of the "
			      "upload kit); use a kvctl built with libcurl, such as the installed one");
}

bool remote_dump(const struct remote *r, FILE *out, struct error *err)
{
	return remote_unavailable(err);
}

bool remote_load(const struct remote *r, FILE *in, struct remote_loaded *done,
		 struct error *err)
{
	return remote_unavailable(err);
}

bool remote_health(const struct remote *r, struct remote_health *out, struct error *err)
{
	return remote_unavailable(err);
}
