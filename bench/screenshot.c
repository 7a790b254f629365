/*
 * bench/screenshot: what a computer-use agent and a VNC viewer feel of the
 * screen, at 1280x800, in one run on one engine:
 *  - process start -> "desktop ready" for the minimal and desktop templates;
 *  - screenshot latency through the control socket, PNG and JPEG (median,
 *    p99), on the booted minimal desktop;
 *  - the E2B Desktop way on the same guest: scrot inside the guest, then the
 *    file read through the agent;
 *  - QEMU's own virtio-gpu-device with QMP screendump, on a second guest
 *    (same kernel and image) that QEMU alone runs;
 *  - full-screen VNC frames per second to one libvncclient viewer, from our
 *    server and from QEMU's built-in VNC on that second guest.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "common.h"
#include "conn.h"
#include "desktop.h"
#include "engine_qemu.h"
#include "qmp.h"
#include "sandbox.h"
#include "usock.h"
#include "viewer.h"
#include "vmtest.h"

static const char usage[] =
	"usage: bench_screenshot --vmm PATH --guest-dir DIR [--runs N] [--scrot-runs N]\n"
	"                        [--vnc-seconds S] [--qemu PATH]\n"
	"Screenshot latency (control socket PNG/JPEG, N runs, default 200; scrot in the\n"
	"guest through the agent, default 20; QMP screendump on QEMU's virtio-gpu),\n"
	"VNC full frames per second (ours and QEMU's, default 5 s each) and start ->\n"
	"desktop ready for both templates, at 1280x800.\n";

static char dir[] = "/tmp/cubicle-bench-XXXXXX";

/* Screenshots on one control connection, request written -> image read whole. */
static void bench_control(const char *ctl, int runs)
{
	static const char *const reqs[2] = { "{\"op\":\"screenshot\",\"format\":\"png\"}\n",
					     "{\"op\":\"screenshot\",\"format\":\"jpeg\",\"quality\":80}\n" };
	static const char *const names[2] = { "control socket PNG 1280x800",
					      "control socket JPEG q80 1280x800" };
	double *v = calloc((size_t)runs, sizeof(*v));
	struct conn *c = conn_open(ctl);

	for (int k = 0; k < 2 && c && v; k++) {
		int n = 0;

		for (int i = 0; i < runs; i++) {
			double t0 = now_ms();

			if (conn_image(c, reqs[k], NULL, 0) >= 0)
				v[n++] = now_ms() - t0;
		}
		figure_print(names[k], figure_of(v, n));
	}
	conn_close(c);
	free(v);
}

/* The E2B Desktop way: scrot in the guest, then the file over the agent. */
static void bench_scrot(const char *vsock, int runs)
{
	double *v = calloc((size_t)runs, sizeof(*v));
	int n = 0, devnull = open("/dev/null", O_WRONLY);

	for (int i = 0; v && i < runs; i++) {
		struct agent_exec x = { .cmd = "scrot -o /tmp/bench-shot.png" };
		struct agent_exit res;
		struct agent_error err;
		long long got = 0;
		double t0 = now_ms();

		if (agent_exec_run(vsock, &x, &res, &err) == 0 && res.exit_code == 0 &&
		    agent_file_read(vsock, "/tmp/bench-shot.png", devnull, &got, &err) == 0 && got > 0)
			v[n++] = now_ms() - t0;
	}
	figure_print("in-guest scrot + agent file read (E2B way)", figure_of(v, n));
	close(devnull);
	free(v);
}

/*
 * Full-screen updates per second: ask for the whole screen (non-incremental),
 * wait until rectangles covering it arrived, ask again. -1 if it failed.
 */
static double vnc_fps(const char *host, int port, const char *password, double seconds)
{
	rfbClient *c = viewer_connect(host, port, password, "tight zrle raw", VIEWER_QUIET);
	double t0, fps = -1;
	long long frames = 0;

	/* The first full update, which viewer_connect() asked for. */
	if (!c || viewer_whole_frame(c, 5000, -1) < 0)
		goto out;
	t0 = now_ms();
	while (now_ms() - t0 < seconds * 1000) {
		if (!SendFramebufferUpdateRequest(c, 0, 0, c->width, c->height, FALSE) ||
		    viewer_whole_frame(c, 5000, -1) < 0)
			goto out;
		frames++;
	}
	fps = frames / ((now_ms() - t0) / 1000.0);
	printf("  (%dx%d, %lld frames)\n", c->width, c->height, frames);
out:
	viewer_close(c);
	return fps;
}

