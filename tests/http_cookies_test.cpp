// CookieJar per RFC 6265 with aiohttp's rules (unsafe, shared cookies), an injected
// clock, and the server's Cookie header parsing.
#include "aio/http/cookies.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace http = aio::http;
using http::URL;

namespace {

// A jar whose clock the test moves.
struct Jar {
  explicit Jar(bool unsafe = false)
      : now(std::make_shared<double>(1700000000.0)),
        jar(http::CookieJar::Options{.unsafe = unsafe, .clock = [t = now] { return *t; }}) {}
  void set(std::string_view url, std::vector<std::string> values) { jar.update_cookies(values, URL(url)); }
  std::string get(std::string_view url) { return jar.filter_cookies(URL(url)); }
  std::shared_ptr<double> now;
  http::CookieJar jar;
};

}  // namespace

TEST(CookieJar, HostOnlyWithoutDomain) {
  Jar j;
  j.set("http://example.com/", {"a=1", "b=2; HttpOnly"});
  EXPECT_EQ(j.get("http://example.com/"), "a=1; b=2");
  EXPECT_EQ(j.get("http://EXAMPLE.com/x"), "a=1; b=2");
  EXPECT_EQ(j.get("http://www.example.com/"), "");
  EXPECT_EQ(j.get("http://other.com/"), "");
  EXPECT_EQ(j.jar.size(), 2u);
  auto all = j.jar.cookies();
  EXPECT_TRUE(all[0].host_only);
  EXPECT_EQ(all[0].domain, "example.com");
  EXPECT_TRUE(all[1].httponly);
}

TEST(CookieJar, DomainAttribute) {
  Jar j;
  j.set("http://www.example.com/", {"a=1; Domain=.Example.COM", "b=2; domain=www.example.com",
                                    "c=3; Domain=other.com", "d=4; Domain=com", "e=5; Domain=ample.com",
                                    "f=6; Domain=sub.www.example.com", "g=7; Domain="});
  EXPECT_EQ(j.get("http://example.com/"), "a=1");
  EXPECT_EQ(j.get("http://www.example.com/"), "a=1; b=2; g=7");
  EXPECT_EQ(j.get("http://x.www.example.com/"), "a=1; b=2");
  EXPECT_EQ(j.get("http://notexample.com/"), "");
  EXPECT_EQ(j.get("http://other.com/"), "");
  EXPECT_EQ(j.jar.size(), 3u);
  // A single label may only name the host itself, and is then host-only.
  Jar l;
  l.set("http://localhost/", {"a=1; Domain=localhost"});
  EXPECT_EQ(l.get("http://localhost/"), "a=1");
  EXPECT_TRUE(l.jar.cookies()[0].host_only);
}

TEST(CookieJar, DefaultPathAndPathMatch) {
  Jar j;
  j.set("http://h.com/a/b/c", {"dflt=1"});
  j.set("http://h.com/a/b/c", {"root=2; Path=/", "x=3; Path=/x", "bad=4; Path=relative"});
  j.set("http://h.com/top", {"top=5"});
  auto all = j.jar.cookies();
  EXPECT_EQ(all[0].path, "/a/b");
  EXPECT_EQ(all[3].path, "/a/b");  // a Path not starting with '/' is the default-path
  EXPECT_EQ(all[4].path, "/");
  EXPECT_EQ(j.get("http://h.com/a/b"), "dflt=1; bad=4; root=2; top=5");
  EXPECT_EQ(j.get("http://h.com/a/b/x"), "dflt=1; bad=4; root=2; top=5");
  EXPECT_EQ(j.get("http://h.com/a/bc"), "root=2; top=5");
  EXPECT_EQ(j.get("http://h.com/a"), "root=2; top=5");
  EXPECT_EQ(j.get("http://h.com/x/y"), "x=3; root=2; top=5");
  EXPECT_EQ(j.get("http://h.com/xy"), "root=2; top=5");
}

TEST(CookieJar, SecureOnlyToSecureSchemes) {
  Jar j;
  j.set("https://h.com/", {"s=1; Secure", "p=2"});
  EXPECT_EQ(j.get("http://h.com/"), "p=2");
  EXPECT_EQ(j.get("https://h.com/"), "s=1; p=2");
  EXPECT_EQ(j.get("wss://h.com/"), "s=1; p=2");
  EXPECT_EQ(j.get("ws://h.com/"), "p=2");
}

