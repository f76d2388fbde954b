#pragma once
// Build-time facts about this copy of converge (generated: core/version.cpp.in).
namespace converge::core {
const char* suite_version();  ///< "0.1.0"
const char* git_revision();   ///< git describe --always --dirty at configure time
const char* build_type();     ///< CMAKE_BUILD_TYPE
const char* build_flags();    ///< C++ flags the suite was compiled with
}  // namespace converge::core
