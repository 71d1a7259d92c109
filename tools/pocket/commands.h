// Subcommands of the `pocket` CLI: each registers its options and returns its runner.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace pocket::cli {

using Runner = std::function<int()>;

Runner register_run(CLI::App& app);
Runner register_info(CLI::App& app);
Runner register_convert(CLI::App& app);
Runner register_bench(CLI::App& app);
Runner register_sysinfo(CLI::App& app);
Runner register_synth(CLI::App& app);
Runner register_perplexity(CLI::App& app);
Runner register_quantize(CLI::App& app);
Runner register_quality(CLI::App& app);

// Prints "pocket: error: <message>" to stderr; returns the exit code for errors (1).
int fail(const std::string& message);

}  // namespace pocket::cli
