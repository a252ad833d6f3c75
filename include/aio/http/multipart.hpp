// aio/http/multipart.hpp: multipart bodies (RFC 2046, RFC 7578), as aiohttp.multipart.
//
// Reading, as a stream: a part's bytes are handed out as they arrive, so a file upload
// of any size goes to disk through a small buffer.
//
//   web::MultipartReader reader = co_await request.multipart();
//   while (web::BodyPartReader* part = co_await reader.next()) {
//     if (part->filename()) {
//       std::string chunk;
//       while (!(chunk = co_await part->read_chunk()).empty()) file.write(chunk);
//     } else {
//       std::string value = co_await part->text();
//     }
//   }
//
// Writing: FormData is what a browser's form sends (urlencoded, or multipart/form-data
// once a field has a filename or a content type); MultipartWriter builds any multipart
// body. Both go to ClientSession's requests as `.form_data` / `.multipart`.
//
// A malformed body (no boundary line, a broken part head, an end before the closing
// boundary) raises ValueError naming what is wrong; the reader a server's
// request.multipart() gives raises HTTPBadRequest (400) instead, so a handler that lets
// it through answers the client with the reason.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aio/coro.hpp"
#include "aio/http/headers.hpp"

namespace aio::http {

class ClientResponse;
class MultipartReader;

/// Content-Disposition's type (lower case) and parameters (lower-case names):
/// `form-data; name="a"; filename="b.txt"` -> {"form-data", {name: a, filename: b.txt}}.
/// Quoted values are unescaped (`\"`, and the `%22` `%0D` `%0A` of browsers and curl);
/// an extended `name*=utf-8''%C3%A9` is percent-decoded (utf-8, us-ascii, iso-8859-1).
/// A header that does not parse gives {"", {}}, as aiohttp's (None, {}).
std::pair<std::string, MultiDict> parse_content_disposition(std::string_view header);

/// The parameter `name` of a parsed Content-Disposition: `name*` first, then `name`,
/// then the continuations `name*0`, `name*1`, ... joined; nullopt when none is there.
std::optional<std::string> content_disposition_filename(const MultiDict& params,
                                                        std::string_view name = "filename");

/// One part of a multipart body (aiohttp's BodyPartReader). Made by
/// MultipartReader::next(), and valid until the reader's next next().
class BodyPartReader {
 public:
  static constexpr std::size_t chunk_size = 8192;
  /// The most decode() inflates a part to (aiohttp's max_decompress_size, 32 MiB).
  static constexpr std::size_t max_decompress_size = 32 * 1024 * 1024;

  BodyPartReader(const BodyPartReader&) = delete;
  BodyPartReader& operator=(const BodyPartReader&) = delete;

  /// The part's header fields.
  const CIMultiDict& headers() const noexcept { return headers_; }
  /// Content-Disposition's name and filename (filename* first); nullopt when missing.
  std::optional<std::string> name() const;
  std::optional<std::string> filename() const;
  /// Content-Type's charset parameter, else `default_charset`.
  std::string get_charset(std::string_view default_charset = "utf-8") const;

  /// The rest of the part; decode = true applies its Content-Transfer-Encoding and
  /// Content-Encoding (decode()).
  Coro<std::string> read(bool decode = false);
  /// The next piece of the part, at most `size` bytes; "" at its end. Undecoded.
  Coro<std::string> read_chunk(std::size_t size = chunk_size);
  /// One line of the part with its "\n" (the rest of the part when no "\n" is left);
  /// "" at its end.
  Coro<std::string> readline();
  /// read(true), as text: in aio the bytes as they are (UTF-8).
  Coro<std::string> text();
  /// read(true) parsed as JSON; null for an empty part. nlohmann's parse_error when
  /// it is not JSON.
  Coro<nlohmann::json> json();
  /// read(true) as a urlencoded form (blank values kept).
  Coro<MultiDict> form();
  /// Reads the rest of the part and drops it.
  Coro<void> release();
  /// The part has been read to its end.
  bool at_eof() const noexcept { return at_eof_; }

  /// `data` decoded by the part's Content-Transfer-Encoding (base64, quoted-printable;
  /// binary, 8bit, 7bit as they are) and then its Content-Encoding (gzip, deflate,
  /// identity), except in multipart/form-data, whose parts have none (RFC 7578 4.8, as
  /// aiohttp). RuntimeError for another encoding, ValueError for bad base64 or over
  /// max_decompress_size, ContentEncodingError for a corrupt stream.
  std::string decode(std::string_view data) const;

  /// The part is itself a multipart body (Content-Type multipart/...): aiohttp's next()
  /// returns a MultipartReader for it; here multipart() gives one.
  bool is_multipart() const;
  /// A reader of the parts inside this one (ValueError when it is not multipart). It
  /// reads through this part, so it is done with when the outer reader's next() runs.
  MultipartReader multipart();

 private:
  friend class MultipartReader;
  struct Source;
  BodyPartReader(Source* source, CIMultiDict headers) : source_(source), headers_(std::move(headers)) {}
  Source* source_;
  CIMultiDict headers_;
  bool at_eof_ = false;
};

/// A multipart body read part by part (aiohttp's MultipartReader). Movable; parts it
/// made stay valid across a move.
class MultipartReader {
 public:
  /// The source gives the body's next bytes, "" at its end (a StreamReader's readany).
  using Read = std::function<Coro<std::string>()>;

