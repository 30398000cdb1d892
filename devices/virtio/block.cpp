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

Result<std::unique_ptr<Block>> Block::create(DiskFile disk, GuestMemory& memory, BlockOptions options) {
    if (options.num_queues < 1 || options.num_queues > blk::MAX_QUEUES)
        return Error(fmt::format("virtio-blk: {} queues (1 to {})", options.num_queues, blk::MAX_QUEUES));
    auto block = std::unique_ptr<Block>(
        new Block(std::make_unique<DiskFile>(std::move(disk)), memory, std::move(options)));
    if (block->m_options.format == DiskFormat::Qcow2)
        block->m_image = TRY(qcow2::Image::open(*block->m_disk));
    block->m_engine = TRY(block->make_engine(*block->m_disk, block->m_image.get()));
    return block;
}

Result<std::unique_ptr<DiskEngine>> Block::make_engine(DiskFile& disk, qcow2::Image* image) const {
    if (image)
        return make_qcow2_engine(*image);
    if (m_options.engine == DiskEngineKind::IoUring)
        return TRY_CTX(make_uring_engine(disk, BATCH), "engine=io_uring");
    return make_sync_engine(disk);
}

uint64_t Block::capacity_sectors() const {
    return (m_image ? m_image->size() : m_disk->size()) / DiskFile::SECTOR;
}

Status Block::change_disk(std::optional<DiskFile> disk) {
    if (!disk)
        return m_image ? Status{} : m_disk->reread_size();
    if (disk->readonly() != m_disk->readonly())
        return Error("the new disk must be read-only exactly when the old one is");
    auto owned = std::make_unique<DiskFile>(std::move(*disk));
    std::unique_ptr<qcow2::Image> image;
    if (m_image)
        image = TRY(qcow2::Image::open(*owned));
    m_engine = TRY(make_engine(*owned, image.get()));  // the old engine goes before its image and disk
    m_image = std::move(image);
    m_disk = std::move(owned);
    return {};
}

Status Block::hand_over(bool release) {
    if (release && !m_disk->readonly())
        TRY(m_disk->flush());
    return m_disk->set_locked(!release);
}

Block::Block(std::unique_ptr<DiskFile> disk, GuestMemory& memory, BlockOptions options)
    : m_disk(std::move(disk)), m_memory(memory), m_options(std::move(options)), m_chains(BATCH),
      m_pending(BATCH), m_ops(BATCH) {}

uint32_t Block::device_id() const { return device_id::BLOCK; }

uint64_t Block::device_features() const {
    uint64_t features = blk::F_SIZE_MAX | blk::F_SEG_MAX | blk::F_BLK_SIZE | blk::F_FLUSH;
    if (m_options.num_queues > 1)
        features |= blk::F_MQ;  // §5.2.3: num_queues in the configuration is valid
    if (m_disk->readonly())
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
    config.num_queues = m_options.num_queues;
    config.max_discard_sectors = blk::MAX_DISCARD_SECTORS;
    config.max_discard_seg = 1;
    config.discard_sector_alignment = 1;
    config.max_write_zeroes_sectors = blk::MAX_DISCARD_SECTORS;
    config.max_write_zeroes_seg = 1;
    config.write_zeroes_may_unmap = 1;
    copy_config(config, offset, data);
}

Result<bool> Block::process_queue(size_t, Virtqueue& queue) {
    uint64_t bytes = 0;
    for (size_t batch = 0; batch < BATCHES_PER_CALL && bytes < BYTES_PER_CALL; ++batch) {
        size_t count = 0;
        m_op_count = 0;
        while (count < BATCH && bytes < BYTES_PER_CALL && TRY(queue.pop(m_chains[count]))) {
            prepare(m_chains[count], m_pending[count]);
            bytes += m_chains[count].readable_bytes + m_chains[count].writable_bytes;
            ++count;
        }
        if (count == 0)
            return false;
        m_engine->run(std::span(m_ops.data(), m_op_count));
        for (size_t i = 0; i < count; ++i)
            TRY(queue.add_used(m_chains[i].head, finish(m_chains[i], m_pending[i])));
    }
    return queue.has_available();  // stopped at a budget: the rest after other events
}

uint32_t Block::complete(const DescriptorChain& chain) {
    m_op_count = 0;
    Pending pending;
    prepare(chain, pending);
    m_engine->run(std::span(m_ops.data(), m_op_count));
    return finish(chain, pending);
}

void Block::prepare(const DescriptorChain& chain, Pending& pending) {
    pending = Pending{};
    if (chain.writable_bytes == 0) {
        spdlog::debug("virtio-blk: request {} has no status byte; completed with nothing", chain.head);
        return;
    }
    // §5.2.6: the status is the last byte the device writes; data precedes it.
    pending.has_status = true;
    pending.data_len = chain.writable_bytes - 1;
    pending.status = prepare_request(chain, pending);
}

