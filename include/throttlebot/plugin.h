/* throttlebot/plugin.h - the versioned contract between ThrottleBot and its plugins. */
#ifndef THROTTLEBOT_PLUGIN_H
#define THROTTLEBOT_PLUGIN_H

/*
 * A plugin is a shared object that exports one symbol, TB_PLUGIN_SYMBOL, the
 * address of a descriptor whose first member is a struct tb_plugin_header.
 * The header says which kind of descriptor follows (orchestrator, throttler,
 * metric or strategy) and the ABI version the plugin was built against.
 *
 * Versioning follows sudo's plugin API: the host rejects a plugin whose major
 * version differs from its own; members are only ever appended to a struct
 * within one major version, and each is noted "since 1.N" below.  Which side
 * checks depends on who fills the struct:
 *  - a descriptor (filled by the plugin): the host reads a member since 1.N
 *    only when TB_ABI_VERSION_MINOR(header.abi) >= N, since an older
 *    plugin's descriptor ends before it;
 *  - a struct the host fills and hands over (tb_host, tb_space, tb_trial):
 *    the host always fills every member it knows, and a plugin reads a member
 *    since 1.N only when TB_ABI_VERSION_MINOR(h->abi) >= N, since an older
 *    host's struct ends before it.  A plugin built against an older minor
 *    never sees the newer members at all, so it cannot misread them.
 * A plugin may be older or newer in minor than the host, never of another
 * major: the loader refuses it, naming the file and both versions.
 *
 * Plugins hold no globals: init() allocates per-instance state, fini() frees
 * it.  They link against nothing of ThrottleBot; everything they need from the
 * host (logging, clock, configuration, inventory) comes through struct
 * tb_host.  Functions return 0 on success or a negative errno value.
 *
 * See throttlebot-plugin(7).
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TB_ABI_MAJOR 1
#define TB_ABI_MINOR 3
#define TB_ABI_VERSION(major, minor) ((uint32_t)(major) << 16 | (uint16_t)(minor))
#define TB_ABI_VERSION_MAJOR(v) ((uint32_t)(v) >> 16)
#define TB_ABI_VERSION_MINOR(v) ((uint32_t)(v) & 0xffffu)
#define TB_ABI_CURRENT TB_ABI_VERSION(TB_ABI_MAJOR, TB_ABI_MINOR)

/*
 * The symbol every plugin exports: its descriptor.  Define it with
 *   TB_PLUGIN_DEFINE(tb_throttler) = { .header = { ... }, ... };
 */
#define TB_PLUGIN_SYMBOL "throttlebot_plugin"
#define TB_PLUGIN_DEFINE(descriptor_type) \
	extern const struct descriptor_type throttlebot_plugin; \
	__attribute__((visibility("default"))) \
	const struct descriptor_type throttlebot_plugin

enum tb_plugin_kind {
	TB_KIND_ORCHESTRATOR = 1,
	TB_KIND_THROTTLER = 2,
	TB_KIND_METRIC = 3,
	TB_KIND_STRATEGY = 4,
};

enum tb_log_level { TB_LOG_ERROR, TB_LOG_WARNING, TB_LOG_INFO, TB_LOG_DEBUG };

/* ------------------------------------------------------------------------ */
/* Settings: a plugin declares the keys of its configuration group.          */

enum tb_setting_type {
	TB_SETTING_STRING,
	TB_SETTING_INT,
	TB_SETTING_NUMBER,     /* int or float */
	TB_SETTING_BOOL,
	TB_SETTING_STRINGS,    /* list or array of strings */
	TB_SETTING_NUMBERS,    /* list or array of numbers */
	TB_SETTING_GROUP,      /* checked by the plugin itself */
	TB_SETTING_ANY,
};

/*
 * The host checks a plugin's configuration group against this table before
 * init(): an unknown key, a wrong type or a missing required key is reported
 * as "file:line: message" and nothing runs.
 */
