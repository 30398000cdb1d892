// qcow2 images against the references: qemu-img makes them (every version, cluster size and
// refcount width), Ember's Image reads and writes them the way a guest would, and qemu-img
// judges the result (`check` for the metadata, `compare` against a raw model of the same
// writes).
#include "devices/virtio/qcow2_image.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

namespace vmm::virtio::qcow2 {
namespace {

constexpr uint64_t DISK = 8ull << 20;

int shell(const std::string& command) {
    const int status = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Patches bytes of a file in place.
void patch(const std::string& path, uint64_t offset, std::vector<uint8_t> bytes) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::vector<uint8_t> be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }
std::vector<uint8_t> be64(uint64_t v) {
    std::vector<uint8_t> out = be32(uint32_t(v >> 32)), low = be32(uint32_t(v));
    out.insert(out.end(), low.begin(), low.end());
    return out;
}

struct Opened {
    std::unique_ptr<DiskFile> file;
    std::unique_ptr<Image> image;
};

Result<Opened> open_image(const std::string& path, bool readonly = false) {
    Opened o;
    o.file = std::make_unique<DiskFile>(TRY(DiskFile::open(path, readonly, true)));
    o.image = TRY(Image::open(*o.file));
    return o;
}

std::vector<uint8_t> read_all(Image& image) {
    std::vector<uint8_t> out(image.size());
    const iovec one{out.data(), out.size()};
    EXPECT_TRUE(image.readv({&one, 1}, 0).ok());
    return out;
}

struct Qcow2Image : ::testing::Test {
    void SetUp() override {
        char name[] = "/tmp/ember-qcow2-XXXXXX";
        ASSERT_NE(::mkdtemp(name), nullptr);
        dir = name;
        ASSERT_EQ(shell("qemu-img --version"), 0) << "qemu-img (qemu-utils) is missing";
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::string at(const std::string& name) const { return dir + "/" + name; }
    // A raw base of DISK random bytes; returns its contents.
    std::vector<uint8_t> make_base(const std::string& name, unsigned seed) {
        std::vector<uint8_t> bytes(DISK);
        std::mt19937 rng(seed);
        for (auto& b : bytes)
            b = static_cast<uint8_t>(rng());
        write_file(at(name), bytes);
        return bytes;
    }
    std::string dir;
};

// Random guest-like requests applied to the image and to `model` alike: writes of sector
// multiples at any sector (crossing clusters), write-zeroes, discards. A discard reads as
// zeroes afterwards except on a v2 image with a backing file, where it is dropped.
void random_requests(Image& image, std::vector<uint8_t>& model, unsigned seed, int count, bool discard_keeps) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> data;
    for (int i = 0; i < count; ++i) {
        const uint64_t sectors = model.size() / 512;
        const uint64_t length = 512 * (1 + rng() % (i % 7 == 0 ? 1024 : 40));
        const uint64_t offset = 512 * (rng() % (sectors - length / 512 + 1));
        const unsigned kind = rng() % 10;
        if (kind < 7) {
            data.resize(length);
            for (auto& b : data)
                b = static_cast<uint8_t>(rng());
            const iovec halves[2] = {{data.data(), length / 2}, {data.data() + length / 2, length - length / 2}};
            const Status written = image.writev(halves, offset);
            ASSERT_TRUE(written.ok()) << "write " << offset << "+" << length << ": " << written.error().message();
            std::memcpy(&model[offset], data.data(), length);
        } else if (kind < 9) {
            ASSERT_TRUE(image.write_zeroes(offset, length).ok());
            std::memset(&model[offset], 0, length);
        } else {
            ASSERT_TRUE(image.discard(offset, length).ok());
            const uint64_t cluster = image.header().cluster_size();
            const uint64_t first = (offset + cluster - 1) / cluster * cluster, end = (offset + length) / cluster * cluster;
            if (!discard_keeps && end > first)
                std::memset(&model[first], 0, end - first);
        }
    }
    ASSERT_TRUE(image.flush().ok());
}

// What qemu-img says: `check` clean (no leaks either) and `compare` identical to the model.
void expect_qemu_agrees(const std::string& image, const std::string& model_path, const std::vector<uint8_t>& model) {
    write_file(model_path, model);
    EXPECT_EQ(shell("qemu-img check " + image), 0) << "qemu-img check " << image;
    EXPECT_EQ(shell("qemu-img compare -f qcow2 -F raw " + image + " " + model_path), 0) << "qemu-img compare";
}

struct Variant {
    const char* compat;  // 0.10: version 2; 1.1: version 3
    unsigned cluster;
    bool backing;
};

struct Qcow2Variants : Qcow2Image, ::testing::WithParamInterface<Variant> {};

TEST_P(Qcow2Variants, RandomRequestsMatchARawModelAndPassQemuImgCheck) {
    const Variant v = GetParam();
    std::vector<uint8_t> model(DISK, 0);
    std::string options = fmt::format("-o compat={},cluster_size={}", v.compat, v.cluster);
    if (v.backing) {
        model = make_base("base.raw", v.cluster);
        options += " -b base.raw -F raw";
    }
    ASSERT_EQ(shell(fmt::format("cd {} && qemu-img create -f qcow2 {} top.qcow2 {}", dir, options, DISK)), 0);
    {
        auto opened = open_image(at("top.qcow2"));
        ASSERT_TRUE(opened.ok()) << opened.error().message();
        Image& image = *opened.value().image;
        EXPECT_EQ(image.size(), DISK);
        EXPECT_EQ(image.header().version, std::strcmp(v.compat, "0.10") == 0 ? 2u : 3u);
        random_requests(image, model, v.cluster + v.backing, 300, v.backing && image.header().version == 2);
        EXPECT_EQ(read_all(image), model);
    }
    expect_qemu_agrees(at("top.qcow2"), at("model.raw"), model);
    auto reopened = open_image(at("top.qcow2"), true);
    ASSERT_TRUE(reopened.ok());
    EXPECT_EQ(read_all(*reopened.value().image), model) << "after reopening";
}

INSTANTIATE_TEST_SUITE_P(VersionsClusterSizesBacking, Qcow2Variants,
                         ::testing::Values(Variant{"0.10", 65536, false}, Variant{"0.10", 4096, true},
                                           Variant{"1.1", 512, false}, Variant{"1.1", 4096, false},
                                           Variant{"1.1", 65536, false}, Variant{"1.1", 65536, true},
                                           Variant{"1.1", 2u << 20, true}, Variant{"0.10", 2u << 20, false},
                                           Variant{"1.1", 512, true}));

TEST_F(Qcow2Image, EveryRefcountWidthGrowsRefcountBlocksQemuImgAccepts) {
    for (unsigned bits : {1u, 2u, 8u, 32u, 64u}) {
        SCOPED_TRACE(bits);
        std::filesystem::remove(at("r.qcow2"));
        // 512-byte clusters: a refcount block covers few clusters, so writes need new ones.
        ASSERT_EQ(shell(fmt::format("qemu-img create -f qcow2 -o cluster_size=512,refcount_bits={} {} {}", bits,
                                    at("r.qcow2"), DISK)),
                  0);
        std::vector<uint8_t> model(DISK, 0);
        {
            auto opened = open_image(at("r.qcow2"));
            ASSERT_TRUE(opened.ok()) << opened.error().message();
            random_requests(*opened.value().image, model, bits, 120, false);
        }
        expect_qemu_agrees(at("r.qcow2"), at("model.raw"), model);
    }
}

TEST_F(Qcow2Image, PreallocatedAndSnapshottedImagesStayCleanWithoutLeaks) {
    for (const char* compat : {"0.10", "1.1"}) {
        SCOPED_TRACE(compat);
        std::filesystem::remove(at("p.qcow2"));
        ASSERT_EQ(shell(fmt::format("qemu-img create -f qcow2 -o compat={},preallocation=metadata,cluster_size=4096 "
                                    "{} {}",
                                    compat, at("p.qcow2"), DISK)),
                  0);
        const uint64_t before = std::filesystem::file_size(at("p.qcow2"));
        std::vector<uint8_t> model(DISK, 0);
        {
            auto opened = open_image(at("p.qcow2"));
            ASSERT_TRUE(opened.ok()) << opened.error().message();
            random_requests(*opened.value().image, model, 3, 150, false);
        }
        expect_qemu_agrees(at("p.qcow2"), at("model.raw"), model);
        EXPECT_LE(std::filesystem::file_size(at("p.qcow2")), before + 64 * 4096) << "preallocated clusters are reused";
    }
    // An internal snapshot shares every cluster: writes copy them, the snapshot keeps its data.
    ASSERT_EQ(shell(fmt::format("qemu-img create -f qcow2 {0} {1} && qemu-io -f qcow2 -c 'write -P 0x21 0 3M' {0} && "
                                "qemu-img snapshot -c before {0}",
                                at("s.qcow2"), DISK)),
              0);
    std::vector<uint8_t> model(DISK, 0);
    std::memset(model.data(), 0x21, 3 << 20);
    const std::vector<uint8_t> snapshot = model;
    {
        auto opened = open_image(at("s.qcow2"));
        ASSERT_TRUE(opened.ok()) << opened.error().message();
        random_requests(*opened.value().image, model, 4, 150, false);
    }
    expect_qemu_agrees(at("s.qcow2"), at("model.raw"), model);
    ASSERT_EQ(shell(fmt::format("qemu-img snapshot -a before {}", at("s.qcow2"))), 0);
    expect_qemu_agrees(at("s.qcow2"), at("snapshot.raw"), snapshot);
}

TEST_F(Qcow2Image, ReadsWhatQemuIoWroteAndItsZeroClusters) {
    ASSERT_EQ(shell(fmt::format("qemu-img create -f qcow2 {} {}", at("a.qcow2"), DISK)), 0);
    ASSERT_EQ(shell(fmt::format("qemu-io -f qcow2 -c 'write -P 0x5a 100k 200k' -c 'write -P 0x33 1M 128k' "
                                "-c 'write -z 1M 64k' {}",
                                at("a.qcow2"))),
              0);
    std::vector<uint8_t> model(DISK, 0);
    std::memset(&model[100 << 10], 0x5a, 200 << 10);
    std::memset(&model[(1 << 20) + (64 << 10)], 0x33, 64 << 10);
    auto opened = open_image(at("a.qcow2"), true);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    EXPECT_EQ(read_all(*opened.value().image), model);
}

TEST_F(Qcow2Image, CompressedClustersReadAndAreCopiedOnWrite) {
    std::vector<uint8_t> model(DISK);
    for (size_t i = 0; i < model.size(); ++i)
        model[i] = static_cast<uint8_t>((i / 4096) * 7 + (i % 61 == 0));  // compresses well
    write_file(at("plain.raw"), model);
    ASSERT_EQ(shell(fmt::format("qemu-img convert -c -O qcow2 -o cluster_size=4096 {} {}", at("plain.raw"),
                                at("c.qcow2"))),
              0);
    {
        auto opened = open_image(at("c.qcow2"));
        ASSERT_TRUE(opened.ok()) << opened.error().message();
        EXPECT_EQ(read_all(*opened.value().image), model);
        random_requests(*opened.value().image, model, 5, 200, false);
        EXPECT_EQ(read_all(*opened.value().image), model);
    }
    expect_qemu_agrees(at("c.qcow2"), at("model.raw"), model);
}

TEST_F(Qcow2Image, Qcow2BackingChainReadsThroughEveryLayer) {
    std::vector<uint8_t> model = make_base("base.raw", 1);
    ASSERT_EQ(shell(fmt::format("cd {} && qemu-img create -f qcow2 -b base.raw -F raw mid.qcow2 && "
                                "qemu-io -f qcow2 -c 'write -P 0x77 64k 100k' mid.qcow2 && mkdir top && "
                                "qemu-img create -f qcow2 -b ../mid.qcow2 -F qcow2 top/top.qcow2",
                                dir)),
              0);
    std::memset(&model[64 << 10], 0x77, 100 << 10);
    const auto base_before = read_file(at("base.raw"));
    const auto mid_before = read_file(at("mid.qcow2"));
    {
        auto opened = open_image(at("top/top.qcow2"));  // a relative name, against top/
        ASSERT_TRUE(opened.ok()) << opened.error().message();
        EXPECT_EQ(read_all(*opened.value().image), model);
        random_requests(*opened.value().image, model, 9, 150, false);
    }
    expect_qemu_agrees(at("top/top.qcow2"), at("model.raw"), model);
    EXPECT_EQ(read_file(at("base.raw")), base_before);
    EXPECT_EQ(read_file(at("mid.qcow2")), mid_before);
}

TEST_F(Qcow2Image, BackingFilesAreSharedReadOnlyAndTheOverlayExclusive) {
    make_base("base.raw", 2);
    ASSERT_EQ(shell(fmt::format("cd {} && qemu-img create -f qcow2 -b base.raw -F raw a.qcow2 && "
                                "qemu-img create -f qcow2 -b base.raw -F raw b.qcow2",
                                dir)),
              0);
    auto a = open_image(at("a.qcow2"));
    auto b = open_image(at("b.qcow2"));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_FALSE(DiskFile::open(at("base.raw"), false).ok()) << "the base is locked against writers";
    EXPECT_FALSE(open_image(at("a.qcow2")).ok()) << "an overlay in use is locked";
}

// A refused chain: one clear error at open.
void expect_refused(const std::string& path, const std::string& words, bool readonly = false) {
    auto opened = open_image(path, readonly);
    ASSERT_FALSE(opened.ok()) << path;
    EXPECT_NE(opened.error().message().find(words), std::string::npos) << opened.error().message();
}

TEST_F(Qcow2Image, BadChainsAreRefusedAtOpen) {
    make_base("base.raw", 3);
    ASSERT_EQ(shell(fmt::format("cd {} && qemu-img create -f qcow2 -b base.raw -F raw a.qcow2 && "
                                "qemu-img create -f qcow2 -b a.qcow2 -F qcow2 b.qcow2 && "
                                "qemu-img rebase -u -b b.qcow2 -F qcow2 a.qcow2 && "
                                "qemu-img create -f qcow2 -u -b gone.raw -F raw missing.qcow2 1M && "
                                "qemu-img create -f qcow2 -u -b base.raw -F vmdk vmdk.qcow2 1M",
                                dir)),
              0);
    expect_refused(at("b.qcow2"), "loops");
    expect_refused(at("missing.qcow2"), "gone.raw");
    expect_refused(at("vmdk.qcow2"), "'vmdk' is not raw or qcow2");

    // A chain deeper than MAX_CHAIN.
    std::string prev = "base.raw", fmt_name = "raw";
    for (int i = 0; i <= Image::MAX_CHAIN; ++i) {
        const std::string name = fmt::format("d{}.qcow2", i);
        ASSERT_EQ(shell(fmt::format("cd {} && qemu-img create -f qcow2 -b {} -F {} {}", dir, prev, fmt_name, name)), 0);
        prev = name;
        fmt_name = "qcow2";
    }
    expect_refused(at(prev), "deeper");
}

// Offset of the backing-format extension's type in a qemu-img-made image's first cluster.
uint64_t backing_format_extension(const std::vector<uint8_t>& bytes) {
    for (size_t i = 104; i + 4 <= 4096; i += 8) {
        if (load_be32(&bytes[i]) == EXT_BACKING_FORMAT)
            return i;
    }
    return 0;
}

TEST_F(Qcow2Image, AQcow2BackingFileWithoutARecordedFormatIsNotGuessed) {
    ASSERT_EQ(shell(fmt::format("cd {} && qemu-img create -f qcow2 inner.qcow2 1M && "
                                "qemu-img create -f qcow2 -b inner.qcow2 -F qcow2 outer.qcow2",
                                dir)),
              0);
    const uint64_t ext = backing_format_extension(read_file(at("outer.qcow2")));
    ASSERT_NE(ext, 0u);
    patch(at("outer.qcow2"), ext, be32(0x0badf00d));  // an unknown extension: no format recorded
    expect_refused(at("outer.qcow2"), "does not guess");
}

TEST_F(Qcow2Image, DirtyOrCorruptImagesAreNotWrittenButMayBeRead) {
    ASSERT_EQ(shell(fmt::format("qemu-img create -f qcow2 {} 1M", at("d.qcow2"))), 0);
    patch(at("d.qcow2"), 72, be64(INCOMPAT_DIRTY));
    expect_refused(at("d.qcow2"), "qemu-img check -r all");
    EXPECT_TRUE(open_image(at("d.qcow2"), true).ok());
    patch(at("d.qcow2"), 72, be64(INCOMPAT_CORRUPT));
    expect_refused(at("d.qcow2"), "corrupt");
}

TEST_F(Qcow2Image, HostileHeadersGetOneClearError) {
    struct Case {
        uint64_t offset;
        std::vector<uint8_t> bytes;
        const char* words;
    };
    const Case cases[] = {
        {0, be32(0x514649fa), "magic"},
        {4, be32(4), "version 4"},
        {20, be32(22), "cluster size"},
        {20, be32(8), "cluster size"},
        {32, be32(1), "encrypted"},
        {36, be32(0), "too small"},                // L1 size below the virtual size
        {40, be64(0x10001), "L1 table offset"},    // unaligned
        {40, be64(0), "L1 table offset"},
        {48, be64(0x200), "refcount table offset"},
        {56, be32(0), "refcount table of 0"},
        {56, be32(0x10000000), "refcount table of"},
        {24, be64(1ull << 60), "virtual size"},
        {72, be64(1ull << 40), "unknown incompatible"},
        {72, be64(INCOMPAT_DATA_FILE), "external data file"},
        {72, be64(INCOMPAT_EXTENDED_L2), "extended L2"},
        {96, be32(7), "refcount order"},
        {100, be32(0x11), "header length"},
        {8, be64(4000), "backing file name"},      // runs past the first cluster
        {8, be64(0), ""},                          // (control: no backing file is fine)
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.words);
        std::filesystem::remove(at("h.qcow2"));
        ASSERT_EQ(shell(fmt::format("qemu-img create -f qcow2 -o cluster_size=4096 {} 1M", at("h.qcow2"))), 0);
        if (c.offset == 8)  // a backing name of 100 bytes, so the offset's own check is reached
            patch(at("h.qcow2"), 16, be32(c.words[0] ? 100 : 0));
        patch(at("h.qcow2"), c.offset, c.bytes);
        if (!c.words[0]) {
            EXPECT_TRUE(open_image(at("h.qcow2")).ok());
            continue;
        }
        expect_refused(at("h.qcow2"), c.words);
    }
}

TEST_F(Qcow2Image, OverlappingOrOutsideTablesAreRefusedOrFailTheRequest) {
    ASSERT_EQ(shell(fmt::format("qemu-img create -f qcow2 -o cluster_size=4096 {} 1M && "
                                "qemu-io -f qcow2 -c 'write -P 1 0 4k' {}",
                                at("t.qcow2"), at("t.qcow2"))),
              0);
    const auto bytes = read_file(at("t.qcow2"));
    const uint64_t l1 = load_be64(&bytes[40]);
    const uint64_t reftable = load_be64(&bytes[48]);
    // The L1 table's first L2 table placed on the refcount table: overlapping metadata.
    patch(at("t.qcow2"), l1, be64(reftable | COPIED));
    expect_refused(at("t.qcow2"), "overlaps");
    // The L2 table far past the end of the file: the open works, the read is an I/O error.
    patch(at("t.qcow2"), l1, be64((1ull << 40) | COPIED));
    auto opened = open_image(at("t.qcow2"));
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    std::vector<uint8_t> sector(512);
    const iovec one{sector.data(), sector.size()};
    EXPECT_FALSE(opened.value().image->readv({&one, 1}, 0).ok());
    EXPECT_FALSE(opened.value().image->writev({&one, 1}, 0).ok());
    // The L1 table's entry pointing at the header cluster.
    opened = Error("closed");
    patch(at("t.qcow2"), l1, be64(COPIED | 0));
    EXPECT_TRUE(open_image(at("t.qcow2")).ok()) << "an offset of 0 is no table";
    patch(at("t.qcow2"), l1, be64(COPIED | 0x1000 | 1));
    expect_refused(at("t.qcow2"), "reserved bits");
}

TEST_F(Qcow2Image, AProcessKilledMidWriteLeavesAnImageQemuImgCheckAccepts) {
    make_base("base.raw", 4);
    ASSERT_EQ(shell(fmt::format("cd {} && qemu-img create -f qcow2 -o cluster_size=4096 -b base.raw -F raw k.qcow2",
                                dir)),
              0);
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto opened = open_image(at("k.qcow2"));
        if (!opened.ok())
            ::_exit(1);
        std::vector<uint8_t> model(DISK);
        std::mt19937 rng(11);
        std::vector<uint8_t> data(64 << 10, 0xab);
        for (uint64_t i = 0;; ++i) {
            const iovec one{data.data(), 512 * (1 + rng() % 128)};
            (void)opened.value().image->writev({&one, 1}, 512 * (rng() % (DISK / 512 - 128)));
            if (rng() % 8 == 0)
                (void)opened.value().image->write_zeroes(4096 * (rng() % (DISK / 4096 - 4)), 8192);
            if (i == 200)
                (void)::write(ready[1], "r", 1);  // well into allocating: the parent kills now
        }
    }
    ::close(ready[1]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(ready[0]);
    // 0: clean; 3: leaked clusters only. 2 would be corruption.
    const int check = shell("qemu-img check " + at("k.qcow2"));
    EXPECT_TRUE(check == 0 || check == 3) << "qemu-img check exit " << check;
}

}  // namespace
}  // namespace vmm::virtio::qcow2
