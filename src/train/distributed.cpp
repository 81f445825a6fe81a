#include "train/distributed.h"

#include <ATen/ATen.h>
#include <sched.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <dlfcn.h>
#include <unistd.h>

#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <optional>
#include <thread>

#include "util/error.h"
#include "util/log.h"

namespace clintorch::train {

namespace {

std::optional<std::string> env_value(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int env_int(const char* name, const std::string& value, int min, int max) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value.c_str(), &end, 10);
  // Slurm writes counts per node as "2(x3)": the leading number is the one meant.
  const bool slurm_repeat = end != nullptr && *end == '(';
  if (errno != 0 || end == value.c_str() || (*end != '\0' && !slurm_repeat) || v < min || v > max) {
    fail(std::string("environment variable ") + name,
         "'" + value + "' is not a whole number from " + std::to_string(min) + " to " +
             std::to_string(max),
         "launch with torchrun (it sets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, "
         "MASTER_ADDR and MASTER_PORT), or unset it to train in one process");
  }
  return static_cast<int>(v);
}

int env_int(const char* name, int min, int max, int fallback) {
  const auto v = env_value(name);
  return v ? env_int(name, *v, min, max) : fallback;
}

void require_master(LaunchEnv& e) {
  const auto addr = env_value("MASTER_ADDR");
  const auto port = env_value("MASTER_PORT");
  if (!addr || !port) {
    fail(std::string("environment variable ") + (addr ? "MASTER_PORT" : "MASTER_ADDR"),
         "is not set, but WORLD_SIZE is " + std::to_string(e.world_size) +
             ": the processes cannot find each other",
         "torchrun sets it; under Slurm export MASTER_ADDR=$(scontrol show hostnames "
         "\"$SLURM_JOB_NODELIST\" | head -n 1) and a free MASTER_PORT before srun");
  }
  e.master_addr = *addr;
  e.master_port = env_int("MASTER_PORT", *port, 1, 65535);
}

std::string first_line(const std::string& s) {
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

std::string describe(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) {
    return first_line(c->what_without_backtrace());
  }
  return first_line(e.what());
}

int64_t bytes_of(const at::Tensor& t) {
  return t.numel() * static_cast<int64_t>(t.element_size());
}

// Buckets of `order` (indices into `tensors`): consecutive runs of one dtype and device of up to
// 25 MB (a larger tensor is a bucket alone), one collective each.
std::vector<std::vector<size_t>> plan_buckets(const std::vector<at::Tensor>& tensors,
                                              const std::vector<size_t>& order) {
  constexpr int64_t kBucketBytes = 25 << 20;
  std::vector<std::vector<size_t>> buckets;
  int64_t bytes = 0;
  for (const size_t i : order) {
    const at::Tensor& t = tensors[i];
    const bool fits = !buckets.empty() && bytes + bytes_of(t) <= kBucketBytes &&
                      tensors[buckets.back().front()].scalar_type() == t.scalar_type() &&
                      tensors[buckets.back().front()].device() == t.device();
    if (!fits) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(i);
    bytes += bytes_of(t);
  }
  return buckets;
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
T take(const std::string& in, size_t& pos) {
  if (pos + sizeof(T) > in.size()) throw std::runtime_error("unpack_tensors: truncated input");
  T v;
  std::memcpy(&v, in.data() + pos, sizeof v);
  pos += sizeof v;
  return v;
}

}  // namespace

LaunchEnv launch_env_from_environment() {
  LaunchEnv e;
  if (env_value("RANK") || env_value("WORLD_SIZE")) {
    if (!env_value("RANK") || !env_value("WORLD_SIZE")) {
      fail(std::string("environment variable ") + (env_value("RANK") ? "WORLD_SIZE" : "RANK"),
           "is not set, but " + std::string(env_value("RANK") ? "RANK" : "WORLD_SIZE") + " is",
           "set both (torchrun does), or neither to train in one process");
    }
    e.launcher = "torchrun";
    e.world_size = env_int("WORLD_SIZE", 1, 1 << 20, 1);
    e.rank = env_int("RANK", 0, e.world_size - 1, 0);
    e.local_world_size = env_int("LOCAL_WORLD_SIZE", 1, e.world_size, e.world_size);
    e.local_rank = env_int("LOCAL_RANK", 0, e.local_world_size - 1, e.rank % e.local_world_size);
    e.agent_store = env_value("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  } else if (env_value("SLURM_PROCID") &&
             (env_value("SLURM_STEP_NUM_TASKS") || env_value("SLURM_NTASKS"))) {
    e.launcher = "slurm";
    const char* tasks = env_value("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS";
    e.world_size = env_int(tasks, 1, 1 << 20, 1);
    e.rank = env_int("SLURM_PROCID", 0, e.world_size - 1, 0);
    const char* per_node = env_value("SLURM_STEP_TASKS_PER_NODE") ? "SLURM_STEP_TASKS_PER_NODE"
                                                                  : "SLURM_NTASKS_PER_NODE";
    e.local_world_size = env_int(per_node, 1, e.world_size, e.world_size);
    e.local_rank = env_int("SLURM_LOCALID", 0, e.local_world_size - 1, 0);
  }
  if (e.world_size > 1) {
    require_master(e);
    e.store_prefix = "clintorch/" + env_value("TORCHELASTIC_RUN_ID").value_or("run") + "/" +
                     env_value("TORCHELASTIC_RESTART_COUNT").value_or("0");
  }
  return e;
}

int default_threads_per_rank(const LaunchEnv& env) {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
  return std::max(1, cpus / std::max(1, env.local_world_size));
}

// ---------------------------------------------------------------------------- process group

struct ProcessGroup::Impl {
  LaunchEnv env;
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  // CUDA tensors: c10d's NCCL backend from libclintorch_nccl.so, opened on first use; null when
  // the library is absent (Gloo then reduces CUDA tensors through host memory).
  c10::intrusive_ptr<c10d::Backend> nccl;
  bool nccl_tried = false;

  c10d::Backend& backend_for(const at::Tensor& t) {
    if (!t.is_cuda()) return *gloo;
    if (!nccl_tried) {
      nccl_tried = true;
      nccl = open_nccl();
    }
    return nccl ? *nccl : static_cast<c10d::Backend&>(*gloo);
  }

  // The NCCL plugin beside the executable (a build folder), else in ../lib (an installed
  // prefix), or CLINTORCH_NCCL_LIBRARY.
  c10::intrusive_ptr<c10d::Backend> open_nccl() {
    std::string path;
    if (const char* env = std::getenv("CLINTORCH_NCCL_LIBRARY")) {
      path = env;
    } else {
      char exe[4096];
      const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
      if (n > 0) {
        exe[n] = '\0';
        const std::string dir = std::string(exe).substr(0, std::string(exe).rfind('/') + 1);
        path = dir + "libclintorch_nccl.so";
        if (::access(path.c_str(), F_OK) != 0 &&
            ::access((dir + "../lib/libclintorch_nccl.so").c_str(), F_OK) == 0) {
          path = dir + "../lib/libclintorch_nccl.so";
        }
      }
    }
    void* lib = path.empty() ? nullptr : dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    using Create = c10d::Backend* (*)(c10d::Store*, int, int, int64_t);
    using Error = const char* (*)();
    auto create =
        lib ? reinterpret_cast<Create>(dlsym(lib, "clintorch_create_nccl_backend")) : nullptr;
    if (create == nullptr) {
      if (env.rank == 0) {
        log_warning("the NCCL backend library " + path + " cannot be opened (" +
                    std::string(lib ? "no entry point" : dlerror()) +
                    "): CUDA gradients are reduced by Gloo through host memory, which is slower");
      }
      return {};
    }
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("nccl", store);
    c10d::Backend* made = create(prefixed.get(), env.rank, env.world_size, timeout.count());
    if (made == nullptr) {
      auto error = reinterpret_cast<Error>(dlsym(lib, "clintorch_nccl_error"));
      fail(where(),
           std::string("the NCCL backend cannot be created: ") +
               (error ? first_line(error()) : "unknown error"),
           "check the CUDA devices (one per process of a node) and NCCL_DEBUG=INFO output");
    }
    return c10::intrusive_ptr<c10d::Backend>::reclaim(made);
  }

  std::string where() const {
    return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size);
  }

  template <typename F>
  void run(const std::string& op, const std::string& what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      fail(where(), op + " of " + what + " failed: " + describe(e),
           "another rank stopped (see its log) or did not arrive within distributed.timeout_s (" +
               std::to_string(timeout.count() / 1000) + " s)");
    }
  }
};

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;

std::shared_ptr<ProcessGroup> ProcessGroup::create(const LaunchEnv& env,
                                                   std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->timeout = timeout;
  const std::string endpoint = env.master_addr + ":" + std::to_string(env.master_port);
  impl->run("rendezvous", "the store at " + endpoint, [&] {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(env.master_port);
    so.isServer = !env.agent_store && env.rank == 0;
    so.numWorkers = env.agent_store ? std::nullopt : std::optional<size_t>(env.world_size);
    so.waitWorkers = false;
    so.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    impl->store = c10::make_intrusive<c10d::PrefixStore>(env.store_prefix, tcp);
  });
  impl->run("connecting", "the Gloo process group", [&] {
    auto options = c10d::ProcessGroupGloo::Options::create_default(timeout);
    impl->gloo =
        c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, env.rank, env.world_size, options);
  });
  return std::shared_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

int ProcessGroup::rank() const {
  return impl_->env.rank;
}
int ProcessGroup::size() const {
  return impl_->env.world_size;
}
const LaunchEnv& ProcessGroup::env() const {
  return impl_->env;
}
std::chrono::milliseconds ProcessGroup::timeout() const {
  return impl_->timeout;
}

void ProcessGroup::all_reduce_sum(std::vector<at::Tensor>& tensors, const std::string& what) {
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  for (const auto& bucket : plan_buckets(tensors, order)) {
    std::vector<at::Tensor> group;
    for (const size_t i : bucket) group.push_back(tensors[i]);
    all_reduce_sum_async(std::move(group), what)->wait();
  }
}

namespace {

class PendingWork : public ProcessGroup::Pending {
 public:
  PendingWork(c10::intrusive_ptr<c10d::Work> work, std::function<void(std::function<void()>)> run,
              std::vector<at::Tensor> tensors)
      : work_(std::move(work)), run_(std::move(run)), tensors_(std::move(tensors)) {}
  void wait() override {
    if (!work_) return;
    auto work = std::move(work_);
    run_([&] { work->wait(); });
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  std::function<void(std::function<void()>)> run_;
  std::vector<at::Tensor> tensors_;  // alive until the work is done
};

}  // namespace

std::unique_ptr<ProcessGroup::Pending> ProcessGroup::all_reduce_sum_async(
    std::vector<at::Tensor> tensors, const std::string& what) {
  c10::intrusive_ptr<c10d::Work> work;
  impl_->run("all-reduce", what, [&] {
    c10d::Backend& backend = impl_->backend_for(tensors.front());
    work = tensors.size() == 1 ? backend.allreduce(tensors) : backend.allreduce_coalesced(tensors);
  });
  Impl* impl = impl_.get();
  return std::make_unique<PendingWork>(
      std::move(work), [impl, what](std::function<void()> f) { impl->run("all-reduce", what, f); },
      std::move(tensors));
}

// ---------------------------------------------------------------------------- gradient reducer

struct GradientReducer::State {
  std::shared_ptr<ProcessGroup> group;
  std::vector<at::Tensor> params;
  std::vector<std::vector<size_t>> buckets;  // indices into params, in launch order
  std::vector<size_t> bucket_of;             // param index -> bucket
  std::vector<size_t> pending;               // per bucket: gradients still to come
  size_t next = 0;                           // the next bucket to launch
  bool armed = false;
  std::string what;
  std::vector<std::unique_ptr<ProcessGroup::Pending>> works;

