/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The plugin's configuration: a devargs-style string, "key=value,...", as
 * DPDK's own drivers take it (`--vdev uiommu,model=vtd,attach=00:03.0`).
 * The whole string is checked before anything happens: an unknown key, a
 * key given twice (other than attach), a bad value: an error that names
 * it, and nothing changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpdk/dpdk_internal.h"

/* "SEG:BUS:DEV.FN" or "BUS:DEV.FN", hexadecimal, as lspci and DPDK print it. */
int udp_parse_bdf(const char *s, struct udp_bdf *out)
{
	unsigned int seg = 0, bus, dev, fn;
	int n = 0;

	if (!s || strlen(s) > 12)
		return -EINVAL;
	if (sscanf(s, "%4x:%2x:%2x.%1x%n", &seg, &bus, &dev, &fn, &n) == 4 && !s[n]) {
		/* full form */
	} else if (seg = 0, n = 0, sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) == 3 && !s[n]) {
		/* short form */
	} else {
		return -EINVAL;
	}
	if (dev > 31 || fn > 7 || strchr(s, ' ') || strchr(s, '+') || strchr(s, '-'))
		return -EINVAL;
	out->seg = (uint16_t)seg;
	out->bus = (uint8_t)bus;
	out->devfn = (uint8_t)(dev << 3 | fn);
	return 0;
}

