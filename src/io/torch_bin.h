// Reader for files written by torch.save of a state_dict (pytorch_model.bin): the zip format
// (torch >= 1.6: ARCHIVE/data.pkl + ARCHIVE/data/KEY records) and the legacy format (a sequence
// of pickles followed by the raw storages, torch < 1.6, e.g. Bio_ClinicalBERT). The pickle is read
// by our own unpickler (pickle.h), which understands only what a state_dict holds: an (Ordered)dict
// of str -> tensor built by torch._utils._rebuild_tensor_v2. Nothing is executed.
#pragma once

#include <memory>
#include <vector>

#include "io/mapped_file.h"
#include "io/tensor_store.h"

namespace clintorch::io {

// True when the file starts like a torch.save file (zip or legacy pickle).
bool looks_like_torch_save(const MappedFile& file);

// The tensors of the state_dict in `file`. Stored (uncompressed) records point into the mapping;
// compressed ones are inflated into owned buffers. Throws clintorch::Error naming the file and the
// tensor on any inconsistency (record missing, storage too small for a view, unknown storage type).
std::vector<TensorEntry> read_torch_bin(const std::shared_ptr<const MappedFile>& file);

}  // namespace clintorch::io
