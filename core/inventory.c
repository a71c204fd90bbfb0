/* inventory.c - the services an orchestrator discovered, with deep copies of their targets. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agents.h"
#include "inventory.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void target_free(struct tb_target *t)
{
	free((char *)t->id);
	for (int i = 0; i < TB_CG_SLOTS; i++)
		free((char *)t->cgroup[i]);
	free((char *)t->netns);
	free((char *)t->ifname);
	free((char *)t->node);
	free((char *)t->key);
}

static int target_copy(struct tb_target *dst, const struct tb_target *src)
{
	int ok = 1;

	memset(dst, 0, sizeof(*dst));
	dst->pid = src->pid;
	dst->id = dup_or_null(src->id);
	ok &= !src->id || dst->id;
	for (int i = 0; i < TB_CG_SLOTS; i++) {
		dst->cgroup[i] = dup_or_null(src->cgroup[i]);
		ok &= !src->cgroup[i] || dst->cgroup[i];
	}
	dst->netns = dup_or_null(src->netns);
	dst->ifname = dup_or_null(src->ifname);
	dst->node = dup_or_null(src->node);
	dst->key = dup_or_null(src->key);
	ok &= (!src->netns || dst->netns) && (!src->ifname || dst->ifname) &&
	      (!src->node || dst->node) && (!src->key || dst->key);
	if (!ok) {
		target_free(dst);
		return -ENOMEM;
	}
	return 0;
}

static struct tb_service *find_or_add(struct tb_inventory *inv, const char *name)
{
	struct tb_service *grown;

	for (size_t i = 0; i < inv->nservices; i++)
		if (!strcmp(inv->services[i].name, name))
			return &inv->services[i];
	grown = realloc(inv->services, sizeof(*grown) * (inv->nservices + 1));
	if (!grown)
		return NULL;
	inv->services = grown;
	grown += inv->nservices;
	memset(grown, 0, sizeof(*grown));
	grown->name = strdup(name);
	if (!grown->name)
		return NULL;
	inv->nservices++;
	return grown;
}

int tb_inventory_add(const struct tb_host *h, struct tb_inventory *inv, const char *service,
		     const struct tb_target *t)
{
	struct tb_service *s;
	struct tb_target *targets;
	int r;

	if (!service || !*service)
		return -EINVAL;
	s = find_or_add(inv, service);
	if (!s)
		return -ENOMEM;
	if (!t)
		return 0;
	targets = realloc((void *)s->targets, sizeof(*targets) * (s->ntargets + 1));
	if (!targets)
		return -ENOMEM;
	s->targets = targets;
	r = target_copy(&targets[s->ntargets], t);
	if (r == 0)
		s->ntargets++;
	return r;
}

static void service_free(struct tb_service *s)
{
	for (size_t j = 0; j < s->ntargets; j++)
		target_free((struct tb_target *)&s->targets[j]);
	free((void *)s->targets);
	free((char *)s->name);
}

void tb_inventory_filter(struct tb_inventory *inv, int (*keep)(const struct tb_service *, void *),
			 void *arg)
{
	size_t kept = 0;

	for (size_t i = 0; i < inv->nservices; i++) {
		if (keep(&inv->services[i], arg))
			inv->services[kept++] = inv->services[i];
		else
			service_free(&inv->services[i]);
	}
	inv->nservices = kept;
}

void tb_inventory_filter_targets(struct tb_inventory *inv,
				 int (*keep)(const struct tb_target *, void *), void *arg)
{
	size_t kept_services = 0;

	for (size_t i = 0; i < inv->nservices; i++) {
		struct tb_service *s = &inv->services[i];
		struct tb_target *t = (struct tb_target *)s->targets;
		size_t kept = 0, before = s->ntargets;

		for (size_t j = 0; j < before; j++) {
			if (keep(&t[j], arg))
				t[kept++] = t[j];
			else
				target_free(&t[j]);
		}
		s->ntargets = kept;
		if (before > 0 && kept == 0)
			service_free(s);
		else
			inv->services[kept_services++] = *s;
	}
	inv->nservices = kept_services;
}

void tb_inventory_adopt_targets(struct tb_inventory *inv, struct tb_inventory *fresh)
{
	for (size_t i = 0; i < inv->nservices; i++) {
		struct tb_service *s = &inv->services[i], empty = { 0 }, *f = &empty;

		for (size_t j = 0; j < fresh->nservices; j++)
			if (!strcmp(fresh->services[j].name, s->name))
				f = &fresh->services[j];
		/* Swap: the old targets go to fresh and are freed with it. */
		const struct tb_target *targets = s->targets;
		size_t n = s->ntargets;

		s->targets = f->targets;
		s->ntargets = f->ntargets;
		f->targets = targets;
		f->ntargets = n;
		if (f == &empty) {
			for (size_t k = 0; k < n; k++)
				target_free((struct tb_target *)&targets[k]);
			free((void *)targets);
		}
	}
	/* The agents found now are the ones that answer now. */
	struct tb_found_agent *agents = inv->agents;
	size_t nagents = inv->nagents;

	inv->agents = fresh->agents;
	inv->nagents = fresh->nagents;
	fresh->agents = agents;
	fresh->nagents = nagents;
	tb_inventory_free(fresh);
}

void tb_inventory_free(struct tb_inventory *inv)
{
	for (size_t i = 0; i < inv->nservices; i++)
		service_free(&inv->services[i]);
	free(inv->services);
	for (size_t i = 0; i < inv->nagents; i++) {
		free(inv->agents[i].node);
		free(inv->agents[i].url);
	}
	free(inv->agents);
	memset(inv, 0, sizeof(*inv));
}

int tb_inventory_add_agent(struct tb_inventory *inv, const char *node, const char *url)
{
	struct tb_found_agent *grown, *a = NULL;
	char *copy;

	if (!node || !*node || strlen(node) > 253 || !strcmp(node, "*") || !url ||
	    !tb_agent_url_ok(url))
		return -EINVAL;
	copy = strdup(url);
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < inv->nagents && !a; i++)
		if (!strcmp(inv->agents[i].node, node))
			a = &inv->agents[i];
	if (a) {
		free(a->url);
		a->url = copy;
		return 0;
	}
	grown = realloc(inv->agents, (inv->nagents + 1) * sizeof(*grown));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	inv->agents = grown;
	a = &grown[inv->nagents];
	a->url = copy;
	a->node = strdup(node);
	if (!a->node) {
		free(copy);
		return -ENOMEM;
	}
	inv->nagents++;
	return 0;
}

const char *tb_inventory_agent(const struct tb_inventory *inv, const char *node)
{
	for (size_t i = 0; node && i < inv->nagents; i++)
		if (!strcmp(inv->agents[i].node, node))
			return inv->agents[i].url;
	return NULL;
}
