/* The agent protocol's frames over a real socketpair: good, short, huge, empty. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "proto.h"

static int sv[2];
static uint8_t *buf;
static uint32_t cap;

static void pair(void)
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
}

static void unpair(void)
{
	close(sv[0]);
	close(sv[1]);
}

static int recv_one(uint8_t *type, uint32_t *len)
{
	return frame_recv(sv[1], type, &buf, &cap, len);
}

static void test_round_trip(void)
{
	uint8_t type;
	uint32_t len;

	pair();
	CHECK(frame_send(sv[0], FRAME_JSON, "{\"op\":\"hello\"}", 14) == 0);
	CHECK(frame_send(sv[0], FRAME_END, NULL, 0) == 0);
	CHECK(recv_one(&type, &len) == 0 && type == FRAME_JSON && len == 14);
	CHECK(memcmp(buf, "{\"op\":\"hello\"}", 14) == 0 && buf[14] == '\0');
	CHECK(recv_one(&type, &len) == 0 && type == FRAME_END && len == 0);
	close(sv[0]);
	CHECK(recv_one(&type, &len) == -EPIPE);     /* a clean end between frames */
	close(sv[1]);
}

static void test_largest(void)
{
	uint8_t *big = malloc(FRAME_MAX), type;
	uint32_t len;

	for (uint32_t i = 0; i < FRAME_MAX; i++)
		big[i] = (uint8_t)(i * 31);
	pair();
	if (fork() == 0) {     /* the socket buffer is smaller than a frame */
		_exit(frame_send(sv[0], FRAME_DATA, big, FRAME_MAX) == 0 ? 0 : 1);
	}
	CHECK(recv_one(&type, &len) == 0 && type == FRAME_DATA && len == FRAME_MAX);
	CHECK(memcmp(buf, big, FRAME_MAX) == 0);
	CHECK(wait(NULL) > 0);
	CHECK(frame_send(sv[0], FRAME_DATA, big, FRAME_MAX + 1) == -EMSGSIZE);
	unpair();
	free(big);
}

static void test_malformed(void)
{
	uint8_t type;
	uint32_t len;
	uint8_t zero[5] = { 0, 0, 0, 0, 'J' };
	uint8_t huge[5] = { 0xff, 0xff, 0xff, 0x7f, 'D' };
	uint8_t shrt[8] = { 10, 0, 0, 0, 'D', 'a', 'b', 'c' };

	pair();
	CHECK(write(sv[0], zero, 5) == 5);
	CHECK(recv_one(&type, &len) == -EPROTO);
	unpair();

	pair();
	CHECK(write(sv[0], huge, 5) == 5);
	CHECK(recv_one(&type, &len) == -EMSGSIZE);
	unpair();

	pair();   /* promises 9 bytes of payload, sends 3, then goes away */
	CHECK(write(sv[0], shrt, 8) == 8);
	close(sv[0]);
	CHECK(recv_one(&type, &len) == -EPROTO);
	close(sv[1]);

	pair();   /* half a header */
	CHECK(write(sv[0], shrt, 3) == 3);
	close(sv[0]);
	CHECK(recv_one(&type, &len) == -EPROTO);
	close(sv[1]);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_largest);
	RUN(test_malformed);
	free(buf);
	return check_done();
}
