/* lib/jsontext: lone UTF-16 surrogate escapes in JSON text, and what is not one. */
#include <string.h>

#include "../check.h"
#include "jsontext.h"

static bool lone(const char *json, size_t *at)
{
	return jsontext_lone_surrogate(json, strlen(json), at);
}

int main(void)
{
	size_t at = 0;

	CHECK(lone("{\"t\":\"x\\ud800y\"}", &at) && at == 7);
	CHECK(lone("{\"t\":\"\\udc00\"}", &at) && at == 6);
	CHECK(lone("{\"t\":\"\\ud83d\\u0041\"}", &at) && at == 6);     /* high, then not low */
	CHECK(lone("{\"t\":\"\\uD83D\"}", &at));                         /* at the string's end */
	CHECK(lone("{\"a\":\"\\ud83d\\ude00\",\"b\":\"\\udfff\"}", &at) && at == 25);
	CHECK(!lone("{\"t\":\"\\ud83d\\ude00 \\u00e9 \\\\ud800\"}", &at)); /* a pair; an escaped backslash */
	/* An escaped quote does not end the string: the surrogate after it is still inside. */
	CHECK(lone("{\"t\":\"plain \\\" quote \\ud800\"}", &at) && at == 21);
	CHECK(!lone("{\"ud800\":1}", &at));                              /* no backslash */
	CHECK(!lone("{\"t\":\"\\u12\"}", &at));                          /* malformed: the parser's */
	CHECK(!lone("", &at));
	return check_done();
}
