/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Arm SMMUv3 hardware facts: register offsets and fields, stream table
 * entries, context descriptors, commands, events and page requests.  Facts
 * only (masks for FIELD_PREP / FIELD_GET); used by the driver and by the
 * built-in model.  Descriptors are arrays of little-endian uint64_t.
 *
 * Source: Arm IHI 0070 (SMMU architecture v3.x): 6.3 "Register formats",
 * 5.2 "Stream Table Entry", 5.4 "Context Descriptor", 4.x "Commands",
 * 7.3 "Event records", 8.1 "PRI queue"; the same positions as Linux
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h and QEMU hw/arm/smmuv3-internal.h.
 */
#ifndef UIOMMU_SMMU_REGS_H
#define UIOMMU_SMMU_REGS_H

#include <assert.h>

#include "core/bitfield.h"

/* Two 64 KiB register pages; EVTQ/PRIQ PROD and CONS live in page 1. */
#define SMMU_PAGE1     0x10000u
#define SMMU_REG_SIZE  0x20000u
#define SMMU_PEEK_SIZE 0x1000u

/* ---- page 0 (6.3) ---- */
#define SMMU_IDR0	     0x00u
#define SMMU_IDR0_S2P	     BIT_ULL(0)
#define SMMU_IDR0_S1P	     BIT_ULL(1)
#define SMMU_IDR0_TTF	     GENMASK_ULL(3, 2)
#define SMMU_IDR0_TTF_AA64   2u
#define SMMU_IDR0_COHACC     BIT_ULL(4)
#define SMMU_IDR0_BTM	     BIT_ULL(5)
#define SMMU_IDR0_HTTU	     GENMASK_ULL(7, 6)
#define SMMU_IDR0_HYP	     BIT_ULL(9)
#define SMMU_IDR0_ATS	     BIT_ULL(10)
#define SMMU_IDR0_ASID16     BIT_ULL(12)
#define SMMU_IDR0_MSI	     BIT_ULL(13)
#define SMMU_IDR0_SEV	     BIT_ULL(14)
#define SMMU_IDR0_PRI	     BIT_ULL(16)
#define SMMU_IDR0_VMID16     BIT_ULL(18)
#define SMMU_IDR0_CD2L	     BIT_ULL(19)
#define SMMU_IDR0_TTENDIAN   GENMASK_ULL(22, 21)
#define SMMU_IDR0_STALL	     GENMASK_ULL(25, 24) /* 0 stall+terminate, 1 terminate, 2 stall */
#define SMMU_IDR0_TERM_MODEL BIT_ULL(26)
#define SMMU_IDR0_ST_LEVEL   GENMASK_ULL(28, 27) /* 0 linear, 1 linear + 2-level */

#define SMMU_IDR1		0x04u
#define SMMU_IDR1_SIDSIZE	GENMASK_ULL(5, 0)
#define SMMU_IDR1_SSIDSIZE	GENMASK_ULL(10, 6)
#define SMMU_IDR1_PRIQS		GENMASK_ULL(15, 11)
#define SMMU_IDR1_EVTQS		GENMASK_ULL(20, 16)
#define SMMU_IDR1_CMDQS		GENMASK_ULL(25, 21)
#define SMMU_IDR1_REL		BIT_ULL(28)
#define SMMU_IDR1_QUEUES_PRESET BIT_ULL(29)
#define SMMU_IDR1_TABLES_PRESET BIT_ULL(30)
#define SMMU_IDR2		0x08u
#define SMMU_IDR3		0x0cu
#define SMMU_IDR3_HAD		BIT_ULL(2)
#define SMMU_IDR3_RIL		BIT_ULL(10)
#define SMMU_IDR4		0x10u
#define SMMU_IDR5		0x14u
#define SMMU_IDR5_OAS		GENMASK_ULL(2, 0) /* 32 36 40 42 44 48 52 */
#define SMMU_IDR5_GRAN4K	BIT_ULL(4)
#define SMMU_IDR5_GRAN16K	BIT_ULL(5)
#define SMMU_IDR5_GRAN64K	BIT_ULL(6)
#define SMMU_IDR5_VAX		GENMASK_ULL(11, 10)
#define SMMU_IDR5_STALL_MAX	GENMASK_ULL(31, 16)
#define SMMU_IIDR		0x18u
#define SMMU_IIDR_IMPLEMENTER	GENMASK_ULL(11, 0)
#define SMMU_IIDR_REVISION	GENMASK_ULL(15, 12)
#define SMMU_IIDR_VARIANT	GENMASK_ULL(19, 16)
#define SMMU_IIDR_PRODUCTID	GENMASK_ULL(31, 20)
#define SMMU_AIDR		0x1cu
#define SMMU_AIDR_MINOR		GENMASK_ULL(3, 0)
#define SMMU_AIDR_MAJOR		GENMASK_ULL(7, 4) /* 0: SMMUv3 */

