#include "devices/virtio/block.h"

#include <array>
#include <cstring>

#include <spdlog/spdlog.h>

#include "devices/virtio/chain_io.h"
#include "devices/virtio/virtio.h"

namespace vmm::virtio {

namespace {

// §5.2.4 device configuration layout, up to write_zeroes_may_unmap and its padding.
struct [[gnu::packed]] BlockConfigSpace {
    uint64_t capacity;
    uint32_t size_max;
    uint32_t seg_max;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;
    uint32_t blk_size;
    uint8_t physical_block_exp;
    uint8_t alignment_offset;
    uint16_t min_io_size;
    uint32_t opt_io_size;
    uint8_t writeback;
    uint8_t unused0;
    uint16_t num_queues;
    uint32_t max_discard_sectors;
    uint32_t max_discard_seg;
    uint32_t discard_sector_alignment;
    uint32_t max_write_zeroes_sectors;
    uint32_t max_write_zeroes_seg;
    uint8_t write_zeroes_may_unmap;
    uint8_t unused1[3];
};
static_assert(sizeof(BlockConfigSpace) == 60);

constexpr uint64_t SECTOR = DiskFile::SECTOR;
constexpr uint32_t WRITE_ZEROES_UNMAP = 1;

}  // namespace

Block::Block(DiskFile disk, GuestMemory& memory, BlockOptions options)
    : m_disk(std::move(disk)), m_memory(memory), m_options(std::move(options)) {}

uint32_t Block::device_id() const { return device_id::BLOCK; }

uint64_t Block::device_features() const {
    uint64_t features = blk::F_SIZE_MAX | blk::F_SEG_MAX | blk::F_BLK_SIZE | blk::F_FLUSH;
    if (m_disk.readonly())
        features |= blk::F_RO;
    else
        features |= blk::F_DISCARD | blk::F_WRITE_ZEROES;
    return features;
}

size_t Block::config_size() const { return sizeof(BlockConfigSpace); }

void Block::read_config(uint64_t offset, std::span<uint8_t> data) const {
    BlockConfigSpace config{};
    config.capacity = capacity_sectors();
    config.size_max = blk::SIZE_MAX_BYTES;
    config.seg_max = Virtqueue::MAX_SIZE - 2;  // header and status take two descriptors
    config.blk_size = SECTOR;
    config.num_queues = 1;
    config.max_discard_sectors = blk::MAX_DISCARD_SECTORS;
    config.max_discard_seg = 1;
    config.discard_sector_alignment = 1;
    config.max_write_zeroes_sectors = blk::MAX_DISCARD_SECTORS;
    config.max_write_zeroes_seg = 1;
    config.write_zeroes_may_unmap = 1;
    // SAFETY: packed POD; the transport guarantees offset + size <= config_size().
    std::memcpy(data.data(), reinterpret_cast<const uint8_t*>(&config) + offset, data.size());
}

Status Block::process_queue(size_t, Virtqueue& queue) {
    while (TRY(queue.pop(m_chain)))
        TRY(queue.add_used(m_chain.head, complete(m_chain)));
    return {};
}

uint32_t Block::complete(const DescriptorChain& chain) {
    if (chain.writable_bytes == 0) {
        spdlog::debug("virtio-blk: request {} has no status byte; completed with nothing", chain.head);
        return 0;
    }
    // §5.2.6: the status is the last byte the device writes; data precedes it.
    const uint64_t data_len = chain.writable_bytes - 1;
    uint32_t written = 0;
    const uint8_t status = execute(chain, data_len, written);
    if (!write_buffers(m_memory, chain.writable, data_len, std::span(&status, 1)).ok())
        return 0;
    return written + 1;
}

bool Block::in_range(uint64_t sector, uint64_t bytes) const {
    return bytes % SECTOR == 0 && sector <= capacity_sectors() &&
           bytes / SECTOR <= capacity_sectors() - sector;
}

uint8_t Block::execute(const DescriptorChain& chain, uint64_t data_len, uint32_t& written) {
    BlockRequestHeader header{};
    // SAFETY: POD header filled from guest bytes.
    if (!read_buffers(m_memory, chain.readable, 0,
                      std::span(reinterpret_cast<uint8_t*>(&header), sizeof header)).ok())
        return blk::S_IOERR;  // shorter than a header
    switch (header.type) {
    case blk::T_IN:
        return read_sectors(chain, header.sector, data_len, written);
    case blk::T_OUT:
        return write_sectors(chain, header.sector);
    case blk::T_FLUSH:
        if (m_options.flush_on_flush && !m_disk.flush().ok())
            return blk::S_IOERR;
        return blk::S_OK;
    case blk::T_GET_ID:
        return get_id(chain, data_len, written);
    case blk::T_DISCARD:
    case blk::T_WRITE_ZEROES:
        return discard_or_zero(chain, header.type);
    default:
        return blk::S_UNSUPP;
    }
}

uint8_t Block::read_sectors(const DescriptorChain& chain, uint64_t sector, uint64_t len, uint32_t& written) {
    if (!in_range(sector, len))
        return blk::S_IOERR;
    m_iov.clear();
    if (!buffer_iovecs(m_memory, chain.writable, 0, len, m_iov).ok() ||
        !m_disk.read(m_iov, sector * SECTOR).ok())
        return blk::S_IOERR;
    written = static_cast<uint32_t>(len);
    return blk::S_OK;
}

uint8_t Block::write_sectors(const DescriptorChain& chain, uint64_t sector) {
    const uint64_t len = chain.readable_bytes - sizeof(BlockRequestHeader);
    if (m_disk.readonly() || !in_range(sector, len))
        return blk::S_IOERR;
    m_iov.clear();
    if (!buffer_iovecs(m_memory, chain.readable, sizeof(BlockRequestHeader), len, m_iov).ok() ||
        !m_disk.write(m_iov, sector * SECTOR).ok())
        return blk::S_IOERR;
    return blk::S_OK;
}

uint8_t Block::get_id(const DescriptorChain& chain, uint64_t data_len, uint32_t& written) {
    std::array<uint8_t, blk::ID_BYTES> id{};
    std::memcpy(id.data(), m_options.serial.data(), std::min<size_t>(m_options.serial.size(), id.size()));
    const size_t len = std::min<uint64_t>(data_len, id.size());
    if (!write_buffers(m_memory, chain.writable, 0, std::span(id.data(), len)).ok())
        return blk::S_IOERR;
    written = static_cast<uint32_t>(len);
    return blk::S_OK;
}

uint8_t Block::discard_or_zero(const DescriptorChain& chain, uint32_t type) {
    const uint64_t feature = type == blk::T_DISCARD ? blk::F_DISCARD : blk::F_WRITE_ZEROES;
    if (!(m_features & feature))
        return blk::S_UNSUPP;
    if (m_disk.readonly())
        return blk::S_IOERR;
    // Exactly one segment (max_discard_seg / max_write_zeroes_seg = 1).
    if (chain.readable_bytes != sizeof(BlockRequestHeader) + sizeof(BlockDiscardSegment))
        return blk::S_IOERR;
    BlockDiscardSegment segment{};
    // SAFETY: POD segment filled from guest bytes.
    if (!read_buffers(m_memory, chain.readable, sizeof(BlockRequestHeader),
                      std::span(reinterpret_cast<uint8_t*>(&segment), sizeof segment)).ok())
        return blk::S_IOERR;
    // §5.2.6.2: unknown flags, or unmap on a discard, are not supported.
    const uint32_t allowed = type == blk::T_WRITE_ZEROES ? WRITE_ZEROES_UNMAP : 0;
    if (segment.flags & ~allowed)
        return blk::S_UNSUPP;
    const uint64_t bytes = uint64_t(segment.num_sectors) * SECTOR;
    if (segment.num_sectors > blk::MAX_DISCARD_SECTORS || !in_range(segment.sector, bytes))
        return blk::S_IOERR;
    const Status done = type == blk::T_DISCARD ? m_disk.discard(segment.sector * SECTOR, bytes)
                                               : m_disk.write_zeroes(segment.sector * SECTOR, bytes);
    return done.ok() ? blk::S_OK : blk::S_IOERR;
}

}  // namespace vmm::virtio
