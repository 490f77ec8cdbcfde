/*
 * daemon/llm/http.c — asynchronous HTTP on the daemon loop (see http.h).
 *
 * libcurl's multi-socket interface: curl tells us which sockets to watch
 * (socket callback → loop_fd_add/mod/del) and when to wake it (timer
 * callback → one loop timer); we hand events back with
 * curl_multi_socket_action and then read finished transfers.  libcurl must
 * not be re-entered from its own callbacks, so a cancel that happens inside
 * one only marks the request; it is reaped at the end of the loop turn
 * (loop_defer), when curl has long returned.  The
 * idle timeout is our own timer (curl's low-speed limit counts whole seconds
 * and reports the same error as the total timeout).  Both are loop timers.
 */
#include "daemon/llm/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct http {
	struct loop *loop;
	CURLM *multi;
	uint64_t timer_id;         /* loop timer: curl's timeout */
	int in_curl;            /* > 0 while inside curl_multi_socket_action */
	uint64_t reap_defer;    /* loop_defer reaping cancelled requests */
	struct http_req *reqs;  /* every request not yet freed */
	size_t n;
};

struct http_req {
	struct http *h;
	CURL *easy;
	struct curl_slist *hdrs;
	http_data_cb data;
	http_done_cb done;
	void *ud;
	bool cancelled, finished, aborted;
	uint64_t idle_timer;
	int idle_ms;
	uint64_t last_byte;
	char errbuf[CURL_ERROR_SIZE];
	struct http_req *prev, *next;
};

static bool http_global_done;

static void http_process(struct http *h);

/* Write an error message. */
static void http_seterr(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

/* Loop fd event → curl. */
static void http_fd_cb(struct loop *l, int fd, int events, void *ud)
{
	(void)l;
	struct http *h = ud;
	int flags = 0;
	if (events & (LOOP_READ | LOOP_HUP))
		flags |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	if (events & LOOP_ERROR)
		flags |= CURL_CSELECT_ERR;
	int running = 0;
	h->in_curl++;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	h->in_curl--;
	http_process(h);
}

/* curl's socket callback: watch, re-watch or forget a socket. */
static int http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)easy;
	struct http *h = userp;
	if (what == CURL_POLL_REMOVE) {
		if (socketp)
			loop_fd_del(h->loop, s);
		curl_multi_assign(h->multi, s, NULL);
		return 0;
	}
	int ev = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= LOOP_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= LOOP_WRITE;
	if (socketp) {
		loop_fd_mod(h->loop, s, ev);
		return 0;
	}
	if (loop_fd_add(h->loop, s, ev, http_fd_cb, h) < 0)
		return -1;
	curl_multi_assign(h->multi, s, h); /* any non-NULL marks "registered" */
	return 0;
}

/* Our timer → curl's timeout handling. */
static void http_curl_due(struct loop *l, uint64_t id, void *ud)
{
	(void)l, (void)id;
	struct http *h = ud;
	h->timer_id = 0;
	int running = 0;
	h->in_curl++;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	h->in_curl--;
	http_process(h);
}

/* curl's timer callback: (re)arm or disarm our one timer. */
static int http_curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct http *h = userp;
	loop_timer_clear(h->loop, &h->timer_id);
	if (timeout_ms >= 0) {
		h->timer_id = loop_timer_add(h->loop, (uint64_t)timeout_ms, http_curl_due, h);
		if (!h->timer_id)
			return -1;
	}
	return 0;
}

/* Create the multi handle for loop l. */
struct http *http_new(struct loop *l, char *err, size_t errlen)
{
	/* Once per process: re-initialising TLS for every client is slow. */
	if (!http_global_done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		http_seterr(err, errlen, "libcurl failed to initialise (curl_global_init)");
		return NULL;
	}
	http_global_done = true;
	struct http *h = calloc(1, sizeof(*h));
	if (h)
		h->multi = curl_multi_init();
	if (!h || !h->multi) {
		free(h);
		http_seterr(err, errlen, "out of memory creating the HTTP client");
		return NULL;
	}
	h->loop = l;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_curl_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

/* Detach a request from curl and the list, and free it. */
static void http_req_destroy(struct http_req *r)
{
	struct http *h = r->h;
	loop_timer_clear(h->loop, &r->idle_timer);
	curl_multi_remove_handle(h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	if (r->prev)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	h->n--;
	free(r);
}

/* Free the client, dropping pending requests without callbacks. */
void http_free(struct http *h)
{
	if (!h)
		return;
	loop_defer_cancel(h->loop, h->reap_defer);
	while (h->reqs)
		http_req_destroy(h->reqs);
	/* Cleanup closes cached connections (socket callbacks still wanted, to
	 * unregister them) and may re-arm the timer: drop it afterwards. */
	curl_multi_cleanup(h->multi);
	loop_timer_clear(h->loop, &h->timer_id);
	free(h);
}

/* Body bytes from curl → the data callback. */
static size_t http_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_req *r = ud;
	size_t n = size * nmemb;
	if (r->cancelled)
		return 0;
	r->last_byte = loop_now_ms();
	if (r->data && r->data(r->ud, r, ptr, n) != 0) {
		r->aborted = true;
		return 0;
	}
	return r->cancelled ? 0 : n;
}

/* Header bytes: only proof of life for the idle timer. */
static size_t http_header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	struct http_req *r = ud;
	r->last_byte = loop_now_ms();
	return size * nmemb;
}

