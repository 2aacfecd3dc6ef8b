/* util.h: number parsing, hex and time helpers shared by every module */
#ifndef KV_UTIL_H
#define KV_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

/* Parses exactly len bytes of decimal digits into *out. Rejects an empty
 * string, any sign, any other byte and overflow; *out is untouched then. */
bool util_parse_u64(const char *s, size_t len, uint64_t *out);

/* Milliseconds since the Unix epoch, from the real-time clock. */
int64_t util_now_ms(void);

/* Microseconds on a clock that never jumps, for measuring waits. */
int64_t util_monotonic_us(void);

/* Writes 2 * len lowercase hex digits to out (no terminator). */
void util_hex_encode(const unsigned char *in, size_t len, char *out);

/* Decodes len hex digits (len even, either case) into out, which holds
 * len / 2 bytes. Returns false on an odd length or a non-hex byte. */
bool util_hex_decode(const char *in, size_t len, unsigned char *out);

/* The value of one hex digit, or -1. */
int util_hex_value(unsigned char c);

/* Big-endian 64-bit loads and stores: records and the expiry index keep
 * integers big-endian so that memcmp order is numeric order. */
void util_put_be64(unsigned char *p, uint64_t v);
uint64_t util_get_be64(const unsigned char *p);

/* Length of the well-formed UTF-8 sequence at s, len > 0 bytes available
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or
 * 0 when there is none. */
size_t util_utf8_sequence(const unsigned char *s, size_t len);

/* "dir/file" in a new string, or NULL when out of memory. */
char *util_path_join(const char *dir, const char *file);

/* Writes one line to stderr, which the web server keeps in its error log,
 * prefixed with the program name and process id. */
void util_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The program name util_log's lines carry ("kvd" until set). */
void util_log_as(const char *name);

/* Set by the handler util_stop_on() installs. */
extern volatile sig_atomic_t util_stopping;

/* A long-lived process's way to end: sig_a and sig_b set util_stopping
 * and interrupt the system call under way, which is not restarted; a
 * SIGPIPE is ignored, so that a peer gone away is a write's error. */
void util_stop_on(int sig_a, int sig_b);

#endif
