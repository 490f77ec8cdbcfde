/*
 * daemon/core/filehash.c — asynchronous SHA-256 of files on the loop
 * (daemon/core/filehash.h).
 *
 * A job's life:
 *
 *   fhash_start ─ open+fstat fails / small file hashed ─▶ DELIVER ─(0 ms timer)─▶ cb, freed
 *        │ big file
 *        ▼
 *     QUEUED ─(a child slot frees: pump)─▶ RUNNING ─(child reaped by the loop's
 *                                           │        watch)─▶ read pipe, cb, freed
 *                                           └ fork fails ─▶ DELIVER (error)
 *
 * fhash_cancel frees DELIVER and QUEUED jobs at once; a RUNNING one is
 * killed and stays, silent, until its child is reaped (it still holds a
 * slot until then, so the limit counts real processes).  The child does only
 * async-signal-safe work (the daemon may have threads, e.g. curl's resolver):
 * no malloc, no stdio; it writes "<64 hex>" or "E<errno>" or "N" (not a
 * regular file) to a pipe and _exits.  The pipe is read once the child is
 * reaped, so another forked process still holding the write end (fork
 * without exec) cannot delay anything.  The loop watches and reaps the
 * children (loop_child_watch: a pidfd, else SIGCHLD).
 */
#include "daemon/core/filehash.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "daemon/core/log.h"
#include "daemon/core/sha256.h"

enum fhash_state { FJ_DELIVER, FJ_QUEUED, FJ_RUNNING };

struct fhash_job {
	struct fhash_job *prev, *next; /* all jobs, in start order (the FIFO) */
	enum fhash_state state;
	struct loop *loop;
	char *path;      /* owned */
	fhash_cb cb;     /* NULL once cancelled */
	void *ud;
	uint64_t timer;  /* DELIVER: the 0 ms timer */
	pid_t pid;       /* RUNNING */
	uint64_t child;  /* RUNNING: the loop's watch of pid (0 once reaped) */
	int rfd;         /* RUNNING: the result pipe */
	bool ok;         /* DELIVER: hex is the result, else msg */
	char hex[SHA256_HEX_LEN + 1];
	char *msg;       /* owned; NULL: out of memory while formatting */
};

static struct {
	struct fhash_job *head, *tail;
	int running; /* children not yet reaped */
} F;

/* Append j to the job list. */
static void fj_link(struct fhash_job *j)
{
	j->prev = F.tail;
	j->next = NULL;
	if (F.tail)
		F.tail->next = j;
	else
		F.head = j;
	F.tail = j;
}

/* Take j out of the job list. */
static void fj_unlink(struct fhash_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		F.head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		F.tail = j->prev;
	j->prev = j->next = NULL;
}

/* Free a job that is out of the list and holds no fd, timer or child. */
static void fj_free(struct fhash_job *j)
{
	free(j->path);
	free(j->msg);
	free(j);
}

/* Set j's error message: "cannot hash PATH: why". */
static void fj_set_error(struct fhash_job *j, const char *why)
{
	free(j->msg);
	j->ok = false;
	if (asprintf(&j->msg, "cannot hash %s: %s", j->path, why) < 0)
		j->msg = NULL;
}

/* Call j's callback (unless cancelled) and free it; j is already unlinked. */
static void fj_report(struct fhash_job *j)
{
	if (j->cb)
		j->cb(j->ud, j->ok ? j->hex : NULL,
		      j->ok ? NULL : j->msg ? j->msg : "cannot hash a file: out of memory");
	fj_free(j);
}

/* The 0 ms timer of a DELIVER job fired. */
static void fj_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	struct fhash_job *j = ud;
	(void)l;
	(void)id;
	j->timer = 0;
	fj_unlink(j);
	fj_report(j);
}

/* Make j a DELIVER job (its result or message is set).  -1 if no timer. */
static int fj_deliver_later(struct fhash_job *j)
{
	j->state = FJ_DELIVER;
	j->timer = loop_timer_add(j->loop, 0, fj_timer_cb, j);
	return j->timer ? 0 : -1;
}

/* Open path read-only without blocking on a FIFO or device; -1 (errno) or
 * -2 when it is not a regular file.  *size gets its size. */
static int fj_open_regular(const char *path, off_t *size)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -2;
	}
	*size = st.st_size;
	return fd;
}

