/*
 * The screen and the hands: screenshot, move, click, scroll, drag, type,
 * key, cursor, actions, stream. Each hand is one batch of POST
 * /sandboxes/ID/actions (docs/control-protocol.md).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "http.h"
#include "json.h"
#include "options.h"
#include "outfile.h"

/* Bytes of text per request: a batch must end within cubicled's 180 s, at 125 keys/s at worst. */
#define TYPE_PIECE 2048

/* --- screenshot ------------------------------------------------------------------ */

static const char screenshot_usage[] =
	"usage: cubicle screenshot ID -o FILE [options]\n"
	"\n"
	"Saves the screen of sandbox ID to FILE, whole or not at all (a temp file\n"
	"beside it is renamed). -o - writes the image to stdout.\n"
	"\n"
	"  -o, --output FILE    where to write it (required)\n"
	"  --format F           png or jpeg (default: jpeg if FILE ends in .jpg or\n"
	"                       .jpeg, else png)\n"
	"  --quality Q          JPEG quality, 1..100\n"
	"  --scale S            scale the image by S, in (0, 1]\n"
	"  --width W            scale the image to W pixels wide (not with --scale)\n"
	"  --region X,Y,W,H     only this rectangle of the screen\n"
	"  --cursor             draw the pointer\n"
	"\n"
	"example: cubicle screenshot 3f0c9a7be21d4c55 -o shot.png --scale 0.5\n";

struct shot {
	const char *file, *format, *quality, *scale, *width, *region;
	bool cursor;
};

static const struct opt shot_opts[] = {
	{ "--output", "-o", OPT_VALUE, offsetof(struct shot, file) },
	{ "--format", NULL, OPT_VALUE, offsetof(struct shot, format) },
	{ "--quality", NULL, OPT_VALUE, offsetof(struct shot, quality) },
	{ "--scale", NULL, OPT_VALUE, offsetof(struct shot, scale) },
	{ "--width", NULL, OPT_VALUE, offsetof(struct shot, width) },
	{ "--region", NULL, OPT_VALUE, offsetof(struct shot, region) },
	{ "--cursor", NULL, OPT_FLAG, offsetof(struct shot, cursor) },
	{ NULL },
};

/* s's format: --format, else from FILE's extension; NULL if not one cubicled makes. */
static const char *shot_format(const struct shot *s)
{
	const char *dot = strrchr(s->file, '.');

	if (!s->format)
		return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg")) ? "jpeg" : "png";
	if (!strcmp(s->format, "jpg") || !strcmp(s->format, "jpeg"))
		return "jpeg";
	return strcmp(s->format, "png") ? NULL : "png";
}

/* Checks s's options; 0, or -EINVAL after saying which is wrong. */
static int shot_check(const struct cli *c, const struct shot *s)
{
	long v, x, y, w, h;
	double scale = 1;
	char *end = NULL;
	int n = 0;

	if (s->scale)
		scale = strtod(s->scale, &end);
	if (!s->file)
		return cli_usage_err(c, "missing -o FILE");
	if (!shot_format(s))
		return cli_usage_err(c, "--format '%s': want png or jpeg", s->format);
	if (s->quality && !opt_long(s->quality, 1, 100, &v))
		return cli_usage_err(c, "--quality '%s': want a whole number 1..100", s->quality);
	if (s->scale && (!*s->scale || *end || !(scale > 0 && scale <= 1)))
		return cli_usage_err(c, "--scale '%s': want a number in (0, 1]", s->scale);
	if (s->width && !opt_long(s->width, 1, 65535, &v))
		return cli_usage_err(c, "--width '%s': want a whole number 1..65535", s->width);
	if (s->scale && s->width)
		return cli_usage_err(c, "--scale and --width: want one of them");
	if (s->region && (sscanf(s->region, "%ld,%ld,%ld,%ld%n", &x, &y, &w, &h, &n) != 4 ||
			  s->region[n] || x < 0 || y < 0 || w < 1 || h < 1 ||
			  x > INT_MAX || y > INT_MAX || w > INT_MAX || h > INT_MAX))
		return cli_usage_err(c, "--region '%s': want X,Y,W,H, as 0,0,640,400", s->region);
	return 0;
}

