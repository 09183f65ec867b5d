/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page-table entry layouts: hardware facts only, as masks for FIELD_PREP /
 * FIELD_GET.  Entries are little-endian uint64_t.
 *
 * Sources:
 *  VTD_SL_*  Intel VT-d spec 4.x, ch. 9.8 "Second-Level Paging Entries"
 *            (Table "Format for Second-Level Paging Entries"); same positions
 *            as QEMU hw/i386/intel_iommu_internal.h VTD_SL_R/W,
 *            VTD_PT_PAGE_SIZE_MASK and Linux intel/iommu.h DMA_PTE_*.
 *  X86_*     Intel SDM vol. 3A 4.5 "4-Level and 5-Level Paging" (Tables
 *            4-15..4-20), used by VT-d first-level (VT-d 9.7) and AMD-Vi v2
 *            (guest page tables); Linux DMA_FL_PTE_*.
 *  AMD_*     AMD IOMMU spec 48882, 2.2.3 "I/O Page Tables for Host
 *            Translations" (PDE/PTE figures); Linux amd_iommu_types.h
 *            IOMMU_PTE_PR/FC/IR/IW, PM_LEVEL_ENC, PM_ADDR_MASK.
 *  ARM_*     Arm ARM DDI0487, D8.3 "Translation table descriptor formats"
 *            (VMSAv8-64, 4KB granule, 48-bit OA); Linux io-pgtable-arm.c
 *            ARM_LPAE_PTE_*, ARM_LPAE_TCR_*, ARM_LPAE_VTCR_*, ARM_LPAE_MAIR_*.
 */
#ifndef UIOMMU_PGT_HW_H
#define UIOMMU_PGT_HW_H

#include "core/bitfield.h"

/* ---- VT-d second-level (VT-d 9.8) ---- */
#define VTD_SL_R    BIT_ULL(0)
#define VTD_SL_W    BIT_ULL(1)
#define VTD_SL_X    BIT_ULL(2)
#define VTD_SL_EMT  GENMASK_ULL(5, 3)	/* leaf: extended memory type */
#define VTD_SL_IPAT BIT_ULL(6)		/* leaf: ignore PAT */
#define VTD_SL_PS   BIT_ULL(7)		/* SL-PDE/SL-PDPE: maps a 2M/1G page */
#define VTD_SL_A    BIT_ULL(8)		/* accessed (SLADE) */
#define VTD_SL_D    BIT_ULL(9)		/* leaf: dirty (SLADE) */
#define VTD_SL_SNP  BIT_ULL(11)		/* leaf: snoop (ECAP.SC) */
#define VTD_SL_ADDR GENMASK_ULL(51, 12) /* HAW-1:12 */
#define VTD_SL_TM   BIT_ULL(62)		/* leaf: transient mapping */
/* Context-entry AW: 1 = 39-bit/3-level, 2 = 48-bit/4-level, 3 = 57-bit/5-level
 * (VT-d 9.3 "Context Entry", AW field). */
#define VTD_AW_FROM_LEVELS(l) ((l)-2)

/* ---- x86-64 paging (SDM 4.5) ---- */
#define X86_P	 BIT_ULL(0)
#define X86_RW	 BIT_ULL(1)
#define X86_US	 BIT_ULL(2)
#define X86_PWT	 BIT_ULL(3)
#define X86_PCD	 BIT_ULL(4)
#define X86_A	 BIT_ULL(5)
#define X86_D	 BIT_ULL(6)	     /* leaf only */
#define X86_PS	 BIT_ULL(7)	     /* PDE/PDPTE: maps a 2M/1G page */
#define X86_G	 BIT_ULL(8)	     /* leaf only */
#define X86_ADDR GENMASK_ULL(51, 12) /* M-1:12 */
#define X86_XD	 BIT_ULL(63)	     /* execute-disable */
/* VT-d PASID entry FLPM: 0 = 4-level, 1 = 5-level (VT-d 9.6). */
#define X86_FLPM_FROM_LEVELS(l) ((l)-4)

/* ---- AMD-Vi v1 host page table (AMD IOMMU 2.2.3) ---- */
#define AMD_PR	     BIT_ULL(0)		/* present */
#define AMD_A	     BIT_ULL(5)		/* accessed (DTE.HAD) */
#define AMD_D	     BIT_ULL(6)		/* PTE: dirty (DTE.HAD) */
#define AMD_NL	     GENMASK_ULL(11, 9) /* next level; 0 = leaf of default size, 7 = sized */
#define AMD_ADDR     GENMASK_ULL(51, 12)
#define AMD_U	     BIT_ULL(59) /* PTE: ATS response U bit */
#define AMD_FC	     BIT_ULL(60) /* PTE: force coherent */
#define AMD_IR	     BIT_ULL(61)
#define AMD_IW	     BIT_ULL(62)
#define AMD_NL_SIZED 7u

