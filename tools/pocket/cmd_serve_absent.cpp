// Builds without cpp-httplib (cross builds): `pocket serve` explains instead of serving.
#include "commands.h"

namespace pocket::cli {

Runner register_serve(CLI::App& app) {
  app.add_subcommand("serve", "OpenAI-compatible HTTP server (not in this build: configured without cpp-httplib)");
  return [] { return fail("serve: this pocket was built without cpp-httplib (POCKET_SERVER=OFF)"); };
}

}  // namespace pocket::cli
