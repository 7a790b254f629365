/*
 * The guest's network at boot: loopback always; eth0, its default route,
 * the resolver and the host name when the kernel command line says
 * (cubicle.ip=ADDR/PREFIX cubicle.gw=ADDR cubicle.dns=ADDR
 * cubicle.hostname=NAME, docs/networking.md). Plain ioctls, so the agent
 * needs no tools from the image. What fails is said and skipped: a guest
 * without a network still serves the host over vsock.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ag_log.h"
#include "fdio.h"

#define HOSTNAME_MAX 63

static struct in_addr guest_addr;      /* eth0's, once set; 0 without */

/* The value of key=VALUE on the kernel command line into out; false if absent or too long. */
static bool cmdline_value(const char *key, char *out, size_t cap)
{
	char buf[4096];
	size_t klen = strlen(key);

	if (fdio_read_file("/proc/cmdline", buf, sizeof(buf)) <= 0)
		return false;
	for (char *save, *tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (strncmp(tok, key, klen) == 0 && tok[klen] == '=') {
			if (strlen(tok + klen + 1) >= cap)
				return false;
			strcpy(out, tok + klen + 1);
			return true;
		}
	return false;
}

static void set_sin(struct sockaddr *sa, struct in_addr a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };

	memcpy(sa, &sin, sizeof(sin));
}

/* Brings interface name up (its flags | IFF_UP); 0 or -errno. */
static int link_up(int s, const char *name)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

/* eth0 at addr/prefix, up, with a default route via gw; 0 or -errno with what failed in *what. */
static int setup_eth0(int s, struct in_addr addr, unsigned int prefix, struct in_addr gw,
		      const char **what)
{
	struct ifreq ifr = { 0 };
	struct rtentry rt = { 0 };
	struct in_addr mask = { htonl(prefix ? ~0u << (32 - prefix) : 0) }, any = { 0 };
	int ret;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "eth0");
	set_sin(&ifr.ifr_addr, addr);
	*what = "address";
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		return -errno;
	set_sin(&ifr.ifr_netmask, mask);
	*what = "netmask";
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		return -errno;
	*what = "link up";
	ret = link_up(s, "eth0");
	if (ret)
		return ret;
	set_sin(&rt.rt_dst, any);
	set_sin(&rt.rt_genmask, any);
	set_sin(&rt.rt_gateway, gw);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	*what = "default route";
	if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Writes text to path whole (the root is the sandbox's own layer); said if it fails. */
static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || fdio_write_all(fd, text, strlen(text)) < 0)
		ag_say("network: %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* A host name of letters, digits and '-', as RFC 1123 labels are. */
static bool hostname_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > HOSTNAME_MAX || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= 'A' && name[i] <= 'Z') &&
		    !(name[i] >= '0' && name[i] <= '9') && name[i] != '-')
			return false;
	return true;
}

static void setup_names(const char *host)
{
	char hosts[256];

	if (sethostname(host, strlen(host)) < 0)
		ag_say("hostname: %s", strerror(errno));
	snprintf(hosts, sizeof(hosts), "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n"
		 "::1\tlocalhost ip6-localhost ip6-loopback\n", host);
	write_file("/etc/hosts", hosts);
	snprintf(hosts, sizeof(hosts), "%s\n", host);
	write_file("/etc/hostname", hosts);
}

void ag_net_setup(void)
{
	char ip[32], gw[32], dns[32], host[HOSTNAME_MAX + 2] = "cubicle", *slash;
	struct in_addr a, g, d;
	const char *what = "";
	unsigned long prefix;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (s < 0) {
		ag_say("network: socket: %s", strerror(errno));
		return;
	}
	ret = link_up(s, "lo");
	if (ret)
		ag_say("network: lo: %s", strerror(-ret));
	if (cmdline_value("cubicle.hostname", host, sizeof(host)) && !hostname_ok(host)) {
		ag_say("network: hostname '%s' is not a host name; using cubicle", host);
		snprintf(host, sizeof(host), "cubicle");
	}
	setup_names(host);
	if (!cmdline_value("cubicle.ip", ip, sizeof(ip)))
		goto out;       /* no network: loopback only */
	slash = strchr(ip, '/');
	prefix = slash ? strtoul(slash + 1, NULL, 10) : 32;
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1 || prefix > 32 || !cmdline_value("cubicle.gw", gw, sizeof(gw)) ||
	    inet_pton(AF_INET, gw, &g) != 1) {
		ag_say("network: cubicle.ip and cubicle.gw must be ADDR/PREFIX and ADDR");
		goto out;
	}
	ret = setup_eth0(s, a, (unsigned int)prefix, g, &what);
	if (ret) {
		ag_say("network: eth0 %s: %s", what, strerror(-ret));
		goto out;
	}
	guest_addr = a;
	if (cmdline_value("cubicle.dns", dns, sizeof(dns)) && inet_pton(AF_INET, dns, &d) == 1) {
		char conf[64];

		snprintf(conf, sizeof(conf), "nameserver %s\n", dns);
		write_file("/etc/resolv.conf", conf);
	}
	ag_say("network: eth0 %s/%lu via %s", ip, prefix, gw);
out:
	close(s);
}

bool ag_net_guest_addr(struct in_addr *out)
{
	*out = guest_addr;
	return guest_addr.s_addr != 0;
}
