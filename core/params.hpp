#pragma once
// Benchmark parameters: declared with a type, a default and a one-line doc; given on the
// command line as name=value; validated before anything runs.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.hpp"

namespace converge::core {

enum class ParamType { integer, size, real, string, boolean, choice };

/// One declared parameter. `default_value` is text in the same syntax a user types;
/// "auto" is allowed for any type and means the benchmark resolves it in setup().
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::integer;
  std::string default_value;
  std::string doc;                   ///< one line, shown by `converge list`
  std::vector<std::string> choices;  ///< for ParamType::choice
  std::optional<double> min;         ///< inclusive lower bound (integer, size, real)
  std::optional<double> max;         ///< inclusive upper bound
};

std::string to_string(ParamType t);

/// Parses a size: plain bytes or with a suffix K/KB/KiB, M/MB/MiB, G/GB/GiB (all binary, 1024).
Expected<std::uint64_t> parse_size(const std::string& text);
/// Parses an integer with an optional k/M/G decimal suffix ("10k" = 10000).
Expected<std::int64_t> parse_integer(const std::string& text);
Expected<double> parse_real(const std::string& text);
Expected<bool> parse_bool(const std::string& text);

/// Checks one value against its spec ("auto" always passes). The error names the parameter.
Expected<void> validate_value(const ParamSpec& spec, const std::string& value);

/// Parameter values of one benchmark instance: every declared parameter has a value (its
/// default unless given). Benchmarks read them typed; setup() may replace "auto" by the
/// resolved value with resolve(), so that results record what actually ran.
class ParamValues {
 public:
  ParamValues() = default;
  /// Builds values from specs and "name=value" overrides. Unknown names and bad values are
  /// errors whose message names the nearest declared parameters.
  static Expected<ParamValues> make(const std::vector<ParamSpec>& specs,
                                    const std::map<std::string, std::string>& given);

  bool is_auto(const std::string& name) const;
  std::string text(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  std::uint64_t size(const std::string& name) const;
  double real(const std::string& name) const;
  bool boolean(const std::string& name) const;

  /// Records the value a benchmark resolved (for "auto" parameters, or a clamp).
  void resolve(const std::string& name, const std::string& value);
  const std::map<std::string, std::string>& all() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

/// Splits "name=value"; error when there is no '=' or the name is empty.
Expected<std::pair<std::string, std::string>> split_assignment(const std::string& text);

}  // namespace converge::core
