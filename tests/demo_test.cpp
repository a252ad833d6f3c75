// The README's demo (examples/demo.cpp) runs as a program: its local weather service
// answers, the blocking run takes at least one latency per city, the concurrent run
// fetches the same answers in less time, and both times are shown side by side.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

namespace {

struct DemoRun {
  std::string out;
  int status = -1;
};

DemoRun run_demo(const std::string& args) {
  const char* dir = std::getenv("AIO_TEST_BINARY_DIR");
  const std::string cmd = std::string(dir ? dir : ".") + "/examples/aio_demo " + args + " 2>&1";
  DemoRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

double seconds_of(const std::string& out, const std::string& label) {
  std::smatch m;
  const std::regex re(label + R"( +\[#+\] +(\d+)/(\d+) +([0-9.]+) s)");
  if (!std::regex_search(out, m, re) || m[1] != m[2]) return -1;
  return std::stod(m[3]);
}

TEST(Demo, FetchesEveryCityBlockingThenConcurrentlyAndShowsBothTimes) {
  const DemoRun r = run_demo("--cities 5 --latency 0.1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Fetching the weather of 5 cities"), std::string::npos) << r.out;
  const double seq = seconds_of(r.out, "sequential");
  const double con = seconds_of(r.out, "concurrent");
  ASSERT_GE(seq, 0) << r.out;
  ASSERT_GE(con, 0) << r.out;
  EXPECT_GE(seq, 0.5) << "five requests one after another wait five latencies";
  EXPECT_GE(con, 0.1);
  EXPECT_LT(con, seq) << r.out;
  // The same answers both ways, one row per city.
  for (const char* city : {"Moscow", "St. Petersburg", "Rostov-on-Don", "Kaliningrad", "Vladivostok"}) {
    EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string(R"(\| )") + city + R"( \| (\w+) \| \1 \|)"))) << city;
  }
  EXPECT_EQ(r.out.find("Minsk"), std::string::npos);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\| time +\| +[0-9.]+ s \| +[0-9.]+ s \|)"))) << r.out;
}

TEST(Demo, MoreCitiesGoRoundTheSeedsListAndBadArgumentsFail) {
  const DemoRun r = run_demo("--cities 14 --latency 0");
  ASSERT_EQ(r.status, 0) << r.out;
  // Round the seeds' 12 cities again: Moscow and St. Petersburg twice.
  std::size_t moscow = 0;
  for (std::size_t at = 0; (at = r.out.find("| Moscow |", at)) != std::string::npos; ++at) ++moscow;
  EXPECT_EQ(moscow, 2u) << r.out;
  EXPECT_NE(r.out.find("Fetching the weather of 14 cities"), std::string::npos);
  EXPECT_NE(run_demo("--cities 0").status, 0);
  EXPECT_NE(run_demo("--bogus").status, 0);
}

TEST(Demo, UrlPointsBothRunsAtAnotherService) {
  // Nothing listens on port 1: both runs fail with a clear error, and no service starts.
  const DemoRun r = run_demo("--cities 2 --url http://127.0.0.1:1/data/2.5/weather");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("Weather from http://127.0.0.1:1/data/2.5/weather"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("aio_demo: cannot connect to 127.0.0.1:1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("A local weather service"), std::string::npos);
}

}  // namespace
