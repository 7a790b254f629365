/*
 * The cubicle-agent protocol, version 1 (docs/agent-protocol.md), shared by
 * the agent in the guest and the client library on the host.
 *
 * One vsock stream connection per operation. Every message is a frame:
 *   u32 length (little-endian, counts type + payload), u8 type, payload.
 * The first frame on a connection is a JSON request; the agent answers with
 * a JSON frame, then whatever data the operation carries.
 */
#ifndef CUBICLE_AGENT_PROTO_H
#define CUBICLE_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_PROTOCOL 1
#define AGENT_PORT 1024

#define FRAME_JSON 'J'     /* a JSON object: request, reply, event */
#define FRAME_DATA 'D'     /* bytes: file contents, stdin */
#define FRAME_STDOUT 'O'
#define FRAME_STDERR 'E'
#define FRAME_END 'Z'      /* end of a data stream: EOF of stdin or of a file */

#define FRAME_MAX (1u << 20)     /* the largest payload either side sends */
#define FRAME_DATA_CHUNK (256u * 1024)

/*
 * Writes one frame (blocking). Returns 0 or -errno.
 */
int frame_send(int fd, uint8_t type, const void *payload, uint32_t len);

/*
 * Reads one frame (blocking) into *buf, which grows as needed (the caller
 * frees it; *cap tracks its size). Returns 0, -EPIPE at a clean end of
 * stream between frames, -EPROTO for a truncated frame, -EMSGSIZE for one
 * larger than FRAME_MAX, or -errno.
 *
 * Both directions honour a socket timeout the caller set (SO_RCVTIMEO,
 * SO_SNDTIMEO): -EAGAIN before a frame has begun, -ETIMEDOUT inside one.
 */
int frame_recv(int fd, uint8_t *type, uint8_t **buf, uint32_t *cap, uint32_t *len);

/*
 * Sends len bytes of data as FRAME_DATA frames of at most FRAME_DATA_CHUNK
 * (none for len 0): a command's stdin, a file's contents. 0 or -errno.
 */
int frame_send_data(int fd, const void *data, size_t len);

#endif
