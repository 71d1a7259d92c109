// The C API's option structs to the library's options and back (defaults, ranges, field names).
#pragma once

#include "api/c_handles.h"
#include "engine/memory_plan.h"

namespace pocket::capi {

pocket_status engine_options(const char* fn, const pocket_session_params* in, EngineOptions* out);
pocket_status sampling_params(const char* fn, const pocket_sampling_params* in, SamplingParams* out);
pocket_status generate_options(const char* fn, const pocket_generate_params* in, SessionGenerateOptions* out);
pocket_status fill_memory_plan(const char* fn, const EnginePlan& p, pocket_memory_plan* out);

}  // namespace pocket::capi
