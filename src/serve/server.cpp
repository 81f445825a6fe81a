#include "serve/server.h"

#include <httplib.h>
#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "util/error.h"
#include "util/log.h"

namespace clintorch::serve {

using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

void send_error(httplib::Response& res, int status, const std::string& message,
                const std::string& field = "") {
  json e = {{"message", message}};
  if (!field.empty()) e["field"] = field;
  res.status = status;
  if (status == 503) res.set_header("Retry-After", "1");
  res.set_content(json{{"error", e}}.dump(), "application/json");
}

// Equal in time whatever the first difference: the key is not leaked through timing.
bool same_secret(const std::string& a, const std::string& b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string read_api_key(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, "cannot be read", "--api-key-file names a file holding the key");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front()))) key.erase(0, 1);
  if (key.empty()) fail(path, "is empty", "write the API key into it");
  return key;
}

thread_local Clock::time_point t_request_start;

class Server {
 public:
  explicit Server(const ServeOptions& o) : o_(o), metrics_(std::make_shared<Metrics>()) {
    if (!o.api_key_file.empty()) api_key_ = read_api_key(o.api_key_file);
    for (const auto& [name, dir] : o.models) {
      if (models_.count(name)) fail("--model " + name, "two models have this name");
      log_info("loading model '" + name + "' from " + dir);
      models_[name] = std::make_unique<ServedModel>(name, dir, o.model, metrics_);
    }
    routes();
  }

  int run();

 private:
  void routes();
  void model_endpoint(const httplib::Request& req, httplib::Response& res, bool predict);

  const ServeOptions& o_;
  std::shared_ptr<Metrics> metrics_;
  std::map<std::string, std::unique_ptr<ServedModel>> models_;
  std::string api_key_;
  httplib::Server http_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> done_{false};
  int listen_fd_ = -1;
};

void Server::routes() {
  http_.new_task_queue = [n = o_.http_threads] {
    return new httplib::ThreadPool(std::max<size_t>(1, n));
  };
  http_.set_payload_max_length(o_.max_body_bytes);
  // Clients keep their connections (no reconnect per request); each open connection holds one
  // of the --http-threads while it waits for its next request, so there are many of them.
  http_.set_keep_alive_max_count(1000);
  http_.set_keep_alive_timeout(5);
  http_.set_tcp_nodelay(true);  // answers leave at once (no Nagle + delayed-ACK stall)
  // cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into the
  // library): a burst of more new connections than that, on a loaded machine, overflowed the
  // accept queue and clients saw resets. The listening socket is remembered here and run()
  // raises its backlog after binding (listen() on a listening socket sets a new backlog).
  http_.set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd_ = sock;
  });
  http_.set_read_timeout(o_.read_timeout_s, 0);
  http_.set_write_timeout(o_.read_timeout_s, 0);
  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request_start = Clock::now();
    if (api_key_.empty() || req.path == "/health" || req.path == "/ready") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const std::string given = req.get_header_value("Authorization");
    if (!same_secret(given, "Bearer " + api_key_)) {
      send_error(res, 401, "missing or wrong API key (Authorization: Bearer KEY)");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* what = res.status == 404   ? "no such path"
                       : res.status == 413 ? "the request body is too large"
                                           : "the request cannot be served";
    send_error(res, res.status, what);
  });
  if (o_.access_log) {
    http_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      const double ms =
          std::chrono::duration<double, std::milli>(Clock::now() - t_request_start).count();
      char line[512];
      std::snprintf(line, sizeof line, "%s %s %d in %zu B out %zu B %.1f ms", req.method.c_str(),
                    req.path.c_str(), res.status, req.body.size(), res.body.size(), ms);
      log_info(line);
    });
  }
  http_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http_.Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
    if (ready_) {
      res.set_content(R"({"status":"ready"})", "application/json");
    } else {
      send_error(res, 503, "not ready");
    }
  });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_->render(), "text/plain; version=0.0.4");
  });
  http_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (const auto& [name, m] : models_) list.push_back(m->describe());
    res.set_content(json{{"models", list}}.dump(), "application/json");
  });
  http_.Post(R"(/v1/models/([^/]+)/predict)",
             [this](const httplib::Request& req, httplib::Response& res) {
               model_endpoint(req, res, true);
             });
  http_.Post(R"(/v1/models/([^/]+)/embed)",
             [this](const httplib::Request& req, httplib::Response& res) {
               model_endpoint(req, res, false);
             });
}

void Server::model_endpoint(const httplib::Request& req, httplib::Response& res, bool predict) {
  const std::string name = req.matches[1];
  const char* endpoint = predict ? "predict" : "embed";
  const auto it = models_.find(name);
  if (it == models_.end()) {
    send_error(res, 404, "no model named '" + name + "' (GET /v1/models lists them)");
    return;
  }
  try {
    const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) throw RequestError{400, "the body is not valid JSON", ""};
    std::future<json> out =
        predict ? it->second->submit_predict(body) : it->second->submit_embed(body);
    res.set_content(out.get().dump(-1, ' ', false, json::error_handler_t::replace),
                    "application/json");
    res.status = 200;
  } catch (const RequestError& e) {
    send_error(res, e.status, e.message, e.field);
  } catch (const std::exception& e) {
    log_error(std::string("model '") + name + "' " + endpoint + ": " + e.what());
    send_error(res, 500, std::string("the model failed on this request: ") + e.what());
  }
  metrics_->request(name, endpoint, res.status,
                    std::chrono::duration<double>(Clock::now() - t_request_start).count());
}

int Server::run() {
  int port = o_.port;
  if (port == 0) {
    port = http_.bind_to_any_port(o_.host);
  } else if (!http_.bind_to_port(o_.host, port)) {
    port = -1;
  }
  if (port < 0) {
    fail(o_.host + ":" + std::to_string(o_.port), "cannot be bound",
         "another process may use the port; choose another with --port");
  }
  if (listen_fd_ >= 0 && ::listen(listen_fd_, SOMAXCONN) != 0) {
    log_warning(std::string("cannot raise the listen backlog: ") + std::strerror(errno));
  }
  // SIGTERM/SIGINT are blocked in every thread (serve() did so first); this one waits for them.
  std::thread signals([this] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    if (done_) return;  // our own wake-up after listen ended
    log_info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
             ": finishing the requests in flight");
    ready_ = false;
    http_.stop();
  });
  ready_ = true;
  log_info("serving " + std::to_string(models_.size()) + " model(s) on http://" + o_.host + ":" +
           std::to_string(port));
  const bool ok = http_.listen_after_bind();
  ready_ = false;
  for (auto& [name, m] : models_) m->drain();
  if (signals.joinable()) {
    done_ = true;
    pthread_kill(signals.native_handle(), SIGTERM);  // wake it if it still waits
    signals.join();
  }
  log_info("stopped");
  return ok ? 0 : 1;
}

}  // namespace

int serve(const ServeOptions& options) {
  if (options.models.empty()) throw UsageError("give at least one --model");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: sigwait takes them
  Server server(options);
  return server.run();
}

}  // namespace clintorch::serve
