/* remote.c: kvctl's client of the service's backup routes, over HTTP */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "remote.h"

/* What an error's body may take: its JSON is a few hundred bytes. */
#define ERROR_BODY_MAX 4096

/* A request's answer: a 200's body goes to out (a dump) or into text (a
 * load's answer); any other status's body into text, for its message. */
struct answer {
	CURL *curl;
	FILE *out;
	char *text;
	size_t len, cap, max;
	bool write_failed;
};

static bool text_add(struct answer *a, const char *data, size_t n)
{
	char *grown;

	if (a->len + n > a->max)
		n = a->max - a->len;	/* the rest is not needed for a message */
	if (a->len + n + 1 > a->cap) {
		size_t cap = a->len + n + 1 + 1024;

		if ((grown = realloc(a->text, cap)) == NULL)
			return false;
		a->text = grown;
		a->cap = cap;
	}
	memcpy(a->text + a->len, data, n);
	a->len += n;
	a->text[a->len] = '\0';
	return true;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && a->out != NULL) {
		if (fwrite(data, 1, n, a->out) != n) {
			a->write_failed = true;
			return 0;	/* ends the transfer */
		}
		return n;
	}
	return text_add(a, data, n) ? n : 0;
}

/* URL/?name=true from the mount point, with or without its final '/'. */
static char *route_url(const char *base, const char *query)
{
	size_t len = strlen(base);
	bool slash = len > 0 && base[len - 1] == '/';
	char *url = malloc(len + strlen(query) + 3);

	if (url != NULL)
		sprintf(url, "%s%s?%s", base, slash ? "" : "/", query);
	return url;
}

/* "STATUS CODE: message" from the contract's error body, or the status
 * alone when the body is not one (a proxy's page, say). */
static bool status_error(long status, const char *text, struct error *err)
{
	struct json_object *doc = text != NULL ? json_tokener_parse(text) : NULL;
	struct json_object *e, *code, *message;
	bool ok = doc != NULL && json_object_object_get_ex(doc, "error", &e) &&
		  json_object_object_get_ex(e, "code", &code) &&
		  json_object_object_get_ex(e, "message", &message);

	if (ok)
		error_operator(err, "the service answered %ld %s: %s", status,
			       json_object_get_string(code), json_object_get_string(message));
	else
		error_operator(err, "the service answered HTTP status %ld", status);
	json_object_put(doc);
	return false;
}

/* Runs one request on curl (URL and body already set) with the token's
 * header; false with err filled unless the answer is a 200. */
static bool perform(CURL *curl, const struct remote *r, struct answer *a, const char *type,
		    struct error *err)
{
	struct curl_slist *headers = NULL, *more;
	char *auth = NULL;
	CURLcode rc;
	long status = 0;
	bool ok = false;

	if (r->token != NULL) {
		if ((auth = malloc(strlen(r->token) + sizeof("Authorization: Bearer "))) == NULL)
			goto oom;
		sprintf(auth, "Authorization: Bearer %s", r->token);
		if ((headers = curl_slist_append(NULL, auth)) == NULL)
			goto oom;
	}
	if (type != NULL) {
		if ((more = curl_slist_append(headers, type)) == NULL)
			goto oom;
		headers = more;
	}
	a->curl = curl;
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "kvctl/" PACKAGE_VERSION);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (a->write_failed)
		error_operator(err, "cannot write the output");
	else if (rc != CURLE_OK)
		error_operator(err, "%s", curl_easy_strerror(rc));
	else if (status != 200)
		status_error(status, a->text, err);
	else
		ok = true;
	goto out;
oom:
	error_operator(err, "out of memory");
out:
	curl_slist_free_all(headers);
	if (auth != NULL) {
		memset(auth, 0, strlen(auth));	/* the token */
		free(auth);
	}
	return ok;
}

