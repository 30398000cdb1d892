#include "vmm/seccomp.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <map>

#include <gtest/gtest.h>

namespace vmm {
namespace {

constexpr uint32_t RET_ALLOW = 0x7fff0000;

// The ASan+UBSan build's filters also let the sanitizer runtime open /proc and clone its
// leak checker (seccomp_rules.cpp): those two refusals hold in the release build only.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool SANITIZER_RUNTIME = true;
#else
constexpr bool SANITIZER_RUNTIME = false;
#endif

sock_filter ret(uint32_t action) { return {static_cast<uint16_t>(BPF_RET | BPF_K), 0, 0, action}; }

void put_u64(std::vector<uint8_t>& out, uint64_t value) {
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// seccompiler-bin's output: a bincode map (fixed-width little-endian integers).
std::vector<uint8_t> filter_file(const std::vector<std::pair<std::string, BpfProgram>>& programs) {
    std::vector<uint8_t> out;
    put_u64(out, programs.size());
    for (const auto& [name, program] : programs) {
        put_u64(out, name.size());
        out.insert(out.end(), name.begin(), name.end());
        put_u64(out, program.size());
        for (const sock_filter& insn : program) {
            const uint8_t bytes[8] = {static_cast<uint8_t>(insn.code), static_cast<uint8_t>(insn.code >> 8), insn.jt,
                                      insn.jf, static_cast<uint8_t>(insn.k), static_cast<uint8_t>(insn.k >> 8),
                                      static_cast<uint8_t>(insn.k >> 16), static_cast<uint8_t>(insn.k >> 24)};
            out.insert(out.end(), bytes, bytes + 8);
        }
    }
    return out;
}

std::vector<std::pair<std::string, BpfProgram>> allow_all() {
    return {{"vmm", {ret(RET_ALLOW)}}, {"api", {ret(RET_ALLOW)}}, {"vcpu", {ret(RET_ALLOW)}}};
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
    auto parsed = SeccompFilters::parse(bytes, "filter file");
    return parsed.ok() ? "" : parsed.error().message();
}

TEST(SeccompFile, TakesAProgramForEachCategory) {
    auto parsed = SeccompFilters::parse(filter_file(allow_all()), "filter file");
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    EXPECT_TRUE(parsed->enabled());
}

TEST(SeccompFile, RefusesAMissingCategory) {
    auto programs = allow_all();
    programs.pop_back();
    EXPECT_EQ(parse_error(filter_file(programs)),
              "filter file: no filter for thread category 'vcpu' (an empty one leaves it unfiltered)");
}

TEST(SeccompFile, RefusesAnUnknownOrRepeatedCategory) {
    auto programs = allow_all();
    programs.push_back({"io", {ret(RET_ALLOW)}});
    EXPECT_EQ(parse_error(filter_file(programs)),
              "filter file: unknown thread category 'io' (Ember's are vmm, api, vcpu)");
    programs.back().first = "vmm";
    EXPECT_EQ(parse_error(filter_file(programs)), "filter file: thread category 'vmm' given twice");
}

TEST(SeccompFile, RefusesTruncatedAndTrailingBytes) {
    auto bytes = filter_file(allow_all());
    for (size_t cut : {size_t{0}, size_t{4}, size_t{12}, bytes.size() - 1}) {
        std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(cut));
        EXPECT_NE(parse_error(part), "") << "cut at " << cut;
    }
    bytes.push_back(0);
    EXPECT_EQ(parse_error(bytes), "filter file: bytes after the last program; not a seccompiler-bin filter file");
}

TEST(SeccompFile, RefusesHugeCountsWithoutAllocating) {
    std::vector<uint8_t> bytes;
    put_u64(bytes, 1);
    put_u64(bytes, 3);
    bytes.insert(bytes.end(), {'v', 'm', 'm'});
    put_u64(bytes, ~uint64_t{0});  // 2^64 - 1 instructions
    EXPECT_EQ(parse_error(bytes), "filter file: the 'vmm' program is malformed or longer than 4096 instructions");
    std::vector<uint8_t> names;
    put_u64(names, ~uint64_t{0});
    EXPECT_NE(parse_error(names), "");
}

TEST(SeccompFile, RefusesAProgramTheKernelRefuses) {
    auto programs = allow_all();
    programs[2].second = {{0xffff, 0, 0, 0}};  // no such BPF instruction
    EXPECT_EQ(parse_error(filter_file(programs)), "filter file: the kernel refuses the 'vcpu' program: Invalid argument");
}

TEST(SeccompFile, EmptyProgramsLeaveTheirThreadsUnfiltered) {
    auto parsed = SeccompFilters::parse(filter_file({{"vmm", {}}, {"api", {}}, {"vcpu", {}}}), "filter file");
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    EXPECT_EXIT(
        {
            if (!parsed->apply(ThreadKind::Vcpu).ok())
                _exit(1);
            _exit(::syscall(SYS_getppid) > 0 ? 0 : 2);
        },
        testing::ExitedWithCode(0), "");
}

// Runs `call` in a child that installed `kind`'s default filter; the child exits 0 if the
// call returned.
void run_filtered(ThreadKind kind, void (*call)()) {
    auto filters = SeccompFilters::defaults();
    if (!filters.ok() || !filters->apply(kind).ok())
        _exit(1);
    call();
    _exit(0);
}

TEST(SeccompDefaults, CompileForEveryKind) {
    for (ThreadKind kind : ALL_THREAD_KINDS) {
        auto program = default_filter(kind);
        ASSERT_TRUE(program.ok()) << thread_kind_name(kind) << ": " << program.error().message();
        EXPECT_GT(program->size(), 10u);
    }
}

TEST(SeccompDefaults, VcpuMayRunAndWriteButNotOpenFiles) {
    EXPECT_EXIT(run_filtered(ThreadKind::Vcpu, [] { (void)!::write(2, "", 0); }), testing::ExitedWithCode(0), "");
    if (!SANITIZER_RUNTIME) {
        EXPECT_EXIT(run_filtered(ThreadKind::Vcpu, [] { ::open("/dev/null", O_RDONLY); }),
                    testing::KilledBySignal(SIGSYS), "");
    }
    // An ioctl other than the vCPU's own: KVM_CREATE_VM on any fd.
    EXPECT_EXIT(run_filtered(ThreadKind::Vcpu, [] { ::ioctl(0, 0xae01, 0); }), testing::KilledBySignal(SIGSYS), "");
}

// The CMOS clock's gmtime_r on a vCPU thread: glibc reads /etc/localtime the first time,
// which the filter would refuse (a real Linux guest's RTC driver found it). The threadsafe
// style runs the child as a fresh process, where nothing has loaded the time zone yet.
TEST(SeccompDefaults, VcpuMayReadTheClockAsTheCmosDoes) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(run_filtered(ThreadKind::Vcpu,
                             [] {
                                 const std::time_t now = std::time(nullptr);
                                 std::tm tm{};
                                 gmtime_r(&now, &tm);
                             }),
                testing::ExitedWithCode(0), "");
    GTEST_FLAG_SET(death_test_style, "fast");
}

TEST(SeccompDefaults, NoKindMayMapExecutableMemoryOrExec) {
    for (ThreadKind kind : ALL_THREAD_KINDS) {
        EXPECT_EXIT(run_filtered(kind,
                                 [] { ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); }),
                    testing::KilledBySignal(SIGSYS), "")
            << thread_kind_name(kind);
        EXPECT_EXIT(run_filtered(kind, [] { ::syscall(SYS_personality, 0xffffffffUL); }),
                    testing::KilledBySignal(SIGSYS), "")
            << thread_kind_name(kind);
    }
    EXPECT_EXIT(run_filtered(ThreadKind::Vmm,
                             [] { ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); }),
                testing::ExitedWithCode(0), "");
}

TEST(SeccompDefaults, ApiMayOpenDrivesButNotStartProcesses) {
    EXPECT_EXIT(run_filtered(ThreadKind::Api, [] { ::close(::open("/dev/null", O_RDONLY)); }),
                testing::ExitedWithCode(0), "");
    if (!SANITIZER_RUNTIME) {
        EXPECT_EXIT(run_filtered(ThreadKind::Api, [] { ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }),
                    testing::KilledBySignal(SIGSYS), "");
    }
}

}  // namespace
}  // namespace vmm
