/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading tables from files: one file, or every DMAR/IVRS/IORT file of a
 * directory (/sys/firmware/acpi/tables or a dump), recognised by content.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fw/fw_internal.h"

#define SYSFS_TABLES "/sys/firmware/acpi/tables"
/* No IOMMU table comes near this; guards against reading a device node. */
#define MAX_TABLE_SIZE (16u << 20)

static void seterr(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, a, b);
}

/* Read a whole file (sysfs files report size 0 or 4096: read to EOF). */
static int read_all(const char *path, uint8_t **out, size_t *outlen)
{
	size_t cap = 4096, n = 0;
	uint8_t *buf;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		ret = -ENOMEM;
		goto close_fd;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			uint8_t *nb;

			if (cap >= MAX_TABLE_SIZE) {
				ret = -EFBIG;
				goto free_buf;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				ret = -ENOMEM;
				goto free_buf;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto free_buf;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*outlen = n;
	close(fd);
	return 0;
free_buf:
	free(buf);
close_fd:
	close(fd);
	return ret;
}

int uiommu_fw_load_file(struct uiommu_fw_topo *topo, const char *path, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = read_all(path, &buf, &len);
	if (ret) {
		seterr(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = uiommu_fw_parse_table(topo, buf, len);
	if (ret == -ENOTSUP)
		seterr(err, errlen, "%s: not a DMAR, IVRS or IORT table%s", path, "");
	else if (ret == -EINVAL && len < ACPI_HDR_LEN)
		seterr(err, errlen, "%s: too short for an ACPI table%s", path, "");
	else if (ret == -EINVAL)
		seterr(err, errlen, "%s: table rejected: %s", path,
		       topo->ndiags ? topo->diags[topo->ndiags - 1].msg : "bad header");
	else if (ret)
		seterr(err, errlen, "%s: %s", path, strerror(-ret));
	free(buf);
	return ret;
}

static int is_iommu_sig(const uint8_t *b)
{
	return !memcmp(b, "DMAR", 4) || !memcmp(b, "IVRS", 4) || !memcmp(b, "IORT", 4);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int uiommu_fw_load_dir(struct uiommu_fw_topo *topo, const char *dir, char *err, size_t errlen)
{
	const char *d = dir ? dir : SYSFS_TABLES;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	struct dirent *de;
	int parsed = 0, ret = 0;
	DIR *dp;

	dp = opendir(d);
	if (!dp) {
		ret = -errno;
		seterr(err, errlen, "cannot read table directory %s: %s", d, strerror(-ret));
		return ret;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 32) * sizeof(*names));

			if (!nn) {
				ret = -ENOMEM;
				goto free_names;
			}
			names = nn;
			cap = cap ? cap * 2 : 32;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			ret = -ENOMEM;
			goto free_names;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		uint8_t sig[4];
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", d, names[i]);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* unreadable non-IOMMU tables are not our business */
		if (read(fd, sig, 4) != 4 || !is_iommu_sig(sig)) {
			close(fd);
			continue;
		}
		close(fd);
		ret = uiommu_fw_load_file(topo, path, err, errlen);
		if (ret == -ENOMEM)
			goto free_names;
		if (ret == 0)
			parsed++;
	}
	ret = parsed;
free_names:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dp);
	if (ret == -ENOMEM)
		seterr(err, errlen, "%s: %s", d, strerror(ENOMEM));
	return ret;
}
