/*
 * fuzz_state.c -- fuzz target for the lineage state file parser
 * (state_parse).  Any text must either give a state that passes
 * rollover_state_check() or fail with "WHERE:LINE: ..." and leave the
 * caller's state untouched.  A state that parsed must format and parse back
 * to an equal state, and formatting must then be stable.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsad/error.h"
#include "tlsad/rollover.h"
#include "tlsad/state.h"

#define WHERE	"fuzz.state"

/* The value of the "lineage" line (state_parse accepted exactly one). */
static int
lineage_of(const char *text, size_t len, char *name, size_t namelen)
{
	const char	*p = text, *end = text + len, *nl;
	size_t		 n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 8 && memcmp(p, "lineage ", 8) == 0) {
			if (n - 8 >= namelen)
				return -1;
			memcpy(name, p + 8, n - 8);
			name[n - 8] = '\0';
			return 0;
		}
		p = nl + 1;
	}
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rollover_state	 st, back, untouched;
	char			 err[256], why[256];
	char			 name[STATE_NAME_MAX + 2];
	char			*text = NULL, *text2 = NULL, *p;
	size_t			 len = 0, len2 = 0;
	int			 rc;

	memset(&st, 0xa5, sizeof(st));
	memcpy(&untouched, &st, sizeof(st));
	rc = state_parse((const char *)data, size, WHERE, NULL, &st, err,
	    sizeof(err));
	if (rc != 0) {
		if (rc != TLSAD_ESTATE_CORRUPT && rc != TLSAD_ESTATE_VERSION &&
		    rc != TLSAD_ETOOBIG)
			abort();
		if (strncmp(err, WHERE ":", sizeof(WHERE)) != 0)
			abort();
		if (memcmp(&st, &untouched, sizeof(st)) != 0)
			abort();
		goto out;
	}
	if (rollover_state_check(&st, why, sizeof(why)) != 0)
		abort();
	if (lineage_of((const char *)data, size, name, sizeof(name)) != 0 ||
	    state_name_valid(name) != 0)
		abort();

	/* Another lineage's name is refused. */
	if (strcmp(name, "fuzz-other") != 0 &&
	    state_parse((const char *)data, size, WHERE, "fuzz-other", &back,
	    err, sizeof(err)) != TLSAD_ESTATE_CORRUPT)
		abort();

	/*
	 * Format, parse back equal, format again to the same text.  The
	 * parser takes control characters in last-message (a hand-edited
	 * file) that the formatter writes as '?' (state.h): compare with
	 * that mapping applied.
	 */
	if (state_format(name, &st, &text, &len) != 0)
		abort();
	if (strlen(text) != len)
		abort();
	rc = state_parse(text, len, WHERE, name, &back, err, sizeof(err));
	for (p = st.last_message; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	if (rc != 0 || !rollover_state_equal(&st, &back))
		abort();
	if (state_format(name, &back, &text2, &len2) != 0)
		abort();
	if (len != len2 || memcmp(text, text2, len) != 0)
		abort();
out:
	free(text);
	free(text2);
	return 0;
}
