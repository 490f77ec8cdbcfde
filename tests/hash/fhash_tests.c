/*
 * tests/hash/fhash_tests.c — daemon/core/filehash on a real loop (daemon/core/loop.c):
 * small and big files against hashlib's digests, the 1 MiB boundary, five
 * big files at once (never more than two children), missing / unreadable /
 * non-regular files (also when they change while queued, so the child's
 * open fails), a child killed mid-hash, cancel, a callback that starts
 * more work, shutdown; no callback from inside fhash_start, no fd or zombie
 * left.  Children are counted from /proc (zombies included: a child counts
 * until filehash reaps it).  Timers here only stop a hung run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "daemon/core/filehash.h"
#include "daemon/core/loop.h"
#include "tests/hash/hash_test.h"
#include "tests/hash/vectors.h"

struct res {
	int fired;
	bool ok;
	char hex[65];
	char msg[600];
};

static struct loop *L;
static int pending;       /* callbacks still expected */
static bool in_start;     /* inside fhash_start */
static int nested;        /* callbacks fired inside fhash_start */
static int max_children;  /* most children seen at a callback */
static bool timed_out;

/* Children of this process (zombies too), from /proc; *first gets one pid. */
static int count_children(pid_t *first)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	char path[300], buf[512];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "re");
		size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[len] = '\0';
		char *rp = strrchr(buf, ')');
		int ppid;
		if (rp && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == getpid()) {
			if (first && n == 0)
				*first = (pid_t)atoi(e->d_name);
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* Open fds of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n - 1; /* the DIR's own fd */
}

/* The fhash callback: record, count children, stop when all are in. */
static void res_cb(void *ud, const char *hex, const char *msg)
{
	struct res *r = ud;
	r->fired++;
	if (in_start)
		nested++;
	r->ok = hex != NULL;
	snprintf(r->hex, sizeof(r->hex), "%s", hex ? hex : "");
	snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
	int c = count_children(NULL);
	if (c > max_children)
		max_children = c;
	if (--pending == 0)
		loop_stop(L);
}

/* fhash_start with the bookkeeping; 0 / -1. */
static int start(const char *path, struct res *r)
{
	struct proto_err err = {0};
	memset(r, 0, sizeof(*r));
	in_start = true;
	int rc = fhash_start(L, path, res_cb, r, &err);
	in_start = false;
	if (rc == 0)
		pending++;
	else
		ht_note("fhash_start(%s): %s", path, err.msg);
	return rc;
}

static void guard_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id;
	(void)ud;
	timed_out = true;
	loop_stop(l);
}

/* Run the loop until every expected callback fired (30 s guard). */
static bool run(void)
{
	if (pending == 0)
		return true;
	timed_out = false;
	uint64_t g = loop_timer_add(L, 30000, guard_cb, NULL);
	loop_run(L);
	loop_timer_cancel(L, g);
	return ht_check(!timed_out && pending == 0, "all callbacks came (%d missing)", pending);
}

static void poll_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id;
	(void)ud;
	if (count_children(NULL) == 0)
		loop_stop(l);
	else
		loop_timer_add(l, 5, poll_cb, NULL);
}

/* Run the loop until filehash has reaped every child (20 s guard). */
static bool run_until_no_children(void)
{
	timed_out = false;
	uint64_t g = loop_timer_add(L, 20000, guard_cb, NULL);
	loop_timer_add(L, 0, poll_cb, NULL);
	loop_run(L);
	loop_timer_cancel(L, g);
	return !timed_out;
}

/* Expect r to hold the digest hex. */
static void expect_hex(const struct res *r, const char *hex, const char *what)
{
	ht_check(r->fired == 1 && r->ok && !strcmp(r->hex, hex), "%s: digest matches hashlib (%s%s)",
		 what, r->ok ? r->hex : "error: ", r->ok ? "" : r->msg);
}

