/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI enumeration and config space through libpci.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "core/bitfield.h"
#include "env/env_pci.h"

#define PASID_CAP_EXEC BIT_ULL(1)
#define PASID_CAP_PRIV BIT_ULL(2)
#define PASID_CAP_WIDTH GENMASK_ULL(12, 8)
#define ATS_CAP_QDEPTH GENMASK_ULL(4, 0)
#define ATS_CAP_PAGE_ALIGNED BIT_ULL(5)
#define PCI_CAP_ID_SECDEV 0x0f     /* AMD-Vi IOMMU capability */
#define AMDVI_CAP_TYPE GENMASK_ULL(18, 16)
#define AMDVI_CAP_TYPE_IOMMU 3

struct uenv_pci {
	struct pci_access *acc;
	struct pci_dev **devs;
	size_t ndevs;
};

/*
 * libpci's error callback must not return; jump back to the call that
 * started the libpci operation instead of letting it exit the process.
 */
static jmp_buf *pci_jmp;

__attribute__((noreturn)) static void pci_error(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (pci_jmp)
		longjmp(*pci_jmp, 1);
	abort();
}

static void pci_quiet(char *msg, ...)
{
	(void)msg;
}

static const char *sysfs_path; /* tests: a fake /sys/bus/pci */

void uenv_pci_set_sysfs_path(const char *path)
{
	sysfs_path = path;
}

/*
 * Run @fn(@d, @o) with libpci errors turned into -EIO.  libpci reads
 * sysfs lazily: pci_fill_info() opens the device's "vendor", "device" and
 * "class" files and calls the error callback when one is gone (a device
 * removed since the scan: hot unplug, SR-IOV VFs disabled) - the process
 * aborted there.
 */
static int guarded(void (*fn)(struct pci_dev *d, void *o), struct pci_dev *d, void *o)
{
	jmp_buf jb;

	pci_jmp = &jb;
	if (setjmp(jb)) {
		pci_jmp = NULL;
		return -EIO;
	}
	fn(d, o);
	pci_jmp = NULL;
	return 0;
}

/* pci_init + pci_scan_bus with libpci errors turned into -EIO. */
static int init_scan(struct pci_access *acc)
{
	jmp_buf jb;

	pci_jmp = &jb;
	if (setjmp(jb)) {
		pci_jmp = NULL;
		return -EIO;
	}
	pci_init(acc);
	pci_scan_bus(acc);
	pci_jmp = NULL;
	return 0;
}

int uenv_pci_open(struct uenv_pci **out)
{
	struct uenv_pci *p;
	struct pci_dev *d;
	size_t n = 0;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->acc = pci_alloc();
	if (!p->acc) {
		free(p);
		return -ENOMEM;
	}
	p->acc->error = pci_error;
	p->acc->warning = pci_quiet;
	p->acc->debug = pci_quiet;
	if (sysfs_path) {
		p->acc->method = PCI_ACCESS_SYS_BUS_PCI;
		pci_set_param(p->acc, "sysfs.path", (char *)sysfs_path);
	}
	if (init_scan(p->acc)) {
		pci_cleanup(p->acc);
		free(p);
		return -EIO;
	}
	for (d = p->acc->devices; d; d = d->next)
		n++;
	p->devs = calloc(n ? n : 1, sizeof(*p->devs));
	if (!p->devs) {
		pci_cleanup(p->acc);
		free(p);
		return -ENOMEM;
	}
	for (d = p->acc->devices; d; d = d->next)
		p->devs[p->ndevs++] = d;
	*out = p;
	return 0;
}

void uenv_pci_close(struct uenv_pci *p)
{
	if (!p)
		return;
	pci_cleanup(p->acc);
	free(p->devs);
	free(p);
}

size_t uenv_pci_count(const struct uenv_pci *p)
{
	return p ? p->ndevs : 0;
}