#define SMMU_CR0		 0x20u
#define SMMU_CR0_SMMUEN		 BIT_ULL(0)
#define SMMU_CR0_PRIQEN		 BIT_ULL(1)
#define SMMU_CR0_EVTQEN		 BIT_ULL(2)
#define SMMU_CR0_CMDQEN		 BIT_ULL(3)
#define SMMU_CR0_ATSCHK		 BIT_ULL(4)
#define SMMU_CR0_MASK		 0x1fu
#define SMMU_CR0ACK		 0x24u
#define SMMU_CR1		 0x28u
#define SMMU_CR1_QUEUE_IC	 GENMASK_ULL(1, 0)
#define SMMU_CR1_QUEUE_OC	 GENMASK_ULL(3, 2)
#define SMMU_CR1_QUEUE_SH	 GENMASK_ULL(5, 4)
#define SMMU_CR1_TABLE_IC	 GENMASK_ULL(7, 6)
#define SMMU_CR1_TABLE_OC	 GENMASK_ULL(9, 8)
#define SMMU_CR1_TABLE_SH	 GENMASK_ULL(11, 10)
#define SMMU_CR1_CACHE_NC	 0u
#define SMMU_CR1_CACHE_WB	 1u
#define SMMU_SH_NSH		 0u
#define SMMU_SH_OSH		 2u
#define SMMU_SH_ISH		 3u
#define SMMU_CR2		 0x2cu
#define SMMU_CR2_E2H		 BIT_ULL(0)
#define SMMU_CR2_RECINVSID	 BIT_ULL(1)
#define SMMU_CR2_PTM		 BIT_ULL(2)
#define SMMU_STATUSR		 0x40u
#define SMMU_GBPA		 0x44u
#define SMMU_GBPA_MEMATTR	 GENMASK_ULL(3, 0)
#define SMMU_GBPA_MTCFG		 BIT_ULL(4)
#define SMMU_GBPA_ALLOCFG	 GENMASK_ULL(11, 8)
#define SMMU_GBPA_SHCFG		 GENMASK_ULL(13, 12)
#define SMMU_GBPA_PRIVCFG	 GENMASK_ULL(17, 16)
#define SMMU_GBPA_INSTCFG	 GENMASK_ULL(19, 18)
#define SMMU_GBPA_ABORT		 BIT_ULL(20)
#define SMMU_GBPA_UPDATE	 BIT_ULL(31)
#define SMMU_IRQ_CTRL		 0x50u
#define SMMU_IRQ_CTRLACK	 0x54u
#define SMMU_GERROR		 0x60u
#define SMMU_GERRORN		 0x64u
#define SMMU_GERROR_CMDQ_ERR	 BIT_ULL(0)
#define SMMU_GERROR_EVTQ_ABT_ERR BIT_ULL(2)
#define SMMU_GERROR_PRIQ_ABT_ERR BIT_ULL(3)
#define SMMU_GERROR_SFM_ERR	 BIT_ULL(8)
#define SMMU_GERROR_MASK	 0x1fdu

