// examples/http/local_services.hpp: local stand-ins for the web services the seed
// programs fetch (SEED-PROGRAMS.md: a5.x, b.compare, c.ex5/ex6, s1.reddit, s4.scrape,
// e.areq), so that nothing reaches the internet. Every answer comes after `latency`
// seconds of loop sleep, so under the virtual clock a test sees exact simulated times.
//
//   GET /data/2.5/weather?q=CITY&APPID=...   OpenWeatherMap's current weather JSON
//                                            (404 {"cod":"404","message":"city not found"})
//   GET /r/SUB/top.json?sort=top&t=day&limit=N  reddit's listing of top posts
//   GET /                                     an HTML index linking to the pages below
//   GET /page/N                               an HTML page with links (N = 1..10)
//   GET /site/NAME                            a page standing for NAME ("google.com")
//   GET /uefaeuro-2020/                       a larger HTML page (b.compare)
//   anything else                             404
//
//   aio::http::Application app;
//   local_services::add_routes(app, {.latency = 0.2});
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aio/aio.hpp"
#include "aio/http.hpp"

namespace local_services {

namespace web = aio::http::web;

struct Options {
  /// Seconds every answer waits before it is sent.
  double latency = 0.0;
};

struct City {
  std::string_view name, country, main, description;
  double lat, lon, temp;
  int id;
};

/// The cities the seeds ask for, with fixed weather (the first is a5.2's list).
inline const std::vector<City>& cities() {
  static const std::vector<City> all = {
      {"Moscow", "RU", "Clouds", "overcast clouds", 55.7522, 37.6156, 271.4, 524901},
      {"St. Petersburg", "RU", "Snow", "light snow", 59.9386, 30.3141, 269.9, 498817},
      {"Rostov-on-Don", "RU", "Clear", "clear sky", 47.2364, 39.7139, 276.2, 501175},
      {"Kaliningrad", "RU", "Rain", "light rain", 54.7065, 20.511, 278.1, 554234},
      {"Vladivostok", "RU", "Clear", "clear sky", 43.1056, 131.8735, 265.3, 2013348},
      {"Minsk", "BY", "Mist", "mist", 53.9, 27.5667, 273.6, 625144},
      {"Beijing", "CN", "Haze", "haze", 39.9075, 116.3972, 274.9, 1816670},
      {"Delhi", "IN", "Smoke", "smoke", 28.6667, 77.2167, 291.2, 1273294},
      {"Istanbul", "TR", "Clouds", "broken clouds", 41.0351, 28.9833, 283.6, 745044},
      {"Tokyo", "JP", "Clear", "clear sky", 35.6895, 139.6917, 280.4, 1850147},
      {"London", "GB", "Drizzle", "light intensity drizzle", 51.5085, -0.1257, 282.0, 2643743},
      {"New York", "US", "Clouds", "few clouds", 40.7143, -74.006, 277.7, 5128581},
  };
  return all;
}

inline const City* find_city(std::string_view q) {
  // "London,uk" is a city with a country code.
  q = q.substr(0, q.find(','));
  for (const City& c : cities())
    if (aio::http::ascii_iequals(c.name, q)) return &c;
  return nullptr;
}

inline nlohmann::json weather_json(const City& c) {
  const int code = c.main == "Clear" ? 800 : c.main == "Clouds" ? 803 : c.main == "Rain" ? 500
                 : c.main == "Snow" ? 600 : c.main == "Drizzle" ? 300 : 701;
  return {
      {"coord", {{"lon", c.lon}, {"lat", c.lat}}},
      {"weather", {{{"id", code}, {"main", c.main}, {"description", c.description}, {"icon", "04d"}}}},
      {"base", "stations"},
      {"main",
       {{"temp", c.temp}, {"feels_like", c.temp - 3}, {"temp_min", c.temp - 1}, {"temp_max", c.temp + 1},
        {"pressure", 1012}, {"humidity", 80}}},
      {"visibility", 10000},
      {"wind", {{"speed", 4.1}, {"deg", 240}}},
      {"clouds", {{"all", 75}}},
      {"dt", 1700000000},
      {"sys", {{"country", c.country}, {"sunrise", 1699990000}, {"sunset", 1700020000}}},
      {"timezone", 10800},
      {"id", c.id},
      {"name", c.name},
      {"cod", 200},
  };
}

/// reddit's top posts of `sub`: `limit` made-up posts whose scores fall.
inline nlohmann::json reddit_json(std::string_view sub, int limit) {
  nlohmann::json children = nlohmann::json::array();
  for (int i = 0; i < limit; ++i) {
    const std::string n = std::to_string(i + 1);
    children.push_back({{"kind", "t3"},
                        {"data",
                         {{"subreddit", sub},
                          {"score", 100 - 17 * i + static_cast<int>(sub.size())},
                          {"title", "Top post " + n + " of r/" + std::string(sub)},
                          {"url", "http://example.com/" + std::string(sub) + "/" + n},
                          {"id", std::string(sub.substr(0, 2)) + n}}}});
  }
  return {{"kind", "Listing"}, {"data", {{"after", nullptr}, {"dist", limit}, {"children", children}}}};
}

inline std::string page_html(int n) {
  std::string html = "<!DOCTYPE html>\n<html><head><title>Page " + std::to_string(n) + "</title></head><body>\n";
  html += "<h1>Page " + std::to_string(n) + "</h1>\n";
  // Each page links to two others, an absolute URL, a page that is missing and itself.
  html += "<a href=\"/page/" + std::to_string(n % 10 + 1) + "\">next</a>\n";
  html += "<a href=\"/page/" + std::to_string((n + 4) % 10 + 1) + "\">jump</a>\n";
  html += "<a href=\"http://example.com/ext/" + std::to_string(n) + "\">external</a>\n";
  html += "<a href=\"/missing/" + std::to_string(n) + "\">broken</a>\n";
  html += "<a href=\"/page/" + std::to_string(n) + "\">self</a>\n";
  html += "</body></html>\n";
  return html;
}

/// Adds the services' routes to `app`, with a middleware that waits `latency` first.
inline void add_routes(aio::http::Application& app, Options options = {}) {
  const double latency = options.latency;
  app.middlewares.push_back([latency](web::Request& r, const web::Handler& h) -> aio::Coro<web::StreamResponse> {
    if (latency > 0) co_await aio::sleep(latency);
    co_return co_await h(r);
  });
  app.add_get("/data/2.5/weather", [](web::Request& r) -> aio::Coro<web::StreamResponse> {
    const City* c = find_city(r.query().get("q", ""));
    if (c == nullptr) co_return web::json_response({{"cod", "404"}, {"message", "city not found"}}, 404);
    co_return web::json_response(weather_json(*c));
  });
  app.add_get("/r/{sub}/top.json", [](web::Request& r) -> aio::Coro<web::StreamResponse> {
    int limit = 5;
    if (auto l = r.query().get("limit")) limit = std::max(0, std::min(100, std::atoi(std::string(*l).c_str())));
    co_return web::json_response(reddit_json(r.match_info()["sub"], limit));
  });
  app.add_get("/", [](web::Request&) -> aio::Coro<web::StreamResponse> {
    std::string html = "<!DOCTYPE html>\n<html><head><title>Index</title></head><body>\n";
    for (int i = 1; i <= 10; ++i)
      html += "<a href=\"/page/" + std::to_string(i) + "\">page " + std::to_string(i) + "</a>\n";
    html += "</body></html>\n";
    co_return web::Response({.text = std::move(html), .content_type = "text/html"});
  });
  app.add_get("/page/{n:\\d+}", [](web::Request& r) -> aio::Coro<web::StreamResponse> {
    const int n = std::atoi(r.match_info()["n"].c_str());
    if (n < 1 || n > 10) throw web::HTTPNotFound();
    co_return web::Response({.text = page_html(n), .content_type = "text/html"});
  });
  app.add_get("/site/{name}", [](web::Request& r) -> aio::Coro<web::StreamResponse> {
    const std::string& name = r.match_info()["name"];
    std::string html = "<!DOCTYPE html>\n<html><head><title>" + name + "</title></head><body>\n<h1>" + name +
                       "</h1>\n<p>A local stand-in for " + name + ".</p>\n</body></html>\n";
    co_return web::Response({.text = std::move(html), .content_type = "text/html"});
  });
  app.add_get("/uefaeuro-2020/", [](web::Request&) -> aio::Coro<web::StreamResponse> {
    std::string html = "<!DOCTYPE html>\n<html><head><title>UEFA EURO 2020</title></head><body>\n";
    for (int i = 0; i < 200; ++i) html += "<p>Match report " + std::to_string(i) + ": a local stand-in paragraph.</p>\n";
    html += "</body></html>\n";
    co_return web::Response({.text = std::move(html), .content_type = "text/html"});
  });
}

}  // namespace local_services
