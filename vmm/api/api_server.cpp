#include "vmm/api/api_server.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "base/unix_listener.h"
#include "vmm/api/http_stream.h"
#include "vmm/lifecycle.h"

namespace vmm::api {

namespace http = boost::beast::http;

size_t DeadlineStream::transfer(boost::asio::mutable_buffer buffer, short events, boost::system::error_code& ec) {
    ec = {};
    if (buffer.size() == 0)
        return 0;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - Clock::now()).count();
        if (left <= 0) {
            ec = boost::asio::error::timed_out;
            return 0;
        }
        pollfd p{m_fd, events, 0};
        int ready = ::poll(&p, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0)
            continue;  // the deadline check above ends it
        if (ready < 0) {
            ec.assign(errno, boost::system::system_category());
            return 0;
        }
        const ssize_t n = events == POLLIN ? ::recv(m_fd, buffer.data(), buffer.size(), MSG_DONTWAIT)
                                           : ::send(m_fd, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            return static_cast<size_t>(n);
        if (n == 0) {
            ec = boost::asio::error::eof;
            return 0;
        }
        if (errno == EAGAIN || errno == EINTR)
            continue;
        ec.assign(errno, boost::system::system_category());
        return 0;
    }
}

namespace {

std::string fault(std::string_view message) { return Json{{"fault_message", message}}.dump(); }

bool write_response(DeadlineStream& stream, unsigned version, bool keep_alive, int status, const std::string& body,
                    const char* type = "application/json") {
    http::response<http::string_body> out{static_cast<http::status>(status), version};
    out.set(http::field::server, "Ember");
    if (!body.empty()) {
        out.set(http::field::content_type, type);
        out.body() = body;
    }
    out.keep_alive(keep_alive);
    out.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, out, ec);
    return !ec;
}

// After refusing a request mid-body: stop sending, and read (and drop) what the client still
// sends for a moment, so that it can finish sending and read the answer instead of meeting a
// reset connection. Bounded in time and bytes.
void linger(int fd, DeadlineStream& stream) {
    ::shutdown(fd, SHUT_WR);
    stream.set_deadline(DeadlineStream::Clock::now() + std::chrono::seconds(1));
    std::array<char, 16 * 1024> sink;
    boost::system::error_code ec;
    for (size_t dropped = 0; dropped < (4u << 20) && !ec;)
        dropped += stream.read_some(boost::asio::buffer(sink), ec);
}

}  // namespace

void ApiServer::serve(UniqueFd connection) {
    DeadlineStream stream(connection.get());
    boost::beast::flat_buffer buffer(16 * 1024);
    while (true) {
        stream.set_deadline(DeadlineStream::Clock::now() + std::chrono::milliseconds(m_limits.request_timeout_ms));
        http::request_parser<http::string_body> parser;
        parser.header_limit(8 * 1024);
        parser.body_limit(MAX_BODY);
        boost::system::error_code ec;
        http::read_header(stream, buffer, parser, ec);
        if (!ec && !parser.is_done() && boost::beast::iequals(parser.get()[http::field::expect], "100-continue")) {
            // curl asks before sending a body over 1 KiB, and waits a second for the answer.
            http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
            http::write(stream, go_on, ec);
        }
        if (!ec)
            http::read(stream, buffer, parser, ec);
        if (ec == http::error::end_of_stream || ec == boost::asio::error::timed_out || ec == boost::asio::error::eof)
            return;  // closed, idle or too slow: nothing to answer
        if (ec) {
            if (ec.category() == boost::system::system_category())
                return;  // the connection failed
            write_response(stream, 11, false, 400,
                           fault(ec == http::error::body_limit
                                     ? fmt::format("The request body is larger than the limit of {} bytes.", MAX_BODY)
                                     : fmt::format("Invalid HTTP request: {}.", ec.message())));
            linger(connection.get(), stream);
            return;
        }
        const auto& request = parser.get();
        std::string_view target(request.target().data(), request.target().size());
        target = target.substr(0, target.find('?'));
        const std::string_view method(request.method_string().data(), request.method_string().size());
        const Response response = m_controller.handle(method, target, request.body());
        const bool keep_alive = request.keep_alive();
        if (!write_response(stream, request.version(), keep_alive, response.status,
                            response.body.is_null() ? response.text : response.body.dump(),
                            response.body.is_null() ? "text/plain; version=0.0.4" : "application/json") ||
            !keep_alive)
            return;
    }
}

void ApiServer::work() {
    while (true) {
        UniqueFd connection;
        {
            std::unique_lock lock(m_mutex);
            m_ready.wait(lock, [this] { return !m_queue.empty() || m_stopping; });
            if (m_stopping)
                return;
            connection = std::move(m_queue.front());
            m_queue.pop_front();
            m_room.notify_one();
        }
        serve(std::move(connection));
    }
}

void ApiServer::listen_loop() {
    while (true) {
        {
            // Full: accept nothing more until a worker takes one; the backlog holds the rest.
            std::unique_lock lock(m_mutex);
            m_room.wait(lock, [this] { return m_queue.size() < m_limits.queued || m_stopping; });
            if (m_stopping)
                return;
        }
        pollfd fds[] = {{m_listener.get(), POLLIN, 0}, {m_stop.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR)
            return;
        if (fds[1].revents)
            return;
        if (!(fds[0].revents & POLLIN))
            continue;
        int fd = ::accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            continue;  // the client left, or out of fds for a moment: the next poll retries
        std::lock_guard lock(m_mutex);
        m_queue.emplace_back(fd);
        m_ready.notify_one();
    }
}

ApiServer::ApiServer(std::string path, UniqueFd listener, UniqueFd stop, Controller& controller,
                     SeccompFilters filters, Limits limits)
    : m_path(std::move(path)), m_listener(std::move(listener)), m_stop(std::move(stop)), m_controller(controller),
      m_filters(std::move(filters)), m_limits(limits) {
    for (size_t i = 0; i < m_limits.workers; ++i)
        m_workers.emplace_back([this] {
            pthread_setname_np(pthread_self(), "ember_api_work");
            apply_filter();
            work();
        });
    m_accept_thread = std::thread([this] {
        pthread_setname_np(pthread_self(), "ember_api");
        apply_filter();
        listen_loop();
    });
}

void ApiServer::apply_filter() {
    if (auto status = m_filters.apply(ThreadKind::Api); !status.ok()) {
        spdlog::error("{}", status.error().message());
        ::unlink(m_path.c_str());
        std::_Exit(exit_status::VMM_ERROR);
    }
}

ApiServer::~ApiServer() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(m_stop.get(), &one, sizeof one);
    m_ready.notify_all();
    m_room.notify_all();
    m_accept_thread.join();
    for (auto& worker : m_workers)
        worker.join();
    ::unlink(m_path.c_str());
}

Result<std::unique_ptr<ApiServer>> ApiServer::start(const std::string& path, Controller& controller,
                                                    const SeccompFilters& filters, Limits limits) {
    UnixListener listener = TRY(UnixListener::bind(path, fmt::format("API socket '{}'", path)));
    UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop.valid())
        return Error::from_errno("eventfd for the API socket");  // the listener takes its path along
    return std::unique_ptr<ApiServer>(new ApiServer(path, listener.release(), std::move(stop), controller, filters, limits));
}

}  // namespace vmm::api