/* ---- Arm VMSAv8-64, 4KB granule (Arm ARM D8.3) ---- */
#define ARM_VALID BIT_ULL(0)
#define ARM_TYPE  BIT_ULL(1)	      /* 1: table (levels 0-2) or page (level 3); 0: block */
#define ARM_ADDR  GENMASK_ULL(47, 12) /* OA[47:12] (no FEAT_LPA/LPA2) */
/* Lower attributes, stage 1 */
#define ARM_S1_ATTRIDX	 GENMASK_ULL(4, 2) /* index into MAIR */
#define ARM_S1_NS	 BIT_ULL(5)
#define ARM_S1_AP	 GENMASK_ULL(7, 6) /* AP[2:1] */
#define ARM_S1_AP_UNPRIV 1u		   /* AP[1]: EL0 (unprivileged) access */
#define ARM_S1_AP_RDONLY 2u		   /* AP[2]: read-only */
#define ARM_SH		 GENMASK_ULL(9, 8)
#define ARM_SH_NS	 0u
#define ARM_SH_OS	 2u
#define ARM_SH_IS	 3u
#define ARM_AF		 BIT_ULL(10)
#define ARM_S1_NG	 BIT_ULL(11)
/* Lower attributes, stage 2 */
#define ARM_S2_MEMATTR	   GENMASK_ULL(5, 2) /* MemAttr[3:0], FEAT_S2FWB off */
#define ARM_S2_MEMATTR_DEV 0x1u		     /* Device-nGnRE */
#define ARM_S2_MEMATTR_NC  0x5u		     /* Normal, outer+inner Non-cacheable */
#define ARM_S2_MEMATTR_WB  0xfu		     /* Normal, outer+inner Write-Back */
#define ARM_S2_S2AP	   GENMASK_ULL(7, 6)
#define ARM_S2AP_R	   1u
#define ARM_S2AP_W	   2u
/* Upper attributes */
#define ARM_DBM	   BIT_ULL(51)
#define ARM_CONT   BIT_ULL(52)
#define ARM_S1_PXN BIT_ULL(53)
#define ARM_S1_UXN BIT_ULL(54) /* stage 2: XN[1] */
#define ARM_S2_XN  BIT_ULL(54)
#define ARM_SW	   GENMASK_ULL(58, 55) /* reserved for software */
/* Table descriptor attributes (stage 1 only) */
#define ARM_TBL_NSTABLE BIT_ULL(63)

/* MAIR_EL1 Attr<n> encodings (D19.2 MAIR_EL1) and our index assignment. */
#define ARM_MAIR_ATTR(n)      GENMASK_ULL(8 * (n) + 7, 8 * (n))
#define ARM_MAIR_NORMAL_WB    0xffu /* Normal, inner/outer WB non-transient RW-allocate */
#define ARM_MAIR_DEVICE_NGNRE 0x04u
#define ARM_MAIR_NORMAL_NC    0x44u
#define ARM_MAIR_IDX_WB	      0u
#define ARM_MAIR_IDX_DEV      1u
#define ARM_MAIR_IDX_NC	      2u

/* TCR_EL1 fields for TTBR0 (D19.2 TCR_EL1), as carried by the SMMUv3 CD. */
#define ARM_TCR_T0SZ  GENMASK_ULL(5, 0)
#define ARM_TCR_IRGN0 GENMASK_ULL(9, 8)
#define ARM_TCR_ORGN0 GENMASK_ULL(11, 10)
#define ARM_TCR_SH0   GENMASK_ULL(13, 12)
#define ARM_TCR_TG0   GENMASK_ULL(15, 14)
#define ARM_TCR_IPS   GENMASK_ULL(34, 32)
#define ARM_RGN_NC    0u
#define ARM_RGN_WBWA  1u
#define ARM_TG0_4K    0u

/* VTCR_EL2 (D19.2 VTCR_EL2), as carried by the SMMUv3 STE S2VTCR field. */
#define ARM_VTCR_T0SZ  GENMASK_ULL(5, 0)
#define ARM_VTCR_SL0   GENMASK_ULL(7, 6) /* 4K granule: 2 - start level */
#define ARM_VTCR_IRGN0 GENMASK_ULL(9, 8)
#define ARM_VTCR_ORGN0 GENMASK_ULL(11, 10)
#define ARM_VTCR_SH0   GENMASK_ULL(13, 12)
#define ARM_VTCR_TG0   GENMASK_ULL(15, 14)
#define ARM_VTCR_PS    GENMASK_ULL(18, 16)

#endif
