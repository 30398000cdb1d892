#include "devices/virtio/disk_engine.h"

namespace vmm::virtio {

namespace {

class SyncEngine final : public DiskEngine {
public:
    explicit SyncEngine(DiskFile& disk) : m_disk(disk) {}
    void run(std::span<DiskOp> ops) override {
        for (DiskOp& op : ops)
            op.ok = run_sync(m_disk, op);
    }

private:
    DiskFile& m_disk;
};

}  // namespace

bool run_sync(DiskFile& disk, const DiskOp& op) {
    switch (op.kind) {
    case DiskOp::Kind::Read: return disk.read(op.iov, op.offset).ok();
    case DiskOp::Kind::Write: return disk.write(op.iov, op.offset).ok();
    case DiskOp::Kind::Flush: return disk.flush().ok();
    case DiskOp::Kind::Discard: return disk.discard(op.offset, op.length).ok();
    case DiskOp::Kind::WriteZeroes: return disk.write_zeroes(op.offset, op.length).ok();
    }
    return false;
}

std::unique_ptr<DiskEngine> make_sync_engine(DiskFile& disk) { return std::make_unique<SyncEngine>(disk); }

}  // namespace vmm::virtio
