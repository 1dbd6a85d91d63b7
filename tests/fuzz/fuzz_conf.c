/*
 * fuzz_conf.c -- fuzz target for the tlsad.conf parser.
 * Any input must either parse into a conf or fail with one message that
 * names the input; never crash, leak or read out of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsad/conf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*conf = NULL;
	char		*err = NULL;
	int		 rc;

	rc = conf_parse("fuzz.conf", (const char *)data, size, &conf, &err);
	/* The contract of conf_parse: exactly one of conf and err. */
	if ((rc == 0) != (conf != NULL) || (rc == 0) == (err != NULL))
		abort();
	if (err != NULL && strncmp(err, "fuzz.conf:", 10) != 0)
		abort();
	if (conf != NULL && conf->nlineages > 0 &&
	    conf_lineage_find(conf, conf->lineages[0].name) != &conf->lineages[0])
		abort();
	conf_free(conf);
	free(err);
	return 0;
}