/* GET .../screenshot into s->file, whole or not at all; 0, or -errno after saying why. */
static int shot_save(struct cli *c, const char *id, const struct shot *s)
{
	struct http h = { .method = "GET", .out_name = s->file };
	struct outfile out = { 0 };
	int ret;

	http_path_add(c->curl, &h.path, "/sandboxes/%s/screenshot", id);
	http_query_add(c->curl, &h.path, "format", shot_format(s));
	if (s->quality)
		http_query_add(c->curl, &h.path, "quality", s->quality);
	if (s->scale)
		http_query_add(c->curl, &h.path, "scale", s->scale);
	if (s->width)
		http_query_add(c->curl, &h.path, "width", s->width);
	if (s->region)
		http_query_add(c->curl, &h.path, "region", s->region);
	if (s->cursor)
		http_query_add(c->curl, &h.path, "cursor", "true");
	if ((ret = outfile_open(&out, s->file)) == 0) {
		h.out = out.f;
		if ((ret = http_run(c, &h)) == 0)
			ret = outfile_commit(&out);
	}
	outfile_abort(&out);
	http_free(&h);
	return ret;
}

/* Saves the screen of sandbox argv[0]. */
static int cmd_screenshot(struct cli *c, void *opts, int n, char **argv)
{
	const struct shot *s = opts;
	int st;

	(void)n;
	if (shot_check(c, s) < 0)
		st = CLI_EXIT_USAGE;
	else if (shot_save(c, argv[0], s) < 0)
		st = CLI_EXIT_FAILED;
	else
		st = 0;
	return st;
}

const struct cli_command cli_screenshot = {
	screenshot_usage, shot_opts, sizeof(struct shot), cmd_screenshot,
};

/* --- the hands: one batch of actions each ---------------------------------------- */

static struct json_object *action_new(const char *type)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "type", json_object_new_string(type));
	return a;
}

/* POSTs body (it stays the caller's) to sandbox id's actions: the answer, or NULL after saying. */
static struct json_object *post_actions(struct cli *c, const char *id, struct json_object *body)
{
	struct http h = { .method = "POST", .json = json_object_get(body) };
	struct json_object *o;

	http_path_add(c->curl, &h.path, "/sandboxes/%s/actions", id);
	o = http_json(c, &h);
	http_free(&h);
	return o;
}

/* Runs the actions of list (it stays the caller's) on sandbox id: 0, or -EIO after saying why. */
static int run_actions(struct cli *c, const char *id, struct json_object *list)
{
	struct json_object *body = json_object_new_object(), *o;

	json_object_object_add(body, "actions", json_object_get(list));
	o = post_actions(c, id, body);
	json_object_put(body);
	json_object_put(o);
	return o ? 0 : -EIO;
}

/* Runs the one action a (it stays the caller's): as run_actions. */
static int run_action(struct cli *c, const char *id, struct json_object *a)
{
	struct json_object *list = json_object_new_array();
	int ret;

	json_object_array_add(list, json_object_get(a));
	ret = run_actions(c, id, list);
	json_object_put(list);
	return ret;
}

/* Adds the point (xs, ys) to action a; 0, or -EINVAL after a usage error. */
static int add_point(const struct cli *c, struct json_object *a, const char *xs, const char *ys)
{
	if (opt_add_num(c, a, "x", "X", xs, 0, 65535) < 0 ||
	    opt_add_num(c, a, "y", "Y", ys, 0, 65535) < 0)
		return -EINVAL;
	return 0;
}

static const char *const buttons[] = { "left", "right", "middle", "back", "forward", NULL };
#define BUTTONS_WANT "left, right, middle, back or forward"

