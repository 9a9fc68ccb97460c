// A loopback HTTP/1.1 server for unit tests. Each connection's request head goes to a handler,
// which responds by writing raw bytes to the socket, so a test can send anything a broken or
// hostile server might.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace crio::imaged {

// A loopback TCP server that hands each request's head to a handler, which writes raw bytes.
class RawServer {
 public:
  using Handler = std::function<void(const std::string& head, int fd)>;

  explicit RawServer(Handler handler) : handler_(std::move(handler)) {
    listenFd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listenFd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listenFd_, 16);
    socklen_t length = sizeof(address);
    getsockname(listenFd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { acceptLoop(); });
  }

  ~RawServer() {
    stopping_ = true;
    shutdown(listenFd_, SHUT_RDWR);
    thread_.join();
    close(listenFd_);
    for (auto& worker : workers_)
      worker.join();
  }

  int port() const { return port_; }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<std::string> heads() {
    std::lock_guard<std::mutex> lock(mutex_);
    return heads_;
  }

 private:
  void acceptLoop() {
    while (!stopping_) {
      int fd = accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      workers_.emplace_back([this, fd] {
        std::string head;
        char c;
        // A TLS handshake (record type 22) is refused by closing, as a plain-HTTP server does
        // in effect, so that clients probing https fall back at once.
        if (recv(fd, &c, 1, MSG_PEEK) == 1 && c == 0x16) {
          close(fd);
          return;
        }
        while (head.find("\r\n\r\n") == std::string::npos && read(fd, &c, 1) == 1)
          head.push_back(c);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          heads_.push_back(head);
        }
        handler_(head, fd);
        close(fd);
      });
    }
  }

  Handler handler_;
  int listenFd_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::vector<std::string> heads_;
};

// Writes all of `text`, stopping quietly when the peer is gone.
inline void sendAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

inline std::string okResponse(const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra + "\r\n" + body;
}

}  // namespace crio::imaged
