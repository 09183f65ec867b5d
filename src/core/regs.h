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

/*
 * Ordering between normal memory that a device reads or writes (queues,
 * tables) and its registers -- what Linux's writel()/readl() put around
 * the access (dma_wmb / dma_rmb):
 *  - io_wmb(): the CPU's earlier writes to memory are visible to the
 *    device before a later register write (a doorbell: CMDQ_PROD after
 *    the commands).  The device is an outer-shareable observer: arm64
 *    needs DMB OSHST, which an __atomic release fence (DMB ISH, inner
 *    shareable) does not give.
 *  - io_rmb(): a register read (a queue's PROD) completes before later
 *    reads of memory the device wrote (the entries): DMB OSHLD.
 *  - io_mb(): everything before against everything after (reads of the
 *    entries done before the CONS write that hands the slots back); to
 *    be followed by a reg_write (on x86 it relies on that write's fence).
 * x86 orders UC MMIO with ordinary loads and stores already (stores are
 * not reordered with other stores, loads not with other loads): there
 * they are compiler barriers only, and the accessors below compile to
 * the same x86 code as before.
 */
static inline void io_wmb(void)
{
#if defined(__aarch64__)
	__asm__ __volatile__("dmb oshst" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
	__atomic_thread_fence(__ATOMIC_RELEASE); /* a compiler barrier, as before */
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static inline void io_rmb(void)
{
#if defined(__aarch64__)
	__asm__ __volatile__("dmb oshld" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static inline void io_mb(void)
{
#if defined(__aarch64__)
	__asm__ __volatile__("dmb osh" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
	/* Its use is "reads done before the register write that follows":
	 * TSO keeps loads before later stores, and the compiler is held by
	 * the release fence reg_write32/64 has before the store: nothing
	 * more here (x86 code stays as it was). */
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* After a register read: io_rmb() where the CPU can reorder a device
 * load with later memory loads (arm64).  x86 does not: nothing there, so
 * x86 code is the same as before; a caller that reads memory the device
 * wrote after reading a register still puts an acquire fence before the
 * memory reads (the compiler must not hoist them: smmu_evtq.c drain). */
static inline void reg_read_order(void)
{
#if defined(__x86_64__) || defined(__i386__)
	/* nothing */
#else
	io_rmb();
#endif
}

/* Reads: the register, then reg_read_order() (later memory reads see
 * what the device wrote before the value read).  Writes: io_wmb(), then
 * the register.  A model unit gets the program order through fences. */
static inline uint32_t reg_read32(const struct uiommu_regio *r, uint32_t off)
{
	if (__builtin_expect(r->base != NULL, 1)) {
		uint32_t v = *(const volatile uint32_t *)(r->base + off);

		reg_read_order();
		return v;
	}
	return (uint32_t)r->model->read(r->model_priv, off, 4);
}

static inline uint64_t reg_read64(const struct uiommu_regio *r, uint32_t off)
{
	if (__builtin_expect(r->base != NULL, 1)) {
		uint64_t v = *(const volatile uint64_t *)(r->base + off);

		reg_read_order();
		return v;
	}
	return r->model->read(r->model_priv, off, 8);
}

static inline void reg_write32(const struct uiommu_regio *r, uint32_t off, uint32_t val)
{
	if (__builtin_expect(r->base != NULL, 1)) {
		io_wmb(); /* memory writes before the doorbell */
		*(volatile uint32_t *)(r->base + off) = val;
		return;
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->model->write(r->model_priv, off, val, 4);
}

static inline void reg_write64(const struct uiommu_regio *r, uint32_t off, uint64_t val)
{
	if (__builtin_expect(r->base != NULL, 1)) {
		io_wmb();
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
