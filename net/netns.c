#include "netns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"
#include "fdio.h"
#include "rules.h"

#define FORWARD_SYSCTL "/proc/sys/net/ipv4/ip_forward"
#define MAX_SLOTS 65536
#define DOCKER_COMMENT "cubicle"

struct net_host {
	struct net_cidr pool;
	struct net_open open;
	char state_path[PATH_MAX];
	int lock_fd;
	int host_ns;                    /* the namespace cubicled runs in */
	bool forward_set;               /* we turned forwarding on: put back forward_before */
	char forward_before;
	const char *docker_chain;       /* where our accept rules went; NULL: none */
	pthread_mutex_t lock;           /* slots */
	unsigned int nslots, next_slot;  /* taken in turn: a slot just given back rests */
	uint8_t *used;
};

/* Docker's chains, where a FORWARD policy of drop would stop our traffic. */
static const char *const docker_chains[] = { "DOCKER-USER", "FORWARD" };

void net_sandbox_init(struct net_sandbox *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->slot = -1;
	sb->tap_fd = sb->dns_fd = -1;
}

/* --- small helpers: ioctls on interfaces, sysctls, netlink ---------------------- */

static void sin_of(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(addr) };

	memcpy(sa, &sin, sizeof(sin));
}

/* name at addr/prefix (0: no address) and up; 0 or -errno with what failed in err. */
static int link_setup(const char *name, uint32_t addr, unsigned int prefix, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;
	const char *what = "socket";

	if (s < 0)
		goto fail;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (addr) {
		sin_of(&ifr.ifr_addr, addr);
		what = "address";
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			goto fail;
		sin_of(&ifr.ifr_netmask, prefix ? ~0u << (32 - prefix) : 0);
		what = "netmask";
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			goto fail;
	}
	what = "flags";
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP;
	what = "up";
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	close(s);
	return 0;
fail:
	ret = -errno;
	errf(err, errlen, "%s %s: %s", name, what, strerror(errno));
	if (s >= 0)
		close(s);
	return ret;
}

static int route_default(uint32_t gw, char *err, size_t errlen)
{
	struct rtentry rt = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	sin_of(&rt.rt_dst, 0);
	sin_of(&rt.rt_genmask, 0);
	sin_of(&rt.rt_gateway, gw);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (s < 0 || ioctl(s, SIOCADDRT, &rt) < 0) {
		ret = -errno;
		errf(err, errlen, "default route: %s", strerror(errno));
	}
	if (s >= 0)
		close(s);
	return ret;
}

/* Writes value to a sysctl file of the calling thread's namespace; 0 or -errno. */
static int sysctl_set(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fdio_write_all(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static struct nl_sock *rtnl_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* Deletes the link called name in the calling thread's namespace (quietly if there is none). */
static void link_delete(const char *name)
{
	struct nl_sock *sk = rtnl_open();
	struct rtnl_link *l = rtnl_link_alloc();

	if (sk && l) {
		rtnl_link_set_name(l, name);
		rtnl_link_delete(sk, l);
	}
	if (l)
		rtnl_link_put(l);
	if (sk)
		nl_socket_free(sk);
}

/* Whether name is one of ours: cbl and digits. */
static bool host_link_name(const char *name)
{
	size_t n = strlen(NET_HOST_LINK_PREFIX);

	if (strncmp(name, NET_HOST_LINK_PREFIX, n) != 0 || !name[n])
		return false;
	return strspn(name + n, "0123456789") == strlen(name + n);
}

/* Up to max cbl* links of this namespace into names; how many. */
static unsigned int host_links(char (*names)[IF_NAMESIZE], unsigned int max)
{
	struct nl_sock *sk = rtnl_open();
	struct nl_cache *cache = NULL;
	unsigned int n = 0;

	if (!sk)
		return 0;
	if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) == 0) {
		for (struct nl_object *o = nl_cache_get_first(cache); o && n < max;
		     o = nl_cache_get_next(o)) {
			const char *name = rtnl_link_get_name((struct rtnl_link *)o);

			if (name && host_link_name(name))
				snprintf(names[n++], IF_NAMESIZE, "%s", name);
		}
		nl_cache_free(cache);
	}
	nl_socket_free(sk);
	return n;
}

