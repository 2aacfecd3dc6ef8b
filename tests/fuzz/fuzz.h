/* fuzz.h: the entry point every fuzz target defines
 *
 * Each tests/fuzz/NAME_fuzz.c is one parser of outside input. libFuzzer
 * (clang -fsanitize=fuzzer, script/fuzz) calls the entry point with
 * generated inputs; tests/fuzz/replay.c calls it with the files of the seed
 * corpus and of the crash inputs, so that the ordinary build replays them
 * in `make check`. A target aborts when the parser breaks one of its own
 * promises, which both drivers report as a failure. */
#ifndef KV_FUZZ_H
#define KV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: abort, so that the fuzzer keeps the input. */
#define FUZZ_REQUIRE(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#endif
