#include "io/pickle.h"

#include <cstring>
#include <unordered_map>

#include "util/error.h"

namespace clintorch::io::pickle {

ValuePtr Value::make(Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

std::string Value::kind_name() const {
  switch (kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kBigInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kTuple:
      return "tuple";
    case Kind::kList:
      return "list";
    case Kind::kDict:
      return "dict";
    case Kind::kSet:
      return "set";
    case Kind::kGlobal:
      return "global " + module + "." + name;
    case Kind::kObject:
      return "object " + module + "." + name;
    case Kind::kExternal:
      return "tensor data";
  }
  return "value";
}

namespace {

using Kind = Value::Kind;

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, size_t& pos, const Callbacks& callbacks,
            const std::string& where)
      : data_(data), size_(size), pos_(pos), callbacks_(callbacks), where_(where) {}

  ValuePtr run() {
    for (;;) {
      op_start_ = pos_;
      const uint8_t op = u8();
      switch (op) {
        case 0x80:
          u8();
          break;  // PROTO
        case 0x95:
          bytes(8);
          break;  // FRAME: a length hint only
        case '.':
          return finish();  // STOP
        case '(':
          marks_.push_back(stack_.size());
          break;  // MARK
        case '0':
          pop();
          break;  // POP
        case '1':
          pop_mark();
          break;  // POP_MARK
        case '2':
          push(top());
          break;  // DUP
        case 'N':
          push(Value::make(Kind::kNone));
          break;
        case 0x88:
          push_bool(true);
          break;  // NEWTRUE
        case 0x89:
          push_bool(false);
          break;  // NEWFALSE
        case 'J':
          push_int(static_cast<int32_t>(le(4)));
          break;  // BININT
        case 'K':
          push_int(static_cast<int64_t>(le(1)));
          break;  // BININT1
        case 'M':
          push_int(static_cast<int64_t>(le(2)));
          break;  // BININT2
        case 0x8a:
          long_n(le(1));
          break;  // LONG1
        case 0x8b:
          long_n(le(4));
          break;  // LONG4
        case 'G':
          binfloat();
          break;  // BINFLOAT
        case 'X':
          push_string(le(4));
          break;  // BINUNICODE
        case 0x8c:
          push_string(le(1));
          break;  // SHORT_BINUNICODE
        case 0x8d:
          push_string(le(8));
          break;  // BINUNICODE8
        case 'T':
          push_string(le(4));
          break;  // BINSTRING
        case 'U':
          push_string(le(1));
          break;  // SHORT_BINSTRING
        case 'B':
          push_string(le(4));
          break;  // BINBYTES
        case 'C':
          push_string(le(1));
          break;  // SHORT_BINBYTES
        case 0x8e:
          push_string(le(8));
          break;  // BINBYTES8
        case 0x96:
          push_string(le(8));
          break;  // BYTEARRAY8
        case ')':
          push(Value::make(Kind::kTuple));
          break;  // EMPTY_TUPLE
        case 't':
          push_sequence(Kind::kTuple, pop_mark());
          break;  // TUPLE
        case 0x85:
          tuple_n(1);
          break;  // TUPLE1
        case 0x86:
          tuple_n(2);
          break;  // TUPLE2
        case 0x87:
          tuple_n(3);
          break;  // TUPLE3
        case ']':
          push(Value::make(Kind::kList));
          break;  // EMPTY_LIST
        case 'l':
          push_sequence(Kind::kList, pop_mark());
          break;  // LIST
        case 'a':
          append({pop()});
          break;  // APPEND
        case 'e':
          append(pop_mark());
          break;  // APPENDS
        case '}':
          push(Value::make(Kind::kDict));
          break;     // EMPTY_DICT
        case 'd': {  // DICT
          auto d = Value::make(Kind::kDict);
          set_items(d, pop_mark());
          push(d);
          break;
        }
        case 's': {  // SETITEM
          auto value = pop();
          auto key = pop();
          set_items(top(), {key, value});
          break;
        }
        case 'u': {  // SETITEMS
          auto items = pop_mark();
          set_items(top(), items);
          break;
        }
        case 0x8f:
          push(Value::make(Kind::kSet));
          break;      // EMPTY_SET
        case 0x90: {  // ADDITEMS
          auto items = pop_mark();
          auto set = top();
          if (set->kind != Kind::kSet) bad("ADDITEMS on a " + set->kind_name());
          set->items.insert(set->items.end(), items.begin(), items.end());
          break;
        }
        case 0x91:
          push_sequence(Kind::kSet, pop_mark());
          break;     // FROZENSET
        case 'c': {  // GLOBAL
          auto g = Value::make(Kind::kGlobal);
          g->module = line();
          g->name = line();
          push(g);
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          auto name = pop();
          auto module = pop();
          if (!module->is_string() || !name->is_string()) bad("STACK_GLOBAL needs two strings");
          auto g = Value::make(Kind::kGlobal);
          g->module = module->text;
          g->name = name->text;
          push(g);
          break;
        }
        case 'R':     // REDUCE
        case 0x81: {  // NEWOBJ
          auto args = pop();
          auto callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 'b': {  // BUILD
          auto state = pop();
          auto obj = top();
          if (obj->kind == Kind::kObject) obj->state = state;
          // A dict subclass (OrderedDict) with instance attributes such as `_metadata`: the state
          // is its __dict__, not items. Nothing to keep.
          break;
        }
        case 'Q': {  // BINPERSID
          auto pid = pop();
          if (!callbacks_.persistent_load) bad("persistent id without a loader");
          push(callbacks_.persistent_load(pid));
          break;
        }
        case 'q':
          memo_put(le(1));
          break;  // BINPUT
        case 'r':
          memo_put(le(4));
          break;  // LONG_BINPUT
        case 0x94:
          memo_put(memo_.size());
          break;  // MEMOIZE
        case 'h':
          memo_get(le(1));
          break;  // BINGET
        case 'j':
          memo_get(le(4));
          break;  // LONG_BINGET
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          bad(std::string("unsupported pickle opcode ") + hex);
        }
      }
    }
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail(where_, what + " at byte " + std::to_string(op_start_) + " of the pickle",
         "the file is corrupt or was not written by torch.save; re-save it, or convert it to "
         "safetensors");
  }

  void need(size_t n) const {
    if (n > size_ || pos_ > size_ - n) bad("the pickle ends early (truncated file)");
  }
  uint8_t u8() {
    need(1);
    return data_[pos_++];
  }
  const uint8_t* bytes(size_t n) {
    need(n);
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(size_t n) {
    const uint8_t* p = bytes(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
  }
  std::string line() {
    size_t end = pos_;
    while (end < size_ && data_[end] != '\n') ++end;
    if (end >= size_) bad("the pickle ends early (truncated file)");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), end - pos_);
    pos_ = end + 1;
    return s;
  }

  void push(ValuePtr v) {
    if (stack_.size() > (1u << 24)) bad("the pickle stack is too deep");
    stack_.push_back(std::move(v));
  }
  ValuePtr pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) bad("stack underflow");
    auto v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  ValuePtr top() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) bad("stack underflow");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) bad("no MARK on the stack");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + mark),
                                std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }

  void push_bool(bool b) {
    auto v = Value::make(Kind::kBool);
    v->boolean = b;
    push(v);
  }
  void push_int(int64_t i) {
    auto v = Value::make(Kind::kInt);
    v->integer = i;
    push(v);
  }
  void long_n(uint64_t n) {
    if (n > (1u << 20)) bad("integer too long");
    const uint8_t* p = bytes(n);
    if (n <= 8) {
      uint64_t u = 0;
      for (size_t i = 0; i < n; ++i) u |= static_cast<uint64_t>(p[i]) << (8 * i);
      if (n > 0 && n < 8 && (p[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend
      int64_t value = 0;
      std::memcpy(&value, &u, sizeof value);
      push_int(value);
      return;
    }
    auto v = Value::make(Kind::kBigInt);
    v->text.assign(reinterpret_cast<const char*>(p), n);
    push(v);
  }
  void binfloat() {
    const uint8_t* p = bytes(8);
    uint64_t u = 0;
    for (size_t i = 0; i < 8; ++i) u = (u << 8) | p[i];  // big-endian
    auto v = Value::make(Kind::kFloat);
    std::memcpy(&v->real, &u, sizeof v->real);
    push(v);
  }
  void push_string(uint64_t n) {
    if (n > size_) bad("string length past the end of the data");
    const uint8_t* p = bytes(n);
    auto v = Value::make(Kind::kString);
    v->text.assign(reinterpret_cast<const char*>(p), n);
    push(v);
  }
  void push_sequence(Kind kind, std::vector<ValuePtr> items) {
    auto v = Value::make(kind);
    v->items = std::move(items);
    push(v);
  }
  void tuple_n(size_t n) {
    std::vector<ValuePtr> items(n);
    for (size_t i = n; i-- > 0;) items[i] = pop();
    push_sequence(Kind::kTuple, std::move(items));
  }
  void append(const std::vector<ValuePtr>& items) {
    auto list = top();
    if (list->kind != Kind::kList && list->kind != Kind::kObject) {
      bad("APPEND on a " + list->kind_name());
    }
    list->items.insert(list->items.end(), items.begin(), items.end());
  }
  void set_items(const ValuePtr& target, const std::vector<ValuePtr>& items) {
    if (target->kind != Kind::kDict && target->kind != Kind::kObject) {
      bad("SETITEM on a " + target->kind_name());
    }
    if (items.size() % 2 != 0) bad("SETITEMS with an odd number of items");
    for (size_t i = 0; i < items.size(); i += 2) target->dict.emplace_back(items[i], items[i + 1]);
  }
  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args) {
    if (callable->kind != Kind::kGlobal) bad("REDUCE on a " + callable->kind_name());
    if (args->kind != Kind::kTuple) bad("REDUCE arguments are a " + args->kind_name());
    if (callable->module == "collections" && callable->name == "OrderedDict") {
      return Value::make(Kind::kDict);
    }
    if (callbacks_.reduce) {
      if (auto v = callbacks_.reduce(callable->module, callable->name, args)) return v;
    }
    auto obj = Value::make(Kind::kObject);
    obj->module = callable->module;
    obj->name = callable->name;
    obj->items = args->items;
    return obj;
  }
  void memo_put(uint64_t index) {
    if (memo_.size() > (1u << 26)) bad("too many memo entries");
    memo_[index] = top();
  }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) bad("memo key " + std::to_string(index) + " is not set");
    push(it->second);
  }
  ValuePtr finish() {
    if (!marks_.empty()) bad("MARK left open at STOP");
    if (stack_.size() != 1) bad("STOP with " + std::to_string(stack_.size()) + " values");
    return stack_.back();
  }

  const uint8_t* data_;
  size_t size_;
  size_t& pos_;
  const Callbacks& callbacks_;
  const std::string& where_;
  size_t op_start_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
};

}  // namespace

ValuePtr unpickle(const uint8_t* data, size_t size, size_t& pos, const Callbacks& callbacks,
                  const std::string& where) {
  return Unpickler(data, size, pos, callbacks, where).run();
}

}  // namespace clintorch::io::pickle
