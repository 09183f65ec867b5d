/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Intrusive red-black tree with parent pointers: the out-of-line API.  The
 * rebalancing itself is in rbtree_augmented.h (always inline), so that an
 * augmented tree can also instantiate it with its callbacks inlined.
 */
#include "core/rbtree_augmented.h"

void rb_link_insert(struct rb_root *root, struct rb_node *n, struct rb_node *parent,
		    struct rb_node **link)
{
	rb_link_node(n, parent, link);
	rb__insert_fixup(root, n, NULL);
}

void rb_insert_augmented(struct rb_root *root, struct rb_node *n,
			 const struct rb_augment_callbacks *cb)
{
	rb__insert_fixup(root, n, cb);
}

void rb_erase(struct rb_root *root, struct rb_node *n)
{
	rb__erase(root, n, NULL);
}

void rb_erase_augmented(struct rb_root *root, struct rb_node *n,
			const struct rb_augment_callbacks *cb)
{
	rb__erase(root, n, cb);
}

struct rb_node *rb_first(const struct rb_root *root)
{
	struct rb_node *n = root->node;

	if (!n)
		return NULL;
	while (n->left)
		n = n->left;
	return n;
}

struct rb_node *rb_last(const struct rb_root *root)
{
	struct rb_node *n = root->node;

	if (!n)
		return NULL;
	while (n->right)
		n = n->right;
	return n;
}
