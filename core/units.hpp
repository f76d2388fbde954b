#pragma once
// Display of figures: base units are stored; these convert only for people to read.
#include <cstdint>
#include <string>

namespace converge::core {

/// "159.2 GFLOP/s", "27.81 GB/s" (decimal prefixes, 4 significant digits), from a base-unit
/// value and unit ("FLOP/s", "B/s", "1/s"); seconds as "83.1 ns", "1.25 ms"; others verbatim.
std::string format_value(double value, const std::string& unit);
/// Seconds with a fitting prefix: "812 ps", "83.10 ns", "1.250 ms", "2.000 s".
std::string format_seconds(double seconds);
/// Bytes with binary prefixes: "64 KiB", "1.5 GiB".
std::string format_bytes(std::uint64_t bytes);
/// Value with a decimal SI prefix and unit: (1.592e11, "FLOP/s") -> "159.2 GFLOP/s".
std::string format_si(double value, const std::string& unit);

}  // namespace converge::core
