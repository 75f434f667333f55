#pragma once
// Formats the status line and header block of a response (everything before the body).

#include <string>

#include "shoal/http/message.h"

namespace shoal::http::detail {

struct HeadOptions {
  bool close = false;       // add "Connection: close"
  bool keep_alive = false;  // add "Connection: keep-alive" (HTTP/1.0 clients)
};

// Overwrites `out` (its capacity is reused). Adds Content-Length (body size) unless the
// status has no body (1xx, 204, 304), and Date unless the response has one.
void format_head(std::string& out, const Response& r, HeadOptions options);

// True if the handler asked to close ("Connection: close").
bool wants_close(const Response& r);

}  // namespace shoal::http::detail
