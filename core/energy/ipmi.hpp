#pragma once
// Whole-node power through IPMI DCMI (`ipmitool dcmi power reading`): a coarse power meter
// (one "node" domain, watts, updated by the BMC about once a second or per its stated
// sampling period), integrated by the recorder.
#include <memory>
#include <string>
#include <vector>

#include "core/energy/meter.hpp"

namespace converge::core::energy {

/// What `ipmitool dcmi power reading` prints, parsed.
struct DcmiReading {
  double watts = 0;               ///< "Instantaneous power reading"
  double minimum = 0, maximum = 0, average = 0;  ///< over the sampling period
  double sampling_period_s = 0;   ///< "Sampling period" (seconds)
  bool active = false;            ///< "Power reading state is: activated"
};

/// Parses the command's output; the error says what is missing or malformed, or quotes the
/// BMC's own error line.
Expected<DcmiReading> parse_dcmi_power_reading(const std::string& output);

struct IpmiOptions {
  std::vector<std::string> command = {"ipmitool", "dcmi", "power", "reading"};
};

Expected<std::unique_ptr<Meter>> open_ipmi(const IpmiOptions& options = {});

}  // namespace converge::core::energy
