// pocket: one CLI over libpocket. Subcommands live in cmd_*.cpp.
#include <cstdio>
#include <map>

#include "commands.h"

namespace pocket::cli {
int fail(const std::string& message) {
  std::fprintf(stderr, "pocket: error: %s\n", message.c_str());
  return 1;
}
}  // namespace pocket::cli

int main(int argc, char** argv) {
  CLI::App app{"pocket - run, inspect and convert language models on small devices"};
  app.require_subcommand(1);
  std::map<CLI::App*, pocket::cli::Runner> runners;
  auto add = [&](pocket::cli::Runner (*reg)(CLI::App&), const char* name) {
    (void)name;
    const size_t before = app.get_subcommands({}).size();
    pocket::cli::Runner r = reg(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) runners[subs.back()] = std::move(r);
  };
  add(pocket::cli::register_run, "run");
  add(pocket::cli::register_info, "info");
  add(pocket::cli::register_convert, "convert");
  add(pocket::cli::register_bench, "bench");
  add(pocket::cli::register_sysinfo, "sysinfo");
  add(pocket::cli::register_synth, "synth");
  add(pocket::cli::register_perplexity, "perplexity");
  add(pocket::cli::register_quantize, "quantize");
  add(pocket::cli::register_quality, "quality");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) return run();
  }
  return 2;
}
