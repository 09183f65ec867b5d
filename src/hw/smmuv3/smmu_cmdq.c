/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMMUv3 command queue (IHI 0070 3.5, 4.x): commands are built by small
 * pure functions into a batch, written to the queue, and completed by one
 * CMD_SYNC whose completion is seen by polling CMDQ_CONS (no MSI, no WFE).
 * Every wait is bounded.  A command the SMMU refuses (GERROR.CMDQ_ERR,
 * CMDQ_CONS.ERR) is overwritten with a CMD_SYNC, the error acknowledged in
 * GERRORN so the queue goes on, its index in the batch reported, and the
 * caller's call fails; a queue that stops answering is restarted.
 *
 * The strict unmap of one page (one TLBI) skips the batch: cmdq_issue1
 * writes the command and its CMD_SYNC straight into their queue slots,
 * and waits with the same code (cmdq_wait) as every batch.
 *
 * Invalidation (flush): stage-1 domains by ASID (TLBI_NH_VA / _ASID),
 * stage-2 domains by VMID (TLBI_S2_IPA / TLBI_S12_VMALL, plus TLBI_NH_ALL
 * for a VMID that nested STEs use: their combined entries are not reached
 * by TLBI_S2_IPA); address ranges in one command each when IDR3.RIL.
 */
#include <errno.h>
#include <string.h>

#include "hw/smmuv3/smmu_internal.h"

#define SMMU_TLBI_PAGES_MAX 16u /* without RIL: more pages than this -> whole domain */

/* ------------------------------------------------------------ builders */

/* Commands a batch holds before it is issued: one slot stays for its
 * CMD_SYNC, and a batch never exceeds the queue (IDR1.CMDQS may give
 * fewer slots than SMMU_BATCH_MAX; more would wrap the queue onto
 * itself and the SMMU would see fewer commands, or none). */
static inline uint32_t batch_cap(const struct smmu_unit *su)
{
	uint32_t slots = 1u << su->cmdq.shift;

	return (slots < SMMU_BATCH_MAX ? slots : SMMU_BATCH_MAX) - 1u;
}

void smmu_batch_init(struct smmu_batch *b, struct smmu_unit *su)
{
	b->su = su;
	b->cap = batch_cap(su);
	b->n = 0;
	b->rc = 0;
	b->bad = -1;
	b->issued = 0;
}

void smmu_batch_add(struct smmu_batch *b, uint64_t c0, uint64_t c1)
{
	if (b->n >= b->cap) { /* room for the CMD_SYNC */
		int rc = smmu_batch_sync(b);
		if (rc && !b->rc)
			b->rc = rc;
	}
	b->cmd[b->n][0] = c0;
	b->cmd[b->n][1] = c1;
	b->n++;
}

void smmu_cmd_cfgi_ste(struct smmu_batch *b, uint32_t sid)
{
	/* Leaf 0: a level-1 descriptor the SMMU may hold goes too. */
	smmu_batch_add(
		b, FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_CFGI_STE) | FIELD_PREP(SMMU_CMD0_SID, sid), 0);
}

void smmu_cmd_cfgi_cd(struct smmu_batch *b, uint32_t sid, uint32_t ssid)
{
	smmu_batch_add(b,
		       FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_CFGI_CD) | FIELD_PREP(SMMU_CMD0_SID, sid) |
			       FIELD_PREP(SMMU_CMD0_SSID, ssid),
		       SMMU_CMD1_LEAF);
}

void smmu_cmd_cfgi_cd_all(struct smmu_batch *b, uint32_t sid)
{
	smmu_batch_add(
		b, FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_CFGI_CD_ALL) | FIELD_PREP(SMMU_CMD0_SID, sid),
		0);
}

static void cmd_cfgi_all(struct smmu_batch *b)
{
	smmu_batch_add(b, FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_CFGI_STE_RANGE),
		       FIELD_PREP(SMMU_CMD1_RANGE, 31));
}

void smmu_cmd_tlbi_asid(struct smmu_batch *b, uint16_t asid)
{
	smmu_batch_add(b,
		       FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_TLBI_NH_ASID) |
			       FIELD_PREP(SMMU_CMD0_ASID, asid),
		       0);
}

