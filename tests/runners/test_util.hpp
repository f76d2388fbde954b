#pragma once
// Helpers shared by the runners' unit tests.
#include <sstream>
#include <string>
#include <vector>

#include "core/expected.hpp"

namespace converge::runners::testing {

template <typename T>
std::string error_of(const converge::core::Expected<T>& e) {
  return e ? std::string("(no error)") : e.error();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

inline const std::string kPartitionKeys =
    "name, description, launcher, slurm, mpirun, resources, environment, backends, energy, min_clock_fraction, "
    "peaks, reference, storage";

// A one-partition site whose partition body (lines from 4 on) is `body`.
inline std::string site_with(const std::string& body) {
  return "name: s\n"             // 1
         "partitions:\n"         // 2
         "  - name: a\n"         // 3
         + body;                 // 4...
}

}  // namespace converge::runners::testing
