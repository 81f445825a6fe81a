// clintorch: command-line entry point. Parses arguments, dispatches to a subcommand, and maps
// errors to exit codes: 0 ok, 1 bad input or runtime failure, 2 bad usage.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "util/cuda_support.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/version.h"

namespace clintorch::cli {
namespace {

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return names;
}

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* opt : app.get_options()) {
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
  }
  return names;
}

// The innermost subcommand that was selected on the command line (or the root).
CLI::App* selected_command(CLI::App& app) {
  CLI::App* current = &app;
  for (;;) {
    auto parsed = current->get_subcommands();
    if (parsed.empty()) return current;
    current = parsed.front();
  }
}

int usage_error(const std::string& message, const CLI::App& where) {
  std::fprintf(stderr, "clintorch: %s\n", message.c_str());
  std::string help_cmd =
      where.get_parent() ? "clintorch " + where.get_name() + " --help" : "clintorch --help";
  std::fprintf(stderr, "  hint: run '%s' for usage\n", help_cmd.c_str());
  return 2;
}

// Unknown options and stray words: name them, suggest the nearest valid spelling.
int explain_extras(CLI::App& app) {
  CLI::App* where = selected_command(app);
  std::vector<std::string> extras = app.remaining(true);
  if (extras.empty()) return usage_error("unexpected arguments", *where);
  const std::string& first = extras.front();
  if (first.rfind("-", 0) == 0) {
    std::string name = first.substr(0, first.find('='));
    std::string context = where->get_parent() ? " for '" + where->get_name() + "'" : "";
    return usage_error(
        "unknown option '" + name + "'" + context + did_you_mean(name, option_names(*where)),
        *where);
  }
  if (where == &app) {
    return usage_error(
        "unknown command '" + first + "'" + did_you_mean(first, subcommand_names(app)), app);
  }
  return usage_error("unexpected argument '" + first + "'", *where);
}

}  // namespace

CLI::App* add_placeholder(CLI::App& app, const std::string& name, const std::string& help,
                          int issue) {
  CLI::App* sub = app.add_subcommand(name, help);
  sub->allow_extras();  // its options are not declared yet; any argument reaches the message
  sub->callback([name, issue]() {
    throw UsageError("'" + name + "' is not implemented yet (tracked in issue #" +
                     std::to_string(issue) + ")");
  });
  return sub;
}

int run(int argc, char** argv) {
  CLI::App app{"clintorch: fine-tune BERT-family encoders on clinical and biomedical text"};
  app.name("clintorch");
  app.set_version_flag("--version", [] { return version_report(); });
  app.require_subcommand(0, 1);
  app.fallthrough(false);

  add_train(app);
  add_evaluate(app);
  add_predict(app);
  add_export(app);
  add_tokenize(app);
  add_validate(app);
  add_selfcheck(app);
  add_fill_mask(app);
  add_embed(app);
  add_inspect(app);
  add_serve(app);

  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty()) {
      std::fprintf(stderr, "%s", app.help().c_str());
      return usage_error("no command given", app);
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError&) {
    return explain_extras(app);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what(), *selected_command(app));
  } catch (const UsageError& e) {
    return usage_error(e.what(), *selected_command(app));
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace clintorch::cli

int main(int argc, char** argv) {
  clintorch::load_cuda_support();  // before anything asks LibTorch about CUDA
  return clintorch::cli::run(argc, argv);
}
