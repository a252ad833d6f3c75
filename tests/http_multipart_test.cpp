// Multipart bodies (aio/http/multipart.hpp): Content-Disposition, the reader fed in
// pieces of every size, the writers' bytes, and forms between aio's client and server,
// aiohttp (python3-aiohttp, so /usr/bin/python3) and curl -F on 127.0.0.1.
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "aio/http.hpp"
#include "support/aio_test.hpp"
#include "support/http_serve.hpp"
#include "support/python_peer.hpp"

namespace aio::http {
namespace {

constexpr double kBound = 20;  // seconds: only a hung test reaches it

// A source that gives `body` in pieces of `step` bytes (all of it when step is 0).
MultipartReader::Read pieces(std::string body, std::size_t step) {
  auto state = std::make_shared<std::pair<std::string, std::size_t>>(std::move(body), 0);
  return [state, step]() -> Coro<std::string> {
    const std::string& b = state->first;
    std::size_t& at = state->second;
    const std::size_t n = step == 0 ? b.size() - at : std::min(step, b.size() - at);
    std::string out = b.substr(at, n);
    at += n;
    co_return out;
  };
}

struct Part {
  CIMultiDict headers;
  std::string body;
  bool operator==(const Part&) const = default;
};

// Every part of `body`, read with read_chunk(chunk).
std::vector<Part> read_all(std::string_view content_type, std::string body, std::size_t step, std::size_t chunk = 8192) {
  auto main_ = [&]() -> Coro<std::vector<Part>> {
    MultipartReader reader(content_type, pieces(body, step));
    std::vector<Part> parts;
    while (BodyPartReader* part = co_await reader.next()) {
      Part p{part->headers(), {}};
      for (std::string c; !(c = co_await part->read_chunk(chunk)).empty();) {
        EXPECT_LE(c.size(), chunk);
        p.body += c;
      }
      EXPECT_TRUE(part->at_eof());
      parts.push_back(std::move(p));
    }
    EXPECT_TRUE(reader.at_eof());
    EXPECT_EQ(co_await reader.next(), nullptr);  // and stays at the end
    co_return parts;
  };
  return aio::run(main_());
}

// What a body that does not parse raises.
std::string error_of(std::string_view content_type, std::string body, std::size_t step = 0) {
  try {
    read_all(content_type, std::move(body), step);
  } catch (const ValueError& e) {
    return e.what();
  }
  return "no error";
}

constexpr std::string_view kType = "multipart/form-data; boundary=XyZ";

TEST(ContentDisposition, ParsesAsAiohttpAndBrowsers) {
  using P = std::pair<std::string, MultiDict>;
  EXPECT_EQ(parse_content_disposition("form-data; name=\"a\"; filename=\"b.txt\""),
            (P{"form-data", {{"name", "a"}, {"filename", "b.txt"}}}));
  EXPECT_EQ(parse_content_disposition("Attachment; FileName=plain.txt"), (P{"attachment", {{"filename", "plain.txt"}}}));
  EXPECT_EQ(parse_content_disposition("inline"), (P{"inline", {}}));
  // Quoted strings: backslash escapes; ';' inside quotes; browsers' %22 %0D %0A.
  EXPECT_EQ(parse_content_disposition(R"(form-data; name="a\"b"; filename="x;y.txt")"),
            (P{"form-data", {{"name", "a\"b"}, {"filename", "x;y.txt"}}}));
  EXPECT_EQ(parse_content_disposition("form-data; name=\"q%22uote%0D%0Aline\""),
            (P{"form-data", {{"name", "q\"uote\r\nline"}}}));
  // RFC 8187 extended values; latin-1 comes out as UTF-8; an unknown charset is dropped.
  EXPECT_EQ(parse_content_disposition("attachment; filename*=UTF-8''%E2%82%AC%20rates.txt"),
            (P{"attachment", {{"filename*", "\xE2\x82\xAC rates.txt"}}}));
  EXPECT_EQ(parse_content_disposition("attachment; filename*=iso-8859-1'en'caf%E9"),
            (P{"attachment", {{"filename*", "caf\xC3\xA9"}}}));
  EXPECT_EQ(parse_content_disposition("attachment; filename*=koi8-r''%C1"), (P{"attachment", {}}));
  // Leading slashes and backslashes go, as in aiohttp: no name from the root.
  EXPECT_EQ(parse_content_disposition(R"(form-data; filename="/etc/passwd")"), (P{"form-data", {{"filename", "etc/passwd"}}}));
  // What does not parse: aiohttp's (None, {}).
  EXPECT_EQ(parse_content_disposition(""), P{});
  EXPECT_EQ(parse_content_disposition("form data; name=a"), P{});
  EXPECT_EQ(parse_content_disposition("form-data; name"), P{});
  EXPECT_EQ(parse_content_disposition("form-data; name=\"open"), P{});
  EXPECT_EQ(parse_content_disposition("form-data; name=a b"), P{});
  EXPECT_EQ(parse_content_disposition("form-data; name=a; name=b"), P{});

  MultiDict params;
  EXPECT_EQ(content_disposition_filename(params), std::nullopt);
  params = parse_content_disposition("attachment; filename=\"plain\"; filename*=utf-8''ext").second;
  EXPECT_EQ(content_disposition_filename(params), "ext");  // filename* first
  params = parse_content_disposition("attachment; filename*0=\"a b\"; filename*1=c; filename*3=lost").second;
  EXPECT_EQ(content_disposition_filename(params), "a bc");  // continuations while they run
  // RFC 2231's encoded pieces: the charset comes with the first and holds for all.
  params = parse_content_disposition("attachment; filename*0*=utf-8''%C3; filename*1*=%A9.txt").second;
  EXPECT_EQ(content_disposition_filename(params), "\xC3\xA9.txt");
  params = parse_content_disposition("attachment; title*0*=us-ascii'en'This%20is%20; title*1=\"fun\"").second;
  EXPECT_EQ(content_disposition_filename(params, "title"), "This is fun");
  params = parse_content_disposition("attachment; filename*0*=iso-8859-1''caf; filename*1*=%E9").second;
  EXPECT_EQ(content_disposition_filename(params), "caf\xC3\xA9");
}

// A body with a preamble, transport padding, a part without headers, an empty part,
// bytes that start like a delimiter, NULs, and an epilogue.
std::string tricky_body() {
  std::string b = "This is the preamble.\r\n--XyZ\r\n";  // preamble, then the first boundary
  b += "Content-Disposition: form-data; name=\"text\"\r\nContent-Type: text/plain\r\n\r\n";
  b += "line one\r\nline two\r\n--XyNot a boundary\r\n--Xy";
  b += "\r\n--XyZ \t\r\n";  // transport padding after the boundary
  b += "\r\n";              // no header fields
  b += "no headers";
  b += "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n";
  b += "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"bin\"; filename=\"b.bin\"\r\n\r\n";
  b += std::string("\0\r\n\0--XyZ-", 10) + "\r\n--XyZ--\r\nThe epilogue, ignored.\r\n--XyZ\r\n";
  return b;
}

std::vector<Part> tricky_parts() {
  return {{{{"Content-Disposition", "form-data; name=\"text\""}, {"Content-Type", "text/plain"}},
           "line one\r\nline two\r\n--XyNot a boundary\r\n--Xy"},
          {{}, "no headers"},
          {{{"Content-Disposition", "form-data; name=\"empty\""}}, ""},
          {{{"Content-Disposition", "form-data; name=\"bin\"; filename=\"b.bin\""}}, std::string("\0\r\n\0--XyZ-", 10)}};
}

TEST(MultipartReader, ReadsTheSamePartsWhateverPiecesTheBodyComesIn) {
  const std::string body = tricky_body();
  const auto expected = tricky_parts();
  for (std::size_t step = 0; step <= 40; ++step) {
    EXPECT_EQ(read_all(kType, body, step), expected) << "pieces of " << step;
    EXPECT_EQ(read_all(kType, body, step, 3), expected) << "pieces of " << step << ", chunks of 3";
  }
  // A boundary at the very start, and a quoted one in the Content-Type.
  EXPECT_EQ(read_all("multipart/mixed; boundary=\"a b\"", "--a b\r\n\r\nx\r\n--a b--", 1), (std::vector<Part>{{{}, "x"}}));
  EXPECT_EQ(read_all("Multipart/Related; charset=utf-8; boundary=q", "--q--\r\n", 0), std::vector<Part>{});
}

TEST(MultipartReader, PartsReadAsLinesTextJsonFormsAndUnreadOnesAreSkipped) {
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"lines\"\r\n\r\na\nbb\r\nccc\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"skipped\"; filename=\"big.bin\"\r\n\r\n" +
      std::string(100000, 'x') +
      "\r\n--XyZ\r\nContent-Disposition: form-data; name*=utf-8''%C3%A9t%C3%A9\r\nContent-Type: application/json; "
      "charset=latin-1\r\n\r\n{\"a\": [1, 2]}\r\n--XyZ\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
      "x=1&y=&z=a+b\r\n\r\n--XyZ\r\n\r\n\r\n--XyZ--";
  for (std::size_t step : {0, 1, 7, 1000}) {
    auto main_ = [&]() -> Coro<> {
      MultipartReader reader(kType, pieces(body, step));
      EXPECT_EQ(reader.boundary(), "XyZ");
      BodyPartReader* part = co_await reader.next();
      CO_ASSERT_TRUE(part != nullptr);
      EXPECT_EQ(part->name(), "lines");
      EXPECT_EQ(part->filename(), std::nullopt);
      EXPECT_EQ(co_await part->readline(), "a\n");
      EXPECT_EQ(co_await part->readline(), "bb\r\n");
      EXPECT_FALSE(part->at_eof());
      EXPECT_EQ(co_await part->readline(), "ccc");  // the CRLF before the boundary is the boundary's
      EXPECT_TRUE(part->at_eof());
      EXPECT_EQ(co_await part->readline(), "");

      part = co_await reader.next();
      CO_ASSERT_TRUE(part != nullptr);
      EXPECT_EQ(part->filename(), "big.bin");
      const std::string some = co_await part->read_chunk(10);  // up to 10: what has come
      EXPECT_TRUE(!some.empty() && some.size() <= 10 && some == std::string(some.size(), 'x')) << some;
      // Left unread: next() drops the rest.

      part = co_await reader.next();
      CO_ASSERT_TRUE(part != nullptr);
      EXPECT_EQ(part->name(), "\xC3\xA9t\xC3\xA9");
      EXPECT_EQ(part->get_charset(), "latin-1");
      // Named first: g++ 12 cannot build a braced list inside a co_await (docs/pitfalls.md).
      const nlohmann::json a12 = {{"a", {1, 2}}};
      EXPECT_EQ(co_await part->json(), a12);

      part = co_await reader.next();
      CO_ASSERT_TRUE(part != nullptr);
      EXPECT_EQ(part->name(), std::nullopt);
      EXPECT_EQ(part->get_charset("ascii"), "ascii");
      const MultiDict xyz{{"x", "1"}, {"y", ""}, {"z", "a b"}};
      EXPECT_EQ(co_await part->form(), xyz);

      part = co_await reader.next();
      CO_ASSERT_TRUE(part != nullptr);
      EXPECT_EQ(co_await part->json(), nlohmann::json());  // an empty part is null
      EXPECT_EQ(co_await reader.next(), nullptr);
      EXPECT_TRUE(reader.at_eof());
    };
    aio::run(main_());
  }
}

TEST(MultipartReader, DecodesTransferAndContentEncodings) {
  ZLibCompressor gz("gzip");
  std::string packed = gz.compress("packed text");
  packed += gz.flush();
  std::string body =
      "--XyZ\r\nContent-Transfer-Encoding: BASE64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n"
      "--XyZ\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nsoft, a=3Db, =ZZ\r\n"
      "--XyZ\r\nContent-Encoding: gzip\r\n\r\n" + packed + "\r\n"
      "--XyZ\r\nContent-Transfer-Encoding: 8bit\r\n\r\nas is\r\n"
      "--XyZ\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n?\r\n"
      "--XyZ\r\nContent-Transfer-Encoding: base64\r\n\r\nnot base64!\r\n--XyZ--\r\n";
  auto main_ = [&]() -> Coro<> {
    MultipartReader reader("multipart/mixed; boundary=XyZ", pieces(body, 5));
    BodyPartReader* part = co_await reader.next();
    EXPECT_EQ(co_await part->read(true), "hello world");
    part = co_await reader.next();
    EXPECT_EQ(co_await part->text(), "caf\xC3\xA9 soft, a=b, =ZZ");
    part = co_await reader.next();
    EXPECT_EQ(co_await part->read(), packed);  // undecoded unless asked
    EXPECT_EQ(part->decode(packed), "packed text");
    part = co_await reader.next();
    EXPECT_EQ(co_await part->read(true), "as is");
    part = co_await reader.next();
    std::string raw = co_await part->read();
    EXPECT_THROW(part->decode(raw), RuntimeError);
    part = co_await reader.next();
    raw = co_await part->read();
    EXPECT_THROW(part->decode(raw), ValueError);
    EXPECT_EQ(co_await reader.next(), nullptr);

    // deflate (zlib-wrapped), a corrupt stream, and one that inflates past the limit.
    ZLibCompressor df("deflate");
    std::string deflated = df.compress("deflated");
    deflated += df.flush();
    ZLibCompressor big("gzip");
    std::string bomb = big.compress(std::string(BodyPartReader::max_decompress_size + 1, '0'));
    bomb += big.flush();
    const std::string body2 = "--XyZ\r\nContent-Encoding: deflate\r\n\r\n" + deflated +
                              "\r\n--XyZ\r\nContent-Encoding: gzip\r\n\r\nnot gzip\r\n--XyZ\r\nContent-Encoding: gzip\r\n\r\n" +
                              bomb + "\r\n--XyZ--";
    MultipartReader mixed("multipart/mixed; boundary=XyZ", pieces(body2, 0));
    part = co_await mixed.next();
    EXPECT_EQ(co_await part->read(true), "deflated");
    part = co_await mixed.next();
    raw = co_await part->read();
    EXPECT_THROW(part->decode(raw), ContentEncodingError);
    part = co_await mixed.next();
    raw = co_await part->read();
    EXPECT_EQ(raw, bomb);
    EXPECT_THROW(part->decode(raw), ValueError);

    // In multipart/form-data a part has no Content-Encoding (RFC 7578 4.8): its bytes
    // stay as they came, as in aiohttp.
    MultipartReader form(kType, pieces(body2, 0));
    part = co_await form.next();
    EXPECT_EQ(co_await part->read(true), deflated);
  };
  aio::run(main_());
}

TEST(MultipartReader, ReadsNestedMultipartParts) {
  MultipartWriter files("mixed", "inner");
  files.append("first file").set_content_disposition("file", {{"filename", "a.txt"}});
  files.append("second file").set_content_disposition("file", {{"filename", "b.txt"}});
  MultipartWriter outer("form-data", "outer");
  outer.append("Joe").set_content_disposition("form-data", {{"name", "submitter"}});
  outer.append(files).set_content_disposition("form-data", {{"name", "files"}});
  auto main_ = [&]() -> Coro<> {
    MultipartReader reader(outer.content_type(), pieces(outer.body(), 3));
    BodyPartReader* part = co_await reader.next();
    EXPECT_FALSE(part->is_multipart());
    EXPECT_THROW((void)part->multipart(), ValueError);
    EXPECT_EQ(co_await part->text(), "Joe");
    part = co_await reader.next();
    CO_ASSERT_TRUE(part != nullptr && part->is_multipart());
    EXPECT_EQ(part->name(), "files");
    MultipartReader inner = part->multipart();
    EXPECT_EQ(inner.boundary(), "inner");
    std::vector<std::string> got;
    while (BodyPartReader* f = co_await inner.next()) got.push_back(f->filename().value_or("?") + "=" + co_await f->text());
    EXPECT_EQ(got, (std::vector<std::string>{"a.txt=first file", "b.txt=second file"}));
    EXPECT_EQ(co_await reader.next(), nullptr);
  };
  aio::run(main_());
}

TEST(MultipartReader, MalformedBodiesRaiseValueErrorSayingWhat) {
  EXPECT_THROW(MultipartReader("text/plain", pieces("", 0)), ValueError);
  EXPECT_THROW(MultipartReader("multipart/form-data", pieces("", 0)), ValueError);
  EXPECT_THROW(MultipartReader("multipart/form-data; boundary=\"\"", pieces("", 0)), ValueError);
  try {
    MultipartReader("multipart/mixed; boundary=" + std::string(71, 'b'), pieces("", 0));
    ADD_FAILURE() << "a 71-character boundary was taken";
  } catch (const ValueError& e) {
    EXPECT_EQ(std::string(e.what()), "Invalid boundary '" + std::string(71, 'b') + "', the boundary is too long");
  }
  for (std::size_t step : {0, 1}) {
    EXPECT_EQ(error_of(kType, "", step), "multipart body has no boundary line '--XyZ'");
    EXPECT_EQ(error_of(kType, "just text, no boundary", step), "multipart body has no boundary line '--XyZ'");
    EXPECT_EQ(error_of(kType, "--XyZ\r\n\r\ncut short", step), "multipart body ended before its closing boundary");
    EXPECT_EQ(error_of(kType, "--XyZ\r\nName: v", step), "multipart body ended inside a part's headers");
    EXPECT_EQ(error_of(kType, "--XyZ", step), "multipart body ended inside a boundary line");
    EXPECT_EQ(error_of(kType, "--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--", step),
              "Invalid multipart part header 'no colon here'");
    EXPECT_EQ(error_of(kType, "--XyZ\r\nA: 1\nB: 2\r\n\r\nx\r\n--XyZ--", step),
            "Invalid multipart part header 'A: 1\\nB: 2'");  // a bare LF inside a line
  EXPECT_EQ(error_of(kType, "--XyZ\r\n \tfolded first\r\n\r\nx\r\n--XyZ--", step),
              "Invalid multipart part header ' \\tfolded first'");
    EXPECT_EQ(error_of(kType, "--XyZabc\r\n\r\nx\r\n--XyZ--", step),
              "Invalid multipart boundary line: '--XyZ' followed by 'ab', not the end of the line");
  }
  // Limits give the same answer whatever pieces the body comes in.
  const std::string long_head = "--XyZ\r\nX: " + std::string(20000, 'v') + "\r\n\r\nx\r\n--XyZ--";
  for (std::size_t step : {0, 1000})
    EXPECT_EQ(error_of(kType, long_head, step), "multipart part's headers are over 16384 bytes");
  const std::string long_line = "--XyZ\r\n\r\n" + std::string(70000, 'l') + "\n\r\n--XyZ--";
  for (std::size_t step : {0, 4096}) {
    auto main_ = [&]() -> Coro<std::string> {
      MultipartReader reader(kType, pieces(long_line, step));
      BodyPartReader* part = co_await reader.next();
      try {
        (void)co_await part->readline();
      } catch (const ValueError& e) {
        co_return e.what();
      }
      co_return "no error";
    };
    EXPECT_EQ(aio::run(main_()), "multipart part's line is over 65536 bytes");
  }
  // Once broken, the reader says so again: next() and a part's reads raise the same error.
  auto again = [&]() -> Coro<std::string> {
    MultipartReader reader(kType, pieces("--XyZ\r\n\r\nfirst\r\n--XyZ\r\nbroken\r\n\r\n", 3));
    BodyPartReader* part = co_await reader.next();
    std::string errors;
    for (int i = 0; i < 2; ++i) {
      try {
        (void)co_await reader.next();
      } catch (const ValueError& e) {
        errors += std::string(e.what()) + ";";
      }
    }
    EXPECT_TRUE(part != nullptr);
    co_return errors;
  };
  EXPECT_EQ(aio::run(again()), "Invalid multipart part header 'broken';Invalid multipart part header 'broken';");
  // An obsolete folded header line joins the one before.
  EXPECT_EQ(read_all(kType, "--XyZ\r\nX-Long: one\r\n  two\r\n\r\nv\r\n--XyZ--", 2),
            (std::vector<Part>{{{{"X-Long", "one two"}}, "v"}}));
}

TEST(MultipartWriter, WritesTheBytesOfRfc2046) {
  MultipartWriter w("mixed", "B0und:ary");
  w.append("hello");
  w.append("{}", {{"Content-Type", "application/octet-stream"}, {"X-Id", "2"}});
  w.append_json({{"a", 1}});
  w.append_form(MultiDict{{"k", "v w"}});
  w.set_content_disposition("attachment", {{"filename", "we\"ird\r\nname\\.txt"}});
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.content_type(), "multipart/mixed; boundary=\"B0und:ary\"");
  EXPECT_EQ(w.body(),
            "--B0und:ary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
            "--B0und:ary\r\nContent-Type: application/octet-stream\r\nX-Id: 2\r\n\r\n{}\r\n"
            "--B0und:ary\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n"
            "--B0und:ary\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Disposition: attachment; filename=\"we%22ird%0D%0Aname\\\\.txt\"\r\n\r\nk=v+w\r\n"
            "--B0und:ary--\r\n");
  // What it writes reads back, the odd filename included.
  auto parts = read_all(w.content_type(), w.body(), 4);
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[3].body, "k=v+w");
  EXPECT_EQ(content_disposition_filename(parse_content_disposition(parts[3].headers["Content-Disposition"]).second),
            "we\"ird\r\nname\\.txt");

