// Writes that survive a power loss, and folders that say whether they are complete.
//
// A folder is made durable by: every file fsynced, then MANIFEST (manifest.json: each file's size
// and CRC-32C) written and fsynced last, then the folder fsynced, then (by the caller) renamed
// into place and the parent fsynced. A folder whose manifest is missing or does not match its
// files is incomplete or damaged, and verify_manifest says which file and how.
//
//   io::seal_folder(tmp);                      // fsync files, write + fsync the manifest
//   std::filesystem::rename(tmp, final);
//   io::fsync_path(final.parent_path());
//   if (auto problem = io::verify_manifest(final)) ...;   // "model.safetensors: 1234 bytes, ..."
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>

namespace clintorch::io {

inline constexpr char kManifestName[] = "manifest.json";

// fsync of a file or a folder; throws clintorch::Error naming the path (ENOSPC, EIO, ...).
void fsync_path(const std::string& path);
// fflush + fsync of an open stream (`path` names it in errors).
void fsync_stream(std::FILE* file, const std::string& path);
// Renames `from` over `to` (same folder) and fsyncs the folder: the last step of a durable write.
void rename_durable(const std::string& from, const std::string& to);

// Deletes folder `dir` so that an interruption never leaves it half-deleted under its own name:
// it is renamed to a hidden .NAME.deleted.tmp first, then removed. Errors go to `ec`.
void remove_folder(const std::string& dir, std::error_code& ec);
// Puts the complete (sealed) folder `from` in place of `to`, in the same parent: an existing `to`
// is renamed aside (.NAME.deleted.tmp) and removed only after `from` has its name; the parent is
// synced. Throws Error when `from` cannot be renamed.
void replace_folder(const std::string& from, const std::string& to);

// CRC-32C (Castagnoli) of `n` bytes, continuing from `crc` (0 to start).
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);
// CRC-32C of a whole file; throws Error when it cannot be read.
uint32_t crc32c_file(const std::string& path, uint64_t* size = nullptr);

// fsyncs every regular file of `dir` (recursively), writes MANIFEST with their sizes and
// checksums, fsyncs it and the folder. Throws Error on any write failure (e.g. a full disk).
void seal_folder(const std::string& dir);

// nullopt when `dir`'s manifest exists and every file it names has its size and checksum;
// otherwise what is wrong ("no manifest.json (...)", "optimizer.safetensors: 120 bytes, the
// manifest says 4096", ...).
std::optional<std::string> verify_manifest(const std::string& dir);

}  // namespace clintorch::io
