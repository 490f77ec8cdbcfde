/*
 * daemon/llm/http.h — asynchronous HTTP requests on the daemon loop: libcurl's
 * multi-socket interface, its sockets and timer mapped onto loop_fd_* and
 * loop_timer_* (the shape of curl's ephiperfifo example).  Nothing blocks.
 *
 * Ownership: struct http is owned by its creator; a struct http_req by the
 * http module — it lives until its done callback has returned, or until
 * http_cancel (after which no callback fires).
 */
#ifndef DAA_HTTP_H
#define DAA_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "daemon/core/loop.h"

struct http;
struct http_req;

/* What went wrong at the transport level (HTTP_OK: a status was received). */
enum http_fail {
	HTTP_OK = 0,
	HTTP_CONNECT,         /* connection refused / host unreachable */
	HTTP_DNS,             /* host name did not resolve */
	HTTP_CONNECT_TIMEOUT, /* no connection within connect_timeout_ms */
	HTTP_IDLE_TIMEOUT,    /* no byte for idle_timeout_ms */
	HTTP_TOTAL_TIMEOUT,   /* not finished within total_timeout_ms */
	HTTP_TLS,             /* TLS handshake / certificate problem */
	HTTP_DROPPED,         /* connection closed or reset mid-reply */
	HTTP_ABORTED,         /* the data callback refused the body */
	HTTP_OTHER,
};

struct http_opts {
	const char *url;
	const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
	const char *body;           /* POST body (copied); NULL: GET */
	size_t body_len;
	int connect_timeout_ms, idle_timeout_ms, total_timeout_ms; /* <= 0: none */
};

struct http_result {
	enum http_fail fail;
	long status;          /* HTTP status, 0 when none was received */
	long retry_after_s;   /* Retry-After (seconds or HTTP date), -1 when absent */
	const char *content_type; /* may be NULL; valid during the callback */
	char detail[256];     /* libcurl's explanation when fail != HTTP_OK */
};

/* Body bytes as they arrive (status and headers are known by then: see
 * http_req_status).  Return 0 to go on, -1 to abort (→ HTTP_ABORTED).
 * May call http_cancel on this or any request. */
typedef int (*http_data_cb)(void *ud, struct http_req *r, const char *buf, size_t len);
/* The request finished (exactly once, from the loop, never after cancel). */
typedef void (*http_done_cb)(void *ud, struct http_req *r, const struct http_result *res);

struct http *http_new(struct loop *l, char *err, size_t errlen);
/* Cancels every pending request silently.  Not from inside an http callback. */
void http_free(struct http *h);

/* Start a request.  NULL (err filled) on failure; callbacks never fire
 * from inside http_start. */
struct http_req *http_start(struct http *h, const struct http_opts *o, http_data_cb data,
			    http_done_cb done, void *ud, char *err, size_t errlen);
/* Stop a request; its callbacks will not be called again.  Safe from any
 * callback (the transfer is reaped once libcurl has returned). */
void http_cancel(struct http_req *r);

/* During the data callback: HTTP status and Content-Type (may be NULL). */
long http_req_status(struct http_req *r);
const char *http_req_content_type(struct http_req *r);

#endif
