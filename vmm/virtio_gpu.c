#include "virtio_gpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* virtio 1.2 §5.7.6 */
enum {
	CMD_GET_DISPLAY_INFO = 0x0100,
	CMD_RESOURCE_CREATE_2D,
	CMD_RESOURCE_UNREF,
	CMD_SET_SCANOUT,
	CMD_RESOURCE_FLUSH,
	CMD_TRANSFER_TO_HOST_2D,
	CMD_RESOURCE_ATTACH_BACKING,
	CMD_RESOURCE_DETACH_BACKING,
	CMD_GET_CAPSET_INFO,
	CMD_GET_CAPSET,
	CMD_GET_EDID,
	CMD_UPDATE_CURSOR = 0x0300,
	CMD_MOVE_CURSOR,
	RESP_OK_NODATA = 0x1100,
	RESP_OK_DISPLAY_INFO,
	RESP_OK_EDID = 0x1104,
	RESP_ERR_UNSPEC = 0x1200,
	RESP_ERR_OUT_OF_MEMORY,
	RESP_ERR_INVALID_SCANOUT_ID,
	RESP_ERR_INVALID_RESOURCE_ID,
	RESP_ERR_INVALID_CONTEXT_ID,
	RESP_ERR_INVALID_PARAMETER,
};

#define FLAG_FENCE 1u
#define F_EDID 1
#define MAX_SCANOUTS 16
#define MAX_RESOURCES 4096
#define MAX_BACKING_ENTRIES 16384
#define CURSOR_DIM 64

struct hdr {
	uint32_t type;
	uint32_t flags;
	uint64_t fence_id;
	uint32_t ctx_id;
	uint8_t ring_idx;
	uint8_t pad[3];
};

struct rect {
	uint32_t x, y, w, h;
};

struct mem_entry {
	uint64_t addr;
	uint32_t length;
	uint32_t pad;
};

struct resource {
	uint32_t id;
	uint32_t format;
	uint32_t width, height;
	uint8_t *image;             /* width * height * 4, host side */
	struct mem_entry *backing;  /* guest addresses, translated at each use */
	uint32_t nbacking;
	uint64_t backing_len;
};

struct gpu {
	struct virtio_dev *dev;
	struct display *disp;       /* the screen: framebuffer, cursor, consumers */
	_Atomic uint64_t mode;      /* the mode we offer: width << 32 | height */
	uint64_t mem_cap;
	struct resource *res[MAX_RESOURCES];
	unsigned int nres;
	uint32_t scanout_res;       /* 0: disabled */
	struct rect scanout_rect;
	struct gpu_stats stats;
	struct vq_elem elem;
	const struct guest_mem *mem;   /* of the queue being served */
};

/* --- helpers ------------------------------------------------------------------- */

/* Copies len bytes from the start of elem's readable part; false if shorter. */
static bool read_req(const struct vq_elem *e, uint64_t skip, void *dst, uint64_t len)
{
	struct iovec iov[VQ_MAX_SIZE];
	uint64_t got;
	unsigned int n = vq_iov_slice(e->iov, e->n_out, skip, len, iov, VQ_MAX_SIZE, &got);
	uint8_t *p = dst;

	if (got != len)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	return true;
}

static struct resource *res_find(struct gpu *g, uint32_t id)
{
	for (unsigned int i = 0; i < g->nres; i++)
		if (g->res[i]->id == id)
			return g->res[i];
	return NULL;
}

static void res_free(struct gpu *g, struct resource *r)
{
	for (unsigned int i = 0; i < g->nres; i++) {
		if (g->res[i] == r) {
			g->res[i] = g->res[--g->nres];
			break;
		}
	}
	g->stats.resource_bytes -= (uint64_t)r->width * r->height * 4;
	if (g->scanout_res == r->id)
		g->scanout_res = 0;
	free(r->backing);
	free(r->image);
	free(r);
}

static bool format_ok(uint32_t f)
{
	/* The 32-bit formats of §5.7.6.8; the Linux driver uses B8G8R8X8 and B8G8R8A8. */
	switch (f) {
	case 1: case 2: case 3: case 4: case 67: case 68: case 121: case 134:
		return true;
	}
	return false;
}