void smmu_cmd_tlbi_vmall(struct smmu_batch *b, uint16_t vmid)
{
	smmu_batch_add(b,
		       FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_TLBI_S12_VMALL) |
			       FIELD_PREP(SMMU_CMD0_VMID, vmid),
		       0);
}

static void cmd_tlbi_nh_all(struct smmu_batch *b, uint16_t vmid)
{
	smmu_batch_add(
		b, FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_TLBI_NH_ALL) | FIELD_PREP(SMMU_CMD0_VMID, vmid),
		0);
}

/* One address (TG 0), or with RIL a range of (NUM + 1) << SCALE 4 KiB pages
 * (IHI 0070 4.4.1.1: TG 1 = 4 KiB granule). */
static inline void tlbi_addr_words(unsigned int op, uint16_t vmid, uint16_t asid, uint64_t addr,
				   bool leaf, uint64_t *c0, uint64_t *c1)
{
	*c0 = FIELD_PREP(SMMU_CMD0_OP, op) | FIELD_PREP(SMMU_CMD0_VMID, vmid);
	*c1 = (addr & (op == SMMU_OP_TLBI_S2_IPA ? SMMU_CMD1_IPA : SMMU_CMD1_VA)) |
	      (leaf ? SMMU_CMD1_LEAF : 0);
	if (op == SMMU_OP_TLBI_NH_VA)
		*c0 |= FIELD_PREP(SMMU_CMD0_ASID, asid);
}

static inline __attribute__((always_inline)) void
cmd_tlbi_addr(struct smmu_batch *b, unsigned int op, uint16_t vmid, uint16_t asid, uint64_t addr,
	      unsigned int num, unsigned int scale, bool range, bool leaf)
{
	uint64_t c0, c1;

	tlbi_addr_words(op, vmid, asid, addr, leaf, &c0, &c1);
	if (range) {
		c0 |= FIELD_PREP(SMMU_CMD0_TLBI_NUM, num) | FIELD_PREP(SMMU_CMD0_TLBI_SCALE, scale);
		c1 |= FIELD_PREP(SMMU_CMD1_TG, 1);
	}
	smmu_batch_add(b, c0, c1);
}

/* [iova, iova + size) of a domain by address: with RIL a few range
 * commands (each covers up to 32 << SCALE pages), else one per leaf of
 * @pgsize; false when that would take too many (use the whole domain). */
static bool tlbi_range_multi(struct smmu_batch *b, unsigned int op, uint16_t vmid, uint16_t asid,
			     uint64_t iova, uint64_t size, uint64_t pgsize, bool leaf)
{
	struct smmu_unit *su = b->su;

	if (su->ril) {
		uint64_t pages = size >> 12, addr = iova;
		unsigned int cmds = 0;

		while (pages) {
			unsigned int scale = (unsigned int)__builtin_ctzll(pages);
			uint64_t num = (pages >> scale) & 31u;

			if (!num) { /* more than 31 << scale: take 31 of them */
				num = 31;
			}
			if (scale > 31 || ++cmds > 4)
				return false;
			cmd_tlbi_addr(b, op, vmid, asid, addr, (unsigned int)num - 1, scale, true,
				      leaf);
			addr += num << (scale + 12);
			pages -= num << scale;
		}
		return true;
	}
	if (!pgsize)
		pgsize = UENV_PAGE_SIZE;
	if (size / pgsize > SMMU_TLBI_PAGES_MAX)
		return false;
	for (uint64_t a = iova; a < iova + size; a += pgsize)
		cmd_tlbi_addr(b, op, vmid, asid, a, 0, 0, false, leaf);
	return true;
}

static inline bool tlbi_range(struct smmu_batch *b, unsigned int op, uint16_t vmid, uint16_t asid,
			      uint64_t iova, uint64_t size, uint64_t pgsize, bool leaf)
{
	/* One 4 KiB page (the strict unmap of a page): one non-range command
	 * (TG 0) does it with or without RIL; inline, the hot path of a
	 * strict unmap (docs/performance.md §3). */
	if (size == 4096 && !(iova & 4095)) {
		cmd_tlbi_addr(b, op, vmid, asid, iova, 0, 0, false, leaf);
		return true;
	}
	return tlbi_range_multi(b, op, vmid, asid, iova, size, pgsize, leaf);
}

/* ------------------------------------------------------------ queue */

