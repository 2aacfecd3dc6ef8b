/* unit.h: the few assertions the C unit tests need */
#ifndef KV_UNIT_H
#define KV_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond) do { \
	unit_checks++; \
	if (!(cond)) { \
		unit_failures++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

/* Exit status for automake: 0 when every check held. */
#define UNIT_DONE() ( \
	printf("%d checks, %d failed\n", unit_checks, unit_failures), \
	unit_failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE)

#endif