/* Byte positions of B, G, R in a pixel of format f. */
static void format_bgr(uint32_t f, int pos[3])
{
	switch (f) {
	case 3: case 4:         /* A8R8G8B8, X8R8G8B8: A R G B in memory order */
		pos[0] = 3; pos[1] = 2; pos[2] = 1;
		break;
	case 67: case 134:      /* R8G8B8A8, R8G8B8X8 */
		pos[0] = 2; pos[1] = 1; pos[2] = 0;
		break;
	case 68: case 121:      /* X8B8G8R8, A8B8G8R8: X B G R */
		pos[0] = 1; pos[1] = 2; pos[2] = 3;
		break;
	default:                /* B8G8R8A8, B8G8R8X8 */
		pos[0] = 0; pos[1] = 1; pos[2] = 2;
	}
}

/* Whether r lies inside a width x height area; overflow-safe. */
static bool rect_inside(const struct rect *r, uint32_t width, uint32_t height)
{
	return r->x <= width && r->y <= height && r->w <= width - r->x && r->h <= height - r->y;
}

/* --- commands ----------------------------------------------------------------------- */

static uint32_t cmd_display_info(struct gpu *g, uint8_t *resp, uint32_t *len)
{
	struct {
		struct hdr h;
		struct {
			struct rect r;
			uint32_t enabled, flags;
		} pmodes[MAX_SCANOUTS];
	} *d = (void *)resp;

	memset(d, 0, sizeof(*d));
	uint64_t mode = g->mode;

	d->pmodes[0].r = (struct rect){ 0, 0, (uint32_t)(mode >> 32), (uint32_t)mode };
	d->pmodes[0].enabled = 1;
	*len = sizeof(*d);
	return RESP_OK_DISPLAY_INFO;
}

/* An EDID 1.4 base block for one detailed mode of width x height at 60 Hz. */
static void make_edid(uint32_t w, uint32_t h, uint8_t e[128])
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	uint32_t hblank = 160, vblank = 30, hsync_off = 48, hsync_w = 32, vsync_off = 3, vsync_w = 5;
	uint32_t clock = (w + hblank) * (h + vblank) * 60 / 10000;    /* units of 10 kHz */
	uint8_t *d = e + 54;
	uint8_t sum = 0;

	memset(e, 0, 128);
	memcpy(e, header, 8);
	e[8] = 0x0e;            /* manufacturer "CUB" packed in 5-bit letters */
	e[9] = 0xa2;
	e[10] = 0x01;           /* product 1 */
	e[16] = 1;              /* week 1 */
	e[17] = 36;             /* 2026 */
	e[18] = 1;              /* EDID 1.4 */
	e[19] = 4;
	e[20] = 0xa5;           /* digital, 8 bits per colour, DisplayPort */
	e[21] = (uint8_t)(w / 40 > 255 ? 255 : w / 40);   /* size in cm, about 100 dpi */
	e[22] = (uint8_t)(h / 40 > 255 ? 255 : h / 40);
	e[23] = 120;            /* gamma 2.2 */
	e[24] = 0x06;           /* RGB, preferred timing is native */
	/* Detailed timing descriptor (§3.10.2 of EDID 1.4). */
	d[0] = (uint8_t)clock;
	d[1] = (uint8_t)(clock >> 8);
	d[2] = (uint8_t)w;
	d[3] = (uint8_t)hblank;
	d[4] = (uint8_t)(((w >> 8) & 0xf) << 4 | ((hblank >> 8) & 0xf));
	d[5] = (uint8_t)h;
	d[6] = (uint8_t)vblank;
	d[7] = (uint8_t)(((h >> 8) & 0xf) << 4 | ((vblank >> 8) & 0xf));
	d[8] = (uint8_t)hsync_off;
	d[9] = (uint8_t)hsync_w;
	d[10] = (uint8_t)((vsync_off & 0xf) << 4 | (vsync_w & 0xf));
	d[11] = 0;
	d[12] = e[21] * 10 & 0xff;
	d[13] = e[22] * 10 & 0xff;
	d[14] = (uint8_t)(((e[21] * 10) >> 8) << 4 | ((e[22] * 10) >> 8));
	d[17] = 0x1e;           /* digital separate sync, both positive */
	/* A monitor name descriptor. */
	d = e + 72;
	d[3] = 0xfc;
	memcpy(d + 5, "Cubicle\n     ", 13);
	/* Unused descriptors. */
	e[90 + 3] = 0x10;
	e[108 + 3] = 0x10;
	for (int i = 0; i < 127; i++)
		sum += e[i];
	e[127] = (uint8_t)(0x100 - sum);
}