bool remote_dump(const struct remote *r, FILE *out, struct error *err)
{
	struct answer a = { .out = out, .max = ERROR_BODY_MAX };
	char *url = route_url(r->url, "backup=true");
	CURL *curl = curl_easy_init();
	bool ok = false;

	if (url == NULL || curl == NULL) {
		error_operator(err, "out of memory");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	ok = perform(curl, r, &a, NULL, err);
	if (ok && fflush(out) != 0) {
		ok = false;
		error_operator(err, "cannot write the output");
	}
out:
	curl_easy_cleanup(curl);
	free(url);
	free(a.text);
	return ok;
}

/* The whole of in, which the service checks line by line before it
 * writes any: one request body. */
static char *read_all(FILE *in, size_t *len)
{
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap), *grown;

	while (buf != NULL && (got = fread(buf + n, 1, cap - n, in)) > 0) {
		n += got;
		if (n == cap) {
			grown = realloc(buf, cap *= 2);
			if (grown == NULL)
				free(buf);
			buf = grown;
		}
	}
	if (buf != NULL && ferror(in)) {
		free(buf);
		buf = NULL;
	}
	*len = n;
	return buf;
}

/* The load's answer: {"loaded", "skipped", "versionstamp"}. */
static bool parse_loaded(const char *text, struct remote_loaded *done, struct error *err)
{
	struct json_object *doc = text != NULL ? json_tokener_parse(text) : NULL;
	struct json_object *loaded, *skipped, *vs;
	bool ok = doc != NULL && json_object_object_get_ex(doc, "loaded", &loaded) &&
		  json_object_object_get_ex(doc, "skipped", &skipped) &&
		  json_object_object_get_ex(doc, "versionstamp", &vs);

	if (ok) {
		done->loaded = (uint64_t)json_object_get_int64(loaded);
		done->skipped = (uint64_t)json_object_get_int64(skipped);
		snprintf(done->versionstamp, sizeof(done->versionstamp), "%s",
			 json_object_get_string(vs));
	} else {
		error_operator(err, "the service's answer is not that of a load");
	}
	json_object_put(doc);
	return ok;
}

bool remote_load(const struct remote *r, FILE *in, struct remote_loaded *done,
		 struct error *err)
{
	struct answer a = { .max = ERROR_BODY_MAX };
	char *url = route_url(r->url, "load=true");
	CURL *curl = curl_easy_init();
	size_t len = 0;
	char *body = read_all(in, &len);
	bool ok = false;

	if (body == NULL) {
		error_operator(err, "cannot read the input");
		goto out;
	}
	if (url == NULL || curl == NULL) {
		error_operator(err, "out of memory");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	ok = perform(curl, r, &a, "Content-Type: application/x-ndjson", err) &&
	     parse_loaded(a.text, done, err);
out:
	curl_easy_cleanup(curl);
	free(url);
	free(body);
	free(a.text);
	return ok;
}

/* Copies the string at path (object keys) in doc into out, or "". */
static void json_copy(struct json_object *doc, const char *const *path, char *out, size_t size)
{
	struct json_object *at = doc;

	out[0] = '\0';
	for (; *path != NULL; path++)
		if (!json_object_object_get_ex(at, *path, &at) || at == NULL)
			return;
	if (json_object_is_type(at, json_type_string))
		snprintf(out, size, "%s", json_object_get_string(at));
}

bool remote_health(const struct remote *r, struct remote_health *out, struct error *err)
{
	static const char *const role[] = { "replication", "role", NULL };
	static const char *const master[] = { "replication", "master", "url", NULL };
	static const char *const vs[] = { "replication", "versionstamp", NULL };
	struct answer a = { .max = ERROR_BODY_MAX };
	char *url = route_url(r->url, "");
	CURL *curl = curl_easy_init();
	struct json_object *doc = NULL;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if (url == NULL || curl == NULL) {
		error_operator(err, "out of memory");
		goto out;
	}
	url[strlen(url) - 1] = '\0';	/* no query: the health check */
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
	if (!perform(curl, r, &a, NULL, err))
		goto out;
	if (a.text == NULL || (doc = json_tokener_parse(a.text)) == NULL) {
		error_operator(err, "the service's health check is not JSON");
		goto out;
	}
	json_copy(doc, role, out->role, sizeof(out->role));
	json_copy(doc, master, out->master_url, sizeof(out->master_url));
	json_copy(doc, vs, out->versionstamp, sizeof(out->versionstamp));
	ok = true;
out:
	json_object_put(doc);
	curl_easy_cleanup(curl);
	free(url);
	free(a.text);
	return ok;
}
