/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD I/O Virtualization Technology (IOMMU) facts: MMIO registers, the
 * device table entry, commands, event log and PPR log entries.  Hardware
 * layout only (no code).  Sources: AMD IOMMU specification 48882
 * (rev 3.x), chapter 2 (data structures) and 3.4 (MMIO registers);
 * the same facts as QEMU's hw/i386/amd_iommu.h and Linux's
 * drivers/iommu/amd/amd_iommu_types.h.
 *
 * Descriptors (DTE, commands, log entries) are arrays of little-endian
 * u64 words; fields are masks for FIELD_PREP / FIELD_GET.
 */
#ifndef UIOMMU_AMDVI_REGS_H
#define UIOMMU_AMDVI_REGS_H

#include <assert.h>
#include <stdint.h>

#include "core/bitfield.h"

/* ---- MMIO registers (3.4) ---- */
#define AMDVI_REG_DEVTAB     0x0000u /* Device Table Base Address */
#define AMDVI_REG_CMDBUF     0x0008u /* Command Buffer Base Address */
#define AMDVI_REG_EVTLOG     0x0010u /* Event Log Base Address */
#define AMDVI_REG_CONTROL    0x0018u /* IOMMU Control */
#define AMDVI_REG_EXCL_BASE  0x0020u /* Exclusion Base */
#define AMDVI_REG_EXCL_LIMIT 0x0028u /* Exclusion Range Limit */
#define AMDVI_REG_EFR	     0x0030u /* Extended Feature Register */
#define AMDVI_REG_PPRLOG     0x0038u /* PPR Log Base Address */
#define AMDVI_REG_EFR2	     0x01a0u /* Extended Feature 2 Register */
#define AMDVI_REG_CMD_HEAD   0x2000u
#define AMDVI_REG_CMD_TAIL   0x2008u
#define AMDVI_REG_EVT_HEAD   0x2010u
#define AMDVI_REG_EVT_TAIL   0x2018u
#define AMDVI_REG_STATUS     0x2020u /* IOMMU Status */
#define AMDVI_REG_PPR_HEAD   0x2030u
#define AMDVI_REG_PPR_TAIL   0x2038u
#define AMDVI_REG_SIZE	     0x4000u /* the MMIO window (16 KiB) */

/* Base address registers: Device Table Base (Size = 4 KiB pages - 1),
 * Command Buffer / Event Log / PPR Log Base (Len = log2 of entries). */
#define AMDVI_BASE_ADDR	  GENMASK_ULL(51, 12)
#define AMDVI_DEVTAB_SIZE GENMASK_ULL(8, 0)
#define AMDVI_BUF_LEN	  GENMASK_ULL(59, 56)
#define AMDVI_BUF_LEN_MIN 8u  /* 256 entries (4 KiB) */
#define AMDVI_BUF_LEN_MAX 15u /* 32768 entries (512 KiB) */
/* Head/tail pointer registers: byte offset into the buffer, bits 18:4. */
#define AMDVI_PTR_OFF GENMASK_ULL(18, 4)
/* Exclusion Base (0x20): ExEn, Allow (all devices), base in 51:12. */
#define AMDVI_EXCL_EN	 BIT_ULL(0)
#define AMDVI_EXCL_ALLOW BIT_ULL(1)

/* Control register (3.4.3). */
#define AMDVI_CTRL_IOMMU_EN	  BIT_ULL(0)
#define AMDVI_CTRL_HT_TUN_EN	  BIT_ULL(1)
#define AMDVI_CTRL_EVT_LOG_EN	  BIT_ULL(2)
#define AMDVI_CTRL_EVT_INT_EN	  BIT_ULL(3)
#define AMDVI_CTRL_COMWAIT_INT_EN BIT_ULL(4)
#define AMDVI_CTRL_INV_TIMEOUT	  GENMASK_ULL(7, 5)
#define AMDVI_CTRL_PASS_PW	  BIT_ULL(8)
#define AMDVI_CTRL_RES_PASS_PW	  BIT_ULL(9)
#define AMDVI_CTRL_COHERENT	  BIT_ULL(10)
#define AMDVI_CTRL_ISOC		  BIT_ULL(11)
#define AMDVI_CTRL_CMD_BUF_EN	  BIT_ULL(12)
#define AMDVI_CTRL_PPR_LOG_EN	  BIT_ULL(13)
#define AMDVI_CTRL_PPR_INT_EN	  BIT_ULL(14)
#define AMDVI_CTRL_PPR_EN	  BIT_ULL(15)
#define AMDVI_CTRL_GT_EN	  BIT_ULL(16)
#define AMDVI_CTRL_GA_EN	  BIT_ULL(17)

