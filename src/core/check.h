/* SPDX-License-Identifier: BSD-3-Clause */
/* The state checker (check.c). */
#ifndef UIOMMU_CHECK_H
#define UIOMMU_CHECK_H

struct uiommu_ctx;

/* Where the checker's findings go: each one counted, and passed to @cb
 * (may be NULL) as one line of text. */
struct check_report {
	unsigned int errors;
	void (*cb)(void *arg, const char *msg);
	void *arg;
};

/* Check the whole object graph of @ctx (under its lock); 0 or -EUCLEAN. */
int ctx_check(struct uiommu_ctx *ctx, struct check_report *r);

#endif
