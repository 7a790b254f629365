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
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "common.h"
#include "engine_qemu.h"
#include "qmp.h"
#include "vmtest.h"

#define DESKTOP_READY "cubicle-agent: desktop ready"

static const char usage[] =
	"usage: bench_screenshot --vmm PATH --guest-dir DIR [--runs N] [--scrot-runs N]\n"
	"                        [--vnc-seconds S] [--qemu PATH]\n"
	"Screenshot latency (control socket PNG/JPEG, N runs, default 200; scrot in the\n"
	"guest through the agent, default 20; QMP screendump on QEMU's virtio-gpu),\n"
	"VNC full frames per second (ours and QEMU's, default 5 s each) and start ->\n"
	"desktop ready for both templates, at 1280x800.\n";

static char dir[] = "/tmp/cubicle-bench-XXXXXX";

static void report(const char *what, double *v, int n)
{
	if (n == 0) {
		printf("%-44s no samples\n", what);
		return;
	}
	printf("%-44s median %8.2f ms   p99 %8.2f ms   (n=%d)\n", what, quantile(v, n, 0.5),
	       quantile(v, n, 0.99), n);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Starts cubicle-vmm for template at 1280x800; console on *out. */
static pid_t start_vmm(const char *vmm, const char *kernel, const char *image, const char *qemu,
		       const char *tag, int *out)
{
	char ctl[160], vsock[160], pw[160];
	int p[2];
	pid_t pid;

	snprintf(ctl, sizeof(ctl), "%s/%s.control", dir, tag);
	snprintf(vsock, sizeof(vsock), "%s/%s.vsock", dir, tag);
	snprintf(pw, sizeof(pw), "%s/%s.vnc-password", dir, tag);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(p[1], 1);
		dup2(devnull, 2);
		execl(vmm, vmm, "--kernel", kernel, "--disk", image, "--vcpus", "2", "--memory", "2048",
		      "--display", "1280x800", "--control", ctl, "--vsock", vsock, "--vnc",
		      "127.0.0.1:0", "--vnc-password-file", pw, "--qemu", qemu, "--append",
		      "cubicle.noshell", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

static void poweroff(const char *vsock)
{
	struct json_object *req = json_object_new_object(), *reply = NULL;

	json_object_object_add(req, "op", json_object_new_string("poweroff"));
	agent_call(vsock, req, &reply, NULL);
	json_object_put(req);
	json_object_put(reply);
}

/* One screenshot on an open control connection; false if it failed. */
static bool control_shot(int fd, const char *req)
{
	static uint8_t buf[1 << 16];
	char line[512];
	size_t n = 0;
	long long left;
	const char *b;

	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return false;
	while (n + 1 < sizeof(line) && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	if (!strstr(line, "\"ok\":true") || !(b = strstr(line, "\"bytes\":")))
		return false;
	for (left = atoll(b + 8); left > 0;) {
		ssize_t r = read(fd, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf));

		if (r <= 0)
			return false;
		left -= r;
	}
	return true;
}

static void bench_control(const char *ctl, int runs)
{
	static const char *const reqs[2] = { "{\"op\":\"screenshot\",\"format\":\"png\"}\n",
					     "{\"op\":\"screenshot\",\"format\":\"jpeg\",\"quality\":80}\n" };
	static const char *const names[2] = { "control socket PNG 1280x800",
					      "control socket JPEG q80 1280x800" };
	double *v = calloc((size_t)runs, sizeof(*v));
	int fd = unix_connect(ctl);

	for (int k = 0; k < 2 && fd >= 0; k++) {
		int n = 0;

		for (int i = 0; i < runs; i++) {
			double t0 = now_ms();

			if (control_shot(fd, reqs[k]))
				v[n++] = now_ms() - t0;
		}
		report(names[k], v, n);
	}
	if (fd >= 0)
		close(fd);
	free(v);
}

static void discard(void *opaque, int stream, const uint8_t *buf, uint32_t len)
{
	(void)opaque; (void)stream; (void)buf; (void)len;
}

/* The E2B Desktop way: scrot in the guest, then the file over the agent. */
static void bench_scrot(const char *vsock, int runs)
{
	double *v = calloc((size_t)runs, sizeof(*v));
	int n = 0, devnull = open("/dev/null", O_WRONLY);

	for (int i = 0; i < runs; i++) {
		struct agent_exec x = { .cmd = "scrot -o /tmp/bench-shot.png", .on_output = discard };
		struct agent_exit res;
		struct agent_error err;
		long long got = 0;
		double t0 = now_ms();

		if (agent_exec_run(vsock, &x, &res, &err) == 0 && res.exit_code == 0 &&
		    agent_file_read(vsock, "/tmp/bench-shot.png", devnull, &got, &err) == 0 && got > 0)
			v[n++] = now_ms() - t0;
	}
	report("in-guest scrot + agent file read (E2B way)", v, n);
	close(devnull);
	free(v);
}

/* --- VNC ---------------------------------------------------------------------------- */

static long long pixels;         /* received in update rectangles */
static const char *vnc_password;

static char *get_password(rfbClient *c)
{
	(void)c;
	return strdup(vnc_password ? vnc_password : "");
}

static void got_rect(rfbClient *c, int x, int y, int w, int h)
{
	(void)c; (void)x; (void)y;
	pixels += (long long)w * h;
}

/*
 * Full-screen updates per second: ask for the whole screen (non-incremental),
 * wait until rectangles covering it arrived, ask again.
 */
static double vnc_fps(const char *host, int port, const char *password, double seconds)
{
	rfbClient *c = rfbGetClient(8, 3, 4);
	double t0, fps = -1;
	long long frame, frames = 0;

	rfbEnableClientLogging = FALSE;
	vnc_password = password;
	c->GetPassword = get_password;
	c->GotFrameBufferUpdate = got_rect;
	c->appData.encodingsString = "tight zrle raw";
	free(c->serverHost);
	c->serverHost = strdup(host);
	c->serverPort = port;
	if (!rfbInitClient(c, NULL, NULL))
		return -1;
	/* The first full update, which rfbInitClient asked for. */
	frame = (long long)c->width * c->height;
	for (pixels = 0; pixels < frame;) {
		if (WaitForMessage(c, 5000000) <= 0 || !HandleRFBServerMessage(c))
			goto out;
	}
	t0 = now_ms();
	while (now_ms() - t0 < seconds * 1000) {
		if (!SendFramebufferUpdateRequest(c, 0, 0, c->width, c->height, FALSE))
			goto out;
		for (pixels = 0; pixels < frame;) {
			if (WaitForMessage(c, 5000000) <= 0 || !HandleRFBServerMessage(c))
				goto out;
		}
		frames++;
	}
	fps = frames / ((now_ms() - t0) / 1000.0);
	printf("  (%dx%d, %lld frames)\n", c->width, c->height, frames);
out:
	free(c->frameBuffer);
	free(c->rcSource);
	free(c->rcMask);
	rfbClientCleanup(c);
	return fps;
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
	struct qemu_launch l = { .cfg = &c, .engine = cfg->engine };
	char err[256], vncarg[200], qmparg[200], **argv, **full;
	int con[2];
	size_t n = 0;
	pid_t pid;

	c.append = "cubicle.noshell";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0)
		return -1;
	l.console_fd = con[1];
	argv = qemu_argv(&l);
	while (argv[n])
		n++;
	full = calloc(n + 11, sizeof(*full));
	memcpy(full, argv, n * sizeof(*full));
	snprintf(vncarg, sizeof(vncarg), "unix:%s", vnc);
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", qmp);
	full[n++] = "-object";
	full[n++] = "rng-random,id=rng0,filename=/dev/urandom";
	full[n++] = "-device";
	full[n++] = "virtio-rng-device,rng=rng0";
	full[n++] = "-device";
	full[n++] = "virtio-gpu-device,xres=1280,yres=800";
	full[n++] = "-vnc";
	full[n++] = vncarg;
	full[n++] = "-qmp";
	full[n++] = qmparg;
	pid = qemu_spawn(&l, full, err, sizeof(err));
	close(con[1]);
	free(full);
	qemu_argv_free(argv);
	if (pid < 0) {
		fprintf(stderr, "bench_screenshot: %s\n", err);
		close(con[0]);
		return -1;
	}
	*console = con[0];
	return pid;
}

static void bench_qmp(const char *qmp_path, int runs)
{
	double *v = calloc((size_t)runs, sizeof(*v));
	char file[200], err[256];
	struct qmp *q;
	int n = 0, fd = unix_connect(qmp_path);

	if (fd < 0 || !(q = qmp_new(fd))) {
		printf("QMP screendump: cannot connect to QEMU's monitor\n");
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
	report("QEMU virtio-gpu-device + QMP screendump PNG", v, n);
	qmp_execute(q, "quit", NULL, -1, NULL, err, sizeof(err));
	qmp_free(q);
	unlink(file);
	free(v);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vmm", required_argument, NULL, 'v' }, { "guest-dir", required_argument, NULL, 'g' },
		{ "runs", required_argument, NULL, 'r' }, { "scrot-runs", required_argument, NULL, 's' },
		{ "vnc-seconds", required_argument, NULL, 'f' }, { "qemu", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *vmm = NULL, *guest_dir = NULL, *qemu = "qemu-system-x86_64";
	int runs = 200, scrot_runs = 20, c, out;
	double vnc_seconds = 5;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v': vmm = optarg; break;
		case 'g': guest_dir = optarg; break;
		case 'r': runs = atoi(optarg); break;
		case 's': scrot_runs = atoi(optarg); break;
		case 'f': vnc_seconds = atof(optarg); break;
		case 'q': qemu = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!vmm || !guest_dir || runs < 1 || scrot_runs < 1 || vnc_seconds <= 0) {
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
	const char *tags[2] = { "minimal", "desktop" };
	enum vmm_engine engine = qemu_host_has_kvm() ? ENGINE_QEMU_KVM : ENGINE_QEMU_TCG;
	char ctl[160], vsock[160], pwpath[160], pw[16] = "", line[512];
	bool seen;

	printf("engine: %s, display 1280x800, 2 vCPU\n", vmm_engine_name(engine));
	/* Cold boot to desktop ready: the desktop template, then minimal, which stays up. */
	for (int t = 1; t >= 0; t--) {
		double t0 = now_ms(), ms;
		pid_t pid = start_vmm(vmm, kernel, images[t], qemu, tags[t], &out);

		ms = pid > 0 ? wait_for(out, t0, DESKTOP_READY, &seen) : -1;
		printf("start -> desktop ready, %-8s template      %8.0f ms\n", tags[t], seen ? ms : -1);
		snprintf(vsock, sizeof(vsock), "%s/%s.vsock", dir, tags[t]);
		if (t == 1 || !seen) {
			poweroff(vsock);
			drain_and_reap(out, pid);
			if (!seen)
				return 1;
			continue;
		}
		snprintf(ctl, sizeof(ctl), "%s/%s.control", dir, tags[t]);
		snprintf(pwpath, sizeof(pwpath), "%s/%s.vnc-password", dir, tags[t]);
		/* A terminal on the screen, so the images are not of a bare background. */
		struct agent_exec x = { .cmd = "setsid xterm -geometry 100x30+100+100 -e top "
					"</dev/null >/dev/null 2>&1 & sleep 2", .on_output = discard };
		struct agent_exit res;
		struct agent_error err;
		agent_exec_run(vsock, &x, &res, &err);

		bench_control(ctl, runs);
		bench_scrot(vsock, scrot_runs);
		FILE *f = fopen(pwpath, "r");
		if (f && fgets(pw, sizeof(pw), f))
			pw[strcspn(pw, "\n")] = '\0';
		if (f)
			fclose(f);
		int fd = unix_connect(ctl), port = 0;
		if (fd >= 0 && write(fd, "{\"op\":\"display\"}\n", 17) == 17) {
			ssize_t r = read(fd, line, sizeof(line) - 1);
			const char *p;

			line[r > 0 ? r : 0] = '\0';
			if ((p = strstr(line, "\"port\":")))
				port = atoi(p + 7);
			close(fd);
		}
		printf("%-44s %8.1f frames/s\n", "VNC full frames, Cubicle (libvncserver)",
		       vnc_fps("127.0.0.1", port, pw, vnc_seconds));
		poweroff(vsock);
		drain_and_reap(out, pid);
	}

	/* The peer: QEMU's own virtio-gpu-device, VNC and screendump, same guest. */
	struct vmm_config cfg = { .kernel = kernel, .disk = images[0], .memory_mib = 2048, .vcpus = 2,
				  .engine = engine, .qemu = qemu };
	char vnc[160], qmp[160];
	snprintf(vnc, sizeof(vnc), "%s/qemu.vnc", dir);
	snprintf(qmp, sizeof(qmp), "%s/qemu.qmp", dir);
	double t0 = now_ms();
	pid_t qpid = start_plain_gpu(&cfg, vnc, qmp, &out);
	double ms = qpid > 0 ? wait_for(out, t0, DESKTOP_READY, &seen) : -1;
	printf("start -> desktop ready, QEMU virtio-gpu      %8.0f ms\n", seen ? ms : -1);
	if (seen) {
		sleep(2);
		bench_qmp(qmp, runs);
		/* bench_qmp quit QEMU; restart it for VNC. */
		drain_and_reap(out, qpid);
		t0 = now_ms();
		qpid = start_plain_gpu(&cfg, vnc, qmp, &out);
		if (qpid > 0 && wait_for(out, t0, DESKTOP_READY, &seen) > 0) {
			sleep(2);
			printf("%-44s %8.1f frames/s\n", "VNC full frames, QEMU built-in VNC",
			       vnc_fps(vnc, 0, NULL, vnc_seconds));
		}
	}
	if (qpid > 0) {
		kill(qpid, SIGKILL);
		drain_and_reap(out, qpid);
	}
	unlink(vnc);
	unlink(qmp);
	for (int t = 0; t < 2; t++) {
		char p[200];

		snprintf(p, sizeof(p), "%s/%s.vnc-password", dir, tags[t]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}
