/* PSCI 0.2+ function ids (Arm DEN 0022), SMC64 calling convention where it has one. */
#pragma once

#include <stdint.h>

#define PSCI_CPU_ON 0xc4000003u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_RET_SUCCESS 0
#define PSCI_RET_INVALID_PARAMS (-2)
#define PSCI_RET_ALREADY_ON (-4)

int64_t psci_call(uint64_t function, uint64_t a1, uint64_t a2, uint64_t a3);