#define SMMU_STRTAB_BASE	 0x80u
#define SMMU_STRTAB_BASE_ADDR	 GENMASK_ULL(51, 6)
#define SMMU_STRTAB_BASE_RA	 BIT_ULL(62)
#define SMMU_STRTAB_BASE_CFG	 0x88u
#define SMMU_STRTAB_CFG_LOG2SIZE GENMASK_ULL(5, 0)
#define SMMU_STRTAB_CFG_SPLIT	 GENMASK_ULL(10, 6)
#define SMMU_STRTAB_CFG_FMT	 GENMASK_ULL(17, 16) /* 0 linear, 1 2-level */

/* Queues: BASE (64-bit), PROD and CONS (32-bit). */
#define SMMU_CMDQ_BASE		 0x90u
#define SMMU_CMDQ_PROD		 0x98u
#define SMMU_CMDQ_CONS		 0x9cu
#define SMMU_EVTQ_BASE		 0xa0u
#define SMMU_EVTQ_PROD		 (SMMU_PAGE1 + 0xa8u)
#define SMMU_EVTQ_CONS		 (SMMU_PAGE1 + 0xacu)
#define SMMU_PRIQ_BASE		 0xc0u
#define SMMU_PRIQ_PROD		 (SMMU_PAGE1 + 0xc8u)
#define SMMU_PRIQ_CONS		 (SMMU_PAGE1 + 0xccu)
#define SMMU_Q_BASE_LOG2SIZE	 GENMASK_ULL(4, 0)
#define SMMU_Q_BASE_ADDR	 GENMASK_ULL(51, 5)
#define SMMU_Q_BASE_RWA		 BIT_ULL(62)
#define SMMU_Q_OVF		 BIT_ULL(31) /* PROD: overflow; CONS: its acknowledgement */
#define SMMU_CMDQ_CONS_ERR	 GENMASK_ULL(30, 24)
#define SMMU_CERROR_NONE	 0u
#define SMMU_CERROR_ILL		 1u
#define SMMU_CERROR_ABT		 2u
#define SMMU_CERROR_ATC_INV_SYNC 3u
/* Queue positions: index in the low log2size bits, the wrap bit above. */
#define SMMU_Q_IDX(p, shift) ((p) & ((1u << (shift)) - 1u))
#define SMMU_Q_WRP(p, shift) ((p) & (1u << (shift)))

