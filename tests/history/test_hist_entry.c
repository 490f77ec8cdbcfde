/*
 * tests/history/test_hist_entry.c — a step's entry of .daa/history.json
 * read into struct hist_entry (daemon/history/history_entry.c): a well-formed
 * entry, a missing one, and every part of the wrong type (the file can be
 * edited by hand), which must read as absent.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/history/history.h"

static int failures;

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)

int main(void)
{
	json_t *st = json_loads(
		"{\"001_a\": {\"status\": \"failed\", \"error\": \"KeyError: x\", \"stdout\": \"hi\", "
		"\"outputs\": [\"outputs/plots/001_a_1.png\"]},"
		" \"002_b\": {\"status\": 7, \"error\": [], \"stdout\": {}, \"outputs\": \"x.png\"},"
		" \"003_c\": \"not an object\", \"004_d\": {}}", 0, NULL);
	struct hist_entry e;
	if (!st) {
		fprintf(stderr, "bad test json\n");
		return 2;
	}
	hist_entry_read(st, "001_a", &e);
	CHECK(e.present && e.failed && strcmp(e.status, "failed") == 0);
	CHECK(strcmp(e.error, "KeyError: x") == 0 && strcmp(e.stdout_text, "hi") == 0);
	CHECK(json_array_size(e.outputs) == 1);

	hist_entry_read(st, "002_b", &e); /* every part of the wrong type */
	CHECK(e.present && !e.failed && !e.status && !e.error && !e.stdout_text && !e.outputs);

	hist_entry_read(st, "003_c", &e);
	CHECK(!e.present && !e.status);
	hist_entry_read(st, "004_d", &e);
	CHECK(e.present && !e.status && !e.failed);
	hist_entry_read(st, "005_missing", &e);
	CHECK(!e.present);
	hist_entry_read(st, NULL, &e);
	CHECK(!e.present);
	json_t *arr = json_array();
	hist_entry_read(arr, "001_a", &e); /* a statuses file that is not an object */
	CHECK(!e.present);
	json_decref(arr);
	json_decref(st);
	if (failures) {
		fprintf(stderr, "test_hist_entry: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_hist_entry: ok\n");
	return 0;
}
