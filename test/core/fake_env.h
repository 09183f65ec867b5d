/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fake environment layer for the core unit tests (SPDK-style): the
 * metadata calls of env/env.h on top of calloc/free, with a live-object
 * counter and fail-the-Nth-allocation injection.  No DPDK, no arena.
 */
#ifndef UIOMMU_TEST_FAKE_ENV_H
#define UIOMMU_TEST_FAKE_ENV_H

#include "env/env.h"

/** Reset counters and disarm fault injection. */
void fake_env_reset(void);

#endif
