/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * uiommu: userspace IOMMU driver framework.  Public object model.
 *
 * The model follows Linux iommufd:
 *  - a **context** owns everything and the memory it lives in;
 *  - a **unit** is one IOMMU instance (a VT-d DRHD, an SMMUv3, an AMD-Vi IOMMU);
 *  - a **device** is an endpoint behind one unit, known by its PCI address
 *    and its ID on that unit (requester ID, StreamID or DeviceID);
 *  - an **IOAS** is an I/O address space: map/unmap/copy, allowed and
 *    reserved IOVA ranges;
 *  - a **HWPT** is one page table in one hardware format, which several
 *    compatible units can use at once, each under its own domain ID / VMID;
 *    a nest-parent HWPT (stage 2) can carry stage-1 children;
 *  - a **vIOMMU** holds per-VM data (such as the VMID) over a nest parent.
 *
 * Objects have 32-bit IDs (unique in a context, never 0) so that tools can
 * name them across processes; attach takes the ID of an IOAS or a HWPT.
 *
 * Errors are negative errno values.  A call that fails changes nothing.
 * Flags and reserved fields follow iommufd: an undefined flag bit is
 * -EOPNOTSUPP, a field the call does not use that is not zero -EINVAL,
 * both checked before anything changes.
 *
 * Thread safety: control-path calls on one context are serialised by the
 * context lock; uiommu_poll() may run on one lcore per context.
 */
#ifndef UIOMMU_H
#define UIOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uiommu/uiommu_env.h"
#include "uiommu/uiommu_family.h"
#include "uiommu/uiommu_version.h"