static uint32_t cmd_get_edid(struct gpu *g, const struct vq_elem *e, uint8_t *resp, uint32_t *len)
{
	struct {
		struct hdr h;
		uint32_t scanout, pad;
	} req;
	struct {
		struct hdr h;
		uint32_t size, pad;
		uint8_t edid[1024];
	} *r = (void *)resp;

	if (!read_req(e, 0, &req, sizeof(req)))
		return RESP_ERR_INVALID_PARAMETER;
	if (req.scanout != 0)
		return RESP_ERR_INVALID_SCANOUT_ID;
	memset(r, 0, sizeof(*r));
	r->size = 128;
	uint64_t mode = g->mode;

	make_edid((uint32_t)(mode >> 32), (uint32_t)mode, r->edid);
	*len = sizeof(*r);
	return RESP_OK_EDID;
}

static uint32_t cmd_create_2d(struct gpu *g, const struct vq_elem *e)
{
	struct {
		struct hdr h;
		uint32_t id, format, width, height;
	} req;
	struct resource *r;
	uint64_t bytes;

	if (!read_req(e, 0, &req, sizeof(req)))
		return RESP_ERR_INVALID_PARAMETER;
	if (req.id == 0 || res_find(g, req.id))
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (!format_ok(req.format) || req.width == 0 || req.height == 0 ||
	    req.width > FB_MAX_DIM || req.height > FB_MAX_DIM)
		return RESP_ERR_INVALID_PARAMETER;
	bytes = (uint64_t)req.width * req.height * 4;
	if (g->nres == MAX_RESOURCES || g->stats.resource_bytes + bytes > g->mem_cap)
		return RESP_ERR_OUT_OF_MEMORY;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->image = calloc(1, bytes))) {
		free(r);
		return RESP_ERR_OUT_OF_MEMORY;
	}
	r->id = req.id;
	r->format = req.format;
	r->width = req.width;
	r->height = req.height;
	g->res[g->nres++] = r;
	g->stats.resource_bytes += bytes;
	return RESP_OK_NODATA;
}

/* For commands that name just a resource: hdr, id, padding. */
static uint32_t req_resource(struct gpu *g, const struct vq_elem *e, struct resource **r)
{
	struct {
		struct hdr h;
		uint32_t id, pad;
	} req;

	if (!read_req(e, 0, &req, sizeof(req)))
		return RESP_ERR_INVALID_PARAMETER;
	*r = res_find(g, req.id);
	return *r ? RESP_OK_NODATA : RESP_ERR_INVALID_RESOURCE_ID;
}

static uint32_t cmd_unref(struct gpu *g, const struct vq_elem *e)
{
	struct resource *r;
	uint32_t ret = req_resource(g, e, &r);

	if (ret == RESP_OK_NODATA)
		res_free(g, r);
	return ret;
}

static uint32_t cmd_attach_backing(struct gpu *g, const struct vq_elem *e)
{
	struct {
		struct hdr h;
		uint32_t id, nr_entries;
	} req;
	struct resource *r;
	struct mem_entry *ents;
	uint64_t total = 0;

	if (!read_req(e, 0, &req, sizeof(req)))
		return RESP_ERR_INVALID_PARAMETER;
	r = res_find(g, req.id);
	if (!r)
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (r->backing || req.nr_entries == 0 || req.nr_entries > MAX_BACKING_ENTRIES)
		return RESP_ERR_INVALID_PARAMETER;
	ents = calloc(req.nr_entries, sizeof(*ents));
	if (!ents)
		return RESP_ERR_OUT_OF_MEMORY;
	if (!read_req(e, sizeof(req), ents, (uint64_t)req.nr_entries * sizeof(*ents))) {
		free(ents);
		return RESP_ERR_INVALID_PARAMETER;
	}
	for (uint32_t i = 0; i < req.nr_entries; i++) {
		/* Checked now for the answer, and again at each use: memory can move. */
		if (ents[i].length == 0 || !gm_translate(g->mem, ents[i].addr, ents[i].length)) {
			free(ents);
			return RESP_ERR_INVALID_PARAMETER;
		}
		total += ents[i].length;
	}
	r->backing = ents;
	r->nbacking = req.nr_entries;
	r->backing_len = total;
	return RESP_OK_NODATA;
}

static uint32_t cmd_detach_backing(struct gpu *g, const struct vq_elem *e)
{
	struct resource *r;
	uint32_t ret = req_resource(g, e, &r);

	if (ret == RESP_OK_NODATA) {
		free(r->backing);
		r->backing = NULL;
		r->nbacking = 0;
		r->backing_len = 0;
	}
	return ret;
}

