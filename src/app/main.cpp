#include "app/commands.hpp"

int main(int argc, char** argv) {
    return tl::app::run_cli(argc, argv);
}
