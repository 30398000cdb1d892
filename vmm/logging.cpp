#include "vmm/logging.h"

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "base/unique_fd.h"

namespace vmm::logging {

namespace {

// Writes formatted lines to an fd Ember opened itself (spdlog's file sinks throw).
class FdSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit FdSink(UniqueFd fd) : m_fd(std::move(fd)) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t line;
        formatter_->format(msg, line);
        // A full pipe or a failing disk drops the line: logging never blocks the VMM.
        [[maybe_unused]] ssize_t n = ::write(m_fd.get(), line.data(), line.size());
    }
    void flush_() override {}

private:
    UniqueFd m_fd;
};

std::shared_ptr<spdlog::sinks::dist_sink_mt>& sinks() {
    static auto dist = std::make_shared<spdlog::sinks::dist_sink_mt>();
    return dist;
}

std::shared_ptr<spdlog::sinks::sink>& stderr_sink() {
    static std::shared_ptr<spdlog::sinks::sink> sink;
    return sink;
}

}  // namespace

void init(spdlog::level::level_enum level) {
    stderr_sink() = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    stderr_sink()->set_pattern("ember: %^%l%$: %v");
    sinks()->set_sinks({stderr_sink()});
    auto logger = std::make_shared<spdlog::logger>("ember", sinks());
    spdlog::set_default_logger(logger);
    spdlog::set_level(level);
}

void set_level(spdlog::level::level_enum level) { spdlog::set_level(level); }

Status log_to_file(const std::string& path, bool show_level) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0)
        return Error::from_errno(fmt::format("log file '{}'", path));
    auto file = std::make_shared<FdSink>(UniqueFd(fd));
    file->set_pattern(show_level ? "%Y-%m-%dT%H:%M:%S.%f [ember:%l] %v" : "%Y-%m-%dT%H:%M:%S.%f [ember] %v");
    sinks()->set_sinks({stderr_sink(), file});
    return {};
}

}  // namespace vmm::logging