/* Expect r to hold an error containing want. */
static void expect_err(const struct res *r, const char *want, const char *what)
{
	ht_check(r->fired == 1 && !r->ok && strstr(r->msg, want), "%s: error \"%s\"", what, r->msg);
}

/* A file of stream vec_files[i] in the temp dir. */
static const char *vec_path(size_t i)
{
	char name[32];
	snprintf(name, sizeof(name), "vec%zu", i);
	const char *p = ht_path(name);
	if (access(p, F_OK) != 0 && ht_write_file(p, vec_files[i].seed, vec_files[i].size) < 0)
		ht_note("cannot write %s: %s", p, strerror(errno));
	return p;
}

/* Small, boundary and 3 MiB files; the callback never fires inside start. */
static void test_basic(void)
{
	struct res a, b, c, d;
	start(vec_path(2), &a);
	ht_check(a.fired == 0 && count_children(NULL) == 0,
		 "1000-byte file: no child, no callback inside fhash_start");
	start(vec_path(3), &b);
	ht_check(count_children(NULL) == 0, "1 MiB - 1: hashed inline (no child)");
	start(vec_path(4), &c);
	ht_check(count_children(NULL) == 1, "exactly 1 MiB: hashed in a child");
	start(vec_path(1), &d);
	ht_check(count_children(NULL) == 2 && !a.fired && !b.fired && !c.fired,
		 "3 MiB: a second child; still no callback");
	run();
	expect_hex(&a, vec_files[2].hex, "1000 bytes");
	expect_hex(&b, vec_files[3].hex, "1 MiB - 1");
	expect_hex(&c, vec_files[4].hex, "1 MiB");
	expect_hex(&d, vec_files[1].hex, "3 MiB");
}

/* Five big files at once: two children, the rest wait; all correct. */
static void test_five(void)
{
	struct res r[5];
	max_children = 0;
	for (size_t i = 0; i < 5; i++)
		vec_path(5 + i);
	for (size_t i = 0; i < 5; i++)
		start(vec_path(5 + i), &r[i]);
	ht_check(count_children(NULL) == 2, "5 big files: 2 children started, 3 wait");
	run();
	ht_check(max_children <= 2, "never more than 2 children (most seen: %d)", max_children);
	for (size_t i = 0; i < 5; i++)
		expect_hex(&r[i], vec_files[5 + i].hex, "big file of 5");
	ht_check(count_children(NULL) == 0, "every child reaped");
}

/* Missing, directory, FIFO, empty path. */
static void test_errors(void)
{
	struct res m, dir, fifo;
	struct proto_err err = {0};
	char missing[512];
	snprintf(missing, sizeof(missing), "%s", ht_path("no-such.csv"));
	start(missing, &m);
	start(ht_tmpdir(), &dir);
	mkfifo(ht_path("fifo"), 0600);
	start(ht_path("fifo"), &fifo);
	ht_check(!m.fired && !dir.fired && !fifo.fired, "errors too come later, from the loop");
	run();
	char want[600];
	snprintf(want, sizeof(want), "cannot hash %s: No such file or directory", missing);
	expect_err(&m, want, "missing file");
	expect_err(&dir, "not a regular file", "directory");
	expect_err(&fifo, "not a regular file", "FIFO (and no hang opening it)");
	ht_check(fhash_start(L, "", res_cb, &m, &err) == -1 && err.msg[0],
		 "empty path: -1 at once (%s)", err.msg);
	ht_check(fhash_start(L, missing, NULL, &m, &err) == -1, "no callback: -1 at once");
}

/* A sparse file in dir far too big to hash in a test's lifetime. */
static const char *huge_in(const char *dir)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/huge", dir);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, 64LL << 30) < 0)
		ht_note("cannot make the sparse file: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return p;
}

/* The sparse file in the test's temp dir. */
static const char *huge_path(void)
{
	return huge_in(ht_tmpdir());
}

