// --net: a virtio-net device on a TAP, named (created if missing) or handed over as an fd.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vmm {

using MacAddress = std::array<uint8_t, 6>;

struct NetConfig {
    std::string id;   // id=, else net0, net1, ... (name_devices)
    std::string tap;  // tap=NAME; empty with fd=
    int fd = -1;      // fd=N: an open TAP
    std::optional<MacAddress> mac;  // nullopt: random, locally administered
    std::optional<uint32_t> ip;     // host side of the TAP, network byte order
    uint32_t mask = 0;              // network byte order, with ip
    uint32_t queues = 1;            // queue pairs
};

// "tap=NAME[,mac=MAC][,ip=A.B.C.D[,mask=A.B.C.D]][,num_queues=N]" or "fd=N[,mac=MAC]".
Result<NetConfig> parse_net(std::string_view text);
// "52:54:00:12:34:56": six hex octets; multicast and all-zero addresses are refused.
Result<MacAddress> parse_mac(std::string_view text);
std::string format_mac(const MacAddress& mac);
// Unicast, locally administered (the convention for generated addresses).
MacAddress random_mac();

// Across all --net options: no TAP named twice, no MAC given twice.
Status validate_nets(const std::vector<NetConfig>& nets);

}  // namespace vmm