/* Whether s (NULL: not given) is one of words; 0, or -EINVAL after a usage error for --key. */
static int check_word(const struct cli *c, const char *key, const char *s,
		      const char *const *words, const char *want)
{
	if (s && !opt_one_of(s, words))
		return cli_usage_err(c, "--%s '%s': want %s", key, s, want);
	return 0;
}

static const char move_usage[] =
	"usage: cubicle move ID X Y\n"
	"\n"
	"Moves the pointer of sandbox ID to the screen pixel (X, Y).\n"
	"\n"
	"example: cubicle move 3f0c9a7be21d4c55 640 400\n";

/* Moves the pointer of sandbox argv[0] to (argv[1], argv[2]). */
static int cmd_move(struct cli *c, void *opts, int n, char **argv)
{
	struct json_object *a = action_new("move");
	int st;

	(void)opts, (void)n;
	if (add_point(c, a, argv[1], argv[2]) < 0)
		st = CLI_EXIT_USAGE;
	else
		st = run_action(c, argv[0], a) < 0 ? CLI_EXIT_FAILED : 0;
	json_object_put(a);
	return st;
}

const struct cli_command cli_move = { move_usage, NULL, 0, cmd_move };

/*
 * click and scroll are one shape: an action on sandbox ID at the point
 * X Y, or where the pointer is, with a field named by a choice of words
 * (--button, --direction) and a number field 1..100 (--count, --amount).
 */
struct pointed {
	const char *type;               /* the action */
	const char *choice;             /* the field its option --CHOICE sets */
	const char *const *words;       /* the choice's words, */
	const char *want;               /* as a usage error lists them */
	const char *fallback;           /* the choice sent when --CHOICE is not given, or NULL */
	const char *num;                /* the number field its option --NUM sets */
};

struct pointed_args {
	const char *choice, *num, *mods;
};

/* Runs the pointed action k on sandbox argv[0] with options o and n arguments: the exit status. */
static int run_pointed(struct cli *c, const struct pointed *k, const struct pointed_args *o,
		       int n, char **argv)
{
	const char *choice = o->choice ? o->choice : k->fallback;
	struct json_object *a = action_new(k->type);
	char flag[32];
	int st;

	snprintf(flag, sizeof(flag), "--%s", k->num);
	cj_add_str(a, k->choice, choice);
	cj_add_str(a, "modifiers", o->mods);
	if (n == 2) {
		cli_usage_err(c, "missing Y: want ID, or ID X Y");
		st = CLI_EXIT_USAGE;
	} else if (check_word(c, k->choice, choice, k->words, k->want) < 0 ||
		   (n == 3 && add_point(c, a, argv[1], argv[2]) < 0) ||
		   opt_add_num(c, a, k->num, flag, o->num, 1, 100) < 0) {
		st = CLI_EXIT_USAGE;
	} else {
		st = run_action(c, argv[0], a) < 0 ? CLI_EXIT_FAILED : 0;
	}
	json_object_put(a);
	return st;
}

static const char click_usage[] =
	"usage: cubicle click ID [X Y] [--button B] [--count N] [--modifiers M]\n"
	"\n"
	"Clicks at the screen pixel (X, Y), or where the pointer is.\n"
	"\n"
	"  --button B      left (default), right, middle, back, forward\n"
	"  --count N       2 double-clicks, 3 triple-clicks (1..100)\n"
	"  --modifiers M   keys held meanwhile, as ctrl+shift\n"
	"\n"
	"example: cubicle click 3f0c9a7be21d4c55 100 200 --count 2\n";

static const struct opt click_opts[] = {
	{ "--button", NULL, OPT_VALUE, offsetof(struct pointed_args, choice) },
	{ "--count", NULL, OPT_VALUE, offsetof(struct pointed_args, num) },
	{ "--modifiers", NULL, OPT_VALUE, offsetof(struct pointed_args, mods) },
	{ NULL },
};