  void launch(size_t b, bool fill_missing) {
    std::vector<at::Tensor> grads;
    for (const size_t i : buckets[b]) {
      at::Tensor& p = params[i];
      if (!p.grad().defined() && fill_missing) p.mutable_grad() = at::zeros_like(p);
      grads.push_back(p.grad());
    }
    works.push_back(group->all_reduce_sum_async(grads, what));
  }
  // Launches the ready buckets at the head of the order.
  void advance() {
    while (next < buckets.size() && pending[next] == 0) launch(next++, false);
  }
  void on_grad(size_t i) {
    if (!armed) return;
    const size_t b = bucket_of[i];
    if (pending[b] > 0 && --pending[b] == 0) advance();
  }
};

namespace {

struct ReadyHook : torch::autograd::PostAccumulateGradHook {
  ReadyHook(std::weak_ptr<GradientReducer::State> state, size_t index)
      : state_(std::move(state)), index_(index) {}
  void operator()(const torch::autograd::Variable&) override {
    if (auto s = state_.lock()) s->on_grad(index_);
  }
  std::weak_ptr<GradientReducer::State> state_;
  size_t index_;
};

}  // namespace

GradientReducer::GradientReducer(std::shared_ptr<ProcessGroup> group,
                                 const std::vector<at::Tensor>& params)
    : state_(std::make_shared<State>()) {
  state_->group = std::move(group);
  state_->params = params;
  state_->bucket_of.assign(params.size(), 0);
  std::vector<size_t> reverse(params.size());  // the order backward finishes them
  std::iota(reverse.rbegin(), reverse.rend(), size_t{0});
  state_->buckets = plan_buckets(params, reverse);
  for (size_t b = 0; b < state_->buckets.size(); ++b) {
    for (const size_t k : state_->buckets[b]) {
      state_->bucket_of[k] = b;
      torch::autograd::impl::set_post_acc_grad_hooks(
          params[k], std::make_unique<ReadyHook>(std::weak_ptr<State>(state_), k));
    }
  }
}

GradientReducer::~GradientReducer() {
  for (auto& p : state_->params) {
    torch::autograd::impl::set_post_acc_grad_hooks(p, nullptr);
  }
}

void GradientReducer::arm(bool on, const std::string& what) {
  State& s = *state_;
  s.armed = on;
  s.what = what;
  if (!on) return;
  s.next = 0;
  s.works.clear();
  s.pending.clear();
  for (const auto& b : s.buckets) s.pending.push_back(b.size());
}

void GradientReducer::finish() {
  State& s = *state_;
  s.armed = false;
  while (s.next < s.buckets.size()) s.launch(s.next++, true);
  for (auto& w : s.works) w->wait();
  s.works.clear();
}

void ProcessGroup::all_reduce_max(at::Tensor& tensor, const std::string& what) {
  std::vector<at::Tensor> one{tensor};
  impl_->run("all-reduce", what, [&] {
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::MAX;
    impl_->gloo->allreduce(one, o)->wait();
  });
}

void ProcessGroup::broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what) {
  impl_->run("broadcast", what, [&] {
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      impl_->backend_for(t).broadcast(one, o)->wait();
    }
  });
}