  MultipartWriter random;
  EXPECT_EQ(random.boundary().size(), 32u);
  EXPECT_NE(random.boundary(), MultipartWriter().boundary());
  EXPECT_EQ(random.content_type(), "multipart/mixed; boundary=" + random.boundary());
  EXPECT_EQ(random.body(), "--" + random.boundary() + "--\r\n");
  EXPECT_THROW(MultipartWriter("mixed", std::string(71, 'a')), ValueError);
  EXPECT_THROW(MultipartWriter("mixed", "ends with space "), ValueError);
  EXPECT_THROW(MultipartWriter("mixed", "no\"quote"), ValueError);
  EXPECT_THROW(MultipartWriter("mi xed"), ValueError);
  EXPECT_THROW(random.set_content_disposition("inline"), ValueError);  // no part yet
  EXPECT_THROW(w.append("x", {{"X-Bad", "a\r\nInjected: 1"}}).body(), ValueError);
}

TEST(FormData, IsUrlencodedUntilAFieldIsAFile) {
  FormData plain{{"name", "Jo Ann"}, {"city", "a&b"}};
  EXPECT_FALSE(plain.is_multipart());
  EXPECT_EQ(plain.content_type(), "application/x-www-form-urlencoded");
  EXPECT_EQ(plain.body(), "name=Jo+Ann&city=a%26b");

  FormData files;
  files.add_field("title", "caf\xC3\xA9");
  files.add_field("upload", std::string("\0PNG", 4), {.filename = "my \"pic\".png"});
  files.add_field("meta", "{}", {.content_type = "application/json"});
  EXPECT_TRUE(files.is_multipart());
  const std::string ct = files.content_type();
  EXPECT_EQ(ct.rfind("multipart/form-data; boundary=", 0), 0u) << ct;
  EXPECT_EQ(ct, files.content_type());  // the boundary is fixed
  const std::string b = ct.substr(ct.find('=') + 1);
  EXPECT_EQ(files.body(),
            "--" + b + "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\ncaf\xC3\xA9\r\n" +
            "--" + b + "\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"my %22pic%22.png\"\r\n" +
            "Content-Type: application/octet-stream\r\n\r\n" + std::string("\0PNG", 4) + "\r\n" +
            "--" + b + "\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{}\r\n" +
            "--" + b + "--\r\n");

  plain.set_multipart();
  EXPECT_TRUE(plain.is_multipart());
  auto parts = read_all(plain.content_type(), plain.body(), 1);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].body, "a&b");
}

