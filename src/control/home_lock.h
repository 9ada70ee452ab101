// HomeLock: an exclusive lock on <dir>/LOCK, so two processes never write one cache.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

#include "common/status.h"

namespace sluice {

class HomeLock {
 public:
  ~HomeLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& home) {
    std::string path = home + "/LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return ErrnoError("cannot open", path, errno);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return FailedPrecondition("another sluice process is using home_dir " + home + " (lock " +
                                path + " is held)");
    }
    return Status::OK();
  }

 private:
  int fd_ = -1;
};

}  // namespace sluice
