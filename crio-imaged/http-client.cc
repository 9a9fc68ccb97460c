#include "crio-imaged/http-client.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/log.h"
#include "common/version.h"

namespace crio::imaged {

namespace {

using Clock = std::chrono::steady_clock;

// Bytes curl reads from a socket per write callback; larger than the 16 KiB default so that a
// fast blob download costs fewer callbacks.
constexpr long RECEIVE_BUFFER_BYTES = 512 * 1024;
// How often the transfer thread looks at stalled transfers while any is active.
constexpr int POLL_INTERVAL_MS = 200;
// The system CA bundle is read into memory when a registry adds CAs of its own.
constexpr size_t MAX_CA_BUNDLE_BYTES = 16 * 1024 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
      fail(ErrorCategory::INTERNAL, std::string("curl_global_init: ") + curl_easy_strerror(code));
    }
  });
}

bool isTlsError(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

bool isDroppedConnection(CURLcode code) {
  switch (code) {
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

// A TLS alert from the server after the handshake looked complete (with TLS 1.3 a rejected
// client certificate arrives this way) is a TLS failure, not a dropped connection.
bool isTlsAlert(CURLcode code, const std::string& message) {
  return (code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR) &&
         message.find("SSL") != std::string::npos && message.find("alert") != std::string::npos;
}

}  // namespace

std::string HttpHeaders::get(std::string_view name) const {
  for (const auto& [key, value] : entries) {
    if (key == name) return value;
  }
  return "";
}

std::vector<std::string> HttpHeaders::getAll(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : entries) {
    if (key == name) values.push_back(value);
  }
  return values;
}

// One request, shared by the event-loop thread (which only queues and cancels it) and the
// transfer thread (which owns every other member while the request is active).
struct HttpClient::Transfer {
  HttpRequest request;
  HttpResponse response;
  kj::Own<kj::CrossThreadPromiseFulfiller<HttpResponse>> fulfiller;

  CURL* easy = nullptr;
  curl_slist* headerList = nullptr;
  char errorBuffer[CURL_ERROR_SIZE] = {};
  size_t headerBytes = 0;
  bool bodyStarted = false;
  bool toSink = false;
  bool errorBodyFull = false;
  TransferError abortReason = TransferError::NONE;
  std::string abortMessage;
  Clock::time_point lastActivity = Clock::now();

  ~Transfer() { release(); }

  void release() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    easy = nullptr;
    if (headerList != nullptr) curl_slist_free_all(headerList);
    headerList = nullptr;
  }

  size_t abort(TransferError reason, std::string message) {
    abortReason = reason;
    abortMessage = std::move(message);
    return 0;
  }

  // Called once the headers of the final response are in, or at the first body byte (or the end)
  // when the headers did not end visibly.
  bool beginBody() {
    bodyStarted = true;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    response.status = status;
    bool success = status >= 200 && status < 300;
    toSink = success && request.sink != nullptr;
    if (toSink) {
      std::string reason = request.sink->begin(status, response.headers);
      if (!reason.empty()) {
        abort(TransferError::SINK, reason);
        return false;
      }
    } else if (success) {
      curl_off_t length = -1;
      curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
      if (length > 0 && static_cast<uint64_t>(length) > request.maxBodyBytes) {
        abort(TransferError::TOO_LARGE, "the response body of " + std::to_string(length) +
                                            " bytes exceeds the limit of " +
                                            std::to_string(request.maxBodyBytes) + " bytes");
        return false;
      }
    }
    return true;
  }

  static size_t onHeader(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Transfer*>(user);
    size_t length = size * count;
    self->lastActivity = Clock::now();

    // Cumulative over every response of the exchange, so that endless 1xx responses are bounded
    // too.
    self->headerBytes += length;
    if (self->headerBytes > MAX_RESPONSE_HEADER_BYTES ||
        self->response.headers.entries.size() >= MAX_RESPONSE_HEADERS) {
      return self->abort(TransferError::TOO_LARGE,
                         "the response headers exceed the limit of " +
                             std::to_string(MAX_RESPONSE_HEADER_BYTES) + " bytes or " +
                             std::to_string(MAX_RESPONSE_HEADERS) + " headers");
    }

    std::string_view line(data, length);
    if (trim(line).empty()) {
      // The end of a response's headers: a successful one is checked (size, sink) before any
      // body byte, so that an oversized Content-Length fails even when no body follows.
      long status = 0;
      curl_easy_getinfo(self->easy, CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200 && status < 300 && !self->bodyStarted && !self->beginBody()) return 0;
      return length;
    }
    if (line.rfind("HTTP/", 0) == 0) {
      // A new response (after 1xx, or through a proxy) replaces the headers seen so far.
      self->response.headers.entries.clear();
      return length;
    }

    auto colon = line.find(':');
    if (colon == std::string_view::npos) return length;
    self->response.headers.entries.emplace_back(lower(trim(line.substr(0, colon))),
                                                std::string(trim(line.substr(colon + 1))));
    return length;
  }

  static size_t onBody(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Transfer*>(user);
    size_t length = size * count;
    self->lastActivity = Clock::now();
    if (!self->bodyStarted && !self->beginBody()) return 0;
    self->response.bodyBytes += length;

    if (self->toSink) {
      std::string reason = self->request.sink->write(data, length);
      if (!reason.empty()) return self->abort(TransferError::SINK, reason);
      return length;
    }
    std::string& body = self->response.body;
    long status = self->response.status;
    if (status >= 200 && status < 300) {
      if (body.size() + length > self->request.maxBodyBytes) {
        return self->abort(TransferError::TOO_LARGE,
                           "the response body exceeds the limit of " +
                               std::to_string(self->request.maxBodyBytes) + " bytes");
      }
      body.append(data, length);
      return length;
    }
    // An error response: keep its start for the message and stop reading there.
    size_t room = MAX_ERROR_BODY_BYTES - body.size();
    body.append(data, std::min(room, length));
    if (length >= room) {
      self->errorBodyFull = true;
      return 0;
    }
    return length;
  }

  static int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* self = static_cast<Transfer*>(user);
    auto timeout = self->request.progressTimeout;
    if (timeout.count() <= 0) return 0;
    if (Clock::now() - self->lastActivity < timeout) return 0;
    self->abort(TransferError::STALLED,
                "no data received for " + std::to_string(timeout.count()) + " ms");
    return 1;
  }
};

