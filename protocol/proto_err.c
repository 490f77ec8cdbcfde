/*
 * protocol/proto_err.c — error codes: their symbolic names and the
 * proto_fail() helper that fills a struct proto_err.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "protocol/proto.h"

static const struct {
	int code;
	const char *name;
} errnames[] = {
	{PROTO_ERR_PARSE, "parse"},         {PROTO_ERR_INVALID, "invalid"},
	{PROTO_ERR_NO_METHOD, "no_method"}, {PROTO_ERR_PARAMS, "params"},
	{PROTO_ERR_INTERNAL, "internal"},   {PROTO_ERR_TOO_LARGE, "too_large"},
	{PROTO_ERR_TOO_DEEP, "too_deep"},   {PROTO_ERR_NOT_FOUND, "not_found"},
	{PROTO_ERR_EXISTS, "exists"},       {PROTO_ERR_BAD_INPUT, "bad_input"},
	{PROTO_ERR_IO, "io"},               {PROTO_ERR_BUSY, "busy"},
	{PROTO_ERR_CANCELLED, "cancelled"}, {PROTO_ERR_SHUTDOWN, "shutdown"},
	{PROTO_ERR_SANDBOX, "sandbox"},     {PROTO_ERR_KERNEL, "kernel"},
	{PROTO_ERR_LLM, "llm"},             {PROTO_ERR_NO_QUESTION, "no_question"},
};

/* Symbolic name of an error code; "error" for codes this table lacks. */
const char *proto_errname(int code)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].code == code)
			return errnames[i].name;
	return "error";
}

/* Fill err with code and a formatted message; errno is preserved. */
int proto_fail(struct proto_err *err, int code, const char *fmt, ...)
{
	int saved = errno;
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return -1;
}