// --- The server's request.post() and request.multipart(), with aio's client

using test::serve_app;

// The form as text: "name=value" for fields, "name=filename(type)[size]value" for files.
std::string describe(const PostData& form) {
  std::string out;
  for (const auto& [k, v] : form) {
    out += k + "=";
    if (const FileField* f = form.file(k))
      out += f->filename + "(" + f->content_type + ")[" + std::to_string(v.size()) + "]";
    out += v + ";";
  }
  return out;
}

TEST(HttpMultipart, PostGivesFieldsAndFilesAndAskingTwiceGivesThemAgain) {
  Application app({.client_max_size = 64 * 1024});
  app.add_post("/form", [](Request& request) -> Coro<StreamResponse> {
    PostData form = co_await request.post();
    PostData again = co_await request.post();
    EXPECT_EQ(static_cast<const MultiDict&>(form), static_cast<const MultiDict&>(again));
    EXPECT_EQ(form.files().size(), again.files().size());
    for (std::size_t i = 0; i < std::min(form.files().size(), again.files().size()); ++i)
      EXPECT_EQ(form.files()[i].filename, again.files()[i].filename);
    co_return Response({.text = describe(form)});
  });
  app.add_post("/read-first", [](Request& request) -> Coro<StreamResponse> {
    const std::string raw = co_await request.read();  // then the form, from what read() kept
    PostData form = co_await request.post();
    co_return Response({.text = std::to_string(raw.size() > 0) + describe(form)});
  });
  app.add_post("/upload", [](Request& request) -> Coro<StreamResponse> {
    PostData form = co_await request.post();
    const FileField* f = form.file("doc");
    if (!f) co_return Response({.text = "no file"});
    std::string out = f->name + "|" + f->filename + "|" + f->content_type + "|" + f->headers["Content-Disposition"] +
                      "|" + form["doc"] + "|" + std::to_string(form.files().size());
    EXPECT_EQ(form.file("title"), nullptr);  // a plain field
    co_return Response({.text = out});
  });
  serve_app(app, [&](std::string base) -> Coro<> {
    ClientSession session;
    FormData form;
    form.add_field("title", "T");
    form.add_field("doc", "file bytes\r\n--not a boundary", {.content_type = "text/csv", .filename = "d.csv"});
    form.add_field("empty-file-input", "", {.filename = ""});  // a browser's file input left empty: a field
    ClientResponse r = co_await wait_for(session.post(base + "/upload", {.form_data = form}), kBound);
    EXPECT_EQ(co_await r.text(), "doc|d.csv|text/csv|form-data; name=\"doc\"; filename=\"d.csv\"|file bytes\r\n--not a boundary|1");

    ClientResponse r2 = co_await wait_for(session.post(base + "/form", {.form_data = form}), kBound);
    EXPECT_EQ(co_await r2.text(), "title=T;doc=d.csv(text/csv)[28]file bytes\r\n--not a boundary;empty-file-input=;");

    ClientResponse r5 = co_await wait_for(session.post(base + "/read-first", {.form_data = form}), kBound);
    EXPECT_EQ(co_await r5.text(), "1title=T;doc=d.csv(text/csv)[28]file bytes\r\n--not a boundary;empty-file-input=;");

    FormData urlencoded{{"a", "1"}, {"b", "x y"}};
    ClientResponse r3 = co_await wait_for(session.post(base + "/form", {.form_data = urlencoded}), kBound);
    EXPECT_EQ(co_await r3.text(), "a=1;b=x y;");

    ClientResponse r4 = co_await wait_for(session.post(base + "/form", {.data = "not a form"}), kBound);
    EXPECT_EQ(co_await r4.text(), "");  // another content type: an empty form
  });
}

