#include "shot.h"

#include <errno.h>
#include <string.h>

#include "errf.h"

static int parse_format(struct json_object *o, struct img_opts *img, char *err, size_t errlen)
{
	struct json_object *v;
	const char *f;

	img->format = IMG_PNG;
	if (!json_object_object_get_ex(o, "format", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return errf(err, errlen, "format: want \"png\" or \"jpeg\"");
	f = json_object_get_string(v);
	if (strcmp(f, "png") == 0)
		img->format = IMG_PNG;
	else if (strcmp(f, "jpeg") == 0 || strcmp(f, "jpg") == 0)
		img->format = IMG_JPEG;
	else
		return errf(err, errlen, "format '%.32s': want png or jpeg", f);
	return 0;
}

/* A whole number field in [lo, hi] into *out (left alone when absent). */
static int whole(struct json_object *o, const char *key, int64_t lo, int64_t hi, int64_t *out,
		 char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < lo ||
	    json_object_get_int64(v) > hi)
		return errf(err, errlen, "%s: want a whole number %lld..%lld", key, (long long)lo,
			    (long long)hi);
	*out = json_object_get_int64(v);
	return 0;
}

/* An array of four whole numbers in [lo, hi]. */
static bool four(struct json_object *v, int64_t lo, int64_t hi, int64_t out[4])
{
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_int))
			return false;
		out[i] = json_object_get_int64(e);
		if (out[i] < lo || out[i] > hi)
			return false;
	}
	return true;
}

/* "region" ([x, y, w, h], screen pixels) or "box" (corners in s), at most one. */
static int parse_area(struct json_object *o, const struct space *s, struct img_opts *img,
		      char *err, size_t errlen)
{
	struct json_object *region, *box;
	bool has_region = json_object_object_get_ex(o, "region", &region);
	bool has_box = json_object_object_get_ex(o, "box", &box);
	int64_t r[4];

	if (has_region && has_box)
		return errf(err, errlen, "give either \"region\" or \"box\", not both");
	if (has_box) {
		if (!four(box, 0, FB_MAX_DIM, r))
			return errf(err, errlen, "box: want [x0, y0, x1, y1], whole numbers");
		if (space_box(s, r, &img->region, err, errlen) < 0)
			return -EINVAL;
		return 0;
	}
	if (!has_region)
		return 0;
	if (!four(region, 0, FB_MAX_DIM, r))
		return errf(err, errlen, "region: want [x, y, width, height], whole numbers 0..%d",
			    FB_MAX_DIM);
	if (r[2] == 0 || r[3] == 0)
		return errf(err, errlen, "region: empty");
	if (r[0] + r[2] > s->rw || r[1] + r[3] > s->rh)
		return errf(err, errlen, "region %lldx%lld+%lld+%lld is not inside the %ux%u screen",
			    (long long)r[2], (long long)r[3], (long long)r[0], (long long)r[1],
			    s->rw, s->rh);
	img->region = (struct fb_rect){ (uint32_t)r[0], (uint32_t)r[1], (uint32_t)r[2],
					(uint32_t)r[3] };
	return 0;
}

/*
 * "fit": [w, h], the largest image of the region's aspect within w x h, as
 * a width (the encoder's height for it, rounded, stays within h); never
 * upscaled. Not with a width or a scale.
 */
static int parse_fit(struct json_object *v, const struct space *s, struct img_opts *img,
		     char *err, size_t errlen)
{
	uint64_t aw = img->region.w ? img->region.w : s->rw;
	uint64_t ah = img->region.h ? img->region.h : s->rh;
	int64_t f[2];
	uint64_t w;

	for (int i = 0; i < 2; i++) {
		struct json_object *e = json_object_is_type(v, json_type_array) &&
					json_object_array_length(v) == 2 ?
					json_object_array_get_idx(v, (size_t)i) : NULL;

		if (!json_object_is_type(e, json_type_int) || (f[i] = json_object_get_int64(e)) < 1 ||
		    f[i] > FB_MAX_DIM)
			return errf(err, errlen, "fit: want [width, height], whole numbers 1..%d",
				    FB_MAX_DIM);
	}
	if (img->width || img->scale != 0)
		return errf(err, errlen, "give one of width, scale and fit, not more");
	if (!aw || !ah || (aw <= (uint64_t)f[0] && ah <= (uint64_t)f[1]))
		return 0;
	w = aw * (uint64_t)f[1] / ah < (uint64_t)f[0] ? aw * (uint64_t)f[1] / ah : (uint64_t)f[0];
	while (w > 1 && (ah * w + aw / 2) / aw > (uint64_t)f[1])
		w--;
	img->width = (uint32_t)(w ? w : 1);
	return 0;
}

static int parse_size(struct json_object *o, const struct space *s, struct img_opts *img,
		      char *err, size_t errlen)
{
	struct json_object *v;
	int64_t width = 0;
	uint32_t area_w = img->region.w ? img->region.w : s->rw;

	if (whole(o, "width", 1, FB_MAX_DIM, &width, err, errlen) < 0)
		return -EINVAL;
	img->width = (uint32_t)width;
	if (json_object_object_get_ex(o, "scale", &v)) {
		img->scale = json_object_get_double(v);
		if ((!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) ||
		    !(img->scale > 0 && img->scale <= 1))
			return errf(err, errlen, "scale: want a number in (0, 1]");
		if (img->width)
			return errf(err, errlen, "give either a width or a scale, not both");
	}
	if (img->width && img->width > area_w)
		return errf(err, errlen, "width %u is larger than the region (%u): only downscaling",
			    img->width, area_w);
	if (json_object_object_get_ex(o, "fit", &v))
		return parse_fit(v, s, img, err, errlen);
	return 0;
}

int shot_parse(struct json_object *o, const struct space *s, struct shot_opts *out, char *err,
	       size_t errlen)
{
	struct json_object *v;
	int64_t quality = 0;

	*out = (struct shot_opts){ 0 };
	if (!json_object_is_type(o, json_type_object))
		return errf(err, errlen, "screenshot options: want an object");
	if (parse_format(o, &out->img, err, errlen) < 0 ||
	    whole(o, "quality", 1, 100, &quality, err, errlen) < 0 ||
	    parse_area(o, s, &out->img, err, errlen) < 0)
		return -EINVAL;
	out->img.quality = (int)quality;
	if (parse_size(o, s, &out->img, err, errlen) < 0)
		return -EINVAL;
	if (json_object_object_get_ex(o, "cursor", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return errf(err, errlen, "cursor: want true or false");
		out->cursor = json_object_get_boolean(v);
	}
	return 0;
}