/* Status register (3.4.9); the *_INT and overflow bits are RW1C. */
#define AMDVI_STS_EVT_OVERFLOW BIT_ULL(0)
#define AMDVI_STS_EVT_INT      BIT_ULL(1)
#define AMDVI_STS_COMWAIT_INT  BIT_ULL(2)
#define AMDVI_STS_EVT_RUN      BIT_ULL(3)
#define AMDVI_STS_CMD_RUN      BIT_ULL(4)
#define AMDVI_STS_PPR_OVERFLOW BIT_ULL(5)
#define AMDVI_STS_PPR_INT      BIT_ULL(6)
#define AMDVI_STS_PPR_RUN      BIT_ULL(7)
#define AMDVI_STS_GA_RUN       BIT_ULL(8)
#define AMDVI_STS_W1C                                                         \
	(AMDVI_STS_EVT_OVERFLOW | AMDVI_STS_EVT_INT | AMDVI_STS_COMWAIT_INT | \
	 AMDVI_STS_PPR_OVERFLOW | AMDVI_STS_PPR_INT)

/* Extended Feature Register (3.4.5). */
#define AMDVI_EFR_PREF_SUP  BIT_ULL(0)
#define AMDVI_EFR_PPR_SUP   BIT_ULL(1)
#define AMDVI_EFR_XT_SUP    BIT_ULL(2)
#define AMDVI_EFR_NX_SUP    BIT_ULL(3)
#define AMDVI_EFR_GT_SUP    BIT_ULL(4)
#define AMDVI_EFR_IA_SUP    BIT_ULL(6)
#define AMDVI_EFR_GA_SUP    BIT_ULL(7)
#define AMDVI_EFR_HE_SUP    BIT_ULL(8)
#define AMDVI_EFR_PC_SUP    BIT_ULL(9)
#define AMDVI_EFR_HATS	    GENMASK_ULL(11, 10) /* 0: 4 levels, 1: 5, 2: 6 */
#define AMDVI_EFR_GATS	    GENMASK_ULL(13, 12) /* 0: 4 levels, 1: 5 */
#define AMDVI_EFR_GLX_SUP   GENMASK_ULL(15, 14)
#define AMDVI_EFR_GAM_VAPIC BIT_ULL(21)
#define AMDVI_EFR_PASMAX    GENMASK_ULL(36, 32) /* PASID width - 1 */
#define AMDVI_EFR_GIO_SUP   BIT_ULL(48)
#define AMDVI_EFR_HA_SUP    BIT_ULL(49)
#define AMDVI_EFR_EPH_SUP   BIT_ULL(50)
#define AMDVI_EFR_HD_SUP    BIT_ULL(52)
#define AMDVI_EFR_SNP_SUP   BIT_ULL(63)
/* Host table levels from EFR.HATS (4 + HATS; 3 is reserved). */
static inline unsigned int amdvi_efr_max_levels(uint64_t efr)
{
	unsigned int hats = (unsigned int)FIELD_GET(AMDVI_EFR_HATS, efr);

	return hats == 3 ? 4u : 4u + hats;
}

/* Extended Feature 2 Register. */
#define AMDVI_EFR2_SNP_AVIC GENMASK_ULL(7, 5)