TEST(HttpMultipart, BadFormsGet400Or413WithTheReasonAndTheServerAnswersOn) {
  Application app({.client_max_size = 1000});
  app.add_post("/form", [](Request& request) -> Coro<StreamResponse> {
    PostData form = co_await request.post();
    co_return Response({.text = std::to_string(form.size())});
  });
  app.add_post("/stream", [](Request& request) -> Coro<StreamResponse> {
    MultipartReader reader = co_await request.multipart();
    std::size_t parts = 0;
    while (BodyPartReader* part = co_await reader.next()) {
      ++parts;
      co_await part->release();
    }
    co_return Response({.text = std::to_string(parts)});
  });
  serve_app(app, [&](std::string base) -> Coro<> {
    ClientSession session;
    auto post = [&](std::string path, std::string body, std::string type) -> Coro<std::pair<int, std::string>> {
      CIMultiDict headers{{"Content-Type", type}};
      RequestOptions o{.headers = headers, .data = body};
      ClientResponse r = co_await wait_for(session.post(base + path, o), kBound);
      co_return std::make_pair(r.status(), co_await r.text());
    };
    const std::string t = "multipart/form-data; boundary=XyZ";
    EXPECT_EQ(co_await post("/form", "--XyZ\r\n\r\nx\r\n--XyZ--", t), std::make_pair(400, std::string("A multipart form part without a name")));
    EXPECT_EQ(co_await post("/form", "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx", t),
              std::make_pair(400, std::string("multipart body ended before its closing boundary")));
    EXPECT_EQ(co_await post("/form", "garbage", t), std::make_pair(400, std::string("multipart body has no boundary line '--XyZ'")));
    EXPECT_EQ(co_await post("/form", "--x--", "multipart/form-data"),
              std::make_pair(400, std::string("multipart Content-Type without a boundary: 'multipart/form-data'")));
    EXPECT_EQ(co_await post("/stream", "a=1", "application/x-www-form-urlencoded"),
              std::make_pair(400, std::string("multipart/* content type expected, got 'application/x-www-form-urlencoded'")));
    EXPECT_EQ((co_await post("/form", "--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Transfer-Encoding: base64\r\n\r\n*\r\n--XyZ--", t)).first, 400);
    MultipartWriter nested("mixed");
    nested.append("x");
    MultipartWriter outer("form-data", "XyZ");
    outer.append(nested).set_content_disposition("form-data", {{"name", "n"}});
    EXPECT_EQ(co_await post("/form", outer.body(), t),
              std::make_pair(400, std::string("A nested multipart part in a form: read it with request.multipart()")));
    // Over client_max_size: by Content-Length, and by the fields' bytes when chunked.
    FormData big;
    big.add_field("f", std::string(2000, 'x'), {.filename = "big"});
    ClientResponse r = co_await wait_for(session.post(base + "/form", {.form_data = big}), kBound);
    EXPECT_EQ(r.status(), 413);
    (void)co_await r.read();
    const std::string big_body = big.body();
    CIMultiDict big_headers{{"Content-Type", big.content_type()}};
    RequestOptions chunked{.headers = big_headers, .data = big_body, .chunked = true};
    ClientResponse r2 = co_await wait_for(session.post(base + "/form", chunked), kBound);
    EXPECT_EQ(r2.status(), 413);
    const std::string text = co_await r2.text();
    EXPECT_EQ(text.rfind("Maximum request body size 1000 exceeded, actual body size ", 0), 0u) << text;
    // Heads count too: many empty parts with long heads, chunked.
    std::string heads;
    for (int i = 0; i < 50; ++i)
      heads += "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\nX-Pad: " + std::string(100, 'p') + "\r\n\r\n\r\n";
    heads += "--XyZ--\r\n";
    CIMultiDict heads_headers{{"Content-Type", t}};
    RequestOptions heads_options{.headers = heads_headers, .data = heads, .chunked = true};
    ClientResponse r4 = co_await wait_for(session.post(base + "/form", heads_options), kBound);
    EXPECT_EQ(r4.status(), 413);
    (void)co_await r4.read();
    // multipart() streams: no size limit.
    ClientResponse r3 = co_await wait_for(session.post(base + "/stream", {.form_data = big}), kBound);
    EXPECT_EQ(co_await r3.text(), "1");
    // The server answers on.
    EXPECT_EQ((co_await post("/form", "a=1&b=2", "application/x-www-form-urlencoded")), std::make_pair(200, std::string("2")));
  });
}

