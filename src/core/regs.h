/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Register accessors.  Drivers touch hardware only through these, so that
 * the built-in models can stand in for MMIO: a model unit has no mapping
 * and its register file is reached through the model's read/write hooks
 * (which run the model's side effects synchronously, e.g. a write to the
 * invalidation queue tail processes the queue).
 *
 * The accessor struct is process-local state (a mapping, function
 * pointers): a process that adopts shared state re-binds it.
 */
#ifndef UIOMMU_REGS_H
#define UIOMMU_REGS_H

#include <stdint.h>

struct uiommu_model_io {
	uint64_t (*read)(void *model, uint32_t off, unsigned int size);
	void (*write)(void *model, uint32_t off, uint64_t val, unsigned int size);
};

struct uiommu_regio {
	volatile uint8_t *base;		     /* MMIO mapping; NULL for a model */
	uint64_t size;			     /* bytes mapped */
	const struct uiommu_model_io *model; /* model hooks when base == NULL */
	void *model_priv;
};

static inline uint32_t reg_read32(const struct uiommu_regio *r, uint32_t off)
{
	if (__builtin_expect(r->base != NULL, 1))
		return *(const volatile uint32_t *)(r->base + off);
	return (uint32_t)r->model->read(r->model_priv, off, 4);
}

static inline uint64_t reg_read64(const struct uiommu_regio *r, uint32_t off)
{
	if (__builtin_expect(r->base != NULL, 1))
		return *(const volatile uint64_t *)(r->base + off);
	return r->model->read(r->model_priv, off, 8);
}

static inline void reg_write32(const struct uiommu_regio *r, uint32_t off, uint32_t val)
{
	if (__builtin_expect(r->base != NULL, 1)) {
		__atomic_thread_fence(__ATOMIC_RELEASE); /* memory writes before the doorbell */
		*(volatile uint32_t *)(r->base + off) = val;
		return;
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->model->write(r->model_priv, off, val, 4);
}

static inline void reg_write64(const struct uiommu_regio *r, uint32_t off, uint64_t val)
{
	if (__builtin_expect(r->base != NULL, 1)) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		*(volatile uint64_t *)(r->base + off) = val;
		return;
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->model->write(r->model_priv, off, val, 8);
}

/*
 * Bounded register polls (regs.c): read the register at @off until
 * (value & @mask) == @want, at most @timeout_ns (the clock is not read
 * when the first read already matches).  0, or -ETIMEDOUT after one log
 * line naming the register (@name, as the specification spells it) with
 * its last value.  For a hardware handshake: a command bit that clears, a
 * status that follows an enable; every family polls through these.
 */
int reg_poll32(const struct uiommu_regio *r, uint32_t off, uint32_t mask, uint32_t want,
	       uint64_t timeout_ns, const char *name);
int reg_poll64(const struct uiommu_regio *r, uint32_t off, uint64_t mask, uint64_t want,
	       uint64_t timeout_ns, const char *name);

#endif
