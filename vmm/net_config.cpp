#include "vmm/net_config.h"

#include <arpa/inet.h>
#include <sys/random.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "devices/virtio/net.h"
#include "vmm/key_values.h"

namespace vmm {

namespace {

constexpr uint32_t MAX_QUEUE_PAIRS = virtio::Net::MAX_PAIRS;
constexpr size_t MAX_IFNAME = 15;  // IFNAMSIZ - 1

// What Linux's dev_valid_name() accepts.
bool valid_interface_name(std::string_view name) {
    return !name.empty() && name.size() <= MAX_IFNAME && name != "." && name != ".." &&
           std::none_of(name.begin(), name.end(), [](char c) { return c == '/' || c == ':' || c <= ' '; });
}

std::optional<uint32_t> parse_ipv4(std::string_view text) {
    in_addr address{};
    if (::inet_pton(AF_INET, std::string(text).c_str(), &address) != 1)
        return std::nullopt;
    return address.s_addr;
}

bool contiguous_mask(uint32_t network_order) {
    const uint32_t mask = ntohl(network_order);
    return mask != 0 && (~mask & (~mask + 1)) == 0;
}

Status check_net(const NetConfig& net, std::string_view where) {
    if (net.tap.empty() == (net.fd < 0))
        return Error(fmt::format("{}: give exactly one of tap=NAME and fd=N", where));
    if (net.ip && net.tap.empty())
        return Error(fmt::format("{}: ip= configures a TAP Ember opens (tap=NAME), not fd=", where));
    if (net.fd >= 0 && net.queues > 1)
        return Error(fmt::format("{}: fd= hands over one queue; num_queues needs tap=NAME", where));
    return {};
}

}  // namespace

Result<MacAddress> parse_mac(std::string_view text) {
    MacAddress mac{};
    const std::string error = fmt::format("mac '{}' is not six hex octets like 52:54:00:12:34:56", text);
    if (text.size() != 17)
        return Error(error);
    for (size_t i = 0; i < mac.size(); ++i) {
        if (i > 0 && text[3 * i - 1] != ':')
            return Error(error);
        const std::string_view octet = text.substr(3 * i, 2);
        auto [end, ec] = std::from_chars(octet.data(), octet.data() + 2, mac[i], 16);
        if (ec != std::errc() || end != octet.data() + 2)
            return Error(error);
    }
    if (mac[0] & 1)
        return Error(fmt::format("mac '{}' is a multicast address", text));
    if (std::all_of(mac.begin(), mac.end(), [](uint8_t b) { return b == 0; }))
        return Error(fmt::format("mac '{}' is all zeros", text));
    return mac;
}

std::string format_mac(const MacAddress& mac) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3], mac[4],
                       mac[5]);
}

MacAddress random_mac() {
    MacAddress mac{};
    while (::getrandom(mac.data(), mac.size(), 0) != static_cast<ssize_t>(mac.size())) {
    }
    mac[0] = static_cast<uint8_t>((mac[0] & ~1u) | 2u);  // unicast, locally administered
    return mac;
}

Result<NetConfig> parse_net(std::string_view text) {
    NetConfig net;
    const std::string where = fmt::format("--net '{}'", text);
    std::optional<uint32_t> mask;
    for (const auto& [key, value] : TRY(split_key_values(text, where))) {
        bool valid = true;
        if (key == "tap") {
            valid = valid_interface_name(value);
            net.tap = value;
        } else if (key == "id") {
            valid = valid_device_id(value);
            net.id = value;
        } else if (key == "fd") {
            const auto fd = parse_number<int>(value);
            valid = fd && *fd >= 0;
            net.fd = fd.value_or(-1);
        } else if (key == "mac") {
            net.mac = TRY_CTX(parse_mac(value), where);
        } else if (key == "ip") {
            net.ip = parse_ipv4(value);
            valid = net.ip.has_value();
        } else if (key == "mask") {
            mask = parse_ipv4(value);
            valid = mask && contiguous_mask(*mask);
        } else if (key == "num_queues") {
            const auto queues = parse_number<uint32_t>(value);
            valid = queues && *queues >= 1 && *queues <= MAX_QUEUE_PAIRS;
            net.queues = queues.value_or(1);
        } else {
            valid = false;
        }
        if (!valid)
            return Error(fmt::format("{}: bad '{}={}' (id=ID, tap=NAME of at most {} characters, fd=N, mac=MAC, "
                                     "ip=A.B.C.D, mask=A.B.C.D, num_queues=1..{})",
                                     where, key, value, MAX_IFNAME, MAX_QUEUE_PAIRS));
    }
    if (mask && !net.ip)
        return Error(where + ": mask= needs ip=");
    net.mask = mask.value_or(htonl(0xffffff00));
    TRY(check_net(net, where));
    return net;
}

Status validate_nets(const std::vector<NetConfig>& nets) {
    for (size_t i = 0; i < nets.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
            if (!nets[i].tap.empty() && nets[i].tap == nets[j].tap)
                return Error(fmt::format("--net: tap '{}' is given twice", nets[i].tap));
            if (nets[i].mac && nets[i].mac == nets[j].mac)
                return Error(fmt::format("--net: mac {} is given twice", format_mac(*nets[i].mac)));
        }
    }
    return {};
}

}  // namespace vmm
