// Reports: the tables in Markdown and CSV from a hand-built run document (exact lines), the
// energy columns saying "not measured" with the reason, CSV quoting, regression rows and the
// partition comparison, and the HTML page: one div and one vegaEmbed call per chart, the
// libraries inlined, nothing able to close a <script> element early.
#include "analysis/report.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace converge::analysis;
using converge::results::json;

namespace {

// An ok result with a rate metric over `bytes` (and `flops`) per repetition, from `samples`.
json rate_result(const std::string& benchmark, int instance, const json& params, const std::string& metric,
                 const std::string& unit, const std::string& quantity, double flops, double bytes,
                 const std::vector<double>& samples, double fraction = -1) {
  std::vector<double> s = samples;
  std::sort(s.begin(), s.end());
  const double median = s.size() % 2 ? s[s.size() / 2] : (s[s.size() / 2 - 1] + s[s.size() / 2]) / 2;
  const double work = quantity == "flops" ? flops : bytes;
  json m = {{"name", metric},
            {"unit", unit},
            {"kind", "rate"},
            {"quantity", quantity},
            {"direction", "higher_is_better"},
            {"value", work / median},
            {"best", work / s.front()},
            {"ci", {{"valid", true}, {"low", work / s.back()}, {"high", work / s.front()}}},
            {"peak", nullptr},
            {"fraction_of_peak", nullptr}};
  if (fraction >= 0) m["fraction_of_peak"] = fraction;
  return {{"benchmark", benchmark},
          {"family", "micro"},
          {"backend", "cpu"},
          {"instance", instance},
          {"host", "node01"},
          {"rank", 0},
          {"params", params},
          {"status", "ok"},
          {"reason", ""},
          {"samples_s", samples},
          {"time", {{"n", samples.size()}, {"median", median}, {"min", s.front()}, {"max", s.back()}, {"cv", 0.02}}},
          {"work", {{"flops", flops}, {"bytes", bytes}, {"items", 1}}},
          {"metrics", json::array({m})},
          {"verification", {{"status", "passed"}}},
          {"energy", {{"measured", false}, {"reason", "no energy meter configured"}}}};
}

json skipped_result(const std::string& benchmark, int instance, const std::string& reason) {
  return {{"benchmark", benchmark}, {"instance", instance}, {"host", "node01"}, {"rank", 0},
          {"params", {{"threads", "2"}}}, {"status", "skipped"}, {"reason", reason}, {"metrics", json::array()},
          {"energy", {{"measured", false}, {"reason", "no energy meter configured"}}}};
}

// Triad at n = 1M, 2M, 4M (20 GB/s each: 24 B and 2 FLOP per element), DGEMM n=128, fp16 skipped.
json run_doc(const std::string& id, const std::string& partition, double slowdown = 1.0) {
  auto times = [&](double t) {
    std::vector<double> v;
    for (int i = 0; i < 10; ++i) v.push_back(t * slowdown * (1 + 0.001 * (i - 4.5)));
    return v;
  };
  json plan = json::array(), results = json::array();
  int i = 0;
  for (const char* n : {"1M", "2M", "4M"}) {
    const double elems = n[0] == '1' ? 1e6 : n[0] == '2' ? 2e6 : 4e6;
    plan.push_back({{"instance", i}, {"benchmark", "micro.stream.triad"}, {"params", {{"n", n}}}});
    results.push_back(rate_result("micro.stream.triad", i, {{"n", fmt::format("{:.0f}", elems)}, {"threads", "2"}},
                                  "bandwidth", "B/s", "bytes", 2 * elems, 24 * elems, times(24 * elems / 2e10)));
    ++i;
  }
  plan.push_back({{"instance", i}, {"benchmark", "micro.gemm.dgemm"}, {"params", {{"n", "128"}}}});
  const double gf = 2.0 * 128 * 128 * 128;
  results.push_back(rate_result("micro.gemm.dgemm", i, {{"n", "128"}, {"threads", "2"}}, "flop_rate", "FLOP/s", "flops", gf,
                                3.0 * 128 * 128 * 8, times(gf / 5e10), 0.625));
  ++i;
  plan.push_back({{"instance", i}, {"benchmark", "micro.peakflops.fp16"}, {"params", json::object()}});
  results.push_back(skipped_result("micro.peakflops.fp16", i, "CPU lacks AVX512_FP16"));
  return {{"schema_version", 1},
          {"run_id", id},
          {"suite", "tiny"},
          {"site", "lab"},
          {"partition", partition},
          {"hosts", {"node01"}},
          {"command_line", "converge run tiny.yaml"},
          {"launch", {{"launcher", "local"}, {"partition_config", {{"name", partition}}}}},
          {"started_at", "2026-11-25T10:00:00.000Z"},
          {"finished_at", "2026-11-25T10:00:05.000Z"},
          {"complete", true},
          {"inventory",
           {{"hostname", "node01"},
            {"cpu", {{"model_name", "Test CPU 9000"}, {"microarchitecture", "zen3"}, {"sockets", 1}, {"cores", 2},
                     {"threads", 4}, {"numa_nodes", 1}, {"isa", {"avx2", "fma"}}, {"hypervisor", false}}},
            {"memory", {{"total_bytes", 17179869184.0}}},
            {"os", "Debian GNU/Linux 12 (bookworm)"},
            {"kernel", "6.1.0-18-amd64"},
            {"arch", "x86_64"},
            {"compiler", "GCC 12.2.0"},
            {"compiler_flags", "-O3"},
            {"build_type", "Release"},
            {"blas", {{"library", "OpenBLAS"}, {"version", "0.3.21"}, {"corename", "Zen"}, {"threads", 2}}},
            {"environment", {{"OMP_PLACES", "{0,1},\"x\""}, {"OMP_PROC_BIND", "close"}}}}},
          {"peaks",
           {{"cpu.fp64", {{"value", 8e10}, {"unit", "FLOP/s"}, {"source", "model"}, {"assumptions", "2 x 2.5 GHz x 16"}}},
            {"cpu.fp64.core", {{"value", 4e10}, {"unit", "FLOP/s"}, {"source", "model"}, {"assumptions", "1 core"}}}}},
          {"plan", plan},
          {"results", results}};
}

// IO on two tiers of partition `partition` at `ranks` ranks: write ok on both (2 GB/s on flash,
// 0.5 GB/s on hdd), md_create ok on flash (noisy: CV 25%) and failed on hdd, read planned on
// flash with no result (an incomplete run), a micro result beside them. Only flash is in the
// inventory's storage; hdd's filesystem comes from its results' notes.
json io_run_doc(const std::string& id, const std::string& partition, int ranks) {
  json plan = json::array(), results = json::array();
  auto planned = [&](int i, const std::string& b, const std::string& tier, json params) {
    params["path"] = "/" + tier;
    params["tier"] = tier;
    plan.push_back({{"instance", i}, {"benchmark", b}, {"params", params}, {"ranks", ranks}});
  };
  auto io_result = [&](int i, const std::string& b, const std::string& tier, const json& params, double seconds,
                       const std::string& metric, const std::string& unit, const std::string& quantity, double work) {
    json resolved = params;
    resolved["path"] = "/real/" + tier;
    resolved["tier"] = tier;
    json r = rate_result(b, i, resolved, metric, unit, quantity, 0, work, std::vector<double>(6, seconds));
    r["family"] = "io";
    r["notes"] = {{"filesystem", tier == "hdd" ? "ext4 on /hdd (/dev/sda1; rw,relatime)" : "xfs on /flash (?; ?)"}};
    return r;
  };
  int i = 0;
  for (const char* tier : {"flash", "hdd"}) {
    planned(i, "io.posix.write", tier, {{"layout", "fpp"}});
    results.push_back(io_result(i, "io.posix.write", tier, {{"layout", "fpp"}}, tier[0] == 'f' ? 0.5 : 2.0 * ranks,
                                "bandwidth", "B/s", "bytes", 1e9));
    ++i;
  }
  planned(i, "io.posix.md_create", "flash", {{"files", "40"}});
  json md = io_result(i, "io.posix.md_create", "flash", {{"files", "40"}}, 0.01, "ops", "1/s", "items", 40);
  md["time"]["cv"] = 0.25;
  results.push_back(md);
  ++i;
  planned(i, "io.posix.md_create", "hdd", {{"files", "40"}});
  results.push_back({{"benchmark", "io.posix.md_create"}, {"family", "io"}, {"instance", i}, {"host", "node01"}, {"rank", 0},
                     {"params", {{"files", "40"}, {"path", "/real/hdd"}, {"tier", "hdd"}}}, {"status", "failed"},
                     {"reason", "ENOSPC: No space left on device: creating f.3"}, {"metrics", json::array()}});
  ++i;
  planned(i, "io.posix.read", "flash", json::object());
  ++i;
  json doc = run_doc(id, partition);
  for (auto& p : doc["plan"]) p["instance"] = p["instance"].get<int>() + i, plan.push_back(p);
  for (auto& r : doc["results"]) r["instance"] = r["instance"].get<int>() + i, results.push_back(r);
  doc["suite"] = "io-tiers";
  doc["plan"] = plan;
  doc["results"] = results;
  doc["launch"]["partition_config"]["storage"] = json::array(
      {{{"name", "flash"}, {"path", "/flash"}, {"kind", "flash"}}, {{"name", "hdd"}, {"path", "/hdd"}, {"kind", "hdd"}}});
  doc["inventory"]["storage"] = json::array(
      {{{"tier", "flash"}, {"path", "/flash"}, {"real_path", "/real/flash"}, {"type", "xfs"}, {"mount_point", "/flash"},
        {"source", "/dev/nvme0n1"}, {"options", "rw,noatime,attr2"}, {"total_bytes", 1e12}, {"available_bytes", 5e11}}});
  return doc;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  const auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
  return n;
}

const ChartLibraries kFakeLibraries{"/*FAKE-VEGA*/ var vega = {};", "/*FAKE-VEGA-LITE*/ var s = '</script>';",
                                    "/*FAKE-VEGA-EMBED*/ function vegaEmbed() {}"};

}  // namespace

