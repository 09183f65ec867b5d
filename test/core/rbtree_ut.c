/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Red-black tree unit tests: invariant checker (root black, no red-red,
 * equal black height, parent links, in-order sorted) run after randomized
 * inserts and erases compared against a reference bitmap; the augmented
 * variant also checks two subtree values (size, max of a per-node value)
 * kept by the callbacks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/rbtree.h"
#include "ut.h"

struct knode {
	struct rb_node rb;
	uint64_t key;
	/* augmented test: own value, subtree size and subtree max of val */
	uint64_t val;
	uint64_t size;
	uint64_t maxv;
};

#define KEY(n) (rb_entry((n), struct knode, rb)->key)

static uint64_t g_rng;

static uint64_t rnd(void)
{
	/* xorshift64* */
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t seed_from_env(void)
{
	const char *s = getenv("UIOMMU_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();

	return seed ? seed : 1;
}

/* Returns the black height of @n's subtree, or -1 on a violation. */
static int check_node(const struct rb_node *n, const struct rb_node *parent, size_t *count)
{
	int lh, rh;

	if (!n)
		return 1;
	if (n->parent != parent)
		return -1;
	if (n->red && ((n->left && n->left->red) || (n->right && n->right->red)))
		return -1;
	if (n->left && KEY(n->left) >= KEY(n))
		return -1;
	if (n->right && KEY(n->right) <= KEY(n))
		return -1;
	lh = check_node(n->left, n, count);
	rh = check_node(n->right, n, count);
	if (lh < 0 || rh < 0 || lh != rh)
		return -1;
	(*count)++;
	return lh + !n->red;
}

/* Full check: structure, colours, and in-order walk strictly ascending. */
static bool rb_valid(const struct rb_root *root, size_t expect)
{
	size_t count = 0, walked = 0;
	const struct rb_node *n, *prev = NULL;

	if (root->node && (root->node->red || root->node->parent))
		return false;
	if (check_node(root->node, NULL, &count) < 0 || count != expect)
		return false;
	for (n = rb_first(root); n; n = rb_next(n)) {
		if (prev && KEY(prev) >= KEY(n))
			return false;
		if (rb_prev(n) != prev)
			return false;
		prev = n;
		walked++;
	}
	return walked == expect && rb_last(root) == prev;
}

static struct knode *tree_find(const struct rb_root *root, uint64_t key)
{
	struct rb_node *n = root->node;

	while (n) {
		if (key < KEY(n))
			n = n->left;
		else if (key > KEY(n))
			n = n->right;
		else
			return rb_entry(n, struct knode, rb);
	}
	return NULL;
}

static void tree_insert(struct rb_root *root, struct knode *k)
{
	struct rb_node **link = &root->node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = k->key < KEY(parent) ? &parent->left : &parent->right;
	}
	rb_link_insert(root, &k->rb, parent, link);
}

static void test_empty(void)
{
	struct rb_root root = RB_ROOT_INIT;

	CU_ASSERT_PTR_NULL(rb_first(&root));
	CU_ASSERT_PTR_NULL(rb_last(&root));
	CU_ASSERT(rb_valid(&root, 0));
}

static void test_single(void)
{
	struct rb_root root = RB_ROOT_INIT;
	struct knode k = {.key = 7};

	tree_insert(&root, &k);
	CU_ASSERT(rb_valid(&root, 1));
	CU_ASSERT_PTR_EQUAL(rb_first(&root), &k.rb);
	CU_ASSERT_PTR_EQUAL(rb_last(&root), &k.rb);
	CU_ASSERT_PTR_NULL(rb_next(&k.rb));
	CU_ASSERT_PTR_NULL(rb_prev(&k.rb));
	rb_erase(&root, &k.rb);
	CU_ASSERT_PTR_NULL(root.node);
	CU_ASSERT(rb_valid(&root, 0));
}

/* Sorted insertion is the classic worst case for an unbalanced tree. */
static void run_sequential(bool ascending, bool erase_from_front)
{
	enum { N = 4096 };
	struct knode *k = calloc(N, sizeof(*k));
	struct rb_root root = RB_ROOT_INIT;
	int height = 0;

	CU_ASSERT_FATAL(k != NULL);
	for (int i = 0; i < N; i++) {
		k[i].key = ascending ? (uint64_t)i : (uint64_t)(N - i);
		tree_insert(&root, &k[i]);
	}
	CU_ASSERT(rb_valid(&root, N));
	/* Height bound 2 log2(n + 1) <= 2 * 13 for 4096 nodes. */
	for (struct rb_node *n = rb_first(&root); n; n = rb_next(n)) {
		int d = 0;

		for (struct rb_node *p = n; p; p = p->parent)
			d++;
		if (d > height)
			height = d;
	}
	CU_ASSERT(height <= 26);
	for (int i = 0; i < N; i++) {
		int j = erase_from_front ? i : N - 1 - i;

		rb_erase(&root, &k[j].rb);
		if ((i & 255) == 0)
			CU_ASSERT(rb_valid(&root, N - 1 - i));
	}
	CU_ASSERT_PTR_NULL(root.node);
	free(k);
}

static void test_sequential(void)
{
	run_sequential(true, true);
	run_sequential(true, false);
	run_sequential(false, true);
	run_sequential(false, false);
}

static void test_random(void)
{
	enum { KEYS = 2048, OPS = 200000 };
	struct knode *pool = calloc(KEYS, sizeof(*pool));
	bool *in = calloc(KEYS, sizeof(*in));
	struct rb_root root = RB_ROOT_INIT;
	uint64_t seed = seed_from_env();
	size_t n = 0;
	bool ok = true;

	CU_ASSERT_FATAL(pool && in);
	printf("\n  rbtree random seed=0x%llx (UIOMMU_SEED to replay)\n", (unsigned long long)seed);
	g_rng = seed;
	for (int i = 0; i < KEYS; i++)
		pool[i].key = (uint64_t)i * 3 + 1;

	for (int op = 0; op < OPS && ok; op++) {
		uint64_t r = rnd();
		uint32_t idx = (uint32_t)(r % KEYS);
		/* Drift between insert-heavy and erase-heavy phases so the
		 * tree size sweeps from empty to nearly full. */
		bool want_insert = ((op / 20000) & 1) ? (r >> 32) % 4 == 0 : (r >> 32) % 4 != 0;

		if (want_insert && !in[idx]) {
			tree_insert(&root, &pool[idx]);
			in[idx] = true;
			n++;
		} else if (!want_insert && in[idx]) {
			rb_erase(&root, &pool[idx].rb);
			in[idx] = false;
			n--;
		}
		/* Lookups agree with the reference. */
		uint32_t q = (uint32_t)((r >> 16) % KEYS);
		struct knode *f = tree_find(&root, pool[q].key);

		if ((f != NULL) != in[q] || (f && f != &pool[q]))
			ok = false;
		if (tree_find(&root, pool[q].key + 1))
			ok = false;
		if ((op & 15) == 0 && !rb_valid(&root, n))
			ok = false;
	}
	CU_ASSERT(ok);
	CU_ASSERT(rb_valid(&root, n));
	if (!ok)
		printf("  FAILED with seed=0x%llx\n", (unsigned long long)seed);

	/* In-order walk equals the reference set. */
	struct rb_node *it = rb_first(&root);

	for (int i = 0; i < KEYS; i++) {
		if (!in[i])
			continue;
		CU_ASSERT_PTR_EQUAL(it, &pool[i].rb);
		if (!it)
			break;
		it = rb_next(it);
	}
	CU_ASSERT_PTR_NULL(it);
	free(pool);
	free(in);
}

/* ------------------------------------------------------------------ */
/* augmented tree                                                      */

#define KN(n) rb_entry((n), struct knode, rb)

static uint64_t g_callbacks;

/* Recompute @k's subtree values; true if one changed. */
static bool aug_compute(struct knode *k)
{
	uint64_t size = 1, maxv = k->val;

	for (int i = 0; i < 2; i++) {
		const struct rb_node *c = k->rb.child[i];

		if (c) {
			size += KN(c)->size;
			if (KN(c)->maxv > maxv)
				maxv = KN(c)->maxv;
		}
	}
	if (size == k->size && maxv == k->maxv)
		return false;
	k->size = size;
	k->maxv = maxv;
	return true;
}

static void aug_propagate(struct rb_node *n, struct rb_node *stop)
{
	g_callbacks++;
	while (n != stop && aug_compute(KN(n)))
		n = n->parent;
}

static void aug_copy(struct rb_node *old, struct rb_node *new_node)
{
	g_callbacks++;
	KN(new_node)->size = KN(old)->size;
	KN(new_node)->maxv = KN(old)->maxv;
}

static void aug_rotate(struct rb_node *old, struct rb_node *new_node)
{
	g_callbacks++;
	aug_copy(old, new_node);
	aug_compute(KN(old));
}

static const struct rb_augment_callbacks aug_cb = {
	.propagate = aug_propagate,
	.copy = aug_copy,
	.rotate = aug_rotate,
};

static void aug_insert(struct rb_root *root, struct knode *k)
{
	struct rb_node **link = &root->node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = k->key < KEY(parent) ? &parent->left : &parent->right;
	}
	k->size = 1;
	k->maxv = k->val;
	rb_link_node(&k->rb, parent, link);
	aug_propagate(parent, NULL);
	rb_insert_augmented(root, &k->rb, &aug_cb);
}