TEST(HttpMultipart, AnUploadLargerThanClientMaxSizeStreamsToAFile) {
  char tmpl[] = "/tmp/aio-upload-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  Application app;  // client_max_size 1 MiB
  std::size_t largest_chunk = 0;
  app.add_post("/upload", [&](Request& request) -> Coro<StreamResponse> {
    MultipartReader reader = co_await request.multipart();
    std::string names;
    while (BodyPartReader* part = co_await reader.next()) {
      std::ofstream out(dir + "/" + part->filename().value_or("unnamed"), std::ios::binary);
      for (std::string chunk; !(chunk = co_await part->read_chunk()).empty();) {
        largest_chunk = std::max(largest_chunk, chunk.size());
        out << chunk;
      }
      names += part->filename().value_or("unnamed") + ";";
    }
    co_return Response({.text = names});
  });
  std::string data;
  for (int i = 0; data.size() < 3 * 1024 * 1024; ++i) data += std::to_string(i) + "\r\n--";
  serve_app(app, [&](std::string base) -> Coro<> {
    ClientSession session;
    FormData form;
    form.add_field("a", data, {.filename = "a.bin"});
    form.add_field("b", "small", {.filename = "b.txt"});
    ClientResponse r = co_await wait_for(session.post(base + "/upload", {.form_data = form}), kBound);
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(co_await r.text(), "a.bin;b.txt;");
  });
  std::ifstream a(dir + "/a.bin", std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(got == data) << got.size() << " bytes, expected " << data.size();
  EXPECT_LE(largest_chunk, BodyPartReader::chunk_size);
  (void)std::system(("rm -rf " + dir).c_str());
}

TEST(HttpMultipart, ClientReadsAMultipartResponse) {
  Application app;
  app.add_get("/parts", [](Request&) -> Coro<StreamResponse> {
    MultipartWriter w("mixed", "resp");
    w.append("one");
    w.append_json({{"two", 2}});
    co_return Response({.body = w.body(), .content_type = w.content_type()});
  });
  serve_app(app, [&](std::string base) -> Coro<> {
    ClientSession session;
    ClientResponse r = co_await wait_for(session.get(base + "/parts"), kBound);
    MultipartReader reader = MultipartReader::from_response(r);
    BodyPartReader* p = co_await reader.next();
    CO_ASSERT_TRUE(p != nullptr);
    EXPECT_EQ(co_await p->text(), "one");
    p = co_await reader.next();
    CO_ASSERT_TRUE(p != nullptr);
    const nlohmann::json two = {{"two", 2}};
    EXPECT_EQ(co_await p->json(), two);
    EXPECT_EQ(co_await reader.next(), nullptr);
  });
}

// --- Real peers: aiohttp's client and server, curl -F

using test::PeerRun;

Application& form_echo_app(Application& app) {
  app.add_post("/form", [](Request& request) -> Coro<StreamResponse> {
    PostData form = co_await request.post();
    co_return Response({.text = describe(form)});
  });
  return app;
}

TEST(HttpMultipartPeers, AiohttpsFormDataReachesPost) {
  Application app;
  form_echo_app(app);
  const char* script = R"(
import asyncio, sys, aiohttp
async def main(url):
    form = aiohttp.FormData()
    form.add_field("name", "Zoë")
    form.add_field("file", b"\x00\x01 bytes\r\n--", filename="data.bin", content_type="application/x-thing")
    form.add_field("note", "a\r\nb")
    async with aiohttp.ClientSession() as s:
        async with s.post(url, data=form) as r:
            print(r.status, await r.text())
asyncio.run(main(sys.argv[1]))
)";
  PeerRun run;
  serve_app(app, [&](std::string base) -> Coro<> {
    // Named first: g++ 12 cannot build a braced list inside a co_await (docs/pitfalls.md).
    std::vector<std::string> args{base + "/form"};
    run = co_await test::run_python(script, args);
  });
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "200 name=Zo\xC3\xAB;file=data.bin(application/x-thing)[12]" + std::string("\0\x01", 2) +
                         " bytes\r\n--;note=a\r\nb;\n");
}