TEST(Report, MarkdownTablesExactLines) {
  const json run = run_doc("20261125T100000Z-aaaaaa", "cpu");
  const std::string md = render_markdown(build_report({run}));
  EXPECT_TRUE(has_line(md, "# converge report")) << md;
  EXPECT_TRUE(has_line(md, "## run 20261125T100000Z-aaaaaa (tiny, lab/cpu): results")) << md;
  EXPECT_TRUE(has_line(md, "| benchmark | params | metric | median | 95% CI | of peak | reps | CV | status | energy (J) "
                           "| avg power (W) | efficiency |"))
      << md;
  EXPECT_TRUE(has_line(md, "| micro.stream.triad | n=1M threads=2 | bandwidth | 20.00 GB/s | 19.91 GB/s .. 20.09 GB/s | - "
                           "| 10 | 2.0% | ok, verified | not measured: no energy meter configured | not measured "
                           "| not measured |"))
      << md;
  EXPECT_TRUE(has_line(md, "| micro.gemm.dgemm | n=128 threads=2 | flop_rate | 50.00 GFLOP/s | 49.78 GFLOP/s .. 50.23 "
                           "GFLOP/s | 62.5% | 10 | 2.0% | ok, verified | not measured: no energy meter configured "
                           "| not measured | not measured |"))
      << md;
  EXPECT_TRUE(has_line(md, "| micro.peakflops.fp16 | threads=2 | - | - | - | - | - | - | skipped: CPU lacks AVX512_FP16 "
                           "| not measured: no energy meter configured | not measured | not measured |"))
      << md;
  // Header, inventory (with the peak model, not the per-core figure) and environment ('|' escaped).
  EXPECT_TRUE(has_line(md, "| hosts | node01 |")) << md;
  EXPECT_TRUE(has_line(md, "| command line | converge run tiny.yaml |")) << md;
  EXPECT_TRUE(has_line(md, "| cpu | Test CPU 9000 (zen3) |")) << md;
  EXPECT_TRUE(has_line(md, "| memory | 16 GiB |")) << md;
  EXPECT_TRUE(has_line(md, "| blas | OpenBLAS 0.3.21, kernels 'Zen', 2 threads |")) << md;
  EXPECT_TRUE(has_line(md, "| peak cpu.fp64 | 80.00 GFLOP/s (model: 2 x 2.5 GHz x 16) |")) << md;
  EXPECT_EQ(md.find("cpu.fp64.core"), std::string::npos);
  EXPECT_TRUE(has_line(md, "| OMP_PLACES | {0,1},\"x\" |")) << md;
  EXPECT_NE(md.find("acceptance: not checked here"), std::string::npos);
  EXPECT_NE(md.find("`converge check RUN --site S` (RUN: 20261125T100000Z-aaaaaa)"), std::string::npos);
}