void ProcessGroup::barrier(const std::string& what) {
  impl_->run("barrier", what, [&] { impl_->gloo->barrier()->wait(); });
}

std::vector<std::string> ProcessGroup::all_gather_bytes(const std::string& mine,
                                                        const std::string& what) {
  const int n = size();
  std::vector<at::Tensor> size_in{at::full({1}, static_cast<int64_t>(mine.size()), at::kLong)};
  std::vector<std::vector<at::Tensor>> size_out(1);
  for (int r = 0; r < n; ++r) size_out[0].push_back(at::empty({1}, at::kLong));
  impl_->run("all-gather", what + " (sizes)",
             [&] { impl_->gloo->allgather(size_out, size_in)->wait(); });
  int64_t longest = 1;
  for (const auto& t : size_out[0]) longest = std::max(longest, t.item<int64_t>());
  at::Tensor in = at::zeros({longest}, at::kByte);
  std::memcpy(in.data_ptr(), mine.data(), mine.size());
  std::vector<at::Tensor> data_in{in};
  std::vector<std::vector<at::Tensor>> data_out(1);
  for (int r = 0; r < n; ++r) data_out[0].push_back(at::empty({longest}, at::kByte));
  impl_->run("all-gather", what, [&] { impl_->gloo->allgather(data_out, data_in)->wait(); });
  std::vector<std::string> out;
  for (int r = 0; r < n; ++r) {
    const auto len = static_cast<size_t>(size_out[0][static_cast<size_t>(r)].item<int64_t>());
    out.emplace_back(static_cast<const char*>(data_out[0][static_cast<size_t>(r)].data_ptr()), len);
  }
  return out;
}

