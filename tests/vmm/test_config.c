/* cubicle-vmm's command line, QEMU's argument vector and version check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "config.h"
#include "engine_qemu.h"

static struct vmm_config cfg;
static char err[512];

#define PARSE(...)                                                                  \
	({                                                                          \
		char *argv_[] = { "cubicle-vmm", __VA_ARGS__, NULL };               \
		err[0] = '\0';                                                      \
		vmm_parse_args((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, \
			       &cfg, err, sizeof(err));                             \
	})

static void expect_error(int ret, const char *needle)
{
	CHECK(ret == -EINVAL);
	CHECK(strstr(err, needle) != NULL);
	CHECK(strchr(err, '\n') == NULL);     /* one line */
	if (!strstr(err, needle))
		fprintf(stderr, "  wanted '%s' in '%s'\n", needle, err);
}

static void test_defaults_and_values(void)
{
	CHECK(PARSE("--kernel", "k", "--disk", "d") == 0);
	CHECK(strcmp(cfg.kernel, "k") == 0 && strcmp(cfg.disk, "d") == 0);
	CHECK(cfg.memory_mib == 512 && cfg.vcpus == 1 && cfg.engine == ENGINE_AUTO);
	CHECK(strcmp(cfg.serial, "stdout") == 0 && !cfg.help && !cfg.append);
	CHECK(PARSE("--kernel", "k", "--disk", "d", "--memory", "1024", "--vcpus", "2",
		    "--serial", "/tmp/x", "--engine", "qemu-tcg", "--append", "quiet x=1") == 0);
	CHECK(cfg.memory_mib == 1024 && cfg.vcpus == 2 && cfg.engine == ENGINE_QEMU_TCG);
	CHECK(strcmp(cfg.serial, "/tmp/x") == 0 && strcmp(cfg.append, "quiet x=1") == 0);
	CHECK(PARSE("--kernel=k", "--disk=d", "--engine=qemu-kvm") == 0 &&
	      cfg.engine == ENGINE_QEMU_KVM);
	CHECK(PARSE("--help") == 0 && cfg.help);
}

static void test_bad_arguments(void)
{
	expect_error(PARSE("--disk", "d"), "--kernel is required");
	expect_error(PARSE("--kernel", "k"), "--disk is required");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--memory", "lots"), "--memory 'lots'");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--memory", "16"), "--memory '16'");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--memory", "-512"), "--memory");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--memory", "99999999999"), "--memory");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--memory", "512M"), "--memory");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--vcpus", "0"), "--vcpus '0'");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--vcpus", "65"), "--vcpus '65'");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--engine", "xen"), "--engine 'xen'");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--frobnicate"), "unknown option");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "extra"), "unexpected argument 'extra'");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--serial", ""), "--serial");
	expect_error(PARSE("--disk", "d", "--kernel"), "--kernel needs a value");
}

static void test_screen_and_vnc(void)
{
	CHECK(PARSE("--kernel", "k", "--disk", "d") == 0);
	CHECK(cfg.display_w == 1280 && cfg.display_h == 800 && !cfg.vnc_addr);
	CHECK(PARSE("--kernel", "k", "--disk", "d", "--display", "none") == 0 && cfg.display_w == 0);
	CHECK(PARSE("--kernel", "k", "--disk", "d", "--display", "1024x768", "--vnc", "5901",
		    "--vnc-password-file", "/p") == 0);
	CHECK(cfg.display_w == 1024 && strcmp(cfg.vnc_addr, "127.0.0.1") == 0 &&
	      cfg.vnc_port == 5901 && strcmp(cfg.vnc_password_file, "/p") == 0 && !cfg.vnc_view_only);
	CHECK(PARSE("--kernel", "k", "--disk", "d", "--vnc", "0.0.0.0:0", "--vnc-password-file",
		    "/p", "--vnc-view-only") == 0);
	CHECK(strcmp(cfg.vnc_addr, "0.0.0.0") == 0 && cfg.vnc_port == 0 && cfg.vnc_view_only);
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--vnc", "65536", "--vnc-password-file",
			   "/p"), "--vnc '65536'");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--vnc", ":5900", "--vnc-password-file",
			   "/p"), "--vnc ':5900'");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--vnc", "1.2.3.4.5:1",
			   "--vnc-password-file", "/p"), "not an IPv4 address");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--vnc", "5900"), "--vnc-password-file");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--display", "none", "--vnc", "1",
			   "--vnc-password-file", "/p"), "needs a screen");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--vnc-password-file", "/p"), "need --vnc");
}

/* The layout goes on the guest's command line and into its X config: names only. */
static void test_keyboard(void)
{
	CHECK(PARSE("--kernel", "k", "--disk", "d") == 0 && strcmp(cfg.kbd_layout, "us") == 0 &&
	      !cfg.kbd_variant);
	CHECK(PARSE("--kernel", "k", "--disk", "d", "--keyboard-layout", "de",
		    "--keyboard-variant", "nodeadkeys") == 0);
	CHECK(strcmp(cfg.kbd_layout, "de") == 0 && strcmp(cfg.kbd_variant, "nodeadkeys") == 0);
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--keyboard-layout", "de init=/bin/sh"),
		     "--keyboard-layout 'de init=/bin/sh'");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--keyboard-variant", "x\"y"),
		     "--keyboard-variant");
	expect_error(PARSE("--kernel", "k", "--disk", "d", "--keyboard-layout", ""),
		     "--keyboard-layout ''");
}