TEST(Report, CsvTablesQuotedAndInBaseUnits) {
  const json run = run_doc("20261125T100000Z-aaaaaa", "cpu");
  const std::string csv = render_csv(build_report({run}));
  // The title has a ',' and so is quoted, like any field.
  EXPECT_TRUE(has_line(csv, "\"run 20261125T100000Z-aaaaaa (tiny, lab/cpu): results\"")) << csv;
  EXPECT_TRUE(has_line(csv, "benchmark,place,params,metric,median,unit,ci_low,ci_high,fraction_of_peak,reps,cv,status,"
                            "energy (J),avg power (W),efficiency,efficiency unit"))
      << csv;
  EXPECT_TRUE(has_line(csv, "micro.stream.triad,,n=1M threads=2,bandwidth,20000000000,B/s,19910403185.664513,"
                            "20090406830.738323,,10,0.02,\"ok, verified\",not measured: no energy meter configured,not measured,"
                            "not measured,"))
      << csv;
  EXPECT_TRUE(has_line(csv, "micro.peakflops.fp16,,threads=2,-,,,,,,,,skipped: CPU lacks AVX512_FP16,"
                            "not measured: no energy meter configured,not measured,not measured,"))
      << csv;
  // Fields with ',' or '"' are quoted, '"' doubled.
  EXPECT_TRUE(has_line(csv, "OMP_PLACES,\"{0,1},\"\"x\"\"\"")) << csv;
  EXPECT_TRUE(has_line(csv, "cpu,Test CPU 9000 (zen3)")) << csv;
  EXPECT_TRUE(has_line(csv, "cores,\"1 socket(s), 2 cores, 4 threads, 1 NUMA node(s)\"")) << csv;
  // Blocks are separated by one empty line, each with a title and a header row.
  EXPECT_EQ(count(csv, "\n\n"), 4u) << csv;  // header, inventory, environment, results | acceptance
}

