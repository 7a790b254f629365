/*
 * What the models' routes decide without a sandbox (api/model.c,
 * api/browser.c): the display each model family should be told of, within
 * its vendor's limits and the screen's aspect, never larger than the
 * screen; and the browser's address read out of a session store, whose
 * bytes are the guest's: a store that lies about its size, is cut short,
 * is not one, or names a tab that is not there gives no address and no
 * crash.
 */
#include <lz4.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "browser.h"
#include "model.h"

static void recommend(const char *vendor, const char *model, uint32_t w, uint32_t h,
		      uint32_t want_w, uint32_t want_h, const char *tier)
{
	struct model_display d;

	CHECK(model_recommend(vendor, model, w, h, &d));
	CHECK(d.width == want_w && d.height == want_h && !strcmp(d.tier, tier));
	if (d.width != want_w || d.height != want_h || strcmp(d.tier, tier))
		fprintf(stderr, "%s on %ux%u: %ux%u %s, want %ux%u %s\n", model ? model : vendor,
			w, h, d.width, d.height, d.tier, want_w, want_h, tier);
}

static void test_displays(void)
{
	struct model_display d;

	/* 1280x800 fits every family as it is. */
	recommend(NULL, "claude-opus-5-5", 1280, 800, 1280, 800, "high-resolution");
	recommend(NULL, "claude-sonnet-4-5", 1280, 800, 1280, 800, "standard");
	recommend(NULL, "gpt-5.5", 1280, 800, 1280, 800, "original");
	recommend(NULL, "gemini-3.5-flash", 1280, 800, 1280, 800, "any");
	/* 1920x1080: the standard tier's 1.15 megapixels; 1430x804 is 1,149,720. */
	recommend(NULL, "claude-sonnet-4-5", 1920, 1080, 1430, 804, "standard");
	recommend(NULL, "claude-opus-4-7", 1920, 1080, 1920, 1080, "high-resolution");
	recommend(NULL, "claude-opus-4-6", 1920, 1080, 1430, 804, "standard");
	recommend(NULL, "claude-mythos-5-1", 1920, 1080, 1920, 1080, "high-resolution");
	/* The older names put a date after the family: no version of 5 or more. */
	recommend(NULL, "claude-3-5-sonnet-20241022", 1920, 1080, 1430, 804, "standard");
	recommend(NULL, "claude-3-opus-20240229", 1920, 1080, 1430, 804, "standard");
	recommend(NULL, "claude-sonnet-4-5-20250929", 1920, 1080, 1430, 804, "standard");
	/* 2560x1600: the high tier's 2000 a side, then its 4784 tokens (72x45 = 3240 at 2000). */
	recommend(NULL, "claude-opus-5", 2560, 1600, 2000, 1250, "high-resolution");
	/* 3840x2160: the long edge binds; 2400x2400: the tokens (69 x 69 = 4761 of 28 px). */
	recommend(NULL, "claude-opus-5-5", 3840, 2160, 2000, 1125, "high-resolution");
	recommend(NULL, "claude-opus-5-5", 2400, 2400, 1932, 1932, "high-resolution");
	/* OpenAI past 10.24 megapixels. */
	CHECK(model_recommend("openai", NULL, 8192, 4608, &d) &&
	      (uint64_t)d.width * d.height <= 10240000 && d.width < 8192);
	/* Unknown model: its vendor's safest; no vendor at all: none. */
	recommend("anthropic", "claude-next", 1920, 1080, 1430, 804, "standard");
	recommend(NULL, NULL, 1920, 1080, 1430, 804, "standard");
	CHECK(!model_recommend(NULL, "llama-9", 1280, 800, &d));
}

/* A session store of json, as Firefox writes it: "mozLz40\0", the size, an LZ4 block. */
static size_t store(const char *json, uint8_t *out, size_t cap, uint32_t claimed)
{
	int n = LZ4_compress_default(json, (char *)out + 12, (int)strlen(json), (int)cap - 12);

	memcpy(out, "mozLz40", 8);
	claimed = claimed ? claimed : (uint32_t)strlen(json);
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(claimed >> (8 * i));
	return n > 0 ? (size_t)n + 12 : 0;
}

static void test_store(void)
{
	static const char good[] =
		"{\"version\":[\"sessionrestore\",1],\"selectedWindow\":1,\"windows\":[{\"selected\":2,"
		"\"tabs\":[{\"entries\":[{\"url\":\"about:home\"}],\"index\":1},{\"entries\":["
		"{\"url\":\"https://a.test/\"},{\"url\":\"https://b.test/page\"}],\"index\":2}]}]}";
	uint8_t buf[4096];
	size_t n = store(good, buf, sizeof(buf), 0);
	char *url = browser_store_url(buf, n);

	CHECK(url && !strcmp(url, "https://b.test/page"));
	free(url);
	/* Cut short, lying about its size, not a store, empty. */
	CHECK(!browser_store_url(buf, n - 5));
	CHECK(!browser_store_url(buf, 11));
	n = store(good, buf, sizeof(buf), 10);
	CHECK(!browser_store_url(buf, n));
	n = store(good, buf, sizeof(buf), BROWSER_JSON_MAX + 1);
	CHECK(!browser_store_url(buf, n));
	n = store(good, buf, sizeof(buf), 0);
	buf[3] = 'X';
	CHECK(!browser_store_url(buf, n));
	/* A selected tab or entry that is not there; an entry without a string url; not JSON. */
	static const char *const bad[] = {
		"{\"selectedWindow\":2,\"windows\":[{\"selected\":1,\"tabs\":[{\"entries\":[{\"url\":\"x\"}]}]}]}",
		"{\"windows\":[{\"selected\":0,\"tabs\":[{\"entries\":[{\"url\":\"x\"}]}]}]}",
		"{\"windows\":[{\"tabs\":[{\"index\":-1,\"entries\":[{\"url\":\"x\"}]}]}]}",
		"{\"windows\":[{\"tabs\":[{\"entries\":[{\"url\":7}]}]}]}",
		"{\"windows\":{\"tabs\":[]}}", "[[[[", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = store(bad[i], buf, sizeof(buf), 0);
		CHECK(!(url = browser_store_url(buf, n)));
		free(url);
	}
	/* Defaults: the first window, tab and entry when none is named. */
	n = store("{\"windows\":[{\"tabs\":[{\"entries\":[{\"url\":\"file:///etc/hostname\"}]}]}]}",
		  buf, sizeof(buf), 0);
	url = browser_store_url(buf, n);
	CHECK(url && !strcmp(url, "file:///etc/hostname"));
	free(url);
}

int main(void)
{
	RUN(test_displays);
	RUN(test_store);
	return check_done();
}