static int parse_uint(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long x;

	if (!*v || *v == '-' || *v == '+' || *v == ' ')
		return -EINVAL;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -EINVAL;
	*out = (uint32_t)x;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "off")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static bool state_name_ok(const char *v)
{
	size_t n = strlen(v);

	if (n < 1 || n > 64 || v[0] == '.')
		return false;
	return strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

enum key_id {
	K_MODEL,
	K_STATE,
	K_ATTACH,
	K_POLL,
	K_POLL_MS,
	K_LOG_RATE,
	K_FORCE,
	K_ON_ERROR,
	K_ACPI,
	K_MODEL_CFG,
	K_PASSTHROUGH,
	K_AMDVI_SMALL_DEVTAB,
	K_NR
};
static const char *const key_names[K_NR] = {
	"model", "state",    "attach", "poll",	    "poll_ms",	   "log_rate",
	"force", "on_error", "acpi",   "model_cfg", "passthrough", "amdvi_small_devtab",
};

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static int set_key(enum key_id k, const char *v, struct udp_cfg *cfg, char *err, size_t errlen)
{
	switch (k) {
	case K_MODEL:
		if (uiommu_model_lookup(v, strlen(v), &cfg->model) || !*v)
			return ERR("model=%s: no such built-in model (vtd is the VT-d model)", v);
		return 0;
	case K_STATE:
		if (!state_name_ok(v))
			return ERR("state=%s: a state name is 1-64 of [A-Za-z0-9._-], not starting "
				   "with '.'",
				   v);
		snprintf(cfg->state, sizeof(cfg->state), "%s", v);
		return 0;
	case K_ATTACH:
		if (cfg->nr_attach == UDP_MAX_ATTACH)
			return ERR("attach: at most %d devices", UDP_MAX_ATTACH);
		if (udp_parse_bdf(v, &cfg->attach[cfg->nr_attach]))
			return ERR(
				"attach=%s: not a PCI address (SEG:BUS:DEV.FN or BUS:DEV.FN, hex)",
				v);
		for (uint32_t i = 0; i < cfg->nr_attach; i++)
			if (!memcmp(&cfg->attach[i], &cfg->attach[cfg->nr_attach],
				    sizeof(struct udp_bdf)))
				return ERR("attach=%s given twice", v);
		cfg->nr_attach++;
		return 0;
	case K_POLL:
		if (!strcmp(v, "alarm"))
			cfg->poll = UDP_POLL_ALARM;
		else if (!strcmp(v, "service"))
			cfg->poll = UDP_POLL_SERVICE;
		else if (!strcmp(v, "app"))
			cfg->poll = UDP_POLL_APP;
		else
			return ERR("poll=%s: one of alarm (EAL interrupt thread), service (a "
				   "service core), app (uiommu_dpdk_poll())",
				   v);
		return 0;
	case K_POLL_MS:
		if (parse_uint(v, 1, 60000, &cfg->poll_ms))
			return ERR("poll_ms=%s: milliseconds, 1 to 60000", v);
		return 0;
	case K_LOG_RATE:
		if (parse_uint(v, 0, 100000, &cfg->log_rate))
			return ERR("log_rate=%s: fault log lines per second, 0 to 100000", v);
		return 0;
	case K_FORCE:
		if (parse_bool(v, &cfg->force))
			return ERR("force=%s: 0 or 1", v);
		return 0;
	case K_ON_ERROR:
		if (!strcmp(v, "exit"))
			cfg->exit_on_error = true;
		else if (!strcmp(v, "continue"))
			cfg->exit_on_error = false;
		else
			return ERR("on_error=%s: exit (default) or continue", v);
		return 0;
	case K_ACPI:
		if (!*v || strlen(v) >= sizeof(cfg->acpi_dir))
			return ERR("acpi=%s: a directory of ACPI table files", v);
		snprintf(cfg->acpi_dir, sizeof(cfg->acpi_dir), "%s", v);
		return 0;
	case K_MODEL_CFG:
		/* The model's own "key=value" list, its commas written as ':'
		 * (devargs split on commas): checked by the model itself. */
		if (!*v || strlen(v) >= sizeof(cfg->model_cfg))
			return ERR("model_cfg=%s: the model's settings as key=value:key=value "
				   "(docs/models.md)",
				   v);
		snprintf(cfg->model_cfg, sizeof(cfg->model_cfg), "%s", v);
		for (char *c = cfg->model_cfg; *c; c++)
			if (*c == ':')
				*c = ',';
		return 0;
	case K_PASSTHROUGH:
		if (cfg->nr_passthrough == UDP_MAX_ATTACH)
			return ERR("passthrough: at most %d devices", UDP_MAX_ATTACH);
		if (udp_parse_bdf(v, &cfg->passthrough[cfg->nr_passthrough]))
			return ERR("passthrough=%s: not a PCI address (SEG:BUS:DEV.FN or "
				   "BUS:DEV.FN, hex)",
				   v);
		cfg->nr_passthrough++;
		return 0;
	case K_AMDVI_SMALL_DEVTAB:
		if (parse_bool(v, &cfg->amdvi_small_devtab))
			return ERR("amdvi_small_devtab=%s: 0 or 1 (accept an AMD-Vi device table "
				   "below 65536 DeviceIDs when 2 MiB is not contiguous)",
				   v);
		return 0;
	default:
		return ERR("internal: key %d", (int)k);
	}
}

int udp_cfg_parse(const char *args, struct udp_cfg *out, char *err, size_t errlen)
{
	struct udp_cfg cfg = {
		.model = UIOMMU_FAMILY_NONE,
		.state = "dpdk",
		.poll = UDP_POLL_ALARM,
		.poll_ms = 100,
		.log_rate = 10,
		.exit_on_error = true,
	};
	bool seen[K_NR] = {false};
	char buf[1024], *save = NULL, *tok;

	err[0] = '\0';
	if (!args)
		args = "";
	if (strlen(args) >= sizeof(buf))
		return ERR("configuration longer than %zu bytes", sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s", args);
	if (buf[0] && (buf[0] == ',' || buf[strlen(buf) - 1] == ',' || strstr(buf, ",,")))
		return ERR("'%s': empty item (keys are separated by one comma)", args);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int k;

		if (!eq)
			return ERR(
				"'%s': not key=value (keys: model, state, attach, poll, poll_ms, "
				"log_rate, force, on_error, acpi)",
				tok);
		*eq = '\0';
		for (k = 0; k < K_NR; k++)
			if (!strcmp(tok, key_names[k]))
				break;
		if (k == K_NR)
			return ERR("unknown key '%s' (keys: model, state, attach, poll, poll_ms, "
				   "log_rate, force, on_error, acpi, model_cfg, passthrough, "
				   "amdvi_small_devtab)",
				   tok);
		if (seen[k] && k != K_ATTACH && k != K_PASSTHROUGH)
			return ERR("key '%s' given twice", tok);
		seen[k] = true;
		if (set_key((enum key_id)k, eq + 1, &cfg, err, errlen))
			return -EINVAL;
	}
	if (cfg.model != UIOMMU_FAMILY_NONE && seen[K_FORCE])
		return ERR("force is for hardware units (a model unit is never in use)");
	if (cfg.model != UIOMMU_FAMILY_NONE && seen[K_ACPI])
		return ERR("acpi is for hardware units (a model unit has no firmware entry)");
	if (cfg.model == UIOMMU_FAMILY_NONE && (seen[K_MODEL_CFG] || seen[K_PASSTHROUGH]))
		return ERR("model_cfg and passthrough are for model units (model=vtd); on "
			   "hardware every device the firmware puts behind a unit is found");
	for (uint32_t i = 0; i < cfg.nr_passthrough; i++)
		for (uint32_t j = 0; j < cfg.nr_attach; j++)
			if (!memcmp(&cfg.passthrough[i], &cfg.attach[j], sizeof(struct udp_bdf)))
				return ERR("a device is both in attach and in passthrough");
	if (cfg.model != UIOMMU_FAMILY_NONE && cfg.model != UIOMMU_FAMILY_AMDVI &&
	    seen[K_AMDVI_SMALL_DEVTAB])
		return ERR("amdvi_small_devtab is for AMD-Vi units (hardware or model=amdvi)");
	if (cfg.poll != UDP_POLL_ALARM && seen[K_POLL_MS])
		return ERR("poll_ms is for poll=alarm");
	*out = cfg;
	return 0;
}
