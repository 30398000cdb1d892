#include "vmm/snapshot.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>

#include <fmt/format.h>

#include "base/dirty_bitmap.h"
#include "base/unique_fd.h"
#include "boot/image_file.h"
#include "vmm/key_values.h"
#include "vmm/sparse_file.h"

namespace vmm {

namespace {

constexpr uint32_t MAX_PATH_BYTES = 4096;
constexpr uint32_t MAX_DISKS = 64;
constexpr uint32_t MAX_NICS = 64;
constexpr uint32_t MAX_NIC_QUEUE_PAIRS = 64;
constexpr uint32_t MAX_REGIONS = 16;

Status write_all(int fd, std::span<const uint8_t> bytes, uint64_t offset, const std::string& what) {
    while (!bytes.empty()) {
        const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return Error::from_errno(what);
        bytes = bytes.subspan(static_cast<size_t>(n));
        offset += static_cast<uint64_t>(n);
    }
    return {};
}

bool all_zero(const uint8_t* page, size_t size) {
    return page[0] == 0 && std::memcmp(page, page + 1, size - 1) == 0;
}

}  // namespace

Status check_snapshottable(const VmConfig& config) {
    if (config.transport == VmConfig::Transport::Pci)
        return Error("snapshot: the VM's devices are on virtio-pci; this Ember snapshots virtio-mmio VMs only "
                     "(--transport mmio)");
    if (!config.filesystems.empty())
        return Error("snapshot: the VM has a virtio-fs device (its state is virtiofsd's); this Ember snapshots "
                     "VMs with block, network, entropy, console and vsock devices only");
    for (const auto& net : config.nets) {
        if (net.fd >= 0)
            return Error(fmt::format("snapshot: NIC '{}' is on an inherited TAP (fd=); a restore reopens TAPs by name "
                                     "(tap=NAME)",
                                     net.id));
    }
    for (const auto& disk : config.disks) {
        // io_uring requests may still be in the kernel at pause; the sync engine has none.
        if (disk.format == DiskConfig::Format::Qcow2)
            return Error(fmt::format("snapshot: disk '{}' is a qcow2 image; snapshots of this Ember record raw disks "
                                     "only",
                                     disk.id));
        if (disk.engine == DiskConfig::Engine::IoUring)
            return Error(fmt::format("snapshot: disk '{}' uses engine=io_uring; snapshots need engine=sync", disk.id));
        if (disk.num_queues != 1)
            return Error(fmt::format("snapshot: disk '{}' has {} queues; snapshots record single-queue disks",
                                     disk.id, disk.num_queues));
    }
    return {};
}

void encode_config(const VmConfig& config, StateEncoder& out) {
    out.put(config.cpus);
    out.put(config.memory);
    out.put(static_cast<uint8_t>(config.pit));
    out.put(static_cast<uint8_t>(config.debug_exit));
    out.put(static_cast<uint8_t>(config.rng));
    out.put(static_cast<uint8_t>(config.cpu_template));
    out.put(static_cast<uint8_t>(config.console.mode != ConsoleConfig::Mode::Off));
    out.put(static_cast<uint8_t>(config.vsock.has_value()));
    if (config.vsock) {
        out.put_string(config.vsock->id);
        out.put(config.vsock->cid);
        out.put_string(config.vsock->uds_path);
    }
    out.put(static_cast<uint32_t>(config.disks.size()));
    for (const auto& disk : config.disks) {
        out.put_string(disk.id);
        out.put_string(disk.path);
        out.put(static_cast<uint8_t>(disk.readonly));
        out.put_string(disk.serial);
        out.put(static_cast<uint8_t>(disk.cache));
        out.put(static_cast<uint8_t>(disk.engine));
    }
    out.put(static_cast<uint32_t>(config.nets.size()));
    for (const auto& net : config.nets) {
        out.put_string(net.id);
        out.put_string(net.tap);
        out.put(net.mac.value_or(MacAddress{}));  // build_vmm() gave every NIC its address
        out.put(static_cast<uint8_t>(net.ip.has_value()));
        out.put(net.ip.value_or(0));
        out.put(net.mask);
        out.put(net.queues);
    }
}

Result<VmConfig> decode_config(StateDecoder& in, const VmConfig& base) {
    VmConfig config;
    config.serial = base.serial;
    config.kvm_device = base.kvm_device;
    config.timeout_seconds = base.timeout_seconds;
    config.memory_backend.track_dirty = base.memory_backend.track_dirty;
    config.console = {ConsoleConfig::Mode::Off, {}};
    config.cpus = TRY(in.get<uint32_t>());
    config.memory = TRY(in.get<uint64_t>());
    config.pit = TRY(in.get_bool("the PIT flag"));
    config.debug_exit = TRY(in.get_bool("the debug-exit flag"));
    config.rng = TRY(in.get_bool("the entropy device flag"));
    const uint8_t cpu_template = TRY(in.get<uint8_t>());
    if (cpu_template > static_cast<uint8_t>(arch::CpuTemplate::Baseline))
        return Error(fmt::format("{}: CPU template {} is unknown", in.what(), cpu_template));
    config.cpu_template = static_cast<arch::CpuTemplate>(cpu_template);
    // The console's host side is the restoring process's (--console), its output discarded
    // when that gives none: the device itself must be there, where the guest's driver has it.
    if (TRY(in.get_bool("the console flag")))
        config.console = base.console.mode != ConsoleConfig::Mode::Off ? base.console
                                                                       : ConsoleConfig{ConsoleConfig::Mode::File, "/dev/null"};
    if (TRY(in.get_bool("the vsock flag"))) {
        VsockConfig vsock;
        vsock.id = TRY(in.get_string(MAX_DEVICE_ID, "the vsock device's id"));
        vsock.cid = TRY(in.get<uint64_t>());
        vsock.uds_path = TRY(in.get_string(MAX_PATH_BYTES, "the vsock socket's path"));
        config.vsock = std::move(vsock);
    }
    const uint32_t disks = TRY(in.get_count(MAX_DISKS, "disks"));
    for (uint32_t i = 0; i < disks; ++i) {
        DiskConfig disk;
        disk.id = TRY(in.get_string(MAX_DEVICE_ID, "a disk id"));
        disk.path = TRY(in.get_string(MAX_PATH_BYTES, "a disk path"));
        disk.readonly = TRY(in.get_bool("a disk's read-only flag"));
        disk.serial = TRY(in.get_string(20, "a disk serial"));
        disk.cache = TRY(in.get_bool("a disk's cache mode")) ? DiskConfig::Cache::Unsafe : DiskConfig::Cache::Writeback;
        disk.engine = TRY(in.get_bool("a disk's engine")) ? DiskConfig::Engine::IoUring : DiskConfig::Engine::Sync;
        config.disks.push_back(std::move(disk));
    }
    const uint32_t nets = TRY(in.get_count(MAX_NICS, "NICs"));
    for (uint32_t i = 0; i < nets; ++i) {
        NetConfig net;
        net.id = TRY(in.get_string(MAX_DEVICE_ID, "a NIC id"));
        net.tap = TRY(in.get_string(IFNAMSIZ - 1, "a TAP name"));
        net.mac = TRY(in.get<MacAddress>());
        const bool has_ip = TRY(in.get_bool("a NIC's host address flag"));
        const uint32_t ip = TRY(in.get<uint32_t>());
        if (has_ip)
            net.ip = ip;
        net.mask = TRY(in.get<uint32_t>());
        net.queues = TRY(in.get<uint32_t>());
        if (net.queues < 1 || net.queues > MAX_NIC_QUEUE_PAIRS || net.tap.empty())
            return Error(fmt::format("{}: NIC '{}' has {} queue pairs on TAP '{}'", in.what(), net.id, net.queues, net.tap));
        config.nets.push_back(std::move(net));
    }
    return config;
}

void encode_memory_layout(const GuestMemory& memory, StateEncoder& out) {
    out.put(static_cast<uint32_t>(memory.regions().size()));
    for (const auto& region : memory.regions()) {
        out.put(region.gpa);
        out.put(region.size);
    }
}

Status check_memory_layout(StateDecoder& in, const std::vector<MemoryRegionSpec>& expected) {
    const uint32_t count = TRY(in.get_count(MAX_REGIONS, "memory regions"));
    bool same = count == expected.size();
    for (uint32_t i = 0; i < count; ++i) {
        const uint64_t gpa = TRY(in.get<uint64_t>());
        const uint64_t size = TRY(in.get<uint64_t>());
        same = same && expected[i].gpa == gpa && expected[i].size == size;
    }
    if (!same)
        return Error(in.what() + ": the memory layout is not the one its memory size gives");
    return {};
}

// Writes `path` through `write` into a new file beside it, renamed over `path` once whole
// (`sync`: on disk first): a failure leaves `path` as it was, and a VM restored from the old
// file, which maps it privately, keeps the old pages (truncating it in place would fault them).
Status replace_file(const std::string& path, const std::string& what, bool sync,
                    const std::function<Status(int)>& write) {
    std::string temporary = path + ".XXXXXX";
    UniqueFd fd(::mkostemp(temporary.data(), O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(what);
    Status written = write(fd.get());
    if (written.ok() && sync && ::fsync(fd.get()) != 0)
        written = Error::from_errno(what);
    if (written.ok() && ::rename(temporary.c_str(), path.c_str()) != 0)
        written = Error::from_errno(what);
    if (!written.ok())
        ::unlink(temporary.c_str());
    return written;
}

// A diff's holes say "unchanged": a file system that keeps no holes (or keeps them coarser
// than a page) would make ember-rebase-snap copy zeros over the base. Checked on the file.
Status check_diff_holes(int fd, const GuestMemory& memory, const DirtyPages& dirty, const std::string& what) {
    const auto extents = TRY(data_extents(fd, memory.total_size(), what.c_str()));
    const auto& regions = memory.regions();
    for (const Extent& extent : extents) {
        for (uint64_t at = extent.offset; at < extent.offset + extent.length; at += DIRTY_PAGE_SIZE) {
            for (size_t r = 0; r < regions.size(); ++r) {
                const MemoryRegion& region = regions[r];
                if (at >= region.fd_offset && at - region.fd_offset < region.size &&
                    !dirty.test(r, (at - region.fd_offset) / DIRTY_PAGE_SIZE))
                    return Error(fmt::format("{}: its file system keeps no holes of a page (a diff snapshot needs "
                                             "sparse files, as ext4, xfs, btrfs and tmpfs keep them)", what));
            }
        }
    }
    return {};
}

Status write_memory_file(const GuestMemory& memory, const std::string& path, const DirtyPages* only) {
    const std::string what = fmt::format("memory file '{}'", path);
    return replace_file(path, what, false, [&](int fd) -> Status {
        if (::ftruncate(fd, static_cast<off_t>(memory.total_size())) != 0)
            return Error::from_errno(what);
        const auto& regions = memory.regions();
        for (size_t r = 0; r < regions.size(); ++r) {
            const MemoryRegion& region = regions[r];
            // A full file holds the non-zero pages; a diff every dirty page, zeros too (a hole
            // there means "unchanged"). Runs of them, each written with one call.
            auto wanted = [&](uint64_t at) {
                return only ? only->test(r, at / DIRTY_PAGE_SIZE) : !all_zero(region.host + at, DIRTY_PAGE_SIZE);
            };
            uint64_t run = 0, length = 0;
            for (uint64_t at = 0; at <= region.size; at += DIRTY_PAGE_SIZE) {
                if (at < region.size && wanted(at)) {
                    if (length == 0)
                        run = at;
                    length += DIRTY_PAGE_SIZE;
                    continue;
                }
                if (length)
                    TRY(write_all(fd, std::span(region.host + run, length), region.fd_offset + run, what));
                length = 0;
            }
        }
        return only ? check_diff_holes(fd, memory, *only, what) : Status{};
    });
}

Status write_state_file(const StateFile& file, const std::string& path) {
    const std::string what = fmt::format("snapshot '{}'", path);
    return replace_file(path, what, true, [&](int fd) { return write_all(fd, file.serialize(), 0, what); });
}

Result<SnapshotFile> open_snapshot_file(const std::string& path, const std::string& what) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0)
        return Error::from_errno(what);
    if (!S_ISREG(st.st_mode))
        return Error(what + " is not a regular file");
    return SnapshotFile{std::move(fd), static_cast<uint64_t>(st.st_size)};
}

Result<StateFile> read_state_file(const std::string& path) {
    const std::string what = fmt::format("snapshot '{}'", path);
    const SnapshotFile file = TRY(open_snapshot_file(path, what));
    if (file.size > MAX_STATE_FILE)
        return Error(fmt::format("{} is {} bytes, more than a state file can be", what, file.size));
    const auto bytes = TRY(boot::read_file_bytes(file.fd.get(), static_cast<size_t>(file.size), what));
    return StateFile::parse(bytes, what);
}

}  // namespace vmm
