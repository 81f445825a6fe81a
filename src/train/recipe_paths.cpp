// Path values of recipes: ${VAR}, ~, venv:PKG/SUB (the project venv), HF model ids, and
// relative paths against the recipe's folder or the current directory.
#include <cstdlib>
#include <filesystem>
#include <set>

#include "io/model_path.h"
#include "train/recipe_values.h"

namespace clintorch::train::recipe_detail {
namespace {

// Expands ${VAR} from the environment.
std::string expand_env(const std::string& raw, const Ctx& c) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '{') {
      const size_t close = raw.find('}', i + 2);
      if (close == std::string::npos) c.error("unclosed '${' in '" + raw + "'");
      const std::string name = raw.substr(i + 2, close - i - 2);
      const char* value = std::getenv(name.c_str());
      if (!value) {
        c.error("environment variable " + name + " is not set",
                "export " + name + "=... before running, or write the path itself");
      }
      out += value;
      i = close;
    } else {
      out += raw[i];
    }
  }
  return out;
}

// The site-packages folders of the project venv: $CLINTORCH_VENV, $VIRTUAL_ENV, then `.venv` in
// `start` or a parent, in the current directory or a parent, and in the folder of the running
// executable or a parent (build/clintorch finds the checkout's .venv).
std::vector<fs::path> venv_site_packages(const fs::path& start, std::vector<std::string>& tried) {
  std::vector<fs::path> venvs;
  for (const char* var : {"CLINTORCH_VENV", "VIRTUAL_ENV"}) {
    if (const char* v = std::getenv(var)) venvs.emplace_back(v);
  }
  std::vector<fs::path> roots = {fs::absolute(start), fs::current_path()};
  std::error_code exe_ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", exe_ec);
  if (!exe_ec && exe.has_parent_path()) roots.push_back(exe.parent_path());
  std::set<std::string> seen;
  for (fs::path dir : roots) {
    for (;;) {
      if (seen.insert((dir / ".venv").string()).second) venvs.push_back(dir / ".venv");
      if (!dir.has_parent_path() || dir.parent_path() == dir) break;
      dir = dir.parent_path();
    }
  }
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& venv : venvs) {
    tried.push_back(venv.string());
    const fs::path lib = venv / "lib";
    if (!fs::is_directory(lib, ec)) continue;
    for (const auto& entry : fs::directory_iterator(lib, ec)) {
      const fs::path site = entry.path() / "site-packages";
      if (entry.path().filename().string().rfind("python", 0) == 0 && fs::is_directory(site, ec)) {
        out.push_back(site);
      }
    }
  }
  return out;
}

fs::path resolve_venv(const std::string& spec, const Ctx& c) {
  const std::string rest = spec.substr(5);  // after "venv:"
  const std::string package = rest.substr(0, rest.find('/'));
  if (package.empty()) c.error("'" + spec + "' names no package", "write venv:PACKAGE/SUBFOLDER");
  std::vector<std::string> tried;
  for (const auto& site : venv_site_packages(c.base_dir, tried)) {
    if (fs::is_directory(site / package)) return (site / rest).lexically_normal();
  }
  c.error("package '" + package + "' not found in a project venv (looked in " +
              std::to_string(tried.size()) + " places, from " + tried.front() + ")",
          "run 'make setup' to create .venv, or set CLINTORCH_VENV to the venv folder");
}

}  // namespace

std::string resolve_path(const std::string& raw, const Spec& spec, const Ctx& c) {
  if (raw.empty()) return raw;
  if (!spec.path_keyword.empty() && raw == spec.path_keyword) return raw;
  std::string text = expand_env(raw, c);
  if (text.rfind("venv:", 0) == 0) return resolve_venv(text, c).string();
  if (text == "~" || text.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (!home) c.error("'~' used but HOME is not set");
    text = std::string(home) + text.substr(1);
  }
  fs::path p(text);
  if (p.is_relative()) p = (spec.relative_to_cwd ? fs::current_path() : c.base_dir) / p;
  std::error_code ec;
  if (spec.model_id && !fs::exists(p, ec) && io::looks_like_model_id(text)) {
    // Not a folder here: a HF model id (ORG/NAME[@REV]) from the local HF cache, or an Error
    // saying how to download it.
    return io::resolve_model_dir(text, c.where + ": " + c.key);
  }
  return p.lexically_normal().string();
}

}  // namespace clintorch::train::recipe_detail
