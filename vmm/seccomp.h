// seccomp filters, one per kind of Ember thread, as Firecracker has them: the vCPU threads may
// make little more than KVM_RUN, the VMM thread (the event loop that runs the devices) what
// the device back-ends need, the API threads what serving HTTP and opening drives needs.
// Prepared (compiled and checked by the kernel) once at start, so a bad filter file is a
// usage error before anything is created; installed by each thread on itself, before a vCPU
// runs guest code and before the API serves. A forbidden system call kills the process.
#pragma once

#include <linux/filter.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace vmm {

// The names are Firecracker's thread categories (its filter files use them).
enum class ThreadKind { Vmm, Vcpu, Api };
inline constexpr std::array<ThreadKind, 3> ALL_THREAD_KINDS = {ThreadKind::Vmm, ThreadKind::Vcpu, ThreadKind::Api};
const char* thread_kind_name(ThreadKind kind);

using BpfProgram = std::vector<sock_filter>;

class SeccompFilters {
public:
    // No filters at all (--no-seccomp).
    static SeccompFilters none();
    // Ember's own allow-lists (seccomp_rules.cpp).
    static Result<SeccompFilters> defaults();
    // A file as Firecracker's --seccomp-filter takes it: seccompiler-bin's output, a
    // bincode map from thread category ("vmm", "api", "vcpu") to BPF program. Every
    // category must be there; an empty program leaves that kind of thread unfiltered.
    static Result<SeccompFilters> from_file(const std::string& path);
    // The same from the file's bytes (`what` names it in errors).
    static Result<SeccompFilters> parse(std::span<const uint8_t> bytes, const std::string& what);

    bool enabled() const { return m_enabled; }
    // Sets no_new_privs and installs `kind`'s filter on the calling thread only; threads it
    // creates afterwards inherit it.
    Status apply(ThreadKind kind) const;

private:
    // Has the kernel load each program into a throwaway child, so one it would refuse is
    // refused here, at start, not in a thread that is already running.
    Status check(const std::string& what) const;

    bool m_enabled = false;
    std::array<BpfProgram, 3> m_programs;
};

// Ember's allow-list for `kind` compiled to BPF (seccomp_rules.cpp).
Result<BpfProgram> default_filter(ThreadKind kind);

// Called right after a thread installed its filter. A no-op in Ember; the test build
// (tests/integration/seccomp_trip.cpp) links one that makes a forbidden call there.
void seccomp_test_point(ThreadKind kind);

}  // namespace vmm