/* Copies len bytes at byte offset off of r's backing into dst; false if outside. */
static bool backing_read(struct gpu *g, const struct resource *r, uint64_t off, uint8_t *dst,
			 uint64_t len)
{
	for (uint32_t i = 0; i < r->nbacking && len; i++) {
		const struct mem_entry *m = &r->backing[i];
		uint64_t n;
		const uint8_t *src;

		if (off >= m->length) {
			off -= m->length;
			continue;
		}
		n = m->length - off < len ? m->length - off : len;
		src = gm_translate(g->mem, m->addr + off, n);
		if (!src)
			return false;
		memcpy(dst, src, n);
		dst += n;
		len -= n;
		off = 0;
	}
	return len == 0;
}

static uint32_t cmd_transfer(struct gpu *g, const struct vq_elem *e)
{
	struct {
		struct hdr h;
		struct rect r;
		uint64_t offset;
		uint32_t id, pad;
	} req;
	struct resource *res;
	uint64_t stride;

	if (!read_req(e, 0, &req, sizeof(req)))
		return RESP_ERR_INVALID_PARAMETER;
	res = res_find(g, req.id);
	if (!res)
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->backing || !rect_inside(&req.r, res->width, res->height))
		return RESP_ERR_INVALID_PARAMETER;
	stride = (uint64_t)res->width * 4;
	for (uint32_t y = 0; y < req.r.h; y++) {
		uint64_t src = req.offset + stride * y;
		uint8_t *dst = res->image + (uint64_t)(req.r.y + y) * stride + (uint64_t)req.r.x * 4;

		if (src < req.offset || !backing_read(g, res, src, dst, (uint64_t)req.r.w * 4))
			return RESP_ERR_INVALID_PARAMETER;
	}
	return RESP_OK_NODATA;
}

static uint32_t cmd_set_scanout(struct gpu *g, const struct vq_elem *e)
{
	struct {
		struct hdr h;
		struct rect r;
		uint32_t scanout, id;
	} req;
	struct resource *res;
	const struct framebuffer *fb;

	if (!read_req(e, 0, &req, sizeof(req)))
		return RESP_ERR_INVALID_PARAMETER;
	if (req.scanout != 0)
		return RESP_ERR_INVALID_SCANOUT_ID;
	if (req.id == 0) {          /* disable */
		g->scanout_res = 0;
		display_set_scanout(g->disp, 0, 0);
		return RESP_OK_NODATA;
	}
	res = res_find(g, req.id);
	if (!res)
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (req.r.w == 0 || req.r.h == 0 || !rect_inside(&req.r, res->width, res->height))
		return RESP_ERR_INVALID_PARAMETER;
	fb = display_fb(g->disp);
	if ((req.r.w != fb->width || req.r.h != fb->height) &&
	    display_resize(g->disp, req.r.w, req.r.h) < 0)
		return RESP_ERR_OUT_OF_MEMORY;
	g->scanout_res = req.id;
	g->scanout_rect = req.r;
	display_set_scanout(g->disp, req.r.w, req.r.h);
	return RESP_OK_NODATA;
}

/* Copies rect r (resource coordinates) of the scanout resource to the screen. */
static void present(struct gpu *g, const struct resource *res, struct rect r)
{
	const struct rect *s = &g->scanout_rect;
	struct framebuffer *fb = display_fb(g->disp);
	int pos[3];

	/* Intersect with the scanned-out part of the resource. */
	uint32_t x0 = r.x > s->x ? r.x : s->x, y0 = r.y > s->y ? r.y : s->y;
	uint64_t x1 = (uint64_t)r.x + r.w < (uint64_t)s->x + s->w ? (uint64_t)r.x + r.w : (uint64_t)s->x + s->w;
	uint64_t y1 = (uint64_t)r.y + r.h < (uint64_t)s->y + s->h ? (uint64_t)r.y + r.h : (uint64_t)s->y + s->h;

	if (x1 <= x0 || y1 <= y0)
		return;
	format_bgr(res->format, pos);
	display_lock(g->disp);
	for (uint32_t y = y0; y < y1; y++) {
		const uint8_t *src = res->image + ((uint64_t)y * res->width + x0) * 4;
		uint8_t *dst = fb->pixels + (uint64_t)(y - s->y) * fb->stride + (uint64_t)(x0 - s->x) * 4;

		if (pos[0] == 0 && pos[1] == 1 && pos[2] == 2) {
			memcpy(dst, src, (x1 - x0) * 4);
			continue;
		}
		for (uint32_t x = x0; x < x1; x++, src += 4, dst += 4) {
			dst[0] = src[pos[0]];
			dst[1] = src[pos[1]];
			dst[2] = src[pos[2]];
			dst[3] = 0xff;
		}
	}
	struct fb_rect d = { x0 - s->x, y0 - s->y, (uint32_t)(x1 - x0), (uint32_t)(y1 - y0) };

	fb_damage(fb, &d);
	display_unlock(g->disp);
	display_damaged(g->disp, &d);
}

