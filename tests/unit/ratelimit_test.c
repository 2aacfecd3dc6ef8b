/* ratelimit_test.c: client names of addresses */
#include "ratelimit.h"
#include "unit.h"

static void check_key(const char *addr, const char *want)
{
	char out[128];
	size_t n = rl_address_key(addr, out, sizeof(out));

	CHECK(strcmp(out, want) == 0 && n == strlen(want));
	if (strcmp(out, want) != 0)
		fprintf(stderr, "  %s: got %s, want %s\n", addr, out, want);
}

static void test_address_key(void)
{
	char small[8];

	check_key("192.0.2.1", "a:192.0.2.1");
	/* One bucket per /64, however the address is written. */
	check_key("2001:db8:1:2:3:4:5:6", "a:2001:db8:1:2::/64");
	check_key("2001:DB8:1:2::1", "a:2001:db8:1:2::/64");
	check_key("2001:0db8:0001:0002:ffff:ffff:ffff:ffff", "a:2001:db8:1:2::/64");
	check_key("2001:db8:1:3::1", "a:2001:db8:1:3::/64");
	check_key("2001:db8::1", "a:2001:db8::/64");
	check_key("fe80::1:2:3:4", "a:fe80::/64");
	check_key("::1", "a:::/64");
	/* IPv4-mapped: the IPv4 address's own bucket. */
	check_key("::ffff:192.0.2.1", "a:192.0.2.1");
	check_key("::FFFF:c000:201", "a:192.0.2.1");
	/* Deprecated IPv4-compatible form: an IPv6 address like any other. */
	check_key("::192.0.2.1", "a:::/64");
	/* Anything else is used as it is. */
	check_key("fe80::1%eth0", "a:fe80::1%eth0");
	check_key("not an address", "a:not an address");
	check_key("", "a:");
	/* Cut to the buffer, terminated. */
	CHECK(rl_address_key("2001:db8::1", small, sizeof(small)) == 7 &&
	      strcmp(small, "a:2001:") == 0);
}

int main(void)
{
	test_address_key();
	return UNIT_DONE();
}
