/*
 * virtio-gpu 2D against a hand-driven "guest": commands crafted byte by byte
 * in test memory, as the Linux driver sends them and as a hostile one might.
 * What the guest draws must land in the framebuffer exactly, with damage.
 */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "virtio_gpu.h"

#define GPA 0x100000ull
#define MEM (8u << 20)
#define NUM 64
#define RING(q) (GPA + (uint64_t)(q) * 0x3000)
#define REQ (GPA + 0x10000)
#define RESP (GPA + 0x20000)
#define PAGES (GPA + 0x100000)   /* backing pages live from here */

enum { OK_NODATA = 0x1100, OK_DISPLAY_INFO, OK_EDID = 0x1104, ERR_UNSPEC = 0x1200,
       ERR_OOM, ERR_SCANOUT, ERR_RESOURCE, ERR_CONTEXT, ERR_PARAM };

struct hdr {
	uint32_t type, flags;
	uint64_t fence_id;
	uint32_t ctx_id;
	uint8_t ring_idx, pad[3];
};

static uint8_t *ram;
static struct guest_mem gm;
static struct virtio_dev *dev;
static uint16_t next_desc[2], used_seen[2];

static void *at(uint64_t gpa) { return ram + (gpa - GPA); }
static struct vring_desc *desc(int q) { return at(RING(q)); }
static uint16_t *avail(int q) { return at(RING(q) + 0x1000); }
static uint16_t *used(int q) { return at(RING(q) + 0x2000); }

static void setup(uint64_t cap)
{
	memset(ram, 0, MEM);
	memset(next_desc, 0, sizeof(next_desc));
	memset(used_seen, 0, sizeof(used_seen));
	dev = gpu_new(1280, 800, cap);
	CHECK(dev != NULL);
	dev->vqs = calloc(2, sizeof(*dev->vqs));
	for (int q = 0; q < 2; q++) {
		vq_reset(&dev->vqs[q], 0);
		CHECK(vq_setup(&dev->vqs[q], &gm, NUM, RING(q), RING(q) + 0x1000, RING(q) + 0x2000) == 0);
	}
}

static void teardown(void)
{
	free(dev->vqs);
	vdev_free(dev);
}

/* Sends one command on queue q; returns the response type (resp gets it all). */
static uint32_t cmd(int q, const void *req, uint32_t len, void *resp, uint32_t resp_len)
{
	uint16_t d0 = next_desc[q]++ % NUM, d1 = next_desc[q]++ % NUM, idx = avail(q)[1];
	struct vring_used_elem *u = (struct vring_used_elem *)(used(q) + 2);

	memcpy(at(REQ), req, len);
	memset(at(RESP), 0xee, resp_len);
	desc(q)[d0] = (struct vring_desc){ REQ, len, VRING_DESC_F_NEXT, d1 };
	desc(q)[d1] = (struct vring_desc){ RESP, resp_len, VRING_DESC_F_WRITE, 0 };
	avail(q)[2 + idx % NUM] = d0;
	avail(q)[1] = (uint16_t)(idx + 1);
	dev->ops->queue_notify(dev, (unsigned int)q);
	if (used(q)[1] == used_seen[q])
		return 0;
	CHECK(u[used_seen[q]++ % NUM].len >= sizeof(struct hdr));
	memcpy(resp, at(RESP), resp_len);
	return ((struct hdr *)resp)->type;
}

static uint32_t simple(const void *req, uint32_t len)
{
	struct hdr r;

	return cmd(0, req, len, &r, sizeof(r));
}

static uint32_t create(uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
	struct { struct hdr h; uint32_t id, fmt, w, hgt; } c = { { .type = 0x101 }, id, fmt, w, h };

	return simple(&c, sizeof(c));
}

