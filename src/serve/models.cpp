#include "serve/models.h"

#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "data/dataset.h"
#include "eval/inference.h"
#include "eval/predict.h"
#include "infer/embed.h"
#include "model/autocast.h"
#include "model/device.h"
#include "model/heads/registry.h"
#include "model/pretrained.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::serve {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

enum class Kind { kPredict, kEmbed };

struct Job {
  Kind kind = Kind::kPredict;
  std::vector<eval::PredictDocument> docs;      // predict
  std::shared_ptr<data::TaskDataset> features;  // predict: the documents' windows
  std::vector<std::string> texts;               // embed
  bool normalize = false;                       // embed
  size_t tokens = 0;
  size_t documents = 0;
  std::promise<json> promise;
  Clock::time_point enqueued;
};

// Counts a request in `incoming` while its HTTP thread prepares it.
class Incoming {
 public:
  Incoming(std::atomic<int>& n, std::mutex& mutex, std::condition_variable& wake)
      : n_(n), mutex_(mutex), wake_(wake) {
    ++n_;
  }
  ~Incoming() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --n_;
    }
    wake_.notify_all();
  }
  Incoming(const Incoming&) = delete;
  Incoming& operator=(const Incoming&) = delete;

 private:
  std::atomic<int>& n_;
  std::mutex& mutex_;
  std::condition_variable& wake_;
};

RequestError bad(const std::string& message, const std::string& field, int status = 400) {
  return RequestError{status, message, field};
}

// The documents of a request body: its "inputs" array, or the body as one document.
std::vector<json> request_items(const json& body) {
  if (!body.is_object()) throw bad("the body must be a JSON object", "");
  if (!body.contains("inputs")) return {body};
  const json& inputs = body["inputs"];
  if (!inputs.is_array()) throw bad("'inputs' must be an array of documents", "inputs");
  if (inputs.empty()) throw bad("'inputs' is empty", "inputs");
  return std::vector<json>(inputs.begin(), inputs.end());
}

}  // namespace

struct ServedModel::Impl {
  std::string name;
  std::string dir;
  ModelOptions options;
  std::shared_ptr<Metrics> metrics;
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  std::string autocast;
  // Predict (models with a task head).
  std::optional<eval::InferenceModel> model;
  std::unique_ptr<eval::DocumentPredictor> predictor;
  std::string task;
  // Embed: made on the first embedding request.
  std::unique_ptr<infer::Embedder> embedder;

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::unique_ptr<Job>> queue;
  size_t queued_documents = 0;
  bool stopping = false;
  // Requests being parsed and tokenised on HTTP threads: the worker waits for more only while
  // some are on their way (an idle server answers a lone request at once).
  std::atomic<int> incoming{0};
  std::thread worker;

  // Queues the job for the worker; its answer comes through the future.
  std::future<json> enqueue(std::unique_ptr<Job> job);
  // 413 when a request's texts exceed max_text_bytes.
  void check_text_bytes(size_t bytes) const {
    if (bytes > options.max_text_bytes) {
      throw bad("the texts hold " + std::to_string(bytes) + " bytes, more than the server's " +
                    std::to_string(options.max_text_bytes),
                "inputs", 413);
    }
  }
  void run();
  std::vector<std::unique_ptr<Job>> next_batch();
  void run_predict(std::vector<std::unique_ptr<Job>>& jobs);
  void run_embed(std::vector<std::unique_ptr<Job>>& jobs);
};

ServedModel::ServedModel(std::string name, const std::string& dir, const ModelOptions& options,
                         std::shared_ptr<Metrics> metrics)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.name = std::move(name);
  m.dir = eval::resolve_checkpoint(dir);
  m.options = options;
  m.metrics = std::move(metrics);
  m.device = model::select_device(options.device, "--device");
  m.autocast = model::inference_autocast(options.dtype, m.device.type());
  const model::BertCheckpoint ckpt = model::BertCheckpoint::open(m.dir);
  if (!model::head_name_from_config(ckpt.config.extra).empty()) {
    eval::InferenceLoadOptions lo;
    lo.device = m.device;
    m.model.emplace(eval::load_inference_model(m.dir, lo));
    eval::PredictOptions po;
    po.eval.device = m.device;
    po.eval.autocast = m.autocast;
    // Scored as `clintorch predict` scores it without options: the export's own settings.
    po.eval.tag_scheme = eval::strict_tag_scheme(m.model->labels);
    eval::apply_evaluation_settings(po.eval, m.model->model->evaluation_settings,
                                    m.dir + "/config.json");
    m.predictor = std::make_unique<eval::DocumentPredictor>(*m.model, po, "request");
    m.task = data::task_name(m.model->task);
  }
  m.worker = std::thread([this] { impl_->run(); });
}

