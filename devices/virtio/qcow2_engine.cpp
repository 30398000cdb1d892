#include "devices/virtio/disk_engine.h"
#include "devices/virtio/qcow2_image.h"

#include <spdlog/spdlog.h>

namespace vmm::virtio {

namespace {

class Qcow2Engine final : public DiskEngine {
public:
    explicit Qcow2Engine(qcow2::Image& image) : m_image(image) {}
    void run(std::span<DiskOp> ops) override {
        for (DiskOp& op : ops) {
            Status status = run_one(op);
            op.ok = status.ok();
            if (!op.ok && !m_logged) {  // the first only: a bad image cannot flood the log
                spdlog::warn("disk '{}': {} (the guest gets I/O errors; further ones are not logged)",
                             m_image.path(), status.error().message());
                m_logged = true;
            }
        }
    }

private:
    Status run_one(const DiskOp& op) {
        switch (op.kind) {
        case DiskOp::Kind::Read: return m_image.readv(op.iov, op.offset);
        case DiskOp::Kind::Write: return m_image.writev(op.iov, op.offset);
        case DiskOp::Kind::Flush: return m_image.flush();
        case DiskOp::Kind::Discard: return m_image.discard(op.offset, op.length);
        case DiskOp::Kind::WriteZeroes: return m_image.write_zeroes(op.offset, op.length);
        }
        return Error(ErrorKind::Internal, "qcow2: unknown disk operation");
    }

    qcow2::Image& m_image;
    bool m_logged = false;
};

}  // namespace

std::unique_ptr<DiskEngine> make_qcow2_engine(qcow2::Image& image) { return std::make_unique<Qcow2Engine>(image); }

}  // namespace vmm::virtio
