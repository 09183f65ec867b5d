/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tool support: object names, read-only views of devices and units, and
 * who owns a shared state.  Names live in the context (ctx->ext), so a
 * layout applied by one uiommuctl invocation finds its objects again in the
 * next one; a name whose object died is dropped when next seen.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "core/ctx_ext.h"

/* ---------------------------------------------------------------- names */

/* A name starts with a letter or '_' (so it never reads as an ID or a PCI
 * address) and has letters, digits and "_-.:" after that. */
static bool name_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= UIOMMU_NAME_MAX || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-.:", s[i]))
			return false;
	return true;
}

/* Drop records whose object is gone. */
static void names_prune(struct uiommu_ctx *ctx, struct ctx_ext *e)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &e->names)
	{
		struct ext_name *nm = list_entry(pos, struct ext_name, link);

		if (!uobj_lookup(ctx, nm->id, 0)) {
			list_del(&nm->link);
			uenv_free(nm);
		}
	}
}

static struct ext_name *name_by_id(struct ctx_ext *e, uint32_t id)
{
	struct list_node *pos;

	list_for_each(pos, &e->names)
	{
		struct ext_name *nm = list_entry(pos, struct ext_name, link);
		if (nm->id == id)
			return nm;
	}
	return NULL;
}

static struct ext_name *name_by_str(struct ctx_ext *e, const char *name)
{
	struct list_node *pos;

	list_for_each(pos, &e->names)
	{
		struct ext_name *nm = list_entry(pos, struct ext_name, link);
		if (!strcmp(nm->name, name))
			return nm;
	}
	return NULL;
}

int uiommu_obj_set_name(struct uiommu_ctx *ctx, uint32_t id, const char *name)
{
	struct ext_name *nm, *other;
	struct ctx_ext *e;
	int rc = 0;

	if (!ctx)
		return -EINVAL;
	if (name && *name && !name_valid(name))
		return -EINVAL;
	ctx_lock(ctx);
	if (!uobj_lookup(ctx, id, 0)) {
		rc = -ENOENT;
		goto out;
	}
	e = ctx_ext_get(ctx, name && *name);
	if (!e) {
		rc = name && *name ? -ENOMEM : 0;
		goto out;
	}
	names_prune(ctx, e);
	nm = name_by_id(e, id);
	if (!name || !*name) {
		if (nm) {
			list_del(&nm->link);
			uenv_free(nm);
		}
		goto out;
	}
	other = name_by_str(e, name);
	if (other) {
		rc = other->id == id ? 0 : -EEXIST;
		goto out;
	}
	if (!nm) {
		nm = uenv_zalloc(sizeof(*nm));
		if (!nm) {
			rc = -ENOMEM;
			goto out;
		}
		nm->id = id;
		list_add_tail(&e->names, &nm->link);
	}
	memset(nm->name, 0, sizeof(nm->name));
	memcpy(nm->name, name, strlen(name));
out:
	ctx_unlock(ctx);
	return rc;
}

int uiommu_obj_get_name(struct uiommu_ctx *ctx, uint32_t id, char *buf, size_t len)
{
	struct ext_name *nm = NULL;
	struct ctx_ext *e;

	if (!ctx || !buf || !len)
		return -EINVAL;
	ctx_lock(ctx);
	e = ctx_ext_get(ctx, false);
	if (e && uobj_lookup(ctx, id, 0))
		nm = name_by_id(e, id);
	if (nm) {
		strncpy(buf, nm->name, len - 1);
		buf[len - 1] = '\0';
	}
	ctx_unlock(ctx);
	return nm ? 0 : -ENOENT;
}

uint32_t uiommu_obj_find(struct uiommu_ctx *ctx, const char *name)
{
	struct ext_name *nm = NULL;
	struct ctx_ext *e;
	uint32_t id = 0;

	if (!ctx || !name)
		return 0;
	ctx_lock(ctx);
	e = ctx_ext_get(ctx, false);
	if (e)
		nm = name_by_str(e, name);
	if (nm && uobj_lookup(ctx, nm->id, 0))
		id = nm->id;
	ctx_unlock(ctx);
	return id;
}

/* ---------------------------------------------------------- read-only views */

int uiommu_device_get_desc(const struct uiommu_device *dev, struct uiommu_device_desc *out)
{
	if (!dev || !out)
		return -EINVAL;
	*out = dev->desc;
	return 0;
}

uint32_t uiommu_device_attachments(const struct uiommu_device *dev, struct uiommu_attach_info *out,
				   uint32_t max)
{
	const struct list_node *pos;
	uint32_t n = 0;

	if (!dev)
		return 0;
	ctx_lock(dev->unit->ctx);
	list_for_each(pos, &dev->attaches)
	{
		const struct dev_attach *a = list_entry(pos, struct dev_attach, link);

		if (out && n < max) {
			out[n].pasid = a->pasid;
			out[n].hwpt_id = a->hwpt ? a->hwpt->obj.id : 0;
			out[n].ioas_id = a->ioas ? a->ioas->obj.id : 0;
		}
		n++;
	}
	ctx_unlock(dev->unit->ctx);
	return n;
}

int uiommu_unit_get_info(const struct uiommu_unit *unit, struct uiommu_unit_info *out)
{
	if (!unit || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->id = unit->obj.id;
	out->family = unit->family;
	out->access = unit->access;
	out->reg_base = unit->reg_base;
	out->segment = unit->segment;
	out->numa_node = unit->numa_node;
	out->nr_devices = unit->nr_devices;
	return 0;
}

/* ------------------------------------------------------------ state path */

int uiommu_state_path(const struct uiommu_env_opts *opts, char *buf, size_t len)
{
	if (!opts || !buf || (opts->backend != UIOMMU_MEM_SHARED_SHM &&
			      opts->backend != UIOMMU_MEM_SHARED_HUGE))
		return -EINVAL;
	return uenv_state_path(opts, buf, len);
}

int uiommu_state_users(struct uiommu_ctx *ctx, uint32_t *pids, uint32_t max)
{
	if (!ctx || (max && !pids))
		return -EINVAL;
	return uenv_state_users(pids, max);
}

int uiommu_state_remove(const struct uiommu_env_opts *opts)
{
	if (!opts || (opts->backend != UIOMMU_MEM_SHARED_SHM &&
		      opts->backend != UIOMMU_MEM_SHARED_HUGE))
		return -EINVAL;
	return uenv_state_unlink(opts);
}
