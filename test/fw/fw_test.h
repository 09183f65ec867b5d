/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the firmware tests: load table files from the test data. */
#ifndef UIOMMU_FW_TEST_H
#define UIOMMU_FW_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/bitfield.h"
#include "uiommu/uiommu_fw.h"

/* Path of a data file: $UIOMMU_TEST_DATA/<sub>/<file> (or $UIOMMU_SYNTH_DIR). */
static inline void fwt_path(char *buf, size_t n, const char *sub, const char *file)
{
	const char *root = getenv("UIOMMU_TEST_DATA");

	if (!sub) {
		root = getenv("UIOMMU_SYNTH_DIR");
		snprintf(buf, n, "%s/%s", root ? root : ".", file);
		return;
	}
	snprintf(buf, n, "%s/%s/%s", root ? root : "test/data", sub, file);
}

static inline int fwt_load_into(struct uiommu_fw_topo *t, const char *sub, const char *file)
{
	char path[1024], err[256];
	int ret;

	fwt_path(path, sizeof(path), sub, file);
	ret = uiommu_fw_load_file(t, path, err, sizeof(err));
	if (ret)
		fprintf(stderr, "%s\n", err);
	return ret;
}

static inline int fwt_load(struct uiommu_fw_topo *t, const char *sub, const char *file)
{
	uiommu_fw_init(t);
	return fwt_load_into(t, sub, file);
}

/* Read a whole file into a malloc'd buffer; NULL on failure. */
static inline uint8_t *fwt_read(const char *sub, const char *file, size_t *len)
{
	char path[1024];
	uint8_t *buf = NULL;
	long n;
	FILE *f;

	fwt_path(path, sizeof(path), sub, file);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Synthetic tables built in fw_synth_build.c (checksummed, <= 1024 bytes). */
void fwt_build_ivrs40(uint8_t *out, size_t *len);
void fwt_build_iort(uint8_t *out, size_t *len);

#endif
