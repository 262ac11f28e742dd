#include "app/config_file.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

namespace tl::app {

Status apply_config_file(CLI::App& command, const std::string& path) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return make_error(Errc::kInvalidRequest,
                          fmt::format("config file {} line {}: {}", path, where.line,
                                      std::string(e.description())));
    }
    for (const auto& [key, node] : table) {
        const std::string name(key.str());
        CLI::Option* option = nullptr;
        try {
            option = command.get_option("--" + name);
        } catch (const CLI::OptionNotFound&) {
        }
        if (option == nullptr || name == "config") {
            return make_error(Errc::kInvalidRequest,
                              fmt::format("config file {}: unknown key '{}'", path, name));
        }
        if (option->count() > 0) continue;  // a flag or the environment already set it
        std::string value;
        if (const auto* s = node.as_string()) {
            value = s->get();
        } else if (const auto* i = node.as_integer()) {
            value = std::to_string(i->get());
        } else if (const auto* f = node.as_floating_point()) {
            value = fmt::format("{}", f->get());
        } else if (const auto* b = node.as_boolean()) {
            value = b->get() ? "true" : "false";
        } else {
            return make_error(Errc::kInvalidRequest,
                              fmt::format("config file {}: '{}' must be a string, number or "
                                          "boolean",
                                          path, name));
        }
        try {
            option->add_result(value);
            option->run_callback();
        } catch (const CLI::Error& e) {
            return make_error(Errc::kInvalidRequest,
                              fmt::format("config file {}: '{}': {}", path, name, e.what()));
        }
    }
    return {};
}

}  // namespace tl::app