// ---------------------------------------------------------------------------- tensor bytes

std::string pack_tensors(const std::vector<at::Tensor>& tensors) {
  std::string out;
  put<uint32_t>(out, static_cast<uint32_t>(tensors.size()));
  for (const auto& t : tensors) {
    put<uint8_t>(out, t.defined() ? 1 : 0);
    if (!t.defined()) continue;
    const at::Tensor c = t.detach().to(at::kCPU).contiguous();
    put<int16_t>(out, static_cast<int16_t>(c.scalar_type()));
    put<uint32_t>(out, static_cast<uint32_t>(c.dim()));
    for (const int64_t s : c.sizes()) put<int64_t>(out, s);
    out.append(static_cast<const char*>(c.const_data_ptr()), static_cast<size_t>(bytes_of(c)));
  }
  return out;
}

std::vector<at::Tensor> unpack_tensors(const std::string& bytes) {
  size_t pos = 0;
  const auto n = take<uint32_t>(bytes, pos);
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < n; ++i) {
    if (take<uint8_t>(bytes, pos) == 0) {
      out.emplace_back();
      continue;
    }
    const auto type = static_cast<c10::ScalarType>(take<int16_t>(bytes, pos));
    const auto dims = take<uint32_t>(bytes, pos);
    std::vector<int64_t> sizes;
    for (uint32_t d = 0; d < dims; ++d) sizes.push_back(take<int64_t>(bytes, pos));
    at::Tensor t = at::empty(sizes, at::TensorOptions().dtype(type));
    const auto len = static_cast<size_t>(bytes_of(t));
    if (pos + len > bytes.size()) throw std::runtime_error("unpack_tensors: truncated input");
    std::memcpy(t.data_ptr(), bytes.data() + pos, len);
    pos += len;
    out.push_back(t);
  }
  return out;
}

}  // namespace clintorch::train
