// Data-parallel training across processes: the launch environment (torchrun, Slurm, or set by
// hand) and a process group on PyTorch's c10d (TCPStore rendezvous, the Gloo backend).
//
//   const LaunchEnv env = launch_env_from_environment();   // RANK, WORLD_SIZE, ... or Slurm's
//   if (env.world_size > 1) {
//     auto group = ProcessGroup::create(env, std::chrono::seconds(1800));
//     group->all_reduce_sum(grads, "gradients of step 12");
//   }
//
// Every collective names what it was for; when a rank dies or a collective outlives the timeout,
// the others throw clintorch::Error naming their rank and that operation (no hang). The header is
// light: c10d stays inside distributed.cpp.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace clintorch::train {

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  // The rendezvous store: hosted by rank 0, or by torchrun's agent (agent_store).
  std::string master_addr;
  int master_port = 0;
  bool agent_store = false;
  // Keys of this attempt live under this prefix (torchrun restarts reuse the agent's store).
  std::string store_prefix = "clintorch";
  // "torchrun" (RANK/WORLD_SIZE...), "slurm" (SLURM_PROCID/SLURM_NTASKS...) or "" (one process).
  std::string launcher;

  bool distributed() const { return world_size > 1; }
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT (torchrun, or
// set by hand), else SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE with
// MASTER_ADDR/MASTER_PORT (srun). Without them: one process. Throws clintorch::Error naming the
// variable when a value is malformed or inconsistent.
LaunchEnv launch_env_from_environment();

// The CPU threads each rank uses when training.threads is 0: the CPUs this process may run on
// divided by the processes of its node (at least 1).
int default_threads_per_rank(const LaunchEnv& env);

class ProcessGroup {
 public:
  // Joins the rendezvous of `env` and builds the Gloo backend. Throws clintorch::Error when the
  // store cannot be reached or not every rank arrives within `timeout`.
  static std::shared_ptr<ProcessGroup> create(const LaunchEnv& env,
                                              std::chrono::milliseconds timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int size() const;
  const LaunchEnv& env() const;
  std::chrono::milliseconds timeout() const;

  // In-place sums over all ranks, in buckets of about 25 MB (tensors of one dtype and device).
  void all_reduce_sum(std::vector<at::Tensor>& tensors, const std::string& what);
  // Starts an in-place sum of `tensors` (one dtype and device) and returns its completion: call
  // wait() before reading them. Collectives must be started in the same order on every rank.
  class Pending {
   public:
    virtual ~Pending() = default;
    virtual void wait() = 0;
  };
  std::unique_ptr<Pending> all_reduce_sum_async(std::vector<at::Tensor> tensors,
                                                const std::string& what);
  // In-place maximum of one tensor.
  void all_reduce_max(at::Tensor& tensor, const std::string& what);
  // Every rank's tensors replaced by rank `root`'s.
  void broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what);
  void barrier(const std::string& what);
  // Every rank's bytes, in rank order (sizes may differ).
  std::vector<std::string> all_gather_bytes(const std::string& mine, const std::string& what);

 private:
  struct Impl;
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sums the gradients of `params` over the ranks while the backward pass still runs: the
// parameters are grouped into buckets of about 25 MB in reverse order (the order the backward
// pass finishes them), and a bucket's all-reduce starts as soon as each of its gradients has been
// accumulated (a post-accumulate-grad hook), in bucket order on every rank. Armed only for the
// last micro-batch of a step; finish() starts the buckets not started yet (gradients a rank did
// not produce count as zeros) and waits for all of them.
class GradientReducer {
 public:
  GradientReducer(std::shared_ptr<ProcessGroup> group, const std::vector<at::Tensor>& params);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Start reducing during the next backward pass (false: accumulate only).
  void arm(bool on, const std::string& what);
  void finish();

  struct State;  // defined in distributed.cpp (its hooks hold it weakly)

 private:
  std::shared_ptr<State> state_;
};

// Tensors to bytes and back (dtype, shape, contents; undefined tensors kept as such), for
// all_gather_bytes. CPU copies are made of tensors elsewhere.
std::string pack_tensors(const std::vector<at::Tensor>& tensors);
std::vector<at::Tensor> unpack_tensors(const std::string& bytes);

}  // namespace clintorch::train
