/*
 * bench/agent: what a program using the sandbox feels through cubicle-agent.
 *  - process start -> agent ready (answers hello over vsock), beside plain
 *    QEMU microvm's process start -> init ready on the same kernel and image;
 *  - `true` round trip: exec, output stream, exit status (median, p99);
 *  - file write and read throughput (MiB/s) for one large file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "common.h"
#include "desktop.h"
#include "engine_qemu.h"
#include "fdio.h"
#include "vmtest.h"

static const char usage[] =
	"usage: bench_agent --vmm PATH --guest-dir DIR [--boots N] [--calls N] [--mib N]\n"
	"                   [--qemu PATH]\n"
	"Measures start -> agent ready (N boots, default 5, beside plain QEMU's start ->\n"
	"init), the `true` round trip (default 200 calls) and file throughput both ways\n"
	"(default 100 MiB). `make bench` runs it on the built tree.\n";

/* Starts cubicle-vmm with a vsock; returns its pid (console to /dev/null). */
static pid_t start_vmm(const char *vmm, const struct vmm_config *cfg, const char *sock)
{
	char *argv[] = { (char *)vmm, "--kernel", (char *)cfg->kernel, "--disk", (char *)cfg->disk,
			 "--vcpus", "2", "--memory", "1024", "--vsock", (char *)sock, "--qemu",
			 (char *)cfg->qemu, NULL };

	return bench_spawn(argv, NULL, -1);
}

static void stop_vmm(const char *sock, pid_t pid)
{
	guest_poweroff(sock);
	waitpid(pid, NULL, 0);
}

/* Mean ms of posix_spawn + waitpid of /bin/true, timed inside the guest. */
static double in_guest_spawn_ms(const char *sock)
{
	const char *out = guest_exec(sock, "python3 -c \"import os,time\n"
				     "t=time.perf_counter()\n"
				     "for i in range(200): os.waitpid(os.posix_spawn('/bin/true',['true'],{}),0)\n"
				     "print((time.perf_counter()-t)*1000/200)\"");

	return out ? atof(out) : -1;
}

