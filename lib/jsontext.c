#include "jsontext.h"

#include <stdint.h>

/* The four hex digits at p as a number, or -1. */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* The code unit of a "\uXXXX" at text[i] (i + 6 <= len), or -1. */
static long unit_at(const char *text, size_t len, size_t i)
{
	if (i + 6 > len || text[i] != '\\' || text[i + 1] != 'u')
		return -1;
	return hex4(text + i + 2);
}

bool jsontext_lone_surrogate(const char *text, size_t len, size_t *at)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		long u, next;

		if (!in_string) {
			in_string = text[i] == '"';
			continue;
		}
		if (text[i] == '"') {
			in_string = false;
			continue;
		}
		if (text[i] != '\\' || i + 1 >= len)
			continue;
		if (text[i + 1] != 'u') {
			i++;            /* \" \\ \n ...: the escaped byte is not a quote */
			continue;
		}
		u = unit_at(text, len, i);
		if (u >= 0xd800 && u <= 0xdbff) {
			next = unit_at(text, len, i + 6);
			if (next < 0xdc00 || next > 0xdfff) {
				*at = i;
				return true;
			}
			i += 11;        /* the pair */
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			*at = i;
			return true;
		} else if (u >= 0) {
			i += 5;
		}
	}
	return false;
}
