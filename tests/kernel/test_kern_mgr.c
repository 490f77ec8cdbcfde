/*
 * tests/kernel/test_kern_mgr.c — the kernel manager on its own, with real
 * kernels (sandbox/python/daa_kernel.py under the real sandbox library) and
 * the real loop: persistent variables, a clean environment, the step time
 * limit (SIGINT honoured, then SIGINT ignored or at SIG_DFL → SIGKILL and a
 * fresh kernel), the kernel's own pid namespace (pid 1 inside; the manager
 * names it by its host pid), kill -9 mid-step, and hostile fake kernels
 * (garbage, huge or deep frames, a wrong id, silence, exit, a missing
 * sandbox layer, a ready event naming another pid), a background profile
 * cut by a restart on request (sent again to the fresh kernel).  Also unit
 * checks of the frame scanner and mpjson.  TAP-style output; exit 0 when
 * all pass.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/kernel/kern_int.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/core/log.h"
#include "daemon/core/loop.h"
#include "daemon/project/project.h"
#include "tests/kernel/kern_doubles.h"

static struct loop *L;
static int failures, checks;
static json_t *g_reply;
static struct proto_err g_err;
static bool g_done;
static char tmpdir[PATH_MAX], project[PATH_MAX + 16];
static struct proj *P; /* the project at `project` (kern_doubles.c) */
/* A step that never ends by itself and sleeps rather than spins: the time
 * limit's path (SIGINT, then SIGKILL after the grace) is the same, without
 * seconds of CPU burnt (a spinning step's interrupt is test_interrupt.py's) */
#define ENDLESS "import time\nwhile True: time.sleep(0.02)"

#define CHECK(cond, ...)                                                \
	do {                                                            \
		checks++;                                               \
		if (cond) {                                             \
			printf("ok %d - ", checks);                     \
		} else {                                                \
			failures++;                                     \
			printf("not ok %d - ", checks);                 \
		}                                                       \
		printf(__VA_ARGS__);                                    \
		printf("\n");                                           \
		fflush(stdout);                                         \
	} while (0)

/* The last result as the callback got it: its kind and error type; the raw
 * reply (copied) when it kept to KERNEL.md, else its code and why in g_err. */
static enum kern_result_kind g_kind;
static char g_errtype[64];

static void reply_cb(void *ud, const struct kern_result *r)
{
	(void)ud;
	g_done = true;
	g_kind = r->kind;
	snprintf(g_errtype, sizeof g_errtype, "%s", r->error_type ? r->error_type : "");
	g_reply = r->raw ? json_deep_copy(r->raw) : NULL;
	if (!r->raw) {
		g_err.code = r->code;
		snprintf(g_err.msg, sizeof g_err.msg, "%.250s", r->why);
	}
	loop_stop(L);
}

/* Timers here are never cancelled (each checks it still belongs to the
 * current wait), so the test does not depend on timer ids. */
static uintptr_t g_gen;

static void watchdog_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id;
	if ((uintptr_t)ud == g_gen && !g_done)
		loop_stop(l);
}

/* Run code and wait (at most wait_s) for the answer.  0 answered, -1 not. */
static int exec_wait(const char *code, int timeout_s, int wait_s)
{
	json_decref(g_reply);
	g_reply = NULL;
	memset(&g_err, 0, sizeof g_err);
	g_done = false;
	g_gen++;
	if (kern_exec_timeout(P, code, "t", timeout_s, reply_cb, NULL, &g_err) < 0)
		return 0;
	loop_timer_add(L, (uint64_t)wait_s * 1000, watchdog_cb, (void *)g_gen);
	loop_run(L);
	return g_done ? 0 : -1;
}

/* The repr of the last reply's result ("" when none). */
static const char *repr(void)
{
	const char *s = json_string_value(json_object_get(json_object_get(g_reply, "result"),
							  "repr"));
	return s ? s : "";
}

static const char *errtype(void)
{
	const char *s = json_string_value(json_object_get(json_object_get(g_reply, "error"),
							  "type"));
	return s ? s : "";
}

static void start_ex(const char *runtime, int step_timeout, int idle_s, bool spare)
{
	struct kern_config kc = {.python = (char *)"/usr/bin/python3",
				 .runtime_dir = (char *)runtime, .step_timeout_s = step_timeout,
				 .idle_timeout_s = idle_s, .warm_spare = spare};
	struct proto_err err = {0};
	if (kern_init(L, &kc, &err) < 0) {
		printf("Bail out! kern_init: %s\n", err.msg);
		exit(1);
	}
}

