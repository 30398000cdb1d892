// The qcow2 on-disk format (QEMU's docs/interop/qcow2.txt), versions 2 and 3: the header and
// its extensions parsed and checked, and table entries decoded. Pure functions over bytes read
// from an image someone else may have made: every offset, size and count is checked here, once,
// before the image layer uses it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace vmm::virtio::qcow2 {

inline constexpr uint32_t MAGIC = 0x514649fb;  // "QFI\xfb"
inline constexpr uint32_t MIN_CLUSTER_BITS = 9;
inline constexpr uint32_t MAX_CLUSTER_BITS = 21;  // 2 MiB
inline constexpr uint64_t MAX_L1_BYTES = 32ull << 20;
inline constexpr uint64_t MAX_REFTABLE_BYTES = 8ull << 20;
inline constexpr uint64_t MAX_VIRTUAL_SIZE = 1ull << 55;
inline constexpr size_t MAX_BACKING_NAME = 1023;
// The largest header the fixed fields and the extensions we read can need: a first read of
// this many bytes gives the cluster size, then the first cluster is read whole.
inline constexpr size_t HEADER_PROBE = 112;

inline constexpr uint64_t OFFSET_MASK = 0x00fffffffffffe00ull;  // bits 9-55 of L1 and L2 entries
inline constexpr uint64_t COPIED = 1ull << 63;                  // refcount is exactly one
inline constexpr uint64_t COMPRESSED = 1ull << 62;
inline constexpr uint64_t ZERO = 1;  // v3: the cluster reads as zeroes

inline constexpr uint64_t INCOMPAT_DIRTY = 1ull << 0;
inline constexpr uint64_t INCOMPAT_CORRUPT = 1ull << 1;
inline constexpr uint64_t INCOMPAT_DATA_FILE = 1ull << 2;
inline constexpr uint64_t INCOMPAT_COMPRESSION = 1ull << 3;
inline constexpr uint64_t INCOMPAT_EXTENDED_L2 = 1ull << 4;

inline constexpr uint32_t EXT_END = 0;
inline constexpr uint32_t EXT_BACKING_FORMAT = 0xe2792aca;

// Field offsets the image layer writes back.
inline constexpr uint64_t AUTOCLEAR_OFFSET = 88;

struct Header {
    uint32_t version = 0;
    uint32_t cluster_bits = 0;
    uint64_t size = 0;  // virtual disk size in bytes
    uint32_t l1_size = 0;
    uint64_t l1_offset = 0;
    uint64_t reftable_offset = 0;
    uint32_t reftable_clusters = 0;
    uint32_t snapshots = 0;
    uint64_t incompatible = 0;
    uint64_t compatible = 0;
    uint64_t autoclear = 0;
    uint32_t refcount_order = 4;  // refcounts are 1 << refcount_order bits wide
    std::string backing_file;     // empty: none
    std::string backing_format;   // from the backing-format extension; empty: not recorded

    uint64_t cluster_size() const { return 1ull << cluster_bits; }
    uint64_t l2_entries() const { return cluster_size() / 8; }
    uint64_t refcount_bits() const { return 1ull << refcount_order; }
    uint64_t refblock_entries() const { return cluster_size() * 8 / refcount_bits(); }
    uint64_t reftable_entries() const { return uint64_t(reftable_clusters) * cluster_size() / 8; }
    bool dirty() const { return incompatible & INCOMPAT_DIRTY; }
    bool corrupt() const { return incompatible & INCOMPAT_CORRUPT; }
};

// The cluster size a header declares, from its first HEADER_PROBE bytes (checked).
Result<uint32_t> cluster_bits(std::span<const uint8_t> probe);
// The header, its extensions and the backing file's name, from the image's first cluster (or
// the whole file when that is shorter). Refuses what Ember cannot read rightly: encryption,
// external data files, extended L2 entries, compression other than zlib, unknown
// incompatible features, and tables that do not fit the virtual size or overflow.
Result<Header> parse_header(std::span<const uint8_t> first_cluster);

// What an L2 entry says about one guest cluster.
struct Mapping {
    enum class Kind { Unallocated, Zero, Data, Compressed };
    Kind kind = Kind::Unallocated;
    uint64_t host = 0;             // Data (and Zero, when preallocated): cluster-aligned; Compressed: byte offset
    uint64_t compressed_bytes = 0;  // Compressed: how many bytes from `host` may hold it
    bool copied = false;           // Data: refcount is one, so it may be written in place
};
Result<Mapping> decode_l2(uint64_t entry, const Header& header);
// An L1 entry's L2 table offset (0: none), checked for reserved bits and alignment.
Result<uint64_t> decode_l1(uint64_t entry, const Header& header);

// Big-endian helpers for table buffers.
uint64_t load_be64(const uint8_t* p);
uint32_t load_be32(const uint8_t* p);
void store_be64(uint8_t* p, uint64_t value);
// A table's entries as the file holds them (8 big-endian bytes each).
std::vector<uint8_t> encode_table(std::span<const uint64_t> entries);

// "qcow2: <what>": what the image (a file someone made) gets wrong, or cannot do.
Error format_error(const std::string& what);

}  // namespace vmm::virtio::qcow2