TEST(CookieJar, MaxAgeWinsOverExpiresAndTheClockExpires) {
  Jar j;
  j.set("http://h.com/", {"m=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=10",
                          "e=2; expires=Tue, 14 Nov 2023 22:13:30 GMT",  // 1700000000 + 10
                          "s=3"});
  EXPECT_EQ(j.get("http://h.com/"), "m=1; e=2; s=3");
  *j.now += 9;
  EXPECT_EQ(j.get("http://h.com/"), "m=1; e=2; s=3");
  *j.now += 1;
  EXPECT_EQ(j.get("http://h.com/"), "s=3");
  EXPECT_EQ(j.jar.size(), 1u);
  EXPECT_FALSE(j.jar.cookies()[0].expires.has_value());
}

TEST(CookieJar, ExpiredOrZeroMaxAgeDeletes) {
  Jar j;
  j.set("http://h.com/", {"a=1", "b=2", "c=3", "d=4"});
  j.set("http://h.com/", {"a=; Max-Age=0", "b=x; Max-Age=-5", "c=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                          "d=5; Max-Age=bogus"});
  EXPECT_EQ(j.get("http://h.com/"), "d=5");
  auto all = j.jar.cookies();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_FALSE(all[0].expires.has_value());  // an invalid Max-Age is left out
}

TEST(CookieJar, SameNameDomainPathReplacesKeepingItsPlace) {
  Jar j;
  j.set("http://h.com/", {"a=1", "b=2"});
  j.set("http://h.com/", {"a=3"});
  EXPECT_EQ(j.get("http://h.com/"), "a=3; b=2");
  j.set("http://h.com/", {"a=4; Path=/p"});
  EXPECT_EQ(j.get("http://h.com/p"), "a=4; a=3; b=2");
  // Same name, domain and path as the host-only "a=3": replaced (host-only or not).
  j.set("http://www.h.com/", {"a=5; Domain=h.com"});
  EXPECT_EQ(j.jar.size(), 3u);
  EXPECT_EQ(j.get("http://h.com/p"), "a=4; a=5; b=2");
  EXPECT_EQ(j.get("http://www.h.com/"), "a=5");
}

TEST(CookieJar, IPAddressHostsOnlyWhenUnsafe) {
  Jar j;
  j.set("http://127.0.0.1/", {"a=1"});
  j.set("http://[::1]/", {"b=2"});
  EXPECT_EQ(j.jar.size(), 0u);
  Jar u(true);
  u.set("http://127.0.0.1:8080/", {"a=1"});
  u.set("http://[::1]/", {"b=2"});
  EXPECT_EQ(u.get("http://127.0.0.1/"), "a=1");
  EXPECT_EQ(u.get("http://[::1]/"), "b=2");
  EXPECT_EQ(u.get("http://127.0.0.2/"), "");
  // A Domain attribute never matches an IP address other than itself.
  u.set("http://1.2.3.4/", {"c=3; Domain=3.4"});
  EXPECT_EQ(u.get("http://1.2.3.4/"), "");
}

TEST(CookieJar, SharedCookiesGoToEveryHost) {
  Jar j;
  j.jar.update_cookies(http::MultiDict{{"sid", "abc"}, {"t", "1"}});
  EXPECT_EQ(j.get("http://a.com/x"), "sid=abc; t=1");
  EXPECT_EQ(j.get("https://127.0.0.1/"), "sid=abc; t=1");
  j.jar.update_cookies(http::MultiDict{{"h", "2"}}, URL("http://b.com/dir/page"));
  EXPECT_EQ(j.get("http://b.com/dir/"), "h=2; sid=abc; t=1");  // its path /dir is longer
  EXPECT_EQ(j.get("http://a.com/dir/"), "sid=abc; t=1");
  EXPECT_EQ(j.get("http://b.com/"), "sid=abc; t=1");
}

TEST(CookieJar, AttributesAreKept) {
  Jar j;
  j.set("https://h.com/", {" n = v w ; Secure; HttpOnly; SameSite=Lax; Path=/p; Unknown=1"});
  auto all = j.jar.cookies();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "n");
  EXPECT_EQ(all[0].value, "v w");
  EXPECT_TRUE(all[0].secure);
  EXPECT_TRUE(all[0].httponly);
  EXPECT_EQ(all[0].samesite, "Lax");
  EXPECT_EQ(all[0].path, "/p");
  EXPECT_EQ(j.get("https://h.com/p/q"), "n=v w");
}

TEST(CookieJar, InvalidSetCookieIsIgnored) {
  Jar j;
  j.set("http://h.com/", {"noequals", "=v", "a=b\x01", "", ";a=1", "ok=\"quoted\""});
  EXPECT_EQ(j.get("http://h.com/"), "ok=\"quoted\"");
}

TEST(CookieJar, ClearAndClearDomain) {
  Jar j;
  j.set("http://a.com/", {"a=1"});
  j.set("http://x.b.com/", {"b=1; Domain=b.com", "c=2"});
  j.set("http://nb.com/", {"d=1"});
  j.jar.clear_domain("B.com");
  EXPECT_EQ(j.jar.size(), 2u);
  EXPECT_EQ(j.get("http://nb.com/"), "d=1");
  j.jar.clear();
  EXPECT_EQ(j.jar.size(), 0u);
}

TEST(CookieJar, RealClockByDefault) {
  http::CookieJar jar;
  jar.update_cookies(std::vector<std::string>{"a=1; Max-Age=3600", "b=2; Expires=Thu, 01 Jan 2015 00:00:00 GMT"},
                     URL("http://h.com/"));
  EXPECT_EQ(jar.filter_cookies(URL("http://h.com/")), "a=1");
}

TEST(DummyCookieJar, StoresNothing) {
  http::DummyCookieJar jar;
  http::AbstractCookieJar& base = jar;
  base.update_cookies(std::vector<std::string>{"a=1"}, URL("http://h.com/"));
  base.update_cookies(http::MultiDict{{"b", "2"}});
  EXPECT_EQ(base.size(), 0u);
  EXPECT_EQ(base.filter_cookies(URL("http://h.com/")), "");
}

TEST(CookieDate, RFC6265Formats) {
  EXPECT_EQ(http::parse_cookie_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777.0);   // IMF-fixdate
  EXPECT_EQ(http::parse_cookie_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777.0);  // RFC 850
  EXPECT_EQ(http::parse_cookie_date("Sun Nov  6 08:49:37 1994"), 784111777.0);        // asctime
  EXPECT_EQ(http::parse_cookie_date("06 nov 1994 8:49:37"), 784111777.0);
  EXPECT_EQ(http::parse_cookie_date("Tue, 19 Jan 2038 03:14:08 GMT"), 2147483648.0);
  EXPECT_EQ(http::parse_cookie_date("Thu, 31-Dec-69 23:59:59 GMT"), 3155759999.0);  // 69 is 2069
  EXPECT_EQ(http::parse_cookie_date("Thu, 01-Jan-70 00:00:00 GMT"), 0.0);           // 70 is 1970
  EXPECT_EQ(http::parse_cookie_date("Thu, 29 Feb 2024 12:00:00 GMT"), 1709208000.0);
  EXPECT_EQ(http::parse_cookie_date("Mon, 01 Jan 1601 00:00:00 GMT"), -11644473600.0);
  EXPECT_EQ(http::parse_cookie_date("Wed, 30 Feb 2022 00:00:00 GMT"), std::nullopt);  // no such day
  EXPECT_EQ(http::parse_cookie_date("Thu, 29 Feb 2023 00:00:00 GMT"), std::nullopt);
  EXPECT_EQ(http::parse_cookie_date("Sun, 06 Nov 1994"), std::nullopt);  // no time
  EXPECT_EQ(http::parse_cookie_date("Sun, 06 Nov 1600 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(http::parse_cookie_date("Sun, 06 Nov 1994 24:00:00 GMT"), std::nullopt);
  EXPECT_EQ(http::parse_cookie_date("Sun, 32 Nov 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(http::parse_cookie_date("Sun, 06 Nox 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(http::parse_cookie_date(""), std::nullopt);
}

TEST(ParseCookieHeader, AsSimpleCookieValues) {
  auto c = http::parse_cookie_header("a=1; b=\"x y\"; c=\"q\\\"\\101\";;  d = 4 ; noval; =e; a=2");
  EXPECT_EQ(c, (http::MultiDict{{"a", "1"}, {"b", "x y"}, {"c", "q\"A"}, {"d", "4"}, {"a", "2"}}));
  EXPECT_TRUE(http::parse_cookie_header("").empty());
}