/* Backing of n_pages 4 KiB pages, placed out of order in guest memory. */
static uint32_t attach(uint32_t id, uint32_t n_pages, uint64_t base)
{
	struct { struct hdr h; uint32_t id, n; struct { uint64_t addr; uint32_t len, pad; } e[64]; } a;

	memset(&a, 0, sizeof(a));
	a.h.type = 0x106;
	a.id = id;
	a.n = n_pages;
	for (uint32_t i = 0; i < n_pages; i++)
		a.e[i].addr = base + (uint64_t)((i * 7) % n_pages) * 4096, a.e[i].len = 4096;
	return simple(&a, 24 + 8 + n_pages * 16);
}

/* The byte at offset off of a backing made by attach(). */
static uint8_t *backing_at(uint64_t base, uint32_t n_pages, uint64_t off)
{
	uint32_t page = (uint32_t)(off / 4096);

	for (uint32_t i = 0; i < n_pages; i++)
		if (i == page)
			return at(base + (uint64_t)((i * 7) % n_pages) * 4096 + off % 4096);
	return NULL;
}

static uint32_t transfer(uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint64_t off)
{
	struct { struct hdr h; uint32_t x, y, w, hh; uint64_t off; uint32_t id, pad; } t =
		{ { .type = 0x105 }, x, y, w, h, off, id, 0 };

	return simple(&t, sizeof(t));
}

static uint32_t scanout(uint32_t sid, uint32_t id, uint32_t w, uint32_t h)
{
	struct { struct hdr h; uint32_t x, y, w, hh, sid, id; } s = { { .type = 0x103 }, 0, 0, w, h, sid, id };

	return simple(&s, sizeof(s));
}

static uint32_t flush(uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct { struct hdr h; uint32_t x, y, w, hh, id, pad; } f = { { .type = 0x104 }, x, y, w, h, id, 0 };

	return simple(&f, sizeof(f));
}

static void test_display_info_and_edid(void)
{
	struct { struct hdr h; struct { uint32_t x, y, w, h, enabled, flags; } m[16]; } di;
	struct { struct hdr h; uint32_t size, pad; uint8_t edid[1024]; } ed;
	struct hdr q = { .type = 0x100 };
	struct { struct hdr h; uint32_t scanout, pad; } eq = { { .type = 0x10a }, 0, 0 };
	uint8_t sum = 0;

	setup(64 << 20);
	CHECK(cmd(0, &q, sizeof(q), &di, sizeof(di)) == OK_DISPLAY_INFO);
	CHECK(di.m[0].w == 1280 && di.m[0].h == 800 && di.m[0].enabled == 1 && di.m[1].enabled == 0);
	CHECK(cmd(0, &eq, sizeof(eq), &ed, sizeof(ed)) == OK_EDID && ed.size == 128);
	CHECK(memcmp(ed.edid, "\0\xff\xff\xff\xff\xff\xff\0", 8) == 0);
	for (int i = 0; i < 128; i++)
		sum += ed.edid[i];
	CHECK(sum == 0);
	/* the preferred timing: 1280 x 800 */
	CHECK((ed.edid[56] | (ed.edid[58] >> 4) << 8) == 1280);
	CHECK((ed.edid[59] | (ed.edid[61] >> 4) << 8) == 800);
	eq.scanout = 5;
	CHECK(cmd(0, &eq, sizeof(eq), &ed, sizeof(ed)) == ERR_SCANOUT);
	teardown();
}

static uint32_t pix(uint32_t x, uint32_t y) { return (x * 3 + y * 1000) | 0xff000000u; }

