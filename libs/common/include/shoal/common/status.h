#pragma once
// Status and Result<T>: how errors travel inside the fleet.
//
// A Status is cheap to copy when OK (no allocation). Codes mirror shoal.common.v1.Code so
// they cross NATS unchanged. DynamoDB error types and messages are NOT produced here: the
// router's error module (libs/api/errors.h) is the one place that turns a Status into the
// JSON a client sees. A Status message is for operators and for that converter.

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace shoal {

// Keep the numbers equal to shoal.common.v1.Code (proto/shoal/common/v1/status.proto).
enum class Code : int {
  kOk = 1,
  kInvalidArgument = 2,    // bad input from outside; message says what
  kNotFound = 3,           // table / item / replica does not exist
  kAlreadyExists = 4,      // table already exists
  kFailedPrecondition = 5, // e.g. table is not ACTIVE
  kUnavailable = 6,        // retry later (no node, NATS down, timeout)
  kInternal = 7,           // a bug or corrupted state
  kStaleRoute = 8,         // replica not here / not leader / map epoch moved on
  kResourceExhausted = 9,  // limits
  kDeadlineExceeded = 10,
};

std::string_view code_name(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message)
      : rep_(code == Code::kOk ? nullptr
                               : std::make_shared<Rep>(Rep{code, std::move(message)})) {}

  static Status ok() { return Status(); }
  bool is_ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  const std::string& message() const;
  std::string to_string() const;

 private:
  struct Rep {
    Code code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;
};

inline Status invalid_argument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status already_exists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status internal_error(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status stale_route(std::string m) { return {Code::kStaleRoute, std::move(m)}; }
inline Status failed_precondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).is_ok() && "Result from an OK status has no value");
  }

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace shoal

#define SHOAL_CONCAT_INNER(a, b) a##b
#define SHOAL_CONCAT(a, b) SHOAL_CONCAT_INNER(a, b)

#define SHOAL_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::shoal::Status shoal_status_ = (expr);      \
    if (!shoal_status_.is_ok()) return shoal_status_; \
  } while (0)

#define SHOAL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define SHOAL_ASSIGN_OR_RETURN(lhs, expr) \
  SHOAL_ASSIGN_OR_RETURN_IMPL(SHOAL_CONCAT(shoal_result_, __LINE__), lhs, expr)
