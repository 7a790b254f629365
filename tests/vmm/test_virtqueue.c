/* Split virtqueue against crafted rings: the rules a hostile guest may break. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "virtqueue.h"

#define MEM_GPA 0x100000ull
#define MEM_SIZE (1u << 20)
#define DESC 0x100000ull
#define AVAIL 0x101000ull
#define USED 0x102000ull
#define BUF 0x110000ull
#define NUM 8

static uint8_t *ram;
static struct guest_mem gm;
static struct virtqueue vq;
static struct vq_elem elem;

static void *gpa(uint64_t a) { return ram + (a - MEM_GPA); }
static struct vring_desc *desc(unsigned int i) { return (struct vring_desc *)gpa(DESC) + i; }
static uint16_t *avail(void) { return gpa(AVAIL); }
static uint16_t *used(void) { return gpa(USED); }

static void set_desc(unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct vring_desc){ addr, len, flags, next };
}

/* Makes head the next available chain. */
static void offer(uint16_t head)
{
	uint16_t idx = avail()[1];

	avail()[2 + (idx % NUM)] = head;
	avail()[1] = (uint16_t)(idx + 1);
}

static void fresh(void)
{
	memset(ram, 0, MEM_SIZE);
	vq_reset(&vq, 0);
	CHECK(vq_setup(&vq, &gm, NUM, DESC, AVAIL, USED) == 0);
}

static void test_simple_chain(void)
{
	fresh();
	CHECK(vq_pop(&vq, &elem) == 0);
	set_desc(0, BUF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, BUF + 64, 32, VRING_DESC_F_WRITE, 0);
	offer(0);
	CHECK(vq_pop(&vq, &elem) == 1);
	CHECK(elem.head == 0 && elem.n_out == 1 && elem.n_in == 1);
	CHECK(elem.out_len == 16 && elem.in_len == 32);
	CHECK(elem.iov[0].iov_base == gpa(BUF) && elem.iov[1].iov_base == gpa(BUF + 64));
	CHECK(vq_elem_write(&elem, "abcdef", 6) == 6 && memcmp(gpa(BUF + 64), "abcdef", 6) == 0);
	vq_push(&vq, elem.head, 6);
	CHECK(used()[1] == 1);
	struct vring_used_elem *u = (struct vring_used_elem *)(used() + 2);
	CHECK(u[0].id == 0 && u[0].len == 6);
	CHECK(vq_pop(&vq, &elem) == 0);
}

static void test_full_length_chain(void)
{
	fresh();
	for (unsigned int i = 0; i < NUM; i++)
		set_desc(i, BUF + 32 * i, 32, VRING_DESC_F_WRITE | (i + 1 < NUM ? VRING_DESC_F_NEXT : 0),
			 (uint16_t)(i + 1));
	offer(0);
	CHECK(vq_pop(&vq, &elem) == 1);
	CHECK(elem.n_in == NUM && elem.in_len == 32 * NUM);
}

static void expect_broken(const char *what)
{
	CHECK(vq_pop(&vq, &elem) == -EIO);
	CHECK(vq.broken && vq.why && strstr(vq.why, what));
	if (!vq.why || !strstr(vq.why, what))
		fprintf(stderr, "  wanted '%s', got '%s'\n", what, vq.why ? vq.why : "(none)");
	/* A broken queue stays broken until reset. */
	CHECK(vq_pop(&vq, &elem) == -EIO);
}

static void test_loop(void)
{
	fresh();
	set_desc(0, BUF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, BUF, 16, VRING_DESC_F_NEXT, 0);
	offer(0);
	expect_broken("loop");
}

static void test_self_loop(void)
{
	fresh();
	set_desc(3, BUF, 16, VRING_DESC_F_NEXT, 3);
	offer(3);
	expect_broken("loop");
}

static void test_address_outside(void)
{
	fresh();
	set_desc(0, MEM_GPA + MEM_SIZE, 16, 0, 0);
	offer(0);
	expect_broken("outside guest memory");

	fresh();
	set_desc(0, MEM_GPA + MEM_SIZE - 8, 16, 0, 0);   /* straddles the end */
	offer(0);
	expect_broken("outside guest memory");

	fresh();
	set_desc(0, UINT64_MAX - 4, 16, 0, 0);           /* wraps around */
	offer(0);
	expect_broken("outside guest memory");

	fresh();
	set_desc(0, 0x1000, 16, 0, 0);                   /* below the region */
	offer(0);
	expect_broken("outside guest memory");
}

static void test_bad_indices(void)
{
	fresh();
	offer(NUM);
	expect_broken("head index");

	fresh();
	set_desc(0, BUF, 16, VRING_DESC_F_NEXT, NUM + 5);
	offer(0);
	expect_broken("next index");

	fresh();
	avail()[1] = NUM + 1;       /* the driver claims more than the ring holds */
	expect_broken("avail index");
}