static long g_kill_pid;

static void start(const char *runtime, int step_timeout)
{
	start_ex(runtime, step_timeout, 600, true);
}

static void tick_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id, (void)ud;
	loop_stop(l);
}

/* Number of live kernels (any state). */
static size_t live_kernels(void)
{
	json_t *st = kern_status();
	size_t n = json_array_size(json_object_get(st, "kernels"));
	json_decref(st);
	return n;
}

/* No warm spare: a kernel is started on demand; an idle one stops by itself. */
static void test_idle_no_spare(const char *root)
{
	char rt[PATH_MAX];
	snprintf(rt, sizeof rt, "%s/sandbox/python", root);
	start_ex(rt, 30, 1, false);
	CHECK(live_kernels() == 0, "warm_spare false: no kernel before the first request");
	exec_wait("6 * 7", 0, 60);
	CHECK(strcmp(repr(), "42") == 0, "a kernel started on demand answers: %s", repr());
	for (int i = 0; i < 300 && live_kernels() > 0; i++) { /* hang guard only */
		loop_timer_add(L, 100, tick_cb, NULL);
		loop_run(L);
	}
	CHECK(live_kernels() == 0, "the idle kernel stopped by itself");
	exec_wait("6 * 7", 0, 60);
	CHECK(strcmp(repr(), "42") == 0, "and the next request starts a new one: %s", repr());
	kern_shutdown();
}

/* The host pid of the project's kernel, as the manager reports it (0: none). */
static long project_kernel_pid(void)
{
	json_t *info = kern_project_info(P);
	long pid = (long)json_integer_value(json_object_get(info, "pid"));
	json_decref(info);
	return pid;
}

/* Is pid in a pid namespace other than ours? */
static bool other_pid_ns(long pid)
{
	char path[64];
	struct stat a, b;
	snprintf(path, sizeof path, "/proc/%ld/ns/pid", pid);
	return stat(path, &a) == 0 && stat("/proc/self/ns/pid", &b) == 0 &&
	       (a.st_ino != b.st_ino || a.st_dev != b.st_dev);
}

static void killer_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)l, (void)id;
	if ((uintptr_t)ud == g_gen && !g_done)
		kill((pid_t)g_kill_pid, SIGKILL);
}

/* The state of the project's kernel ("" when none). */
static const char *project_kernel_state(void)
{
	static char state[32];
	json_t *info = kern_project_info(P);
	snprintf(state, sizeof state, "%s", json_string_value(json_object_get(info, "state")) ?: "");
	json_decref(info);
	return state;
}

/* A background profile the kernel is running when it is restarted on
 * request is answered by the fresh kernel (a turn may be waiting for it). */
static void restart_under_profile(void)
{
	json_decref(g_reply);
	g_reply = NULL;
	memset(&g_err, 0, sizeof g_err);
	g_done = false;
	g_gen++;
	int rc = kern_profile_summary(P, "sales", 0, reply_cb, NULL, &g_err);
	CHECK(rc == 0 && strcmp(project_kernel_state(), "busy") == 0,
	      "a background profile is in flight (%s)", project_kernel_state());
	kern_restart(P);
	loop_timer_add(L, 60000, watchdog_cb, (void *)g_gen);
	loop_run(L);
	CHECK(g_done && g_reply && json_is_true(json_object_get(g_reply, "ok")),
	      "a restart on request sends it again to the fresh kernel: %s",
	      g_reply ? "answered" : g_err.msg);
}

/* The kernel is found through the project's handle, never its folder: a
 * second handle for the same folder (the project deleted and created
 * again) has none and, deleted, gets none; doctor's trial folder has its
 * own kernel, found by folder, stopped alone. */
