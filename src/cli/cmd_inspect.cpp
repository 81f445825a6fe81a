// clintorch inspect: hidden-state norms per layer and attention maps for one text.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "infer/inputs.h"
#include "infer/inspect.h"
#include "util/error.h"

namespace clintorch::cli {
namespace {

struct InspectArgs {
  std::string model;
  std::string text;
  bool attentions = false;
  std::string layers;
  std::string heads;
  std::string json;
  std::string html;
  std::string device = "cpu";
};

void run_inspect(const InspectArgs& args) {
  infer::InspectOptions o;
  o.attentions = args.attentions;
  if (!args.layers.empty()) o.layers = infer::parse_index_list(args.layers, "--layers");
  if (!args.heads.empty()) o.heads = infer::parse_index_list(args.heads, "--heads");
  if (!args.attentions && (!args.layers.empty() || !args.heads.empty())) {
    throw UsageError("--layers and --heads choose attention maps: add --attentions");
  }
  o.device = device_option(args.device);
  const infer::InspectResult r = infer::inspect_text(args.model, args.text, o);
  if (!args.html.empty()) {
    infer::TextOutput out(args.html);
    out.write(infer::inspect_to_html(r));
    out.close();
  }
  if (!args.json.empty() || args.html.empty()) {
    infer::TextOutput out(args.json.empty() ? "-" : args.json);
    out.write(
        infer::inspect_to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
        "\n");
    out.close();
  }
}

}  // namespace

void add_inspect(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* sub = app.add_subcommand(
      "inspect",
      "Hidden-state norms per layer and attention maps for one text (JSON, HTML heatmaps)");
  sub->add_option("--model", args->model,
                  "BERT model folder or HF model id (ORG/NAME[@REV], from the HF cache)")
      ->required();
  sub->add_option("--text", args->text, "The text to inspect")->required();
  sub->add_flag("--attentions", args->attentions, "Include attention maps");
  sub->add_option("--layers", args->layers, "Layers of the maps, e.g. 0,5 (default: all)");
  sub->add_option("--heads", args->heads, "Heads of the maps, e.g. 0,3 (default: all)");
  sub->add_option("--json", args->json,
                  "Write the JSON here ('-' = stdout; the default when --html is not given)");
  sub->add_option("--html", args->html,
                  "Write a self-contained HTML page of SVG heatmaps here (open it in a browser)");
  sub->add_option("--device", args->device, kDeviceHelp);
  sub->callback([args]() { run_inspect(*args); });
}

}  // namespace clintorch::cli