/* On the booted minimal desktop: screenshots both ways, then our VNC's frames per second. */
static void bench_ours(struct sandbox *sb, int runs, int scrot_runs, double vnc_seconds)
{
	/* A terminal on the screen, so the images are not of a bare background. */
	struct agent_exec x = { .cmd = "setsid xterm -geometry 100x30+100+100 -e top "
				"</dev/null >/dev/null 2>&1 & sleep 2" };
	struct agent_exit res;
	struct agent_error err;

	agent_exec_run(sb->vsock, &x, &res, &err);
	bench_control(sb->ctl, runs);
	bench_scrot(sb->vsock, scrot_runs);
	sandbox_password(sb);
	printf("%-44s %8.1f frames/s\n", "VNC full frames, Cubicle (libvncserver)",
	       vnc_fps("127.0.0.1", control_vnc_port(sb->ctl), sb->password, vnc_seconds));
}

/* --- QEMU's own virtio-gpu --------------------------------------------------------------- */

/*
 * Plain QEMU microvm with the same machine options, its own virtio-rng and
 * virtio-gpu-device, its VNC on a unix socket and QMP on another.
 */
static pid_t start_plain_gpu(const struct vmm_config *cfg, const char *vnc, const char *qmp,
			     int *console)
{
	struct vmm_config c = *cfg;
	char vncarg[200], qmparg[200];
	const char *const extra[] = { "-device", "virtio-gpu-device,xres=1280,yres=800",
				      "-vnc", vncarg, "-qmp", qmparg, NULL };

	c.append = "cubicle.noshell";
	snprintf(vncarg, sizeof(vncarg), "unix:%s", vnc);
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", qmp);
	return plain_qemu_start(&c, cfg->engine, extra, console);
}

static void bench_qmp(const char *qmp_path, int runs)
{
	double *v = calloc((size_t)runs, sizeof(*v));
	char file[200], err[256];
	struct qmp *q = NULL;
	int n = 0, fd = usock_connect(qmp_path, 0);

	if (!v || fd < 0 || !(q = qmp_new(fd))) {
		printf("QMP screendump: cannot connect to QEMU's monitor\n");
		if (fd >= 0)
			close(fd);
		free(v);
		return;
	}
	snprintf(file, sizeof(file), "%s/screendump.png", dir);
	for (int i = 0; i < runs; i++) {
		struct json_object *args = json_object_new_object();
		double t0 = now_ms();

		json_object_object_add(args, "filename", json_object_new_string(file));
		json_object_object_add(args, "format", json_object_new_string("png"));
		if (qmp_execute(q, "screendump", args, -1, NULL, err, sizeof(err)) == 0)
			v[n++] = now_ms() - t0;
		else if (i == 0)
			fprintf(stderr, "screendump: %s\n", err);
	}
	figure_print("QEMU virtio-gpu-device + QMP screendump PNG", figure_of(v, n));
	qmp_execute(q, "quit", NULL, -1, NULL, err, sizeof(err));
	qmp_free(q);
	unlink(file);
	free(v);
}

/* How much of each: the command line's counts. */
struct counts {
	int runs, scrot_runs;
	double vnc_seconds;
};

/*
 * Cold boots to desktop ready on cubicle-vmm: the desktop template, then
 * minimal, which is measured. false if one did not come up.
 */