struct tb_setting_spec {
	const char *name;
	enum tb_setting_type type;
	int required;
	const char *doc;       /* one line, shown by "throttlebot plugins -v" */
};

/* An opaque node of the configuration (a libconfig group). */
struct tb_config;

/* ------------------------------------------------------------------------ */
/* Targets: where a service runs.  One per process or container.             */

/* cgroup controllers a target may name a directory for. */
enum tb_cgroup_controller {
	TB_CG_CPU,        /* v1 "cpu" hierarchy, or the v2 cgroup */
	TB_CG_CPUSET,
	TB_CG_IO,         /* v1 "blkio", or the v2 cgroup */
	TB_CG_MEMORY,
	TB_CG_SLOTS = 8,  /* room for more without breaking the ABI */
};

struct tb_target {
	const char *id;            /* stable, human-readable: "pid 1234", a container id */
	pid_t pid;                 /* a process of the target, 0 if none */
	/* Absolute cgroup directory per controller, or NULL.  A directory that
	 * holds "cgroup.controllers" is cgroup v2, otherwise v1. */
	const char *cgroup[TB_CG_SLOTS];
	const char *netns;         /* path of its network namespace, NULL = host's */
	const char *ifname;        /* its interface inside that namespace, or NULL */
	const char *node;          /* the machine it runs on, NULL = this one */
	/* since 1.2.  The orchestrator's own name for the target (a container
	 * id, a pod uid), opaque to the host: copied and handed back unchanged,
	 * so a plugin never parses it out of id, which is only for people.
	 * NULL: none.  The host reads it only from an orchestrator of minor 2 or
	 * more, and passes it to every plugin. */
	const char *key;
};

struct tb_service {
	const char *name;
	size_t ntargets;
	const struct tb_target *targets;
};

/* ------------------------------------------------------------------------ */
/* Host services, passed to every plugin instance.                           */

struct tb_inventory;

struct tb_host {
	uint32_t abi;              /* the host's TB_ABI_CURRENT */
	const char *plugin_name;   /* the instance's name, used as log prefix */

	/* Logging: the host prefixes the plugin's name. */
	void (*log)(const struct tb_host *h, enum tb_log_level level,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

	/* Monotonic clock, in seconds. */
	double (*now)(const struct tb_host *h);

	/* Configuration access.  Return 0, -ENOENT when the key is absent, or
	 * -EINVAL on a wrong type (already reported with file:line). */
	int (*get_string)(const struct tb_host *h, const struct tb_config *c,
			  const char *key, const char **out);
	int (*get_int)(const struct tb_host *h, const struct tb_config *c,
		       const char *key, long long *out);
	int (*get_number)(const struct tb_host *h, const struct tb_config *c,
			  const char *key, double *out);
	int (*get_bool)(const struct tb_host *h, const struct tb_config *c,
			const char *key, int *out);
	/* Lists: the number of elements (or -ENOENT), and element i. */
	int (*get_count)(const struct tb_host *h, const struct tb_config *c,
			 const char *key);
	int (*get_string_at)(const struct tb_host *h, const struct tb_config *c,
			     const char *key, int i, const char **out);
	int (*get_number_at)(const struct tb_host *h, const struct tb_config *c,
			     const char *key, int i, double *out);
	/* A group inside c (key), or element i of a list of groups (key, i >= 0). */
	const struct tb_config *(*get_group)(const struct tb_host *h,
					     const struct tb_config *c,
					     const char *key, int i);
	/* Check a nested group (an entry of a list, say) against a table as
	 * the host checks the plugin's own group: unknown keys, wrong types and
	 * missing required keys are reported as file:line; returns -EINVAL. */
	int (*check_group)(const struct tb_host *h, const struct tb_config *c,
			   const struct tb_setting_spec *spec);
	/* Report a bad value as "file:line: message"; returns -EINVAL. */
	int (*config_error)(const struct tb_host *h, const struct tb_config *c,
			    const char *key, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));

