#include "guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static bool range_ok(uint64_t start, uint64_t len)
{
	return len != 0 && start + len >= start;
}

static bool overlaps(const struct guest_mem *gm, uint64_t gpa, uint64_t size)
{
	for (unsigned int i = 0; i < gm->nregions; i++) {
		const struct gm_region *r = &gm->regions[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return true;
	}
	return false;
}

static int add(struct guest_mem *gm, const struct gm_region *r)
{
	if (!range_ok(r->gpa, r->size) || !range_ok(r->uva, r->size))
		return -EINVAL;
	if (overlaps(gm, r->gpa, r->size))
		return -EINVAL;
	if (gm->nregions == GM_MAX_REGIONS)
		return -ENOSPC;
	gm->regions[gm->nregions++] = *r;
	return 0;
}

int gm_add_region(struct guest_mem *gm, int fd, uint64_t gpa, uint64_t size,
		  uint64_t uva, uint64_t mmap_offset)
{
	struct gm_region r = { .gpa = gpa, .size = size, .uva = uva };
	uint64_t len = size + mmap_offset;
	int ret;

	if (!range_ok(gpa, size) || len < size || len > SIZE_MAX)
		return -EINVAL;
	if (gm->nregions == GM_MAX_REGIONS)
		return -ENOSPC;
	if (overlaps(gm, gpa, size))
		return -EINVAL;
	r.map_base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
			  fd, 0);
	if (r.map_base == MAP_FAILED)
		return -errno;
	r.map_len = len;
	r.host = (uint8_t *)r.map_base + mmap_offset;
	ret = add(gm, &r);
	if (ret < 0)
		munmap(r.map_base, r.map_len);
	return ret;
}

int gm_add_host_region(struct guest_mem *gm, void *host, uint64_t gpa,
		       uint64_t size, uint64_t uva)
{
	struct gm_region r = { .gpa = gpa, .size = size, .uva = uva, .host = host };

	return add(gm, &r);
}

void gm_clear(struct guest_mem *gm)
{
	for (unsigned int i = 0; i < gm->nregions; i++)
		if (gm->regions[i].map_base)
			munmap(gm->regions[i].map_base, gm->regions[i].map_len);
	memset(gm, 0, sizeof(*gm));
}

void *gm_translate(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (!range_ok(gpa, len))
		return NULL;
	for (unsigned int i = 0; i < gm->nregions; i++) {
		const struct gm_region *r = &gm->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

bool gm_uva_to_gpa(const struct guest_mem *gm, uint64_t uva, uint64_t *gpa)
{
	for (unsigned int i = 0; i < gm->nregions; i++) {
		const struct gm_region *r = &gm->regions[i];
		if (uva >= r->uva && uva - r->uva < r->size) {
			*gpa = r->gpa + (uva - r->uva);
			return true;
		}
	}
	return false;
}