/* Transport failure class of a finished transfer. */
static enum http_fail http_classify(struct http_req *r, CURLcode rc)
{
	curl_off_t conn = 0;
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_COULDNT_CONNECT:
		return HTTP_CONNECT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return HTTP_DNS;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &conn);
		return conn > 0 ? HTTP_TOTAL_TIMEOUT : HTTP_CONNECT_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return HTTP_TLS;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return HTTP_DROPPED;
	case CURLE_WRITE_ERROR:
		return r->aborted ? HTTP_ABORTED : HTTP_OTHER;
	default:
		return HTTP_OTHER;
	}
}

/* Report a finished request once, then free it. */
static void http_finish(struct http_req *r, enum http_fail fail, const char *detail)
{
	struct http_result res = {.fail = fail, .retry_after_s = -1};
	long status = 0;
	char *ct = NULL;
	curl_off_t ra = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
	if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		res.retry_after_s = (long)ra;
	res.status = status;
	res.content_type = ct;
	snprintf(res.detail, sizeof(res.detail), "%s", detail ? detail : "");
	r->finished = true;
	if (!r->cancelled && r->done)
		r->done(r->ud, r, &res);
	http_req_destroy(r);
}

/* End of the loop turn: free the requests cancelled inside curl. */
static void http_reap_cb(struct loop *l, void *ud)
{
	struct http *h = ud;
	(void)l;
	h->reap_defer = 0;
	for (struct http_req *r = h->reqs, *nx; r; r = nx) {
		nx = r->next;
		if (r->cancelled && !r->finished)
			http_req_destroy(r);
	}
}

/* After curl returned: report finished requests. */
static void http_process(struct http *h)
{
	if (h->in_curl)
		return;
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(h->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct http_req *r = NULL;
		CURLcode rc = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r || r->finished)
			continue;
		const char *detail = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
		http_finish(r, http_classify(r, rc), rc == CURLE_OK ? "" : detail);
	}
}

/* Idle timer: fail the request when nothing arrived for idle_ms. */
static void http_idle_cb(struct loop *l, uint64_t id, void *ud)
{
	struct http_req *r = ud;
	(void)id;
	r->idle_timer = 0;
	uint64_t quiet = loop_now_ms() - r->last_byte;
	if (quiet < (uint64_t)r->idle_ms) {
		r->idle_timer = loop_timer_add(l, (uint64_t)r->idle_ms - quiet, http_idle_cb, r);
		return;
	}
	char msg[96];
	snprintf(msg, sizeof(msg), "no data for %d ms", r->idle_ms);
	http_finish(r, HTTP_IDLE_TIMEOUT, msg);
}

/* Set the easy handle's options for one request. */
static int http_setup(struct http_req *r, const struct http_opts *o)
{
	CURL *e = r->easy;
	for (const char *const *p = o->headers; p && *p; p++) {
		struct curl_slist *n = curl_slist_append(r->hdrs, *p);
		if (!n)
			return -1;
		r->hdrs = n;
	}
	struct curl_slist *n = curl_slist_append(r->hdrs, "Expect:");
	if (!n)
		return -1;
	r->hdrs = n;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_URL, o->url);
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "daa/0.1");
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (o->connect_timeout_ms > 0)
		bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
	if (o->total_timeout_ms > 0)
		bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->total_timeout_ms);
	if (o->body) {
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
		bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->body);
	}
	return bad ? -1 : 0;
}

/* Start a request on the multi handle. */
struct http_req *http_start(struct http *h, const struct http_opts *o, http_data_cb data,
			    http_done_cb done, void *ud, char *err, size_t errlen)
{
	struct http_req *r = calloc(1, sizeof(*r));
	if (!r || !(r->easy = curl_easy_init())) {
		free(r);
		http_seterr(err, errlen, "out of memory starting an HTTP request");
		return NULL;
	}
	r->h = h;
	r->data = data;
	r->done = done;
	r->ud = ud;
	if (http_setup(r, o) < 0) {
		http_seterr(err, errlen, "libcurl refused the request options (is the URL valid?)");
		goto fail;
	}
	CURLMcode mc = curl_multi_add_handle(h->multi, r->easy);
	if (mc != CURLM_OK) {
		if (err && errlen)
			snprintf(err, errlen, "cannot start the HTTP request: %s", curl_multi_strerror(mc));
		goto fail;
	}
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
	h->n++;
	r->last_byte = loop_now_ms();
	if (o->idle_timeout_ms > 0) {
		r->idle_ms = o->idle_timeout_ms;
		r->idle_timer = loop_timer_add(h->loop, (uint64_t)r->idle_ms, http_idle_cb, r);
	}
	return r;
fail:
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	free(r);
	return NULL;
}

/* Cancel: free now, or (inside a curl callback) at the end of the turn. */
void http_cancel(struct http_req *r)
{
	if (!r || r->finished || r->cancelled)
		return;
	struct http *h = r->h;
	r->cancelled = true;
	if (!h->in_curl)
		http_req_destroy(r);
	else if (!h->reap_defer) /* 0 (out of memory): http_free frees it */
		h->reap_defer = loop_defer(h->loop, http_reap_cb, h);
}

/* HTTP status of the response being received. */
long http_req_status(struct http_req *r)
{
	long st = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &st);
	return st;
}

/* Content-Type of the response being received. */
const char *http_req_content_type(struct http_req *r)
{
	char *ct = NULL;
	curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
	return ct;
}