static void slots_and_trial(void)
{
	long pid = project_kernel_pid();
	CHECK(pid > 0 && proj_slots(P)->kern,
	      "the project's kernel hangs off its slot (pid %ld)", pid);
	struct proj *again = kern_test_proj_again(project);
	json_t *info = again ? kern_project_info(again) : NULL;
	CHECK(again && again != P && !info, "a new handle for the same folder reaches no kernel");
	json_decref(info);
	kern_test_proj_delete(again);
	size_t before = live_kernels();
	memset(&g_err, 0, sizeof g_err);
	int rc = again ? kern_exec(again, "1", "t", reply_cb, NULL, &g_err) : 0;
	CHECK(rc < 0 && g_err.code == PROTO_ERR_NOT_FOUND && live_kernels() == before &&
	      !proj_slots(again)->kern, "a deleted project gets no kernel: %s", g_err.msg);
	char trial[PATH_MAX + 32], sub[PATH_MAX + 48];
	snprintf(trial, sizeof trial, "%s/trial", tmpdir);
	mkdir(trial, 0700);
	snprintf(sub, sizeof sub, "%s/data", trial);
	mkdir(sub, 0700);
	snprintf(sub, sizeof sub, "%s/outputs", trial);
	mkdir(sub, 0700);
	json_decref(g_reply);
	g_reply = NULL;
	g_done = false;
	g_gen++;
	rc = kern_trial_exec(trial, "6 * 7", "t", 30, reply_cb, NULL, &g_err);
	if (rc == 0) {
		loop_timer_add(L, 60000, watchdog_cb, (void *)g_gen);
		loop_run(L);
	}
	info = kern_trial_info(trial);
	long tpid = (long)json_integer_value(json_object_get(info, "pid"));
	json_decref(info);
	CHECK(rc == 0 && strcmp(repr(), "42") == 0 && tpid > 0 && tpid != pid &&
	      project_kernel_pid() == pid, "a trial folder gets a kernel of its own (%s)", repr());
	kern_trial_stop(trial);
	info = kern_trial_info(trial);
	CHECK(!info && project_kernel_pid() == pid, "stopping it leaves the project's kernel");
	json_decref(info);
}

/* A real kernel: values, environment, limits, crashes. */
static void test_real(const char *root)
{
	char rt[PATH_MAX];
	snprintf(rt, sizeof rt, "%s/sandbox/python", root);
	start(rt, 30);
	CHECK(exec_wait("x = 21", 0, 60) == 0 && g_reply, "first exec answers (%s)", g_err.msg);
	CHECK(exec_wait("x * 2", 0, 30) == 0 && strcmp(repr(), "42") == 0,
	      "variables persist: x*2 = %s", repr());
	CHECK(json_is_array(json_object_get(json_object_get(g_reply, "sandbox"), "degraded")),
	      "reply carries sandbox.degraded");
	exec_wait("import os; sorted(k for k in os.environ if 'KEY' in k or 'SECRET' in k)", 0, 30);
	CHECK(strcmp(repr(), "[]") == 0, "no API key in the kernel's environment: %s", repr());
	exec_wait("import os; os.environ.get('PATH')", 0, 30);
	CHECK(strcmp(repr(), "'/usr/bin:/bin'") == 0, "clean PATH: %s", repr());
	exec_wait("len(df)", 0, 30);
	CHECK(strcmp(repr(), "3") == 0, "the project's dataset is bound as df: %s", repr());
	exec_wait(ENDLESS, 1, 30);
	CHECK(!g_reply && g_err.code == PROTO_ERR_KERNEL && strstr(g_err.msg, "interrupted"),
	      "time limit, SIGINT honoured: %s", g_err.msg);
	exec_wait("x", 0, 30);
	CHECK(strcmp(repr(), "21") == 0, "variables kept after an interrupt: %s", repr());
	exec_wait("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" ENDLESS, 1, 40);
	CHECK(!g_reply && g_err.code == PROTO_ERR_KERNEL && strstr(g_err.msg, "restarted") &&
	      strstr(g_err.msg, "longer than 1 s"), "time limit, SIGINT ignored: %s", g_err.msg);
	exec_wait("x", 0, 60);
	CHECK(strcmp(errtype(), "NameError") == 0, "a fresh kernel after the kill (%s)", errtype());
	/* pid 1 of a namespace ignores a signal left at SIG_DFL even from the
	 * parent namespace (only SIGKILL and SIGSTOP are forced): the step is
	 * stopped by the SIGKILL after the grace, not left running */
	exec_wait("y = 3", 0, 30);
	exec_wait("import signal\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\n" ENDLESS, 1, 40);
	CHECK(!g_reply && g_err.code == PROTO_ERR_KERNEL && strstr(g_err.msg, "restarted") &&
	      strstr(g_err.msg, "longer than 1 s"), "time limit, SIGINT at SIG_DFL (pid 1): %s",
	      g_err.msg);
	exec_wait("y", 0, 60);
	CHECK(strcmp(errtype(), "NameError") == 0, "a fresh kernel after that kill (%s)", errtype());
	/* the kernel has a pid namespace of its own: it is pid 1 there, and only
	 * the daemon's pid (from the spawn) names it on the host */
	exec_wait("import os; os.getpid()", 0, 30);
	CHECK(strcmp(repr(), "1") == 0, "inside its pid namespace the kernel is pid 1: %s", repr());
	long pid = project_kernel_pid();
	CHECK(pid > 1 && pid != (long)getpid() && other_pid_ns(pid),
	      "the daemon reports the kernel's host pid %ld, in another pid namespace", pid);
	g_kill_pid = pid;
	loop_timer_add(L, 500, killer_cb, (void *)(g_gen + 1));
	exec_wait("import time; time.sleep(30)", 0, 30);
	CHECK(!g_reply && g_err.code == PROTO_ERR_KERNEL && strstr(g_err.msg, "killed") &&
	      strstr(g_err.msg, "fresh kernel"), "kill -9 mid-step: %s", g_err.msg);
	exec_wait("1 + 1", 0, 60);
	CHECK(strcmp(repr(), "2") == 0, "next step runs in a fresh kernel: %s", repr());
	json_t *st = kern_status();
	CHECK(json_integer_value(json_object_get(st, "running")) == 1, "status: one running");
	json_decref(st);
	restart_under_profile();
	slots_and_trial();
	kern_shutdown();
	CHECK(!proj_slots(P)->kern, "after shutdown no slot points at a freed kernel");
}

