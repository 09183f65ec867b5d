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

/* Read a whole open file (sysfs files report size 0 or 4096: read to EOF). */
static int read_fd(int fd, uint8_t **out, size_t *outlen)
{
	size_t cap = 4096, n = 0;
	uint8_t *buf;

	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			uint8_t *nb;

			if (cap >= MAX_TABLE_SIZE) {
				free(buf);
				return -EFBIG;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			free(buf);
			return -err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

static int read_all(const char *path, uint8_t **out, size_t *outlen)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ret = read_fd(fd, out, outlen);
	close(fd);
	return ret;
}

/* Parse a table read from @path; the error text names the file. */
static int load_buf(struct uiommu_fw_topo *topo, const char *path, const uint8_t *buf, size_t len,
		    char *err, size_t errlen)
{
	int ret = uiommu_fw_parse_table(topo, buf, len);

	if (ret == -ENOTSUP)
		seterr(err, errlen, "%s: not a DMAR, IVRS or IORT table%s", path, "");
	else if (ret == -EINVAL && len < ACPI_HDR_LEN)
		seterr(err, errlen, "%s: too short for an ACPI table%s", path, "");
	else if (ret == -EINVAL)
		seterr(err, errlen, "%s: table rejected: %s", path,
		       topo->ndiags ? topo->diags[topo->ndiags - 1].msg : "bad header");
	else if (ret)
		seterr(err, errlen, "%s: %s", path, strerror(-ret));
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
	ret = load_buf(topo, path, buf, len, err, errlen);
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
		uint8_t *buf = NULL, sig[4];
		size_t len = 0;
		struct stat st;
		int fd;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", d, names[i]) >= sizeof(path))
			continue; /* no such path: not one of ours */
		/*
		 * Regular files only, never through a symbolic link: opening
		 * a device has effects of its own (a watchdog starts, a tape
		 * rewinds), and whoever can write a dump directory can link
		 * one there.  The name is checked without following links,
		 * opened the same way (O_NOFOLLOW: a link swapped in since is
		 * refused; O_NONBLOCK: a FIFO swapped in does not block), and
		 * what was opened is checked again and read through that one
		 * descriptor: stat() then open() by name could be raced.
		 */
		if (fstatat(dirfd(dp), names[i], &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		fd = openat(dirfd(dp), names[i],
			    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
		if (fd < 0)
			continue; /* unreadable non-IOMMU tables are not our business */
		if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		if (pread(fd, sig, 4, 0) != 4 || !is_iommu_sig(sig)) {
			close(fd);
			continue;
		}
		ret = read_fd(fd, &buf, &len);
		close(fd);
		if (ret == -ENOMEM)
			goto free_names;
		if (ret) {
			seterr(err, errlen, "%s: %s", path, strerror(-ret));
			continue;
		}
		ret = load_buf(topo, path, buf, len, err, errlen);
		free(buf);
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
