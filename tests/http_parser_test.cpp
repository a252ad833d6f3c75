// aio/http/parser.hpp and aio/http/exceptions.hpp.
#include "aio/http.hpp"

#include <gtest/gtest.h>

namespace http = aio::http;

TEST(HttpExceptions, MessagesAreAiohttps) {
  EXPECT_STREQ(http::BadStatusLine("GET").what(), "400, message:\n  Bad status line 'GET'");
  EXPECT_STREQ(http::ServerDisconnectedError().what(), "Server disconnected");
}
