// Runs a seed port (examples/seeds/<id>) as a child process on the virtual clock
// (AIO_CLOCK=virtual) and collects its output, exit status and simulated running time.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aio::test {

struct SeedRun {
  std::string out;
  std::string err;
  int status = -1;         // waitpid status
  double elapsed = -1.0;   // simulated seconds (from AIO_CLOCK_REPORT)
  std::vector<std::string> out_lines() const { return split(out); }
  std::vector<std::string> err_lines() const { return split(err); }
  bool exited_ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
  static std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> lines;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

inline std::string seed_path(const std::string& id) {
  const char* dir = std::getenv("AIO_TEST_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/examples/seeds/" + id;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs the seed with `args`; `virtual_clock` false runs it on the real clock.
inline SeedRun run_seed(const std::string& id, const std::vector<std::string>& args = {}, bool virtual_clock = true) {
  char dir_template[] = "/tmp/aio-seed-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string out_path = dir + "/out", err_path = dir + "/err", report = dir + "/elapsed";
  const std::string exe = seed_path(id);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (virtual_clock) {
      ::setenv("AIO_CLOCK", "virtual", 1);
      ::setenv("AIO_CLOCK_REPORT", report.c_str(), 1);
    }
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    std::_Exit(127);
  }
  SeedRun run;
  ::waitpid(pid, &run.status, 0);
  run.out = slurp(out_path);
  run.err = slurp(err_path);
  const std::string e = slurp(report);
  if (e.rfind("elapsed=", 0) == 0) run.elapsed = std::stod(e.substr(8));
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  std::remove(report.c_str());
  ::rmdir(dir.c_str());
  return run;
}

/// Checks `lines` against `expected`: each expected line is matched exactly, or as a
/// regular expression when it starts with "re:".
inline void expect_lines(const std::vector<std::string>& lines, const std::vector<std::string>& expected) {
  ASSERT_EQ(lines.size(), expected.size()) << ::testing::PrintToString(lines);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (expected[i].rfind("re:", 0) == 0) {
      EXPECT_TRUE(std::regex_match(lines[i], std::regex(expected[i].substr(3))))
          << "line " << i << ": '" << lines[i] << "' !~ " << expected[i].substr(3);
    } else {
      EXPECT_EQ(lines[i], expected[i]) << "line " << i;
    }
  }
}

/// Seconds between two "%X" (HH:MM:SS) time stamps printed by a seed.
inline int seconds_between(const std::string& a, const std::string& b) {
  auto secs = [](const std::string& t) {
    return std::stoi(t.substr(0, 2)) * 3600 + std::stoi(t.substr(3, 2)) * 60 + std::stoi(t.substr(6, 2));
  };
  return (secs(b) - secs(a) + 86400) % 86400;
}

}  // namespace aio::test
