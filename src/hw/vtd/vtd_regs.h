/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Intel VT-d hardware facts: register offsets, register fields, in-memory
 * structure and descriptor layouts, fault reason codes.  No code beyond
 * field helpers.  Shared by the VT-d driver (src/hw/vtd) and the built-in
 * VT-d model (src/model/vtd).
 *
 * Fields are masks for FIELD_PREP / FIELD_GET (core/bitfield.h).  Every
 * in-memory structure is an array of little-endian uint64_t words; the word
 * a field lives in is part of its name (_Q0_, _Q1_, ...) where it could be
 * ambiguous.  Never C bitfields.
 *
 * Sources (facts only):
 *  - Intel VT-d Architecture Specification rev 4.x/5.0 ("spec"):
 *    ch. 9 "Translation Structure Formats", ch. 10/11 "Register Descriptions"
 *    (11.4.x per register), ch. 6.5 "Invalidation", ch. 7 "Page Requests",
 *    appendix "Non-Recoverable Fault Reason Encodings".
 *  - QEMU hw/i386/intel_iommu_internal.h, Linux drivers/iommu/intel/iommu.h,
 *    pasid.h, dmar.c, prq.c: cross-checked bit positions.
 *  - Decodes of real register values are in test/vtd/vtd_regs_ut.c.
 * Page-table entry layouts (second-level, first-level) are in
 * pgtable/pgt_hw.h (VTD_SL_*, X86_*).
 */
#ifndef UIOMMU_VTD_REGS_H
#define UIOMMU_VTD_REGS_H

#include <assert.h>
#include <stdint.h>

#include "core/bitfield.h"

/* ====================================================================== */
/* Register offsets (spec 11.4, Table "Register Address Map")             */
/* ====================================================================== */
#define VTD_REG_VER       0x000 /* 32: version */
#define VTD_REG_CAP       0x008 /* 64: capability */
#define VTD_REG_ECAP      0x010 /* 64: extended capability */
#define VTD_REG_GCMD      0x018 /* 32: global command (WO) */
#define VTD_REG_GSTS      0x01c /* 32: global status (RO) */
#define VTD_REG_RTADDR    0x020 /* 64: root table address */
#define VTD_REG_CCMD      0x028 /* 64: context command */
#define VTD_REG_FSTS      0x034 /* 32: fault status */
#define VTD_REG_FECTL     0x038 /* 32: fault event control */
#define VTD_REG_FEDATA    0x03c /* 32: fault event data */
#define VTD_REG_FEADDR    0x040 /* 32: fault event address */
#define VTD_REG_FEUADDR   0x044 /* 32: fault event upper address */
#define VTD_REG_AFLOG     0x058 /* 64: advanced fault log */
#define VTD_REG_PMEN      0x064 /* 32: protected memory enable */
#define VTD_REG_PLMBASE   0x068 /* 32: protected low memory base */
#define VTD_REG_PLMLIMIT  0x06c /* 32: protected low memory limit */
#define VTD_REG_PHMBASE   0x070 /* 64: protected high memory base */
#define VTD_REG_PHMLIMIT  0x078 /* 64: protected high memory limit */
#define VTD_REG_IQH       0x080 /* 64: invalidation queue head (RO) */
#define VTD_REG_IQT       0x088 /* 64: invalidation queue tail */
#define VTD_REG_IQA       0x090 /* 64: invalidation queue address */
#define VTD_REG_ICS       0x09c /* 32: invalidation completion status */
#define VTD_REG_IECTL     0x0a0 /* 32: invalidation event control */
#define VTD_REG_IEDATA    0x0a4 /* 32: invalidation event data */
#define VTD_REG_IEADDR    0x0a8 /* 32: invalidation event address */
#define VTD_REG_IEUADDR   0x0ac /* 32: invalidation event upper address */
#define VTD_REG_IQERCD    0x0b0 /* 64: invalidation queue error record */
#define VTD_REG_IRTA      0x0b8 /* 64: interrupt remapping table address */
#define VTD_REG_PQH       0x0c0 /* 64: page request queue head */
#define VTD_REG_PQT       0x0c8 /* 64: page request queue tail (RO) */
#define VTD_REG_PQA       0x0d0 /* 64: page request queue address */
#define VTD_REG_PRS       0x0dc /* 32: page request status */
#define VTD_REG_PECTL     0x0e0 /* 32: page request event control */
#define VTD_REG_PEDATA    0x0e4 /* 32: page request event data */
#define VTD_REG_PEADDR    0x0e8 /* 32: page request event address */
#define VTD_REG_PEUADDR   0x0ec /* 32: page request event upper address */
#define VTD_REG_MTRRCAP   0x100 /* 64: MTRR capability */
#define VTD_REG_MTRRDEF   0x108 /* 64: MTRR default type */

/* IOTLB registers: at ECAP.IRO * 16 (spec 11.4.8). */
#define VTD_REG_IVA_OFF    0x0 /* 64: invalidate address */
#define VTD_REG_IOTLB_OFF  0x8 /* 64: IOTLB invalidate */
/* Fault recording registers: NFR+1 records of 16 bytes at CAP.FRO * 16
 * (spec 11.4.14).  Word 0 at +0, word 1 at +8; F is bit 127 (+12, bit 31). */
#define VTD_FRCD_STRIDE    16u

/* Default register window size (one 4 KiB page). */
#define VTD_REG_SIZE       0x1000u

/* ---- VER (11.4.1) ---- */
#define VTD_VER_MIN GENMASK_ULL(3, 0)
#define VTD_VER_MAX GENMASK_ULL(7, 4)

