/* check_abi.c - the layout of every public struct of the plugin ABI, checked at compile time. */
#include <stddef.h>
#include <stdlib.h>
#include <throttlebot/plugin.h>

/*
 * Within one major version members are only appended (throttlebot-plugin(7)):
 * a plugin built against an older header reads and writes the offsets below.
 * A change that moves one fails to compile here; appending a member changes
 * a size, which is right, and means adding its line and bumping the minor.
 */
#define AT(type, member, offset) \
	_Static_assert(offsetof(struct type, member) == (offset), #type "." #member " moved")
#define SIZE(type, size) \
	_Static_assert(sizeof(struct type) == (size), "struct " #type " changed size")

/* The values plugins are compiled with. */
_Static_assert(TB_ABI_MAJOR == 1, "a new major ABI needs a new table below");
_Static_assert(TB_KIND_ORCHESTRATOR == 1 && TB_KIND_THROTTLER == 2 && TB_KIND_METRIC == 3 &&
	       TB_KIND_STRATEGY == 4, "plugin kinds renumbered");
_Static_assert(TB_LOG_ERROR == 0 && TB_LOG_WARNING == 1 && TB_LOG_INFO == 2 && TB_LOG_DEBUG == 3,
	       "log levels renumbered");
_Static_assert(TB_SETTING_STRING == 0 && TB_SETTING_INT == 1 && TB_SETTING_NUMBER == 2 &&
	       TB_SETTING_BOOL == 3 && TB_SETTING_STRINGS == 4 && TB_SETTING_NUMBERS == 5 &&
	       TB_SETTING_GROUP == 6 && TB_SETTING_ANY == 7, "setting types renumbered");
_Static_assert(TB_CG_CPU == 0 && TB_CG_CPUSET == 1 && TB_CG_IO == 2 && TB_CG_MEMORY == 3 &&
	       TB_CG_SLOTS == 8, "cgroup controllers renumbered");
_Static_assert(TB_LOWER_IS_BETTER == 0 && TB_HIGHER_IS_BETTER == 1, "directions renumbered");
_Static_assert(TB_SAVED_MAX == 8192, "saved state size changed");
_Static_assert(TB_PLUGIN_UNPRIVILEGED == 0x1u, "plugin flags renumbered");

/* The offsets, on the LP64 machines (x86-64, arm64) they were taken on: the
 * layout is the same on the others, only the numbers differ. */
#if defined(__LP64__)
/* struct tb_setting_spec */
SIZE(tb_setting_spec, 24);
AT(tb_setting_spec, name, 0);
AT(tb_setting_spec, type, 8);
AT(tb_setting_spec, required, 12);
AT(tb_setting_spec, doc, 16);

/* struct tb_target */
SIZE(tb_target, 112);
AT(tb_target, id, 0);
AT(tb_target, pid, 8);
AT(tb_target, cgroup, 16);
AT(tb_target, netns, 80);
AT(tb_target, ifname, 88);
AT(tb_target, node, 96);
AT(tb_target, key, 104);                /* since 1.2 */

/* struct tb_service */
SIZE(tb_service, 24);
AT(tb_service, name, 0);
AT(tb_service, ntargets, 8);
AT(tb_service, targets, 16);

/* struct tb_host */
SIZE(tb_host, 160);
AT(tb_host, abi, 0);
AT(tb_host, plugin_name, 8);
AT(tb_host, log, 16);
AT(tb_host, now, 24);
AT(tb_host, get_string, 32);
AT(tb_host, get_int, 40);
AT(tb_host, get_number, 48);
AT(tb_host, get_bool, 56);
AT(tb_host, get_count, 64);
AT(tb_host, get_string_at, 72);
AT(tb_host, get_number_at, 80);
AT(tb_host, get_group, 88);
AT(tb_host, check_group, 96);
AT(tb_host, config_error, 104);
AT(tb_host, add_service, 112);
AT(tb_host, remember, 120);
AT(tb_host, forget, 128);
AT(tb_host, cancelled, 136);
AT(tb_host, host_private, 144);
AT(tb_host, add_agent, 152);            /* since 1.3 */

/* struct tb_plugin_header */
SIZE(tb_plugin_header, 48);
AT(tb_plugin_header, abi, 0);
AT(tb_plugin_header, kind, 4);
AT(tb_plugin_header, name, 8);
AT(tb_plugin_header, summary, 16);
AT(tb_plugin_header, version, 24);
AT(tb_plugin_header, settings, 32);
AT(tb_plugin_header, flags, 40);

/* struct tb_orchestrator */
SIZE(tb_orchestrator, 136);
AT(tb_orchestrator, header, 0);
AT(tb_orchestrator, init, 48);
AT(tb_orchestrator, fini, 56);
AT(tb_orchestrator, launch, 64);
AT(tb_orchestrator, discover, 72);
AT(tb_orchestrator, alive, 80);
AT(tb_orchestrator, stop, 88);
AT(tb_orchestrator, restore, 96);
AT(tb_orchestrator, revive, 104);        /* since 1.2 */
AT(tb_orchestrator, throttle_save, 112); /* since 1.3 */
AT(tb_orchestrator, throttle_apply, 120);
AT(tb_orchestrator, throttle_restore, 128);

/* struct tb_throttler */
SIZE(tb_throttler, 144);
AT(tb_throttler, header, 0);
AT(tb_throttler, resource, 48);
AT(tb_throttler, unit, 56);
AT(tb_throttler, init, 64);
AT(tb_throttler, fini, 72);
AT(tb_throttler, probe, 80);
AT(tb_throttler, save, 88);
AT(tb_throttler, apply, 96);
AT(tb_throttler, restore, 104);
AT(tb_throttler, allocation, 112);      /* since 1.2 */
AT(tb_throttler, allocate, 120);        /* since 1.2 */
AT(tb_throttler, prioritize, 128);      /* since 1.2 */
AT(tb_throttler, check, 136);           /* since 1.2 */

/* struct tb_throttle */
SIZE(tb_throttle, 24);
AT(tb_throttle, service, 0);
AT(tb_throttle, throttler, 8);
AT(tb_throttle, stress, 16);

/* struct tb_experiment */
SIZE(tb_experiment, 16);
AT(tb_experiment, n, 0);
AT(tb_experiment, throttles, 8);

/* struct tb_trial */
SIZE(tb_trial, 48);
AT(tb_trial, index, 0);
AT(tb_trial, experiment, 8);
AT(tb_trial, workdir, 16);
AT(tb_trial, start, 24);
AT(tb_trial, end, 32);
AT(tb_trial, wall_start, 40);

/* struct tb_metric_value */
SIZE(tb_metric_value, 24);
AT(tb_metric_value, name, 0);
AT(tb_metric_value, unit, 8);
AT(tb_metric_value, direction, 16);

/* struct tb_metric */
SIZE(tb_metric, 96);
AT(tb_metric, header, 0);
AT(tb_metric, drives_workload, 48);
AT(tb_metric, init, 56);
AT(tb_metric, fini, 64);
AT(tb_metric, count, 72);
AT(tb_metric, describe, 80);
AT(tb_metric, measure, 88);

/* struct tb_space */
SIZE(tb_space, 88);
AT(tb_space, nservices, 0);
AT(tb_space, services, 8);
AT(tb_space, nthrottlers, 16);
AT(tb_space, throttlers, 24);
AT(tb_space, resources, 32);
AT(tb_space, excluded, 40);
AT(tb_space, nlevels, 48);
AT(tb_space, levels, 56);
AT(tb_space, trials, 64);
AT(tb_space, baseline_trials, 68);
AT(tb_space, direction, 72);
AT(tb_space, seed, 80);                 /* since 1.1 */

/* struct tb_strategy */
SIZE(tb_strategy, 88);
AT(tb_strategy, header, 0);
AT(tb_strategy, init, 48);
AT(tb_strategy, fini, 56);
AT(tb_strategy, next, 64);
AT(tb_strategy, observe, 72);
AT(tb_strategy, estimate, 80);
#endif

/* What is checked is checked above, when this file compiles; the version
 * packing is what remains. */
int main(void)
{
	return TB_ABI_VERSION_MAJOR(TB_ABI_VERSION(1, 7)) == 1 &&
	       TB_ABI_VERSION_MINOR(TB_ABI_VERSION(1, 7)) == 7 &&
	       TB_ABI_CURRENT == ((uint32_t)TB_ABI_MAJOR << 16 | TB_ABI_MINOR) ? EXIT_SUCCESS : EXIT_FAILURE;
}
