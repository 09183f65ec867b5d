/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An unmodified DPDK application: it knows nothing of uiommu.  It starts
 * EAL with its command line (where `-d librte_uiommu.so --vdev uiommu,...`
 * or UIOMMU_DPDK bring the plugin in), prints what DPDK telemetry says
 * about uiommu (the plugin's /uiommu/ioas and /uiommu/units), optionally
 * sleeps PLAIN_APP_SLEEP seconds (to be killed), and calls
 * rte_eal_cleanup().  Driven by plugin_cli_test.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

static int telemetry(const char *cmd, char *out, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	if (fd < 0)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || read(fd, out, len - 1) <= 0 ||
	    write(fd, cmd, strlen(cmd)) < 0 || (n = read(fd, out, len - 1)) <= 0) {
		close(fd);
		return -1;
	}
	out[n] = 0;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sl = getenv("PLAIN_APP_SLEEP");
	char reply[4096];

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "plain_app: EAL: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	if (telemetry("/uiommu/ioas", reply, sizeof(reply)) == 0)
		printf("TELEMETRY %s\n", reply);
	if (telemetry("/uiommu/units", reply, sizeof(reply)) == 0)
		printf("TELEMETRY %s\n", reply);
	fflush(stdout);
	if (sl) {
		printf("SLEEPING\n");
		fflush(stdout);
		sleep((unsigned)atoi(sl));
	}
	rte_eal_cleanup();
	printf("CLEANED-UP\n");
	return 0;
}