/* ---- Device table entry (2.2.2.1): 256 bits, 4 words ---- */
#define AMDVI_DTE_SIZE	32u
#define AMDVI_DTE_WORDS 4u
#define AMDVI_NR_DEVIDS 65536u
/* word 0 */
#define AMDVI_DTE0_V	   BIT_ULL(0)
#define AMDVI_DTE0_TV	   BIT_ULL(1)
#define AMDVI_DTE0_RSVD_LO GENMASK_ULL(6, 2)
#define AMDVI_DTE0_HAD	   GENMASK_ULL(8, 7)
#define AMDVI_DTE0_MODE	   GENMASK_ULL(11, 9)
#define AMDVI_DTE0_ROOT	   GENMASK_ULL(51, 12)
#define AMDVI_DTE0_PPR	   BIT_ULL(52)
#define AMDVI_DTE0_GPRP	   BIT_ULL(53)
#define AMDVI_DTE0_GIOV	   BIT_ULL(54)
#define AMDVI_DTE0_GV	   BIT_ULL(55)
#define AMDVI_DTE0_GLX	   GENMASK_ULL(57, 56)
#define AMDVI_DTE0_GCR3_LO GENMASK_ULL(60, 58) /* GCR3 table root [14:12] */
#define AMDVI_DTE0_IR	   BIT_ULL(61)
#define AMDVI_DTE0_IW	   BIT_ULL(62)
#define AMDVI_DTE0_RSVD_HI BIT_ULL(63)
/* word 1 */
#define AMDVI_DTE1_DOMID    GENMASK_ULL(15, 0)
#define AMDVI_DTE1_GCR3_MID GENMASK_ULL(31, 16) /* GCR3 table root [30:15] */
#define AMDVI_DTE1_I	    BIT_ULL(32)		/* IOTLB (ATS) enable */
#define AMDVI_DTE1_SE	    BIT_ULL(33)		/* suppress events */
#define AMDVI_DTE1_SA	    BIT_ULL(34)		/* suppress all events */
#define AMDVI_DTE1_IOCTL    GENMASK_ULL(36, 35)
#define AMDVI_DTE1_CACHE    BIT_ULL(37)
#define AMDVI_DTE1_SD	    BIT_ULL(38)
#define AMDVI_DTE1_EX	    BIT_ULL(39)
#define AMDVI_DTE1_SYSMGT   GENMASK_ULL(41, 40)
#define AMDVI_DTE1_RSVD	    BIT_ULL(42)
#define AMDVI_DTE1_GCR3_HI  GENMASK_ULL(63, 43) /* GCR3 table root [51:31] */
/* DTE Mode: 0 = no translation (IR/IW still apply), 1..6 = levels. */
#define AMDVI_MODE_NONE 0u
#define AMDVI_MODE_MAX	6u

/* ---- Commands (2.4): 128 bits, opcode in bits 63:60 of word 0 ---- */
#define AMDVI_CMD_SIZE		     16u
#define AMDVI_CMD_OP		     GENMASK_ULL(63, 60)
#define AMDVI_OP_COMPLETION_WAIT     0x1u
#define AMDVI_OP_INV_DEVTAB_ENTRY    0x2u
#define AMDVI_OP_INV_IOMMU_PAGES     0x3u
#define AMDVI_OP_INV_IOTLB_PAGES     0x4u
#define AMDVI_OP_INV_INTERRUPT_TABLE 0x5u
#define AMDVI_OP_PREFETCH_PAGES	     0x6u
#define AMDVI_OP_COMPLETE_PPR	     0x7u
#define AMDVI_OP_INV_IOMMU_ALL	     0x8u
/* COMPLETION_WAIT: word 0 */
#define AMDVI_CW_S    BIT_ULL(0) /* store data to the address */
#define AMDVI_CW_I    BIT_ULL(1) /* interrupt (Status.ComWaitInt) */
#define AMDVI_CW_F    BIT_ULL(2) /* flush queue */
#define AMDVI_CW_ADDR GENMASK_ULL(51, 3)
/* (word 1: the 64-bit store data) */
/* INVALIDATE_DEVTAB_ENTRY / _INTERRUPT_TABLE / COMPLETE_PPR: word 0 */
#define AMDVI_CMD_DEVID GENMASK_ULL(15, 0)
/* INVALIDATE_IOMMU_PAGES: word 0 */
#define AMDVI_INVP_PASID GENMASK_ULL(19, 0)
#define AMDVI_INVP_DOMID GENMASK_ULL(47, 32)
/* INVALIDATE_IOMMU_PAGES / INVALIDATE_IOTLB_PAGES: word 1 */
#define AMDVI_INV_S    BIT_ULL(0) /* size-encoded range */
#define AMDVI_INV_PDE  BIT_ULL(1) /* page directory entries too */
#define AMDVI_INV_GN   BIT_ULL(2) /* guest (PASID) translations */
#define AMDVI_INV_ADDR GENMASK_ULL(63, 12)
/* The address with S = 1 that means "every page" (2.4.3). */
#define AMDVI_INV_ALL_ADDR 0x7ffffffffffff000ull
/* INVALIDATE_IOTLB_PAGES: word 0 */
#define AMDVI_INVT_MAXPEND GENMASK_ULL(31, 24)
#define AMDVI_INVT_QUEUEID GENMASK_ULL(47, 32)
/* With GN (word 1): the PASID split over word 0 (as Linux's
 * build_inv_iotlb_pages lays it out: PASID[15:8] in bits 23:16,
 * PASID[7:0] in bits 55:48). */