static double file_mibs(const char *sock, const char *local, bool up, unsigned int mib)
{
	struct agent_error err;
	long long n = 0;
	double t0 = now_ms();
	int fd = up ? open(local, O_RDONLY) : open(local, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int ret = up ? agent_file_write(sock, "/home/user/bench.bin", fd, 0644, &n, &err)
		     : agent_file_read(sock, "/home/user/bench.bin", fd, &n, &err);

	close(fd);
	if (ret < 0 || n != (long long)mib << 20) {
		fprintf(stderr, "bench_agent: file %s failed: %s\n", up ? "write" : "read",
			ret == -EREMOTEIO ? err.message : strerror(-ret));
		exit(1);
	}
	return mib / ((now_ms() - t0) / 1000.0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vmm", required_argument, NULL, 'v' }, { "guest-dir", required_argument, NULL, 'g' },
		{ "boots", required_argument, NULL, 'b' }, { "calls", required_argument, NULL, 'c' },
		{ "mib", required_argument, NULL, 'm' }, { "qemu", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vmm_config cfg = { .memory_mib = 1024, .vcpus = 2, .qemu = "qemu-system-x86_64" };
	const char *vmm = NULL, *guest = NULL;
	int boots = 5, calls = 200, c;
	unsigned int mib = 100;
	char dir[] = "/tmp/cubicle-bench-agent-XXXXXX", sock[128], local[128], back[128];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v': vmm = optarg; break;
		case 'g': guest = optarg; break;
		case 'b': boots = atoi(optarg); break;
		case 'c': calls = atoi(optarg); break;
		case 'm': mib = (unsigned int)atoi(optarg); break;
		case 'q': cfg.qemu = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!vmm || !guest || boots < 1 || calls < 1 || mib < 1 || mib > 4096) {
		fputs(usage, stderr);
		return 2;
	}
	cfg.kernel = vm_guest_path(guest, "kernel.path");
	cfg.disk = vm_guest_path(guest, "minimal.path");
	cfg.engine = qemu_host_has_kvm() ? ENGINE_QEMU_KVM : ENGINE_QEMU_TCG;
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock, sizeof(sock), "%s/v.sock", dir);
	snprintf(local, sizeof(local), "%s/up.bin", dir);
	snprintf(back, sizeof(back), "%s/down.bin", dir);
	printf("bench/agent: engine %s, 2 vCPU, 1024 MiB, minimal image\n", vmm_engine_name(cfg.engine));
	fflush(stdout);

	/* Start -> ready, alternating with plain QEMU. */
	double *ready = calloc((size_t)boots, sizeof(double));
	double *plain = calloc((size_t)boots, sizeof(double));
	pid_t pid = 0;
	for (int i = 0; i < boots; i++) {
		double t0 = now_ms();

		pid = start_vmm(vmm, &cfg, sock);
		if (agent_wait_ready(sock, 300000) < 0) {
			fprintf(stderr, "bench_agent: the agent did not answer\n");
			return 1;
		}
		ready[i] = now_ms() - t0;
		if (i + 1 < boots)
			stop_vmm(sock, pid);
		plain[i] = boot_plain(&cfg, cfg.engine);
		if (plain[i] < 0)
			return 1;
		fprintf(stderr, "  boot %d: agent ready %.1f ms, plain QEMU init ready %.1f ms\n",
			i + 1, ready[i], plain[i]);
	}

	/* `true` round trips on the last booted sandbox. */
	double *rt = calloc((size_t)calls, sizeof(double));
	const char *argv_true[] = { "true", NULL };
	struct agent_exec x = { .argv = argv_true };
	for (int i = 0; i < calls; i++) {
		struct agent_exit res;
		struct agent_error err;
		double t0 = now_ms();

		int ret = agent_exec_run(sock, &x, &res, &err);

		if (ret < 0 || res.exit_code != 0) {
			fprintf(stderr, "bench_agent: call %d: true failed: %s (exit %d, signal %d)\n", i,
				ret == -EREMOTEIO ? err.message : ret < 0 ? strerror(-ret) : "no error",
				res.exit_code, res.signal);
			return 1;
		}
		rt[i] = now_ms() - t0;
	}

	/* The protocol alone: hello round trips. */
	double *hello = calloc((size_t)calls, sizeof(double));
	for (int i = 0; i < calls; i++) {
		double t0 = now_ms();

		if (agent_hello(sock, NULL, 0) < 0)
			return 1;
		hello[i] = now_ms() - t0;
	}

	/* The floor on this engine: spawning and reaping /bin/true inside the guest. */
	double floor_ms = in_guest_spawn_ms(sock);

	/* Throughput: one file of mib MiB up, then down. */
	uint8_t *buf = malloc(1 << 20);
	int fd = open(local, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (unsigned int i = 0; i < mib; i++) {
		getrandom(buf, 1 << 20, 0);
		if (fdio_write_all(fd, buf, 1 << 20) < 0)
			return 1;
	}
	close(fd);
	free(buf);
	double up = file_mibs(sock, local, true, mib);
	double down = file_mibs(sock, back, false, mib);
	stop_vmm(sock, pid);

	double rm = quantile(ready, boots, 0.5), pm = quantile(plain, boots, 0.5);
	printf("%-44s %9.1f ms (median of %d)\n", "process start -> agent ready (cubicle-vmm)", rm, boots);
	printf("%-44s %9.1f ms (median of %d)\n", "process start -> init ready (plain QEMU)", pm, boots);
	printf("%-44s %9.2f\n", "ratio", rm / pm);
	printf("%-44s %9.2f ms median, %.2f ms p99 (%d calls)\n", "`true` round trip (exec)",
	       quantile(rt, calls, 0.5), quantile(rt, calls, 0.99), calls);
	printf("%-44s %9.2f ms median, %.2f ms p99 (%d calls)\n", "hello round trip (protocol only)",
	       quantile(hello, calls, 0.5), quantile(hello, calls, 0.99), calls);
	printf("%-44s %9.2f ms mean (posix_spawn + wait, 200 runs)\n",
	       "in-guest spawn of /bin/true (the floor)", floor_ms);
	printf("%-44s %9.1f MiB/s (%u MiB)\n", "file write, host -> guest", up, mib);
	printf("%-44s %9.1f MiB/s (%u MiB)\n", "file read, guest -> host", down, mib);
	unlink(local);
	unlink(back);
	rmdir(dir);
	free(ready);
	free(plain);
	free(rt);
	free(hello);
	return 0;
}