TEST(HttpMultipartPeers, AiohttpsServerReadsAiosFormData) {
  const std::string script = std::string(test::kServeAiohttp) + R"(
import aiohttp
async def form(request):
    data = await request.post()
    out = []
    for k, v in data.items():
        if isinstance(v, web.FileField):
            out.append("%s=%s(%s)%r" % (k, v.filename, v.content_type, v.file.read()))
        else:
            out.append("%s=%r" % (k, v))
    return web.Response(text=";".join(out))
async def parts(request):
    reader = await request.multipart()
    out = []
    while True:
        part = await reader.next()
        if part is None:
            break
        if isinstance(part, aiohttp.BodyPartReader):
            out.append("%s:%s:%r" % (part.headers.get("Content-Type"), part.filename, bytes(await part.read(decode=True))))
        else:
            out.append("nested")
    return web.Response(text=";".join(out))
async def main():
    app = web.Application()
    app.router.add_post("/form", form)
    app.router.add_post("/parts", parts)
    await serve_forever(app)
asyncio.run(main())
)";
  auto main_ = [&]() -> Coro<> {
    test::PythonServer peer = co_await test::PythonServer::start(script);
    const std::string base = "http://127.0.0.1:" + peer.line;
    ClientSession session;
    FormData form;
    form.add_field("name", "Jo");
    form.add_field("up", "l1\r\nl2", {.content_type = "text/plain", .filename = "n.txt"});
    ClientResponse r = co_await wait_for(session.post(base + "/form", {.form_data = form}), kBound);
    EXPECT_EQ(co_await r.text(), "name='Jo';up=n.txt(text/plain)b'l1\\r\\nl2'");

    MultipartWriter w("mixed");
    w.append("plain");
    w.append_json({{"k", "v"}});
    w.append("aGk=", {{"Content-Type", "application/octet-stream"}, {"Content-Transfer-Encoding", "base64"}})
        .set_content_disposition("attachment", {{"filename", "hi.bin"}});
    ClientResponse r2 = co_await wait_for(session.post(base + "/parts", {.multipart = w}), kBound);
    EXPECT_EQ(co_await r2.text(),
              "text/plain; charset=utf-8:None:b'plain';application/json:None:b'{\"k\":\"v\"}';"
              "application/octet-stream:hi.bin:b'hi'");
    co_await peer.stop();
  };
  aio::run(main_());
}