static void test_draw_and_flush(void)
{
	struct framebuffer *fb;
	struct fb_rect d;
	bool same = true;

	setup(64 << 20);
	/* 64 x 32 BGRX: 8 KiB of backing in two pages, out of order. */
	CHECK(create(1, 2, 64, 32) == OK_NODATA);
	CHECK(attach(1, 2, PAGES) == OK_NODATA);
	for (uint32_t y = 0; y < 32; y++)
		for (uint32_t x = 0; x < 64; x++) {
			uint32_t v = pix(x, y);
			memcpy(backing_at(PAGES, 2, (y * 64 + x) * 4), &v, 4);
		}
	CHECK(transfer(1, 0, 0, 64, 32, 0) == OK_NODATA);
	CHECK(scanout(0, 1, 64, 32) == OK_NODATA);
	fb = gpu_framebuffer(dev);
	CHECK(fb->width == 64 && fb->height == 32);
	fb_take_damage(fb, &d);
	CHECK(flush(1, 0, 0, 64, 32) == OK_NODATA);
	for (uint32_t y = 0; y < 32; y++)
		for (uint32_t x = 0; x < 64; x++)
			same &= memcmp(fb->pixels + y * fb->stride + x * 4, &(uint32_t){ pix(x, y) }, 3) == 0;
	CHECK(same);
	CHECK(fb_take_damage(fb, &d) && d.w == 64 && d.h == 32);

	/* A small update: only its rectangle changes and is damaged. */
	uint32_t red = 0xffff0000u;
	for (uint32_t y = 10; y < 12; y++)
		for (uint32_t x = 5; x < 9; x++)
			memcpy(backing_at(PAGES, 2, (y * 64 + x) * 4), &red, 4);
	CHECK(transfer(1, 5, 10, 4, 2, (10 * 64 + 5) * 4) == OK_NODATA);
	CHECK(flush(1, 5, 10, 4, 2) == OK_NODATA);
	CHECK(fb_take_damage(fb, &d) && d.x == 5 && d.y == 10 && d.w == 4 && d.h == 2);
	CHECK(memcmp(fb->pixels + 10 * fb->stride + 5 * 4, &red, 3) == 0);
	CHECK(memcmp(fb->pixels + 10 * fb->stride + 4 * 4, &(uint32_t){ pix(4, 10) }, 3) == 0);

	/* Disabling the scanout stops presenting. */
	CHECK(scanout(0, 0, 0, 0) == OK_NODATA);
	CHECK(flush(1, 0, 0, 64, 32) == OK_NODATA);
	CHECK(!fb_take_damage(fb, &d));
	CHECK(gpu_stats(dev).errors == 0);
	teardown();
}

static void test_format_and_cursor(void)
{
	struct framebuffer *fb;
	struct { struct hdr h; uint32_t sid, x, y, pad, id, hx, hy, pad2; } cur =
		{ { .type = 0x300 }, 0, 100, 200, 0, 2, 3, 4, 0 };
	struct hdr r;
	const struct fb_cursor *c;

	setup(64 << 20);
	/* X8R8G8B8 is X, R, G, B in memory: it must come out as B, G, R. */
	CHECK(create(1, 4, 16, 16) == OK_NODATA && attach(1, 1, PAGES) == OK_NODATA);
	memcpy(backing_at(PAGES, 1, 0), "\x00\x11\x22\x33", 4);
	CHECK(transfer(1, 0, 0, 16, 16, 0) == OK_NODATA);
	CHECK(scanout(0, 1, 16, 16) == OK_NODATA && flush(1, 0, 0, 16, 16) == OK_NODATA);
	fb = gpu_framebuffer(dev);
	CHECK(memcmp(fb->pixels, "\x33\x22\x11", 3) == 0);

	/* A 64 x 64 cursor (16 KiB, four pages), on the cursor queue, with a fence. */
	CHECK(create(2, 1, 64, 64) == OK_NODATA && attach(2, 4, PAGES + 0x10000) == OK_NODATA);
	memcpy(backing_at(PAGES + 0x10000, 4, 0), "\x01\x02\x03\x04", 4);
	CHECK(transfer(2, 0, 0, 64, 64, 0) == OK_NODATA);
	cur.h.flags = 1;
	cur.h.fence_id = 77;
	CHECK(cmd(1, &cur, sizeof(cur), &r, sizeof(r)) == OK_NODATA);
	CHECK(r.flags == 1 && r.fence_id == 77);        /* the fence comes back */
	c = display_cursor_state(gpu_display(dev));
	/* The guest sends the image's top left; the pointer is at the hot spot. */
	CHECK(c->visible && c->x == 103 && c->y == 204 && c->hot_x == 3 && c->hot_y == 4);
	CHECK(c->width == 64 && memcmp(c->pixels, "\x01\x02\x03\x04", 4) == 0);
	cur.h.type = 0x301;
	cur.x = 5;
	CHECK(cmd(1, &cur, sizeof(cur), &r, sizeof(r)) == OK_NODATA && c->x == 8 && c->visible);
	teardown();
}

