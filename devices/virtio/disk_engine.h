// How virtio-blk I/O reaches the host: a batch of operations run by an engine. `sync` runs
// them one by one with preadv/pwritev/fdatasync/fallocate; `io_uring` submits the whole batch
// at once. Both have the same semantics: when run() returns, every operation has finished
// and says whether it succeeded; a Flush covers every operation before it in the batch.
#pragma once

#include <sys/uio.h>

#include <memory>
#include <span>
#include <vector>

#include "devices/virtio/disk_file.h"
#include "base/result.h"

namespace vmm::virtio {

namespace qcow2 {
class Image;
}

struct DiskOp {
    enum class Kind { Read, Write, Flush, Discard, WriteZeroes };
    Kind kind = Kind::Flush;
    uint64_t offset = 0;
    uint64_t length = 0;      // bytes (Read/Write: the iovecs' total)
    std::vector<iovec> iov;   // Read/Write; storage reused between batches
    bool ok = false;
};

class DiskEngine {
public:
    virtual ~DiskEngine() = default;
    virtual void run(std::span<DiskOp> ops) = 0;
};

// Runs one operation synchronously on `disk`: the sync engine, and the io_uring engine's
// fallback for short transfers and unsupported operations.
bool run_sync(DiskFile& disk, const DiskOp& op);

std::unique_ptr<DiskEngine> make_sync_engine(DiskFile& disk);

// A qcow2 image's operations, run one by one through its tables (for either engine kind:
// io_uring serves raw disks only, as a qcow2 write's metadata must follow its data in order).
std::unique_ptr<DiskEngine> make_qcow2_engine(qcow2::Image& image);

// Fails (naming io_uring and the errno) where the kernel or a sandbox refuses io_uring.
Result<std::unique_ptr<DiskEngine>> make_uring_engine(DiskFile& disk, unsigned depth);

}  // namespace vmm::virtio
