/*
 * Guest memory as the device host sees it: a small table of regions, each a
 * mapping of a file descriptor the frontend sent, addressed by guest-physical
 * address (descriptors) or by the frontend's own virtual address (vring
 * addresses in vhost-user). Every guest address a device touches goes through
 * gm_translate(), which checks the whole range lies in one region.
 */
#ifndef CUBICLE_GUEST_MEM_H
#define CUBICLE_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 8

struct gm_region {
	uint64_t gpa;        /* guest-physical start */
	uint64_t size;       /* bytes */
	uint64_t uva;        /* the frontend's virtual address of gpa */
	uint8_t *host;       /* our mapping of gpa */
	void *map_base;      /* what to munmap; NULL if not ours */
	size_t map_len;
};

struct guest_mem {
	unsigned int nregions;
	struct gm_region regions[GM_MAX_REGIONS];
};

/*
 * Maps `size` bytes of `fd` at `mmap_offset` as the region for [gpa, gpa+size).
 * Takes no ownership of fd (the caller closes it; the mapping stays valid).
 * Returns 0 or -errno: -EINVAL for an empty, overflowing or overlapping region,
 * -ENOSPC when the table is full.
 */
int gm_add_region(struct guest_mem *gm, int fd, uint64_t gpa, uint64_t size,
		  uint64_t uva, uint64_t mmap_offset);

/* Adds a region over memory the caller owns (tests, or an in-process engine). */
int gm_add_host_region(struct guest_mem *gm, void *host, uint64_t gpa,
		       uint64_t size, uint64_t uva);

/* Unmaps every region; the table is empty afterwards. Accepts an empty table. */
void gm_clear(struct guest_mem *gm);

/*
 * The host address of guest-physical [gpa, gpa+len), or NULL unless the whole
 * range lies inside one region. len 0 is refused. This can't fail otherwise.
 */
void *gm_translate(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* The guest-physical address of the frontend's virtual address uva, or false. */
bool gm_uva_to_gpa(const struct guest_mem *gm, uint64_t uva, uint64_t *gpa);

#endif