static uint32_t q_mask(const struct smmu_queue *q)
{
	return (2u << q->shift) - 1u; /* index and wrap bit */
}

int smmu_cr0_set(struct smmu_unit *su, uint32_t bits, bool on)
{
	const struct uiommu_regio *r = smmu_rio(su);
	uint32_t cr0 = reg_read32(r, SMMU_CR0) & (uint32_t)SMMU_CR0_MASK;

	cr0 = on ? cr0 | bits : cr0 & ~bits;
	reg_write32(r, SMMU_CR0, cr0);
	return reg_poll32(r, SMMU_CR0ACK, (uint32_t)SMMU_CR0_MASK, cr0, su->timeout_ns, "CR0ACK");
}

int smmu_cmdq_init(struct smmu_unit *su)
{
	unsigned int max = (unsigned int)FIELD_GET(SMMU_IDR1_CMDQS, su->idr[1]);
	struct smmu_queue *q = &su->cmdq;
	int rc;

	q->shift = max < SMMU_CMDQ_SHIFT ? max : SMMU_CMDQ_SHIFT;
	if (q->shift < 1)
		return -ENODEV;
	rc = uenv_dma_alloc((size_t)16 << q->shift, UENV_PAGE_SIZE, su->u->numa_node, &q->mem);
	if (rc)
		return rc;
	return 0;
}

/* Program the queue at position 0 and enable it (CMDQEN off first). */
int smmu_cmdq_enable(struct smmu_unit *su)
{
	const struct uiommu_regio *r = smmu_rio(su);
	struct smmu_queue *q = &su->cmdq;
	int rc = smmu_cr0_set(su, (uint32_t)SMMU_CR0_CMDQEN, false);

	uint32_t gerror, gerrorn;

	if (rc)
		return rc;
	/* A refusal still pending (a restart after a timeout during error
	 * recovery) would keep the restarted queue stopped: acknowledge it. */
	gerror = reg_read32(r, SMMU_GERROR);
	gerrorn = reg_read32(r, SMMU_GERRORN);
	if ((gerror ^ gerrorn) & SMMU_GERROR_CMDQ_ERR)
		reg_write32(r, SMMU_GERRORN, gerrorn ^ (uint32_t)SMMU_GERROR_CMDQ_ERR);
	reg_write64(r, SMMU_CMDQ_BASE,
		    (q->mem.iova & SMMU_Q_BASE_ADDR) | FIELD_PREP(SMMU_Q_BASE_LOG2SIZE, q->shift) |
			    (su->coherent ? SMMU_Q_BASE_RWA : 0));
	reg_write32(r, SMMU_CMDQ_PROD, 0);
	reg_write32(r, SMMU_CMDQ_CONS, 0);
	q->prod = 0;
	return smmu_cr0_set(su, (uint32_t)SMMU_CR0_CMDQEN, true);
}

void smmu_cmdq_fini(struct smmu_unit *su)
{
	if (su->cmdq.mem.va)
		uenv_dma_free(&su->cmdq.mem);
	memset(&su->cmdq, 0, sizeof(su->cmdq));
}

/* A refused command: report it, overwrite it with a CMD_SYNC, acknowledge
 * the error so the SMMU goes on from it.  @start: where the caller's @n
 * commands begin (their CMD_SYNC follows them); *@bad: the position of
 * the first refused one among them (-1 until then). */
static void cmdq_recover(struct smmu_unit *su, uint32_t cons, uint32_t start, uint32_t n,
			 int32_t *bad)
{
	const struct uiommu_regio *r = smmu_rio(su);
	struct smmu_queue *q = &su->cmdq;
	unsigned int err = (unsigned int)FIELD_GET(SMMU_CMDQ_CONS_ERR, cons);
	uint32_t idx = SMMU_Q_IDX(cons, q->shift);
	uint32_t pos = (idx - SMMU_Q_IDX(start, q->shift)) & ((1u << q->shift) - 1u);
	uint64_t *slot = (uint64_t *)q->mem.va + 2u * idx;
	uint32_t gerror = reg_read32(r, SMMU_GERROR), gerrorn = reg_read32(r, SMMU_GERRORN);
	struct uiommu_event ev = {
		.type = UIOMMU_EV_QUEUE_ERROR,
		.unit_id = su->u->obj.id,
		.reason = err,
		.addr = pos,
		.reason_text = smmu_cerror_text(err),
	};

	SMMU_LOG(ERR, "unit %u: command %u of the batch (opcode 0x%02x) refused: %s", su->u->obj.id,
		 pos, (unsigned int)(slot[0] & 0xff), smmu_cerror_text(err));
	su->stats.cmd_errors++;
	/* CONS is input: only a command of this batch (not its CMD_SYNC, not
	 * a slot outside it) is reported as the caller's bad entry. */
	if (*bad < 0 && pos < n)
		*bad = (int32_t)pos;
	unit_event_push(su->u, &ev);
	slot[0] = FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_CMD_SYNC);
	slot[1] = 0;
	smmu_wb(su, slot, 16);
	reg_write32(r, SMMU_GERRORN,
		    gerrorn ^ ((gerror ^ gerrorn) & (uint32_t)SMMU_GERROR_CMDQ_ERR));
}

