/*
 * bench/fairness/mixed_load.c — the "mixed" load of bench_fairness.py in C,
 * so that the figures are the daemon's and not a Python client's: CLIENTS
 * connections in one poll() loop, one call in flight each, CALLS calls each
 * cycling through ping, history.list, data.list, ping, project.list,
 * status, project.info (each client starting at a different place).
 * Replies are framed with the protocol's scanner and only small ones are
 * decoded (to count error replies): a 1,024-step history.list is skipped,
 * not unpacked, so the client's own work does not stand in the pings' way.
 * Prints one line "N P50 P99 MAX WALL_S ERRORS": the count of pings and
 * their latency in ms, the time for all calls, and the error replies.
 * Usage: mixed_load SOCKET PROJECT CLIENTS CALLS.  Not a test.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "protocol/proto.h"
#include "protocol/proto_scan.h"

#define MIX 7

static const char *const mix_method[MIX] = {"ping",    "history.list", "data.list",   "ping",
					    "project.list", "status", "project.info"};
static const int mix_project[MIX] = {0, 1, 1, 0, 0, 0, 1};

#define SMALL_REPLY (64u << 10)

struct client {
	int fd;
	struct proto_scan scan;
	unsigned char *buf;  /* bytes read, not yet taken as a whole reply */
	size_t len, cap;
	int done, k;
	double sent;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Connect to the daemon's socket (blocking: waits for room in its queue). */
static int dial(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("mixed_load: connect");
		exit(2);
	}
	return fd;
}

/* A small msgpack-rpc response [1, id, error, result]: is error not nil? */
static int is_error_reply(const unsigned char *p, size_t n)
{
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	int err = 0;
	if (msgpack_unpack_next(&u, (const char *)p, n, NULL) == MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size == 4)
		err = u.data.via.array.ptr[2].type != MSGPACK_OBJECT_NIL;
	msgpack_unpacked_destroy(&u);
	return err;
}

/* Send client c's next call. */
static void send_next(struct client *c, const char *project)
{
	int m = (c->k + c->done) % MIX;
	struct proto_buf b;
	proto_buf_init(&b);
	proto_pack_request_head(&b.pk, (uint32_t)c->done + 1, mix_method[m]);
	if (mix_project[m]) {
		msgpack_pack_map(&b.pk, 1);
		proto_pack_kv_str(&b.pk, "project", project);
	} else {
		msgpack_pack_map(&b.pk, 0);
	}
	c->sent = now_ms();
	if (write(c->fd, b.sb.data, b.sb.size) != (ssize_t)b.sb.size) {
		perror("mixed_load: write");
		exit(2);
	}
	proto_buf_free(&b);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: mixed_load SOCKET PROJECT CLIENTS CALLS\n");
		return 2;
	}
	int n = atoi(argv[3]), calls = atoi(argv[4]), live = n, errors = 0;
	struct client *cs = calloc((size_t)n, sizeof *cs);
	struct pollfd *pf = calloc((size_t)n, sizeof *pf);
	double *lat = calloc((size_t)n * (size_t)calls, sizeof *lat);
	size_t nlat = 0;
	if (!cs || !pf || !lat || n < 1 || calls < 1)
		return 2;
	for (int i = 0; i < n; i++) {
		cs[i] = (struct client){.fd = dial(argv[1]), .k = i};
		proto_scan_init(&cs[i].scan, 256u << 20, PROTO_SCAN_MAX_DEPTH);
		pf[i] = (struct pollfd){.fd = cs[i].fd, .events = POLLIN};
	}
	double t0 = now_ms();
	for (int i = 0; i < n; i++)
		send_next(&cs[i], argv[2]);
	while (live > 0) {
		if (poll(pf, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 2;
		for (int i = 0; i < n; i++) {
			struct client *c = &cs[i];
			if (!(pf[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (c->cap - c->len < (1u << 16)) {
				c->cap = c->cap ? c->cap * 2 : 1u << 20;
				c->buf = realloc(c->buf, c->cap);
				if (!c->buf)
					return 2;
			}
			ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
			if (r <= 0) {
				fprintf(stderr, "mixed_load: the daemon closed a connection\n");
				return 1;
			}
			c->len += (size_t)r;
			int got, code;
			char why[128];
			while (c->len > 0 &&
			       (got = proto_scan_feed(&c->scan, c->buf, c->len, &code, why, sizeof why)) != 0) {
				if (got < 0) {
					fprintf(stderr, "mixed_load: bad reply: %s\n", why);
					return 1;
				}
				size_t n_msg = c->scan.pos;
				if (c->scan.top_is_array && c->scan.have_top[0] && c->scan.top_int[0] == 1) {
					int mi = (c->k + c->done) % MIX;
					if (mi == 0 || mi == 3)
						lat[nlat++] = now_ms() - c->sent;
					errors += n_msg <= SMALL_REPLY && is_error_reply(c->buf, n_msg);
					if (++c->done < calls) {
						send_next(c, argv[2]);
					} else {
						pf[i].fd = -1;
						live--;
					}
				}
				memmove(c->buf, c->buf + n_msg, c->len - n_msg);
				c->len -= n_msg;
				proto_scan_reset(&c->scan);
			}
		}
	}
	double wall = (now_ms() - t0) / 1e3;
	qsort(lat, nlat, sizeof *lat, cmp_double);
	size_t p99 = (size_t)(0.99 * (double)(nlat - 1) + 0.5);
	printf("%zu %.2f %.2f %.2f %.2f %d\n", nlat, lat[nlat / 2], lat[p99], lat[nlat - 1], wall,
	       errors);
	for (int i = 0; i < n; i++) {
		close(cs[i].fd);
		free(cs[i].buf);
	}
	free(cs);
	free(pf);
	free(lat);
	return 0;
}
