// virtio-blk (VIRTIO 1.2 §5.2) over a DiskFile: IN, OUT, FLUSH, GET_ID, DISCARD,
// WRITE_ZEROES. Every request is checked (header, lengths, sector range, status byte);
// a bad request gets IOERR or UNSUPP, a broken chain a device error from the queue.
#pragma once

#include <sys/uio.h>

#include <string>
#include <vector>

#include "devices/virtio/disk_file.h"
#include "devices/virtio/virtio_device.h"
#include "vmm/guest_memory.h"

namespace vmm::virtio {

struct BlockOptions {
    std::string serial;      // GET_ID answer, at most 20 bytes
    bool flush_on_flush = true;  // cache=writeback: FLUSH fdatasyncs; cache=unsafe: it does not
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
inline constexpr uint64_t F_DISCARD = 1ull << 13;
inline constexpr uint64_t F_WRITE_ZEROES = 1ull << 14;
inline constexpr uint32_t ID_BYTES = 20;
inline constexpr uint32_t SIZE_MAX_BYTES = 1 << 20;
inline constexpr uint32_t MAX_DISCARD_SECTORS = 1 << 22;  // 2 GiB per segment
}  // namespace blk

class Block final : public VirtioDevice {
public:
    Block(DiskFile disk, GuestMemory& memory, BlockOptions options);

    uint32_t device_id() const override;
    uint64_t device_features() const override;
    size_t queue_count() const override { return 1; }
    size_t config_size() const override;
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    void activate(uint64_t features) override { m_features = features; }
    Status process_queue(size_t index, Virtqueue& queue) override;
    void reset() override { m_features = 0; }

    // One request: writes the status byte and returns the used length (0 when the chain
    // has no writable byte to put a status in).
    uint32_t complete(const DescriptorChain& chain);

private:
    uint8_t execute(const DescriptorChain& chain, uint64_t data_len, uint32_t& written);
    uint8_t read_sectors(const DescriptorChain& chain, uint64_t sector, uint64_t len, uint32_t& written);
    uint8_t write_sectors(const DescriptorChain& chain, uint64_t sector);
    uint8_t get_id(const DescriptorChain& chain, uint64_t data_len, uint32_t& written);
    uint8_t discard_or_zero(const DescriptorChain& chain, uint32_t type);
    bool in_range(uint64_t sector, uint64_t bytes) const;
    uint64_t capacity_sectors() const { return m_disk.size() / DiskFile::SECTOR; }

    DiskFile m_disk;
    GuestMemory& m_memory;
    BlockOptions m_options;
    uint64_t m_features = 0;
    DescriptorChain m_chain;    // reused: no allocation per request once warm
    std::vector<iovec> m_iov;
};

}  // namespace vmm::virtio