static void test_order(void)
{
	fresh();
	set_desc(0, BUF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(1, BUF + 64, 16, 0, 0);
	offer(0);
	expect_broken("readable descriptor after a writable");
}

static void test_indirect(void)
{
	struct vring_desc *t = gpa(BUF + 0x1000);

	fresh();
	t[0] = (struct vring_desc){ BUF, 8, VRING_DESC_F_NEXT, 2 };
	t[2] = (struct vring_desc){ BUF + 64, 8, VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ BUF + 128, 24, VRING_DESC_F_WRITE, 0 };
	set_desc(0, BUF + 0x1000, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK(vq_pop(&vq, &elem) == 1);
	CHECK(elem.n_out == 2 && elem.n_in == 1 && elem.in_len == 24);

	fresh();
	t[0] = (struct vring_desc){ BUF, 8, VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ BUF, 8, VRING_DESC_F_NEXT, 0 };
	set_desc(0, BUF + 0x1000, 2 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken("loop in indirect");

	fresh();
	t[0] = (struct vring_desc){ BUF + 0x2000, 16, VRING_DESC_F_INDIRECT, 0 };
	set_desc(0, BUF + 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken("nested");

	fresh();
	set_desc(0, BUF + 0x1000, 20, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken("bad length");

	fresh();
	set_desc(0, BUF + 0x1000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	offer(0);
	expect_broken("indirect descriptor with NEXT");

	fresh();   /* a table longer than any queue: an oversize chain */
	set_desc(0, BUF, (VQ_MAX_SIZE + 1) * 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken("longer than the queue");

	fresh();
	set_desc(0, BUF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken("indirect descriptor inside a chain");
}

static void test_reset_recovers(void)
{
	fresh();
	offer(NUM);
	CHECK(vq_pop(&vq, &elem) == -EIO);
	fresh();
	set_desc(0, BUF, 16, 0, 0);
	offer(0);
	CHECK(vq_pop(&vq, &elem) == 1);
}

static void test_setup_rules(void)
{
	vq_reset(&vq, 0);
	CHECK(vq_setup(&vq, &gm, 6, DESC, AVAIL, USED) == -EINVAL);        /* not 2^n */
	CHECK(vq_setup(&vq, &gm, 0, DESC, AVAIL, USED) == -EINVAL);
	CHECK(vq_setup(&vq, &gm, 2 * VQ_MAX_SIZE, DESC, AVAIL, USED) == -EINVAL);
	CHECK(vq_setup(&vq, &gm, NUM, DESC + 8, AVAIL, USED) == -EINVAL);  /* misaligned */
	CHECK(vq_setup(&vq, &gm, NUM, DESC, AVAIL + 1, USED) == -EINVAL);
	CHECK(vq_setup(&vq, &gm, NUM, DESC, AVAIL, USED + 2) == -EINVAL);
	CHECK(vq_setup(&vq, &gm, NUM, DESC, AVAIL, MEM_GPA + MEM_SIZE - 8) == -EINVAL);
	CHECK(!vq.ready && vq_pop(&vq, &elem) == 0);
}

static void test_notify(void)
{
	fresh();
	set_desc(0, BUF, 16, VRING_DESC_F_WRITE, 0);
	offer(0);
	CHECK(vq_pop(&vq, &elem) == 1);
	vq_push(&vq, 0, 1);
	CHECK(vq_should_notify(&vq));
	avail()[0] = VRING_AVAIL_F_NO_INTERRUPT;
	CHECK(!vq_should_notify(&vq));

	/* EVENT_IDX: the driver asks to hear when used passes used_event. */
	fresh();
	vq.event_idx = true;
	avail()[2 + NUM] = 1;      /* used_event: interrupt once used idx moves past 1 */
	for (int i = 0; i < 3; i++) {
		set_desc((unsigned int)i, BUF, 16, VRING_DESC_F_WRITE, 0);
		offer((uint16_t)i);
	}
	CHECK(vq_pop(&vq, &elem) == 1);
	CHECK(*(uint16_t *)(used() + 2 + 4 * NUM) == 1);   /* avail_event follows last_avail */
	vq_push(&vq, elem.head, 0);
	CHECK(vq_should_notify(&vq));                       /* first one always */
	CHECK(vq_pop(&vq, &elem) == 1);
	vq_push(&vq, elem.head, 0);                         /* used idx 2: passes 1 */
	CHECK(vq_should_notify(&vq));
	CHECK(vq_pop(&vq, &elem) == 1);
	vq_push(&vq, elem.head, 0);                         /* used idx 3: not asked */
	CHECK(!vq_should_notify(&vq));
}

static void test_translate(void)
{
	CHECK(gm_translate(&gm, MEM_GPA, 1) == ram);
	CHECK(gm_translate(&gm, MEM_GPA, MEM_SIZE) == ram);
	CHECK(gm_translate(&gm, MEM_GPA, MEM_SIZE + 1) == NULL);
	CHECK(gm_translate(&gm, MEM_GPA, 0) == NULL);
	CHECK(gm_translate(&gm, UINT64_MAX, 2) == NULL);
	CHECK(gm_add_host_region(&gm, ram, MEM_GPA + 16, 32, 0) == -EINVAL);   /* overlap */
	CHECK(gm_add_host_region(&gm, ram, UINT64_MAX - 8, 32, 0) == -EINVAL); /* wraps */
}

int main(void)
{
	ram = aligned_alloc(4096, MEM_SIZE);
	CHECK(gm_add_host_region(&gm, ram, MEM_GPA, MEM_SIZE, 0x7f0000000000ull) == 0);
	RUN(test_simple_chain);
	RUN(test_full_length_chain);
	RUN(test_loop);
	RUN(test_self_loop);
	RUN(test_address_outside);
	RUN(test_bad_indices);
	RUN(test_order);
	RUN(test_indirect);
	RUN(test_reset_recovers);
	RUN(test_setup_rules);
	RUN(test_notify);
	RUN(test_translate);
	gm_clear(&gm);
	free(ram);
	return check_done();
}
