#include "core/result.hpp"

namespace converge::core {

std::string to_string(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::failed: return "failed";
    case Status::skipped: return "skipped";
    case Status::invalid: return "invalid";
  }
  return "?";
}

std::string to_string(VerifyStatus s) {
  switch (s) {
    case VerifyStatus::passed: return "passed";
    case VerifyStatus::failed: return "failed";
    case VerifyStatus::not_checked: return "not_checked";
  }
  return "?";
}

std::string to_string(Direction d) {
  return d == Direction::higher_is_better ? "higher_is_better" : "lower_is_better";
}

std::string to_string(MetricKind k) { return k == MetricKind::rate ? "rate" : "time_per_item"; }

std::string to_string(Quantity q) {
  switch (q) {
    case Quantity::flops: return "flops";
    case Quantity::bytes: return "bytes";
    case Quantity::items: return "items";
    case Quantity::bus_bytes: return "bus_bytes";
  }
  return "?";
}

}  // namespace converge::core
