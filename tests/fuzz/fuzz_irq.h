// An interrupt line for fuzzers of legacy devices: its level, for the invariants to check.
#pragma once

#include "devices/device.h"

namespace vmm::fuzz {

struct LevelLine : IrqLine {
    void set_level(bool asserted) override { level = asserted; }
    bool level = false;
};

}  // namespace vmm::fuzz