/* Fill both child slots with endless jobs so the next ones queue. */
static void block_slots(struct res blockers[2], const char *dir)
{
	start(huge_in(dir), &blockers[0]);
	start(huge_in(dir), &blockers[1]);
}

/* Free the slots again: their children are killed, nothing calls back. */
static void unblock_slots(struct res blockers[2])
{
	fhash_cancel(&blockers[0]);
	fhash_cancel(&blockers[1]);
	pending -= 2;
}

/* A file that changes while queued: the child's open fails or finds a FIFO. */
static void test_child_errors(void)
{
	struct res blockers[2], gone, fifo;
	char gpath[512], fpath[512];
	snprintf(gpath, sizeof(gpath), "%s", ht_path("gone.csv"));
	snprintf(fpath, sizeof(fpath), "%s", ht_path("turned-fifo.csv"));
	ht_write_file(gpath, 3, 3u << 20);
	ht_write_file(fpath, 3, 3u << 20);
	block_slots(blockers, ht_tmpdir());
	start(gpath, &gone);
	start(fpath, &fifo);
	ht_check(count_children(NULL) == 2, "two endless children hold the slots; two jobs wait");
	unlink(gpath);
	unlink(fpath);
	mkfifo(fpath, 0600);
	unblock_slots(blockers);
	run();
	char want[600];
	snprintf(want, sizeof(want), "cannot hash %s: No such file or directory", gpath);
	expect_err(&gone, want, "file removed while queued (the child's open fails)");
	expect_err(&fifo, "not a regular file", "file replaced by a FIFO while queued");
	ht_check(!blockers[0].fired && !blockers[1].fired, "cancelled blockers never call back");
	ht_check(run_until_no_children(), "blockers reaped");
}

/* A child killed mid-hash: an error that says so. */
static void test_killed(void)
{
	struct res r;
	pid_t pid = 0;
	start(huge_path(), &r);
	if (!ht_check(count_children(&pid) == 1 && pid > 0, "a child hashes the 64 GiB file"))
		return;
	kill(pid, SIGKILL);
	run();
	expect_err(&r, "killed by signal 9", "child killed");
}

/* Cancel: nothing fires for the cancelled ud, the others go on. */
static void test_cancel(void)
{
	struct res small, big, huge, keep, queued;
	start(vec_path(2), &small);
	start(huge_path(), &huge);
	start(vec_path(1), &big);
	start(vec_path(5), &queued); /* waits for a slot */
	start(vec_path(4), &keep);   /* waits too */
	fhash_cancel(&small);
	fhash_cancel(&huge);
	fhash_cancel(&queued);
	fhash_cancel(&small); /* twice: no-op */
	fhash_cancel(NULL);   /* unknown: no-op */
	pending -= 3;
	run();
	ht_check(!small.fired && !huge.fired && !queued.fired,
		 "cancelled jobs (inline, running, queued) never call back");
	expect_hex(&big, vec_files[1].hex, "job next to cancelled ones");
	expect_hex(&keep, vec_files[4].hex, "queued job after a cancelled one");
	ht_check(run_until_no_children(), "the killed child of a cancelled job is reaped");
}

static struct res chain_second;

/* A callback that starts another hash and cancels itself (re-entrancy). */
static void chain_cb(void *ud, const char *hex, const char *msg)
{
	start(vec_path(1), &chain_second); /* before res_cb: pending never hits 0 */
	res_cb(ud, hex, msg);
	fhash_cancel(ud); /* its own, already finished job: a no-op */
}

/* Work started from a callback completes. */
static void test_chain(void)
{
	struct res first;
	struct proto_err err = {0};
	memset(&first, 0, sizeof(first));
	in_start = true;
	int rc = fhash_start(L, vec_path(4), chain_cb, &first, &err);
	in_start = false;
	pending += rc == 0;
	run();
	expect_hex(&first, vec_files[4].hex, "first of a chain");
	expect_hex(&chain_second, vec_files[1].hex, "hash started from a callback");
}

