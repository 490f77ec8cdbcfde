/*
 * daemon/project/publish.h — the one way notifications leave the daemon.
 *
 * A connection subscribes to topics of a project (`ask`, `answer` and
 * `watch` subscribe to all of them); publish() packs a notification once
 * and sends it to every subscriber of that project and topic.  A project is
 * matched by its folder path, on purpose: a client follows a project by its
 * name (`watch -p NAME`, the tray), so following it survives its handle
 * being replaced (deleted and created again under the same name, so the
 * same folder; tests/integration/test_project_recreated.py).  Only who
 * listens is shared that way, no state of the project.  Subscriptions end with the connection (server.c calls
 * pub_conn_gone) or when a send finds it gone.
 *
 * Big events: a notification whose JSON text passes PUB_EVENT_MAX has its
 * longest strings cut (on a UTF-8 boundary, with a "[cut by daa: N more
 * bytes]" marker) and "truncated": true set, so one event never costs a
 * subscriber its connection (protocol/PROTOCOL.md, turn.event).
 *
 * Subscribing or unsubscribing from inside a send (a connection closing as
 * it is written to) is safe: the publish in progress skips what was
 * removed and does not send to what was added.
 */
#ifndef DAA_PUBLISH_H
#define DAA_PUBLISH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct proj;

enum pub_topic {
	PUB_TURN_EVENT,      /* turn.event: an agent turn's progress */
	PUB_HISTORY_EVENT,   /* history.event: steps saved, re-runs, runs */
	PUB_HISTORY_CHANGED, /* history.changed: history edited or undone */
	PUB_DATA_EVENT,      /* data.event: background profiles */
	PUB_TOPICS
};
#define PUB_ALL ((1u << PUB_TOPICS) - 1)
#define PUB_EVENT_MAX (1u << 20) /* bytes of an event's JSON text */

/* Where packed notifications go: 0 when sent or queued, -1 when the
 * connection is gone (its subscriptions are then dropped).  server.c sets
 * its own at start; the unit test sets a fake. */
typedef int (*pub_sink)(uint64_t conn_id, const char *bytes, size_t len, void *ud);
void pub_set_sink(pub_sink sink, void *ud);

/* Follow / stop following topics (a mask of 1u << topic) of a project. */
int pub_subscribe(uint64_t conn_id, const struct proj *p, unsigned topics);
void pub_unsubscribe(uint64_t conn_id, const struct proj *p, unsigned topics);
/* The connection closed: forget its subscriptions. */
void pub_conn_gone(uint64_t conn_id);

/* Send params (borrowed; a JSON object) as the topic's notification to the
 * project's subscribers; the number of connections it went to. */
int pub_publish(const struct proj *p, enum pub_topic topic, const json_t *params);
/* To one connection only (a `run`'s own queue events); 0 or -1 (gone). */
int pub_send(uint64_t conn_id, enum pub_topic topic, const json_t *params);

/* A copy of v whose JSON text fits max bytes (strings cut with a marker,
 * "truncated": true on an object), or NULL when v fits as it is. */
json_t *pub_shrink(const json_t *v, size_t max);

/* Drop every subscription (daemon shutdown). */
void pub_reset(void);

#endif