/* Wait (bounded by su->timeout_ns) until CMDQ_CONS reaches @prod: the
 * commands written from @start up to @prod, @n of them the caller's and
 * then their CMD_SYNC.  0; -EIO: a command was refused (recovered, the
 * wait went on; *@bad says which of the @n); -ETIMEDOUT: the queue was
 * restarted.  Not inline: the one-command path (cmdq_issue1) reads CONS
 * once itself and comes here only when the SMMU has not finished. */
static __attribute__((noinline)) int cmdq_wait(struct smmu_unit *su, uint32_t start, uint32_t prod,
					       uint32_t n, int32_t *bad)
{
	const struct uiommu_regio *r = smmu_rio(su);
	uint32_t mask = q_mask(&su->cmdq);
	uint64_t t0 = 0;
	int rc = 0;

	for (;;) {
		uint32_t cons = reg_read32(r, SMMU_CMDQ_CONS);

		if ((cons & mask) == prod)
			break;
		/* A refused command is skipped and the wait goes on, under the
		 * same deadline: an SMMU that refuses every command (each
		 * fetch aborting) must not keep us here. */
		if ((reg_read32(r, SMMU_GERROR) ^ reg_read32(r, SMMU_GERRORN)) &
		    (uint32_t)SMMU_GERROR_CMDQ_ERR) {
			cmdq_recover(su, cons, start, n, bad);
			rc = -EIO;
		}
		if (!t0) {
			t0 = uenv_now_ns();
		} else if (uenv_now_ns() - t0 > su->timeout_ns) {
			SMMU_LOG(ERR,
				 "unit %u: CMD_SYNC timed out (CMDQ_CONS 0x%x, PROD 0x%x): "
				 "restarting the queue",
				 su->u->obj.id, cons, prod);
			su->stats.timeouts++;
			struct uiommu_event ev = {
				.type = UIOMMU_EV_QUEUE_ERROR,
				.unit_id = su->u->obj.id,
				.reason = UINT32_MAX,
				.reason_text = "CMD_SYNC timed out: command queue restarted",
			};
			unit_event_push(su->u, &ev);
			(void)smmu_cmdq_enable(su);
			rc = -ETIMEDOUT;
			break;
		}
		uenv_relax();
	}
	return rc;
}

/* The first look at CMDQ_CONS after the PROD write: everything up to
 * @prod consumed.  CONS.ERR is left out (IHI 0070 6.3.27: UNKNOWN while
 * GERROR.CMDQ_ERR is not active, so an SMMU may keep the last code after
 * a recovery); any other difference -- not done yet, RES0 bits set, an
 * active error -- is cmdq_wait's to judge (masked compare, GERROR). */
static inline bool cmdq_done(uint32_t cons, uint32_t prod)
{
	return (cons & ~(uint32_t)SMMU_CMDQ_CONS_ERR) == prod;
}

