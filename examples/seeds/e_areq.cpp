// Seed e.areq (000_77fea42500069c72.txt, lines 3156-3330): a crawler. For every URL
// of urls.txt, concurrently with one ClientSession: fetch the page, find its hrefs,
// make them absolute (urljoin) and append "source_url\tparsed_url" lines to
// foundurls.txt; a page that fails (the 404 among them) is logged and skipped. Logging
// goes to stderr in the seed's format. The seed's nine sites are local stand-ins
// (examples/http/) answering after --latency seconds (0.5 s by default); the URL list
// is theirs (--urls FILE reads another, one URL a line), the output --out FILE.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../http/stand_in.hpp"
#include "aio/aio.hpp"
#include "aio/http.hpp"

namespace {

// logging.basicConfig(format="%(asctime)s %(levelname)s:%(name)s: %(message)s", datefmt="%H:%M:%S")
template <class... A>
void log(const char* level, const char* fmt, A... args) {
  std::fprintf(stderr, "%s %s:areq: ", aio::time::strftime("%H:%M:%S").c_str(), level);
  std::fprintf(stderr, fmt, args...);
  std::fprintf(stderr, "\n");
}

const std::regex HREF_RE(R"re(href="(.*?)")re");

// GET request wrapper to fetch page HTML.
aio::Coro<std::string> fetch_html(std::string url, aio::http::ClientSession& session) {
  aio::http::ClientResponse resp = co_await session.request("GET", url);
  resp.raise_for_status();
  log("INFO", "Got response [%d] for URL: %s", resp.status(), url.c_str());
  co_return co_await resp.text();
}

// Find HREFs in the HTML of `url`.
aio::Coro<std::set<std::string>> parse(std::string url, aio::http::ClientSession& session) {
  std::set<std::string> found;
  std::string html;
  try {
    html = co_await fetch_html(url, session);
  } catch (const aio::http::ClientResponseError& e) {
    log("ERROR", "aiohttp exception for %s [%d]: %s", url.c_str(), e.status(), e.message().c_str());
    co_return found;
  } catch (const aio::http::ClientError& e) {
    log("ERROR", "aiohttp exception for %s [None]: %s", url.c_str(), e.what());
    co_return found;
  } catch (const std::exception& e) {
    log("ERROR", "Non-aiohttp exception occured:  %s", e.what());
    co_return found;
  }
  for (auto m = std::sregex_iterator(html.begin(), html.end(), HREF_RE); m != std::sregex_iterator(); ++m) {
    try {
      found.insert(aio::http::URL(url).join(aio::http::URL((*m)[1].str())).str());
    } catch (const std::exception&) {
      log("ERROR", "Error parsing URL: %s", (*m)[1].str().c_str());
    }
  }
  log("INFO", "Found %zu links for %s", found.size(), url.c_str());
  co_return found;
}

// Write the found HREFs from `url` to `file`.
aio::Coro<> write_one(std::string file, std::string url, aio::http::ClientSession& session) {
  const std::set<std::string> res = co_await parse(url, session);
  if (res.empty()) co_return;
  std::ofstream f(file, std::ios::app);  // the seed's aiofiles: small appends
  for (const std::string& p : res) f << url << '\t' << p << '\n';
  log("INFO", "Wrote results for source URL: %s", url.c_str());
}

// Crawl & write concurrently to `file` for multiple `urls`.
aio::Coro<> bulk_crawl_and_write(std::string file, std::set<std::string> urls) {
  aio::http::ClientSession session;
  std::vector<aio::Coro<>> tasks;
  for (const std::string& url : urls) tasks.push_back(write_one(file, url, session));
  co_await aio::gather(std::move(tasks));
  co_await session.close();
}

aio::Coro<> main_(double latency, std::string urls_file, std::string outpath) {
  std::unique_ptr<stand_in::Services> services = co_await stand_in::Services::start(latency);
  std::set<std::string> urls;
  if (urls_file.empty()) {
    for (const char* path : {"/page/1", "/page/2", "/page/3", "/page/4", "/page/5", "/page/6", "/page/7",
                             "/page/8", "/missing/rfc2616.txt"}) {
      urls.insert(services->url(path));
    }
  } else {
    std::ifstream infile(urls_file);
    for (std::string line; std::getline(infile, line);) {
      line.erase(0, line.find_first_not_of(" \t\r"));
      line.erase(line.find_last_not_of(" \t\r") + 1);
      if (!line.empty()) urls.insert(line);
    }
  }
  {
    std::ofstream outfile(outpath);
    outfile << "source_url\tparsed_url\n";
  }
  co_await bulk_crawl_and_write(outpath, urls);
  co_await services->close();
}

}  // namespace

int main(int argc, char** argv) {
  double latency = 0.5;
  std::string urls_file, out = "foundurls.txt";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--latency" && i + 1 < argc) {
      latency = std::strtod(argv[++i], nullptr);
    } else if (arg == "--urls" && i + 1 < argc) {
      urls_file = argv[++i];
    } else if (arg == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--latency SECONDS] [--urls FILE] [--out FILE]\n", argv[0]);
      return 2;
    }
  }
  aio::run(main_(latency, urls_file, out));
}
