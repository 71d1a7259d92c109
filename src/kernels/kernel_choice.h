// Which decode kernel each weight type runs, chosen by measurement on this machine, never assumed:
// the single-row vec_dot (the reference behaviour) or the table's 4-row vec_dot_r4. Both give the same
// bits for every row; only speed differs, and that depends on the core and the row width (on the 2-core
// Zen 3 VM this was written on the 4-row kernel wins for 576-wide Q4_0 rows and loses 5-45 % elsewhere; on
// a Zen 5 VNNI machine its 4 concurrent weight-row streams made TinyLlama Q8_0 decode 2.6x slower).
// Measured once per CPU model and kernel table on a matrix larger than the last-level cache and cached
// as JSON under $XDG_CACHE_HOME/pocket/ (or ~/.cache/pocket/). This is the one file of kernels/ that
// reads the environment and does I/O; it runs once per process, never in a kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dtype/tensor_type.h"
#include "kernels/kernel_table.h"
#include "pocket/status.h"

namespace pocket {

enum class RowVariant : uint8_t { kSingle, kMulti };
const char* row_variant_name(RowVariant v);  // "single" | "multi"

// Row-width classes: cols <= 1024 (SmolLM2's 576-wide rows), <= 3072 (2048-wide models), wider (4096 and
// FFN down rows). Narrow rows are short per-row streams and behave differently from wide ones.
constexpr int kWidthClasses = 3;
inline int width_class(int64_t cols) { return cols <= 1024 ? 0 : cols <= 3072 ? 1 : 2; }
const char* width_class_name(int wc);    // "cols<=1024", "cols<=3072", "cols>3072"
int64_t width_class_probe_cols(int wc);  // the width the probe times for the class: 576, 2048, 4096
// That width in whole blocks of type t (Q4_K's 256-element blocks: 512, 2048, 4096).
int64_t probe_cols(TensorType t, int wc);

// One (weight type, width class) decision and the rates behind it.
struct KernelChoiceEntry {
  TensorType type = TensorType::F32;
  int width_class = 0;
  RowVariant variant = RowVariant::kSingle;
  double single_gbps = 0;  // weight bytes streamed per second, one thread; 0: not measured (forced)
  double multi_gbps = 0;
  // Packed rows (kernels/packed_rows.h), where the table has a packed kernel for the type: the decode rate
  // over the same bytes packed, and whether weights of this type and width are packed at load.
  double packed_gbps = 0;
  bool packed = false;
};

enum class ChoiceSource {
  kNone,    // the table has no multi-row kernels (ref): nothing to choose
  kForced,  // POCKET_KERNEL_CHOICE=single|multi, or a caller's override
  kCache,   // read from the cache file
  kProbe,   // measured in this process
};
const char* choice_source_name(ChoiceSource s);

struct KernelChoice {
  // What matmul_group reads per matrix: true = decode with vec_dot_r4 (only set where the table has one).
  bool multi[kTypeSlots][kWidthClasses] = {};
  bool use_multi(TensorType t, int64_t cols) const { return multi[(int)t][width_class(cols)]; }
  // What Model::pack_weights reads per matrix: true = pack its rows (only where the table has the kernel).
  bool pack[kTypeSlots][kWidthClasses] = {};
  bool use_packed(TensorType t, int64_t cols) const { return pack[(int)t][width_class(cols)]; }