/* ---- stream table (5.2) ---- */
#define SMMU_STE_DWORDS	     8u
#define SMMU_STE_SIZE	     64u
#define SMMU_L1STD_SPAN	     GENMASK_ULL(4, 0) /* 0: invalid; else 2^(SPAN-1) STEs */
#define SMMU_L1STD_L2PTR     GENMASK_ULL(51, 6)
#define SMMU_STE0_V	     BIT_ULL(0)
#define SMMU_STE0_CONFIG     GENMASK_ULL(3, 1)
#define SMMU_STE_CFG_ABORT   0u
#define SMMU_STE_CFG_BYPASS  4u
#define SMMU_STE_CFG_S1	     5u
#define SMMU_STE_CFG_S2	     6u
#define SMMU_STE_CFG_NESTED  7u
#define SMMU_STE0_S1FMT	     GENMASK_ULL(5, 4)
#define SMMU_S1FMT_LINEAR    0u
#define SMMU_S1FMT_4K_L2     1u /* 2-level CD table, 4 KiB leaves: 64 CDs each */
#define SMMU_S1FMT_64K_L2    2u /* 64 KiB leaves: 1024 CDs each */
#define SMMU_STE0_S1CTXPTR   GENMASK_ULL(51, 6)
#define SMMU_STE0_S1CDMAX    GENMASK_ULL(63, 59)
#define SMMU_STE1_S1DSS	     GENMASK_ULL(1, 0)
#define SMMU_S1DSS_TERMINATE 0u
#define SMMU_S1DSS_BYPASS    1u
#define SMMU_S1DSS_SSID0     2u
#define SMMU_STE1_S1CIR	     GENMASK_ULL(3, 2)
#define SMMU_STE1_S1COR	     GENMASK_ULL(5, 4)
#define SMMU_STE1_S1CSH	     GENMASK_ULL(7, 6)
#define SMMU_STE1_S1STALLD   BIT_ULL(27)
#define SMMU_STE1_EATS	     GENMASK_ULL(29, 28)
#define SMMU_EATS_ABT	     0u /* STE.EATS: ATS translation requests abort */
#define SMMU_EATS_TRANS	     1u /* full ATS */
#define SMMU_STE1_STRW	     GENMASK_ULL(31, 30)
#define SMMU_STE1_SHCFG	     GENMASK_ULL(45, 44)
#define SMMU_STE2_S2VMID     GENMASK_ULL(15, 0)
#define SMMU_STE2_VTCR	     GENMASK_ULL(50, 32) /* VTCR_EL2 image bits 18:0 */
#define SMMU_STE2_S2AA64     BIT_ULL(51)
#define SMMU_STE2_S2ENDI     BIT_ULL(52)
#define SMMU_STE2_S2PTW	     BIT_ULL(54)
#define SMMU_STE2_S2S	     BIT_ULL(57)
#define SMMU_STE2_S2R	     BIT_ULL(58)
#define SMMU_STE3_S2TTB	     GENMASK_ULL(51, 4)
/* The STE bits a guest owns in a nested configuration (iommufd's vSTE
 * rules, IOMMU_HWPT_DATA_ARM_SMMUV3: word 0 V, Config, S1Fmt,
 * S1ContextPtr, S1CDMax; word 1 S1DSS, S1CIR, S1COR, S1CSH, S1STALLD,
 * EATS).  Everything else of a guest STE must be zero. */
#define SMMU_VSTE0_ALLOWED \
	(SMMU_STE0_V | SMMU_STE0_CONFIG | SMMU_STE0_S1FMT | SMMU_STE0_S1CTXPTR | SMMU_STE0_S1CDMAX)
#define SMMU_VSTE1_ALLOWED                                                       \
	(SMMU_STE1_S1DSS | SMMU_STE1_S1CIR | SMMU_STE1_S1COR | SMMU_STE1_S1CSH | \
	 SMMU_STE1_S1STALLD | SMMU_STE1_EATS)

/* ---- context descriptors (5.4) ---- */
#define SMMU_CD_DWORDS	8u
#define SMMU_CD_SIZE	64u
#define SMMU_L1CD_V	BIT_ULL(0)
#define SMMU_L1CD_L2PTR GENMASK_ULL(51, 12)
#define SMMU_CD0_T0SZ	GENMASK_ULL(5, 0)
#define SMMU_CD0_TG0	GENMASK_ULL(7, 6) /* 0: 4 KiB */
#define SMMU_CD0_IRGN0	GENMASK_ULL(9, 8)
#define SMMU_CD0_ORGN0	GENMASK_ULL(11, 10)
#define SMMU_CD0_SH0	GENMASK_ULL(13, 12)
#define SMMU_CD0_EPD0	BIT_ULL(14)
#define SMMU_CD0_ENDI	BIT_ULL(15)
#define SMMU_CD0_EPD1	BIT_ULL(30)
#define SMMU_CD0_V	BIT_ULL(31)
#define SMMU_CD0_IPS	GENMASK_ULL(34, 32)
#define SMMU_CD0_AFFD	BIT_ULL(35)
#define SMMU_CD0_AA64	BIT_ULL(41)
#define SMMU_CD0_HD	BIT_ULL(42)
#define SMMU_CD0_HA	BIT_ULL(43)
#define SMMU_CD0_S	BIT_ULL(44)
#define SMMU_CD0_R	BIT_ULL(45)
#define SMMU_CD0_A	BIT_ULL(46)
#define SMMU_CD0_ASET	BIT_ULL(47)
#define SMMU_CD0_ASID	GENMASK_ULL(63, 48)
#define SMMU_CD1_TTB0	GENMASK_ULL(51, 4)
#define SMMU_CD3_MAIR	GENMASK_ULL(63, 0)

