#include "crio-imaged/registry-client.h"

#include <gtest/gtest.h>
#include <kj/async-io.h>

#include <atomic>

#include "crio-imaged/async-error.h"
#include "crio-imaged/loopback-server-test.h"

namespace crio::imaged {
namespace {

using namespace std::chrono_literals;

std::string response(int status, const std::string& reason, const std::string& headers,
                     const std::string& body = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         headers + "\r\n" + body;
}

class MemorySink : public BodySink {
 public:
  explicit MemorySink(std::string held) : data_(std::move(held)) {}
  uint64_t resumeOffset() override { return data_.size(); }
  std::string begin(long status, const HttpHeaders&) override {
    if (status == 200) data_.clear();
    return "";
  }
  std::string write(const char* data, size_t size) override {
    data_.append(data, size);
    return "";
  }
  void restart() override {
    data_.clear();
    ++restarts_;
  }

  std::string data_;
  int restarts_ = 0;
};

class RegistryClientTest : public ::testing::Test {
 protected:
  kj::Own<RegistryClient> client(const RawServer& server, RegistryCredentials credentials = {}) {
    RegistrySource source;
    source.registry = "127.0.0.1:" + std::to_string(server.port());
    source.repository = "test/app";
    source.tag = "latest";
    source.insecure = true;
    return kj::refcounted<RegistryClient>(context_, source, std::move(credentials));
  }

  template <typename T>
  T wait(kj::Promise<T> promise) {
    return promise.wait(io_->waitScope);
  }

  template <typename T>
  Error failure(kj::Promise<T> promise) {
    try {
      promise.wait(io_->waitScope);
    } catch (const kj::Exception& e) {
      return errorOf(e);
    }
    ADD_FAILURE() << "no error";
    return Error(ErrorCategory::INTERNAL, "none");
  }

  std::unique_ptr<kj::AsyncIoContext> io_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  HttpClient http_;
  TokenCache tokens_;
  RegistryContext context_{http_, tokens_, io_->provider->getTimer(), "", 5000ms};
};

const std::string MANIFEST = R"({"schemaVersion":2})";

TEST_F(RegistryClientTest, TooManyRequestsWaitsForRetryAfter) {
  std::atomic<int> calls{0};
  RawServer server([&calls](const std::string&, int fd) {
    if (++calls == 1) {
      sendAll(fd, response(429, "Too Many Requests", "Retry-After: 1\r\n"));
    } else {
      sendAll(fd, okResponse(MANIFEST));
    }
  });
  auto started = std::chrono::steady_clock::now();
  FetchedManifest manifest = wait(client(server)->fetchManifest("latest"));
  EXPECT_EQ(manifest.body, MANIFEST);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(calls, 2);
}

TEST_F(RegistryClientTest, BasicChallengeWithoutCredentialsIsDenied) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd, response(401, "Unauthorized", "WWW-Authenticate: Basic realm=\"r\"\r\n"));
  });
  Error error = failure(client(server)->fetchManifest("latest"));
  EXPECT_EQ(error.category(), ErrorCategory::PERMISSION_DENIED);
  EXPECT_NE(std::string(error.what()).find("requires credentials"), std::string::npos)
      << error.what();
  EXPECT_NE(std::string(error.what()).find("test/app"), std::string::npos) << error.what();
}

TEST_F(RegistryClientTest, BearerTokensAreCachedPerCredentials) {
  std::mutex mutex;
  std::vector<std::string> tokenRequests;
  std::unique_ptr<RawServer> server;
  server = std::make_unique<RawServer>([&](const std::string& head, int fd) {
    if (head.rfind("GET /token?", 0) == 0) {
      std::lock_guard<std::mutex> lock(mutex);
      tokenRequests.push_back(head);
      bool bob = head.find("Authorization: Basic " + base64Encode("bob:pw")) != std::string::npos;
      sendAll(fd, okResponse(bob ? R"({"token":"bob-token"})" : R"({"token":"anon-token"})"));
    } else if (head.find("Authorization: Bearer ") != std::string::npos) {
      sendAll(fd, okResponse(MANIFEST));
    } else {
      std::string realm = server->url("/token");
      sendAll(fd, response(401, "Unauthorized",
                           "WWW-Authenticate: Bearer realm=\"" + realm + "\",service=\"svc\"\r\n"));
    }
  });

  EXPECT_EQ(wait(client(*server)->fetchManifest("latest")).body, MANIFEST);
  ASSERT_EQ(tokenRequests.size(), 1u);
  EXPECT_NE(tokenRequests[0].find("service=svc&scope=repository%3Atest%2Fapp%3Apull"),
            std::string::npos)
      << tokenRequests[0];

  EXPECT_EQ(wait(client(*server)->fetchManifest("latest")).body, MANIFEST);
  EXPECT_EQ(tokenRequests.size(), 1u);

  EXPECT_EQ(wait(client(*server, {"bob", "pw", "", ""})->fetchManifest("latest")).body, MANIFEST);
  ASSERT_EQ(tokenRequests.size(), 2u);
  EXPECT_NE(tokenRequests[1].find("Authorization: Basic"), std::string::npos);
}

TEST_F(RegistryClientTest, RedirectLoopIsBounded) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd, response(302, "Found", "Location: /v2/test/app/blobs/elsewhere\r\n"));
  });
  Error error = failure(client(server)->fetchSmallBlob(sha256Of("x"), 100));
  EXPECT_EQ(error.category(), ErrorCategory::UNAVAILABLE);
  EXPECT_NE(std::string(error.what()).find("more than 5 redirects"), std::string::npos)
      << error.what();
}

TEST_F(RegistryClientTest, UnsatisfiableRangeStartsOver) {
  RawServer server([](const std::string& head, int fd) {
    if (head.find("Range: bytes=5-") != std::string::npos) {
      sendAll(fd, response(416, "Range Not Satisfiable", "Content-Range: bytes */3\r\n"));
    } else {
      sendAll(fd, okResponse("abc"));
    }
  });
  auto sink = std::make_unique<MemorySink>("stale");
  auto result = wait(client(server)->fetchBlob(sha256Of("abc"), std::move(sink)));
  auto& memory = static_cast<MemorySink&>(*result);
  EXPECT_EQ(memory.data_, "abc");
  EXPECT_EQ(memory.restarts_, 1);
}

TEST_F(RegistryClientTest, NotFoundQuotesTheRegistryError) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd, response(404, "Not Found", "Content-Type: application/json\r\n",
                         R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]})"));
  });
  Error error = failure(client(server)->fetchSmallBlob(sha256Of("x"), 100));
  EXPECT_EQ(error.category(), ErrorCategory::NOT_FOUND);
  EXPECT_NE(std::string(error.what()).find("HTTP 404, BLOB_UNKNOWN: blob unknown"),
            std::string::npos)
      << error.what();
}

TEST_F(RegistryClientTest, OversizedManifestIsRejectedBeforeDownload) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n");
  });
  Error error = failure(client(server)->fetchManifest("latest"));
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.what()).find("exceeds the limit"), std::string::npos) << error.what();
}

}  // namespace
}  // namespace crio::imaged
