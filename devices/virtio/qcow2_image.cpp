#include "devices/virtio/qcow2_image.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "devices/virtio/qcow2_inflate.h"

namespace vmm::virtio::qcow2 {

// A file by device and inode: the backing chain refuses a loop (Image::Chain holds them).
struct Identity {
    dev_t dev;
    ino_t ino;
    bool operator==(const Identity&) const = default;
};

namespace {

// The iovecs covering bytes [skip, skip + length) of `iov`.
void slice(std::span<const iovec> iov, uint64_t skip, uint64_t length, std::vector<iovec>& out) {
    out.clear();
    for (const iovec& v : iov) {
        if (length == 0)
            break;
        if (skip >= v.iov_len) {
            skip -= v.iov_len;
            continue;
        }
        const uint64_t take = std::min<uint64_t>(v.iov_len - skip, length);
        out.push_back({static_cast<uint8_t*>(v.iov_base) + skip, take});
        length -= take;
        skip = 0;
    }
}

void zero(std::span<const iovec> iov) {
    for (const iovec& v : iov)
        std::memset(v.iov_base, 0, v.iov_len);
}

// How many of the `length` bytes at `offset` lie before `end`.
uint64_t before_end(uint64_t offset, uint64_t length, uint64_t end) {
    return offset < end ? std::min(length, end - offset) : 0;
}

// `length` bytes at `offset` of `file`, those at or past `end` read as zeroes.
Status read_or_zero(DiskFile& file, uint64_t end, uint8_t* data, uint64_t length, uint64_t offset) {
    const uint64_t present = before_end(offset, length, end);
    std::memset(data + present, 0, length - present);
    return present ? file.read_at(data, present, offset) : Status{};
}

uint64_t total(std::span<const iovec> iov) {
    uint64_t bytes = 0;
    for (const iovec& v : iov)
        bytes += v.iov_len;
    return bytes;
}

// A raw backing file: read as it is, zeroes past its end.
class RawBacking final : public Backing {
public:
    explicit RawBacking(DiskFile file) : m_file(std::move(file)) {}
    uint64_t size() const override { return m_file.size(); }
    Status read(uint8_t* data, uint64_t length, uint64_t offset) override {
        return read_or_zero(m_file, size(), data, length, offset);
    }

private:
    DiskFile m_file;
};

Result<Identity> identity(const DiskFile& file) {
    struct stat st {};
    if (::fstat(file.fd(), &st) < 0)
        return Error::from_errno(file.path());
    return Identity{st.st_dev, st.st_ino};
}

std::string beside(const std::string& overlay, const std::string& name) {
    if (name.starts_with('/'))
        return name;
    const size_t slash = overlay.rfind('/');
    return slash == std::string::npos ? name : overlay.substr(0, slash + 1) + name;
}

}  // namespace

struct Image::Chain {
    std::vector<Identity> files;
    bool has(const Identity& id) const { return std::find(files.begin(), files.end(), id) != files.end(); }
};

Result<bool> starts_with_magic(DiskFile& file) {
    uint8_t magic[4] = {};
    if (file.size() < sizeof magic)
        return false;
    TRY(file.read_at(magic, sizeof magic, 0));
    return load_be32(magic) == MAGIC;
}

Image::Image(DiskFile& file, Header header, Refcounts refcounts)
    : m_file(file), m_header(std::move(header)), m_refcounts(std::move(refcounts)), m_file_size(file.size()),
      m_scratch(m_header.cluster_size()) {}

Result<std::unique_ptr<Image>> Image::open(DiskFile& file) {
    Chain chain;
    chain.files.push_back(TRY(identity(file)));
    return TRY_CTX(open_in(file, chain), fmt::format("disk '{}'", file.path()));
}

Result<std::unique_ptr<Image>> Image::open_in(DiskFile& file, Chain& chain) {
    std::vector<uint8_t> first(std::min<uint64_t>(HEADER_PROBE, file.size()));
    TRY(file.read_at(first.data(), first.size(), 0));
    const uint32_t bits = TRY(cluster_bits(first));
    first.resize(std::min<uint64_t>(1ull << bits, file.size()));
    TRY(file.read_at(first.data(), first.size(), 0));
    Header header = TRY(parse_header(first));
    if (!file.readonly() && header.dirty())
        return format_error("the image is dirty (a writer using lazy refcounts stopped without closing it); repair it with "
                   "'qemu-img check -r all'");
    if (!file.readonly() && header.corrupt())
        return format_error("the image is marked corrupt; repair it with 'qemu-img check -r all'");
    Refcounts refcounts = TRY(Refcounts::load(file, header, file.size()));
    auto image = std::unique_ptr<Image>(new Image(file, std::move(header), std::move(refcounts)));
    TRY(image->load_l1());
    if (!image->m_header.backing_file.empty())
        TRY(image->open_backing(chain));
    if (!file.readonly() && image->m_header.autoclear) {
        // Autoclear features (bitmaps) are stale once a writer that does not know them writes.
        const uint8_t none[8] = {};
        TRY(file.write_at(none, sizeof none, AUTOCLEAR_OFFSET));
        image->m_header.autoclear = 0;
    }
    return image;
}

Status Image::load_l1() {
    const uint64_t bytes = uint64_t(m_header.l1_size) * 8;
    if (bytes == 0)
        return {};
    if (m_header.l1_offset + bytes > m_file.size())
        return format_error(fmt::format("L1 table at {:#x} runs past the end of the file", m_header.l1_offset));
    std::vector<uint8_t> raw(bytes);
    TRY_CTX(m_file.read_at(raw.data(), raw.size(), m_header.l1_offset), "qcow2: L1 table");
    TRY(m_refcounts.add_metadata(m_header.l1_offset, bytes));
    m_l1.resize(m_header.l1_size);
    for (size_t i = 0; i < m_l1.size(); ++i) {
        m_l1[i] = load_be64(&raw[i * 8]);
        if (const uint64_t l2 = TRY(decode_l1(m_l1[i], m_header)))
            TRY(m_refcounts.add_metadata(l2, m_header.cluster_size()));
    }
    return {};
}

Status Image::open_backing(Chain& chain) {
    if (chain.files.size() >= MAX_CHAIN)
        return format_error(fmt::format("the backing chain is deeper than {} files", MAX_CHAIN));
    const std::string path = beside(m_file.path(), m_header.backing_file);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && chain.has(Identity{st.st_dev, st.st_ino}))
        return format_error(fmt::format("the backing chain loops back at '{}'", path));  // before the lock would hide it
    DiskFile file = TRY_CTX(DiskFile::open(path, true, true), "qcow2: backing file");
    const Identity id = TRY(identity(file));
    if (chain.has(id))  // renamed in between
        return format_error(fmt::format("the backing chain loops back at '{}'", path));
    chain.files.push_back(id);
    std::string format = m_header.backing_format;
    if (format.empty()) {
        if (TRY(starts_with_magic(file)))
            return format_error(fmt::format("backing file '{}' looks like qcow2 but the image does not record its format, "
                                   "and Ember does not guess formats; record it with 'qemu-img rebase -u -F qcow2 "
                                   "-b {}'",
                                   path, m_header.backing_file));
        format = "raw";
    }
    if (format == "raw") {
        m_backing = std::make_unique<RawBacking>(std::move(file));
    } else if (format == "qcow2") {
        auto owned = std::make_unique<DiskFile>(std::move(file));
        auto image = TRY_CTX(open_in(*owned, chain), fmt::format("backing file '{}'", path));
        image->m_owned_file = std::move(owned);
        m_backing = std::move(image);
    } else {
        return format_error(fmt::format("backing file format '{}' is not raw or qcow2", format));
    }
    return {};
}