TEST(Report, EnergyNotMeasuredSaysWhy) {
  json run = run_doc("r1", "cpu");
  const json& r = run["results"][0];
  auto e = result_energy(r, run);
  EXPECT_FALSE(e.measured);
  EXPECT_EQ(e.reason, "not measured: no energy meter configured");
  json with = r;
  with["energy"] = {{"measured", false}, {"reason", "rapl: permission denied on /sys/class/powercap/intel-rapl:0/energy_uj"}};
  EXPECT_EQ(result_energy(with, run).reason,
            "not measured: rapl: permission denied on /sys/class/powercap/intel-rapl:0/energy_uj");
  with.erase("energy");
  EXPECT_EQ(result_energy(with, run).reason, "not measured: the run document predates energy figures");
  with["energy"] = {{"measured", false}, {"reason", "RAPL counters not readable (permission denied)"}};
  EXPECT_EQ(result_energy(with, run).reason, "not measured: RAPL counters not readable (permission denied)");
}

TEST(Report, EnergyMeasuredGivesFigures) {
  json run = run_doc("r1", "cpu");
  json r = run["results"][0];  // triad n=1M: 24e6 B per repetition
  r["energy"] = {{"measured", true}, {"joules", 0.6}, {"joules_per_rep", 0.06}, {"avg_watts", 50.0}};
  const auto e = result_energy(r, run);
  ASSERT_TRUE(e.measured);
  EXPECT_DOUBLE_EQ(e.joules, 0.06);
  EXPECT_DOUBLE_EQ(e.avg_power_w, 50.0);
  EXPECT_DOUBLE_EQ(e.efficiency, 24e6 / 0.06);
  EXPECT_EQ(e.efficiency_unit, "B/J");
  run["results"][0] = r;
  const std::string md = render_markdown(build_report({run}));
  EXPECT_NE(md.find("| 0.060 J | 50.00 W | 400.0 MB/J |"), std::string::npos) << md;
}

