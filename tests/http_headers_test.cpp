// MultiDict and CIMultiDict against multidict's behaviour.
#include "aio/http/headers.hpp"

#include <gtest/gtest.h>

namespace http = aio::http;

TEST(CIMultiDict, CaseInsensitiveLookupKeepsSpelling) {
  http::CIMultiDict h{{"Content-Type", "text/html"}, {"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}};
  EXPECT_EQ(h.get("content-type"), "text/html");
  EXPECT_EQ(h.get("CONTENT-TYPE"), "text/html");
  EXPECT_EQ(h["Content-type"], "text/html");
  EXPECT_EQ(h.getall("SET-COOKIE"), (std::vector<std::string_view>{"a=1", "b=2"}));
  EXPECT_EQ(h.count("set-cookie"), 2u);
  EXPECT_TRUE(h.contains("set-COOKIE"));
  EXPECT_FALSE(h.contains("Content-Length"));
  EXPECT_EQ(h.get("Content-Length"), std::nullopt);
  EXPECT_EQ(h.get("Content-Length", "0"), "0");
  EXPECT_EQ(h.begin()->first, "Content-Type");
  EXPECT_EQ((h.begin() + 2)->first, "set-cookie");
  EXPECT_EQ(h.size(), 3u);
}

TEST(CIMultiDict, NonLettersAreNotFolded) {
  // Only A-Z/a-z fold: '[' (0x5B) and '{' (0x7B) differ by 0x20 too, and stay different.
  http::CIMultiDict h{{"a[", "1"}};
  EXPECT_FALSE(h.contains("a{"));
  EXPECT_TRUE(http::ascii_iequals("X-Foo", "x-fOO"));
  EXPECT_FALSE(http::ascii_iequals("X-Foo", "X-Fo"));
}

TEST(CIMultiDict, GetoneOnMissingKeyIsKeyErrorText) {
  http::CIMultiDict h;
  try {
    (void)h.getone("Content-Type");
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "'Content-Type'");
  }
  EXPECT_THROW((void)h["x"], std::out_of_range);
}

TEST(CIMultiDict, SetReplacesAllInPlaceOfTheFirst) {
  http::CIMultiDict h{{"A", "1"}, {"B", "2"}, {"a", "3"}, {"C", "4"}};
  h.set("A", "x");
  EXPECT_EQ(h.items(), (std::vector<std::pair<std::string, std::string>>{{"A", "x"}, {"B", "2"}, {"C", "4"}}));
  h.set("D", std::string("5"));
  EXPECT_EQ(h.items().back(), (std::pair<std::string, std::string>{"D", "5"}));
  std::string_view key = "b";
  h.set(key, "y");
  EXPECT_EQ(h.items()[1], (std::pair<std::string, std::string>{"B", "y"}));
}

TEST(CIMultiDict, AddEraseAndPop) {
  http::CIMultiDict h;
  h.add("Accept", "a");
  h.add(std::string("accept"), std::string_view("b"));
  h.add("X", "1");
  EXPECT_EQ(h.popone("ACCEPT"), "a");
  EXPECT_EQ(h.getall("accept"), (std::vector<std::string_view>{"b"}));
  EXPECT_EQ(h.popone("missing"), std::nullopt);
  h.add("accept", "c");
  EXPECT_EQ(h.erase("Accept"), 2u);
  EXPECT_EQ(h.erase("Accept"), 0u);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.setdefault("x", "2"), "1");
  EXPECT_EQ(h.setdefault("y", "2"), "2");
  EXPECT_EQ(h.size(), 2u);
  h.clear();
  EXPECT_TRUE(h.empty());
}

TEST(CIMultiDict, ExtendAndUpdate) {
  http::CIMultiDict h{{"A", "1"}, {"B", "2"}, {"a", "3"}};
  h.extend(http::MultiDict{{"c", "4"}});
  EXPECT_EQ(h.size(), 4u);
  // update, as multidict 6: the key's items take the new ones in place, in order,
  // spelling included; extra new ones are appended, extra old ones go.
  h.update(http::CIMultiDict{{"a", "x"}, {"D", "5"}, {"A", "y"}});
  EXPECT_EQ(h.items(), (std::vector<std::pair<std::string, std::string>>{
                           {"a", "x"}, {"B", "2"}, {"A", "y"}, {"c", "4"}, {"D", "5"}}));
  h.update(http::CIMultiDict{{"A", "z"}, {"b", "6"}, {"b", "7"}});
  EXPECT_EQ(h.items(), (std::vector<std::pair<std::string, std::string>>{
                           {"A", "z"}, {"b", "6"}, {"c", "4"}, {"D", "5"}, {"b", "7"}}));
}

TEST(CIMultiDict, EqualityIsOrderedAndCaseInsensitive) {
  EXPECT_EQ((http::CIMultiDict{{"A", "1"}, {"b", "2"}}), (http::CIMultiDict{{"a", "1"}, {"B", "2"}}));
  EXPECT_NE((http::CIMultiDict{{"A", "1"}, {"b", "2"}}), (http::CIMultiDict{{"b", "2"}, {"A", "1"}}));
  EXPECT_NE((http::CIMultiDict{{"A", "1"}}), (http::CIMultiDict{{"A", "2"}}));
}

TEST(MultiDict, CaseSensitive) {
  http::MultiDict d{{"a", "1"}, {"A", "2"}, {"a", "3"}};
  EXPECT_EQ(d.getall("a"), (std::vector<std::string_view>{"1", "3"}));
  EXPECT_EQ(d.get("A"), "2");
  EXPECT_FALSE(d.contains("b"));
  EXPECT_NE((http::MultiDict{{"a", "1"}}), (http::MultiDict{{"A", "1"}}));
  EXPECT_EQ(d.keys(), (std::vector<std::string_view>{"a", "A", "a"}));
  http::CIMultiDict ci(d);
  EXPECT_EQ(ci.getall("a").size(), 3u);
  std::string joined;
  for (const auto& [k, v] : d) joined += k + "=" + v + ";";
  EXPECT_EQ(joined, "a=1;A=2;a=3;");
}
