/* fuzz_gml.c: libFuzzer target for the GML importer (checks in fuzz_import_check.h). */
#include "fuzz_import_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_import_check(na_import_gml, data, size);
}
