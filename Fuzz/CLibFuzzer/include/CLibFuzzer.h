#ifndef TERRAIN_CLIBFUZZER_H
#define TERRAIN_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt), linked in by `-sanitize=fuzzer`. The fuzz program calls it
/// from its own `main`, after taking its first argument (the reader to fuzz), so that SwiftPM's
/// executable entry point stays the program's; libFuzzer's own `main` is then never linked.
/// Declared only: a build without `-sanitize=fuzzer` never calls it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