uint32_t Block::finish(const DescriptorChain& chain, const Pending& pending) {
    if (!pending.has_status)
        return 0;
    const bool op_failed = pending.op >= 0 && !m_ops[static_cast<size_t>(pending.op)].ok;
    const uint8_t status = op_failed ? blk::S_IOERR : pending.status;
    count(status, pending.op >= 0 ? &m_ops[static_cast<size_t>(pending.op)] : nullptr);
    if (!write_buffers(m_memory, chain.writable, pending.data_len, std::span(&status, 1)).ok())
        return 0;
    return (op_failed ? 0 : pending.written) + 1;
}

void Block::count(uint8_t status, const DiskOp* op) {
    if (status != blk::S_OK) {
        ++m_counts.errors;
        return;
    }
    if (!op)
        return;  // GET_ID
    switch (op->kind) {
    case DiskOp::Kind::Read: ++m_counts.reads; m_counts.read_bytes += op->length; break;
    case DiskOp::Kind::Write: ++m_counts.writes; m_counts.write_bytes += op->length; break;
    case DiskOp::Kind::Flush: ++m_counts.flushes; break;
    case DiskOp::Kind::Discard:
    case DiskOp::Kind::WriteZeroes: ++m_counts.discards; break;
    }
}

std::vector<CounterValue> Block::counters() const {
    return {{"read_ops", m_counts.reads},   {"read_bytes", m_counts.read_bytes}, {"write_ops", m_counts.writes},
            {"write_bytes", m_counts.write_bytes}, {"flush_ops", m_counts.flushes}, {"discard_ops", m_counts.discards},
            {"errors", m_counts.errors}};
}

DiskOp& Block::add_op(DiskOp::Kind kind, uint64_t offset, uint64_t length, Pending& pending) {
    DiskOp& op = m_ops[m_op_count];
    pending.op = static_cast<int>(m_op_count++);
    op.kind = kind;
    op.offset = offset;
    op.length = length;
    op.iov.clear();
    op.ok = false;
    return op;
}

bool Block::in_range(uint64_t sector, uint64_t bytes) const {
    return bytes % SECTOR == 0 && sector <= capacity_sectors() &&
           bytes / SECTOR <= capacity_sectors() - sector;
}

uint8_t Block::prepare_request(const DescriptorChain& chain, Pending& pending) {
    BlockRequestHeader header{};
    // SAFETY: POD header filled from guest bytes.
    if (!read_buffers(m_memory, chain.readable, 0,
                      std::span(reinterpret_cast<uint8_t*>(&header), sizeof header)).ok())
        return blk::S_IOERR;  // shorter than a header
    switch (header.type) {
    case blk::T_IN:
    case blk::T_OUT:
        return prepare_transfer(chain, header.type, header.sector, pending);
    case blk::T_FLUSH:
        if (m_options.flush_on_flush)
            add_op(DiskOp::Kind::Flush, 0, 0, pending);
        return blk::S_OK;
    case blk::T_GET_ID:
        return get_id(chain, pending);
    case blk::T_DISCARD:
    case blk::T_WRITE_ZEROES:
        return prepare_discard(chain, header.type, pending);
    default:
        return blk::S_UNSUPP;
    }
}

uint8_t Block::prepare_transfer(const DescriptorChain& chain, uint32_t type, uint64_t sector, Pending& pending) {
    const bool read = type == blk::T_IN;
    const uint64_t len = read ? pending.data_len : chain.readable_bytes - sizeof(BlockRequestHeader);
    if ((!read && m_disk->readonly()) || len > MAX_REQUEST_BYTES || !in_range(sector, len))
        return blk::S_IOERR;
    DiskOp& op = add_op(read ? DiskOp::Kind::Read : DiskOp::Kind::Write, sector * SECTOR, len, pending);
    const Status views = read ? buffer_iovecs(m_memory, chain.writable, 0, len, op.iov)
                              : buffer_iovecs(m_memory, chain.readable, sizeof(BlockRequestHeader), len, op.iov);
    if (!views.ok()) {
        --m_op_count;
        pending.op = -1;
        return blk::S_IOERR;
    }
    pending.written = read ? static_cast<uint32_t>(len) : 0;
    return blk::S_OK;
}

uint8_t Block::get_id(const DescriptorChain& chain, Pending& pending) {
    std::array<uint8_t, blk::ID_BYTES> id{};
    std::memcpy(id.data(), m_options.serial.data(), std::min<size_t>(m_options.serial.size(), id.size()));
    const size_t len = std::min<uint64_t>(pending.data_len, id.size());
    if (!write_buffers(m_memory, chain.writable, 0, std::span(id.data(), len)).ok())
        return blk::S_IOERR;
    pending.written = static_cast<uint32_t>(len);
    return blk::S_OK;
}

uint8_t Block::prepare_discard(const DescriptorChain& chain, uint32_t type, Pending& pending) {
    const uint64_t feature = type == blk::T_DISCARD ? blk::F_DISCARD : blk::F_WRITE_ZEROES;
    if (!(m_features & feature))
        return blk::S_UNSUPP;
    if (m_disk->readonly())
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
    add_op(type == blk::T_DISCARD ? DiskOp::Kind::Discard : DiskOp::Kind::WriteZeroes,
           segment.sector * SECTOR, bytes, pending);
    return blk::S_OK;
}

}  // namespace vmm::virtio
