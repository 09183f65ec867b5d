/* SPDX-License-Identifier: BSD-3-Clause */
/* Bounded register polls (see regs.h). */
#include <errno.h>
#include <inttypes.h>

#include "env/env.h"
#include "core/regs.h"

static void poll_timed_out(const char *name, uint32_t off, uint64_t val, uint64_t mask,
			   uint64_t want, uint64_t timeout_ns, unsigned int bytes)
{
	UENV_LOG(CORE, ERR,
		 "register %s (offset 0x%" PRIx32 ") = 0x%0*" PRIx64 ": timed out after %" PRIu64
		 " ns waiting for (value & 0x%" PRIx64 ") == 0x%" PRIx64,
		 name ? name : "?", off, (int)(bytes * 2), val, timeout_ns, mask, want);
}

/* Poll a register of @bytes (4 or 8) until (value & mask) == want. */
static int reg_poll(const struct uiommu_regio *r, uint32_t off, uint64_t mask, uint64_t want,
		    uint64_t timeout_ns, const char *name, unsigned int bytes)
{
	uint64_t deadline = 0;
	uint64_t v;

	while (((v = bytes == 8 ? reg_read64(r, off) : reg_read32(r, off)) & mask) != want) {
		uint64_t now = uenv_now_ns();

		if (!deadline)
			deadline = now + timeout_ns < now ? UINT64_MAX : now + timeout_ns;
		else if (now > deadline) {
			poll_timed_out(name, off, v, mask, want, timeout_ns, bytes);
			return -ETIMEDOUT;
		}
		uenv_relax();
	}
	return 0;
}

int reg_poll32(const struct uiommu_regio *r, uint32_t off, uint32_t mask, uint32_t want,
	       uint64_t timeout_ns, const char *name)
{
	return reg_poll(r, off, mask, want, timeout_ns, name, 4);
}

int reg_poll64(const struct uiommu_regio *r, uint32_t off, uint64_t mask, uint64_t want,
	       uint64_t timeout_ns, const char *name)
{
	return reg_poll(r, off, mask, want, timeout_ns, name, 8);
}