/* ====================================================================== */
/* CAP (spec 11.4.2)                                                      */
/* ====================================================================== */
#define VTD_CAP_ND      GENMASK_ULL(2, 0)   /* domain ID bits = 4 + 2*ND */
#define VTD_CAP_AFL     BIT_ULL(3)          /* advanced fault logging */
#define VTD_CAP_RWBF    BIT_ULL(4)          /* required write-buffer flushing */
#define VTD_CAP_PLMR    BIT_ULL(5)          /* protected low-memory region */
#define VTD_CAP_PHMR    BIT_ULL(6)          /* protected high-memory region */
#define VTD_CAP_CM      BIT_ULL(7)          /* caching mode (not-present cached) */
#define VTD_CAP_SAGAW   GENMASK_ULL(12, 8)  /* bit1: 39b/3-lvl, bit2: 48b/4-lvl, bit3: 57b/5-lvl */
#define VTD_CAP_MGAW    GENMASK_ULL(21, 16) /* max guest address width - 1 */
#define VTD_CAP_ZLR     BIT_ULL(22)         /* zero-length read */
#define VTD_CAP_FRO     GENMASK_ULL(33, 24) /* fault recording offset / 16 */
#define VTD_CAP_SLLPS   GENMASK_ULL(37, 34) /* second-level large pages: bit0 2M, bit1 1G */
#define VTD_CAP_PSI     BIT_ULL(39)         /* page-selective invalidation */
#define VTD_CAP_NFR     GENMASK_ULL(47, 40) /* number of fault records - 1 */
#define VTD_CAP_MAMV    GENMASK_ULL(53, 48) /* max address mask value */
#define VTD_CAP_DWD     BIT_ULL(54)         /* write draining */
#define VTD_CAP_DRD     BIT_ULL(55)         /* read draining */
#define VTD_CAP_FL1GP   BIT_ULL(56)         /* first-level 1 GiB pages ("FS1GP") */
#define VTD_CAP_PI      BIT_ULL(59)         /* posted interrupts */
#define VTD_CAP_FL5LP   BIT_ULL(60)         /* first-level 5-level paging ("FS5LP") */
#define VTD_CAP_ECMDS   BIT_ULL(61)         /* enhanced command support */
#define VTD_CAP_ESIRTPS BIT_ULL(62)         /* SIRTP invalidates the IEC */
#define VTD_CAP_ESRTPS  BIT_ULL(63)         /* SRTP invalidates all caches */

#define VTD_SAGAW_39    BIT_ULL(1) /* 3-level second-level table, AW=1 */
#define VTD_SAGAW_48    BIT_ULL(2) /* 4-level, AW=2 */
#define VTD_SAGAW_57    BIT_ULL(3) /* 5-level, AW=3 */
#define VTD_SLLPS_2M    BIT_ULL(0)
#define VTD_SLLPS_1G    BIT_ULL(1)

/* Decoded values */
static inline unsigned int vtd_cap_domain_bits(uint64_t cap)
{
	return 4u + 2u * (unsigned int)FIELD_GET(VTD_CAP_ND, cap);
}
static inline uint32_t vtd_cap_fro_off(uint64_t cap)
{
	return (uint32_t)FIELD_GET(VTD_CAP_FRO, cap) * 16u;
}
static inline unsigned int vtd_cap_nfr(uint64_t cap)
{
	return (unsigned int)FIELD_GET(VTD_CAP_NFR, cap) + 1u;
}
static inline unsigned int vtd_cap_mgaw(uint64_t cap)
{
	return (unsigned int)FIELD_GET(VTD_CAP_MGAW, cap) + 1u;
}

/* AW field of context / PASID entries <-> levels <-> address width
 * (spec 9.3 "Context Entry", AW: 1 = 39-bit, 2 = 48-bit, 3 = 57-bit). */
#define VTD_AW_39 1u
#define VTD_AW_48 2u
#define VTD_AW_57 3u
static inline unsigned int vtd_aw_levels(unsigned int aw) { return aw + 2u; }
static inline unsigned int vtd_aw_bits(unsigned int aw) { return 30u + 9u * aw; }

/* ====================================================================== */
/* ECAP (spec 11.4.3)                                                     */
/* ====================================================================== */
#define VTD_ECAP_C      BIT_ULL(0)          /* page-walk coherency (legacy) */
#define VTD_ECAP_QI     BIT_ULL(1)          /* queued invalidation */
#define VTD_ECAP_DT     BIT_ULL(2)          /* device-TLB */
#define VTD_ECAP_IR     BIT_ULL(3)          /* interrupt remapping */
#define VTD_ECAP_EIM    BIT_ULL(4)          /* extended interrupt mode */
#define VTD_ECAP_PT     BIT_ULL(6)          /* pass-through */
#define VTD_ECAP_SC     BIT_ULL(7)          /* snoop control */
#define VTD_ECAP_IRO    GENMASK_ULL(17, 8)  /* IOTLB register offset / 16 */
#define VTD_ECAP_MHMV   GENMASK_ULL(23, 20) /* max handle mask value */
#define VTD_ECAP_MTS    BIT_ULL(25)         /* memory type */
#define VTD_ECAP_NEST   BIT_ULL(26)         /* nested translation */
#define VTD_ECAP_PRS    BIT_ULL(29)         /* page requests */
#define VTD_ECAP_ERS    BIT_ULL(30)         /* execute requests */
#define VTD_ECAP_SRS    BIT_ULL(31)         /* supervisor requests */
#define VTD_ECAP_NWFS   BIT_ULL(33)         /* no write flag */
#define VTD_ECAP_EAFS   BIT_ULL(34)         /* extended accessed flag */
#define VTD_ECAP_PSS    GENMASK_ULL(39, 35) /* PASID bits - 1 */
#define VTD_ECAP_PASID  BIT_ULL(40)         /* PASID support */
#define VTD_ECAP_DIT    BIT_ULL(41)         /* device-TLB invalidation throttling */
#define VTD_ECAP_PDS    BIT_ULL(42)         /* page-request drain */
#define VTD_ECAP_SMTS   BIT_ULL(43)         /* scalable mode */
#define VTD_ECAP_VCS    BIT_ULL(44)         /* virtual command */
#define VTD_ECAP_SLADS  BIT_ULL(45)         /* second-level A/D ("SSADS") */
#define VTD_ECAP_SLTS   BIT_ULL(46)         /* second-level translation ("SSTS") */
#define VTD_ECAP_FLTS   BIT_ULL(47)         /* first-level translation ("FSTS") */
#define VTD_ECAP_SMPWC  BIT_ULL(48)         /* scalable-mode page-walk coherency */
#define VTD_ECAP_RPS    BIT_ULL(49)         /* RID_PASID */
#define VTD_ECAP_PMS    BIT_ULL(51)         /* performance monitoring */
#define VTD_ECAP_ADMS   BIT_ULL(52)         /* abort DMA mode */
#define VTD_ECAP_RPRIVS BIT_ULL(53)         /* RID_PRIV */

