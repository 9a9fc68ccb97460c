// HTTP requests for crio-imaged, run by libcurl on one transfer thread, so that the KJ event loop
// does no network I/O and neither writes nor hashes response bodies.
//
// The transfer thread owns a curl multi handle: every request in flight shares it, so many blobs
// download at once (and share connections, with HTTP/2 where the server offers it). perform()
// is called on the event-loop thread; the request is queued, the thread is woken, and the
// response comes back through a cross-thread fulfiller. Dropping the returned promise cancels the
// request. A BodySink receives the body of a successful response on the transfer thread, so a
// blob is written and hashed as it arrives and never passes through the event loop.
//
// This layer knows nothing of registries: it does one exchange (no redirects followed, no auth,
// no retries) and reports what happened; registry-client.h builds the protocol on top.
#pragma once

#include <kj/async.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/error.h"

namespace crio::imaged {

// Bounds on what a server can make one response hold in memory.
constexpr size_t MAX_RESPONSE_HEADER_BYTES = 64 * 1024;
constexpr size_t MAX_RESPONSE_HEADERS = 200;
// The start of an error response's body is kept for the message; the rest is not read.
constexpr size_t MAX_ERROR_BODY_BYTES = 64 * 1024;

// Response headers in arrival order, names in lower case.
struct HttpHeaders {
  std::vector<std::pair<std::string, std::string>> entries;

  // The first value of `name` (lower case), "" when absent.
  std::string get(std::string_view name) const;
  std::vector<std::string> getAll(std::string_view name) const;
};

// Receives the body of a 2xx response, on the transfer thread. Each method returns "" to go on,
// or the reason to abort the transfer (which then fails with TransferError::SINK).
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Bytes already held from an earlier attempt; when more than 0 the request carries
  // "Range: bytes=OFFSET-". Called before the request starts.
  virtual uint64_t resumeOffset() = 0;
  // Called once the headers of a 2xx response are in, before the first body byte.
  virtual std::string begin(long status, const HttpHeaders& headers) = 0;
  virtual std::string write(const char* data, size_t size) = 0;
  // The category of the last failure reason returned: INVALID_ARGUMENT for content that breaks
  // its description, INTERNAL (or RESOURCE_EXHAUSTED) for a local write failure.
  virtual ErrorCategory failureCategory() const { return ErrorCategory::INVALID_ARGUMENT; }
  // Drops the bytes held, so that the next attempt starts from byte 0. Event-loop thread, between
  // attempts.
  virtual void restart() = 0;
};

struct TlsSettings {
  bool verify = true;         // check the server's certificate and host name
  std::string extraCaPem;     // trusted in addition to the system CAs
  std::string clientCertPem;  // with clientKeyPem: presented to the server
  std::string clientKeyPem;
};

struct HttpRequest {
  std::string method = "GET";        // "GET" or "POST"
  std::string url;                   // http:// or https:// only
  std::vector<std::string> headers;  // "Name: value"
  std::string postBody;              // application/x-www-form-urlencoded, for POST
  TlsSettings tls;
  // Bound on a 2xx body kept in memory; a larger one fails with TransferError::TOO_LARGE.
  size_t maxBodyBytes = 0;
  // When set, a 2xx body goes here instead of into memory. Handed back in the response.
  std::unique_ptr<BodySink> sink;
  // No byte received for this long fails the request with TransferError::STALLED; 0 disables.
  std::chrono::milliseconds progressTimeout{0};
  std::chrono::milliseconds connectTimeout{30000};
};

enum class TransferError {
  NONE,       // a response arrived (of any status)
  CONNECT,    // name resolution or TCP connect failed or timed out
  TLS,        // handshake or certificate verification failed
  STALLED,    // no byte for the progress timeout
  DROPPED,    // the connection broke before the response was complete
  TOO_LARGE,  // headers or an in-memory body exceeded their bound
  SINK,       // the body sink rejected the response
  OTHER,
};

struct HttpResponse {
  TransferError error = TransferError::NONE;
  std::string errorMessage;  // what curl or the sink reported, when error != NONE
  long status = 0;
  HttpHeaders headers;
  std::string body;         // in memory: a 2xx body without sink, or the start of an error body
  std::string redirectUrl;  // absolute target of a 3xx with Location
  uint64_t bodyBytes = 0;   // body bytes received in this exchange
  std::unique_ptr<BodySink> sink;  // the request's sink, given back
};

class HttpClient {
 public:
  // Starts the transfer thread.
  HttpClient();
  // Cancels whatever is in flight and joins the thread.
  ~HttpClient();

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Event-loop thread only. Never rejects for a transfer failure: that is in the response.
  kj::Promise<HttpResponse> perform(HttpRequest request);

 private:
  struct Transfer;
  class CancelOnDrop;

  void run();
  void start(const std::shared_ptr<Transfer>& transfer);
  void finish(const std::shared_ptr<Transfer>& transfer, int curlCode);
  void cancel(const std::shared_ptr<Transfer>& transfer);
  void wake();
  const std::string& systemCaBundle();

  void* multi_;  // CURLM*
  std::mutex mutex_;
  std::deque<std::shared_ptr<Transfer>> incoming_;
  std::deque<std::shared_ptr<Transfer>> cancelled_;
  bool stopping_ = false;
  // Transfer thread only.
  std::vector<std::shared_ptr<Transfer>> active_;
  std::string systemCaBundle_;
  bool systemCaBundleRead_ = false;
  std::thread thread_;
};

}  // namespace crio::imaged
