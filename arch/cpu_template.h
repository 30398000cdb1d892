// Which CPU features a guest is shown (--cpu-template), on every architecture: x86 filters
// CPUID with it (arch/x86_64/cpuid); arm64 offers KVM's defaults, which are `host`.
#pragma once

#include <optional>
#include <string_view>

namespace vmm::arch {

enum class CpuTemplate {
    Host,      // everything KVM supports
    Baseline,  // x86-64-v2: no AVX family, no XSAVE
};

// "host" or "baseline"; anything else is none.
inline std::optional<CpuTemplate> parse_cpu_template(std::string_view name) {
    if (name == "host")
        return CpuTemplate::Host;
    if (name == "baseline")
        return CpuTemplate::Baseline;
    return std::nullopt;
}

}  // namespace vmm::arch