int smmu_batch_sync(struct smmu_batch *b)
{
	struct smmu_unit *su = b->su;
	const struct uiommu_regio *r = smmu_rio(su);
	struct smmu_queue *q = &su->cmdq;
	uint32_t mask = q_mask(q), idx_mask = (1u << q->shift) - 1u, start, prod;
	uint64_t *base = q->mem.va;
	int32_t bad = -1;
	int rc;

	/* (After a time-out the core invalidates everything before its next
	 * flush and quarantines the IDs it could not flush: core.h.) */
	start = prod = q->prod;

	/* The queue is empty between batches (each waits for its sync). */
	b->cmd[b->n][0] = FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_CMD_SYNC); /* CS none: poll CONS */
	b->cmd[b->n][1] = 0;
	for (uint32_t i = 0; i <= b->n; i++) {
		uint64_t *slot = base + 2u * (prod & idx_mask); /* SMMU_Q_IDX */

		slot[0] = b->cmd[i][0];
		slot[1] = b->cmd[i][1];
		smmu_wb(su, slot, 16);
		prod = (prod + 1u) & mask;
	}
	su->stats.cmds += b->n;
	su->stats.syncs++;
	su->stats.batches++;
	q->prod = prod;
	reg_write32(r, SMMU_CMDQ_PROD, prod);
	/* Done at the first look, else the bounded wait (cmdq_done). */
	rc = cmdq_done(reg_read32(r, SMMU_CMDQ_CONS), prod)
		     ? 0
		     : cmdq_wait(su, start, prod, b->n, &bad);
	if (bad >= 0 && b->bad < 0)
		b->bad = (int32_t)(b->issued + (uint32_t)bad);
	b->issued += b->n;
	b->n = 0;
	if (rc && !b->rc)
		b->rc = rc;
	return b->rc;
}

/* The slow parts of cmdq_issue1, out of its line: cleaning its two slots
 * for a non-coherent SMMU, and the wait when the first CMDQ_CONS read does
 * not show the CMD_SYNC consumed. */
static __attribute__((noinline)) void cmdq_wb1(struct smmu_unit *su, uint32_t start)
{
	struct smmu_queue *q = &su->cmdq;
	uint32_t idx_mask = (1u << q->shift) - 1u;
	uint64_t *base = q->mem.va;

	smmu_wb(su, base + 2u * (start & idx_mask), 16);
	smmu_wb(su, base + 2u * ((start + 1u) & idx_mask), 16); /* (wrapped: not next to it) */
}

static __attribute__((noinline)) int cmdq_wait1(struct smmu_unit *su, uint32_t prod)
{
	int32_t bad = -1;

	return cmdq_wait(su, (prod - 2u) & q_mask(&su->cmdq), prod, 1, &bad);
}

/* One command and its CMD_SYNC, written straight into their queue slots
 * (no batch array), one CMDQ_PROD write, then CMDQ_CONS: the strict unmap
 * of one page.  What smmu_batch_sync guarantees holds: the queue is empty
 * on entry (every caller waits for its sync), the two slots fit any
 * queue (smmu_cmdq_init refuses fewer than 2), the producer index wraps
 * like a batch's, the written slots are cleaned for a non-coherent SMMU
 * before the PROD write (whose io_wmb orders them), and a CMDQ_CONS that
 * does not show PROD at once (cmdq_done: not done yet, RES0 bits) goes to
 * cmdq_wait (bounded, masked compare, refused-command and time-out
 * recovery).  Counted as a CMD_SYNC without a batch (stats.syncs -
 * stats.batches).  0, -EIO (the command refused), -ETIMEDOUT.
 * (@r: unit_regs of su->u, which the caller has at hand.) */
static int cmdq_issue1(struct smmu_unit *su, const struct uiommu_regio *r, uint64_t c0, uint64_t c1)
{
	struct smmu_queue *q = &su->cmdq;
	uint32_t mask = q_mask(q), start = q->prod, prod = (start + 2u) & mask;
	uint64_t idx_mask = mask >> 1; /* (64-bit: no extension before the address) */
	uint64_t *base = q->mem.va;
	uint64_t *s0 = base + 2u * (start & idx_mask),
		 *s1 = base + 2u * ((start + 1ull) & idx_mask);

	s0[0] = c0;
	s0[1] = c1;
	s1[0] = FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_CMD_SYNC); /* CS none: poll CONS */
	s1[1] = 0;
	if (__builtin_expect(!su->coherent, 0))
		cmdq_wb1(su, start);
	su->stats.cmds++;
	su->stats.syncs++;
	q->prod = prod;
	reg_write32(r, SMMU_CMDQ_PROD, prod);
	if (__builtin_expect(cmdq_done(reg_read32(r, SMMU_CMDQ_CONS), prod), 1))
		return 0;
	return cmdq_wait1(su, prod);
}