/* Clicks in sandbox argv[0], at argv[1..2] or where the pointer is. */
static int cmd_click(struct cli *c, void *opts, int n, char **argv)
{
	static const struct pointed click = { "click", "button", buttons, BUTTONS_WANT, NULL,
					      "count" };

	return run_pointed(c, &click, opts, n, argv);
}

const struct cli_command cli_click = {
	click_usage, click_opts, sizeof(struct pointed_args), cmd_click,
};

static const char scroll_usage[] =
	"usage: cubicle scroll ID [X Y] [--direction D] [--amount N]\n"
	"\n"
	"Turns the wheel at the screen pixel (X, Y), or where the pointer is.\n"
	"\n"
	"  --direction D   up, down (default), left, right\n"
	"  --amount N      wheel steps, 1..100 (default 1)\n"
	"\n"
	"example: cubicle scroll 3f0c9a7be21d4c55 640 400 --direction up --amount 5\n";

static const struct opt scroll_opts[] = {
	{ "--direction", NULL, OPT_VALUE, offsetof(struct pointed_args, choice) },
	{ "--amount", NULL, OPT_VALUE, offsetof(struct pointed_args, num) },
	{ NULL },
};

/* Turns the wheel in sandbox argv[0], at argv[1..2] or where the pointer is. */
static int cmd_scroll(struct cli *c, void *opts, int n, char **argv)
{
	static const char *const dirs[] = { "up", "down", "left", "right", NULL };
	static const struct pointed scroll = { "scroll", "direction", dirs,
					       "up, down, left or right", "down", "amount" };

	return run_pointed(c, &scroll, opts, n, argv);
}

const struct cli_command cli_scroll = {
	scroll_usage, scroll_opts, sizeof(struct pointed_args), cmd_scroll,
};

static const char drag_usage[] =
	"usage: cubicle drag ID X1 Y1 X2 Y2 [--button B]\n"
	"\n"
	"Presses a button at (X1, Y1), moves to (X2, Y2) and lets go.\n"
	"\n"
	"  --button B   left (default), right, middle, back, forward\n"
	"\n"
	"example: cubicle drag 3f0c9a7be21d4c55 100 100 400 300\n";

struct drag_args {
	const char *button;
};

static const struct opt drag_opts[] = {
	{ "--button", NULL, OPT_VALUE, offsetof(struct drag_args, button) },
	{ NULL },
};

/* The drag's ends from s[0..4) into xy; 0, or -EINVAL after a usage error. */
static int drag_ends(const struct cli *c, char **s, long *xy)
{
	static const char *const names[] = { "X1", "Y1", "X2", "Y2" };

	for (int i = 0; i < 4; i++)
		if (!opt_long(s[i], 0, 65535, &xy[i]))
			return cli_usage_err(c, "%s '%s': want a whole number 0..65535", names[i],
					     s[i]);
	return 0;
}

/* The drag action from (xy[0], xy[1]) to (xy[2], xy[3]) with button (NULL: the default). */
static struct json_object *drag_action(const long *xy, const char *button)
{
	struct json_object *a = action_new("drag"), *path = json_object_new_array();

	for (int i = 0; i < 2; i++) {
		struct json_object *p = json_object_new_array();

		json_object_array_add(p, json_object_new_int64(xy[2 * i]));
		json_object_array_add(p, json_object_new_int64(xy[2 * i + 1]));
		json_object_array_add(path, p);
	}
	json_object_object_add(a, "path", path);
	cj_add_str(a, "button", button);
	return a;
}

/* Drags in sandbox argv[0] from (argv[1], argv[2]) to (argv[3], argv[4]). */
static int cmd_drag(struct cli *c, void *opts, int n, char **argv)
{
	const struct drag_args *o = opts;
	struct json_object *a;
	long xy[4];
	int st;

	(void)n;
	if (drag_ends(c, argv + 1, xy) < 0 ||
	    check_word(c, "button", o->button, buttons, BUTTONS_WANT) < 0) {
		st = CLI_EXIT_USAGE;
	} else {
		a = drag_action(xy, o->button);
		st = run_action(c, argv[0], a) < 0 ? CLI_EXIT_FAILED : 0;
		json_object_put(a);
	}
	return st;
}