/* Every node's values recomputed from scratch equal the stored ones. */
static bool aug_check(const struct rb_node *n, uint64_t *size, uint64_t *maxv)
{
	uint64_t ls = 0, lm = 0, rs = 0, rm = 0;
	const struct knode *k;

	if (!n) {
		*size = 0;
		*maxv = 0;
		return true;
	}
	k = KN(n);
	if (!aug_check(n->left, &ls, &lm) || !aug_check(n->right, &rs, &rm))
		return false;
	*size = 1 + ls + rs;
	*maxv = k->val > lm ? k->val : lm;
	*maxv = *maxv > rm ? *maxv : rm;
	return k->size == *size && k->maxv == *maxv;
}

static void test_augmented(void)
{
	enum { KEYS = 1024, OPS = 100000 };
	struct knode *pool = calloc(KEYS, sizeof(*pool));
	bool *in = calloc(KEYS, sizeof(*in));
	struct rb_root root = RB_ROOT_INIT;
	uint64_t seed = seed_from_env(), size, maxv;
	size_t n = 0;
	bool ok = true;

	CU_ASSERT_FATAL(pool && in);
	printf("\n  augmented seed=0x%llx (UIOMMU_SEED to replay)\n", (unsigned long long)seed);
	g_rng = seed;
	g_callbacks = 0;
	for (int i = 0; i < KEYS; i++) {
		pool[i].key = (uint64_t)i * 5 + 2;
		pool[i].val = rnd() % 100000;
	}
	for (int op = 0; op < OPS && ok; op++) {
		uint64_t r = rnd();
		uint32_t idx = (uint32_t)(r % KEYS);
		bool want_insert = ((op / 10000) & 1) ? (r >> 32) % 4 == 0 : (r >> 32) % 4 != 0;

		/* sequential runs too (rotation-heavy) */
		if ((op / 5000) % 7 == 3)
			idx = (uint32_t)(op % KEYS);
		if (want_insert && !in[idx]) {
			aug_insert(&root, &pool[idx]);
			in[idx] = true;
			n++;
		} else if (!want_insert && in[idx]) {
			rb_erase_augmented(&root, &pool[idx].rb, &aug_cb);
			in[idx] = false;
			n--;
		}
		if ((op & 7) == 0 &&
		    (!rb_valid(&root, n) || !aug_check(root.node, &size, &maxv) || size != n))
			ok = false;
	}
	CU_ASSERT(ok);
	CU_ASSERT(rb_valid(&root, n));
	CU_ASSERT(aug_check(root.node, &size, &maxv) && size == n);
	CU_ASSERT(g_callbacks > 0);
	if (!ok)
		printf("  FAILED with seed=0x%llx\n", (unsigned long long)seed);
	/* erase everything in key order (successor moves at every step) */
	for (int i = 0; i < KEYS; i++)
		if (in[i]) {
			rb_erase_augmented(&root, &pool[i].rb, &aug_cb);
			n--;
			if (!aug_check(root.node, &size, &maxv) || size != n)
				ok = false;
		}
	CU_ASSERT(ok);
	CU_ASSERT_PTR_NULL(root.node);
	free(pool);
	free(in);
}

static const struct ut_test rbtree_tests[] = {
	{"empty", test_empty},		 {"single", test_single},
	{"sequential", test_sequential}, {"random_vs_reference", test_random},
	{"augmented", test_augmented},	 {NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"rbtree", NULL, NULL, rbtree_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
