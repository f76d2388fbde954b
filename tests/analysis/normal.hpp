#pragma once
// Normal draws for the statistics tests, by Box-Muller from our own mt19937_64 words: the
// same numbers on every standard library (std::normal_distribution's algorithm is
// implementation-defined), so known-answer tests are reproducible everywhere.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace converge::analysis::test_support {

class Normal {
 public:
  explicit Normal(std::uint64_t seed) : rng_(seed) {}
  double operator()(double mean, double sd) {
    const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
    const double u2 = uniform();
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  double uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::mt19937_64 rng_;
};

}  // namespace converge::analysis::test_support
