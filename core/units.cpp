#include "core/units.hpp"

#include <cmath>

#include <fmt/format.h>

namespace converge::core {

namespace {

// Four significant digits: 1.234, 12.34, 123.4, 1234 (with the prefix chosen so < 1000).
std::string four_digits(double v) {
  const double a = std::fabs(v);
  if (a >= 100) return fmt::format("{:.1f}", v);
  if (a >= 10) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3f}", v);
}

}  // namespace

std::string format_si(double value, const std::string& unit) {
  if (!std::isfinite(value)) return fmt::format("{} {}", value, unit);
  static const char* prefixes[] = {"", "k", "M", "G", "T", "P", "E"};
  int i = 0;
  double v = value;
  while (std::fabs(v) >= 1000 && i < 6) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{} {}{}", four_digits(v), prefixes[i], unit);
}

std::string format_seconds(double s) {
  if (!std::isfinite(s)) return fmt::format("{} s", s);
  const double a = std::fabs(s);
  if (a == 0) return "0 s";
  if (a < 1e-9) return four_digits(s * 1e12) + " ps";
  if (a < 1e-6) return four_digits(s * 1e9) + " ns";
  if (a < 1e-3) return four_digits(s * 1e6) + " us";
  if (a < 1) return four_digits(s * 1e3) + " ms";
  return four_digits(s) + " s";
}

std::string format_bytes(std::uint64_t bytes) {
  static const char* prefixes[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int i = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024 && i < 5) {
    v /= 1024;
    ++i;
  }
  if (i == 0) return fmt::format("{} B", bytes);
  if (v == std::floor(v)) return fmt::format("{:.0f} {}", v, prefixes[i]);
  return fmt::format("{} {}", four_digits(v), prefixes[i]);
}

std::string format_value(double value, const std::string& unit) {
  if (unit == "s") return format_seconds(value);
  if (unit == "B") return format_bytes(static_cast<std::uint64_t>(value));
  if (unit == "1/s") return format_si(value, "/s");  // "17.78 k/s", not "17.78 k1/s"
  return format_si(value, unit);
}

}  // namespace converge::core
