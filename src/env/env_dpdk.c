/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Environment layer: DPDK memzones as arena chunks, and memzones of another
 * DPDK process (uenv_memzone_find: EAL secondary process).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_memzone.h>

#include "env/env.h"
#include "env/env_internal.h"

int env_dpdk_reserve(uint64_t len, uint64_t align, int node, bool contig, struct env_mz *out)
{
	static uint32_t seq;
	const struct rte_memzone *mz;
	char name[RTE_MEMZONE_NAMESIZE];
	int socket = node < 0 ? SOCKET_ID_ANY : node;

	snprintf(name, sizeof(name), "uiommu_%d_%u", (int)getpid(),
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	unsigned int flags = contig ? RTE_MEMZONE_IOVA_CONTIG : 0;

	mz = rte_memzone_reserve_aligned(name, len, socket, flags, (unsigned)align);
	if (!mz && socket != SOCKET_ID_ANY) {
		/* The IOMMU's node has no memory here: any node is better than none. */
		UENV_LOG(ENV, WARNING, "no IOVA-contiguous memory on node %d; using any node",
			 node);
		mz = rte_memzone_reserve_aligned(name, len, SOCKET_ID_ANY, flags, (unsigned)align);
	}
	if (!mz)
		return -ENOMEM;
	out->va = mz->addr;
	out->iova = contig ? mz->iova : UINT64_MAX;
	out->len = mz->len;
	out->node = mz->socket_id;
	out->handle = mz;
	return 0;
}

void env_dpdk_release(const void *handle)
{
	if (handle)
		rte_memzone_free(handle);
}

/* ------------------------------------------------- memzones of a primary */

/* EAL's runtime directory for @prefix, as EAL itself picks it
 * (eal_create_runtime_dir): /var/run for root, else $XDG_RUNTIME_DIR or /tmp. */
static void runtime_config_path(const char *prefix, char *buf, size_t len)
{
	const char *dir = "/var/run", *xdg = getenv("XDG_RUNTIME_DIR");

	if (getuid() != 0)
		dir = xdg && *xdg ? xdg : "/tmp";
	snprintf(buf, len, "%s/dpdk/%s/config", dir, prefix);
}

/*
 * Joining a primary trusts it with everything: its memzones' addresses
 * become DMA mappings.  Without root and $XDG_RUNTIME_DIR, EAL's runtime
 * directory is under /tmp, where another user can create it first, with
 * a "primary" of their own.  The directory and its config file must be
 * this user's and writable by nobody else (as EAL makes them: 0700, 0600).
 * 0; -ENOENT (no config file: no primary); -EPERM (refused, logged).
 */
static int runtime_config_trusted(const char *cfg)
{
	char dir[512];
	struct stat st, dst;
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", cfg);
	slash = strrchr(dir, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	fd = open(cfg, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ELOOP) {
		UENV_LOG(ENV, ERR, "memzone: %s is a symlink, not a DPDK config file: refused",
			 cfg);
		return -EPERM;
	}
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : 0; /* EAL's own check reports the rest */
	if (fstat(fd, &st) < 0)
		st.st_mode = 0;
	close(fd);
	if (lstat(dir, &dst) < 0)
		dst.st_mode = 0;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		UENV_LOG(ENV, ERR,
			 "memzone: %s is not a DPDK config file of this user (uid %u, mode %03o; "
			 "want uid %u, not writable by others): refused",
			 cfg, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 0777),
			 (unsigned int)geteuid());
		return -EPERM;
	}
	if (!S_ISDIR(dst.st_mode) || dst.st_uid != geteuid() || (dst.st_mode & 022)) {
		UENV_LOG(
			ENV, ERR,
			"memzone: DPDK runtime directory %s is not this user's (uid %u, mode %03o; "
			"want uid %u, not writable by others): refused",
			dir, (unsigned int)dst.st_uid, (unsigned int)(dst.st_mode & 0777),
			(unsigned int)geteuid());
		return -EPERM;
	}
	return 0;
}

/* The secondary process this module started: leave the primary cleanly
 * (its multi-process socket) when this process exits. */
static void secondary_leave(void)
{
	rte_eal_cleanup();
}

/*
 * EAL up in this process: already (the application's, or a secondary an
 * earlier call started), else join the primary of @prefix as a secondary.
 * 0 or -ENODEV; the result of a failed join is kept (EAL starts once).
 */