static const char *hostile_py =
	"import os, signal, sys, time, msgpack\n"
	"mode = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mode')).read().strip()\n"
	"def send(o): os.write(3, msgpack.packb(o))\n"
	"here = os.path.dirname(os.path.abspath(__file__))\n"
	"liar = int(open(os.path.join(here, 'liar')).read())\n"
	"send({'ev': 'ready', 'pid': liar, 'python': 'fake', 'libs': {}})\n"
	"u = msgpack.Unpacker()\n"
	"while True:\n"
	"    d = os.read(3, 65536)\n"
	"    if not d: break\n"
	"    u.feed(d)\n"
	"    for m in u:\n"
	"        if m['op'] == 'bind':\n"
	"            l = {'landlock': 'missing: test'} if mode == 'nolayer' else {'landlock': 'active'}\n"
	"            send({'id': m['id'], 'ok': True, 'layers': l}); continue\n"
	"        if mode == 'garbage': os.write(3, b'\\xc1' * 100)\n"
	"        elif mode == 'huge': os.write(3, b'\\xdb\\xff\\xff\\xff\\xff' + b'x' * 1000)\n"
	"        elif mode == 'deep': os.write(3, b'\\x91' * 100 + b'\\xc0')\n"
	"        elif mode == 'bigarray': os.write(3, b'\\xdd\\xff\\xff\\xff\\xff')\n"
	"        elif mode == 'notmap': send([1, 2, 3])\n"
	"        elif mode == 'wrongid': send({'id': m['id'] + 1000, 'ok': True})\n"
	"        elif mode == 'malformed': send({'id': m['id'], 'ok': True, 'stdout': 5})\n"
	"        elif mode == 'flood':\n"
	"            for i in range(5000): send({'ev': 'x'})\n"
	"        elif mode == 'silent':\n"
	"            signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(3600)\n"
	"        elif mode == 'exit': print('bye from the fake kernel', file=sys.stderr); os._exit(7)\n"
	"        elif mode == 'progress':\n"
	"            r = m['id']\n"
	"            for bad in ({'done': '1', 'total': 10}, {'done': 11, 'total': 10}, {'done': -1, 'total': 10},\n"
	"                        {'done': 0, 'total': 0}, {'done': 1, 'total': 10**12}, {'done': 1.5, 'total': 10},\n"
	"                        {'done': 1}, {'total': 10}, {'done': True, 'total': 10}, {'done': {}, 'total': []},\n"
	"                        {'done': 1, 'total': 10, 'req': r + 1}, {'done': 1, 'total': 10, 'req': 'x'}):\n"
	"                send(dict({'ev': 'progress', 'req': r}, **bad))\n"
	"            send({'ev': 'progress', 'req': r, 'done': 1, 'total': 10})\n"
	"            for i in range(20000): send({'ev': 'progress', 'req': r, 'done': i % 10, 'total': 10})\n"
	"            send({'ev': 'progress', 'req': r, 'done': 10, 'total': 10})\n"
	"            send({'ev': 'progress', 'req': r, 'done': 10, 'total': 10})\n"
	"            send({'id': r, 'ok': True, 'result': {'repr': 'fine'}})\n"
	"        elif mode == 'progressbad':\n"
	"            for i in range(1100): send({'ev': 'progress', 'req': m['id'], 'done': 5, 'total': 1})\n"
	"        elif mode == 'progressstorm':\n"
	"            for i in range(100100): send({'ev': 'progress', 'req': m['id'], 'done': 1, 'total': 2})\n";