static inline uint32_t vtd_ecap_iro_off(uint64_t ecap)
{
	return (uint32_t)FIELD_GET(VTD_ECAP_IRO, ecap) * 16u;
}
static inline unsigned int vtd_ecap_pasid_bits(uint64_t ecap)
{
	return (unsigned int)FIELD_GET(VTD_ECAP_PSS, ecap) + 1u;
}

/* ====================================================================== */
/* GCMD / GSTS (spec 11.4.4, 11.4.5): same bit for command and status     */
/* ====================================================================== */
#define VTD_GCMD_CFI    BIT_ULL(23) /* compatibility format interrupt */
#define VTD_GCMD_SIRTP  BIT_ULL(24) /* set interrupt remap table pointer (one-shot) */
#define VTD_GCMD_IRE    BIT_ULL(25) /* interrupt remapping enable */
#define VTD_GCMD_QIE    BIT_ULL(26) /* queued invalidation enable */
#define VTD_GCMD_WBF    BIT_ULL(27) /* write buffer flush (one-shot) */
#define VTD_GCMD_EAFL   BIT_ULL(28) /* enable advanced fault logging */
#define VTD_GCMD_SFL    BIT_ULL(29) /* set fault log (one-shot) */
#define VTD_GCMD_SRTP   BIT_ULL(30) /* set root table pointer (one-shot) */
#define VTD_GCMD_TE     BIT_ULL(31) /* translation enable */
#define VTD_GSTS_CFIS   BIT_ULL(23)
#define VTD_GSTS_IRTPS  BIT_ULL(24)
#define VTD_GSTS_IRES   BIT_ULL(25)
#define VTD_GSTS_QIES   BIT_ULL(26)
#define VTD_GSTS_WBFS   BIT_ULL(27) /* 1 while a write-buffer flush is pending */
#define VTD_GSTS_AFLS   BIT_ULL(28)
#define VTD_GSTS_FLS    BIT_ULL(29)
#define VTD_GSTS_RTPS   BIT_ULL(30)
#define VTD_GSTS_TES    BIT_ULL(31)
/* Software writes GCMD = (GSTS & persistent bits) | new command; the
 * one-shot bits are not carried over (spec 11.4.4, note on GCMD). */
#define VTD_GSTS_ONESHOT (VTD_GSTS_RTPS | VTD_GSTS_FLS | VTD_GSTS_WBFS | VTD_GSTS_IRTPS)
#define VTD_GSTS_PERSIST (VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES | VTD_GSTS_CFIS | \
			  VTD_GSTS_AFLS)

/* ---- RTADDR (11.4.6) ---- */
#define VTD_RTADDR_TTM  GENMASK_ULL(11, 10) /* translation table mode */
#define VTD_RTADDR_RTA  GENMASK_ULL(63, 12)
#define VTD_TTM_LEGACY   0u
#define VTD_TTM_SCALABLE 1u
#define VTD_TTM_ABORT    3u /* abort-DMA mode (ECAP.ADMS) */

/* ---- CCMD (11.4.7) ---- */
#define VTD_CCMD_DID    GENMASK_ULL(15, 0)
#define VTD_CCMD_SID    GENMASK_ULL(31, 16)
#define VTD_CCMD_FM     GENMASK_ULL(33, 32) /* function mask: SID bits [2:0] ignored from the top */
#define VTD_CCMD_CAIG   GENMASK_ULL(60, 59) /* actual granularity (RO) */
#define VTD_CCMD_CIRG   GENMASK_ULL(62, 61) /* requested granularity */
#define VTD_CCMD_ICC    BIT_ULL(63)         /* invalidate (cleared when done) */
#define VTD_CC_G_GLOBAL 1u
#define VTD_CC_G_DOMAIN 2u
#define VTD_CC_G_DEVICE 3u

/* ---- IVA / IOTLB (11.4.8.1, 11.4.8.2) ---- */
#define VTD_IVA_AM      GENMASK_ULL(5, 0)   /* 2^AM pages */
#define VTD_IVA_IH      BIT_ULL(6)          /* invalidation hint: leaf only */
#define VTD_IVA_ADDR    GENMASK_ULL(63, 12)
#define VTD_IOTLB_DID   GENMASK_ULL(47, 32)
#define VTD_IOTLB_DW    BIT_ULL(48)
#define VTD_IOTLB_DR    BIT_ULL(49)
#define VTD_IOTLB_IAIG  GENMASK_ULL(58, 57) /* actual granularity (RO) */
#define VTD_IOTLB_IIRG  GENMASK_ULL(61, 60) /* requested granularity */
#define VTD_IOTLB_IVT   BIT_ULL(63)         /* invalidate (cleared when done) */
#define VTD_IOTLB_G_GLOBAL 1u
#define VTD_IOTLB_G_DOMAIN 2u
#define VTD_IOTLB_G_PAGE   3u

