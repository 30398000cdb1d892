#include <linux/falloc.h>
#include <liburing.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "devices/virtio/disk_engine.h"

namespace vmm::virtio {

namespace {

class UringEngine final : public DiskEngine {
public:
    UringEngine(DiskFile& disk, unsigned depth) : m_disk(disk), m_depth(depth) {}
    ~UringEngine() override {
        if (m_initialized)
            io_uring_queue_exit(&m_ring);
    }

    // The ring starts disabled and takes only what prepare() submits (Linux >= 5.10's
    // restrictions) before it is enabled: seccomp does not see the operations a ring runs, so
    // an unrestricted ring would be a way around the filters (openat, connect, ...).
    Status init() {
        if (int err = io_uring_queue_init(m_depth, &m_ring, IORING_SETUP_R_DISABLED); err < 0)
            return Error::from_errno("io_uring_queue_init", -err);
        m_initialized = true;
        io_uring_restriction allowed[5] = {};
        const uint8_t ops[] = {IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC, IORING_OP_FALLOCATE};
        for (size_t i = 0; i < std::size(ops); ++i) {
            allowed[i].opcode = IORING_RESTRICTION_SQE_OP;
            allowed[i].sqe_op = ops[i];
        }
        allowed[4].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
        allowed[4].sqe_flags = IOSQE_IO_DRAIN;
        // The system call itself: Debian's shared liburing 2.3 does not export its wrappers.
        if (::syscall(__NR_io_uring_register, m_ring.ring_fd, IORING_REGISTER_RESTRICTIONS, allowed,
                      std::size(allowed)) < 0)
            return Error::from_errno("io_uring restrictions");
        if (::syscall(__NR_io_uring_register, m_ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) < 0)
            return Error::from_errno("io_uring: enabling the ring");
        return {};
    }

    void run(std::span<DiskOp> ops) override {
        while (!ops.empty()) {
            const size_t n = std::min<size_t>(ops.size(), m_depth);
            run_chunk(ops.subspan(0, n));
            ops = ops.subspan(n);
        }
    }

private:
    void prepare(io_uring_sqe* sqe, DiskOp& op) {
        const int fd = m_disk.fd();
        switch (op.kind) {
        case DiskOp::Kind::Read:
            io_uring_prep_readv(sqe, fd, op.iov.data(), static_cast<unsigned>(op.iov.size()), op.offset);
            break;
        case DiskOp::Kind::Write:
            io_uring_prep_writev(sqe, fd, op.iov.data(), static_cast<unsigned>(op.iov.size()), op.offset);
            break;
        case DiskOp::Kind::Flush:
            io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
            sqe->flags |= IOSQE_IO_DRAIN;  // after everything submitted before it
            break;
        case DiskOp::Kind::Discard:
            io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, op.offset, op.length);
            break;
        case DiskOp::Kind::WriteZeroes:
            io_uring_prep_fallocate(sqe, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, op.offset, op.length);
            break;
        }
        io_uring_sqe_set_data(sqe, &op);
    }

    void run_chunk(std::span<DiskOp> ops) {
        if (!m_broken)
            submit_and_reap(ops);
        if (m_broken) {
            // The ring failed (never seen in practice): whatever it did not complete runs
            // synchronously; repeating positional I/O is harmless.
            for (DiskOp& op : ops)
                if (!op.ok)
                    op.ok = run_sync(m_disk, op);
        }
    }

    void submit_and_reap(std::span<DiskOp> ops) {
        for (DiskOp& op : ops) {
            op.ok = false;
            prepare(io_uring_get_sqe(&m_ring), op);  // never null: chunk <= depth, ring drained
        }
        size_t submitted = 0;
        while (submitted < ops.size()) {
            const int r = io_uring_submit(&m_ring);
            if (r == -EINTR || r == -EAGAIN)
                continue;
            if (r <= 0) {
                m_broken = true;
                break;
            }
            submitted += static_cast<size_t>(r);
        }
        for (size_t reaped = 0; reaped < submitted; ++reaped) {
            io_uring_cqe* cqe = wait_for_completion(submitted - reaped);
            auto* op = static_cast<DiskOp*>(io_uring_cqe_get_data(cqe));
            const bool transfer = op->kind == DiskOp::Kind::Read || op->kind == DiskOp::Kind::Write;
            op->ok = transfer ? cqe->res >= 0 && static_cast<uint64_t>(cqe->res) == op->length : cqe->res == 0;
            io_uring_cqe_seen(&m_ring, cqe);
            // Short transfers and file systems without ZERO_RANGE: finish synchronously.
            if (!op->ok)
                op->ok = run_sync(m_disk, *op);
        }
    }

    // Every submitted request is reaped before its chain goes back to the guest: one still in
    // flight could write guest memory after the guest reused the buffer. A wait that fails
    // other than transiently means the ring itself is gone, with requests the kernel may still
    // run: the only safe end is to stop the VMM rather than to complete them.
    io_uring_cqe* wait_for_completion(size_t in_flight) {
        for (;;) {
            io_uring_cqe* cqe = nullptr;
            const int r = io_uring_wait_cqe(&m_ring, &cqe);
            if (r == 0 && cqe)
                return cqe;
            if (r == -EINTR || r == -EAGAIN || r == -EBUSY)
                continue;
            spdlog::critical("virtio-blk io_uring: waiting for {} in-flight requests failed ({}); stopping",
                             in_flight, std::strerror(-r));
            std::abort();
        }
    }

    DiskFile& m_disk;
    unsigned m_depth;
    io_uring m_ring{};
    bool m_initialized = false;
    bool m_broken = false;
};

}  // namespace

Result<std::unique_ptr<DiskEngine>> make_uring_engine(DiskFile& disk, unsigned depth) {
    auto engine = std::make_unique<UringEngine>(disk, depth);
    TRY(engine->init());
    return std::unique_ptr<DiskEngine>(std::move(engine));
}

}  // namespace vmm::virtio
