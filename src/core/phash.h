/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A process-local hash map from 64-bit keys (addresses) to 64-bit values,
 * for the state checkers (iopt_check, pgt_check, ctx_check): "have I seen
 * this node / table / object before, and what did I note about it", in
 * O(1), so that a check stays linear in the size of what it walks.
 * Open addressing, linear probing, grows at half full.  Header only (the
 * page-table engine is built alone in its tests).  An allocation failure
 * sets ->oom and makes look-ups answer NULL; the checker reports it.
 */
#ifndef UIOMMU_PHASH_H
#define UIOMMU_PHASH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct phash {
	uint64_t *key; /* key + 1; 0: empty */
	uint64_t *val;
	uint64_t cap;  /* power of two, or 0 */
	uint64_t n;
	bool oom;
	bool has_max;	  /* the key UINT64_MAX (key + 1 would read as empty) */
	uint64_t val_max;
};

static inline uint64_t phash_mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static inline bool phash_grow(struct phash *h)
{
	uint64_t cap = h->cap ? h->cap * 2 : 64;
	uint64_t *key = calloc(cap, sizeof(*key)), *val = calloc(cap, sizeof(*val));

	if (!key || !val) {
		free(key);
		free(val);
		h->oom = true;
		return false;
	}
	for (uint64_t i = 0; i < h->cap; i++) {
		if (!h->key[i])
			continue;
		for (uint64_t j = phash_mix(h->key[i]) & (cap - 1);; j = (j + 1) & (cap - 1)) {
			if (!key[j]) {
				key[j] = h->key[i];
				val[j] = h->val[i];
				break;
			}
		}
	}
	free(h->key);
	free(h->val);
	h->key = key;
	h->val = val;
	h->cap = cap;
	return true;
}

/* The value slot of @k; with @insert a new entry (value 0) is made when
 * there is none (*found false).  NULL: not there (or no memory). */
static inline uint64_t *phash_get(struct phash *h, uint64_t k, bool insert, bool *found)
{
	uint64_t s = k + 1;

	if (found)
		*found = false;
	if (h->oom)
		return NULL;
	if (!s) { /* k == UINT64_MAX: kept apart */
		if (h->has_max) {
			if (found)
				*found = true;
			return &h->val_max;
		}
		if (!insert)
			return NULL;
		h->has_max = true;
		h->val_max = 0;
		return &h->val_max;
	}
	if (insert && (h->n + 1) * 2 > h->cap && !phash_grow(h))
		return NULL;
	if (!h->cap)
		return NULL;
	for (uint64_t j = phash_mix(s) & (h->cap - 1);; j = (j + 1) & (h->cap - 1)) {
		if (h->key[j] == s) {
			if (found)
				*found = true;
			return &h->val[j];
		}
		if (!h->key[j]) {
			if (!insert)
				return NULL;
			h->key[j] = s;
			h->val[j] = 0;
			h->n++;
			return &h->val[j];
		}
	}
}

/* Walk every entry: for (i = 0; phash_next(h, &i, &k, &v);) */
static inline bool phash_next(struct phash *h, uint64_t *i, uint64_t *k, uint64_t **v)
{
	for (; *i < h->cap; (*i)++) {
		if (h->key[*i]) {
			*k = h->key[*i] - 1;
			*v = &h->val[*i];
			(*i)++;
			return true;
		}
	}
	if (*i == h->cap && h->has_max) {
		*k = UINT64_MAX;
		*v = &h->val_max;
		(*i)++;
		return true;
	}
	return false;
}

static inline void phash_free(struct phash *h)
{
	free(h->key);
	free(h->val);
	*h = (struct phash){0};
}

#endif