/* Write all of buf to fd (child side; EINTR-safe). */
static void fj_child_write(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

/* In the child: hash path, write the result to wfd, _exit.  Only
 * async-signal-safe calls; dies with the daemon (PDEATHSIG). */
static void __attribute__((noreturn)) fj_child(const char *path, int wfd, pid_t parent)
{
	char out[SHA256_HEX_LEN + 1] = "N";
	off_t size;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	if (wfd != 3 && dup2(wfd, 3) == 3)
		wfd = 3;
	close_range((unsigned)wfd + 1, ~0U, 0); /* the daemon's sockets, pipes, epoll */
	int fd = fj_open_regular(path, &size);
	if (fd >= 0 && sha256_fd(fd, out) == 0) {
		fj_child_write(wfd, out, SHA256_HEX_LEN);
		_exit(0);
	}
	if (fd != -2) { /* "E<errno>", digits by hand (no stdio here) */
		int e = errno, n = 0;
		char digits[16];
		do
			digits[n++] = (char)('0' + e % 10);
		while ((e /= 10) > 0 && n < 15);
		out[0] = 'E';
		for (int i = 0; i < n; i++)
			out[1 + i] = digits[n - 1 - i];
		out[1 + n] = '\0';
	}
	fj_child_write(wfd, out, strlen(out));
	_exit(1);
}

/* Kill and reap a child that was just forked and cannot be watched. */
static void fj_child_abort(pid_t pid)
{
	int saved = errno;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = saved;
}

static void fj_child_cb(struct loop *l, pid_t pid, int status, void *ud);

/* Watch j's new child on the loop.  0 / -1. */
static int fj_watch(struct fhash_job *j)
{
	j->child = loop_child_watch(j->loop, j->pid, fj_child_cb, j);
	return j->child ? 0 : -1;
}

/* Fork j's child and watch it; -1 with errno (nothing left behind). */
static int fj_spawn(struct fhash_job *j)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0)
		fj_child(j->path, p[1], parent);
	int saved = errno;
	close(p[1]);
	if (pid > 0) {
		j->pid = pid;
		if (fj_watch(j) == 0) {
			j->state = FJ_RUNNING;
			j->rfd = p[0];
			F.running++;
			log_debug("filehash: child %d hashes %s", (int)pid, j->path);
			return 0;
		}
		saved = errno;
		fj_child_abort(pid);
	}
	close(p[0]);
	errno = saved;
	return -1;
}

/* Start children for queued jobs while a slot is free.  in_loop: called from
 * a loop callback, so a result that cannot be timed may be reported now. */
static void fj_pump(bool in_loop)
{
	struct fhash_job *j = F.head;
	while (j && F.running < FHASH_MAX_CHILDREN) {
		struct fhash_job *next = j->next;
		if (j->state == FJ_QUEUED && fj_spawn(j) < 0) {
			char why[160];
			snprintf(why, sizeof(why), "cannot start a hashing process: %s", strerror(errno));
			fj_set_error(j, why);
			if (fj_deliver_later(j) < 0 && in_loop) {
				fj_unlink(j);
				fj_report(j);
				next = F.head; /* the callback may have changed the list */
			}
		}
		j = next;
	}
}

/* Read what the exited child wrote (at most cap-1 bytes, NUL-terminated). */
static size_t fj_read_result(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n < cap - 1) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

