/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IORT (Arm DEN 0049, revisions C to E.e): SMMUv3 nodes become units; root
 * complex and named component ID mappings that lead to an SMMUv3 become
 * device maps (RID or device ID -> StreamID); RMR nodes become reserved
 * regions on the streams they name.  ITS groups, SMMUv1/v2 and PMCG nodes
 * are decoded for display only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bitfield.h"
#include "fw/fw_internal.h"

#define IORT_NODE_COUNT 36
#define IORT_NODE_OFFSET 40
#define IORT_FIXED_LEN 48u

#define NODE_HDR_LEN 16u
#define NODE_TYPE 0
#define NODE_LENGTH 1
#define NODE_REV 3
#define NODE_ID 4
#define NODE_MAP_COUNT 8
#define NODE_MAP_OFFSET 12

enum {
	IORT_ITS = 0,
	IORT_NAMED = 1,
	IORT_RC = 2,
	IORT_SMMU = 3,
	IORT_SMMUV3 = 4,
	IORT_PMCG = 5,
	IORT_RMR = 6,
};

/* One ID mapping: 20 bytes. */
#define MAP_LEN 20u
#define MAP_F_SINGLE BIT_ULL(0)

/* Fixed sizes of node data (header included). */
#define SMMUV3_LEN 68u
#define RC_LEN 36u
#define NAMED_LEN 29u
#define RMR_LEN 28u
#define ITS_LEN 20u
#define RMR_DESC_LEN 20u

#define SMMUV3_F_COHACC BIT_ULL(0)
#define SMMUV3_F_HTTU GENMASK_ULL(2, 1)
#define SMMUV3_F_PXM_VALID BIT_ULL(3)
#define SMMUV3_F_IDMAP_VALID BIT_ULL(4)
#define RMR_F_REMAP_PERMITTED BIT_ULL(0)
#define RMR_F_PRIVILEGED BIT_ULL(1)

static const char *const node_names[] = {"ITS", "named-component", "root-complex", "SMMUv1/v2",
					 "SMMUv3", "PMCG", "RMR"};

/* Parser state over the node list. */
struct iort {
	struct fw_ctx *c;
	uint32_t *node_off; /* offsets of valid nodes */
	int *node_unit;     /* unit of each node, -1 */
	size_t nnodes;
};

/* Index of the node at @off, or -1.  node_off[] rises strictly (pass 1
 * walks forward by lengths >= NODE_HDR_LEN): a binary search, so that a
 * table of many nodes and mappings costs n log n, not n * n. */