/* ---- commands (4.x): two dwords ---- */
#define SMMU_CMD_DWORDS	      2u
#define SMMU_CMD0_OP	      GENMASK_ULL(7, 0)
#define SMMU_CMD0_SSV	      BIT_ULL(11)
#define SMMU_CMD0_SSID	      GENMASK_ULL(31, 12)
#define SMMU_CMD0_SID	      GENMASK_ULL(63, 32)
#define SMMU_CMD1_LEAF	      BIT_ULL(0)
#define SMMU_CMD1_RANGE	      GENMASK_ULL(4, 0) /* CFGI_STE_RANGE: 2^(RANGE+1) StreamIDs */
#define SMMU_CMD0_TLBI_NUM    GENMASK_ULL(16, 12)
#define SMMU_CMD0_TLBI_SCALE  GENMASK_ULL(24, 20)
#define SMMU_CMD0_VMID	      GENMASK_ULL(47, 32)
#define SMMU_CMD0_ASID	      GENMASK_ULL(63, 48)
#define SMMU_CMD1_TTL	      GENMASK_ULL(9, 8)
#define SMMU_CMD1_TG	      GENMASK_ULL(11, 10) /* 0: no range; 1: 4 KiB */
#define SMMU_CMD1_VA	      GENMASK_ULL(63, 12)
#define SMMU_CMD1_IPA	      GENMASK_ULL(51, 12)
#define SMMU_CMD0_ATC_GLOBAL  BIT_ULL(9)
#define SMMU_CMD1_ATC_SIZE    GENMASK_ULL(5, 0)
#define SMMU_CMD1_PRI_GRPID   GENMASK_ULL(8, 0)
#define SMMU_CMD1_PRI_RESP    GENMASK_ULL(13, 12) /* 0 deny, 1 fail, 2 success */
#define SMMU_PRI_RESP_DENY    0u		  /* PRI_RESP.Resp: Invalid Request */
#define SMMU_PRI_RESP_FAIL    1u		  /* Response Failure */
#define SMMU_PRI_RESP_SUCCESS 2u
#define SMMU_CMD0_RESUME_RESP GENMASK_ULL(13, 12) /* 0 terminate, 1 retry, 2 abort */
#define SMMU_CMD1_RESUME_STAG GENMASK_ULL(15, 0)
#define SMMU_CMD0_SYNC_CS     GENMASK_ULL(13, 12) /* 0 none, 1 IRQ, 2 SEV */

#define SMMU_OP_PREFETCH_CFG   0x01u
#define SMMU_OP_CFGI_STE       0x03u
#define SMMU_OP_CFGI_STE_RANGE 0x04u /* RANGE 31: CFGI_ALL */
#define SMMU_OP_CFGI_CD	       0x05u
#define SMMU_OP_CFGI_CD_ALL    0x06u
#define SMMU_OP_TLBI_NH_ALL    0x10u
#define SMMU_OP_TLBI_NH_ASID   0x11u
#define SMMU_OP_TLBI_NH_VA     0x12u
#define SMMU_OP_TLBI_NH_VAA    0x13u
#define SMMU_OP_TLBI_S12_VMALL 0x28u
#define SMMU_OP_TLBI_S2_IPA    0x2au
#define SMMU_OP_TLBI_NSNH_ALL  0x30u
#define SMMU_OP_ATC_INV	       0x40u
#define SMMU_OP_PRI_RESP       0x41u
#define SMMU_OP_RESUME	       0x44u
#define SMMU_OP_CMD_SYNC       0x46u

