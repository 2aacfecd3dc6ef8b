/* replay.c: runs a fuzz target's entry point once over each file named on
 * the command line, or over every file in each directory named, so that
 * `make check` replays the seed corpora and the crash inputs that fuzzing
 * found, with the ordinary compiler and without libFuzzer. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads a whole file; returns NULL when it cannot. */
static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	data = malloc((size_t)n + 1);
	if (data != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
	}
	*size = (size_t)n;
out:
	fclose(f);
	return data;
}

static int replay_file(const char *path)
{
	size_t size = 0;
	uint8_t *data = read_file(path, &size);

	if (data == NULL) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int replay_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int failures = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		failures += replay_file(path);
		(*count)++;
	}
	closedir(d);
	return failures;
}

int main(int argc, char **argv)
{
	int failures = 0;
	unsigned count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat sb;

		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			failures += replay_dir(argv[i], &count);
		} else {
			failures += replay_file(argv[i]);
			count++;
		}
	}
	printf("%s: %u inputs replayed, %d unreadable\n", argv[0], count, failures);
	return failures == 0 && count > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