/* Does the manager's status name pid as one of its kernels? */
static bool status_names_pid(pid_t pid)
{
	json_t *st = kern_status(), *k;
	size_t i;
	bool found = false;
	json_array_foreach(json_object_get(st, "kernels"), i, k)
		found |= json_integer_value(json_object_get(k, "pid")) == pid;
	json_decref(st);
	return found || kern_is_kernel_pid(pid);
}

/* One hostile mode: the request fails with code and a message holding `want`.
 * Every fake kernel's ready event claims this test's pid: were it taken for
 * the kernel's, the SIGINT and SIGKILL of 'silent' would end this test. */
static void hostile_limit(const char *dir, const char *mode, int code, const char *want,
			  int limit_s)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof p, "%s/mode", dir);
	FILE *f = fopen(p, "w");
	fputs(mode, f);
	fclose(f);
	start(dir, limit_s);
	int rc = exec_wait("1", limit_s, 30 + limit_s);
	CHECK(rc == 0 && !g_reply && g_err.code == code && strstr(g_err.msg, want),
	      "hostile kernel '%s': %s", mode, g_err.msg);
	CHECK(!status_names_pid(getpid()), "hostile kernel '%s': the pid its ready event claimed "
	      "(this test's) is not taken for its own", mode);
	kern_shutdown();
}

static void hostile(const char *dir, const char *mode, int code, const char *want)
{
	hostile_limit(dir, mode, code, want, 1);
}

/* A reply that breaks KERNEL.md ('stdout' a number), to an exec and to a
 * background profile: parsed once where it arrives, each owner gets the
 * same failed KernelError result naming the field, never the reply. */
static void hostile_malformed(const char *dir)
{
	char p[PATH_MAX + 32];
	snprintf(p, sizeof p, "%s/mode", dir);
	FILE *f = fopen(p, "w");
	fputs("malformed", f);
	fclose(f);
	start(dir, 60);
	int rc = exec_wait("1", 60, 60);
	CHECK(rc == 0 && g_kind == KR_MALFORMED && !g_reply && strcmp(g_errtype, "KernelError") == 0 &&
	      g_err.code == PROTO_ERR_KERNEL && strstr(g_err.msg, "'stdout'"),
	      "malformed reply to exec: a KernelError result naming the field (%s)", g_err.msg);
	g_done = false;
	g_gen++;
	memset(&g_err, 0, sizeof g_err);
	rc = kern_profile_summary(P, "sales", 60, reply_cb, NULL, &g_err);
	if (rc == 0) {
		loop_timer_add(L, 60000, watchdog_cb, (void *)g_gen);
		loop_run(L);
	}
	CHECK(rc == 0 && g_done && g_kind == KR_MALFORMED && !g_reply &&
	      strcmp(g_errtype, "KernelError") == 0 && strstr(g_err.msg, "'stdout'"),
	      "malformed reply to profile: the same KernelError result (%s)", g_err.msg);
	kern_shutdown();
}

/* What the progress watch of step "t" received. */
static long long g_prog_n, g_prog_done, g_prog_total, g_prog_bad;

static void progress_cb(void *ud, long long done, long long total)
{
	(void)ud;
	g_prog_n++;
	g_prog_bad += done < 0 || done > total || total != 10 ||
		      (g_prog_n == 1 && done != 1);
	g_prog_done = done;
	g_prog_total = total;
}