Result<std::vector<uint64_t>*> Image::l2_table(uint64_t offset) {
    if (m_last_l2 && m_last_l2_offset == offset)
        return m_last_l2;
    if (auto it = m_l2.find(offset); it != m_l2.end()) {
        m_last_l2_offset = offset;
        return m_last_l2 = &it->second;
    }
    if (m_l2.size() * m_header.cluster_size() >= CACHED_L2_BYTES) {
        m_l2.clear();  // written through: dropping is free
        m_last_l2 = nullptr;
    }
    std::vector<uint8_t> raw(m_header.cluster_size());
    TRY_CTX(m_file.read_at(raw.data(), raw.size(), offset), fmt::format("qcow2: L2 table at {:#x}", offset));
    std::vector<uint64_t> table(m_header.l2_entries());
    for (size_t i = 0; i < table.size(); ++i)
        table[i] = load_be64(&raw[i * 8]);
    m_last_l2_offset = offset;
    return m_last_l2 = &m_l2.emplace(offset, std::move(table)).first->second;
}

Result<Mapping> Image::lookup(uint64_t guest_cluster) {
    const uint64_t index = guest_cluster / m_header.l2_entries();
    if (index >= m_l1.size())
        return format_error(fmt::format("guest cluster {} is past the L1 table", guest_cluster));
    const uint64_t l2 = TRY(decode_l1(m_l1[index], m_header));
    if (l2 == 0)
        return Mapping{};
    const std::vector<uint64_t>* table = TRY(l2_table(l2));
    return decode_l2((*table)[guest_cluster % m_header.l2_entries()], m_header);
}

