#pragma once
// A blocking POSIX socket for tests that need byte-level control (garbage, pipelining,
// half-sent bodies), with a receive timeout so a bug fails a test instead of hanging it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace shoal::http::testing {

class RawSocket {
 public:
  explicit RawSocket(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect failed");
    }
    set_timeout(timeout);
  }
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  void set_timeout(std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  // False if the peer has gone (EPIPE/ECONNRESET).
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Reads one response: head and, unless `no_body`, a Content-Length body. Returns "" on
  // EOF/error/timeout before a complete response.
  std::string read_response(bool no_body = false) {
    for (;;) {
      auto end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t head_len = end + 4;
        size_t body_len = 0;
        if (!no_body) {
          std::string lower;
          for (char c : buf_.substr(0, head_len)) lower += static_cast<char>(std::tolower(c));
          auto cl = lower.find("\r\ncontent-length:");
          if (cl != std::string::npos) body_len = std::stoul(lower.substr(cl + 17));
        }
        if (buf_.size() >= head_len + body_len) {
          std::string out = buf_.substr(0, head_len + body_len);
          buf_.erase(0, head_len + body_len);
          return out;
        }
      }
      if (!fill()) return {};
    }
  }

  // True if the peer closes (EOF or reset) before the receive timeout; discards data.
  bool wait_closed() {
    buf_.clear();
    for (;;) {
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

  const std::string& buffered() const { return buf_; }

 private:
  bool fill() {
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
};

inline unsigned status_of(std::string_view response) {
  // "HTTP/1.1 200 OK"
  if (response.size() < 12) return 0;
  return static_cast<unsigned>(std::stoi(std::string(response.substr(9, 3))));
}

}  // namespace shoal::http::testing
