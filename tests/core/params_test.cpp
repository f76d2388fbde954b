#include "core/params.hpp"

#include <gtest/gtest.h>

using namespace converge::core;

TEST(Params, SizesAreBinary) {
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size("64KiB"), 65536u);
  EXPECT_EQ(*parse_size("64K"), 65536u);
  EXPECT_EQ(*parse_size("1.5GiB"), 1610612736u);
  EXPECT_EQ(*parse_size("2M"), 2097152u);
  EXPECT_FALSE(parse_size("12 parsecs").ok());
  EXPECT_FALSE(parse_size("-1").ok());
  EXPECT_FALSE(parse_size("1.5").ok());
  EXPECT_NE(parse_size("64XB").error().find("unknown size suffix"), std::string::npos);
}

TEST(Params, IntegersRealsBools) {
  EXPECT_EQ(*parse_integer("10k"), 10000);
  EXPECT_EQ(*parse_integer("80M"), 80000000);
  EXPECT_EQ(*parse_integer("-3"), -3);
  EXPECT_FALSE(parse_integer("2.5").ok());
  EXPECT_FALSE(parse_integer("ten").ok());
  EXPECT_DOUBLE_EQ(*parse_real("1e-3"), 1e-3);
  EXPECT_FALSE(parse_real("1e-3x").ok());
  EXPECT_TRUE(*parse_bool("yes"));
  EXPECT_FALSE(*parse_bool("off"));
  EXPECT_FALSE(parse_bool("maybe").ok());
}

namespace {
std::vector<ParamSpec> specs() {
  ParamSpec n{"n", ParamType::integer, "1000", "elements", {}, 1, 1e9};
  ParamSpec size{"size", ParamType::size, "auto", "bytes", {}, std::nullopt, std::nullopt};
  ParamSpec kind{"kind", ParamType::choice, "read", "which kernel", {"read", "write"}, {}, {}};
  return {n, size, kind};
}
}  // namespace

TEST(Params, DefaultsOverridesAndResolve) {
  auto v = ParamValues::make(specs(), {{"n", "2k"}});
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->integer("n"), 2000);
  EXPECT_TRUE(v->is_auto("size"));
  EXPECT_EQ(v->text("kind"), "read");
  v->resolve("size", "65536");
  EXPECT_EQ(v->size("size"), 65536u);
  EXPECT_EQ(v->all().at("size"), "65536");
}

TEST(Params, ErrorsNameTheParameterAndNearestNames) {
  auto unknown = ParamValues::make(specs(), {{"sise", "1"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("unknown parameter 'sise'"), std::string::npos);
  EXPECT_NE(unknown.error().find("did you mean 'size'"), std::string::npos);
  auto low = ParamValues::make(specs(), {{"n", "0"}});
  ASSERT_FALSE(low.ok());
  EXPECT_NE(low.error().find("parameter 'n'"), std::string::npos);
  EXPECT_NE(low.error().find("minimum"), std::string::npos);
  auto choice = ParamValues::make(specs(), {{"kind", "raed"}});
  ASSERT_FALSE(choice.ok());
  EXPECT_NE(choice.error().find("did you mean 'read'"), std::string::npos);
  auto bad = ParamValues::make(specs(), {{"size", "lots"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("parameter 'size'"), std::string::npos);
}

TEST(Params, SplitAssignment) {
  auto kv = split_assignment("n=80M");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->first, "n");
  EXPECT_EQ(kv->second, "80M");
  EXPECT_FALSE(split_assignment("n").ok());
  EXPECT_FALSE(split_assignment("=3").ok());
}
