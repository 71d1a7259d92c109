// Small text helpers for the reports (Markdown tables, SVG plots): one printf-formatted number, and
// text escaped for XML/SVG content and attribute values.
#pragma once

#include <cstdio>
#include <string>

namespace pocket {

// fmt("%.1f MiB", x): one double through a printf format (the result is at most 63 characters).
inline std::string fmt(const char* printf_format, double v) {
  char b[64];
  std::snprintf(b, sizeof b, printf_format, v);
  return b;
}

inline std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '\'')
      o += "&apos;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

}  // namespace pocket