ServedModel::~ServedModel() {
  drain();
}

const std::string& ServedModel::name() const {
  return impl_->name;
}

json ServedModel::describe() const {
  const Impl& m = *impl_;
  json j = {{"name", m.name},
            {"dtype", m.autocast.empty() ? "fp32" : m.autocast},
            {"device", m.device.str()},
            {"pooling", m.options.pooling}};
  json endpoints = json::array();
  if (m.predictor) {
    endpoints.push_back("predict");
    j["task"] = m.task;
    j["labels"] = m.model->labels;
  }
  endpoints.push_back("embed");
  j["endpoints"] = endpoints;
  return j;
}

std::future<json> ServedModel::submit_predict(const json& body) {
  Impl& m = *impl_;
  if (!m.predictor) {
    throw bad("model '" + m.name + "' has no task head; it serves /embed only", "", 404);
  }
  const Incoming counted(m.incoming, m.mutex, m.wake);
  auto job = std::make_unique<Job>();
  job->kind = Kind::kPredict;
  const std::vector<json> items = request_items(body);
  size_t bytes = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string where = body.contains("inputs") ? "inputs[" + std::to_string(i) + "]" : "";
    try {
      if (items[i].is_string()) {
        if (m.predictor->layout() == data::RawLayout::kQuestionContext) {
          throw bad("question answering takes {\"question\", \"context\"} objects",
                    where.empty() ? "body" : where);
        }
        bytes += items[i].get_ref<const std::string&>().size();
        job->docs.push_back(m.predictor->from_text(items[i].get<std::string>(), i + 1));
      } else {
        job->docs.push_back(
            m.predictor->from_json(items[i], where.empty() ? "body" : where, i + 1));
        const data::RawInput& in = job->docs.back().input;
        bytes += in.text.size() + in.pair.size() + in.question.size() + in.context.size();
      }
    } catch (const Error& e) {
      throw bad(e.what(), where.empty() ? "body" : where);
    }
  }
  m.check_text_bytes(bytes);
  job->features = m.predictor->features(job->docs);  // tokenised here, on the HTTP thread
  for (const uint32_t n : job->features->lengths()) job->tokens += n;
  job->documents = job->docs.size();
  return m.enqueue(std::move(job));
}

std::future<json> ServedModel::submit_embed(const json& body) {
  Impl& m = *impl_;
  const Incoming counted(m.incoming, m.mutex, m.wake);
  auto job = std::make_unique<Job>();
  job->kind = Kind::kEmbed;
  size_t bytes = 0;
  const std::vector<json> items = request_items(body);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string where =
        body.contains("inputs") ? "inputs[" + std::to_string(i) + "]" : "text";
    const json* text = &items[i];
    if (items[i].is_object()) {
      if (!items[i].contains("text")) throw bad("missing key 'text' (a string)", where);
      text = &items[i]["text"];
    }
    if (!text->is_string()) throw bad("expected a string", where);
    bytes += text->get_ref<const std::string&>().size();
    job->texts.push_back(text->get<std::string>());
  }
  if (body.contains("normalize")) {
    if (!body["normalize"].is_boolean())
      throw bad("'normalize' must be true or false", "normalize");
    job->normalize = body["normalize"].get<bool>();
  }
  if (body.contains("pooling") && body["pooling"] != json(m.options.pooling)) {
    throw bad("this server pools with '" + m.options.pooling + "' (its --pooling)", "pooling");
  }
  m.check_text_bytes(bytes);
  job->tokens = bytes / 4 + 2 * job->texts.size();  // an estimate: tokenised on the worker
  job->documents = job->texts.size();
  return m.enqueue(std::move(job));
}

std::future<json> ServedModel::Impl::enqueue(std::unique_ptr<Job> job) {
  std::future<json> out = job->promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (stopping) throw bad("the server is shutting down", "", 503);
    if (queued_documents + job->documents > options.max_queue) {
      throw bad("the queue of model '" + name + "' is full", "", 503);
    }
    job->enqueued = Clock::now();
    queued_documents += job->documents;
    metrics->queue_depth(name, queued_documents);
    queue.push_back(std::move(job));
  }
  wake.notify_one();
  return out;
}