TEST(Report, RegressionAgainstBaseline) {
  const json base = run_doc("base", "cpu");
  json cand = run_doc("cand", "cpu", 1.5);  // every time 50% longer
  cand["results"].erase(cand["results"].begin() + 1);  // n=2M missing in this run
  const Report report = build_report({cand}, &base);
  ASSERT_EQ(report.regressions.size(), 1u);
  const auto& rows = report.regressions[0].rows;
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_TRUE(rows[0].compared);
  EXPECT_EQ(rows[0].comparison.verdict, Verdict::slower);
  EXPECT_NEAR(rows[0].comparison.change, 0.5, 1e-9);
  EXPECT_FALSE(rows[3].compared);
  EXPECT_EQ(rows[3].reason, "baseline skipped: CPU lacks AVX512_FP16");
  EXPECT_EQ(rows[4].benchmark, "micro.stream.triad");
  EXPECT_EQ(rows[4].reason, "not in this run");
  const std::string md = render_markdown(report);
  EXPECT_TRUE(has_line(md, "## regression: cand against baseline base")) << md;
  EXPECT_NE(md.find("| micro.stream.triad | n=1M threads=2 | bandwidth | 20.00 GB/s | 13.33 GB/s | +50.0% |"),
            std::string::npos)
      << md;
  const std::string csv = render_csv(report);
  EXPECT_NE(csv.find("micro.stream.triad,,n=2M threads=2,bandwidth,B/s,20000000000,,,,,,not compared,not in this run"),
            std::string::npos)
      << csv;
}

TEST(Report, PartitionComparisonForOneSuiteOnSeveralPartitions) {
  const Report report = build_report({run_doc("r1", "cpu"), run_doc("r2", "gpu", 2.0)});
  ASSERT_TRUE(report.comparison);
  EXPECT_EQ(report.comparison->partitions, (std::vector<std::string>{"lab/cpu", "lab/gpu"}));
  const std::string md = render_markdown(report);
  EXPECT_TRUE(has_line(md, "| benchmark | params | metric | lab/cpu | lab/cpu per watt | lab/gpu | lab/gpu per watt |"))
      << md;
  EXPECT_TRUE(has_line(md, "| micro.gemm.dgemm | n=128 | flop_rate | 50.00 GFLOP/s | not measured: no energy meter "
                           "configured | 25.00 GFLOP/s | not measured: no energy meter configured |"))
      << md;
  EXPECT_TRUE(has_line(md, "| micro.peakflops.fp16 |   | - | skipped: CPU lacks AVX512_FP16 | - | skipped: CPU lacks "
                           "AVX512_FP16 | - |"))
      << md;
  // Runs of one partition, or of different suites, are not a partition comparison.
  EXPECT_FALSE(build_report({run_doc("r1", "cpu"), run_doc("r2", "cpu")}).comparison);
  json other = run_doc("r2", "gpu");
  other["suite"] = "node";
  EXPECT_FALSE(build_report({run_doc("r1", "cpu"), other}).comparison);
}