#define AMDVI_INVT_PASID_HI GENMASK_ULL(23, 16)
#define AMDVI_INVT_PASID_LO GENMASK_ULL(55, 48)
/* COMPLETE_PPR_REQUEST: word 0 PASID, word 1 GN / tag / status */
#define AMDVI_PPRC_PASID  GENMASK_ULL(51, 32)
#define AMDVI_PPRC_GN	  BIT_ULL(2)
#define AMDVI_PPRC_TAG	  GENMASK_ULL(40, 32)
#define AMDVI_PPRC_STATUS GENMASK_ULL(47, 44)

/* ---- Event log entries (2.5): 128 bits ---- */
#define AMDVI_EVT_SIZE	   16u
#define AMDVI_EVT_CODE	   GENMASK_ULL(63, 60) /* word 0 */
#define AMDVI_EVT_DEVID	   GENMASK_ULL(15, 0)
#define AMDVI_EVT_PASID_HI GENMASK_ULL(19, 16) /* IO_PAGE_FAULT: PASID[19:16] */
#define AMDVI_EVT_DOMID	   GENMASK_ULL(47, 32) /* DomainID or PASID[15:0] */
#define AMDVI_EVT_FLAGS	   GENMASK_ULL(59, 48)
/* (word 1: the address) */
#define AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY 0x1u
#define AMDVI_EV_IO_PAGE_FAULT		 0x2u
#define AMDVI_EV_DEV_TAB_HW_ERROR	 0x3u
#define AMDVI_EV_PAGE_TAB_HW_ERROR	 0x4u
#define AMDVI_EV_ILLEGAL_COMMAND	 0x5u
#define AMDVI_EV_COMMAND_HW_ERROR	 0x6u
#define AMDVI_EV_IOTLB_INV_TIMEOUT	 0x7u
#define AMDVI_EV_INVALID_DEVICE_REQUEST	 0x8u
#define AMDVI_EV_INVALID_PPR_REQUEST	 0x9u
#define AMDVI_EV_EVENT_COUNTER_ZERO	 0xau
/* Event flags (dword 1 bits 27:16, here relative to AMDVI_EVT_FLAGS). */
#define AMDVI_EVF_GN 0x001u /* guest (PASID) request */
#define AMDVI_EVF_NX 0x002u /* no-execute violation */
#define AMDVI_EVF_US 0x004u /* user/supervisor */
#define AMDVI_EVF_I  0x008u /* interrupt request */
#define AMDVI_EVF_PR 0x010u /* the entry was present (permission fault) */
#define AMDVI_EVF_RW 0x020u /* write */
#define AMDVI_EVF_PE 0x040u /* permission bits */
#define AMDVI_EVF_RZ 0x080u /* reserved bit not zero / bad level */
#define AMDVI_EVF_TR 0x100u /* translation request */