/* ------------------------------------------------------------ flush */

static bool vmid_nested(const struct smmu_unit *su, uint32_t vmid)
{
	return su->nested_vmids && vmid < 65536 && (su->nested_vmids[vmid / 64] >> (vmid % 64) & 1);
}

/* The general flush: @n domains' ranges in one batch. */
static __attribute__((noinline)) int flush_batch(struct smmu_unit *su, const struct fam_flush *f,
						 uint32_t n)
{
	struct smmu_batch b;

	smmu_batch_init(&b, su);
	for (uint32_t i = 0; i < n && !su->test_skip_tlbi; i++) {
		uint16_t id = (uint16_t)f[i].did;

		if (f[i].fmt == PGT_ARM_S1_4K) {
			if (!f[i].size || !tlbi_range(&b, SMMU_OP_TLBI_NH_VA, 0, id, f[i].iova,
						      f[i].size, f[i].pgsize, f[i].leaf_only))
				smmu_cmd_tlbi_asid(&b, id);
		} else if (su->s2) { /* (an identity domain's ID: nothing cached by it) */
			if (!f[i].size || !tlbi_range(&b, SMMU_OP_TLBI_S2_IPA, id, 0, f[i].iova,
						      f[i].size, f[i].pgsize, f[i].leaf_only))
				smmu_cmd_tlbi_vmall(&b, id);
			else if (vmid_nested(su, id))
				cmd_tlbi_nh_all(&b, id);
		}
	}
	return smmu_batch_sync(&b);
}

int smmu_flush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	struct smmu_unit *su = smmu_of(u);

	/* One 4 KiB page of one domain (the strict unmap): its one TLBI, no
	 * batch (cmdq_issue1).  The same command tlbi_range gives it; a
	 * stage-2 VMID that nested STEs use needs a second one (flush_batch). */
	if (n == 1 && f->size == 4096 && !(f->iova & 4095) && !su->test_skip_tlbi) {
		uint16_t id = (uint16_t)f->did;
		uint64_t c0, c1;

		if (f->fmt == PGT_ARM_S1_4K) {
			tlbi_addr_words(SMMU_OP_TLBI_NH_VA, 0, id, f->iova, f->leaf_only, &c0, &c1);
			return cmdq_issue1(su, unit_regs(u), c0, c1);
		}
		if (su->s2 && !vmid_nested(su, id)) {
			tlbi_addr_words(SMMU_OP_TLBI_S2_IPA, id, 0, f->iova, f->leaf_only, &c0,
					&c1);
			return cmdq_issue1(su, unit_regs(u), c0, c1);
		}
	}
	return flush_batch(su, f, n);
}

/* ------------------------------------------------------------ user commands */

static struct uiommu_device *inv_dev(struct uiommu_unit *u, uint32_t id)
{
	struct uiommu_device *d = uobj_lookup(u->ctx, id, UOBJ_DEVICE);

	return d && d->unit == u ? d : NULL;
}