static void fill(struct pci_dev *d, void *arg)
{
	struct uenv_pci_dev *o = arg;
	struct pci_cap *c;
	uint8_t htype;

	memset(o, 0, sizeof(*o));
	pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
	o->segment = (uint16_t)d->domain;
	o->bus = d->bus;
	o->dev = d->dev;
	o->fn = d->func;
	o->vendor = d->vendor_id;
	o->device = d->device_id;
	o->class_code = (uint32_t)d->device_class << 8 | pci_read_byte(d, PCI_CLASS_PROG);
	htype = pci_read_byte(d, PCI_HEADER_TYPE) & 0x7f;
	if (htype == PCI_HEADER_TYPE_BRIDGE || htype == PCI_HEADER_TYPE_CARDBUS) {
		o->is_bridge = true;
		o->secondary = pci_read_byte(d, PCI_SECONDARY_BUS);
		o->subordinate = pci_read_byte(d, PCI_SUBORDINATE_BUS);
	}
	c = pci_find_cap(d, PCI_EXT_CAP_ID_PASID, PCI_CAP_EXTENDED);
	if (c) {
		uint16_t v = pci_read_word(d, c->addr + 4);

		o->pasid_cap = (uint16_t)c->addr;
		o->pasid_width = (uint8_t)FIELD_GET(PASID_CAP_WIDTH, v);
		o->pasid_exec = FIELD_GET(PASID_CAP_EXEC, v);
		o->pasid_priv = FIELD_GET(PASID_CAP_PRIV, v);
	}
	c = pci_find_cap(d, PCI_EXT_CAP_ID_ATS, PCI_CAP_EXTENDED);
	if (c) {
		uint16_t v = pci_read_word(d, c->addr + 4);

		o->ats_cap = (uint16_t)c->addr;
		o->ats_queue_depth = (uint8_t)FIELD_GET(ATS_CAP_QDEPTH, v);
		o->ats_page_aligned = FIELD_GET(ATS_CAP_PAGE_ALIGNED, v);
	}
	c = pci_find_cap(d, PCI_EXT_CAP_ID_PRI, PCI_CAP_EXTENDED);
	if (c) {
		o->pri_cap = (uint16_t)c->addr;
		o->pri_max_requests = pci_read_long(d, c->addr + 8);
	}
	c = pci_find_cap(d, PCI_CAP_ID_SECDEV, PCI_CAP_NORMAL);
	if (c) {
		uint32_t hdr = pci_read_long(d, c->addr);

		if (FIELD_GET(AMDVI_CAP_TYPE, hdr) == AMDVI_CAP_TYPE_IOMMU) {
			o->amdvi_cap = (uint16_t)c->addr;
			o->amdvi_header = hdr;
			o->amdvi_base_lo = pci_read_long(d, c->addr + 4);
			o->amdvi_base_hi = pci_read_long(d, c->addr + 8);
			o->amdvi_range = pci_read_long(d, c->addr + 12);
			o->amdvi_misc0 = pci_read_long(d, c->addr + 16);
			o->amdvi_misc1 = pci_read_long(d, c->addr + 20);
		}
	}
}

int uenv_pci_get(struct uenv_pci *p, size_t i, struct uenv_pci_dev *out)
{
	if (!p || i >= p->ndevs)
		return -EINVAL;
	return guarded(fill, p->devs[i], out);
}

static struct pci_dev *lookup(struct uenv_pci *p, uint16_t seg, uint8_t bus, uint8_t dev,
			      uint8_t fn)
{
	for (size_t i = 0; p && i < p->ndevs; i++) {
		struct pci_dev *d = p->devs[i];

		if (d->domain == seg && d->bus == bus && d->dev == dev && d->func == fn)
			return d;
	}
	return NULL;
}

int uenv_pci_find(struct uenv_pci *p, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
		  struct uenv_pci_dev *out)
{
	struct pci_dev *d = lookup(p, seg, bus, dev, fn);

	if (!d)
		return -ENOENT;
	return guarded(fill, d, out);
}

struct cfg_read {
	unsigned int off, len;
	void *buf;
	int ok;
};

static void cfg_read(struct pci_dev *d, void *arg)
{
	struct cfg_read *r = arg;

	r->ok = pci_read_block(d, (int)r->off, r->buf, (int)r->len);
}

int uenv_pci_read_config(struct uenv_pci *p, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
			 unsigned int off, void *buf, unsigned int len)
{
	struct pci_dev *d = lookup(p, seg, bus, dev, fn);
	struct cfg_read r = {.off = off, .len = len, .buf = buf};

	if (!d)
		return -ENOENT;
	if (off > 4096 || len > 4096 - off)
		return -EINVAL;
	if (guarded(cfg_read, d, &r))
		return -EIO;
	return r.ok ? 0 : -EIO;
}

struct bridge_read {
	uint8_t htype, sec, sub;
};

static void bridge_read(struct pci_dev *d, void *arg)
{
	struct bridge_read *b = arg;

	b->htype = pci_read_byte(d, PCI_HEADER_TYPE) & 0x7f;
	b->sec = pci_read_byte(d, PCI_SECONDARY_BUS);
	b->sub = pci_read_byte(d, PCI_SUBORDINATE_BUS);
}

int uenv_pci_bridge_buses(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
			  uint8_t *secondary, uint8_t *subordinate)
{
	struct pci_dev *d = lookup(ctx, seg, bus, dev, fn);
	struct bridge_read b;

	if (!d)
		return -ENOENT;
	if (guarded(bridge_read, d, &b))
		return -EIO;
	if (b.htype != PCI_HEADER_TYPE_BRIDGE && b.htype != PCI_HEADER_TYPE_CARDBUS)
		return -ENOTDIR;
	*secondary = b.sec;
	*subordinate = b.sub;
	return 0;
}
