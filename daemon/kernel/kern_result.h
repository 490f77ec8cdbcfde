/*
 * daemon/kernel/kern_result.h — a kernel's reply to exec (or profile/cache/bind:
 * the ok/error part) read once into a struct (sandbox/KERNEL.md "exec").
 * The kernel runs user code, so its reply is checked here: a field of the
 * wrong type makes the result a failed one (KR_MALFORMED, `why` says which
 * field) and never reaches the core as JSON it must second-guess.
 *
 * "Did the step succeed" is `r.ok`: the kernel answered, its reply says
 * ok: true, and it carries no error object.
 * The kernel manager parses every reply once where it arrives
 * (daemon/kernel/kern_req.c) and hands this struct to the request's kern_reply_cb.
 * Strings and arrays are borrowed from the reply: valid only while it is
 * (a kern_reply_cb's duration).
 */
#ifndef DAA_KERN_RESULT_H
#define DAA_KERN_RESULT_H

#include <jansson.h>
#include <stdbool.h>
#include "protocol/proto.h"

enum kern_result_kind {
	KR_OK,        /* the code ran without an exception */
	KR_FAILED,    /* the code raised: error_type/error_message/traceback */
	KR_NO_REPLY,  /* the kernel did not answer (crash, time limit, restart): why */
	KR_MALFORMED, /* the reply broke KERNEL.md: why names the field */
};

struct kern_result {
	enum kern_result_kind kind;
	bool ok;                   /* kind == KR_OK: the one "did it succeed" */
	bool interrupted;          /* error type KeyboardInterrupt (SIGINT) */
	const char *stdout_text;   /* "" when absent */
	const char *stderr_text;   /* "" when absent */
	bool truncated;            /* stdout or stderr was capped by max_output */
	const char *error_type;    /* NULL unless failed (KernelError for no reply/malformed) */
	const char *error_message; /* NULL when ok; else never NULL */
	const char *traceback;     /* "" when none */
	const char *hint;          /* NULL when none */
	const json_t *error;       /* the reply's error object, or NULL */
	const json_t *value;       /* result: {repr, type, table?} or NULL */
	const char *value_repr;    /* NULL when no value */
	const char *value_type;    /* NULL when no value */
	const json_t *tables;      /* array of previews, or NULL */
	const json_t *figures;     /* array of relative paths (strings), or NULL */
	long long duration_ms;     /* -1 when not reported */
	int code;                  /* KR_NO_REPLY: the kernel manager's PROTO_ERR_* (KERNEL:
				    * crash/time limit/restart, SANDBOX, SHUTDOWN); KR_MALFORMED:
				    * PROTO_ERR_KERNEL; else 0 */
	char why[300];             /* KR_NO_REPLY / KR_MALFORMED: what went wrong */
	const json_t *raw;         /* the reply map when it kept to KERNEL.md (KR_OK,
				    * KR_FAILED), else NULL: only for what is passed on
				    * whole (run's reply to its client, a profile, the
				    * cache ledger); read the fields above instead */
};

/* Read a kernel callback's (reply, err) pair: exactly one is non-NULL
 * (kern.h); both NULL reads as no reply.  Never fails; returns r->ok. */
bool kern_result_parse(const json_t *reply, const struct proto_err *err,
		       struct kern_result *r);

#endif
