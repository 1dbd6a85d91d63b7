/*
 * fuzz.h -- the entry point every fuzz target defines.  libFuzzer calls it
 * with generated inputs; replay_main.c calls it with each corpus file so the
 * corpus runs under CTest with any compiler.
 */
#ifndef TLSAD_FUZZ_H
#define TLSAD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Feed one input to the parser under test.  Always returns 0. */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* TLSAD_FUZZ_H */
