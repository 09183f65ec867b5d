/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The red-black tree's rebalancing, as always-inline bodies (the Linux
 * rbtree_augmented.h arrangement).  rbtree.c instantiates them once for the
 * out-of-line API; an augmented tree whose callbacks are a `static const`
 * struct instantiates them in its own file with rb_insert_augmented_inline /
 * rb_erase_augmented_inline: the compiler then sees the callbacks and inlines
 * them (no indirect call per rotation or propagation, which is what an
 * IOVA-tree erase on the unmap path is made of).
 *
 * Algorithm: CLRS chapter 13, with NULL leaves standing for the black
 * sentinel.  Invariants: the root is black; a red node has no red child;
 * every path from a node down to a NULL leaf crosses the same number of
 * black nodes.  Hence the height is at most 2 log2(n + 1).
 */
#ifndef UIOMMU_RBTREE_AUGMENTED_H
#define UIOMMU_RBTREE_AUGMENTED_H

#include "core/rbtree.h"

static inline __attribute__((always_inline)) int rb__is_red(const struct rb_node *n)
{
	return n && n->red;
}

/* Make @v take @u's place under @u's parent (v may be NULL). */
static inline __attribute__((always_inline)) void
rb__replace_child(struct rb_root *root, struct rb_node *u, struct rb_node *v)
{
	struct rb_node *p = u->parent;

	if (!p)
		root->node = v;
	else if (p->left == u)
		p->left = v;
	else
		p->right = v;
	if (v)
		v->parent = p;
}

/*
 * Rotate @x down to side @d (0: left, 1: right); its child y on the other
 * side rises.  d = 0:
 *    x              y
 *   / \            / \
 *  a   y    ->    x   c
 *     / \        / \
 *    b   c      a   b
 * d = 1 is the mirror image.
 */
static inline __attribute__((always_inline)) void
rb__rotate(struct rb_root *root, struct rb_node *x, int d, const struct rb_augment_callbacks *cb)
{
	struct rb_node *y = x->child[!d];

	x->child[!d] = y->child[d];
	if (y->child[d])
		y->child[d]->parent = x;
	rb__replace_child(root, x, y);
	y->child[d] = x;
	x->parent = y;
	if (cb)
		cb->rotate(x, y);
}

/* Rebalance after linking the red leaf @n (cb: augmented tree, or NULL).
 * d is the side of the parent under the grandparent; the cases for d = 1
 * are the mirror images of those for d = 0. */
static inline __attribute__((always_inline)) void
rb__insert_fixup(struct rb_root *root, struct rb_node *n, const struct rb_augment_callbacks *cb)
{
	struct rb_node *p, *g, *u;

	/* Only a red node under a red parent breaks an invariant. */
	while ((p = n->parent) && p->red) {
		g = p->parent; /* exists: a red node is never the root */
		int d = p == g->right;

		u = g->child[!d];
		if (rb__is_red(u)) {
			/* Recolour and move the problem two levels up. */
			p->red = 0;
			u->red = 0;
			g->red = 1;
			n = g;
			continue;
		}
		if (n == p->child[!d]) {
			/* Inner grandchild: turn it into an outer one. */
			rb__rotate(root, p, d, cb);
			n = p;
			p = n->parent;
		}
		p->red = 0;
		g->red = 1;
		rb__rotate(root, g, !d, cb);
	}
	root->node->red = 0;
}

/*
 * @x (possibly NULL) carries an extra black; @xp is its parent.  Push the
 * extra black up, or absorb it with at most three rotations.  d is x's
 * side under xp (x NULL: the side whose child is NULL; the sibling w is
 * never NULL, its side has black height >= 1).
 */
static inline __attribute__((always_inline)) void
rb__erase_fixup(struct rb_root *root, struct rb_node *x, struct rb_node *xp,
		const struct rb_augment_callbacks *cb)
{
	struct rb_node *w;

	while (x != root->node && !rb__is_red(x)) {
		int d = x != xp->left;

		w = xp->child[!d];
		if (w->red) {
			w->red = 0;
			xp->red = 1;
			rb__rotate(root, xp, d, cb);
			w = xp->child[!d];
		}
		if (!rb__is_red(w->left) && !rb__is_red(w->right)) {
			w->red = 1;
			x = xp;
			xp = x->parent;
			continue;
		}
		if (!rb__is_red(w->child[!d])) {
			w->child[d]->red = 0;
			w->red = 1;
			rb__rotate(root, w, !d, cb);
			w = xp->child[!d];
		}
		w->red = xp->red;
		xp->red = 0;
		w->child[!d]->red = 0;
		rb__rotate(root, xp, d, cb);
		x = root->node;
		break;
	}
	if (x)
		x->red = 0;
}

static inline __attribute__((always_inline)) void rb__erase(struct rb_root *root, struct rb_node *n,
							    const struct rb_augment_callbacks *cb)
{
	struct rb_node *x, *xp, *y, *from;
	int removed_red;

	if (!n->left || !n->right) {
		/* At most one child: splice n out. */
		x = n->left ? n->left : n->right;
		xp = n->parent;
		removed_red = n->red;
		rb__replace_child(root, n, x);
		from = xp; /* lost n below it */
	} else {
		/* Two children: the successor y (no left child) takes n's place
		 * and colour; the colour lost is y's, at y's old position. */
		y = n->right;
		while (y->left)
			y = y->left;
		removed_red = y->red;
		x = y->right;
		if (y->parent == n) {
			xp = y;
			if (cb)
				cb->copy(n, y);
		} else {
			xp = y->parent;
			rb__replace_child(root, y, x);
			y->right = n->right;
			y->right->parent = y;
			if (cb) {
				cb->copy(n, y);
				cb->propagate(xp, y);
			}
		}
		rb__replace_child(root, n, y);
		y->left = n->left;
		y->left->parent = y;
		y->red = n->red;
		from = y;
	}
	n->parent = n->left = n->right = NULL;
	if (cb)
		cb->propagate(from, NULL);
	if (!removed_red)
		rb__erase_fixup(root, x, xp, cb);
}

/** rb_insert_augmented with @cb visible to the compiler (see the top). */
static inline __attribute__((always_inline)) void
rb_insert_augmented_inline(struct rb_root *root, struct rb_node *n,
			   const struct rb_augment_callbacks *cb)
{
	rb__insert_fixup(root, n, cb);
}

/** rb_erase_augmented with @cb visible to the compiler (see the top). */
static inline __attribute__((always_inline)) void
rb_erase_augmented_inline(struct rb_root *root, struct rb_node *n,
			  const struct rb_augment_callbacks *cb)
{
	rb__erase(root, n, cb);
}

#endif
