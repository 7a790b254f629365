/* The growing buffer of buf.h. */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void buf_add(struct buf *b, const void *p, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *d;

	if (b->failed)
		return;
	if (n >= BUF_MAX || b->len + n >= BUF_MAX) {
		b->failed = true;
		return;
	}
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap != b->cap) {
		d = realloc(b->data, cap);
		if (!d) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int buf_read(struct buf *b, FILE *f, size_t max)
{
	char chunk[65536];
	size_t n;
	int err = 0;

	buf_add(b, "", 0);
	while (!err && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len + n > max)
			err = EFBIG;
		buf_add(b, chunk, n);
	}
	if (!err && ferror(f))
		err = errno ? errno : EIO;
	if (!err && b->failed)
		err = ENOMEM;
	return -err;
}
