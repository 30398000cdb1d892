// Turns a validated VmConfig into a Vmm ready to run, one named step at a time.
#pragma once

#include <memory>

#include "vmm/vm_config.h"
#include "vmm/vmm.h"

namespace vmm {

Result<std::unique_ptr<Vmm>> build_vmm(const VmConfig& config);

}  // namespace vmm
