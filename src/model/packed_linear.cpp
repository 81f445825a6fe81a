#include "model/packed_linear.h"

#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

namespace clintorch::model {

namespace {

// The operator with a CPU kernel, or nullopt.
std::optional<c10::OperatorHandle> find_op(const char* name, const char* overload) {
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (handle && !handle->hasKernelForDispatchKey(c10::DispatchKey::CPU)) handle.reset();
  return handle;
}

struct Ops {
  std::optional<c10::OperatorHandle> reorder;    // mkldnn::_reorder_linear_weight
  std::optional<c10::OperatorHandle> pointwise;  // mkldnn::_linear_pointwise
  std::optional<c10::OperatorHandle> binary;     // mkldnn::_linear_pointwise.binary
  bool ok() const { return reorder && pointwise && binary; }
};

const Ops& ops() {
  static const Ops kOps = [] {
    Ops o;
    // CLINTORCH_PACKED_LINEAR=0 turns the path off (A/B measurements, a suspected oneDNN bug).
    const char* env = std::getenv("CLINTORCH_PACKED_LINEAR");
    if (env != nullptr && std::string(env) == "0") return o;
    if (!at::hasMKLDNN()) return o;
    o.reorder = find_op("mkldnn::_reorder_linear_weight", "");
    o.pointwise = find_op("mkldnn::_linear_pointwise", "");
    o.binary = find_op("mkldnn::_linear_pointwise", "binary");
    return o;
  }();
  return kOps;
}

at::Tensor call(const c10::OperatorHandle& op, torch::jit::Stack stack) {
  op.callBoxed(&stack);
  return stack.at(0).toTensor();
}

// The dtype torch::linear would compute in: the autocast dtype under CPU autocast, else x's.
c10::ScalarType compute_dtype(const at::Tensor& x) {
  if (at::autocast::is_autocast_enabled(at::kCPU))
    return at::autocast::get_autocast_dtype(at::kCPU);
  return x.scalar_type();
}

}  // namespace

bool PackedLinear::available() {
  return ops().ok();
}

bool PackedLinear::usable(const at::Tensor& x, bool training) {
  if (training || at::GradMode::is_enabled() || !x.defined() || !x.is_cpu()) return false;
  const c10::ScalarType dtype = compute_dtype(x);
  if (dtype != at::kFloat && dtype != at::kBFloat16) return false;
  return ops().ok();
}

at::Tensor PackedLinear::run(const at::Tensor& x, const std::vector<const at::Tensor*>& weights,
                             const std::vector<const at::Tensor*>& biases, Epilogue epilogue,
                             const at::Tensor& residual) {
  const c10::ScalarType dtype = compute_dtype(x);
  Key key;
  key.dtype = dtype;
  for (const at::Tensor* w : weights) {
    key.data.push_back(w->data_ptr());
    key.versions.push_back(w->_version());
  }
  for (const at::Tensor* b : biases) {
    key.data.push_back(b->data_ptr());
    key.versions.push_back(b->_version());
  }
  at::Tensor weight, bias;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!(key == key_) || !weight_.defined()) {
      std::vector<at::Tensor> parts, bias_parts;
      for (const at::Tensor* w : weights) parts.push_back(w->detach());
      for (const at::Tensor* b : biases) bias_parts.push_back(b->detach());
      const at::Tensor dense =
          (parts.size() == 1 ? parts[0] : torch::cat(parts)).to(dtype).contiguous();  // (out, in)
      weight_ = call(*ops().reorder, {dense, c10::IValue()});
      bias_ = bias_parts.empty() ? at::Tensor()
                                 : (bias_parts.size() == 1 ? bias_parts[0] : torch::cat(bias_parts))
                                       .to(dtype)
                                       .contiguous();  // (out)
      key_ = key;
    }
    weight = weight_;
    bias = bias_;
  }
  const int64_t in_features = x.size(-1);
  std::vector<int64_t> out_shape = x.sizes().vec();
  const at::Tensor input = x.to(dtype).reshape({-1, in_features}).contiguous();  // (rows, in)
  const std::optional<at::Tensor> b =
      bias.defined() ? std::optional<at::Tensor>(bias) : std::nullopt;
  if (epilogue == Epilogue::kAdd) {
    const at::Tensor other = residual.to(dtype).reshape({input.size(0), -1}).contiguous();
    at::Tensor y = call(*ops().binary, {input, other, weight, b, std::string("add")});
    out_shape.back() = y.size(1);
    return y.view(out_shape);
  }
  const char* attr = epilogue == Epilogue::kNone   ? "none"
                     : epilogue == Epilogue::kRelu ? "relu"
                                                   : "gelu";
  const c10::IValue algorithm = epilogue == Epilogue::kGeluTanh ? c10::IValue(std::string("tanh"))
                                : epilogue == Epilogue::kGelu   ? c10::IValue(std::string("none"))
                                                                : c10::IValue();
  at::Tensor y = call(*ops().pointwise, {input, weight, b, std::string(attr),
                                         c10::List<std::optional<at::Scalar>>(), algorithm});
  out_shape.back() = y.size(1);
  return y.view(out_shape);
}

}  // namespace clintorch::model