Status Image::read_host(uint8_t* data, uint64_t length, uint64_t offset) {
    return read_or_zero(m_file, m_file_size, data, length, offset);
}

Status Image::read_below(uint8_t* data, uint64_t length, uint64_t offset) {
    if (m_backing)
        return m_backing->read(data, length, offset);
    std::memset(data, 0, length);
    return {};
}

Status Image::read_compressed(const Mapping& mapping, uint8_t* out) {
    const uint64_t length = before_end(mapping.host, mapping.compressed_bytes, m_file_size);
    if (length == 0)
        return format_error(fmt::format("compressed cluster at {:#x} is past the end of the file", mapping.host));
    m_compressed.resize(length);
    TRY(m_file.read_at(m_compressed.data(), length, mapping.host));
    TRY_CTX(inflate_cluster(m_compressed, std::span(out, m_header.cluster_size())),
            fmt::format("compressed cluster at {:#x}", mapping.host));
    return {};
}

Status Image::fill_cluster(uint64_t guest_cluster, const Mapping& mapping, uint8_t* out) {
    const uint64_t size = m_header.cluster_size();
    switch (mapping.kind) {
    case Mapping::Kind::Data: return read_host(out, size, mapping.host);
    case Mapping::Kind::Compressed: return read_compressed(mapping, out);
    case Mapping::Kind::Zero: std::memset(out, 0, size); return {};
    case Mapping::Kind::Unallocated: return read_below(out, size, guest_cluster * size);
    }
    return {};
}

bool Image::writable_in_place(const Mapping& mapping) const {
    // Past the end of the file only a hostile image puts data: copied, rather than grow the file.
    return mapping.kind == Mapping::Kind::Data && mapping.copied && !m_refcounts.is_metadata(mapping.host) &&
           mapping.host < m_file_size;
}

Result<uint64_t> Image::data_run(uint64_t offset, uint64_t length, bool in_place, uint64_t& host) {
    const uint64_t size = m_header.cluster_size();
    uint64_t run = 0;
    while (run < length) {
        const uint64_t at = offset + run;
        const Mapping m = TRY(lookup(at >> m_header.cluster_bits));
        if (m.kind != Mapping::Kind::Data || (in_place && !writable_in_place(m)))
            break;
        const uint64_t here = m.host + (at & (size - 1));
        if (run == 0)
            host = here;
        else if (here != host + run)
            break;
        run += std::min(size - (at & (size - 1)), length - run);
    }
    return run;
}

Status Image::read(uint8_t* data, uint64_t length, uint64_t offset) {
    const uint64_t present = before_end(offset, length, size());
    std::memset(data + present, 0, length - present);
    const iovec one{data, present};
    return present ? readv({&one, 1}, offset) : Status{};
}

template <typename Run, typename Piece>
Status Image::walk(uint64_t offset, uint64_t length, bool in_place, Run run, Piece piece) {
    const uint64_t size = m_header.cluster_size();
    for (uint64_t done = 0; done < length;) {
        const uint64_t at = offset + done;
        uint64_t host = 0;
        if (const uint64_t bytes = TRY(data_run(at, length - done, in_place, host))) {
            TRY(run(done, host, bytes));
            done += bytes;
            continue;
        }
        const uint64_t in = at & (size - 1);
        const uint64_t n = std::min(size - in, length - done);
        TRY(piece(done, at >> m_header.cluster_bits, in, n));
        done += n;
    }
    return {};
}