const struct cli_command cli_drag = {
	drag_usage, drag_opts, sizeof(struct drag_args), cmd_drag,
};

static const char type_usage[] =
	"usage: cubicle type ID TEXT [--delay MS]\n"
	"\n"
	"Types TEXT (UTF-8) on the keyboard of sandbox ID, in its keyboard layout;\n"
	"\\n is Return and \\t Tab, other control characters are refused. TEXT -\n"
	"reads the text from stdin. Put -- before a TEXT that starts with '-'.\n"
	"Long text goes in pieces of up to 2 KiB, one request each.\n"
	"\n"
	"  --delay MS   more milliseconds between characters (0..10000)\n"
	"\n"
	"example: cubicle type 3f0c9a7be21d4c55 'hello world'\n";

struct type_args {
	const char *delay;
};

static const struct opt type_opts[] = {
	{ "--delay", NULL, OPT_VALUE, offsetof(struct type_args, delay) },
	{ NULL },
};

/* The length of the first piece of s[0..len) up to max bytes, cut between UTF-8 characters. */
static size_t utf8_piece(const char *s, size_t len, size_t max)
{
	size_t n = max;

	if (len <= max)
		return len;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n ? n : max;
}

/* The offset of text's first control character that cannot be typed, or -1. */
static long untypable(const struct buf *text)
{
	for (size_t i = 0; i < text->len; i++) {
		unsigned char ch = (unsigned char)text->data[i];

		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
			return (long)i;
	}
	return -1;
}