// Attached to the promise perform() returns: dropping it cancels the transfer.
class HttpClient::CancelOnDrop {
 public:
  CancelOnDrop(HttpClient& client, std::weak_ptr<Transfer> transfer)
      : client_(client), transfer_(std::move(transfer)) {}
  ~CancelOnDrop() {
    if (auto transfer = transfer_.lock()) client_.cancel(transfer);
  }

 private:
  HttpClient& client_;
  std::weak_ptr<Transfer> transfer_;
};

HttpClient::HttpClient() {
  globalInit();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) fail(ErrorCategory::INTERNAL, "curl_multi_init failed");
  thread_ = std::thread([this] { run(); });
}

HttpClient::~HttpClient() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake();
  thread_.join();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

kj::Promise<HttpResponse> HttpClient::perform(HttpRequest request) {
  auto transfer = std::make_shared<Transfer>();
  transfer->request = std::move(request);
  auto pair = kj::newPromiseAndCrossThreadFulfiller<HttpResponse>();
  transfer->fulfiller = kj::mv(pair.fulfiller);
  std::weak_ptr<Transfer> weak = transfer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    incoming_.push_back(std::move(transfer));
  }
  wake();
  return pair.promise.attach(kj::heap<CancelOnDrop>(*this, std::move(weak)));
}

void HttpClient::cancel(const std::shared_ptr<Transfer>& transfer) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_.push_back(transfer);
  }
  wake();
}

