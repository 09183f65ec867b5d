/* SPDX-License-Identifier: BSD-3-Clause */
/* Settings of a built-in model: one parser for every family (model_cfg.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/model_cfg.h"
#include "env/env.h"

static int key_set(void *cfg, const struct model_key *keys, size_t nkeys, const char *key,
		   size_t klen, const char *val, const char *who)
{
	for (size_t i = 0; i < nkeys; i++) {
		const struct model_key *k = &keys[i];
		uint8_t *p = (uint8_t *)cfg + k->off;
		unsigned long long v;
		char *end;

		if (strlen(k->name) != klen || memcmp(k->name, key, klen) != 0)
			continue;
		errno = 0;
		v = strtoull(val, &end, 0);
		/* strtoull takes "-1" as ULLONG_MAX: a sign is never a value here */
		if (errno || end == val || *val == '-' || *val == '+' || (*end && *end != ',') ||
		    v < k->lo || v > k->hi) {
			UENV_LOG(CORE, ERR, "%s model: setting '%s': bad value '%.*s' (%llu..%llu)",
				 who, k->name, (int)strcspn(val, ","), val,
				 (unsigned long long)k->lo, (unsigned long long)k->hi);
			return -EINVAL;
		}
		switch (k->width) {
		case 0:
			*(bool *)p = v != 0;
			break;
		case 1:
			*p = (uint8_t)v;
			break;
		case 2:
			*(uint16_t *)(void *)p = (uint16_t)v;
			break;
		case 4:
			*(uint32_t *)(void *)p = (uint32_t)v;
			break;
		default:
			*(uint64_t *)(void *)p = (uint64_t)v;
			break;
		}
		return 0;
	}
	UENV_LOG(CORE, ERR, "%s model: unknown setting '%.*s'", who, (int)klen, key);
	return -EINVAL;
}

int model_cfg_parse(void *cfg, size_t cfg_size, const struct model_key *keys, size_t nkeys,
		    const char *s, const char *who)
{
	void *c = malloc(cfg_size);

	if (!c)
		return -ENOMEM;
	memcpy(c, cfg, cfg_size);
	while (s && *s) {
		const char *eq = strchr(s, '='), *comma = strchr(s, ',');

		if (comma == s) { /* ",," and a trailing comma */
			s++;
			continue;
		}
		if (!eq || (comma && comma < eq)) {
			UENV_LOG(CORE, ERR, "%s model: '%.*s' is not key=value", who,
				 (int)strcspn(s, ","), s);
			free(c);
			return -EINVAL;
		}
		int rc = key_set(c, keys, nkeys, s, (size_t)(eq - s), eq + 1, who);

		if (rc) {
			free(c);
			return rc;
		}
		s = comma ? comma + 1 : NULL;
	}
	memcpy(cfg, c, cfg_size);
	free(c);
	return 0;
}
