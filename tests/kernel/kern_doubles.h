/*
 * tests/kernel/kern_doubles.h — what test_kern_mgr.c asks of the project
 * stand-in (kern_doubles.c) beyond daemon/project/project.h.
 */
#ifndef DAA_KERN_DOUBLES_H
#define DAA_KERN_DOUBLES_H

struct proj;

/* A new handle for folder p, as after the project there was deleted and
 * created again (proj_get keeps returning the first one). */
struct proj *kern_test_proj_again(const char *p);
/* Mark p deleted (proj_deleted true). */
void kern_test_proj_delete(struct proj *p);

#endif
