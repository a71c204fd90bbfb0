/* fuzz_journal.c - libFuzzer target for reading the journal (what restore replays as root): any file, no crash, every line accounted for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_file.h"
#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tb_journal_damage *damage;
	struct tb_journal_entry *pending;
	struct tb_journal *j;
	size_t ndamage, lines = 0;
	int n;

	if (tb_journal_inspect(fuzz_file(data, size), &j) < 0)
		abort();   /* a readable regular file is always inspected */
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	n = tb_journal_pending(j, &pending);
	ndamage = tb_journal_damaged(j, &damage);
	if (n < 0 || (size_t)n + ndamage > lines + 1)
		abort();
	for (int i = 0; i < n; i++)
		if (pending[i].id <= 0 || (i && pending[i].id >= pending[i - 1].id) ||
		    !pending[i].saved || !pending[i].kind)
			abort();
	for (size_t i = 0; i < ndamage; i++)
		if (damage[i].line < 1 || damage[i].offset < 0 || (size_t)damage[i].offset +
		    damage[i].length > size || !damage[i].why || !damage[i].excerpt)
			abort();
	free(pending);
	tb_journal_close(j);
	return 0;
}