/* A kernel sending malformed progress events and a flood of good ones:
 * the bad ones are dropped, the good ones pass at most one per 250 ms
 * (plus the full one), the step's reply still arrives, the kernel lives. */
static void hostile_progress(const char *dir)
{
	char p[PATH_MAX + 32];
	snprintf(p, sizeof p, "%s/mode", dir);
	FILE *f = fopen(p, "w");
	fputs("progress", f);
	fclose(f);
	start(dir, 60);
	kern_watch_progress(P, "t", progress_cb, &g_prog_n);
	uint64_t t0 = loop_now_ms();
	int rc = exec_wait("1", 60, 60);
	uint64_t ms = loop_now_ms() - t0;
	CHECK(rc == 0 && g_reply && strcmp(repr(), "fine") == 0,
	      "hostile progress: the step's reply arrives after 12 malformed events and a flood");
	CHECK(g_prog_n >= 2 && g_prog_bad == 0 && g_prog_done == 10 && g_prog_total == 10,
	      "hostile progress: only well-formed events passed, the first good one and the "
	      "full one among them (%lld passed)", g_prog_n);
	CHECK(g_prog_n <= 2 + 2 * (long long)(ms / 250),
	      "hostile progress: the flood of 20000 was rate-limited (%lld passed in %llu ms)",
	      g_prog_n, (unsigned long long)ms);
	CHECK(live_kernels() >= 1 && project_kernel_pid() > 0, "hostile progress: the kernel lives");
	kern_forget(&g_prog_n);
	g_prog_n = 0;
	rc = exec_wait("1", 60, 60);
	CHECK(rc == 0 && g_reply && g_prog_n == 0, "hostile progress: no event reaches a forgotten watch");
	kern_shutdown();
}

static void test_hostile(void)
{
	char dir[PATH_MAX + 16], p[PATH_MAX + 32];
	snprintf(dir, sizeof dir, "%s/hostile", tmpdir);
	mkdir(dir, 0700);
	snprintf(p, sizeof p, "%s/daa_kernel.py", dir);
	FILE *f = fopen(p, "w");
	fputs(hostile_py, f);
	fclose(f);
	snprintf(p, sizeof p, "%s/liar", dir);
	f = fopen(p, "w");
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	hostile(dir, "garbage", PROTO_ERR_KERNEL, "not msgpack");
	hostile(dir, "huge", PROTO_ERR_KERNEL, "cap");
	hostile(dir, "deep", PROTO_ERR_KERNEL, "nested deeper");
	hostile(dir, "bigarray", PROTO_ERR_KERNEL, "cap");
	hostile(dir, "notmap", PROTO_ERR_KERNEL, "not a map");
	hostile(dir, "wrongid", PROTO_ERR_KERNEL, "not asked");
	hostile(dir, "flood", PROTO_ERR_KERNEL, "flooded");
	hostile(dir, "silent", PROTO_ERR_KERNEL, "longer than 1 s");
	hostile(dir, "exit", PROTO_ERR_KERNEL, "status 7");
	hostile(dir, "nolayer", PROTO_ERR_SANDBOX, "allow_missing_layers");
	hostile_limit(dir, "progressbad", PROTO_ERR_KERNEL, "flooded the daemon with messages", 60);
	hostile_limit(dir, "progressstorm", PROTO_ERR_KERNEL, "flooded the daemon with progress "
		      "events", 60);
	hostile_progress(dir);
	hostile_malformed(dir);
}