/* ---- event records (7.3): four dwords ---- */
#define SMMU_EVT_DWORDS	  4u
#define SMMU_EVT0_ID	  GENMASK_ULL(7, 0)
#define SMMU_EVT0_SSV	  BIT_ULL(11)
#define SMMU_EVT0_SSID	  GENMASK_ULL(31, 12)
#define SMMU_EVT0_SID	  GENMASK_ULL(63, 32)
#define SMMU_EVT1_STAG	  GENMASK_ULL(15, 0)
#define SMMU_EVT1_STALL	  BIT_ULL(31)
#define SMMU_EVT1_PNU	  BIT_ULL(33)
#define SMMU_EVT1_IND	  BIT_ULL(34)
#define SMMU_EVT1_RNW	  BIT_ULL(35) /* 1: read */
#define SMMU_EVT1_S2	  BIT_ULL(39)
#define SMMU_EVT1_CLASS	  GENMASK_ULL(41, 40) /* 0 CD, 1 TT, 2 IN */
#define SMMU_EVT_CLASS_CD 0u
#define SMMU_EVT_CLASS_TT 1u
#define SMMU_EVT_CLASS_IN 2u
#define SMMU_EVT3_IPA	  GENMASK_ULL(51, 12)
#define SMMU_EVT3_FETCH	  GENMASK_ULL(51, 3) /* F_*_FETCH: the fetch address */

#define SMMU_EVT_F_UUT		   0x01u
#define SMMU_EVT_C_BAD_STREAMID	   0x02u
#define SMMU_EVT_F_STE_FETCH	   0x03u
#define SMMU_EVT_C_BAD_STE	   0x04u
#define SMMU_EVT_F_STREAM_DISABLED 0x06u
#define SMMU_EVT_C_BAD_SUBSTREAMID 0x08u
#define SMMU_EVT_F_CD_FETCH	   0x09u
#define SMMU_EVT_C_BAD_CD	   0x0au
#define SMMU_EVT_F_WALK_EABT	   0x0bu
#define SMMU_EVT_F_TRANSLATION	   0x10u
#define SMMU_EVT_F_ADDR_SIZE	   0x11u
#define SMMU_EVT_F_ACCESS	   0x12u
#define SMMU_EVT_F_PERMISSION	   0x13u
#define SMMU_EVT_F_TLB_CONFLICT	   0x20u
#define SMMU_EVT_F_CFG_CONFLICT	   0x21u
#define SMMU_EVT_E_PAGE_REQUEST	   0x24u

/* ---- PRI queue records (8.1): two dwords ---- */
#define SMMU_PRIQ_DWORDS 2u
#define SMMU_PRIQ0_SID	 GENMASK_ULL(31, 0)
#define SMMU_PRIQ0_SSID	 GENMASK_ULL(51, 32)
#define SMMU_PRIQ0_PRIV	 BIT_ULL(58)
#define SMMU_PRIQ0_EXEC	 BIT_ULL(59)
#define SMMU_PRIQ0_READ	 BIT_ULL(60)
#define SMMU_PRIQ0_WRITE BIT_ULL(61)
#define SMMU_PRIQ0_LAST	 BIT_ULL(62)
#define SMMU_PRIQ0_SSV	 BIT_ULL(63)
#define SMMU_PRIQ1_GRPID GENMASK_ULL(8, 0)
#define SMMU_PRIQ1_ADDR	 GENMASK_ULL(63, 12)

/* IDR5.OAS encoding -> bits; 0 for a reserved value. */
static inline unsigned int smmu_oas_bits(unsigned int enc)
{
	static const unsigned char b[8] = {32, 36, 40, 42, 44, 48, 52, 0};

	return b[enc & 7u];
}

/* Text of an event ID (smmu_text.c); "unknown event" when not one. */
const char *smmu_event_text(unsigned int id);
/* Text of a CMDQ_CONS.ERR code. */
const char *smmu_cerror_text(unsigned int err);

static_assert(SMMU_STE_SIZE == SMMU_STE_DWORDS * 8, "STE is 64 bytes");
static_assert(SMMU_CD_SIZE == SMMU_CD_DWORDS * 8, "CD is 64 bytes");

#endif
