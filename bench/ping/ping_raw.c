/*
 * bench/ping/ping_raw.c — the baseline for `daa ping`: the least a client
 * process can do, one connect and one hand-encoded [0, 1, "ping", []]
 * request, reading until the response is complete (a fixmap-or-larger
 * reply is taken as complete once read() returns its bytes; the daemon
 * writes a small response in one go).  libc only.
 * With a count (`ping_raw SOCKET N`) it does N round trips on one connection
 * and prints the mean in µs: the RPC cost without any process start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* One request, one response; 0 or an exit code. */
static int round_trip(int fd, const unsigned char *req, size_t len)
{
	char buf[4096];
	if (write(fd, req, len) != (ssize_t)len) {
		perror("ping_raw: write");
		return 4;
	}
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 4 || (unsigned char)buf[0] != 0x94 || buf[1] != 1) {
		fprintf(stderr, "ping_raw: unexpected reply\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned char req[] = {0x94, 0x00, 0x01, 0xa4, 'p', 'i', 'n', 'g', 0x90};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (argc < 2 || argc > 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: ping_raw SOCKET [COUNT]\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("ping_raw: connect");
		return 4;
	}
	long count = argc == 3 ? strtol(argv[2], NULL, 10) : 1;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < count; i++) {
		int rc = round_trip(fd, req, sizeof(req));
		if (rc)
			return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (argc == 3 && count > 0)
		printf("%lld\n", ((long long)(b.tv_sec - a.tv_sec) * 1000000000LL +
				  (b.tv_nsec - a.tv_nsec)) / 1000 / count);
	close(fd);
	return 0;
}
