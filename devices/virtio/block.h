// virtio-blk (VIRTIO 1.2 §5.2) over a DiskFile: IN, OUT, FLUSH, GET_ID, DISCARD,
// WRITE_ZEROES. Every request is checked (header, lengths, sector range, status byte);
// a bad request gets IOERR or UNSUPP, a broken chain a device error from the queue.
// Requests are served in batches: everything available is validated, its disk operations
// run by the engine (sync or io_uring) together, then completed in order.
#pragma once

#include <sys/uio.h>

#include <string>
#include <vector>

#include "devices/virtio/disk_engine.h"
#include "devices/virtio/disk_file.h"
#include "devices/virtio/qcow2_image.h"
#include "devices/virtio/virtio_device.h"
#include "base/guest_memory.h"

namespace vmm::virtio {

enum class DiskEngineKind { Sync, IoUring };
enum class DiskFormat { Raw, Qcow2 };

struct BlockOptions {
    std::string serial;          // GET_ID answer, at most 20 bytes
    bool flush_on_flush = true;  // cache=writeback: FLUSH fdatasyncs; cache=unsafe: it does not
    DiskEngineKind engine = DiskEngineKind::Sync;
    DiskFormat format = DiskFormat::Raw;  // qcow2: the file holds an image (DiskFile::open any_size)
    uint16_t num_queues = 1;              // 1..blk::MAX_QUEUES request queues, all served alike
};

// §5.2.6 request header.
struct BlockRequestHeader {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};
static_assert(sizeof(BlockRequestHeader) == 16);

// §5.2.6 discard / write-zeroes segment.
struct BlockDiscardSegment {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
};
static_assert(sizeof(BlockDiscardSegment) == 16);

namespace blk {
inline constexpr uint32_t T_IN = 0;
inline constexpr uint32_t T_OUT = 1;
inline constexpr uint32_t T_FLUSH = 4;
inline constexpr uint32_t T_GET_ID = 8;
inline constexpr uint32_t T_DISCARD = 11;
inline constexpr uint32_t T_WRITE_ZEROES = 13;
inline constexpr uint8_t S_OK = 0;
inline constexpr uint8_t S_IOERR = 1;
inline constexpr uint8_t S_UNSUPP = 2;
inline constexpr uint64_t F_SIZE_MAX = 1ull << 1;
inline constexpr uint64_t F_SEG_MAX = 1ull << 2;
inline constexpr uint64_t F_RO = 1ull << 5;
inline constexpr uint64_t F_BLK_SIZE = 1ull << 6;
inline constexpr uint64_t F_FLUSH = 1ull << 9;
inline constexpr uint64_t F_MQ = 1ull << 12;
inline constexpr uint64_t F_DISCARD = 1ull << 13;
inline constexpr uint64_t F_WRITE_ZEROES = 1ull << 14;
inline constexpr uint32_t ID_BYTES = 20;
inline constexpr uint16_t MAX_QUEUES = 16;  // num_queues= (one per vCPU is what Linux uses)
inline constexpr uint32_t SIZE_MAX_BYTES = 1 << 20;
inline constexpr uint32_t MAX_DISCARD_SECTORS = 1 << 22;  // 2 GiB per segment
}  // namespace blk

class Block final : public VirtioDevice {
public:
    static constexpr size_t BATCH = 32;
    static constexpr size_t BATCHES_PER_CALL = 4;  // budget of one process_queue() call...
    static constexpr uint64_t BYTES_PER_CALL = 16ull << 20;  // ...in requests and in bytes
    // seg_max (the queue's size less header and status) segments of size_max each: the
    // largest request a driver that honours the configuration sends.
    static constexpr uint64_t MAX_REQUEST_BYTES = uint64_t(Virtqueue::MAX_SIZE - 2) * blk::SIZE_MAX_BYTES;

    // Fails when the engine cannot be set up (io_uring refused by the kernel or a sandbox) or
    // a qcow2 image cannot be opened (its header, tables or backing chain).
    static Result<std::unique_ptr<Block>> create(DiskFile disk, GuestMemory& memory, BlockOptions options);

    uint32_t device_id() const override;
    uint64_t device_features() const override;
    size_t queue_count() const override { return m_options.num_queues; }
    size_t config_size() const override;
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    void activate(uint64_t features) override { m_features = features; }
    Result<bool> process_queue(size_t index, Virtqueue& queue) override;
    void reset() override { m_features = 0; }
    std::vector<CounterValue> counters() const override;

    // The disk behind the device, changed while the guest runs (the API's PATCH /drives):
    // `disk` replaces it, opened as read-only as the old one; without one, the current
    // file's size is read again (it was resized; a qcow2 image keeps the size its header
    // gives). Between requests only (under the
    // transport's lock); the caller then tells the driver the configuration changed.
    Status change_disk(std::optional<DiskFile> disk);
    const DiskFile& disk() const { return *m_disk; }
    DiskFormat format() const { return m_options.format; }
    // For a live migration's hand-over (no request in flight: the VM is paused): release
    // syncs the disk and drops its lock; !release takes the lock back.
    Status hand_over(bool release);

    // One request as a batch of one: writes the status byte and returns the used length
    // (0 when the chain has no writable byte to put a status in).
    uint32_t complete(const DescriptorChain& chain);

private:
    // What prepare() decided for one request.
    struct Pending {
        bool has_status = false;
        uint64_t data_len = 0;  // writable bytes before the status byte
        uint8_t status = 0;     // when no disk operation decides it
        uint32_t written = 0;   // data bytes written into the chain on success
        int op = -1;            // index into m_ops, or -1
    };

    Block(std::unique_ptr<DiskFile> disk, GuestMemory& memory, BlockOptions options);
    void prepare(const DescriptorChain& chain, Pending& pending);
    uint8_t prepare_request(const DescriptorChain& chain, Pending& pending);
    uint8_t prepare_transfer(const DescriptorChain& chain, uint32_t type, uint64_t sector, Pending& pending);
    uint8_t prepare_discard(const DescriptorChain& chain, uint32_t type, Pending& pending);
    uint8_t get_id(const DescriptorChain& chain, Pending& pending);
    DiskOp& add_op(DiskOp::Kind kind, uint64_t offset, uint64_t length, Pending& pending);
    uint32_t finish(const DescriptorChain& chain, const Pending& pending);
    void count(uint8_t status, const DiskOp* op);
    bool in_range(uint64_t sector, uint64_t bytes) const;
    uint64_t capacity_sectors() const;
    // The engine for `disk` (and `image`, for a qcow2 disk).
    Result<std::unique_ptr<DiskEngine>> make_engine(DiskFile& disk, qcow2::Image* image) const;

    std::unique_ptr<DiskFile> m_disk;  // the engine (and image) refer to it: stable address
    std::unique_ptr<qcow2::Image> m_image;  // format=qcow2
    std::unique_ptr<DiskEngine> m_engine;
    GuestMemory& m_memory;
    BlockOptions m_options;
    uint64_t m_features = 0;
    // Batch storage, reused: no allocation per request once warm.
    std::vector<DescriptorChain> m_chains;
    std::vector<Pending> m_pending;
    std::vector<DiskOp> m_ops;
    size_t m_op_count = 0;
    struct {
        Counter reads, read_bytes, writes, write_bytes, flushes, discards, errors;
    } m_counts;
};

}  // namespace vmm::virtio
