/*
 * daemon/project/publish.c — subscriptions and notifications (daemon/project/publish.h).
 *
 * Subscriptions are one flat array of (connection, project path, topic
 * mask).  Removing one during a publish only clears its mask; the array is
 * compacted when no publish is under way, so a publish walking it by index
 * never skips or repeats an entry, and entries added meanwhile (past the
 * count it started with) are not sent to.
 */
#include "daemon/project/publish.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/log.h"
#include "daemon/core/mpjson.h"
#include "daemon/project/project.h"
#include "protocol/proto.h"

#define PUB_MAX_PER_CONN 32 /* projects one connection may follow */

struct pub_sub {
	uint64_t conn;
	char *path;
	unsigned topics; /* 0: removed, compacted later */
};

static struct {
	struct pub_sub *subs;
	size_t n, cap;
	int depth;       /* publishes under way (a send may publish again) */
	bool holes;      /* some entry has topics == 0 */
	pub_sink sink;
	void *ud;
} P;

static const char *const topic_method[PUB_TOPICS] = {
	[PUB_TURN_EVENT] = "turn.event",
	[PUB_HISTORY_EVENT] = "history.event",
	[PUB_HISTORY_CHANGED] = "history.changed",
	[PUB_DATA_EVENT] = "data.event",
};

/* Where packed notifications go. */
void pub_set_sink(pub_sink sink, void *ud)
{
	P.sink = sink;
	P.ud = ud;
}

/* Drop the removed entries (not while a publish walks the array). */
static void pub_compact(void)
{
	if (P.depth > 0 || !P.holes)
		return;
	size_t j = 0;
	for (size_t i = 0; i < P.n; i++) {
		if (P.subs[i].topics)
			P.subs[j++] = P.subs[i];
		else
			free(P.subs[i].path);
	}
	P.n = j;
	P.holes = false;
}

/* The live entry of (conn, path), or NULL. */
static struct pub_sub *pub_find(uint64_t conn, const char *path)
{
	for (size_t i = 0; i < P.n; i++)
		if (P.subs[i].topics && P.subs[i].conn == conn && !strcmp(P.subs[i].path, path))
			return &P.subs[i];
	return NULL;
}

/* Projects a connection follows. */
static size_t pub_count(uint64_t conn)
{
	size_t k = 0;
	for (size_t i = 0; i < P.n; i++)
		k += P.subs[i].topics && P.subs[i].conn == conn;
	return k;
}

/* Follow topics of p (merged into an existing entry). */
int pub_subscribe(uint64_t conn_id, const struct proj *p, unsigned topics)
{
	const char *path = p ? proj_path(p) : NULL;
	struct pub_sub *s;
	if (!path || !(topics & PUB_ALL))
		return -1;
	if ((s = pub_find(conn_id, path))) {
		s->topics |= topics & PUB_ALL;
		return 0;
	}
	if (pub_count(conn_id) >= PUB_MAX_PER_CONN) {
		log_warn("client %llu follows too many projects; %s not added",
			 (unsigned long long)conn_id, path);
		return -1;
	}
	if (P.n == P.cap) {
		size_t cap = P.cap ? P.cap * 2 : 16;
		struct pub_sub *a = realloc(P.subs, cap * sizeof *a);
		if (!a)
			return -1;
		P.subs = a;
		P.cap = cap;
	}
	struct pub_sub *added = &P.subs[P.n];
	if (!(added->path = strdup(path)))
		return -1;
	added->conn = conn_id;
	added->topics = topics & PUB_ALL;
	P.n++;
	return 0;
}

/* Stop following topics of p; the entry goes when none is left. */
void pub_unsubscribe(uint64_t conn_id, const struct proj *p, unsigned topics)
{
	struct pub_sub *s = p ? pub_find(conn_id, proj_path(p)) : NULL;
	if (!s)
		return;
	s->topics &= ~topics;
	if (!s->topics) {
		P.holes = true;
		pub_compact();
	}
}

