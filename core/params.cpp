#include "core/params.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "core/benchmark.hpp"

namespace converge::core {

std::string to_string(ParamType t) {
  switch (t) {
    case ParamType::integer: return "integer";
    case ParamType::size: return "size";
    case ParamType::real: return "real";
    case ParamType::string: return "string";
    case ParamType::boolean: return "bool";
    case ParamType::choice: return "choice";
  }
  return "?";
}

namespace {

// Splits "64KiB" into 64 and "KiB"; the number may be real ("1.5G").
bool split_number(const std::string& text, double& number, std::string& suffix) {
  if (text.empty()) return false;
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  number = std::strtod(begin, &end);
  if (end == begin || errno == ERANGE || !std::isfinite(number)) return false;
  suffix.assign(end);
  return true;
}

}  // namespace

Expected<std::uint64_t> parse_size(const std::string& text) {
  double number = 0;
  std::string suffix;
  if (!split_number(text, number, suffix) || number < 0)
    return make_error(fmt::format("'{}' is not a size (examples: 4096, 64KiB, 1.5GiB)", text));
  static const std::pair<const char*, double> units[] = {
      {"", 1},        {"B", 1},
      {"K", 0x1p10},  {"KB", 0x1p10}, {"KiB", 0x1p10}, {"k", 0x1p10},
      {"M", 0x1p20},  {"MB", 0x1p20}, {"MiB", 0x1p20},
      {"G", 0x1p30},  {"GB", 0x1p30}, {"GiB", 0x1p30},
      {"T", 0x1p40},  {"TB", 0x1p40}, {"TiB", 0x1p40}};
  for (const auto& [name, factor] : units) {
    if (suffix == name) {
      const double bytes = number * factor;
      if (bytes > 0x1p63) return make_error(fmt::format("size '{}' is too large", text));
      if (bytes != std::floor(bytes))
        return make_error(fmt::format("size '{}' is not a whole number of bytes", text));
      return static_cast<std::uint64_t>(bytes);
    }
  }
  return make_error(fmt::format("'{}': unknown size suffix '{}' (use K/KiB, M/MiB, G/GiB, T/TiB; all binary)",
                                text, suffix));
}

Expected<std::int64_t> parse_integer(const std::string& text) {
  double number = 0;
  std::string suffix;
  if (!split_number(text, number, suffix))
    return make_error(fmt::format("'{}' is not an integer", text));
  double factor = 1;
  if (suffix == "k" || suffix == "K") factor = 1e3;
  else if (suffix == "M") factor = 1e6;
  else if (suffix == "G") factor = 1e9;
  else if (!suffix.empty())
    return make_error(fmt::format("'{}' is not an integer (suffixes: k, M, G)", text));
  const double value = number * factor;
  if (value != std::floor(value) || std::fabs(value) > 0x1p62)
    return make_error(fmt::format("'{}' is not an integer", text));
  return static_cast<std::int64_t>(value);
}

Expected<double> parse_real(const std::string& text) {
  double number = 0;
  std::string suffix;
  if (!split_number(text, number, suffix) || !suffix.empty())
    return make_error(fmt::format("'{}' is not a number", text));
  return number;
}

Expected<bool> parse_bool(const std::string& text) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
  if (text == "0" || text == "false" || text == "no" || text == "off") return false;
  return make_error(fmt::format("'{}' is not a boolean (true/false, yes/no, on/off, 1/0)", text));
}

Expected<void> validate_value(const ParamSpec& spec, const std::string& value) {
  if (value == "auto") return {};
  double numeric = 0;
  bool is_numeric = false;
  std::string error;
  switch (spec.type) {
    case ParamType::integer: {
      auto v = parse_integer(value);
      if (!v) error = v.error();
      else { numeric = static_cast<double>(*v); is_numeric = true; }
      break;
    }
    case ParamType::size: {
      auto v = parse_size(value);
      if (!v) error = v.error();
      else { numeric = static_cast<double>(*v); is_numeric = true; }
      break;
    }
    case ParamType::real: {
      auto v = parse_real(value);
      if (!v) error = v.error();
      else { numeric = *v; is_numeric = true; }
      break;
    }
    case ParamType::boolean: {
      auto v = parse_bool(value);
      if (!v) error = v.error();
      break;
    }
    case ParamType::choice: {
      bool found = false;
      for (const auto& c : spec.choices) found = found || c == value;
      if (!found) {
        auto near = nearest_names(value, spec.choices, 3);
        error = fmt::format("'{}' is not one of {}{}", value, fmt::join(spec.choices, ", "),
                            near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near.front()));
      }
      break;
    }
    case ParamType::string: break;
  }
  if (error.empty() && is_numeric) {
    if (spec.min && numeric < *spec.min)
      error = fmt::format("{} is below the minimum {}", value, *spec.min);
    else if (spec.max && numeric > *spec.max)
      error = fmt::format("{} is above the maximum {}", value, *spec.max);
  }
  if (!error.empty()) return make_error(fmt::format("parameter '{}': {}", spec.name, error));
  return {};
}

Expected<ParamValues> ParamValues::make(const std::vector<ParamSpec>& specs,
                                        const std::map<std::string, std::string>& given) {
  ParamValues out;
  for (const auto& s : specs) out.values_[s.name] = s.default_value;
  for (const auto& [name, value] : given) {
    auto it = std::find_if(specs.begin(), specs.end(), [&](const ParamSpec& s) { return s.name == name; });
    if (it == specs.end()) {
      std::vector<std::string> names;
      for (const auto& s : specs) names.push_back(s.name);
      auto near = nearest_names(name, names, 3);
      return make_error(fmt::format("unknown parameter '{}'{}; parameters are: {}", name,
                                    near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near.front()),
                                    names.empty() ? "(none)" : fmt::format("{}", fmt::join(names, ", "))));
    }
    if (auto ok = validate_value(*it, value); !ok) return make_error(ok.error());
    out.values_[name] = value;
  }
  return out;
}

bool ParamValues::is_auto(const std::string& name) const { return text(name) == "auto"; }

std::string ParamValues::text(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("undeclared parameter '" + name + "'");
  return it->second;
}

// Typed getters throw on "auto" or bad text: a benchmark must resolve() "auto" first, and
// values were validated in make(), so a throw here is a programming error the harness reports.
std::int64_t ParamValues::integer(const std::string& name) const {
  auto v = parse_integer(text(name));
  if (!v) throw std::logic_error(fmt::format("parameter '{}': {}", name, v.error()));
  return *v;
}
std::uint64_t ParamValues::size(const std::string& name) const {
  auto v = parse_size(text(name));
  if (!v) throw std::logic_error(fmt::format("parameter '{}': {}", name, v.error()));
  return *v;
}
double ParamValues::real(const std::string& name) const {
  auto v = parse_real(text(name));
  if (!v) throw std::logic_error(fmt::format("parameter '{}': {}", name, v.error()));
  return *v;
}
bool ParamValues::boolean(const std::string& name) const {
  auto v = parse_bool(text(name));
  if (!v) throw std::logic_error(fmt::format("parameter '{}': {}", name, v.error()));
  return *v;
}

void ParamValues::resolve(const std::string& name, const std::string& value) { values_[name] = value; }

Expected<std::pair<std::string, std::string>> split_assignment(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return make_error(fmt::format("'{}' is not name=value", text));
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

}  // namespace converge::core