/* The one command for @e (checked by inv_check). */
static void inv_cmd(struct smmu_batch *b, struct uiommu_unit *u, uint16_t vmid,
		    const struct uiommu_inv_entry *e)
{
	bool leaf = e->flags & UIOMMU_INV_F_LEAF;
	uint16_t asid = (uint16_t)e->pasid;
	struct uiommu_device *d;

	switch (e->type) {
	case UIOMMU_INV_S1_ALL:
		cmd_tlbi_nh_all(b, vmid);
		break;
	case UIOMMU_INV_S1_PASID:
		smmu_batch_add(b,
			       FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_TLBI_NH_ASID) |
				       FIELD_PREP(SMMU_CMD0_VMID, vmid) |
				       FIELD_PREP(SMMU_CMD0_ASID, asid),
			       0);
		break;
	case UIOMMU_INV_S1_RANGE: {
		uint64_t pages = e->len >> 12;
		unsigned int scale = pages ? (unsigned int)__builtin_ctzll(pages) : 0;

		if (pages == 1)
			cmd_tlbi_addr(b, SMMU_OP_TLBI_NH_VA, vmid, asid, e->addr, 0, 0, false,
				      leaf);
		else if (pages && b->su->ril && (pages >> scale) <= 32 && scale <= 31)
			cmd_tlbi_addr(b, SMMU_OP_TLBI_NH_VA, vmid, asid, e->addr,
				      (unsigned int)(pages >> scale) - 1, scale, true, leaf);
		else /* not one command's range: the whole ASID */
			smmu_batch_add(b,
				       FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_TLBI_NH_ASID) |
					       FIELD_PREP(SMMU_CMD0_VMID, vmid) |
					       FIELD_PREP(SMMU_CMD0_ASID, asid),
				       0);
		break;
	}
	case UIOMMU_INV_DEV_TLB: {
		uint64_t c0, c1;
		unsigned int size = 52; /* ATC_INV_SIZE_ALL */

		d = inv_dev(u, e->dev_id);
		if (e->len) {
			size = 0;
			while (size < 52 && ((e->addr >> 12) >> size) << size !=
						    ((e->addr + e->len - 1) >> 12) >> size << size)
				size++;
		}
		c0 = FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_ATC_INV) |
		     FIELD_PREP(SMMU_CMD0_SID, d->desc.hw_id);
		if (e->pasid != UIOMMU_NO_PASID)
			c0 |= SMMU_CMD0_SSV | FIELD_PREP(SMMU_CMD0_SSID, e->pasid);
		c1 = FIELD_PREP(SMMU_CMD1_ATC_SIZE, size) |
		     (ALIGN_DOWN_ULL(e->addr, 1ull << (12 + (size < 52 ? size : 0))) &
		      SMMU_CMD1_VA);
		smmu_batch_add(b, c0, c1);
		break;
	}
	case UIOMMU_INV_CFG:
		d = inv_dev(u, e->dev_id);
		if (e->pasid == UIOMMU_NO_PASID)
			smmu_cmd_cfgi_ste(b, d->desc.hw_id);
		else
			smmu_cmd_cfgi_cd(b, d->desc.hw_id, e->pasid);
		break;
	}
}

/* A device the guest of VMID @vmid may name: one whose STE is a nested
 * STE under that VMID (iommufd resolves the guest's virtual StreamID
 * through the vIOMMU's vdevices likewise): never a device of another
 * vIOMMU, nor one the host translates. */
static bool inv_dev_owned(struct uiommu_unit *u, uint32_t vmid, uint32_t dev_id)
{
	struct uiommu_device *d = inv_dev(u, dev_id);
	const struct smmu_dev *sd = d ? d->priv : NULL;

	return sd && sd->rid == SMMU_RID_NESTED && sd->vmid == vmid;
}

static int inv_check(struct uiommu_unit *u, uint32_t vmid, const struct uiommu_inv_entry *e)
{
	struct smmu_unit *su = smmu_of(u);
	uint32_t asid_max = su->asid16 ? 0xffff : 0xff;

	switch (e->type) {
	case UIOMMU_INV_S1_PASID:
	case UIOMMU_INV_S1_RANGE:
		return e->pasid > asid_max ? -EINVAL : 0; /* pasid carries the ASID */
	case UIOMMU_INV_DEV_TLB:
	case UIOMMU_INV_CFG:
		if (!inv_dev_owned(u, vmid, e->dev_id))
			return -EINVAL;
		return e->pasid != UIOMMU_NO_PASID && e->pasid >= (1u << 20) ? -EINVAL : 0;
	default:
		return 0;
	}
}

int smmu_cache_invalidate(struct uiommu_unit *u, uint32_t vmid, uint32_t s1_did,
			  const struct uiommu_inv_entry *e, uint32_t n, uint32_t *done)
{
	struct smmu_unit *su = smmu_of(u);
	struct smmu_batch b;
	uint32_t ok;
	int bad = 0, rc;

	(void)s1_did; /* the guest's ASIDs tag its entries, under the vIOMMU's VMID */
	*done = 0;
	for (ok = 0; ok < n; ok++) {
		bad = inv_check(u, vmid, &e[ok]);
		if (bad)
			break;
	}
	if (!ok)
		return bad; /* nothing to issue (not even a CMD_SYNC) */
	smmu_batch_init(&b, su);
	for (uint32_t i = 0; i < ok; i++)
		inv_cmd(&b, u, (uint16_t)vmid, &e[i]);
	rc = smmu_batch_sync(&b);
	if (rc == -EIO && b.bad >= 0) {
		*done = (uint32_t)b.bad;
		return -EIO;
	}
	if (rc)
		return rc;
	*done = ok;
	return bad;
}