  // Where the decision came from, for pocket sysinfo and the cache file.
  std::string table;  // kernel table name
  std::string cpu;    // cpu_model_name() it was measured on
  ChoiceSource source = ChoiceSource::kNone;
  std::string cache_path;  // file read or written; empty: memory only
  std::string note;        // e.g. why the cache was not used or not written
  bool cacheable = true;   // false: the probe could not run at full size (no memory, time budget): not written
  double probe_seconds = 0;
  size_t probe_bytes = 0;                  // synthetic weight matrix size per timing
  std::vector<KernelChoiceEntry> entries;  // one per (type with vec_dot_r4, width class), by type then class
};

// Recomputes `multi` and `pack` from `entries` (multi only where kt has a vec_dot_r4 for the type, pack
// only where it has a vec_dot_packed).
void apply_entries(const KernelTable& kt, KernelChoice* c);

// POCKET_KERNEL_CHOICE: auto (default; also nullptr or ""), probe (measure again, rewrite the cache),
// single / multi (force a variant, no measurement, cache untouched).
enum class KernelChoiceMode { kAuto, kProbe, kSingle, kMulti };
// Unknown values are kAuto with *unknown set (the caller warns).
KernelChoiceMode parse_kernel_choice_mode(const char* value, bool* unknown = nullptr);

struct KernelProbeOptions {
  size_t bytes = 0;      // matrix size; 0: twice the last-level cache, within 64..256 MiB
  int repetitions = 4;   // timed passes per variant (alternating ABBA), median
  double margin = 0.03;  // multi only when at least this much faster than single (the tie goes to single)
  // Packed rows are taken unless their decode is this much slower than the better row kernel: packing
  // also serves prefill, where it measured +55..70 % (AVX-512) and +15..40 % (AVX2) on TinyLlama. The
  // probe times the packed copy in huge pages, as the model holds it (AnonBuffer): in 4 KiB pages the
  // Q8_0 packed rate read 12-31 % low against whole-model decode on a Zen 4 VM.
  double pack_margin = 0.10;
  double budget_seconds = 1.0;  // fewer repetitions, then a smaller matrix, when a pass is slow (emulators, sanitizers)
};

// Times vec_dot, vec_dot_r4 and (where the table has one) vec_dot_packed over the same bytes packed, one
// thread, for every type the table has a vec_dot_r4 for, at each width class. Source kProbe; cache_path and cpu are left for the caller.
KernelChoice probe_kernel_choice(const KernelTable& kt, const KernelProbeOptions& o = {});
// Every (type, class) forced to v (multi only where the table has vec_dot_r4), packed wherever the table
// has a packed kernel; nothing is timed.
KernelChoice forced_kernel_choice(const KernelTable& kt, RowVariant v);

// <cache>/pocket/kernel-choice-<cpu>-<table>.json with <cache> = xdg_cache_home, else home/.cache (each
// used only when set and non-empty); "" when neither is. The CPU and table names are sanitized to
// [A-Za-z0-9._-].
std::string kernel_choice_cache_path(const char* xdg_cache_home, const char* home, const std::string& cpu, const std::string& table);
// The same from $XDG_CACHE_HOME, $HOME and cpu_model_name().
std::string kernel_choice_cache_path(const KernelTable& kt);

// Atomic (temporary file + rename); creates the directory.
Status write_kernel_choice(const std::string& path, const KernelChoice& c);
// An error when the file is missing, unreadable, not our JSON, for another CPU or table, or lacks a
// decision for a (type, class) the table can choose for.
Result<KernelChoice> read_kernel_choice(const std::string& path, const KernelTable& kt, const std::string& cpu);

using KernelProbeFn = std::function<KernelChoice(const KernelTable&)>;
// The policy. A table without vec_dot_r4: all single, source kNone, no probe, no file. kSingle/kMulti:
// forced, no probe, the cache neither read nor written. kAuto: a valid cache file, else probe and write it.
// kProbe: probe and rewrite. A cache that cannot be written (no HOME, read-only) keeps the result in
// memory only (note says why); nothing here is an error.
KernelChoice select_kernel_choice(const KernelTable& kt, KernelChoiceMode mode, const std::string& cache_path, const std::string& cpu,
                                  const KernelProbeFn& probe);

// The choice for this process and table: POCKET_KERNEL_CHOICE, the cache, or a probe, made once per table
// on first use (thread-safe); afterwards a pointer comparison for the process's table.
const KernelChoice& kernel_choice(const KernelTable& kt);

// POCKET_KERNELS and POCKET_KERNEL_CHOICE name a table and a mode this build knows, or are unset: an
// unknown value is an error naming the variable, the value and the choices (Engine::create and
// `pocket sysinfo` check it first; below them, an unknown value falls back to auto with a warning).
Status check_kernel_environment();

// POCKET_REPACK: on (default; also "" or unset) packs Q4_0 / Q8_0 weights at engine creation for the
// table's packed kernels (kernels/packed_rows.h); off keeps the file's rows only. Same bits either way.
bool packing_enabled();

}  // namespace pocket