static uint32_t cmd_flush(struct gpu *g, const struct vq_elem *e)
{
	struct {
		struct hdr h;
		struct rect r;
		uint32_t id, pad;
	} req;
	struct resource *res;

	if (!read_req(e, 0, &req, sizeof(req)))
		return RESP_ERR_INVALID_PARAMETER;
	res = res_find(g, req.id);
	if (!res)
		return RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&req.r, res->width, res->height))
		return RESP_ERR_INVALID_PARAMETER;
	if (g->scanout_res == req.id) {
		present(g, res, req.r);
		g->stats.flushes++;
	}
	return RESP_OK_NODATA;
}

static uint32_t cmd_cursor(struct gpu *g, const struct vq_elem *e, uint32_t type)
{
	struct {
		struct hdr h;
		uint32_t scanout, x, y, pad;
		uint32_t id, hot_x, hot_y, pad2;
	} req;
	struct fb_cursor *c = display_cursor_state(g->disp);
	struct resource *res = NULL;
	bool image;

	if (!read_req(e, 0, &req, sizeof(req)) || req.scanout != 0)
		return RESP_ERR_INVALID_PARAMETER;
	image = type == CMD_UPDATE_CURSOR && req.id != 0;
	if (image) {
		res = res_find(g, req.id);
		if (!res || res->width > CURSOR_DIM || res->height > CURSOR_DIM)
			return RESP_ERR_INVALID_RESOURCE_ID;
	}
	display_lock(g->disp);
	if (image) {
		memcpy(c->pixels, res->image, (size_t)res->width * res->height * 4);
		c->width = res->width;
		c->height = res->height;
		c->hot_x = req.hot_x < res->width ? req.hot_x : 0;
		c->hot_y = req.hot_y < res->height ? req.hot_y : 0;
		c->visible = true;
	} else if (type == CMD_UPDATE_CURSOR) {
		c->visible = false;
	}
	/*
	 * Linux sends where the image's top left goes (the plane's crtc_x, which
	 * may be negative) and the hot spot apart; the pointer is at their sum.
	 */
	c->x = req.x + c->hot_x;
	c->y = req.y + c->hot_y;
	display_unlock(g->disp);
	display_cursor_changed(g->disp, image);
	return RESP_OK_NODATA;
}

/* --- queues ------------------------------------------------------------------------- */

static uint32_t dispatch(struct gpu *g, const struct vq_elem *e, uint32_t type, uint8_t *resp,
			 uint32_t *len)
{
	switch (type) {
	case CMD_GET_DISPLAY_INFO: return cmd_display_info(g, resp, len);
	case CMD_GET_EDID: return cmd_get_edid(g, e, resp, len);
	case CMD_RESOURCE_CREATE_2D: return cmd_create_2d(g, e);
	case CMD_RESOURCE_UNREF: return cmd_unref(g, e);
	case CMD_SET_SCANOUT: return cmd_set_scanout(g, e);
	case CMD_RESOURCE_FLUSH: return cmd_flush(g, e);
	case CMD_TRANSFER_TO_HOST_2D: return cmd_transfer(g, e);
	case CMD_RESOURCE_ATTACH_BACKING: return cmd_attach_backing(g, e);
	case CMD_RESOURCE_DETACH_BACKING: return cmd_detach_backing(g, e);
	case CMD_UPDATE_CURSOR:
	case CMD_MOVE_CURSOR: return cmd_cursor(g, e, type);
	default: return RESP_ERR_UNSPEC;
	}
}

