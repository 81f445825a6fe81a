// A minimal, bounds-checked unpickler for the pickles that torch.save writes (protocol 2, plus the
// protocol 3-5 opcodes a newer Python may emit). It builds a tree of plain values; it never imports
// or runs anything: callables (GLOBAL) are names, and what a REDUCE means is decided by the caller
// (see torch_bin.cpp). Malformed input throws clintorch::Error naming the file and the byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace clintorch::io::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  enum class Kind {
    kNone,
    kBool,
    kInt,     // fits in int64
    kBigInt,  // LONG1/LONG4 that does not fit: `text` holds the little-endian two's complement
              // bytes
    kFloat,
    kString,  // str (UTF-8) or bytes
    kTuple,
    kList,
    kDict,  // dict or collections.OrderedDict, in insertion order
    kSet,
    kGlobal,    // a name `module`.`name` (GLOBAL / STACK_GLOBAL)
    kObject,    // the result of REDUCE/NEWOBJ on a global the caller did not interpret
    kExternal,  // a value the caller made (a storage, a tensor): `integer` indexes its table
  };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0.0;
  std::string text;                                 // kString, kBigInt
  std::string module, name;                         // kGlobal, kObject (the callable)
  std::vector<ValuePtr> items;                      // kTuple, kList, kSet; kObject: its args
  std::vector<std::pair<ValuePtr, ValuePtr>> dict;  // kDict; kObject: SETITEMS applied to it
  ValuePtr state;                                   // kObject: BUILD state
  int external_tag = 0;                             // kExternal: which table `integer` indexes

  static ValuePtr make(Kind kind);
  bool is_int() const { return kind == Kind::kInt; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_sequence() const { return kind == Kind::kTuple || kind == Kind::kList; }
  // "tuple", "int", ... for error messages.
  std::string kind_name() const;
};

struct Callbacks {
  // BINPERSID/PERSID: turns a persistent id (a tuple for torch.save) into a value. Required when
  // the pickle holds persistent ids.
  std::function<ValuePtr(const ValuePtr& pid)> persistent_load;
  // REDUCE/NEWOBJ of the global `module.name` with `args`: returns the result, or nullptr to get a
  // generic kObject. collections.OrderedDict is built in (an empty kDict).
  std::function<ValuePtr(const std::string& module, const std::string& name, const ValuePtr& args)>
      reduce;
};

// Reads one pickle that starts at data[pos] and ends with STOP; on return pos is one past STOP.
// `where` names the file (and record) in error messages.
ValuePtr unpickle(const uint8_t* data, size_t size, size_t& pos, const Callbacks& callbacks,
                  const std::string& where);

}  // namespace clintorch::io::pickle
