#include "io/model_path.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "util/error.h"

namespace clintorch::io {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool valid_part(const std::string& s) {
  if (s.empty() || s.size() > 96) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '_' && c != '.') return false;
  }
  if (s.front() == '-' || s.front() == '.' || s.back() == '-' || s.back() == '.') return false;
  return s.find("--") == std::string::npos && s.find("..") == std::string::npos;
}

bool valid_revision(const std::string& rev) {
  if (rev.empty() || rev.front() == '/' || rev.back() == '/') return false;
  for (char c : rev) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '\\') return false;
  }
  // A ref name may hold '/' (refs/pr/1) but never walk out of the cache folder.
  for (const auto& part : fs::path(rev)) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

struct ModelId {
  std::string repo;      // ORG/NAME or NAME
  std::string revision;  // "main" unless @REV was given
  bool explicit_revision = false;
};

bool parse_model_id(const std::string& name, ModelId& out) {
  std::string repo = name;
  const size_t at = name.find('@');
  if (at != std::string::npos) {
    repo = name.substr(0, at);
    out.revision = name.substr(at + 1);
    out.explicit_revision = true;
    if (!valid_revision(out.revision)) return false;
  } else {
    out.revision = "main";
  }
  const size_t slash = repo.find('/');
  if (slash == std::string::npos) {
    if (!valid_part(repo)) return false;
  } else {
    if (!valid_part(repo.substr(0, slash)) || !valid_part(repo.substr(slash + 1))) return false;
  }
  out.repo = repo;
  return true;
}

std::string read_ref(const fs::path& file) {
  std::ifstream in(file);
  std::string s;
  std::getline(in, s);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string hf_hub_cache_dir() {
  for (const char* var : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}) {
    const std::string v = env(var);
    if (!v.empty()) return v;
  }
  const std::string hf_home = env("HF_HOME");
  if (!hf_home.empty()) return (fs::path(hf_home) / "hub").string();
  const std::string xdg = env("XDG_CACHE_HOME");
  if (!xdg.empty()) return (fs::path(xdg) / "huggingface" / "hub").string();
  const std::string home = env("HOME");
  return (fs::path(home.empty() ? "~" : home) / ".cache" / "huggingface" / "hub").string();
}

bool looks_like_model_id(const std::string& name) {
  ModelId id;
  return parse_model_id(name, id);
}

std::string resolve_model_dir(const std::string& name_or_path, const std::string& where) {
  std::error_code ec;
  const std::string& loc = where;  // may be empty: the message then names the model itself
  if (name_or_path.empty()) {
    fail(loc, "no model given", "pass a local model directory or a HF model id (ORG/NAME)");
  }
  if (fs::exists(name_or_path, ec)) return name_or_path;

  ModelId id;
  if (!parse_model_id(name_or_path, id)) {
    fail(loc.empty() ? name_or_path : loc + ": " + name_or_path, "no such directory",
         "pass a HuggingFace model directory (config.json, vocab.txt and the weights) or a HF "
         "model id such as emilyalsentzer/Bio_ClinicalBERT");
  }

  const fs::path cache = hf_hub_cache_dir();
  std::string folder = "models--" + id.repo;
  for (size_t p = folder.find('/'); p != std::string::npos; p = folder.find('/', p + 2)) {
    folder.replace(p, 1, "--");
  }
  const fs::path repo_dir = cache / folder;
  const std::string download =
      "huggingface-cli download " + id.repo +
      (id.explicit_revision ? " --revision " + id.revision : std::string());
  auto not_found = [&](const std::string& what) {
    fail(loc, what,
         "download it once with `" + download + "` (or `hf" +
             download.substr(std::string("huggingface-cli").size()) + "`); it is stored under " +
             repo_dir.string() +
             " (the cache of $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub; "
             "set HF_HOME to use another one). A local model directory path works too. Nothing "
             "is downloaded at run time.");
  };

  if (!fs::is_directory(repo_dir, ec)) {
    not_found("'" + name_or_path + "' is not a local directory, and model " + id.repo +
              " is not in the HuggingFace cache (looked for " + repo_dir.string() + ")");
  }
  // Revision -> commit: refs/<rev> holds the commit hash of a branch or tag; a full commit hash
  // names its snapshot directly.
  std::string commit;
  const fs::path ref_file = repo_dir / "refs" / id.revision;
  if (fs::is_regular_file(ref_file, ec)) {
    commit = read_ref(ref_file);
    if (commit.empty()) not_found(ref_file.string() + " is empty (an interrupted download?)");
  } else if (is_commit_hash(id.revision) ||
             fs::is_directory(repo_dir / "snapshots" / id.revision, ec)) {
    commit = id.revision;
  } else {
    std::string have;
    for (const auto& e : fs::directory_iterator(repo_dir / "snapshots", ec)) {
      have += (have.empty() ? "" : ", ") + e.path().filename().string();
    }
    not_found("model " + id.repo + " is in the HuggingFace cache but has no revision '" +
              id.revision + "' (no " + ref_file.string() + ")" +
              (have.empty()
                   ? std::string()
                   : "; cached snapshots: " + have + " (name one as " + id.repo + "@HASH)"));
  }
  const fs::path snapshot = repo_dir / "snapshots" / commit;
  if (!fs::is_directory(snapshot, ec)) {
    not_found("model " + id.repo + " revision '" + id.revision + "' points to commit " + commit +
              " but " + snapshot.string() + " does not exist (an interrupted download?)");
  }
  return snapshot.string();
}

long long checkpoint_step(const std::string& name) {
  const std::string prefix = "checkpoint-";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return -1;
  if (name.size() - prefix.size() > 18) return -1;
  long long n = 0;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

}  // namespace clintorch::io