Status Image::readv(std::span<const iovec> iov, uint64_t offset) {
    std::vector<iovec>& part = m_part;
    const auto run = [&](uint64_t done, uint64_t host, uint64_t bytes) -> Status {
        const uint64_t present = before_end(host, bytes, m_file_size);
        slice(iov, done, present, part);
        if (present)
            TRY(m_file.read(part, host));
        slice(iov, done + present, bytes - present, part);
        zero(part);
        return {};
    };
    const auto piece = [&](uint64_t done, uint64_t cluster, uint64_t in, uint64_t n) -> Status {
        const Mapping m = TRY(lookup(cluster));
        slice(iov, done, n, part);
        if (m.kind == Mapping::Kind::Compressed) {
            TRY(read_compressed(m, m_scratch.data()));
            uint64_t from = in;
            for (const iovec& v : part) {
                std::memcpy(v.iov_base, m_scratch.data() + from, v.iov_len);
                from += v.iov_len;
            }
        } else if (m.kind == Mapping::Kind::Zero || !m_backing) {
            zero(part);
        } else {
            uint64_t from = cluster * m_header.cluster_size() + in;
            for (const iovec& v : part) {
                TRY(m_backing->read(static_cast<uint8_t*>(v.iov_base), v.iov_len, from));
                from += v.iov_len;
            }
        }
        return {};
    };
    return walk(offset, total(iov), false, run, piece);
}

Status Image::release(const Mapping& mapping) {
    uint64_t offset = mapping.host, bytes = m_header.cluster_size();
    if (mapping.kind == Mapping::Kind::Compressed)
        bytes = mapping.compressed_bytes;
    else if (mapping.kind == Mapping::Kind::Unallocated || mapping.host == 0)
        return {};  // nothing held (a zero cluster with a host offset, preallocated, holds one)
    for (uint64_t at = offset & ~(m_header.cluster_size() - 1); at < offset + bytes; at += m_header.cluster_size()) {
        if (m_refcounts.is_metadata(at))
            return format_error(fmt::format("guest data at {:#x} overlaps metadata", at));
    }
    return m_refcounts.release(offset, bytes);
}

Status Image::set_l2(uint64_t guest_cluster, uint64_t entry) {
    const uint64_t index = guest_cluster / m_header.l2_entries();
    if (index >= m_l1.size())
        return format_error(fmt::format("guest cluster {} is past the L1 table", guest_cluster));
    uint64_t l2 = TRY(decode_l1(m_l1[index], m_header));
    if (l2 == 0 || !(m_l1[index] & COPIED)) {
        // A new table, or a private copy of one a snapshot shares.
        std::vector<uint64_t> table(m_header.l2_entries(), 0);
        if (l2)
            table = *TRY(l2_table(l2));
        const uint64_t fresh = TRY(m_refcounts.allocate());
        const std::vector<uint8_t> raw = encode_table(table);
        TRY(m_file.write_at(raw.data(), raw.size(), fresh));
        m_file_size = std::max(m_file_size, fresh + raw.size());
        TRY(m_refcounts.add_metadata(fresh, raw.size()));
        uint8_t be[8];
        store_be64(be, fresh | COPIED);
        TRY(m_file.write_at(be, 8, m_header.l1_offset + index * 8));
        m_l1[index] = fresh | COPIED;
        if (l2)
            TRY(m_refcounts.release(l2, m_header.cluster_size()));  // stays registered: a snapshot's
        m_l2[fresh] = std::move(table);  // (a rehash keeps m_last_l2 valid: nodes stay put)
        l2 = fresh;
    }
    std::vector<uint64_t>* table = TRY(l2_table(l2));
    const uint64_t slot = guest_cluster % m_header.l2_entries();
    uint8_t be[8];
    store_be64(be, entry);
    TRY(m_file.write_at(be, 8, l2 + slot * 8));
    (*table)[slot] = entry;
    return {};
}