/* ---- FSTS (11.4.9.1): RW1C except FRI/PPF which are RO ---- */
#define VTD_FSTS_PFO    BIT_ULL(0)  /* primary fault overflow (RW1C) */
#define VTD_FSTS_PPF    BIT_ULL(1)  /* primary pending fault (RO: OR of FRCD.F) */
#define VTD_FSTS_AFO    BIT_ULL(2)
#define VTD_FSTS_APF    BIT_ULL(3)
#define VTD_FSTS_IQE    BIT_ULL(4)  /* invalidation queue error (RW1C) */
#define VTD_FSTS_ICE    BIT_ULL(5)  /* invalidation completion error (RW1C) */
#define VTD_FSTS_ITE    BIT_ULL(6)  /* invalidation time-out error (RW1C) */
#define VTD_FSTS_FRI    GENMASK_ULL(15, 8) /* first pending fault record index */
#define VTD_FSTS_RW1C   (VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE | \
			 VTD_FSTS_ICE | VTD_FSTS_ITE)

/* ---- FECTL / IECTL / PECTL: interrupt mask and pending ---- */
#define VTD_xECTL_IP    BIT_ULL(30)
#define VTD_xECTL_IM    BIT_ULL(31)
#define VTD_FECTL_IP    VTD_xECTL_IP
#define VTD_FECTL_IM    VTD_xECTL_IM
#define VTD_IECTL_IP    VTD_xECTL_IP
#define VTD_IECTL_IM    VTD_xECTL_IM
#define VTD_PECTL_IP    VTD_xECTL_IP
#define VTD_PECTL_IM    VTD_xECTL_IM

/* ---- AFLOG (11.4.9.?) ---- */
#define VTD_AFLOG_FLS   GENMASK_ULL(11, 9)
#define VTD_AFLOG_FLA   GENMASK_ULL(63, 12)

/* ---- PMEN (11.4.10) ---- */
#define VTD_PMEN_PRS    BIT_ULL(0)  /* protected region status (RO) */
#define VTD_PMEN_EPM    BIT_ULL(31) /* enable protected memory */

/* ---- FRCD: 128-bit fault record, as two words (11.4.14) ---- */
#define VTD_FRCD_Q0_FI     GENMASK_ULL(63, 12) /* faulting page address */
#define VTD_FRCD_Q1_SID    GENMASK_ULL(15, 0)  /* requester ID (bits 79:64) */
#define VTD_FRCD_Q1_T2     BIT_ULL(28)         /* type bit 2 (bit 92) */
#define VTD_FRCD_Q1_PRIV   BIT_ULL(29)         /* privileged request (bit 93) */
#define VTD_FRCD_Q1_EXE    BIT_ULL(30)         /* execute request (bit 94) */
#define VTD_FRCD_Q1_PP     BIT_ULL(31)         /* PASID present (bit 95) */
#define VTD_FRCD_Q1_FR     GENMASK_ULL(39, 32) /* fault reason (bits 103:96) */
#define VTD_FRCD_Q1_PV     GENMASK_ULL(59, 40) /* PASID value (bits 123:104) */
#define VTD_FRCD_Q1_AT     GENMASK_ULL(61, 60) /* address type (bits 125:124) */
#define VTD_FRCD_Q1_T1     BIT_ULL(62)         /* 1: read, 0: write (bit 126) */
#define VTD_FRCD_Q1_F      BIT_ULL(63)         /* fault (RW1C, bit 127) */

/* ---- IQH / IQT (11.4.9.x): offsets in 128-bit units ---- */
#define VTD_IQH_QH      GENMASK_ULL(18, 4)
#define VTD_IQT_QT      GENMASK_ULL(18, 4)
/* With IQA.DW=1 the index counts 256-bit descriptors and bit 4 must be 0. */
#define VTD_IQ_DESC_SHIFT(dw) ((dw) ? 5u : 4u)

/* ---- IQA ---- */
#define VTD_IQA_QS      GENMASK_ULL(2, 0)   /* 2^QS 4 KiB pages */
#define VTD_IQA_DW      BIT_ULL(11)         /* 1: 256-bit descriptors (needs SMTS) */
#define VTD_IQA_IQA     GENMASK_ULL(63, 12)
/* Number of descriptors of the queue. */
static inline uint32_t vtd_iqa_entries(uint64_t iqa)
{
	unsigned int qs = (unsigned int)FIELD_GET(VTD_IQA_QS, iqa);
	return (4096u << qs) >> VTD_IQ_DESC_SHIFT(FIELD_GET(VTD_IQA_DW, iqa));
}

/* ---- ICS ---- */
#define VTD_ICS_IWC     BIT_ULL(0) /* invalidation wait completed (RW1C) */

/* ---- IQERCD ---- */
#define VTD_IQERCD_IQEI   GENMASK_ULL(3, 0)
#define VTD_IQERCD_ITESID GENMASK_ULL(47, 32)
#define VTD_IQERCD_ICESID GENMASK_ULL(63, 48)
/* IQEI values (spec 11.4.9.x "Invalidation Queue Error Record Register"). */
#define VTD_IQEI_NONE       0u /* info not available */
#define VTD_IQEI_TAIL       1u /* invalid IQT programming (e.g. bit 4 set with DW=1) */
#define VTD_IQEI_FETCH      2u /* descriptor fetch failed */
#define VTD_IQEI_TYPE       3u /* invalid descriptor type */
#define VTD_IQEI_RSVD       4u /* non-zero reserved field */
#define VTD_IQEI_WIDTH      5u /* descriptor type needs other width / mode */
#define VTD_IQEI_TAIL_RANGE 6u /* IQT beyond the queue size */

/* ---- IRTA ---- */
#define VTD_IRTA_S      GENMASK_ULL(3, 0)   /* 2^(S+1) entries */
#define VTD_IRTA_EIME   BIT_ULL(11)
#define VTD_IRTA_IRTA   GENMASK_ULL(63, 12)