#ifdef __cplusplus
extern "C" {
#endif

struct uiommu_ctx;
struct uiommu_unit;
struct uiommu_device;
struct uiommu_ioas;
struct uiommu_hwpt;
struct uiommu_viommu;

/** No PASID: the request-without-PASID (RID) attachment of a device. */
#define UIOMMU_NO_PASID UINT32_MAX
/** pt_id for uiommu_device_attach/replace: identity (pass-through), no
 *  table.  Needs unit capability pass_through. */
#define UIOMMU_PT_IDENTITY UINT32_MAX

/* ------------------------------------------------------------------ */
/** @name Context */
/**@{*/

/**
 * Create a context, initialising the environment (EAL when the DPDK backend
 * is used and EAL is not yet up; or the shared arena).  With a shared
 * backend and an existing state of that name, the state is adopted: every
 * object created by the earlier process is there again.  Any number of
 * processes may have the same state adopted at once: every call that
 * reads or changes it takes the state's lock, so each sees the state
 * before or after another's call, never in between.
 *
 * State files live in DIR/uiommu-EUID/NAME (DIR: /dev/shm, or the
 * hugetlbfs mount), a directory of mode 0700; a file that is a symlink, is
 * not owned by the effective user, is writable by group or others, or has
 * another name is refused (-EPERM), and so is a file whose contents do not
 * check out (-EUCLEAN, with a log line saying what is wrong).
 *
 * @param opts  NULL for defaults (DPDK backend, EAL with --no-huge).
 * @param out   the context.
 * @return 0, -ENOMEM, -EINVAL (bad name, UIOMMU_ARENA_BASE or options),
 *         -ENOENT (shared state missing and !opts->create), -EPERM (refused
 *         file or directory), -EUCLEAN (corrupt state), -EADDRINUSE (the
 *         arena's fixed address is taken in this process), -EBUSY (this
 *         process already has a context).
 */
int uiommu_ctx_create(const struct uiommu_env_opts *opts, struct uiommu_ctx **out);

/**
 * Tear down every object (detach devices, give units back to firmware
 * defaults, free tables) and, for a shared backend, delete the state.
 */
void uiommu_ctx_destroy(struct uiommu_ctx *ctx);

/**
 * Leave the context without tearing anything down: a shared state stays
 * for the next process to adopt; hardware keeps translating.
 */
void uiommu_ctx_detach(struct uiommu_ctx *ctx);

/** True when the context was adopted from an earlier process. */
bool uiommu_ctx_adopted(const struct uiommu_ctx *ctx);

/**
 * Hold the state's lock across several calls, so that other processes see
 * all of them or none of them; waits at most @timeout_ms (UINT32_MAX: no
 * bound).  Nests: each successful call needs one uiommu_ctx_unlock().
 * Every other call takes the lock itself; this is for callers that want
 * a bounded wait or a consistent view across calls (uiommuctl holds it for
 * a whole command).  A holder that died holding the lock (kill -9) is
 * detected by the kernel-held session lock of its state file, not by pid.
 * @return 0, -ETIMEDOUT (*holder_pid, if not NULL: the holder's pid when
 *         known, else 0), -EINVAL.
 */
int uiommu_ctx_lock(struct uiommu_ctx *ctx, uint32_t timeout_ms, uint32_t *holder_pid);
/** Release one level of uiommu_ctx_lock(). */
void uiommu_ctx_unlock(struct uiommu_ctx *ctx);

/**
 * Begin a transaction on a shared state: take its lock (waiting at most
 * @timeout_ms, as uiommu_ctx_lock) and save an undo image of the whole
 * state.  Every call until uiommu_txn_commit() is then all or nothing: if
 * this process dies first (kill -9 included), the next process that takes
 * the lock puts the state back as it was, brings the hardware in line
 * (queues restarted, every IOMMU cache invalidated) and gives back what the
 * transaction allocated; uiommu_txn_abort() does the same on purpose.
 * The image costs a copy of the state (about a millisecond for a model
 * state): for control-path sequences, not for each map on the data path.
 * Transactions do not nest; a thread that holds the lock may begin one.
 * A unit taken over (or given back) inside a transaction has its hardware
 * registers changed, which no rollback undoes: add and remove units
 * outside transactions.
 * @return 0, -ETIMEDOUT, -EOPNOTSUPP (a private DPDK-backed arena),
 *         -EBUSY (one is open), -EINVAL, -errno (the image could not be saved).
 */
int uiommu_txn_begin(struct uiommu_ctx *ctx, uint32_t timeout_ms, uint32_t *holder_pid);
/** Keep every change since uiommu_txn_begin() and release the lock. */
int uiommu_txn_commit(struct uiommu_ctx *ctx);
/** Undo every change since uiommu_txn_begin() and release the lock. */
int uiommu_txn_abort(struct uiommu_ctx *ctx);

/**@}*/
/* ------------------------------------------------------------------ */
/** @name Units */
/**@{*/

/** How a unit's registers are reached. */
enum uiommu_unit_access {
	/** Map the physical register base through /dev/mem (or a UIO map). */
	UIOMMU_UNIT_MMIO = 0,
	/** The built-in software model of the family. */
	UIOMMU_UNIT_MODEL = 1,
};

/** Description of a unit to take over. */
struct uiommu_unit_desc {
	enum uiommu_family family;	/**< which driver takes the unit over */
	enum uiommu_unit_access access; /**< hardware registers or the built-in model */
	uint64_t reg_base;     /**< physical register base (MMIO) */
	uint64_t reg_size;     /**< 0: the family default */
	uint16_t segment;      /**< PCI segment */
	int numa_node;	       /**< proximity domain, -1 unknown */
	bool force;	       /**< take over even if translation is enabled */
	const char *model_cfg; /**< model: its settings "key=value,...", docs/models.md
				    (NULL: defaults) */
	const char *uio_path;  /**< MMIO: map through this UIO device (/dev/uioN) or PCI
				    resource file instead of /dev/mem */
	uint32_t flags;	       /**< UIOMMU_UNIT_F_* */
	int reg_fd;	       /**< MMIO with UIOMMU_UNIT_F_REG_FD: map through this open
				    file (a VFIO device fd) ... */
	uint64_t reg_fd_offset; /**< ... at this offset (its region's, page aligned) */
	/** Family-specific options, NULL for the defaults: a struct of the
	 *  unit's family whose first member is that family's number
	 *  (struct uiommu_vtd_unit_opts for VT-d). */
	const void *family_opts;
};

/** Take the unit over with translation still off: tables, queues and fault
 *  reporting come up, devices can be attached (or put in pass-through),
 *  and uiommu_unit_enable() then turns translation on.  So a unit that
 *  serves devices still in use by others (the kernel's disk) never blocks
 *  them, not even for a moment.  -EOPNOTSUPP when the family cannot
 *  (its unit_enable hook is missing). */
#define UIOMMU_UNIT_F_DEFER_ENABLE (1u << 1)

/** Map the registers through desc.reg_fd at desc.reg_fd_offset (a VFIO
 *  region).  The descriptor is the calling process's: such a unit cannot
 *  be in a shared state (other processes could not map it): -EOPNOTSUPP
 *  there.  uiommu_unit_peek() takes it too. */
#define UIOMMU_UNIT_F_REG_FD (1u << 0)

/**
 * VT-d options of a unit (uiommu_unit_desc.family_opts).  Where a DRHD
 * offers both, choose the older mechanism: the legacy root/context table
 * format instead of scalable mode (ignore ECAP.SMTS), register-based
 * invalidation (CCMD / IOTLB registers) instead of the invalidation queue
 * (scalable mode needs the queue: NO_QI implies LEGACY).  A built-in
 * model unit can also be configured without them (docs/models.md:
 * smts=0, qi=0).
 */
struct uiommu_vtd_unit_opts {
	enum uiommu_family family; /**< UIOMMU_FAMILY_VTD (the tag: checked) */
	uint32_t flags;		   /**< UIOMMU_VTD_OPT_*; other bits: -EOPNOTSUPP */
};
#define UIOMMU_VTD_OPT_LEGACY (1u << 0) /**< legacy table format, even with ECAP.SMTS */
#define UIOMMU_VTD_OPT_NO_QI  (1u << 1) /**< register-based invalidation, even with ECAP.QI */

/**
 * uiommu_amdvi_unit_opts.flags: accept a device table smaller than the
 * 65536 DeviceIDs (down to 256) when 2 MiB of contiguous DMA memory is
 * not to be had.  Device Table Base.Size then tells the unit, and devices
 * with larger IDs are refused at uiommu_device_add; but a requester the
 * driver does not know with a larger DeviceID makes the unit read beyond
 * the table.  Without the flag such a unit is refused (-ENOMEM, logged).
 */
#define UIOMMU_AMDVI_F_SMALL_DEVTAB (1u << 0)

/**
 * AMD-Vi options of a unit (uiommu_unit_desc.family_opts).
 */
struct uiommu_amdvi_unit_opts {
	enum uiommu_family family; /**< UIOMMU_FAMILY_AMDVI (the tag: checked) */
	uint32_t flags;		   /**< UIOMMU_AMDVI_F_*; other bits -EOPNOTSUPP */
	/** Levels (DTE Mode) of the v1 tables the unit's HWPTs get: 3..6
	 *  (up to EFR.HATS: 4 + HATS), 0 for the default (4; 3 when the
	 *  unit cannot walk 4).  Anything else -EINVAL. */
	uint32_t levels;
};

/** Page sizes, widths and features of a unit. */
struct uiommu_unit_caps {
	enum uiommu_family family; /**< the unit's family */
	uint64_t pgsize_bitmap; /**< leaf sizes the default (stage-2/second-level) table can use */
	uint64_t s1_pgsize_bitmap; /**< leaf sizes for stage-1/first-level tables (0: none) */
	uint32_t ias;		   /**< largest input (IOVA) width, bits */
	uint32_t oas;		   /**< output (physical) width, bits */
	uint32_t pasid_bits;	   /**< 0: no PASID support */
	uint32_t num_domains;	   /**< domain IDs / VMIDs available */
	bool nesting;		   /**< stage-1 over stage-2 */
	bool stage1;		   /**< first-level / stage-1 tables */
	bool stage2;		   /**< second-level / stage-2 tables */
	bool coherent;		   /**< table walks snoop CPU caches */
	bool queued_inv;	   /**< command / invalidation queue present */
	bool page_requests;	   /**< page request queue (PRI/PRS) */
	bool pass_through;	   /**< identity without a table */
	bool ats;		   /**< device-TLB invalidation supported */
};

/** Kind of a reserved IOVA range. */
enum uiommu_resv_kind {
	UIOMMU_RESV_MSI = 1,	  /**< interrupt window (x86: 0xfee00000-0xfeefffff) */
	UIOMMU_RESV_FIRMWARE = 2, /**< RMRR / IVMD / RMR: firmware-owned memory */
	UIOMMU_RESV_APERTURE = 3, /**< above the attached tables' input width */
	UIOMMU_RESV_USER = 4,
};

/** One reserved IOVA range of a unit (uiommu_unit_resv_regions()). */
struct uiommu_resv_region {
	uint64_t start; /**< first IOVA */
	uint64_t last; /**< inclusive */
	enum uiommu_resv_kind kind; /**< where the reservation comes from */
};

/**
 * Take over a unit and add it to the context.  For MMIO units the driver
 * maps the registers, checks that nobody else has translation enabled
 * (unless desc->force), and brings up its tables and queues.
 * @return 0, -ENODEV (not this family / no such hardware), -EBUSY
 * (translation enabled by someone else), -EPERM (cannot map), -ENOMEM,
 * -EOPNOTSUPP (unknown desc->flags or family-option flag bits, the family
 * is not built into the library, or REG_FD on a shared state), -EINVAL
 * (unknown desc->access, family_opts of another family, REG_FD on a model
 * unit, a bad model_cfg), -ENAMETOOLONG (uio_path).
 */
int uiommu_unit_add(struct uiommu_ctx *ctx, const struct uiommu_unit_desc *desc,
		    struct uiommu_unit **out);
/**
 * Turn translation on for a unit added with UIOMMU_UNIT_F_DEFER_ENABLE
 * (after its devices were attached).  A unit already translating: 0.
 * @return 0, -EINVAL, -EOPNOTSUPP (the family cannot), -ETIMEDOUT (the
 *         hardware did not follow; translation stays off).
 */
int uiommu_unit_enable(struct uiommu_unit *unit);
/** Give a unit back (translation off, tables freed).  -EBUSY while devices
 *  are attached through it. */
int uiommu_unit_remove(struct uiommu_unit *unit);
/** Fill @caps with the unit's page sizes, widths and features (what its
 *  registers advertise, reduced to what the driver uses). */
void uiommu_unit_get_caps(const struct uiommu_unit *unit, struct uiommu_unit_caps *caps);
/** The unit's object ID (never 0). */
uint32_t uiommu_unit_id(const struct uiommu_unit *unit);
/** Add a firmware-reserved region that applies to every device of the unit
 *  (or to one requester ID when @rid >= 0). */
int uiommu_unit_add_resv(struct uiommu_unit *unit, int32_t rid, uint64_t start, uint64_t last,
			 enum uiommu_resv_kind kind);
/** Reserved regions of a unit; returns the total count, fills up to @max. */
uint32_t uiommu_unit_resv_regions(const struct uiommu_unit *unit, struct uiommu_resv_region *out,
				  uint32_t max);
/** Look up a unit by ID.  NULL if none. */
struct uiommu_unit *uiommu_unit_get(struct uiommu_ctx *ctx, uint32_t id);
/** Iterate: the unit after @prev (NULL: the first). */
struct uiommu_unit *uiommu_unit_next(struct uiommu_ctx *ctx, struct uiommu_unit *prev);

/** Raw hardware information (iommufd IOMMU_GET_HW_INFO). */
struct uiommu_hw_info {
	enum uiommu_family family; /**< which member of @p u is valid */
	/** The family's identification registers. */
	union {
		/** VT-d (family UIOMMU_FAMILY_VTD). */
		struct {
			uint32_t ver;  /**< VER_REG */
			uint64_t cap;  /**< CAP_REG */
			uint64_t ecap; /**< ECAP_REG */
			bool scalable; /**< scalable mode in use (else the legacy root/context
					    format); a taken-over unit only */
		} vtd;
		/** Arm SMMUv3 (iommufd's iommu_hw_info_arm_smmuv3 and more). */
		struct {
			uint32_t idr[6]; /**< IDR0..IDR5 as read */
			uint32_t iidr;	 /**< IIDR */
			uint32_t aidr;	 /**< AIDR */
			bool st_2lvl;	 /**< the driver uses a 2-level stream table (taken-over unit) */
			uint32_t sid_bits; /**< StreamID bits of the stream table it built */
		} smmuv3;
		/** AMD-Vi: the feature registers, and (as read at take-over or
		 *  peek) the control and base registers. */
		struct {
			uint64_t efr;	  /**< Extended Feature Register (MMIO 0x30) */
			uint64_t efr2;	  /**< Extended Feature 2 Register (MMIO 0x1a0) */
			uint64_t control; /**< IOMMU Control (MMIO 0x18) */
			uint64_t devtab;  /**< Device Table Base Address (MMIO 0x00) */
			uint64_t cmdbuf;  /**< Command Buffer Base Address (MMIO 0x08) */
			uint64_t evtlog;  /**< Event Log Base Address (MMIO 0x10) */
			uint64_t pprlog;  /**< PPR Log Base Address (MMIO 0x38) */
			uint32_t levels;  /**< v1 table levels new tables get (a taken-over unit) */
		} amdvi;
	} u;
};
/** Raw identification registers of a unit taken over (iommufd
 *  IOMMU_GET_HW_INFO).  @return 0, -EINVAL. */
int uiommu_unit_hw_info(const struct uiommu_unit *unit, struct uiommu_hw_info *info);

/** What a unit's registers say, read without taking it over. */
struct uiommu_unit_peek {
	struct uiommu_hw_info info; /**< identification/capability registers */
	uint64_t status;	    /**< the family's global status register, as read
				     *   (uiommu_unit_peek_decode names and decodes it) */
	bool in_use;		    /**< translation / queue / remapping already on */
	char text[320];		    /**< the capabilities decoded, in words */
};
/**
 * Map a unit's registers read-only, decode them and unmap (for probing a
 * machine before taking anything over).  Needs root for /dev/mem.
 * @return 0, -EPERM (cannot map), -EINVAL (bad base), -ENODEV (nothing
 * answers there), -EOPNOTSUPP (family not built in, no peek for it, or
 * not an MMIO description).
 */
int uiommu_unit_peek(const struct uiommu_unit_desc *desc, struct uiommu_unit_peek *out);

/** What uiommu_hw_info_decode() / uiommu_unit_peek_decode() describe. */
enum uiommu_reg_kind {
	UIOMMU_REG_ID = 1, /**< identification / capability register (in uiommu_hw_info) */
	UIOMMU_REG_STATUS, /**< status register (a peek's uiommu_unit_peek.status) */
	/** Not a register: a family-specific capability or mode in use
	 *  (uiommu_hw_info of a unit taken over), value 0 or 1. */
	UIOMMU_REG_FEATURE,
};
/** One field of a register. */
struct uiommu_reg_field {
	const char *name; /**< as the specification spells it ("SAGAW") */
	uint64_t value;	  /**< what it encodes (a width-minus-one field: the width) */
	bool flag;	  /**< a single bit: shown by name when set */
};
/** One register of a unit (or one feature), as its family's driver reads it. */
struct uiommu_reg_view {
	enum uiommu_reg_kind kind; /**< register, status register or feature */
	const char *name;     /**< as the specification spells it ("CAP"); a feature's name */
	uint32_t offset;      /**< byte offset in the register window */
	uint32_t width;	      /**< bits: 32 or 64 */
	uint64_t value;	      /**< raw value */
	const char *text;     /**< the value as the family writes it ("1.0"), NULL: hex */
	uint32_t hex_digits;  /**< digits the raw value is shown with in hex (0: as few as needed) */
	const struct uiommu_reg_field *fields; /**< its fields, in register order */
	uint32_t nr_fields;		       /**< entries in @p fields */
};
/** Called once per register / feature, in the family's order. */
typedef void (*uiommu_reg_cb)(void *arg, const struct uiommu_reg_view *r);
/**
 * Decode a unit's hardware information (uiommu_unit_hw_info) with its
 * family's register facts: each identification register and its fields,
 * then the family-specific capabilities in use (UIOMMU_REG_FEATURE).
 * @return 0, -EINVAL, -EOPNOTSUPP (no decoder for that family here).
 */
int uiommu_hw_info_decode(const struct uiommu_hw_info *info, uiommu_reg_cb cb, void *arg);
/** The same for what uiommu_unit_peek() read: identification registers,
 *  then the status register (UIOMMU_REG_STATUS). */
int uiommu_unit_peek_decode(const struct uiommu_unit_peek *pk, uiommu_reg_cb cb, void *arg);

/**@}*/
/* ------------------------------------------------------------------ */
/** @name Devices */
/**@{*/

/** Description of an endpoint behind a unit (uiommu_device_add()). */
struct uiommu_device_desc {
	uint16_t segment;    /**< PCI segment */
	uint8_t bus;	     /**< PCI bus */
	uint8_t devfn;	     /**< PCI device << 3 | function */
	uint32_t hw_id;	     /**< ID on the unit: RID (VT-d/AMD DeviceID) or StreamID */
	uint32_t pasid_bits; /**< device PASID capability width (0: none) */
	bool ats;	     /**< ATS enabled on the device */
	bool pri;	     /**< PRI enabled on the device */
	/** The device can stall (SMMUv3 stall model, firmware's "dma-can-stall"):
	 *  a stage-1 fault parks its transaction, reported as a fault event with
	 *  UIOMMU_EV_STALL and its STAG in grpid, until uiommu_page_response()
	 *  (SUCCESS: retry, else abort).  -EOPNOTSUPP from uiommu_device_add on
	 *  a unit that cannot stall. */
	bool stall;
};

/** Register an endpoint behind @unit.  -EEXIST for a duplicate ID. */
int uiommu_device_add(struct uiommu_unit *unit, const struct uiommu_device_desc *desc,
		      struct uiommu_device **out);
/** Forget a device.  -EBUSY while it is attached (nothing changes).  The
 *  device is removed in every other case; -ETIMEDOUT or -EIO then say that
 *  the invalidation of what the unit may still cache for it failed: the
 *  unit is recovered (global invalidation) before it is used again. */
int uiommu_device_remove(struct uiommu_device *dev);
/** The device's object ID (never 0). */
uint32_t uiommu_device_id(const struct uiommu_device *dev);
/** Look up a device by ID.  NULL if none. */
struct uiommu_device *uiommu_device_get(struct uiommu_ctx *ctx, uint32_t id);
/** Iterate: the device after @prev (NULL: the first). */
struct uiommu_device *uiommu_device_next(struct uiommu_ctx *ctx, struct uiommu_device *prev);
/** The unit the device is behind. */
struct uiommu_unit *uiommu_device_unit(const struct uiommu_device *dev);

/**
 * Attach a device's RID (pasid == UIOMMU_NO_PASID) or one of its PASIDs to a
 * page table: @pt_id names an IOAS (a compatible paging HWPT of that IOAS is
 * used or created: *hwpt_id_out tells which) or a HWPT.
 * @return 0, -EBUSY (already attached: use replace), -EINVAL (PASID out of
 * the device's or unit's width, incompatible HWPT), -EADDRINUSE (the
 * device's reserved regions intersect mappings of the IOAS), -ENOENT (no
 * such object), -ENOSPC (no domain ID left), -ENOMEM.
 */
int uiommu_device_attach(struct uiommu_device *dev, uint32_t pasid, uint32_t pt_id,
			 uint32_t *hwpt_id_out);
/**
 * Switch an attached RID/PASID to another page table without a window of
 * blocked DMA.  Same errors as attach (-ENOENT: @pt_id names no IOAS or
 * HWPT), and -ENODEV when the RID/PASID is not attached (nothing to
 * replace; iommufd says -EINVAL there, which uiommu keeps for bad
 * arguments).
 */
int uiommu_device_replace(struct uiommu_device *dev, uint32_t pasid, uint32_t pt_id,
			  uint32_t *hwpt_id_out);
/** Detach: DMA from that RID/PASID is blocked afterwards.  -ENOENT when not
 *  attached. */
int uiommu_device_detach(struct uiommu_device *dev, uint32_t pasid);
/** The HWPT ID a RID/PASID is attached to, or 0. */
uint32_t uiommu_device_attached_hwpt(const struct uiommu_device *dev, uint32_t pasid);

/**@}*/
/* ------------------------------------------------------------------ */
/** @name I/O address spaces */
/**@{*/

#define UIOMMU_MAP_READ	      (1u << 0) /**< device may read */
#define UIOMMU_MAP_WRITE      (1u << 1) /**< device may write */
#define UIOMMU_MAP_FIXED_IOVA (1u << 2) /**< use *iova as given */

/** An IOVA range, both ends inclusive. */
struct uiommu_iova_range {
	uint64_t start; /**< first IOVA */
	uint64_t last; /**< inclusive */
};

/** Create an empty I/O address space (no mappings, no restriction).
 *  @return 0, -ENOMEM. */
int uiommu_ioas_alloc(struct uiommu_ctx *ctx, struct uiommu_ioas **out);
/**
 * Destroy an IOAS and its mappings.  -EBUSY while a device is attached
 * through it or while a HWPT allocated for it with uiommu_hwpt_alloc()
 * still exists (destroy those first: as in iommufd, each HWPT holds its
 * IOAS); HWPTs made automatically by an attach die with their last user.
 */
int uiommu_ioas_destroy(struct uiommu_ioas *ioas);
/** The IOAS's object ID (never 0): what uiommu_device_attach() takes. */
uint32_t uiommu_ioas_id(const struct uiommu_ioas *ioas);
/** Look up an IOAS by ID.  NULL if none. */
struct uiommu_ioas *uiommu_ioas_get(struct uiommu_ctx *ctx, uint32_t id);
/** Iterate: the IOAS after @prev (NULL: the first). */
struct uiommu_ioas *uiommu_ioas_next(struct uiommu_ctx *ctx, struct uiommu_ioas *prev);

/**
 * Map @len bytes of bus/physical memory at @phys.  With
 * UIOMMU_MAP_FIXED_IOVA the IOVA is *iova; otherwise one is chosen (never
 * 0, aligned to keep large pages, inside the allowed ranges) and written to
 * *iova.  The mapping is in every HWPT of the IOAS when this returns.
 * @return 0, -EINVAL (no READ/WRITE, zero length, misaligned, reserved
 * range), -EOPNOTSUPP (unknown flags), -EOVERFLOW, -EEXIST (overlaps a
 * mapping), -ENOSPC, -ENOMEM.
 */
int uiommu_ioas_map(struct uiommu_ioas *ioas, uint64_t *iova, uint64_t phys, uint64_t len,
		    uint32_t flags);
/**
 * Map CPU memory: its bus address is looked up in the environment (DPDK
 * memory, the arena, or the process page map - hugetlbfs pages only: an
 * ordinary page can be moved or swapped by the kernel while a device still
 * uses its old address).  Memory that is not IOVA-contiguous is mapped as
 * one IOVA range made of several areas.
 * Same errors as uiommu_ioas_map(), plus -EFAULT (address unknown, or not
 * on hugetlbfs).
 */
int uiommu_ioas_map_va(struct uiommu_ioas *ioas, uint64_t *iova, void *va, uint64_t len,
		       uint32_t flags);
/**
 * Unmap every area inside [iova, iova + len).  Areas must be whole: an
 * unmap that would cut one fails with -EINVAL and removes nothing (all or
 * nothing; stricter than iommufd, which may have removed earlier areas;
 * VFIO type1 also answers -EINVAL to an unmap that bisects a mapping).
 * Gaps are allowed and not counted.  (0, UINT64_MAX) means everything, as
 * in iommufd: same as uiommu_ioas_unmap_all() (0 on an empty IOAS, an area
 * in the last page included).  When it returns, no device can use the old
 * translations (the IOTLBs have been invalidated and waited for).
 * @param ioas      the address space.
 * @param iova      start of the range.
 * @param len       length of the range.
 * @param unmapped  bytes removed (may be NULL).
 * @return 0, -ENOENT (nothing mapped in the range), -EINVAL (zero length,
 * or the range would cut a mapping), -EOVERFLOW.
 */
int uiommu_ioas_unmap(struct uiommu_ioas *ioas, uint64_t iova, uint64_t len, uint64_t *unmapped);
/** Unmap everything (succeeds on an empty IOAS). */
int uiommu_ioas_unmap_all(struct uiommu_ioas *ioas, uint64_t *unmapped);
/**
 * Map in @dst the memory that [src_iova, src_iova + len) maps in @src (a
 * slice of areas is fine; the range must be fully mapped: -ENOENT).
 * UIOMMU_MAP_WRITE needs writable source areas (-EPERM).
 */
int uiommu_ioas_copy(struct uiommu_ioas *dst, uint64_t *dst_iova, struct uiommu_ioas *src,
		     uint64_t src_iova, uint64_t len, uint32_t flags);
/** Replace the allowed ranges atomically (n == 0: no restriction).
 *  -EADDRINUSE when a reserved range intersects one. */
int uiommu_ioas_allow_iovas(struct uiommu_ioas *ioas, const struct uiommu_iova_range *ranges,
			    uint32_t n);
/**
 * Usable IOVA ranges now (all minus reserved, following attach/detach).
 * Returns the total count; fills up to @max.  *alignment (may be NULL)
 * receives the IOVA alignment every map must respect now (iommufd's
 * out_iova_alignment): the largest smallest page size of the IOAS's HWPTs,
 * at least 4 KiB; it follows HWPT creation and destruction.
 */
uint32_t uiommu_ioas_iova_ranges(const struct uiommu_ioas *ioas, struct uiommu_iova_range *out,
				 uint32_t max, uint64_t *alignment);
/** Reserve a range for the application's own use (not mapped, never
 *  allocated).  -EADDRINUSE when mapped or allowed. */
int uiommu_ioas_reserve(struct uiommu_ioas *ioas, uint64_t start, uint64_t last);

/** One mapping of an IOAS. */
struct uiommu_area_info {
	uint64_t iova; /**< first IOVA of the mapping */
	uint64_t len;  /**< bytes */
	uint64_t phys; /**< bus address it maps to */
	uint32_t prot; /**< UIOMMU_MAP_READ | UIOMMU_MAP_WRITE */
};
/** The mapping containing @iova: 0 or -ENOENT. */
int uiommu_ioas_lookup(const struct uiommu_ioas *ioas, uint64_t iova, struct uiommu_area_info *out);
/** Mappings in IOVA order starting at the first one at or after @from;
 *  returns the number written (at most @max). */
uint32_t uiommu_ioas_areas(const struct uiommu_ioas *ioas, uint64_t from,
			   struct uiommu_area_info *out, uint32_t max);
/** Counters of an IOAS (uiommu_ioas_get_stats()). */
struct uiommu_ioas_stats {
	uint64_t nr_areas;     /**< mappings */
	uint64_t mapped_bytes; /**< bytes mapped, all mappings together */
	uint32_t nr_hwpts;     /**< paging HWPTs that follow the IOAS */
	uint32_t nr_attached; /**< RID/PASID attachments through its HWPTs */
};
/** Fill @st with the IOAS's counters. */
void uiommu_ioas_get_stats(const struct uiommu_ioas *ioas, struct uiommu_ioas_stats *st);

/**@}*/
/* ------------------------------------------------------------------ */
/** @name Hardware page tables */
/**@{*/

#define UIOMMU_HWPT_NEST_PARENT (1u << 0) /**< stage-2 that may carry stage-1 children */
#define UIOMMU_HWPT_STAGE1	(1u << 1) /**< paging HWPT in the stage-1/first-level format */

/**
 * Allocate a paging HWPT for @ioas in the format @unit walks (its
 * second-level / stage-2 / v1 format; or first-level / stage-1 with
 * UIOMMU_HWPT_STAGE1).  It holds every mapping of the IOAS from then on.
 * Other units can use it too when their format and widths are compatible.
 * @return 0, -EOPNOTSUPP (unknown flags, or a stage the unit lacks),
 * -EINVAL (NEST_PARENT with STAGE1), -ENOMEM.
 */
int uiommu_hwpt_alloc(struct uiommu_ioas *ioas, struct uiommu_unit *unit, uint32_t flags,
		      struct uiommu_hwpt **out);

/** Family-specific description of a user-managed stage-1 table. */
struct uiommu_hwpt_s1_data {
	enum uiommu_family family; /**< which member of @p u is valid (the vIOMMU's family) */
	/** The family's stage-1 description. */
	union {
		/** VT-d: the first-level part of a scalable-mode PASID entry. */
		struct {
			uint64_t flptr;	     /**< first-level table root (an IPA/GPA), 4 KiB aligned */
			uint32_t addr_width; /**< 48 or 57 */
			uint32_t flags;	     /**< UIOMMU_VTD_S1_* */
		} vtd;
		/** Arm SMMUv3: the guest's STE words 0 and 1, as iommufd's
		 *  iommu_hwpt_arm_smmuv3.  Only V, Config (abort, bypass, stage
		 *  1), S1Fmt, S1ContextPtr, S1CDMax (word 0) and S1DSS, S1CIR,
		 *  S1COR, S1CSH, S1STALLD, EATS (word 1, EATS must be 0) may be
		 *  set; anything else is -EINVAL.  S1ContextPtr is an IPA:
		 *  the CD table is read through the vIOMMU's stage 2. */
		struct {
			uint64_t ste[2]; /**< STE words 0..1 */
		} smmuv3;
		/** AMD-Vi: the guest DTE fields a nested HWPT carries (the host
		 *  DTE gets them over the parent's v1 table, as iommufd's AMD
		 *  nesting does). */
		struct {
			uint64_t gcr3; /**< GCR3 table root (GPA), 4 KiB aligned, below 2^52 */
			uint32_t glx;  /**< DTE.GLX: 0 one-level GCR3 table, 1 two-level (up to
					    EFR.GLXSup) */
			uint32_t giov; /**< DTE.GIoV: 1 = requests without PASID use PASID 0 */
		} amdvi;
	} u;
};

/* VT-d stage-1 flags (uiommu_hwpt_s1_data.u.vtd.flags): PASID-entry bits
 * of the nested translation (VT-d 9.6, PASID entry bits 128 SRE, 132 WPE,
 * 135 EAFE). */
#define UIOMMU_VTD_S1_SRE  (1u << 0) /**< supervisor requests (needs ECAP.SRS) */
#define UIOMMU_VTD_S1_WPE  (1u << 1) /**< write protect for supervisor requests */
#define UIOMMU_VTD_S1_EAFE (1u << 2) /**< extended accessed flag (needs ECAP.EAFS) */

/**
 * Allocate a nested (stage-1) HWPT over the vIOMMU's nest-parent HWPT.
 * The description is checked before anything is allocated: unknown flag
 * bits -EOPNOTSUPP; a family other than the vIOMMU's, a bad width, a
 * misaligned root, or a feature the unit lacks -EINVAL.
 */
int uiommu_hwpt_alloc_nested(struct uiommu_viommu *viommu, const struct uiommu_hwpt_s1_data *data,
			     struct uiommu_hwpt **out);
/** -EBUSY while attached or while it has children. */
int uiommu_hwpt_destroy(struct uiommu_hwpt *hwpt);
/** The HWPT's object ID (never 0). */
uint32_t uiommu_hwpt_id(const struct uiommu_hwpt *hwpt);
/** Look up a HWPT by ID.  NULL if none. */
struct uiommu_hwpt *uiommu_hwpt_get(struct uiommu_ctx *ctx, uint32_t id);
/** Iterate: the HWPT after @prev (NULL: the first). */
struct uiommu_hwpt *uiommu_hwpt_next(struct uiommu_ctx *ctx, struct uiommu_hwpt *prev);

/** What a HWPT is, for tools. */
struct uiommu_hwpt_info {
	uint32_t id;	    /**< object ID */
	uint32_t ioas_id;   /**< paging HWPTs: the IOAS it follows */
	uint32_t parent_id; /**< nested: the parent HWPT */
	uint32_t flags;	    /**< UIOMMU_HWPT_* it was allocated with */
	bool nested;	    /**< a stage-1 HWPT over a nest parent */
	uint32_t format; /**< page-table format (internal enum value) */
	const char *format_name; /**< the format's name ("vtd-sl", ...) */
	uint32_t levels;	 /**< table levels */
	uint32_t ias;		 /**< input (IOVA) width, bits */
	uint64_t root;	   /**< bus address of the root table */
	uint32_t nr_units; /**< units it is installed on */
	uint32_t unit_ids[8];	/**< the units it is installed on */
	uint32_t domain_ids[8]; /**< the ID it has on each of those units */
};
/** Describe a HWPT (what `uiommuctl hwpt show` prints).  @return 0, -EINVAL. */
int uiommu_hwpt_get_info(const struct uiommu_hwpt *hwpt, struct uiommu_hwpt_info *info);

/** One level of a translation walk (for "why did this DMA fault?"). */
struct uiommu_walk_level {
	uint32_t level; /**< table level (the root has the highest number) */
	uint64_t table; /**< bus address of the table holding the entry */
	uint32_t index; /**< entry index in that table */
	uint64_t entry; /**< raw entry */
	bool present;	/**< the entry is valid */
	bool leaf;	/**< the entry maps a page (the walk ends here) */
	uint64_t pgsize; /**< leaf: the size of the page it maps */
	char text[160]; /**< the entry's fields in words */
};
/**
 * The device-context entries a unit reads for @dev's RID (@pasid ==
 * UIOMMU_NO_PASID) or @pasid before any page table, root first, each
 * decoded in its text (SMMUv3: level-1 stream table descriptor, STE,
 * level-1 CD descriptor, CD; for a nested STE also the guest's stage-1
 * levels for @iova, read through stage 2, and the final IPA; AMD-Vi: the
 * DTE, and the same DTE at an IVRS alias).  For "why
 * does this DMA fault?" before uiommu_hwpt_walk().
 * @return the number of entries filled (0: the family shows none), or
 * -EINVAL.
 */
int uiommu_device_ctx_walk(struct uiommu_device *dev, uint32_t pasid, uint64_t iova,
			   struct uiommu_walk_level *out, int max);
/** Walk @iova through a HWPT's table; returns the number of levels filled. */
int uiommu_hwpt_walk(const struct uiommu_hwpt *hwpt, uint64_t iova, struct uiommu_walk_level *out,
		     int max);

/**@}*/
/* ------------------------------------------------------------------ */
/** @name vIOMMU and user-managed invalidation */
/**@{*/

/**
 * A vIOMMU on @unit over nest-parent @parent.  Each vIOMMU allocates its own
 * VMID (a domain ID on @unit), also when several vIOMMUs share one parent on
 * one unit: the parent's stage 2 is tagged / flushed under each vIOMMU's
 * VMID, and its nested HWPTs' stage 2 is that VMID.  (VT-d has no separate
 * VMID field: each nested HWPT gets its own DID on the unit, and the VMID
 * scopes the vIOMMU-wide invalidations of uiommu_cache_invalidate.)
 * @return 0, -EINVAL (not a nest parent, or @unit cannot walk it),
 * -EOPNOTSUPP (no nesting), -ENOSPC (no domain ID left), -ENOMEM.
 */
int uiommu_viommu_alloc(struct uiommu_unit *unit, struct uiommu_hwpt *parent,
			struct uiommu_viommu **out);
/** -EBUSY while it has nested HWPTs. */
int uiommu_viommu_destroy(struct uiommu_viommu *viommu);
/** The vIOMMU's object ID (never 0). */
uint32_t uiommu_viommu_id(const struct uiommu_viommu *viommu);
/** Look up a vIOMMU by ID.  NULL if none. */
struct uiommu_viommu *uiommu_viommu_get(struct uiommu_ctx *ctx, uint32_t id);
/** Iterate: the vIOMMU after @prev (NULL: the first). */
struct uiommu_viommu *uiommu_viommu_next(struct uiommu_ctx *ctx, struct uiommu_viommu *prev);
/** The unit a vIOMMU is on. */
struct uiommu_unit *uiommu_viommu_unit(const struct uiommu_viommu *viommu);
/** The vIOMMU's nest-parent HWPT. */
struct uiommu_hwpt *uiommu_viommu_parent(const struct uiommu_viommu *viommu);
/** The VMID / domain ID the vIOMMU owns on its unit (its own). */
uint32_t uiommu_viommu_vmid(const struct uiommu_viommu *viommu);

/** Kind of a user invalidation request (maps 1:1 onto a hardware command). */
enum uiommu_inv_type {
	UIOMMU_INV_S1_ALL = 1, /**< whole stage-1 of a HWPT / all ASIDs of the vIOMMU */
	UIOMMU_INV_S1_RANGE,   /**< stage-1 address range (ASID/PASID scoped) */
	UIOMMU_INV_S1_PASID,   /**< all stage-1 entries of one PASID / ASID */
	UIOMMU_INV_DEV_TLB,    /**< device-TLB (ATS) range for one device */
	UIOMMU_INV_CFG,	       /**< cached STE/CD/PASID entry of one device/PASID */
};

/** One user invalidation request (uiommu_cache_invalidate()). */
struct uiommu_inv_entry {
	enum uiommu_inv_type type; /**< what to invalidate */
	uint32_t dev_id; /**< object ID of the device, where applicable */
	uint32_t pasid;	 /**< PASID or ASID */
	uint64_t addr;	 /**< range start */
	uint64_t len;	 /**< range length (0: everything) */
	uint32_t flags;	 /**< UIOMMU_INV_F_* */
};
/** Range invalidation of leaf entries only (page-table pages unchanged). */
#define UIOMMU_INV_F_LEAF (1u << 0)

/**
 * Invalidate caches of a nested HWPT, or, with @hwpt NULL, of the whole
 * vIOMMU: stage-1 entries (S1_*) then reach every nested HWPT of the
 * vIOMMU that is attached somewhere (on VT-d: a PASID-based IOTLB
 * invalidation per nested DID and PASID).
 * Entries are processed in order, each as one hardware command; all are
 * waited for with one sync.  *done is the number completed; the first
 * failing entry stops the batch.
 * Every entry is checked before any command is issued: unknown
 * entry.flags bits -EOPNOTSUPP, an unknown type or a field the type does
 * not use that is not zero (S1_ALL / S1_PASID: dev_id, addr, len; S1_RANGE:
 * dev_id; CFG: addr, len) or a range not 4 KiB aligned -EINVAL; the entries
 * before the first bad one are done and *done is its index.
 * @return 0, -EINVAL (bad entry, *done tells which), -EOPNOTSUPP (unknown
 * flags; or no user invalidation on this unit), -ETIMEDOUT.
 */
int uiommu_cache_invalidate(struct uiommu_viommu *viommu, struct uiommu_hwpt *hwpt,
			    const struct uiommu_inv_entry *entries, uint32_t n, uint32_t *done);

/**@}*/
/* ------------------------------------------------------------------ */
/** @name Events: faults, page requests, queue errors */
/**@{*/

/** Kind of an event uiommu_poll() reports. */
enum uiommu_event_type {
	UIOMMU_EV_FAULT = 1,   /**< translation/permission fault */
	UIOMMU_EV_PAGE_REQ,    /**< page request (PRI) awaiting a response */
	UIOMMU_EV_OVERFLOW,    /**< the hardware dropped events (overflow) */
	UIOMMU_EV_QUEUE_ERROR, /**< command/invalidation queue error, recovered */
	UIOMMU_EV_LOST,	       /**< uiommu_events_read(): this reader fell behind the
				    unit's event history; @count events are gone */
};

#define UIOMMU_EV_READ	 (1u << 0) /**< the request was a read */
#define UIOMMU_EV_WRITE	 (1u << 1) /**< the request was a write */
#define UIOMMU_EV_EXEC	 (1u << 2) /**< instruction fetch */
#define UIOMMU_EV_PRIV	 (1u << 3) /**< privileged (supervisor) request */
#define UIOMMU_EV_STAGE2 (1u << 4) /**< fault at stage 2 */
#define UIOMMU_EV_PASID	 (1u << 5) /**< the request carried a PASID */
#define UIOMMU_EV_LAST	 (1u << 6) /**< page request: last in group */
#define UIOMMU_EV_STALL	 (1u << 7) /**< fault: the transaction is stalled (grpid: its tag) */

/** One event: a fault, a page request, lost events, a queue error. */
struct uiommu_event {
	enum uiommu_event_type type; /**< what happened */
	uint32_t unit_id;	     /**< object ID of the unit that reported it */
	uint32_t dev_id; /**< device object ID, 0 when the source is unknown */
	uint16_t segment; /**< PCI segment of the source */
	uint32_t hw_id; /**< requester ID / StreamID / DeviceID */
	uint32_t pasid; /**< PASID (with UIOMMU_EV_PASID), else UIOMMU_NO_PASID */
	uint64_t addr;	 /**< faulting address (page-aligned where the hardware truncates) */
	uint32_t flags;	 /**< UIOMMU_EV_* */
	uint32_t reason; /**< the hardware's reason / event code */
	const char *reason_text; /**< static text for @reason */
	uint32_t grpid;		 /**< page requests: page group index */
	uint64_t count;		 /**< overflow: number lost when known */
	/** A second address where the family reports one: SMMUv3 stage-2
	 *  faults (UIOMMU_EV_STAGE2) the IPA that faulted, F_*_FETCH /
	 *  F_WALK_EABT the fetch address; 0 otherwise.  (For an SMMUv3
	 *  UIOMMU_EV_QUEUE_ERROR, @addr is the index of the refused command in
	 *  its batch and @reason the CMDQ_CONS.ERR code.) */
	uint64_t addr2;
};

/**
 * Drain every unit's fault / event / page-request queues into @ev, at most
 * @max, without system calls.  Burst-style: call it from a poll loop or a
 * DPDK service core.  Returns the number written.
 */
uint16_t uiommu_poll(struct uiommu_ctx *ctx, struct uiommu_event *ev, uint16_t max);

/** uiommu_events_read() cursor: start after the newest event (read only
 *  what comes from now on). */
#define UIOMMU_EVENTS_LATEST UINT64_MAX

/**
 * Read a unit's event history: every event uiommu_poll() handed out for
 * @unit, in any process sharing the state, is kept (with its text) in a
 * bounded ring of the shared state under a sequence number (1, 2, ...).
 * Any number of readers, each with its own @cursor, see the same events;
 * reading takes nothing away from uiommu_poll() or from other readers.
 *
 * @param unit   the unit
 * @param cursor in: the sequence number of the next event wanted; 0 means
 *               the oldest event still kept, UIOMMU_EVENTS_LATEST the
 *               next event to come (nothing is read then).  A cursor
 *               beyond the newest event (the history of another unit or
 *               state) starts again at the oldest kept.  Out: past the
 *               last event written to @ev.
 * @param ev     receives the events, oldest first; reason_text points to
 *               a copy of the kept text that stays valid in this process
 * @param max    capacity of @ev
 * @return the number of events written; -EINVAL for a NULL argument;
 *         -EUCLEAN when the history in the shared state is not well-formed
 *         (nothing read; 'uiommuctl state check' says what is wrong).
 *
 * When events the cursor asked for are no longer kept (the reader fell
 * more than the ring behind, or a writer died while overwriting one), a
 * UIOMMU_EV_LOST event stands in their place with @count the number
 * lost, once, before the events that follow them.
 */
int uiommu_events_read(struct uiommu_unit *unit, uint64_t *cursor, struct uiommu_event *ev,
		       uint16_t max);

/** Page-request response codes. */
enum uiommu_page_resp {
	UIOMMU_PAGE_RESP_SUCCESS = 0,
	UIOMMU_PAGE_RESP_INVALID = 1,
	UIOMMU_PAGE_RESP_FAILURE = 0xf,
};
/** Answer a page request (VT-d page group response, SMMU PRI_RESP), or a
 *  stalled transaction of a device with uiommu_device_desc.stall (SMMU
 *  CMD_RESUME: @grpid is the event's tag; SUCCESS retries, INVALID and
 *  FAILURE abort).  SMMUv3 PRI: only a group whose last request was
 *  handed out by uiommu_poll() and not answered yet (same device, @pasid
 *  and @grpid), else -ENOENT and nothing is sent. */
int uiommu_page_response(struct uiommu_device *dev, uint32_t pasid, uint32_t grpid,
			 enum uiommu_page_resp code);

/**@}*/
/* ------------------------------------------------------------------ */
/** @name Built-in models */
/**@{*/

/**
 * Built-in model units only: make the model's DMA engine access @len bytes
 * at @iova as @dev would (with @pasid, or UIOMMU_NO_PASID), reading into
 * @buf (write == false) or writing from it.  The access is translated by
 * the modelled IOMMU exactly as hardware would translate it, caches
 * included.
 * @return 0; -EFAULT when the IOMMU blocked it (no byte was written, a fault
 * was recorded and uiommu_poll() reports it); -EOPNOTSUPP for a hardware unit.
 */
int uiommu_model_dma(struct uiommu_device *dev, uint32_t pasid, uint64_t iova, void *buf,
		     uint64_t len, bool write);
/** The name of the built-in model of @family ("vtd"), or NULL when this
 *  library has none (or not the family's driver). */
const char *uiommu_model_name(enum uiommu_family family);
/** The family whose built-in model is named by the first @len bytes of
 *  @name: 0 and *family, or -ENOENT. */
int uiommu_model_lookup(const char *name, size_t len, enum uiommu_family *family);

/**@}*/
/** Text for a negative errno in uiommu's sense (like strerror). */
const char *uiommu_strerror(int err);

/* ------------------------------------------------------------------ */
/** @name Tool support: DMA buffers, object names, read-only views
 *  (src/core/buf.c, src/core/introspect.c).  State that a tool creates
 *  lives in the context, so it outlives the process like everything else. */
/**@{*/

/**
 * Allocate a zeroed, bus-contiguous DMA buffer of @len bytes (rounded up
 * to 4 KiB; 2 MiB aligned from 2 MiB on) from the context's arena.
 * *bus_addr is its bus address (what a device would use without an IOMMU:
 * the `phys` of uiommu_ioas_map(), not an IOVA of any IOAS).  The buffer is
 * recorded in the context: it lives until uiommu_buf_free() or
 * uiommu_ctx_destroy(), across processes for a shared backend.
 * @return 0, -EINVAL, -ENOMEM.
 */
int uiommu_buf_alloc(struct uiommu_ctx *ctx, uint64_t len, void **va, uint64_t *bus_addr);
/** Free the buffer whose bus address is @bus_addr.  -ENOENT when none starts there. */
int uiommu_buf_free(struct uiommu_ctx *ctx, uint64_t bus_addr);

/** A DMA buffer (uiommu_buf_alloc()) or a DPDK memzone. */
struct uiommu_buf_info {
	uint64_t bus_addr; /**< bus address of the first byte (uiommu_ioas_map()'s phys) */
	uint64_t len;	   /**< bytes */
	void *va;	   /**< CPU address (the arena is mapped at one address in every process) */
};
/** The buffer containing bus address @bus_addr: 0 or -ENOENT. */
int uiommu_buf_lookup(struct uiommu_ctx *ctx, uint64_t bus_addr, struct uiommu_buf_info *out);
/** Buffers in allocation order; returns the total count, fills up to @max. */
uint32_t uiommu_buf_list(struct uiommu_ctx *ctx, struct uiommu_buf_info *out, uint32_t max);

/**
 * Find the DPDK memzone @name, to map it with uiommu_ioas_map(@out->bus_addr):
 * in this process's EAL when it is up (the application's own), else by
 * joining the DPDK primary process started with `--file-prefix @dpdk_prefix`
 * (NULL: "rte") as an EAL secondary process (`--proc-type=secondary
 * --no-pci --no-telemetry -l 0`), which stays attached until this process
 * exits.  The memzone must be IOVA-contiguous (RTE_MEMZONE_IOVA_CONTIG).
 * Nothing is recorded in any context: the memzone stays the primary's, and
 * must outlive its mappings.  A memzone's bus address is the primary's: with
 * IOVA as PA (hugepages) that is a physical address any process can map.
 * @return 0 (*out: bus address, length, CPU address in this process),
 * -EINVAL (bad arguments, or not IOVA-contiguous), -ENOENT (no such
 * memzone), -ENODEV (no DPDK primary with that prefix, or EAL could not
 * join it), -EPERM (the primary's runtime directory or config file is not
 * this user's, or others may write it: refused).
 */
int uiommu_memzone_lookup(const char *name, const char *dpdk_prefix, struct uiommu_buf_info *out);

#define UIOMMU_NAME_MAX 32 /**< object names: at most 31 bytes + NUL */

/**
 * Give object @id a name unique in the context (NULL or "" removes it).
 * Names die with their object.
 * @return 0, -ENOENT (no such object), -EEXIST (another object has that
 * name), -EINVAL (too long, or a name that is a number), -ENOMEM.
 */
int uiommu_obj_set_name(struct uiommu_ctx *ctx, uint32_t id, const char *name);
/** Copy the name of object @id into @buf: 0, or -ENOENT when it has none. */
int uiommu_obj_get_name(struct uiommu_ctx *ctx, uint32_t id, char *buf, size_t len);
/** The ID of the live object named @name, or 0. */
uint32_t uiommu_obj_find(struct uiommu_ctx *ctx, const char *name);

/** The description a device was added with. */
int uiommu_device_get_desc(const struct uiommu_device *dev, struct uiommu_device_desc *out);

/** One RID or PASID attachment of a device. */
struct uiommu_attach_info {
	uint32_t pasid;   /**< UIOMMU_NO_PASID for the RID */
	uint32_t hwpt_id; /**< the HWPT the RID/PASID uses */
	uint32_t ioas_id; /**< the IOAS it was attached through (0: a HWPT by ID) */
};
/** A device's attachments; returns the total count, fills up to @max. */
uint32_t uiommu_device_attachments(const struct uiommu_device *dev,
				   struct uiommu_attach_info *out, uint32_t max);

/** How a unit is reached, for tools. */
struct uiommu_unit_info {
	uint32_t id;			/**< object ID */
	enum uiommu_family family;	/**< its family */
	enum uiommu_unit_access access; /**< hardware registers or the built-in model */
	uint64_t reg_base;		/**< physical register base (0 for a model) */
	uint16_t segment;		/**< PCI segment */
	int numa_node;			/**< proximity domain, -1 unknown */
	uint32_t nr_devices;		/**< devices added behind it */
};
/** Describe a unit (what `uiommuctl unit list` prints).  @return 0, -EINVAL. */
int uiommu_unit_get_info(const struct uiommu_unit *unit, struct uiommu_unit_info *out);

/**
 * The path of the state file @opts names (shared backends), for messages
 * and tools.  @return 0, -EINVAL (bad name or backend), -ENAMETOOLONG.
 */
int uiommu_state_path(const struct uiommu_env_opts *opts, char *buf, size_t len);

/**
 * The other processes that have @ctx's shared state open now: up to @max of
 * their pids in @pids.  @return how many there are (0 for a private arena).
 */
int uiommu_state_users(struct uiommu_ctx *ctx, uint32_t *pids, uint32_t max);

/**
 * Check the whole state (an fsck): the arena's bookkeeping, every object
 * and list, every cross-reference.  Each problem found is passed to @cb
 * (may be NULL) as one line of text.
 * @return the number of problems (0: consistent), or -EINVAL.
 */
int uiommu_state_check(struct uiommu_ctx *ctx, void (*cb)(void *arg, const char *msg), void *arg);

/**
 * Delete the state file @opts names without adopting it: for a state that
 * cannot be adopted (corrupt).  Processes that have it open keep their
 * mapping.  Hardware it programmed keeps translating until it is taken
 * over again or reset.  @return 0, -ENOENT, -EPERM, -EINVAL.
 */
int uiommu_state_remove(const struct uiommu_env_opts *opts);

/**@}*/

#ifdef __cplusplus
}
#endif
#endif