int smmu_page_response(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		       uint32_t grpid, enum uiommu_page_resp code)
{
	struct smmu_unit *su = smmu_of(u);
	struct smmu_dev *sd = dev->priv;
	struct smmu_batch b;
	uint64_t c0;
	unsigned int resp;

	if (!sd)
		return -ENODEV;
	if (sd->stall) {
		/* CMD_RESUME (IHI 0070 4.7.2): Retry on success, else Abort (as
		 * Linux's arm_smmu_page_response); @grpid is the STAG.  Only for
		 * a transaction the EVTQ reported stalled and nobody resumed:
		 * the SMMU would ignore any other, and a STAG can be reused by
		 * a later stall, which a stale resume would then answer. */
		if (grpid > FIELD_MAX(SMMU_CMD1_RESUME_STAG))
			return -EINVAL;
		if (code != UIOMMU_PAGE_RESP_SUCCESS && code != UIOMMU_PAGE_RESP_INVALID &&
		    code != UIOMMU_PAGE_RESP_FAILURE)
			return -EINVAL;
		if (!smmu_stall_take(su, sd, grpid)) {
			SMMU_LOG(ERR,
				 "unit %u: StreamID 0x%x: no stalled transaction %u pending: no "
				 "resume sent",
				 u->obj.id, dev->desc.hw_id, grpid);
			return -ENOENT;
		}
		smmu_batch_init(&b, su);
		smmu_batch_add(&b,
			       FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_RESUME) |
				       FIELD_PREP(SMMU_CMD0_SID, dev->desc.hw_id) |
				       FIELD_PREP(SMMU_CMD0_RESUME_RESP,
						  code == UIOMMU_PAGE_RESP_SUCCESS ? 1u : 2u),
			       FIELD_PREP(SMMU_CMD1_RESUME_STAG, grpid));
		return smmu_batch_sync(&b);
	}
	if (!su->pri)
		return -EOPNOTSUPP;
	if (grpid > FIELD_MAX(SMMU_CMD1_PRI_GRPID) ||
	    (pasid != UIOMMU_NO_PASID && pasid >= (1u << 20)))
		return -EINVAL;
	switch (code) {
	case UIOMMU_PAGE_RESP_SUCCESS:
		resp = SMMU_PRI_RESP_SUCCESS;
		break;
	case UIOMMU_PAGE_RESP_INVALID:
		resp = SMMU_PRI_RESP_DENY;
		break;
	case UIOMMU_PAGE_RESP_FAILURE:
		resp = SMMU_PRI_RESP_FAIL;
		break;
	default:
		return -EINVAL;
	}
	/* One response per group the SMMU reported, none for a group never
	 * requested (a PRI_RESP the device does not expect is an unexpected
	 * completion it may treat as an error) or answered already. */
	if (!smmu_prg_take(su, sd, pasid, grpid)) {
		SMMU_LOG(ERR,
			 "unit %u: StreamID 0x%x: no page request group %u%s pending: no "
			 "response sent",
			 u->obj.id, dev->desc.hw_id, grpid,
			 pasid != UIOMMU_NO_PASID ? " (with a SubstreamID)" : "");
		return -ENOENT;
	}
	c0 = FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_PRI_RESP) |
	     FIELD_PREP(SMMU_CMD0_SID, dev->desc.hw_id);
	if (pasid != UIOMMU_NO_PASID)
		c0 |= SMMU_CMD0_SSV | FIELD_PREP(SMMU_CMD0_SSID, pasid);
	smmu_batch_init(&b, su);
	smmu_batch_add(&b, c0,
		       FIELD_PREP(SMMU_CMD1_PRI_GRPID, grpid) |
			       FIELD_PREP(SMMU_CMD1_PRI_RESP, resp));
	return smmu_batch_sync(&b);
}

int smmu_inv_all(struct smmu_unit *su)
{
	struct smmu_batch b;

	smmu_batch_init(&b, su);
	cmd_cfgi_all(&b);
	smmu_batch_add(&b, FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_TLBI_NSNH_ALL), 0);
	return smmu_batch_sync(&b);
}
