// A qcow2 image's refcounts and cluster allocation. Every change is written through at once,
// and in the order that keeps the image consistent for a process killed at any point: a
// refcount block is written before the table points at it, and a cluster's refcount before
// anything refers to it, so a crash can leak clusters but never leave one referenced and free.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "devices/virtio/disk_file.h"
#include "devices/virtio/qcow2_format.h"
#include "base/result.h"

namespace vmm::virtio::qcow2 {

class Refcounts {
public:
    // How far one allocation looks for a free cluster before it gives up (a hostile image
    // whose refcount blocks claim every cluster).
    static constexpr uint64_t MAX_SCAN = 1ull << 20;
    static constexpr size_t CACHED_BLOCKS_BYTES = 4u << 20;
    static constexpr size_t MAX_FREED = 1u << 16;

    // Loads and checks the refcount table (each block registered as metadata, none twice);
    // allocations start past `file_size`.
    static Result<Refcounts> load(DiskFile& file, const Header& header, uint64_t file_size);

    Result<uint64_t> get(uint64_t cluster);
    // One free cluster, given refcount one; returns its host offset. A cluster that is
    // needed for a new refcount block on the way becomes that block.
    Result<uint64_t> allocate();
    // Drops one reference to every cluster [offset, offset + bytes) touches; a cluster left
    // with none is punched out of the file and may be allocated again.
    Status release(uint64_t offset, uint64_t bytes);

    // Clusters that hold metadata (the header, the tables, refcount blocks, L2 tables as the
    // image layer registers them): guest data is never written over one, nor allocated there.
    bool is_metadata(uint64_t offset) const { return m_metadata.count(offset >> m_header.cluster_bits) != 0; }
    // Fails when the cluster is already registered: two tables overlap.
    Status add_metadata(uint64_t offset, uint64_t bytes);
    void remove_metadata(uint64_t offset) { m_metadata.erase(offset >> m_header.cluster_bits); }

private:
    Refcounts(DiskFile& file, const Header& header) : m_file(&file), m_header(header) {}
    Status set(uint64_t cluster, uint64_t value);
    // The block holding `cluster`'s refcount; nullptr when the table has none.
    Result<std::vector<uint8_t>*> block(uint64_t index);
    // Empties the block cache once it holds CACHED_BLOCKS_BYTES.
    void make_room();
    // A new, empty refcount block for table entry `index`, stored at `cluster` (inside the
    // range it covers), which it counts as used.
    Status new_block(uint64_t index, uint64_t cluster);
    // A refcount table with room for entry `index`, written past everything in use with the
    // refcount blocks its own clusters need; the header switches to it in one write.
    Status grow_table(uint64_t index);

    DiskFile* m_file;
    Header m_header;
    std::vector<uint64_t> m_table;  // refcount block offsets, host order
    std::unordered_map<uint64_t, std::vector<uint8_t>> m_blocks;  // by table index, bounded
    std::unordered_set<uint64_t> m_metadata;                      // cluster indexes
    std::vector<uint64_t> m_freed;  // clusters released to zero, taken again first (bounded)
    uint64_t m_next = 0;  // where the scan for a free cluster goes on
    uint64_t m_end = 0;   // first cluster index past everything allocated
};

}  // namespace vmm::virtio::qcow2