static void test_hostile_commands(void)
{
	struct { struct hdr h; uint32_t id, n; struct { uint64_t addr; uint32_t len, pad; } e[2]; } a;
	struct hdr unknown = { .type = 0x999 };

	setup(1 << 20);                                 /* a 1 MiB cap */
	CHECK(create(0, 2, 8, 8) == ERR_RESOURCE);      /* id 0 */
	CHECK(create(1, 2, 8, 8) == OK_NODATA);
	CHECK(create(1, 2, 8, 8) == ERR_RESOURCE);      /* taken */
	CHECK(create(2, 99, 8, 8) == ERR_PARAM);        /* no such format */
	CHECK(create(2, 2, 0, 8) == ERR_PARAM);
	CHECK(create(2, 2, 100000, 8) == ERR_PARAM);
	CHECK(create(2, 2, 1024, 1024) == ERR_OOM);     /* 4 MiB > cap */
	CHECK(transfer(1, 0, 0, 8, 8, 0) == ERR_PARAM); /* no backing yet */
	memset(&a, 0, sizeof(a));
	a.h.type = 0x106;
	a.id = 1;
	a.n = 1;
	a.e[0].addr = GPA + MEM - 100;                  /* runs off guest memory */
	a.e[0].len = 4096;
	CHECK(simple(&a, 24 + 8 + 16) == ERR_PARAM);
	a.n = 1000000;                                  /* more entries than sent */
	CHECK(simple(&a, 24 + 8 + 16) == ERR_PARAM);
	CHECK(attach(1, 1, PAGES) == OK_NODATA);
	CHECK(attach(1, 1, PAGES) == ERR_PARAM);        /* already attached */
	CHECK(transfer(1, 4, 4, 8, 8, 0) == ERR_PARAM); /* outside the resource */
	CHECK(transfer(1, UINT32_MAX, 0, 2, 2, 0) == ERR_PARAM);
	CHECK(transfer(1, 0, 0, 8, 8, UINT64_MAX - 8) == ERR_PARAM);  /* offset wraps */
	CHECK(transfer(1, 0, 0, 8, 8, 4096) == ERR_PARAM);            /* past the backing */
	CHECK(transfer(7, 0, 0, 8, 8, 0) == ERR_RESOURCE);
	CHECK(scanout(3, 1, 8, 8) == ERR_SCANOUT);
	CHECK(scanout(0, 1, 16, 8) == ERR_PARAM);       /* larger than the resource */
	CHECK(flush(1, 0, 0, 9, 8) == ERR_PARAM);
	CHECK(simple(&unknown, sizeof(unknown)) == ERR_UNSPEC);
	CHECK(simple(&unknown, 8) == ERR_PARAM);        /* shorter than a header */
	CHECK(gpu_stats(dev).resource_bytes == 8 * 8 * 4);
	struct { struct hdr h; uint32_t id, pad; } u = { { .type = 0x102 }, 1, 0 };
	CHECK(simple(&u, sizeof(u)) == OK_NODATA && gpu_stats(dev).resource_bytes == 0);
	CHECK(simple(&u, sizeof(u)) == ERR_RESOURCE);   /* gone */
	CHECK(!dev->needs_reset);                       /* all answered, nothing broken */
	teardown();
}

int main(void)
{
	ram = aligned_alloc(4096, MEM);
	CHECK(gm_add_host_region(&gm, ram, GPA, MEM, 0) == 0);
	RUN(test_display_info_and_edid);
	RUN(test_draw_and_flush);
	RUN(test_format_and_cursor);
	RUN(test_hostile_commands);
	CHECK(gpu_new(0, 10, 1) == NULL && gpu_new(10000, 10, 1) == NULL);
	free(ram);
	return check_done();
}
