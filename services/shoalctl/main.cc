// shoalctl: the operator CLI (tables, partitions, nodes, split, move, drain). Wiring only;
// the commands are in libs/ctl.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "shoal/common/log.h"
#include "shoal/ctl/cli.h"

int main(int argc, char** argv) {
  CLI::App app{"shoalctl: inspect and operate a Shoal fleet over NATS"};
  app.set_version_flag("--version", SHOAL_VERSION);
  shoal::ctl::CliOptions options;
  shoal::ctl::add_cli(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);  // prints help/version (0) or the usage error
    return rc == 0 ? 0 : 2;
  }
  // Library warnings (NATS reconnects...) go to stderr; stdout stays the command's output.
  shoal::init_logging("shoalctl", "warn");
  return shoal::ctl::run(options, std::cout, std::cerr, ::isatty(STDOUT_FILENO) != 0);
}
