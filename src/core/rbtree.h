/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Intrusive red-black tree (parent pointers, no allocation).  The tree
 * lives in shared memory like everything else: nodes hold plain pointers,
 * valid because the arena is mapped at one address in every process.
 *
 * Augmented trees (Linux rb_augment style): a node may carry a value
 * computed from its subtree (e.g. the largest free gap below it).  The
 * owner keeps it right with three callbacks, passed by pointer at each call
 * (process-local, never stored in the tree):
 *   propagate(n, stop)  recompute n, its parent, ... up to (not including)
 *                       stop (NULL: the root); may stop early at a node
 *                       whose value did not change;
 *   copy(old, new)      new takes old's place in the tree: new's value
 *                       becomes old's (used by erase);
 *   rotate(old, new)    new has just been rotated above old: new's value
 *                       becomes old's (same subtree), old is recomputed.
 * Insert: link with rb_link_node, bring the values along the path up to
 * date (the new leaf's value, then propagate from its parent), then
 * rb_insert_augmented.  Erase: rb_erase_augmented does all of it.
 */
#ifndef UIOMMU_RBTREE_H
#define UIOMMU_RBTREE_H

#include <stddef.h>
#include <stdint.h>

struct rb_node {
	struct rb_node *parent;
	union {
		struct {
			struct rb_node *left;
			struct rb_node *right;
		};
		struct rb_node *child[2]; /* [0] = left, [1] = right */
	};
	uint32_t red;
	uint32_t aux; /* free for the embedding structure: the tree never touches it */
};

struct rb_root {
	struct rb_node *node;
};

struct rb_augment_callbacks {
	void (*propagate)(struct rb_node *n, struct rb_node *stop);
	void (*copy)(struct rb_node *old, struct rb_node *new_node);
	void (*rotate)(struct rb_node *old, struct rb_node *new_node);
};

#define RB_ROOT_INIT \
	{            \
		NULL \
	}
#define rb_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/** Link @n as a red leaf child of @parent at @link (found by the caller's
 *  descent), without rebalancing. */
static inline void rb_link_node(struct rb_node *n, struct rb_node *parent, struct rb_node **link)
{
	n->parent = parent;
	n->left = NULL;
	n->right = NULL;
	n->red = 1;
	*link = n;
}

/** Link @n as a child of @parent at @link (found by the caller's descent),
 *  then rebalance. */
void rb_link_insert(struct rb_root *root, struct rb_node *n, struct rb_node *parent,
		    struct rb_node **link);
/** Rebalance after rb_link_node(@n) in an augmented tree (values along the
 *  path already up to date); rotations go through @cb->rotate. */
void rb_insert_augmented(struct rb_root *root, struct rb_node *n,
			 const struct rb_augment_callbacks *cb);
/** Remove @n and rebalance. */
void rb_erase(struct rb_root *root, struct rb_node *n);
/** Remove @n from an augmented tree and rebalance, keeping the subtree
 *  values right.  A value another node derives from @n itself (not from the
 *  tree shape, e.g. a gap to its neighbour) must be updated and propagated
 *  by the caller before the call. */
void rb_erase_augmented(struct rb_root *root, struct rb_node *n,
			const struct rb_augment_callbacks *cb);
struct rb_node *rb_first(const struct rb_root *root);
struct rb_node *rb_last(const struct rb_root *root);
/* One in-order step from @n towards side @d (1: successor, 0: predecessor),
 * or NULL. */
static inline struct rb_node *rb__step(const struct rb_node *n, int d)
{
	const struct rb_node *p;

	if (n->child[d]) {
		n = n->child[d];
		while (n->child[!d])
			n = n->child[!d];
		return (struct rb_node *)n;
	}
	/* Climb until we come up from the other side. */
	while ((p = n->parent) && n == p->child[d])
		n = p;
	return (struct rb_node *)p;
}

/** In-order successor of @n, or NULL (inline: on the unmap path). */
static inline struct rb_node *rb_next(const struct rb_node *n)
{
	return rb__step(n, 1);
}

/** In-order predecessor of @n, or NULL. */
static inline struct rb_node *rb_prev(const struct rb_node *n)
{
	return rb__step(n, 0);
}

#endif
