// aio/http.hpp: aio's HTTP/1.1 client and server (aiohttp's model), opt-in: aio/aio.hpp
// does not include it.
#pragma once

#include "aio/http/exceptions.hpp"
#include "aio/http/parser.hpp"
#include "aio/http/compression.hpp"
#include "aio/http/cookies.hpp"
#include "aio/http/headers.hpp"
#include "aio/http/url.hpp"
#include "aio/http/client.hpp"
#include "aio/http/web.hpp"
#include "aio/http/websocket.hpp"
