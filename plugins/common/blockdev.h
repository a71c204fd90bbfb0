/* blockdev.h - name the whole disk (MAJ:MIN) that holds a path, for block I/O throttling. */
#ifndef TB_BLOCKDEV_H
#define TB_BLOCKDEV_H

#include <stddef.h>

/*
 * The kernel throttles whole disks only: blk-throttle rejects a partition's
 * MAJ:MIN.  These helpers map whatever the user names (a MAJ:MIN, a device
 * node, a file on a filesystem) to the disk holding it, through
 * /sys/dev/block/MAJ:MIN: a partition's directory holds a "partition" file
 * and sits inside its disk's directory.
 *
 * sysfs is the sysfs mount point, NULL for "/sys" (tests pass a fake tree).
 */

struct tb_blockdev {
	unsigned major, minor;
};

/* Parse "MAJ:MIN".  0 or -EINVAL. */
int tb_blockdev_parse(const char *s, struct tb_blockdev *dev);

/* Replace a partition by its disk; a disk is left as is.  0, -ENODEV when
 * dev is not a block device (an overlayfs or btrfs anonymous device, say),
 * or -errno. */
int tb_blockdev_whole(const char *sysfs, struct tb_blockdev *dev);

/* The disk holding path: a block device node's own device, else the device
 * of the filesystem path is on; then tb_blockdev_whole(). */
int tb_blockdev_of_path(const char *sysfs, const char *path, struct tb_blockdev *dev);

/* The device node of dev ("/dev/" + DEVNAME from its uevent), checked to be
 * that very block device.  0, -ENOENT or -errno. */
int tb_blockdev_node(const char *sysfs, const struct tb_blockdev *dev, char *out, size_t size);

#endif