static int node_index(const struct iort *io, uint32_t off)
{
	size_t lo = 0, hi = io->nnodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (io->node_off[mid] == off)
			return (int)mid;
		if (io->node_off[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Check the ID mapping array of a node; returns the mapping count or -1. */
static int check_maps(struct fw_ctx *c, uint32_t off, uint32_t nlen, uint32_t fixed)
{
	uint32_t cnt = ld32(c->b, off + NODE_MAP_COUNT), moff = ld32(c->b, off + NODE_MAP_OFFSET);

	if (cnt == 0)
		return 0;
	if (moff < fixed || cnt > nlen / MAP_LEN || !fw_in(moff, (size_t)cnt * MAP_LEN, nlen)) {
		fw_diag(c, UIOMMU_FW_ERROR, off,
			"node ID mapping array (%u mappings at +%u) does not fit in the node (length %u); mappings ignored",
			cnt, moff, nlen);
		return -1;
	}
	return (int)cnt;
}

/*
 * Walk the ID mappings of a node.  For a mapping to an SMMUv3 call @emit
 * with the unit index; others are reported.
 */
typedef void (*map_fn)(struct iort *io, void *arg, int unit, uint32_t in, uint32_t count,
		       uint32_t out, bool single, uint32_t moff);

static void walk_maps(struct iort *io, uint32_t off, uint32_t nlen, uint32_t fixed, map_fn fn,
		      void *arg)
{
	struct fw_ctx *c = io->c;
	int cnt = check_maps(c, off, nlen, fixed);
	uint32_t moff = ld32(c->b, off + NODE_MAP_OFFSET);

	for (int i = 0; i < cnt; i++) {
		uint32_t m = off + moff + (uint32_t)i * MAP_LEN;
		uint32_t in = ld32(c->b, m), count = ld32(c->b, m + 4), out = ld32(c->b, m + 8);
		uint32_t ref = ld32(c->b, m + 12), flags = ld32(c->b, m + 16);
		struct uiommu_fw_item *it = fw_add_item(c, 2, m, MAP_LEN, 0, "id-mapping");
		int ni = node_index(io, ref);

		fw_field(it, "input_base", in);
		fw_field(it, "id_count", count);
		fw_field(it, "output_base", out);
		fw_field(it, "output_reference", ref);
		fw_field(it, "single", FIELD_GET(MAP_F_SINGLE, flags));
		if (ni < 0) {
			fw_diag(c, UIOMMU_FW_WARN, m,
				"ID mapping points to offset 0x%x which is not a node; ignored", ref);
			continue;
		}
		/* The last output ID is out + count (ID count is "IDs - 1"): past
		 * 2^32 the IDs wrap onto 0.. and a device would get another
		 * device's StreamID.  Not used. */
		if (!FIELD_GET(MAP_F_SINGLE, flags) && (uint64_t)out + count > UINT32_MAX) {
			bool used = io->node_unit[ni] >= 0 && fn;

			fw_diag(c, used ? UIOMMU_FW_ERROR : UIOMMU_FW_WARN, m,
				"ID mapping output 0x%x + %u passes 2^32 (IDs would wrap to 0)%s", out,
				count, used ? "; ignored" : "");
			continue;
		}
		if (io->node_unit[ni] >= 0 && fn)
			fn(io, arg, io->node_unit[ni], in, count, out, FIELD_GET(MAP_F_SINGLE, flags),
			   m);
	}
}

struct dev_arg {
	enum uiommu_fw_devkind kind;
	uint16_t seg;
	const char *name;
	size_t dev0; /* the node's first device map */
};

static void dev_map(struct iort *io, void *arg, int unit, uint32_t in, uint32_t count,
		    uint32_t out, bool single, uint32_t moff)
{
	struct dev_arg *a = arg;
	struct uiommu_fw_devmap *d;

	if (a->kind == UIOMMU_FW_DEV_PCI && (in > 0xffff || (uint64_t)in + count > 0xffff)) {
		if (in > 0xffff) {
			fw_diag(io->c, UIOMMU_FW_WARN, moff,
				"root complex mapping input base 0x%x beyond 16-bit RIDs; ignored", in);
			return;
		}
		fw_diag(io->c, UIOMMU_FW_WARN, moff,
			"root complex mapping 0x%x+%u beyond 16-bit RIDs; clipped", in, count);
		count = 0xffff - in;
	}
	/* Two mappings of one root complex for the same RIDs: which StreamID
	 * a device has is ambiguous.  Linux takes the first match; the later
	 * mapping is refused (not half used). */
	if (a->kind == UIOMMU_FW_DEV_PCI) {
		uint32_t last = in + count;

		for (size_t i = a->dev0; i < io->c->topo->ndevs; i++) {
			const struct uiommu_fw_devmap *o = &io->c->topo->devs[i];

			if (o->kind == UIOMMU_FW_DEV_PCI && in <= o->last && last >= o->first) {
				fw_diag(io->c, UIOMMU_FW_ERROR, moff,
					"root complex mapping of RIDs 0x%x-0x%x overlaps the one at "
					"offset 0x%x (RIDs 0x%x-0x%x); ignored, the first one is used",
					in, last, o->offset, o->first, o->last);
				return;
			}
		}
	}
	d = fw_add_dev(io->c, unit, a->kind, moff);
	if (!d)
		return;
	d->segment = a->seg;
	d->first = (uint16_t)(in > 0xffff ? 0xffff : in);
	d->last = (uint16_t)((uint64_t)in + count > 0xffff ? 0xffff : in + count);
	d->id_base = out;
	if (single)
		d->flags |= UIOMMU_FW_DEV_SINGLE;
	if (a->name)
		snprintf(d->name, sizeof(d->name), "%s", a->name);
}

struct rmr_arg {
	uint32_t node_off, flags;
	uint32_t desc_off, ndesc;
};

static void rmr_map(struct iort *io, void *arg, int unit, uint32_t in, uint32_t count,
		    uint32_t out, bool single, uint32_t moff)
{
	struct rmr_arg *a = arg;
	struct fw_ctx *c = io->c;

	(void)in;
	(void)moff;
	for (uint32_t i = 0; i < a->ndesc; i++) {
		uint32_t d = a->desc_off + i * RMR_DESC_LEN;
		struct uiommu_fw_resv *r = fw_add_resv(c, UIOMMU_FW_RESV_RMR, d);

		if (!r)
			return;
		r->base = ld64(c->b, d);
		r->length = ld64(c->b, d + 8);
		r->unit = unit;
		r->flags = a->flags;
		r->segment = c->topo->units[unit].segment;
		r->first = (uint16_t)(out > 0xffff ? 0xffff : out);
		r->last = single ? r->first :
				   (uint16_t)((uint64_t)out + count > 0xffff ? 0xffff : out + count);
		snprintf(r->devices, sizeof(r->devices), "StreamID 0x%x-0x%x", out,
			 single ? out : out + count);
	}
}

static void smmuv3(struct iort *io, uint32_t off, int ni)
{
	struct fw_ctx *c = io->c;
	uint32_t flags = ld32(c->b, off + 24);
	uint64_t base = ld64(c->b, off + 16);
	struct uiommu_fw_unit *u = fw_add_unit(c);

	if (!u)
		return;
	u->family = UIOMMU_FAMILY_SMMUV3;
	u->base = base;
	u->size = 0x20000; /* two 64 KiB register pages */
	u->offset = off;
	u->fw_flags = flags;
	u->smmu.vatos = ld64(c->b, off + 32);
	u->smmu.model = ld32(c->b, off + 40);
	u->smmu.gsiv_event = ld32(c->b, off + 44);
	u->smmu.gsiv_pri = ld32(c->b, off + 48);
	u->smmu.gsiv_gerr = ld32(c->b, off + 52);
	u->smmu.gsiv_sync = ld32(c->b, off + 56);
	u->smmu.node_offset = off;
	if (FIELD_GET(SMMUV3_F_PXM_VALID, flags))
		u->proximity = (int32_t)ld32(c->b, off + 60);
	if (base == 0) {
		u->flags |= UIOMMU_FW_UNIT_BAD_BASE;
		fw_diag(c, UIOMMU_FW_WARN, off + 16, "SMMUv3 base address is 0; unit unusable");
	} else if (!IS_ALIGNED_ULL(base, 0x10000)) {
		u->flags |= UIOMMU_FW_UNIT_BAD_BASE;
		fw_diag(c, UIOMMU_FW_WARN, off + 16,
			"SMMUv3 base 0x%llx is not 64 KiB aligned; unit unusable",
			(unsigned long long)base);
	}
	io->node_unit[ni] = (int)(u - c->topo->units);
}

/* Decode the node fields for display and act on it (pass 2). */
static void node(struct iort *io, uint32_t off, uint8_t type, uint16_t nlen,
		 struct uiommu_fw_item *it)
{
	static const uint32_t minlen[] = {ITS_LEN, NAMED_LEN, RC_LEN, NODE_HDR_LEN,
					  SMMUV3_LEN, NODE_HDR_LEN, RMR_LEN};
	struct fw_ctx *c = io->c;
	uint8_t rev = ld8(c->b, off + NODE_REV);

	fw_field(it, "revision", rev);
	fw_field(it, "identifier", ld32(c->b, off + NODE_ID));
	fw_field(it, "mapping_count", ld32(c->b, off + NODE_MAP_COUNT));
	if (type >= ARRAY_SIZE(minlen)) {
		fw_diag(c, UIOMMU_FW_INFO, off, "unknown IORT node type %u (length %u) skipped", type,
			nlen);
		return;
	}
	if (nlen < minlen[type]) {
		fw_diag(c, UIOMMU_FW_ERROR, off, "%s node length %u shorter than its fixed part %u",
			node_names[type], nlen, minlen[type]);
		return;
	}
	switch (type) {
	case IORT_ITS: {
		uint32_t n = ld32(c->b, off + 16);

		fw_field(it, "its_count", n);
		if (n > (nlen - ITS_LEN + 4) / 4)
			fw_diag(c, UIOMMU_FW_ERROR, off, "ITS group count %u does not fit the node", n);
		break;
	}
	case IORT_SMMUV3: {
		uint32_t flags = ld32(c->b, off + 24);

		fw_field(it, "base", ld64(c->b, off + 16));
		fw_field(it, "flags", flags);
		fw_field(it, "coherent", FIELD_GET(SMMUV3_F_COHACC, flags));
		fw_field(it, "httu_override", FIELD_GET(SMMUV3_F_HTTU, flags));
		fw_field(it, "model", ld32(c->b, off + 40));
		fw_field(it, "event_gsiv", ld32(c->b, off + 44));
		fw_field(it, "pri_gsiv", ld32(c->b, off + 48));
		fw_field(it, "gerr_gsiv", ld32(c->b, off + 52));
		fw_field(it, "sync_gsiv", ld32(c->b, off + 56));
		if (FIELD_GET(SMMUV3_F_PXM_VALID, flags))
			fw_field(it, "proximity_domain", ld32(c->b, off + 60));
		walk_maps(io, off, nlen, SMMUV3_LEN, NULL, NULL);
		break;
	}
	case IORT_RC: {
		struct dev_arg a = {.kind = UIOMMU_FW_DEV_PCI, .seg = (uint16_t)ld32(c->b, off + 28)};

		if (ld32(c->b, off + 28) > 0xffff)
			fw_diag(c, UIOMMU_FW_WARN, off + 28, "PCI segment %u beyond 16 bits",
				ld32(c->b, off + 28));
		fw_field(it, "ats", ld32(c->b, off + 24) & 1);
		fw_field(it, "segment", ld32(c->b, off + 28));
		fw_field(it, "memory_address_limit", ld8(c->b, off + 32));
		a.dev0 = c->topo->ndevs;
		walk_maps(io, off, nlen, RC_LEN, dev_map, &a);
		break;
	}
	case IORT_NAMED: {
		char name[64];
		const uint8_t *nm = c->b + off + NAMED_LEN;
		size_t max = nlen - NAMED_LEN, n = 0;
		struct dev_arg a = {.kind = UIOMMU_FW_DEV_NAMED, .name = name};

		while (n < max && nm[n])
			n++;
		if (n == max)
			fw_diag(c, UIOMMU_FW_WARN, off + NAMED_LEN,
				"named component object name is not NUL terminated");
		fw_printable(name, sizeof(name), nm, n);
		fw_field(it, "flags", ld32(c->b, off + 16));
		fw_field(it, "memory_address_limit", ld8(c->b, off + 28));
		fw_field_str(it, "object_name", "%s", name);
		walk_maps(io, off, nlen, NAMED_LEN, dev_map, &a);
		break;
	}
	case IORT_RMR: {
		struct rmr_arg a = {
			.node_off = off,
			.flags = ld32(c->b, off + 16),
			.ndesc = ld32(c->b, off + 20),
		};
		uint32_t doff = ld32(c->b, off + 24);

		fw_field(it, "flags", a.flags);
		fw_field(it, "remap_permitted", FIELD_GET(RMR_F_REMAP_PERMITTED, a.flags));
		fw_field(it, "access_privileged", FIELD_GET(RMR_F_PRIVILEGED, a.flags));
		fw_field(it, "rmr_count", a.ndesc);
		if (rev < 3)
			fw_diag(c, UIOMMU_FW_INFO, off, "RMR node revision %u (E.d or later is 3)", rev);
		if (a.ndesc == 0 || doff < RMR_LEN || a.ndesc > nlen / RMR_DESC_LEN ||
		    !fw_in(doff, (size_t)a.ndesc * RMR_DESC_LEN, nlen)) {
			fw_diag(c, UIOMMU_FW_ERROR, off,
				"RMR descriptor array (%u at +%u) does not fit in the node (length %u); node ignored",
				a.ndesc, doff, nlen);
			break;
		}
		a.desc_off = off + doff;
		for (uint32_t i = 0; i < a.ndesc; i++) {
			uint32_t d = a.desc_off + i * RMR_DESC_LEN;
			uint64_t b = ld64(c->b, d), l = ld64(c->b, d + 8);
			struct uiommu_fw_item *di = fw_add_item(c, 2, d, RMR_DESC_LEN, 0, "rmr-range");

			fw_field(di, "base", b);
			fw_field(di, "length", l);
			if (l == 0)
				fw_diag(c, UIOMMU_FW_WARN, d, "RMR range at 0x%llx has zero length",
					(unsigned long long)b);
			else if (!IS_ALIGNED_ULL(b, 0x10000) || !IS_ALIGNED_ULL(l, 0x10000))
				fw_diag(c, UIOMMU_FW_WARN, d,
					"RMR range 0x%llx+0x%llx is not 64 KiB aligned",
					(unsigned long long)b, (unsigned long long)l);
			if (l && b + l - 1 < b)
				fw_diag(c, UIOMMU_FW_WARN, d, "RMR range 0x%llx+0x%llx wraps around",
					(unsigned long long)b, (unsigned long long)l);
		}
		walk_maps(io, off, nlen, RMR_LEN, rmr_map, &a);
		break;
	}
	case IORT_SMMU:
		fw_field(it, "base", ld64(c->b, off + 16));
		fw_diag(c, UIOMMU_FW_INFO, off, "SMMUv1/v2 node: not supported by uiommu, skipped");
		break;
	case IORT_PMCG:
		break;
	}
}

int uiommu_fw_parse_iort(struct uiommu_fw_topo *topo, const void *buf, size_t len)
{
	struct uiommu_fw_item *it;
	struct fw_ctx c;
	struct iort io = {.c = &c};
	uint32_t count, noff, off;
	size_t unit0;
	int ret;

	ret = fw_begin(&c, topo, buf, len, "IORT", IORT_FIXED_LEN);
	if (ret)
		return ret;
	count = ld32(c.b, IORT_NODE_COUNT);
	noff = ld32(c.b, IORT_NODE_OFFSET);
	topo->tables[c.table].info = count;
	topo->tables[c.table].flags = topo->tables[c.table].revision;
	it = &topo->items[topo->nitems - 1];
	fw_field(it, "node_count", count);
	fw_field(it, "node_offset", noff);
	if (count && (noff < IORT_FIXED_LEN || noff >= c.len)) {
		fw_diag(&c, UIOMMU_FW_ERROR, IORT_NODE_OFFSET,
			"node offset %u outside the table (48..%u); no nodes parsed", noff, c.len);
		return 0;
	}
	if (count > (c.len - noff) / NODE_HDR_LEN) {
		fw_diag(&c, UIOMMU_FW_ERROR, IORT_NODE_COUNT,
			"node count %u cannot fit in %u bytes; only the nodes that fit are parsed",
			count, c.len - noff);
		count = (c.len - noff) / NODE_HDR_LEN;
	}
	io.node_off = calloc(count + 1, sizeof(*io.node_off));
	io.node_unit = calloc(count + 1, sizeof(*io.node_unit));
	if (!io.node_off || !io.node_unit) {
		topo->oom = true;
		ret = -ENOMEM;
		goto free_nodes;
	}
	unit0 = topo->nunits;

	/* Pass 1: the node list and the SMMUv3 units. */
	for (off = noff; io.nnodes < count && !topo->oom;) {
		uint8_t type;
		uint16_t nlen;

		if (!fw_in(off, NODE_HDR_LEN, c.len)) {
			fw_diag(&c, UIOMMU_FW_ERROR, off,
				"node %zu header beyond the table end; %u nodes missing", io.nnodes,
				count - (uint32_t)io.nnodes);
			break;
		}
		type = ld8(c.b, off + NODE_TYPE);
		nlen = ld16(c.b, off + NODE_LENGTH);
		if (nlen < NODE_HDR_LEN || !fw_in(off, nlen, c.len)) {
			fw_diag(&c, UIOMMU_FW_ERROR, off,
				"node type %u length %u invalid (%u bytes left); rest of table ignored",
				type, nlen, c.len - off);
			break;
		}
		io.node_unit[io.nnodes] = -1;
		io.node_off[io.nnodes] = off;
		if (type == IORT_SMMUV3 && nlen >= SMMUV3_LEN)
			smmuv3(&io, off, (int)io.nnodes);
		io.nnodes++;
		off += nlen;
	}
	if (io.nnodes == count && off < c.len)
		fw_diag(&c, UIOMMU_FW_INFO, off, "%u bytes after the last node", c.len - off);

	/* Pass 2: decode every node and its mappings. */
	for (size_t i = 0; i < io.nnodes && !topo->oom; i++) {
		uint8_t type;
		uint16_t nlen;

		off = io.node_off[i];
		type = ld8(c.b, off + NODE_TYPE);
		nlen = ld16(c.b, off + NODE_LENGTH);
		it = fw_add_item(&c, 1, off, nlen, type,
				 type < ARRAY_SIZE(node_names) ? node_names[type] : "unknown");
		node(&io, off, type, nlen, it);
	}
	/* SMMU units sit on the segment of the root complexes they serve. */
	for (size_t i = unit0; i < topo->nunits; i++)
		for (size_t j = 0; j < topo->ndevs; j++)
			if (topo->devs[j].unit == (int)i && topo->devs[j].kind == UIOMMU_FW_DEV_PCI) {
				topo->units[i].segment = topo->devs[j].segment;
				break;
			}
	for (size_t j = 0; j < topo->nresv; j++)
		if (topo->resv[j].source == UIOMMU_FW_RESV_RMR && topo->resv[j].unit >= (int)unit0)
			topo->resv[j].segment = topo->units[topo->resv[j].unit].segment;
	if (topo->nunits == unit0)
		fw_diag(&c, UIOMMU_FW_WARN, 0, "IORT describes no SMMUv3");
	ret = topo->oom ? -ENOMEM : 0;
free_nodes:
	free(io.node_off);
	free(io.node_unit);
	return ret;
}
