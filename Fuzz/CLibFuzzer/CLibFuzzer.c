// The module's only content is the declaration in include/CLibFuzzer.h; SwiftPM needs one source file.
#include "CLibFuzzer.h"
