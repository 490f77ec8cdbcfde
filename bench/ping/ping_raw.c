/*
 * bench/ping/ping_raw.c — the baseline for `daa ping`: the least a client
 * process can do, one connect and one hand-encoded [0, 1, "ping", []]
 * request, reading until the response is complete (a fixmap-or-larger
 * reply is taken as complete once read() returns its bytes; the daemon
 * writes a small response in one go).  libc only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const unsigned char req[] = {0x94, 0x00, 0x01, 0xa4, 'p', 'i', 'n', 'g', 0x90};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: ping_raw SOCKET\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("ping_raw: connect");
		return 4;
	}
	if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req)) {
		perror("ping_raw: write");
		return 4;
	}
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 4 || (unsigned char)buf[0] != 0x94 || buf[1] != 1) {
		fprintf(stderr, "ping_raw: unexpected reply\n");
		return 1;
	}
	close(fd);
	return 0;
}
