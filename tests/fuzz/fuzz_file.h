/* fuzz_file.h - hand a fuzzer's input to a parser that reads a file by name. */
#ifndef TB_FUZZ_FILE_H
#define TB_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Write data to a file in this process's own temporary directory (removed
 * at exit) and return its path; aborts when it cannot, as that is no
 * finding about the parser. */
const char *fuzz_file(const uint8_t *data, size_t size);

/* data as a NUL-terminated string (malloc'ed); embedded NULs end it early,
 * as they would for the C string the code under test is handed. */
char *fuzz_string(const uint8_t *data, size_t size);

#endif