/* Forget every subscription of a closed connection. */
void pub_conn_gone(uint64_t conn_id)
{
	for (size_t i = 0; i < P.n; i++) {
		if (P.subs[i].conn == conn_id && P.subs[i].topics) {
			P.subs[i].topics = 0;
			P.holes = true;
		}
	}
	pub_compact();
}

/* Bytes of v's compact JSON text. */
static size_t json_size(const json_t *v)
{
	return json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Cut every string of v (recursively, in place) longer than lim bytes, on a
 * UTF-8 boundary, with a marker saying how much was left out. */
static void cut_strings(json_t *v, size_t lim)
{
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			cut_strings(x, lim);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			cut_strings(x, lim);
	} else if (json_is_string(v) && json_string_length(v) > lim) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v), m = lim;
		while (m > 0 && ((unsigned char)s[m] & 0xC0) == 0x80)
			m--;
		char tail[96];
		int tn = snprintf(tail, sizeof tail, "\n… [cut by daa: %zu more bytes]", n - m);
		char *buf = malloc(m + (size_t)tn + 1);
		if (!buf)
			return;
		memcpy(buf, s, m);
		memcpy(buf + m, tail, (size_t)tn + 1);
		json_string_setn_nocheck(v, buf, m + (size_t)tn);
		free(buf);
	}
}

/* A copy cut to fit max bytes, or NULL when v fits (publish.h). */
json_t *pub_shrink(const json_t *v, size_t max)
{
	if (json_size(v) <= max)
		return NULL;
	json_t *c = json_deep_copy(v);
	for (size_t lim = max / 2; c && lim >= 64 && json_size(c) > max; lim /= 2)
		cut_strings(c, lim);
	if (json_is_object(c))
		json_object_set_new(c, "truncated", json_true());
	return c;
}

/* The notification packed into b (params cut to size first). */
static void pub_pack(struct proto_buf *b, enum pub_topic topic, const json_t *params)
{
	json_t *small = pub_shrink(params, PUB_EVENT_MAX);
	proto_buf_init(b);
	proto_pack_notify_head(&b->pk, topic_method[topic]);
	mpjson_pack(&b->pk, small ? small : params);
	json_decref(small);
}

/* Pack once, send to each subscriber of the project's folder and topic. */
int pub_publish(const struct proj *p, enum pub_topic topic, const json_t *params)
{
	struct proto_buf b;
	int sent = 0;
	const char *project_path = p ? proj_path(p) : NULL;
	if (!project_path || (unsigned)topic >= PUB_TOPICS || !params || !P.sink)
		return 0;
	pub_pack(&b, topic, params);
	P.depth++;
	size_t n = P.n; /* not those subscribed by a send */
	for (size_t i = 0; i < n; i++) {
		struct pub_sub *s = &P.subs[i]; /* re-read: a send may grow the array */
		if (!(s->topics & (1u << topic)) || strcmp(s->path, project_path))
			continue;
		uint64_t conn = s->conn;
		if (P.sink(conn, b.sb.data, b.sb.size, P.ud) < 0)
			pub_conn_gone(conn);
		else
			sent++;
	}
	P.depth--;
	pub_compact();
	proto_buf_free(&b);
	return sent;
}

/* One notification to one connection. */
int pub_send(uint64_t conn_id, enum pub_topic topic, const json_t *params)
{
	struct proto_buf b;
	if ((unsigned)topic >= PUB_TOPICS || !params || !P.sink)
		return -1;
	pub_pack(&b, topic, params);
	int rc = P.sink(conn_id, b.sb.data, b.sb.size, P.ud);
	proto_buf_free(&b);
	if (rc < 0)
		pub_conn_gone(conn_id);
	return rc;
}

/* Drop every subscription (shutdown, tests). */
void pub_reset(void)
{
	for (size_t i = 0; i < P.n; i++)
		free(P.subs[i].path);
	free(P.subs);
	P.subs = NULL;
	P.n = P.cap = 0;
	P.holes = false;
}