/* ---- page request queue (11.4.11) ---- */
#define VTD_PQH_PQH     GENMASK_ULL(18, 5)  /* in 256-bit descriptor units */
#define VTD_PQT_PQT     GENMASK_ULL(18, 5)
#define VTD_PQA_PQS     GENMASK_ULL(2, 0)   /* 2^PQS 4 KiB pages */
#define VTD_PQA_PQA     GENMASK_ULL(63, 12)
#define VTD_PRS_PPR     BIT_ULL(0)          /* pending page request (RW1C) */
#define VTD_PRS_PRO     BIT_ULL(1)          /* page request overflow (RW1C) */
static inline uint32_t vtd_pqa_entries(uint64_t pqa)
{
	return (4096u << FIELD_GET(VTD_PQA_PQS, pqa)) >> 5;
}

/* ====================================================================== */
/* In-memory structures (spec ch. 9)                                      */
/* ====================================================================== */

/* Legacy root entry, 128 bits (9.1); 256 entries per 4 KiB root table,
 * indexed by bus. */
struct vtd_root_entry {
	uint64_t d[2];
};
#define VTD_RE_Q0_P     BIT_ULL(0)
#define VTD_RE_Q0_CTP   GENMASK_ULL(63, 12)

/* Scalable-mode root entry, 128 bits (9.2): lower half covers devfn
 * 0-127, upper half 128-255; each points at a 4 KiB table of 128
 * scalable-mode context entries. */
#define VTD_SMRE_Q0_LP   BIT_ULL(0)
#define VTD_SMRE_Q0_LCTP GENMASK_ULL(63, 12)
#define VTD_SMRE_Q1_UP   BIT_ULL(0)
#define VTD_SMRE_Q1_UCTP GENMASK_ULL(63, 12)

/* Legacy context entry, 128 bits (9.3); 256 per table, indexed by devfn. */
struct vtd_ctx_entry {
	uint64_t d[2];
};
#define VTD_CE_Q0_P       BIT_ULL(0)
#define VTD_CE_Q0_FPD     BIT_ULL(1)          /* fault processing disable */
#define VTD_CE_Q0_TT      GENMASK_ULL(3, 2)   /* translation type */
#define VTD_CE_Q0_SLPTPTR GENMASK_ULL(63, 12) /* second-level table root */
#define VTD_CE_Q1_AW      GENMASK_ULL(2, 0)   /* VTD_AW_* */
#define VTD_CE_Q1_AVAIL   GENMASK_ULL(6, 3)   /* ignored by hardware */
#define VTD_CE_Q1_DID     GENMASK_ULL(23, 8)
#define VTD_CE_TT_SL      0u /* untranslated requests through the second level */
#define VTD_CE_TT_SL_DT   1u /* ... and translated/translation requests (ATS) */
#define VTD_CE_TT_PT      2u /* pass-through (ECAP.PT) */

/* Scalable-mode context entry, 256 bits (9.4). */
struct vtd_sm_ctx_entry {
	uint64_t d[4];
};
#define VTD_SMCE_Q0_P         BIT_ULL(0)
#define VTD_SMCE_Q0_FPD       BIT_ULL(1)
#define VTD_SMCE_Q0_DTE       BIT_ULL(2)          /* device-TLB enable */
#define VTD_SMCE_Q0_PASIDE    BIT_ULL(3)          /* requests with PASID allowed */
#define VTD_SMCE_Q0_PRE       BIT_ULL(4)          /* page requests allowed */
#define VTD_SMCE_Q0_PDTS      GENMASK_ULL(11, 9)  /* dir has 2^(PDTS+7) entries */
#define VTD_SMCE_Q0_PASIDDIRPTR GENMASK_ULL(63, 12)
#define VTD_SMCE_Q1_RID_PASID GENMASK_ULL(19, 0)  /* PASID for requests without one */
#define VTD_SMCE_Q1_RID_PRIV  BIT_ULL(20)         /* requests without PASID are supervisor */
static inline uint32_t vtd_smce_pdir_entries(uint64_t q0)
{
	return 1u << (FIELD_GET(VTD_SMCE_Q0_PDTS, q0) + 7u);
}

/* PASID directory entry, 64 bits (9.5): indexed by PASID[19:6]. */
#define VTD_PDE_P          BIT_ULL(0)
#define VTD_PDE_FPD        BIT_ULL(1)
#define VTD_PDE_SMPTBLPTR  GENMASK_ULL(63, 12) /* PASID table */
#define VTD_PASID_DIR_IDX(p) (((uint32_t)(p) >> 6) & 0x3fffu)
#define VTD_PASID_TBL_IDX(p) ((uint32_t)(p) & 0x3fu)

