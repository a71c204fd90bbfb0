/* blockdev.c - name the whole disk (MAJ:MIN) that holds a path, through sysfs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "blockdev.h"

static const char *root(const char *sysfs)
{
	return sysfs ? sysfs : "/sys";
}

static int read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int tb_blockdev_parse(const char *s, struct tb_blockdev *dev)
{
	char *end;
	unsigned long ma, mi;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	ma = strtoul(s, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	mi = strtoul(end + 1, &end, 10);
	if (*end || ma > 0xfff || mi > 0xfffff)
		return -EINVAL;
	dev->major = (unsigned)ma;
	dev->minor = (unsigned)mi;
	return 0;
}

int tb_blockdev_whole(const char *sysfs, struct tb_blockdev *dev)
{
	char path[4096], buf[64];
	int r;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u", root(sysfs), dev->major, dev->minor);
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/partition", root(sysfs),
		 dev->major, dev->minor);
	if (access(path, F_OK) < 0)
		return 0;
	/* The symlink leads into the disk's directory, so ".." is the disk. */
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/../dev", root(sysfs),
		 dev->major, dev->minor);
	r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	return tb_blockdev_parse(buf, dev);
}

int tb_blockdev_of_path(const char *sysfs, const char *path, struct tb_blockdev *dev)
{
	struct stat st;
	dev_t d;

	if (stat(path, &st) < 0)
		return -errno;
	d = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
	dev->major = major(d);
	dev->minor = minor(d);
	return tb_blockdev_whole(sysfs, dev);
}

int tb_blockdev_node(const char *sysfs, const struct tb_blockdev *dev, char *out, size_t size)
{
	char path[4096], uevent[1024];
	const char *name;
	struct stat st;
	int r;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/uevent", root(sysfs), dev->major,
		 dev->minor);
	r = read_small(path, uevent, sizeof(uevent));
	if (r < 0)
		return r;
	name = strstr(uevent, "DEVNAME=");
	if (!name)
		return -ENOENT;
	name += strlen("DEVNAME=");
	if ((size_t)snprintf(out, size, "/dev/%.*s", (int)strcspn(name, "\n"), name) >= size)
		return -ENAMETOOLONG;
	if (stat(out, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode) || major(st.st_rdev) != dev->major ||
	    minor(st.st_rdev) != dev->minor)
		return -ENOENT;
	return 0;
}