TEST(Report, ChartsOfTheModel) {
  const json base = run_doc("base", "cpu");
  const Report report = build_report({run_doc("r1", "cpu"), run_doc("r2", "gpu")}, &base);
  std::vector<std::string> ids;
  for (const auto& c : report.charts) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"roofline-1", "roofline-2", "sweep-1", "partitions", "regression-1",
                                           "regression-2"}));
  // Roofline: 4 points per partition (3 triads, 1 DGEMM), the model's fp64 ceiling, the measured triad.
  const json& roof = report.charts[0].spec;
  EXPECT_EQ(roof["layer"][1]["data"]["values"].size(), 4u);
  EXPECT_NEAR(roof["layer"][1]["data"]["values"][0]["x"].get<double>(), 2.0 / 24, 1e-12);
  const std::string lines = roof["layer"][0]["data"]["values"].dump();
  EXPECT_NE(lines.find("cpu.fp64 peak (model): 80.00 GFLOP/s"), std::string::npos) << lines;
  EXPECT_NE(lines.find("micro.stream.triad n=4M threads=2 measured: 20.00 GB/s (not a peak)"), std::string::npos) << lines;
  EXPECT_EQ(lines.find(".core"), std::string::npos);
  EXPECT_EQ(roof["layer"][0]["encoding"]["x"]["scale"]["type"], "log");
  EXPECT_EQ(roof["layer"][0]["encoding"]["y"]["title"], "performance (GFLOP/s)");
  // Sweep: triad over n, one line per run and benchmark, log-log.
  const json& sweep = report.charts[2].spec;
  EXPECT_EQ(sweep["data"]["values"].size(), 6u);
  EXPECT_EQ(sweep["layer"][0]["encoding"]["y"]["title"], "bandwidth (GB/s)");
  EXPECT_EQ(sweep["layer"][0]["encoding"]["y"]["scale"]["type"], "log");
  EXPECT_EQ(sweep["layer"][0]["encoding"]["x"]["scale"]["type"], "log");
  // Partitions: the not-measured note on the chart.
  EXPECT_NE(report.charts[3].spec["title"]["subtitle"].dump().find(
                "performance per watt: not measured: no energy meter configured"),
            std::string::npos);
}

