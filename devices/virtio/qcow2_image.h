// A qcow2 image (versions 2 and 3) as a disk: guest reads and writes through its L1/L2
// tables, cluster allocation on first write (copying the rest of the cluster from below),
// zero clusters and discard, compressed clusters read (zlib), and a backing chain of raw or
// qcow2 files opened read-only. Metadata is written through in an order that leaves the image
// consistent for `qemu-img check` whenever the process dies (leaked clusters at worst); the
// dirty bit and lazy refcounts are never used, and a writable open refuses a dirty image.
#pragma once

#include <sys/uio.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "devices/virtio/disk_file.h"
#include "devices/virtio/qcow2_format.h"
#include "devices/virtio/qcow2_refcounts.h"
#include "base/result.h"

namespace vmm::virtio::qcow2 {

// What an image reads through for the clusters it does not hold.
class Backing {
public:
    virtual ~Backing() = default;
    virtual uint64_t size() const = 0;
    // Reads [offset, offset + length); bytes past size() read as zeroes.
    virtual Status read(uint8_t* data, uint64_t length, uint64_t offset) = 0;
};

// Whether the file starts with the qcow2 magic (a raw disk that does gets a warning; a backing
// file whose format the image does not record, a refusal).
Result<bool> starts_with_magic(DiskFile& file);

class Image final : public Backing {
public:
    static constexpr int MAX_CHAIN = 16;
    static constexpr size_t CACHED_L2_BYTES = 16u << 20;

    // The image in `file` (opened by the caller, who keeps it alive; writable unless the file
    // is read-only). A relative backing file name is resolved against the file's directory.
    static Result<std::unique_ptr<Image>> open(DiskFile& file);

    uint64_t size() const override { return m_header.size; }
    const Header& header() const { return m_header; }
    const std::string& path() const { return m_file.path(); }
    Status read(uint8_t* data, uint64_t length, uint64_t offset) override;

    // The guest's requests: within size(), a whole number of bytes each.
    Status readv(std::span<const iovec> iov, uint64_t offset);
    Status writev(std::span<const iovec> iov, uint64_t offset);
    Status discard(uint64_t offset, uint64_t length);
    Status write_zeroes(uint64_t offset, uint64_t length);
    Status flush();

private:
    struct Chain;
    Image(DiskFile& file, Header header, Refcounts refcounts);
    static Result<std::unique_ptr<Image>> open_in(DiskFile& file, Chain& chain);
    Status open_backing(Chain& chain);
    Status load_l1();

    Result<Mapping> lookup(uint64_t guest_cluster);
    Result<std::vector<uint64_t>*> l2_table(uint64_t offset);
    Status set_l2(uint64_t guest_cluster, uint64_t entry);
    // The cluster's current contents below a write: backing, zeroes, decompressed or old data.
    Status fill_cluster(uint64_t guest_cluster, const Mapping& mapping, uint8_t* out);
    Status read_compressed(const Mapping& mapping, uint8_t* out);
    Status read_below(uint8_t* data, uint64_t length, uint64_t offset);
    Status read_host(uint8_t* data, uint64_t length, uint64_t offset);
    // Drops what an entry referred to (a data cluster or a compressed range).
    Status release(const Mapping& mapping);
    // One write within one guest cluster, data from `iov` starting `skip` bytes in.
    Status write_cluster(uint64_t guest_cluster, uint64_t in_cluster, uint64_t length, std::span<const iovec> iov,
                         uint64_t skip);
    // How many bytes from guest `offset` (at most `length`) lie in clusters that follow each
    // other on the host as they do in the guest, all Data (and, with `in_place`, writable in
    // place); 0 when the first is not. `host` gets the first byte's host offset.
    Result<uint64_t> data_run(uint64_t offset, uint64_t length, bool in_place, uint64_t& host);
    bool writable_in_place(const Mapping& mapping) const;
    // A request of `length` bytes at guest `offset` in pieces: each data run (data_run) to
    // run(done, host, bytes), each other cluster's part to piece(done, cluster, in_cluster, bytes).
    template <typename Run, typename Piece>
    Status walk(uint64_t offset, uint64_t length, bool in_place, Run run, Piece piece);
    // A whole cluster made to read as zeroes without data (v3), or deallocated.
    Status zero_cluster(uint64_t guest_cluster, bool discard);

    DiskFile& m_file;
    std::unique_ptr<DiskFile> m_owned_file;  // a backing image owns its file
    Header m_header;
    Refcounts m_refcounts;
    uint64_t m_file_size;  // grows with allocations: reads past it are zeroes
    std::vector<uint64_t> m_l1;
    std::unordered_map<uint64_t, std::vector<uint64_t>> m_l2;  // by host offset, bounded
    std::vector<uint64_t>* m_last_l2 = nullptr;  // the table last looked up, and its offset
    uint64_t m_last_l2_offset = 0;
    std::vector<iovec> m_part;  // a request's iovecs for one run of clusters, reused
    std::unique_ptr<Backing> m_backing;
    std::vector<uint8_t> m_scratch;  // one cluster, for copy-on-write
    std::vector<uint8_t> m_compressed;
};

}  // namespace vmm::virtio::qcow2
