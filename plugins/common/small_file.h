/* small_file.h - read a whole small regular file (a certificate, a token, a listing) into memory, bounded. */
#ifndef TB_SMALL_FILE_H
#define TB_SMALL_FILE_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * The whole of the regular file at path, NUL-terminated, into *data (free()
 * it) and its length into *len (may be NULL); st (may be NULL) gets what
 * fstat said of the file that was read, for a caller that checks its mode.
 * -errno from open, -EINVAL when not a regular file, -EFBIG above max bytes.
 */
int tb_read_small_file(const char *path, size_t max, char **data, size_t *len, struct stat *st);

#endif
