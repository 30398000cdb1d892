#include "devices/virtio/qcow2_refcounts.h"

#include <fmt/format.h>

namespace vmm::virtio::qcow2 {

namespace {

constexpr uint64_t REFTABLE_RESERVED = 0x1ff;
constexpr uint64_t REFTABLE_FIELDS_OFFSET = 48;  // refcount_table_offset, then refcount_table_clusters

// Entry `k` of a refcount block of `width`-bit entries (sub-byte ones from the low bits up,
// wider ones big-endian); returns where the changed bytes start and how many there are.
std::pair<uint64_t, uint64_t> put(std::vector<uint8_t>& bytes, uint64_t k, uint64_t width, uint64_t value) {
    const uint64_t at = k * width / 8;
    if (width < 8) {
        const unsigned shift = k * width % 8;
        const unsigned mask = ((1u << width) - 1) << shift;
        bytes[at] = static_cast<uint8_t>((bytes[at] & ~mask) | ((value << shift) & mask));
        return {at, 1};
    }
    for (uint64_t i = width / 8; i-- > 0; value >>= 8)
        bytes[at + i] = static_cast<uint8_t>(value);
    return {at, width / 8};
}

}  // namespace

Result<Refcounts> Refcounts::load(DiskFile& file, const Header& header, uint64_t file_size) {
    Refcounts counts(file, header);
    const uint64_t cluster = header.cluster_size();
    if (header.reftable_offset + uint64_t(header.reftable_clusters) * cluster > file_size)
        return format_error(fmt::format("refcount table at {:#x} runs past the end of the file", header.reftable_offset));
    std::vector<uint8_t> raw(header.reftable_clusters * cluster);
    TRY_CTX(file.read_at(raw.data(), raw.size(), header.reftable_offset), "qcow2: refcount table");
    TRY(counts.add_metadata(0, cluster));
    TRY(counts.add_metadata(header.reftable_offset, raw.size()));
    counts.m_table.resize(header.reftable_entries());
    for (size_t i = 0; i < counts.m_table.size(); ++i) {
        const uint64_t entry = load_be64(&raw[i * 8]);
        if (entry & (REFTABLE_RESERVED | (cluster - 1)))
            return format_error(fmt::format("refcount table entry {} ({:#x}) is not a cluster offset", i, entry));
        if (entry != 0)
            TRY(counts.add_metadata(entry, cluster));
        counts.m_table[i] = entry;
    }
    counts.m_next = (file_size + cluster - 1) >> header.cluster_bits;
    counts.m_end = counts.m_next;
    return counts;
}

Status Refcounts::add_metadata(uint64_t offset, uint64_t bytes) {
    const uint64_t first = offset >> m_header.cluster_bits;
    const uint64_t last = (offset + bytes - 1) >> m_header.cluster_bits;
    for (uint64_t c = first; c <= last; ++c) {
        if (!m_metadata.insert(c).second)
            return format_error(fmt::format("metadata overlaps at cluster {:#x}", c << m_header.cluster_bits));
    }
    return {};
}

void Refcounts::make_room() {
    if (m_blocks.size() * m_header.cluster_size() >= CACHED_BLOCKS_BYTES)
        m_blocks.clear();  // written through: dropping is free
}

Result<std::vector<uint8_t>*> Refcounts::block(uint64_t index) {
    if (index >= m_table.size() || m_table[index] == 0)
        return nullptr;
    if (auto it = m_blocks.find(index); it != m_blocks.end())
        return &it->second;
    make_room();
    std::vector<uint8_t> bytes(m_header.cluster_size());
    TRY_CTX(m_file->read_at(bytes.data(), bytes.size(), m_table[index]), "qcow2: refcount block");
    return &m_blocks.emplace(index, std::move(bytes)).first->second;
}

Result<uint64_t> Refcounts::get(uint64_t cluster) {
    const uint64_t per_block = m_header.refblock_entries();
    std::vector<uint8_t>* bytes = TRY(block(cluster / per_block));
    if (!bytes)
        return uint64_t(0);
    const uint64_t k = cluster % per_block;
    const uint64_t width = m_header.refcount_bits();
    if (width < 8)
        return uint64_t((*bytes)[k * width / 8] >> (k * width % 8)) & ((1u << width) - 1);
    uint64_t value = 0;
    for (uint64_t i = 0; i < width / 8; ++i)
        value = (value << 8) | (*bytes)[k * width / 8 + i];
    return value;
}

Status Refcounts::set(uint64_t cluster, uint64_t value) {
    const uint64_t per_block = m_header.refblock_entries();
    const uint64_t index = cluster / per_block;
    std::vector<uint8_t>* bytes = TRY(block(index));
    if (!bytes)
        return format_error(fmt::format("cluster {:#x} has no refcount block", cluster << m_header.cluster_bits));
    const auto [at, length] = put(*bytes, cluster % per_block, m_header.refcount_bits(), value);
    return m_file->write_at(&(*bytes)[at], length, m_table[index] + at);
}

Status Refcounts::new_block(uint64_t index, uint64_t cluster) {
    const uint64_t offset = cluster << m_header.cluster_bits;
    make_room();
    std::vector<uint8_t>& bytes = m_blocks[index];
    bytes.assign(m_header.cluster_size(), 0);
    TRY(m_file->write_at(bytes.data(), bytes.size(), offset));  // the block before the table entry
    uint8_t entry[8];
    store_be64(entry, offset);
    TRY(m_file->write_at(entry, 8, m_header.reftable_offset + index * 8));
    m_table[index] = offset;
    TRY(add_metadata(offset, m_header.cluster_size()));
    m_end = std::max(m_end, cluster + 1);
    return set(cluster, 1);
}

Result<uint64_t> Refcounts::allocate() {
    const uint64_t limit = (1ull << 56) >> m_header.cluster_bits;
    const uint64_t per_block = m_header.refblock_entries();
    while (!m_freed.empty()) {
        const uint64_t c = m_freed.back();
        m_freed.pop_back();
        const uint64_t index = c / per_block;
        if (!m_metadata.count(c) && index < m_table.size() && m_table[index] != 0 && TRY(get(c)) == 0) {
            TRY(set(c, 1));
            return c << m_header.cluster_bits;
        }
    }
    uint64_t c = m_next;
    for (uint64_t steps = 0; c < limit && steps < MAX_SCAN; ++steps) {
        if (m_metadata.count(c)) {
            ++c;
            continue;
        }
        const uint64_t index = c / per_block;
        if (index >= m_table.size()) {
            TRY(grow_table(index));  // may take c itself: look again
            continue;
        }
        if (m_table[index] == 0) {
            TRY(new_block(index, c++));
            continue;
        }
        if (TRY(get(c)) != 0) {
            ++c;
            continue;
        }
        TRY(set(c, 1));
        m_next = c + 1;
        m_end = std::max(m_end, c + 1);
        return c << m_header.cluster_bits;
    }
    return format_error("no free cluster found for an allocation");
}

Status Refcounts::grow_table(uint64_t index) {
    const uint64_t cluster = m_header.cluster_size();
    const uint64_t per_block = m_header.refblock_entries();
    const uint64_t entries_per_cluster = cluster / 8;
    uint64_t clusters = std::max<uint64_t>(2 * m_header.reftable_clusters, index / entries_per_cluster + 2);
    if (clusters * cluster > MAX_REFTABLE_BYTES)
        return format_error(fmt::format("refcount table of {} entries is full: the image cannot grow", m_table.size()));
    std::vector<uint64_t> table = m_table;
    table.resize(clusters * entries_per_cluster, 0);
    // The new table at the end (past every metadata cluster too, however far a hostile table
    // put one), then the new blocks its clusters (and theirs) need.
    uint64_t start = std::max(m_end, m_next);
    for (uint64_t c : m_metadata)
        start = std::max(start, c + 1);
    if (start + clusters + clusters * entries_per_cluster / per_block + 2 > ((1ull << 56) >> m_header.cluster_bits))
        return format_error("the refcount table cannot grow past the largest image offset");
    uint64_t next = start + clusters;
    std::unordered_map<uint64_t, std::vector<uint8_t>> fresh;
    std::vector<uint64_t> used;
    for (uint64_t c = start; c < start + clusters; ++c)
        used.push_back(c);
    for (size_t k = 0; k < used.size(); ++k) {
        const uint64_t c = used[k], i = c / per_block;
        if (i >= table.size())
            return format_error("refcount table growth does not cover its own clusters");
        if (i < m_table.size() && m_table[i] != 0) {
            TRY(set(c, 1));  // an existing block: counted now, a leak if we stop before the switch
            continue;
        }
        if (table[i] == 0) {
            table[i] = next << m_header.cluster_bits;
            fresh[i].assign(cluster, 0);
            used.push_back(next++);
        }
        put(fresh[i], c % per_block, m_header.refcount_bits(), 1);
    }
    for (const auto& [i, bytes] : fresh)
        TRY(m_file->write_at(bytes.data(), bytes.size(), table[i]));
    const std::vector<uint8_t> raw = encode_table(table);  // clusters * cluster bytes
    const uint64_t offset = start << m_header.cluster_bits;
    TRY(m_file->write_at(raw.data(), raw.size(), offset));
    uint8_t fields[12];  // reftable_offset and reftable_clusters, switched in one write
    store_be64(fields, offset);
    for (int i = 0; i < 4; ++i)
        fields[8 + i] = static_cast<uint8_t>(clusters >> (24 - 8 * i));
    TRY(m_file->write_at(fields, sizeof fields, REFTABLE_FIELDS_OFFSET));

    const uint64_t old_offset = m_header.reftable_offset, old_bytes = uint64_t(m_header.reftable_clusters) * cluster;
    m_table = std::move(table);
    m_header.reftable_offset = offset;
    m_header.reftable_clusters = static_cast<uint32_t>(clusters);
    for (auto& [i, bytes] : fresh) {
        TRY(add_metadata(m_table[i], cluster));
        m_blocks[i] = std::move(bytes);
    }
    TRY(add_metadata(offset, raw.size()));
    for (uint64_t at = old_offset; at < old_offset + old_bytes; at += cluster)
        remove_metadata(at);
    m_end = std::max(m_end, next);
    return release(old_offset, old_bytes);
}

Status Refcounts::release(uint64_t offset, uint64_t bytes) {
    const uint64_t first = offset >> m_header.cluster_bits;
    const uint64_t last = (offset + bytes - 1) >> m_header.cluster_bits;
    for (uint64_t c = first; c <= last; ++c) {
        const uint64_t count = TRY(get(c));
        if (count == 0)
            return format_error(fmt::format("cluster {:#x} is freed but has no references", c << m_header.cluster_bits));
        TRY(set(c, count - 1));
        if (count == 1 && !m_metadata.count(c)) {
            (void)m_file->discard(c << m_header.cluster_bits, m_header.cluster_size());  // space back: best effort
            if (m_freed.size() < MAX_FREED)
                m_freed.push_back(c);
        }
    }
    return {};
}

}  // namespace vmm::virtio::qcow2
