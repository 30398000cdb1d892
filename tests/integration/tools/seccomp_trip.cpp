// The test build's seccomp_test_point (vmm/seccomp.h): linked into ember-seccomp-trip, a copy
// of Ember whose threads of the kind EMBER_SECCOMP_TRIP names (vmm, vcpu, api) make a call no
// filter allows right after installing theirs. With the filter in, that kills the process
// with SIGSYS; with --no-seccomp the call is harmless (personality() only reads the persona)
// and the VM runs on.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "vmm/seccomp.h"

namespace vmm {

void seccomp_test_point(ThreadKind kind) {
    const char* trip = std::getenv("EMBER_SECCOMP_TRIP");
    if (trip && std::string_view(trip) == thread_kind_name(kind))
        ::syscall(SYS_personality, 0xffffffffUL);
}

}  // namespace vmm
