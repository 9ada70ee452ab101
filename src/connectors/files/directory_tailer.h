// DirectoryTailer: the transport half of the files connector. It treats the files of one
// directory that end in one extension (".csv") as append-only logs: it reads them in name order
// from the byte offset the consumer reached, and Rescan picks up files created and bytes
// appended since. It knows nothing about formats: the consumer reports how many bytes (and
// line ends) formed complete records, and the unconsumed tail is offered again together with
// the bytes that follow it. Files are read in chunks; only the current file's unconsumed tail
// and the latest chunk are held in memory.
//
// Files are expected to only grow. Names starting with '.' are ignored (editors' and copy tools'
// temporary files). A file that shrinks below the consumed offset is reported once and then
// ignored; a file that disappears keeps its position.
//
// Threading: not thread-safe; one source thread owns a tailer and calls everything on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

class DirectoryTailer {
 public:
  static constexpr size_t kDefaultReadChunkBytes = size_t{1} << 20;

  // How far a consumer got in one file: bytes consumed and line ends inside them.
  struct FilePosition {
    std::string name;  // file name inside the directory
    uint64_t offset = 0;
    int64_t lines = 0;
    friend bool operator==(const FilePosition&, const FilePosition&) = default;
  };

  // Unconsumed bytes of one file. Valid until the next call to Next() or Rescan().
  struct Chunk {
    std::string_view file_name;
    std::string_view data;  // from `offset` to where the file ended when it was read
    uint64_t offset = 0;    // file offset of data[0], a record boundary
    int64_t lines = 0;      // line ends before data[0]; data[0] is on line `lines + 1`
  };

  DirectoryTailer(std::filesystem::path directory, std::string extension,
                  size_t read_chunk_bytes = kDefaultReadChunkBytes);
  ~DirectoryTailer();
  DirectoryTailer(const DirectoryTailer&) = delete;
  DirectoryTailer& operator=(const DirectoryTailer&) = delete;

  // Continues each listed file from its position. Call before the first Rescan().
  void Restore(const std::vector<FilePosition>& positions);

  // Lists the directory: registers new files, notes which ones grew, and restarts the pass over
  // the files at the first name. Call first, and again after Next() returned nullopt.
  Status Rescan();

  // The current file's unconsumed bytes followed by up to a chunk of newly read bytes. When the
  // current file has nothing new, moves on to the next file (in name order) that grew. Returns
  // nullopt once every file was read to its end. Call it again only when the consumer cannot
  // use the previous chunk any further: bytes not consumed by then wait for the file to grow.
  Result<std::optional<Chunk>> Next();

  // The consumer used the first `bytes` of the last chunk, which held `lines` line ends.
  void Consume(size_t bytes, int64_t lines);

  // Every file with a non-zero position, in name order.
  std::vector<FilePosition> positions() const;

  const std::filesystem::path& directory() const { return directory_; }

  // The position text: a first line "files-position v1", then one line per file,
  // "<offset> <lines> <name>", the name running to the end of the line with '%', CR and LF
  // written as %25, %0D and %0A.
  static std::string EncodePositions(const std::vector<FilePosition>& positions);
  // The inverse; malformed text is an InvalidArgument error saying what is wrong.
  static Result<std::vector<FilePosition>> DecodePositions(std::string_view text);

  // Names of the regular files in `directory` ending in `extension`, sorted.
  static Result<std::vector<std::string>> ListFiles(const std::filesystem::path& directory,
                                                    std::string_view extension);
  // Up to `max_bytes` of the file at `path` from `offset` (fewer at its end).
  static Result<std::string> ReadFileBytes(const std::filesystem::path& path, uint64_t offset,
                                           size_t max_bytes);

 private:
  struct TailedFile {
    uint64_t consumed_offset = 0;
    int64_t consumed_lines = 0;
    uint64_t read_end = 0;      // where the file ended when it was last read to its end
    uint64_t size_on_disk = 0;  // as of the last Rescan
    bool shrink_reported = false;
  };
  using FileMap = std::map<std::string, TailedFile, std::less<>>;

  // Owns the descriptor of the file being read.
  class OpenFile {
   public:
    OpenFile() = default;
    ~OpenFile() { Close(); }
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    // Returns 0 or the errno of the failed open.
    int Open(const std::filesystem::path& path);
    void Close();
    bool is_open() const { return fd_ >= 0; }
    int fd() const { return fd_; }

   private:
    int fd_ = -1;
  };

  void LeaveCurrentFile();

  std::filesystem::path directory_;
  std::string extension_;
  size_t read_chunk_bytes_;
  FileMap files_;
  FileMap::iterator current_;  // the file being read; files_.end() when the pass is over
  OpenFile open_file_;
  // buffer_[buffer_begin_, buffer_end_) holds the current file's bytes from its consumed offset.
  std::string buffer_;
  size_t buffer_begin_ = 0;
  size_t buffer_end_ = 0;
};

}  // namespace sluice
