/* program.c - find a workload's or service's program as execvp would, so a typo is a configuration error. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "program.h"

static int executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static char *from_directory(const char *prog, const char *cwd)
{
	char here[PATH_MAX], *out = NULL;

	if (prog[0] == '/')
		out = strdup(prog);
	else if (!cwd)
		cwd = getcwd(here, sizeof(here));
	if (!out && cwd && asprintf(&out, "%s/%s", cwd, prog) < 0)
		out = NULL;
	if (out && !executable(out)) {
		free(out);
		out = NULL;
	}
	return out;
}

char *tb_find_program(const char *prog, const char *cwd)
{
	const char *path = getenv("PATH");
	char *out;

	if (!prog || !*prog)
		return NULL;
	if (strchr(prog, '/'))
		return from_directory(prog, cwd);
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		if (len > 0) {
			if (asprintf(&out, "%.*s/%s", (int)len, path, prog) < 0)
				return NULL;
			if (executable(out))
				return out;
			free(out);
		}
		path += len + (path[len] == ':');
	}
	return NULL;
}
