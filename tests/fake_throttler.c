/* fake_throttler.c - a throttler that records each call in a file, saves nothing for one target, fails apply() on another, harms a third. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <throttlebot/plugin.h>

struct fake {
	char *log;            /* where each call is written, one a line */
	char *fail;           /* the target id whose apply() fails */
	char *empty;          /* the target id whose saved text is "" */
	char *harm;           /* the target id check() finds harmed */
};

static const struct tb_setting_spec settings[] = {
	{ "log", TB_SETTING_STRING, 1, "file each call is appended to" },
	{ "fail", TB_SETTING_STRING, 0, "the target whose apply() fails (-EIO)" },
	{ "empty", TB_SETTING_STRING, 0, "the target save() records nothing for" },
	{ "harm", TB_SETTING_STRING, 0, "the target check() finds harmed" },
	{ NULL, 0, 0, NULL },
};

static void note(const struct fake *x, const char *call, const char *what)
{
	FILE *f = x->log ? fopen(x->log, "ae") : NULL;

	if (f) {
		fprintf(f, "%s %s\n", call, *what ? what : "<empty>");
		fclose(f);
	}
}

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct fake *x = calloc(1, sizeof(*x));
	const char *log = NULL, *fail = "", *empty = "", *harm = "";
	int r;

	if (!x)
		return -ENOMEM;
	if (cfg && ((r = h->get_string(h, cfg, "log", &log)) < 0 ||
		    ((r = h->get_string(h, cfg, "fail", &fail)) < 0 && r != -ENOENT) ||
		    ((r = h->get_string(h, cfg, "empty", &empty)) < 0 && r != -ENOENT) ||
		    ((r = h->get_string(h, cfg, "harm", &harm)) < 0 && r != -ENOENT))) {
		free(x);
		return r;
	}
	/* Made for restore only (after a crash), it has no settings: the test
	 * names the file in the environment. */
	if (!cfg)
		log = getenv("FAKE_RECORDER_LOG");
	x->log = log ? strdup(log) : NULL;
	x->fail = strdup(fail);
	x->empty = strdup(empty);
	x->harm = strdup(harm);
	*state = x;
	note(x, "init", cfg ? "configured" : "restore-only");
	return 0;
}

static void fini(void *state)
{
	struct fake *x = state;

	note(x, "fini", "");
	free(x->log);
	free(x->fail);
	free(x->empty);
	free(x->harm);
	free(x);
}

static int save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	struct fake *x = state;

	if (strcmp(t->id, x->empty))
		snprintf(saved, size, "%s", t->id);
	return 0;
}

/* Half-done and failed: the host's restore() is what undoes it. */
static int apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct fake *x = state;

	(void)stress;
	note(x, "apply", saved);
	if (!strcmp(t->id, x->empty) && *saved)
		return -EBADMSG;     /* the host changed the empty saved text */
	return strcmp(t->id, x->fail) ? 0 : -EIO;
}

static int restore(void *state, const char *saved)
{
	note(state, "restore", saved);
	return 0;
}

static int check(void *state, const struct tb_target *t, const char *saved, char *why,
		 size_t why_size)
{
	struct fake *x = state;

	note(x, "check", saved);
	if (strcmp(t->id, x->harm))
		return 0;
	snprintf(why, why_size, "fake harm");
	return 1;
}

TB_PLUGIN_DEFINE(tb_throttler) = {
	.header = { TB_ABI_CURRENT, TB_KIND_THROTTLER, "fake_recorder",
		    "records its calls, for the plugin contract tests", "1", settings,
		    TB_PLUGIN_UNPRIVILEGED },
	.resource = "cpu",
	.unit = "cores",
	.init = init,
	.fini = fini,
	.save = save,
	.apply = apply,
	.restore = restore,
	.check = check,
};
