// The API's request handling on arbitrary input: the bytes are an HTTP request (Beast's
// parser, as the API socket reads it), whose method, path and body go to the Controller, as
// a client would send them before boot. Also: the body alone as a --config-file document.
// Not sent: /actions (InstanceStart waits for the VMM thread) and /logger, /metrics (they
// create files at the paths given).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/beast/http.hpp>

#include "vmm/api/controller.h"

namespace {

vmm::api::Controller& controller() {
    static auto created = vmm::api::Controller::create(vmm::api::VmResources(vmm::VmConfig{}), "fuzz");
    return **created;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace http = boost::beast::http;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto document = vmm::api::parse_json(text); document.ok()) {
        vmm::api::VmResources resources{vmm::VmConfig{}};
        (void)resources.apply_document(*document);
        (void)resources.full_config().dump();
        (void)resources.vm_config();
    }
    http::request_parser<http::string_body> parser;
    parser.eager(true);
    parser.header_limit(8 * 1024);
    parser.body_limit(51200);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (ec || !parser.is_done())
        return 0;
    const auto& request = parser.get();
    std::string_view path(request.target().data(), request.target().size());
    path = path.substr(0, path.find('?'));
    if (path.starts_with("/actions") || path.starts_with("/logger") || path.starts_with("/metrics"))
        return 0;
    const std::string_view method(request.method_string().data(), request.method_string().size());
    const auto response = controller().handle(method, path, request.body());
    if (response.status != 200 && response.status != 204 && response.status != 400)
        __builtin_trap();  // Firecracker's statuses only
    return 0;
}
