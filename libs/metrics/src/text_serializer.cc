#include "shoal/metrics/text_serializer.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace shoal::metrics {

namespace {

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    std::to_chars_result r;
    if (v == std::trunc(v) && std::fabs(v) < 1e15) {
      r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    } else {
      r = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact round trip
    }
    out.append(buf, r.ptr);
  }
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Label values: \ -> \\, " -> \", newline -> \n.
void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

// HELP text: \ -> \\, newline -> \n.
void append_help(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

// {a="x",b="y"[,le="..."]}; nothing if there are no labels at all.
void append_labels(std::string& out, const Labels& labels, const char* le = nullptr,
                   double le_value = 0) {
  if (labels.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    append_label_value(out, v);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += le;
    out += "=\"";
    append_value(out, le_value);
    out += '"';
  }
  out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const Labels& labels, double value) {
  out += name;
  out += suffix;
  append_labels(out, labels);
  out += ' ';
  append_value(out, value);
  out += '\n';
}

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string format_value(double v) {
  std::string s;
  append_value(s, v);
  return s;
}

void TextSerializer::Serialize(const std::vector<MetricFamily>& families, std::string& out) const {
  for (const auto& f : families) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    append_help(out, f.help);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += type_name(f.type);
    out += '\n';
    for (const auto& m : f.metrics) {
      if (f.type != MetricType::kHistogram) {
        append_sample(out, f.name, "", m.labels, m.value);
        continue;
      }
      const auto& h = m.histogram;
      for (size_t i = 0; i < h.cumulative.size(); ++i) {
        out += f.name;
        out += "_bucket";
        double le = i < h.upper_bounds.size() ? h.upper_bounds[i] : HUGE_VAL;
        append_labels(out, m.labels, "le", le);
        out += ' ';
        append_uint(out, h.cumulative[i]);
        out += '\n';
      }
      append_sample(out, f.name, "_sum", m.labels, h.sum);
      out += f.name;
      out += "_count";
      append_labels(out, m.labels);
      out += ' ';
      append_uint(out, h.count);
      out += '\n';
    }
  }
}

std::string TextSerializer::Serialize(const std::vector<MetricFamily>& families) const {
  std::string out;
  Serialize(families, out);
  return out;
}

std::string serialize(const Registry& registry) {
  return TextSerializer().Serialize(registry.Collect());
}

}  // namespace shoal::metrics