	/* Orchestrators: declare what discover() found.  The host copies. */
	int (*add_service)(const struct tb_host *h, struct tb_inventory *inv,
			   const char *service, const struct tb_target *t);

	/*
	 * Orchestrators: record state to undo if ThrottleBot dies (a cgroup it
	 * created, say).  The host journals it (fsync) and, after a crash,
	 * "throttlebot restore" hands the text back to the plugin's restore().
	 * Returns a handle > 0 to pass to forget() once undone.
	 */
	long (*remember)(const struct tb_host *h, const char *target_id,
			 const char *saved);
	int (*forget)(const struct tb_host *h, long handle);

	/* Non-zero once asked to stop (any signal that would end the run): a plugin that
	 * waits (for a workload, say) checks it and returns -EINTR. */
	int (*cancelled)(const struct tb_host *h);

	void *host_private;        /* the host's own, do not touch */

	/* since 1.3.  Orchestrators: the agent of node listens at url
	 * ("https://host:port"), as found through the orchestrator's own API
	 * (the agents' DaemonSet pod on that node, say).  The host sends that
	 * node's throttles there, with the credentials of the configuration's
	 * agents entry for node "*", unless the configuration names the node's
	 * agent itself.  Call it from discover(), and only when
	 * TB_ABI_VERSION_MINOR(h->abi) >= 3. */
	int (*add_agent)(const struct tb_host *h, struct tb_inventory *inv,
			 const char *node, const char *url);
};

#define TB_LOG(h, lvl, ...) ((h)->log((h), (lvl), __VA_ARGS__))

/* ------------------------------------------------------------------------ */
/* Descriptors.                                                              */

struct tb_plugin_header {
	uint32_t abi;              /* TB_ABI_CURRENT at build time */
	uint32_t kind;             /* enum tb_plugin_kind */
	const char *name;          /* unique per kind, [a-z0-9_-]+ */
	const char *summary;       /* one line */
	const char *version;       /* the plugin's own version */
	const struct tb_setting_spec *settings;  /* NULL-name terminated, or NULL */
	uint32_t flags;            /* TB_PLUGIN_* below */
};

/* The plugin changes nothing of the kernel's (a simulator, say): a run whose
 * orchestrator and throttlers all say so needs no root. */
#define TB_PLUGIN_UNPRIVILEGED 0x1u

/*
 * Saved state (what restore needs to undo an apply) is text, at most
 * TB_SAVED_MAX bytes including the NUL, written into a host buffer.  It is
 * journalled before apply and may be handed to a fresh instance after a crash,
 * so it must be self-contained: paths and exact previous values.  restore()
 * runs as root on text read back from a file: it checks every field before
 * acting on it, and save() refuses what restore() would refuse.
 */
#define TB_SAVED_MAX 8192

/*
 * init(h, cfg, &state): cfg is the plugin's configuration group.  cfg is NULL
 * when the host only needs restore() (after a crash): init must then succeed
 * without settings.
 */
typedef int (*tb_init_fn)(const struct tb_host *h, const struct tb_config *cfg,
			  void **state);
typedef void (*tb_fini_fn)(void *state);

struct tb_orchestrator {
	struct tb_plugin_header header;
	tb_init_fn init;
	tb_fini_fn fini;
	/* Optional: start the application (before discover). */
	int (*launch)(void *state);
	/* Declare every service and its targets through h->add_service(). */
	int (*discover)(void *state, struct tb_inventory *inv);
	/*
	 * Optional: is the target still the one discovered?  1: alive; 0: it
	 * stopped or was restarted (the trial fails, naming it, and the services
	 * are discovered again); -errno: could not tell (its engine did not
	 * answer, say).  The host takes a -errno for alive, and logs the first
	 * one of a run: the trial is judged by its metrics alone.
	 */
	int (*alive)(void *state, const struct tb_target *t);
	/* Optional: stop what launch() started; undo what it remembered. */
	int (*stop)(void *state);
	/* Optional: undo one remembered state after a crash. */
	int (*restore)(void *state, const char *saved);
	/* since 1.2.  Optional: bring back a target that died during a trial
	 * (alive() said 0, or a throttler's check() found it killed): local
	 * launches its process again, docker restarts the container.  Called
	 * before the services are discovered again; 0 once it runs again. */
	int (*revive)(void *state, const struct tb_target *t);