/* Scalable-mode PASID table entry, 512 bits (9.6); 64 per 4 KiB table. */
struct vtd_pasid_entry {
	uint64_t d[8];
};
#define VTD_PE_Q0_P        BIT_ULL(0)
#define VTD_PE_Q0_FPD      BIT_ULL(1)
#define VTD_PE_Q0_AW       GENMASK_ULL(4, 2)   /* second-level AW (VTD_AW_*) */
#define VTD_PE_Q0_PGTT     GENMASK_ULL(8, 6)   /* VTD_PGTT_* */
#define VTD_PE_Q0_SLADE    BIT_ULL(9)          /* second-level A/D enable ("SSADE") */
#define VTD_PE_Q0_SLPTPTR  GENMASK_ULL(63, 12) /* second-level table root */
#define VTD_PE_Q1_DID      GENMASK_ULL(15, 0)
#define VTD_PE_Q1_PWSNP    BIT_ULL(23)         /* page-walk snoop */
#define VTD_PE_Q1_PGSNP    BIT_ULL(24)         /* page snoop */
#define VTD_PE_Q1_CD       BIT_ULL(25)
#define VTD_PE_Q1_EMTE     BIT_ULL(26)
#define VTD_PE_Q1_EMT      GENMASK_ULL(29, 27)
#define VTD_PE_Q1_PWT      BIT_ULL(30)
#define VTD_PE_Q1_PCD      BIT_ULL(31)
#define VTD_PE_Q1_PAT      GENMASK_ULL(63, 32)
#define VTD_PE_Q2_SRE      BIT_ULL(0)          /* supervisor requests enable */
#define VTD_PE_Q2_ERE      BIT_ULL(1)          /* execute requests enable */
#define VTD_PE_Q2_FLPM     GENMASK_ULL(3, 2)   /* 0: 4-level, 1: 5-level */
#define VTD_PE_Q2_WPE      BIT_ULL(4)          /* write protect enable */
#define VTD_PE_Q2_NXE      BIT_ULL(5)
#define VTD_PE_Q2_SMEP     BIT_ULL(6)
#define VTD_PE_Q2_EAFE     BIT_ULL(7)          /* extended accessed flag enable */
#define VTD_PE_Q2_FLPTPTR  GENMASK_ULL(63, 12) /* first-level table root */
#define VTD_PGTT_FL     1u /* first-level only */
#define VTD_PGTT_SL     2u /* second-level only */
#define VTD_PGTT_NESTED 3u /* first-level over second-level */
#define VTD_PGTT_PT     4u /* pass-through */
#define VTD_FLPM_4LVL   0u
#define VTD_FLPM_5LVL   1u

/* Interrupt address range, never translated (spec 3.15). */
#define VTD_INTR_ADDR_FIRST 0xfee00000ULL
#define VTD_INTR_ADDR_LAST  0xfeefffffULL

/* ====================================================================== */
/* Queued invalidation descriptors (spec 6.5.2)                           */
/* 128-bit (IQA.DW=0) use d[0..1]; 256-bit (DW=1) all four words.          */
/* ====================================================================== */
struct vtd_qi_desc {
	uint64_t d[4];
};
#define VTD_QI_TYPE_LO   GENMASK_ULL(3, 0)
#define VTD_QI_TYPE_HI   GENMASK_ULL(11, 9) /* type[6:4] */
#define VTD_QI_CC        0x1u /* context-cache invalidate */
#define VTD_QI_IOTLB     0x2u /* IOTLB invalidate */
#define VTD_QI_DEVTLB    0x3u /* device-TLB invalidate */
#define VTD_QI_IEC       0x4u /* interrupt entry cache invalidate */
#define VTD_QI_WAIT      0x5u /* invalidation wait */
#define VTD_QI_PIOTLB    0x6u /* PASID-based IOTLB invalidate */
#define VTD_QI_PC        0x7u /* PASID-cache invalidate */
#define VTD_QI_PDEVTLB   0x8u /* PASID-based device-TLB invalidate */
#define VTD_QI_PGRP_RESP 0x9u /* page group response */
static inline unsigned int vtd_qi_type(uint64_t q0)
{
	return (unsigned int)(FIELD_GET(VTD_QI_TYPE_LO, q0) | (FIELD_GET(VTD_QI_TYPE_HI, q0) << 4));
}
static inline uint64_t vtd_qi_type_prep(unsigned int type)
{
	return FIELD_PREP(VTD_QI_TYPE_LO, type & 0xf) | FIELD_PREP(VTD_QI_TYPE_HI, type >> 4);
}

/* Context-cache invalidate (6.5.2.2) */
#define VTD_QI_CC_G      GENMASK_ULL(5, 4)   /* VTD_CC_G_* */
#define VTD_QI_CC_DID    GENMASK_ULL(31, 16)
#define VTD_QI_CC_SID    GENMASK_ULL(47, 32)
#define VTD_QI_CC_FM     GENMASK_ULL(49, 48)
#define VTD_QI_CC_Q0_RSVD (GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 50))

/* IOTLB invalidate (6.5.2.3) */
#define VTD_QI_IOTLB_G   GENMASK_ULL(5, 4)   /* VTD_IOTLB_G_* */
#define VTD_QI_IOTLB_DW  BIT_ULL(6)
#define VTD_QI_IOTLB_DR  BIT_ULL(7)
#define VTD_QI_IOTLB_DID GENMASK_ULL(31, 16)
#define VTD_QI_IOTLB_Q0_RSVD (BIT_ULL(8) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 32))
#define VTD_QI_IOTLB_AM  GENMASK_ULL(5, 0)   /* word 1 */
#define VTD_QI_IOTLB_IH  BIT_ULL(6)          /* word 1 */
#define VTD_QI_IOTLB_ADDR GENMASK_ULL(63, 12) /* word 1 */
#define VTD_QI_IOTLB_Q1_RSVD GENMASK_ULL(11, 7)

/* Device-TLB invalidate (6.5.2.5) */
#define VTD_QI_DEVTLB_PFSID_LO GENMASK_ULL(15, 12) /* PF source ID [3:0] */
#define VTD_QI_DEVTLB_MIP      GENMASK_ULL(20, 16) /* max invalidations pending */
#define VTD_QI_DEVTLB_SID      GENMASK_ULL(47, 32)
#define VTD_QI_DEVTLB_PFSID_HI GENMASK_ULL(63, 52) /* PF source ID [15:4] */
#define VTD_QI_DEVTLB_S        BIT_ULL(0)          /* word 1: size bit (ATS) */
#define VTD_QI_DEVTLB_ADDR     GENMASK_ULL(63, 12) /* word 1 */

/* Interrupt entry cache invalidate (6.5.2.7) */
#define VTD_QI_IEC_G     BIT_ULL(4)          /* 0: global, 1: index-selective */
#define VTD_QI_IEC_IM    GENMASK_ULL(31, 27)
#define VTD_QI_IEC_IIDX  GENMASK_ULL(47, 32)

