/*
 * tests/sandbox_policy/test_peer_check.c — the daemon's check that refuses
 * kernels as peers on its socket (daemon/server/server_sock.c server_peer_is_kernel,
 * called by server.c for every accepted connection), with a fake list of
 * kernel pids in place of the kernel manager.  A real kernel cannot make a
 * socket at all (seccomp), so a stand-in "kernel" is made here: a child that
 * leads its own session, as sbx_spawn's children do.  Its pid, and a process
 * in its session that connects to a real Unix socket (SO_PEERCRED), must be
 * refused; this test process and an unrelated child must not.  The
 * user-namespace rule is tested through a real daad (test_attack_host.py).
 * TAP-style output; exit 0 when all pass.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "daemon/kernel/kernel.h"
#include "daemon/server/server_int.h"
#include "tests/lib/tap.h"

static int fake_kernels[4], nfake;

/* The kernel manager, faked: only what server_peer_is_kernel asks. */
bool kern_is_kernel_pid(int pid)
{
	for (int i = 0; i < nfake; i++)
		if (fake_kernels[i] == pid)
			return true;
	return false;
}

json_t *kern_status(void)
{
	json_t *list = json_array();
	for (int i = 0; i < nfake; i++)
		json_array_append_new(list, json_pack("{s:i}", "pid", fake_kernels[i]));
	return json_pack("{s:o}", "kernels", list);
}

/* The pid SO_PEERCRED reports for the next connection on lfd. */
static int accept_peer(int lfd)
{
	int c = accept(lfd, NULL, NULL);
	struct ucred cr = { 0 };
	socklen_t len = sizeof cr;
	if (c < 0 || getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -1;
	close(c);
	return cr.pid;
}

/* Connect to path, then wait to be killed. */
static void connect_and_wait(const struct sockaddr_un *a)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (const struct sockaddr *)a, sizeof *a) < 0)
		_exit(1);
	pause();
	_exit(0);
}

int main(void)
{
	char dir[] = "/tmp/daa-peer-XXXXXX";
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (!mkdtemp(dir))
		return 1;
	snprintf(a.sun_path, sizeof a.sun_path, "%s/s", dir);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 8) < 0)
		return 1;
	int ready[2];
	if (pipe(ready) < 0)
		return 1;
	/* the stand-in kernel: its own session; its child stays in that session */
	pid_t kernel = fork();
	if (kernel == 0) {
		setsid();
		pid_t inner = fork();
		if (inner == 0)
			connect_and_wait(&a);
		if (write(ready[1], &inner, sizeof inner) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	pid_t inner = 0;
	if (read(ready[0], &inner, sizeof inner) != sizeof inner)
		return 1;
	pid_t other = fork();
	if (other == 0)
		connect_and_wait(&a);
	int p1 = accept_peer(lfd), p2 = accept_peer(lfd);
	int inner_peer = p1 == inner ? p1 : p2, other_peer = p1 == inner ? p2 : p1;
	tap_ok(inner_peer == inner && other_peer == other, "SO_PEERCRED names both clients");

	tap_ok(!server_peer_is_kernel(inner_peer), "no kernel registered: a peer is accepted");
	fake_kernels[nfake++] = kernel;
	tap_ok(server_peer_is_kernel(kernel), "a kernel's own pid is refused");
	tap_ok(server_peer_is_kernel(inner_peer), "a process in a kernel's session is refused");
	tap_ok(!server_peer_is_kernel(other_peer), "an unrelated client of ours is accepted");
	tap_ok(!server_peer_is_kernel(getpid()), "the daemon's own process is accepted");
	tap_ok(!server_peer_is_kernel(0) && !server_peer_is_kernel(-1), "pid 0 / -1 are no kernel");

	kill(kernel, SIGKILL);
	kill(inner, SIGKILL);
	kill(other, SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	unlink(a.sun_path);
	rmdir(dir);
	return tap_done();
}