static int eal_join(const char *prefix, bool explicit_prefix)
{
	static int joined = 1; /* 1: not tried; 0 or -ENODEV: outcome */
	char *argv[] = {"uiommu-memzone",
			"--proc-type=secondary",
			"--file-prefix",
			(char *)prefix,
			"--no-pci",
			"--no-telemetry",
			"-l",
			"0",
			"--log-level",
			"lib.eal:warning"};
	char cfg[512];
	const char *rt;

	if (joined <= 0)
		return joined;
	if (rte_lcore_count() > 0) {
		/* EAL is up here: its instance is the last part of its runtime dir. */
		rt = strrchr(rte_eal_get_runtime_dir(), '/');
		if (explicit_prefix && rt && strcmp(rt + 1, prefix)) {
			UENV_LOG(ENV, ERR,
				 "memzone: this process runs DPDK instance '%s'; it cannot join "
				 "'%s' as well",
				 rt + 1, prefix);
			return -ENODEV;
		}
		return 0;
	}
	runtime_config_path(prefix, cfg, sizeof(cfg));
	if (runtime_config_trusted(cfg) == -EPERM) {
		joined = -EPERM;
		return joined;
	}
	if (!rte_eal_primary_proc_alive(cfg)) {
		UENV_LOG(ENV, ERR,
			 "memzone: no DPDK primary process with --file-prefix %s is running "
			 "(%s not held)",
			 prefix, cfg);
		joined = -ENODEV;
		return joined;
	}
	if (env_eal_start((int)(sizeof(argv) / sizeof(argv[0])), argv)) {
		UENV_LOG(ENV, ERR,
			 "memzone: cannot join the DPDK primary with --file-prefix %s as a "
			 "secondary process (EAL initialisation failed)",
			 prefix);
		joined = -ENODEV;
		return joined;
	}
	(void)atexit(secondary_leave);
	joined = 0;
	return 0;
}

/* True when [addr, addr + len) has consecutive bus addresses from @iova on,
 * page by page (the memzone's own page size). */
static bool mz_iova_contig(const struct rte_memzone *mz)
{
	uint64_t pg = mz->hugepage_sz ? mz->hugepage_sz : UENV_PAGE_SIZE;
	uintptr_t start = (uintptr_t)mz->addr, va = start, end = start + mz->len;

	while (va < end) {
		rte_iova_t iova = rte_mem_virt2iova((void *)va);

		if (iova == RTE_BAD_IOVA || iova != mz->iova + (va - start)) {
			UENV_LOG(ENV, ERR,
				 "memzone %s: byte %#lx is at bus address %#" PRIx64
				 ", not %#" PRIx64 ": not IOVA-contiguous (reserve it with "
				 "RTE_MEMZONE_IOVA_CONTIG)",
				 mz->name, (unsigned long)(va - start), (uint64_t)iova,
				 (uint64_t)(mz->iova + (va - start)));
			return false;
		}
		va = (va & ~(uintptr_t)(pg - 1)) + pg;
	}
	return true;
}

int uenv_memzone_find(const char *name, const char *file_prefix, struct uenv_dma *out)
{
	const char *prefix = file_prefix && *file_prefix ? file_prefix : "rte";
	const struct rte_memzone *mz;
	int rc;

	if (!name || !*name || strlen(name) >= RTE_MEMZONE_NAMESIZE || !out || strchr(prefix, '/'))
		return -EINVAL;
	rc = eal_join(prefix, file_prefix && *file_prefix);
	if (rc)
		return rc;
	mz = rte_memzone_lookup(name);
	if (!mz) {
		UENV_LOG(ENV, ERR, "memzone: DPDK instance '%s' has no memzone '%s'", prefix, name);
		return -ENOENT;
	}
	if (mz->iova == RTE_BAD_IOVA) {
		UENV_LOG(ENV, ERR,
			 "memzone %s: no bus address (not IOVA-contiguous: reserve it with "
			 "RTE_MEMZONE_IOVA_CONTIG)",
			 name);
		return -EINVAL;
	}
	if (!mz_iova_contig(mz))
		return -EINVAL;
	out->va = mz->addr;
	out->iova = mz->iova;
	out->len = mz->len;
	return 0;
}