/* Invalidation wait (6.5.2.8) */
#define VTD_QI_WAIT_IF    BIT_ULL(4)          /* set ICS.IWC, raise event */
#define VTD_QI_WAIT_SW    BIT_ULL(5)          /* write status data */
#define VTD_QI_WAIT_FN    BIT_ULL(6)          /* fence */
#define VTD_QI_WAIT_PD    BIT_ULL(7)          /* page-request drain */
#define VTD_QI_WAIT_SDATA GENMASK_ULL(63, 32)
#define VTD_QI_WAIT_Q0_RSVD (GENMASK_ULL(8, 8) | GENMASK_ULL(31, 12))
#define VTD_QI_WAIT_SADDR GENMASK_ULL(63, 2)  /* word 1: 4-byte aligned */
#define VTD_QI_WAIT_Q1_RSVD GENMASK_ULL(1, 0)

/* PASID-based IOTLB invalidate (6.5.2.4) */
#define VTD_QI_PIOTLB_G     GENMASK_ULL(5, 4)
#define VTD_QI_PIOTLB_DID   GENMASK_ULL(31, 16)
#define VTD_QI_PIOTLB_PASID GENMASK_ULL(51, 32)
#define VTD_QI_PIOTLB_Q0_RSVD (GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 52))
#define VTD_QI_PIOTLB_AM    GENMASK_ULL(5, 0)   /* word 1 */
#define VTD_QI_PIOTLB_IH    BIT_ULL(6)          /* word 1 */
#define VTD_QI_PIOTLB_ADDR  GENMASK_ULL(63, 12) /* word 1 */
#define VTD_QI_PIOTLB_Q1_RSVD GENMASK_ULL(11, 7)
#define VTD_PIOTLB_G_PASID  2u /* all non-global mappings of DID+PASID */
#define VTD_PIOTLB_G_PAGE   3u /* page-selective within DID+PASID */

/* PASID-cache invalidate (6.5.2.6) */
#define VTD_QI_PC_G      GENMASK_ULL(5, 4)
#define VTD_QI_PC_DID    GENMASK_ULL(31, 16)
#define VTD_QI_PC_PASID  GENMASK_ULL(51, 32)
#define VTD_QI_PC_Q0_RSVD (GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 52))
#define VTD_PC_G_DOMAIN  0u /* all PASIDs of DID */
#define VTD_PC_G_PASID   1u /* DID + PASID */
#define VTD_PC_G_GLOBAL  3u

/* PASID-based device-TLB invalidate (6.5.2.6.x) */
#define VTD_QI_PDEVTLB_MIP      GENMASK_ULL(8, 4)
#define VTD_QI_PDEVTLB_PFSID_LO GENMASK_ULL(15, 12)
#define VTD_QI_PDEVTLB_SID      GENMASK_ULL(31, 16)
#define VTD_QI_PDEVTLB_PASID    GENMASK_ULL(51, 32)
#define VTD_QI_PDEVTLB_PFSID_HI GENMASK_ULL(63, 52)
#define VTD_QI_PDEVTLB_G        BIT_ULL(0)          /* word 1: global */
#define VTD_QI_PDEVTLB_S        BIT_ULL(11)         /* word 1: size */
#define VTD_QI_PDEVTLB_ADDR     GENMASK_ULL(63, 12) /* word 1 */

/* Page group response (7.7.1) */
#define VTD_QI_PGRP_PP     BIT_ULL(4)          /* PASID present */
#define VTD_QI_PGRP_PDP    BIT_ULL(5)          /* private data present */
#define VTD_QI_PGRP_RC     GENMASK_ULL(15, 12) /* response code */
#define VTD_QI_PGRP_RID    GENMASK_ULL(31, 16)
#define VTD_QI_PGRP_PASID  GENMASK_ULL(51, 32)
#define VTD_QI_PGRP_LPIG   BIT_ULL(2)          /* word 1: last in group */
#define VTD_QI_PGRP_PRGI   GENMASK_ULL(11, 3)  /* word 1: group index */
#define VTD_PGRP_RC_SUCCESS 0x0u
#define VTD_PGRP_RC_INVALID 0x1u
#define VTD_PGRP_RC_FAILURE 0xfu

/* Page request descriptor, 256 bits (7.5.1), written by hardware. */
struct vtd_prq_desc {
	uint64_t d[4];
};
#define VTD_PRQ_Q0_PP     BIT_ULL(8)          /* PASID present */
#define VTD_PRQ_Q0_PDP    BIT_ULL(9)          /* private data present */
#define VTD_PRQ_Q0_RID    GENMASK_ULL(31, 16)
#define VTD_PRQ_Q0_PASID  GENMASK_ULL(51, 32)
#define VTD_PRQ_Q0_ER     BIT_ULL(52)         /* execute requested */
#define VTD_PRQ_Q0_PM     BIT_ULL(53)         /* privileged mode requested */
#define VTD_PRQ_Q1_RDR    BIT_ULL(0)          /* read requested */
#define VTD_PRQ_Q1_WRR    BIT_ULL(1)          /* write requested */
#define VTD_PRQ_Q1_LPIG   BIT_ULL(2)          /* last page in group */
#define VTD_PRQ_Q1_PRGI   GENMASK_ULL(11, 3)  /* page request group index */
#define VTD_PRQ_Q1_ADDR   GENMASK_ULL(63, 12)