/* Shutdown with a running, a queued and a ready job: nothing fires, no child. */
static void test_shutdown(void)
{
	struct res a, b, c, d, e;
	start(huge_path(), &a);
	start(huge_path(), &b);
	start(vec_path(1), &c); /* queued */
	start(vec_path(2), &d); /* ready, timer pending */
	fhash_shutdown();
	fhash_shutdown(); /* idempotent */
	pending = 0;
	ht_check(count_children(NULL) == 0, "shutdown killed and reaped the children");
	start(vec_path(2), &e);
	run();
	ht_check(!a.fired && !b.fired && !c.fired && !d.fired, "no callback after shutdown");
	expect_hex(&e, vec_files[2].hex, "fhash_start after shutdown");
}

/* Unreadable small and big files, checked in this process: found at start,
 * and made unreadable while queued (then the child's open fails). */
static void check_unreadable(const char *dir)
{
	char small[512], big[512], later[512], want[600];
	struct res s, b, l, blockers[2];
	snprintf(small, sizeof(small), "%s/small.csv", dir);
	snprintf(big, sizeof(big), "%s/big.csv", dir);
	snprintf(later, sizeof(later), "%s/later.csv", dir);
	if (ht_write_file(small, 4, 1000) < 0 || ht_write_file(big, 3, 3u << 20) < 0 ||
	    ht_write_file(later, 3, 3u << 20) < 0 || chmod(small, 0) < 0 || chmod(big, 0) < 0) {
		ht_check(false, "write the unreadable files: %s", strerror(errno));
		return;
	}
	start(small, &s);
	start(big, &b);
	block_slots(blockers, dir);
	start(later, &l);
	chmod(later, 0);
	unblock_slots(blockers);
	run();
	snprintf(want, sizeof(want), "cannot hash %s: Permission denied", small);
	expect_err(&s, want, "unreadable small file");
	snprintf(want, sizeof(want), "cannot hash %s: Permission denied", big);
	expect_err(&b, want, "unreadable big file");
	snprintf(want, sizeof(want), "cannot hash %s: Permission denied", later);
	expect_err(&l, want, "big file made unreadable while queued (the child's open fails)");
	run_until_no_children();
	unlink(small);
	unlink(big);
	unlink(later);
	unlink(huge_in(dir));
}

/* As root, chmod 000 does not stop us: check as nobody in a forked process. */
static void test_unreadable(void)
{
	if (geteuid() != 0) {
		check_unreadable(ht_tmpdir());
		return;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char dir[] = "/tmp/daa-hash-nobody.XXXXXX";
		int before = ht_failures();
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0 || !mkdtemp(dir))
			_exit(77);
		loop_free(L);
		L = loop_new();
		check_unreadable(dir);
		rmdir(dir);
		fhash_shutdown();
		loop_free(L);
		_exit(ht_failures() > before ? 1 : 0);
	}
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 77)
		ht_note("skip: unreadable files (running as root and cannot become nobody)");
	else
		ht_check(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			 "unreadable files, checked as uid 65534 (status 0x%x)", (unsigned)st);
}

/* Every filehash check, with the fd and zombie accounting around them. */
void ht_fhash_tests(void)
{
	if (!ht_check(ht_tmpdir() != NULL, "temp dir"))
		return;
	int fds0 = count_fds();
	L = loop_new();
	if (!ht_check(L != NULL, "loop_new"))
		return;
	test_basic();
	test_five();
	test_errors();
	test_killed();
	test_cancel();
	test_child_errors();
	test_chain();
	test_unreadable();
	test_shutdown();
	fhash_shutdown();
	loop_free(L);
	L = NULL;
	ht_check(nested == 0, "no callback ever fired inside fhash_start (%d did)", nested);
	ht_check(count_fds() == fds0, "no fd left open (%d before, %d after)", fds0, count_fds());
	errno = 0;
	ht_check(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "no child or zombie left");
}