static void test_files(void)
{
	char dir[] = "/tmp/cubicle-cfg-XXXXXX";
	char file[600];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(file, sizeof(file), "%s/vmlinux", dir);
	CHECK(PARSE("--kernel", file, "--disk", dir) == 0);
	CHECK(vmm_check_files(&cfg, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "kernel") && strstr(err, "No such file"));
	fclose(fopen(file, "w"));
	CHECK(vmm_check_files(&cfg, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "disk") && strstr(err, "not a regular file"));
	CHECK(PARSE("--kernel", file, "--disk", file) == 0);
	CHECK(vmm_check_files(&cfg, err, sizeof(err)) == 0);
	unlink(file);
	rmdir(dir);
}

static bool has_arg(char **argv, const char *want)
{
	for (; *argv; argv++)
		if (strstr(*argv, want))
			return true;
	return false;
}

static void test_qemu_argv(void)
{
	struct qemu_launch l = { .cfg = &cfg, .engine = ENGINE_QEMU_TCG, .console_fd = 7 };
	char **argv;

	CHECK(PARSE("--kernel", "/k", "--disk", "/d", "--memory", "768", "--vcpus", "2") == 0);
	l.vu[0].device = "vhost-user-rng";
	l.vu[0].fd = 9;
	l.nvu = 1;
	argv = qemu_argv(&l);
	CHECK(argv && strcmp(argv[0], "qemu-system-x86_64") == 0);
	CHECK(has_arg(argv, "microvm,acpi=off"));
	CHECK(has_arg(argv, "memory-backend-memfd,id=mem,size=768M,share=on"));
	CHECK(has_arg(argv, "virtio-mmio.force-legacy=false"));
	CHECK(has_arg(argv, "tcg"));
	CHECK(has_arg(argv, "socket,id=console,fd=7"));
	CHECK(has_arg(argv, "socket,id=vu0,fd=9"));
	CHECK(has_arg(argv, "vhost-user-rng,chardev=vu0"));
	CHECK(has_arg(argv, "file=/d,format=raw"));
	CHECK(has_arg(argv, "isa-debug-exit"));
	CHECK(has_arg(argv, "cubicle.keyboard=us"));
	CHECK(!has_arg(argv, "-vnc"));
	CHECK(!has_arg(argv, "kvm"));
	qemu_argv_free(argv);
	l.engine = ENGINE_QEMU_KVM;
	argv = qemu_argv(&l);
	CHECK(argv && has_arg(argv, "kvm"));
	qemu_argv_free(argv);
}

static void test_qemu_version(void)
{
	int major = 0, minor = 0;
	char dir[] = "/tmp/cubicle-qemu-XXXXXX";
	char fake[600];
	FILE *f;

	CHECK(qemu_parse_version("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2)\n",
				 &major, &minor));
	CHECK(major == 10 && minor == 0);
	CHECK(!qemu_parse_version("bash: command not found", &major, &minor));

	CHECK(qemu_check("/nonexistent/qemu-system-x86_64", err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "not found") != NULL);

	/* An old QEMU, as bookworm's own 7.2 is. */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(fake, sizeof(fake), "%s/qemu-old", dir);
	f = fopen(fake, "w");
	fputs("#!/bin/sh\necho 'QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7)'\n", f);
	fclose(f);
	chmod(fake, 0755);
	CHECK(qemu_check(fake, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "is 7.2") && strstr(err, "needs 10"));
	unlink(fake);

	/* A good answer is remembered per binary; a replaced binary is asked again. */
	char cache[700];
	snprintf(cache, sizeof(cache), "%s/qemu-version", dir);
	setenv("CUBICLE_CACHE", dir, 1);
	snprintf(fake, sizeof(fake), "%s/qemu-new", dir);
	f = fopen(fake, "w");
	fputs("#!/bin/sh\necho 'QEMU emulator version 10.0.2'\n", f);
	fclose(f);
	chmod(fake, 0755);
	CHECK(qemu_check(fake, err, sizeof(err)) == 0);
	CHECK(access(cache, R_OK) == 0);
	CHECK(qemu_check(fake, err, sizeof(err)) == 0);
	unlink(fake);
	f = fopen(fake, "w");
	fputs("#!/bin/sh\necho 'QEMU emulator version 8.2.2 (a downgrade)'\n", f);
	fclose(f);
	chmod(fake, 0755);
	CHECK(qemu_check(fake, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "is 8.2") != NULL);
	unsetenv("CUBICLE_CACHE");
	unlink(fake);
	unlink(cache);
	rmdir(dir);
}

int main(void)
{
	RUN(test_defaults_and_values);
	RUN(test_bad_arguments);
	RUN(test_screen_and_vnc);
	RUN(test_keyboard);
	RUN(test_files);
	RUN(test_qemu_argv);
	RUN(test_qemu_version);
	return check_done();
}
