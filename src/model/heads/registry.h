// The registry of task heads: every head by name, created from HeadOptions.
//
//   auto head = clintorch::model::make_head("token_classification", options);
//
// Names: mlm, token_classification, sequence_classification, question_answering,
// relation_extraction (aliases: ner, classification, qa, re). Adding a head: CONTRIBUTING.md.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "model/heads/head.h"

namespace clintorch::model {

// A new head of the given name (or alias). Throws an Error listing the heads, with a "did you
// mean" suggestion, when the name is unknown.
std::unique_ptr<TaskHead> make_head(const std::string& name, const HeadOptions& options = {});

// Every registered head name, in registry order.
const std::vector<std::string>& head_names();

// The registered name for `name`, which may be an alias ("ner" -> "token_classification");
// "" when unknown.
std::string canonical_head_name(const std::string& name);

// The head a config.json describes: its "clintorch": {"head": ...} when present, else the head
// whose export architecture is config["architectures"][0]; "" when neither says.
std::string head_name_from_config(const nlohmann::json& config);

}  // namespace clintorch::model
