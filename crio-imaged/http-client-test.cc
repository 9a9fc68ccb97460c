#include "crio-imaged/http-client.h"

#include <gtest/gtest.h>
#include <kj/async-io.h>

#include "crio-imaged/loopback-server-test.h"

namespace crio::imaged {
namespace {

using namespace std::chrono_literals;

class StringSink : public BodySink {
 public:
  explicit StringSink(uint64_t offset = 0) : offset_(offset) {}
  uint64_t resumeOffset() override { return offset_; }
  std::string begin(long status, const HttpHeaders&) override {
    status_ = status;
    return "";
  }
  void restart() override { offset_ = 0; }
  std::string write(const char* data, size_t size) override {
    received_.append(data, size);
    return received_.size() > 100 ? "sink full" : "";
  }

  uint64_t offset_;
  long status_ = 0;
  std::string received_;
};

class HttpClientTest : public ::testing::Test {
 protected:
  HttpResponse run(HttpRequest request) {
    return client_.perform(std::move(request)).wait(io_.waitScope);
  }

  HttpRequest get(const std::string& url, size_t maxBody = 1024) {
    HttpRequest request;
    request.url = url;
    request.maxBodyBytes = maxBody;
    request.progressTimeout = 2000ms;
    return request;
  }

  // Held by pointer: KJ destructors may throw, which a test fixture's destructor must not.
  std::unique_ptr<kj::AsyncIoContext> context_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  kj::AsyncIoContext& io_ = *context_;
  HttpClient client_;
};

TEST_F(HttpClientTest, ReturnsBodyAndLowerCaseHeaders) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd, okResponse("hello", "Docker-Content-Digest: sha256:abc\r\n"));
  });
  HttpRequest request = get(server.url("/v2/"));
  request.headers.push_back("Accept: application/json");
  HttpResponse response = run(std::move(request));
  EXPECT_EQ(response.error, TransferError::NONE) << response.errorMessage;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(response.headers.get("docker-content-digest"), "sha256:abc");
  ASSERT_EQ(server.heads().size(), 1u);
  EXPECT_NE(server.heads()[0].find("Accept: application/json"), std::string::npos);
}

TEST_F(HttpClientTest, RejectsBodyOverItsBound) {
  RawServer server(
      [](const std::string&, int fd) { sendAll(fd, okResponse(std::string(2000, 'x'))); });
  HttpResponse response = run(get(server.url("/big"), 1000));
  EXPECT_EQ(response.error, TransferError::TOO_LARGE);
  EXPECT_NE(response.errorMessage.find("1000"), std::string::npos) << response.errorMessage;
}

TEST_F(HttpClientTest, RejectsChunkedBodyOverItsBound) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 10; ++i)
      sendAll(fd, "c8\r\n" + std::string(200, 'y') + "\r\n");
    sendAll(fd, "0\r\n\r\n");
  });
  HttpResponse response = run(get(server.url("/chunked"), 1000));
  EXPECT_EQ(response.error, TransferError::TOO_LARGE);
}

TEST_F(HttpClientTest, RejectsHeaderFlood) {
  RawServer server([](const std::string&, int fd) {
    std::string headers;
    for (int i = 0; i < 2000; ++i)
      headers += "X-Filler-" + std::to_string(i) + ": " + std::string(50, 'z') + "\r\n";
    sendAll(fd, okResponse("", headers));
  });
  HttpResponse response = run(get(server.url("/headers")));
  EXPECT_EQ(response.error, TransferError::TOO_LARGE);
  EXPECT_NE(response.errorMessage.find("headers"), std::string::npos) << response.errorMessage;
}

TEST_F(HttpClientTest, KeepsOnlyTheStartOfAnErrorBody) {
  RawServer server([](const std::string&, int fd) {
    std::string body(1024 * 1024, 'e');
    sendAll(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body);
  });
  HttpResponse response = run(get(server.url("/missing")));
  EXPECT_EQ(response.error, TransferError::NONE) << response.errorMessage;
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body.size(), MAX_ERROR_BODY_BYTES);
}

TEST_F(HttpClientTest, FailsStalledTransferAfterProgressTimeout) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(10, 's'));
    std::this_thread::sleep_for(1500ms);
  });
  HttpRequest request = get(server.url("/stall"));
  request.progressTimeout = 500ms;
  auto started = std::chrono::steady_clock::now();
  HttpResponse response = run(std::move(request));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(response.error, TransferError::STALLED) << response.errorMessage;
  EXPECT_LT(elapsed, 1400ms);
  EXPECT_GE(elapsed, 500ms);
}