TEST(HttpMultipartPeers, CurlUploadsFilesWithDashF) {
  char tmpl[] = "/tmp/aio-curlf-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::string bytes;
  for (int i = 0; i < 70000; ++i) bytes += static_cast<char>(i * 7);
  std::ofstream(dir + "/up load.bin", std::ios::binary) << bytes;
  Application app;
  form_echo_app(app);
  PeerRun run;
  serve_app(app, [&](std::string base) -> Coro<> {
    SubprocessOptions options;
    options.stdout = PIPE;
    options.stderr = PIPE;
    std::vector<std::string> args{"-sS", "--max-time", "20", "-F", "title=curl \"quoted\"", "-F",
                                  "doc=@" + dir + "/up load.bin;type=application/x-raw", "-F",
                                  "named=@" + dir + "/up load.bin;filename=renamed.txt", base + "/form"};
    Process p = co_await create_subprocess_exec("curl", args, options);
    auto [o, e] = co_await wait_for(p.communicate(), kBound);
    run = PeerRun{*p.returncode(), o.value_or(""), e.value_or("")};
  });
  EXPECT_EQ(run.status, 0) << run.err;
  // curl types a file by its name's extension unless told.
  const std::string expected = "title=curl \"quoted\";doc=up load.bin(application/x-raw)[70000]" + bytes +
                               ";named=renamed.txt(text/plain)[70000]" + bytes + ";";
  EXPECT_TRUE(run.out == expected) << run.out.substr(0, 200) << "... (" << run.out.size() << " bytes, expected "
                                   << expected.size() << ")";
  (void)std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace aio::http