/* True when s is exactly 64 lower-case hex digits. */
static bool fj_is_hex(const char *s, size_t n)
{
	if (n != SHA256_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Turn the child's output and wait status into j's result or message. */
static void fj_parse_result(struct fhash_job *j, const char *buf, size_t n, const siginfo_t *si)
{
	char why[200];
	bool clean = si->si_code == CLD_EXITED;
	if (clean && si->si_status == 0 && fj_is_hex(buf, n)) {
		memcpy(j->hex, buf, SHA256_HEX_LEN + 1);
		j->ok = true;
		return;
	}
	char *end = NULL;
	long e = n > 1 && buf[0] == 'E' ? strtol(buf + 1, &end, 10) : 0;
	if (clean && end && *end == '\0' && e > 0 && e < 4096) {
		snprintf(why, sizeof(why), "%s", strerror((int)e));
	} else if (clean && n == 1 && buf[0] == 'N') {
		snprintf(why, sizeof(why), "not a regular file");
	} else {
		log_warn("filehash: child %d for %s ended (code %d, status %d) with %zu bytes of "
			 "unusable output", (int)j->pid, j->path, si->si_code, si->si_status, n);
		if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
			snprintf(why, sizeof(why), "the hashing process was killed by signal %d (%s)",
				 si->si_status, strsignal(si->si_status));
		else
			snprintf(why, sizeof(why),
				 "the hashing process gave no valid result (exit status %d); "
				 "try again, and see the daemon's log if it persists",
				 clean ? si->si_status : -1);
	}
	fj_set_error(j, why);
}

/* j's child is reaped (si: how it ended): read its result, free its slot,
 * start the next queued job, report. */
static void fj_finish(struct fhash_job *j, const siginfo_t *si)
{
	char buf[128];
	size_t n = fj_read_result(j->rfd, buf, sizeof(buf));
	close(j->rfd);
	F.running--;
	fj_unlink(j);
	if (j->cb) /* a cancelled job's killed child is no news */
		fj_parse_result(j, buf, n, si);
	log_debug("filehash: child %d done: %s", (int)j->pid,
		  !j->cb ? "cancelled" : j->ok ? j->hex : j->msg ? j->msg : "error");
	fj_pump(true);
	fj_report(j);
}

/* The loop reaped j's child (status -1: reaped elsewhere, no trustworthy
 * result): finish. */
static void fj_child_cb(struct loop *l, pid_t pid, int status, void *ud)
{
	struct fhash_job *j = ud;
	siginfo_t si;
	(void)l, (void)pid;
	j->child = 0;
	memset(&si, 0, sizeof(si));
	if (status == -1) {
		log_warn("filehash: child %d was reaped elsewhere", (int)j->pid);
		si.si_code = CLD_KILLED;
	} else if (WIFEXITED(status)) {
		si.si_code = CLD_EXITED;
		si.si_status = WEXITSTATUS(status);
	} else {
		si.si_code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
		si.si_status = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	fj_finish(j, &si);
}

/* Begin j: inline hash (small file / error) or into the FIFO.  0 / -1 (errno:
 * no timer for the result). */
static int fj_begin(struct fhash_job *j)
{
	off_t size = 0;
	int fd = fj_open_regular(j->path, &size);
	if (fd >= 0 && size >= FHASH_INLINE_BYTES) {
		close(fd);
		j->state = FJ_QUEUED;
		fj_pump(false);
		if (j->state == FJ_DELIVER && !j->timer) {
			errno = ENOMEM; /* spawning failed and no timer for the error */
			return -1;
		}
		return 0;
	}
	if (fd >= 0) {
		j->ok = sha256_fd(fd, j->hex) == 0;
		int e = errno;
		close(fd);
		if (!j->ok)
			fj_set_error(j, strerror(e));
	} else {
		fj_set_error(j, fd == -2 ? "not a regular file" : strerror(errno));
	}
	return fj_deliver_later(j);
}

/* Hash path; cb fires later from the loop. */
int fhash_start(struct loop *l, const char *path, fhash_cb cb, void *ud, struct proto_err *err)
{
	if (!l || !path || !*path || !cb)
		return proto_fail(err, PROTO_ERR_INTERNAL, "fhash_start: no loop, path or callback");
	struct fhash_job *j = calloc(1, sizeof(*j));
	if (!j || !(j->path = strdup(path))) {
		free(j);
		return proto_fail(err, PROTO_ERR_INTERNAL, "cannot hash %s: out of memory", path);
	}
	j->loop = l;
	j->cb = cb;
	j->ud = ud;
	j->rfd = -1;
	fj_link(j);
	if (fj_begin(j) == 0)
		return 0;
	int e = errno;
	fj_unlink(j);
	fj_free(j);
	return proto_fail(err, PROTO_ERR_INTERNAL, "cannot hash %s: no loop timer (%s)", path,
			  strerror(e));
}

/* Forget every job of ud; kill its running children. */
void fhash_cancel(void *ud)
{
	struct fhash_job *j = F.head;
	while (j) {
		struct fhash_job *next = j->next;
		if (j->ud == ud && j->cb) {
			if (j->state == FJ_RUNNING) {
				j->cb = NULL;
				loop_child_kill(j->loop, j->child, SIGKILL);
			} else {
				if (j->state == FJ_DELIVER && j->timer)
					loop_timer_cancel(j->loop, j->timer);
				fj_unlink(j);
				fj_free(j);
			}
		}
		j = next;
	}
}

/* Kill and reap every child, free every job; no callback fires. */
void fhash_shutdown(void)
{
	while (F.head) {
		struct fhash_job *j = F.head;
		fj_unlink(j);
		if (j->state == FJ_RUNNING) {
			loop_child_kill(j->loop, j->child, SIGKILL);
			loop_child_wait(j->loop, j->child, -1, NULL);
			close(j->rfd);
			F.running--;
		} else if (j->state == FJ_DELIVER && j->timer) {
			loop_timer_cancel(j->loop, j->timer);
		}
		fj_free(j);
	}
	F.running = 0;
}