/* The text to type into text: arg, or stdin for "-"; 0, or -errno after saying why not. */
static int type_input(const char *arg, struct buf *text)
{
	int ret;

	if (!strcmp(arg, "-")) {
		if ((ret = buf_read(text, stdin, CLI_STDIN_MAX)) < 0)
			cli_fail("stdin: %s", strerror(-ret));
		return ret;
	}
	buf_add(text, arg, strlen(arg));
	if (text->failed) {
		cli_fail("out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Types text in pieces that each end within a request's time; 0, or -EIO after saying why. */
static int type_text(struct cli *c, const char *id, const struct buf *text, long delay_ms)
{
	size_t max = (size_t)(TYPE_PIECE * 8 / (8 + delay_ms)), n;
	int ret = 0;

	if (max < 16)
		max = 16;
	for (size_t off = 0; !ret && off < text->len; off += n) {
		struct json_object *a = action_new("type");

		n = utf8_piece(text->data + off, text->len - off, max);
		json_object_object_add(a, "text", json_object_new_string_len(text->data + off,
									       (int)n));
		if (delay_ms)
			json_object_object_add(a, "delay_ms", json_object_new_int64(delay_ms));
		ret = run_action(c, id, a);
		json_object_put(a);
	}
	return ret;
}

/* Types argv[1] (or stdin, for "-") on sandbox argv[0]'s keyboard. */
static int cmd_type(struct cli *c, void *opts, int n, char **argv)
{
	const struct type_args *o = opts;
	bool in = !strcmp(argv[1], "-");
	struct buf text = { 0 };
	long ms = 0, bad = -1;
	int st;

	(void)n;
	if (o->delay && !opt_long(o->delay, 0, 10000, &ms)) {
		cli_usage_err(c, "--delay '%s': want a whole number 0..10000", o->delay);
		st = CLI_EXIT_USAGE;
	} else if (type_input(argv[1], &text) < 0) {
		st = CLI_EXIT_FAILED;
	} else if ((bad = untypable(&text)) >= 0 && !in) {
		cli_usage_err(c, "TEXT: control character 0x%02x at byte %ld: only \\n and \\t "
			      "can be typed", (unsigned char)text.data[bad], bad);
		st = CLI_EXIT_USAGE;
	} else if (bad >= 0) {
		cli_fail("stdin: control character 0x%02x at byte %ld: only \\n and \\t can be typed",
			 (unsigned char)text.data[bad], bad);
		st = CLI_EXIT_FAILED;
	} else {
		st = type_text(c, argv[0], &text, ms) < 0 ? CLI_EXIT_FAILED : 0;
	}
	buf_free(&text);
	return st;
}

const struct cli_command cli_type = {
	type_usage, type_opts, sizeof(struct type_args), cmd_type,
};

static const char key_usage[] =
	"usage: cubicle key ID KEYS [KEYS...]\n"
	"\n"
	"Presses key combinations on sandbox ID, one per argument, in one batch:\n"
	"X keysym names (Return, Page_Up, KP_0), aliases (ctrl, alt, super, enter,\n"
	"esc, ...) and single characters, joined with +.\n"
	"\n"
	"example: cubicle key 3f0c9a7be21d4c55 ctrl+s Return\n";

/* Presses the keys of argv[1..n) on sandbox argv[0], one key action each, in one batch. */
static int cmd_key(struct cli *c, void *opts, int n, char **argv)
{
	struct json_object *list = json_object_new_array();
	int st;

	(void)opts;
	for (int i = 1; i < n; i++) {
		struct json_object *a = action_new("key");

		cj_add_str(a, "keys", argv[i]);
		json_object_array_add(list, a);
	}
	st = run_actions(c, argv[0], list) < 0 ? CLI_EXIT_FAILED : 0;
	json_object_put(list);
	return st;
}

const struct cli_command cli_key = { key_usage, NULL, 0, cmd_key };

/* --- cursor, actions, stream ----------------------------------------------------- */

static const char cursor_usage[] =
	"usage: cubicle cursor ID\n"
	"\n"
	"Prints where the pointer of sandbox ID is: X Y. Right after a move it waits\n"
	"(up to 200 ms) for the guest's pointer to get there.\n"
	"\n"
	"example: cubicle cursor 3f0c9a7be21d4c55\n";

/* Prints where the pointer of sandbox argv[0] is: X Y. */
static int cmd_cursor(struct cli *c, void *opts, int n, char **argv)
{
	struct http h = { .method = "GET" };
	struct json_object *o, *x, *y;
	int st;

	(void)opts, (void)n;
	http_path_add(c->curl, &h.path, "/sandboxes/%s/cursor", argv[0]);
	if (!(o = http_json(c, &h))) {
		st = CLI_EXIT_FAILED;
	} else if (!json_object_object_get_ex(o, "x", &x) ||
		   !json_object_object_get_ex(o, "y", &y)) {
		cli_fail("%s answered no x and y", c->url);
		st = CLI_EXIT_FAILED;
	} else {
		printf("%d %d\n", json_object_get_int(x), json_object_get_int(y));
		st = 0;
	}
	json_object_put(o);
	http_free(&h);
	return st;
}

const struct cli_command cli_cursor = { cursor_usage, NULL, 0, cmd_cursor };

static const char actions_usage[] =
	"usage: cubicle actions ID [FILE|-]\n"
	"\n"
	"Runs a batch of actions from FILE (or stdin) on sandbox ID and prints the\n"
	"answer as JSON. The batch is the body of POST /sandboxes/ID/actions,\n"
	"{\"actions\": [...], ...}, or just its list of actions; the actions are\n"
	"those of docs/control-protocol.md (move, click, down, up, drag, scroll,\n"
	"type, key, hold, wait, cursor).\n"
	"\n"
	"example: echo '[{\"type\":\"click\",\"x\":10,\"y\":20},{\"type\":\"cursor\"}]' |\n"
	"           cubicle actions 3f0c9a7be21d4c55\n";

/* The batch in file (or stdin for "-"), as a body: NULL after saying why not. */
static struct json_object *read_batch(const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	struct json_object *o = NULL, *body;
	struct buf text = { 0 };
	int ret;

	if (!f)
		cli_fail("%s: %s", file, strerror(errno));
	else if ((ret = buf_read(&text, f, CLI_STDIN_MAX)) < 0)
		cli_fail("%s: %s", file, strerror(-ret));
	else if (!(o = cj_parse(text.data, text.len)))
		cli_fail("%s: not JSON", file);
	if (f && f != stdin)
		fclose(f);
	buf_free(&text);
	if (json_object_is_type(o, json_type_array)) {
		body = json_object_new_object();
		json_object_object_add(body, "actions", o);
		return body;
	}
	if (o && !json_object_is_type(o, json_type_object)) {
		cli_fail("%s: want {\"actions\": [...]} or a list of actions", file);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Runs the batch in argv[1] (or stdin) on sandbox argv[0]; prints the answer. */
static int cmd_actions(struct cli *c, void *opts, int n, char **argv)
{
	struct json_object *body, *o = NULL;
	int st;

	(void)opts;
	if (!(body = read_batch(n == 2 ? argv[1] : "-"))) {
		st = CLI_EXIT_FAILED;
	} else if (!(o = post_actions(c, argv[0], body))) {
		st = CLI_EXIT_FAILED;
	} else {
		cj_print(o);
		st = 0;
	}
	json_object_put(o);
	json_object_put(body);
	return st;
}

const struct cli_command cli_actions = { actions_usage, NULL, 0, cmd_actions };

static const char stream_usage[] =
	"usage: cubicle stream ID [--view-only] [--json]\n"
	"\n"
	"Prints what a VNC viewer or noVNC needs to watch sandbox ID, one labelled\n"
	"line each:\n"
	"  vnc: vnc://HOST:PORT\n"
	"  password: PASSWORD\n"
	"  websocket: ws://HOST:PORT/websockify\n"
	"\n"
	"  --view-only   the password that only watches\n"
	"  --json        print the answer as JSON\n"
	"\n"
	"example: cubicle stream 3f0c9a7be21d4c55 --view-only\n";

struct stream_args {
	bool view, json;
};

static const struct opt stream_opts[] = {
	{ "--view-only", NULL, OPT_FLAG, offsetof(struct stream_args, view) },
	{ "--json", NULL, OPT_FLAG, offsetof(struct stream_args, json) },
	{ NULL },
};

/* Prints the answer of GET .../stream as labelled lines. */
static void print_stream(struct json_object *o)
{
	struct json_object *vnc = NULL, *port = NULL;
	const char *host;

	json_object_object_get_ex(o, "vnc", &vnc);
	json_object_object_get_ex(vnc, "port", &port);
	host = cj_str(vnc, "host") ?: "";
	printf("vnc: vnc://%s%s%s:%d\n", strchr(host, ':') ? "[" : "", host,
	       strchr(host, ':') ? "]" : "", json_object_get_int(port));
	printf("password: %s\n", cj_str(vnc, "password") ?: "");
	printf("websocket: %s\n", cj_str(o, "websocket_url") ?: "");
}

/* Prints how to watch sandbox argv[0]. */
static int cmd_stream(struct cli *c, void *opts, int n, char **argv)
{
	const struct stream_args *a = opts;
	struct http h = { .method = "GET" };
	struct json_object *o;

	(void)n;
	http_path_add(c->curl, &h.path, "/sandboxes/%s/stream", argv[0]);
	if (a->view)
		http_query_add(c->curl, &h.path, "view_only", "true");
	o = http_json(c, &h);
	if (o && a->json)
		cj_print(o);
	else if (o)
		print_stream(o);
	json_object_put(o);
	http_free(&h);
	return o ? 0 : CLI_EXIT_FAILED;
}

const struct cli_command cli_stream = {
	stream_usage, stream_opts, sizeof(struct stream_args), cmd_stream,
};