TEST_F(HttpClientTest, ReportsRefusedConnection) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  close(fd);  // bound but never listening: connections are refused
  HttpResponse response = run(get("http://127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_EQ(response.error, TransferError::CONNECT) << response.errorMessage;
}

TEST_F(HttpClientTest, ReportsDroppedConnection) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(50, 'd'));
  });
  HttpRequest request = get(server.url("/drop"));
  request.sink = std::make_unique<StringSink>();
  HttpResponse response = run(std::move(request));
  EXPECT_EQ(response.error, TransferError::DROPPED) << response.errorMessage;
  EXPECT_EQ(response.bodyBytes, 50u);
  ASSERT_NE(response.sink, nullptr);
  EXPECT_EQ(static_cast<StringSink&>(*response.sink).received_.size(), 50u);
}

TEST_F(HttpClientTest, SinkGetsBodyAndRangeIsRequested) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd,
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 7-9/10\r\nContent-Length: "
            "3\r\n\r\nabc");
  });
  HttpRequest request = get(server.url("/blob"));
  request.sink = std::make_unique<StringSink>(7);
  HttpResponse response = run(std::move(request));
  EXPECT_EQ(response.error, TransferError::NONE) << response.errorMessage;
  EXPECT_EQ(response.status, 206);
  EXPECT_TRUE(response.body.empty());
  auto& sink = static_cast<StringSink&>(*response.sink);
  EXPECT_EQ(sink.received_, "abc");
  EXPECT_EQ(sink.status_, 206);
  ASSERT_EQ(server.heads().size(), 1u);
  EXPECT_NE(server.heads()[0].find("Range: bytes=7-"), std::string::npos) << server.heads()[0];
}

TEST_F(HttpClientTest, SinkCanAbort) {
  RawServer server(
      [](const std::string&, int fd) { sendAll(fd, okResponse(std::string(500, 'q'))); });
  HttpRequest request = get(server.url("/blob"));
  request.sink = std::make_unique<StringSink>();
  HttpResponse response = run(std::move(request));
  EXPECT_EQ(response.error, TransferError::SINK);
  EXPECT_EQ(response.errorMessage, "sink full");
}

TEST_F(HttpClientTest, ErrorBodyDoesNotGoToSink) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd,
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 6\r\nWww-Authenticate: Basic "
            "realm=x\r\n\r\ndenied");
  });
  HttpRequest request = get(server.url("/blob"));
  request.sink = std::make_unique<StringSink>();
  HttpResponse response = run(std::move(request));
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.body, "denied");
  EXPECT_TRUE(static_cast<StringSink&>(*response.sink).received_.empty());
  EXPECT_EQ(response.headers.get("www-authenticate"), "Basic realm=x");
}

TEST_F(HttpClientTest, ReportsRedirectTarget) {
  RawServer server([](const std::string&, int fd) {
    sendAll(fd,
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere/blob\r\nContent-Length: "
            "0\r\n\r\n");
  });
  HttpResponse response = run(get(server.url("/v2/a/blobs/x")));
  EXPECT_EQ(response.status, 307);
  EXPECT_EQ(response.redirectUrl, server.url("/elsewhere/blob"));
  EXPECT_EQ(server.heads().size(), 1u);
}

TEST_F(HttpClientTest, RunsTransfersInParallel) {
  RawServer server([](const std::string&, int fd) {
    std::this_thread::sleep_for(700ms);
    sendAll(fd, okResponse("done"));
  });
  auto started = std::chrono::steady_clock::now();
  auto a = client_.perform(get(server.url("/a")));
  auto b = client_.perform(get(server.url("/b")));
  auto c = client_.perform(get(server.url("/c")));
  EXPECT_EQ(a.wait(io_.waitScope).body, "done");
  EXPECT_EQ(b.wait(io_.waitScope).body, "done");
  EXPECT_EQ(c.wait(io_.waitScope).body, "done");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
}

TEST_F(HttpClientTest, DroppingThePromiseCancels) {
  std::atomic<bool> peerClosed{false};
  RawServer server([&peerClosed](const std::string&, int fd) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    // Keep writing until the client goes away.
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(50ms);
      if (::send(fd, "x", 1, MSG_NOSIGNAL) < 0) {
        peerClosed = true;
        return;
      }
    }
  });
  {
    auto promise = client_.perform(get(server.url("/slow"), 2000000));
    io_.provider->getTimer().afterDelay(200 * kj::MILLISECONDS).wait(io_.waitScope);
  }
  for (int i = 0; i < 60 && !peerClosed; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(peerClosed);
  RawServer other([](const std::string&, int fd) { sendAll(fd, okResponse("again")); });
  EXPECT_EQ(run(get(other.url("/"))).body, "again");
}

}  // namespace
}  // namespace crio::imaged