	/*
	 * since 1.3, all optional.  Throttle a target through the
	 * orchestrator's own API when its node has no agent (the Docker
	 * Engine's container update, say).  throttler names the throttler plugin
	 * whose meaning to follow ("cpu_quota", "cpuset"): save() returns
	 * -EOPNOTSUPP for one it cannot do, and the host says so.  The contract
	 * is a throttler's: save() before, restore() after, with the same text,
	 * whether apply() succeeded or not.  The text is journalled and, after a
	 * crash, handed to throttle_restore() of an instance made with no
	 * configuration, so it names everything restore needs (the engine).
	 */
	int (*throttle_save)(void *state, const struct tb_target *t, const char *throttler,
			     char *saved, size_t size);
	int (*throttle_apply)(void *state, const struct tb_target *t, const char *saved,
			      double stress);
	int (*throttle_restore)(void *state, const char *saved);
};

struct tb_throttler {
	struct tb_plugin_header header;
	const char *resource;      /* "cpu", "disk", "net", ... */
	const char *unit;          /* of capacity: "cores", "bytes/s", ... */
	tb_init_fn init;
	tb_fini_fn fini;
	/* The target's capacity of the resource, in unit (informational). */
	int (*probe)(void *state, const struct tb_target *t, double *capacity);
	/* Write into saved what restore() needs; called before apply.  saved
	 * starts as "" and may be left empty: restore("") is then called like
	 * any other saved text (and from the journal after a crash). */
	int (*save)(void *state, const struct tb_target *t, char *saved,
		    size_t size);
	/*
	 * Leave (1 - stress) of the target's capacity; 0 <= stress < 1 (the host
	 * never passes another).  A failed apply does not undo itself: the host
	 * calls restore() with the same saved text on every target it called
	 * apply() on, newest first, whether apply() succeeded or failed.
	 */
	int (*apply)(void *state, const struct tb_target *t, const char *saved,
		     double stress);
	/* Put back exactly what save() recorded.  Idempotent, and safe after an
	 * apply() that failed half-way or changed nothing: it leaves alone what
	 * is not its own.  -ENOENT: the target is gone, nothing to undo. */
	int (*restore)(void *state, const char *saved);

	/*
	 * since 1.2, all optional (NULL: the command that needs one says the
	 * throttler cannot do it).  They act on allocations rather than stress,
	 * for the commands that add resources or take them back (boost,
	 * improve, clampdown).  Like apply(), each is preceded by save() and
	 * undone by restore() with the same saved text.
	 */
	/* The target's own limit of the resource, in unit; -ENODATA when it has
	 * none (it may use up to its capacity). */
	int (*allocation)(void *state, const struct tb_target *t, double *amount);
	/* Set the target's own limit to amount (> 0, in unit), above or below
	 * what it has; -ERANGE beyond what the host can give (the capacity). */
	int (*allocate)(void *state, const struct tb_target *t, const char *saved,
			double amount);
	/* Raise the target's share where it contends with others for the
	 * resource, by factor (> 1) over its current share (cpu.shares or
	 * cpu.weight, blkio.weight or io.weight, a tc class's priority), whether
	 * or not it has a limit.  Describe in how what was changed, from what to
	 * what ("cpu.weight 100 -> 1000"). */
	int (*prioritize)(void *state, const struct tb_target *t, const char *saved,
			  double factor, char *how, size_t how_size);
	/* After a trial, before restore(): did the throttle harm the target
	 * beyond slowing it (an OOM kill, say)?  1 with the reason in why
	 * ("oom_kill 2 (memory.events)"), 0 if not, or -errno.  A harmed target
	 * fails its trial, and its orchestrator's revive() brings it back. */
	int (*check)(void *state, const struct tb_target *t, const char *saved,
		     char *why, size_t why_size);
};