// Jobs of one kind from the head of the queue: up to max_batch_tokens, waiting up to
// max_wait_ms after the first for more to arrive. Empty when stopping with nothing queued.
std::vector<std::unique_ptr<Job>> ServedModel::Impl::next_batch() {
  std::unique_lock<std::mutex> lock(mutex);
  wake.wait(lock, [&] { return stopping || !queue.empty(); });
  if (queue.empty()) return {};
  const Kind kind = queue.front()->kind;
  auto ready_tokens = [&] {
    size_t tokens = 0;
    for (const auto& j : queue) {
      if (j->kind != kind) break;
      tokens += j->tokens;
    }
    return tokens;
  };
  const auto deadline = queue.front()->enqueued + std::chrono::milliseconds(options.max_wait_ms);
  while (!stopping && incoming.load() > 0 && ready_tokens() < options.max_batch_tokens &&
         wake.wait_until(lock, deadline) != std::cv_status::timeout) {
  }
  std::vector<std::unique_ptr<Job>> jobs;
  size_t tokens = 0;
  while (!queue.empty() && queue.front()->kind == kind &&
         (jobs.empty() || tokens + queue.front()->tokens <= options.max_batch_tokens)) {
    tokens += queue.front()->tokens;
    queued_documents -= queue.front()->documents;
    jobs.push_back(std::move(queue.front()));
    queue.pop_front();
  }
  metrics->queue_depth(name, queued_documents);
  return jobs;
}

void ServedModel::Impl::run() {
  torch::NoGradGuard no_grad;
  for (;;) {
    std::vector<std::unique_ptr<Job>> jobs = next_batch();
    if (jobs.empty()) return;
    const auto t0 = Clock::now();
    size_t documents = 0, tokens = 0;
    for (const auto& j : jobs) {
      documents += j->documents;
      tokens += j->tokens;
    }
    try {
      if (jobs.front()->kind == Kind::kPredict) {
        run_predict(jobs);
      } else {
        run_embed(jobs);
      }
    } catch (...) {
      for (auto& j : jobs) j->promise.set_exception(std::current_exception());
    }
    metrics->batch(name, documents, tokens,
                   std::chrono::duration<double>(Clock::now() - t0).count());
  }
}

void ServedModel::Impl::run_predict(std::vector<std::unique_ptr<Job>>& jobs) {
  std::vector<eval::PredictDocument> docs;
  std::shared_ptr<data::TaskDataset> merged = jobs.front()->features;
  if (jobs.size() > 1) {
    merged = std::make_shared<data::TaskDataset>(*jobs.front()->features);
    for (size_t k = 1; k < jobs.size(); ++k) eval::append_features(*merged, *jobs[k]->features);
  }
  for (const auto& j : jobs) docs.insert(docs.end(), j->docs.begin(), j->docs.end());
  std::vector<json> records = predictor->predict(docs, *merged);
  size_t at = 0;
  for (auto& j : jobs) {
    json out = {{"model", name}, {"predictions", json::array()}};
    for (size_t i = 0; i < j->docs.size(); ++i)
      out["predictions"].push_back(std::move(records[at++]));
    j->promise.set_value(std::move(out));
  }
}

void ServedModel::Impl::run_embed(std::vector<std::unique_ptr<Job>>& jobs) {
  if (!embedder) {
    infer::EmbedOptions eo;
    eo.pooling = infer::parse_pooling(options.pooling);
    eo.device = device;
    eo.autocast = autocast;
    eo.threads = 1;
    embedder = std::make_unique<infer::Embedder>(dir, eo);
  }
  std::vector<std::string> texts;
  for (const auto& j : jobs) texts.insert(texts.end(), j->texts.begin(), j->texts.end());
  const std::vector<float> rows = embedder->embed(texts);
  const auto dim = static_cast<size_t>(embedder->dim());
  size_t row = 0;
  for (auto& j : jobs) {
    json vectors = json::array();
    for (size_t i = 0; i < j->texts.size(); ++i, ++row) {
      std::vector<float> v(rows.begin() + static_cast<std::ptrdiff_t>(row * dim),
                           rows.begin() + static_cast<std::ptrdiff_t>((row + 1) * dim));
      if (j->normalize) {
        double norm = 0.0;
        for (const float x : v) norm += static_cast<double>(x) * x;
        norm = std::sqrt(norm);
        if (norm > 0) {
          for (float& x : v) x = static_cast<float>(x / norm);
        }
      }
      vectors.push_back(std::move(v));
    }
    j->promise.set_value(json{{"model", name}, {"dim", dim}, {"embeddings", std::move(vectors)}});
  }
}

void ServedModel::drain() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    m.stopping = true;
  }
  m.wake.notify_all();
  if (m.worker.joinable()) m.worker.join();
}

}  // namespace clintorch::serve