/* Frame scanner and mpjson on crafted input. */
static void test_units(void)
{
	struct kw_buf b = {0};
	struct proto_scan s = {0};
	json_t *out = NULL;
	char why[200];
	/* {"a": [1, 2.5, nil, "\xff"]} fed one byte at a time */
	static const unsigned char msg[] = {0x81, 0xa1, 'a', 0x94, 0x01, 0xcb, 0x40, 0x04, 0, 0,
					    0, 0, 0, 0, 0xc0, 0xa1, 0xff};
	int rc = 0;
	for (size_t i = 0; i < sizeof msg && rc == 0; i++) {
		memcpy(b.data ? b.data + b.len : (b.data = malloc(64)) , msg + i, 1);
		b.cap = 64, b.len++;
		rc = kw_next(&b, &s, &out, why, sizeof why);
	}
	CHECK(rc == 1 && out, "scanner: a message fed byte by byte completes at its last byte");
	char *txt = json_dumps(out, JSON_COMPACT);
	CHECK(txt && strcmp(txt, "{\"a\":[1,2.5,null,\"\xef\xbf\xbd\"]}") == 0, "mpjson: %s", txt);
	free(txt);
	json_decref(out);
	kw_buf_free(&b);
	json_t *j = json_pack("{s:f,s:[i,s]}", "x", 1.5, "y", -3, "z");
	struct proto_buf pb;
	proto_buf_init(&pb);
	mpjson_pack(&pb.pk, j);
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	msgpack_unpack_next(&u, pb.sb.data, pb.sb.size, NULL);
	json_t *back = mpjson_from_object(&u.data);
	CHECK(json_equal(j, back), "mpjson round trip");
	msgpack_unpacked_destroy(&u);
	proto_buf_free(&pb);
	json_decref(j);
	json_decref(back);
}

/* Random bytes (biased to msgpack headers) never crash the scanner or hang it. */
static void test_garbage(void)
{
	uint32_t seed = 12345;
	int broken = 0, parsed = 0;
	for (int round = 0; round < 3000; round++) {
		struct kw_buf b = {0};
		struct proto_scan s = {0};
		char why[200];
		size_t n = (seed = seed * 1103515245u + 12345u) % 400;
		b.data = malloc(n + 1);
		b.cap = n + 1;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			unsigned v = (seed >> 16) & 0xff;
			b.data[i] = (char)(seed & 0x10000 ? v : (0x80 | (v & 0x7f)));
		}
		b.len = n;
		int rc, guard = 0;
		json_t *out;
		while ((rc = kw_next(&b, &s, &out, why, sizeof why)) == 1 && guard++ < 1000) {
			json_decref(out);
			parsed++;
		}
		broken += rc < 0;
		kw_buf_free(&b);
	}
	CHECK(broken > 0, "scanner: 3000 random buffers, no crash (%d rejected, %d maps parsed)",
	      broken, parsed);
}

static void make_project(void)
{
	char p[PATH_MAX + 64];
	snprintf(tmpdir, sizeof tmpdir, "/tmp/daa-kt-XXXXXX");
	if (!mkdtemp(tmpdir))
		exit(1);
	snprintf(project, sizeof project, "%s/proj", tmpdir);
	mkdir(project, 0700);
	snprintf(p, sizeof p, "%s/data", project);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/outputs", project);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/data/sales.csv", project);
	FILE *f = fopen(p, "w");
	fputs("a,b\n1,2\n3,4\n5,6\n", f);
	fclose(f);
	snprintf(p, sizeof p, "%s/run", tmpdir);
	mkdir(p, 0700);
	struct proto_err err;
	if (!(P = proj_get(project, &err)))
		exit(1);
	setenv("XDG_RUNTIME_DIR", p, 1);
	setenv("OPENAI_API_KEY", "sk-test-secret", 1);
}

/* One source, two binaries (each well under a minute): test_kern_mgr runs
 * the real-kernel phase, test_kern_hostile the fake hostile kernels and the
 * no-spare / idle-stop phase. */
int main(int argc, char **argv)
{
	bool hostile_only = argc > 0 && strstr(argv[0], "hostile") != NULL;
	const char *root = getenv("DAA_ROOT");
	if (!root || !getenv("DAA_BUILD") || access("/usr/bin/python3", X_OK) < 0) {
		printf("skip: needs DAA_ROOT, DAA_BUILD (run through tests/run_all.sh)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (getenv("DAA_TEST_DEBUG"))
		log_set_level(LOG_LVL_DEBUG);
	L = loop_new();
	make_project();
	test_units();
	test_garbage();
	if (hostile_only) {
		test_hostile();
		test_idle_no_spare(root);
	} else {
		test_real(root);
	}
	char cmd[PATH_MAX * 2];
	snprintf(cmd, sizeof cmd, "ls -A %s/run/daa/kernels | grep -q .", tmpdir);
	CHECK(system(cmd) != 0, "every kernel temp dir was removed");
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	json_decref(g_reply);
	loop_free(L);
	printf("1..%d\n", checks);
	return failures ? 1 : 0;
}