/* ---- PPR log entries (2.6): 128 bits ---- */
#define AMDVI_PPR_SIZE	    16u
#define AMDVI_PPR_DEVID	    GENMASK_ULL(15, 0)
#define AMDVI_PPR_PASID_LO  GENMASK_ULL(31, 16)
#define AMDVI_PPR_TAG	    GENMASK_ULL(41, 32)
#define AMDVI_PPR_PASID_HI  GENMASK_ULL(45, 42)
#define AMDVI_PPR_FLAGS	    GENMASK_ULL(59, 48)
#define AMDVI_PPR_TYPE	    GENMASK_ULL(63, 60) /* 1: page request */
#define AMDVI_PPR_REQ_FAULT 0x1u
/* PPR flags (relative to AMDVI_PPR_FLAGS) */
#define AMDVI_PPRF_EXEC	 0x002u
#define AMDVI_PPRF_READ	 0x004u
#define AMDVI_PPRF_WRITE 0x020u
#define AMDVI_PPRF_US	 0x040u
#define AMDVI_PPRF_GN	 0x100u /* PASID valid */
/* (word 1: the address, bits 63:12) */
/* COMPLETE_PPR_REQUEST status codes (PCIe PRG response). */
#define AMDVI_PPR_SUCCESS 0x0u
#define AMDVI_PPR_INVALID 0x1u
#define AMDVI_PPR_FAILURE 0xfu

/* ---- GCR3 table (2.2.6): 8-byte entries, 512 per 4 KiB table; DTE.GLX
 * + 1 levels, PASID[9l+8:9l] indexes level l ---- */
#define AMDVI_GCR3_V	BIT_ULL(0)
#define AMDVI_GCR3_ADDR GENMASK_ULL(51, 12) /* next level, or the guest CR3 (GPA) */
#define AMDVI_GLX_MAX	1u		    /* GLX values the model and driver use */
/* The GCR3 table root is split over the DTE (AMD IOMMU 2.2.2.1). */
static inline uint64_t amdvi_dte_gcr3(const uint64_t *d)
{
	return FIELD_GET(AMDVI_DTE0_GCR3_LO, d[0]) << 12 |
	       FIELD_GET(AMDVI_DTE1_GCR3_MID, d[1]) << 15 |
	       FIELD_GET(AMDVI_DTE1_GCR3_HI, d[1]) << 31;
}
static inline void amdvi_dte_set_gcr3(uint64_t *d, uint64_t gcr3)
{
	d[0] = FIELD_SET(AMDVI_DTE0_GCR3_LO, d[0], (gcr3 >> 12) & 0x7);
	d[1] = FIELD_SET(AMDVI_DTE1_GCR3_MID, d[1], (gcr3 >> 15) & 0xffff);
	d[1] = FIELD_SET(AMDVI_DTE1_GCR3_HI, d[1], (gcr3 >> 31) & 0x1fffff);
}

/* ---- v1 page tables: see src/pgtable/pgt_hw.h (AMD_*) ---- */
#define AMDVI_PTE_PR   BIT_ULL(0)
#define AMDVI_PTE_NL   GENMASK_ULL(11, 9)
#define AMDVI_PTE_ADDR GENMASK_ULL(51, 12)
#define AMDVI_PTE_IR   BIT_ULL(61)
#define AMDVI_PTE_IW   BIT_ULL(62)
#define AMDVI_NL_SIZED 7u

static_assert(AMDVI_DTE_SIZE == AMDVI_DTE_WORDS * 8, "DTE is 256 bits");
static_assert(AMDVI_CMD_SIZE == 16 && AMDVI_EVT_SIZE == 16 && AMDVI_PPR_SIZE == 16,
	      "commands and log entries are 128 bits");
static_assert(AMDVI_REG_PPR_TAIL + 8 <= AMDVI_REG_SIZE, "registers in the window");

#endif
