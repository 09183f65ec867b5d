/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Intrusive red-black tree (parent pointers, no allocation).  The tree
 * lives in shared memory like everything else: nodes hold plain pointers,
 * valid because the arena is mapped at one address in every process.
 */
#ifndef UIOMMU_RBTREE_H
#define UIOMMU_RBTREE_H

#include <stddef.h>
#include <stdint.h>

struct rb_node {
	struct rb_node *parent;
	struct rb_node *left;
	struct rb_node *right;
	int red;
};

struct rb_root {
	struct rb_node *node;
};

#define RB_ROOT_INIT \
	{            \
		NULL \
	}
#define rb_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/** Link @n as a child of @parent at @link (found by the caller's descent),
 *  then rebalance. */
void rb_link_insert(struct rb_root *root, struct rb_node *n, struct rb_node *parent,
		    struct rb_node **link);
/** Remove @n and rebalance. */
void rb_erase(struct rb_root *root, struct rb_node *n);
struct rb_node *rb_first(const struct rb_root *root);
struct rb_node *rb_last(const struct rb_root *root);
struct rb_node *rb_next(const struct rb_node *n);
struct rb_node *rb_prev(const struct rb_node *n);

#endif