static void gpu_queue_notify(struct virtio_dev *dev, unsigned int q)
{
	struct gpu *g = dev->priv;
	struct virtqueue *vq = &dev->vqs[q];
	struct vq_elem *e = &g->elem;
	bool pushed = false;
	int ret;

	g->mem = vq->mem;
	while ((ret = vq_pop(vq, e)) == 1) {
		union {
			struct hdr h;
			uint8_t bytes[24 + 1024 + 8];
		} resp;
		struct hdr req = { 0 };
		uint32_t len = sizeof(struct hdr), type;

		memset(&resp.h, 0, sizeof(resp.h));
		if (!read_req(e, 0, &req, sizeof(req)))
			type = RESP_ERR_INVALID_PARAMETER;
		else
			type = dispatch(g, e, req.type, resp.bytes, &len);
		g->stats.commands++;
		if (type >= RESP_ERR_UNSPEC)
			g->stats.errors++;
		resp.h.type = type;
		/* §5.7.6.7: a fenced command's answer carries the same fence. */
		if (req.flags & FLAG_FENCE) {
			resp.h.flags = FLAG_FENCE;
			resp.h.fence_id = req.fence_id;
			resp.h.ctx_id = req.ctx_id;
			resp.h.ring_idx = req.ring_idx;
		}
		vq_push(vq, e->head, (uint32_t)vq_elem_write(e, resp.bytes, len));
		pushed = true;
	}
	if (pushed)
		vdev_notify(dev, q);
	if (ret < 0)
		vdev_broken(dev, q);
}

static void gpu_get_config(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	/* events_read, events_clear, num_scanouts, num_capsets (§5.7.4) */
	uint32_t cfg[4] = { 0, 0, 1, 0 };

	(void)dev;
	memcpy(buf, (uint8_t *)cfg + off, len);
}

static void gpu_reset(struct virtio_dev *dev)
{
	struct gpu *g = dev->priv;

	while (g->nres)
		res_free(g, g->res[0]);
	g->scanout_res = 0;
	display_set_scanout(g->disp, 0, 0);
	display_lock(g->disp);
	display_cursor_state(g->disp)->visible = false;
	display_unlock(g->disp);
}

static void gpu_free(struct virtio_dev *dev)
{
	struct gpu *g = dev->priv;

	if (!g)
		return;
	gpu_reset(dev);
	display_free(g->disp);
	free(g);
}

static const struct virtio_dev_ops gpu_ops = {
	.name = "virtio-gpu",
	.device_id = VIRTIO_ID_GPU,
	.features = 1ull << F_EDID,
	.num_queues = 2,
	.config_size = 16,
	.get_config = gpu_get_config,
	.queue_notify = gpu_queue_notify,
	.reset = gpu_reset,
	.free = gpu_free,
};

struct virtio_dev *gpu_new(uint32_t width, uint32_t height, uint64_t mem_cap)
{
	struct virtio_dev *dev;
	struct gpu *g;

	if (width == 0 || height == 0 || width > FB_MAX_DIM || height > FB_MAX_DIM)
		return NULL;
	dev = calloc(1, sizeof(*dev));
	g = calloc(1, sizeof(*g));
	if (!dev || !g || !(g->disp = display_new(width, height))) {
		free(dev);
		free(g);
		return NULL;
	}
	g->dev = dev;
	g->mode = (uint64_t)width << 32 | height;
	g->mem_cap = mem_cap;
	dev->ops = &gpu_ops;
	dev->priv = g;
	return dev;
}

int gpu_set_mode(struct virtio_dev *dev, uint32_t width, uint32_t height)
{
	struct gpu *g = dev->priv;

	if (width < 64 || height < 64 || width > FB_MAX_DIM || height > FB_MAX_DIM ||
	    (uint64_t)width * height * 4 > g->mem_cap)
		return -EINVAL;
	g->mode = (uint64_t)width << 32 | height;
	return 0;
}

void gpu_mode(const struct virtio_dev *dev, uint32_t *width, uint32_t *height)
{
	uint64_t mode = ((const struct gpu *)dev->priv)->mode;

	*width = (uint32_t)(mode >> 32);
	*height = (uint32_t)mode;
}

uint64_t gpu_scanout_size(const struct virtio_dev *dev)
{
	return display_scanout(((const struct gpu *)dev->priv)->disp);
}

struct display *gpu_display(struct virtio_dev *dev)
{
	return ((struct gpu *)dev->priv)->disp;
}

struct framebuffer *gpu_framebuffer(struct virtio_dev *dev)
{
	return display_fb(((struct gpu *)dev->priv)->disp);
}

struct gpu_stats gpu_stats(const struct virtio_dev *dev)
{
	return ((const struct gpu *)dev->priv)->stats;
}
