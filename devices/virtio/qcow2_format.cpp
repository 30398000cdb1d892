#include "devices/virtio/qcow2_format.h"

#include <fmt/format.h>

namespace vmm::virtio::qcow2 {

namespace {

constexpr size_t V2_HEADER = 72;
constexpr size_t V3_HEADER = 104;
constexpr uint64_t KNOWN_INCOMPAT = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION |
                                    INCOMPAT_EXTENDED_L2;
constexpr uint64_t L1_RESERVED = 0x7f000000000001ffull;  // bits 0-8 and 56-62
constexpr uint64_t L2_RESERVED = 0x3f000000000001feull;  // bits 1-8 and 56-61

uint64_t div_round_up(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

bool aligned(uint64_t offset, const Header& h) { return (offset & (h.cluster_size() - 1)) == 0; }

// Whether [offset, offset + bytes) is a sane range in a file: no overflow, below 2^56.
bool sane_range(uint64_t offset, uint64_t bytes) {
    return offset <= (1ull << 56) && bytes <= (1ull << 56) - offset;
}

Status check_features(const Header& h, std::span<const uint8_t> bytes, uint32_t header_length) {
    if (const uint64_t unknown = h.incompatible & ~KNOWN_INCOMPAT)
        return format_error(fmt::format("unknown incompatible features {:#x}: this image needs a newer reader", unknown));
    if (h.incompatible & INCOMPAT_DATA_FILE)
        return format_error("the image keeps its data in an external data file, which Ember does not read");
    if (h.incompatible & INCOMPAT_EXTENDED_L2)
        return format_error("the image has extended L2 entries (subclusters), which Ember does not read");
    if (h.incompatible & INCOMPAT_COMPRESSION) {
        if (header_length <= V3_HEADER)
            return format_error("the compression-type feature is set but the header has no compression type");
        if (bytes[V3_HEADER] != 0)
            return format_error(fmt::format("compression type {} is not zlib, the only one Ember reads", bytes[V3_HEADER]));
    }
    return {};
}

// Header extensions from `at` to the end of the header area; only the backing format is used.
Status parse_extensions(Header& h, std::span<const uint8_t> bytes, size_t at, size_t end) {
    while (at + 8 <= end) {
        const uint32_t type = load_be32(&bytes[at]);
        const uint32_t length = load_be32(&bytes[at + 4]);
        at += 8;
        if (type == EXT_END)
            return {};
        if (length > end - at)
            return format_error(fmt::format("header extension {:#x} runs past the header ({} bytes)", type, length));
        if (type == EXT_BACKING_FORMAT) {
            if (length == 0 || length > 16)
                return format_error(fmt::format("backing format name of {} bytes", length));
            h.backing_format.assign(reinterpret_cast<const char*>(&bytes[at]), length);
        }
        at += (uint64_t(length) + 7) & ~uint64_t(7);
    }
    return {};
}

Status check_tables(const Header& h) {
    const uint64_t cluster = h.cluster_size();
    if (h.size > MAX_VIRTUAL_SIZE)
        return format_error(fmt::format("virtual size {} is beyond the {} Ember accepts", h.size, MAX_VIRTUAL_SIZE));
    const uint64_t needed_l1 = div_round_up(h.size, cluster * h.l2_entries());
    if (h.l1_size < needed_l1)
        return format_error(fmt::format("L1 table of {} entries is too small for a {}-byte disk", h.l1_size, h.size));
    if (uint64_t(h.l1_size) * 8 > MAX_L1_BYTES)
        return format_error(fmt::format("L1 table of {} entries is larger than {} bytes", h.l1_size, MAX_L1_BYTES));
    if (h.l1_size && (!aligned(h.l1_offset, h) || h.l1_offset == 0 || !sane_range(h.l1_offset, uint64_t(h.l1_size) * 8)))
        return format_error(fmt::format("L1 table offset {:#x} is not a cluster past the header", h.l1_offset));
    if (h.refcount_order > 6)
        return format_error(fmt::format("refcount order {} is above 6", h.refcount_order));
    const uint64_t reftable_bytes = uint64_t(h.reftable_clusters) * cluster;
    if (h.reftable_clusters == 0 || reftable_bytes > MAX_REFTABLE_BYTES)
        return format_error(fmt::format("refcount table of {} clusters", h.reftable_clusters));
    if (!aligned(h.reftable_offset, h) || h.reftable_offset == 0 || !sane_range(h.reftable_offset, reftable_bytes))
        return format_error(fmt::format("refcount table offset {:#x} is not a cluster past the header", h.reftable_offset));
    return {};
}

}  // namespace

uint64_t load_be64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = (v << 8) | p[i];
    return v;
}

uint32_t load_be32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

void store_be64(uint8_t* p, uint64_t value) {
    for (int i = 7; i >= 0; --i, value >>= 8)
        p[i] = static_cast<uint8_t>(value);
}

std::vector<uint8_t> encode_table(std::span<const uint64_t> entries) {
    std::vector<uint8_t> bytes(entries.size() * 8);
    for (size_t i = 0; i < entries.size(); ++i)
        store_be64(&bytes[i * 8], entries[i]);
    return bytes;
}

Error format_error(const std::string& what) { return Error(ErrorKind::InvalidInput, "qcow2: " + what); }

Result<uint32_t> cluster_bits(std::span<const uint8_t> probe) {
    if (probe.size() < V2_HEADER || load_be32(&probe[0]) != MAGIC)
        return format_error("no qcow2 header (magic QFI\\xfb)");
    const uint32_t version = load_be32(&probe[4]);
    if (version != 2 && version != 3)
        return format_error(fmt::format("version {} (Ember reads versions 2 and 3)", version));
    const uint32_t bits = load_be32(&probe[20]);
    if (bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS)
        return format_error(fmt::format("cluster size 2^{} is outside 512 bytes to 2 MiB", bits));
    return bits;
}

Result<Header> parse_header(std::span<const uint8_t> bytes) {
    Header h;
    h.cluster_bits = TRY(cluster_bits(bytes));
    h.version = load_be32(&bytes[4]);
    const size_t area = std::min<size_t>(bytes.size(), h.cluster_size());  // extensions end in cluster 0
    uint32_t header_length = V2_HEADER;
    if (h.version == 3) {
        if (bytes.size() < V3_HEADER)
            return format_error("version 3 header is truncated");
        h.incompatible = load_be64(&bytes[72]);
        h.compatible = load_be64(&bytes[80]);
        h.autoclear = load_be64(&bytes[88]);
        h.refcount_order = load_be32(&bytes[96]);
        header_length = load_be32(&bytes[100]);
        if (header_length < V3_HEADER || header_length % 8 || header_length > area)
            return format_error(fmt::format("header length {}", header_length));
    }
    if (load_be32(&bytes[32]) != 0)
        return format_error("the image is encrypted, which Ember does not support");
    TRY(check_features(h, bytes, header_length));
    h.size = load_be64(&bytes[24]);
    h.l1_size = load_be32(&bytes[36]);
    h.l1_offset = load_be64(&bytes[40]);
    h.reftable_offset = load_be64(&bytes[48]);
    h.reftable_clusters = load_be32(&bytes[56]);
    h.snapshots = load_be32(&bytes[60]);
    TRY(check_tables(h));

    const uint64_t backing_offset = load_be64(&bytes[8]);
    const uint32_t backing_size = load_be32(&bytes[16]);
    size_t extensions_end = area;
    if (backing_offset != 0) {
        if (backing_size == 0 || backing_size > MAX_BACKING_NAME || backing_offset < header_length ||
            backing_offset > area || backing_size > area - backing_offset)
            return format_error(fmt::format("backing file name of {} bytes at {} is not inside the first cluster", backing_size,
                                   backing_offset));
        h.backing_file.assign(reinterpret_cast<const char*>(&bytes[backing_offset]), backing_size);
        if (h.backing_file.find('\0') != std::string::npos)
            return format_error("the backing file name holds a NUL byte");
        extensions_end = backing_offset;
    }
    TRY(parse_extensions(h, bytes, header_length, extensions_end));
    return h;
}

Result<uint64_t> decode_l1(uint64_t entry, const Header& h) {
    if (entry & L1_RESERVED)
        return format_error(fmt::format("L1 entry {:#x} has reserved bits set", entry));
    const uint64_t offset = entry & OFFSET_MASK;
    if (!aligned(offset, h))
        return format_error(fmt::format("L2 table offset {:#x} is not cluster aligned", offset));
    return offset;
}

Result<Mapping> decode_l2(uint64_t entry, const Header& h) {
    Mapping m;
    if (entry & COMPRESSED) {
        if (entry & COPIED)
            return format_error(fmt::format("L2 entry {:#x}: a compressed cluster cannot be COPIED", entry));
        const uint32_t shift = 62 - (h.cluster_bits - 8);
        m.kind = Mapping::Kind::Compressed;
        m.host = entry & ((1ull << shift) - 1);
        const uint64_t sectors = ((entry >> shift) & ((1ull << (h.cluster_bits - 8)) - 1)) + 1;
        m.compressed_bytes = sectors * 512 - (m.host & 511);
        if (m.host < h.cluster_size())
            return format_error(fmt::format("compressed cluster at {:#x} is inside the header", m.host));
        return m;
    }
    if (entry & L2_RESERVED)
        return format_error(fmt::format("L2 entry {:#x} has reserved bits set", entry));
    m.host = entry & OFFSET_MASK;
    m.copied = entry & COPIED;
    if (!aligned(m.host, h))
        return format_error(fmt::format("data cluster offset {:#x} is not cluster aligned", m.host));
    if (entry & ZERO) {
        if (h.version < 3)
            return format_error(fmt::format("L2 entry {:#x}: zero clusters need version 3", entry));
        m.kind = Mapping::Kind::Zero;
        return m;
    }
    if (m.host == 0) {
        m.kind = Mapping::Kind::Unallocated;
        return m;
    }
    m.kind = Mapping::Kind::Data;
    return m;
}

}  // namespace vmm::virtio::qcow2