Status Image::write_cluster(uint64_t guest_cluster, uint64_t in_cluster, uint64_t length, std::span<const iovec> iov,
                            uint64_t skip) {
    const uint64_t size = m_header.cluster_size();
    const Mapping old = TRY(lookup(guest_cluster));
    if (length < size)
        TRY(fill_cluster(guest_cluster, old, m_scratch.data()));
    std::vector<iovec> part;
    slice(iov, skip, length, part);
    uint64_t to = in_cluster;
    for (const iovec& v : part) {
        std::memcpy(m_scratch.data() + to, v.iov_base, v.iov_len);
        to += v.iov_len;
    }
    // A preallocated zero cluster of its own is written where it is; anything else moves.
    const bool in_place = old.kind == Mapping::Kind::Zero && old.host && old.copied &&
                          !m_refcounts.is_metadata(old.host) && old.host < m_file_size;
    const uint64_t target = in_place ? old.host : TRY(m_refcounts.allocate());
    TRY(m_file.write_at(m_scratch.data(), size, target));  // data before the entry that points at it
    m_file_size = std::max(m_file_size, target + size);
    TRY(set_l2(guest_cluster, target | COPIED));
    // After: a crash in between leaks the old cluster, never frees a used one.
    return in_place ? Status{} : release(old);
}

Status Image::writev(std::span<const iovec> iov, uint64_t offset) {
    if (m_file.readonly())
        return Error("qcow2: the image is read-only");
    const auto run = [&](uint64_t done, uint64_t host, uint64_t bytes) -> Status {
        slice(iov, done, bytes, m_part);
        TRY(m_file.write(m_part, host));
        m_file_size = std::max(m_file_size, host + bytes);
        return {};
    };
    const auto piece = [&](uint64_t done, uint64_t cluster, uint64_t in, uint64_t n) {
        return write_cluster(cluster, in, n, iov, done);
    };
    return walk(offset, total(iov), true, run, piece);
}

Status Image::zero_cluster(uint64_t guest_cluster, bool discard) {
    const Mapping old = TRY(lookup(guest_cluster));
    const bool v3 = m_header.version >= 3;
    uint64_t entry = 0;  // unallocated: zeroes when nothing is below
    if (m_backing) {
        if (!v3 && discard)
            return {};  // advisory, and v2 cannot hide the backing file without data
        if (!v3) {
            std::vector<uint8_t> buffer(m_header.cluster_size(), 0);
            const iovec one{buffer.data(), buffer.size()};
            return write_cluster(guest_cluster, 0, buffer.size(), {&one, 1}, 0);
        }
        entry = ZERO;
    } else if (v3 && !discard) {
        entry = ZERO;
    }
    if ((old.kind == Mapping::Kind::Unallocated && entry == 0) || (old.kind == Mapping::Kind::Zero && entry == ZERO))
        return {};
    TRY(set_l2(guest_cluster, entry));
    return release(old);
}

Status Image::discard(uint64_t offset, uint64_t length) {
    if (m_file.readonly())
        return Error("qcow2: the image is read-only");
    const uint64_t size = m_header.cluster_size();
    for (uint64_t c = (offset + size - 1) / size; (c + 1) * size <= offset + length; ++c)
        TRY(zero_cluster(c, true));
    return {};
}

Status Image::write_zeroes(uint64_t offset, uint64_t length) {
    if (m_file.readonly())
        return Error("qcow2: the image is read-only");
    const uint64_t size = m_header.cluster_size();
    std::vector<uint8_t> buffer;
    for (uint64_t done = 0; done < length;) {
        const uint64_t at = offset + done;
        const uint64_t in = at & (size - 1);
        const uint64_t n = std::min(size - in, length - done);
        if (n == size) {
            TRY(zero_cluster(at / size, false));
        } else {
            const Mapping m = TRY(lookup(at / size));
            if (m.kind != Mapping::Kind::Zero && (m.kind != Mapping::Kind::Unallocated || m_backing)) {
                buffer.assign(n, 0);  // a part of a cluster that does not read as zeroes yet
                const iovec one{buffer.data(), n};
                TRY(writev({&one, 1}, at));
            }
        }
        done += n;
    }
    return {};
}

Status Image::flush() { return m_file.readonly() ? Status{} : m_file.flush(); }

}  // namespace vmm::virtio::qcow2