/* ====================================================================== */
/* Fault reasons (spec appendix "Non-Recoverable Fault Reason Encodings") */
/* ====================================================================== */
enum vtd_fault_reason {
	/* legacy mode */
	VTD_FR_ROOT_P = 0x01,         /* root entry not present */
	VTD_FR_CTX_P = 0x02,          /* context entry not present */
	VTD_FR_CTX_INV = 0x03,        /* invalid context entry (TT, AW) */
	VTD_FR_ADDR_BEYOND = 0x04,    /* input address above AW / MGAW */
	VTD_FR_WRITE = 0x05,          /* no write permission */
	VTD_FR_READ = 0x06,           /* no read permission */
	VTD_FR_PTE_ACCESS = 0x07,     /* cannot read a paging entry */
	VTD_FR_ROOT_ACCESS = 0x08,    /* cannot read the root table */
	VTD_FR_CTX_ACCESS = 0x09,     /* cannot read the context table */
	VTD_FR_ROOT_RSVD = 0x0a,
	VTD_FR_CTX_RSVD = 0x0b,
	VTD_FR_PTE_RSVD = 0x0c,
	VTD_FR_CTX_TT_BLOCK = 0x0d,   /* request type blocked by context TT */
	VTD_FR_INTR_ADDR = 0x0e,      /* output address in the interrupt range */
	/* scalable mode */
	VTD_FR_SM_RTA_INV = 0x30,     /* invalid RTADDR */
	VTD_FR_SM_TTM_PASID = 0x31,   /* legacy TTM and a request with PASID */
	VTD_FR_SM_TTM_PRQ = 0x32,     /* legacy TTM and a page request */
	VTD_FR_SM_ROOT_ACCESS = 0x38,
	VTD_FR_SM_ROOT_P = 0x39,
	VTD_FR_SM_ROOT_RSVD = 0x3a,
	VTD_FR_SM_CTX_ACCESS = 0x40,
	VTD_FR_SM_CTX_P = 0x41,
	VTD_FR_SM_CTX_RSVD = 0x42,
	VTD_FR_SM_CTX_INV = 0x43,
	VTD_FR_SM_CTX_DTE = 0x44,     /* translated request and DTE=0 */
	VTD_FR_SM_CTX_PASIDE = 0x45,  /* request with PASID and PASIDE=0 */
	VTD_FR_SM_CTX_PASID_BIG = 0x46, /* PASID beyond the directory size */
	VTD_FR_SM_CTX_PRE = 0x47,     /* page request and PRE=0 */
	VTD_FR_SM_CTX_RIDPASID = 0x48,
	VTD_FR_SM_PDE_ACCESS = 0x50,
	VTD_FR_SM_PDE_P = 0x51,
	VTD_FR_SM_PDE_RSVD = 0x52,
	VTD_FR_SM_PE_ACCESS = 0x58,
	VTD_FR_SM_PE_P = 0x59,
	VTD_FR_SM_PE_RSVD = 0x5a,
	VTD_FR_SM_PE_INV = 0x5b,      /* invalid PASID entry (PGTT, AW, FLPM) */
	VTD_FR_SM_PE_ERE = 0x5c,
	VTD_FR_SM_PE_SRE = 0x5d,      /* supervisor request and SRE=0 */
	VTD_FR_SM_FL_ACCESS = 0x70,
	VTD_FR_SM_FL_P = 0x71,
	VTD_FR_SM_FL_RSVD = 0x72,
	VTD_FR_SM_FLPTR_INV = 0x73,   /* first-level root not accessible (QEMU: FSPTPTR invalid) */
	VTD_FR_SM_NEST_FL_BEYOND = 0x74, /* nested: FL entry points above SL width */
	VTD_FR_SM_NEST_FLROOT_R = 0x75,  /* nested: SL gives no read on the FL root */
	VTD_FR_SM_NEST_FL_R = 0x76,      /* nested: SL gives no read on an FL table */
	VTD_FR_SM_NEST_FL_W = 0x77,      /* nested: SL gives no write for an A/D update */
	VTD_FR_SM_SL_ACCESS = 0x78,
	VTD_FR_SM_SL_PERM = 0x79,     /* SL entry without the needed R/W */
	VTD_FR_SM_SL_RSVD = 0x7a,
	VTD_FR_SM_SLPTR_INV = 0x7b,
	VTD_FR_SM_SL_AD_NOSNOOP = 0x7c,
	VTD_FR_SM_NONCANON = 0x80,    /* FL input address not canonical */
	VTD_FR_SM_FL_US = 0x81,       /* user request to a supervisor page */
	VTD_FR_SM_EXEC = 0x82,
	VTD_FR_SM_ADDR_BEYOND = 0x83, /* input address above the table width */
	VTD_FR_SM_SL_OUT_BEYOND = 0x84,
	VTD_FR_SM_WRITE = 0x85,       /* final permission: no write */
	VTD_FR_SM_READ = 0x86,        /* final permission: no read */
	VTD_FR_SM_INTR_ADDR = 0x87,
	VTD_FR_SM_FL_AD_NOSNOOP = 0x90,
	VTD_FR_SM_FL_AD_FAIL = 0x91,  /* A/D update failed (QEMU SFS.10) */
};

/** Short static text for a fault reason code; "unknown" if none. */
const char *vtd_fault_reason_text(unsigned int code);

/* ====================================================================== */
/* Size and offset checks                                                 */
/* ====================================================================== */
static_assert(sizeof(struct vtd_root_entry) == 16, "root entry is 128 bits");
static_assert(sizeof(struct vtd_ctx_entry) == 16, "legacy context entry is 128 bits");
static_assert(sizeof(struct vtd_sm_ctx_entry) == 32, "SM context entry is 256 bits");
static_assert(sizeof(struct vtd_pasid_entry) == 64, "PASID entry is 512 bits");
static_assert(sizeof(struct vtd_qi_desc) == 32, "QI descriptor up to 256 bits");
static_assert(sizeof(struct vtd_prq_desc) == 32, "page request is 256 bits");
static_assert(4096 / sizeof(struct vtd_root_entry) == 256, "root table: one entry per bus");
static_assert(4096 / sizeof(struct vtd_sm_ctx_entry) == 128, "SM context table: half a bus");
static_assert(4096 / sizeof(struct vtd_pasid_entry) == 64, "PASID table: PASID[5:0]");
static_assert(VTD_REG_IQERCD + 8 == VTD_REG_IRTA, "register map");
static_assert(VTD_REG_PRS + 4 == VTD_REG_PECTL, "register map");

#endif