  /// `content_type` is the body's Content-Type header (`multipart/form-data;
  /// boundary=...`). ValueError when it is not multipart, has no boundary, or the
  /// boundary is over 70 characters.
  MultipartReader(std::string_view content_type, Read read);
  /// The body of a client response (MultipartReader.from_response); the reader reads
  /// the response's stream, so the response must outlive it.
  static MultipartReader from_response(ClientResponse& response);
  MultipartReader(MultipartReader&&) noexcept;
  MultipartReader& operator=(MultipartReader&&) noexcept;
  ~MultipartReader();

  /// The next part (the one before is read to its end and dropped first); nullptr
  /// after the closing boundary. The part lives until the next call. Once the body
  /// was found malformed, every call raises the same error.
  Coro<BodyPartReader*> next();
  /// Reads and drops every part left.
  Coro<void> release();
  /// The closing boundary has been read.
  bool at_eof() const noexcept;
  /// The boundary, without the leading "--".
  const std::string& boundary() const noexcept;

  /// Raise HTTPBadRequest (400) for a malformed body instead of ValueError (what a
  /// server's request.multipart() sets).
  void set_bad_request_errors(bool on) noexcept;

 private:
  std::unique_ptr<BodyPartReader::Source> s_;
};

/// A multipart body to send (aiohttp's MultipartWriter): parts in order, each with its
/// headers, written as `--boundary` lines and a closing `--boundary--`.
class MultipartWriter {
 public:
  /// `subtype`: "mixed", "form-data", "related", ...; the boundary is random (32 hex
  /// digits) unless given. ValueError for a boundary that RFC 2046 does not allow
  /// (empty, over 70 characters, a character outside its set, a space at the end).
  explicit MultipartWriter(std::string_view subtype = "mixed", std::string_view boundary = "");

  /// A part of `body` with `headers`; Content-Type defaults to
  /// "text/plain; charset=utf-8" (aiohttp's default for a str).
  MultipartWriter& append(std::string_view body, CIMultiDict headers = {});
  /// A nested multipart part (its Content-Type is the nested writer's).
  MultipartWriter& append(const MultipartWriter& nested, CIMultiDict headers = {});
  /// A JSON part (application/json).
  MultipartWriter& append_json(const nlohmann::json& value, CIMultiDict headers = {});
  /// A urlencoded form part (application/x-www-form-urlencoded).
  MultipartWriter& append_form(const MultiDict& form, CIMultiDict headers = {});

  /// Sets Content-Disposition of the last part (`form-data; name="x"` with
  /// set_content_disposition("form-data", {{"name", "x"}})). Quotes, CR and LF in
  /// values are sent as %22, %0D, %0A (as browsers do). ValueError without a part.
  MultipartWriter& set_content_disposition(std::string_view disptype, const MultiDict& params = {});

  const std::string& boundary() const noexcept { return boundary_; }
  /// The Content-Type of the whole body: `multipart/mixed; boundary=...`.
  std::string content_type() const;
  std::size_t size() const noexcept { return parts_.size(); }
  /// The body's bytes.
  std::string body() const;

 private:
  struct Part {
    CIMultiDict headers;
    std::string body;
  };
  std::string subtype_;
  std::string boundary_;
  std::vector<Part> parts_;
};

/// An HTML form to send (aiohttp's FormData): urlencoded when its fields are plain
/// names and values; multipart/form-data once a field has a filename or a content
/// type (a file upload), or when asked for.
class FormData {
 public:
  struct FieldOptions {
    std::optional<std::string_view> content_type{};
    std::optional<std::string_view> filename{};
  };

  FormData();
  FormData(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

  /// A field; with a filename it is a file (its Content-Type defaults to
  /// application/octet-stream, as aiohttp's).
  FormData& add_field(std::string_view name, std::string_view value, FieldOptions options);
  FormData& add_field(std::string_view name, std::string_view value) { return add_field(name, value, FieldOptions{}); }
  /// Multipart even with plain fields only (aiohttp's is_multipart set by hand).
  FormData& set_multipart(bool on = true) noexcept {
    force_multipart_ = on;
    return *this;
  }
  bool is_multipart() const noexcept;

  /// The body's Content-Type and bytes. The multipart boundary is fixed when the
  /// FormData is made, so both agree.
  std::string content_type() const;
  std::string body() const;

 private:
  struct Field {
    std::string name, value;
    std::optional<std::string> content_type, filename;
  };
  std::vector<Field> fields_;
  bool force_multipart_ = false;
  std::string boundary_;
};

/// A file of a multipart form (aiohttp.web's FileField). Its bytes are in the form
/// itself: post()[name].
struct FileField {
  std::string name;
  std::string filename;
  std::string content_type;
  CIMultiDict headers;
};

/// What Request::post() gives: the form's fields in order (MultiDict), a file field's
/// value being the file's bytes, and the files' names and types in files().
class PostData : public MultiDict {
 public:
  PostData() = default;
  explicit PostData(MultiDict fields) : MultiDict(std::move(fields)) {}
  /// The first file field of `name`, or nullptr (a plain field, or none).
  const FileField* file(std::string_view name) const noexcept;
  /// The file fields in order.
  const std::vector<FileField>& files() const noexcept { return files_; }
  /// Adds a file: its field to the dict (value: its bytes) and its details to files().
  void add_file(FileField field, std::string content);

 private:
  std::vector<FileField> files_;
};

}  // namespace aio::http