TEST(Report, HtmlOneDivAndOneEmbedPerChartWithLibrariesInlined) {
  const json base = run_doc("base", "cpu");
  json run = run_doc("r1", "cpu", 1.5);
  run["command_line"] = "converge run x.yaml # </script><script>alert(1)</script>";
  const Report report = build_report({run}, &base);
  ASSERT_EQ(report.charts.size(), 3u);  // roofline, sweep, regression
  const std::string html = render_html(report, kFakeLibraries);
  for (const auto& c : report.charts) {
    EXPECT_EQ(count(html, "<div id=\"" + c.id + "\""), 1u) << c.id;
    EXPECT_EQ(count(html, "vegaEmbed('#" + c.id + "', "), 1u) << c.id;
  }
  EXPECT_EQ(count(html, "<div id="), report.charts.size());
  EXPECT_EQ(count(html, "vegaEmbed('#"), report.charts.size());
  EXPECT_EQ(count(html, "{actions:false, renderer:'svg'}"), report.charts.size());
  EXPECT_NE(html.find("/*FAKE-VEGA*/ var vega = {};"), std::string::npos);
  EXPECT_NE(html.find("/*FAKE-VEGA-LITE*/ var s = '<\\/script>';"), std::string::npos);
  EXPECT_NE(html.find("/*FAKE-VEGA-EMBED*/ function vegaEmbed() {}"), std::string::npos);
  // Three library scripts and the one that embeds the charts; nothing else closes a script.
  EXPECT_EQ(count(html, "<script>"), 4u);
  EXPECT_EQ(count(html, "</script>"), 4u);
  EXPECT_NE(html.find("converge run x.yaml # &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  // The tables are there too, with the energy reason.
  EXPECT_NE(html.find("<td>not measured: no energy meter configured</td>"), std::string::npos);
  EXPECT_NE(html.find("<h2>regression: r1 against baseline base</h2>"), std::string::npos);
}

TEST(Report, NoChartWithoutData) {
  json run = run_doc("r1", "cpu");
  run["results"] = json::array({run["results"][4]});  // only the skipped one
  const Report report = build_report({run});
  EXPECT_TRUE(report.charts.empty());
  const std::string html = render_html(report, kFakeLibraries);
  EXPECT_EQ(count(html, "vegaEmbed('#"), 0u);
  EXPECT_NE(render_markdown(report).find("roofline for lab/cpu: no result has both FLOPs and bytes"), std::string::npos);
}

TEST(Report, AcceptanceChecksGiveATableAndAChart) {
  const json run = run_doc("r1", "cpu");
  Report report = build_report({run});
  const std::size_t charts = report.charts.size();
  Expectation met{"micro.stream.triad", {{"n", "1M"}}, "bandwidth", 10e9, -0.1, std::nullopt, "B/s", "site.yaml:3"};
  Expectation unmet{"micro.stream.triad", {{"n", "1M"}}, "bandwidth", 1e12, -0.1, std::nullopt, "B/s", "site.yaml:4"};
  add_acceptance(report, "r1", "s", check_run(run, {met, unmet}));
  ASSERT_EQ(report.charts.size(), charts + 1);
  EXPECT_EQ(report.charts.back().id, "acceptance-1");
  EXPECT_EQ(report.charts.back().spec["data"]["values"].size(), 2u);
  const std::string md = render_markdown(report);
  EXPECT_NE(md.find("## acceptance: run r1 against site s"), std::string::npos) << md;
  EXPECT_NE(md.find("| pass |"), std::string::npos) << md;
  EXPECT_NE(md.find("| fail |"), std::string::npos) << md;
  EXPECT_EQ(md.find("not checked here"), std::string::npos) << md;
}

TEST(Report, StorageTiersSideBySidePerRankCount) {
  const Report report = build_report({io_run_doc("r1", "cpu", 1), io_run_doc("r2", "cpu", 2)});
  ASSERT_TRUE(report.tiers);
  const auto& c = *report.tiers;
  ASSERT_EQ(c.tiers.size(), 2u);
  EXPECT_EQ(c.tiers[0].label, "flash");
  EXPECT_EQ(c.tiers[0].kind, "flash");
  EXPECT_EQ(c.tiers[0].filesystem, "xfs on /flash (/dev/nvme0n1; rw,noatime,attr2)");  // the inventory's, not the notes'
  EXPECT_EQ(c.tiers[1].filesystem, "ext4 on /hdd (/dev/sda1; rw,relatime)");            // the notes', no inventory entry
  // Rows: each instance at 1 then 2 ranks; the micro results are not in it.
  ASSERT_EQ(c.rows.size(), 6u);
  EXPECT_EQ(c.rows[0].benchmark, "io.posix.write");
  EXPECT_EQ(c.rows[0].ranks, 1);
  EXPECT_EQ(c.rows[1].benchmark, "io.posix.write");
  EXPECT_EQ(c.rows[1].ranks, 2);
  EXPECT_EQ(c.rows[2].benchmark, "io.posix.md_create");
  EXPECT_EQ(c.rows[5].benchmark, "io.posix.read");
  EXPECT_DOUBLE_EQ(*c.rows[1].values[1], 1e9 / 4.0);  // hdd, 2 ranks
  const std::string md = render_markdown(report);
  EXPECT_TRUE(has_line(md, "## storage tiers: median of the primary metric (CV of the times) per tier and rank count"))
      << md;
  EXPECT_TRUE(has_line(md, "| benchmark | params | ranks | metric | flash (kind flash): xfs on /flash (/dev/nvme0n1; "
                           "rw,noatime,attr2) | hdd (kind hdd): ext4 on /hdd (/dev/sda1; rw,relatime) |"))
      << md;
  EXPECT_TRUE(has_line(md, "| io.posix.write | layout=fpp | 1 | bandwidth | 2.000 GB/s (CV 2.0%) | 500.0 MB/s (CV 2.0%) |"))
      << md;
  EXPECT_TRUE(has_line(md, "| io.posix.write | layout=fpp | 2 | bandwidth | 2.000 GB/s (CV 2.0%) | 250.0 MB/s (CV 2.0%) |"))
      << md;
  EXPECT_TRUE(has_line(md, "| io.posix.md_create | files=40 | 1 | ops | 4.000 k/s (CV 25.0%) | failed: ENOSPC: No space "
                           "left on device: creating f.3 |"))
      << md;
  EXPECT_TRUE(has_line(md, "| io.posix.read |   | 2 | - | no result (incomplete run) | not run |")) << md;
  const std::string csv = render_csv(report);
  EXPECT_TRUE(has_line(csv, "benchmark,params,ranks,metric,unit,\"flash (kind flash): xfs on /flash (/dev/nvme0n1; "
                            "rw,noatime,attr2)\",flash cv,\"hdd (kind hdd): ext4 on /hdd (/dev/sda1; rw,relatime)\",hdd cv"))
      << csv;
  EXPECT_TRUE(has_line(csv, "io.posix.write,layout=fpp,2,bandwidth,B/s,2000000000,0.02,250000000,0.02")) << csv;
  EXPECT_TRUE(has_line(csv, "io.posix.md_create,files=40,1,ops,1/s,4000,0.25,failed: ENOSPC: No space left on device: "
                            "creating f.3,"))
      << csv;
  const std::string html = render_html(report, kFakeLibraries);
  EXPECT_NE(html.find("<th>flash (kind flash): xfs on /flash (/dev/nvme0n1; rw,noatime,attr2)</th>"), std::string::npos);
  EXPECT_NE(html.find("<td>io.posix.write</td><td>layout=fpp</td><td>1</td><td>bandwidth</td><td>2.000 GB/s (CV 2.0%)</td>"
                      "<td>500.0 MB/s (CV 2.0%)</td></tr>"),
            std::string::npos)
      << html;
}

TEST(Report, StorageTiersOfSeveralPartitionsAndNoneWithoutIo) {
  const Report report = build_report({io_run_doc("r1", "cpu", 1), io_run_doc("r2", "gpu", 1)});
  ASSERT_TRUE(report.tiers);
  std::vector<std::string> labels;
  for (const auto& t : report.tiers->tiers) labels.push_back(t.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"lab/cpu: flash", "lab/cpu: hdd", "lab/gpu: flash", "lab/gpu: hdd"}));
  ASSERT_EQ(report.tiers->rows.size(), 3u);  // one rank count
  EXPECT_EQ(report.tiers->rows[0].missing, (std::vector<std::string>{"", "", "", ""}));
  // A tier with no name is labelled by its path; a run with no io result has no tier table.
  json unnamed = io_run_doc("r3", "cpu", 1);
  for (auto& p : unnamed["plan"]) p["params"].erase("tier");
  for (auto& r : unnamed["results"]) r["params"].erase("tier");
  const Report by_path = build_report({unnamed});
  ASSERT_TRUE(by_path.tiers);
  EXPECT_EQ(by_path.tiers->tiers[0].label, "/flash");
  EXPECT_EQ(by_path.tiers->tiers[0].kind, "");
  EXPECT_EQ(by_path.tiers->tiers[0].filesystem, "xfs on /flash (/dev/nvme0n1; rw,noatime,attr2)");  // by path
  EXPECT_FALSE(build_report({run_doc("r1", "cpu")}).tiers);
  EXPECT_EQ(render_markdown(build_report({run_doc("r1", "cpu")})).find("storage tiers"), std::string::npos);
}