/* Every cbl* link of this namespace goes (a crashed cubicled's), 64 at a time. */
static void delete_host_links(void)
{
	char names[64][IF_NAMESIZE];
	unsigned int n;

	for (int round = 0; round < 1024 && (n = host_links(names, 64)) > 0; round++)
		for (unsigned int i = 0; i < n; i++)
			link_delete(names[i]);
}

/* Unmounts and removes a namespace's name (the namespace ends with its last user). */
static void netns_remove(const char *path)
{
	umount2(path, MNT_DETACH);
	unlink(path);
}

/* /run/netns as `ip netns` keeps it: a shared mount, so names reach other mount namespaces. */
static int netns_dir(char *err, size_t errlen)
{
	if (mkdir(NET_NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return errf(err, errlen, NET_NETNS_DIR ": %s", strerror(errno)), -errno;
	if (mount("", NET_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno == EINVAL && mount(NET_NETNS_DIR, NET_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) == 0 &&
	    mount("", NET_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	errf(err, errlen, NET_NETNS_DIR ": cannot make it a shared mount: %s", strerror(errno));
	return -errno;
}

/* --- the host ---------------------------------------------------------------- */

/* The lock for the namespace cubicled runs in: one manager per namespace. */
static int take_lock(char *err, size_t errlen)
{
	struct stat st;
	char path[96];
	int fd;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return errf(err, errlen, "network: /proc/thread-self/ns/net: %s", strerror(errno)), -errno;
	snprintf(path, sizeof(path), "/run/cubicle-net-%llu.lock", (unsigned long long)st.st_ino);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return errf(err, errlen, "network: %s: %s", path, strerror(errno)), -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return errf(err, errlen, "network: another cubicled manages this host's network "
			    "(%s is locked); give it --no-network or stop the other", path), -EBUSY;
	}
	return fd;
}

/*
 * IPv4 forwarding on. The value before is what state_path says if a
 * crashed cubicled left it, else the sysctl's now, and is kept there.
 */
static int forwarding_on(struct net_host *h, char *err, size_t errlen)
{
	char now[8] = "", before[8] = "";
	int fd;

	if (fdio_read_file(FORWARD_SYSCTL, now, sizeof(now)) <= 0)
		return errf(err, errlen, "network: " FORWARD_SYSCTL ": cannot read it"), -EIO;
	if (fdio_read_file(h->state_path, before, sizeof(before)) <= 0 ||
	    (before[0] != '0' && before[0] != '1'))
		before[0] = now[0];
	h->forward_before = before[0];
	if (now[0] == '1' && before[0] == '1')
		return 0;
	fd = open(h->state_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fdio_write_all(fd, before, 1) < 0) {
		errf(err, errlen, "network: %s: %s", h->state_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	h->forward_set = true;
	if (sysctl_set(FORWARD_SYSCTL, "1") < 0)
		return errf(err, errlen, "network: " FORWARD_SYSCTL ": %s", strerror(errno)), -EIO;
	return 0;
}

/* Room for our links in a FORWARD chain whose policy may be drop (Docker's). */
static int docker_room(struct net_host *h, char *err, size_t errlen)
{
	char script[512];

	for (size_t i = 0; i < sizeof(docker_chains) / sizeof(docker_chains[0]); i++)
		net_nft_delete_commented("ip", "filter", docker_chains[i], DOCKER_COMMENT);
	for (size_t i = 0; i < sizeof(docker_chains) / sizeof(docker_chains[0]); i++) {
		if (!net_nft_has_chain("ip", "filter", docker_chains[i]))
			continue;
		snprintf(script, sizeof(script),
			 "insert rule ip filter %s oifname \"" NET_HOST_LINK_PREFIX "*\" ct state "
			 "{ established, related } accept comment \"" DOCKER_COMMENT "\"\n"
			 "insert rule ip filter %s iifname \"" NET_HOST_LINK_PREFIX "*\" accept "
			 "comment \"" DOCKER_COMMENT "\"\n", docker_chains[i], docker_chains[i]);
		h->docker_chain = docker_chains[i];
		return net_nft_run(script, err, errlen);
	}
	return 0;
}

struct net_host *net_host_new(const struct net_cidr *pool, const struct net_open *opened,
			      const char *state_path, const char *const *leftovers,
			      char *err, size_t errlen)
{
	struct net_host *h = calloc(1, sizeof(*h));
	char *script = NULL, path[PATH_MAX];

	if (!h) {
		errf(err, errlen, "network: out of memory");
		return NULL;
	}
	h->lock_fd = h->host_ns = -1;
	pthread_mutex_init(&h->lock, NULL);
	h->pool = *pool;
	h->open = opened ? *opened : (struct net_open){ 0 };
	snprintf(h->state_path, sizeof(h->state_path), "%s", state_path);
	if (pool->prefix < 8 || pool->prefix > 28) {
		errf(err, errlen, "network.pool: want a network from /8 to /28, not /%u", pool->prefix);
		goto fail;
	}
	h->nslots = (1u << (32 - pool->prefix)) / 4;
	if (h->nslots > MAX_SLOTS)
		h->nslots = MAX_SLOTS;
	h->used = calloc(h->nslots, 1);
	if (!h->used) {
		errf(err, errlen, "network: out of memory");
		goto fail;
	}
	h->lock_fd = take_lock(err, errlen);
	if (h->lock_fd < 0)
		goto fail;
	h->host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (h->host_ns < 0) {
		errf(err, errlen, "network: /proc/thread-self/ns/net: %s", strerror(errno));
		goto fail;
	}
	if (netns_dir(err, errlen) < 0)
		goto fail;
	delete_host_links();
	for (const char *const *id = leftovers; id && *id; id++) {
		snprintf(path, sizeof(path), NET_NETNS_DIR "/" NET_NETNS_PREFIX "%s", *id);
		netns_remove(path);
	}
	if (forwarding_on(h, err, errlen) < 0)
		goto fail;
	script = net_rules_host(pool, opened);
	if (!script) {
		errf(err, errlen, "network: out of memory");
		goto fail;
	}
	if (net_nft_run(script, err, errlen) < 0 || docker_room(h, err, errlen) < 0)
		goto fail;
	free(script);
	return h;
fail:
	free(script);
	net_host_free(h);
	return NULL;
}

void net_host_free(struct net_host *h)
{
	char err[256];

	if (!h)
		return;
	if (h->lock_fd >= 0) {
		/* Only the holder of the lock may touch the namespace's table and links. */
		if (h->docker_chain)
			net_nft_delete_commented("ip", "filter", h->docker_chain, DOCKER_COMMENT);
		net_nft_run("add table inet cubicle\ndelete table inet cubicle\n", err, sizeof(err));
		delete_host_links();
		if (h->forward_set && h->forward_before == '0')
			sysctl_set(FORWARD_SYSCTL, "0");
		unlink(h->state_path);
		close(h->lock_fd);
	}
	if (h->host_ns >= 0)
		close(h->host_ns);
	pthread_mutex_destroy(&h->lock);
	free(h->used);
	free(h);
}

/* --- a sandbox ---------------------------------------------------------------- */

static int slot_take(struct net_host *h)
{
	int slot = -EAGAIN;

	pthread_mutex_lock(&h->lock);
	for (unsigned int k = 0; k < h->nslots; k++) {
		unsigned int i = (h->next_slot + k) % h->nslots;

		if (!h->used[i]) {
			h->used[i] = 1;
			h->next_slot = i + 1;
			slot = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return slot;
}

static void slot_give(struct net_host *h, int slot)
{
	if (slot < 0 || (unsigned int)slot >= h->nslots)
		return;
	pthread_mutex_lock(&h->lock);
	h->used[slot] = 0;
	pthread_mutex_unlock(&h->lock);
}

/* The TAP device for QEMU: vnet headers on, so the guest's offloads carry through. */
static int tap_open(char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), ret;

	if (fd < 0)
		return errf(err, errlen, "/dev/net/tun: %s", strerror(errno)), -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), NET_TAP_NAME);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		errf(err, errlen, "TUNSETIFF " NET_TAP_NAME ": %s", strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

/* The veth pair: inner here, outer moved to the namespace host_ns. */
static int veth_make(const char *inner, const char *outer, int host_ns, char *err, size_t errlen)
{
	struct nl_sock *sk = rtnl_open();
	struct rtnl_link *l = rtnl_link_veth_alloc(), *peer = l ? rtnl_link_veth_get_peer(l) : NULL;
	int ret = -ENOMEM;

	if (sk && peer) {
		rtnl_link_set_name(l, inner);
		rtnl_link_set_name(peer, outer);
		rtnl_link_set_ns_fd(peer, host_ns);
		ret = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
		if (ret < 0)
			errf(err, errlen, "veth %s: %s", outer, nl_geterror(ret));
		ret = ret < 0 ? -EIO : 0;
	} else
		errf(err, errlen, "veth: out of memory");
	if (peer)
		rtnl_link_put(peer);
	if (l)
		rtnl_link_put(l);
	if (sk)
		nl_socket_free(sk);
	return ret;
}

/* The gateway's DNS socket, for the relay. */
static int dns_socket(char *err, size_t errlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), ret;

	inet_pton(AF_INET, NET_GATEWAY_ADDR, &sin.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		ret = -errno;
		errf(err, errlen, "DNS socket at " NET_GATEWAY_ADDR ":53: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

struct ns_job {
	struct net_host *h;
	const struct net_policy *p;
	struct net_sandbox *sb;
	const char *id;
	char err[256];
	int ret;
};

/* A thread entered into a new namespace, which it names, builds and leaves. */
static void *ns_build(void *arg)
{
	struct ns_job *j = arg;
	struct net_sandbox *sb = j->sb;
	char *script = NULL;
	uint32_t gw;
	int fd;

	inet_pton(AF_INET, NET_GATEWAY_ADDR, &gw);
	gw = ntohl(gw);
	fd = open(sb->ns_path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		j->ret = -errno;
		errf(j->err, sizeof(j->err), "%s: %s", sb->ns_path, strerror(errno));
		sb->ns_path[0] = '\0';          /* not ours to remove */
		return NULL;
	}
	close(fd);
	if (unshare(CLONE_NEWNET) < 0 ||
	    mount("/proc/thread-self/ns/net", sb->ns_path, "none", MS_BIND, NULL) < 0) {
		j->ret = -errno;
		errf(j->err, sizeof(j->err), "namespace %s: %s", sb->ns_path, strerror(errno));
		return NULL;
	}
	/* From here on this thread is in the sandbox's namespace, and ends there. */
	if (sysctl_set(FORWARD_SYSCTL, "1") < 0 ||
	    sysctl_set("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1") < 0 ||
	    sysctl_set("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1") < 0) {
		j->ret = -errno;
		errf(j->err, sizeof(j->err), "namespace sysctls: %s", strerror(errno));
		return NULL;
	}
	if ((j->ret = link_setup("lo", 0, 0, j->err, sizeof(j->err))) < 0)
		return NULL;
	sb->tap_fd = tap_open(j->err, sizeof(j->err));
	if (sb->tap_fd < 0) {
		j->ret = sb->tap_fd;
		return NULL;
	}
	if ((j->ret = link_setup(NET_TAP_NAME, gw, NET_GUEST_PREFIX, j->err, sizeof(j->err))) < 0 ||
	    (j->ret = veth_make(NET_NS_LINK, sb->host_link, j->h->host_ns, j->err,
				sizeof(j->err))) < 0 ||
	    (j->ret = link_setup(NET_NS_LINK, sb->ns_addr, 30, j->err, sizeof(j->err))) < 0 ||
	    (j->ret = route_default(sb->host_addr, j->err, sizeof(j->err))) < 0)
		return NULL;
	script = net_rules_sandbox(&j->h->pool, &j->h->open, sb->ns_addr, j->p);
	j->ret = script ? net_nft_run(script, j->err, sizeof(j->err)) : -ENOMEM;
	free(script);
	if (j->ret < 0)
		return NULL;
	sb->dns_fd = dns_socket(j->err, sizeof(j->err));
	j->ret = sb->dns_fd < 0 ? sb->dns_fd : 0;
	return NULL;
}

/* A thread entered into sb's namespace: the policy replaced. */
static void *ns_policy(void *arg)
{
	struct ns_job *j = arg;
	int fd = open(j->sb->ns_path, O_RDONLY | O_CLOEXEC);
	char *script;

	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		j->ret = -errno;
		errf(j->err, sizeof(j->err), "namespace %s: %s", j->sb->ns_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	script = net_rules_policy(j->p);
	j->ret = script ? net_nft_run(script, j->err, sizeof(j->err)) : -ENOMEM;
	free(script);
	return NULL;
}

/* Runs fn(j) on a thread of its own (which may leave for another namespace) and waits. */
static int on_own_thread(void *(*fn)(void *), struct ns_job *j)
{
	pthread_t t;
	int ret = pthread_create(&t, NULL, fn, j);

	if (ret) {
		errf(j->err, sizeof(j->err), "thread: %s", strerror(ret));
		return -ret;
	}
	pthread_join(t, NULL);
	return j->ret;
}

int net_sandbox_up(struct net_host *h, const char *id, const struct net_policy *p,
		   struct net_sandbox *sb, char *err, size_t errlen)
{
	struct ns_job j = { .h = h, .p = p, .sb = sb, .id = id };
	int ret;

	net_sandbox_init(sb);
	sb->slot = slot_take(h);
	if (sb->slot < 0) {
		errf(err, errlen, "network: all %u addresses of the pool are in use", h->nslots);
		return -EAGAIN;
	}
	sb->host_addr = h->pool.addr + 4u * (unsigned int)sb->slot + 1;
	sb->ns_addr = sb->host_addr + 1;
	snprintf(sb->host_link, sizeof(sb->host_link), NET_HOST_LINK_PREFIX "%d", sb->slot);
	snprintf(sb->ns_path, sizeof(sb->ns_path), NET_NETNS_DIR "/" NET_NETNS_PREFIX "%s", id);
	/* The slot's last namespace may still be going (it goes when its last fd closes). */
	if (if_nametoindex(sb->host_link))
		link_delete(sb->host_link);
	ret = on_own_thread(ns_build, &j);
	if (ret == 0)
		ret = link_setup(sb->host_link, sb->host_addr, 30, j.err, sizeof(j.err));
	if (ret < 0) {
		errf(err, errlen, "network: %s", j.err);
		if (sb->tap_fd >= 0)
			close(sb->tap_fd);
		if (sb->dns_fd >= 0)
			close(sb->dns_fd);
		sb->tap_fd = sb->dns_fd = -1;
		net_sandbox_down(h, sb);
	}
	return ret;
}

int net_sandbox_set_policy(struct net_host *h, struct net_sandbox *sb, const struct net_policy *p,
			   char *err, size_t errlen)
{
	struct ns_job j = { .h = h, .p = p, .sb = sb };
	int ret;

	if (!sb->ns_path[0])
		return errf(err, errlen, "network: the sandbox has none");
	ret = on_own_thread(ns_policy, &j);
	if (ret < 0)
		errf(err, errlen, "network: %s", j.err);
	return ret;
}

/*
 * The namespace's name goes; the namespace, and with it both ends of its
 * veth pair, once its last fd (QEMU's TAP) is closed. Deleting the link
 * here would wait for the kernel's grace periods (20-40 ms) with the
 * caller's locks held.
 */
void net_sandbox_down(struct net_host *h, struct net_sandbox *sb)
{
	if (sb->ns_path[0])
		netns_remove(sb->ns_path);
	slot_give(h, sb->slot);
	sb->host_link[0] = sb->ns_path[0] = '\0';
	sb->slot = -1;
}