/* What is throttled during a trial (empty for a baseline trial). */
struct tb_throttle {
	size_t service;            /* index into the inventory's services */
	size_t throttler;          /* index into the configured throttlers */
	double stress;
};

struct tb_experiment {
	size_t n;                  /* 0: a baseline trial */
	const struct tb_throttle *throttles;
};

struct tb_trial {
	unsigned index;            /* 1-based, over the whole run */
	const struct tb_experiment *experiment;
	const char *workdir;       /* a directory the trial may write to */
	/* The workload's window.  A metric that drives the workload sets them;
	 * observing metrics, called after, read them. */
	double start, end;         /* host clock, seconds */
	double wall_start;         /* wall clock (Unix time) at start */
};

enum tb_direction { TB_LOWER_IS_BETTER = 0, TB_HIGHER_IS_BETTER = 1 };

struct tb_metric_value {
	const char *name;          /* "jct", "p99", ... */
	const char *unit;          /* "s", "ms", "req/s", ... */
	enum tb_direction direction;
};

struct tb_metric {
	struct tb_plugin_header header;
	int drives_workload;       /* 1: measure() runs the workload itself */
	tb_init_fn init;
	tb_fini_fn fini;
	/* How many values measure() yields, and what each is. */
	size_t (*count)(void *state);
	const struct tb_metric_value *(*describe)(void *state, size_t i);
	/* Run or observe one trial; fill values[count()].  A failed trial
	 * returns < 0 and has been logged. */
	int (*measure)(void *state, struct tb_trial *trial, double *values);
};

/* What a strategy searches over. */
struct tb_space {
	size_t nservices;
	const char *const *services;
	size_t nthrottlers;
	const char *const *throttlers;     /* instance names */
	const char *const *resources;      /* per throttler */
	/* excluded[s * nthrottlers + t]: the pair is not to be throttled */
	const unsigned char *excluded;
	size_t nlevels;
	const double *levels;              /* stress levels, ascending */
	unsigned trials;                   /* trials per point */
	unsigned baseline_trials;
	enum tb_direction direction;       /* of the primary metric */
	/* since 1.1.  The host fills it for every strategy, whatever its
	 * minor: a strategy built against 1.0 has a struct that ends at
	 * direction and never reads it.  A strategy built against 1.1 or later
	 * reads it only when TB_ABI_VERSION_MINOR(h->abi) >= 1 (a 1.0 host's
	 * struct ends before it); else it draws from 0. */
	uint64_t seed;                     /* the run's seed: a randomized schedule
					    * draws from it, so a run can be repeated */
};

struct tb_strategy {
	struct tb_plugin_header header;
	/* cfg is the strategy's group (may be empty); space outlives state. */
	int (*init)(const struct tb_host *h, const struct tb_config *cfg,
		    const struct tb_space *space, void **state);
	tb_fini_fn fini;
	/* Fill *e (throttles points into state-owned memory) and return 1, or
	 * return 0 when the search is done. */
	int (*next)(void *state, struct tb_experiment *e);
	/* The primary metric's value for the experiment next() gave last. */
	void (*observe)(void *state, const struct tb_experiment *e, double value,
			int failed);
	/* How many trials the whole search takes (an upper bound), for plan
	 * and progress. */
	unsigned long (*estimate)(void *state);
};

#ifdef __cplusplus
}
#endif
#endif /* THROTTLEBOT_PLUGIN_H */
