// Where a model lives: a local directory, or a HuggingFace model id (`ORG/NAME`, `NAME`, with an
// optional `@REVISION`) looked up offline in the standard HF cache. Nothing is ever downloaded.
//
//   resolve_model_dir("runs/export")                      -> "runs/export" (exists: used as is)
//   resolve_model_dir("emilyalsentzer/Bio_ClinicalBERT")  ->
//       $HF_HUB_CACHE/models--emilyalsentzer--Bio_ClinicalBERT/snapshots/<refs/main>
//   resolve_model_dir("org/name@v1.0")                    -> .../snapshots/<refs/v1.0>
//   resolve_model_dir("org/name@<commit hash>")           -> .../snapshots/<commit hash>
//
// The cache is the first of $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE, $HF_HOME/hub,
// $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub (huggingface_hub's own order).
// No torch dependency: the tokenizer uses it too.
#pragma once

#include <string>

namespace clintorch::io {

// An existing path is returned unchanged (a relative directory wins over a model id of the same
// spelling). Otherwise a name shaped like a HF model id resolves to its cached snapshot folder.
// Throws clintorch::Error naming `where` (e.g. "--model" or "recipe.yaml:3:14"; empty = the
// name itself) when it is found in neither place; the hint gives the exact download command
// (`huggingface-cli download ORG/NAME`, or `hf download`) and the cache folder it fills.
std::string resolve_model_dir(const std::string& name_or_path, const std::string& where = "");

// True when `name` has the shape of a HF model id: NAME or ORG/NAME (letters, digits, '-', '_',
// '.'; not starting or ending with '-' or '.'; no "--" or ".."), optionally followed by @REVISION.
bool looks_like_model_id(const std::string& name);

// The HF hub cache folder the lookup uses (see above); it need not exist.
std::string hf_hub_cache_dir();

// N of a trainer checkpoint folder named "checkpoint-N" (HF Trainer's naming), or -1 for any
// other name (also for more than 18 digits).
long long checkpoint_step(const std::string& folder_name);

}  // namespace clintorch::io