static bool bench_templates(const char *vmm, struct vmm_config *ours, char *const images[2],
			    const struct counts *n)
{
	static const char *const tags[2] = { "minimal", "desktop" };

	for (int t = 1; t >= 0; t--) {
		struct sandbox sb;
		double t0 = now_ms(), ms = -1;
		bool seen = false;

		ours->disk = images[t];
		if (sandbox_start(&sb, vmm, ours, dir, tags[t], -1) == 0)
			ms = wait_for(sb.console, t0, DESKTOP_READY, &seen);
		printf("start -> desktop ready, %-8s template      %8.0f ms\n", tags[t], seen ? ms : -1);
		if (t == 0 && seen)
			bench_ours(&sb, n->runs, n->scrot_runs, n->vnc_seconds);
		sandbox_stop(&sb);
		if (!seen)
			return false;
	}
	return true;
}

/* The peer: QEMU's own virtio-gpu-device, VNC and screendump, on the same guest. */
static void bench_peer(const struct vmm_config *cfg, const struct counts *n)
{
	char vnc[160], qmp[160];
	double t0 = now_ms(), ms;
	bool seen = false;
	int out = -1;
	pid_t qpid;

	snprintf(vnc, sizeof(vnc), "%s/qemu.vnc", dir);
	snprintf(qmp, sizeof(qmp), "%s/qemu.qmp", dir);
	qpid = start_plain_gpu(cfg, vnc, qmp, &out);
	ms = qpid > 0 ? wait_for(out, t0, DESKTOP_READY, &seen) : -1;
	printf("start -> desktop ready, QEMU virtio-gpu      %8.0f ms\n", seen ? ms : -1);
	if (seen) {
		clk_pause_ms(2000);     /* its desktop settles before it is measured */
		bench_qmp(qmp, n->runs);
		/* bench_qmp quit QEMU; restart it for VNC. */
		drain_and_reap(out, qpid);
		t0 = now_ms();
		qpid = start_plain_gpu(cfg, vnc, qmp, &out);
		if (qpid > 0 && wait_for(out, t0, DESKTOP_READY, &seen) > 0) {
			clk_pause_ms(2000);
			printf("%-44s %8.1f frames/s\n", "VNC full frames, QEMU built-in VNC",
			       vnc_fps(vnc, 0, NULL, n->vnc_seconds));
		}
	}
	if (qpid > 0) {
		kill(qpid, SIGKILL);
		drain_and_reap(out, qpid);
	}
	unlink(vnc);
	unlink(qmp);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vmm", required_argument, NULL, 'v' }, { "guest-dir", required_argument, NULL, 'g' },
		{ "runs", required_argument, NULL, 'r' }, { "scrot-runs", required_argument, NULL, 's' },
		{ "vnc-seconds", required_argument, NULL, 'f' }, { "qemu", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *vmm = NULL, *guest_dir = NULL, *qemu = "qemu-system-x86_64";
	struct counts n = { .runs = 200, .scrot_runs = 20, .vnc_seconds = 5 };
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v': vmm = optarg; break;
		case 'g': guest_dir = optarg; break;
		case 'r': n.runs = atoi(optarg); break;
		case 's': n.scrot_runs = atoi(optarg); break;
		case 'f': n.vnc_seconds = atof(optarg); break;
		case 'q': qemu = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!vmm || !guest_dir || n.runs < 1 || n.scrot_runs < 1 || n.vnc_seconds <= 0) {
		fputs(usage, stderr);
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	char *kernel = vm_guest_path(guest_dir, "kernel.path");
	char *images[2] = { vm_guest_path(guest_dir, "minimal.path"),
			    vm_guest_path(guest_dir, "desktop.path") };
	enum vmm_engine engine = qemu_host_has_kvm() ? ENGINE_QEMU_KVM : ENGINE_QEMU_TCG;
	struct vmm_config ours = { .kernel = kernel, .memory_mib = 2048, .vcpus = 2, .qemu = qemu };
	struct vmm_config peer = { .kernel = kernel, .disk = images[0], .memory_mib = 2048,
				   .vcpus = 2, .engine = engine, .qemu = qemu };

	printf("engine: %s, display 1280x800, 2 vCPU\n", vmm_engine_name(engine));
	if (!bench_templates(vmm, &ours, images, &n))
		return 1;
	bench_peer(&peer, &n);
	rmdir(dir);
	free(kernel);
	free(images[0]);
	free(images[1]);
	return 0;
}