void HttpClient::wake() {
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

const std::string& HttpClient::systemCaBundle() {
  if (systemCaBundleRead_) return systemCaBundle_;
  systemCaBundleRead_ = true;
  const char* path = curl_version_info(CURLVERSION_NOW)->cainfo;
  if (path == nullptr) path = "/etc/ssl/certs/ca-certificates.crt";
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  systemCaBundle_ = buffer.str();
  if (systemCaBundle_.size() > MAX_CA_BUNDLE_BYTES) systemCaBundle_.clear();
  if (systemCaBundle_.empty()) log::warn("cannot read the system CA bundle", {{"path", path}});
  return systemCaBundle_;
}

void HttpClient::start(const std::shared_ptr<Transfer>& transfer) {
  Transfer& t = *transfer;
  HttpRequest& request = t.request;
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    t.response.error = TransferError::OTHER;
    t.response.errorMessage = "curl_easy_init failed";
    t.fulfiller->fulfill(kj::mv(t.response));
    return;
  }
  t.easy = easy;
  t.lastActivity = Clock::now();

  curl_easy_setopt(easy, CURLOPT_PRIVATE, &t);
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t.errorBuffer);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "crio-imaged/" CRIO_VERSION);
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, RECEIVE_BUFFER_BYTES);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connectTimeout.count()));
  // Proxies from the environment (https_proxy, no_proxy) apply. The proxy's own CONNECT response
  // is kept out of the header callback, because a blank line after a 2xx ends the real headers.
  curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::onHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::onBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &Transfer::onProgress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &t);
  if (request.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.postBody.size()));
    curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, request.postBody.c_str());
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }

  const TlsSettings& tls = request.tls;
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2L : 0L);
  if (!tls.extraCaPem.empty()) {
    // A CA blob replaces the default CAs, so it carries the system bundle as well.
    std::string bundle = systemCaBundle() + "\n" + tls.extraCaPem;
    curl_blob blob{bundle.data(), bundle.size(), CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!tls.clientCertPem.empty()) {
    curl_blob cert{const_cast<char*>(tls.clientCertPem.data()), tls.clientCertPem.size(),
                   CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(tls.clientKeyPem.data()), tls.clientKeyPem.size(),
                  CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
  }

  std::vector<std::string> headers = request.headers;
  if (request.sink != nullptr) {
    uint64_t offset = request.sink->resumeOffset();
    if (offset > 0) headers.push_back("Range: bytes=" + std::to_string(offset) + "-");
  }
  for (const auto& header : headers) {
    curl_slist* list = curl_slist_append(t.headerList, header.c_str());
    if (list == nullptr) break;
    t.headerList = list;
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t.headerList);

  curl_multi_add_handle(static_cast<CURLM*>(multi_), easy);
  active_.push_back(transfer);
}

void HttpClient::finish(const std::shared_ptr<Transfer>& transfer, int curlCode) {
  Transfer& t = *transfer;
  auto code = static_cast<CURLcode>(curlCode);
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), t.easy);
  active_.erase(std::find(active_.begin(), active_.end(), transfer));

  HttpResponse& response = t.response;
  long status = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  response.status = status;
  if (code == CURLE_OK && !t.bodyStarted) t.beginBody();
  if (status >= 300 && status < 400) {
    char* location = nullptr;
    curl_easy_getinfo(t.easy, CURLINFO_REDIRECT_URL, &location);
    if (location != nullptr) response.redirectUrl = location;
  }
  curl_off_t connectTime = 0;
  curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connectTime);
  bool connected = connectTime > 0 || status > 0;

  std::string curlMessage = t.errorBuffer[0] != '\0' ? t.errorBuffer : curl_easy_strerror(code);
  if (code == CURLE_OK && t.abortReason != TransferError::NONE) {
    // An empty body's sink rejected it at the end.
    response.error = t.abortReason;
    response.errorMessage = t.abortMessage;
  } else if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && t.errorBodyFull)) {
    response.error = TransferError::NONE;
  } else if (t.abortReason != TransferError::NONE) {
    response.error = t.abortReason;
    response.errorMessage = t.abortMessage;
    if (t.abortReason == TransferError::STALLED && !connected) {
      response.error = TransferError::CONNECT;
      response.errorMessage = "connecting timed out: " + t.abortMessage;
    }
  } else if (code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT ||
             code == CURLE_COULDNT_RESOLVE_PROXY ||
             (code == CURLE_OPERATION_TIMEDOUT && !connected)) {
    response.error = TransferError::CONNECT;
    response.errorMessage = curlMessage;
  } else if (isTlsError(code) || isTlsAlert(code, curlMessage)) {
    response.error = TransferError::TLS;
    response.errorMessage = curlMessage;
  } else if (code == CURLE_OPERATION_TIMEDOUT) {
    response.error = TransferError::STALLED;
    response.errorMessage = curlMessage;
  } else if (isDroppedConnection(code)) {
    response.error = TransferError::DROPPED;
    response.errorMessage = curlMessage;
  } else {
    response.error = TransferError::OTHER;
    response.errorMessage = curlMessage;
  }

  t.release();
  response.sink = std::move(t.request.sink);
  t.fulfiller->fulfill(kj::mv(response));
  t.fulfiller = nullptr;
}

void HttpClient::run() {
  auto* multi = static_cast<CURLM*>(multi_);
  while (true) {
    std::deque<std::shared_ptr<Transfer>> incoming;
    std::deque<std::shared_ptr<Transfer>> cancelled;
    bool stopping = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      incoming.swap(incoming_);
      cancelled.swap(cancelled_);
      stopping = stopping_;
    }

    for (auto& transfer : incoming) {
      try {
        start(transfer);
      } catch (const std::exception& e) {
        if (transfer->easy != nullptr) curl_multi_remove_handle(multi, transfer->easy);
        transfer->release();
        active_.erase(std::remove(active_.begin(), active_.end(), transfer), active_.end());
        transfer->response.error = TransferError::OTHER;
        transfer->response.errorMessage = e.what();
        transfer->fulfiller->fulfill(kj::mv(transfer->response));
      }
    }
    if (stopping) {
      for (auto& transfer : active_)
        cancelled.push_back(transfer);
    }
    for (auto& transfer : cancelled) {
      auto it = std::find(active_.begin(), active_.end(), transfer);
      if (it == active_.end()) continue;  // already finished
      curl_multi_remove_handle(multi, transfer->easy);
      transfer->release();
      // The fulfiller is dropped unfulfilled because no caller waits for this response any more.
      transfer->fulfiller = nullptr;
      active_.erase(it);
    }
    if (stopping) break;

    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      Transfer* raw = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &raw);
      auto it = std::find_if(active_.begin(), active_.end(),
                             [raw](const auto& transfer) { return transfer.get() == raw; });
      if (it != active_.end()) finish(std::shared_ptr<Transfer>(*it), message->data.result);
    }
    curl_multi_poll(multi, nullptr, 0, active_.empty() ? 60000 : POLL_INTERVAL_MS, nullptr);
  }
}

}  // namespace crio::imaged
