/*
 * Moved to trace_meta.h: the engine never reads a trace's metadata. Only
 * user/run/ and user/capture/ still include this name (their owners switch
 * them to "trace_meta.h"); delete this file then.
 */
#include "trace_meta.h"
