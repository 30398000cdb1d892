#include "boot/initramfs_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <span>

#include <fmt/format.h>

#include "base/unique_fd.h"
#include "boot/image_file.h"

namespace vmm::boot {

namespace {

namespace fs = std::filesystem;

class Writer {
public:
    Writer(std::vector<uint8_t>& out, uint64_t max_size) : m_out(out), m_max(max_size) {}

    // One entry: the 110-byte header (magic, then ino, mode, uid, gid, nlink, mtime, filesize,
    // devmajor, devminor, rdevmajor, rdevminor, namesize, check, in hex), the name and its NUL,
    // padding to 4, the data, padding to 4. Every entry has its own inode: no hard links.
    Status entry(const std::string& name, const struct stat& st, std::span<const uint8_t> data) {
        const uint32_t rdev_major = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? major(st.st_rdev) : 0;
        const uint32_t rdev_minor = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? minor(st.st_rdev) : 0;
        const std::string header = fmt::format(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}", ++m_ino,
            static_cast<uint32_t>(st.st_mode), 0u, 0u, S_ISDIR(st.st_mode) ? 2u : 1u,
            static_cast<uint32_t>(st.st_mtime), static_cast<uint32_t>(data.size()), 0u, 0u, rdev_major, rdev_minor,
            static_cast<uint32_t>(name.size() + 1), 0u);
        TRY(append(std::span(reinterpret_cast<const uint8_t*>(header.data()), header.size())));
        TRY(append(std::span(reinterpret_cast<const uint8_t*>(name.c_str()), name.size() + 1)));
        TRY(pad());
        TRY(append(data));
        return pad();
    }
    Status trailer() {
        struct stat none {};
        return entry(TRAILER, none, {});
    }

    static constexpr const char* TRAILER = "TRAILER!!!";

private:
    Status append(std::span<const uint8_t> bytes) {
        if (bytes.size() > m_max - m_out.size())
            return Error(fmt::format("the archive grows beyond the {} bytes guest memory allows", m_max));
        m_out.insert(m_out.end(), bytes.begin(), bytes.end());
        return {};
    }
    Status pad() {
        static constexpr uint8_t zeros[4] = {};
        return append(std::span(zeros, (4 - m_out.size() % 4) % 4));
    }

    std::vector<uint8_t>& m_out;
    uint64_t m_max;
    uint32_t m_ino = 0;
};

Result<std::vector<uint8_t>> file_bytes(const fs::path& path, const struct stat& st) {
    if (static_cast<uint64_t>(st.st_size) > UINT32_MAX)
        return Error(fmt::format("'{}': 4 GiB or more does not fit in a newc archive", path.string()));
    const std::string name = fmt::format("'{}'", path.string());
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid())
        return Error::from_errno(name);
    return read_file_bytes(fd.get(), static_cast<size_t>(st.st_size), name);
}

// Packs `path` as `name`, then, for a directory, everything in it (sorted).
Status pack(Writer& out, const fs::path& path, const std::string& name) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0)
        return Error::from_errno(fmt::format("'{}'", path.string()));
    if (S_ISREG(st.st_mode)) {
        auto data = TRY(file_bytes(path, st));
        return out.entry(name, st, data);
    }
    if (S_ISLNK(st.st_mode)) {
        std::error_code ec;
        const std::string target = fs::read_symlink(path, ec).string();
        if (ec)
            return Error(fmt::format("'{}': {}", path.string(), ec.message()));
        return out.entry(name, st, std::span(reinterpret_cast<const uint8_t*>(target.data()), target.size()));
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))
        return out.entry(name, st, {});
    if (!S_ISDIR(st.st_mode))
        return Error(fmt::format("'{}': a socket cannot be packed into an initramfs", path.string()));
    TRY(out.entry(name, st, {}));
    std::error_code ec;
    std::vector<std::string> children;
    for (const auto& child : fs::directory_iterator(path, ec))
        children.push_back(child.path().filename().string());
    if (ec)
        return Error(fmt::format("'{}': {}", path.string(), ec.message()));
    std::sort(children.begin(), children.end());
    for (const auto& child : children)
        TRY(pack(out, path / child, name == "." ? child : name + "/" + child));
    return {};
}

}  // namespace

Result<std::vector<uint8_t>> pack_initramfs_dir(const std::string& dir, uint64_t max_size) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) < 0)
        return Error::from_errno(fmt::format("initramfs directory '{}'", dir));
    if (!S_ISDIR(st.st_mode))
        return Error(fmt::format("initramfs directory '{}': not a directory", dir));
    std::vector<uint8_t> archive;
    Writer out(archive, max_size);
    auto packed = pack(out, dir, ".");
    if (!packed.ok())
        return Error(packed.error().kind(), fmt::format("--initramfs-dir: {}", packed.error().message()));
    TRY(out.trailer());
    return archive;
}

}  // namespace vmm::boot
