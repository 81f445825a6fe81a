// The CLI's subcommands. Each src/cli/cmd_<name>.cpp defines one add_<name>() that declares the
// subcommand's options and its callback; main.cpp lists them. Keep these files thin: parse,
// validate, then call the library.
#pragma once

#include <c10/core/Device.h>
#include <CLI/CLI.hpp>

#include <string>

namespace clintorch::cli {

void add_train(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_predict(CLI::App& app);
void add_export(CLI::App& app);
void add_tokenize(CLI::App& app);
void add_validate(CLI::App& app);
void add_selfcheck(CLI::App& app);
void add_fill_mask(CLI::App& app);
void add_embed(CLI::App& app);
void add_inspect(CLI::App& app);
void add_serve(CLI::App& app);

// A subcommand whose --help works but which is not implemented yet: running it says so, names
// the issue that tracks it, and exits with status 2.
// Every command's --device: auto | cpu | cuda | cuda:N (model::select_device), a UsageError
// (exit 2) when the name is unknown or the device is not on this machine.
c10::Device device_option(const std::string& name);
// The help text of --device, the same for every command.
inline constexpr char kDeviceHelp[] = "auto (CUDA when available), cpu, cuda or cuda:N";

CLI::App* add_placeholder(CLI::App& app, const std::string& name, const std::string& help,
                          int issue);

}  // namespace clintorch::cli
