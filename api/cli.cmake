# cubicle: the command-line client of cubicled (docs/cli.md), over libcurl.
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)

add_executable(cubicle cli.c)
target_link_libraries(cubicle PRIVATE PkgConfig::CURL PkgConfig::JSONC)
